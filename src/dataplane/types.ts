/** Public types of the Dataplane API. */
import type { DropReason } from '../native/facts.generated.js';

/** Why the dataplane refused a packet: sag.h's drop reasons, spelled as sag_drop_reason_name(). */
export type { DropReason };

export interface DataplaneOptions {
  /** Inner MTU of the tunnel (MIN_MTU..MAX_MTU of sag.h). Default DEFAULT_MTU (1420, as WireGuard). */
  mtu?: number;
  /** Packets held per peer while it has no session (1..MAX_STAGED_CAPACITY). Default 128. */
  stagedCapacity?: number;
  /** Control events queued for JS before further ones are dropped (1..MAX_EVENT_CAPACITY). Default 1024. */
  eventCapacity?: number;
  /** Packets per batch in the native workers (1..MAX_BATCH_SIZE). Default 64. */
  batchSize?: number;
  /** Queues of the Linux TUN, one native send worker each (1..MAX_TUN_QUEUES); 1 is one send thread.
   *  Default: $SAG_TUN_QUEUES, else the online CPUs capped at 4. */
  tunQueues?: number;
  /** Threads that decrypt a received batch, the receive worker included (1..MAX_RECEIVE_WORKERS); packets are
   *  still delivered in arrival order. Default: $SAG_RX_WORKERS, else half the online CPUs (1..4). */
  receiveWorkers?: number;
}

declare const nativeDataplane: unique symbol;
/** The native dataplane as a TunOpener receives it: opaque; only the addon reads it. */
export interface NativeHandle {
  readonly [nativeDataplane]: true;
}

/**
 * A TUN that is not a kernel device named by a string, opened on the native dataplane: the seam
 * through which `sag/testing` gives a Dataplane (and so a Gateway) its in-memory TUN. Dataplane
 * checks its own state before calling it and turns what it throws into typed errors.
 */
export interface TunOpener {
  /** What it opens, for messages: 'the in-memory TUN'. */
  readonly description: string;
  /** Opens the TUN of the dataplane's own domain (0); returns the device name, if it is a device. */
  openTun(native: NativeHandle): string | undefined;
  /** Adds a routing domain with its own TUN; returns its id and device name ('' if none). */
  openDomainTun(native: NativeHandle): { domain: number; name: string };
}

export interface Endpoint {
  address: string;
  port: number;
}

export interface UplinkOptions {
  /** Local address to bind; '::' (the default) is dual-stack. */
  address?: string;
  /** Local UDP port; 0 (the default) lets the kernel choose. */
  port?: number;
  /** Bind the socket to this device (SO_BINDTODEVICE). */
  device?: string;
  /** Mark outgoing packets (SO_MARK), for policy routing. */
  fwmark?: number;
}

export interface Uplink extends Endpoint {
  id: number;
}

export interface PeerOptions {
  /** The peer's static public key: base64 or 32 bytes. */
  publicKey: string | Uint8Array;
  /** Prefixes routed to this peer and accepted from it, e.g. ['10.0.0.2/32', 'fd00::/64']. */
  allowedIps?: string[];
  endpoint?: Endpoint;
  /** Uplink id to reach the endpoint through; required with endpoint when there are several. */
  uplink?: number;
  /**
   * Routing domain (0, the default, is the dataplane's own TUN; others come from openDomainTun).
   * The peer's allowed IPs live in its domain only.
   */
  domain?: number;
  /** Rate limit of the peer's inner traffic, each direction; null removes it. */
  rateLimit?: RateLimit | null;
}

export interface RateLimit {
  /** Bytes per second (1..MAX_RATE, 2^40). */
  bytesPerSecond: number;
  /** Bucket size in bytes (the MTU..MAX_BURST, 2^30). Default: 50 ms at the rate, at least 4 packets. */
  burstBytes?: number;
}

export interface KeypairOptions {
  localIndex: number;
  remoteIndex: number;
  sendKey: Uint8Array;
  recvKey: Uint8Array;
  /** True on the side that initiated the handshake: the keypair is used at once. */
  initiator: boolean;
}

export interface Counters {
  /** Authenticated datagrams received and their bytes on the wire (UDP payload). */
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** Of the packets above, keepalives (empty payload): WireGuard's timers treat them apart. */
  rxKeepalives: number;
  txKeepalives: number;
  drops: Record<DropReason, number>;
}

export interface PeerStats {
  publicKey: string;
  endpoint: Endpoint | null;
  uplinkId: number | null;
  allowedIps: string[];
  domain: number;
  rateLimit: Required<RateLimit> | null;
  currentIndex: number | null;
  previousIndex: number | null;
  nextIndex: number | null;
  stagedPackets: number;
  counters: Counters;
}

export interface ControlMessage {
  data: Buffer;
  from: Endpoint;
  uplinkId: number;
  /** Events still waiting behind this one when it was taken: the control plane's backlog. */
  backlog: number;
}

/** Events, named noun:verb. */
export interface DataplaneEvents {
  /** A handshake, cookie or other non-data message arrived. */
  'control:received': [ControlMessage];
  /** Packets wait for this peer and there is no usable session: start a handshake. */
  'handshake:needed': [{ publicKey: string }];
  /** The peer sent data on the keypair we responded with: it is now current. */
  'keypair:confirmed': [{ publicKey: string; localIndex: number }];
  /** The current keypair passed REKEY_AFTER_MESSAGES. */
  'rekey:needed': [{ publicKey: string; localIndex: number }];
  /** Authenticated data came from a new address (roaming). */
  'endpoint:changed': [{ publicKey: string; endpoint: Endpoint; uplinkId: number }];
  /** A path probe was answered; the RTT is measured natively (see sendProbe). */
  'probe:replied': [
    { publicKey: string; pathId: number; uplinkId: number; from: Endpoint; sequence: number; rttMs: number },
  ];
}
