/**
 * The multipath state of one peer, pure (clock passed in, no I/O): its paths' monitors, the
 * probe schedule, the traffic classes' choices, the selection table to install and the events.
 *
 * A peer counts as multipath-capable only once it has answered a probe. Until then only a
 * capability probe goes out, at the standby rate, on the path the peer already knows us by (the
 * roaming endpoint, so a stock WireGuard peer, which drops the probe, never roams because of it),
 * and no table is installed: the peer is plain WireGuard.
 */
import type { SelectionClass, SelectionTable } from '../dataplane/selection.js';
import type { Endpoint } from '../dataplane/types.js';
import { PathMonitor } from './path-monitor.js';
import { choose, type Candidate, type Choice } from './policy.js';
import type {
  PathEvent,
  PathOptions,
  PathSpec,
  PathStatus,
  ProbeRequest,
  TickResult,
  TrafficClass,
  UplinkLinkReason,
} from './types.js';

/** Path id of the capability probe (on the roaming endpoint, before the peer is known capable). */
export const CAPABILITY_PATH_ID = 0;

export const DEFAULT_CLASS: TrafficClass = { name: 'default', match: {}, policy: { kind: 'active-standby' } };

interface Entry {
  spec: PathSpec;
  monitor: PathMonitor;
}

export class PeerPaths {
  readonly #options: PathOptions;
  readonly #paths = new Map<number, Entry>();
  #classes: TrafficClass[];
  #choices = new Map<string, Choice | null>();
  #capable = false;
  #capability: PathMonitor;
  #installed = 'null';
  #events: PathEvent[] = [];
  /** Uplinks without a link (link watcher): their paths are held down, new ones too. */
  readonly #linkDown = new Map<string, UplinkLinkReason>();

  constructor(options: PathOptions, classes: TrafficClass[] = []) {
    this.#options = options;
    this.#classes = withDefault(classes);
    this.#capability = new PathMonitor(options);
  }

  get capable(): boolean {
    return this.#capable;
  }

  /** Replaces the path set; paths with a known id keep their state. */
  setPaths(specs: PathSpec[], now = 0): void {
    const next = new Map<number, Entry>();
    for (const spec of specs)
      next.set(spec.id, {
        spec,
        monitor: this.#paths.get(spec.id)?.monitor ?? new PathMonitor(this.#options),
      });
    this.#paths.clear();
    for (const [id, e] of next) this.#paths.set(id, e);
    for (const [uplink, reason] of this.#linkDown) this.#hold(uplink, reason, now);
  }

  /**
   * The uplink lost its link (reason) or got it back (null). Down: its paths go down now, with the
   * events a probe-detected failure has, and stay down while it lasts. Back: nothing is forced up;
   * the paths return through probes and the hold-down like any path that was down.
   */
  setUplinkLink(now: number, uplink: string, down: UplinkLinkReason | null): void {
    if (down) {
      this.#linkDown.set(uplink, down);
      this.#hold(uplink, down, now);
      return;
    }
    if (!this.#linkDown.delete(uplink)) return;
    for (const { spec, monitor } of this.#paths.values()) if (spec.uplink === uplink) monitor.release();
  }

  #hold(uplink: string, reason: UplinkLinkReason, now: number): void {
    for (const { spec, monitor } of this.#paths.values()) {
      if (spec.uplink === uplink && monitor.hold(now))
        this.#events.push({ type: 'path:down', pathId: spec.id, reason });
    }
  }

  setClasses(classes: TrafficClass[]): void {
    this.#classes = withDefault(classes);
  }

  /** A probe reply (probe:replied). */
  onReply(now: number, pathId: number, sequence: number, rttMs: number): void {
    if (pathId === CAPABILITY_PATH_ID) {
      if (this.#capability.onReply(now, sequence, rttMs)) this.#capable = true;
      return;
    }
    const e = this.#paths.get(pathId);
    if (e && e.monitor.onReply(now, sequence, rttMs)) this.#events.push({ type: 'path:up', pathId });
  }

  /** The path's uplink has no route to it (a probe could not even be sent): down now. */
  onUnreachable(now: number, pathId: number): void {
    const e = this.#paths.get(pathId);
    if (e && e.monitor.onLocalFailure(now))
      this.#events.push({ type: 'path:down', pathId, reason: 'unreachable' });
  }

  /** Runs the schedule: probes to send now, events, and a new table when the decision changed. */
  tick(now: number, roaming: () => { uplinkId: number; endpoint: Endpoint } | null): TickResult {
    const probes: ProbeRequest[] = [];
    if (!this.#capable) {
      if (!this.#paths.size) return { probes, events: this.#takeEvents() };
      // Only asked for when a probe is due: it costs the caller a look at the dataplane.
      const seq = this.#capability.probeDue(now, this.#options.standbyIntervalMs);
      const to = seq === undefined ? null : roaming();
      if (seq !== undefined && to) probes.push({ pathId: CAPABILITY_PATH_ID, ...to, sequence: seq });
      return { probes, events: this.#takeEvents() };
    }
    const active = this.#activePaths();
    for (const { spec, monitor } of this.#paths.values()) {
      if (monitor.tick(now))
        this.#events.push({ type: 'path:down', pathId: spec.id, reason: 'probe-timeout' });
      const rate =
        spec.metered && !active.has(spec.id) ? this.#options.standbyIntervalMs : this.#options.intervalMs;
      const seq = monitor.probeDue(now, rate);
      if (seq !== undefined)
        probes.push({ pathId: spec.id, uplinkId: spec.uplinkId, endpoint: spec.endpoint, sequence: seq });
      if (monitor.qualityDue(now))
        this.#events.push({ type: 'path:quality', pathId: spec.id, quality: monitor.quality(now) });
    }
    this.#decide(now);
    const table = this.#table();
    const key = JSON.stringify(table);
    const result: TickResult = { probes, events: this.#takeEvents() };
    if (key !== this.#installed) {
      this.#installed = key;
      result.table = table;
    }
    return result;
  }

  status(now: number): PathStatus[] {
    return [...this.#paths.values()].map(({ spec, monitor }) => {
      const classes = [...this.#choices].filter(([, c]) => c?.paths.includes(spec.id)).map(([name]) => name);
      return {
        id: spec.id,
        uplink: spec.uplink,
        endpoint: { ...spec.endpoint },
        state: monitor.state,
        active: classes.length > 0,
        classes,
        ...monitor.quality(now),
      };
    });
  }

  #decide(now: number): void {
    const candidates: Candidate[] = [...this.#paths.values()].map(({ spec, monitor }) => ({
      spec,
      quality: monitor.quality(now),
      up: monitor.state === 'up',
      settled: monitor.settled(now),
    }));
    for (const cls of this.#classes) {
      const before = this.#choices.get(cls.name);
      const after = choose(cls.policy, candidates, before?.paths);
      if (JSON.stringify(before ?? null) === JSON.stringify(after)) continue;
      this.#choices.set(cls.name, after);
      const from = before?.paths ?? [];
      const to = after?.paths ?? [];
      if (from.join() !== to.join())
        this.#events.push({ type: 'path:failover', className: cls.name, from, to });
    }
  }

  #table(): SelectionTable | null {
    const classes: SelectionClass[] = [];
    for (const cls of this.#classes) {
      const c = this.#choices.get(cls.name);
      if (c)
        classes.push({
          ...cls.match,
          mode: c.mode,
          paths: c.paths,
          ...(c.weights ? { weights: c.weights } : {}),
        });
    }
    if (!classes.length) return null;
    const paths = [...this.#paths.values()].map(({ spec }) => ({
      id: spec.id,
      uplinkId: spec.uplinkId,
      endpoint: spec.endpoint,
    }));
    return { paths, classes };
  }

  #activePaths(): Set<number> {
    const s = new Set<number>();
    for (const c of this.#choices.values()) for (const id of c?.paths ?? []) s.add(id);
    return s;
  }

  #takeEvents(): PathEvent[] {
    const e = this.#events;
    this.#events = [];
    return e;
  }
}

function withDefault(classes: TrafficClass[]): TrafficClass[] {
  return classes.some((c) => c.name === DEFAULT_CLASS.name) ? classes : [...classes, DEFAULT_CLASS];
}
