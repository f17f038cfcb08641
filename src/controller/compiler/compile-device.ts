/**
 * The configuration of a branch device: the bound instance's identity, bandwidth
 * and uplinks, its tunnel address, the hubs of its area and the prefixes it may
 * send through them.
 *
 * An instance in no CCN still compiles, to a configuration with no routes and no
 * hubs, rather than being refused. When an instance leaves its CCN the agent must
 * learn that it may reach nothing: a refusal would leave it running its last
 * configuration, still forwarding into the CCN it left. No hubs either, because
 * hubs only admit members of a CCN (see compile-access-point.ts), and a device
 * dialling a hub that does not know it would only generate handshake noise.
 */
import {
  accessPointsInArea,
  find,
  instanceRoutes,
  orderUplinks,
  type AccessPoint,
  type ModelState,
  type Route,
  type RouteTarget,
  type SagInstance,
} from '../model/index.js';
import { validatePublicKey } from '../model/validate.js';
import { createHash } from 'node:crypto';
import { allocateTunnelAddresses, assertPoolClear, resolvePools, type OverlayPool } from './addresses.js';
import {
  AccessPointKeyError,
  DeviceNotActivatedError,
  DeviceNotBoundError,
  InvalidCompileOptionsError,
  UnknownDeviceError,
} from './errors.js';
import type { CompileOptions, DeviceCompileOptions } from './types.js';
import type { CompiledRoute, DeviceConfig, DevicePeer } from '../../contract/config.js';
import { stamp } from '../../contract/version.js';

/** wg-quick's customary value: keeps NAT and stateful-firewall mappings of the branch's uplink open. */
export const DEFAULT_PERSISTENT_KEEPALIVE_SEC = 25;

export function keepaliveOption(opts: CompileOptions): number {
  const value = opts.persistentKeepaliveSec ?? DEFAULT_PERSISTENT_KEEPALIVE_SEC;
  // WireGuard carries it as a 16-bit number of seconds.
  if (!Number.isSafeInteger(value) || value < 0 || value > 65535) {
    throw new InvalidCompileOptionsError(
      `persistentKeepaliveSec must be a whole number from 0 to 65535, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function describeTarget(target: RouteTarget): string {
  return target.kind === 'instance'
    ? `LAN of instance ${target.id}`
    : target.kind === 'ccn'
      ? `CIDR of CCN ${target.id}`
      : `CIDR of VPC ${target.id}`;
}

function copyRoute(r: Route): CompiledRoute {
  return { cidr: r.cidr, target: { ...r.target }, area: r.area, grantMbps: r.grantMbps };
}

/**
 * Weighted rendezvous hashing: each (instance, hub) pair gets a score from a hash,
 * scaled by the hub's capacity. Branches spread over hubs in proportion to
 * maxInstances, and adding or removing a hub moves only the branches whose top
 * hub it was or becomes, instead of reshuffling everyone as "sort by id" would.
 */
function rendezvousScore(instanceId: string, apId: string, capacity: number): number {
  const digest = createHash('sha256').update(`sag-hub\0${instanceId}\0${apId}`).digest();
  // 53 bits make an exact double; +0.5 keeps u strictly inside (0, 1).
  const u = (Number(digest.readBigUInt64BE(0) >> 11n) + 0.5) / 2 ** 53;
  return capacity / -Math.log(u);
}

/**
 * A hub's key: `accessPointKeys` (an override, e.g. while a key is being rotated
 * outside the model) first, then the key stored on the access point.
 */
function hubPublicKey(ap: AccessPoint, keys: Readonly<Record<string, string>> | undefined): string {
  if (keys !== undefined && (typeof keys !== 'object' || keys === null))
    throw new InvalidCompileOptionsError('accessPointKeys must be an object');
  const key = keys !== undefined && Object.hasOwn(keys, ap.id) ? keys[ap.id] : (ap.publicKey ?? null);
  if (key === null || key === undefined) {
    throw new AccessPointKeyError(
      `access point ${ap.id} has no public key; set it on the access point (PATCH /v1/access-points/${ap.id})`,
      [ap.id],
    );
  }
  try {
    return validatePublicKey(`access point ${ap.id}`, key);
  } catch (cause) {
    throw new AccessPointKeyError(`access point ${ap.id}: ${(cause as Error).message}`, [ap.id], { cause });
  }
}

function hubPeers(
  state: ModelState,
  instance: SagInstance,
  opts: DeviceCompileOptions,
  keepalive: number,
): DevicePeer[] {
  const hubs = accessPointsInArea(state, instance.area).map((ap) => ({
    ap,
    publicKey: hubPublicKey(ap, opts.accessPointKeys),
    score: rendezvousScore(instance.id, ap.id, ap.maxInstances),
  }));
  const owners = new Map<string, string>();
  for (const h of hubs) {
    const other = owners.get(h.publicKey);
    if (other !== undefined)
      throw new AccessPointKeyError(`access points ${other} and ${h.ap.id} have the same public key`, [
        other,
        h.ap.id,
      ]);
    owners.set(h.publicKey, h.ap.id);
  }
  hubs.sort((a, b) => b.score - a.score || (a.ap.id < b.ap.id ? -1 : 1));
  return hubs.map((h, rank) => ({
    accessPointId: h.ap.id,
    publicKey: h.publicKey,
    endpoints: [...h.ap.endpoints],
    persistentKeepaliveSec: keepalive,
    rank,
  }));
}

/**
 * Compiles the configuration of the device with this serial. Refuses an unknown
 * serial, a device not yet activated (no key), an unbound device, a hub of the area
 * without a (valid, unique) key in the model or `opts.accessPointKeys`, and an
 * overlay pool that overlaps the instance's LAN or any destination it reaches.
 */
export function compileDeviceConfig(
  state: ModelState,
  serial: string,
  opts: DeviceCompileOptions = {},
): DeviceConfig {
  const device = find.device(state, serial);
  if (!device) throw new UnknownDeviceError(serial);
  // Without its key the device cannot be a WireGuard peer: there is nothing it could run.
  if (!device.publicKey) throw new DeviceNotActivatedError(device.serial);
  const instance = device.instanceId === null ? undefined : find.instance(state, device.instanceId);
  if (!instance) throw new DeviceNotBoundError(device.serial);
  const keepalive = keepaliveOption(opts);
  const pool = resolvePools(state, opts.overlay).get(instance.area) as OverlayPool;
  const address = allocateTunnelAddresses(state, opts.overlay).get(instance.id) as string;

  const ccn = instance.ccnId === null ? undefined : find.ccn(state, instance.ccnId);
  const routes = ccn ? instanceRoutes(state, instance.id).map(copyRoute) : [];
  assertPoolClear(pool, [
    ...instance.lanCidrs.map((cidr) => ({ cidr, owner: `LAN of instance ${instance.id}` })),
    ...routes.map((r) => ({ cidr: r.cidr, owner: describeTarget(r.target) })),
  ]);

  return stamp(
    {
      kind: 'device' as const,
      serial: device.serial,
      publicKey: device.publicKey,
      instance: {
        id: instance.id,
        area: instance.area,
        model: instance.model,
        bandwidthMbps: instance.bandwidthMbps,
      },
      ccnId: ccn ? ccn.id : null,
      address,
      uplinks: orderUplinks(instance.uplinks).map((u) => ({
        name: u.name,
        kind: u.kind,
        priority: u.priority,
        weight: u.weight,
      })),
      allowedIps: routes.map((r) => r.cidr),
      routes,
      peers: ccn ? hubPeers(state, instance, opts, keepalive) : [],
    },
    state.version,
  );
}
