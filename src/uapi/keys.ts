/**
 * Key text forms. The userspace API carries keys as 64 hex digits; wg(8), wg-quick files and humans use
 * 44-character base64. Both directions are strict: exactly 32 bytes, and base64 must be canonical (the
 * two unused low bits of the last digit zero), which is what wg(8)'s key_from_base64 insists on.
 */
import { decodeKey, encodeKey } from '../wg/crypto.js';
import { InvalidKeyError } from '../wg/errors.js';

export const KEY_BYTES = 32;

const HEX_KEY = /^[0-9a-fA-F]{64}$/;

/**
 * 64 hex digits to 32 bytes, or undefined. Upper case is accepted because wireguard-go decodes with
 * Go's encoding/hex, which takes both cases; we always emit lower case.
 */
export function parseHexKey(text: string): Uint8Array | undefined {
  if (!HEX_KEY.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

export function formatHexKey(key: Uint8Array): string {
  if (key.length !== KEY_BYTES)
    throw new InvalidKeyError(`key must be ${KEY_BYTES} bytes, got ${key.length}`);
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
}

/** Canonical 44-character base64 to 32 bytes, or undefined. */
export function parseBase64Key(text: string): Uint8Array | undefined {
  try {
    return decodeKey(text);
  } catch {
    return undefined;
  }
}

export function formatBase64Key(key: Uint8Array): string {
  return encodeKey(key);
}

export function hexKeyToBase64(hex: string): string {
  const key = parseHexKey(hex);
  if (!key) throw new InvalidKeyError('key must be 64 hexadecimal digits');
  return formatBase64Key(key);
}

export function base64KeyToHex(base64: string): string {
  const key = parseBase64Key(base64);
  if (!key) throw new InvalidKeyError('key must be 44 characters of canonical base64 encoding 32 bytes');
  return formatHexKey(key);
}

export function isZeroKey(key: Uint8Array): boolean {
  return key.every((b) => b === 0);
}

export function keysEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
