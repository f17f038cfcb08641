/** Validation of a peer's rate limit (native/core/token_bucket.h enforces it). */
import { InvalidArgumentError } from '../errors.js';
import { MAX_BURST, MAX_RATE } from '../native/facts.generated.js';
import type { RateLimit } from './types.js';
import { parseIntInRange } from '../util/parse.js';

/** The default burst: 50 ms of traffic at the rate, so TCP sees a shaper rather than a wall. */
const DEFAULT_BURST_SECONDS = 0.05;

/** null: no limit. The burst defaults to 50 ms at the rate, and at least 4 MTU-sized packets. */
export function parseRateLimit(value: unknown, mtu: number): Required<RateLimit> | null {
  if (value === null) return null;
  if (typeof value !== 'object')
    throw new InvalidArgumentError('rateLimit must be {bytesPerSecond, burstBytes?} or null');
  const { bytesPerSecond, burstBytes } = value as RateLimit;
  const rate = parseIntInRange(bytesPerSecond, 'rateLimit.bytesPerSecond', 1, MAX_RATE);
  const burst =
    burstBytes === undefined
      ? Math.min(MAX_BURST, Math.max(4 * mtu, Math.round(rate * DEFAULT_BURST_SECONDS)))
      : parseIntInRange(burstBytes, 'rateLimit.burstBytes', mtu, MAX_BURST);
  return { bytesPerSecond: rate, burstBytes: burst };
}

/** Mbit/s (the controller's unit) to bytes per second. */
export function mbpsToBytesPerSecond(mbps: number): number {
  return Math.round((mbps * 1_000_000) / 8);
}
