/**
 * Address-space rules. Inside one CCN, the CCN's own CIDRs and every member's LAN
 * CIDRs must be disjoint, because members learn each other's LANs as routes and an
 * overlap would make a destination ambiguous. Inside one CEN the same holds across
 * all attached CCNs (their CIDRs and members' LANs) and all attached VPCs. The CEN
 * rule ignores bandwidth grants: a grant added later must not be able to create an
 * ambiguity that was accepted earlier.
 */
import { findOverlap, parseCidr, type Cidr, type LabelledCidr } from '../../net/cidr.js';
import { ModelCidrOverlapError } from './errors.js';
import { ccnMembers, cenCcns, cenVpcs, get, label } from './queries.js';
import type { Ccn, ModelState } from './types.js';

interface Origin {
  /** e.g. "LAN of instance sag-1 ("Shop")". */
  what: string;
  id: string;
  cidr: string;
}

function parsed(text: string): Cidr {
  const result = parseCidr(text);
  // Stored CIDRs were canonicalised on the way in; failing here means the state was edited by hand.
  if (!result.ok) throw new Error(`stored CIDR ${text} is invalid: ${result.reason}`);
  return result.cidr;
}

function ccnSpace(state: ModelState, ccn: Ccn, suffix: string): LabelledCidr<Origin>[] {
  const out: LabelledCidr<Origin>[] = [];
  for (const cidr of ccn.cidrs)
    out.push({ cidr: parsed(cidr), label: { what: `CIDR of ${label.ccn(ccn)}`, id: ccn.id, cidr } });
  for (const member of ccnMembers(state, ccn.id)) {
    for (const cidr of member.lanCidrs) {
      out.push({
        cidr: parsed(cidr),
        label: { what: `LAN of ${label.instance(member)}${suffix}`, id: member.id, cidr },
      });
    }
  }
  return out;
}

function refuse(scope: string, scopeId: string, pair: [LabelledCidr<Origin>, LabelledCidr<Origin>]): never {
  const [a, b] = pair;
  const ids = [scopeId, ...new Set([a.label.id, b.label.id])];
  throw new ModelCidrOverlapError(
    `${a.label.cidr} (${a.label.what}) overlaps ${b.label.cidr} (${b.label.what}) in ${scope}`,
    ids,
  );
}

export function assertCcnSpace(state: ModelState, ccnId: string): void {
  const ccn = get.ccn(state, ccnId);
  const clash = findOverlap(ccnSpace(state, ccn, ''));
  if (clash) refuse(label.ccn(ccn), ccn.id, clash);
}

export function assertCenSpace(state: ModelState, cenId: string): void {
  const cen = get.cen(state, cenId);
  const items: LabelledCidr<Origin>[] = [];
  for (const ccn of cenCcns(state, cen.id)) items.push(...ccnSpace(state, ccn, ` in ${label.ccn(ccn)}`));
  for (const vpc of cenVpcs(state, cen.id)) {
    for (const cidr of vpc.cidrs)
      items.push({ cidr: parsed(cidr), label: { what: `CIDR of ${label.vpc(vpc)}`, id: vpc.id, cidr } });
  }
  const clash = findOverlap(items);
  if (clash) refuse(label.cen(cen), cen.id, clash);
}
