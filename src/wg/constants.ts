/**
 * Constants of the WireGuard protocol (whitepaper sections 5-6, wireguard-go device/constants.go and
 * device/noise-protocol.go). Changing any value in the first part breaks interoperability; values in
 * the last part are ours to tune.
 */

// ---- Specification: Noise construction and labels ----

export const CONSTRUCTION = 'Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s';
export const IDENTIFIER = 'WireGuard v1 zx2c4 Jason@zx2c4.com';
export const LABEL_MAC1 = 'mac1----';
export const LABEL_COOKIE = 'cookie--';

// ---- Specification: sizes ----

export const KEY_SIZE = 32;
export const HASH_SIZE = 32;
export const MAC_SIZE = 16;
export const AEAD_TAG_SIZE = 16;
export const TAI64N_SIZE = 12;
export const XNONCE_SIZE = 24;
export const COOKIE_SIZE = 16;

// ---- Specification: message types and layout ----

export const MESSAGE_INITIATION = 1;
export const MESSAGE_RESPONSE = 2;
export const MESSAGE_COOKIE_REPLY = 3;
export const MESSAGE_TRANSPORT = 4;

export const INITIATION_SIZE = 148;
export const RESPONSE_SIZE = 92;
export const COOKIE_REPLY_SIZE = 64;
export const TRANSPORT_HEADER_SIZE = 16;
/** A keepalive is a transport message with an empty payload: header plus tag. */
export const KEEPALIVE_SIZE = TRANSPORT_HEADER_SIZE + AEAD_TAG_SIZE;
export const PADDING_MULTIPLE = 16;

/** Offsets inside a transport message. */
export const TRANSPORT_OFFSET_RECEIVER = 4;
export const TRANSPORT_OFFSET_COUNTER = 8;
export const TRANSPORT_OFFSET_CONTENT = 16;

// ---- Specification: timers and limits (milliseconds unless noted) ----

export const REKEY_AFTER_MESSAGES = 2n ** 60n;
export const REJECT_AFTER_MESSAGES = 2n ** 64n - 2n ** 13n - 1n;
export const REKEY_AFTER_TIME_MS = 120_000;
export const REJECT_AFTER_TIME_MS = 180_000;
export const REKEY_ATTEMPT_TIME_MS = 90_000;
export const REKEY_TIMEOUT_MS = 5_000;
export const REKEY_TIMEOUT_JITTER_MAX_MS = 334;
export const KEEPALIVE_TIMEOUT_MS = 10_000;
export const COOKIE_REFRESH_TIME_MS = 120_000;
/** The initiator also rekeys when it receives on a keypair this old (REJECT - KEEPALIVE - REKEY_TIMEOUT). */
export const REKEY_ON_RECEIVE_AFTER_TIME_MS = REJECT_AFTER_TIME_MS - KEEPALIVE_TIMEOUT_MS - REKEY_TIMEOUT_MS;
/** An initiation this soon after the last one consumed from the same peer is dropped (1 s / 50). */
export const HANDSHAKE_INITIATION_RATE_MS = 20;
export const MAX_TIMER_HANDSHAKES = REKEY_ATTEMPT_TIME_MS / REKEY_TIMEOUT_MS;

/** TAI64 label of the Unix epoch: 2^62 + 10 (the TAI-UTC offset in 1970). */
export const TAI64_BASE = 0x400000000000000an;
/** wireguard-go clears the low 24 bits of the nanoseconds (~16.8 ms) so timestamps leak less. */
export const TAI64N_WHITENER_MASK = 0xffffff;

// ---- Rate limiting as wireguard-go ratelimiter.go and Linux ratelimiter.c ----

export const RATELIMIT_PACKETS_PER_SECOND = 20;
export const RATELIMIT_BURST = 5;
/** Entries idle longer than this are forgotten. */
export const RATELIMIT_GC_AFTER_MS = 1_000;

// ---- Ours to tune (not in any specification) ----

/** Cap on distinct sources tracked by the rate limiter; beyond it the least recently seen is forgotten. */
export const TUNING_RATELIMIT_MAX_ENTRIES = 65_536;
