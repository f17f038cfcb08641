/**
 * Compiled configurations and their diffs: what the controller sends a branch
 * device and an access point, and the steps from one to the next.
 *
 * A compiled configuration is plain JSON, sorted deterministically, carrying
 * only what the receiving agent needs to act on: no names, no liveness (instance
 * state, last heartbeat) and no entity versions, so a heartbeat or a rename
 * elsewhere never changes its content hash. Public keys only: the model holds no
 * private keys and neither does anything here.
 */

/** How an instance is deployed. */
export type InstanceModel = 'hardware' | 'vcpe' | 'app';

export type UplinkKind = 'wired' | 'lte';

/** Where a route learned by a CCN member points. */
export type RouteTarget =
  { kind: 'instance'; id: string; ccnId: string } | { kind: 'ccn'; id: string } | { kind: 'vpc'; id: string };

/** Why a destination is or is not reachable; the non-reachable reasons never reach a configuration. */
export type ReachReason = 'same-ccn' | 'same-area' | 'granted' | 'no-grant' | 'no-cen' | 'different-cen';

/** Fields every compiled configuration carries. */
export interface ConfigVersion {
  /** SHA-256 (hex) of the canonical JSON of everything except `version` and `modelVersion`. */
  version: string;
  /** `state.version` of the model this was compiled from; informative, not part of `version`. */
  modelVersion: number;
}

export interface CompiledUplink {
  name: string;
  kind: UplinkKind;
  priority: number;
  weight: number;
}

/** A destination the branch may reach, as the model's route functions computed it. */
export interface CompiledRoute {
  cidr: string;
  target: RouteTarget;
  /** Area of the destination. */
  area: string;
  /** Cross-area grant in Mbit/s, null within one area. */
  grantMbps: number | null;
}

/** One hub a branch device tunnels to. */
export interface DevicePeer {
  accessPointId: string;
  publicKey: string;
  /** "a.b.c.d:port" / "[v6]:port", in the access point's own order. */
  endpoints: string[];
  persistentKeepaliveSec: number;
  /**
   * 0 = default preference. The agent probes all hubs and may prefer another; this
   * order is what it uses before probes answer, and it spreads branches over hubs.
   */
  rank: number;
}

export interface DeviceConfig extends ConfigVersion {
  kind: 'device';
  serial: string;
  /** The device's own public key, so the agent can detect it is holding a different key. */
  publicKey: string;
  instance: { id: string; area: string; model: InstanceModel; bandwidthMbps: number };
  /** Null when the instance is in no CCN: it then gets no routes and no hubs (see compile-device.ts). */
  ccnId: string | null;
  /** Tunnel (overlay) address with host prefix, e.g. "100.96.18.7/32". */
  address: string;
  /** Preference order, unused (-1) left out, LTE last. */
  uplinks: CompiledUplink[];
  /**
   * Allowed IPs of the active hub peer: the same list for every hub, installed on the
   * one the agent currently uses (WireGuard maps each prefix to a single peer).
   */
  allowedIps: string[];
  /** `allowedIps` with where each leads; sorted by address, IPv4 first. */
  routes: CompiledRoute[];
  /** Sorted by rank. */
  peers: DevicePeer[];
}

/** One branch device terminated by a hub. */
export interface HubPeer {
  serial: string;
  publicKey: string;
  instanceId: string;
  /** The CCN the peer belongs to; the hub isolates CCNs by it. */
  ccnId: string;
  /** The instance's tunnel address with host prefix. */
  address: string;
  /** Instance LAN CIDRs plus `address`, sorted. */
  allowedIps: string[];
  /** Shaping limit for this peer, the instance's Mbit/s. */
  bandwidthMbps: number;
}

/**
 * Traffic from members of `ccnId` may go to `cidrs` (a default-deny allow list).
 * `to` is the CCN itself for branch-to-branch traffic within it, another CCN or a
 * VPC when the model's CEN rules allow it.
 */
export interface ForwardingRule {
  ccnId: string;
  to: { kind: 'ccn' | 'vpc'; id: string };
  reason: Exclude<ReachReason, 'no-grant' | 'no-cen' | 'different-cen'>;
  cidrs: string[];
  grantMbps: number | null;
}

export interface AccessPointConfig extends ConfigVersion {
  kind: 'accessPoint';
  accessPointId: string;
  area: string;
  endpoints: string[];
  maxInstances: number;
  /** Sorted by serial. */
  peers: HubPeer[];
  /** Sorted by CCN, then destination kind and id; only CCNs with a peer here. */
  policy: ForwardingRule[];
}

export type CompiledConfig = DeviceConfig | AccessPointConfig;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * One precise step. Peers are identified by public key (WireGuard's identity), so
 * a key rotation is a remove and an add. Changes are ordered so removals come
 * before additions: a prefix moving between peers is freed before it is claimed.
 */
export type ConfigChange =
  /** A top-level scalar or small field changed: address, instance, ccnId, publicKey, endpoints, maxInstances, area. */
  | { op: 'set'; field: string; from: Json; to: Json }
  /** The instance's Mbit/s limit; `from` is null on a first apply. */
  | { op: 'bandwidth.change'; from: number | null; to: number }
  | { op: 'uplinks.change'; from: CompiledUplink[]; to: CompiledUplink[] }
  | { op: 'peer.remove'; publicKey: string; id: string }
  | {
      op: 'peer.change';
      publicKey: string;
      id: string;
      fields: string[];
      /** Present when `allowedIps` is among `fields`, so unchanged prefixes stay in place. */
      allowedIps?: { add: string[]; remove: string[] };
      peer: DevicePeer | HubPeer;
    }
  | { op: 'peer.add'; publicKey: string; id: string; peer: DevicePeer | HubPeer }
  | { op: 'route.remove'; cidr: string }
  | { op: 'route.change'; cidr: string; fields: string[]; route: CompiledRoute }
  | { op: 'route.add'; route: CompiledRoute }
  | { op: 'policy.remove'; key: string }
  | {
      op: 'policy.change';
      key: string;
      fields: string[];
      cidrs?: { add: string[]; remove: string[] };
      rule: ForwardingRule;
    }
  | { op: 'policy.add'; key: string; rule: ForwardingRule };
