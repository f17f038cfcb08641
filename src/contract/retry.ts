/**
 * How a follower of the controller waits between failed attempts: exponential
 * backoff with ±20 % jitter (so a fleet that lost the controller together does
 * not come back in step), never shorter than a Retry-After the controller gave.
 */
import { ControllerRefusedError } from './errors.js';

export interface RetryPolicy {
  /** First delay, ms; doubles per failed attempt. */
  initialMs: number;
  /** Longest delay, ms (before jitter). */
  maxMs: number;
}

/** Delay before attempt `attempt + 1`, after `attempt` (>= 1) failures in a row. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt - 1, 30));
  return base * (0.8 + random() * 0.4);
}

/** The backoff, stretched to the controller's Retry-After when it refused with one (429). */
export function retryDelayMs(attempt: number, policy: RetryPolicy, error: unknown): number {
  const delay = backoffMs(attempt, policy);
  return error instanceof ControllerRefusedError ? Math.max(delay, (error.retryAfterSec ?? 0) * 1000) : delay;
}
