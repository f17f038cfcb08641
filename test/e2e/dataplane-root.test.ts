/**
 * Root-only behaviour of the Dataplane's real devices: a TUN disappears when the dataplane closes,
 * an uplink's fwmark marks its packets (counted by nftables), a bad bind device is a clear error.
 * Each test works inside its own network namespace, entered by a child process.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { e2eSkipReason, Namespaces, sh, uniqueTag } from '../support/netns.js';

// node_modules/.bin has an unrelated 'nft' (from @vercel/nft), and npm scripts put it first on PATH.
const NFT = '/usr/sbin/nft';
const skip = e2eSkipReason(['ip', NFT]);
if (skip) console.log(`[skip] dataplane root tests: ${skip}`);
const e2e = skip ? test.skip : test.serial;
const script = fileURLToPath(new URL('../fixtures/dataplane-root.ts', import.meta.url));

function runIn(ns: string, scenario: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script, scenario], {
    encoding: 'utf8',
    timeout: 30000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

e2e('1 closing the dataplane removes its TUN device', async (t) => {
  const ns = new Namespaces();
  t.teardown(() => ns.cleanup());
  const name = ns.add(`sagr${uniqueTag()}`);
  const r = runIn(name, 'tun-lifecycle');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /open: present/);
  t.regex(r.stdout, /closed: absent/);
});

e2e('2 an uplink fwmark marks every datagram it sends', async (t) => {
  const ns = new Namespaces();
  t.teardown(() => ns.cleanup());
  const name = ns.add(`sagr${uniqueTag()}`);
  // A file, not stdin: nft reads "-" through /dev/stdin, which is a socket under Node's spawn.
  const rules = join(mkdtempSync(join(tmpdir(), 'sag-nft-')), 'rules.nft');
  t.teardown(() => rmSync(dirname(rules), { recursive: true, force: true }));
  writeFileSync(
    rules,
    [
      'table inet sagt {',
      '  counter marked { }',
      '  chain out {',
      '    type filter hook output priority 0;',
      '    meta mark 0x5a6 counter name "marked"',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  sh(NFT, ['-f', rules], { ns: name });
  const r = runIn(name, 'fwmark');
  t.is(r.status, 0, r.stderr);
  const counter = sh(NFT, ['list', 'counter', 'inet', 'sagt', 'marked'], { ns: name });
  const packets = Number(/packets (\d+)/.exec(counter)?.[1]);
  t.true(packets >= 3, `marked packets: ${counter}`);
});

e2e('3 binding an uplink to a missing device is a SystemError naming the option', async (t) => {
  const ns = new Namespaces();
  t.teardown(() => ns.cleanup());
  const name = ns.add(`sagr${uniqueTag()}`);
  const r = runIn(name, 'bad-device');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /ERR_SAG_SYSTEM .*SO_BINDTODEVICE/);
});
