/**
 * Fixed-window attempt counters for unauthenticated endpoints (activation).
 *
 * In memory and per process on purpose: it needs no store writes on the hot path
 * of a guessing attack, and an activation code has 100 bits, so the limiter only
 * has to make online guessing pointless, not be exact. The cost of keeping it
 * simple: a controller restart resets the counters, and several controllers
 * behind one address each count on their own (N times the limit overall).
 *
 * Memory is bounded: a full table forgets its least recently used key, so a flood
 * of distinct keys (random serials from many sources) cannot grow it, and cannot
 * lock out everyone else either, as refusing new keys once full would. The cost:
 * such a flood can make the table forget a key's count, which then starts afresh.
 *
 * Source keys are `sourceKey(address)`: IPv6 sources count per /64.
 */
import { LruMap } from '../../util/lru.js';

export interface LimitRule {
  /** Attempts allowed per window. */
  attempts: number;
  windowMs: number;
}

export interface ActivationLimits {
  /** Attempts at activating one serial, from anywhere. Default 10 per 15 minutes. */
  perSerial: LimitRule;
  /** Attempts from one source address, for any serials. Default 30 per 15 minutes. */
  perSource: LimitRule;
}

export const DEFAULT_ACTIVATION_LIMITS: ActivationLimits = {
  perSerial: { attempts: 10, windowMs: 15 * 60 * 1000 },
  perSource: { attempts: 30, windowMs: 15 * 60 * 1000 },
};

interface Window {
  start: number;
  count: number;
}

export class AttemptLimiter {
  readonly #windows: LruMap<string, Window>;
  readonly #rule: LimitRule;

  constructor(rule: LimitRule, maxKeys = 100_000) {
    if (!(
      Number.isSafeInteger(rule.attempts) &&
      rule.attempts >= 1 &&
      Number.isSafeInteger(rule.windowMs) &&
      rule.windowMs >= 1
    )) {
      throw new RangeError(`a limit needs attempts >= 1 and windowMs >= 1, got ${JSON.stringify(rule)}`);
    }
    this.#rule = rule;
    this.#windows = new LruMap(maxKeys);
  }

  /** Counts one attempt for `key` at `now`; returns 0 if allowed, else milliseconds until it would be. */
  take(key: string, now: number): number {
    let w = this.#windows.get(key);
    if (w !== undefined && now - w.start >= this.#rule.windowMs) w = undefined;
    if (w === undefined) {
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
    }
    if (w.count >= this.#rule.attempts) return Math.max(1, w.start + this.#rule.windowMs - now);
    w.count++;
    return 0;
  }

  get size(): number {
    return this.#windows.size;
  }
}

/**
 * What each key holds at once (long polls per principal). Only keys holding
 * something are tracked, so the table is bounded by the requests in flight.
 */
export class ConcurrencyLimiter {
  readonly #held = new Map<string, number>();
  readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** Takes a slot for `key`: the function that gives it back, or undefined when `key` holds `max`. */
  enter(key: string): (() => void) | undefined {
    const held = this.#held.get(key) ?? 0;
    if (held >= this.max) return undefined;
    this.#held.set(key, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#held.get(key) ?? 1) - 1;
      if (left > 0) this.#held.set(key, left);
      else this.#held.delete(key);
    };
  }

  get size(): number {
    return this.#held.size;
  }
}
