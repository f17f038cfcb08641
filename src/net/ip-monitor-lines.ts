import { parseAddress } from './validate.js';
/**
 * Parser of iproute2's one-line output (`ip -o monitor link address`, `ip -o link show`,
 * `ip -o addr show`): link state and address changes. Pure. A line it does not understand yields
 * null (the caller counts it), never an exception: the output of another iproute2 version, a new
 * kind of interface or a truncated line must not take the watcher down.
 *
 *   3: eth0@if2: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 ... state LOWERLAYERDOWN ...
 *   Deleted 3: eth0    inet 10.0.0.1/30 scope global eth0\       valid_lft forever ...
 *   4: wg0    inet 10.0.0.1 peer 10.0.0.2/32 scope global wg0\ ...
 */

export interface LinkLine {
  kind: 'link';
  deleted: boolean;
  index: number;
  name: string;
  /** Operational state as printed (UP, DOWN, LOWERLAYERDOWN, UNKNOWN, DORMANT, ...); '' if absent. */
  state: string;
  /** Administratively up, with carrier, and operationally up (or a driver that reports UNKNOWN). */
  usable: boolean;
}

export interface AddressLine {
  kind: 'address';
  deleted: boolean;
  index: number;
  family: 4 | 6;
  /** Canonical text (as parseAddress formats it), without the prefix length. */
  address: string;
  /** IPv6 duplicate address detection not done (or failed): nothing can bind to it yet. */
  tentative: boolean;
}

export type IpMonitorLine = LinkLine | AddressLine;

const LINK = /^(Deleted )?(\d+): ([^\s:]+?)(?:@[^\s:]*)?: <([^>]*)>(.*)$/;
const ADDRESS = /^(Deleted )?(\d+): (\S+)\s+(inet6?) ([0-9A-Fa-f.:]+)(?:\/\d+)?(?:\s|$)/;
/** Operational states in which a link with carrier passes packets (RFC 2863; UNKNOWN: drivers without operstate, e.g. TUN). */
const PASSING = new Set(['UP', 'UNKNOWN', '']);

export function parseIpMonitorLine(line: string): IpMonitorLine | null {
  const text = line.trimEnd();
  const link = LINK.exec(text);
  if (link) return linkLine(link);
  const addr = ADDRESS.exec(text);
  if (addr) return addressLine(addr);
  return null;
}

function linkLine(m: RegExpExecArray): LinkLine | null {
  const index = Number(m[2]);
  if (!Number.isSafeInteger(index) || index <= 0) return null;
  const flags = new Set(m[4]!.split(','));
  const state = / state (\S+)/.exec(m[5]!)?.[1] ?? '';
  const usable = flags.has('UP') && !flags.has('NO-CARRIER') && PASSING.has(state);
  return { kind: 'link', deleted: m[1] !== undefined, index, name: m[3]!, state, usable };
}

function addressLine(m: RegExpExecArray): AddressLine | null {
  const index = Number(m[2]);
  if (!Number.isSafeInteger(index) || index <= 0) return null;
  let parsed: ReturnType<typeof parseAddress>;
  try {
    parsed = parseAddress(m[5]!, 'address');
  } catch {
    return null;
  }
  if (parsed.family !== (m[4] === 'inet' ? 4 : 6)) return null;
  const tentative = / (tentative|dadfailed)\b/.test(m.input);
  return {
    kind: 'address',
    deleted: m[1] !== undefined,
    index,
    family: parsed.family,
    address: parsed.address,
    tentative,
  };
}
