/**
 * Entity and command types of the control-plane model.
 *
 * Everything here is plain JSON (strings, numbers, arrays, records, null) so a
 * store can persist a `ModelState` or a `Command` with JSON.stringify and get the
 * same value back. Relationships are stored once, on the referring side
 * (instance.ccnId, ccn.cenId, vpc.cenId, device.instanceId); the reverse views
 * (CCN members, CEN attachments) are derived by queries, so they cannot disagree.
 */

import type { InstanceModel, ReachReason, RouteTarget, UplinkKind } from '../../contract/config.js';

// The values a compiled configuration carries are the contract's; the model speaks the same words.
export type { InstanceModel, ReachReason, RouteTarget, UplinkKind };

export const INSTANCE_MODELS: readonly InstanceModel[] = ['hardware', 'vcpe', 'app'];

export type InstanceState = 'unbound' | 'bound' | 'online' | 'offline';

/** Fields every entity carries. */
export interface Versioned {
  /** The model `version` at which this entity last changed; strictly increasing per entity. */
  version: number;
}

export interface Area extends Versioned {
  /** Identity, e.g. "mainland"; lowercase. */
  name: string;
  /** Region ids, e.g. "cn-hangzhou"; a region belongs to exactly one area. */
  regions: string[];
}

export interface AccessPoint extends Versioned {
  id: string;
  area: string;
  /** Canonical "a.b.c.d:port" or "[v6]:port" endpoints, at least one. */
  endpoints: string[];
  /** Capacity: the most SAG instances this access point terminates (a count, not Mbit/s). */
  maxInstances: number;
  /**
   * The hub's WireGuard public key (base64 of 32 bytes), validated like a device key and
   * unique among access points and devices; null until the operator sets it. Optional on
   * create so an access point can be planned before its gateway is installed; the device
   * configuration compiler refuses a hub without a key (ERR_COMPILER_ACCESS_POINT_KEY).
   * Rows written before this field existed get null from store migration 2.
   */
  publicKey: string | null;
}

export interface Uplink {
  /** Unique within the instance, e.g. "wan1", "lte". */
  name: string;
  kind: UplinkKind;
  /** 1..50, lower is preferred; -1 means the uplink is configured but unused. */
  priority: number;
  /** 1..100; shares traffic among uplinks of equal priority. */
  weight: number;
}

export interface SagInstance extends Versioned {
  id: string;
  name: string;
  area: string;
  model: InstanceModel;
  bandwidthMbps: number;
  /** Canonical CIDRs of the branch LAN this instance announces. */
  lanCidrs: string[];
  uplinks: Uplink[];
  state: InstanceState;
  ccnId: string | null;
}

export interface SagDevice extends Versioned {
  /** Identity; printed on the box for hardware, generated for vcpe/app. */
  serial: string;
  model: InstanceModel;
  /**
   * WireGuard public key, base64 of 32 bytes; "" (empty) while the device awaits
   * activation: registered without a key, it sets one itself through an activation
   * code (POST /v1/activate). Empty rather than null so the field keeps the `string`
   * type existing readers (the operator CLI) were written against.
   */
  publicKey: string;
  softwareVersion: string;
  /** Milliseconds since the Unix epoch of the last heartbeat, null if never seen. */
  lastSeen: number | null;
  instanceId: string | null;
}

export interface Ccn extends Versioned {
  id: string;
  name: string;
  area: string;
  /** Up to 5 private CIDRs (RFC 1918, RFC 6598 100.64.0.0/10, IPv6 ULA fc00::/7), canonical. */
  cidrs: string[];
  cenId: string | null;
}

export interface BandwidthGrant {
  /** Unordered pair of distinct area names, stored sorted. */
  areas: [string, string];
  mbps: number;
}

export interface Cen extends Versioned {
  id: string;
  name: string;
  /** Sorted by area pair; at most one grant per pair. */
  grants: BandwidthGrant[];
}

export interface VpcNetwork extends Versioned {
  id: string;
  name: string;
  /** Region id; its area comes from the area catalogue. */
  region: string;
  cidrs: string[];
  cenId: string | null;
}

export interface ModelState {
  schema: 1;
  /** Increases by one on each command that changes anything. */
  version: number;
  areas: Record<string, Area>;
  accessPoints: Record<string, AccessPoint>;
  instances: Record<string, SagInstance>;
  devices: Record<string, SagDevice>;
  ccns: Record<string, Ccn>;
  cens: Record<string, Cen>;
  vpcs: Record<string, VpcNetwork>;
}

/** Catalogue entry used to seed a model. */
export interface AreaDefinition {
  name: string;
  regions: readonly string[];
}

export type Command =
  | { kind: 'area.create'; name: string; regions: string[] }
  | { kind: 'area.setRegions'; name: string; regions: string[] }
  | { kind: 'area.delete'; name: string }
  | {
      kind: 'accessPoint.create';
      id: string;
      area: string;
      endpoints: string[];
      maxInstances: number;
      publicKey?: string | null;
    }
  /** `publicKey: null` clears the key. */
  | {
      kind: 'accessPoint.update';
      id: string;
      endpoints?: string[];
      maxInstances?: number;
      publicKey?: string | null;
    }
  | { kind: 'accessPoint.delete'; id: string }
  | {
      kind: 'instance.create';
      id: string;
      name: string;
      area: string;
      model: InstanceModel;
      bandwidthMbps: number;
      lanCidrs: string[];
      uplinks: Uplink[];
    }
  | {
      kind: 'instance.update';
      id: string;
      name?: string;
      bandwidthMbps?: number;
      lanCidrs?: string[];
      uplinks?: Uplink[];
    }
  | { kind: 'instance.delete'; id: string }
  /** Marks an instance offline, e.g. after its tunnel went down. */
  | { kind: 'instance.setOffline'; id: string }
  /** Marks offline every online instance whose device was last seen before `at - staleAfterMs`. */
  | { kind: 'instance.expire'; at: number; staleAfterMs: number }
  /** Without `publicKey` the device is registered awaiting activation (publicKey ""). */
  | {
      kind: 'device.register';
      serial: string;
      model: InstanceModel;
      publicKey?: string;
      softwareVersion: string;
    }
  | { kind: 'device.update'; serial: string; publicKey?: string; softwareVersion?: string }
  | { kind: 'device.delete'; serial: string }
  | { kind: 'device.bind'; serial: string; instanceId: string }
  | { kind: 'device.unbind'; serial: string }
  /** A device reported in at time `at`; brings its instance online. */
  | { kind: 'device.heartbeat'; serial: string; at: number; softwareVersion?: string }
  | { kind: 'ccn.create'; id: string; name: string; area: string; cidrs: string[] }
  | { kind: 'ccn.update'; id: string; name?: string; cidrs?: string[] }
  | { kind: 'ccn.delete'; id: string }
  | { kind: 'ccn.join'; ccnId: string; instanceId: string }
  | { kind: 'ccn.leave'; ccnId: string; instanceId: string }
  | { kind: 'cen.create'; id: string; name: string }
  | { kind: 'cen.update'; id: string; name: string }
  | { kind: 'cen.delete'; id: string }
  | { kind: 'cen.attachCcn'; cenId: string; ccnId: string }
  | { kind: 'cen.detachCcn'; cenId: string; ccnId: string }
  | { kind: 'cen.attachVpc'; cenId: string; vpcId: string }
  | { kind: 'cen.detachVpc'; cenId: string; vpcId: string }
  /** Creates or replaces the grant for an unordered pair of distinct areas. */
  | { kind: 'cen.setGrant'; cenId: string; areas: [string, string]; mbps: number }
  | { kind: 'cen.removeGrant'; cenId: string; areas: [string, string] }
  | { kind: 'vpc.create'; id: string; name: string; region: string; cidrs: string[] }
  | { kind: 'vpc.update'; id: string; name?: string; cidrs?: string[] }
  | { kind: 'vpc.delete'; id: string };

export type CommandKind = Command['kind'];

/** Id prefixes of generated ids, one per entity kind that has a generated id. */
export type { IdPrefix } from '../../contract/ids.js';

export interface Route {
  /** Canonical destination CIDR. */
  cidr: string;
  target: RouteTarget;
  /** Area of the destination; differs from the member's area only through a CEN grant. */
  area: string;
  /** Grant bandwidth in Mbit/s for cross-area routes, null within one area. */
  grantMbps: number | null;
}

export interface Reach {
  reachable: boolean;
  reason: ReachReason;
  grantMbps: number | null;
}
