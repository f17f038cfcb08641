/**
 * Applies access point configurations to one Gateway and the CCN namespaces.
 *
 * Every branch device of the configuration is a Gateway peer in the routing
 * domain of its CCN, with its instance's bandwidth as the dataplane's rate limit.
 * `diffConfigs` says what changed, so a peer is removed or re-added only when its
 * key comes or goes; prefix, CCN or bandwidth changes are updates and the session
 * stays. CCN namespaces are created for the first member here and removed with
 * the last; their routes and policy are reconciled on every apply.
 */
import type { AccessPointConfig, ConfigChange, HubPeer } from '../contract/config.js';
import { diffConfigs } from '../contract/diff.js';
import { mbpsToBytesPerSecond } from '../dataplane/rate-limit.js';
import type { Gateway } from '../gateway/index.js';
import { CcnSpace, type VpcLinkPlan } from './ccn-space.js';
import type { Logger } from '../util/logger.js';

export interface HubNames {
  /** Prefix of every name this access point creates (namespaces, interfaces); [a-z0-9]{1,6}. */
  prefix: string;
  /** Third octet of the 169.254.N.0/24 the VPC veths are addressed from (unique per access point sharing a VPC). */
  linkOctet: number;
}

export interface HubOptions {
  gateway: Gateway;
  names: HubNames;
  /** How each VPC is reached: VPC id -> network namespace. */
  vpcs: ReadonlyMap<string, string>;
  mtu: number;
  logger: Logger;
}

/** Most veth links one access point addresses from its /24 (64 /30s). */
const MAX_LINKS = 64;

export class HubApplier {
  readonly #o: HubOptions;
  #config: AccessPointConfig | null = null;
  readonly #spaces = new Map<string, CcnSpace>();
  readonly #domains = new Map<string, number>();
  #nextSpace = 0;
  readonly #linkSlots = new Map<string, number>();
  readonly #warned = new Set<string>();

  constructor(options: HubOptions) {
    this.#o = options;
  }

  get config(): AccessPointConfig | null {
    return this.#config;
  }

  spaces(): CcnSpace[] {
    return [...this.#spaces.values()];
  }

  space(ccnId: string): CcnSpace | undefined {
    return this.#spaces.get(ccnId);
  }

  async apply(next: AccessPointConfig): Promise<ConfigChange[]> {
    const gw = this.#o.gateway;
    const changes = diffConfigs(this.#config, next);
    for (const ccn of new Set(next.peers.map((p) => p.ccnId)))
      if (!this.#spaces.has(ccn)) await this.#addSpace(ccn);
    // Adds and removes are idempotent: an apply that failed half-way is retried from the old
    // configuration, and must then neither add a peer twice nor stop at one already gone.
    const has = (key: string) => gw.dataplane.peers().includes(key);
    for (const change of changes) {
      if (change.op === 'peer.remove') {
        if (has(change.publicKey)) gw.removePeer(change.publicKey);
      } else if (change.op === 'peer.add') {
        const peer = change.peer as HubPeer;
        const options = {
          allowedIps: [...peer.allowedIps],
          domain: this.#domain(peer.ccnId),
          rateLimit: limit(peer),
        };
        if (has(peer.publicKey)) gw.updatePeer(peer.publicKey, options);
        else gw.addPeer({ publicKey: peer.publicKey, ...options });
      } else if (change.op === 'peer.change') {
        const peer = change.peer as HubPeer;
        gw.updatePeer(peer.publicKey, {
          ...(change.fields.includes('ccnId') ? { domain: this.#domain(peer.ccnId) } : {}),
          ...(change.fields.includes('allowedIps') || change.fields.includes('ccnId')
            ? { allowedIps: [...peer.allowedIps] }
            : {}),
          ...(change.fields.includes('bandwidthMbps') ? { rateLimit: limit(peer) } : {}),
        });
      }
    }
    this.#config = next;
    for (const [ccn, space] of this.#spaces) {
      const members = next.peers.filter((p) => p.ccnId === ccn);
      if (members.length === 0) await this.#removeSpace(ccn);
      else
        await space.sync(
          members.flatMap((p) => p.allowedIps),
          next.policy.filter((r) => r.ccnId === ccn),
          this.#vpcLinks(ccn, next),
        );
    }
    return changes;
  }

  /** Removes every namespace (the Gateway, stopped by the caller, takes the TUNs with it). */
  async destroy(): Promise<void> {
    for (const ccn of [...this.#spaces.keys()]) await this.#removeSpace(ccn, false);
  }

  #domain(ccnId: string): number {
    const domain = this.#domains.get(ccnId);
    if (domain === undefined) throw new Error(`no routing domain for ${ccnId}`);
    return domain;
  }

  async #addSpace(ccnId: string): Promise<void> {
    const { prefix } = this.#o.names;
    const n = this.#nextSpace++;
    const opened = this.#o.gateway.dataplane.openDomainTun(`${prefix}t${n}`);
    const space = new CcnSpace(
      ccnId,
      { netns: `${prefix}-${ccnId}`, tun: opened.name, sink: `${prefix}s${n}` },
      this.#o.mtu,
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

  async #removeSpace(ccnId: string, removeDomain = true): Promise<void> {
    const space = this.#spaces.get(ccnId)!;
    const domain = this.#domains.get(ccnId)!;
    this.#spaces.delete(ccnId);
    this.#domains.delete(ccnId);
    for (const key of [...this.#linkSlots.keys()])
      if (key.startsWith(`${ccnId} `)) this.#linkSlots.delete(key);
    if (removeDomain) this.#o.gateway.dataplane.removeDomain(domain);
    await space.destroy();
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
