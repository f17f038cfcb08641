/**
 * An in-memory HubGateway for tests: peers with their domain, allowed IPs and
 * rate limit, and routing domains that refuse removal while a peer is in them,
 * as the dataplane does.
 */
import type { RateLimit } from '../../dataplane/types.js';
import { InvalidStateError } from '../../errors.js';
import type { HubGateway } from '../hub.js';

export interface FakePeer {
  domain: number;
  allowedIps: string[];
  rateLimit: RateLimit | null;
}

export class FakeHubGateway implements HubGateway {
  readonly peerTable = new Map<string, FakePeer>();
  readonly domains = new Map<number, string>();
  #next = 1;

  readonly dataplane = {
    openDomainTun: (name: string): { domain: number; name: string } => {
      const domain = this.#next++;
      this.domains.set(domain, name);
      return { domain, name };
    },
    removeDomain: (domain: number): void => {
      if ([...this.peerTable.values()].some((p) => p.domain === domain))
        throw new InvalidStateError(`domain ${domain} still has peers`);
      if (!this.domains.delete(domain)) throw new InvalidStateError(`no domain ${domain}`);
    },
    peers: (): string[] => [...this.peerTable.keys()],
  };

  addPeer(o: { publicKey: string; allowedIps: string[]; domain: number; rateLimit: RateLimit | null }): void {
    if (this.peerTable.has(o.publicKey)) throw new InvalidStateError(`peer ${o.publicKey} exists`);
    if (!this.domains.has(o.domain)) throw new InvalidStateError(`no domain ${o.domain}`);
    this.peerTable.set(o.publicKey, {
      domain: o.domain,
      allowedIps: [...o.allowedIps],
      rateLimit: o.rateLimit,
    });
  }

  updatePeer(
    publicKey: string,
    changes: { allowedIps?: string[]; domain?: number; rateLimit?: RateLimit | null },
  ): void {
    const peer = this.peerTable.get(publicKey);
    if (!peer) throw new InvalidStateError(`no peer ${publicKey}`);
    if (changes.domain !== undefined && !this.domains.has(changes.domain))
      throw new InvalidStateError(`no domain ${changes.domain}`);
    Object.assign(peer, changes);
  }

  removePeer(publicKey: string): void {
    if (!this.peerTable.delete(publicKey)) throw new InvalidStateError(`no peer ${publicKey}`);
  }
}
