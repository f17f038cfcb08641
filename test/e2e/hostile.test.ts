/**
 * Hostile traffic against a live tunnel (see test/support/interop.ts): A = `sag up`, B = sag-wg
 * configured by `wg`. Replayed transport datagrams, forged and truncated messages of every type,
 * inner packets from outside a peer's allowed IPs, an initiation flood from many sources, oversized
 * datagrams and a peer that vanishes mid-transfer. sag's per-peer drop counters are not exposed
 * through the UAPI (`wg show`, `sag show --json` only carry rx/tx bytes of authenticated traffic),
 * so here "dropped" is asserted through what is observable: rx/tx counters that do not move,
 * endpoints that do not roam, inner packets that never reach the TUN device, cookie replies on the wire, and
 * the RSS of the sag processes. Every test also asserts that legitimate traffic kept flowing and
 * that neither sag process died. Drop counters by reason are asserted in hostile-counters.test.ts,
 * against the dataplane directly.
 */
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInterop, IP_A, IP_B, UNDER_A, UNDER_B, type Interop } from '../support/interop.js';
import { SAG } from '../support/sag-process.js';
import { ping, tcpTransfer } from '../support/interop-suite.js';
import { e2eSkipReason } from '../support/netns.js';
import { waitForLine } from '../support/processes.js';
import { startCapture } from '../support/capture.js';
import { udpPayloads } from '../support/pcap.js';
import { waitFor } from '../support/time.js';
import { decodeKey } from '../../src/wg/crypto.js';
import { initiationWithMac1, random, responseWithMac1 } from '../support/packets.js';

const SENDER = fileURLToPath(new URL('../fixtures/hostile-udp.mjs', import.meta.url));
const skip = e2eSkipReason(['ip', 'ping', 'wg', 'tcpdump']);

// ---------------------------------------------------------------------------------------------
// Small observers.

/** [rx, tx] bytes of the (only) peer as `wg show IFACE transfer` prints them. */
function transfer(wgOut: string): [number, number] {
  const [, rx, tx] = wgOut.trim().split('\t').map(Number);
  return [rx ?? 0, tx ?? 0];
}

/** Pids in a namespace whose command line contains `needle`. */
function pidsIn(ns: string, needle: string): number[] {
  const pids =
    spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split(/\s+/).filter(Boolean) ?? [];
  return pids.map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .some((a) => a.includes(needle));
    } catch {
      return false;
    }
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** The sag process of each side: A runs dist/cli/sag.js, B runs dist/cli/sag-wg.js. */
function sagPids(i: Interop): { a: number; b: number } {
  const [a] = pidsIn(i.nsA, 'cli/sag.js');
  const [b] = pidsIn(i.nsB, 'cli/sag-wg.js');
  if (!a || !b) throw new Error(`sag processes not found: A ${a}, B ${b}`);
  return { a, b };
}

/** Runs a command in a namespace without blocking the event loop. */
function run(ns: string, cmd: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const c = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    c.stdout.on('data', (d) => (stdout += String(d)));
    c.on('close', (code) => resolve({ code, stdout }));
  });
}

interface SendJob {
  host: string;
  port: number;
  packets: Buffer[];
  sources?: { address?: string; port?: number }[];
  rounds?: number;
  seconds?: number;
  listenMs?: number;
  gapMs?: number;
}
interface SendResult {
  sent: number;
  errors: number;
  replies: Record<string, number>;
  replySizes: Record<string, number>;
}

/** Sends datagrams from a namespace with test/fixtures/hostile-udp.mjs (never from port 51820). */
async function send(ns: string, job: SendJob): Promise<SendResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sag-hostile-'));
  try {
    const file = join(dir, 'job.json');
    writeFileSync(file, JSON.stringify({ ...job, packets: job.packets.map((p) => p.toString('base64')) }));
    const out = await run(ns, process.execPath, [SENDER, file]);
    const line = out.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`sender failed (exit ${out.code}): ${out.stdout}`);
    return JSON.parse(line.slice(7)) as SendResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const vethB = (i: Interop) => `vb${i.vethA.slice(2)}`;

/** Transport datagrams A sent to B while pinging B `count` times. */
async function captureTransport(i: Interop, count: number): Promise<Buffer[]> {
  const cap = await startCapture(i.namespaces, i.nsB, vethB(i), {
    filter: `udp and src host ${UNDER_A} and dst port 51820`,
  });
  const ok = ping(i.nsA, IP_B, count);
  const { pcap } = await cap.stop();
  if (!ok) throw new Error('ping A -> B failed while capturing');
  return udpPayloads(pcap!).filter((p) => p[0] === 4 && p.length >= 32);
}

/** Waits until neither side's transfer counters move for `quietMs` (keepalives settle). */
async function settle(i: Interop, quietMs = 600): Promise<void> {
  let last = '';
  let since = Date.now();
  const until = Date.now() + 12000;
  while (Date.now() < until) {
    const now = i.wgA('show', i.ifA, 'transfer') + i.wgB('show', i.ifB, 'transfer');
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const withTopo = async (t: ExecutionContext, body: (i: Interop) => Promise<void>) => {
  const topo = await buildInterop({ aMode: 'sag-up', bImpl: 'sag-wg' });
  t.teardown(() => topo.cleanup());
  try {
    await body(topo);
  } catch (err) {
    t.log(`sag (A) log:\n${topo.logA()}`);
    throw err;
  }
};

// ---------------------------------------------------------------------------------------------

if (skip) {
  test(`[skip] hostile traffic: ${skip}`, (t) => t.pass());
} else {
  test.serial('replayed transport datagrams are all dropped; traffic keeps flowing', async (t) => {
    t.timeout(40000);
    await withTopo(t, async (i) => {
      const pids = sagPids(i);
      const captured = await captureTransport(i, 20);
      t.true(captured.length >= 20, `captured ${captured.length} transport datagrams`);
      await settle(i);
      const before = {
        a: transfer(i.wgA('show', i.ifA, 'transfer')),
        b: transfer(i.wgB('show', i.ifB, 'transfer')),
      };
      const replayBytes = captured.reduce((s, p) => s + p.length, 0) * 5;
      // From another source port: replays from elsewhere are still replays (and must not roam B).
      const res = await send(i.nsA, {
        host: UNDER_B,
        port: 51820,
        packets: captured,
        rounds: 5,
        listenMs: 500,
      });
      t.is(res.sent, captured.length * 5);
      const after = {
        a: transfer(i.wgA('show', i.ifA, 'transfer')),
        b: transfer(i.wgB('show', i.ifB, 'transfer')),
      };
      t.log(
        `replayed ${res.sent} datagrams (${replayBytes} B); B rx +${after.b[0] - before.b[0]}, B tx +${after.b[1] - before.b[1]}`,
      );
      // At most a keepalive (32 B) or two may have moved; a single accepted replay is >= 128 B of ICMP.
      t.true(after.b[0] - before.b[0] <= 64, `B accepted replays: rx ${before.b[0]} -> ${after.b[0]}`);
      t.true(after.b[1] - before.b[1] <= 64, `B answered replays: tx ${before.b[1]} -> ${after.b[1]}`);
      t.deepEqual(Object.keys(res.replies), [], `B answered the replayer: ${JSON.stringify(res.replies)}`);
      t.regex(
        i.wgB('show', i.ifB, 'endpoints'),
        new RegExp(`${UNDER_A.replaceAll('.', '\\.')}:51820`),
        'B did not roam to the replayer',
      );
      t.true(ping(i.nsA, IP_B), 'ping A -> B after the replays');
      t.true(ping(i.nsB, IP_A), 'ping B -> A after the replays');
      t.true(alive(pids.a) && alive(pids.b), 'both sag processes alive');
    });
  });

  test.serial('forged and truncated messages of every type, both directions, are dropped', async (t) => {
    t.timeout(40000);
    await withTopo(t, async (i) => {
      const pids = sagPids(i);
      const captured = await captureTransport(i, 3);
      t.true(captured.length > 0);
      const pubA = decodeKey(i.wgA('show', i.ifA, 'public-key').trim());
      const pubB = decodeKey(i.wgB('show', i.ifB, 'public-key').trim());
      const sizes: Record<number, number> = { 1: 148, 2: 92, 3: 64, 4: 32 };
      const forged = (responderPub: Uint8Array): Buffer[] => {
        const out: Buffer[] = [Buffer.alloc(0)];
        for (const type of [0, 1, 2, 3, 4, 5, 127, 255]) {
          const full = sizes[type] ?? 64;
          // Right size, every truncation, one byte long, and a few random lengths.
          for (const n of [
            full,
            full + 1,
            full + 16,
            ...Array.from({ length: full }, (_, k) => k),
            ...Array.from({ length: 8 }, () => 1 + Math.floor(Math.random() * 1400)),
          ]) {
            out.push(random(n, type));
          }
          // Non-zero reserved bytes on an otherwise well-sized message.
          const r = random(full, type);
          if (full >= 4) r[1] = 0xff;
          out.push(r);
        }
        // Handshake messages that pass the mac1 gate and then fail inside Noise.
        for (let k = 0; k < 32; k++)
          out.push(initiationWithMac1(responderPub), responseWithMac1(responderPub));
        // Real transport headers (receiver index, counter) with tampered ciphertext, and truncated.
        for (const p of captured) {
          const flipped = Buffer.from(p);
          flipped[flipped.length - 1]! ^= 0x01;
          out.push(flipped, p.subarray(0, 16), p.subarray(0, 31), p.subarray(0, p.length - 1));
          const future = Buffer.from(p);
          future.writeBigUInt64LE(2n ** 63n, 8);
          out.push(future);
        }
        return out;
      };
      await settle(i);
      const before = {
        a: transfer(i.wgA('show', i.ifA, 'transfer')),
        b: transfer(i.wgB('show', i.ifB, 'transfer')),
      };
      const toB = forged(pubB);
      const toA = forged(pubA);
      const [rb, ra] = await Promise.all([
        send(i.nsA, { host: UNDER_B, port: 51820, packets: toB, rounds: 3, listenMs: 500 }),
        send(i.nsB, { host: UNDER_A, port: 51820, packets: toA, rounds: 3, listenMs: 500 }),
      ]);
      t.log(
        `forged ${rb.sent} datagrams at B, ${ra.sent} at A; replies at B's sender ${JSON.stringify(rb.replies)}, at A's ${JSON.stringify(ra.replies)}`,
      );
      t.is(rb.sent, toB.length * 3);
      t.is(ra.sent, toA.length * 3);
      const after = {
        a: transfer(i.wgA('show', i.ifA, 'transfer')),
        b: transfer(i.wgB('show', i.ifB, 'transfer')),
      };
      for (const side of ['a', 'b'] as const) {
        t.true(
          after[side][0] - before[side][0] <= 64,
          `${side.toUpperCase()} counted forged datagrams as received: ${before[side][0]} -> ${after[side][0]}`,
        );
        t.true(
          after[side][1] - before[side][1] <= 64,
          `${side.toUpperCase()} sent on forged datagrams: ${before[side][1]} -> ${after[side][1]}`,
        );
      }
      // Nothing forged may be answered with a handshake response (no cookie: not under load).
      t.falsy(rb.replies['2'] ?? ra.replies['2'], 'a forged initiation got a response');
      t.regex(i.wgB('show', i.ifB, 'endpoints'), new RegExp(`${UNDER_A.replaceAll('.', '\\.')}:51820`));
      t.regex(i.wgA('show', i.ifA, 'endpoints'), new RegExp(`${UNDER_B.replaceAll('.', '\\.')}:51820`));
      t.true(ping(i.nsA, IP_B), 'ping A -> B after the forgeries');
      t.true(ping(i.nsB, IP_A), 'ping B -> A after the forgeries');
      const tcp = await tcpTransfer(i.namespaces, i.nsA, i.nsB, IP_B, 8);
      t.is(tcp.got, tcp.sent, '8 MiB TCP after the forgeries');
      t.true(alive(pids.a) && alive(pids.b), 'both sag processes alive');
    });
  });

  test.serial("inner packets from outside the peer's allowed IPs never reach the TUN device", async (t) => {
    t.timeout(40000);
    await withTopo(t, async (i) => {
      const pids = sagPids(i);
      t.true(ping(i.nsA, IP_B, 1));
      // A (sag) routes by destination only, so it seals a packet with a foreign source; B must drop
      // it after decryption: A's allowed IPs on B are 10.82.0.1/32.
      const spoofed = '10.82.0.77';
      spawnSync('ip', ['netns', 'exec', i.nsA, 'ip', 'addr', 'add', `${spoofed}/32`, 'dev', i.ifA]);
      const tun = await startCapture(i.namespaces, i.nsB, i.ifB, { filter: 'icmp', text: true });
      const before = transfer(i.wgB('show', i.ifB, 'transfer'));
      const spoofPing = await run(i.nsA, 'ping', ['-c', '5', '-i', '0.2', '-W', '1', '-I', spoofed, IP_B]);
      const mid = transfer(i.wgB('show', i.ifB, 'transfer'));
      const legit = ping(i.nsA, IP_B, 3);
      const { lines } = await tun.stop();
      const leaked = lines.filter((l) => l.includes(`${spoofed} >`));
      t.log(`B rx +${mid[0] - before[0]} B for the spoofed pings; TUN saw ${lines.length} ICMP lines`);
      t.not(spoofPing.code, 0, 'the spoofed ping got no reply');
      t.true(
        mid[0] - before[0] >= 5 * 32,
        'the spoofed packets did reach B, sealed (so the drop is B’s allowed-IPs check)',
      );
      t.deepEqual(leaked, [], 'no packet from the spoofed source reached B’s TUN device');
      t.true(legit, 'legitimate ping A -> B keeps working');
      t.true(
        lines.some((l) => l.includes(`${IP_A} > ${IP_B}`)),
        'legitimate packets did reach the TUN device',
      );
      t.true(ping(i.nsB, IP_A), 'ping B -> A');
      t.true(alive(pids.a) && alive(pids.b), 'both sag processes alive');
    });
  });

  test.serial(
    'an initiation flood from many sources gets cookie replies; the tunnel keeps working; memory bounded',
    async (t) => {
      t.timeout(40000);
      await withTopo(t, async (i) => {
        const pids = sagPids(i);
        t.true(ping(i.nsA, IP_B, 1));
        const pubB = decodeKey(i.wgB('show', i.ifB, 'public-key').trim());
        const extra = ['10.81.0.3', '10.81.0.4', '10.81.0.5', '10.81.0.6'];
        for (const a of extra)
          spawnSync('ip', ['netns', 'exec', i.nsA, 'ip', 'addr', 'add', `${a}/29`, 'dev', i.vethA]);
        const sources = [UNDER_A, ...extra].flatMap((address) =>
          Array.from({ length: 8 }, () => ({ address, port: 0 })),
        );
        const pool = Array.from({ length: 512 }, () => initiationWithMac1(pubB));
        const rssBefore = rssKiB(pids.b);
        let rssPeak = rssBefore;
        const sampler = setInterval(() => {
          if (alive(pids.b)) rssPeak = Math.max(rssPeak, rssKiB(pids.b));
        }, 200);
        const flood = send(i.nsA, {
          host: UNDER_B,
          port: 51820,
          packets: pool,
          sources,
          seconds: 10,
          listenMs: 1500,
        });
        await new Promise((r) => setTimeout(r, 1500));
        const pingDuring = run(i.nsA, 'ping', ['-c', '20', '-i', '0.2', '-W', '2', IP_B]);
        const tcp = await tcpTransfer(i.namespaces, i.nsA, i.nsB, IP_B, 16);
        const [res, pd] = await Promise.all([flood, pingDuring]);
        clearInterval(sampler);
        const received = /(\d+) received/.exec(pd.stdout);
        t.log(
          `flood: ${res.sent} initiations from ${sources.length} sources, ${res.errors} send errors; replies ${JSON.stringify(res.replies)} sizes ${JSON.stringify(res.replySizes)}`,
        );
        t.log(`ping during the flood: ${received?.[1]}/20; B RSS ${rssBefore} KiB -> peak ${rssPeak} KiB`);
        t.true(res.sent > 10000, `the flood sent ${res.sent}`);
        t.true((res.replies['3'] ?? 0) > 0, 'the flood (valid mac1, no mac2) got cookie replies');
        t.is(res.replySizes['64'] ?? 0, res.replies['3'] ?? 0, 'cookie replies are 64 bytes');
        t.falsy(res.replies['2'], 'no handshake response to garbage initiations');
        t.true(
          Number(received?.[1] ?? 0) >= 18,
          `ping through the tunnel during the flood: ${pd.stdout.split('\n').slice(-3).join(' ')}`,
        );
        t.is(tcp.got, tcp.sent, '16 MiB TCP during the flood, checksums equal');
        t.true(rssPeak - rssBefore < 200 * 1024, `B RSS grew by ${rssPeak - rssBefore} KiB`);
        t.true(ping(i.nsA, IP_B), 'ping after the flood');
        t.true(alive(pids.a) && alive(pids.b), 'both sag processes alive');
      });
    },
  );

  test.serial('oversized datagrams (1500..65507 bytes) are dropped; traffic keeps flowing', async (t) => {
    t.timeout(40000);
    await withTopo(t, async (i) => {
      const pids = sagPids(i);
      const captured = await captureTransport(i, 2);
      const sizes = [1500, 1501, 2048, 4096, 8192, 9000, 16384, 32768, 65535 - 28 - 1, 65507];
      const packets = sizes.flatMap((n) => {
        const grown = Buffer.alloc(n);
        captured[0]!.copy(grown); // a real receiver index and counter, then zeros past the tag
        return [random(n, 1), random(n, 2), random(n, 3), random(n, 4), random(n), grown];
      });
      await settle(i);
      const before = {
        a: transfer(i.wgA('show', i.ifA, 'transfer')),
        b: transfer(i.wgB('show', i.ifB, 'transfer')),
      };
      const [rb, ra] = await Promise.all([
        send(i.nsA, { host: UNDER_B, port: 51820, packets, rounds: 20, listenMs: 500 }),
        send(i.nsB, { host: UNDER_A, port: 51820, packets, rounds: 20, listenMs: 500 }),
      ]);
      t.log(
        `sent ${rb.sent} oversized datagrams at B (${rb.errors} errors), ${ra.sent} at A (${ra.errors} errors)`,
      );
      t.is(rb.sent, packets.length * 20);
      t.is(ra.sent, packets.length * 20);
      const after = {
        a: transfer(i.wgA('show', i.ifA, 'transfer')),
        b: transfer(i.wgB('show', i.ifB, 'transfer')),
      };
      for (const side of ['a', 'b'] as const) {
        t.true(
          after[side][0] - before[side][0] <= 64,
          `${side.toUpperCase()} counted oversized datagrams: ${before[side][0]} -> ${after[side][0]}`,
        );
      }
      t.deepEqual({ ...rb.replies, ...ra.replies }, {}, 'nothing answered');
      t.true(ping(i.nsA, IP_B), 'ping A -> B');
      t.true(ping(i.nsB, IP_A), 'ping B -> A');
      // Full-MTU traffic still passes.
      t.true(
        spawnSync('ip', [
          'netns',
          'exec',
          i.nsA,
          'ping',
          '-c',
          '3',
          '-i',
          '0.2',
          '-W',
          '2',
          '-s',
          '1392',
          '-M',
          'do',
          IP_B,
        ]).status === 0,
        'full-size ping',
      );
      t.true(alive(pids.a) && alive(pids.b), 'both sag processes alive');
    });
  });

  test.serial(
    'a peer that vanishes mid-transfer leaves the other healthy, and comes back with the same config',
    async (t) => {
      t.timeout(40000);
      await withTopo(t, async (i) => {
        const pids = sagPids(i);
        const conf = readFileSync(`/proc/${pids.a}/cmdline`, 'utf8')
          .split('\0')
          .find((a) => a.endsWith('.conf'));
        t.truthy(conf, 'found the config sag up runs with');
        t.true(ping(i.nsA, IP_B, 1));
        const rssBefore = rssKiB(pids.b);
        // A long transfer A -> B; A's sag is killed while it runs.
        const sink = i.namespaces.spawn(i.nsB, process.execPath, [
          fileURLToPath(new URL('../fixtures/tcp-sink.mjs', import.meta.url)),
          IP_B,
          '5301',
        ]);
        await waitForLine(sink, /^LISTENING/);
        const source = i.namespaces.spawn(i.nsA, process.execPath, [
          fileURLToPath(new URL('../fixtures/tcp-source.mjs', import.meta.url)),
          IP_B,
          '5301',
          '100000',
        ]);
        t.true(
          await waitFor(() => transfer(i.wgB('show', i.ifB, 'transfer'))[0] > 8 * 2 ** 20, 15000, 100),
          'the transfer was running',
        );
        process.kill(pids.a, 'SIGKILL');
        t.true(await waitFor(() => !alive(pids.a), 5000, 50), 'A is gone');
        source.kill('SIGKILL');
        // B keeps trying to reach A for a while (ACKs, handshakes): it must stay responsive.
        const rssPeak = { v: rssBefore };
        for (let k = 0; k < 10; k++) {
          await new Promise((r) => setTimeout(r, 300));
          t.true(alive(pids.b), 'B alive');
          rssPeak.v = Math.max(rssPeak.v, rssKiB(pids.b));
          t.regex(i.wgB('show', i.ifB, 'transfer'), /\t\d+\t\d+/, 'B answers wg show');
        }
        t.true(rssPeak.v - rssBefore < 100 * 1024, `B RSS ${rssBefore} -> ${rssPeak.v} KiB`);
        sink.kill('SIGKILL');
        // A comes back from the same file; the tunnel is re-established.
        const again = i.namespaces.spawn(i.nsA, process.execPath, [SAG, 'up', conf!]);
        let log = '';
        again.stderr!.on('data', (d) => (log += String(d)));
        const up = await waitFor(() => /is up/.test(log) || again.exitCode !== null, 15000, 50);
        t.true(up && again.exitCode === null, `sag up again: ${log}`);
        t.true(ping(i.nsA, IP_B, 5), 'ping A -> B with the new sag');
        t.true(ping(i.nsB, IP_A), 'ping B -> A');
        const tcp = await tcpTransfer(i.namespaces, i.nsA, i.nsB, IP_B, 8);
        t.is(tcp.got, tcp.sent, '8 MiB TCP through the re-established tunnel');
        t.regex(i.wgB('show', i.ifB, 'endpoints'), new RegExp(`${UNDER_A.replaceAll('.', '\\.')}:51820`));
        t.true(alive(pids.b), 'B alive throughout');
      });
    },
  );
}
