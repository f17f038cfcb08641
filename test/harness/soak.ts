/**
 * A soak run (root): two sag gateways, each `sag up` in its own namespace, joined by veth; probe
 * traffic at a fixed rate through the tunnel for a set time, with forced rekeys every few seconds
 * (SAG_TEST_REKEY_AFTER_MS) and short random-loss bursts on the underlay (nftables). Every window
 * it samples throughput, loss, the longest hole in the traffic, the RSS of both sag processes and
 * the handshakes seen; soak-verdict.ts judges the samples.
 *
 *   ns hds<tag>a: sag up hdsa<tag> 10.84.0.1/24 ── veth 10.83.0.1/29 ─┬─ 10.83.0.2/29 ── ns hds<tag>b: sag up hdsb<tag> 10.84.0.2/24
 *                 probe sender ──────────────────────────── (nft loss bursts on A's veth) ───────────── probe receiver
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAG } from '../helpers/interop.js';
import { Namespaces, sh, uniqueTag } from '../helpers/netns.js';
import { waitFor } from '../helpers/wait.js';
import { nsSpawner, ProbeReceiverChild, ProbeSenderChild } from './children.js';
import { wallNow } from './clock.js';
import { nftLoss, type NftImpairment } from './nft.js';
import { judgeSoak, type SoakSample, type SoakVerdict, type VerdictOptions } from './soak-verdict.js';

export interface SoakOptions {
  durationMs: number;
  /** Sampling window. */
  sampleMs: number;
  ratePps: number;
  /** Probe datagram size, bytes (inner UDP payload). */
  size: number;
  /** Forced rekey interval of both gateways. */
  rekeyMs: number;
  /** A loss burst starts every lossEveryMs and lasts lossBurstMs, dropping lossPct of packets; 0 disables. */
  lossEveryMs: number;
  lossBurstMs: number;
  lossPct: number;
  verdict?: VerdictOptions;
}

export const DEFAULT_SOAK: SoakOptions = {
  durationMs: 10 * 60_000,
  sampleMs: 5_000,
  ratePps: 2_000,
  size: 1_200,
  rekeyMs: 4_000,
  lossEveryMs: 20_000,
  lossBurstMs: 2_000,
  lossPct: 30,
};

export interface SoakResult {
  options: SoakOptions;
  startedAt: string;
  samples: SoakSample[];
  verdict: SoakVerdict;
  lossBursts: number;
  /** Packets the loss bursts dropped (nft counters). */
  impairedDrops: number;
  sent: number;
}

const key = () => execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
const pub = (k: string) => execFileSync('wg', ['pubkey'], { input: k, encoding: 'utf8' }).trim();

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Gateways {
  ns: Namespaces;
  nsA: string;
  nsB: string;
  ifA: string;
  vethA: string;
  procs: Record<string, ChildProcess>;
  logs: Record<string, () => string>;
  cleanup(): Promise<void>;
}

/** Two `sag up` gateways in two namespaces, tunnel 10.84.0.1 <-> 10.84.0.2 over veth 10.83.0.0/29. */
async function startGateways(rekeyMs: number): Promise<Gateways> {
  const tag = uniqueTag();
  const ns = new Namespaces();
  const dir = mkdtempSync(join(tmpdir(), 'hd-soak-'));
  const ifs = { a: `hdsa${tag}`, b: `hdsb${tag}` };
  const cleanup = async () => {
    await ns.cleanup();
    for (const i of Object.values(ifs)) rmSync(`/var/run/wireguard/${i}.sock`, { force: true });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const nsA = ns.add(`hds${tag}a`);
    const nsB = ns.add(`hds${tag}b`);
    const vethA = `hdva${tag}`;
    ns.link({ ns: nsA, dev: vethA, addr: '10.83.0.1/29' }, { ns: nsB, dev: `hdvb${tag}`, addr: '10.83.0.2/29' });
    const [ka, kb] = [key(), key()];
    const conf = (side: 'a' | 'b') => {
      const file = join(dir, `${ifs[side]}.conf`);
      const [own, other, addr, peerIp, endpoint] = side === 'a' ? [ka, kb, '10.84.0.1', '10.84.0.2', 'Endpoint = 10.83.0.2:51820'] : [kb, ka, '10.84.0.2', '10.84.0.1', ''];
      writeFileSync(file, `[Interface]\nPrivateKey = ${own}\nListenPort = 51820\nAddress = ${addr}/24\n\n[Peer]\nPublicKey = ${pub(other)}\nAllowedIPs = ${peerIp}/32\n${endpoint}\n`, { mode: 0o600 });
      return file;
    };
    const procs: Record<string, ChildProcess> = {};
    const logs: Record<string, () => string> = {};
    for (const [side, n] of [['b', nsB], ['a', nsA]] as const) {
      const child = ns.spawn(n, 'env', [`SAG_TEST_REKEY_AFTER_MS=${rekeyMs}`, process.execPath, SAG, 'up', conf(side)]);
      let err = '';
      child.stderr!.on('data', (d) => (err = (err + String(d)).slice(-20_000)));
      child.stdout!.resume();
      if (!(await waitFor(() => / is up: /.test(err) || child.exitCode !== null, 20_000, 50)) || child.exitCode !== null) {
        throw new Error(`sag up (${side}) did not come up: ${err}`);
      }
      procs[`sag-${side}`] = child;
      logs[`sag-${side}`] = () => err;
    }
    return { ns, nsA, nsB, ifA: ifs.a, vethA, procs, logs, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Runs the soak; `onSample` sees each window as it ends (for a live table). */
export async function runSoak(options: SoakOptions, onSample: (s: SoakSample) => void = () => {}): Promise<SoakResult> {
  const o = options;
  const startedAt = new Date().toISOString();
  const gw = await startGateways(o.rekeyMs);
  let burst: NftImpairment | undefined;
  let burstTimer: NodeJS.Timeout | undefined;
  let lossBursts = 0;
  let impairedDrops = 0;
  let impairedInWindow = false;
  const endBurst = () => {
    if (!burst) return;
    impairedInWindow = true; // the window the burst ends in was impaired too
    impairedDrops += burst.dropped();
    burst.remove();
    burst = undefined;
  };
  try {
    const rx = await ProbeReceiverChild.spawn({ host: '10.84.0.2', port: 0 }, nsSpawner(gw.ns, gw.nsB));
    const tx = await ProbeSenderChild.spawn({ host: '10.84.0.2', port: rx.port, ratePps: o.ratePps, size: o.size }, nsSpawner(gw.ns, gw.nsA));
    if (o.lossEveryMs > 0) {
      burstTimer = setInterval(() => {
        if (burst) return;
        burst = nftLoss(gw.nsA, gw.vethA, o.lossPct, 'both');
        impairedInWindow = true;
        lossBursts++;
        setTimeout(endBurst, o.lossBurstMs);
      }, o.lossEveryMs);
    }
    const samples: SoakSample[] = [];
    const handshakes = new Set<string>();
    const t0 = wallNow();
    let windowStart = t0;
    let lastSeq = -1;
    let lastSeqAt = t0;
    while (wallNow() - t0 < o.durationMs) {
      await new Promise((r) => setTimeout(r, Math.min(o.sampleMs, o.durationMs - (wallNow() - t0))));
      const report = await rx.report();
      await rx.reset();
      const now = wallNow();
      const secs = (now - windowStart) / 1000;
      let gap = report.maxGap?.ms ?? 0;
      if (report.unique > 0) {
        // A hole across the window boundary, from sequence numbers at the fixed send rate.
        if (lastSeq >= 0 && report.firstSeq > lastSeq + 1) gap = Math.max(gap, ((report.firstSeq - lastSeq) * 1000) / o.ratePps);
        lastSeq = report.lastSeq;
        lastSeqAt = now;
      } else {
        gap = Math.max(gap, now - lastSeqAt);
      }
      for (const line of sh('wg', ['show', gw.ifA, 'latest-handshakes'], { ns: gw.nsA }).trim().split('\n')) {
        const at = line.split('\t')[1];
        if (at && at !== '0') handshakes.add(at);
      }
      const rss: Record<string, number> = {};
      for (const [name, p] of Object.entries(gw.procs)) {
        if (p.exitCode !== null || p.signalCode !== null) throw new Error(`${name} exited (${p.exitCode ?? p.signalCode}) during the soak: ${gw.logs[name]!().slice(-2000)}`);
        rss[name] = rssMb(p.pid!);
      }
      const sample: SoakSample = {
        t: (now - t0) / 1000,
        mbps: (report.unique * o.size * 8) / secs / 1e6,
        lossPct: report.lossPct,
        maxGapMs: gap,
        rssMb: rss,
        handshakes: handshakes.size,
        impaired: impairedInWindow || burst !== undefined,
      };
      impairedInWindow = false;
      windowStart = now;
      samples.push(sample);
      onSample(sample);
    }
    clearInterval(burstTimer);
    endBurst();
    const sent = (await tx.stop()).sent;
    await tx.close();
    await rx.close();
    const verdict = judgeSoak(samples, {
      minHandshakes: Math.max(1, Math.floor(o.durationMs / o.rekeyMs / 3)),
      ...o.verdict,
    });
    return { options: o, startedAt, samples, verdict, lossBursts, impairedDrops, sent };
  } finally {
    clearInterval(burstTimer);
    endBurst();
    await gw.cleanup();
  }
}

/** The samples as a fixed-width table, one row per window. */
export function soakTableHeader(procs: readonly string[]): string {
  return ['t s', 'Mbit/s', 'loss %', 'gap ms', ...procs.map((p) => `${p} MB`), 'handshakes', 'impaired'].map((h) => h.padStart(12)).join('');
}

export function soakTableRow(s: SoakSample): string {
  const cells = [s.t.toFixed(0), s.mbps.toFixed(2), s.lossPct.toFixed(2), s.maxGapMs.toFixed(0), ...Object.values(s.rssMb).map((v) => v.toFixed(1)), String(s.handshakes), s.impaired ? 'loss burst' : ''];
  return cells.map((c) => c.padStart(12)).join('');
}
