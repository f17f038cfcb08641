/**
 * Content versions. Two configurations with the same content get the same
 * version whatever model version or entity versions they came from, so an agent
 * comparing versions re-applies nothing after an unrelated model change.
 */
import { createHash } from 'node:crypto';
import type { ConfigVersion } from './types.js';

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
