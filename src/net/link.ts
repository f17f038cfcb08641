/**
 * Interface configuration through iproute2's `ip`: addresses, MTU, link state and routes of the
 * TUN devices the dataplane opens. Arguments are validated and passed as argv (no shell).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SystemError } from '../errors.js';
import { parseInterfaceName, parseIntInRange } from '../util/parse.js';
import { parseAllowedIp } from './validate.js';
import { checkMtu } from '../native/mtu.js';

const run = promisify(execFile);

async function ip(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('ip', args, { encoding: 'utf8' });
    return stdout;
  } catch (cause) {
    const stderr = String((cause as { stderr?: string }).stderr ?? '').trim();
    throw new SystemError(`ip ${args.join(' ')} failed: ${stderr || (cause as Error).message}`, { cause });
  }
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

/** Routes a prefix into the interface (for a peer's allowed IPs). */
export async function addRoute(dev: string, prefix: string, table?: number): Promise<void> {
  const { text } = parseAllowedIp(prefix, 'route');
  const args = [
    text.includes(':') ? '-6' : '-4',
    'route',
    'replace',
    text,
    'dev',
    parseInterfaceName(dev, 'interface'),
  ];
  if (table !== undefined) args.push('table', String(parseIntInRange(table, 'table', 1, 0xffffffff)));
  await ip(args);
}

export async function linkExists(dev: string): Promise<boolean> {
  try {
    await run('ip', ['link', 'show', 'dev', parseInterfaceName(dev, 'interface')]);
    return true;
  } catch {
    return false;
  }
}

export async function deleteLink(dev: string): Promise<void> {
  await ip(['link', 'del', parseInterfaceName(dev, 'interface')]);
}
