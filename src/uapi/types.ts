/**
 * Typed forms of the WireGuard userspace API (wireguard.com/xplatform): what a `set=1` request asks
 * for, and the device state a `get=1` reply reports.
 */
import type { Cidr, Endpoint } from '../net/cidr.js';

/** Interface-level keys of a set request; an absent field leaves the setting unchanged. */
export interface UapiInterfaceChanges {
  /** New private key; `null` removes it (the wire form is 64 zero digits). */
  readonly privateKey?: Uint8Array | null;
  readonly listenPort?: number;
  /** 0 clears the mark. */
  readonly fwmark?: number;
  /** `replace_peers=true`: every existing peer goes before the peer operations run. */
  readonly replacePeers: boolean;
}

/**
 * One allowed-IPs step of a peer section, in request order. Order matters: an `add` takes the prefix
 * away from whichever peer holds it, so "add X, replace" is not the same as doing nothing.
 */
export type AllowedIpOp =
  | { readonly op: 'replace' }
  | { readonly op: 'add'; readonly cidr: Cidr }
  /** `allowed_ip=-PREFIX` (wireguard-go 0.0.2025+): drop the prefix if this peer holds it. */
  | { readonly op: 'remove'; readonly cidr: Cidr };

/** The lines that followed one `public_key=` line. */
export interface UapiPeerChange {
  readonly publicKey: Uint8Array;
  /** `remove=true` anywhere in the section: the peer is removed (or never created). */
  readonly remove: boolean;
  /** `update_only=true` anywhere in the section: nothing happens unless the peer already exists. */
  readonly updateOnly: boolean;
  /** `null` removes the preshared key (64 zero digits on the wire). */
  readonly presharedKey?: Uint8Array | null;
  readonly endpoint?: Endpoint;
  /** Seconds, 0 turns it off. */
  readonly persistentKeepaliveInterval?: number;
  readonly allowedIps: readonly AllowedIpOp[];
}

export interface UapiSetCommand {
  readonly interface: UapiInterfaceChanges;
  /** In request order; the same public key may appear in several sections, each applied in turn. */
  readonly peers: readonly UapiPeerChange[];
}

export interface UapiPeerState {
  readonly publicKey: Uint8Array;
  /** Absent means no preshared key; `get` then prints 64 zeros, as wireguard-go does. */
  readonly presharedKey?: Uint8Array;
  readonly endpoint?: Endpoint;
  /** Unix time of the last handshake; both 0 when there has been none. */
  readonly lastHandshakeTimeSec: number;
  readonly lastHandshakeTimeNsec: number;
  readonly txBytes: bigint;
  readonly rxBytes: bigint;
  readonly persistentKeepaliveInterval: number;
  /** In the order they were added (wireguard-go lists a peer's prefixes in insertion order). */
  readonly allowedIps: readonly Cidr[];
}

/** A peer under construction: while a get reply is parsed or a set command applied. */
export type MutableUapiPeer = { -readonly [K in keyof UapiPeerState]: UapiPeerState[K] } & {
  allowedIps: Cidr[];
};

export interface UapiDeviceState {
  /** Absent (or all zero) when the device has no private key; `get` then omits the line. */
  readonly privateKey?: Uint8Array;
  /** 0 means not set / not bound; `get` omits it. */
  readonly listenPort: number;
  /** 0 means no mark; `get` omits it. */
  readonly fwmark: number;
  readonly peers: readonly UapiPeerState[];
}
