/**
 * Whole-state consistency check. The command handlers keep these invariants, so
 * this is for states that did not come through them: a store loading JSON it did
 * not write, a migration, or tests asserting that no sequence of commands breaks
 * the model.
 */
import { findOverlap, formatCidr, parseCidr, type Cidr } from '../../net/cidr.js';
import { ModelError } from './errors.js';
import { areaOfRegion, find } from './queries.js';
import { assertCcnSpace, assertCenSpace } from './space.js';
import type { ModelState } from './types.js';
import { COLLECTION_NAMES } from './changes.js';

/** Problems found, one sentence each; empty when the state is consistent. */
export function checkInvariants(state: ModelState): string[] {
  const problems: string[] = [];
  const say = (message: string) => problems.push(message);
  if (state.schema !== 1) say(`unknown schema ${JSON.stringify(state.schema)}`);
  if (!Number.isSafeInteger(state.version) || state.version < 0) say(`bad model version ${state.version}`);
  for (const name of COLLECTION_NAMES) {
    if (typeof state[name] !== 'object' || state[name] === null) {
      say(`collection ${name} is missing`);
      return problems;
    }
    for (const [key, entity] of Object.entries(state[name])) {
      const id = 'id' in entity ? entity.id : 'serial' in entity ? entity.serial : entity.name;
      if (id !== key) say(`${name}/${key} is stored under the wrong key (its id is ${id})`);
      if (!(entity.version >= 0 && entity.version <= state.version))
        say(`${name}/${key} has version ${entity.version} outside 0..${state.version}`);
    }
  }
  const canonical = (owner: string, list: readonly string[]) => {
    const parsed: Cidr[] = [];
    for (const text of list) {
      const p = parseCidr(text);
      if (!p.ok || formatCidr(p.cidr) !== text) say(`${owner}: CIDR ${text} is not canonical`);
      else parsed.push(p.cidr);
    }
    if (findOverlap(parsed.map((cidr) => ({ cidr, label: '' })))) say(`${owner}: its own CIDRs overlap`);
  };
  const regionOwner = new Map<string, string>();
  for (const area of Object.values(state.areas)) {
    for (const region of area.regions) {
      const other = regionOwner.get(region);
      if (other !== undefined) say(`region ${region} is in both area ${other} and area ${area.name}`);
      regionOwner.set(region, area.name);
    }
  }
  const keyOwners = new Map<string, string>();
  const ownKey = (owner: string, key: unknown) => {
    if (key === null || key === undefined || key === '') return; // not set yet (see AccessPoint/SagDevice.publicKey)
    if (typeof key !== 'string' || !/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(key))
      return say(`${owner}: public key is not a WireGuard key`);
    const other = keyOwners.get(key);
    if (other !== undefined) say(`${owner} and ${other} have the same public key`);
    keyOwners.set(key, owner);
  };
  for (const ap of Object.values(state.accessPoints)) {
    if (!find.area(state, ap.area)) say(`access point ${ap.id}: area ${ap.area} does not exist`);
    ownKey(`access point ${ap.id}`, ap.publicKey);
  }
  for (const d of Object.values(state.devices)) ownKey(`device ${d.serial}`, d.publicKey);
  for (const i of Object.values(state.instances)) {
    if (!find.area(state, i.area)) say(`instance ${i.id}: area ${i.area} does not exist`);
    canonical(`instance ${i.id}`, i.lanCidrs);
    if (i.ccnId !== null) {
      const ccn = find.ccn(state, i.ccnId);
      if (!ccn) say(`instance ${i.id}: CCN ${i.ccnId} does not exist`);
      else if (ccn.area !== i.area)
        say(`instance ${i.id} (area ${i.area}) is in CCN ${ccn.id} of area ${ccn.area}`);
    }
    const devices = Object.values(state.devices).filter((d) => d.instanceId === i.id);
    if (devices.length > 1) say(`instance ${i.id} has ${devices.length} devices bound`);
    if ((devices.length === 0) !== (i.state === 'unbound'))
      say(`instance ${i.id} is ${i.state} with ${devices.length} device(s) bound`);
  }
  for (const d of Object.values(state.devices)) {
    if (d.instanceId === null) continue;
    const i = find.instance(state, d.instanceId);
    if (!i) say(`device ${d.serial}: instance ${d.instanceId} does not exist`);
    else if (i.model !== d.model)
      say(`device ${d.serial} (${d.model}) is bound to ${i.model} instance ${i.id}`);
  }
  for (const c of Object.values(state.ccns)) {
    if (!find.area(state, c.area)) say(`CCN ${c.id}: area ${c.area} does not exist`);
    canonical(`CCN ${c.id}`, c.cidrs);
    if (c.cenId !== null && !find.cen(state, c.cenId)) say(`CCN ${c.id}: CEN ${c.cenId} does not exist`);
  }
  for (const v of Object.values(state.vpcs)) {
    if (areaOfRegion(state, v.region) === undefined) say(`VPC ${v.id}: region ${v.region} is in no area`);
    canonical(`VPC ${v.id}`, v.cidrs);
    if (v.cenId !== null && !find.cen(state, v.cenId)) say(`VPC ${v.id}: CEN ${v.cenId} does not exist`);
  }
  for (const c of Object.values(state.cens)) {
    for (const g of c.grants) {
      if (!(g.areas[0] < g.areas[1]))
        say(`CEN ${c.id}: grant ${g.areas.join('/')} is not a sorted pair of distinct areas`);
      for (const a of g.areas) if (!find.area(state, a)) say(`CEN ${c.id}: grant area ${a} does not exist`);
    }
  }
  if (problems.length > 0) return problems;
  // Overlap checks walk references, so they only run on a referentially sound state.
  const overlap = (check: () => void) => {
    try {
      check();
    } catch (err) {
      if (err instanceof ModelError) say(err.message);
      else throw err;
    }
  };
  for (const id of Object.keys(state.ccns)) overlap(() => assertCcnSpace(state, id));
  for (const id of Object.keys(state.cens)) overlap(() => assertCenSpace(state, id));
  return problems;
}
