/**
 * IP address, CIDR and endpoint parsing shared by the dataplane, config and control-plane model.
 *
 * Addresses are held as bigint so IPv4 and IPv6 share one code path. Parsers
 * return `undefined` on bad input instead of throwing: callers (the model
 * rules) know which object the text belongs to and build the error message.
 */

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

export interface Cidr {
  readonly family: IpFamily;
  /** Network address; host bits are always zero. */
  readonly network: bigint;
  readonly prefix: number;
}

export interface Endpoint {
  readonly address: IpAddress;
  readonly port: number;
}

const WIDTH: Record<IpFamily, number> = { 4: 32, 6: 128 };

function parseIpv4Value(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    // Leading zeros are refused: some stacks read "010" as octal.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIpv6Value(text: string): bigint | undefined {
  if (text.length === 0 || text.includes('%')) return undefined;
  let head = text;
  let tailGroups: number[] = [];
  // An embedded dotted IPv4 tail (::ffff:10.0.0.1) stands for the last two groups.
  const lastColon = head.lastIndexOf(':');
  if (head.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4Value(head.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tailGroups = [Number(v4 >> 16n), Number(v4 & 0xffffn)];
    head = head.slice(0, lastColon + 1);
    // "::ffff:" keeps its trailing "::"; a single trailing ':' is an artefact of the split.
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = groupsOf(halves[0] ?? '');
  const right = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (left === undefined || right === undefined) return undefined;
  const explicit = left.length + right.length + tailGroups.length;
  let groups: number[];
  if (halves.length === 2) {
    // "::" must stand for at least one zero group.
    if (explicit > 7) return undefined;
    groups = [...left, ...new Array<number>(8 - explicit).fill(0), ...right, ...tailGroups];
  } else {
    if (explicit !== 8) return undefined;
    groups = [...left, ...tailGroups];
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return value;
}

/** Parses a literal IPv4 (dotted quad) or IPv6 address; no zone ids, no brackets. */
export function parseIp(text: string): IpAddress | undefined {
  if (text.includes(':')) {
    const value = parseIpv6Value(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseIpv4Value(text);
  return value === undefined ? undefined : { family: 4, value };
}

/** RFC 5952 text for IPv6 (lowercase, longest zero run compressed), dotted quad for IPv4. */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  // RFC 5952 4.2.2: a single zero group is not compressed.
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function hostMask(family: IpFamily, prefix: number): bigint {
  return (1n << BigInt(WIDTH[family] - prefix)) - 1n;
}

export type CidrParse = { ok: true; cidr: Cidr } | { ok: false; reason: string; canonical?: string };

/**
 * Parses "address/prefix". Host bits set is refused rather than silently
 * masked, because "10.0.0.1/8" is more often a typo than an intent; the
 * canonical form is offered so the message can suggest it.
 */
export function parseCidr(text: string): CidrParse {
  const slash = text.indexOf('/');
  if (slash < 0) return { ok: false, reason: 'missing "/prefix"' };
  const ip = parseIp(text.slice(0, slash));
  if (!ip) return { ok: false, reason: 'not an IPv4 or IPv6 address' };
  const prefixText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return { ok: false, reason: 'bad prefix length' };
  const prefix = Number(prefixText);
  if (prefix > WIDTH[ip.family]) return { ok: false, reason: `prefix length above ${WIDTH[ip.family]}` };
  const mask = hostMask(ip.family, prefix);
  if ((ip.value & mask) !== 0n) {
    const canonical = formatCidr({ family: ip.family, network: ip.value & ~mask, prefix });
    return { ok: false, reason: 'host bits are set', canonical };
  }
  return { ok: true, cidr: { family: ip.family, network: ip.value, prefix } };
}

/** As parseCidr, and a bare address is the host prefix (/32 or /128). */
export function parseCidrOrHost(text: string): CidrParse {
  if (text.includes('/')) return parseCidr(text);
  const ip = parseIp(text);
  if (!ip) return { ok: false, reason: 'not an IPv4 or IPv6 address or prefix' };
  return { ok: true, cidr: { family: ip.family, network: ip.value, prefix: WIDTH[ip.family] } };
}

/** The reason a parse failed, with the canonical prefix when only host bits were wrong. */
export function cidrParseError(result: Extract<CidrParse, { ok: false }>): string {
  return result.canonical === undefined
    ? result.reason
    : `${result.reason} (did you mean ${result.canonical}?)`;
}

/** Two lists of prefixes that both constrain a packet can both hold only if they share a family. */
export function familiesMeet(
  a: readonly { family: IpFamily }[],
  b: readonly { family: IpFamily }[],
): boolean {
  return a.length === 0 || b.length === 0 || a.some((x) => b.some((y) => x.family === y.family));
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ family: cidr.family, value: cidr.network })}/${cidr.prefix}`;
}

/** Last address inside the block. */
export function cidrEnd(cidr: Cidr): bigint {
  return cidr.network | hostMask(cidr.family, cidr.prefix);
}

/** CIDR blocks either nest or are disjoint, so overlap means one contains the other. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.network <= cidrEnd(b) && b.network <= cidrEnd(a);
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    outer.prefix <= inner.prefix &&
    inner.network >= outer.network &&
    cidrEnd(inner) <= cidrEnd(outer)
  );
}

export interface LabelledCidr<L> {
  readonly cidr: Cidr;
  readonly label: L;
}

/**
 * First overlapping pair in the list, or undefined. Sort-and-sweep keeps this
 * O(n log n) for a CEN with many members; since CIDR blocks nest or are disjoint,
 * comparing each block with the widest block still open is exact. Ties are broken
 * by input order so the reported pair is deterministic.
 */
export function findOverlap<L>(
  items: readonly LabelledCidr<L>[],
): [LabelledCidr<L>, LabelledCidr<L>] | undefined {
  const order = items.map((item, index) => ({ item, index }));
  order.sort((x, y) => {
    const a = x.item.cidr;
    const b = y.item.cidr;
    if (a.family !== b.family) return a.family - b.family;
    if (a.network !== b.network) return a.network < b.network ? -1 : 1;
    if (a.prefix !== b.prefix) return a.prefix - b.prefix;
    return x.index - y.index;
  });
  let open: { item: LabelledCidr<L>; end: bigint } | undefined;
  for (const { item } of order) {
    if (open && open.item.cidr.family === item.cidr.family && item.cidr.network <= open.end) {
      return [open.item, item];
    }
    const end = cidrEnd(item.cidr);
    if (!open || open.item.cidr.family !== item.cidr.family || end > open.end) open = { item, end };
  }
  return undefined;
}

const PRIVATE_RANGES: readonly Cidr[] = [
  '10.0.0.0/8', // RFC 1918
  '172.16.0.0/12', // RFC 1918
  '192.168.0.0/16', // RFC 1918
  '100.64.0.0/10', // RFC 6598 shared address space (carrier-grade NAT)
  'fc00::/7', // RFC 4193 unique local addresses
].map((text) => {
  const parsed = parseCidr(text);
  if (!parsed.ok) throw new Error(`bad built-in range ${text}`);
  return parsed.cidr;
});

/** Private space a CCN may allocate from: RFC 1918, RFC 6598 100.64.0.0/10, or IPv6 ULA fc00::/7. */
export function isPrivateCidr(cidr: Cidr): boolean {
  return PRIVATE_RANGES.some((range) => cidrContains(range, cidr));
}

/**
 * Unspecified, "this network", multicast, reserved and broadcast addresses can never be
 * dialled as a tunnel endpoint. Loopback and private space stay allowed for labs and tests.
 */
export function isDiallable(ip: IpAddress): boolean {
  if (ip.family === 4) return ip.value >> 24n !== 0n && ip.value >> 28n < 0xen;
  return ip.value !== 0n && ip.value >> 120n !== 0xffn;
}

/** Parses "a.b.c.d:port" or "[v6]:port"; an unbracketed IPv6 address is refused as ambiguous. */
export function parseEndpoint(text: string): Endpoint | undefined {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (!host.includes(':')) return undefined;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return undefined;
  }
  if (!/^[1-9][0-9]{0,4}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  const address = parseIp(host);
  return address ? { address, port } : undefined;
}

export function formatEndpoint(endpoint: Endpoint): string {
  const host = formatIp(endpoint.address);
  return endpoint.address.family === 6 ? `[${host}]:${endpoint.port}` : `${host}:${endpoint.port}`;
}

/** Total order used to make route and CIDR lists deterministic: IPv4 first, then address, then prefix. */
export function compareCidrs(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.network !== b.network) return a.network < b.network ? -1 : 1;
  return a.prefix - b.prefix;
}
