/**
 * The Noise_IKpsk2 handshake of WireGuard (whitepaper section 5.4), one `Handshake` per peer. It is a
 * pure state machine: bytes and the current time in, bytes and keys out; no sockets, no clock.
 *
 * `now` is Unix time in milliseconds (as Date.now()): the initiator encodes it as the TAI64N timestamp,
 * the responder uses it for the 20 ms flood guard, both use it for cookie freshness.
 *
 *   initiator                                   responder
 *   createInitiation(now) ── 148 bytes ──▶ Handshake.consumeInitiation(msg, local, lookup, now)
 *                                              createResponse(now)
 *   consumeResponse(msg)  ◀── 92 bytes ───     beginSession(now)
 *   beginSession(now)
 *
 * MAC checking of incoming messages (CookieChecker.screen) comes before this layer; mac1/mac2 of
 * outgoing messages are filled by the per-peer CookieGenerator `cookies`.
 */
import {
  CONSTRUCTION,
  HANDSHAKE_INITIATION_RATE_MS,
  IDENTIFIER,
  KEY_SIZE,
  TAI64N_SIZE,
} from './constants.js';
import {
  aeadDecrypt,
  aeadEncrypt,
  dh,
  generateKeyPair,
  hash,
  kdf1,
  kdf2,
  kdf3,
  randomBytes,
  useOnce,
  zeroize,
  type KeyPair,
  type RandomBytes,
} from './crypto.js';
import { CookieGenerator } from './cookie.js';
import {
  decodeInitiation,
  decodeResponse,
  encodeInitiation,
  encodeResponse,
  type InitiationMessage,
  type ResponseMessage,
} from './messages.js';
import { encodeTai64n, isAfter } from './tai64n.js';
import {
  HandshakeDecryptError,
  HandshakeFloodError,
  HandshakeReplayError,
  HandshakeStateError,
  InvalidKeyError,
  LowOrderPointError,
  UnknownIndexError,
  UnknownPeerError,
} from './errors.js';

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
/** C0 = HASH(construction), H0 = HASH(C0 || identifier): the same for every handshake. */
const INITIAL_CHAIN_KEY = hash(encoder.encode(CONSTRUCTION));
const INITIAL_HASH = hash(INITIAL_CHAIN_KEY, encoder.encode(IDENTIFIER));

/**
 * Hands out the 32-bit sender indices peers use to address us. The allocator sees every live index,
 * so it can keep them unique and map incoming receiver indices back to their Handshake.
 */
export interface IndexAllocator {
  /** A fresh index, unique among those not yet released, now owned by `owner`. */
  allocate(owner: Handshake): number;
  release(index: number): void;
}

/** Random non-zero indices, unique within this allocator; `lookup` finds a response's handshake. */
export class RandomIndexAllocator implements IndexAllocator {
  private readonly owners = new Map<number, Handshake>();
  constructor(private readonly random: RandomBytes = randomBytes) {}

  allocate(owner: Handshake): number {
    for (;;) {
      const b = this.random(4);
      const index = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
      // 0 is our "no index" marker.
      if (index !== 0 && !this.owners.has(index)) {
        this.owners.set(index, owner);
        return index;
      }
    }
  }

  release(index: number): void {
    this.owners.delete(index);
  }

  lookup(index: number): Handshake | undefined {
    return this.owners.get(index);
  }
}

/** The result of a completed handshake; `localIndex` now belongs to the keypair (release it with it). */
export interface TransportKeypair {
  readonly sendKey: Uint8Array;
  readonly recvKey: Uint8Array;
  readonly localIndex: number;
  readonly remoteIndex: number;
  readonly isInitiator: boolean;
  readonly createdAt: number;
}

export interface HandshakeOptions {
  /** Our static key pair. */
  readonly local: KeyPair;
  /** The peer's static public key. */
  readonly remoteStatic: Uint8Array;
  /** 32 bytes; omitted means the all-zero key, as in the protocol. */
  readonly presharedKey?: Uint8Array;
  readonly indices: IndexAllocator;
  readonly random?: RandomBytes;
}

export type HandshakeState =
  'zeroed' | 'initiation-created' | 'initiation-consumed' | 'response-created' | 'response-consumed';

function checkKeySize(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_SIZE)
    throw new InvalidKeyError(`${what} must be ${KEY_SIZE} bytes`);
}

export class Handshake {
  readonly remoteStatic: Uint8Array;
  /** mac1/mac2 for messages we send to this peer, and the cookie it last gave us. */
  readonly cookies: CookieGenerator;

  private readonly local: KeyPair;
  private readonly indices: IndexAllocator;
  private readonly random: RandomBytes;
  private presharedKey: Uint8Array;
  /** DH(local static, remote static): fixed per peer; null when the remote key is a low-order point. */
  private readonly staticStatic: Uint8Array | null;

  private _state: HandshakeState = 'zeroed';
  private hash: Uint8Array = new Uint8Array(KEY_SIZE);
  private chainKey: Uint8Array = new Uint8Array(KEY_SIZE);
  private localEphemeral: Uint8Array | null = null;
  private remoteEphemeral: Uint8Array | null = null;
  private _localIndex = 0;
  private remoteIndex = 0;
  // Replay and flood state survives clear(): it must outlive every session with this peer.
  private lastTimestamp: Uint8Array = new Uint8Array(TAI64N_SIZE);
  private lastInitiationAt = -Infinity;

  constructor(opts: HandshakeOptions) {
    checkKeySize(opts.local.privateKey, 'local private key');
    checkKeySize(opts.local.publicKey, 'local public key');
    checkKeySize(opts.remoteStatic, 'remote static key');
    this.local = opts.local;
    this.remoteStatic = new Uint8Array(opts.remoteStatic);
    this.indices = opts.indices;
    this.random = opts.random ?? randomBytes;
    this.presharedKey = new Uint8Array(KEY_SIZE);
    this.setPresharedKey(opts.presharedKey);
    this.cookies = new CookieGenerator(this.remoteStatic);
    let ss: Uint8Array | null = null;
    try {
      ss = dh(this.local.privateKey, this.remoteStatic);
    } catch (e) {
      if (!(e instanceof LowOrderPointError)) throw e;
    }
    this.staticStatic = ss;
  }

  get state(): HandshakeState {
    return this._state;
  }

  /** The index the peer addresses our in-flight handshake message with; 0 when none. */
  get localIndex(): number {
    return this._localIndex;
  }

  setPresharedKey(psk: Uint8Array | undefined): void {
    if (psk !== undefined) checkKeySize(psk, 'pre-shared key');
    zeroize(this.presharedKey);
    this.presharedKey = psk ? new Uint8Array(psk) : new Uint8Array(KEY_SIZE);
  }

  private requireStaticStatic(): Uint8Array {
    if (!this.staticStatic)
      throw new LowOrderPointError('peer static key is a low-order point; no handshake possible');
    return this.staticStatic;
  }

  private assignIndex(): number {
    if (this._localIndex !== 0) this.indices.release(this._localIndex);
    this._localIndex = this.indices.allocate(this);
    return this._localIndex;
  }

  /** Builds a 148-byte initiation with MACs; restarts any handshake in progress. */
  createInitiation(now: number): Uint8Array {
    const staticStatic = this.requireStaticStatic();
    this.clearSecrets();
    let h = hash(INITIAL_HASH, this.remoteStatic);
    const eph = generateKeyPair(this.random);
    let c = kdf1(INITIAL_CHAIN_KEY, eph.publicKey);
    h = hash(h, eph.publicKey);

    let k: Uint8Array;
    [c, k] = useOnce(dh(eph.privateKey, this.remoteStatic), (s) => kdf2(c, s));
    const encryptedStatic = aeadEncrypt(k, 0n, this.local.publicKey, h);
    h = hash(h, encryptedStatic);

    [c, k] = kdf2(c, staticStatic);
    const encryptedTimestamp = aeadEncrypt(k, 0n, encodeTai64n(now), h);
    h = hash(h, encryptedTimestamp);
    zeroize(k);

    const msg = encodeInitiation({
      sender: this.assignIndex(),
      ephemeral: eph.publicKey,
      encryptedStatic,
      encryptedTimestamp,
    });
    this.cookies.addMacs(msg, now);
    this.hash = h;
    this.chainKey = c;
    this.localEphemeral = eph.privateKey;
    this._state = 'initiation-created';
    return msg;
  }

  /**
   * Responder: decrypts the initiator's static key, asks `lookup` for that peer's Handshake, then
   * authenticates the timestamp and applies replay and flood protection. Returns the Handshake, now
   * ready for createResponse. Throws the typed error of the first check that fails.
   */
  static consumeInitiation(
    msg: Uint8Array | InitiationMessage,
    local: KeyPair,
    lookup: (remoteStatic: Uint8Array) => Handshake | undefined,
    now: number,
  ): Handshake {
    const m = msg instanceof Uint8Array ? decodeInitiation(msg) : msg;
    let h = hash(INITIAL_HASH, local.publicKey);
    h = hash(h, m.ephemeral);
    let c = kdf1(INITIAL_CHAIN_KEY, m.ephemeral);

    let k: Uint8Array;
    [c, k] = useOnce(dh(local.privateKey, m.ephemeral), (s) => kdf2(c, s));
    const remoteStatic = aeadDecrypt(k, 0n, m.encryptedStatic, h);
    if (!remoteStatic)
      throw new HandshakeDecryptError(
        'initiation: static key failed to decrypt (not for our key, or tampered)',
      );
    h = hash(h, m.encryptedStatic);

    const hs = lookup(remoteStatic);
    if (!hs) throw new UnknownPeerError();

    [c, k] = kdf2(c, hs.requireStaticStatic());
    const timestamp = aeadDecrypt(k, 0n, m.encryptedTimestamp, h);
    zeroize(k);
    if (!timestamp)
      throw new HandshakeDecryptError(
        'initiation: timestamp failed to decrypt (wrong static key or tampered)',
      );
    h = hash(h, m.encryptedTimestamp);

    if (!isAfter(timestamp, hs.lastTimestamp)) throw new HandshakeReplayError();
    // A clock stepped backwards (negative gap) is not a flood; the next initiation re-anchors it.
    const gap = now - hs.lastInitiationAt;
    if (gap >= 0 && gap <= HANDSHAKE_INITIATION_RATE_MS) throw new HandshakeFloodError();

    hs.clearSecrets();
    hs.hash = h;
    hs.chainKey = c;
    hs.remoteEphemeral = new Uint8Array(m.ephemeral);
    hs.remoteIndex = m.sender;
    hs.lastTimestamp = timestamp;
    hs.lastInitiationAt = now;
    hs._state = 'initiation-consumed';
    return hs;
  }

  /** Builds the 92-byte response to the consumed initiation; follow with beginSession(). */
  createResponse(now: number): Uint8Array {
    if (this._state !== 'initiation-consumed' || !this.remoteEphemeral) {
      throw new HandshakeStateError(`cannot create a response in state ${this._state}`);
    }
    const eph = generateKeyPair(this.random);
    let h = hash(this.hash, eph.publicKey);
    let c = kdf1(this.chainKey, eph.publicKey);
    c = useOnce(dh(eph.privateKey, this.remoteEphemeral), (s) => kdf1(c, s));
    c = useOnce(dh(eph.privateKey, this.remoteStatic), (s) => kdf1(c, s));

    const [c2, tau, k] = kdf3(c, this.presharedKey);
    h = hash(h, tau);
    const encryptedNothing = aeadEncrypt(k, 0n, EMPTY, h);
    h = hash(h, encryptedNothing);
    zeroize(tau, k, c);

    const msg = encodeResponse({
      sender: this.assignIndex(),
      receiver: this.remoteIndex,
      ephemeral: eph.publicKey,
      encryptedNothing,
    });
    this.cookies.addMacs(msg, now);
    this.hash = h;
    this.chainKey = c2;
    zeroize(this.localEphemeral);
    this.localEphemeral = eph.privateKey;
    this._state = 'response-created';
    return msg;
  }

  /** Initiator: authenticates the response to our initiation; follow with beginSession(). */
  consumeResponse(msg: Uint8Array | ResponseMessage): void {
    const m = msg instanceof Uint8Array ? decodeResponse(msg) : msg;
    if (this._state !== 'initiation-created' || !this.localEphemeral) {
      throw new HandshakeStateError(`unexpected response in state ${this._state}`);
    }
    if (m.receiver !== this._localIndex) {
      throw new UnknownIndexError(`response addressed to index ${m.receiver}, ours is ${this._localIndex}`);
    }
    let h = hash(this.hash, m.ephemeral);
    let c = kdf1(this.chainKey, m.ephemeral);
    c = useOnce(dh(this.localEphemeral, m.ephemeral), (s) => kdf1(c, s));
    c = useOnce(dh(this.local.privateKey, m.ephemeral), (s) => kdf1(c, s));

    const [c2, tau, k] = kdf3(c, this.presharedKey);
    h = hash(h, tau);
    const ok = aeadDecrypt(k, 0n, m.encryptedNothing, h);
    zeroize(tau, k, c);
    if (!ok)
      throw new HandshakeDecryptError(
        'response failed to authenticate (wrong keys, wrong pre-shared key or tampered)',
      );
    h = hash(h, m.encryptedNothing);

    this.hash = h;
    this.chainKey = c2;
    this.remoteIndex = m.sender;
    this._state = 'response-consumed';
  }

  /** Derives the transport keys and resets the handshake; the local index passes to the keypair. */
  beginSession(now: number): TransportKeypair {
    let sendKey: Uint8Array;
    let recvKey: Uint8Array;
    let isInitiator: boolean;
    if (this._state === 'response-consumed') {
      [sendKey, recvKey] = kdf2(this.chainKey, EMPTY);
      isInitiator = true;
    } else if (this._state === 'response-created') {
      [recvKey, sendKey] = kdf2(this.chainKey, EMPTY);
      isInitiator = false;
    } else {
      throw new HandshakeStateError(`cannot derive keys in state ${this._state}`);
    }
    const keypair: TransportKeypair = {
      sendKey,
      recvKey,
      localIndex: this._localIndex,
      remoteIndex: this.remoteIndex,
      isInitiator,
      createdAt: now,
    };
    this._localIndex = 0;
    this.clearSecrets();
    return keypair;
  }

  /** Abandons any handshake in progress and releases its index; replay state is kept. */
  clear(): void {
    if (this._localIndex !== 0) this.indices.release(this._localIndex);
    this._localIndex = 0;
    this.clearSecrets();
  }

  private clearSecrets(): void {
    zeroize(this.hash, this.chainKey, this.localEphemeral, this.remoteEphemeral);
    this.localEphemeral = null;
    this.remoteEphemeral = null;
    this.remoteIndex = 0;
    this._state = 'zeroed';
  }
}

/** Free-function form of Handshake.consumeInitiation. */
export function consumeInitiation(
  msg: Uint8Array | InitiationMessage,
  local: KeyPair,
  lookup: (remoteStatic: Uint8Array) => Handshake | undefined,
  now: number,
): Handshake {
  return Handshake.consumeInitiation(msg, local, lookup, now);
}
