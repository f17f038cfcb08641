/**
 * Faults under a running `sag up` (root, each in its own namespace): kill -9 leaves nothing that
 * blocks the next start (the TUN goes with the process; a stale UAPI socket is replaced), an
 * interface deleted underneath ends it cleanly with a clear message and exit status 0, and a
 * leftover persistent TUN of the same name is refused without being touched.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAG } from '../support/sag-process.js';
import { e2eSkipReason, Namespaces, sh, uniqueTag } from '../support/netns.js';
import { waitFor } from '../support/time.js';
import { sagUp } from '../support/sag-up.js';

const skip = e2eSkipReason(['ip', 'wg']);
if (skip) console.log(`[skip] sag up fault tests: ${skip}`);
const e2e = skip ? test.skip : test.serial;

const linkIn = (ns: string, dev: string) =>
  spawnSync('ip', ['-n', ns, 'link', 'show', dev], { stdio: 'ignore' }).status === 0;

function setup(t: import('ava').ExecutionContext): { ns: string; dev: string; conf: string; sock: string } {
  const namespaces = new Namespaces();
  t.teardown(() => namespaces.cleanup());
  const ns = namespaces.add(`hdf${uniqueTag()}`);
  const dir = mkdtempSync(join(tmpdir(), 'hd-up-'));
  const dev = `hdu${uniqueTag()}`;
  const sock = `/var/run/wireguard/${dev}.sock`;
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(sock, { force: true });
  });
  const [k1, k2] = [0, 1].map(() => execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim());
  const peer = execFileSync('wg', ['pubkey'], { input: k2, encoding: 'utf8' }).trim();
  const conf = join(dir, `${dev}.conf`);
  writeFileSync(
    conf,
    `[Interface]\nPrivateKey = ${k1}\nAddress = 10.71.0.1/24\nListenPort = 51871\n\n[Peer]\nPublicKey = ${peer}\nAllowedIPs = 10.71.0.2/32\n`,
  );
  return { ns, dev, conf, sock };
}

e2e('1 sag up killed with kill -9 leaves nothing that blocks the next start', async (t) => {
  const { ns, dev, conf, sock } = setup(t);
  const first = await sagUp(ns, conf);
  t.teardown(() => first.child.kill('SIGKILL'));
  t.true(linkIn(ns, dev));
  t.true(existsSync(sock), 'the UAPI socket serves by the time sag up says it is up');
  // kill -9 the node process itself (ip netns exec has exec'd into it, so the pid is the same).
  process.kill(first.child.pid!, 'SIGKILL');
  await first.exited;
  t.true(existsSync(sock), 'kill -9 leaves the UAPI socket behind');
  t.true(await waitFor(() => !linkIn(ns, dev), 5000, 50), 'the TUN goes with the process');

  const second = await sagUp(ns, conf);
  t.teardown(() => second.child.kill('SIGKILL'));
  t.regex(sh('wg', ['show', dev], { ns }), /listening port: 51871/, 'the same port is free again');
  t.regex(sh('ip', ['-4', 'addr', 'show', dev], { ns }), /10\.71\.0\.1\/24/);
  // sag show reads the drop counters of the restarted interface (human and JSON).
  const [shown] = JSON.parse(
    sh('ip', ['netns', 'exec', ns, process.execPath, SAG, 'show', dev, '--json']),
  ) as { drops: Record<string, number>; peers: { drops: Record<string, number> }[] }[];
  t.is(shown!.drops.replay, 0, JSON.stringify(shown));
  t.is(shown!.peers[0]!.drops.bad_auth, 0);
  t.regex(
    sh('ip', ['netns', 'exec', ns, process.execPath, SAG, 'show', dev]),
    /^drops \(packets refused, by reason\):\n {2}interface: none\n {2}peer \S+: none$/m,
  );
  second.child.kill('SIGTERM');
  const [code] = await second.exited;
  t.is(code, 0, second.stderr());
  t.false(existsSync(sock), 'a clean stop removes the socket');
});

e2e('2 an interface deleted under a running sag up ends it cleanly with a clear message', async (t) => {
  const { ns, dev, conf, sock } = setup(t);
  const run = await sagUp(ns, conf);
  t.teardown(() => run.child.kill('SIGKILL'));
  sh('ip', ['link', 'del', dev], { ns });
  const exit = await Promise.race([run.exited, new Promise<null>((r) => setTimeout(() => r(null), 10000))]);
  t.truthy(exit, `sag up did not exit; stderr: ${run.stderr()}`);
  t.deepEqual(exit, [0, null], run.stderr());
  t.regex(run.stderr(), new RegExp(`shutting down: interface ${dev} was deleted`));
  t.notRegex(run.stderr(), /error|exception|at .*\.js:\d+/i, 'no error or stack trace');
  t.false(existsSync(sock), 'the UAPI socket is removed');
});

e2e('3 a leftover persistent TUN of the same name is refused, named, and left untouched', async (t) => {
  const { ns, dev, conf, sock } = setup(t);
  sh('ip', ['tuntap', 'add', 'dev', dev, 'mode', 'tun'], { ns }); // persistent: outlives its creator
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, SAG, 'up', conf], {
    encoding: 'utf8',
    timeout: 20000,
  });
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, new RegExp(`^sag: interface ${dev} already exists: .*ip link del ${dev}`, 'm'));
  t.notRegex(sh('ip', ['addr', 'show', dev], { ns }), /10\.71\.0\.1/, 'no address was put on it');
  t.false(existsSync(sock));
  sh('ip', ['link', 'del', dev], { ns });
  const run = await sagUp(ns, conf);
  t.teardown(() => run.child.kill('SIGKILL'));
  run.child.kill('SIGTERM');
  t.deepEqual(await run.exited, [0, null], run.stderr());
});
