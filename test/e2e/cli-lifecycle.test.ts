/**
 * Lifecycles of the command-line daemons as root, each in its own namespace: sag-wg daemonizes,
 * exits when its interface is deleted or on SIGTERM, and starts again after a kill -9; `sag up`
 * refuses a broken file naming file and line, and removes a half-made interface on failure.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAG, SAG_WG } from '../support/sag-process.js';
import { e2eSkipReason, Namespaces, sh, uniqueTag } from '../support/netns.js';
import { waitFor } from '../support/time.js';

const skip = e2eSkipReason(['ip', 'wg']);
if (skip) console.log(`[skip] CLI lifecycle tests: ${skip}`);
const e2e = skip ? test.skip : test.serial;

const linkIn = (ns: string, dev: string) =>
  spawnSync('ip', ['-n', ns, 'link', 'show', dev], { stdio: 'ignore' }).status === 0;
const pidsIn = (ns: string) =>
  execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);

async function namespace(t: import('ava').ExecutionContext): Promise<string> {
  const ns = new Namespaces();
  t.teardown(() => ns.cleanup());
  return ns.add(`sagc${uniqueTag()}`);
}

e2e('1 sag-wg daemonizes, serves wg, and exits when its interface is deleted', async (t) => {
  const ns = await namespace(t);
  const dev = `sc${uniqueTag()}`;
  const sock = `/var/run/wireguard/${dev}.sock`;
  t.teardown(() => rmSync(sock, { force: true }));
  execFileSync('ip', ['netns', 'exec', ns, SAG_WG, dev], { stdio: 'ignore' }); // returns once ready
  t.true(linkIn(ns, dev));
  t.true(existsSync(sock));
  t.is(pidsIn(ns).length, 1, 'one daemon left running');
  t.regex(sh('wg', ['show', dev], { ns }), new RegExp(`interface: ${dev}`));
  sh('ip', ['link', 'del', dev], { ns });
  t.true(await waitFor(() => pidsIn(ns).length === 0, 5000), 'the daemon exits');
  t.false(existsSync(sock), 'and removes its socket');
});

e2e('2 SIGTERM takes the interface down; after kill -9 the next start succeeds', async (t) => {
  const ns = await namespace(t);
  const dev = `sc${uniqueTag()}`;
  const sock = `/var/run/wireguard/${dev}.sock`;
  t.teardown(() => rmSync(sock, { force: true }));
  execFileSync('ip', ['netns', 'exec', ns, SAG_WG, dev], { stdio: 'ignore' });
  for (const pid of pidsIn(ns)) process.kill(Number(pid), 'SIGTERM');
  t.true(await waitFor(() => pidsIn(ns).length === 0 && !linkIn(ns, dev), 5000));
  execFileSync('ip', ['netns', 'exec', ns, SAG_WG, dev], { stdio: 'ignore' });
  for (const pid of pidsIn(ns)) process.kill(Number(pid), 'SIGKILL');
  t.true(await waitFor(() => pidsIn(ns).length === 0 && !linkIn(ns, dev), 5000));
  t.true(existsSync(sock), 'kill -9 leaves a stale socket behind');
  t.notThrows(
    () => execFileSync('ip', ['netns', 'exec', ns, SAG_WG, dev], { stdio: 'pipe' }),
    'which does not block the next start',
  );
  t.regex(sh('wg', ['show', dev], { ns }), /listening port/);
});

e2e('3 sag up refuses a broken file with file and line, and creates nothing', async (t) => {
  const ns = await namespace(t);
  const dir = mkdtempSync(join(tmpdir(), 'sag-up-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dev = `su${uniqueTag()}`;
  const conf = join(dir, `${dev}.conf`);
  const key = execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
  writeFileSync(
    conf,
    `[Interface]\nPrivateKey = ${key}\nAddress = 10.70.0.1/24\n\n[Peer]\nPublicKey = not-a-key\nAllowedIPs = 10.70.0.2/32\n`,
  );
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, SAG, 'up', conf], { encoding: 'utf8' });
  t.is(r.status, 1);
  t.regex(r.stderr, new RegExp(`^sag: ${dev}\\.conf:6: .*PublicKey`, 'm'));
  t.false(linkIn(ns, dev));
});

e2e('4 sag up that fails half-way removes the interface it made', async (t) => {
  const ns = await namespace(t);
  const dir = mkdtempSync(join(tmpdir(), 'sag-up-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dev = `su${uniqueTag()}`;
  const conf = join(dir, `${dev}.conf`);
  const [k1, k2] = [0, 1].map(() => execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim());
  const peer = execFileSync('wg', ['pubkey'], { input: k2, encoding: 'utf8' }).trim();
  // The same address twice: the second `ip addr add` fails after the TUN exists.
  writeFileSync(
    conf,
    `[Interface]\nPrivateKey = ${k1}\nAddress = 10.70.0.1/24\nAddress = 10.70.0.1/24\n\n[Peer]\nPublicKey = ${peer}\nAllowedIPs = 10.70.0.2/32\n`,
  );
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, SAG, 'up', conf], { encoding: 'utf8' });
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, /ip -4 addr add 10\.70\.0\.1\/24 .*failed/);
  t.false(linkIn(ns, dev), 'no half-configured interface is left');
});
