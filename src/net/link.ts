/**
 * Interface configuration through iproute2's `ip`: addresses, MTU, link state and routes of the
 * TUN devices the dataplane opens. Arguments are validated and passed as argv (no shell).
 */
import { InvalidArgumentError } from '../errors.js';
import { runCommand } from '../util/command.js';
import { parseInterfaceName, parseIntInRange } from '../util/parse.js';
import { parseAllowedIp } from './validate.js';
import { checkMtu } from '../native/mtu.js';

/** Runs iproute2's `ip` with these arguments; resolves with its stdout. */
export function ip(args: readonly string[]): Promise<string> {
  return runCommand('ip', args);
}

/** A routing table: a number 1..2^32-1 or a name from rt_tables (as `ip route ... table` takes). */
export function parseRouteTable(table: number | string): string {
  if (typeof table === 'number') return String(parseIntInRange(table, 'table', 1, 0xffffffff));
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(table))
    throw new InvalidArgumentError(`table must be a number or a table name, got ${JSON.stringify(table)}`);
  return table;
}

/** Adds an address such as "10.0.0.1/24" or "fd00::1/64" to the interface. */
export async function addAddress(dev: string, cidr: string): Promise<void> {
  const name = parseInterfaceName(dev, 'interface');
  const slash = cidr.indexOf('/');
  parseAllowedIp(cidr, 'address'); // validates address and prefix length
  const family = cidr.slice(0, slash < 0 ? undefined : slash).includes(':') ? '-6' : '-4';
  await ip([family, 'addr', 'add', cidr, 'dev', name]);
}

export async function setMtu(dev: string, mtu: number): Promise<void> {
  await ip(['link', 'set', parseInterfaceName(dev, 'interface'), 'mtu', String(checkMtu(mtu))]);
}

export async function setUp(dev: string, up = true): Promise<void> {
  await ip(['link', 'set', parseInterfaceName(dev, 'interface'), up ? 'up' : 'down']);
}

/**
 * Routes a prefix into the interface (for a peer's allowed IPs), in the main table or `table`.
 * `replace` takes the prefix over from whatever route held it; `add` (wg-quick's way) fails if a
 * route for it exists, rather than silently taking, and at exit losing, someone else's route.
 */
export async function addRoute(
  dev: string,
  prefix: string,
  table?: number | string,
  mode: 'replace' | 'add' = 'replace',
): Promise<void> {
  const { text } = parseAllowedIp(prefix, 'route');
  const args = [
    text.includes(':') ? '-6' : '-4',
    'route',
    mode,
    text,
    'dev',
    parseInterfaceName(dev, 'interface'),
  ];
  if (table !== undefined) args.push('table', parseRouteTable(table));
  await ip(args);
}

/** Whether a route through the interface already covers the prefix (`ip route show dev D match P`). */
export async function routeCovers(dev: string, prefix: string): Promise<boolean> {
  const { text } = parseAllowedIp(prefix, 'route');
  const out = await ip([
    text.includes(':') ? '-6' : '-4',
    'route',
    'show',
    'dev',
    parseInterfaceName(dev, 'interface'),
    'match',
    text,
  ]);
  return out.trim() !== '';
}

export async function linkExists(dev: string): Promise<boolean> {
  try {
    await ip(['link', 'show', 'dev', parseInterfaceName(dev, 'interface')]);
    return true;
  } catch {
    return false;
  }
}

export async function deleteLink(dev: string): Promise<void> {
  await ip(['link', 'del', parseInterfaceName(dev, 'interface')]);
}

/** The addresses on the interface of one family, as `ip -o addr show` lists them (no prefix). */
export async function interfaceAddresses(dev: string, family: 4 | 6): Promise<string[]> {
  const out = await ip([
    '-o',
    family === 4 ? '-4' : '-6',
    'addr',
    'show',
    'dev',
    parseInterfaceName(dev, 'interface'),
  ]);
  return [...out.matchAll(/\binet6? ([0-9a-f:.]+)\/\d+/g)].map((m) => m[1]!);
}
