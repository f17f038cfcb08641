/** Validation of IP addresses and prefixes given as arguments (see src/util/parse.ts for the rest). */
import { InvalidArgumentError } from '../errors.js';
import { formatIp, parseIp, type IpFamily } from './cidr.js';

export function parseAddress(value: unknown, what: string): { address: string; family: IpFamily } {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${what} must be an IP address string`);
  const ip = parseIp(value);
  if (!ip) throw new InvalidArgumentError(`${what} is not an IPv4 or IPv6 address: ${JSON.stringify(value)}`);
  return { address: formatIp(ip), family: ip.family };
}

/**
 * An allowed-IPs entry "address/prefix". As with `wg`, host bits are masked off rather than
 * refused: "10.0.0.1/24" means 10.0.0.0/24.
 */
export function parseAllowedIp(
  value: unknown,
  what: string,
): { address: string; cidr: number; text: string } {
  if (typeof value !== 'string')
    throw new InvalidArgumentError(`${what} must be a string like "10.0.0.0/24"`);
  const slash = value.indexOf('/');
  const ip = parseIp(slash < 0 ? value : value.slice(0, slash));
  if (!ip) throw new InvalidArgumentError(`${what} is not an IP prefix: ${JSON.stringify(value)}`);
  const width = ip.family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(width) : value.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > width) {
    throw new InvalidArgumentError(`${what} has a bad prefix length (0..${width}): ${JSON.stringify(value)}`);
  }
  const cidr = Number(prefixText);
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - cidr)) - 1n);
  const address = formatIp({ family: ip.family, value: ip.value & mask });
  return { address, cidr, text: `${address}/${cidr}` };
}
