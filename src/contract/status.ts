/**
 * The status report a device agent sends (POST /v1/devices/{serial}/status): what
 * configuration it runs, which hub carries its traffic, each hub session's
 * handshake time and counters, and the round-trip times its probes measured.
 *
 * Bounded in every dimension because it comes from a device, is stored as the
 * device's last status and shown to operators. The limits are written here once:
 * the agent trims its report to them, the controller's schema refuses beyond them.
 */

export interface PeerStatusReport {
  accessPointId: string;
  publicKey: string;
  /** "a.b.c.d:port" / "[v6]:port" the session uses, null if none yet. */
  endpoint: string | null;
  /** Unix ms of the last completed handshake, 0 if none. */
  lastHandshakeUnixMs: number;
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  /** Multipath: one entry per path (uplink x endpoint) to this hub; absent for a plain peer. */
  paths?: PathReport[];
}

export interface PathReport {
  /** Name of the device's uplink the path leaves through. */
  uplink: string;
  /** The hub endpoint it goes to, "a.b.c.d:port" / "[v6]:port". */
  endpoint: string;
  state: 'unknown' | 'up' | 'down';
  /** Mean probe RTT over the window, ms; null before any answer. */
  rttMs: number | null;
  /** Probes lost over the window, percent. */
  lossPct: number;
  /** Carries traffic. */
  active: boolean;
}

export interface ProbeReport {
  accessPointId: string;
  endpoint: string;
  /** Round-trip time in ms, null when the probe went unanswered. */
  rttMs: number | null;
  /** When the probe was answered or given up, Unix ms. */
  atUnixMs: number;
}

export interface DeviceStatusReport {
  softwareVersion?: string;
  /** Content version of the configuration the agent runs, null if it has none. */
  configVersion: string | null;
  /** The access point carrying the traffic, null if none is selected. */
  accessPointId: string | null;
  peers: PeerStatusReport[];
  probes: ProbeReport[];
}

/** At most this many peers (hubs of an area) and probe results per report. */
export const STATUS_LIST_MAX = 64;
/** An RTT above a minute is no RTT worth comparing; the agent reports null instead. */
export const STATUS_RTT_MAX_MS = 60_000;
/** A peer has at most 8 paths (the Gateway's limit); a little room for a newer agent. */
export const STATUS_PATHS_MAX = 16;
