/**
 * Bearer tokens for operators and devices.
 *
 * A token is 32 random bytes (256 bits), so a plain SHA-256 of it is enough to
 * store: nobody can brute-force a preimage of a 256-bit random value, and a slow
 * KDF (scrypt) would only cost CPU on every request. Tokens are found by their
 * hash through an index; timing that lookup tells an attacker about the hash of
 * their own guess, which does not help them find anyone else's token.
 *
 * The prefix says what a token is (like "ghp_"), so a leaked one is easy to
 * recognise and scanners can match it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { StoreInvalidError } from './errors.js';

export const API_KEY_PREFIX = 'sagk_';
export const DEVICE_TOKEN_PREFIX = 'sagd_';
export const ACCESS_POINT_TOKEN_PREFIX = 'saga_';

/**
 * Access point credentials live beside device credentials, under the subject
 * "accessPoint:<id>". A serial cannot contain ':' (schemas.ts), so the two never
 * meet, and deleting an access point revokes its token the way deleting a device does.
 */
const ACCESS_POINT_SUBJECT = 'accessPoint:';
export function accessPointSubject(id: string): string {
  return ACCESS_POINT_SUBJECT + id;
}
/** The access point id of a credential subject, undefined for a device serial. */
export function accessPointOf(subject: string | undefined): string | undefined {
  return subject?.startsWith(ACCESS_POINT_SUBJECT) ? subject.slice(ACCESS_POINT_SUBJECT.length) : undefined;
}
/** The device serial of a credential subject, undefined for an access point. */
export function deviceOf(subject: string | undefined): string | undefined {
  return subject === undefined || accessPointOf(subject) !== undefined ? undefined : subject;
}

/** A chosen bootstrap token must carry at least this many characters (base64url: 6 bits each). */
export const MIN_CHOSEN_TOKEN_LENGTH = 32;
export const MAX_TOKEN_LENGTH = 256;

export function newToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** `key-` plus 16 hex characters: a public handle for an API key, not a secret. */
export function newKeyId(): string {
  return `key-${randomBytes(8).toString('hex')}`;
}

/** Token characters a Bearer header can carry (RFC 6750 b64token). */
const TOKEN_CHARS = /^[A-Za-z0-9._~+/=-]+$/;

export function isWellFormedToken(token: string): boolean {
  return token.length > 0 && token.length <= MAX_TOKEN_LENGTH && TOKEN_CHARS.test(token);
}

/** Checks an operator-chosen token; a short one would be guessable. */
export function validateChosenToken(token: string): string {
  if (!isWellFormedToken(token) || token.length < MIN_CHOSEN_TOKEN_LENGTH) {
    throw new StoreInvalidError(
      `a chosen API key must be ${MIN_CHOSEN_TOKEN_LENGTH} to ${MAX_TOKEN_LENGTH} characters of letters, digits and . _ ~ + / = -`,
    );
  }
  return token;
}

export function validateKeyName(name: unknown): string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > 128 ||
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    /[\u0000-\u001f\u007f]/.test(name)
  ) {
    throw new StoreInvalidError('an API key name must be 1 to 128 characters without control characters');
  }
  return name;
}
