/** Public types of the Gateway API. */
import type { Counters, Endpoint, RateLimit } from '../dataplane/types.js';
import type { PathOptions, PathStatus, TrafficClass } from '../paths/types.js';
import type { PeerEndpoint, UplinkSpec } from './multipath.js';

/** Two clocks: monotonic milliseconds for timers, Unix milliseconds for TAI64N and cookies. */
export interface Clock {
  monotonicMs(): number;
  unixMs(): number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string) => void;

export interface GatewayOptions {
  /** Our static private key, base64 or 32 bytes. */
  privateKey: string | Uint8Array;
  /** UDP port to listen on; 0 (default) lets the kernel choose. */
  listenPort?: number;
  /** Local address of the listening uplink; '::' (default) is dual-stack. */
  listenAddress?: string;
  fwmark?: number;
  /** TUN device name to create or open, or 'memory' for the in-memory double (tests). Default 'sag0'. */
  tun?: string;
  mtu?: number;
  clock?: Clock;
  logger?: Logger;
  /** How often traffic counters feed the timers, ms (default 100). */
  pollIntervalMs?: number;
  /** Lab/test option: rekey sending initiator sessions after this many ms instead of 120 s. */
  rekeyAfterTimeMs?: number;
  /**
   * Handshake messages waiting to be processed at or above which the gateway is "under load" and
   * answers initiations without a valid mac2 with cookie replies (wireguard-go: 1/8 of its queue).
   * Default 128, an eighth of the dataplane's event queue.
   */
  underLoadBacklog?: number;
  /** Named uplinks (multipath): each is a socket of its own; see src/gateway/multipath.ts. */
  uplinks?: UplinkSpec[];
  /** Probe schedule and path state rules (defaults in src/paths/types.ts). */
  paths?: Partial<PathOptions>;
  /** Traffic classes and their policies, tried in order; a last "default" class is active-standby. */
  classes?: TrafficClass[];
}

export interface GatewayPeerOptions {
  publicKey: string | Uint8Array;
  presharedKey?: string | Uint8Array;
  endpoint?: Endpoint;
  /** Several endpoints (multipath); the first is where the handshake goes. Replaces `endpoint`. */
  endpoints?: PeerEndpoint[];
  allowedIps?: string[];
  /** Seconds; 0 or absent is off. */
  persistentKeepalive?: number;
  /** Routing domain of the dataplane (gateway.dataplane.openDomainTun); default 0, the gateway's TUN. */
  domain?: number;
  /** Rate limit of the peer's inner traffic in each direction; null removes it. */
  rateLimit?: RateLimit | null;
}

export interface GatewayPeerStatus {
  publicKey: string;
  hasPresharedKey: boolean;
  endpoint: Endpoint | null;
  allowedIps: string[];
  persistentKeepalive: number;
  /** Unix ms of the last completed handshake, 0 if none. */
  lastHandshakeUnixMs: number;
  counters: Counters;
  /** Multipath: per path state, quality and whether it carries traffic; empty for a plain peer. */
  paths: PathStatus[];
  /** The peer answered a probe: it runs sag multipath (else it is treated as stock WireGuard). */
  multipath: boolean;
}

export interface GatewayEvents {
  /** A handshake completed and a new session is installed. */
  'peer:handshake': [{ publicKey: string; initiator: boolean; localIndex: number }];
  /** Handshake attempts ran out: the peer is unreachable until traffic or configuration retries. */
  'peer:down': [{ publicKey: string; attempts: number }];
  /** The peer's endpoint moved (roaming, or a handshake from a new address). */
  'peer:endpoint': [{ publicKey: string; endpoint: Endpoint }];
  /** A handshake message was refused: wrong key, replay, tampering, unknown peer, rate limit. */
  'handshake:rejected': [{ from: Endpoint; code: string; message: string }];
  /** Multipath: a path answers probes again (or for the first time). */
  'path:up': [{ publicKey: string; pathId: number; uplink?: string; endpoint?: Endpoint }];
  /** Multipath: a path stopped answering (downAfter probes, downAfter intervals). */
  'path:down': [{ publicKey: string; pathId: number; uplink?: string; endpoint?: Endpoint }];
  /** Multipath: a traffic class moved to other path(s); [] is the roaming endpoint (no path up). */
  'path:failover': [{ publicKey: string; className: string; from: number[]; to: number[] }];
  /** Multipath: periodic quality of a path over the probe window. */
  'path:quality': [{ publicKey: string; pathId: number; uplink?: string; endpoint?: Endpoint; rttMs: number | null; jitterMs: number | null; lossPct: number }];
}
