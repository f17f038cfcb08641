/**
 * TAI64N timestamps as carried (encrypted) in handshake initiations: 8 bytes big-endian TAI64 seconds,
 * 4 bytes big-endian nanoseconds. Responders only ever compare them, so what matters is that they
 * increase; the clock is an argument so callers and tests choose it.
 */
import { TAI64_BASE, TAI64N_SIZE, TAI64N_WHITENER_MASK } from './constants.js';
import { MessageFormatError } from './errors.js';

/**
 * Encode Unix time given in milliseconds (fractions allowed). With `whiten` (the default, as
 * wireguard-go) the low 24 bits of the nanoseconds are cleared, so two initiations within the same
 * ~16.8 ms window carry equal timestamps and the second is refused as a replay.
 */
export function encodeTai64n(unixMs: number, whiten = true): Uint8Array {
  if (!Number.isFinite(unixMs) || unixMs < 0) throw new RangeError(`invalid Unix time ${unixMs}`);
  const seconds = Math.floor(unixMs / 1000);
  let nanos = Math.min(999_999_999, Math.floor((unixMs - seconds * 1000) * 1e6));
  if (whiten) nanos = (nanos & ~TAI64N_WHITENER_MASK) >>> 0;
  const out = new Uint8Array(TAI64N_SIZE);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, TAI64_BASE + BigInt(seconds), false);
  view.setUint32(8, nanos, false);
  return out;
}

export interface Tai64n {
  /** Unix seconds (TAI64 label minus 2^62 + 10). */
  readonly unixSeconds: bigint;
  readonly nanoseconds: number;
}

export function decodeTai64n(buf: Uint8Array): Tai64n {
  if (buf.length !== TAI64N_SIZE)
    throw new MessageFormatError(`TAI64N must be ${TAI64N_SIZE} bytes, got ${buf.length}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { unixSeconds: view.getBigUint64(0, false) - TAI64_BASE, nanoseconds: view.getUint32(8, false) };
}

/** Big-endian fields make byte order equal time order, so a bytewise compare suffices. */
export function compareTai64n(a: Uint8Array, b: Uint8Array): -1 | 0 | 1 {
  if (a.length !== TAI64N_SIZE || b.length !== TAI64N_SIZE)
    throw new MessageFormatError('TAI64N must be 12 bytes');
  for (let i = 0; i < TAI64N_SIZE; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return 0;
}

/** True when `a` is strictly later than `b` (the condition for accepting an initiation). */
export function isAfter(a: Uint8Array, b: Uint8Array): boolean {
  return compareTai64n(a, b) > 0;
}
