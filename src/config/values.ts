/**
 * Value syntax of each key, matched to what wg(8) (src/config.c) and wg-quick (linux.bash) accept.
 * Every parser gets a `fail` callback that throws with the line attached, so the messages here only
 * say what is wrong with the value.
 */
import { checkMtu } from '../native/mtu.js';
import { formatIp, parseCidr, parseIp, type Cidr, type IpAddress } from '../net/cidr.js';
import { parseBase64Key } from '../uapi/keys.js';
import { splitHostPort } from '../uapi/text.js';
import type { ConfigEndpoint, InterfaceAddress } from './types.js';

export type Fail = (reason: string) => never;

const DIGITS = /^[0-9]+$/;

export function decimal(value: string, min: number, max: number): number | undefined {
  if (!DIGITS.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

export function parseKey(name: string, value: string, fail: Fail): Uint8Array {
  return (
    parseBase64Key(value) ??
    fail(`${name} is not a valid base64 key (44 characters ending in '=', as \`wg genkey\` prints)`)
  );
}

/** Numeric only: wg(8) would also look up a service name, which a tunnel port never is. */
export function parseListenPort(value: string, fail: Fail): number {
  return decimal(value, 0, 65535) ?? fail(`ListenPort must be a port number 0..65535, got "${value}"`);
}

/** "off", decimal, or hexadecimal with "0x", up to 0xffffffff (wg(8) parse_fwmark). */
export function parseFwMark(value: string, fail: Fail): number {
  if (value.toLowerCase() === 'off') return 0;
  let n: number | undefined;
  if (/^0x[0-9a-fA-F]+$/.test(value)) n = parseInt(value.slice(2), 16);
  else n = decimal(value, 0, 0xffffffff);
  if (n === undefined || n > 0xffffffff) fail(`FwMark must be "off" or 0..0xffffffff, got "${value}"`);
  return n;
}

export function parsePersistentKeepalive(value: string, fail: Fail): number {
  if (value.toLowerCase() === 'off') return 0;
  return (
    decimal(value, 0, 65535) ?? fail(`PersistentKeepalive must be "off" or seconds 0..65535, got "${value}"`)
  );
}

/** The dataplane's MTU rule (src/native/mtu.ts): the interface MTU is the largest packet it carries. */
export function parseMtu(value: string, fail: Fail): number {
  return checkMtu(DIGITS.test(value) ? Number(value) : value, 'MTU', fail);
}

/** wg-quick hands Table to `ip route ... table X`: "off", "auto", a number or a name from rt_tables. */
export function parseTable(value: string, fail: Fail): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(value))
    fail(`Table must be "off", "auto", a table number or a table name, got "${value}"`);
  return value;
}

export function parseBool(name: string, value: string, fail: Fail): boolean {
  const v = value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  return fail(`${name} must be true or false, got "${value}"`);
}

/** wg-quick splits Address and DNS on commas and white space and skips empty items. */
function items(value: string): string[] {
  return value.split(/[\s,]+/).filter((s) => s !== '');
}

function parsePrefixLength(text: string, family: 4 | 6): number | undefined {
  if (!/^(0|[1-9][0-9]{0,2})$/.test(text)) return undefined;
  const n = Number(text);
  return n <= (family === 4 ? 32 : 128) ? n : undefined;
}

export function parseAddresses(value: string, fail: Fail): InterfaceAddress[] {
  return items(value).map((item) => {
    const slash = item.indexOf('/');
    const address = parseIp(slash < 0 ? item : item.slice(0, slash));
    if (!address) return fail(`Address "${item}" is not an IP address`);
    if (slash < 0) return { address, prefix: address.family === 4 ? 32 : 128 };
    const prefix = parsePrefixLength(item.slice(slash + 1), address.family);
    if (prefix === undefined)
      return fail(`Address "${item}" has a bad prefix length (0..${address.family === 4 ? 32 : 128})`);
    return { address, prefix };
  });
}

/** wg-quick's split: digits-and-dots or anything with a colon is a nameserver, the rest search domains. */
export function parseDns(value: string, fail: Fail): { servers: IpAddress[]; search: string[] } {
  const servers: IpAddress[] = [];
  const search: string[] = [];
  for (const item of items(value)) {
    if (/^[0-9.]+$/.test(item) || item.includes(':')) {
      servers.push(parseIp(item) ?? fail(`DNS server "${item}" is not an IP address`));
    } else if (isHostname(item)) {
      search.push(item);
    } else {
      fail(`DNS entry "${item}" is neither an IP address nor a domain name`);
    }
  }
  return { servers, search };
}

export interface AllowedIpsResult {
  readonly cidrs: Cidr[];
  /** Entries whose host bits were set, with the prefix they became. */
  readonly masked: { readonly written: string; readonly cidr: Cidr }[];
}

/**
 * Comma-separated prefixes; a bare address means /32 or /128. As wg(8) does, host bits are accepted
 * (and reported so the caller can warn), an empty item is an error, and so is any unparsable item.
 * The "+prefix" / "-prefix" incremental forms of newer wg(8) are refused: a file describes the whole
 * configuration, so there is nothing for them to be relative to.
 */
export function parseAllowedIps(value: string, fail: Fail): AllowedIpsResult {
  const cidrs: Cidr[] = [];
  const masked: { written: string; cidr: Cidr }[] = [];
  for (const item of value.split(',')) {
    if (item === '') fail('AllowedIPs has an empty entry (a stray comma?)');
    if (item.startsWith('+') || item.startsWith('-'))
      fail(`AllowedIPs entry "${item}": incremental +/- entries are not supported in a config file`);
    const slash = item.indexOf('/');
    const ip = parseIp(slash < 0 ? item : item.slice(0, slash));
    if (!ip) fail(`AllowedIPs entry "${item}" is not an IP address or prefix`);
    const full = slash < 0 ? `${item}/${ip.family === 4 ? 32 : 128}` : item;
    const parsed = parseCidr(full);
    if (parsed.ok) {
      cidrs.push(parsed.cidr);
    } else if (parsed.canonical !== undefined) {
      const again = parseCidr(parsed.canonical);
      if (!again.ok) fail(`AllowedIPs entry "${item}": ${again.reason}`);
      cidrs.push(again.cidr);
      masked.push({ written: item, cidr: again.cidr });
    } else {
      fail(`AllowedIPs entry "${item}": ${parsed.reason}`);
    }
  }
  return { cidrs, masked };
}

/**
 * "a.b.c.d:port", "[ipv6]:port" or "name:port". A name is kept for later resolution (wg(8) resolves
 * at set time). Unlike wg(8), an unbracketed IPv6 address is refused: "::1:51820" reads two ways.
 */
export function parseConfigEndpoint(value: string, fail: Fail): ConfigEndpoint {
  const parts = splitHostPort(value);
  if (!parts || parts.port === '')
    return fail(`Endpoint "${value}" needs a port: "host:port" or "[ipv6]:port"`);
  const port = decimal(parts.port, 1, 65535) ?? fail(`Endpoint "${value}" has a bad port (1..65535)`);
  if (parts.bracketed) {
    if (parts.host.includes('%'))
      return fail(`Endpoint "${value}": zone indexes ("%eth0") are not supported`);
    const address = parseIp(parts.host);
    if (!address || address.family !== 6)
      return fail(`Endpoint "${value}": only an IPv6 address may go in square brackets`);
    return { host: formatIp(address), port, address, needsResolution: false };
  }
  if (parts.host.includes(':')) return fail(`Endpoint "${value}": write IPv6 endpoints as [address]:port`);
  const address = parseIp(parts.host);
  if (address) return { host: formatIp(address), port, address, needsResolution: false };
  if (!isHostname(parts.host))
    return fail(`Endpoint "${value}": "${parts.host}" is neither an IP address nor a valid host name`);
  return { host: parts.host, port, needsResolution: true };
}

/**
 * RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, 1..63 each, 253 in
 * all, optional final dot. The last label may not be all digits (RFC 3696), so a mistyped address
 * such as "10.0.0.256" is reported as a bad address rather than sent to DNS.
 */
export function isHostname(text: string): boolean {
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (labels.some((l) => !/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))) return false;
  return !/^[0-9]+$/.test(labels[labels.length - 1]!);
}
