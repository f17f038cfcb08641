/**
 * Activation codes: how a device that was registered without a key gets one.
 *
 * An operator asks for a code for a registered serial and hands it to whoever
 * installs the box; the device generates its key pair itself and trades code +
 * public key for its bearer token (POST /v1/activate). The private key never
 * leaves the device and the operator never sees the device's token.
 *
 * A code is 20 Crockford base32 characters (100 random bits), shown in groups of
 * five so a person can type it. Like tokens it is stored as a SHA-256 hash only:
 * 100 bits cannot be brute-forced offline, and online guessing is rate-limited by
 * the API. The hash covers the serial, so a code is worthless for any other device.
 * One code per device: a new one replaces the previous, used or not.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SagError } from '../../errors.js';

/** Crockford's alphabet: no I, L, O, U, so nothing reads as another character. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const ACTIVATION_CODE_LENGTH = 20;

export const ACTIVATION_TTL_DEFAULT_MS = 24 * 60 * 60 * 1000;
export const ACTIVATION_TTL_MIN_MS = 60 * 1000;
export const ACTIVATION_TTL_MAX_MS = 30 * 24 * 60 * 60 * 1000;

export const ACTIVATION_ERROR_CODES = [
  'ERR_ACTIVATION_INVALID',
  'ERR_ACTIVATION_EXPIRED',
  'ERR_ACTIVATION_USED',
] as const;
export type ActivationErrorCode = (typeof ACTIVATION_ERROR_CODES)[number];

/**
 * An activation refused. ERR_ACTIVATION_INVALID covers an unknown serial, a serial
 * without a code and a wrong code alike, so guessing learns nothing; expired and
 * used are told apart only to a caller who presented the right code.
 */
export class ActivationError extends SagError {
  declare readonly code: ActivationErrorCode;
  constructor(code: ActivationErrorCode, message: string) {
    super(code, message);
  }
}

export function isActivationError(err: unknown): err is ActivationError {
  return err instanceof ActivationError;
}

/** A new code, formatted "XXXXX-XXXXX-XXXXX-XXXXX". */
export function newActivationCode(): string {
  const bytes = randomBytes(ACTIVATION_CODE_LENGTH);
  // 256 is a multiple of 32, so taking each byte modulo 32 is unbiased.
  const chars = [...bytes].map((b) => ALPHABET[b % 32] as string).join('');
  return chars.match(/.{5}/g)!.join('-');
}

/**
 * What a person may type for a code: any case, with or without dashes and spaces,
 * O for 0 and I or L for 1 (Crockford's decoding rules). Undefined if it cannot be one.
 */
export function normalizeActivationCode(input: string): string | undefined {
  const text = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (text.length !== ACTIVATION_CODE_LENGTH || ![...text].every((c) => ALPHABET.includes(c)))
    return undefined;
  return text;
}

export function hashActivationCode(serial: string, code: string): string {
  return createHash('sha256')
    .update(`sag-activation\0${serial}\0${normalizeActivationCode(code) ?? code}`, 'utf8')
    .digest('hex');
}

/** A code as a store keeps it. */
export interface StoredActivation {
  codeHash: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

/**
 * Decides an activation attempt against the stored code (undefined: the device has
 * none, or does not exist). Throws an ActivationError on refusal.
 */
export function checkActivation(
  stored: StoredActivation | undefined,
  serial: string,
  code: string,
  at: number,
): void {
  const invalid = () =>
    new ActivationError(
      'ERR_ACTIVATION_INVALID',
      `serial number ${serial} and this activation code do not match`,
    );
  if (normalizeActivationCode(code) === undefined || stored === undefined) throw invalid();
  const given = Buffer.from(hashActivationCode(serial, code), 'hex');
  const expected = Buffer.from(stored.codeHash, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  if (stored.usedAt !== null) {
    throw new ActivationError(
      'ERR_ACTIVATION_USED',
      `this activation code of ${serial} was already used; ask the operator for a new one`,
    );
  }
  if (at >= stored.expiresAt) {
    throw new ActivationError(
      'ERR_ACTIVATION_EXPIRED',
      `this activation code of ${serial} has expired; ask the operator for a new one`,
    );
  }
}
