/**
 * WireGuard's per-peer timers and key rotation (whitepaper section 6) as a pure state machine: the
 * caller passes monotonic milliseconds into every call and gets back the actions to carry out. No
 * clock, no timer, no socket; the Gateway arms one real timer at nextDeadline() and calls tick().
 *
 * Inputs follow what the Gateway can observe. The native dataplane reports traffic only as polled
 * per-peer counters plus a few events, so "sent"/"received" inputs mean "the counter moved since the
 * last poll", with `now` the poll time. Keepalives are told apart by size (32 bytes of UDP payload):
 *
 *   txBytes grew by more than 32 × txPackets delta  -> onDataSent(now)
 *   rxBytes grew by more than 32 × rxPackets delta  -> onDataReceived(now)
 *   rxPackets grew, all keepalives                  -> onAuthenticatedReceived(now)
 *   initiator consumed a response / responder sent its response -> onHandshakeComplete(now, info)
 *   SAG_EVENT_KEYPAIR_CONFIRMED                     -> onKeypairConfirmed(now, localIndex)
 *   SAG_EVENT_HANDSHAKE_NEEDED                      -> onStagedPackets(now)
 *   SAG_EVENT_REKEY_NEEDED                          -> onRekeyAfterMessages(now, localIndex)
 *
 * Keepalive-only transmissions need not be reported: the dataplane sends keepalives only when this
 * machine asks, and the machine books them when it asks. Each call applies its event first, then fires
 * every timer due at `now`: an event seen by a late poll happened before `now`, so it may cancel a
 * timer that a strictly ordered clock would have let fire (never the other way round).
 */
import { InternalError, InvalidArgumentError, InvalidStateError } from '../errors.js';
import {
  MAX_TIMER_HANDSHAKES,
  KEEPALIVE_TIMEOUT_MS,
  REJECT_AFTER_TIME_MS,
  REKEY_AFTER_TIME_MS,
  REKEY_ON_RECEIVE_AFTER_TIME_MS,
  REKEY_TIMEOUT_JITTER_MAX_MS,
  REKEY_TIMEOUT_MS,
} from './constants.js';
import {
  DEAD_PATH_TIMEOUT_MS,
  MAX_PERSISTENT_KEEPALIVE_S,
  ZERO_KEYS_AFTER_MS,
  type HandshakeCompleteInfo,
  type InitiationReason,
  type KeepaliveReason,
  type KeypairInfo,
  type KeypairSlots,
  type PeerTimersOptions,
  type PendingDeadline,
  type TimerAction,
  type TimerName,
} from './timers-types.js';

export * from './timers-types.js';

type NamedTimer = Exclude<TimerName, 'keypair-expiry'>;
type Slot = 'previous' | 'current' | 'next';
interface Keypair {
  localIndex: number;
  createdAt: number;
  isInitiator: boolean;
  expired: boolean;
}

/** Fixed order for timers due at the same instant, so runs are reproducible. */
const TIMER_ORDER: readonly NamedTimer[] = [
  'zero-keys',
  'retransmit-handshake',
  'dead-path',
  'deferred-initiation',
  'passive-keepalive',
  'persistent-keepalive',
];
const SLOTS: readonly Slot[] = ['previous', 'current', 'next'];

export class PeerTimers {
  readonly #random: () => number;
  readonly #timers = new Map<NamedTimer, number>();
  readonly #slots: Partial<Record<Slot, Keypair>> = {};
  #now = Number.NEGATIVE_INFINITY;
  /** Initiations retried in this cycle; reset by every non-retry request, as in the spec's "new packet restarts". */
  #attempts = 0;
  /** Last initiation or response sent: both count for the once-per-REKEY_TIMEOUT limit. */
  #lastHandshakeSentAt: number | undefined;
  /** The receive-side rekey fires once per keypair generation. */
  #sentLastMinuteHandshake = false;
  #deferredReason: InitiationReason | undefined;
  #persistentKeepaliveMs = 0;

  readonly #rekeyAfterTimeMs: number;

  constructor(options: PeerTimersOptions = {}) {
    this.#random = options.random ?? Math.random;
    this.#rekeyAfterTimeMs = Math.max(REKEY_TIMEOUT_MS, options.rekeyAfterTimeMs ?? REKEY_AFTER_TIME_MS);
  }

  // ---- Inputs ----

  /** A non-keepalive transport packet went out (tx counters moved by more than keepalives). */
  onDataSent(now: number): TimerAction[] {
    return this.#run(now, (out) => {
      this.#anyAuthenticatedSent(now);
      // 6.5 dead path: sent data arms KEEPALIVE_TIMEOUT + REKEY_TIMEOUT unless already armed.
      if (!this.#timers.has('dead-path'))
        this.#timers.set('dead-path', now + DEAD_PATH_TIMEOUT_MS + this.#jitter());
      this.#keepKeyFreshSending(now, out);
    });
  }

  /** An authenticated transport packet (keepalive or data) arrived; use onDataReceived if any carried data. */
  onAuthenticatedReceived(now: number): TimerAction[] {
    return this.#run(now, (out) => this.#anyAuthenticatedReceived(now, out, true));
  }

  /**
   * sag multipath (not in WireGuard): every path to this sag peer stopped answering authenticated
   * probes. A peer that answers none has lost our session (it restarted) or is cut off on every
   * path; WireGuard would find out only from the dead-path timer, KEEPALIVE_TIMEOUT +
   * REKEY_TIMEOUT after unanswered data. Act as that timer would, now: a new initiation, still
   * at most one per REKEY_TIMEOUT, and none while one is being retransmitted.
   */
  onPathsDead(now: number): TimerAction[] {
    return this.#run(now, (out) => {
      if (this.#timers.has('retransmit-handshake')) return;
      this.#timers.delete('dead-path');
      this.#requestInitiation(now, 'dead-path', false, out);
    });
  }

  /** An authenticated transport packet with data (not only keepalives) arrived. */
  onDataReceived(now: number): TimerAction[] {
    return this.#run(now, (out) => {
      this.#anyAuthenticatedReceived(now, out, true);
      // 6.5 passive keepalive: received data must be answered within KEEPALIVE_TIMEOUT; armed once.
      if (!this.#timers.has('passive-keepalive'))
        this.#timers.set('passive-keepalive', now + KEEPALIVE_TIMEOUT_MS);
    });
  }

  /**
   * A session was derived: as initiator after consuming the response, as responder when sending the
   * response (call it then; it also books that response as a sent handshake message).
   */
  onHandshakeComplete(now: number, info: HandshakeCompleteInfo): TimerAction[] {
    const localIndex = checkIndex(info.localIndex);
    const taken = SLOTS.find((slot) => this.#slots[slot]?.localIndex === localIndex);
    if (taken) throw new InvalidStateError(`keypair index ${localIndex} is already in the ${taken} slot`);
    return this.#run(now, (out) => {
      // The initiation or response we just consumed was itself an authenticated packet received.
      this.#anyAuthenticatedReceived(now, out, false);
      const keypair: Keypair = {
        localIndex,
        createdAt: now,
        isInitiator: info.isInitiator === true,
        expired: false,
      };
      // 6.3 key rotation; 6.3 zeroing: a new session postpones erasure by 3 × REJECT_AFTER_TIME.
      this.#timers.set('zero-keys', now + ZERO_KEYS_AFTER_MS);
      this.#install(keypair, out);
      if (keypair.isInitiator) {
        this.#handshakeComplete();
        // 5.4.7: the responder may not send until it receives on the keypair, so prove it at once.
        if (info.hasStagedPackets !== true) this.#sendKeepalive(now, 'handshake-confirm', out);
      } else {
        // 6.4 rate limit: a response counts as a handshake message sent; it is authenticated traffic.
        this.#lastHandshakeSentAt = now;
        this.#anyAuthenticatedSent(now);
      }
    });
  }

  /** The dataplane saw the first packet on the responder's next keypair and made it current. */
  onKeypairConfirmed(now: number, localIndex: number): TimerAction[] {
    checkIndex(localIndex);
    return this.#run(now, (out) => {
      const next = this.#slots.next;
      if (next?.localIndex !== localIndex) return; // stale event: the keypair was replaced meanwhile
      this.#retire('previous', out);
      this.#slots.previous = this.#slots.current;
      this.#slots.current = next;
      delete this.#slots.next;
      // 6.4: key confirmation completes the handshake for the responder.
      this.#handshakeComplete();
    });
  }

  /** The dataplane staged packets because it has no usable keypair. */
  onStagedPackets(now: number): TimerAction[] {
    return this.#run(now, (out) => this.#requestInitiation(now, 'staged-packets', false, out));
  }

  /** The dataplane's send counter on `localIndex` passed REKEY_AFTER_MESSAGES. */
  onRekeyAfterMessages(now: number, localIndex?: number): TimerAction[] {
    return this.#run(now, (out) => {
      // 6.2 REKEY_AFTER_MESSAGES applies to whichever side sends; a signal for a replaced keypair is moot.
      if (localIndex !== undefined && this.#slots.current?.localIndex !== localIndex) return;
      this.#requestInitiation(now, 'rekey-after-messages', false, out);
    });
  }

  /** The Gateway wants a handshake (configuration, operator); rate limited like any other. */
  requestHandshake(now: number): TimerAction[] {
    return this.#run(now, (out) => this.#requestInitiation(now, 'requested', false, out));
  }

  /** Persistent keepalive in seconds (0 = off). Turning it on sends one at once, as wireguard-go does. */
  setPersistentKeepalive(now: number, seconds: number): TimerAction[] {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_PERSISTENT_KEEPALIVE_S) {
      throw new InvalidArgumentError(
        `persistent keepalive must be an integer 0..${MAX_PERSISTENT_KEEPALIVE_S} seconds, got ${seconds}`,
      );
    }
    return this.#run(now, (out) => {
      const wasOff = this.#persistentKeepaliveMs === 0;
      this.#persistentKeepaliveMs = seconds * 1000;
      if (seconds === 0) this.#timers.delete('persistent-keepalive');
      else if (wasOff) this.#sendKeepalive(now, 'persistent', out);
    });
  }

  /** Fires every timer due at `now`. */
  tick(now: number): TimerAction[] {
    return this.#run(now, () => {});
  }

  // ---- Observation ----

  /** The earliest instant at which tick() has something to do; undefined when nothing is pending. */
  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const d of this.pendingDeadlines()) if (min === undefined || d.at < min) min = d.at;
    return min;
  }

  pendingDeadlines(): PendingDeadline[] {
    const list: PendingDeadline[] = [];
    for (const name of TIMER_ORDER) {
      const at = this.#timers.get(name);
      if (at !== undefined) list.push({ name, at });
    }
    for (const slot of SLOTS) {
      const kp = this.#slots[slot];
      if (kp && !kp.expired)
        list.push({
          name: 'keypair-expiry',
          at: kp.createdAt + REJECT_AFTER_TIME_MS,
          localIndex: kp.localIndex,
        });
    }
    return list;
  }

  get keypairs(): KeypairSlots {
    const copy = (kp: Keypair | undefined): KeypairInfo | undefined =>
      kp ? Object.freeze({ ...kp }) : undefined;
    return {
      previous: copy(this.#slots.previous),
      current: copy(this.#slots.current),
      next: copy(this.#slots.next),
    };
  }

  /** Retransmissions in the current handshake cycle (0 after the first initiation). */
  get handshakeAttempts(): number {
    return this.#attempts;
  }

  // ---- Rules ----

  #run(now: number, event: (out: TimerAction[]) => void): TimerAction[] {
    if (typeof now !== 'number' || !Number.isFinite(now))
      throw new InvalidArgumentError(`now must be a finite number of milliseconds, got ${now}`);
    if (now < this.#now)
      throw new InvalidArgumentError(`now went backwards: ${now} < ${this.#now}; pass a monotonic clock`);
    this.#now = now;
    const out: TimerAction[] = [];
    event(out);
    this.#fireDue(now, out);
    return out;
  }

  #fireDue(now: number, out: TimerAction[]): void {
    // Every handler deletes its timer or re-arms it later than `now`, so this ends; the bound turns a
    // broken invariant into an error instead of a hung event loop.
    for (let fired = 0; ; fired++) {
      if (fired > 64) throw new InternalError(`peer timers did not settle at ${now}`);
      let due: PendingDeadline | undefined;
      for (const d of this.pendingDeadlines())
        if (d.at <= now && (due === undefined || d.at < due.at)) due = d;
      if (!due) return;
      if (due.name === 'keypair-expiry') this.#expire(due.localIndex!, out);
      else {
        this.#timers.delete(due.name);
        this.#expired(due.name, now, out);
      }
    }
  }

  #expired(name: NamedTimer, now: number, out: TimerAction[]): void {
    switch (name) {
      case 'retransmit-handshake':
        // 6.4: retry every REKEY_TIMEOUT; after REKEY_ATTEMPT_TIME / REKEY_TIMEOUT retries, give up.
        if (this.#attempts > MAX_TIMER_HANDSHAKES) {
          this.#timers.delete('passive-keepalive');
          out.push({ type: 'flush-staged' }, { type: 'handshake-failed', attempts: this.#attempts + 1 });
          // 6.3: erase the residue of the partial exchange later, unless a session already set the timer.
          if (!this.#timers.has('zero-keys')) this.#timers.set('zero-keys', now + ZERO_KEYS_AFTER_MS);
        } else {
          this.#attempts += 1;
          this.#requestInitiation(now, 'retransmit', true, out);
        }
        return;
      case 'passive-keepalive':
        // wireguard-go and Linux re-arm here if more data arrived meanwhile, but the keepalive's own
        // transmission then cancels that re-arm in both; we skip the flag and send one keepalive.
        this.#sendKeepalive(now, 'passive', out);
        return;
      case 'dead-path':
        // 6.5: nothing came back for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT after we sent data.
        this.#requestInitiation(now, 'dead-path', false, out);
        return;
      case 'zero-keys': {
        // 6.3: no new session for 3 × REJECT_AFTER_TIME: erase every key.
        const localIndices = SLOTS.flatMap((s) => (this.#slots[s] ? [this.#slots[s].localIndex] : []));
        for (const s of SLOTS) delete this.#slots[s];
        out.push({ type: 'zero-keys', localIndices });
        return;
      }
      case 'persistent-keepalive':
        // 6.5 persistent keepalive: traffic of any kind in either direction postpones it.
        if (this.#persistentKeepaliveMs > 0) this.#sendKeepalive(now, 'persistent', out);
        return;
      case 'deferred-initiation': {
        const reason = this.#deferredReason ?? 'requested';
        this.#deferredReason = undefined;
        this.#requestInitiation(now, reason, false, out);
        return;
      }
    }
  }

  /** 6.2 REJECT_AFTER_TIME: a keypair this old may neither send nor receive. */
  #expire(localIndex: number, out: TimerAction[]): void {
    for (const slot of SLOTS) {
      const kp = this.#slots[slot];
      if (kp?.localIndex === localIndex) kp.expired = true;
    }
    out.push({ type: 'expire-keypair', localIndex });
  }

  /** 6.4: at most one initiation per REKEY_TIMEOUT; a non-retry request restarts the attempt count. */
  #requestInitiation(now: number, reason: InitiationReason, isRetry: boolean, out: TimerAction[]): void {
    if (!isRetry) this.#attempts = 0;
    if (this.#lastHandshakeSentAt !== undefined && now - this.#lastHandshakeSentAt < REKEY_TIMEOUT_MS) {
      // Not in wireguard-go: the dataplane signals edge-triggered, so a request refused here would be
      // lost; when no retransmission will follow, send it when the limit allows.
      if (!isRetry && !this.#timers.has('retransmit-handshake')) {
        this.#deferredReason = reason;
        this.#timers.set('deferred-initiation', this.#lastHandshakeSentAt + REKEY_TIMEOUT_MS);
      }
      return;
    }
    this.#lastHandshakeSentAt = now;
    this.#timers.delete('deferred-initiation');
    this.#deferredReason = undefined;
    out.push({ type: 'send-initiation', reason, attempt: this.#attempts + 1 });
    this.#anyAuthenticatedSent(now);
    // 6.4: retransmit after REKEY_TIMEOUT plus jitter, so peers do not retry in lockstep.
    this.#timers.set('retransmit-handshake', now + REKEY_TIMEOUT_MS + this.#jitter());
  }

  #sendKeepalive(now: number, reason: KeepaliveReason, out: TimerAction[]): void {
    const current = this.#slots.current;
    if (!current || current.expired) {
      // A keepalive needs a session; wireguard-go stages it, and staging asks for a handshake.
      this.#requestInitiation(now, 'keepalive-without-session', false, out);
      return;
    }
    out.push({ type: 'send-keepalive', reason });
    this.#anyAuthenticatedSent(now);
    this.#keepKeyFreshSending(now, out);
  }

  /** 6.2 REKEY_AFTER_TIME: the initiator of the current session renews it when sending on an old one. */
  #keepKeyFreshSending(now: number, out: TimerAction[]): void {
    const current = this.#slots.current;
    if (current?.isInitiator && now - current.createdAt > this.#rekeyAfterTimeMs) {
      this.#requestInitiation(now, 'rekey-after-time', false, out);
    }
  }

  /** 6.2: the initiator also renews on receive at REJECT - KEEPALIVE - REKEY_TIMEOUT, once per session. */
  #keepKeyFreshReceiving(now: number, out: TimerAction[]): void {
    if (this.#sentLastMinuteHandshake) return;
    const current = this.#slots.current;
    if (current?.isInitiator && now - current.createdAt > REKEY_ON_RECEIVE_AFTER_TIME_MS) {
      this.#sentLastMinuteHandshake = true;
      this.#requestInitiation(now, 'rekey-on-receive', false, out);
    }
  }

  /** Any authenticated packet sent (data, keepalive, initiation, response). */
  #anyAuthenticatedSent(now: number): void {
    // 6.5: anything we send answers the peer, so the passive keepalive is no longer needed.
    this.#timers.delete('passive-keepalive');
    this.#traversal(now);
  }

  /** Any authenticated packet received; `transport` for data/keepalive (not handshake messages). */
  #anyAuthenticatedReceived(now: number, out: TimerAction[], transport: boolean): void {
    if (transport) this.#keepKeyFreshReceiving(now, out);
    this.#traversal(now);
    // 6.5: the peer answered, so the path is alive.
    this.#timers.delete('dead-path');
  }

  #traversal(now: number): void {
    if (this.#persistentKeepaliveMs > 0)
      this.#timers.set('persistent-keepalive', now + this.#persistentKeepaliveMs);
  }

  /** 6.4: a completed handshake stops retransmission and restarts the rekey bookkeeping. */
  #handshakeComplete(): void {
    this.#timers.delete('retransmit-handshake');
    this.#timers.delete('deferred-initiation');
    this.#deferredReason = undefined;
    this.#attempts = 0;
    this.#sentLastMinuteHandshake = false;
  }

  /** 6.3 rotation: the initiator's keypair is current at once; the responder's waits as next. */
  #install(kp: Keypair, out: TimerAction[]): void {
    if (kp.isInitiator) {
      const next = this.#slots.next;
      this.#retire('previous', out);
      if (next) this.#retire('current', out);
      this.#slots.previous = next ?? this.#slots.current;
      delete this.#slots.next;
      this.#slots.current = kp;
    } else {
      this.#retire('next', out);
      this.#retire('previous', out);
      this.#slots.next = kp;
    }
  }

  #retire(slot: Slot, out: TimerAction[]): void {
    const kp = this.#slots[slot];
    if (!kp) return;
    delete this.#slots[slot];
    out.push({ type: 'retire-keypair', localIndex: kp.localIndex });
  }

  #jitter(): number {
    const r = this.#random();
    const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
    // Uniform over 0..MAX-1 ms, as wireguard-go's rand.Int31n(REKEY_TIMEOUT_JITTER_MAX_MS).
    return Math.min(Math.floor(unit * REKEY_TIMEOUT_JITTER_MAX_MS), REKEY_TIMEOUT_JITTER_MAX_MS - 1);
  }
}

function checkIndex(localIndex: number): number {
  if (!Number.isInteger(localIndex) || localIndex < 1 || localIndex > 0xffffffff) {
    throw new InvalidArgumentError(`keypair index must be an integer 1..2^32-1, got ${localIndex}`);
  }
  return localIndex;
}
