/**
 * The configuration of a hub (access point): the branch devices it terminates and
 * the forwarding policy that keeps CCNs apart.
 *
 * Peers are the devices bound to instances of the hub's area that are members of
 * a CCN; every hub of an area lists every such device, because the device picks
 * its hub by probing and may fail over at any time. The policy is an allow list
 * per source CCN, derived from the model's route functions, so the hub enforces
 * exactly what devices were told they may reach: branch to branch within the CCN,
 * and to other CCNs and VPCs only where the CEN and its area grants allow.
 */
import { compareCidrs, parseCidr } from '../../net/cidr.js';
import {
  ccnRoutes,
  deviceOfInstance,
  find,
  instancesInArea,
  reach,
  type ModelState,
} from '../model/index.js';
import { allocateTunnelAddresses, assertPoolClear, resolvePools, type OverlayPool } from './addresses.js';
import { UnknownAccessPointError } from './errors.js';
import type { CompileOptions } from './types.js';
import type { AccessPointConfig, ForwardingRule, HubPeer } from '../../contract/config.js';
import { stamp } from '../../contract/version.js';

function sortCidrs(cidrs: readonly string[]): string[] {
  const keyed = cidrs.map((text) => {
    const parsed = parseCidr(text);
    if (!parsed.ok) throw new Error(`compiled CIDR ${text} is invalid: ${parsed.reason}`);
    return { text, cidr: parsed.cidr };
  });
  return keyed.sort((a, b) => compareCidrs(a.cidr, b.cidr)).map((k) => k.text);
}

function hubPeers(state: ModelState, area: string, addresses: ReadonlyMap<string, string>): HubPeer[] {
  const peers: HubPeer[] = [];
  for (const instance of instancesInArea(state, area)) {
    if (instance.ccnId === null || !find.ccn(state, instance.ccnId)) continue;
    const device = deviceOfInstance(state, instance.id);
    // The model requires a key on registration; the guard keeps a hand-edited state from emitting a keyless peer.
    if (!device || !device.publicKey) continue;
    const address = addresses.get(instance.id) as string;
    peers.push({
      serial: device.serial,
      publicKey: device.publicKey,
      instanceId: instance.id,
      ccnId: instance.ccnId,
      address,
      allowedIps: sortCidrs([...instance.lanCidrs, address]),
      bandwidthMbps: instance.bandwidthMbps,
    });
  }
  return peers.sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));
}

/** One rule per destination network a CCN reaches; its own members' LANs count as the CCN itself. */
function policyOf(state: ModelState, ccnId: string): ForwardingRule[] {
  const rules = new Map<string, ForwardingRule>();
  for (const route of ccnRoutes(state, ccnId)) {
    const to =
      route.target.kind === 'instance'
        ? { kind: 'ccn' as const, id: route.target.ccnId }
        : { kind: route.target.kind, id: route.target.id };
    const key = `${to.kind}:${to.id}`;
    let rule = rules.get(key);
    if (!rule) {
      const r = reach(state, ccnId, to);
      // ccnRoutes lists only reachable networks; a disagreement would be a model bug, not a policy.
      if (!r.reachable)
        throw new Error(`ccnRoutes lists ${key} for CCN ${ccnId}, but reach() says ${r.reason}`);
      rule = { ccnId, to, reason: r.reason as ForwardingRule['reason'], cidrs: [], grantMbps: r.grantMbps };
      rules.set(key, rule);
    }
    rule.cidrs.push(route.cidr);
  }
  // ccnRoutes sorts by address; rules are listed by destination so a change in one leaves the others in place.
  return [...rules.values()].sort((a, b) =>
    a.to.kind !== b.to.kind
      ? a.to.kind === 'ccn'
        ? -1
        : 1
      : a.to.id < b.to.id
        ? -1
        : a.to.id > b.to.id
          ? 1
          : 0,
  );
}

/**
 * Compiles the configuration of the access point with this id. Refuses an unknown
 * id and an overlay pool that overlaps a peer's LAN or a policy destination.
 */
export function compileAccessPointConfig(
  state: ModelState,
  apId: string,
  opts: CompileOptions = {},
): AccessPointConfig {
  const ap = find.accessPoint(state, apId);
  if (!ap) throw new UnknownAccessPointError(apId);
  const pool = resolvePools(state, opts.overlay).get(ap.area) as OverlayPool;
  const peers = hubPeers(state, ap.area, allocateTunnelAddresses(state, opts.overlay));
  const ccnIds = [...new Set(peers.map((p) => p.ccnId))].sort();
  const policy = ccnIds.flatMap((id) => policyOf(state, id));
  assertPoolClear(pool, [
    ...peers.flatMap((p) =>
      p.allowedIps
        .filter((c) => c !== p.address)
        .map((cidr) => ({ cidr, owner: `LAN of instance ${p.instanceId}` })),
    ),
    ...policy.flatMap((r) =>
      r.cidrs.map((cidr) => ({ cidr, owner: `${r.to.kind.toUpperCase()} ${r.to.id}` })),
    ),
  ]);
  return stamp(
    {
      kind: 'accessPoint' as const,
      accessPointId: ap.id,
      area: ap.area,
      endpoints: [...ap.endpoints],
      maxInstances: ap.maxInstances,
      peers,
      policy,
    },
    state.version,
  );
}
