/**
 * Reachability and the routes a CCN member learns.
 *
 * Within a CCN every member reaches every other member and the CCN's own CIDRs
 * (the pool its app clients are addressed from). Through the CEN the CCN is
 * attached to, it also reaches the attached VPCs and the other attached CCNs: in
 * the same area freely, across areas only with a bandwidth grant for that pair of
 * areas. Routes are configuration, not liveness: offline peers are still listed
 * and the dataplane decides what to do with a dead next hop.
 */
import { compareCidrs, parseCidr } from '../../net/cidr.js';
import { ccnMembers, cenCcns, cenVpcs, find, findGrant, get, vpcArea } from './queries.js';
import type { Ccn, ModelState, Reach, Route } from './types.js';

/** Whether a network in `fromArea` reaches one in `toArea` through the given CEN. */
function reachAcross(state: ModelState, cenId: string, fromArea: string, toArea: string): Reach {
  if (fromArea === toArea) return { reachable: true, reason: 'same-area', grantMbps: null };
  const grant = findGrant(get.cen(state, cenId), fromArea, toArea);
  return grant
    ? { reachable: true, reason: 'granted', grantMbps: grant.mbps }
    : { reachable: false, reason: 'no-grant', grantMbps: null };
}

/** Whether members of a CCN reach a VPC or another CCN, and why (or why not). */
export function reach(state: ModelState, ccnId: string, target: { kind: 'ccn' | 'vpc'; id: string }): Reach {
  const ccn = get.ccn(state, ccnId);
  let targetCen: string | null;
  let targetArea: string;
  if (target.kind === 'ccn') {
    if (target.id === ccn.id) return { reachable: true, reason: 'same-ccn', grantMbps: null };
    const other = get.ccn(state, target.id);
    targetCen = other.cenId;
    targetArea = other.area;
  } else {
    const vpc = get.vpc(state, target.id);
    targetCen = vpc.cenId;
    targetArea = vpcArea(state, vpc);
  }
  if (ccn.cenId === null || targetCen === null)
    return { reachable: false, reason: 'no-cen', grantMbps: null };
  if (ccn.cenId !== targetCen) return { reachable: false, reason: 'different-cen', grantMbps: null };
  return reachAcross(state, ccn.cenId, ccn.area, targetArea);
}

function sortRoutes(routes: Route[]): Route[] {
  const key = (r: Route) => {
    const parsed = parseCidr(r.cidr);
    if (!parsed.ok) throw new Error(`stored CIDR ${r.cidr} is invalid`);
    return parsed.cidr;
  };
  return routes.sort((a, b) => compareCidrs(key(a), key(b)));
}

function ccnOwnRoutes(state: ModelState, ccn: Ccn, area: string, grantMbps: number | null): Route[] {
  const out: Route[] = ccn.cidrs.map((cidr) => ({
    cidr,
    target: { kind: 'ccn', id: ccn.id },
    area,
    grantMbps,
  }));
  for (const member of ccnMembers(state, ccn.id)) {
    for (const cidr of member.lanCidrs) {
      out.push({ cidr, target: { kind: 'instance', id: member.id, ccnId: ccn.id }, area, grantMbps });
    }
  }
  return out;
}

/**
 * Every destination reachable from a CCN: its own CIDRs and members' LANs, then
 * what its CEN makes reachable. Sorted by address (IPv4 first) for stable output.
 */
export function ccnRoutes(state: ModelState, ccnId: string): Route[] {
  const ccn = get.ccn(state, ccnId);
  const routes = ccnOwnRoutes(state, ccn, ccn.area, null);
  if (ccn.cenId !== null) {
    for (const other of cenCcns(state, ccn.cenId)) {
      if (other.id === ccn.id) continue;
      const r = reachAcross(state, ccn.cenId, ccn.area, other.area);
      if (r.reachable) routes.push(...ccnOwnRoutes(state, other, other.area, r.grantMbps));
    }
    for (const vpc of cenVpcs(state, ccn.cenId)) {
      const area = vpcArea(state, vpc);
      const r = reachAcross(state, ccn.cenId, ccn.area, area);
      if (!r.reachable) continue;
      for (const cidr of vpc.cidrs)
        routes.push({ cidr, target: { kind: 'vpc', id: vpc.id }, area, grantMbps: r.grantMbps });
    }
  }
  return sortRoutes(routes);
}

/** Routes one member instance gets: everything its CCN reaches except its own LANs. Empty outside a CCN. */
export function instanceRoutes(state: ModelState, instanceId: string): Route[] {
  const instance = get.instance(state, instanceId);
  if (instance.ccnId === null || !find.ccn(state, instance.ccnId)) return [];
  return ccnRoutes(state, instance.ccnId).filter(
    (r) => !(r.target.kind === 'instance' && r.target.id === instance.id),
  );
}
