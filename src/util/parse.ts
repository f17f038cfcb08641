/**
 * Argument validation shared by every layer: each value is checked with a message naming the
 * argument, before it reaches native code, a socket or a file.
 */
import { InvalidArgumentError } from '../errors.js';

const KEY_BYTES = 32;
const IFNAMSIZ = 16;

/** A 32-byte key given as a Buffer/Uint8Array or as standard base64 (as `wg` prints it). */
export function parseKey(value: unknown, what: string): Buffer {
  if (typeof value === 'string') {
    if (!/^[A-Za-z0-9+/]{43}=$/.test(value)) {
      throw new InvalidArgumentError(
        `${what} must be 32 bytes in base64 (44 characters ending in '='), got ${JSON.stringify(value.slice(0, 60))}`,
      );
    }
    return Buffer.from(value, 'base64');
  }
  if (value instanceof Uint8Array) {
    if (value.length !== KEY_BYTES)
      throw new InvalidArgumentError(`${what} must be 32 bytes, got ${value.length}`);
    return Buffer.from(value);
  }
  throw new InvalidArgumentError(`${what} must be a base64 string or a 32-byte Buffer`);
}

export function keyToBase64(key: Uint8Array): string {
  return Buffer.from(key).toString('base64');
}

export function parsePort(value: unknown, what: string, allowZero: boolean): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1) || value > 65535) {
    throw new InvalidArgumentError(
      `${what} must be an integer port ${allowZero ? '0' : '1'}..65535, got ${String(value)}`,
    );
  }
  return value;
}

export function parseUint32(value: unknown, what: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 0xffffffff) {
    throw new InvalidArgumentError(`${what} must be an integer ${min}..4294967295, got ${String(value)}`);
  }
  return value;
}

export function parseIntInRange(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${what} must be an integer ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

/** Linux interface names: 1..15 bytes, no '/', ':' or white space, not '.' or '..'. */
export function parseInterfaceName(value: unknown, what: string, allowEmpty = false): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${what} must be a string`);
  if (value === '' && allowEmpty) return value;
  if (
    value.length === 0 ||
    Buffer.byteLength(value) >= IFNAMSIZ ||
    /[\s/:]/.test(value) ||
    value === '.' ||
    value === '..'
  ) {
    throw new InvalidArgumentError(
      `${what} is not a valid interface name (1-15 characters, no '/', ':' or spaces): ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function parseBuffer(value: unknown, what: string, min: number, max: number): Buffer {
  if (!(value instanceof Uint8Array)) throw new InvalidArgumentError(`${what} must be a Buffer`);
  if (value.length < min || value.length > max) {
    throw new InvalidArgumentError(`${what} must be ${min}..${max} bytes, got ${value.length}`);
  }
  return Buffer.isBuffer(value) ? value : Buffer.from(value);
}

/** Duck typing of an injected interface (a link source, a TUN opener): an object with these methods. */
export function hasMethods(value: unknown, names: readonly string[]): boolean {
  const o = value as Record<string, unknown> | null;
  return typeof o === 'object' && o !== null && names.every((n) => typeof o[n] === 'function');
}
