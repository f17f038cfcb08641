/** Public types of the Gateway API. */
import type { Counters, Endpoint, RateLimit, TunOpener } from '../dataplane/types.js';
import type { PathOptions, PathStatus, TrafficClass } from '../paths/types.js';
import type { PathDownReason, UplinkLinkReason } from '../paths/types.js';
import type { LinkSource } from './link-watch.js';
import type { PeerEndpoint, UplinkSpec } from './multipath.js';

import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';

export interface GatewayOptions {
  /** Our static private key, base64 or 32 bytes. */
  privateKey: string | Uint8Array;
  /** UDP port to listen on; 0 (default) lets the kernel choose. */
  listenPort?: number;
  /** Local address of the listening uplink; '::' (default) is dual-stack. */
  listenAddress?: string;
  fwmark?: number;
  /** TUN device name to create or open, or an opener of another kind of TUN. Default 'sag0'. */
  tun?: string | TunOpener;
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
  /**
   * Follow the uplinks' interfaces and addresses (rtnetlink via `ip monitor`): a link down or an
   * address gone takes the uplink's paths down at once instead of after missed probes. Default
   * true; false turns it off; a LinkSource feeds it from elsewhere (tests).
   */
  linkWatch?: boolean | LinkSource;
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
  /**
   * Multipath: a path went down: its probes went unanswered (downAfter probes, downAfter intervals),
   * a probe found no route, or its uplink lost its link or address (reason).
   */
  'path:down': [
    { publicKey: string; pathId: number; uplink?: string; endpoint?: Endpoint; reason: PathDownReason },
  ];
  /** The link watcher: an uplink's interface went down (or lost the uplink's address). */
  'uplink:down': [{ uplink: string; reason: UplinkLinkReason }];
  /** The link watcher: the uplink's interface and address are back (its paths follow through probes). */
  'uplink:up': [{ uplink: string }];
  /** The link watcher: a device-bound uplink's address changed; it now sends from `to`. */
  'uplink:rebound': [{ uplink: string; from: string; to: string }];
  /** The link watcher's monitor died or could not start; it restarts after restartInMs (probes go on). */
  'linkwatch:error': [{ message: string; restartInMs: number }];
  /** Multipath: a traffic class moved to other path(s); [] is the roaming endpoint (no path up). */
  'path:failover': [{ publicKey: string; className: string; from: number[]; to: number[] }];
  /** Multipath: periodic quality of a path over the probe window. */
  'path:quality': [
    {
      publicKey: string;
      pathId: number;
      uplink?: string;
      endpoint?: Endpoint;
      rttMs: number | null;
      jitterMs: number | null;
      lossPct: number;
    },
  ];
}
