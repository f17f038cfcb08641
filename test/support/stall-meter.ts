/**
 * How much this process was kept from running during a measurement: a 1 ms timer chain notes each
 * wake-up later than `thresholdMs` past its due time (GC, CPU-bound work in the same process,
 * other processes holding both cores). A timing result from a window with little stall reflects
 * the code under test; one from a stalled window reflects the host, and a test can say so
 * instead of failing (or passing) on noise.
 */
import { performance } from 'node:perf_hooks';

export interface StallReport {
  /** Sum of lateness of late wake-ups, ms. */
  stalledMs: number;
  /** Longest single stall, ms. */
  maxMs: number;
  /** Wall time metered, ms. */
  windowMs: number;
}

export class StallMeter {
  readonly #threshold: number;
  readonly #t0 = performance.now();
  #due = this.#t0 + 1;
  #stalled = 0;
  #max = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(thresholdMs = 2) {
    this.#threshold = thresholdMs;
    this.#timer = setTimeout(this.#tick, 1);
  }

  readonly #tick = (): void => {
    const now = performance.now();
    this.#observe(now - this.#due);
    this.#due = now + 1;
    this.#timer = setTimeout(this.#tick, 1);
  };

  #observe(late: number): void {
    if (late > this.#threshold) this.#stalled += late;
    if (late > this.#max) this.#max = late;
  }

  report(): StallReport {
    return { stalledMs: this.#stalled, maxMs: this.#max, windowMs: performance.now() - this.#t0 };
  }

  /** Stops metering; a wake-up overdue right now counts too. */
  stop(): StallReport {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#observe(performance.now() - this.#due);
    }
    return this.report();
  }
}
