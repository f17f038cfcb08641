/**
 * Handlers for CCNs, CENs and VPC networks. Same contract as ops-edge.ts: read
 * `state`, record writes in the change set, and name the address-space scopes
 * (CCN, CEN) that must be re-checked once the writes are in place.
 */
import type { ChangeSet } from './changes.js';
import {
  ModelAreaMismatchError,
  ModelConflictError,
  ModelInUseError,
  ModelInvalidError,
  ModelNotFoundError,
} from './errors.js';
import { validateNewId, type Cmd } from './ops-edge.js';
import {
  areaOfRegion,
  ccnMembers,
  cenCcns,
  cenVpcs,
  find,
  findGrant,
  get,
  grantKey,
  label,
  listForHumans,
} from './queries.js';
import type { BandwidthGrant, ModelState } from './types.js';
import {
  LIMITS,
  validateCidrList,
  validateMbps,
  validateName,
  validateRegionId,
  validateStringArray,
} from './validate.js';

// ---- CCNs -----------------------------------------------------------------

function validateCcnCidrs(owner: string, value: unknown): string[] {
  return validateCidrList(owner, 'CIDRs', value, { max: LIMITS.ccnCidrs, privateOnly: true });
}

export function ccnCreate(state: ModelState, cmd: Cmd<'ccn.create'>, cs: ChangeSet): void {
  const id = validateNewId('ccn', 'CCN', cmd.id, find.ccn(state, cmd.id) !== undefined);
  const name = validateName(`CCN ${id}`, cmd.name);
  const area = get.area(state, cmd.area).name;
  const cidrs = validateCcnCidrs(label.ccn({ id, name }), cmd.cidrs);
  cs.put('ccns', id, { id, name, area, cidrs, cenId: null, version: 0 });
}

export function ccnUpdate(state: ModelState, cmd: Cmd<'ccn.update'>, cs: ChangeSet): void {
  const ccn = get.ccn(state, cmd.id);
  const name = cmd.name === undefined ? ccn.name : validateName(label.ccn(ccn), cmd.name);
  const cidrs = cmd.cidrs === undefined ? ccn.cidrs : validateCcnCidrs(label.ccn(ccn), cmd.cidrs);
  cs.put('ccns', ccn.id, { ...ccn, name, cidrs });
  if (cmd.cidrs !== undefined) {
    cs.checkCcn(ccn.id);
    cs.checkCen(ccn.cenId);
  }
}

export function ccnDelete(state: ModelState, cmd: Cmd<'ccn.delete'>, cs: ChangeSet): void {
  const ccn = get.ccn(state, cmd.id);
  const members = ccnMembers(state, ccn.id);
  if (members.length > 0) {
    throw new ModelInUseError(
      `${label.ccn(ccn)} still has members: ${listForHumans(members.map(label.instance))}`,
      [ccn.id, ...members.map((m) => m.id)],
    );
  }
  if (ccn.cenId !== null) {
    const cen = get.cen(state, ccn.cenId);
    throw new ModelInUseError(`${label.ccn(ccn)} is still attached to ${label.cen(cen)}; detach it first`, [
      ccn.id,
      cen.id,
    ]);
  }
  cs.remove('ccns', ccn.id);
}

export function ccnJoin(state: ModelState, cmd: Cmd<'ccn.join'>, cs: ChangeSet): void {
  const ccn = get.ccn(state, cmd.ccnId);
  const instance = get.instance(state, cmd.instanceId);
  if (instance.ccnId === ccn.id) return;
  if (instance.ccnId !== null) {
    const current = get.ccn(state, instance.ccnId);
    throw new ModelConflictError(
      `${label.instance(instance)} is already a member of ${label.ccn(current)}; an instance is in at most one CCN`,
      [instance.id, current.id, ccn.id],
    );
  }
  if (instance.area !== ccn.area) {
    throw new ModelAreaMismatchError(
      `${label.instance(instance)} is in area ${instance.area} and cannot join ${label.ccn(ccn)}, which is in area ${ccn.area}`,
      [instance.id, ccn.id],
    );
  }
  cs.put('instances', instance.id, { ...instance, ccnId: ccn.id });
  cs.checkCcn(ccn.id);
  cs.checkCen(ccn.cenId);
}

export function ccnLeave(state: ModelState, cmd: Cmd<'ccn.leave'>, cs: ChangeSet): void {
  const ccn = get.ccn(state, cmd.ccnId);
  const instance = get.instance(state, cmd.instanceId);
  if (instance.ccnId !== ccn.id) return;
  cs.put('instances', instance.id, { ...instance, ccnId: null });
}

// ---- CENs -----------------------------------------------------------------

export function cenCreate(state: ModelState, cmd: Cmd<'cen.create'>, cs: ChangeSet): void {
  const id = validateNewId('cen', 'CEN', cmd.id, find.cen(state, cmd.id) !== undefined);
  cs.put('cens', id, { id, name: validateName(`CEN ${id}`, cmd.name), grants: [], version: 0 });
}

export function cenUpdate(state: ModelState, cmd: Cmd<'cen.update'>, cs: ChangeSet): void {
  const cen = get.cen(state, cmd.id);
  cs.put('cens', cen.id, { ...cen, name: validateName(label.cen(cen), cmd.name) });
}

export function cenDelete(state: ModelState, cmd: Cmd<'cen.delete'>, cs: ChangeSet): void {
  const cen = get.cen(state, cmd.id);
  const attached = [
    ...cenCcns(state, cen.id).map((c) => ({ id: c.id, label: label.ccn(c) })),
    ...cenVpcs(state, cen.id).map((v) => ({ id: v.id, label: label.vpc(v) })),
  ];
  if (attached.length > 0) {
    throw new ModelInUseError(
      `${label.cen(cen)} still has ${listForHumans(attached.map((a) => a.label))} attached`,
      [cen.id, ...attached.map((a) => a.id)],
    );
  }
  // Grants belong to the CEN and go with it.
  cs.remove('cens', cen.id);
}

export function cenAttachCcn(state: ModelState, cmd: Cmd<'cen.attachCcn'>, cs: ChangeSet): void {
  const cen = get.cen(state, cmd.cenId);
  const ccn = get.ccn(state, cmd.ccnId);
  if (ccn.cenId === cen.id) return;
  if (ccn.cenId !== null) {
    const current = get.cen(state, ccn.cenId);
    throw new ModelConflictError(
      `${label.ccn(ccn)} is already attached to ${label.cen(current)}; a CCN attaches to at most one CEN`,
      [ccn.id, current.id, cen.id],
    );
  }
  cs.put('ccns', ccn.id, { ...ccn, cenId: cen.id });
  cs.checkCen(cen.id);
}

export function cenDetachCcn(state: ModelState, cmd: Cmd<'cen.detachCcn'>, cs: ChangeSet): void {
  const cen = get.cen(state, cmd.cenId);
  const ccn = get.ccn(state, cmd.ccnId);
  if (ccn.cenId === cen.id) cs.put('ccns', ccn.id, { ...ccn, cenId: null });
}

export function cenAttachVpc(state: ModelState, cmd: Cmd<'cen.attachVpc'>, cs: ChangeSet): void {
  const cen = get.cen(state, cmd.cenId);
  const vpc = get.vpc(state, cmd.vpcId);
  if (vpc.cenId === cen.id) return;
  if (vpc.cenId !== null) {
    const current = get.cen(state, vpc.cenId);
    throw new ModelConflictError(
      `${label.vpc(vpc)} is already attached to ${label.cen(current)}; a VPC attaches to at most one CEN`,
      [vpc.id, current.id, cen.id],
    );
  }
  cs.put('vpcs', vpc.id, { ...vpc, cenId: cen.id });
  cs.checkCen(cen.id);
}

export function cenDetachVpc(state: ModelState, cmd: Cmd<'cen.detachVpc'>, cs: ChangeSet): void {
  const cen = get.cen(state, cmd.cenId);
  const vpc = get.vpc(state, cmd.vpcId);
  if (vpc.cenId === cen.id) cs.put('vpcs', vpc.id, { ...vpc, cenId: null });
}

function validateAreaPair(state: ModelState, owner: string, value: unknown): [string, string] {
  const areas = validateStringArray(owner, 'grant areas', value);
  if (areas.length !== 2)
    throw new ModelInvalidError(`${owner}: a bandwidth grant names exactly two areas, got ${areas.length}`);
  const [a, b] = areas.map((name) => get.area(state, name).name) as [string, string];
  if (a === b)
    throw new ModelInvalidError(
      `${owner}: a bandwidth grant joins two different areas; traffic within ${label.area(a)} needs none`,
      [a],
    );
  return grantKey(a, b);
}

export function cenSetGrant(state: ModelState, cmd: Cmd<'cen.setGrant'>, cs: ChangeSet): void {
  const cen = get.cen(state, cmd.cenId);
  const areas = validateAreaPair(state, label.cen(cen), cmd.areas);
  const mbps = validateMbps(label.cen(cen), `${areas.join('/')} grant`, cmd.mbps);
  const grants: BandwidthGrant[] = cen.grants.filter(
    (g) => !(g.areas[0] === areas[0] && g.areas[1] === areas[1]),
  );
  grants.push({ areas, mbps });
  grants.sort((x, y) => (x.areas.join('/') < y.areas.join('/') ? -1 : 1));
  cs.put('cens', cen.id, { ...cen, grants });
}

export function cenRemoveGrant(state: ModelState, cmd: Cmd<'cen.removeGrant'>, cs: ChangeSet): void {
  const cen = get.cen(state, cmd.cenId);
  const areas = validateAreaPair(state, label.cen(cen), cmd.areas);
  if (!findGrant(cen, areas[0], areas[1])) return;
  cs.put('cens', cen.id, {
    ...cen,
    grants: cen.grants.filter((g) => !(g.areas[0] === areas[0] && g.areas[1] === areas[1])),
  });
}

// ---- VPC networks ---------------------------------------------------------

function validateVpcCidrs(owner: string, value: unknown): string[] {
  const cidrs = validateCidrList(owner, 'CIDRs', value);
  if (cidrs.length === 0) throw new ModelInvalidError(`${owner}: at least one CIDR is required`);
  return cidrs;
}

export function vpcCreate(state: ModelState, cmd: Cmd<'vpc.create'>, cs: ChangeSet): void {
  const id = validateNewId('vpc', 'VPC', cmd.id, find.vpc(state, cmd.id) !== undefined);
  const name = validateName(`VPC ${id}`, cmd.name);
  const owner = label.vpc({ id, name });
  const region = validateRegionId(owner, cmd.region);
  if (areaOfRegion(state, region) === undefined) {
    throw new ModelNotFoundError(`${owner}: region ${region} is in no area; add it to an area first`, [
      id,
      region,
    ]);
  }
  cs.put('vpcs', id, {
    id,
    name,
    region,
    cidrs: validateVpcCidrs(owner, cmd.cidrs),
    cenId: null,
    version: 0,
  });
}

export function vpcUpdate(state: ModelState, cmd: Cmd<'vpc.update'>, cs: ChangeSet): void {
  const vpc = get.vpc(state, cmd.id);
  const name = cmd.name === undefined ? vpc.name : validateName(label.vpc(vpc), cmd.name);
  const cidrs = cmd.cidrs === undefined ? vpc.cidrs : validateVpcCidrs(label.vpc(vpc), cmd.cidrs);
  cs.put('vpcs', vpc.id, { ...vpc, name, cidrs });
  if (cmd.cidrs !== undefined) cs.checkCen(vpc.cenId);
}

export function vpcDelete(state: ModelState, cmd: Cmd<'vpc.delete'>, cs: ChangeSet): void {
  const vpc = get.vpc(state, cmd.id);
  if (vpc.cenId !== null) {
    const cen = get.cen(state, vpc.cenId);
    throw new ModelInUseError(`${label.vpc(vpc)} is still attached to ${label.cen(cen)}; detach it first`, [
      vpc.id,
      cen.id,
    ]);
  }
  cs.remove('vpcs', vpc.id);
}
