import { randomBytes } from 'node:crypto';
import type { IdPrefix } from './types.js';

export { isValidId } from '../../contract/ids.js';

/**
 * Produces a fresh id for a new entity. Injected so the model stays
 * deterministic: tests pass `sequentialIds()`, production `randomIds()`.
 * The generated id is written into the command before it is applied, so a
 * replayed command log rebuilds the same state.
 */
export type IdGenerator = (prefix: IdPrefix) => string;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `sag-` plus 20 random [a-z0-9] characters (~103 bits), like cloud resource ids. */
export function randomIds(length = 20): IdGenerator {
  return (prefix) => {
    let out = '';
    while (out.length < length) {
      for (const byte of randomBytes(length * 2)) {
        // 252 = 7 * 36: dropping the top bytes keeps every character equally likely.
        if (byte < 252 && out.length < length) out += ALPHABET[byte % 36];
      }
    }
    return `${prefix}-${out}`;
  };
}

/** `sag-000001`, `ccn-000002`, ...: one counter shared by all prefixes. */
export function sequentialIds(start = 1): IdGenerator {
  let next = start;
  return (prefix) => `${prefix}-${String(next++).padStart(6, '0')}`;
}
