/**
 * sag's multipath extension of the wg-quick format (documented in docs/multipath.md):
 *
 *   [Interface]  ProbeInterval, ProbeStandbyInterval, ProbeTimeout, HoldDown (ms), DownAfter, UpAfter
 *   [Uplink]     Name, Address, Device, Port, Priority, Weight, Metered, Bandwidth (Mbit/s)
 *   [Peer]       Endpoint = host:port[@uplink], host:port[@uplink], ...  (the first gets the handshake)
 *   [Class]      Name, DSCP, Protocol, SourcePort, DestinationPort, SourceAddress, DestinationAddress
 *                (prefixes, at most 8 each), Policy, MaxLoss (%), MaxLatency, MaxJitter (ms)
 *
 * Values are parsed here with the same `fail` callback as the rest, so errors carry file and line.
 * DSCP, SourceAddress and DestinationAddress add up over repeated lines; other keys take the last.
 */
import { MAX_CLASS_PREFIXES } from '../dataplane/selection.js';
import { cidrParseError, familiesMeet, formatCidr, parseCidrOrHost, type Cidr } from '../net/cidr.js';
import type { Policy, TrafficClass } from '../paths/types.js';
import type { ConfigEndpoint, ConfigUplink, PathTuning } from './types.js';
import { decimal, parseBool, parseConfigEndpoint, type Fail } from './values.js';

export const INTERFACE_PATH_KEYS: Record<string, keyof PathTuning> = {
  probeinterval: 'intervalMs',
  probestandbyinterval: 'standbyIntervalMs',
  probetimeout: 'timeoutMs',
  holddown: 'holdDownMs',
  downafter: 'downAfter',
  upafter: 'upAfter',
};
export const UPLINK_KEYS: Record<string, string> = {
  name: 'Name',
  address: 'Address',
  device: 'Device',
  port: 'Port',
  priority: 'Priority',
  weight: 'Weight',
  metered: 'Metered',
  bandwidth: 'Bandwidth',
};
export const CLASS_KEYS: Record<string, string> = {
  name: 'Name',
  dscp: 'DSCP',
  protocol: 'Protocol',
  sourceport: 'SourcePort',
  destinationport: 'DestinationPort',
  sourceaddress: 'SourceAddress',
  destinationaddress: 'DestinationAddress',
  policy: 'Policy',
  maxloss: 'MaxLoss',
  maxlatency: 'MaxLatency',
  maxjitter: 'MaxJitter',
};

const NAME = /^[A-Za-z0-9_.-]{1,32}$/;
const DSCP_NAMES: Record<string, number> = {
  cs0: 0,
  cs1: 8,
  af11: 10,
  af12: 12,
  af13: 14,
  cs2: 16,
  af21: 18,
  af22: 20,
  af23: 22,
  cs3: 24,
  af31: 26,
  af32: 28,
  af33: 30,
  cs4: 32,
  af41: 34,
  af42: 36,
  af43: 38,
  cs5: 40,
  ef: 46,
  cs6: 48,
  cs7: 56,
};
const PROTOCOLS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132 };
const POLICIES = ['active-standby', 'lowest-latency', 'weighted', 'sla', 'duplicate'] as const;

function int(name: string, value: string, min: number, max: number, fail: Fail): number {
  return decimal(value, min, max) ?? fail(`${name} must be an integer ${min}..${max}, got "${value}"`);
}

export function setPathKey(
  t: { -readonly [K in keyof PathTuning]?: number },
  name: keyof PathTuning,
  key: string,
  value: string,
  fail: Fail,
): void {
  const [min, max] = name === 'downAfter' || name === 'upAfter' ? [1, 100] : [10, 600_000];
  t[name] = int(key, value, min, max, fail);
}

export interface UplinkBuilder {
  line: number;
  name?: string;
  address?: string;
  device?: string;
  port?: number;
  priority?: number;
  weight?: number;
  metered?: boolean;
  bandwidthMbps?: number;
}

export function setUplinkKey(u: UplinkBuilder, name: string, value: string, fail: Fail): void {
  switch (name) {
    case 'Name':
      if (!NAME.test(value)) fail(`uplink Name must be 1..32 of A-Z a-z 0-9 _ . -, got "${value}"`);
      u.name = value;
      return;
    case 'Address': {
      const ep = parseConfigEndpoint(`${value.includes(':') ? `[${value}]` : value}:1`, fail);
      if (!ep.address) fail(`uplink Address must be an IP address, got "${value}"`);
      u.address = value;
      return;
    }
    case 'Device':
      if (!/^[A-Za-z0-9_.:-]{1,15}$/.test(value))
        fail(`uplink Device must be an interface name, got "${value}"`);
      u.device = value;
      return;
    case 'Port':
      u.port = int('Port', value, 0, 65535, fail);
      return;
    case 'Priority':
      u.priority = int('Priority', value, 0, 65535, fail);
      return;
    case 'Weight':
      u.weight = int('Weight', value, 1, 65535, fail);
      return;
    case 'Metered':
      u.metered = parseBool('Metered', value, fail);
      return;
    default:
      u.bandwidthMbps = int('Bandwidth', value, 1, 1_000_000, fail);
  }
}

export function finishUplink(u: UplinkBuilder, fail: Fail): ConfigUplink {
  if (!u.name) fail('[Uplink] section has no Name');
  const { line: _line, ...rest } = u;
  return { ...rest, name: u.name, line: u.line };
}

/** `host:port[@uplink]` items separated by commas (white space already removed). */
export function parseEndpointList(value: string, fail: Fail): ConfigEndpoint[] {
  return value
    .split(',')
    .filter((s) => s !== '')
    .map((item) => {
      const at = item.lastIndexOf('@');
      const uplink = at > 0 ? item.slice(at + 1) : undefined;
      if (uplink !== undefined && !NAME.test(uplink))
        fail(`Endpoint "${item}" names a bad uplink "${uplink}"`);
      const ep = parseConfigEndpoint(at > 0 ? item.slice(0, at) : item, fail);
      return uplink === undefined ? ep : { ...ep, uplink };
    });
}

export interface ClassBuilder {
  line: number;
  name?: string;
  dscp: number[];
  protocol?: number;
  srcPorts?: [number, number];
  dstPorts?: [number, number];
  srcAddresses?: Cidr[];
  dstAddresses?: Cidr[];
  policy?: (typeof POLICIES)[number];
  maxLossPct?: number;
  maxRttMs?: number;
  maxJitterMs?: number;
}

function portRange(name: string, value: string, fail: Fail): [number, number] {
  const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(value);
  const lo = m ? decimal(m[1]!, 1, 65535) : undefined;
  const hi = m ? (m[2] === undefined ? lo : decimal(m[2], 1, 65535)) : undefined;
  if (lo === undefined || hi === undefined || lo > hi)
    fail(`${name} must be a port or a range "low-high" within 1..65535, got "${value}"`);
  return [lo!, hi!];
}

/** Comma-separated prefixes (a bare address is a host prefix), added to those the key gave before. */
function addPrefixes(name: string, value: string, to: Cidr[], fail: Fail): Cidr[] {
  for (const item of value.split(',').filter((s) => s !== '')) {
    const r = parseCidrOrHost(item);
    if (!r.ok) fail(`${name} entry "${item}": ${cidrParseError(r)}`);
    else if (!to.some((c) => formatCidr(c) === formatCidr(r.cidr))) to.push(r.cidr);
  }
  if (to.length > MAX_CLASS_PREFIXES)
    fail(`${name} lists ${to.length} prefixes; at most ${MAX_CLASS_PREFIXES} per class`);
  return to;
}

export function setClassKey(c: ClassBuilder, name: string, value: string, fail: Fail): void {
  switch (name) {
    case 'Name':
      if (!NAME.test(value)) fail(`class Name must be 1..32 of A-Z a-z 0-9 _ . -, got "${value}"`);
      c.name = value;
      return;
    case 'DSCP':
      for (const item of value.split(',').filter((s) => s !== '')) {
        const n = DSCP_NAMES[item.toLowerCase()] ?? decimal(item, 0, 63);
        if (n === undefined) fail(`DSCP must list values 0..63 or names (EF, AF41, CS6, ...), got "${item}"`);
        c.dscp.push(n!);
      }
      return;
    case 'Protocol':
      c.protocol =
        PROTOCOLS[value.toLowerCase()] ??
        decimal(value, 1, 255) ??
        fail(`Protocol must be tcp, udp, icmp, sctp or a number 1..255, got "${value}"`);
      return;
    case 'SourcePort':
      c.srcPorts = portRange(name, value, fail);
      return;
    case 'DestinationPort':
      c.dstPorts = portRange(name, value, fail);
      return;
    case 'SourceAddress':
      c.srcAddresses = addPrefixes(name, value, c.srcAddresses ?? [], fail);
      return;
    case 'DestinationAddress':
      c.dstAddresses = addPrefixes(name, value, c.dstAddresses ?? [], fail);
      return;
    case 'Policy': {
      const p = POLICIES.find((x) => x === value.toLowerCase());
      if (!p) fail(`Policy must be one of ${POLICIES.join(', ')}, got "${value}"`);
      c.policy = p;
      return;
    }
    case 'MaxLoss':
      c.maxLossPct = int('MaxLoss', value, 0, 100, fail);
      return;
    case 'MaxLatency':
      c.maxRttMs = int('MaxLatency', value, 1, 600_000, fail);
      return;
    default:
      c.maxJitterMs = int('MaxJitter', value, 0, 600_000, fail);
  }
}

export function finishClass(c: ClassBuilder, fail: Fail): TrafficClass & { line: number } {
  if (!c.name) fail('[Class] section has no Name');
  const sla = c.maxLossPct !== undefined || c.maxRttMs !== undefined || c.maxJitterMs !== undefined;
  const kind = c.policy ?? (sla ? 'sla' : 'active-standby');
  if (sla && kind !== 'sla')
    fail(`MaxLoss, MaxLatency and MaxJitter need Policy = sla (the class says ${kind})`);
  if (kind === 'sla' && !sla) fail('Policy = sla needs at least one of MaxLoss, MaxLatency, MaxJitter');
  if ((c.srcPorts || c.dstPorts) && c.protocol !== undefined && ![6, 17, 132].includes(c.protocol))
    fail('ports only apply with Protocol tcp, udp or sctp');
  if (!familiesMeet(c.srcAddresses ?? [], c.dstAddresses ?? []))
    fail(
      'SourceAddress and DestinationAddress share no address family (IPv4 / IPv6), so no packet could match',
    );
  const policy: Policy =
    kind === 'sla'
      ? {
          kind,
          ...(c.maxLossPct !== undefined ? { maxLossPct: c.maxLossPct } : {}),
          ...(c.maxRttMs !== undefined ? { maxRttMs: c.maxRttMs } : {}),
          ...(c.maxJitterMs !== undefined ? { maxJitterMs: c.maxJitterMs } : {}),
        }
      : { kind };
  return {
    name: c.name!,
    line: c.line,
    match: {
      ...(c.dscp.length ? { dscp: [...new Set(c.dscp)] } : {}),
      ...(c.protocol !== undefined ? { protocol: c.protocol } : {}),
      ...(c.srcPorts ? { srcPorts: c.srcPorts } : {}),
      ...(c.dstPorts ? { dstPorts: c.dstPorts } : {}),
      ...(c.srcAddresses ? { srcAddresses: c.srcAddresses.map(formatCidr) } : {}),
      ...(c.dstAddresses ? { dstAddresses: c.dstAddresses.map(formatCidr) } : {}),
    },
    policy,
  };
}
