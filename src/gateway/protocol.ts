/**
 * The Gateway's protocol driver: handshake messages from the dataplane's control queue, timer
 * actions, and the periodic poll that feeds traffic counters to the timers.
 *
 *   control:received ─ type 1 ─▶ mac1/cookie screen ─▶ consumeInitiation ─▶ install (next) ─▶ response
 *                    ─ type 2 ─▶ mac1/cookie screen ─▶ consumeResponse ─▶ install (current)
 *                    ─ type 3 ─▶ the in-flight handshake's cookie generator
 *   poll (every pollIntervalMs) ─▶ counter deltas ─▶ PeerTimers ─▶ actions ─▶ dataplane / Noise
 *
 * Every refusal becomes a `handshake:rejected` event and a log line naming the source; nothing a
 * remote sends can throw out of here.
 */
import type { Dataplane } from '../dataplane/dataplane.js';
import type { ControlMessage, Endpoint } from '../dataplane/types.js';
import { SagError } from '../errors.js';
import { CookieChecker, RateLimiter } from '../wg/cookie.js';
import { MESSAGE_COOKIE_REPLY, MESSAGE_INITIATION, MESSAGE_RESPONSE } from '../wg/constants.js';
import { zeroize, type KeyPair } from '../wg/crypto.js';
import { UnknownIndexError } from '../wg/errors.js';
import { decodeCookieReply, decodeResponse } from '../wg/messages.js';
import { Handshake, RandomIndexAllocator, type TransportKeypair } from '../wg/noise.js';
import type { TimerAction } from '../wg/timers.js';
import type { GatewayPeer } from './peer.js';
import type { GatewayEvents } from './types.js';
import type { Clock } from '../util/clock.js';
import type { Logger, LogLevel } from '../util/logger.js';

/** What the driver needs from the Gateway that owns it. */
export interface ProtocolHost {
  readonly dataplane: Dataplane;
  readonly clock: Clock;
  readonly log: Logger;
  readonly uplinkId: () => number;
  readonly local: () => KeyPair | undefined;
  readonly peers: () => Iterable<GatewayPeer>;
  readonly peerByKey: (publicKey: Uint8Array) => GatewayPeer | undefined;
  emit<K extends keyof GatewayEvents>(event: K, ...args: GatewayEvents[K]): boolean;
}

/**
 * Under load, as wireguard-go judges it: when the handshake backlog reaches a threshold, and for
 * one second after (so a flood that comes in waves does not flip us in and out).
 */
class LoadMeter {
  #underLoadUntil = -Infinity;
  constructor(private readonly backlogThreshold: number) {}
  underLoad(backlog: number, now: number): boolean {
    if (backlog >= this.backlogThreshold) this.#underLoadUntil = now + 1000;
    return now < this.#underLoadUntil;
  }
}

/** At most `perSecond` lines a second, then one line saying how many were suppressed. */
class RateLimitedLog {
  #windowStart = -Infinity;
  #count = 0;
  #suppressed = 0;
  constructor(
    private readonly log: Logger,
    private readonly perSecond: number,
  ) {}
  write(level: LogLevel, message: string, now: number): void {
    if (now - this.#windowStart >= 1000) {
      if (this.#suppressed)
        this.log(level, `(${this.#suppressed} more rejected handshake messages not logged)`);
      this.#windowStart = now;
      this.#count = 0;
      this.#suppressed = 0;
    }
    if (++this.#count <= this.perSecond) this.log(level, message);
    else this.#suppressed++;
  }
}

export class ProtocolDriver {
  readonly indices = new RandomIndexAllocator();
  #checker: CookieChecker | undefined;
  readonly #limiter = new RateLimiter();
  readonly #load: LoadMeter;
  readonly #rejections: RateLimitedLog;

  constructor(
    private readonly host: ProtocolHost,
    underLoadBacklog: number,
  ) {
    this.#load = new LoadMeter(underLoadBacklog);
    this.#rejections = new RateLimitedLog(host.log, 10);
  }

  /** Our static key changed: cookies are now keyed to the new public key. */
  setLocal(local: KeyPair | undefined): void {
    this.#checker = local ? new CookieChecker(local.publicKey) : undefined;
  }

  onControl(msg: ControlMessage): void {
    const type = msg.data[0];
    try {
      if (type === MESSAGE_INITIATION) this.#onInitiation(msg);
      else if (type === MESSAGE_RESPONSE) this.#onResponse(msg);
      else if (type === MESSAGE_COOKIE_REPLY) this.#onCookieReply(msg);
      else throw new SagError('ERR_WG_UNKNOWN_MESSAGE', `message type ${type} is not a handshake message`);
    } catch (err) {
      this.#reject(msg.from, err);
    }
  }

  /** The timers of every peer see the traffic since the last poll, then their deadlines. */
  poll(): void {
    const now = this.host.clock.monotonicMs();
    for (const peer of this.host.peers()) {
      let counters;
      try {
        counters = this.host.dataplane.peerCounters(peer.publicKey);
      } catch {
        continue; // removed meanwhile
      }
      const d = peer.delta(counters);
      if (d.dataSent) this.run(peer, peer.timers.onDataSent(now));
      if (d.dataReceived) this.run(peer, peer.timers.onDataReceived(now));
      else if (d.anyReceived) this.run(peer, peer.timers.onAuthenticatedReceived(now));
      this.run(peer, peer.timers.tick(now));
    }
    this.#limiter.gc(this.host.clock.unixMs());
  }

  /** Carries out timer actions at once (the timers count them as done). */
  run(peer: GatewayPeer, actions: TimerAction[]): void {
    const dp = this.host.dataplane;
    for (const a of actions) {
      try {
        switch (a.type) {
          case 'send-initiation':
            this.#sendInitiation(peer, a.reason);
            break;
          case 'send-keepalive':
            dp.sendKeepalive(peer.publicKey);
            break;
          case 'expire-keypair':
            ignoreMissing(() => dp.expireKeypair(a.localIndex));
            break;
          case 'retire-keypair':
            this.#retire(a.localIndex);
            break;
          case 'zero-keys':
            for (const index of a.localIndices) this.#retire(index);
            peer.handshake?.clear();
            dp.dropStaged(peer.publicKey);
            break;
          case 'flush-staged':
            dp.dropStaged(peer.publicKey);
            break;
          case 'handshake-failed':
            this.host.log(
              'warn',
              `peer ${peer.publicKey}: no handshake after ${a.attempts} attempts; peer down`,
            );
            this.host.emit('peer:down', { publicKey: peer.publicKey, attempts: a.attempts });
            break;
        }
      } catch (err) {
        this.host.log('error', `peer ${peer.publicKey}: ${a.type} failed: ${(err as Error).message}`);
      }
    }
  }

  /** Forgets a peer's keypairs in the dataplane and frees their indices. */
  forget(peer: GatewayPeer): void {
    const slots = peer.timers.keypairs;
    for (const kp of [slots.previous, slots.current, slots.next]) if (kp) this.#retire(kp.localIndex);
    peer.handshake?.clear();
  }

  #retire(index: number): void {
    ignoreMissing(() => this.host.dataplane.retireKeypair(index));
    this.indices.release(index);
  }

  #sendInitiation(peer: GatewayPeer, reason: string): void {
    if (!peer.handshake || !peer.endpoint) {
      this.host.log(
        'debug',
        `peer ${peer.publicKey}: handshake wanted (${reason}) but ${peer.handshake ? 'no endpoint' : 'no private key'}`,
      );
      return;
    }
    const msg = peer.handshake.createInitiation(this.host.clock.unixMs());
    this.host.dataplane.sendControl(this.host.uplinkId(), peer.endpoint, msg);
    this.host.log('debug', `peer ${peer.publicKey}: initiation sent (${reason})`);
  }

  /** Runs the cookie gate; returns false when a cookie reply was sent instead of proceeding. */
  #screen(msg: ControlMessage, checker: CookieChecker): boolean {
    const now = this.host.clock.unixMs();
    const underLoad = this.#load.underLoad(msg.backlog, this.host.clock.monotonicMs());
    const verdict = checker.screen(msg.data, msg.from, { now, underLoad, rateLimiter: this.#limiter });
    if (verdict.action === 'cookie-reply') {
      this.host.dataplane.sendControl(msg.uplinkId, msg.from, Buffer.from(verdict.reply));
      return false;
    }
    return true;
  }

  #onInitiation(msg: ControlMessage): void {
    const local = this.host.local();
    if (!local || !this.#checker)
      throw new SagError('ERR_SAG_NO_PRIVATE_KEY', 'initiation received but no private key is set');
    if (!this.#screen(msg, this.#checker)) return;
    const unixNow = this.host.clock.unixMs();
    let found: GatewayPeer | undefined;
    const hs = Handshake.consumeInitiation(
      msg.data,
      local,
      (remoteStatic) => (found = this.host.peerByKey(remoteStatic))?.handshake,
      unixNow,
    );
    const peer = found!;
    const response = hs.createResponse(unixNow);
    const keypair = hs.beginSession(unixNow);
    // Install before answering: the initiator's first data may follow the response at once.
    this.#install(peer, keypair);
    this.#roamTo(peer, msg.from, msg.uplinkId);
    this.host.dataplane.sendControl(msg.uplinkId, msg.from, response);
    this.run(
      peer,
      peer.timers.onHandshakeComplete(this.host.clock.monotonicMs(), {
        isInitiator: false,
        localIndex: keypair.localIndex,
      }),
    );
    this.host.emit('peer:handshake', {
      publicKey: peer.publicKey,
      initiator: false,
      localIndex: keypair.localIndex,
    });
  }

  #onResponse(msg: ControlMessage): void {
    if (!this.#checker)
      throw new SagError('ERR_SAG_NO_PRIVATE_KEY', 'response received but no private key is set');
    if (!this.#screen(msg, this.#checker)) return;
    const hs = this.indices.lookup(decodeResponse(msg.data).receiver);
    const peer = hs && this.host.peerByKey(hs.remoteStatic);
    if (!hs || !peer) throw new UnknownIndexError('response to an index we did not send');
    hs.consumeResponse(msg.data);
    const unixNow = this.host.clock.unixMs();
    const keypair = hs.beginSession(unixNow);
    this.#install(peer, keypair);
    peer.lastHandshakeUnixMs = unixNow;
    this.#roamTo(peer, msg.from, msg.uplinkId);
    const staged = this.host.dataplane.peerStats(peer.publicKey).stagedPackets > 0;
    this.run(
      peer,
      peer.timers.onHandshakeComplete(this.host.clock.monotonicMs(), {
        isInitiator: true,
        localIndex: keypair.localIndex,
        hasStagedPackets: staged,
      }),
    );
    this.host.emit('peer:handshake', {
      publicKey: peer.publicKey,
      initiator: true,
      localIndex: keypair.localIndex,
    });
  }

  #onCookieReply(msg: ControlMessage): void {
    const reply = decodeCookieReply(msg.data);
    const hs = this.indices.lookup(reply.receiver);
    if (!hs) throw new UnknownIndexError('cookie reply to an index we did not send');
    hs.cookies.consumeCookieReply(reply, this.host.clock.unixMs());
  }

  #install(peer: GatewayPeer, kp: TransportKeypair): void {
    try {
      this.host.dataplane.installKeypair(peer.publicKey, {
        localIndex: kp.localIndex,
        remoteIndex: kp.remoteIndex,
        sendKey: kp.sendKey,
        recvKey: kp.recvKey,
        initiator: kp.isInitiator,
      });
    } finally {
      zeroize(kp.sendKey, kp.recvKey);
    }
  }

  /** An authenticated handshake message names the peer's current address (WireGuard roaming). */
  #roamTo(peer: GatewayPeer, from: Endpoint, uplinkId: number): void {
    if (peer.endpoint?.address === from.address && peer.endpoint.port === from.port) return;
    peer.endpoint = { ...from };
    this.host.dataplane.updatePeer(peer.publicKey, { endpoint: from, uplink: uplinkId });
    this.host.emit('peer:endpoint', { publicKey: peer.publicKey, endpoint: { ...from } });
  }

  #reject(from: Endpoint, err: unknown): void {
    const code = err instanceof SagError ? err.code : 'ERR_SAG_INTERNAL';
    const message = err instanceof Error ? err.message : String(err);
    this.#rejections.write(
      'warn',
      `handshake message from ${from.address}:${from.port} rejected: ${message} (${code})`,
      this.host.clock.monotonicMs(),
    );
    this.host.emit('handshake:rejected', { from, code, message });
  }
}

function ignoreMissing(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof SagError && err.code === 'ERR_SAG_NOT_FOUND')) throw err;
  }
}
