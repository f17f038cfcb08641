/**
 * The access point's configuration loop: long poll -> validate -> apply, space by
 * space, with retries.
 *
 *   refused     a configuration that fails validate-config.ts touches nothing; the
 *               reason goes to the log and the status, and it is fetched again
 *               after a backoff (a tampering in transit may pass, the controller's
 *               own configuration then applies)
 *   partial     some CCN spaces failed: the others hold the new configuration, the
 *               applied version stays the old one, and the configuration is applied
 *               again after a backoff that grows with each failed apply (bounded)
 *               and resets once every space succeeded; a newer configuration from
 *               the controller is applied at once
 *   unreachable the controller is down: keep what runs, retry with backoff
 */
import { EventEmitter } from 'node:events';
import type { AccessPointClient } from '../contract/client.js';
import type { AccessPointConfig } from '../contract/config.js';
import { CONFIG_VERSION_PATTERN } from '../contract/ids.js';
import { backoffMs, retryDelayMs, type RetryPolicy } from '../contract/retry.js';
import { ConfigRefusedError } from './errors.js';
import type { HubApplyResult, SpaceFailure } from './hub.js';
import { validateAccessPointConfig } from './validate-config.js';
import type { Logger } from '../util/logger.js';

export type { AccessPointClient } from '../contract/client.js';

/** Backoff while the controller cannot be asked or a configuration cannot be applied in full. */
const AP_RETRY: RetryPolicy = { initialMs: 500, maxMs: 10_000 };

export interface AccessPointEvents {
  'config:applied': [{ config: AccessPointConfig; changes: number }];
  /** Some spaces failed; `failures` name them. The configuration is retried. */
  'config:partial': [{ config: AccessPointConfig; failures: SpaceFailure[]; retryInMs: number }];
  /** Refused by validation (nothing applied) or by the applier as a whole. */
  'config:rejected': [{ version: string | null; error: Error }];
  'controller:unreachable': [{ error: Error; retryInMs: number }];
}

export type RetryOptions = Partial<RetryPolicy>;

export interface FollowerOptions {
  id: string;
  token: string;
  controller: AccessPointClient;
  hub: { apply(config: AccessPointConfig): Promise<HubApplyResult> };
  /** Seconds each long poll may wait (default 25). */
  longPollSec?: number;
  retry?: RetryOptions;
  logger: Logger;
}

/** What the loop knows beyond the applied configuration; part of the access point's status. */
export interface FollowState {
  /** A configuration received and validated but not applied in full, null when none. */
  pending: { version: string; failures: { ccnId: string; error: string; attempts: number }[] } | null;
  /** The last configuration refused since the last one accepted, null when none. */
  refused: { version: string | null; reason: string; atUnixMs: number } | null;
}

export class ConfigFollower extends EventEmitter<AccessPointEvents> {
  readonly #o: FollowerOptions;
  #stop = new AbortController();
  #loop: Promise<void> | undefined;
  /** The newest valid configuration; the one applied, or being applied and retried. */
  #target: AccessPointConfig | null = null;
  #applied = false;
  #failures: SpaceFailure[] = [];
  /** Applies of the target that did not succeed in full, in a row. */
  #failedApplies = 0;
  #retryAt: number | null = null;
  #refused: FollowState['refused'] = null;
  #refusals = 0;

  constructor(options: FollowerOptions) {
    super();
    this.#o = options;
  }

  start(): void {
    this.#stop = new AbortController();
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop?.catch(() => {});
  }

  state(): FollowState {
    const t = this.#target;
    return {
      pending:
        t === null || this.#applied
          ? null
          : {
              version: t.version,
              failures: this.#failures.map((f) => ({
                ccnId: f.ccnId,
                error: f.error.message,
                attempts: f.attempts,
              })),
            },
      refused: this.#refused === null ? null : { ...this.#refused },
    };
  }

  #policy(): RetryPolicy {
    return { ...AP_RETRY, ...this.#o.retry };
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    const longPollSec = this.#o.longPollSec ?? 25;
    let attempt = 0;
    while (!signal.aborted) {
      let pauseMs = 0;
      try {
        const after = this.#target?.version;
        // A pending retry bounds the wait, so it is not held up by a quiet controller.
        const waitSec =
          this.#retryAt === null
            ? longPollSec
            : Math.min(longPollSec, Math.max(0, Math.ceil((this.#retryAt - Date.now()) / 1000)));
        const answer = await this.#o.controller.getAccessPointConfig(this.#o.id, this.#o.token, {
          ...(after === undefined ? {} : { after, waitSec }),
          signal,
        });
        attempt = 0;
        if (answer.kind === 'config') pauseMs = await this.#receive(answer.config);
        else if (this.#retryAt !== null) {
          await sleep(this.#retryAt - Date.now(), signal);
          if (!signal.aborted) await this.#applyTarget();
        } else pauseMs = 200; // a controller ignoring `wait` must not be hammered
      } catch (error) {
        if (signal.aborted) break;
        attempt++;
        pauseMs = retryDelayMs(attempt, this.#policy(), error);
        this.#o.logger(
          'warn',
          `ap: controller: ${(error as Error).message}; keeping the current configuration, retrying in ${Math.round(pauseMs)} ms`,
        );
        this.emit('controller:unreachable', { error: error as Error, retryInMs: pauseMs });
      }
      if (pauseMs > 0) await sleep(pauseMs, signal);
    }
  }

  /** Validates, then applies; returns how long to pause before the next poll. */
  async #receive(raw: unknown): Promise<number> {
    let config: AccessPointConfig;
    try {
      config = validateAccessPointConfig(raw, this.#o.id);
    } catch (error) {
      if (!(error instanceof ConfigRefusedError)) throw error;
      const claimed = (raw as { version?: unknown } | null)?.version;
      const version = typeof claimed === 'string' && CONFIG_VERSION_PATTERN.test(claimed) ? claimed : null;
      this.#refused = { version, reason: error.message, atUnixMs: Date.now() };
      const pauseMs = backoffMs(++this.#refusals, this.#policy());
      this.#o.logger(
        'error',
        `ap: ${error.message}; nothing of it applied, the running configuration stays; fetching again in ${Math.round(pauseMs)} ms`,
      );
      this.emit('config:rejected', { version, error });
      return pauseMs;
    }
    this.#refused = null;
    this.#refusals = 0;
    this.#target = config;
    this.#applied = false;
    await this.#applyTarget();
    return 0;
  }

  async #applyTarget(): Promise<void> {
    const config = this.#target!;
    let result: HubApplyResult;
    try {
      result = await this.#o.hub.apply(config);
    } catch (error) {
      // Not one space's failure (e.g. the Gateway refused a peer): retried like one.
      result = {
        changes: [],
        failures: [{ ccnId: '*', error: error as Error, attempts: this.#failedApplies + 1 }],
      };
    }
    this.#failures = result.failures;
    if (result.failures.length === 0) {
      this.#applied = true;
      this.#failedApplies = 0;
      this.#retryAt = null;
      this.#o.logger(
        'info',
        `ap: configuration ${config.version.slice(0, 12)} applied (${result.changes.length} changes, ${config.peers.length} peers)`,
      );
      this.emit('config:applied', { config, changes: result.changes.length });
      return;
    }
    const retryInMs = backoffMs(++this.#failedApplies, this.#policy());
    this.#retryAt = Date.now() + retryInMs;
    for (const f of result.failures)
      this.#o.logger(
        'warn',
        `ap: configuration ${config.version.slice(0, 12)}: ${f.ccnId} failed (attempt ${f.attempts}): ${f.error.message}; the other CCNs are applied, retrying in ${Math.round(retryInMs)} ms`,
      );
    this.emit('config:partial', { config, failures: result.failures, retryInMs });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
