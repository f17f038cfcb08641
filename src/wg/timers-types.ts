/**
 * Types and derived constants of the per-peer timer state machine (see timers.ts). Kept apart so the
 * Gateway can import the action union without the machine, and so timers.ts stays one screenful of rules.
 */
import { KEEPALIVE_TIMEOUT_MS, REJECT_AFTER_TIME_MS, REKEY_TIMEOUT_MS } from './constants.js';

// ---- Specification values not (yet) in constants.ts; derived from it, so they cannot drift ----

/** Whitepaper 6.3: with no new session for 3 × REJECT_AFTER_TIME, all key material is erased. */
export const ZERO_KEYS_AFTER_MS = 3 * REJECT_AFTER_TIME_MS;
/** Whitepaper 6.5: data sent and nothing received for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT means the path is dead. */
export const DEAD_PATH_TIMEOUT_MS = KEEPALIVE_TIMEOUT_MS + REKEY_TIMEOUT_MS;
/** The UAPI `persistent_keepalive_interval` is a 16-bit number of seconds. */
export const MAX_PERSISTENT_KEEPALIVE_S = 65_535;

/** Why the machine wants a handshake initiation sent; for logs and path policy (dead-path, retransmit). */
export type InitiationReason =
  | 'staged-packets' // the dataplane holds packets and has no usable keypair
  | 'keepalive-without-session' // a keepalive was due but no current keypair can carry it
  | 'rekey-after-time' // sent on an initiator keypair older than REKEY_AFTER_TIME
  | 'rekey-on-receive' // received on an initiator keypair older than REJECT - KEEPALIVE - REKEY_TIMEOUT
  | 'rekey-after-messages' // the dataplane passed REKEY_AFTER_MESSAGES on the current keypair
  | 'retransmit' // no response within REKEY_TIMEOUT + jitter
  | 'dead-path' // data sent, nothing received for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT
  | 'requested'; // the Gateway asked (configuration change, operator)

export type KeepaliveReason =
  | 'passive' // data received, nothing sent back for KEEPALIVE_TIMEOUT
  | 'persistent' // the configured persistent keepalive interval passed with no traffic
  | 'handshake-confirm'; // the initiator proves the new keypair to the responder at once

/**
 * What the Gateway must do. The machine has already accounted for each action as done at the `now`
 * of the call that returned it (an initiation counts as sent for the rate limit and the retransmit
 * timer), so the Gateway must carry actions out promptly and must not report them back as inputs.
 */
export type TimerAction =
  /** Create an initiation with the Noise handshake (it replaces any one in flight) and send it. */
  | { readonly type: 'send-initiation'; readonly reason: InitiationReason; readonly attempt: number }
  /** Ask the dataplane to send a keepalive on the current keypair. */
  | { readonly type: 'send-keepalive'; readonly reason: KeepaliveReason }
  /** The keypair reached REJECT_AFTER_TIME: it may neither send nor receive (dataplane expireKeypair). */
  | { readonly type: 'expire-keypair'; readonly localIndex: number }
  /** The keypair left every slot: retire it in the dataplane if still there and free its index. */
  | { readonly type: 'retire-keypair'; readonly localIndex: number }
  /** 3 × REJECT_AFTER_TIME without a new session: retire these keypairs, clear the handshake, drop staged packets. */
  | { readonly type: 'zero-keys'; readonly localIndices: readonly number[] }
  /** Drop the packets staged for this peer: no session is coming. */
  | { readonly type: 'flush-staged' }
  /** Handshake attempts exhausted: the peer is down until new traffic or configuration asks again. */
  | { readonly type: 'handshake-failed'; readonly attempts: number };

export type TimerActionType = TimerAction['type'];

/** A keypair as the timers see it: which slot, how old, who initiated it. */
export interface KeypairInfo {
  readonly localIndex: number;
  /** The monotonic `now` at which the session was derived (not the Unix time of noise.ts). */
  readonly createdAt: number;
  readonly isInitiator: boolean;
  /** REJECT_AFTER_TIME passed and `expire-keypair` was emitted. */
  readonly expired: boolean;
}

export interface KeypairSlots {
  readonly previous?: KeypairInfo;
  readonly current?: KeypairInfo;
  readonly next?: KeypairInfo;
}

export interface HandshakeCompleteInfo {
  /** True when we sent the initiation and just consumed the response. */
  readonly isInitiator: boolean;
  /** Our receiver index of the new keypair (TransportKeypair.localIndex). */
  readonly localIndex: number;
  /**
   * The dataplane holds staged packets for the peer (peerInfo().stagedPackets > 0). Their flush
   * confirms the keypair to the responder, so the initiator's confirming keepalive is skipped.
   */
  readonly hasStagedPackets?: boolean;
}

export interface PeerTimersOptions {
  /** Uniform in [0, 1); jitter of REKEY_TIMEOUT. Defaults to Math.random; tests inject a fixed one. */
  readonly random?: () => number;
  /**
   * Test and lab option: rekey a sending initiator keypair after this many ms instead of
   * REKEY_AFTER_TIME (120 s), to exercise rotation under traffic in seconds. Clamped to at least
   * REKEY_TIMEOUT so handshakes cannot stack up. Every other timer keeps its specified value.
   */
  readonly rekeyAfterTimeMs?: number;
}

/** The named timers; keypair expiries are computed from the slots and reported as 'keypair-expiry'. */
export type TimerName =
  | 'retransmit-handshake'
  | 'passive-keepalive'
  | 'dead-path'
  | 'zero-keys'
  | 'persistent-keepalive'
  | 'deferred-initiation'
  | 'keypair-expiry';

export interface PendingDeadline {
  readonly name: TimerName;
  readonly at: number;
  /** Set for 'keypair-expiry'. */
  readonly localIndex?: number;
}
