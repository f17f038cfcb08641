/**
 * The access point trusts nothing it is sent: a received configuration is checked
 * here, whole, before any of it reaches `ip`, `nft` or the dataplane. Every id,
 * serial and key must have the form the controller's model gives it
 * (contract/ids.ts), every CIDR must be canonical, numbers must be in range, and
 * nothing may overlap where the kernel or the dataplane would resolve the overlap
 * silently. Since ids are [a-z0-9-] and CIDRs canonical, no string that reaches
 * nftables text can hold a quote, brace, semicolon or newline.
 *
 * The result is a fresh copy holding only the known fields, so nothing unchecked
 * rides along into the applier.
 */
import {
  AREA_NAME_PATTERN,
  CONFIG_VERSION_PATTERN,
  isValidId,
  MAX_MBPS,
  SERIAL_PATTERN,
  WG_KEY_PATTERN,
  WG_ZERO_KEY,
  type IdPrefix,
} from '../contract/ids.js';
import { findOverlap, formatCidr, formatEndpoint, parseCidr, parseEndpoint, type Cidr } from '../net/cidr.js';
import { ConfigRefusedError } from './errors.js';
import type { AccessPointConfig, ForwardingRule, HubPeer } from '../contract/config.js';

const REASONS: readonly ForwardingRule['reason'][] = ['same-ccn', 'same-area', 'granted'];
const TARGET_KINDS: readonly ForwardingRule['to']['kind'][] = ['ccn', 'vpc'];

/** Throws ConfigRefusedError naming the first field that is wrong; returns a checked copy. */
export function validateAccessPointConfig(raw: unknown, accessPointId: string): AccessPointConfig {
  const c = record(raw, 'configuration');
  if (c['kind'] !== 'accessPoint') refuse('kind', c['kind'], 'is not "accessPoint"');
  const version = matching(c['version'], 'version', CONFIG_VERSION_PATTERN, 'a SHA-256 in lowercase hex');
  const modelVersion = integer(c['modelVersion'], 'modelVersion', 0, Number.MAX_SAFE_INTEGER);
  const id = entityId(c['accessPointId'], 'accessPointId', 'ap');
  if (id !== accessPointId) refuse('accessPointId', id, `is not this access point (${accessPointId})`);
  const area = matching(c['area'], 'area', AREA_NAME_PATTERN, 'an area name');
  const endpoints = list(c['endpoints'], 'endpoints').map((e, i) => endpoint(e, `endpoints[${i}]`));
  const maxInstances = integer(c['maxInstances'], 'maxInstances', 0, Number.MAX_SAFE_INTEGER);
  const peers = list(c['peers'], 'peers').map((p, i) => peer(p, `peers[${i}]`));
  const policy = list(c['policy'], 'policy').map((r, i) => rule(r, `policy[${i}]`));
  distinct(peers, 'peers', 'serial', (p) => p.serial);
  distinct(peers, 'peers', 'publicKey', (p) => p.publicKey);
  distinct(policy, 'policy', 'destination', (r) => `${r.ccnId} ${r.to.kind} ${r.to.id}`);
  // One routing domain per CCN: the dataplane would hand an overlapping prefix to one peer only.
  for (const ccnId of new Set(peers.map((p) => p.ccnId))) {
    const members = peers.filter((p) => p.ccnId === ccnId);
    const clash = findOverlap(
      members.flatMap((p) =>
        p.allowedIps.map((text) => ({ cidr: cidrOf(text), label: `${p.serial} ${text}` })),
      ),
    );
    if (clash) refuse(`peers of ${ccnId}`, `${clash[0].label}, ${clash[1].label}`, 'overlap');
  }
  return {
    kind: 'accessPoint',
    version,
    modelVersion,
    accessPointId: id,
    area,
    endpoints,
    maxInstances,
    peers,
    policy,
  };
}

function peer(raw: unknown, at: string): HubPeer {
  const p = record(raw, at);
  const address = cidr(p['address'], `${at}.address`);
  const parsed = cidrOf(address);
  if (parsed.prefix !== (parsed.family === 4 ? 32 : 128))
    refuse(`${at}.address`, address, 'is not a host prefix (/32 or /128)');
  const allowedIps = cidrList(p['allowedIps'], `${at}.allowedIps`);
  if (!allowedIps.includes(address))
    refuse(`${at}.allowedIps`, allowedIps, `does not hold the address ${address}`);
  const publicKey = matching(
    p['publicKey'],
    `${at}.publicKey`,
    WG_KEY_PATTERN,
    'a WireGuard key (base64 of 32 bytes)',
  );
  if (publicKey === WG_ZERO_KEY) refuse(`${at}.publicKey`, publicKey, 'is the all-zero key');
  return {
    serial: matching(p['serial'], `${at}.serial`, SERIAL_PATTERN, 'a device serial'),
    publicKey,
    instanceId: entityId(p['instanceId'], `${at}.instanceId`, 'sag'),
    ccnId: entityId(p['ccnId'], `${at}.ccnId`, 'ccn'),
    address,
    allowedIps,
    // 0 is "no limit" to the applier; the model itself never compiles less than 1.
    bandwidthMbps: integer(p['bandwidthMbps'], `${at}.bandwidthMbps`, 0, MAX_MBPS),
  };
}

function rule(raw: unknown, at: string): ForwardingRule {
  const r = record(raw, at);
  const to = record(r['to'], `${at}.to`);
  const kind = oneOf(to['kind'], `${at}.to.kind`, TARGET_KINDS);
  const cidrs = cidrList(r['cidrs'], `${at}.cidrs`);
  if (cidrs.length === 0) refuse(`${at}.cidrs`, cidrs, 'is empty');
  return {
    ccnId: entityId(r['ccnId'], `${at}.ccnId`, 'ccn'),
    to: { kind, id: entityId(to['id'], `${at}.to.id`, kind) },
    reason: oneOf(r['reason'], `${at}.reason`, REASONS),
    cidrs,
    grantMbps: r['grantMbps'] === null ? null : integer(r['grantMbps'], `${at}.grantMbps`, 1, MAX_MBPS),
  };
}

/** Canonical CIDRs, disjoint: the controller's model keeps a CCN's and a CEN's address space so. */
function cidrList(raw: unknown, at: string): string[] {
  const texts = list(raw, at).map((t, i) => cidr(t, `${at}[${i}]`));
  const clash = findOverlap(texts.map((text) => ({ cidr: cidrOf(text), label: text })));
  if (clash) refuse(at, `${clash[0].label}, ${clash[1].label}`, 'overlap');
  return texts;
}

function cidr(raw: unknown, at: string): string {
  if (typeof raw !== 'string') refuse(at, raw, 'is not a string');
  const parsed = parseCidr(raw);
  if (!parsed.ok) refuse(at, raw, `is not a CIDR (${parsed.reason})`);
  const canonical = formatCidr(parsed.cidr);
  if (canonical !== raw) refuse(at, raw, `is not in canonical form (${canonical})`);
  return raw;
}

function cidrOf(text: string): Cidr {
  return (parseCidr(text) as { cidr: Cidr }).cidr;
}

function endpoint(raw: unknown, at: string): string {
  const parsed = typeof raw === 'string' ? parseEndpoint(raw) : undefined;
  if (!parsed || formatEndpoint(parsed) !== raw)
    refuse(at, raw, 'is not a canonical "a.b.c.d:port" or "[v6]:port"');
  return raw as string;
}

function entityId(raw: unknown, at: string, prefix: IdPrefix): string {
  if (typeof raw !== 'string' || !isValidId(prefix, raw))
    refuse(at, raw, `is not an id of the form ${prefix}-[a-z0-9-]`);
  return raw;
}

function matching(raw: unknown, at: string, pattern: RegExp, what: string): string {
  if (typeof raw !== 'string' || !pattern.test(raw)) refuse(at, raw, `is not ${what}`);
  return raw;
}

function oneOf<T extends string>(raw: unknown, at: string, allowed: readonly T[]): T {
  if (!allowed.includes(raw as T)) refuse(at, raw, `is not one of ${allowed.join(', ')}`);
  return raw as T;
}

function integer(raw: unknown, at: string, min: number, max: number): number {
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < min || raw > max)
    refuse(at, raw, `is not a whole number from ${min} to ${max}`);
  return raw;
}

function list(raw: unknown, at: string): unknown[] {
  if (!Array.isArray(raw)) refuse(at, raw, 'is not a list');
  return raw;
}

function record(raw: unknown, at: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) refuse(at, raw, 'is not an object');
  return raw as Record<string, unknown>;
}

function distinct<T>(items: readonly T[], at: string, what: string, key: (item: T) => string): void {
  const seen = new Set<string>();
  for (const item of items) {
    const k = key(item);
    if (seen.has(k)) refuse(at, k, `lists this ${what} twice`);
    seen.add(k);
  }
}

/** The offending value as JSON (quotes and newlines escaped), cut short: it may be hostile. */
function refuse(at: string, value: unknown, problem: string): never {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = Object.prototype.toString.call(value);
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  throw new ConfigRefusedError(`${at} ${shown} ${problem}`);
}
