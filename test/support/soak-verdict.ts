/**
 * Judging a soak run from its samples, with no I/O: does memory keep growing, did traffic stall?
 *
 * Memory: a least-squares line through each process's RSS over the second half of the run (the
 * first half holds start-up, JIT warm-up and the heap finding its size). The run fails when that
 * line rises by more than the allowance over the second half: max(allowMb, allowPct of the level).
 * A garbage-collector sawtooth has no slope; a leak of a few hundred KB a second does.
 *
 * Stall: any hole in the probe traffic longer than maxStallMs (sender clock), including holes that
 * straddle two sampling windows (from sequence numbers: the sender sends at a fixed rate).
 *
 * Moves: with a flapping link, too few failovers or failbacks mean the flapping never moved the
 * traffic, and the run proves nothing about failover under load.
 */

export interface SoakSample {
  /** Seconds since traffic started, at the end of this window. */
  t: number;
  /** Received throughput in this window, Mbit/s. */
  mbps: number;
  /** Packets lost in this window (sequence holes), percent. */
  lossPct: number;
  /** Longest hole in this window or between it and the previous one, ms. */
  maxGapMs: number;
  /** Resident set size of each gateway process, MB. */
  rssMb: Record<string, number>;
  /** Handshakes completed so far (distinct latest-handshake times seen on one side). */
  handshakes: number;
  /** A loss burst was active at some point in this window. */
  impaired: boolean;
  /** The flapping link was down at some point in this window. */
  flapped?: boolean;
  /** Uplink(s) carrying the default class at the end of the window ("-": none). */
  activeUplink?: string;
  /** Moves of the default class so far: off the flapping link, and back onto it. */
  failovers?: number;
  failbacks?: number;
}

export interface MemoryTrend {
  /** Slope of the fitted line over the second half, MB per minute. */
  mbPerMin: number;
  /** Rise of the fitted line across the second half, MB. */
  growthMb: number;
  /** Median RSS over the second half, MB. */
  levelMb: number;
  allowedMb: number;
  growing: boolean;
}

export interface SoakVerdict {
  ok: boolean;
  reasons: string[];
  memory: Record<string, MemoryTrend>;
  maxGapMs: number;
}

export interface VerdictOptions {
  maxStallMs?: number;
  allowMb?: number;
  allowPct?: number;
  /** Fewest handshakes the run must have seen (forced rekeys happened). */
  minHandshakes?: number;
  /** Fewest failovers and failbacks (the flapping link moved the traffic). */
  minFailovers?: number;
  minFailbacks?: number;
}

/** Least-squares slope of y over x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}

export function memoryTrend(
  samples: readonly SoakSample[],
  proc: string,
  opts: VerdictOptions = {},
): MemoryTrend {
  const half = samples.slice(Math.floor(samples.length / 2)).filter((s) => proc in s.rssMb);
  const xs = half.map((s) => s.t);
  const ys = half.map((s) => s.rssMb[proc]!);
  const perSec = slope(xs, ys);
  const span = xs.length ? xs.at(-1)! - xs[0]! : 0;
  const levelMb = median(ys);
  const allowedMb = Math.max(opts.allowMb ?? 16, ((opts.allowPct ?? 10) / 100) * levelMb);
  const growthMb = perSec * span;
  return { mbPerMin: perSec * 60, growthMb, levelMb, allowedMb, growing: growthMb > allowedMb };
}

export function judgeSoak(samples: readonly SoakSample[], opts: VerdictOptions = {}): SoakVerdict {
  const reasons: string[] = [];
  const maxStall = opts.maxStallMs ?? 1000;
  if (samples.length < 4) reasons.push(`only ${samples.length} samples: too short to judge`);
  const maxGapMs = Math.max(0, ...samples.map((s) => s.maxGapMs));
  for (const s of samples) {
    if (s.maxGapMs > maxStall)
      reasons.push(
        `traffic stalled for ${Math.round(s.maxGapMs)} ms in the window ending at ${s.t.toFixed(0)} s`,
      );
    if (s.mbps === 0) reasons.push(`no traffic at all in the window ending at ${s.t.toFixed(0)} s`);
  }
  const procs = [...new Set(samples.flatMap((s) => Object.keys(s.rssMb)))];
  const memory: Record<string, MemoryTrend> = {};
  for (const p of procs) {
    const m = (memory[p] = memoryTrend(samples, p, opts));
    if (m.growing)
      reasons.push(
        `${p}: RSS keeps growing, ${m.growthMb.toFixed(1)} MB over the second half (${m.mbPerMin.toFixed(2)} MB/min; allowed ${m.allowedMb.toFixed(1)} MB)`,
      );
  }
  const handshakes = samples.at(-1)?.handshakes ?? 0;
  if (opts.minHandshakes !== undefined && handshakes < opts.minHandshakes)
    reasons.push(`only ${handshakes} handshakes; forced rekeys expected at least ${opts.minHandshakes}`);
  for (const kind of ['failovers', 'failbacks'] as const) {
    const want = kind === 'failovers' ? opts.minFailovers : opts.minFailbacks;
    const seen = samples.at(-1)?.[kind] ?? 0;
    if (want !== undefined && seen < want)
      reasons.push(`only ${seen} ${kind}; the flapping link should have caused at least ${want}`);
  }
  return { ok: reasons.length === 0, reasons, memory, maxGapMs };
}
