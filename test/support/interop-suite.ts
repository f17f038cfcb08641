/**
 * The interop suite, run for each pairing of sag with a peer (see interop.ts for the topology):
 * each side initiates in turn, 100 MiB of TCP both ways with checksums, rotation under traffic
 * without a stall, and roaming of sag's underlay address.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { e2eSkipReason, sh, type Namespaces } from './netns.js';
import { waitForLine } from './processes.js';
import { sleep } from './time.js';
import {
  buildInterop,
  IP_A,
  IP_B,
  latestHandshake,
  type AMode,
  type BImpl,
  type Interop,
  type InteropOptions,
} from './interop.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

export function interopSkipReason(): string | undefined {
  return e2eSkipReason(['ip', 'ping', 'wg', 'wg-quick', 'wireguard-go', 'iperf3']);
}

export async function tcpTransfer(
  ns: Namespaces,
  from: string,
  to: string,
  toIp: string,
  mib: number,
): Promise<{ sent: string; got: string }> {
  const sink = ns.spawn(to, process.execPath, [fixture('tcp-sink.mjs'), toIp, '5301']);
  await waitForLine(sink, /^LISTENING/);
  const done = waitForLine(sink, /^SINK /, 180000);
  const source = ns.spawn(from, process.execPath, [fixture('tcp-source.mjs'), toIp, '5301', String(mib)]);
  const [s, g] = await Promise.all([waitForLine(source, /^SOURCE /, 180000), done]);
  return { sent: s.slice(7), got: g.slice(5) };
}

export function ping(ns: string, target: string, count = 3): boolean {
  try {
    sh('ping', ['-c', String(count), '-i', '0.2', '-W', '2', target], { ns });
    return true;
  } catch {
    return false;
  }
}

export function interopSuite(aMode: AMode, bImpl: BImpl, extra: Partial<InteropOptions> = {}): void {
  const skip = interopSkipReason();
  const name = `${aMode} vs ${bImpl}`;
  if (skip) {
    test(`[skip] ${name}: ${skip}`, (t) => t.pass());
    return;
  }
  const withTopo = async (
    t: import('ava').ExecutionContext,
    opts: Partial<InteropOptions>,
    body: (i: Interop) => Promise<void>,
  ) => {
    const topo = await buildInterop({ aMode, bImpl, ...extra, ...opts });
    t.teardown(() => topo.cleanup());
    try {
      await body(topo);
    } catch (err) {
      t.log(`sag log:\n${topo.logA()}`);
      throw err;
    }
  };

  test.serial(`${name}: sag initiates; ping; 100 MiB TCP each way, checksums equal`, async (t) => {
    await withTopo(t, {}, async (i) => {
      t.true(ping(i.nsA, IP_B), 'ping A -> B');
      t.true(latestHandshake(i.wgB('show', i.ifB, 'latest-handshakes')) > 0, 'the peer saw a handshake');
      const ab = await tcpTransfer(i.namespaces, i.nsA, i.nsB, IP_B, 100);
      t.is(ab.got, ab.sent);
      t.regex(ab.sent, /^104857600 /);
      const ba = await tcpTransfer(i.namespaces, i.nsB, i.nsA, IP_A, 100);
      t.is(ba.got, ba.sent);
      // Stock wg(8) reads sag's state through its userspace API socket.
      t.true(
        latestHandshake(i.wgA('show', i.ifA, 'latest-handshakes')) > 0,
        'wg show on sag reports the handshake',
      );
      const [, rx, tx] = i.wgA('show', i.ifA, 'transfer').trim().split('\t').map(Number);
      t.true(rx! > 100 * 2 ** 20 && tx! > 100 * 2 ** 20, `wg show transfer on sag: rx ${rx} tx ${tx}`);
      t.regex(i.wgA('showconf', i.ifA), /\[Peer\]\nPublicKey = /);
    });
  });

  test.serial(`${name}: the peer initiates; ping`, async (t) => {
    await withTopo(t, {}, async (i) => {
      t.true(ping(i.nsB, IP_A), 'ping B -> A');
      t.true(ping(i.nsA, IP_B), 'and back');
    });
  });

  test.serial(`${name}: sag rekeys under traffic without a stall over one second`, async (t) => {
    await withTopo(t, { rekeyAfterMs: 6000 }, async (i) => {
      t.true(ping(i.nsA, IP_B, 1));
      const first = latestHandshake(i.wgB('show', i.ifB, 'latest-handshakes'));
      const server = i.namespaces.spawn(i.nsB, 'iperf3', ['-s', '-1', '-B', IP_B]);
      await sleep(300);
      const out = JSON.parse(sh('iperf3', ['-c', IP_B, '-t', '16', '-i', '0.5', '-J'], { ns: i.nsA }));
      server.kill();
      const intervals: number[] = out.intervals.map((x: { sum: { bytes: number } }) => x.sum.bytes);
      const stalls = intervals.filter((b, n) => b === 0 && intervals[n + 1] === 0).length;
      t.is(stalls, 0, `intervals: ${intervals.join(' ')}`);
      const last = latestHandshake(i.wgB('show', i.ifB, 'latest-handshakes'));
      t.true(last - first >= 5, `handshakes rotated: first ${first}, last ${last}`);
    });
  });

  test.serial(`${name}: traffic follows sag to a new underlay address (roaming)`, async (t) => {
    await withTopo(t, {}, async (i) => {
      t.true(ping(i.nsA, IP_B));
      sh('ip', ['addr', 'del', '10.81.0.1/29', 'dev', i.vethA], { ns: i.nsA });
      sh('ip', ['addr', 'add', '10.81.0.3/29', 'dev', i.vethA], { ns: i.nsA });
      t.true(ping(i.nsA, IP_B, 5), 'ping after the move');
      t.regex(i.wgB('show', i.ifB, 'endpoints'), /10\.81\.0\.3:51820/);
    });
  });
}
