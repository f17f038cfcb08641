/**
 * Wakes long-polling configuration requests when the model changes.
 *
 * Two sources of news: the API's own writes call `notify` at once, and while
 * anyone waits, the store's model version is read every `checkMs` so a write by
 * another process on the same database (the CLI, a second controller) is noticed
 * too, just later.
 *
 * Writes that cannot change any compiled configuration (heartbeats: liveness is
 * not part of a configuration) are reported with `relevant: false`. They move the
 * version on without waking anyone, so a fleet of devices reporting status does not
 * make every waiting request recompile its configuration on each report.
 */
import type { ControllerStore } from '../store/index.js';

export interface Waiter {
  /** Resolves when a relevant change after `since` happened, the timeout passed, the signal fired or the feed closed. */
  promise: Promise<void>;
}

export class ModelChangeFeed {
  readonly #store: ControllerStore;
  readonly #checkMs: number;
  readonly #waiters = new Set<() => void>();
  /** Highest model version seen, relevant or not. */
  #seen = -1;
  /** Highest model version that may have changed a configuration. */
  #relevant = -1;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(store: ControllerStore, checkMs = 1000) {
    this.#store = store;
    this.#checkMs = checkMs;
  }

  /** The model is now at `version`; `relevant` says whether configurations may differ. */
  notify(version: number, relevant = true): void {
    // A version skipped over (another process wrote in between) may hide a relevant change.
    const gap = this.#seen >= 0 && version > this.#seen + 1;
    if (version > this.#seen) this.#seen = version;
    if ((relevant || gap) && version > this.#relevant) {
      this.#relevant = version;
      this.#wakeAll();
    }
  }

  /**
   * Waits for a relevant change after model version `since`. Returns at once if one
   * is already known, so a change between reading the state and calling this is not
   * missed.
   */
  wait(since: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    // The caller read a version we have not heard of: another process wrote it, and
    // waiters from before it must recompile too.
    if (since > this.#seen) this.notify(since, true);
    if (this.#closed || this.#relevant > since || signal?.aborted || timeoutMs <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(done);
        if (this.#waiters.size === 0) this.#stopChecking();
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
      this.#startChecking();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get waiting(): number {
    return this.#waiters.size;
  }

  /** Releases every waiter now and any that come later (the server is shutting down). */
  close(): void {
    this.#closed = true;
    this.#wakeAll();
  }

  #wakeAll(): void {
    for (const done of [...this.#waiters]) done();
  }

  #startChecking(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.#check(), this.#checkMs);
    this.#timer.unref();
  }

  #stopChecking(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #check(): Promise<void> {
    try {
      const version = (await this.#store.load()).version;
      // Not ours, so nothing says it is irrelevant.
      if (version > this.#seen) this.notify(version, true);
    } catch {
      // The store is failing; waiters time out and their next request reports the error.
    }
  }
}
