/**
 * Probe traffic: sequence-numbered UDP at a fixed rate, and a receiver that turns what arrived
 * into loss, duplicates, reordering, per-second throughput and, above all, the outage when a path
 * is cut: the longest hole between consecutive received sequence numbers, measured on the
 * sender's timestamps (so the receiver's own scheduling hiccups do not count; the receive-side
 * gap is reported beside it).
 *
 * Wire format (big-endian): magic u32 "SAGP", flow u32, seq u32, reserved u32, send time f64
 * (wallNow() ms), padding to `size` bytes.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { wallNow } from './time.js';

export const PROBE_MAGIC = 0x53414750;
export const PROBE_HEADER = 24;

export function encodeProbe(flow: number, seq: number, sendTs: number, size = 64): Buffer {
  const b = Buffer.alloc(Math.max(PROBE_HEADER, size));
  b.writeUInt32BE(PROBE_MAGIC, 0);
  b.writeUInt32BE(flow >>> 0, 4);
  b.writeUInt32BE(seq >>> 0, 8);
  b.writeDoubleBE(sendTs, 16);
  return b;
}

export function decodeProbe(b: Buffer): { flow: number; seq: number; sendTs: number } | undefined {
  if (b.length < PROBE_HEADER || b.readUInt32BE(0) !== PROBE_MAGIC) return undefined;
  return { flow: b.readUInt32BE(4), seq: b.readUInt32BE(8), sendTs: b.readDoubleBE(16) };
}

export interface ProbeSenderOptions {
  host: string;
  port: number;
  /** Packets per second. Default 1000 (1 ms resolution on outages). */
  ratePps?: number;
  /** Datagram size in bytes (>= 24). Default 64. */
  size?: number;
  /** Stop after this long, or after `count` packets; without either, run until stop(). */
  durationMs?: number;
  count?: number;
  flowId?: number;
  bind?: { host?: string; port?: number };
}

export interface SenderStats {
  sent: number;
  sendErrors: number;
  firstSendTs: number;
  lastSendTs: number;
  ratePps: number;
}

export class ProbeSender {
  readonly #o: Required<Omit<ProbeSenderOptions, 'durationMs' | 'count' | 'bind'>> & { limit: number };
  readonly #bind: { host?: string; port?: number } | undefined;
  #sock: Socket | undefined;
  #t0 = 0;
  #sent = 0;
  #errors = 0;
  #first = 0;
  #last = 0;
  #timer: NodeJS.Timeout | undefined;
  #finished = false;
  #resolveDone!: (s: SenderStats) => void;
  /** Resolves when the sender has stopped (limit reached or stop()). */
  readonly done: Promise<SenderStats> = new Promise((r) => (this.#resolveDone = r));

  constructor(o: ProbeSenderOptions) {
    const ratePps = o.ratePps ?? 1000;
    if (!(ratePps > 0)) throw new Error('ratePps must be > 0');
    const limit =
      o.count ?? (o.durationMs !== undefined ? Math.round((o.durationMs * ratePps) / 1000) : Infinity);
    this.#o = { host: o.host, port: o.port, ratePps, size: o.size ?? 64, flowId: o.flowId ?? 0, limit };
    this.#bind = o.bind;
  }

  async start(): Promise<number> {
    const host = this.#bind?.host ?? (isIPv6(this.#o.host) ? '::' : '0.0.0.0');
    const sock = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', sendBufferSize: 4 << 20 });
    this.#sock = sock;
    sock.on('error', () => undefined); // send errors are counted per packet
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.#bind?.port ?? 0, host, () => (sock.off('error', reject), resolve()));
    });
    this.#t0 = performance.now();
    this.#tick();
    return sock.address().port;
  }

  stats(): SenderStats {
    return {
      sent: this.#sent,
      sendErrors: this.#errors,
      firstSendTs: this.#first,
      lastSendTs: this.#last,
      ratePps: this.#o.ratePps,
    };
  }

  async stop(): Promise<SenderStats> {
    this.#finish();
    return this.done;
  }

  // Sends every packet due by now (catching up after a late timer keeps the average rate), then
  // sleeps until the next one is due. Timestamps are taken per packet at the actual send.
  readonly #tick = (): void => {
    this.#timer = undefined;
    if (this.#finished) return;
    const { ratePps, limit, flowId, size, port, host } = this.#o;
    const due = Math.min(limit, Math.floor(((performance.now() - this.#t0) * ratePps) / 1000) + 1);
    while (this.#sent < due) {
      const ts = wallNow();
      if (this.#sent === 0) this.#first = ts;
      this.#last = ts;
      const pkt = encodeProbe(flowId, this.#sent++, ts, size);
      try {
        this.#sock!.send(pkt, port, host, (err) => err && this.#errors++);
      } catch {
        this.#errors++;
      }
    }
    if (this.#sent >= limit) return this.#finish();
    const next = this.#t0 + (this.#sent * 1000) / ratePps;
    this.#timer = setTimeout(this.#tick, Math.max(1, Math.floor(next - performance.now())));
  };

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#timer) clearTimeout(this.#timer);
    const sock = this.#sock;
    // Let queued sends drain before closing, so the last packets are not lost to our own close.
    const done = () => this.#resolveDone(this.stats());
    if (sock) setTimeout(() => sock.close(done), 20);
    else done();
  }
}

export interface ProbeSample {
  seq: number;
  sendTs: number;
  recvTs: number;
  size: number;
}

export interface ProbeGap {
  /** Last sequence number received before the hole and first after it. */
  fromSeq: number;
  toSeq: number;
  lost: number;
  /** Sender-clock time between those two packets (a clean cut of C ms at 1000 pps gives about C + 1). */
  ms: number;
  /** Receiver-clock time between them (adds any change in path delay, e.g. a switch to a slower uplink). */
  recvMs: number;
  startTs: number;
  endTs: number;
}

export interface ProbeOutage extends ProbeGap {
  /** From the cut to the first packet (by send time) that got through afterwards. */
  sinceCutMs: number;
  /** False if nothing sent after the cut arrived (the gap runs to the sender's last packet). */
  recovered: boolean;
}

export interface ReportOptions {
  /** Wall-clock ms (wallNow) of the cut: the outage is the longest hole ending after it. */
  cutAtMs?: number;
  /** Only holes starting before cutAtMs + windowMs count (keeps later random loss out). */
  windowMs?: number;
  /** The sender's stats, so losses at the tail (a path that never came back) count. */
  sent?: Pick<SenderStats, 'sent' | 'lastSendTs'>;
}

export interface ProbeReport {
  received: number;
  unique: number;
  duplicates: number;
  /** Packets that arrived after a higher sequence number had. */
  reordered: number;
  firstSeq: number;
  lastSeq: number;
  expected: number;
  lost: number;
  lossPct: number;
  /** Bins of one second of receive time, from the first packet received. */
  perSecond: { second: number; packets: number; kbit: number }[];
  /** One-way delay (sender clock to receiver clock; both are this host's wall clock). */
  latency: { p50: number; p95: number; max: number } | null;
  /** The longest hole anywhere. */
  maxGap: ProbeGap | null;
  /** Present when cutAtMs was given; ms 0 and lost 0 if nothing was lost after the cut. */
  outage?: ProbeOutage;
}

export function analyzeProbe(samples: readonly ProbeSample[], opts: ReportOptions = {}): ProbeReport {
  const seen = new Map<number, ProbeSample>();
  let duplicates = 0;
  let reordered = 0;
  let maxSeen = -1;
  for (const s of samples) {
    if (seen.has(s.seq)) {
      duplicates++;
      continue;
    }
    seen.set(s.seq, s);
    if (s.seq < maxSeen) reordered++;
    else maxSeen = s.seq;
  }
  const uniq = [...seen.values()].sort((a, b) => a.seq - b.seq);
  const firstSeq = uniq[0]?.seq ?? -1;
  const lastSeq = uniq.at(-1)?.seq ?? -1;
  // The sender numbers from 0, so with its stats the expected count is exact; without them,
  // holes before the first and after the last packet received are invisible.
  const expected = opts.sent ? opts.sent.sent : uniq.length ? lastSeq - firstSeq + 1 : 0;
  const lost = Math.max(0, expected - uniq.length);

  const gaps: ProbeGap[] = [];
  for (let i = 1; i < uniq.length; i++) {
    const a = uniq[i - 1]!;
    const b = uniq[i]!;
    if (b.seq - a.seq > 1) gaps.push(gapOf(a, b));
  }
  const maxGap = gaps.reduce<ProbeGap | null>((m, g) => (!m || g.ms > m.ms ? g : m), null);

  const report: ProbeReport = {
    received: samples.length,
    unique: uniq.length,
    duplicates,
    reordered,
    firstSeq,
    lastSeq,
    expected,
    lost,
    lossPct: expected ? (100 * lost) / expected : 0,
    perSecond: perSecond(samples),
    latency: latency(uniq),
    maxGap,
  };

  if (opts.cutAtMs !== undefined) {
    const cut = opts.cutAtMs;
    const horizon = cut + (opts.windowMs ?? Infinity);
    const candidates: ProbeOutage[] = gaps
      .filter((g) => g.endTs >= cut && g.startTs <= horizon)
      .map((g) => ({ ...g, sinceCutMs: g.endTs - cut, recovered: true }));
    const last = uniq.at(-1);
    if (opts.sent && last && last.seq < opts.sent.sent - 1 && last.sendTs <= horizon) {
      // Nothing after `last` arrived: the hole runs to the end of sending.
      const end = opts.sent.lastSendTs;
      candidates.push({
        fromSeq: last.seq,
        toSeq: opts.sent.sent,
        lost: opts.sent.sent - 1 - last.seq,
        ms: end - last.sendTs,
        recvMs: NaN,
        startTs: last.sendTs,
        endTs: end,
        sinceCutMs: end - cut,
        recovered: false,
      });
    }
    report.outage = candidates.reduce<ProbeOutage>((m, g) => (g.ms > m.ms ? g : m), {
      fromSeq: -1,
      toSeq: -1,
      lost: 0,
      ms: 0,
      recvMs: 0,
      startTs: cut,
      endTs: cut,
      sinceCutMs: 0,
      recovered: true,
    });
  }
  return report;
}

function gapOf(a: ProbeSample, b: ProbeSample): ProbeGap {
  return {
    fromSeq: a.seq,
    toSeq: b.seq,
    lost: b.seq - a.seq - 1,
    ms: b.sendTs - a.sendTs,
    recvMs: b.recvTs - a.recvTs,
    startTs: a.sendTs,
    endTs: b.sendTs,
  };
}

function perSecond(samples: readonly ProbeSample[]): ProbeReport['perSecond'] {
  if (!samples.length) return [];
  const t0 = samples.reduce((m, s) => Math.min(m, s.recvTs), Infinity); // no spread: 10^5 arguments would overflow the stack
  const bins: ProbeReport['perSecond'] = [];
  for (const s of samples) {
    const i = Math.floor((s.recvTs - t0) / 1000);
    while (bins.length <= i) bins.push({ second: bins.length, packets: 0, kbit: 0 });
    bins[i]!.packets++;
    bins[i]!.kbit += (s.size * 8) / 1000;
  }
  return bins;
}

function latency(uniq: readonly ProbeSample[]): ProbeReport['latency'] {
  if (!uniq.length) return null;
  const d = uniq.map((s) => s.recvTs - s.sendTs).sort((a, b) => a - b);
  const q = (p: number) => d[Math.min(d.length - 1, Math.floor(p * d.length))]!;
  return { p50: q(0.5), p95: q(0.95), max: d.at(-1)! };
}

export interface ProbeReceiverOptions {
  host?: string;
  port?: number;
  /** Only this flow counts; others are ignored. Default: any flow. */
  flowId?: number;
}

export class ProbeReceiver {
  readonly #o: ProbeReceiverOptions;
  #sock: Socket | undefined;
  #samples: ProbeSample[] = [];
  /** Datagrams that were not probes of our flow. */
  ignored = 0;

  constructor(o: ProbeReceiverOptions = {}) {
    this.#o = o;
  }

  async start(): Promise<number> {
    const host = this.#o.host ?? '0.0.0.0';
    const sock = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
    this.#sock = sock;
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.#o.port ?? 0, host, () => (sock.off('error', reject), resolve()));
    });
    sock.on('message', (msg) => {
      const recvTs = wallNow();
      const p = decodeProbe(msg);
      if (!p || (this.#o.flowId !== undefined && p.flow !== this.#o.flowId)) {
        this.ignored++;
        return;
      }
      this.#samples.push({ seq: p.seq, sendTs: p.sendTs, recvTs, size: msg.length });
    });
    return sock.address().port;
  }

  get port(): number {
    return this.#sock?.address().port ?? 0;
  }

  get count(): number {
    return this.#samples.length;
  }

  get samples(): readonly ProbeSample[] {
    return this.#samples;
  }

  reset(): void {
    this.#samples = [];
    this.ignored = 0;
  }

  report(opts: ReportOptions = {}): ProbeReport {
    return analyzeProbe(this.#samples, opts);
  }

  async stop(): Promise<void> {
    const sock = this.#sock;
    this.#sock = undefined;
    if (sock) await new Promise<void>((r) => sock.close(() => r()));
  }
}
