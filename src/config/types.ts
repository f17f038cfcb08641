import type { TrafficClass } from '../paths/types.js';

/** A wg-quick style configuration file, parsed (see parse.ts for the rules it follows). */
import type { Cidr, IpAddress } from '../net/cidr.js';

/** An interface address: unlike an allowed IP, its host bits matter ("10.0.0.1/24"). */
export interface InterfaceAddress {
  readonly address: IpAddress;
  /** As written, or 32 / 128 when the file gave a bare address (as `ip address add` assumes). */
  readonly prefix: number;
}

export interface ConfigEndpoint {
  /** An IP literal in canonical form (no brackets), or the DNS name as written. */
  readonly host: string;
  readonly port: number;
  /** Set when `host` is an IP literal. */
  readonly address?: IpAddress;
  /** True when `host` is a DNS name that must be resolved before use (wg(8) resolves at set time). */
  readonly needsResolution: boolean;
  /** Multipath: only this uplink reaches it ("host:port@uplink"). */
  readonly uplink?: string;
}

/** Multipath: an [Uplink] section (see src/config/multipath.ts). */
export interface ConfigUplink {
  readonly name: string;
  readonly address?: string;
  readonly device?: string;
  readonly port?: number;
  readonly priority?: number;
  readonly weight?: number;
  readonly metered?: boolean;
  readonly bandwidthMbps?: number;
  readonly line: number;
}

/** Multipath: probe and path-state tuning from [Interface] (ms, counts). */
export interface PathTuning {
  readonly intervalMs?: number;
  readonly standbyIntervalMs?: number;
  readonly timeoutMs?: number;
  readonly holdDownMs?: number;
  readonly downAfter?: number;
  readonly upAfter?: number;
}

export interface ConfigInterface {
  readonly privateKey?: Uint8Array;
  readonly listenPort?: number;
  /** 0 when the file says "off" (or 0). */
  readonly fwMark?: number;
  readonly addresses: readonly InterfaceAddress[];
  readonly mtu?: number;
  /** DNS entries that are IP addresses (wg-quick: nameservers). */
  readonly dns: readonly IpAddress[];
  /** DNS entries that are not (wg-quick: search domains). */
  readonly dnsSearch: readonly string[];
  /** "off", "auto", a number or a routing table name; absent means auto. */
  readonly table?: string;
  /** Hook commands as wg-quick keeps them (cut at the first '#', trimmed); never run by the parser. */
  readonly preUp: readonly string[];
  readonly postUp: readonly string[];
  readonly preDown: readonly string[];
  readonly postDown: readonly string[];
  readonly saveConfig: boolean;
}

export interface ConfigPeer {
  readonly publicKey: Uint8Array;
  readonly presharedKey?: Uint8Array;
  /** Host bits masked off, as the kernel stores them (a warning is recorded when they were set). */
  readonly allowedIps: readonly Cidr[];
  readonly endpoint?: ConfigEndpoint;
  /** Multipath: every endpoint when Endpoint lists several (or ties one to an uplink); endpoint is the first. */
  readonly endpoints?: readonly ConfigEndpoint[];
  /** Seconds; 0 when the file says "off" (or 0). */
  readonly persistentKeepalive?: number;
  /** Line of the [Peer] header, for messages about this peer. */
  readonly line: number;
}

/** Something wg-quick accepts but that is probably not what was meant. */
export interface ConfigWarning {
  readonly line: number;
  readonly message: string;
}

export interface WgQuickConfig {
  /** The name errors and warnings use (usually the file's base name, e.g. "wg0.conf"). */
  readonly file: string;
  readonly interface: ConfigInterface;
  readonly peers: readonly ConfigPeer[];
  readonly warnings: readonly ConfigWarning[];
  /** Multipath sections; empty for a plain wg-quick file. */
  readonly uplinks: readonly ConfigUplink[];
  readonly classes: readonly (TrafficClass & { readonly line: number })[];
  readonly pathTuning: PathTuning;
}
