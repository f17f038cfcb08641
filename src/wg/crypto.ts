/**
 * The primitives WireGuard is built from (whitepaper section 5.4 "Cryptographic primitives").
 * BLAKE2s and XChaCha20 come from @noble (OpenSSL has no keyed BLAKE2s-128 or XChaCha20); ChaCha20-Poly1305
 * and X25519 go through node:crypto so the handshake uses the same OpenSSL code as the dataplane.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  randomBytes as nodeRandomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { blake2s } from '@noble/hashes/blake2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { AEAD_TAG_SIZE, HASH_SIZE, KEY_SIZE, MAC_SIZE, XNONCE_SIZE } from './constants.js';
import { InvalidKeyError, LowOrderPointError } from './errors.js';

/** Source of randomness; injectable so tests can be deterministic. */
export type RandomBytes = (length: number) => Uint8Array;

export const randomBytes: RandomBytes = (length) => copy(nodeRandomBytes(length));

/** Node Buffers may be views into a shared pool; key material gets its own allocation. */
function copy(src: Uint8Array): Uint8Array {
  return new Uint8Array(src);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Constant-time comparison; unequal lengths compare unequal (lengths are public here). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function isZero(buf: Uint8Array): boolean {
  let acc = 0;
  for (const b of buf) acc |= b;
  return acc === 0;
}

/**
 * Best effort only: the JS engine may have copied the bytes elsewhere (GC moves, string
 * conversions), but clearing the buffers we own shortens the window secrets stay in memory.
 */
export function zeroize(...bufs: (Uint8Array | undefined | null)[]): void {
  for (const b of bufs) b?.fill(0);
}

/** Hands a secret to `use` and wipes it afterwards, whether `use` returns or throws. */
export function useOnce<T>(secret: Uint8Array, use: (secret: Uint8Array) => T): T {
  try {
    return use(secret);
  } finally {
    zeroize(secret);
  }
}

// ---- BLAKE2s ----

/** HASH(input): BLAKE2s-256 over the concatenation of the parts. */
export function hash(...parts: Uint8Array[]): Uint8Array {
  const h = blake2s.create({ dkLen: HASH_SIZE });
  for (const p of parts) h.update(p);
  return h.digest();
}

/** MAC(key, input): keyed BLAKE2s-128 (BLAKE2s's own keying mode, not HMAC). */
export function mac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = blake2s.create({ key, dkLen: MAC_SIZE });
  for (const p of parts) h.update(p);
  return h.digest();
}

/** HMAC(key, input) with BLAKE2s-256, as RFC 2104 (block size 64). */
export function hmacBlake2s(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = hmac.create(blake2s, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

const BYTE_1 = Uint8Array.of(1);
const BYTE_2 = Uint8Array.of(2);
const BYTE_3 = Uint8Array.of(3);

/** HKDF extract-and-expand over HMAC-BLAKE2s producing 1-3 outputs of 32 bytes. */
function kdf(n: 1 | 2 | 3, key: Uint8Array, input: Uint8Array): Uint8Array[] {
  const prk = hmacBlake2s(key, input);
  const t1 = hmacBlake2s(prk, BYTE_1);
  const out = [t1];
  if (n >= 2) out.push(hmacBlake2s(prk, t1, BYTE_2));
  if (n >= 3) out.push(hmacBlake2s(prk, out[1]!, BYTE_3));
  zeroize(prk);
  return out;
}

export function kdf1(key: Uint8Array, input: Uint8Array): Uint8Array {
  return kdf(1, key, input)[0]!;
}

export function kdf2(key: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array] {
  const [a, b] = kdf(2, key, input);
  return [a!, b!];
}

export function kdf3(key: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] {
  const [a, b, c] = kdf(3, key, input);
  return [a!, b!, c!];
}

// ---- AEAD ----

/** WireGuard's 96-bit nonce: 32 zero bits, then the 64-bit counter little-endian. */
export function aeadNonce(counter: bigint): Uint8Array {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(4, BigInt.asUintN(64, counter), true);
  return nonce;
}

function checkKey(key: Uint8Array, what: string): void {
  if (key.length !== KEY_SIZE)
    throw new InvalidKeyError(`${what} must be ${KEY_SIZE} bytes, got ${key.length}`);
}

/** ChaCha20-Poly1305 (RFC 8439) with an explicit 12-byte nonce; returns ciphertext || 16-byte tag. */
export function chachaPolySeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
): Uint8Array {
  checkKey(key, 'AEAD key');
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: AEAD_TAG_SIZE });
  c.setAAD(ad, { plaintextLength: plaintext.length });
  const body = c.update(plaintext);
  c.final();
  return concat(body, c.getAuthTag());
}

/** Opens ciphertext || tag; null when authentication fails (callers raise their own typed error). */
export function chachaPolyOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  ad: Uint8Array,
): Uint8Array | null {
  checkKey(key, 'AEAD key');
  if (ciphertext.length < AEAD_TAG_SIZE) return null;
  const split = ciphertext.length - AEAD_TAG_SIZE;
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: AEAD_TAG_SIZE });
  d.setAuthTag(ciphertext.subarray(split));
  d.setAAD(ad, { plaintextLength: split });
  const body = d.update(ciphertext.subarray(0, split));
  try {
    d.final();
  } catch {
    zeroize(body);
    return null;
  }
  return copy(body);
}

/** AEAD(key, counter, plaintext, ad) of the whitepaper: the nonce is the counter. */
export function aeadEncrypt(
  key: Uint8Array,
  counter: bigint,
  plaintext: Uint8Array,
  ad: Uint8Array,
): Uint8Array {
  return chachaPolySeal(key, aeadNonce(counter), plaintext, ad);
}

export function aeadDecrypt(
  key: Uint8Array,
  counter: bigint,
  ciphertext: Uint8Array,
  ad: Uint8Array,
): Uint8Array | null {
  return chachaPolyOpen(key, aeadNonce(counter), ciphertext, ad);
}

/** XChaCha20-Poly1305 seal (used only for cookie replies). */
export function xaeadEncrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
): Uint8Array {
  checkKey(key, 'XAEAD key');
  if (nonce.length !== XNONCE_SIZE) throw new RangeError(`XChaCha20 nonce must be ${XNONCE_SIZE} bytes`);
  return xchacha20poly1305(key, nonce, ad).encrypt(plaintext);
}

export function xaeadDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  ad: Uint8Array,
): Uint8Array | null {
  checkKey(key, 'XAEAD key');
  if (nonce.length !== XNONCE_SIZE || ciphertext.length < AEAD_TAG_SIZE) return null;
  try {
    return xchacha20poly1305(key, nonce, ad).decrypt(ciphertext);
  } catch {
    return null;
  }
}

// ---- X25519 ----

// Raw X25519 keys enter OpenSSL as JWK: Node's PKCS#8 DER import costs ~400 µs a key (OpenSSL 3's
// decoder framework), JWK ~40 µs, which makes the difference between ~350 and ~2000 handshakes/s.
// A private JWK must carry "x"; Node derives the key from "d" alone and ignores "x" (checked by the
// RFC 7748 vectors in test/unit/wg-crypto.test.ts, which fail if that ever changes), so a
// placeholder spares computing the public key just to import the private one.
const PLACEHOLDER_X = Buffer.alloc(KEY_SIZE).toString('base64url');

function privateKeyObject(priv: Uint8Array): KeyObject {
  checkKey(priv, 'X25519 private key');
  return createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: Buffer.from(priv).toString('base64url'), x: PLACEHOLDER_X },
    format: 'jwk',
  });
}

function publicKeyObject(pub: Uint8Array): KeyObject {
  checkKey(pub, 'X25519 public key');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(pub).toString('base64url') },
    format: 'jwk',
  });
}

/** Clamp as RFC 7748 / `wg genkey`: clear the low 3 bits, clear bit 255, set bit 254. */
export function clampPrivateKey(priv: Uint8Array): Uint8Array {
  checkKey(priv, 'X25519 private key');
  const k = new Uint8Array(priv);
  k[0]! &= 248;
  k[31] = (k[31]! & 127) | 64;
  return k;
}

export function generatePrivateKey(random: RandomBytes = randomBytes): Uint8Array {
  const raw = random(KEY_SIZE);
  const k = clampPrivateKey(raw);
  zeroize(raw);
  return k;
}

export function publicKeyFromPrivate(priv: Uint8Array): Uint8Array {
  const jwk = createPublicKey(privateKeyObject(priv)).export({ format: 'jwk' });
  return copy(Buffer.from(jwk.x!, 'base64url'));
}

export interface KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function generateKeyPair(random: RandomBytes = randomBytes): KeyPair {
  const privateKey = generatePrivateKey(random);
  return { privateKey, publicKey: publicKeyFromPrivate(privateKey) };
}

/**
 * DH(priv, pub). An all-zero result means the peer sent a low-order point; WireGuard refuses it
 * (OpenSSL already fails the derivation in that case, which we map to the same error).
 */
export function dh(priv: Uint8Array, pub: Uint8Array): Uint8Array {
  let out: Uint8Array;
  try {
    out = copy(diffieHellman({ privateKey: privateKeyObject(priv), publicKey: publicKeyObject(pub) }));
  } catch (cause) {
    if (cause instanceof InvalidKeyError) throw cause;
    throw new LowOrderPointError(undefined, { cause });
  }
  if (isZero(out)) throw new LowOrderPointError();
  return out;
}

// ---- Base64 keys as `wg` prints them ----

/** 43 significant characters; the last one may only encode 4 bits so the 2 trailing bits are zero. */
const KEY_BASE64 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export function encodeKey(key: Uint8Array): string {
  checkKey(key, 'key');
  return Buffer.from(key).toString('base64');
}

/** Strict decode: exactly 32 bytes in canonical padded base64, as `wg` accepts. */
export function decodeKey(text: string): Uint8Array {
  if (typeof text !== 'string' || !KEY_BASE64.test(text)) {
    throw new InvalidKeyError('key must be 44 characters of canonical base64 encoding 32 bytes');
  }
  return copy(Buffer.from(text, 'base64'));
}
