/**
 * Multipath control: types shared by the pure path logic (this directory: no I/O, the clock is
 * passed in as monotonic milliseconds) and the Gateway that drives it.
 */
import type { Endpoint } from '../dataplane/types.js';
import type { SelectionTable, TrafficMatch } from '../dataplane/selection.js';

export interface PathOptions {
  /** Probe interval per path, ms (default 100). */
  intervalMs: number;
  /** Probe interval of a metered path that carries no traffic, ms (default 1000). */
  standbyIntervalMs: number;
  /** A probe unanswered after this long is lost (statistics, and it breaks a run of good ones), ms (default 1000). */
  timeoutMs: number;
  /** Down after this many probes without a reply, and no reply for that many intervals (default 3). */
  downAfter: number;
  /** A path that was down is up again after this many consecutive answered probes (default 3). */
  upAfter: number;
  /** A path that came back carries traffic again only after this long up without a lost probe, ms (default 5000). */
  holdDownMs: number;
  /** Probes in the sliding window for RTT, jitter and loss (default 50). */
  window: number;
  /** How often path:quality is reported per path, ms (default 1000). */
  qualityEveryMs: number;
}

export const defaultPathOptions: PathOptions = {
  intervalMs: 100,
  standbyIntervalMs: 1000,
  timeoutMs: 1000,
  downAfter: 3,
  upAfter: 3,
  holdDownMs: 5000,
  window: 50,
  qualityEveryMs: 1000,
};

/** A path: one uplink of ours to one endpoint of the peer. */
export interface PathSpec {
  id: number;
  /** Uplink name and native id. */
  uplink: string;
  uplinkId: number;
  endpoint: Endpoint;
  /** Smaller wins in active-standby. */
  priority: number;
  /** Share among equal priorities and in weighted load balancing (1..65535). */
  weight: number;
  /** Probed at the standby rate until it carries traffic. */
  metered: boolean;
}

export type PathState = 'unknown' | 'up' | 'down';

export interface PathQuality {
  /** Mean RTT over the window, ms; null before any reply. */
  rttMs: number | null;
  /** Mean absolute difference of consecutive RTTs (RFC 3550 style), ms. */
  jitterMs: number | null;
  /** Lost probes over decided probes in the window, percent. */
  lossPct: number;
}

export interface PathStatus extends PathQuality {
  id: number;
  uplink: string;
  endpoint: Endpoint;
  state: PathState;
  /** Carries traffic of at least one class. */
  active: boolean;
  /** The classes whose traffic it carries (by name; 'default' for the default class). */
  classes: string[];
}

export type Policy =
  | { kind: 'active-standby' }
  | { kind: 'lowest-latency' }
  | { kind: 'weighted' }
  | { kind: 'sla'; maxLossPct?: number; maxRttMs?: number; maxJitterMs?: number }
  | { kind: 'duplicate' };

export interface TrafficClass {
  name: string;
  match: TrafficMatch;
  policy: Policy;
}

/**
 * Why a path went down: its probes went unanswered, a probe could not even be sent (no route), or
 * the uplink's interface went down or lost the uplink's address (link watcher, src/gateway/link-watch.ts).
 */
export type PathDownReason = 'probe-timeout' | 'unreachable' | 'link-down' | 'address-removed';

/** Why an uplink has no link: its interface is down (or gone), or it lost the uplink's address. */
export type UplinkLinkReason = Extract<PathDownReason, 'link-down' | 'address-removed'>;

export type PathEvent =
  | { type: 'path:up'; pathId: number }
  | { type: 'path:down'; pathId: number; reason: PathDownReason }
  | { type: 'path:failover'; className: string; from: number[]; to: number[] }
  | { type: 'path:quality'; pathId: number; quality: PathQuality };

export interface ProbeRequest {
  pathId: number;
  uplinkId: number;
  endpoint: Endpoint;
  sequence: number;
}

export interface TickResult {
  probes: ProbeRequest[];
  events: PathEvent[];
  /** Present when the table to install changed; null: remove it (plain WireGuard). */
  table?: SelectionTable | null;
}
