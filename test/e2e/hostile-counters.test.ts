/**
 * Hostile traffic against the dataplane with its drop counters in view. `sag up`/sag-wg do not
 * expose per-peer drop counters (UAPI carries only rx/tx bytes; see hostile.test.ts), so this file
 * uses the two-dataplane topology of test/support/tunnel-topology.ts, whose fixture reports
 * Dataplane.peerStats()/stats(). Each test asserts what was dropped, by reason, and that
 * legitimate traffic kept flowing through the tunnel.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { e2eSkipReason, sh, type Namespaces } from '../support/netns.js';
import { startCapture } from '../support/capture.js';
import { udpPayloads } from '../support/pcap.js';
import {
  buildTunnelTopology,
  TUNNEL_IP_A,
  TUNNEL_IP_B,
  type TunnelTopology,
} from '../support/tunnel-topology.js';

const SENDER = fileURLToPath(new URL('../fixtures/hostile-udp.mjs', import.meta.url));
const UNDER_B = '10.78.0.2';
const skip = e2eSkipReason(['ip', 'ping', 'tcpdump']);

type Drops = Record<string, number>;

/** B's drop counters: per peer, global, and on its uplink (where datagrams no peer owns are counted). */
async function drops(
  topo: TunnelTopology,
): Promise<{ peer: Drops; global: Drops; uplink: Drops; rxPackets: number }> {
  const s = (await topo.stats('b')) as unknown as {
    peer: { counters: { drops: Drops; rxPackets: number } };
    global: { drops: Drops };
    uplink: { drops: Drops };
  };
  return {
    peer: { ...s.peer.counters.drops },
    global: { ...s.global.drops },
    uplink: { ...s.uplink.drops },
    rxPackets: s.peer.counters.rxPackets,
  };
}

/** Drops by reason between two readings, summed over peer, global and uplink. */
function dropped(a: Awaited<ReturnType<typeof drops>>, b: Awaited<ReturnType<typeof drops>>): Drops {
  const out: Drops = {};
  for (const where of ['peer', 'global', 'uplink'] as const) {
    for (const [k, n] of Object.entries(delta(a[where], b[where]))) out[k] = (out[k] ?? 0) + Number(n);
  }
  return out;
}

const delta = (after: Drops, before: Drops) =>
  Object.fromEntries(
    Object.keys(after)
      .map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)])
      .filter(([, n]) => n !== 0),
  );

function ping(ns: string, target: string, count = 3, extra: string[] = []): boolean {
  try {
    sh('ping', ['-c', String(count), '-i', '0.2', '-W', '2', ...extra, target], { ns });
    return true;
  } catch {
    return false;
  }
}

function send(ns: string, packets: Buffer[], rounds: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'sag-hostile-'));
  const file = join(dir, 'job.json');
  writeFileSync(
    file,
    JSON.stringify({
      host: UNDER_B,
      port: 51820,
      packets: packets.map((p) => p.toString('base64')),
      rounds,
      listenMs: 300,
    }),
  );
  return new Promise((resolve, reject) => {
    const c = spawn('ip', ['netns', 'exec', ns, process.execPath, SENDER, file], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    c.stdout.on('data', (d) => (out += String(d)));
    c.on('close', () => {
      rmSync(dir, { recursive: true, force: true });
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) resolve((JSON.parse(line.slice(7)) as { sent: number }).sent);
      else reject(new Error(`sender failed: ${out}`));
    });
  });
}

async function captureTransport(ns: Namespaces, topo: TunnelTopology, count: number): Promise<Buffer[]> {
  const cap = await startCapture(ns, topo.nsB, `vb${topo.vethA.slice(2)}`, {
    filter: 'udp and src host 10.78.0.1 and dst port 51820',
  });
  const ok = ping(topo.nsA, TUNNEL_IP_B, count);
  const { pcap } = await cap.stop();
  if (!ok) throw new Error('ping failed while capturing');
  return udpPayloads(pcap!).filter((p) => p[0] === 4 && p.length >= 32);
}

if (skip) {
  test(`[skip] hostile traffic (dataplane counters): ${skip}`, (t) => t.pass());
} else {
  test.serial(
    'replays are dropped and counted as replays; forgeries as bad_auth/malformed/no_session; traffic flows',
    async (t) => {
      t.timeout(40000);
      const topo = await buildTunnelTopology();
      t.teardown(() => topo.cleanup());
      const captured = await captureTransport(topo.namespaces, topo, 10);
      t.true(captured.length >= 10, `captured ${captured.length}`);
      const d0 = await drops(topo);

      // 1. Replays, from another source port, three times over.
      const replays = await send(topo.nsA, captured, 3);
      const d1 = await drops(topo);
      t.log(
        `${replays} replays: drops ${JSON.stringify(dropped(d1, d0))}, rx +${d1.rxPackets - d0.rxPackets}`,
      );
      t.is(d1.rxPackets, d0.rxPackets, 'no replay was accepted');
      t.deepEqual(dropped(d1, d0), { replay: replays }, 'every replay counted as a replay, and only that');

      // 2. Tampered ciphertext on a real header (bad_auth), truncations (malformed), unknown index.
      const tampered = captured.map((p) => {
        const q = Buffer.from(p);
        q[q.length - 1]! ^= 1;
        q.writeBigUInt64LE(BigInt(1_000_000 + Math.floor(Math.random() * 1e6)), 8); // fresh counter
        return q;
      });
      const truncated = captured.flatMap((p) => [p.subarray(0, 16), p.subarray(0, 31)]);
      const unknown = captured.map((p) => {
        const q = Buffer.from(p);
        q.writeUInt32LE(0xdead0000 + Math.floor(Math.random() * 0xffff), 4);
        return q;
      });
      const nTampered = await send(topo.nsA, tampered, 1);
      const d2 = await drops(topo);
      const nTrunc = await send(topo.nsA, truncated, 1);
      const d3 = await drops(topo);
      const nUnknown = await send(topo.nsA, unknown, 1);
      const d4 = await drops(topo);
      t.log(
        `tampered ${nTampered}: ${JSON.stringify(dropped(d2, d1))}; truncated ${nTrunc}: ${JSON.stringify(dropped(d3, d2))}; unknown index ${nUnknown}: ${JSON.stringify(dropped(d4, d3))}`,
      );
      t.deepEqual(dropped(d2, d1), { bad_auth: nTampered }, 'every tampered datagram counted as bad_auth');
      t.deepEqual(
        dropped(d3, d2),
        { malformed: nTrunc },
        'every truncated transport datagram counted as malformed',
      );
      t.deepEqual(
        dropped(d4, d3),
        { no_session: nUnknown },
        'every datagram for an unknown receiver index counted as no_session',
      );
      t.is(d4.rxPackets, d0.rxPackets, 'none accepted');

      t.true(ping(topo.nsA, TUNNEL_IP_B), 'ping A -> B still works');
      t.true(ping(topo.nsB, TUNNEL_IP_A), 'ping B -> A still works');
    },
  );

  test.serial(
    "inner packets from outside the peer's allowed IPs are counted as source_not_allowed",
    async (t) => {
      t.timeout(40000);
      const topo = await buildTunnelTopology();
      t.teardown(() => topo.cleanup());
      t.true(ping(topo.nsA, TUNNEL_IP_B, 1));
      sh('ip', ['addr', 'add', '10.77.0.77/32', 'dev', topo.tunA], { ns: topo.nsA });
      const d0 = await drops(topo);
      t.false(ping(topo.nsA, TUNNEL_IP_B, 5, ['-I', '10.77.0.77']), 'the spoofed ping gets no answer');
      const d1 = await drops(topo);
      t.log(`spoofed pings: drops ${JSON.stringify(dropped(d1, d0))}`);
      t.deepEqual(
        dropped(d1, d0),
        { source_not_allowed: 5 },
        'every spoofed packet counted as source_not_allowed',
      );
      t.true(ping(topo.nsA, TUNNEL_IP_B), 'legitimate ping still works');
    },
  );

  test.serial('oversized datagrams (1500..65507 bytes) are dropped and counted; traffic flows', async (t) => {
    t.timeout(40000);
    const topo = await buildTunnelTopology();
    t.teardown(() => topo.cleanup());
    const captured = await captureTransport(topo.namespaces, topo, 2);
    const sizes = [1500, 2048, 9000, 16384, 32768, 65507];
    const big = sizes.map((n) => {
      const b = randomBytes(n);
      captured[0]!.copy(b, 0, 0, 16);
      b.writeBigUInt64LE(BigInt(5_000_000 + n), 8);
      return b;
    });
    const d0 = await drops(topo);
    const n = await send(topo.nsA, big, 5);
    const d1 = await drops(topo);
    t.log(`${n} oversized datagrams: ${JSON.stringify(dropped(d1, d0))}`);
    t.is(d1.rxPackets, d0.rxPackets, 'none accepted');
    // 65507 bytes is the most IPv4 UDP carries and the receive buffers take 65535, so each one is
    // read whole, authenticated, and fails as bad_auth (too_big is unreachable over IPv4).
    t.deepEqual(
      dropped(d1, d0),
      { bad_auth: n },
      'every oversized datagram read whole and counted as bad_auth',
    );
    t.true(ping(topo.nsA, TUNNEL_IP_B), 'ping still works');
    t.true(ping(topo.nsA, TUNNEL_IP_B, 3, ['-s', '1392', '-M', 'do']), 'full-MTU ping still works');
  });
}
