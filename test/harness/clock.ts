/**
 * One clock for every harness process: wall-clock milliseconds with sub-millisecond resolution
 * (performance.timeOrigin + performance.now()). Processes in different namespaces on one host
 * share it, so a test's cut time compares with a sender's timestamps; Date.now() is too coarse.
 */
import { performance } from 'node:perf_hooks';

export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}
