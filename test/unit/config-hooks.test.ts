import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandHook, runHooks } from '../../src/config/hooks.js';
import type { LogLevel } from '../../src/util/logger.js';

test('%i is replaced everywhere, nothing else is touched', (t) => {
  t.is(
    expandHook('iptables -A FORWARD -i %i -j ACCEPT; echo %i%i %%i $HOME', 'wg0'),
    'iptables -A FORWARD -i wg0 -j ACCEPT; echo wg0wg0 %wg0 $HOME',
  );
});

test('hooks run in order under bash with set -e and pipefail; the first failure stops the phase', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sag-hooks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'out');
  const lines: string[] = [];
  const log = (level: LogLevel, m: string) => lines.push(`${level} ${m}`);
  await runHooks('PostUp', [`echo one %i >> ${out}`, `[[ $LC_ALL == C ]] && echo two >> ${out}`], 'wgx', log);
  t.is(readFileSync(out, 'utf8'), 'one wgx\ntwo\n');
  t.deepEqual(lines, [
    `info PostUp: echo one wgx >> ${out}`,
    `info PostUp: [[ $LC_ALL == C ]] && echo two >> ${out}`,
  ]);
  // set -e: a failing command inside a hook fails it; pipefail: so does a failing stage of a pipe.
  const e = await t.throwsAsync(
    runHooks('PreDown', [`false; echo not >> ${out}`, `echo never >> ${out}`], 'wgx', log),
  );
  t.is(e?.message, `PreDown command "false; echo not >> ${out}" exited with status 1`);
  t.is((e as { code?: string }).code, 'ERR_SAG_HOOK_FAILED');
  await t.throwsAsync(runHooks('PreUp', ['false | true'], 'wgx', log), { message: /exited with status 1/ });
  t.is(readFileSync(out, 'utf8'), 'one wgx\ntwo\n', 'nothing ran after the failure');
});
