/**
 * UdpRelay: a userspace emulated link for one uplink. This kernel has no netem, so delay, jitter,
 * loss, rate and cuts are applied here: the "left" socket listens for the client (e.g. a branch's
 * WireGuard port), the "right" socket talks to the target (e.g. the hub); each direction has its
 * own DelayLine (delay-line.ts) with its own impairments and counters.
 *
 * The client is the source of the first datagram on the left (so replies have somewhere to go);
 * with `relearn` it follows the latest source instead, like WireGuard endpoint roaming. Replies
 * arriving on the right before any client is known are dropped as 'noClient'.
 *
 * Runs in-process, or in a namespace as a child via udp-relay-cli.ts (see children.ts).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import {
  DelayLine,
  NO_IMPAIRMENT,
  validateImpairment,
  type Impairment,
  type LaneCounters,
} from './delay-line.js';

export type { Impairment, LaneCounters } from './delay-line.js';

export type Direction = 'both' | 'leftToRight' | 'rightToLeft';

export interface Endpoint {
  host: string;
  port: number;
}

export interface UdpRelayOptions {
  /** Where the client sends; port 0 picks one (see `listenPort` after start). Host defaults to 0.0.0.0. */
  listen: { host?: string; port?: number };
  /** Where datagrams from the client go. */
  target: Endpoint;
  /** Local address of the right-hand socket; by default any address, an ephemeral port. */
  outBind?: { host?: string; port?: number };
  /** PRNG seed for loss and jitter (each direction derives its own stream). Default 1. */
  seed?: number;
  /** See DelayLineOptions.spinMs: sub-0.1 ms release accuracy at the cost of a busy CPU. */
  spinMs?: number;
  /** Follow the latest client source address instead of keeping the first. */
  relearn?: boolean;
  /** Applied to both directions, then the per-direction ones on top. */
  impairment?: Partial<Impairment>;
  leftToRight?: Partial<Impairment>;
  rightToLeft?: Partial<Impairment>;
}

export interface RelayCounters {
  leftToRight: LaneCounters;
  rightToLeft: LaneCounters;
  client: Endpoint | null;
}

/** Checks options from JSON (the CLI's argv) before any socket exists. */
export function validateRelayOptions(raw: unknown): UdpRelayOptions {
  if (typeof raw !== 'object' || raw === null) throw new Error('relay options must be an object');
  const o = raw as UdpRelayOptions;
  if (typeof o.listen !== 'object' || o.listen === null)
    throw new Error('listen: { host?, port? } is required');
  if (typeof o.target?.host !== 'string' || typeof o.target.port !== 'number')
    throw new Error('target: { host, port } is required');
  for (const k of ['impairment', 'leftToRight', 'rightToLeft'] as const)
    if (o[k] !== undefined) validateImpairment(o[k]);
  return o;
}

export class UdpRelay {
  readonly #opts: UdpRelayOptions;
  readonly #lanes: { leftToRight: DelayLine; rightToLeft: DelayLine };
  #left: Socket | undefined;
  #right: Socket | undefined;
  #client: Endpoint | null = null;
  #stopped = false;

  constructor(opts: UdpRelayOptions) {
    this.#opts = validateRelayOptions(opts);
    const seed = opts.seed ?? 1;
    const both = opts.impairment ?? {};
    const common = { ...(opts.spinMs !== undefined ? { spinMs: opts.spinMs } : {}) };
    this.#lanes = {
      leftToRight: new DelayLine((d) => this.#toTarget(d), {
        ...common,
        seed,
        impairment: { ...both, ...opts.leftToRight },
      }),
      rightToLeft: new DelayLine((d) => this.#toClient(d), {
        ...common,
        seed: (seed * 2654435761) >>> 0, // a different stream, so the two directions' losses are independent
        impairment: { ...both, ...opts.rightToLeft },
      }),
    };
  }

  async start(): Promise<{ listenPort: number; outPort: number }> {
    const { listen, target, outBind } = this.#opts;
    const listenHost = listen.host ?? '0.0.0.0';
    // A generous receive buffer so a busy event loop (GC, a test's own work) does not add kernel drops we would not count.
    const left = createSocket({ type: isIPv6(listenHost) ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
    const outHost = outBind?.host ?? (isIPv6(target.host) ? '::' : '0.0.0.0');
    const right = createSocket({ type: isIPv6(outHost) ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
    this.#left = left;
    this.#right = right;
    await Promise.all([bind(left, listenHost, listen.port ?? 0), bind(right, outHost, outBind?.port ?? 0)]);
    left.on('message', (msg, rinfo) => this.#fromClient(msg, rinfo));
    right.on('message', (msg) => this.#fromTarget(msg));
    // Sending errors (ENETUNREACH while a link is down, say) are counted, never thrown.
    left.on('error', () => undefined);
    right.on('error', () => undefined);
    return { listenPort: this.listenPort, outPort: this.outPort };
  }

  get listenPort(): number {
    return this.#left?.address().port ?? 0;
  }

  get outPort(): number {
    return this.#right?.address().port ?? 0;
  }

  /** Changes impairments at run time; omitted keys keep their values. */
  set(patch: Partial<Impairment>, dir: Direction = 'both'): void {
    const p = validateImpairment(patch);
    for (const lane of this.#select(dir)) lane.set(p);
  }

  impairment(dir: Exclude<Direction, 'both'>): Impairment {
    return this.#lanes[dir].impairment;
  }

  /** Drops everything from now on; with `flush`, also what is already held (in flight on the emulated wire). */
  cut(opts: { dir?: Direction; flush?: boolean } = {}): void {
    for (const lane of this.#select(opts.dir ?? 'both')) {
      lane.set({ cut: true });
      if (opts.flush) lane.flush('cut');
    }
  }

  restore(dir: Direction = 'both'): void {
    for (const lane of this.#select(dir)) lane.set({ cut: false });
  }

  /** Resets every impairment to none (delay 0, no loss, not cut). */
  clear(dir: Direction = 'both'): void {
    for (const lane of this.#select(dir)) lane.set({ ...NO_IMPAIRMENT });
  }

  counters(): RelayCounters {
    const copy = (c: LaneCounters): LaneCounters => ({ ...c, dropped: { ...c.dropped } });
    return {
      leftToRight: copy(this.#lanes.leftToRight.counters),
      rightToLeft: copy(this.#lanes.rightToLeft.counters),
      client: this.#client && { ...this.#client },
    };
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#lanes.leftToRight.close();
    this.#lanes.rightToLeft.close();
    await Promise.all(
      [this.#left, this.#right].map((s) => (s ? new Promise<void>((r) => s.close(() => r())) : undefined)),
    );
  }

  #select(dir: Direction): DelayLine[] {
    if (dir === 'both') return [this.#lanes.leftToRight, this.#lanes.rightToLeft];
    if (dir !== 'leftToRight' && dir !== 'rightToLeft') throw new Error(`unknown direction "${String(dir)}"`);
    return [this.#lanes[dir]];
  }

  #fromClient(msg: Buffer, rinfo: RemoteInfo): void {
    if (
      !this.#client ||
      (this.#opts.relearn && (this.#client.host !== rinfo.address || this.#client.port !== rinfo.port))
    ) {
      this.#client = { host: rinfo.address, port: rinfo.port };
    }
    this.#lanes.leftToRight.push(msg);
  }

  #fromTarget(msg: Buffer): void {
    const lane = this.#lanes.rightToLeft;
    if (!this.#client) {
      lane.counters.received++;
      lane.counters.dropped.noClient++;
      return;
    }
    lane.push(msg);
  }

  #toTarget(data: Buffer): void {
    const { host, port } = this.#opts.target;
    this.#send(this.#right, data, port, host, this.#lanes.leftToRight);
  }

  #toClient(data: Buffer): void {
    const c = this.#client;
    if (c) this.#send(this.#left, data, c.port, c.host, this.#lanes.rightToLeft);
  }

  #send(sock: Socket | undefined, data: Buffer, port: number, host: string, lane: DelayLine): void {
    if (!sock || this.#stopped) return;
    // The lane counted it as forwarded on release; a failed send moves it to dropped.sendError.
    const failed = (): void => {
      lane.counters.forwarded--;
      lane.counters.bytesForwarded -= data.length;
      lane.counters.dropped.sendError++;
    };
    try {
      sock.send(data, port, host, (err) => err && failed());
    } catch {
      failed();
    }
  }
}

function bind(sock: Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => {
      sock.off('error', reject);
      resolve();
    });
  });
}
