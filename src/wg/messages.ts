/**
 * Wire encoding of the four WireGuard messages. Every message starts with a type byte and three
 * reserved zero bytes; integers are little-endian. Decoders copy what they return, so callers may
 * reuse their receive buffers at once.
 */
import {
  AEAD_TAG_SIZE,
  COOKIE_REPLY_SIZE,
  COOKIE_SIZE,
  INITIATION_SIZE,
  KEEPALIVE_SIZE,
  KEY_SIZE,
  MAC_SIZE,
  MESSAGE_COOKIE_REPLY,
  MESSAGE_INITIATION,
  MESSAGE_RESPONSE,
  MESSAGE_TRANSPORT,
  RESPONSE_SIZE,
  TAI64N_SIZE,
  TRANSPORT_HEADER_SIZE,
  XNONCE_SIZE,
} from './constants.js';
import { aeadDecrypt, aeadEncrypt } from './crypto.js';
import { MessageFormatError, TransportDecryptError } from './errors.js';

export interface InitiationMessage {
  readonly type: typeof MESSAGE_INITIATION;
  readonly sender: number;
  readonly ephemeral: Uint8Array; // 32
  readonly encryptedStatic: Uint8Array; // 32 + 16
  readonly encryptedTimestamp: Uint8Array; // 12 + 16
  readonly mac1: Uint8Array; // 16
  readonly mac2: Uint8Array; // 16
}

export interface ResponseMessage {
  readonly type: typeof MESSAGE_RESPONSE;
  readonly sender: number;
  readonly receiver: number;
  readonly ephemeral: Uint8Array; // 32
  readonly encryptedNothing: Uint8Array; // 0 + 16
  readonly mac1: Uint8Array;
  readonly mac2: Uint8Array;
}

export interface CookieReplyMessage {
  readonly type: typeof MESSAGE_COOKIE_REPLY;
  readonly receiver: number;
  readonly nonce: Uint8Array; // 24
  readonly encryptedCookie: Uint8Array; // 16 + 16
}

export interface TransportMessage {
  readonly type: typeof MESSAGE_TRANSPORT;
  readonly receiver: number;
  readonly counter: bigint;
  /** Ciphertext including the Poly1305 tag. */
  readonly content: Uint8Array;
}

export type MessageType =
  | typeof MESSAGE_INITIATION
  | typeof MESSAGE_RESPONSE
  | typeof MESSAGE_COOKIE_REPLY
  | typeof MESSAGE_TRANSPORT;

/** Sequential field access with the bounds already guaranteed by the size checks. */
class Cursor {
  private off = 4;
  private readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  u32(): number {
    const v = this.view.getUint32(this.off, true);
    this.off += 4;
    return v;
  }
  u64(): bigint {
    const v = this.view.getBigUint64(this.off, true);
    this.off += 8;
    return v;
  }
  bytes(n: number): Uint8Array {
    const v = this.buf.slice(this.off, this.off + n);
    this.off += n;
    return v;
  }
  putU32(v: number, what: string): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
      throw new MessageFormatError(`${what} must be a 32-bit unsigned integer`);
    this.view.setUint32(this.off, v, true);
    this.off += 4;
    return this;
  }
  putU64(v: bigint): this {
    if (v < 0n || v >= 1n << 64n) throw new MessageFormatError('counter must be a 64-bit unsigned integer');
    this.view.setBigUint64(this.off, v, true);
    this.off += 8;
    return this;
  }
  put(v: Uint8Array, n: number, what: string): this {
    if (v.length !== n) throw new MessageFormatError(`${what} must be ${n} bytes, got ${v.length}`);
    this.buf.set(v, this.off);
    this.off += n;
    return this;
  }
}

function start(type: MessageType, size: number): Cursor {
  const buf = new Uint8Array(size);
  buf[0] = type;
  return new Cursor(buf);
}

/** Checks type, reserved bytes and size; `exact` false means `size` is a minimum. */
function expect(buf: Uint8Array, type: MessageType, size: number, exact = true): Cursor {
  if (!(buf instanceof Uint8Array)) throw new MessageFormatError('message must be a Uint8Array');
  const ok = exact ? buf.length === size : buf.length >= size;
  if (!ok) {
    throw new MessageFormatError(
      `message type ${type} must be ${exact ? '' : 'at least '}${size} bytes, got ${buf.length}`,
    );
  }
  if (buf[0] !== type) throw new MessageFormatError(`expected message type ${type}, got ${buf[0]}`);
  if (buf[1] !== 0 || buf[2] !== 0 || buf[3] !== 0)
    throw new MessageFormatError('reserved bytes must be zero');
  return new Cursor(buf);
}

/**
 * The type of a datagram if it could be a WireGuard message (known type, zero reserved bytes, plausible
 * size), else undefined; the demultiplexing step before a full decode.
 */
export function messageType(buf: Uint8Array): MessageType | undefined {
  if (buf.length < 4 || buf[1] !== 0 || buf[2] !== 0 || buf[3] !== 0) return undefined;
  switch (buf[0]) {
    case MESSAGE_INITIATION:
      return buf.length === INITIATION_SIZE ? MESSAGE_INITIATION : undefined;
    case MESSAGE_RESPONSE:
      return buf.length === RESPONSE_SIZE ? MESSAGE_RESPONSE : undefined;
    case MESSAGE_COOKIE_REPLY:
      return buf.length === COOKIE_REPLY_SIZE ? MESSAGE_COOKIE_REPLY : undefined;
    case MESSAGE_TRANSPORT:
      return buf.length >= KEEPALIVE_SIZE ? MESSAGE_TRANSPORT : undefined;
    default:
      return undefined;
  }
}

// mac1 and mac2 default to zero so the cookie layer can fill them in over the encoded bytes.
const ZERO_MAC = new Uint8Array(MAC_SIZE);

export function encodeInitiation(
  m: Omit<InitiationMessage, 'type' | 'mac1' | 'mac2'> & Partial<InitiationMessage>,
): Uint8Array {
  return start(MESSAGE_INITIATION, INITIATION_SIZE)
    .putU32(m.sender, 'sender')
    .put(m.ephemeral, KEY_SIZE, 'ephemeral')
    .put(m.encryptedStatic, KEY_SIZE + AEAD_TAG_SIZE, 'encrypted static')
    .put(m.encryptedTimestamp, TAI64N_SIZE + AEAD_TAG_SIZE, 'encrypted timestamp')
    .put(m.mac1 ?? ZERO_MAC, MAC_SIZE, 'mac1')
    .put(m.mac2 ?? ZERO_MAC, MAC_SIZE, 'mac2').buf;
}

export function decodeInitiation(buf: Uint8Array): InitiationMessage {
  const c = expect(buf, MESSAGE_INITIATION, INITIATION_SIZE);
  return {
    type: MESSAGE_INITIATION,
    sender: c.u32(),
    ephemeral: c.bytes(KEY_SIZE),
    encryptedStatic: c.bytes(KEY_SIZE + AEAD_TAG_SIZE),
    encryptedTimestamp: c.bytes(TAI64N_SIZE + AEAD_TAG_SIZE),
    mac1: c.bytes(MAC_SIZE),
    mac2: c.bytes(MAC_SIZE),
  };
}

export function encodeResponse(
  m: Omit<ResponseMessage, 'type' | 'mac1' | 'mac2'> & Partial<ResponseMessage>,
): Uint8Array {
  return start(MESSAGE_RESPONSE, RESPONSE_SIZE)
    .putU32(m.sender, 'sender')
    .putU32(m.receiver, 'receiver')
    .put(m.ephemeral, KEY_SIZE, 'ephemeral')
    .put(m.encryptedNothing, AEAD_TAG_SIZE, 'encrypted nothing')
    .put(m.mac1 ?? ZERO_MAC, MAC_SIZE, 'mac1')
    .put(m.mac2 ?? ZERO_MAC, MAC_SIZE, 'mac2').buf;
}

export function decodeResponse(buf: Uint8Array): ResponseMessage {
  const c = expect(buf, MESSAGE_RESPONSE, RESPONSE_SIZE);
  return {
    type: MESSAGE_RESPONSE,
    sender: c.u32(),
    receiver: c.u32(),
    ephemeral: c.bytes(KEY_SIZE),
    encryptedNothing: c.bytes(AEAD_TAG_SIZE),
    mac1: c.bytes(MAC_SIZE),
    mac2: c.bytes(MAC_SIZE),
  };
}

export function encodeCookieReply(m: Omit<CookieReplyMessage, 'type'>): Uint8Array {
  return start(MESSAGE_COOKIE_REPLY, COOKIE_REPLY_SIZE)
    .putU32(m.receiver, 'receiver')
    .put(m.nonce, XNONCE_SIZE, 'nonce')
    .put(m.encryptedCookie, COOKIE_SIZE + AEAD_TAG_SIZE, 'encrypted cookie').buf;
}

export function decodeCookieReply(buf: Uint8Array): CookieReplyMessage {
  const c = expect(buf, MESSAGE_COOKIE_REPLY, COOKIE_REPLY_SIZE);
  return {
    type: MESSAGE_COOKIE_REPLY,
    receiver: c.u32(),
    nonce: c.bytes(XNONCE_SIZE),
    encryptedCookie: c.bytes(COOKIE_SIZE + AEAD_TAG_SIZE),
  };
}

/** Just the 16-byte header; `content` must be appended by the caller. */
export function encodeTransportHeader(receiver: number, counter: bigint): Uint8Array {
  return start(MESSAGE_TRANSPORT, TRANSPORT_HEADER_SIZE).putU32(receiver, 'receiver').putU64(counter).buf;
}

/** Accepts any transport message of at least keepalive size (header + tag). */
export function decodeTransport(buf: Uint8Array): TransportMessage {
  const c = expect(buf, MESSAGE_TRANSPORT, KEEPALIVE_SIZE, false);
  return {
    type: MESSAGE_TRANSPORT,
    receiver: c.u32(),
    counter: c.u64(),
    content: c.bytes(buf.length - TRANSPORT_HEADER_SIZE),
  };
}

/**
 * Seal one transport message. Padding the plaintext to a multiple of 16 is the caller's business
 * (it knows the MTU); the hot path lives in the native dataplane, this is for control-plane use
 * (keepalives, tests).
 */
export function sealTransport(
  key: Uint8Array,
  receiver: number,
  counter: bigint,
  plaintext: Uint8Array,
): Uint8Array {
  const header = encodeTransportHeader(receiver, counter);
  const body = aeadEncrypt(key, counter, plaintext, new Uint8Array(0));
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

/** Open a transport message; replay protection is the caller's (it owns the window). */
export function openTransport(
  key: Uint8Array,
  buf: Uint8Array,
): { receiver: number; counter: bigint; plaintext: Uint8Array } {
  const m = decodeTransport(buf);
  const plaintext = aeadDecrypt(key, m.counter, m.content, new Uint8Array(0));
  if (!plaintext) throw new TransportDecryptError();
  return { receiver: m.receiver, counter: m.counter, plaintext };
}
