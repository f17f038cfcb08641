/**
 * Tunnel (overlay) addresses of SAG instances, allocated without storing anything.
 *
 * Scheme. Every area maps to a pool (default 100.96.0.0/12 for all areas; per-area
 * pools by option). Pools are per area, not per CCN, because a hub terminates every
 * branch of its area whatever the CCN, and one hub interface cannot hold two peers
 * with the same address. Areas naming the same pool share one allocation.
 *
 * Within a pool, instance `id` tries offsets H(id, 0), H(id, 1), ... (H = SHA-256,
 * reduced into the usable range) and takes the first one no instance with a smaller
 * id took; after 32 tries it scans upward, so a nearly full pool still allocates.
 * The address is keyed by instance id, not device serial, so replacing a branch's
 * box keeps its address. All instances in the pool take part, bound or not, in a
 * CCN or not, so binding, joining, heartbeats and every change in other pools
 * leave an address alone. What can move an address is a hash collision: a new
 * instance whose first try lands on a taken offset and whose id sorts first takes
 * it over (in a /12 with n instances, a chance of about n / 2^21 per new instance),
 * and deleting an instance hands its offset back to a larger id that wanted it
 * first. The move then shows up in the diff like any other change. Persisting allocations would remove
 * even that, at the cost of state the compiler deliberately does not have.
 *
 * Reserved offsets: 0 (network), 1 (left for the hubs' own address) and the last.
 */
import { createHash } from 'node:crypto';
import { cidrEnd, cidrsOverlap, findOverlap, formatCidr, parseCidr, type Cidr } from '../../net/cidr.js';
import type { ModelState } from '../model/index.js';
import { InvalidCompileOptionsError, PoolExhaustedError, PoolOverlapError } from './errors.js';
import type { OverlayOptions } from './types.js';

export const DEFAULT_OVERLAY_POOL = '100.96.0.0/12';

/** Offsets below this are reserved: the network address and the hubs' address. */
const RESERVED_LOW = 2n;
/** Hashed tries before falling back to a linear scan. */
const MAX_PROBES = 32;

export interface OverlayPool {
  /** Canonical CIDR text; also the identity of the pool. */
  text: string;
  cidr: Cidr;
}

function parsePool(text: unknown, where: string): OverlayPool {
  if (typeof text !== 'string') throw new InvalidCompileOptionsError(`${where}: pool must be a CIDR string`);
  const parsed = parseCidr(text);
  if (!parsed.ok)
    throw new InvalidCompileOptionsError(
      `${where}: pool ${JSON.stringify(text)} is not a valid CIDR: ${parsed.reason}`,
      [text],
    );
  if (usableCount(parsed.cidr) < 1n)
    throw new InvalidCompileOptionsError(`${where}: pool ${text} is too small to hold any instance`, [text]);
  return { text: formatCidr(parsed.cidr), cidr: parsed.cidr };
}

function usableCount(cidr: Cidr): bigint {
  const size = cidrEnd(cidr) - cidr.network + 1n;
  return size - RESERVED_LOW - 1n;
}

/**
 * The pool of each area of the model. Refuses malformed or overlapping pools.
 * Entries for areas the model does not have are ignored, so deleting an area
 * never makes stale options fail every compile.
 */
export function resolvePools(state: ModelState, overlay: OverlayOptions = {}): Map<string, OverlayPool> {
  const fallback = parsePool(overlay.pool ?? DEFAULT_OVERLAY_POOL, 'overlay.pool');
  const perArea = overlay.areaPools ?? {};
  const areas = new Set([...Object.keys(state.areas), ...Object.values(state.instances).map((i) => i.area)]);
  const out = new Map<string, OverlayPool>();
  for (const area of [...areas].sort()) {
    out.set(
      area,
      Object.hasOwn(perArea, area) ? parsePool(perArea[area], `overlay.areaPools.${area}`) : fallback,
    );
  }
  // An unused default pool may overlap anything: only pools in use must be disjoint.
  const distinct = [...new Map([...out.values()].map((p) => [p.text, p])).values()];
  const clash = findOverlap(distinct.map((p) => ({ cidr: p.cidr, label: p.text })));
  if (clash) {
    throw new InvalidCompileOptionsError(
      `overlay pools ${clash[0].label} and ${clash[1].label} overlap; areas share a pool by naming the same one`,
      [clash[0].label, clash[1].label],
    );
  }
  return out;
}

function probe(id: string, attempt: number, usable: bigint): bigint {
  const digest = createHash('sha256').update(`sag-overlay\0${id}\0${attempt}`).digest();
  return RESERVED_LOW + (BigInt(`0x${digest.subarray(0, 16).toString('hex')}`) % usable);
}

function allocateInPool(pool: OverlayPool, ids: readonly string[], out: Map<string, string>): void {
  const usable = usableCount(pool.cidr);
  if (BigInt(ids.length) > usable) throw new PoolExhaustedError(pool.text, ids.length, usable);
  const taken = new Set<bigint>();
  const width = pool.cidr.family === 4 ? 32 : 128;
  // Smallest id first: the earlier claimant keeps a contested offset.
  for (const id of [...ids].sort()) {
    let offset: bigint | undefined;
    for (let attempt = 0; attempt < MAX_PROBES && offset === undefined; attempt++) {
      const candidate = probe(id, attempt, usable);
      if (!taken.has(candidate)) offset = candidate;
    }
    if (offset === undefined) {
      // Terminates: the pool has more usable offsets than claimants (checked above).
      let candidate = probe(id, 0, usable);
      while (taken.has(candidate))
        candidate = candidate + 1n >= RESERVED_LOW + usable ? RESERVED_LOW : candidate + 1n;
      offset = candidate;
    }
    taken.add(offset);
    out.set(id, formatCidr({ family: pool.cidr.family, network: pool.cidr.network + offset, prefix: width }));
  }
}

/**
 * Allocations by state object and options. Model states are immutable (each
 * command yields a new object), so a state seen before has the same answer; this
 * turns compiling every device of a large model from quadratic into linear work.
 */
const memo = new WeakMap<ModelState, Map<string, ReadonlyMap<string, string>>>();

/** Tunnel address ("a.b.c.d/32" or "v6/128") of every instance in the model, by instance id. */
export function allocateTunnelAddresses(
  state: ModelState,
  overlay: OverlayOptions = {},
): ReadonlyMap<string, string> {
  // Validating first keeps bad options from being cached or reaching the key; the key is the resolved pools.
  const pools = resolvePools(state, overlay);
  const key = JSON.stringify([...pools].map(([area, pool]) => [area, pool.text]));
  const cached = memo.get(state)?.get(key);
  if (cached) return cached;
  const result = allocate(state, pools);
  const perState = memo.get(state) ?? new Map<string, ReadonlyMap<string, string>>();
  perState.set(key, result);
  memo.set(state, perState);
  return result;
}

function allocate(state: ModelState, pools: ReadonlyMap<string, OverlayPool>): ReadonlyMap<string, string> {
  const groups = new Map<string, { pool: OverlayPool; ids: string[] }>();
  for (const instance of Object.values(state.instances)) {
    const pool = pools.get(instance.area) as OverlayPool;
    const group = groups.get(pool.text) ?? { pool, ids: [] };
    group.ids.push(instance.id);
    groups.set(pool.text, group);
  }
  const out = new Map<string, string>();
  for (const { pool, ids } of groups.values()) allocateInPool(pool, ids, out);
  return out;
}

/** Refuses a configuration whose destinations overlap the pool its tunnel addresses come from. */
export function assertPoolClear(
  pool: OverlayPool,
  destinations: readonly { cidr: string; owner: string }[],
): void {
  for (const d of destinations) {
    const parsed = parseCidr(d.cidr);
    if (!parsed.ok) continue;
    if (cidrsOverlap(pool.cidr, parsed.cidr)) throw new PoolOverlapError(pool.text, d.cidr, d.owner);
  }
}
