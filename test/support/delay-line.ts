/**
 * One direction of an emulated link, without sockets: admission (cut, seeded random loss, queue
 * limit), then a release time from rate, delay and jitter, held in a min-heap until due. The UDP
 * relay (udp-relay.ts) puts one of these in each direction.
 *
 * Timing: a single timer is armed for the earliest release, never one per packet, and each firing
 * releases everything due. Node timers have 1 ms resolution and fire 0–1 ms late, so a packet
 * whose release time falls inside the next `earlyMs` is released now (trading a little earliness
 * for lateness centres the error on zero). `spinMs` > 0 polls with setImmediate for the last
 * `spinMs` before a release: sub-0.1 ms accuracy, but it burns a CPU while anything is queued, so
 * it is off by default (test machines have two cores).
 *
 * Measured (2-core machine, 1000 packets/s, error = actual - intended release time):
 *   default (earlyMs 0.5):  p50 +0.04..+0.2 ms, p95 +0.6..+0.9 ms, p99 +1.2..+3.8 ms, min -0.5 ms
 *   spinMs 1, earlyMs 0:    p50 +0.004 ms,     p95 +0.1..+0.4 ms, p99 +1.8..+2.5 ms, min 0
 * End to end through the relay on loopback, the tolerance test/unit/linkemu.test.ts asserts is
 * p50 within -0.6..+2 ms and p95 within +5 ms of the setting; the tail beyond is the host
 * (scheduling, GC, other processes), which no userspace timer can hide.
 */
import { performance } from 'node:perf_hooks';
import { mulberry32 } from './random.js';

export interface Impairment {
  /** Added one-way delay, ms. */
  delayMs: number;
  /** Uniform jitter: each packet's delay is delayMs ± jitterMs (never below 0). */
  jitterMs: number;
  /** Random loss, percent of packets (0–100), drawn from the seeded PRNG. */
  lossPct: number;
  /** If false (default) jitter never reorders: a packet is never released before its predecessor. */
  allowReorder: boolean;
  /** Bottleneck rate in kbit/s (serialization delay per packet, like tc's `rate`); 0 = unlimited. */
  rateKbit: number;
  /** Most packets held at once; more are dropped as 'queue' (a tail-drop buffer). */
  queueLimit: number;
  /** Drop everything arriving (the link is cut). */
  cut: boolean;
}

export const NO_IMPAIRMENT: Readonly<Impairment> = Object.freeze({
  delayMs: 0,
  jitterMs: 0,
  lossPct: 0,
  allowReorder: false,
  rateKbit: 0,
  queueLimit: 10000,
  cut: false,
});

/** Checks a patch (typically JSON from a test or stdin): unknown keys and bad values throw, so a typo fails loudly. */
export function validateImpairment(patch: unknown): Partial<Impairment> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
    throw new Error('impairment must be an object');
  const out: Partial<Impairment> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (!(k in NO_IMPAIRMENT)) throw new Error(`unknown impairment "${k}"`);
    const key = k as keyof Impairment;
    if (typeof NO_IMPAIRMENT[key] === 'boolean') {
      if (typeof v !== 'boolean') throw new Error(`${k} must be a boolean`);
    } else if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new Error(`${k} must be a number >= 0`);
    }
    if (key === 'lossPct' && (v as number) > 100) throw new Error('lossPct must be <= 100');
    (out as Record<string, unknown>)[key] = v;
  }
  return out;
}

export type DropReason = 'loss' | 'cut' | 'queue' | 'noClient' | 'sendError';

export interface LaneCounters {
  received: number;
  forwarded: number;
  bytesForwarded: number;
  dropped: Record<DropReason, number>;
  /** Packets currently held (delay, rate). */
  queued: number;
}

interface Held {
  at: number;
  n: number;
  data: Buffer;
}

/** Binary min-heap on (release time, arrival order): equal times leave in arrival order. */
class ReleaseHeap {
  readonly #a: Held[] = [];
  get size(): number {
    return this.#a.length;
  }
  peek(): Held | undefined {
    return this.#a[0];
  }
  static #less(x: Held, y: Held): boolean {
    return x.at < y.at || (x.at === y.at && x.n < y.n);
  }
  push(h: Held): void {
    const a = this.#a;
    a.push(h);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!ReleaseHeap.#less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Held | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && ReleaseHeap.#less(a[l]!, a[m]!)) m = l;
        if (r < a.length && ReleaseHeap.#less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
  clear(): Held[] {
    return this.#a.splice(0);
  }
}

export interface DelayLineOptions {
  seed?: number;
  /** Release packets due within this many ms now (see the file comment). Default 0.5, or 0 when spinning. */
  earlyMs?: number;
  /** Poll with setImmediate for the last spinMs before a release. Default 0 (off). */
  spinMs?: number;
  impairment?: Partial<Impairment>;
}

export class DelayLine {
  readonly counters: LaneCounters = {
    received: 0,
    forwarded: 0,
    bytesForwarded: 0,
    dropped: { loss: 0, cut: 0, queue: 0, noClient: 0, sendError: 0 },
    queued: 0,
  };
  #imp: Impairment;
  readonly #deliver: (data: Buffer) => void;
  // Separate streams so changing jitter does not shift the loss pattern, and vice versa.
  readonly #lossRng: () => number;
  readonly #jitterRng: () => number;
  readonly #heap = new ReleaseHeap();
  readonly #earlyMs: number;
  readonly #spinMs: number;
  #n = 0;
  #lastAt = 0;
  #linkFreeAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #armedFor = Infinity;
  #closed = false;

  constructor(deliver: (data: Buffer) => void, opts: DelayLineOptions = {}) {
    this.#deliver = deliver;
    const seed = opts.seed ?? 1;
    this.#lossRng = mulberry32(seed);
    this.#jitterRng = mulberry32(seed ^ 0x9e3779b9);
    this.#spinMs = opts.spinMs ?? 0;
    this.#earlyMs = opts.earlyMs ?? (this.#spinMs > 0 ? 0 : 0.5);
    this.#imp = { ...NO_IMPAIRMENT, ...validateImpairment(opts.impairment ?? {}) };
  }

  get impairment(): Impairment {
    return { ...this.#imp };
  }

  set(patch: Partial<Impairment>): void {
    this.#imp = { ...this.#imp, ...validateImpairment(patch) };
  }

  /** Drops everything held (e.g. a cut that also loses what is "on the wire"); returns how many. */
  flush(reason: DropReason = 'cut'): number {
    const dropped = this.#heap.clear().length;
    this.counters.dropped[reason] += dropped;
    this.counters.queued = 0;
    // The wire is empty now: later packets must not queue behind the ones just dropped.
    this.#lastAt = this.#linkFreeAt = 0;
    this.#disarm();
    return dropped;
  }

  /** Admits one packet; returns false if it was dropped at the door. */
  push(data: Buffer, now = performance.now()): boolean {
    if (this.#closed) return false;
    const c = this.counters;
    c.received++;
    const imp = this.#imp;
    if (imp.cut) return this.#drop('cut');
    if (imp.lossPct > 0 && this.#lossRng() * 100 < imp.lossPct) return this.#drop('loss');
    if (this.#heap.size >= imp.queueLimit) return this.#drop('queue');
    let at = now;
    if (imp.rateKbit > 0) {
      // Serialization: the packet leaves the bottleneck once the ones before it have.
      this.#linkFreeAt = Math.max(now, this.#linkFreeAt) + (data.length * 8) / imp.rateKbit;
      at = this.#linkFreeAt;
    }
    let delay = imp.delayMs;
    if (imp.jitterMs > 0) delay += (this.#jitterRng() * 2 - 1) * imp.jitterMs;
    at += Math.max(0, delay);
    if (!imp.allowReorder) at = Math.max(at, this.#lastAt);
    this.#lastAt = at;
    if (at <= now && this.#heap.size === 0) {
      // Nothing to wait for: deliver synchronously, no timer round trip.
      this.#release(data);
      return true;
    }
    this.#heap.push({ at, n: this.#n++, data });
    c.queued = this.#heap.size;
    this.#arm();
    return true;
  }

  close(): void {
    this.#closed = true;
    this.#heap.clear();
    this.counters.queued = 0;
    this.#disarm();
  }

  #drop(reason: DropReason): false {
    this.counters.dropped[reason]++;
    return false;
  }

  #release(data: Buffer): void {
    this.counters.forwarded++;
    this.counters.bytesForwarded += data.length;
    this.#deliver(data);
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = this.#immediate = undefined;
    this.#armedFor = Infinity;
  }

  #arm(): void {
    const head = this.#heap.peek();
    if (!head || this.#closed) return this.#disarm();
    if (this.#armedFor <= head.at) return; // an earlier wake-up is already due
    this.#disarm();
    this.#armedFor = head.at;
    const wait = head.at - performance.now() - this.#earlyMs;
    if (wait <= this.#spinMs) {
      this.#immediate = setImmediate(this.#fire);
    } else {
      // Node fires timers up to ~1 ms late, so aim a millisecond short when spinning takes over.
      this.#timer = setTimeout(this.#fire, Math.max(1, Math.round(wait - this.#spinMs)));
    }
  }

  readonly #fire = (): void => {
    this.#timer = this.#immediate = undefined;
    this.#armedFor = Infinity;
    const limit = performance.now() + this.#earlyMs;
    for (let h = this.#heap.peek(); h && h.at <= limit; h = this.#heap.peek()) {
      this.#heap.pop();
      this.#release(h.data);
    }
    this.counters.queued = this.#heap.size;
    this.#arm();
  };
}
