/**
 * A soak run (root): two sag gateways, each `sag up` in its own namespace, joined by two underlay
 * links (test/support/soak-gateways.ts: the branch has two [Uplink]s, the hub is reachable on
 * both). Probe traffic at a fixed rate through the tunnel for a set time, with forced rekeys every
 * few seconds (SAG_TEST_REKEY_AFTER_MS), while the preferred link flaps (test/support/flap.ts:
 * link down/up or an nftables blackhole on/off, every flapEveryMs for flapDownMs) so traffic fails
 * over to the other link and back; optionally short random-loss bursts on both links (nftables).
 * Every window it samples throughput, loss, the longest hole in the traffic, the RSS of both sag
 * processes, the handshakes seen, the uplink in use and the failovers/failbacks so far;
 * soak-verdict.ts judges the samples.
 */
import { sh } from './netns.js';
import { nsSpawner, ProbeReceiverChild, ProbeSenderChild } from './children.js';
import { wallNow } from './time.js';
import { Flapper, type FlapMode } from './flap.js';
import { nftBlackhole, nftLoss, type NftImpairment } from './nft.js';
import { FLAPPING, HUB_IP, linkDown, rssMb, startSoakGateways } from './soak-gateways.js';
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
  /** The preferred link goes down every flapEveryMs for flapDownMs (0 disables); how, by flapMode. */
  flapEveryMs: number;
  flapDownMs: number;
  flapMode: FlapMode;
  /** The branch's HoldDown: how long a path that came back must stay clean before traffic fails back, ms. */
  holdDownMs: number;
  /** A loss burst on both links starts every lossEveryMs and lasts lossBurstMs, dropping lossPct of packets; 0 disables. */
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
  flapEveryMs: 10_000,
  flapDownMs: 4_000,
  flapMode: 'alternate',
  holdDownMs: 2_000,
  lossEveryMs: 0,
  lossBurstMs: 2_000,
  lossPct: 30,
};

export interface SoakResult {
  options: SoakOptions;
  startedAt: string;
  samples: SoakSample[];
  verdict: SoakVerdict;
  /** Times the flapping link went down, by how. */
  flaps: { link: number; blackhole: number };
  /** Default-class moves of the branch: off the flapping link, and back onto it. */
  failovers: number;
  failbacks: number;
  lossBursts: number;
  /** Packets the loss bursts dropped (nft counters). */
  impairedDrops: number;
  sent: number;
}

/** Loss bursts on both links of the branch, every `everyMs` for `burstMs`. */
class LossBursts {
  #burst: NftImpairment[] | undefined;
  #timer: NodeJS.Timeout | undefined;
  #touched = false;
  count = 0;
  dropped = 0;

  constructor(
    readonly o: SoakOptions,
    readonly nsA: string,
    readonly devs: string[],
  ) {}

  start(): void {
    if (this.o.lossEveryMs <= 0) return;
    this.#timer = setInterval(() => {
      if (this.#burst) return;
      this.#burst = this.devs.map((d) => nftLoss(this.nsA, d, this.o.lossPct, 'both'));
      this.#touched = true;
      this.count++;
      setTimeout(() => this.#end(), this.o.lossBurstMs);
    }, this.o.lossEveryMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#end();
  }

  /** Whether a burst was on at any time since the last call. */
  takeTouched(): boolean {
    const t = this.#touched || this.#burst !== undefined;
    this.#touched = false;
    return t;
  }

  #end(): void {
    if (!this.#burst) return;
    this.#touched = true; // the window the burst ends in was impaired too
    for (const b of this.#burst) {
      this.dropped += b.dropped();
      b.remove();
    }
    this.#burst = undefined;
  }
}

/** Runs the soak; `onSample` sees each window as it ends (for a live table). */
export async function runSoak(
  options: SoakOptions,
  onSample: (s: SoakSample) => void = () => {},
): Promise<SoakResult> {
  const o = options;
  const startedAt = new Date().toISOString();
  const gw = await startSoakGateways(o.rekeyMs, o.holdDownMs);
  const flapper = new Flapper(
    { periodMs: o.flapEveryMs, downMs: o.flapDownMs, mode: o.flapMode },
    {
      link: () => linkDown(gw, 1),
      blackhole: () => {
        const hole = nftBlackhole(gw.nsA, gw.dev[1]);
        return () => hole.remove();
      },
    },
  );
  const bursts = new LossBursts(o, gw.nsA, [gw.dev[1], gw.dev[2]]);
  try {
    const rx = await ProbeReceiverChild.spawn({ host: HUB_IP, port: 0 }, nsSpawner(gw.ns, gw.nsB));
    const tx = await ProbeSenderChild.spawn(
      { host: HUB_IP, port: rx.port, ratePps: o.ratePps, size: o.size },
      nsSpawner(gw.ns, gw.nsA),
    );
    await gw.waitMultipath(20_000);
    await rx.reset(); // the run starts with traffic on the flapping link
    flapper.start();
    bursts.start();
    const samples: SoakSample[] = [];
    const handshakes = new Set<string>();
    const t0 = wallNow();
    let windowStart = t0;
    let lastSeq = -1;
    let lastSeqAt = t0;
    // Sampling takes a little time, so windows drift; a last sliver of a window would only add noise.
    while (o.durationMs - (wallNow() - t0) > o.sampleMs / 5) {
      await new Promise((r) => setTimeout(r, Math.min(o.sampleMs, o.durationMs - (wallNow() - t0))));
      const report = await rx.report();
      await rx.reset();
      const now = wallNow();
      const secs = (now - windowStart) / 1000;
      let gap = report.maxGap?.ms ?? 0;
      if (report.unique > 0) {
        // A hole across the window boundary, from sequence numbers at the fixed send rate.
        if (lastSeq >= 0 && report.firstSeq > lastSeq + 1)
          gap = Math.max(gap, ((report.firstSeq - lastSeq) * 1000) / o.ratePps);
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
        if (p.exitCode !== null || p.signalCode !== null)
          throw new Error(
            `${name} exited (${p.exitCode ?? p.signalCode}) during the soak: ${gw.logs[name]!().slice(-2000)}`,
          );
        rss[name] = rssMb(p.pid!);
      }
      const sample: SoakSample = {
        t: (now - t0) / 1000,
        mbps: (report.unique * o.size * 8) / secs / 1e6,
        lossPct: report.lossPct,
        maxGapMs: gap,
        rssMb: rss,
        handshakes: handshakes.size,
        impaired: bursts.takeTouched(),
        flapped: flapper.takeTouched(),
        activeUplink:
          (await gw.paths())
            .filter((p) => p.active)
            .map((p) => p.uplink)
            .join('+') || '-',
        failovers: gw.moves.failovers,
        failbacks: gw.moves.failbacks,
      };
      windowStart = now;
      samples.push(sample);
      onSample(sample);
    }
    flapper.stop();
    bursts.stop();
    const sent = (await tx.stop()).sent;
    await tx.close();
    await rx.close();
    // Every cut of the preferred link must move traffic off it and, once it is back, onto it again
    // (the last cut may fall too close to the end for either).
    const moves = o.flapEveryMs > 0 ? Math.max(1, flapper.total - 1) : 0;
    const verdict = judgeSoak(samples, {
      minHandshakes: Math.max(1, Math.floor(o.durationMs / o.rekeyMs / 3)),
      ...(moves ? { minFailovers: moves, minFailbacks: moves } : {}),
      ...o.verdict,
    });
    return {
      options: o,
      startedAt,
      samples,
      verdict,
      flaps: { ...flapper.cuts },
      failovers: gw.moves.failovers,
      failbacks: gw.moves.failbacks,
      lossBursts: bursts.count,
      impairedDrops: bursts.dropped,
      sent,
    };
  } finally {
    flapper.stop();
    bursts.stop();
    await gw.cleanup();
  }
}

/** The samples as a fixed-width table, one row per window. */
export function soakTableHeader(procs: readonly string[]): string {
  return [
    't s',
    'Mbit/s',
    'loss %',
    'gap ms',
    ...procs.map((p) => `${p} MB`),
    'handshakes',
    'on',
    'fail/back',
    'impaired',
  ]
    .map((h) => h.padStart(12))
    .join('');
}

export function soakTableRow(s: SoakSample): string {
  const marks = [s.flapped ? `${FLAPPING} flap` : '', s.impaired ? 'loss burst' : '']
    .filter(Boolean)
    .join(', ');
  const cells = [
    s.t.toFixed(0),
    s.mbps.toFixed(2),
    s.lossPct.toFixed(2),
    s.maxGapMs.toFixed(0),
    ...Object.values(s.rssMb).map((v) => v.toFixed(1)),
    String(s.handshakes),
    s.activeUplink ?? '-',
    `${s.failovers ?? 0}/${s.failbacks ?? 0}`,
    marks,
  ];
  return cells.map((c) => c.padStart(12)).join('');
}
