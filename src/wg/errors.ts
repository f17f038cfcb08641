import { SagError } from '../errors.js';

/**
 * Errors of the WireGuard protocol layer. A receiver normally drops the packet whatever the class;
 * the distinct classes exist so that logs, counters and tests can tell the conditions apart.
 */

type Options = { cause?: unknown };

/** Wrong size, wrong type byte or non-zero reserved bytes. */
export class MessageFormatError extends SagError {
  constructor(message: string, options?: Options) {
    super('ERR_WG_MESSAGE_FORMAT', message, options);
  }
}

export class InvalidMac1Error extends SagError {
  constructor(
    message = 'handshake message has an invalid mac1: it is not addressed to our public key (the sender has a wrong key for us) or it was corrupted',
    options?: Options,
  ) {
    super('ERR_WG_MAC1', message, options);
  }
}

export class InvalidMac2Error extends SagError {
  constructor(message = 'handshake message has an invalid or stale mac2', options?: Options) {
    super('ERR_WG_MAC2', message, options);
  }
}

/** An AEAD inside a handshake message failed: wrong keys, wrong PSK or tampering. */
export class HandshakeDecryptError extends SagError {
  constructor(message: string, options?: Options) {
    super('ERR_WG_HANDSHAKE_DECRYPT', message, options);
  }
}

/** The initiation's TAI64N timestamp is not newer than the last accepted from that peer. */
export class HandshakeReplayError extends SagError {
  constructor(
    message = 'handshake initiation replayed (timestamp not newer than the last)',
    options?: Options,
  ) {
    super('ERR_WG_HANDSHAKE_REPLAY', message, options);
  }
}

/** A second initiation from the same peer within 20 ms. */
export class HandshakeFloodError extends SagError {
  constructor(message = 'handshake initiation arrived within 20 ms of the previous one', options?: Options) {
    super('ERR_WG_HANDSHAKE_FLOOD', message, options);
  }
}

/** The initiator's static key decrypted fine but belongs to no configured peer. */
export class UnknownPeerError extends SagError {
  constructor(message = 'handshake initiation from an unknown static key', options?: Options) {
    super('ERR_WG_UNKNOWN_PEER', message, options);
  }
}

/** A message addressed to a receiver index we do not hold. */
export class UnknownIndexError extends SagError {
  constructor(message: string, options?: Options) {
    super('ERR_WG_UNKNOWN_INDEX', message, options);
  }
}

/** An operation out of order, e.g. a response without a consumed initiation. */
export class HandshakeStateError extends SagError {
  constructor(message: string, options?: Options) {
    super('ERR_WG_HANDSHAKE_STATE', message, options);
  }
}

/** Malformed key material: bad base64, wrong length. */
export class InvalidKeyError extends SagError {
  constructor(message: string, options?: Options) {
    super('ERR_WG_INVALID_KEY', message, options);
  }
}

/** X25519 produced the all-zero secret: the public key is a low-order point. */
export class LowOrderPointError extends SagError {
  constructor(message = 'X25519 result is all zero (low-order public key)', options?: Options) {
    super('ERR_WG_LOW_ORDER_POINT', message, options);
  }
}

export class CookieDecryptError extends SagError {
  constructor(message = 'cookie reply failed to decrypt', options?: Options) {
    super('ERR_WG_COOKIE_DECRYPT', message, options);
  }
}

/** A cookie reply arrived although we never sent a message it could answer. */
export class UnexpectedCookieReplyError extends SagError {
  constructor(message = 'cookie reply without a preceding handshake message', options?: Options) {
    super('ERR_WG_COOKIE_UNEXPECTED', message, options);
  }
}

/** Per-source initiation rate exceeded while under load. */
export class RateLimitedError extends SagError {
  constructor(message: string, options?: Options) {
    super('ERR_WG_RATE_LIMITED', message, options);
  }
}

export class TransportDecryptError extends SagError {
  constructor(message = 'transport message failed to decrypt', options?: Options) {
    super('ERR_WG_TRANSPORT_DECRYPT', message, options);
  }
}
