/**
 * Value syntax of the userspace API, matched to what wireguard-go's Go standard library parsers accept
 * (strconv.ParseUint, netip.ParseAddrPort, netip.ParsePrefix) and how its String methods print.
 * Address literals themselves go through the shared parser in net/cidr.
 */
import { formatIp, parseIp, type Cidr, type Endpoint, type IpAddress } from '../net/cidr.js';
import { parseAllowedIp } from '../net/validate.js';

/**
 * strconv.ParseUint(text, 10, bits): ASCII digits only (leading zeros fine, no sign, no spaces),
 * at most `max`. Returns undefined otherwise.
 */
export function parseDecimal(text: string, max: number): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

export interface HostPort {
  readonly host: string;
  readonly port: string;
  /** The host was written in square brackets. */
  readonly bracketed: boolean;
}

/** "host:port" or "[host]:port" split at the right colon, or undefined when there is no port part. */
export function splitHostPort(text: string): HostPort | undefined {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    return { host: text.slice(1, close), port: text.slice(close + 2), bracketed: true };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) return undefined;
  return { host: text.slice(0, colon), port: text.slice(colon + 1), bracketed: false };
}

/**
 * netip.ParseAddrPort: IPv4 "a.b.c.d:port" or IPv6 "[addr]:port", port 0..65535. Brackets are
 * required for IPv6 and refused for IPv4. Zones ("%eth0") are refused: net/cidr has no zones and a
 * tunnel endpoint never needs one on a routed uplink.
 */
export function parseUapiEndpoint(text: string): Endpoint | string {
  const parts = splitHostPort(text);
  if (!parts) return 'expected "a.b.c.d:port" or "[ipv6]:port"';
  const address = parseIp(parts.host);
  if (!address) return `"${parts.host}" is not an IP address`;
  if (parts.bracketed && address.family === 4) return 'square brackets are only for IPv6 addresses';
  if (!parts.bracketed && address.family === 6) return 'IPv6 addresses must be written in square brackets';
  const port = parseDecimal(parts.port, 65535);
  if (port === undefined) return `port "${parts.port}" is not an integer 0..65535`;
  return { address, port };
}

/**
 * netip.ParsePrefix: "address/bits" with the "/bits" required. Host bits are masked off, as
 * wireguard-go's allowed-IPs trie does on insert. Leading zeros in the length are refused, as
 * Go 1.22+ does (older Go, like Debian's wireguard-go build, let "/024" through).
 */
export function parseUapiPrefix(text: string): Cidr | string {
  const slash = text.indexOf('/');
  if (slash < 0) return 'missing "/prefix-length"';
  let masked: string;
  try {
    masked = parseAllowedIp(text, 'allowed_ip').text;
  } catch (cause) {
    return cause instanceof Error ? cause.message : String(cause);
  }
  const mslash = masked.indexOf('/');
  const address = parseIp(masked.slice(0, mslash));
  if (!address) return `"${text}" is not an IP prefix`;
  return { family: address.family, network: address.value, prefix: Number(masked.slice(mslash + 1)) };
}

/** netip.Addr.String: like RFC 5952, except IPv4-mapped IPv6 keeps its dotted tail ("::ffff:10.0.0.1"). */
export function formatGoAddr(ip: IpAddress): string {
  if (ip.family === 6 && ip.value >> 32n === 0xffffn) {
    return `::ffff:${formatIp({ family: 4, value: ip.value & 0xffffffffn })}`;
  }
  return formatIp(ip);
}

export function formatGoPrefix(cidr: Cidr): string {
  return `${formatGoAddr({ family: cidr.family, value: cidr.network })}/${cidr.prefix}`;
}

export function formatGoEndpoint(endpoint: Endpoint): string {
  const host = formatGoAddr(endpoint.address);
  return endpoint.address.family === 6 ? `[${host}]:${endpoint.port}` : `${host}:${endpoint.port}`;
}

/** Quote a piece of client input for an error message, cut short so a huge line cannot flood logs. */
export function quote(text: string, max = 80): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
