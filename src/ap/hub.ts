/**
 * Applies access point configurations to one Gateway and the CCN namespaces.
 *
 * Every branch device of the configuration is a Gateway peer in the routing
 * domain of its CCN, with its instance's bandwidth as the dataplane's rate limit.
 * Peers are reconciled against what this applier installed, so a peer is removed
 * or re-added only when its key comes or goes; prefix, CCN or bandwidth changes
 * are updates and the session stays.
 *
 * Each CCN space (namespace, its peers, routes, links and policy) is applied on
 * its own: one failing does not keep the others from their changes, a CEN detach
 * above all. Revocations come first: peers whose key left the configuration are
 * removed before any space is touched, and a peer whose new CCN's space failed is
 * removed rather than left in its old domain. The configuration counts as applied
 * only when every space succeeded; applying it again (a retry) runs commands only
 * for what still differs, i.e. for the spaces that failed.
 */
import type { AccessPointConfig, ConfigChange, HubPeer } from '../contract/config.js';
import { diffConfigs } from '../contract/diff.js';
import { mbpsToBytesPerSecond } from '../dataplane/rate-limit.js';
import type { RateLimit } from '../dataplane/types.js';
import { CcnSpace, type VpcLinkPlan } from './ccn-space.js';
import { hostSystem, type ApSystem } from './sys.js';
import type { Logger } from '../util/logger.js';

export interface HubNames {
  /** Prefix of every name this access point creates (namespaces, interfaces); [a-z0-9]{1,6}. */
  prefix: string;
  /** Third octet of the 169.254.N.0/24 the VPC veths are addressed from (unique per access point sharing a VPC). */
  linkOctet: number;
}

/** The part of a Gateway the applier drives (a Gateway is one; testing/gateway.ts has a double). */
export interface HubGateway {
  addPeer(options: {
    publicKey: string;
    allowedIps: string[];
    domain: number;
    rateLimit: RateLimit | null;
  }): void;
  updatePeer(
    publicKey: string,
    changes: { allowedIps?: string[]; domain?: number; rateLimit?: RateLimit | null },
  ): void;
  removePeer(publicKey: string): void;
  readonly dataplane: {
    openDomainTun(name: string): { domain: number; name: string };
    removeDomain(domain: number): void;
    peers(): string[];
  };
}

export interface HubOptions {
  gateway: HubGateway;
  names: HubNames;
  /** How each VPC is reached: VPC id -> network namespace. */
  vpcs: ReadonlyMap<string, string>;
  mtu: number;
  logger: Logger;
  /** The commands spaces run; the host's by default. */
  sys?: ApSystem;
}

export interface SpaceFailure {
  ccnId: string;
  error: Error;
  /** Applies of this space that failed in a row. */
  attempts: number;
}

export interface HubApplyResult {
  /** From the last configuration applied in full to this one. */
  changes: ConfigChange[];
  /** Empty when every space succeeded and `next` is now the applied configuration. */
  failures: SpaceFailure[];
}

/** Most veth links one access point addresses from its /24 (64 /30s). */
const MAX_LINKS = 64;

export class HubApplier {
  readonly #o: HubOptions;
  readonly #sys: ApSystem;
  #config: AccessPointConfig | null = null;
  /** What the Gateway holds, by public key, as this applier put it there. */
  readonly #installed = new Map<string, HubPeer>();
  readonly #spaces = new Map<string, CcnSpace>();
  readonly #domains = new Map<string, number>();
  #nextSpace = 0;
  readonly #linkSlots = new Map<string, number>();
  readonly #warned = new Set<string>();
  readonly #failures = new Map<string, SpaceFailure>();

  constructor(options: HubOptions) {
    this.#o = options;
    this.#sys = options.sys ?? hostSystem;
  }

  /** The last configuration applied in full (every space succeeded). */
  get config(): AccessPointConfig | null {
    return this.#config;
  }

  /** Peers as installed in the Gateway, sorted by serial. */
  peers(): HubPeer[] {
    return [...this.#installed.values()].sort((a, b) =>
      a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0,
    );
  }

  spaces(): CcnSpace[] {
    return [...this.#spaces.values()];
  }

  space(ccnId: string): CcnSpace | undefined {
    return this.#spaces.get(ccnId);
  }

  /** Spaces whose last apply failed, by CCN. */
  failures(): SpaceFailure[] {
    return [...this.#failures.values()];
  }

  /** Applies `next` (validated: validate-config.ts) space by space; see the top of this file. */
  async apply(next: AccessPointConfig): Promise<HubApplyResult> {
    const changes = diffConfigs(this.#config, next);
    const wanted = new Map(next.peers.map((p) => [p.publicKey, p]));
    for (const key of [...this.#installed.keys()]) if (!wanted.has(key)) this.#removePeer(key);
    const ccns = [...new Set(next.peers.map((p) => p.ccnId))].sort();
    const failed = new Map<string, Error>();
    for (const ccn of ccns) {
      try {
        await this.#applySpace(ccn, next);
      } catch (error) {
        failed.set(ccn, error as Error);
        // Fail closed: a peer moving here must not keep its old CCN's reach.
        for (const p of next.peers) {
          const had = this.#installed.get(p.publicKey);
          if (p.ccnId === ccn && had && had.ccnId !== ccn) this.#removePeer(p.publicKey);
        }
      }
    }
    for (const ccn of [...this.#spaces.keys()]) {
      if (ccns.includes(ccn)) continue;
      try {
        await this.#removeSpace(ccn);
      } catch (error) {
        failed.set(ccn, error as Error);
      }
    }
    for (const ccn of [...this.#failures.keys()]) if (!failed.has(ccn)) this.#failures.delete(ccn);
    for (const [ccnId, error] of failed)
      this.#failures.set(ccnId, { ccnId, error, attempts: (this.#failures.get(ccnId)?.attempts ?? 0) + 1 });
    if (failed.size === 0) this.#config = next;
    return { changes, failures: this.failures() };
  }

  async #applySpace(ccn: string, next: AccessPointConfig): Promise<void> {
    // A space whose removal failed half-way (its domain gone) is finished off and made anew.
    if (this.#spaces.has(ccn) && !this.#domains.has(ccn)) await this.#removeSpace(ccn);
    if (!this.#spaces.has(ccn)) await this.#addSpace(ccn);
    const domain = this.#domains.get(ccn)!;
    const gw = this.#o.gateway;
    const members = next.peers.filter((p) => p.ccnId === ccn);
    for (const peer of members) {
      const had = this.#installed.get(peer.publicKey);
      if (!had) {
        const options = { allowedIps: [...peer.allowedIps], domain, rateLimit: limit(peer) };
        // A peer the Gateway still holds (from an apply that failed after adding it) is updated, not added twice.
        if (gw.dataplane.peers().includes(peer.publicKey)) gw.updatePeer(peer.publicKey, options);
        else gw.addPeer({ publicKey: peer.publicKey, ...options });
      } else {
        const moved = had.ccnId !== ccn;
        const prefixes = moved || had.allowedIps.join() !== peer.allowedIps.join();
        const changes = {
          ...(moved ? { domain } : {}),
          ...(prefixes ? { allowedIps: [...peer.allowedIps] } : {}),
          ...(had.bandwidthMbps !== peer.bandwidthMbps ? { rateLimit: limit(peer) } : {}),
        };
        if (Object.keys(changes).length > 0) gw.updatePeer(peer.publicKey, changes);
      }
      this.#installed.set(peer.publicKey, peer);
    }
    await this.#spaces.get(ccn)!.sync(
      members.flatMap((p) => p.allowedIps),
      next.policy.filter((r) => r.ccnId === ccn),
      this.#vpcLinks(ccn, next),
    );
  }

  #removePeer(publicKey: string): void {
    if (this.#o.gateway.dataplane.peers().includes(publicKey)) this.#o.gateway.removePeer(publicKey);
    this.#installed.delete(publicKey);
  }

  /** Removes every namespace (the Gateway, stopped by the caller, takes the TUNs with it). */
  async destroy(): Promise<void> {
    for (const ccn of [...this.#spaces.keys()]) await this.#removeSpace(ccn, false);
  }

  async #addSpace(ccnId: string): Promise<void> {
    const { prefix } = this.#o.names;
    const n = this.#nextSpace++;
    const opened = this.#o.gateway.dataplane.openDomainTun(`${prefix}t${n}`);
    const space = new CcnSpace(
      ccnId,
      { netns: `${prefix}-${ccnId}`, tun: opened.name, sink: `${prefix}s${n}` },
      this.#o.mtu,
      this.#sys,
    );
    try {
      await space.create();
    } catch (err) {
      this.#o.gateway.dataplane.removeDomain(opened.domain);
      await space.destroy().catch(() => {}); // whatever part of it was made
      throw err;
    }
    this.#domains.set(ccnId, opened.domain);
    this.#spaces.set(ccnId, space);
    this.#o.logger(
      'info',
      `ap: ${ccnId}: namespace ${space.names.netns}, domain ${opened.domain} on ${opened.name}`,
    );
  }

  /** Peers, routing domain, namespace, in that order; a failed step is where the retry resumes. */
  async #removeSpace(ccnId: string, removeDomain = true): Promise<void> {
    const space = this.#spaces.get(ccnId)!;
    for (const p of [...this.#installed.values()]) if (p.ccnId === ccnId) this.#removePeer(p.publicKey);
    const domain = this.#domains.get(ccnId);
    if (domain !== undefined && removeDomain) this.#o.gateway.dataplane.removeDomain(domain);
    this.#domains.delete(ccnId);
    await space.destroy();
    this.#spaces.delete(ccnId);
    for (const key of [...this.#linkSlots.keys()])
      if (key.startsWith(`${ccnId} `)) this.#linkSlots.delete(key);
    this.#o.logger('info', `ap: ${ccnId}: no member here any more, namespace removed`);
  }

  /** A veth per VPC this CCN may reach and the operator said how to reach (--vpc). */
  #vpcLinks(ccnId: string, config: AccessPointConfig): VpcLinkPlan[] {
    const { prefix, linkOctet } = this.#o.names;
    const plans: VpcLinkPlan[] = [];
    for (const rule of config.policy) {
      if (rule.ccnId !== ccnId || rule.to.kind !== 'vpc') continue;
      const netns = this.#o.vpcs.get(rule.to.id);
      if (netns === undefined) {
        const key = `${ccnId}>${rule.to.id}`;
        if (!this.#warned.has(key))
          this.#o.logger(
            'warn',
            `ap: ${ccnId} may reach ${rule.to.id}, but no --vpc ${rule.to.id}=NETNS says how: its traffic is dropped here`,
          );
        this.#warned.add(key);
        continue;
      }
      const slot = this.#slot(`${ccnId} ${rule.to.id}`);
      plans.push({
        vpcId: rule.to.id,
        netns,
        local: `${prefix}v${slot}`,
        remote: `${prefix}w${slot}`,
        localAddress: `169.254.${linkOctet}.${slot * 4 + 1}`,
        remoteAddress: `169.254.${linkOctet}.${slot * 4 + 2}`,
      });
    }
    return plans;
  }

  #slot(key: string): number {
    const known = this.#linkSlots.get(key);
    if (known !== undefined) return known;
    const used = new Set(this.#linkSlots.values());
    let slot = 0;
    while (used.has(slot)) slot++;
    if (slot >= MAX_LINKS)
      throw new RangeError(`more than ${MAX_LINKS} CCN-to-VPC links on one access point`);
    this.#linkSlots.set(key, slot);
    return slot;
  }
}

function limit(peer: HubPeer): { bytesPerSecond: number } | null {
  return peer.bandwidthMbps > 0 ? { bytesPerSecond: mbpsToBytesPerSecond(peer.bandwidthMbps) } : null;
}
