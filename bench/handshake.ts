/**
 * Handshake benchmarks, side by side with Debian's wireguard-go in one run (root only):
 *  1. handshakes per second one responder completes: sag-wg and wireguard-go in a namespace, both
 *     with the same static key and 256 peers; this process initiates with pre-computed initiations,
 *     at most 64 outstanding (below both implementations' under-load thresholds, so no cookies);
 *  2. what a flood of junk initiations (right size, bad mac1) costs an established tunnel: iperf3
 *     through sag-up→sag-wg and sag-up→wireguard-go, with and without a flood aimed at the receiver.
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInterop, IP_B, UNDER_B } from '../test/support/interop.js';
import { SAG_WG } from '../test/support/sag-process.js';
import { e2eSkipReason, Namespaces, sh, uniqueTag } from '../test/support/netns.js';
import { waitForLine } from '../test/support/processes.js';
import { encodeKey, generateKeyPair, type KeyPair } from '../src/wg/crypto.js';
import { Handshake, RandomIndexAllocator } from '../src/wg/noise.js';
import { median, printTable, writeJson, type Row } from './lib/report.js';

const PEERS = 256;
const WINDOW = 64;
const SECONDS = 3;
const RUNS = 3;
const PER_RUN = 9000;

/** Initiations from PEERS initiators, timestamps 50 ms apart per peer, valid for one responder state. */
function precompute(responder: KeyPair, initiators: KeyPair[], round: number): Buffer[] {
  const indices = new RandomIndexAllocator();
  const out: Buffer[] = [];
  const hs = initiators.map((local) => new Handshake({ local, remoteStatic: responder.publicKey, indices }));
  for (let k = 0; out.length < PER_RUN; k++) {
    const now = Date.now() + (round * 1000 + k) * 50;
    for (const h of hs) {
      out.push(Buffer.from(h.createInitiation(now)));
      h.clear();
    }
  }
  return out;
}

async function measureResponder(address: string, port: number, msgs: Buffer[]): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, r));
  let next = 0;
  let done = 0;
  const start = performance.now();
  const until = start + SECONDS * 1000;
  return new Promise((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      sock.close();
      resolve(done / ((performance.now() - start) / 1000));
    };
    const send = () => {
      if (next < msgs.length) sock.send(msgs[next++]!, port, address);
    };
    sock.on('message', (m) => {
      if (m.length !== 92 || m[0] !== 2) return;
      done++;
      if (performance.now() >= until || next >= msgs.length) finish();
      else send();
    });
    for (let i = 0; i < WINDOW; i++) send();
    setTimeout(finish, SECONDS * 1000 + 2000).unref(); // responses stopped coming: report what we have
  });
}

async function handshakeRate(): Promise<Row[]> {
  const ns = new Namespaces();
  const dir = mkdtempSync(join(tmpdir(), 'sag-bench-hs-'));
  const tag = uniqueTag();
  const name = ns.add(`sagh${tag}`);
  const dev = { sag: `hs${tag}`, wg: `hg${tag}` };
  try {
    execFileSync('ip', [
      'link',
      'add',
      `hr${tag}`,
      'type',
      'veth',
      'peer',
      'name',
      `hn${tag}`,
      'netns',
      name,
    ]);
    sh('ip', ['addr', 'add', '10.84.0.1/30', 'dev', `hr${tag}`]);
    sh('ip', ['link', 'set', `hr${tag}`, 'up']);
    sh('ip', ['addr', 'add', '10.84.0.2/30', 'dev', `hn${tag}`], { ns: name });
    sh('ip', ['link', 'set', `hn${tag}`, 'up'], { ns: name });
    const responder = generateKeyPair();
    const initiators = Array.from({ length: PEERS }, () => generateKeyPair());
    const conf = (port: number) =>
      [
        '[Interface]',
        `PrivateKey = ${encodeKey(responder.privateKey)}`,
        `ListenPort = ${port}`,
        '',
        ...initiators.flatMap((k, i) => [
          '[Peer]',
          `PublicKey = ${encodeKey(k.publicKey)}`,
          `AllowedIPs = 10.200.${i >> 8}.${i & 255}/32`,
          '',
        ]),
      ].join('\n');
    const ports = { sag: 51820, wg: 51821 };
    for (const impl of ['sag', 'wg'] as const) {
      execFileSync('ip', ['netns', 'exec', name, impl === 'sag' ? SAG_WG : 'wireguard-go', dev[impl]], {
        stdio: 'ignore',
        env: { ...process.env, LOG_LEVEL: 'error' },
      });
      writeFileSync(join(dir, `${impl}.conf`), conf(ports[impl]), { mode: 0o600 });
      sh('wg', ['setconf', dev[impl], join(dir, `${impl}.conf`)], { ns: name });
      sh('ip', ['link', 'set', dev[impl], 'up'], { ns: name });
    }
    const rates: Record<string, number[]> = { 'wireguard-go': [], sag: [] };
    for (let run = 0; run < RUNS; run++) {
      const msgs = precompute(responder, initiators, run);
      rates['wireguard-go']!.push(await measureResponder('10.84.0.2', ports.wg, msgs));
      rates.sag!.push(await measureResponder('10.84.0.2', ports.sag, msgs));
    }
    const ref = median(rates['wireguard-go']!);
    const rows: Row[] = Object.entries(rates).map(([impl, r]) => ({
      responder: impl,
      'handshakes/s': median(r),
      'vs wireguard-go': median(r) / ref,
    }));
    printTable(
      `Handshakes completed per second by one responder (${PEERS} peers, ${WINDOW} outstanding, median of ${RUNS})`,
      rows,
    );
    writeJson('handshake-rate', rates);
    return rows;
  } finally {
    await ns.cleanup();
    spawnQuiet('ip', ['link', 'del', `hr${tag}`]);
    for (const d of Object.values(dev)) rmSync(`/var/run/wireguard/${d}.sock`, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

function spawnQuiet(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

async function floodCost(): Promise<Row[]> {
  const flood = fileURLToPath(new URL('./fixtures/junk-flood.mjs', import.meta.url));
  const rows: Row[] = [];
  const data: Record<string, { clean: number[]; flooded: number[]; junk: number[] }> = {};
  for (const bImpl of ['wireguard-go', 'sag-wg'] as const) {
    const topo = await buildInterop({ aMode: 'sag-up', bImpl });
    const d = (data[bImpl] = { clean: [] as number[], flooded: [] as number[], junk: [] as number[] });
    try {
      sh('ping', ['-c', '1', '-W', '2', IP_B], { ns: topo.nsA });
      const iperf = () => {
        const server = topo.namespaces.spawn(topo.nsB, 'iperf3', ['-s', '-1', '-B', IP_B]);
        execFileSync('sleep', ['0.3']);
        try {
          return JSON.parse(sh('iperf3', ['-c', IP_B, '-t', '5', '-J'], { ns: topo.nsA })).end.sum_received
            .bits_per_second as number;
        } finally {
          server.kill();
        }
      };
      for (let run = 0; run < RUNS; run++) {
        d.clean.push(iperf());
        const flooder = topo.namespaces.spawn(topo.nsA, process.execPath, [flood, UNDER_B, '51820', '6']);
        const sent = waitForLine(flooder, /^FLOOD /, 20000);
        d.flooded.push(iperf());
        d.junk.push(Number((await sent).slice(6)) / 6);
      }
    } finally {
      await topo.cleanup();
    }
    const clean = median(d.clean);
    const flooded = median(d.flooded);
    rows.push({
      receiver: bImpl,
      'clean Gbit/s': clean / 1e9,
      'flooded Gbit/s': flooded / 1e9,
      kept: flooded / clean,
      'junk/s sent': median(d.junk),
    });
  }
  printTable(
    `TCP through an established tunnel while junk initiations flood the receiver (iperf3 5 s, median of ${RUNS})`,
    rows,
  );
  writeJson('handshake-flood', data);
  return rows;
}

export async function runHandshake(): Promise<void> {
  const skip = e2eSkipReason(['ip', 'wg', 'wireguard-go', 'iperf3']);
  if (skip) {
    console.log(`\n(handshake benchmarks skipped: ${skip})`);
    return;
  }
  await handshakeRate();
  await floodCost();
}

if (import.meta.url === `file://${process.argv[1]}`) await runHandshake();
