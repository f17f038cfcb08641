/** Pieces of the agent's status report (the report's shape and limits are the contract's). */
import { isIPv6 } from 'node:net';
import { STATUS_PATHS_MAX, STATUS_RTT_MAX_MS, type PathReport } from '../contract/status.js';
import type { Endpoint } from '../dataplane/types.js';
import type { PathStatus } from '../paths/types.js';

export function formatEndpoint(e: Endpoint): string {
  return isIPv6(e.address) ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/** An RTT the controller accepts: two decimals, null when unanswered or beyond a minute. */
export function reportedRtt(rttMs: number | null): number | null {
  return rttMs === null || rttMs > STATUS_RTT_MAX_MS ? null : Math.round(rttMs * 100) / 100;
}

/** A peer's multipath paths as reported: state, RTT, loss and whether each carries traffic. */
export function pathReports(paths: readonly PathStatus[]): PathReport[] {
  return paths.slice(0, STATUS_PATHS_MAX).map((p) => ({
    uplink: p.uplink,
    endpoint: formatEndpoint(p.endpoint),
    state: p.state,
    rttMs: reportedRtt(p.rttMs),
    lossPct: Math.min(100, Math.max(0, Math.round(p.lossPct * 100) / 100)),
    active: p.active,
  }));
}
