/** Time as the state machines see it: passed in, never read from the system directly. */
import { performance } from 'node:perf_hooks';

/** Two clocks: monotonic milliseconds for timers, Unix milliseconds for TAI64N and cookies. */
export interface Clock {
  monotonicMs(): number;
  unixMs(): number;
}

export const systemClock: Clock = {
  monotonicMs: () => performance.now(),
  unixMs: () => Date.now(),
};
