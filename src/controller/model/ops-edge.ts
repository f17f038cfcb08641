/**
 * Handlers for areas, access points, SAG instances and devices. Each handler only
 * reads `state` and records writes in the change set; nothing is applied until
 * every check of the command has passed.
 *
 * Commands whose desired end state already holds (bind to the same instance,
 * unbind an unbound device, set an offline instance offline) are accepted as
 * no-ops so that retried API calls are harmless; they do not bump any version.
 */
import type { ChangeSet } from './changes.js';
import {
  ModelConflictError,
  ModelDeviceMismatchError,
  ModelInUseError,
  ModelInvalidError,
} from './errors.js';
import { isValidId } from './ids.js';
import { areaOfRegion, areaReferrers, deviceOfInstance, find, get, label, listForHumans } from './queries.js';
import type { Command, IdPrefix, InstanceState, ModelState, SagInstance } from './types.js';
import {
  LIMITS,
  assertTransition,
  validateAreaName,
  validateCidrList,
  validateEndpoints,
  validateInstanceModel,
  validateInteger,
  validateMbps,
  validateName,
  validatePublicKey,
  validateRegionId,
  validateSerial,
  validateSoftwareVersion,
  validateStringArray,
  validateTimestamp,
  validateUplinks,
} from './validate.js';

export type Cmd<K extends Command['kind']> = Extract<Command, { kind: K }>;

export function validateNewId(prefix: IdPrefix, what: string, id: unknown, taken: boolean): string {
  if (typeof id !== 'string' || !isValidId(prefix, id)) {
    throw new ModelInvalidError(
      `${what} id ${JSON.stringify(id)} must look like "${prefix}-" followed by lowercase letters, digits and "-"`,
    );
  }
  if (taken) throw new ModelConflictError(`${what} ${id} already exists`, [id]);
  return id;
}

// ---- areas ----------------------------------------------------------------

function validateRegions(state: ModelState, area: string, value: unknown): string[] {
  const regions = validateStringArray(label.area(area), 'regions', value).map((r) =>
    validateRegionId(label.area(area), r),
  );
  if (regions.length === 0)
    throw new ModelInvalidError(`${label.area(area)}: at least one region is required`, [area]);
  const seen = new Set<string>();
  for (const region of regions) {
    if (seen.has(region))
      throw new ModelInvalidError(`${label.area(area)}: region ${region} is listed twice`, [area]);
    seen.add(region);
    const owner = areaOfRegion(state, region);
    if (owner !== undefined && owner !== area) {
      throw new ModelConflictError(
        `region ${region} already belongs to ${label.area(owner)}; a region is in exactly one area`,
        [region, owner],
      );
    }
  }
  return regions;
}

export function areaCreate(state: ModelState, cmd: Cmd<'area.create'>, cs: ChangeSet): void {
  const name = validateAreaName(cmd.name);
  if (find.area(state, name)) throw new ModelConflictError(`${label.area(name)} already exists`, [name]);
  cs.put('areas', name, { name, regions: validateRegions(state, name, cmd.regions), version: 0 });
}

export function areaSetRegions(state: ModelState, cmd: Cmd<'area.setRegions'>, cs: ChangeSet): void {
  const area = get.area(state, cmd.name);
  const regions = validateRegions(state, area.name, cmd.regions);
  // A VPC's area comes from its region, so dropping a region in use would silently move or orphan the VPC.
  for (const vpc of Object.values(state.vpcs)) {
    if (area.regions.includes(vpc.region) && !regions.includes(vpc.region)) {
      throw new ModelInUseError(
        `region ${vpc.region} cannot leave ${label.area(area.name)}: ${label.vpc(vpc)} is in it`,
        [vpc.region, vpc.id],
      );
    }
  }
  cs.put('areas', area.name, { ...area, regions });
}

export function areaDelete(state: ModelState, cmd: Cmd<'area.delete'>, cs: ChangeSet): void {
  const area = get.area(state, cmd.name);
  const users = areaReferrers(state, area.name);
  if (users.length > 0) {
    throw new ModelInUseError(
      `${label.area(area.name)} is still used by ${listForHumans(users.map((u) => u.label))}`,
      [area.name, ...new Set(users.map((u) => u.id))],
    );
  }
  cs.remove('areas', area.name);
}

// ---- access points --------------------------------------------------------

function validateApEndpoints(state: ModelState, id: string, value: unknown): string[] {
  const endpoints = validateEndpoints(label.accessPoint({ id }), value);
  for (const other of Object.values(state.accessPoints)) {
    if (other.id === id) continue;
    const shared = endpoints.find((e) => other.endpoints.includes(e));
    if (shared)
      throw new ModelConflictError(
        `endpoint ${shared} of ${label.accessPoint({ id })} is already used by ${label.accessPoint(other)}`,
        [id, other.id],
      );
  }
  return endpoints;
}

function validateApKey(state: ModelState, id: string, value: unknown): string | null {
  if (value === null) return null;
  const key = validatePublicKey(label.accessPoint({ id }), value);
  assertKeyFree(state, { accessPoint: id }, key);
  return key;
}

export function accessPointCreate(state: ModelState, cmd: Cmd<'accessPoint.create'>, cs: ChangeSet): void {
  const id = validateNewId('ap', 'access point', cmd.id, find.accessPoint(state, cmd.id) !== undefined);
  const area = get.area(state, cmd.area).name;
  const endpoints = validateApEndpoints(state, id, cmd.endpoints);
  const maxInstances = validateInteger(
    label.accessPoint({ id }),
    'maxInstances',
    cmd.maxInstances,
    1,
    LIMITS.maxInstancesPerAccessPoint,
  );
  const publicKey = validateApKey(state, id, cmd.publicKey ?? null);
  cs.put('accessPoints', id, { id, area, endpoints, maxInstances, publicKey, version: 0 });
}

export function accessPointUpdate(state: ModelState, cmd: Cmd<'accessPoint.update'>, cs: ChangeSet): void {
  const ap = get.accessPoint(state, cmd.id);
  const endpoints =
    cmd.endpoints === undefined ? ap.endpoints : validateApEndpoints(state, ap.id, cmd.endpoints);
  const maxInstances =
    cmd.maxInstances === undefined
      ? ap.maxInstances
      : validateInteger(
          label.accessPoint(ap),
          'maxInstances',
          cmd.maxInstances,
          1,
          LIMITS.maxInstancesPerAccessPoint,
        );
  // `?? null`: rows from before the field existed may lack it.
  const publicKey =
    cmd.publicKey === undefined ? (ap.publicKey ?? null) : validateApKey(state, ap.id, cmd.publicKey);
  cs.put('accessPoints', ap.id, { ...ap, endpoints, maxInstances, publicKey });
}

export function accessPointDelete(state: ModelState, cmd: Cmd<'accessPoint.delete'>, cs: ChangeSet): void {
  cs.remove('accessPoints', get.accessPoint(state, cmd.id).id);
}

// ---- instances ------------------------------------------------------------

export function instanceCreate(state: ModelState, cmd: Cmd<'instance.create'>, cs: ChangeSet): void {
  const id = validateNewId('sag', 'instance', cmd.id, find.instance(state, cmd.id) !== undefined);
  const name = validateName(`instance ${id}`, cmd.name);
  const owner = label.instance({ id, name });
  const instance: SagInstance = {
    id,
    name,
    area: get.area(state, cmd.area).name,
    model: validateInstanceModel(owner, cmd.model),
    bandwidthMbps: validateMbps(owner, 'bandwidthMbps', cmd.bandwidthMbps),
    lanCidrs: validateCidrList(owner, 'LAN CIDRs', cmd.lanCidrs),
    uplinks: validateUplinks(owner, cmd.uplinks),
    state: 'unbound',
    ccnId: null,
    version: 0,
  };
  cs.put('instances', id, instance);
}

export function instanceUpdate(state: ModelState, cmd: Cmd<'instance.update'>, cs: ChangeSet): void {
  const old = get.instance(state, cmd.id);
  const owner = label.instance(old);
  const next: SagInstance = {
    ...old,
    name: cmd.name === undefined ? old.name : validateName(owner, cmd.name),
    bandwidthMbps:
      cmd.bandwidthMbps === undefined
        ? old.bandwidthMbps
        : validateMbps(owner, 'bandwidthMbps', cmd.bandwidthMbps),
    lanCidrs: cmd.lanCidrs === undefined ? old.lanCidrs : validateCidrList(owner, 'LAN CIDRs', cmd.lanCidrs),
    uplinks: cmd.uplinks === undefined ? old.uplinks : validateUplinks(owner, cmd.uplinks),
  };
  cs.put('instances', old.id, next);
  if (cmd.lanCidrs !== undefined && old.ccnId !== null) {
    cs.checkCcn(old.ccnId);
    cs.checkCen(get.ccn(state, old.ccnId).cenId);
  }
}

export function instanceDelete(state: ModelState, cmd: Cmd<'instance.delete'>, cs: ChangeSet): void {
  const instance = get.instance(state, cmd.id);
  if (instance.ccnId !== null) {
    const ccn = get.ccn(state, instance.ccnId);
    throw new ModelInUseError(
      `${label.instance(instance)} is still a member of ${label.ccn(ccn)}; remove it from the CCN first`,
      [instance.id, ccn.id],
    );
  }
  const device = deviceOfInstance(state, instance.id);
  if (device) {
    throw new ModelInUseError(
      `${label.instance(instance)} still has ${label.device(device)} bound; unbind it first`,
      [instance.id, device.serial],
    );
  }
  cs.remove('instances', instance.id);
}

function setInstanceState(cs: ChangeSet, instance: SagInstance, to: InstanceState, hint = ''): void {
  if (instance.state === to) return;
  assertTransition(label.instance(instance), instance.id, instance.state, to, hint);
  cs.put('instances', instance.id, { ...instance, state: to });
}

export function instanceSetOffline(state: ModelState, cmd: Cmd<'instance.setOffline'>, cs: ChangeSet): void {
  setInstanceState(cs, get.instance(state, cmd.id), 'offline');
}

export function instanceExpire(state: ModelState, cmd: Cmd<'instance.expire'>, cs: ChangeSet): void {
  const at = validateTimestamp('expiry', 'at', cmd.at);
  const staleAfter = validateTimestamp('expiry', 'staleAfterMs', cmd.staleAfterMs);
  for (const instance of Object.values(state.instances)) {
    if (instance.state !== 'online') continue;
    const lastSeen = deviceOfInstance(state, instance.id)?.lastSeen ?? null;
    if (lastSeen === null || lastSeen < at - staleAfter)
      cs.put('instances', instance.id, { ...instance, state: 'offline' });
  }
}

// ---- devices --------------------------------------------------------------

/**
 * Two peers with one key would make WireGuard's key-based routing ambiguous, and a
 * device holding a hub's key could impersonate the hub, so a key belongs to one
 * device or one access point. `self` is the owner being written, which may keep its key.
 */
function assertKeyFree(
  state: ModelState,
  self: { device: string } | { accessPoint: string },
  key: string,
): void {
  const selfId = 'device' in self ? self.device : self.accessPoint;
  const selfLabel =
    'device' in self ? label.device({ serial: self.device }) : label.accessPoint({ id: self.accessPoint });
  const device = Object.values(state.devices).find(
    (d) => d.publicKey === key && !('device' in self && d.serial === self.device),
  );
  if (device)
    throw new ModelConflictError(`public key of ${selfLabel} is already used by ${label.device(device)}`, [
      selfId,
      device.serial,
    ]);
  const ap = Object.values(state.accessPoints).find(
    (a) => a.publicKey === key && !('accessPoint' in self && a.id === self.accessPoint),
  );
  if (ap)
    throw new ModelConflictError(`public key of ${selfLabel} is already used by ${label.accessPoint(ap)}`, [
      selfId,
      ap.id,
    ]);
}

export function deviceRegister(state: ModelState, cmd: Cmd<'device.register'>, cs: ChangeSet): void {
  const serial = validateSerial(cmd.serial);
  if (find.device(state, serial))
    throw new ModelConflictError(`${label.device({ serial })} is already registered`, [serial]);
  const owner = label.device({ serial });
  const model = validateInstanceModel(owner, cmd.model);
  // No key: registered awaiting activation, when the device uploads the key it generated itself.
  const publicKey = cmd.publicKey === undefined ? '' : validatePublicKey(owner, cmd.publicKey);
  if (publicKey !== '') assertKeyFree(state, { device: serial }, publicKey);
  const softwareVersion = validateSoftwareVersion(owner, cmd.softwareVersion);
  cs.put('devices', serial, {
    serial,
    model,
    publicKey,
    softwareVersion,
    lastSeen: null,
    instanceId: null,
    version: 0,
  });
}

export function deviceUpdate(state: ModelState, cmd: Cmd<'device.update'>, cs: ChangeSet): void {
  const device = get.device(state, cmd.serial);
  const owner = label.device(device);
  const publicKey = cmd.publicKey === undefined ? device.publicKey : validatePublicKey(owner, cmd.publicKey);
  if (publicKey !== '') assertKeyFree(state, { device: device.serial }, publicKey);
  const softwareVersion =
    cmd.softwareVersion === undefined
      ? device.softwareVersion
      : validateSoftwareVersion(owner, cmd.softwareVersion);
  cs.put('devices', device.serial, { ...device, publicKey, softwareVersion });
}

export function deviceDelete(state: ModelState, cmd: Cmd<'device.delete'>, cs: ChangeSet): void {
  const device = get.device(state, cmd.serial);
  if (device.instanceId !== null) {
    const instance = get.instance(state, device.instanceId);
    throw new ModelInUseError(
      `${label.device(device)} is still bound to ${label.instance(instance)}; unbind it first`,
      [device.serial, instance.id],
    );
  }
  cs.remove('devices', device.serial);
}

export function deviceBind(state: ModelState, cmd: Cmd<'device.bind'>, cs: ChangeSet): void {
  const device = get.device(state, cmd.serial);
  const instance = get.instance(state, cmd.instanceId);
  if (device.instanceId === instance.id) return;
  if (device.instanceId !== null) {
    const current = get.instance(state, device.instanceId);
    throw new ModelConflictError(
      `${label.device(device)} is already bound to ${label.instance(current)}; a device binds to one instance, unbind it first`,
      [device.serial, current.id, instance.id],
    );
  }
  const holder = deviceOfInstance(state, instance.id);
  if (holder) {
    throw new ModelConflictError(`${label.instance(instance)} already has ${label.device(holder)} bound`, [
      instance.id,
      holder.serial,
      device.serial,
    ]);
  }
  if (device.model !== instance.model) {
    throw new ModelDeviceMismatchError(
      `${label.device(device)} is a ${device.model} device and cannot be bound to ${label.instance(instance)}, which is a ${instance.model} instance`,
      [device.serial, instance.id],
    );
  }
  setInstanceState(cs, instance, 'bound');
  cs.put('devices', device.serial, { ...device, instanceId: instance.id });
}

export function deviceUnbind(state: ModelState, cmd: Cmd<'device.unbind'>, cs: ChangeSet): void {
  const device = get.device(state, cmd.serial);
  if (device.instanceId === null) return;
  const instance = get.instance(state, device.instanceId);
  setInstanceState(cs, instance, 'unbound', '; mark it offline before unbinding its device');
  cs.put('devices', device.serial, { ...device, instanceId: null });
}

export function deviceHeartbeat(state: ModelState, cmd: Cmd<'device.heartbeat'>, cs: ChangeSet): void {
  const device = get.device(state, cmd.serial);
  const owner = label.device(device);
  const at = validateTimestamp(owner, 'at', cmd.at);
  const softwareVersion =
    cmd.softwareVersion === undefined
      ? device.softwareVersion
      : validateSoftwareVersion(owner, cmd.softwareVersion);
  // Heartbeats can arrive out of order: a late one neither moves lastSeen back nor
  // revives an instance that has since been marked offline.
  const fresh = device.lastSeen === null || at >= device.lastSeen;
  if (fresh) cs.put('devices', device.serial, { ...device, lastSeen: at, softwareVersion });
  if (fresh && device.instanceId !== null)
    setInstanceState(cs, get.instance(state, device.instanceId), 'online');
}
