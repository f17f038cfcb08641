/**
 * DoS mitigation (whitepaper section 5.3 "Cookie MACs"): mac1 proves the sender knows our public key,
 * mac2 proves it can receive at its claimed address. The responder demands mac2 only while under load
 * and answers a missing or stale one with an encrypted cookie; the initiator stores that cookie and
 * uses it for 120 s. Time is an argument (milliseconds, any monotonic origin).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { sourceKey } from '../net/source.js';
import { LruMap } from '../util/lru.js';
import {
  COOKIE_REFRESH_TIME_MS,
  HASH_SIZE,
  INITIATION_SIZE,
  LABEL_COOKIE,
  LABEL_MAC1,
  MAC_SIZE,
  MESSAGE_INITIATION,
  MESSAGE_RESPONSE,
  RATELIMIT_BURST,
  RATELIMIT_GC_AFTER_MS,
  RATELIMIT_PACKETS_PER_SECOND,
  RESPONSE_SIZE,
  TUNING_RATELIMIT_MAX_ENTRIES,
  XNONCE_SIZE,
} from './constants.js';
import {
  equalBytes,
  hash,
  mac,
  randomBytes,
  xaeadDecrypt,
  xaeadEncrypt,
  zeroize,
  type RandomBytes,
} from './crypto.js';
import { decodeCookieReply, encodeCookieReply, type CookieReplyMessage } from './messages.js';
import {
  CookieDecryptError,
  InvalidMac1Error,
  MessageFormatError,
  RateLimitedError,
  UnexpectedCookieReplyError,
} from './errors.js';

const encoder = new TextEncoder();

/** The UDP source of a datagram as the socket reports it. */
export interface SourceAddress {
  readonly address: string;
  readonly port: number;
}

/** mac1 key = HASH("mac1----" || public key); cookie key = HASH("cookie--" || public key). */
export function mac1Key(publicKey: Uint8Array): Uint8Array {
  return hash(encoder.encode(LABEL_MAC1), publicKey);
}

export function cookieKey(publicKey: Uint8Array): Uint8Array {
  return hash(encoder.encode(LABEL_COOKIE), publicKey);
}

/** Raw bytes of an IP address; IPv4-mapped IPv6 becomes 4 bytes so a dual-stack socket is consistent. */
export function ipBytes(address: string): Uint8Array {
  const zoneless = address.split('%')[0]!;
  if (isIPv4(zoneless)) return Uint8Array.from(zoneless.split('.').map(Number));
  if (!isIPv6(zoneless)) throw new MessageFormatError(`not an IP address: ${address}`);
  let text = zoneless;
  const groups: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    text =
      text.slice(0, -v4[1]!.length) +
      `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  groups.push(...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t);
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  const mapped = out.subarray(0, 12).every((b, i) => b === (i < 10 ? 0 : 0xff));
  return mapped ? out.slice(12) : out;
}

/**
 * What the cookie is bound to: IP bytes || UDP port big-endian, as Linux's cookie.c. Only the
 * responder ever computes it (it both issues and checks its own cookies), so the exact encoding is
 * not part of the wire protocol; wireguard-go's varies by version (netip.AddrPort.MarshalBinary).
 */
export function encodeSource(source: SourceAddress): Uint8Array {
  if (!Number.isInteger(source.port) || source.port < 0 || source.port > 0xffff) {
    throw new MessageFormatError(`invalid port ${source.port}`);
  }
  const ip = ipBytes(source.address);
  const out = new Uint8Array(ip.length + 2);
  out.set(ip);
  out[ip.length] = source.port >> 8;
  out[ip.length + 1] = source.port & 0xff;
  return out;
}

/** mac1 and mac2 sit at the end of initiations and responses only. */
function macOffsets(msg: Uint8Array): { mac1: number; mac2: number } {
  const ok =
    (msg[0] === MESSAGE_INITIATION && msg.length === INITIATION_SIZE) ||
    (msg[0] === MESSAGE_RESPONSE && msg.length === RESPONSE_SIZE);
  if (!ok)
    throw new MessageFormatError(
      'MACs exist only on handshake initiations (148 bytes) and responses (92 bytes)',
    );
  return { mac1: msg.length - 2 * MAC_SIZE, mac2: msg.length - MAC_SIZE };
}

export type ScreenResult =
  { readonly action: 'accept' } | { readonly action: 'cookie-reply'; readonly reply: Uint8Array };

export interface ScreenOptions {
  readonly now: number;
  /** Whether the caller's handshake queue is congested; only then is mac2 demanded. */
  readonly underLoad: boolean;
  /** Applied under load to sources that proved their address, as wireguard-go does. */
  readonly rateLimiter?: RateLimiter;
}

/** The responder side: verifies MACs on every handshake message addressed to our static key. */
export class CookieChecker {
  private readonly mac1Key: Uint8Array;
  private readonly encryptionKey: Uint8Array;
  private secret: Uint8Array = new Uint8Array(HASH_SIZE);
  private secretSetAt = -Infinity;

  constructor(
    localPublicKey: Uint8Array,
    private readonly random: RandomBytes = randomBytes,
  ) {
    this.mac1Key = mac1Key(localPublicKey);
    this.encryptionKey = cookieKey(localPublicKey);
  }

  checkMac1(msg: Uint8Array): boolean {
    const { mac1, mac2 } = macOffsets(msg);
    return equalBytes(mac(this.mac1Key, msg.subarray(0, mac1)), msg.subarray(mac1, mac2));
  }

  /** False also when the secret is older than 120 s: every cookie issued from it is then void. */
  checkMac2(msg: Uint8Array, source: SourceAddress, now: number): boolean {
    const { mac2 } = macOffsets(msg);
    if (now - this.secretSetAt > COOKIE_REFRESH_TIME_MS) return false;
    const cookie = mac(this.secret, encodeSource(source));
    const ok = equalBytes(mac(cookie, msg.subarray(0, mac2)), msg.subarray(mac2));
    zeroize(cookie);
    return ok;
  }

  /** A 64-byte cookie reply to `msg`, addressed to its sender index; rotates the secret when stale. */
  createCookieReply(msg: Uint8Array, source: SourceAddress, now: number): Uint8Array {
    const { mac1, mac2 } = macOffsets(msg);
    if (now - this.secretSetAt > COOKIE_REFRESH_TIME_MS) {
      zeroize(this.secret);
      this.secret = this.random(HASH_SIZE);
      this.secretSetAt = now;
    }
    const cookie = mac(this.secret, encodeSource(source));
    const nonce = this.random(XNONCE_SIZE);
    const encryptedCookie = xaeadEncrypt(this.encryptionKey, nonce, cookie, msg.subarray(mac1, mac2));
    zeroize(cookie);
    const receiver = new DataView(msg.buffer, msg.byteOffset, msg.byteLength).getUint32(4, true);
    return encodeCookieReply({ receiver, nonce, encryptedCookie });
  }

  /**
   * The gate before the Noise layer: throws InvalidMac1Error (drop silently), returns a cookie reply
   * to send when under load without a valid mac2, throws RateLimitedError when a proven source sends
   * too many initiations, else accepts.
   */
  screen(msg: Uint8Array, source: SourceAddress, opts: ScreenOptions): ScreenResult {
    if (!this.checkMac1(msg)) throw new InvalidMac1Error();
    if (!opts.underLoad) return { action: 'accept' };
    if (!this.checkMac2(msg, source, opts.now)) {
      return { action: 'cookie-reply', reply: this.createCookieReply(msg, source, opts.now) };
    }
    if (opts.rateLimiter && !opts.rateLimiter.allow(source.address, opts.now)) {
      throw new RateLimitedError(`handshake rate limit exceeded for ${source.address}`);
    }
    return { action: 'accept' };
  }
}

/** The sender side, one per peer: keyed with that peer's static public key. */
export class CookieGenerator {
  private readonly mac1Key: Uint8Array;
  private readonly encryptionKey: Uint8Array;
  private cookie: Uint8Array = new Uint8Array(MAC_SIZE);
  private cookieSetAt = -Infinity;
  private lastMac1: Uint8Array | null = null;

  constructor(remotePublicKey: Uint8Array) {
    this.mac1Key = mac1Key(remotePublicKey);
    this.encryptionKey = cookieKey(remotePublicKey);
  }

  hasFreshCookie(now: number): boolean {
    return now - this.cookieSetAt <= COOKIE_REFRESH_TIME_MS;
  }

  /** Fills mac1 and (with a fresh cookie) mac2 of an encoded initiation or response in place. */
  addMacs(msg: Uint8Array, now: number): void {
    const { mac1, mac2 } = macOffsets(msg);
    const m1 = mac(this.mac1Key, msg.subarray(0, mac1));
    msg.set(m1, mac1);
    // The cookie reply will be bound to this mac1, so it is the only one we can decrypt.
    this.lastMac1 = m1;
    const m2 = this.hasFreshCookie(now) ? mac(this.cookie, msg.subarray(0, mac2)) : new Uint8Array(MAC_SIZE);
    msg.set(m2, mac2);
  }

  /** Stores the cookie from a reply to our last message; throws if it is not such a reply. */
  consumeCookieReply(reply: Uint8Array | CookieReplyMessage, now: number): void {
    const m = reply instanceof Uint8Array ? decodeCookieReply(reply) : reply;
    if (!this.lastMac1) throw new UnexpectedCookieReplyError();
    const cookie = xaeadDecrypt(this.encryptionKey, m.nonce, m.encryptedCookie, this.lastMac1);
    if (!cookie) throw new CookieDecryptError();
    zeroize(this.cookie);
    this.cookie = cookie;
    this.cookieSetAt = now;
  }
}

interface Bucket {
  tokens: number;
  last: number;
}

export interface RateLimiterOptions {
  readonly packetsPerSecond?: number;
  readonly burst?: number;
  readonly maxEntries?: number;
}

/**
 * Token bucket per source address (wireguard-go ratelimiter.go, Linux ratelimiter.c): a new source
 * starts with `burst` tokens, refills at `packetsPerSecond`. We accept when at least one packet's
 * cost remains, as Linux does; wireguard-go's strict comparison admits one fewer under a frozen clock.
 * IPv6 sources share one bucket per /64 (as Linux keys them): a host picks any address in its /64.
 * A full table forgets its least recently used source rather than refusing every new one.
 */
export class RateLimiter {
  private readonly costMs: number;
  private readonly maxTokensMs: number;
  private readonly table: LruMap<string, Bucket>;
  private lastGc = -Infinity;

  constructor(opts: RateLimiterOptions = {}) {
    this.costMs = 1000 / (opts.packetsPerSecond ?? RATELIMIT_PACKETS_PER_SECOND);
    this.maxTokensMs = this.costMs * (opts.burst ?? RATELIMIT_BURST);
    this.table = new LruMap(opts.maxEntries ?? TUNING_RATELIMIT_MAX_ENTRIES);
  }

  get size(): number {
    return this.table.size;
  }

  /** Takes the source's IP address and the current time; true when the packet may pass. */
  allow(address: string, now: number): boolean {
    if (now - this.lastGc > RATELIMIT_GC_AFTER_MS) this.gc(now);
    const key = sourceKey(address);
    const entry = this.table.get(key);
    if (!entry) {
      this.table.set(key, { tokens: this.maxTokensMs - this.costMs, last: now });
      return true;
    }
    entry.tokens = Math.min(this.maxTokensMs, entry.tokens + Math.max(0, now - entry.last));
    entry.last = now;
    if (entry.tokens >= this.costMs) {
      entry.tokens -= this.costMs;
      return true;
    }
    return false;
  }

  /** Forget sources idle for more than a second (their bucket would be full again anyway). */
  gc(now: number): void {
    this.lastGc = now;
    for (const [key, entry] of this.table.entries()) {
      if (now - entry.last > RATELIMIT_GC_AFTER_MS) this.table.delete(key);
    }
  }
}
