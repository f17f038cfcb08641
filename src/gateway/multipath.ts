/**
 * Multipath for the Gateway: named uplinks, the paths of each peer (uplink x endpoint), the probe
 * timer, and the glue between the pure path logic (src/paths) and the dataplane: probes out,
 * replies in, selection tables down, path events up. Everything per packet stays native.
 *
 * A peer gets paths when it has several endpoints or the gateway has named uplinks. It stays plain
 * WireGuard (roaming endpoint, keepalive, no table) until it answers a probe.
 */
import type { Dataplane } from '../dataplane/dataplane.js';
import type { Endpoint } from '../dataplane/types.js';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { MAX_CLASSES, MAX_PATHS, toRawSelection } from '../dataplane/selection.js';
import { PeerPaths } from '../paths/peer-paths.js';
import {
  defaultPathOptions,
  type PathEvent,
  type PathOptions,
  type PathSpec,
  type PathStatus,
  type TrafficClass,
  type UplinkLinkReason,
} from '../paths/types.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { parseIntInRange, parseInterfaceName, parsePort } from '../util/parse.js';
import { parseAddress } from '../net/validate.js';

export interface UplinkSpec {
  /** Unique name, e.g. "wan1", "lte". */
  name: string;
  /** Local address to send from (and bind); default 0.0.0.0, or :: with an IPv6-only setup. */
  address?: string;
  /** Bind the socket to this device (SO_BINDTODEVICE). */
  device?: string;
  /** Local UDP port; 0 (default) lets the kernel choose. */
  port?: number;
  /** Smaller wins in active-standby. Default 100, or 1000 for a metered uplink (LTE goes last). */
  priority?: number;
  /** Share among equal priorities and in weighted load balancing, 1..65535 (default 1). */
  weight?: number;
  /** Metered (LTE): probed at the standby rate until it carries traffic. */
  metered?: boolean;
  /** Informational, Mbit/s. */
  bandwidthMbps?: number;
}

/** What of an uplink may change while it runs (updateUplink). */
export type UplinkPolicy = Partial<Pick<UplinkSpec, 'priority' | 'weight' | 'metered'>>;

export interface UplinkStatus extends Required<Omit<UplinkSpec, 'device' | 'bandwidthMbps'>> {
  id: number;
  device?: string;
  bandwidthMbps?: number;
}

/** A peer endpoint, optionally tied to one uplink (otherwise every uplink of its family reaches it). */
export interface PeerEndpoint extends Endpoint {
  uplink?: string;
}

export interface MultipathHost {
  dataplane: Dataplane;
  clock: Clock;
  log: Logger;
  /** The listening uplink: the one path when there are no named uplinks. */
  mainUplink: () => { id: number; address: string };
  emit: (event: string, payload: object) => void;
  /** Every path of a multipath-capable peer stopped answering probes (see PeerTimers.onPathsDead). */
  pathsDead?: (publicKey: string) => void;
}

interface PeerState {
  endpoints: PeerEndpoint[];
  paths: PeerPaths;
  ids: Map<string, number>;
  nextId: number;
}

export function parseUplinkSpec(spec: UplinkSpec): UplinkStatus {
  if (spec === null || typeof spec !== 'object') throw new InvalidArgumentError('uplink must be an object');
  if (typeof spec.name !== 'string' || !/^[A-Za-z0-9_.-]{1,32}$/.test(spec.name)) {
    throw new InvalidArgumentError(
      `uplink name must be 1..32 of [A-Za-z0-9_.-], got ${JSON.stringify(spec.name)}`,
    );
  }
  const metered = spec.metered ?? false;
  if (typeof metered !== 'boolean')
    throw new InvalidArgumentError(`uplink ${spec.name}: metered must be a boolean`);
  const out: UplinkStatus = {
    id: 0,
    name: spec.name,
    address:
      spec.address === undefined
        ? '0.0.0.0'
        : parseAddress(spec.address, `uplink ${spec.name} address`).address,
    port: spec.port === undefined ? 0 : parsePort(spec.port, `uplink ${spec.name} port`, true),
    priority:
      spec.priority === undefined
        ? metered
          ? 1000
          : 100
        : parseIntInRange(spec.priority, `uplink ${spec.name} priority`, 0, 65535),
    weight:
      spec.weight === undefined ? 1 : parseIntInRange(spec.weight, `uplink ${spec.name} weight`, 1, 65535),
    metered,
  };
  if (spec.device !== undefined) out.device = parseInterfaceName(spec.device, `uplink ${spec.name} device`);
  if (spec.bandwidthMbps !== undefined)
    out.bandwidthMbps = parseIntInRange(spec.bandwidthMbps, `uplink ${spec.name} bandwidth`, 1, 1_000_000);
  return out;
}

const POLICY_KINDS = ['active-standby', 'lowest-latency', 'weighted', 'sla', 'duplicate'];

/** Checks probe tuning given through the API (the config parser has its own line-numbered checks). */
export function parsePathOptions(o: Partial<PathOptions> = {}): PathOptions {
  if (o === null || typeof o !== 'object') throw new InvalidArgumentError('paths must be an object');
  const out = { ...defaultPathOptions };
  const ranges: Record<keyof PathOptions, [number, number]> = {
    intervalMs: [10, 600_000],
    standbyIntervalMs: [10, 600_000],
    timeoutMs: [10, 600_000],
    holdDownMs: [0, 3_600_000],
    downAfter: [1, 100],
    upAfter: [1, 100],
    window: [2, 10_000],
    qualityEveryMs: [100, 3_600_000],
  };
  for (const [k, v] of Object.entries(o) as [keyof PathOptions, unknown][]) {
    const range = ranges[k];
    if (!range) throw new InvalidArgumentError(`paths.${String(k)} is not an option`);
    if (v !== undefined) out[k] = parseIntInRange(v, `paths.${k}`, range[0], range[1]);
  }
  // A reply slower than the interval is still an answer unless a timeout was chosen.
  if (o.timeoutMs === undefined) out.timeoutMs = Math.max(defaultPathOptions.timeoutMs, out.intervalMs);
  return out;
}

/** Checks traffic classes given through the API: names, policies, and matches (as a table would). */
export function parseClasses(classes: TrafficClass[]): TrafficClass[] {
  // One class of the native table is kept for the default class (paths/peer-paths.ts).
  if (!Array.isArray(classes) || classes.length > MAX_CLASSES - 1)
    throw new InvalidArgumentError(`classes must be an array of at most ${MAX_CLASSES - 1} classes`);
  const names = new Set<string>();
  for (const [i, c] of classes.entries()) {
    if (
      c === null ||
      typeof c !== 'object' ||
      typeof c.name !== 'string' ||
      !/^[A-Za-z0-9_.-]{1,32}$/.test(c.name)
    )
      throw new InvalidArgumentError(`classes[${i}].name must be 1..32 of [A-Za-z0-9_.-]`);
    if (names.has(c.name)) throw new InvalidArgumentError(`classes[${i}]: duplicate class name ${c.name}`);
    names.add(c.name);
    if (!c.policy || !POLICY_KINDS.includes(c.policy.kind))
      throw new InvalidArgumentError(`classes[${i}].policy.kind must be one of ${POLICY_KINDS.join(', ')}`);
    // The match is checked exactly as the dataplane will see it, against a one-path table.
    toRawSelection(
      {
        paths: [{ id: 1, uplinkId: 1, endpoint: { address: '192.0.2.1', port: 1 } }],
        classes: [{ ...c.match, mode: 'single', paths: [1] }],
      },
      () => true,
    );
  }
  return classes;
}

export class MultipathDriver {
  readonly #host: MultipathHost;
  readonly #options: PathOptions;
  readonly #uplinks = new Map<string, UplinkStatus>();
  readonly #peers = new Map<string, PeerState>();
  /** Uplinks the link watcher reports without a link, and why. */
  readonly #linkDown = new Map<string, UplinkLinkReason>();
  #classes: TrafficClass[];
  #timer: NodeJS.Timeout | undefined;

  constructor(host: MultipathHost, options: Partial<PathOptions> = {}, classes: TrafficClass[] = []) {
    this.#host = host;
    this.#options = parsePathOptions(options);
    this.#classes = parseClasses(classes);
    host.dataplane.on('probe:replied', (r) => {
      this.#peers.get(r.publicKey)?.paths.onReply(host.clock.monotonicMs(), r.pathId, r.sequence, r.rttMs);
    });
  }

  get options(): PathOptions {
    return { ...this.#options };
  }

  start(): void {
    // Ten ticks per probe interval: failure detection is then within a tenth of an interval.
    const every = Math.max(5, Math.floor(this.#options.intervalMs / 10));
    this.#timer = setInterval(() => this.tick(), every);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  addUplink(spec: UplinkSpec): UplinkStatus {
    const up = parseUplinkSpec(spec);
    if (this.#uplinks.has(up.name)) throw new AlreadyExistsError(`uplink ${up.name} already exists`);
    const bound = this.#host.dataplane.addUplink({
      address: up.address,
      port: up.port,
      ...(up.device ? { device: up.device } : {}),
    });
    up.id = bound.id;
    up.port = bound.port;
    this.#uplinks.set(up.name, up);
    try {
      this.#refreshAll();
    } catch (err) {
      // Too many paths for some peer: the uplink is not added after all.
      this.#uplinks.delete(up.name);
      this.#refreshAll();
      this.#host.dataplane.removeUplink(up.id);
      throw err;
    }
    return { ...up };
  }

  removeUplink(name: string): void {
    const up = this.#uplinks.get(name);
    if (!up) throw new NotFoundError(`no uplink named ${String(name)}`);
    this.#uplinks.delete(name);
    this.#forgetLink(name);
    this.#refreshAll(); // tables without its paths go down before the socket goes
    this.tick();
    this.#host.dataplane.removeUplink(up.id);
  }

  /**
   * Changes an uplink's policy inputs in place. The socket and the paths (with their probe history)
   * stay; only the selection changes, on the next round.
   */
  updateUplink(name: string, changes: UplinkPolicy): UplinkStatus {
    const up = this.#uplinks.get(name);
    if (!up) throw new NotFoundError(`no uplink named ${String(name)}`);
    const checked = parseUplinkSpec({
      name,
      priority: changes.priority ?? up.priority,
      weight: changes.weight ?? up.weight,
      metered: changes.metered ?? up.metered,
    });
    Object.assign(up, { priority: checked.priority, weight: checked.weight, metered: checked.metered });
    this.#refreshAll();
    return { ...up };
  }

  uplinks(): UplinkStatus[] {
    return [...this.#uplinks.values()].map((u) => ({ ...u }));
  }

  /**
   * The link watcher's verdict on an uplink: no link (reason) or link back (null). Down takes every
   * path through it down now, and the new selection goes to the dataplane in the same call, without
   * waiting for probes; back lets its paths return through probes and the hold-down.
   */
  setUplinkLink(name: string, down: UplinkLinkReason | null): void {
    if (!this.#uplinks.has(name)) throw new NotFoundError(`no uplink named ${String(name)}`);
    if (down) this.#linkDown.set(name, down);
    else if (!this.#linkDown.delete(name)) return;
    this.#host.log(
      'info',
      `uplink ${name}: ${down ? `no link (${down}), its paths are down` : 'link back, its paths return through probes'}`,
    );
    const now = this.#host.clock.monotonicMs();
    for (const [publicKey, state] of this.#peers) {
      state.paths.setUplinkLink(now, name, down);
      if (down) this.#tickPeerSafely(publicKey, state, now);
    }
  }

  /**
   * Moves an uplink bound to a device onto another local address of that device (its address
   * changed): a new socket on the new address (same port if free), the paths keep their ids and
   * history but are down until probes through the new socket answer.
   */
  rebindUplink(name: string, address: string): UplinkStatus {
    const up = this.#uplinks.get(name);
    if (!up) throw new NotFoundError(`no uplink named ${String(name)}`);
    const to = parseAddress(address, `uplink ${name} address`).address;
    const device = up.device ? { device: up.device } : {};
    let bound;
    try {
      bound = this.#host.dataplane.addUplink({ address: to, port: up.port, ...device });
    } catch {
      bound = this.#host.dataplane.addUplink({ address: to, port: 0, ...device });
    }
    const old = up.id;
    if (!this.#linkDown.has(name)) this.setUplinkLink(name, 'address-removed'); // down until the new socket's probes answer
    Object.assign(up, { id: bound.id, address: to, port: bound.port });
    this.#refreshAll();
    this.tick();
    this.#host.dataplane.removeUplink(old);
    this.setUplinkLink(name, null);
    return { ...up };
  }

  setClasses(classes: TrafficClass[]): void {
    this.#classes = parseClasses(classes);
    for (const p of this.#peers.values()) p.paths.setClasses(classes);
  }

  /** A peer's endpoints changed (or it was added). */
  setPeer(publicKey: string, endpoints: PeerEndpoint[]): void {
    for (const e of endpoints) {
      if (e.uplink !== undefined && !this.#uplinks.has(e.uplink))
        throw new NotFoundError(`endpoint ${e.address}:${e.port} names unknown uplink ${e.uplink}`);
    }
    const existing = this.#peers.get(publicKey);
    const state = existing ?? { endpoints: [], paths: this.#newPeerPaths(), ids: new Map(), nextId: 1 };
    const before = state.endpoints;
    state.endpoints = endpoints.map((e) => ({ ...e }));
    try {
      this.#refresh(publicKey, state);
    } catch (err) {
      state.endpoints = before; // refused (too many paths): nothing changes
      if (existing) this.#refresh(publicKey, state);
      throw err;
    }
    this.#peers.set(publicKey, state);
  }

  removePeer(publicKey: string): void {
    this.#peers.delete(publicKey);
  }

  paths(publicKey: string): PathStatus[] {
    return this.#peers.get(publicKey)?.paths.status(this.#host.clock.monotonicMs()) ?? [];
  }

  capable(publicKey: string): boolean {
    return this.#peers.get(publicKey)?.paths.capable ?? false;
  }

  /** One round of the schedule for every peer (the timer calls it; tests may too). */
  tick(): void {
    const now = this.#host.clock.monotonicMs();
    for (const [publicKey, state] of this.#peers) this.#tickPeerSafely(publicKey, state, now);
  }

  #tickPeerSafely(publicKey: string, state: PeerState, now: number): void {
    try {
      this.#tickPeer(publicKey, state, now);
    } catch (err) {
      // One peer's trouble (a peer removed under us, an uplink gone) must not stop the others.
      this.#host.log('warn', `multipath round for peer ${publicKey} failed: ${(err as Error).message}`);
    }
  }

  #newPeerPaths(): PeerPaths {
    const paths = new PeerPaths(this.#options, this.#classes);
    const now = this.#host.clock.monotonicMs();
    for (const [name, reason] of this.#linkDown) paths.setUplinkLink(now, name, reason);
    return paths;
  }

  /** A removed uplink's link state goes with it (a new uplink of that name starts afresh). */
  #forgetLink(name: string): void {
    if (!this.#linkDown.delete(name)) return;
    const now = this.#host.clock.monotonicMs();
    for (const state of this.#peers.values()) state.paths.setUplinkLink(now, name, null);
  }

  /** The listening socket changed (setListenPort): paths through it are rebuilt. */
  refresh(): void {
    this.#refreshAll();
  }

  #tickPeer(publicKey: string, state: PeerState, now: number): void {
    const dp = this.#host.dataplane;
    const res = state.paths.tick(now, () => {
      const s = dp.peerStats(publicKey);
      return s.endpoint && s.uplinkId ? { uplinkId: s.uplinkId, endpoint: s.endpoint } : null;
    });
    for (const p of res.probes) {
      const r = dp.sendProbe(publicKey, {
        uplinkId: p.uplinkId,
        endpoint: p.endpoint,
        pathId: p.pathId,
        sequence: p.sequence,
      });
      if (r === 'unreachable') state.paths.onUnreachable(now, p.pathId);
      if (r === 'refused')
        this.#host.log('debug', `probe on path ${p.pathId} to ${p.endpoint.address} refused by the uplink`);
    }
    for (const e of res.events) this.#emit(publicKey, state, e);
    if (this.#allDeadNow(state, res.events, now)) this.#host.pathsDead?.(publicKey);
    if (res.table !== undefined) {
      dp.setSelection(publicKey, res.table);
      // Tell the peer at once where we are now: its roaming follows the new path's first packet.
      if (res.table) this.#keepalive(publicKey);
    }
  }

  /** A probe timeout just took the last path of a peer that answers probes down: its session is gone. */
  #allDeadNow(state: PeerState, events: PathEvent[], now: number): boolean {
    if (!state.paths.capable || !events.some((e) => e.type === 'path:down' && e.reason === 'probe-timeout'))
      return false;
    const paths = state.paths.status(now);
    return paths.length > 0 && paths.every((p) => p.state === 'down');
  }

  #keepalive(publicKey: string): void {
    try {
      this.#host.dataplane.sendKeepalive(publicKey);
    } catch (err) {
      this.#host.log('debug', `keepalive after a path change failed: ${(err as Error).message}`);
    }
  }

  #emit(publicKey: string, state: PeerState, e: PathEvent): void {
    const describe = (id: number) => {
      const s = state.paths.status(this.#host.clock.monotonicMs()).find((p) => p.id === id);
      return s ? { uplink: s.uplink, endpoint: s.endpoint } : {};
    };
    switch (e.type) {
      case 'path:failover':
        this.#host.log(
          'info',
          `peer ${publicKey} class ${e.className}: paths [${e.from.join(',')}] -> [${e.to.join(',')}]`,
        );
        this.#host.emit(e.type, { publicKey, className: e.className, from: e.from, to: e.to });
        return;
      case 'path:quality':
        this.#host.emit(e.type, { publicKey, pathId: e.pathId, ...describe(e.pathId), ...e.quality });
        return;
      case 'path:down':
        this.#host.log('info', `peer ${publicKey} path ${e.pathId} down (${e.reason})`);
        this.#host.emit(e.type, { publicKey, pathId: e.pathId, ...describe(e.pathId), reason: e.reason });
        return;
      default:
        this.#host.log('info', `peer ${publicKey} path ${e.pathId} up`);
        this.#host.emit(e.type, { publicKey, pathId: e.pathId, ...describe(e.pathId) });
    }
  }

  #refreshAll(): void {
    for (const [k, s] of this.#peers) this.#refresh(k, s);
  }

  /** Recomputes a peer's paths: every endpoint through every uplink that can reach it. */
  #refresh(publicKey: string, state: PeerState): void {
    const main = this.#host.mainUplink();
    // Without named uplinks, one endpoint is plain WireGuard; several are paths via the main socket.
    const uplinks: UplinkStatus[] = this.#uplinks.size
      ? [...this.#uplinks.values()]
      : state.endpoints.length > 1
        ? [
            {
              id: main.id,
              name: 'default',
              address: main.address,
              port: 0,
              priority: 100,
              weight: 1,
              metered: false,
            },
          ]
        : [];
    const specs: PathSpec[] = [];
    for (const up of uplinks) {
      for (const ep of state.endpoints) {
        if (ep.uplink !== undefined && ep.uplink !== up.name) continue;
        if (!reaches(up.address, ep.address)) continue;
        const key = `${up.name}|${ep.address}|${ep.port}`;
        let id = state.ids.get(key);
        if (id === undefined) state.ids.set(key, (id = state.nextId++));
        specs.push({
          id,
          uplink: up.name,
          uplinkId: up.id,
          endpoint: { address: ep.address, port: ep.port },
          priority: up.priority,
          weight: up.weight,
          metered: up.metered,
        });
      }
    }
    if (specs.length > MAX_PATHS)
      throw new InvalidArgumentError(
        `peer ${publicKey} would have ${specs.length} paths; at most ${MAX_PATHS} (tie endpoints to uplinks)`,
      );
    state.paths.setPaths(specs, this.#host.clock.monotonicMs());
  }
}

/** An IPv4-only local address cannot reach an IPv6 endpoint; '::' reaches both. */
function reaches(local: string, remote: string): boolean {
  const l = parseAddress(local, 'local').family;
  const r = parseAddress(remote, 'remote').family;
  return l === r || (l === 6 && local === '::');
}
