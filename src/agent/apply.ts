/**
 * Applies device configurations to a Gateway, touching only what changed.
 *
 * Every hub of the configuration is a peer of the Gateway. One of them, the
 * active hub, carries the configuration's allowed IPs and the persistent
 * keepalive; the others stand by with no allowed IPs and no keepalive, so they
 * cost nothing but can be probed and switched to. WireGuard maps each prefix to a
 * single peer, which is why the allowed IPs live on exactly one hub at a time.
 *
 * `diffConfigs` says what changed: a peer is removed or added only when its key
 * comes or goes; an endpoint or keepalive change is an update; a route change
 * becomes one allowed-IPs update on the active hub. A session (keypairs, timers,
 * counters) belongs to the Gateway's peer, so any peer not removed keeps it.
 * An uplinks change goes to the UplinkApplier (uplinks.ts) and touches no peer.
 */
import type { ConfigChange, DeviceConfig, DevicePeer } from '../contract/config.js';
import { diffConfigs } from '../contract/diff.js';
import { formatIp, parseEndpoint } from '../net/cidr.js';
import type { Gateway } from '../gateway/index.js';
import type { Endpoint } from '../dataplane/types.js';
import type { UplinkApplier } from './uplinks.js';

/** "a.b.c.d:port" / "[v6]:port" to the Gateway's endpoint shape. */
export function toEndpoint(text: string): Endpoint {
  const parsed = parseEndpoint(text);
  if (!parsed) throw new TypeError(`endpoint ${JSON.stringify(text)} is not "a.b.c.d:port" or "[v6]:port"`);
  return { address: formatIp(parsed.address), port: parsed.port };
}

export interface ApplyOutcome {
  changes: ConfigChange[];
  /** The hub set (keys or endpoints) changed, so earlier probe results may no longer hold. */
  hubsChanged: boolean;
  /** The active hub was removed; a new one must be selected. */
  activeLost: boolean;
}

export class ConfigApplier {
  readonly #gateway: Gateway;
  #config: DeviceConfig | null = null;
  /** Public key of the active hub. */
  #active: string | null = null;
  /** Index into each hub's endpoints currently configured, by public key. */
  readonly #endpointIndex = new Map<string, number>();

  readonly #uplinks: UplinkApplier | undefined;

  /** `uplinks` follows the configuration's uplinks (multipath); without it they are ignored. */
  constructor(gateway: Gateway, uplinks?: UplinkApplier) {
    this.#gateway = gateway;
    this.#uplinks = uplinks;
  }

  get config(): DeviceConfig | null {
    return this.#config;
  }

  get hubs(): readonly DevicePeer[] {
    return this.#config?.peers ?? [];
  }

  hub(accessPointId: string): DevicePeer | undefined {
    return this.hubs.find((p) => p.accessPointId === accessPointId);
  }

  get active(): DevicePeer | undefined {
    return this.hubs.find((p) => p.publicKey === this.#active);
  }

  /** The endpoint each hub is currently dialled at. */
  endpointOf(hub: DevicePeer): string {
    return hub.endpoints[this.#endpointIndex.get(hub.publicKey) ?? 0] ?? (hub.endpoints[0] as string);
  }

  apply(next: DeviceConfig): ApplyOutcome {
    const old = this.#config;
    const changes = diffConfigs(old, next);
    let hubsChanged = false;
    let activeLost = false;
    for (const change of changes) {
      if (change.op === 'peer.remove') {
        this.#gateway.removePeer(change.publicKey);
        this.#endpointIndex.delete(change.publicKey);
        if (change.publicKey === this.#active) {
          this.#active = null;
          activeLost = true;
        }
        hubsChanged = true;
      } else if (change.op === 'peer.add') {
        const hub = change.peer as DevicePeer;
        // Keepalive 0 here and set through updatePeer on selection: the Gateway records a
        // keepalive only when updatePeer sets it, and could not turn off one given to addPeer.
        this.#gateway.addPeer({
          publicKey: hub.publicKey,
          endpoint: toEndpoint(hub.endpoints[0] as string),
          allowedIps: [],
        });
        this.#endpointIndex.set(hub.publicKey, 0);
        hubsChanged = true;
      } else if (change.op === 'peer.change') {
        hubsChanged ||= this.#update(change.peer as DevicePeer, change.fields);
      } else if (change.op === 'uplinks.change') {
        // Uplinks only add, remove or re-weigh paths: peers, sessions and allowed IPs stay.
        this.#uplinks?.apply(change.to);
      }
    }
    this.#config = next;
    const active = this.active;
    if (active && !sameList(old?.allowedIps ?? [], next.allowedIps)) {
      this.#gateway.updatePeer(active.publicKey, { allowedIps: [...next.allowedIps] });
    }
    return { changes, hubsChanged, activeLost };
  }

  /** Makes `accessPointId` the active hub (null: none); a no-op if it already is. */
  select(accessPointId: string | null): void {
    const next = accessPointId === null ? undefined : this.hub(accessPointId);
    if (accessPointId !== null && !next)
      throw new RangeError(`access point ${accessPointId} is not a hub of this configuration`);
    if ((next?.publicKey ?? null) === this.#active) return;
    const old = this.active;
    if (old) this.#gateway.updatePeer(old.publicKey, { allowedIps: [], persistentKeepalive: 0 });
    this.#active = next?.publicKey ?? null;
    if (next && this.#config) {
      this.#gateway.updatePeer(next.publicKey, {
        allowedIps: [...this.#config.allowedIps],
        persistentKeepalive: next.persistentKeepaliveSec,
      });
    }
  }

  /** Dials a hub at its next endpoint (after the current one went unanswered). Returns the new endpoint. */
  nextEndpoint(hub: DevicePeer): string {
    if (hub.endpoints.length < 2) return this.endpointOf(hub);
    const index = ((this.#endpointIndex.get(hub.publicKey) ?? 0) + 1) % hub.endpoints.length;
    this.#endpointIndex.set(hub.publicKey, index);
    const endpoint = hub.endpoints[index] as string;
    this.#gateway.updatePeer(hub.publicKey, { endpoint: toEndpoint(endpoint) });
    return endpoint;
  }

  #update(hub: DevicePeer, fields: readonly string[]): boolean {
    let hubsChanged = false;
    if (fields.includes('endpoints')) {
      hubsChanged = true;
      // Stay on the endpoint in use if it is still listed: moving would only cost a handshake.
      const current = this.#gateway.peer(hub.publicKey).endpoint;
      const kept = current ? hub.endpoints.findIndex((e) => sameEndpoint(toEndpoint(e), current)) : -1;
      const index = kept >= 0 ? kept : 0;
      this.#endpointIndex.set(hub.publicKey, index);
      if (kept < 0)
        this.#gateway.updatePeer(hub.publicKey, { endpoint: toEndpoint(hub.endpoints[0] as string) });
    }
    if (fields.includes('persistentKeepaliveSec') && hub.publicKey === this.#active) {
      this.#gateway.updatePeer(hub.publicKey, { persistentKeepalive: hub.persistentKeepaliveSec });
    }
    return hubsChanged;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.address === b.address && a.port === b.port;
}
