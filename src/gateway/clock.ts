import { performance } from 'node:perf_hooks';
import type { Clock } from './types.js';

export const systemClock: Clock = {
  monotonicMs: () => performance.now(),
  unixMs: () => Date.now(),
};
