/**
 * Which status reports are worth a database write. Counters, handshake times and
 * RTTs move on every report; what an operator acts on (which software and
 * configuration run, which hub carries the traffic, which sessions exist, which
 * paths are up) changes rarely. A report whose gist matches the stored one's need
 * not replace it until it is `everyMs` old.
 */
import type { DeviceStatusReport } from '../../contract/status.js';

/** The parts of a report that are news when they change, as one comparable string. */
export function statusGist(report: DeviceStatusReport): string {
  return JSON.stringify([
    report.softwareVersion ?? null,
    report.configVersion,
    report.accessPointId,
    report.peers.map((p) => [
      p.accessPointId,
      p.publicKey,
      p.endpoint,
      p.lastHandshakeUnixMs > 0,
      (p.paths ?? []).map((path) => [path.uplink, path.endpoint, path.state, path.active]),
    ]),
  ]);
}

/** True when `report` should replace the stored record (none, stale, or different in gist). */
export function worthStoring(
  report: DeviceStatusReport,
  stored: { receivedAt: number; report: Record<string, unknown> } | undefined,
  at: number,
  everyMs: number,
): boolean {
  return (
    stored === undefined ||
    at - stored.receivedAt >= everyMs ||
    // Behind: a clock step back must not freeze the record until the clock catches up.
    at < stored.receivedAt ||
    statusGist(stored.report as unknown as DeviceStatusReport) !== statusGist(report)
  );
}
