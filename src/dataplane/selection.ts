/**
 * Multipath selection tables as the Dataplane API takes them, validated and converted to the
 * native form (sag_selection in native/include/sag/sag.h). A table names a peer's paths (uplink +
 * remote endpoint) and, per traffic class, which path(s) its packets take; the native send worker
 * applies it per packet. Classes are tried in order, the first match wins; packets that match no
 * class go to the peer's roaming endpoint as in WireGuard.
 */
import { InvalidArgumentError } from '../errors.js';
import { cidrParseError, familiesMeet, formatIp, parseCidrOrHost, type IpFamily } from '../net/cidr.js';
import { MAX_CLASS_PREFIXES, MAX_CLASSES, MAX_PATHS } from '../native/facts.generated.js';
import type { RawSelection } from '../native/types.js';
import type { Endpoint } from './types.js';
import { parseIntInRange, parsePort, parseUint32 } from '../util/parse.js';
import { parseAddress } from '../net/validate.js';

/** sag.h's table limits; MAX_CLASS_PREFIXES is per side (source, destination) of a class. */
export { MAX_CLASS_PREFIXES, MAX_CLASSES, MAX_PATHS };

export interface SelectionPath {
  /** The control plane's id for the path, unique within the table. */
  id: number;
  uplinkId: number;
  endpoint: Endpoint;
}

/** What a class matches; every field given must match, none given matches everything. */
export interface TrafficMatch {
  /** DSCP values (0..63). */
  dscp?: number[];
  /** IP protocol number (6 TCP, 17 UDP, …). */
  protocol?: number;
  /** Inclusive port ranges; a packet without ports (ICMP, a later fragment) does not match them. */
  srcPorts?: [number, number];
  dstPorts?: [number, number];
  /**
   * Address prefixes ("10.1.0.0/16", "fd00::/64"; a bare address is a host prefix), at most
   * MAX_CLASS_PREFIXES per side, host bits zero: the packet's address must lie in one of them.
   * A prefix matches only packets of its own family; a keepalive matches no address rule.
   */
  srcAddresses?: string[];
  dstAddresses?: string[];
}

export type SelectionMode = 'single' | 'weighted' | 'duplicate';

export interface SelectionClass extends TrafficMatch {
  /** single: paths[0]; weighted: per-flow hash over paths by weights; duplicate: both of 2 paths. */
  mode: SelectionMode;
  /** Path ids from the table's paths. */
  paths: number[];
  /** weighted: one weight (1..65535) per path. */
  weights?: number[];
}

export interface SelectionTable {
  paths: SelectionPath[];
  classes: SelectionClass[];
}

const MODES: Record<SelectionMode, number> = { single: 0, weighted: 1, duplicate: 2 };

function parseRange(value: unknown, what: string): number[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length !== 2)
    throw new InvalidArgumentError(`${what} must be [min, max]`);
  const min = parsePort(value[0], `${what}[0]`, true);
  const max = parsePort(value[1], `${what}[1]`, true);
  if (min > max || max === 0) throw new InvalidArgumentError(`${what}: min must be <= max and max > 0`);
  return [min, max];
}

type RawPrefix = RawSelection['classes'][number]['srcPrefixes'][number] & { family: IpFamily };

function parsePrefixes(value: unknown, what: string): RawPrefix[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_CLASS_PREFIXES)
    throw new InvalidArgumentError(
      `${what} must be an array of at most ${MAX_CLASS_PREFIXES} address prefixes`,
    );
  return value.map((text, i) => {
    if (typeof text !== 'string')
      throw new InvalidArgumentError(`${what}[${i}] must be a string like "10.1.0.0/16"`);
    const r = parseCidrOrHost(text);
    if (!r.ok) throw new InvalidArgumentError(`${what}[${i}] ${JSON.stringify(text)}: ${cidrParseError(r)}`);
    return {
      address: formatIp({ family: r.cidr.family, value: r.cidr.network }),
      cidr: r.cidr.prefix,
      family: r.cidr.family,
    };
  });
}

function parseClass(
  c: SelectionClass,
  index: Map<number, number>,
  what: string,
): RawSelection['classes'][number] {
  if (c === null || typeof c !== 'object') throw new InvalidArgumentError(`${what} must be an object`);
  const mode = MODES[c.mode];
  if (mode === undefined)
    throw new InvalidArgumentError(`${what}.mode must be single, weighted or duplicate`);
  if (!Array.isArray(c.paths) || c.paths.length < 1 || c.paths.length > MAX_PATHS) {
    throw new InvalidArgumentError(`${what}.paths must list 1..${MAX_PATHS} path ids`);
  }
  const count = { single: 1, duplicate: 2, weighted: c.paths.length }[c.mode];
  if (c.paths.length !== count)
    throw new InvalidArgumentError(`${what}: mode ${c.mode} takes ${count} path(s)`);
  const paths = c.paths.map((id) => {
    const i = index.get(id);
    if (i === undefined) throw new InvalidArgumentError(`${what}: no path with id ${String(id)}`);
    return i;
  });
  let weights: number[] = paths.map(() => 1);
  if (c.mode === 'weighted') {
    if (!Array.isArray(c.weights) || c.weights.length !== paths.length)
      throw new InvalidArgumentError(`${what}.weights must give one weight per path`);
    weights = c.weights.map((w, i) => parseIntInRange(w, `${what}.weights[${i}]`, 1, 65535));
  }
  const src = parsePrefixes(c.srcAddresses, `${what}.srcAddresses`);
  const dst = parsePrefixes(c.dstAddresses, `${what}.dstAddresses`);
  // Both sides given but of different families: no packet could match (the core refuses it too).
  if (!familiesMeet(src, dst))
    throw new InvalidArgumentError(
      `${what}: srcAddresses and dstAddresses share no address family, so no packet could match`,
    );
  const raw = (ps: RawPrefix[]) => ps.map(({ address, cidr }) => ({ address, cidr }));
  let dscpMask = 0n;
  for (const d of c.dscp ?? []) dscpMask |= 1n << BigInt(parseIntInRange(d, `${what}.dscp`, 0, 63));
  return {
    dscpMask,
    protocol: c.protocol === undefined ? 0 : parseIntInRange(c.protocol, `${what}.protocol`, 1, 255),
    srcPorts: parseRange(c.srcPorts, `${what}.srcPorts`),
    dstPorts: parseRange(c.dstPorts, `${what}.dstPorts`),
    srcPrefixes: raw(src),
    dstPrefixes: raw(dst),
    mode,
    paths,
    weights,
  };
}

/** Checks a table against the known uplinks and converts it for the addon. */
export function toRawSelection(table: SelectionTable, uplinkExists: (id: number) => boolean): RawSelection {
  if (table === null || typeof table !== 'object')
    throw new InvalidArgumentError('selection must be an object or null');
  if (!Array.isArray(table.paths) || table.paths.length > MAX_PATHS)
    throw new InvalidArgumentError(`selection.paths must list at most ${MAX_PATHS} paths`);
  if (!Array.isArray(table.classes) || table.classes.length > MAX_CLASSES)
    throw new InvalidArgumentError(`selection.classes must list at most ${MAX_CLASSES} classes`);
  const index = new Map<number, number>();
  const paths = table.paths.map((p, i) => {
    const what = `selection.paths[${i}]`;
    if (p === null || typeof p !== 'object') throw new InvalidArgumentError(`${what} must be an object`);
    const id = parseUint32(p.id, `${what}.id`);
    if (index.has(id)) throw new InvalidArgumentError(`${what}: duplicate path id ${id}`);
    index.set(id, i);
    const uplinkId = parseUint32(p.uplinkId, `${what}.uplinkId`, 1);
    if (!uplinkExists(uplinkId)) throw new InvalidArgumentError(`${what}: no uplink with id ${uplinkId}`);
    const { address } = parseAddress(p.endpoint?.address, `${what}.endpoint.address`);
    return { id, uplinkId, address, port: parsePort(p.endpoint?.port, `${what}.endpoint.port`, false) };
  });
  const classes = table.classes.map((c, i) => parseClass(c, index, `selection.classes[${i}]`));
  return { paths, classes };
}
