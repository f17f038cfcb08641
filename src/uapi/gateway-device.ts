/**
 * The userspace API served by a Gateway: `get` reads the running state; `set` computes the new
 * configuration with the reference model (apply.ts, which follows wireguard-go) and then changes
 * the Gateway by the difference, so a request either applies whole or not at all (up to socket
 * errors such as a port in use, reported as EADDRINUSE).
 */
import { SagError } from '../errors.js';
import type { Gateway } from '../gateway/gateway.js';
import { formatCidr, formatIp, parseCidr, parseIp, type Cidr, type Endpoint } from '../net/cidr.js';
import { encodeKey } from '../wg/crypto.js';
import { applySetCommand } from './apply.js';
import { Errno, UapiError } from './errors.js';
import type { UapiDeviceState, UapiPeerState, UapiSetCommand } from './types.js';
import type { UapiDevice } from './server.js';
import type { UapiStats } from './stats.js';

export class GatewayUapiDevice implements UapiDevice {
  constructor(private readonly gateway: Gateway) {}

  get(): UapiDeviceState {
    const g = this.gateway;
    const peers = g.peers().map((p): UapiPeerState => {
      const psk = g.presharedKey(p.publicKey);
      return {
        publicKey: Buffer.from(p.publicKey, 'base64'),
        ...(psk ? { presharedKey: psk } : {}),
        ...(p.endpoint ? { endpoint: toUapiEndpoint(p.endpoint) } : {}),
        lastHandshakeTimeSec: Math.floor(p.lastHandshakeUnixMs / 1000),
        lastHandshakeTimeNsec: (p.lastHandshakeUnixMs % 1000) * 1e6,
        txBytes: BigInt(p.counters.txBytes),
        rxBytes: BigInt(p.counters.rxBytes),
        persistentKeepaliveInterval: p.persistentKeepalive,
        allowedIps: p.allowedIps.map(toCidr),
      };
    });
    const privateKey = g.privateKey;
    return { ...(privateKey ? { privateKey } : {}), listenPort: g.listenPort, fwmark: g.fwmark, peers };
  }

  /** Interface drops: packets no peer can be blamed for, from the TUN side and from every uplink. */
  stats(): UapiStats {
    const dp = this.gateway.dataplane;
    const drops: Record<string, number> = { ...dp.stats().drops };
    for (const u of dp.uplinks()) {
      for (const [reason, n] of Object.entries(dp.uplinkStats(u.id).drops))
        drops[reason] = (drops[reason] ?? 0) + n;
    }
    return {
      drops,
      peers: this.gateway.peers().map((p) => ({ publicKey: p.publicKey, drops: p.counters.drops })),
    };
  }

  set(command: UapiSetCommand): void {
    const before = this.get();
    const after = applySetCommand(before, command);
    try {
      this.#applyInterface(before, after);
      this.#applyPeers(before, after);
    } catch (err) {
      if (err instanceof UapiError) throw err;
      const code = err instanceof SagError && err.code === 'ERR_SAG_SYSTEM' ? Errno.EADDRINUSE : Errno.EINVAL;
      throw new UapiError(code, (err as Error).message, { cause: err });
    }
  }

  #applyInterface(before: UapiDeviceState, after: UapiDeviceState): void {
    const g = this.gateway;
    if (!sameBytes(before.privateKey, after.privateKey)) g.setPrivateKey(after.privateKey ?? null);
    if (after.fwmark !== before.fwmark) g.setFwmark(after.fwmark);
    if (after.listenPort !== before.listenPort) g.setListenPort(after.listenPort);
  }

  #applyPeers(before: UapiDeviceState, after: UapiDeviceState): void {
    const g = this.gateway;
    const old = new Map(before.peers.map((p) => [encodeKey(p.publicKey), p]));
    const next = new Map(after.peers.map((p) => [encodeKey(p.publicKey), p]));
    for (const key of old.keys()) if (!next.has(key)) g.removePeer(key);
    for (const [key, p] of next) {
      const allowedIps = p.allowedIps.map(formatCidr);
      const endpoint = p.endpoint ? fromUapiEndpoint(p.endpoint) : undefined;
      const prev = old.get(key);
      if (!prev) {
        g.addPeer({
          publicKey: key,
          allowedIps,
          persistentKeepalive: p.persistentKeepaliveInterval,
          ...(endpoint ? { endpoint } : {}),
          ...(p.presharedKey ? { presharedKey: p.presharedKey } : {}),
        });
        continue;
      }
      const prevAllowed = prev.allowedIps.map(formatCidr);
      g.updatePeer(key, {
        ...(!sameSet(allowedIps, prevAllowed) ? { allowedIps } : {}),
        ...(endpoint && !sameEndpoint(prev.endpoint, p.endpoint) ? { endpoint } : {}),
        ...(p.persistentKeepaliveInterval !== prev.persistentKeepaliveInterval
          ? { persistentKeepalive: p.persistentKeepaliveInterval }
          : {}),
        ...(!sameBytes(prev.presharedKey, p.presharedKey) ? { presharedKey: p.presharedKey ?? null } : {}),
      });
    }
  }
}

function toCidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (!parsed.ok) throw new UapiError(Errno.EIO, `internal: allowed IP ${text} does not parse`);
  return parsed.cidr;
}

function toUapiEndpoint(e: { address: string; port: number }): Endpoint {
  const address = parseIp(e.address);
  if (!address) throw new UapiError(Errno.EIO, `internal: endpoint ${e.address} does not parse`);
  return { address, port: e.port };
}

function fromUapiEndpoint(e: Endpoint): { address: string; port: number } {
  return { address: formatIp(e.address), port: e.port };
}

function sameEndpoint(a: Endpoint | undefined, b: Endpoint | undefined): boolean {
  return (
    a?.port === b?.port && a?.address.family === b?.address.family && a?.address.value === b?.address.value
  );
}

/** Allowed IPs are a set: the dataplane reads them back in its own order. */
function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b) return a === b;
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}
