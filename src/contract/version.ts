/**
 * Configuration versions and how they travel.
 *
 * A version is the content hash of a compiled configuration (`version` in its
 * body). Two configurations with the same content get the same version whatever
 * model version or entity versions they came from, so an agent comparing
 * versions re-applies nothing after an unrelated model change.
 *
 * The version is the follower's ETag: it asks GET .../config?after=V&wait=S and
 * the controller answers at once with the configuration if its version differs
 * from V, else holds the request up to S seconds (at most LONG_POLL_MAX_SEC) for
 * a change and then answers 200 `{"unchanged": true, "version": V}` (200 rather
 * than 304 so every proxy passes the body through).
 */
import { createHash } from 'node:crypto';
import type { AccessPointConfig, ConfigVersion, DeviceConfig } from './config.js';

/** Longest long-poll wait, seconds: below the 60 s idle timeouts common in proxies and NATs. */
export const LONG_POLL_MAX_SEC = 30;

/** The controller's answer to a configuration request when nothing changed within the wait. */
export interface ConfigUnchanged {
  unchanged: true;
  version: string;
}

/** A configuration request's outcome as the follower sees it. */
export type ConfigAnswer<C = DeviceConfig> =
  { kind: 'config'; config: C } | { kind: 'unchanged'; version: string };

export type AccessPointConfigAnswer = ConfigAnswer<AccessPointConfig>;

export interface ConfigQuery {
  /** Content version the follower runs; with `waitSec` the controller holds the answer until it differs. */
  after?: string;
  /** Seconds the controller may hold the answer; only with `after`. */
  waitSec?: number;
  signal?: AbortSignal;
}

/**
 * JSON with object keys sorted at every level and no whitespace. Array order is
 * kept: the compiler sorts lists itself, and order can be meaningful (uplinks).
 * Refuses values JSON cannot represent faithfully, so two different contents can
 * never collapse to the same text (NaN and undefined would print as null).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form`);
}

/** SHA-256 (hex) of the canonical JSON of a configuration without its version fields. */
export function contentVersion(config: object): string {
  const {
    version: _v,
    modelVersion: _m,
    ...content
  } = config as Partial<ConfigVersion> & Record<string, unknown>;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** Stamps a configuration body with its content version and the model version it came from. */
export function stamp<T extends object>(body: T, modelVersion: number): T & ConfigVersion {
  return { ...body, version: contentVersion(body), modelVersion };
}
