/** Public types of the device agent. */
import type { ControllerClient } from '../contract/client.js';
import type { DeviceConfig } from '../contract/config.js';
import type { ControllerRefusedError } from '../contract/errors.js';
import type { RetryPolicy } from '../contract/retry.js';
import type { DeviceStatusReport } from '../contract/status.js';
import type { Gateway } from '../gateway/index.js';
import type { ProbeResult, Prober } from './probe.js';
import type { UplinkBinding } from './uplinks.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';

/** Builds the agent's Gateway around the private key from the state directory. */
export type GatewayFactory = (options: { privateKey: string }) => Gateway;

export interface AgentOptions {
  /** Directory for the private key, the identity and the last good configuration (created 0700). */
  stateDir: string;
  controller: ControllerClient;
  gatewayFactory: GatewayFactory;
  /** Monotonic time for RTTs, Unix time for timestamps; the system clocks by default. */
  clock?: Clock;
  /** Replaces the WireGuard-handshake probe (see probe.ts); gets the running Gateway. */
  prober?: (gateway: Gateway) => Prober;
  /** Reported to the controller with each status report. */
  softwareVersion?: string;
  /** Seconds each long poll may wait at the controller (default 25, at most 30). */
  longPollSec?: number;
  /** Status report period, ms (default 30 000). */
  statusIntervalMs?: number;
  /** How long a probe round waits for answers, ms (default 2 000). */
  probeTimeoutMs?: number;
  /** Re-probe period, ms (default 300 000; 0: only when the hubs change or the active one fails). */
  reprobeIntervalMs?: number;
  /** Backoff while the controller is unreachable: doubles from initialMs to maxMs, ±20 % jitter. */
  retry?: Partial<RetryPolicy>;
  /**
   * A re-probe moves traffic only to a hub faster than the active one by more than
   * this (ratio of the active RTT plus ms), so two similar hubs do not flap.
   * Default { ratio: 0.2, ms: 5 }.
   */
  switchMargin?: { ratio: number; ms: number };
  /**
   * Where the configuration's uplinks are on this device, by uplink name (multipath). A compiled
   * uplink not named here is skipped; with none given the agent uses the Gateway's one socket.
   */
  uplinks?: Readonly<Record<string, UplinkBinding>>;
  logger?: Logger;
}

export type SelectReason = 'default' | 'probe' | 'forced' | 'failover';

export interface AgentEvents {
  /** A configuration now runs on the Gateway: from the controller, or from disk at start. */
  'config:applied': [{ config: DeviceConfig; source: 'controller' | 'disk'; changes: number }];
  /** A configuration was not applied (not for this device or key, or the Gateway refused it). */
  'config:rejected': [{ version: string; error: Error }];
  /** The controller could not be asked; the agent keeps running its current configuration. */
  'controller:unreachable': [{ error: Error; attempt: number; retryInMs: number }];
  /** The controller answers again after being unreachable. */
  'controller:reachable': [{ downMs: number }];
  /** The controller answered with a refusal (token revoked, device unbound, ...); retried with backoff. */
  'controller:refused': [{ error: ControllerRefusedError; retryInMs: number }];
  /** Traffic now goes through this hub (null: none). */
  'ap:selected': [
    { accessPointId: string | null; previous: string | null; reason: SelectReason; rttMs: number | null },
  ];
  'probe:completed': [{ results: ProbeResult[] }];
  'status:reported': [{ report: DeviceStatusReport }];
}
