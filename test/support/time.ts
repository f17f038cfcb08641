/**
 * Time in tests: the harness wall clock, sleeping, and waiting for a condition.
 *
 * wallNow() is one clock for every harness process: wall-clock milliseconds with sub-millisecond
 * resolution (performance.timeOrigin + performance.now()). Processes in different namespaces on
 * one host share it, so a test's cut time compares with a sender's timestamps; Date.now() is too
 * coarse.
 */
import { performance } from 'node:perf_hooks';

export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `condition` until it holds or `ms` pass; returns whether it held. */
export async function waitFor(condition: () => boolean, ms = 3000, stepMs = 5): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (condition()) return true;
    await sleep(stepMs);
  }
  return condition();
}

/**
 * Polls an asynchronous `condition` (a status query, say) every `stepMs` until it holds; after
 * `timeoutMs` throws an error whose message `describe` writes (it may query the state once more).
 */
export async function waitUntil(
  condition: () => Promise<boolean>,
  timeoutMs: number,
  stepMs: number,
  describe: () => string | Promise<string>,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(await describe());
    await sleep(stepMs);
  }
}
