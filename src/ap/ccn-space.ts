/**
 * One CCN's routing table on the access point host: a network namespace that
 * holds the CCN's dataplane TUN (its routing domain), a sink for everything not
 * routed, the members' prefixes routed into the TUN, one veth per attached VPC
 * the operator said how to reach, and the nftables forward policy.
 *
 *   branch -> branch (same CCN):  TUN -> this namespace's kernel -> same TUN
 *   branch -> VPC:                TUN -> veth -> the VPC's namespace
 *   anything else:                TUN -> default route to the sink, counted and
 *                                 dropped by the policy ("denied")
 *
 * The kernel here has no VRF; a namespace per CCN gives each CCN a routing table
 * of its own, so CCNs may reuse prefixes and no route of one CCN can carry
 * another's traffic. `sync` reconciles routes, links and policy with what it is
 * given and touches only what differs, so members whose prefixes did not change
 * see no change at all, and a sync that failed half-way is finished by the next.
 *
 * The namespace gets its default-drop forward policy before forwarding is enabled
 * and before the TUN is moved in, and `sync` applies the policy (an allow list)
 * before it touches routes and links: a revocation takes effect even when the
 * plumbing after it fails, and no moment exists in which the namespace forwards
 * unfiltered.
 */
import type { ForwardingRule } from '../contract/config.js';
import { deniedCount, POLICY_TABLE, renderPolicy } from './policy.js';
import { hostSystem, type ApSystem } from './sys.js';

export interface CcnSpaceNames {
  /** Network namespace, e.g. "sag-ccn-a". */
  netns: string;
  /** The domain TUN (created by the dataplane in the host namespace, moved in here). */
  tun: string;
  /**
   * One end of a veth pair whose other end (`sink` + "p") has no address: the
   * default route points at it, so an unrouted packet reaches the forward hook,
   * where the policy counts and drops it. (This kernel has no dummy devices.)
   */
  sink: string;
}

/** A VPC the access point can reach: the namespace its veth goes into. */
export interface VpcLinkPlan {
  vpcId: string;
  netns: string;
  /** veth end names in the CCN namespace and in the VPC namespace. */
  local: string;
  remote: string;
  /** /30 addresses of the two ends, e.g. "169.254.0.1" and "169.254.0.2". */
  localAddress: string;
  remoteAddress: string;
}

interface VpcLink {
  plan: VpcLinkPlan;
  /** Destinations routed into the VPC (its CIDRs). */
  routes: Set<string>;
  /** The members' prefixes routed back from the VPC's namespace. */
  returns: Set<string>;
}

export class CcnSpace {
  readonly ccnId: string;
  readonly names: CcnSpaceNames;
  readonly #mtu: number;
  readonly #routes = new Set<string>();
  readonly #links = new Map<string, VpcLink>();
  readonly #sys: ApSystem;
  #policy = '';
  /** Set once `ip netns add` succeeded: a namespace of that name we did not make is not ours to delete. */
  #made = false;

  constructor(ccnId: string, names: CcnSpaceNames, mtu: number, sys: ApSystem = hostSystem) {
    this.ccnId = ccnId;
    this.names = names;
    this.#mtu = mtu;
    this.#sys = sys;
  }

  /** Creates the namespace, default drop first, and moves the (already opened) TUN into it. */
  async create(): Promise<void> {
    const { ip, sysctl } = this.#sys;
    const { netns, tun, sink } = this.names;
    await ip(null, ['netns', 'add', netns]);
    this.#made = true;
    await this.#applyPolicy(renderPolicy(tun, sink, []));
    await ip(netns, ['link', 'set', 'lo', 'up']);
    for (const [key, value] of [
      ['net.ipv4.ip_forward', '1'],
      ['net.ipv6.conf.all.forwarding', '1'],
      ['net.ipv4.conf.all.send_redirects', '0'], // hairpinning through the TUN is the design, not a misroute
      ['net.ipv4.conf.all.rp_filter', '0'],
      ['net.ipv4.conf.default.rp_filter', '0'],
    ] as const)
      await sysctl(netns, key, value);
    await ip(netns, ['link', 'add', sink, 'type', 'veth', 'peer', 'name', `${sink}p`]);
    await ip(netns, ['link', 'set', `${sink}p`, 'up']);
    await ip(netns, ['link', 'set', sink, 'up']);
    await ip(netns, ['route', 'add', 'default', 'dev', sink]);
    await ip(netns, ['-6', 'route', 'add', 'default', 'dev', sink]).catch(() => {}); // without IPv6 in the namespace, v4 only
    await ip(null, ['link', 'set', tun, 'netns', netns]);
    await ip(netns, ['link', 'set', tun, 'mtu', String(this.#mtu)]);
    await ip(netns, ['link', 'set', tun, 'up']);
  }

  /** Removes the namespace and with it the TUN (if still there), sink and veths (both ends). */
  async destroy(): Promise<void> {
    if (!this.#made) return;
    await this.#sys.ip(null, ['netns', 'del', this.names.netns]);
    this.#made = false;
  }

  /**
   * Makes the namespace match: members' prefixes into the TUN, a veth per reachable
   * VPC with routes both ways, and the policy for `rules`.
   */
  async sync(
    memberPrefixes: readonly string[],
    rules: readonly ForwardingRule[],
    vpcs: readonly VpcLinkPlan[],
  ): Promise<void> {
    const { ip } = this.#sys;
    const { netns, tun } = this.names;
    await this.#applyPolicy(renderPolicy(tun, this.names.sink, rules));
    await reconcile(
      this.#routes,
      memberPrefixes,
      (p) => ip(netns, [family(p), 'route', 'replace', p, 'dev', tun]),
      (p) => ip(netns, [family(p), 'route', 'del', p, 'dev', tun]),
    );
    const wanted = new Map(vpcs.map((v) => [v.vpcId, v]));
    for (const [id, link] of this.#links) {
      if (wanted.has(id)) continue;
      await ip(netns, ['link', 'del', link.plan.local]);
      this.#links.delete(id);
    }
    for (const plan of vpcs) {
      let link = this.#links.get(plan.vpcId);
      if (!link) {
        link = await this.#plug(plan);
        this.#links.set(plan.vpcId, link);
      }
      const cidrs = rules
        .filter((r) => r.to.kind === 'vpc' && r.to.id === plan.vpcId)
        .flatMap((r) => r.cidrs);
      await reconcile(
        link.routes,
        cidrs,
        (c) => ip(netns, [family(c), 'route', 'replace', c, 'via', plan.remoteAddress, 'dev', plan.local]),
        (c) => ip(netns, [family(c), 'route', 'del', c, 'via', plan.remoteAddress, 'dev', plan.local]),
      );
      await reconcile(
        link.returns,
        memberPrefixes.filter((p) => !p.includes(':')),
        (p) => ip(plan.netns, ['route', 'replace', p, 'via', plan.localAddress, 'dev', plan.remote]),
        (p) => ip(plan.netns, ['route', 'del', p, 'via', plan.localAddress, 'dev', plan.remote]),
      );
    }
  }

  /** Packets the policy refused so far (the isolation counter). */
  async denied(): Promise<number> {
    return deniedCount(await this.#sys.nftList(this.names.netns, ['list', 'table', 'inet', POLICY_TABLE]));
  }

  /** One `nft -f`, atomic; skipped when the ruleset in place is already this one. */
  async #applyPolicy(policy: string): Promise<void> {
    if (policy === this.#policy) return;
    await this.#sys.nftApply(this.names.netns, policy);
    this.#policy = policy;
  }

  vpcLinks(): VpcLinkPlan[] {
    return [...this.#links.values()].map((l) => ({ ...l.plan }));
  }

  async #plug(plan: VpcLinkPlan): Promise<VpcLink> {
    const { ip } = this.#sys;
    const { netns } = this.names;
    await ip(null, [
      'link',
      'add',
      plan.local,
      'netns',
      netns,
      'type',
      'veth',
      'peer',
      'name',
      plan.remote,
      'netns',
      plan.netns,
    ]);
    try {
      await ip(netns, ['addr', 'add', `${plan.localAddress}/30`, 'dev', plan.local]);
      await ip(plan.netns, ['addr', 'add', `${plan.remoteAddress}/30`, 'dev', plan.remote]);
      await ip(netns, ['link', 'set', plan.local, 'up']);
      await ip(plan.netns, ['link', 'set', plan.remote, 'up']);
    } catch (err) {
      await ip(netns, ['link', 'del', plan.local]).catch(() => {}); // so the retry starts from nothing
      throw err;
    }
    return { plan, routes: new Set(), returns: new Set() };
  }
}

function family(prefix: string): '-4' | '-6' {
  return prefix.includes(':') ? '-6' : '-4';
}

async function reconcile(
  current: Set<string>,
  wanted: readonly string[],
  add: (x: string) => Promise<unknown>,
  remove: (x: string) => Promise<unknown>,
): Promise<void> {
  const want = new Set(wanted);
  for (const x of [...current]) {
    if (want.has(x)) continue;
    await remove(x);
    current.delete(x);
  }
  for (const x of want) {
    if (current.has(x)) continue;
    await add(x);
    current.add(x);
  }
}
