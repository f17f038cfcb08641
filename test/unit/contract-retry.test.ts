/** The followers' backoff: doubling to a ceiling, ±20 % jitter, stretched to a controller's Retry-After. */
import test from 'ava';
import {
  ControllerRefusedError,
  ControllerUnreachableError,
  backoffMs,
  retryDelayMs,
} from '../../src/contract/index.js';

const POLICY = { initialMs: 500, maxMs: 10_000 };

test('1 doubles per failure up to maxMs; the jitter spans 0.8..1.2 of it', (t) => {
  const mid = (attempt: number) => backoffMs(attempt, POLICY, () => 0.5);
  t.deepEqual([1, 2, 3, 4, 5, 6, 7, 60].map(mid), [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  t.is(Math.round(backoffMs(1, POLICY, () => 0)), 400);
  t.is(Math.round(backoffMs(1, POLICY, () => 1)), 600);
});

test('2 a refusal with Retry-After waits at least that long; other errors just back off', (t) => {
  const refused = new ControllerRefusedError(429, 'ERR_RATE_LIMITED', 'slow down', 30);
  t.is(retryDelayMs(1, POLICY, refused), 30_000);
  const noHeader = new ControllerRefusedError(403, 'ERR_FORBIDDEN', 'no');
  t.true(retryDelayMs(1, POLICY, noHeader) <= 600);
  t.true(retryDelayMs(1, POLICY, new ControllerUnreachableError('down')) <= 600);
});
