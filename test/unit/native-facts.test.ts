/**
 * sag.h is the one source of the drop reasons and limits: the TypeScript constants are generated
 * from it (tools/gen-native-facts.mjs) and the addon exports what it was compiled with. The two
 * must agree, and an addon that disagrees is refused when it loads.
 */
import test from 'ava';
import { createRequire } from 'node:module';
import { resolve, join } from 'node:path';
import { Dataplane } from '../../src/dataplane/index.js';
import { AddonLoadError, checkAddonFacts, packageRoot } from '../../src/native/binding.js';
import { DROP_REASONS, LIMITS } from '../../src/native/facts.generated.js';
import type { NativeAddon } from '../../src/native/types.js';

/** The addon as built, loaded without loadAddon()'s own check. */
function builtAddon(): NativeAddon {
  const path = process.env.SAG_ADDON_PATH
    ? resolve(process.env.SAG_ADDON_PATH)
    : join(packageRoot, 'build', 'Release', 'sag.node');
  return createRequire(import.meta.url)(path) as NativeAddon;
}

test('1 the generated drop reasons are the addon’s, by index', (t) => {
  t.deepEqual([...DROP_REASONS], builtAddon().dropReasons);
});

test('2 the generated limits are the addon’s, every one of them', (t) => {
  t.deepEqual({ ...LIMITS }, builtAddon().limits);
});

test('3 an addon built from another header is refused, saying what differs', (t) => {
  const good: Pick<NativeAddon, 'dropReasons' | 'limits'> = {
    dropReasons: [...DROP_REASONS],
    limits: { ...LIMITS },
  };
  t.notThrows(() => checkAddonFacts(good, 'x.node'));
  const cases: [string, typeof good, RegExp][] = [
    ['a reason added', { ...good, dropReasons: [...DROP_REASONS, 'new_reason'] }, /drop reasons.*new_reason/],
    ['reasons reordered', { ...good, dropReasons: [...DROP_REASONS].reverse() }, /drop reasons/],
    ['a limit changed', { ...good, limits: { ...LIMITS, MAX_MTU: 9000 } }, /limits.*9000/],
    ['a limit added', { ...good, limits: { ...LIMITS, MAX_PEERS: 10 } }, /limits.*MAX_PEERS/],
  ];
  for (const [name, addon, message] of cases) {
    const err = t.throws(() => checkAddonFacts(addon, 'x.node'), { instanceOf: AddonLoadError }, name);
    t.regex(err?.message ?? '', message, name);
    t.regex(err?.message ?? '', /npm run build/, name);
  }
});

test('4 counters carry every reason, in sag.h order and spelling', (t) => {
  const dp = new Dataplane();
  t.teardown(() => dp.close());
  t.deepEqual(Object.keys(dp.stats().drops), [...DROP_REASONS]);
});
