/**
 * Who a request or handshake comes from, for per-source limits.
 *
 * An IPv6 host usually owns a whole /64 (SLAAC, privacy addresses) and can pick a
 * new address in it for every connection, so per-address limits would not limit it
 * at all; IPv6 sources are keyed by their /64, as Linux's WireGuard rate limiter
 * does. IPv4-mapped IPv6 addresses (a dual-stack socket) are keyed as the IPv4
 * address they stand for, so one host is one key whichever socket it reached.
 */
import { InvalidArgumentError } from '../errors.js';
import {
  cidrEnd,
  cidrParseError,
  formatCidr,
  formatIp,
  parseCidrOrHost,
  parseIp,
  type Cidr,
  type IpAddress,
} from './cidr.js';

/** Prefix length IPv6 sources are grouped by. */
export const IPV6_SOURCE_PREFIX = 64;

const IPV6_HOST_BITS = BigInt(128 - IPV6_SOURCE_PREFIX);
const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** Parses a socket's address text, zone id dropped and mapped IPv4 unwrapped; undefined if it is not one. */
export function parseSourceAddress(address: string): IpAddress | undefined {
  const zoneless = address.split('%')[0]!;
  return parseIp(MAPPED_V4.exec(zoneless)?.[1] ?? zoneless);
}

/**
 * The limiter key of a source address: the IPv4 address itself, or the /64 an IPv6
 * address lies in ("2001:db8:1:2::/64"). Text that is no address is its own key.
 */
export function sourceKey(address: string): string {
  const ip = parseSourceAddress(address);
  if (ip === undefined) return address;
  if (ip.family === 4) return formatIp(ip);
  const network = (ip.value >> IPV6_HOST_BITS) << IPV6_HOST_BITS;
  return formatCidr({ family: 6, network, prefix: IPV6_SOURCE_PREFIX });
}

/** Parses CIDRs (or bare addresses) given on the command line; throws naming the bad one. */
export function parseCidrList(texts: readonly string[], what: string): Cidr[] {
  return texts.map((text) => {
    const parsed = parseCidrOrHost(text);
    if (!parsed.ok)
      throw new InvalidArgumentError(`${what} ${JSON.stringify(text)}: ${cidrParseError(parsed)}`);
    return parsed.cidr;
  });
}

/** True when the socket address lies in one of the blocks. */
export function addressIn(address: string, blocks: readonly Cidr[]): boolean {
  const ip = parseSourceAddress(address);
  return (
    ip !== undefined &&
    blocks.some((b) => b.family === ip.family && ip.value >= b.network && ip.value <= cidrEnd(b))
  );
}
