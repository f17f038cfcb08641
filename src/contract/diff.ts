/**
 * What an agent must do to go from one compiled configuration to the next,
 * without touching what did not change. `allowedIps` of a device configuration is
 * derived from its routes, so it is expressed by route changes only.
 */
import { DiffMismatchError } from './errors.js';
import { canonicalJson } from './version.js';
import type {
  AccessPointConfig,
  CompiledConfig,
  ConfigChange,
  DeviceConfig,
  DevicePeer,
  ForwardingRule,
  HubPeer,
  Json,
} from './config.js';

interface Keyed<T> {
  removed: T[];
  changed: { before: T; after: T; fields: string[] }[];
  added: T[];
}

const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/** Names of the fields whose values differ, sorted. */
function changedFields(a: object, b: object): string[] {
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const names = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  return [...names].filter((n) => !same(ra[n], rb[n])).sort();
}

/** Matches items by key; removed and changed keep the old order, added the new one. */
function diffKeyed<T extends object>(
  before: readonly T[],
  after: readonly T[],
  key: (t: T) => string,
): Keyed<T> {
  const next = new Map(after.map((t) => [key(t), t]));
  const prev = new Map(before.map((t) => [key(t), t]));
  const out: Keyed<T> = { removed: [], changed: [], added: [] };
  for (const b of before) {
    const a = next.get(key(b));
    if (a === undefined) out.removed.push(b);
    else {
      const fields = changedFields(b, a);
      if (fields.length > 0) out.changed.push({ before: b, after: a, fields });
    }
  }
  for (const a of after) if (!prev.has(key(a))) out.added.push(a);
  return out;
}

function listDelta(before: readonly string[], after: readonly string[]): { add: string[]; remove: string[] } {
  return { add: after.filter((x) => !before.includes(x)), remove: before.filter((x) => !after.includes(x)) };
}

function set(out: ConfigChange[], field: string, from: unknown, to: unknown): void {
  if (!same(from, to)) out.push({ op: 'set', field, from: from as Json, to: to as Json });
}

type AnyPeer = DevicePeer | HubPeer;

function peerId(p: AnyPeer): string {
  return 'accessPointId' in p ? p.accessPointId : p.serial;
}

/** Peer changes in apply order: removals, then changes, then additions. */
function peerChanges(
  before: readonly AnyPeer[],
  after: readonly AnyPeer[],
): { remove: ConfigChange[]; change: ConfigChange[]; add: ConfigChange[] } {
  const d = diffKeyed(before, after, (p) => p.publicKey);
  return {
    remove: d.removed.map((p) => ({ op: 'peer.remove', publicKey: p.publicKey, id: peerId(p) })),
    change: d.changed.map(({ before: b, after: a, fields }) => ({
      op: 'peer.change',
      publicKey: a.publicKey,
      id: peerId(a),
      fields,
      ...('allowedIps' in a && 'allowedIps' in b && fields.includes('allowedIps')
        ? { allowedIps: listDelta(b.allowedIps, a.allowedIps) }
        : {}),
      peer: a,
    })),
    add: d.added.map((p) => ({ op: 'peer.add', publicKey: p.publicKey, id: peerId(p), peer: p })),
  };
}

function diffDevice(old: DeviceConfig | null, next: DeviceConfig): ConfigChange[] {
  const out: ConfigChange[] = [];
  const identity = (c: DeviceConfig | null) =>
    c ? { id: c.instance.id, area: c.instance.area, model: c.instance.model } : null;
  set(out, 'publicKey', old?.publicKey ?? null, next.publicKey);
  set(out, 'instance', identity(old), identity(next));
  set(out, 'ccnId', old ? old.ccnId : null, next.ccnId);
  set(out, 'address', old?.address ?? null, next.address);
  const bandwidth = old?.instance.bandwidthMbps ?? null;
  if (bandwidth !== next.instance.bandwidthMbps)
    out.push({ op: 'bandwidth.change', from: bandwidth, to: next.instance.bandwidthMbps });
  if (!same(old?.uplinks ?? [], next.uplinks))
    out.push({ op: 'uplinks.change', from: old?.uplinks ?? [], to: next.uplinks });
  const peers = peerChanges(old?.peers ?? [], next.peers);
  const routes = diffKeyed(old?.routes ?? [], next.routes, (r) => r.cidr);
  out.push(
    ...peers.remove,
    ...routes.removed.map((r): ConfigChange => ({ op: 'route.remove', cidr: r.cidr })),
    ...peers.change,
    ...routes.changed.map(({ after, fields }): ConfigChange => ({
      op: 'route.change',
      cidr: after.cidr,
      fields,
      route: after,
    })),
    ...peers.add,
    ...routes.added.map((r): ConfigChange => ({ op: 'route.add', route: r })),
  );
  return out;
}

const ruleKey = (r: ForwardingRule) => `${r.ccnId}>${r.to.kind}:${r.to.id}`;

function diffAccessPoint(old: AccessPointConfig | null, next: AccessPointConfig): ConfigChange[] {
  const out: ConfigChange[] = [];
  set(out, 'area', old?.area ?? null, next.area);
  set(out, 'endpoints', old?.endpoints ?? null, next.endpoints);
  set(out, 'maxInstances', old?.maxInstances ?? null, next.maxInstances);
  const peers = peerChanges(old?.peers ?? [], next.peers);
  const policy = diffKeyed(old?.policy ?? [], next.policy, ruleKey);
  out.push(
    ...peers.remove,
    ...policy.removed.map((r): ConfigChange => ({ op: 'policy.remove', key: ruleKey(r) })),
    ...peers.change,
    ...policy.changed.map(({ before, after, fields }): ConfigChange => ({
      op: 'policy.change',
      key: ruleKey(after),
      fields,
      ...(fields.includes('cidrs') ? { cidrs: listDelta(before.cidrs, after.cidrs) } : {}),
      rule: after,
    })),
    ...peers.add,
    ...policy.added.map((r): ConfigChange => ({ op: 'policy.add', key: ruleKey(r), rule: r })),
  );
  return out;
}

function subject(c: CompiledConfig): string {
  return c.kind === 'device' ? `device ${c.serial}` : `access point ${c.accessPointId}`;
}

/**
 * Changes from `old` (null: nothing applied yet, so everything is added) to `next`.
 * Equal versions mean equal content, so the answer is then empty without looking
 * further. Refuses configurations of different kinds or different subjects: that
 * is a caller mixing up agents, not a change to apply.
 */
export function diffConfigs(old: DeviceConfig | null, next: DeviceConfig): ConfigChange[];
export function diffConfigs(old: AccessPointConfig | null, next: AccessPointConfig): ConfigChange[];
export function diffConfigs(old: CompiledConfig | null, next: CompiledConfig): ConfigChange[];
export function diffConfigs(old: CompiledConfig | null, next: CompiledConfig): ConfigChange[] {
  if (old !== null && (old.kind !== next.kind || subject(old) !== subject(next))) {
    throw new DiffMismatchError(
      `cannot diff the configuration of ${subject(old)} against that of ${subject(next)}`,
    );
  }
  if (old !== null && old.version === next.version) return [];
  return next.kind === 'device'
    ? diffDevice(old as DeviceConfig | null, next)
    : diffAccessPoint(old as AccessPointConfig | null, next);
}
