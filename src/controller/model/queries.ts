/**
 * Read-only lookups over a ModelState, plus the labels used in error messages.
 * Lists are sorted by id so callers (and the configuration compiler) see the
 * same order whatever order the records were inserted in.
 */
import { ModelNotFoundError } from './errors.js';
import type {
  AccessPoint,
  Area,
  BandwidthGrant,
  Ccn,
  Cen,
  ModelState,
  SagDevice,
  SagInstance,
  VpcNetwork,
} from './types.js';

export const label = {
  area: (name: string) => `area ${name}`,
  accessPoint: (ap: Pick<AccessPoint, 'id'>) => `access point ${ap.id}`,
  instance: (i: Pick<SagInstance, 'id' | 'name'>) => `instance ${i.id} (${JSON.stringify(i.name)})`,
  device: (d: Pick<SagDevice, 'serial'>) => `device ${d.serial}`,
  ccn: (c: Pick<Ccn, 'id' | 'name'>) => `CCN ${c.id} (${JSON.stringify(c.name)})`,
  cen: (c: Pick<Cen, 'id' | 'name'>) => `CEN ${c.id} (${JSON.stringify(c.name)})`,
  vpc: (v: Pick<VpcNetwork, 'id' | 'name'>) => `VPC ${v.id} (${JSON.stringify(v.name)})`,
};

function lookup<T>(record: Record<string, T>, key: unknown): T | undefined {
  // Own-property check: a key such as "constructor" must not find Object.prototype members.
  return typeof key === 'string' && Object.hasOwn(record, key) ? record[key] : undefined;
}

function missing(what: string, key: unknown): never {
  throw new ModelNotFoundError(
    `${what} ${typeof key === 'string' ? key : JSON.stringify(key)} does not exist`,
    typeof key === 'string' ? [key] : [],
  );
}

export const find = {
  area: (s: ModelState, name: unknown): Area | undefined => lookup(s.areas, name),
  accessPoint: (s: ModelState, id: unknown): AccessPoint | undefined => lookup(s.accessPoints, id),
  instance: (s: ModelState, id: unknown): SagInstance | undefined => lookup(s.instances, id),
  device: (s: ModelState, serial: unknown): SagDevice | undefined => lookup(s.devices, serial),
  ccn: (s: ModelState, id: unknown): Ccn | undefined => lookup(s.ccns, id),
  cen: (s: ModelState, id: unknown): Cen | undefined => lookup(s.cens, id),
  vpc: (s: ModelState, id: unknown): VpcNetwork | undefined => lookup(s.vpcs, id),
};

/** Like `find`, but a missing object is an ERR_MODEL_NOT_FOUND refusal. */
export const get = {
  area: (s: ModelState, name: unknown): Area => find.area(s, name) ?? missing('area', name),
  accessPoint: (s: ModelState, id: unknown): AccessPoint =>
    find.accessPoint(s, id) ?? missing('access point', id),
  instance: (s: ModelState, id: unknown): SagInstance => find.instance(s, id) ?? missing('instance', id),
  device: (s: ModelState, serial: unknown): SagDevice => find.device(s, serial) ?? missing('device', serial),
  ccn: (s: ModelState, id: unknown): Ccn => find.ccn(s, id) ?? missing('CCN', id),
  cen: (s: ModelState, id: unknown): Cen => find.cen(s, id) ?? missing('CEN', id),
  vpc: (s: ModelState, id: unknown): VpcNetwork => find.vpc(s, id) ?? missing('VPC', id),
};

function sortedValues<T>(
  record: Record<string, T>,
  key: (t: T) => string,
  keep: (t: T) => boolean = () => true,
): T[] {
  return Object.values(record)
    .filter(keep)
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The area a region belongs to, or undefined when no area lists it. */
export function areaOfRegion(state: ModelState, region: string): string | undefined {
  for (const area of Object.values(state.areas)) if (area.regions.includes(region)) return area.name;
  return undefined;
}

/** Area of a VPC, resolved through the catalogue; rules keep every in-use region mapped. */
export function vpcArea(state: ModelState, vpc: VpcNetwork): string {
  const area = areaOfRegion(state, vpc.region);
  if (area === undefined)
    throw new ModelNotFoundError(`region ${vpc.region} of ${label.vpc(vpc)} is in no area`, [
      vpc.id,
      vpc.region,
    ]);
  return area;
}

export function ccnMembers(state: ModelState, ccnId: string): SagInstance[] {
  return sortedValues(
    state.instances,
    (i) => i.id,
    (i) => i.ccnId === ccnId,
  );
}

export function cenCcns(state: ModelState, cenId: string): Ccn[] {
  return sortedValues(
    state.ccns,
    (c) => c.id,
    (c) => c.cenId === cenId,
  );
}

export function cenVpcs(state: ModelState, cenId: string): VpcNetwork[] {
  return sortedValues(
    state.vpcs,
    (v) => v.id,
    (v) => v.cenId === cenId,
  );
}

/** The device bound to an instance, if any; at most one by the binding rule. */
export function deviceOfInstance(state: ModelState, instanceId: string): SagDevice | undefined {
  return Object.values(state.devices).find((d) => d.instanceId === instanceId);
}

export function accessPointsInArea(state: ModelState, area: string): AccessPoint[] {
  return sortedValues(
    state.accessPoints,
    (ap) => ap.id,
    (ap) => ap.area === area,
  );
}

export function instancesInArea(state: ModelState, area: string): SagInstance[] {
  return sortedValues(
    state.instances,
    (i) => i.id,
    (i) => i.area === area,
  );
}

/** Grants are keyed by the sorted pair so (a, b) and (b, a) are the same grant. */
export function grantKey(a: string, b: string): [string, string] {
  return a <= b ? [a, b] : [b, a];
}

export function findGrant(cen: Cen, a: string, b: string): BandwidthGrant | undefined {
  const [x, y] = grantKey(a, b);
  return cen.grants.find((g) => g.areas[0] === x && g.areas[1] === y);
}

export interface Referrer {
  id: string;
  label: string;
}

/** Everything that refers to an area, for "area in use" refusals and for UIs that explain them. */
export function areaReferrers(state: ModelState, area: string): Referrer[] {
  const out: Referrer[] = [];
  for (const ap of sortedValues(state.accessPoints, (x) => x.id))
    if (ap.area === area) out.push({ id: ap.id, label: label.accessPoint(ap) });
  for (const i of sortedValues(state.instances, (x) => x.id))
    if (i.area === area) out.push({ id: i.id, label: label.instance(i) });
  for (const c of sortedValues(state.ccns, (x) => x.id))
    if (c.area === area) out.push({ id: c.id, label: label.ccn(c) });
  const regions = find.area(state, area)?.regions ?? [];
  for (const v of sortedValues(state.vpcs, (x) => x.id)) {
    if (regions.includes(v.region)) out.push({ id: v.id, label: `${label.vpc(v)} in region ${v.region}` });
  }
  for (const c of sortedValues(state.cens, (x) => x.id)) {
    for (const g of c.grants) {
      if (g.areas.includes(area))
        out.push({ id: c.id, label: `the ${g.areas.join('/')} bandwidth grant of ${label.cen(c)}` });
    }
  }
  return out;
}

/** "a, b, c and 4 more": keeps refusal messages readable when many objects are involved. */
export function listForHumans(items: readonly string[], max = 3): string {
  const shown = items.slice(0, max);
  const rest = items.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}
