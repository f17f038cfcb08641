/**
 * How much of the controller one client may hold, and the defaults.
 *
 * Sizing: the defaults must admit a fleet of 10,000 agents, which is also what the
 * scale benchmark runs, spreading its simulated agents over 127.0.0.0/8 (each on
 * its own source address). An agent holds one long poll at a time, posts a status
 * report every 30 s and may open a second connection for that report while its
 * long poll waits: at most ~2 connections per agent, ~20,000 for the fleet.
 */

import { LONG_POLL_MAX_SEC } from '../../contract/version.js';

export interface ControllerLimits {
  /**
   * Time a client has to send a whole request, headers and body, ms. Default 30 s:
   * the largest body (64 KiB) still arrives over a 20 kbit/s link, and a status
   * report (a few KiB) over far worse; a client trickling its body byte by byte is
   * cut off instead of holding a connection and a parser for ever.
   */
  requestTimeoutMs: number;
  /**
   * A connection silent this long is closed, ms. Default 60 s: above the longest
   * legitimate silence, a long poll's wait (LONG_POLL_MAX_SEC), with room to spare.
   */
  connectionTimeoutMs: number;
  /**
   * Open connections in all. Default 32,768: the ~20,000 of 10,000 agents plus room
   * for reconnects and operators; beyond it new connections are closed at once.
   */
  maxConnections: number;
  /**
   * Open connections from one source (an IPv4 address, an IPv6 /64). Default 256:
   * the benchmark's agents hold ~2 each from their own 127/8 address, and a site
   * where ~100 agents share one NAT address still fits. Trusted proxies are exempt
   * (every client behind them shares their address); the total cap still holds.
   */
  maxConnectionsPerSource: number;
  /**
   * Status reports one device may post per minute; more get 429 with Retry-After.
   * Default 30: an agent reports every 30 s plus once after each configuration or
   * carrier change, so 30 leaves it ample room; 10,000 agents at the limit are
   * 5,000 reports/s, and even those write little (see STATUS_STORE_EVERY_MS).
   */
  statusReportsPerMinute: number;
  /**
   * A status report that says nothing new (same software and configuration, same
   * hub, same sessions, endpoints and path states: only counters, times and RTTs
   * moved) replaces the stored one at most this often per device, ms. Default 15 s:
   * every report of an agent on the default 30 s period is stored, a device
   * reporting faster writes no more often than that.
   */
  statusStoreEveryMs: number;
  /**
   * Long polls one principal (a device, an access point, an operator key) may have
   * waiting at once; more get 429. Default 2: an agent polls once at a time, and a
   * restarted agent may find its old poll still waiting on a connection its earlier
   * process left half open.
   */
  longPollsPerPrincipal: number;
}

export const DEFAULT_CONTROLLER_LIMITS: ControllerLimits = {
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 2 * LONG_POLL_MAX_SEC * 1000,
  maxConnections: 32_768,
  maxConnectionsPerSource: 256,
  statusReportsPerMinute: 30,
  statusStoreEveryMs: 15_000,
  longPollsPerPrincipal: 2,
};

/** The defaults with the given values; each must be a whole number >= 1. */
export function controllerLimits(given: Partial<ControllerLimits> = {}): ControllerLimits {
  const limits = { ...DEFAULT_CONTROLLER_LIMITS, ...given };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new RangeError(`controller limit ${name} must be a whole number >= 1, got ${String(value)}`);
  }
  if (limits.connectionTimeoutMs <= LONG_POLL_MAX_SEC * 1000)
    throw new RangeError(
      `controller limit connectionTimeoutMs must exceed the longest long poll (${LONG_POLL_MAX_SEC} s), or every waiting poll is cut off`,
    );
  return limits;
}
