/** The lab's live status as a table: every branch as its access point sees it. */
import { table } from '../cli/operator/table.js';
import type { Lab } from './lab.js';
import { APS, BRANCHES } from './topology.js';

export function statusTable(lab: Lab, now = Date.now()): string {
  const rows: string[][] = [['BRANCH', 'CCN', 'AP', 'ENDPOINT', 'HANDSHAKE', 'LIMIT', 'RX', 'TX', 'DROPS']];
  for (const ap of APS) {
    const status = lab.apStatus(ap.id);
    for (const peer of status?.peers ?? []) {
      const branch = BRANCHES.find((b) => b.serial === peer.serial);
      const age =
        peer.lastHandshakeUnixMs > 0
          ? `${Math.max(0, Math.round((now - peer.lastHandshakeUnixMs) / 1000))} s ago`
          : 'none';
      const limit =
        peer.rateLimitBytesPerSecond === null
          ? '-'
          : `${((peer.rateLimitBytesPerSecond * 8) / 1e6).toFixed(0)} Mbit/s`;
      const drops =
        Object.entries(peer.drops)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || '-';
      rows.push([
        branch?.name ?? peer.serial,
        peer.ccnId,
        ap.id,
        peer.endpoint ?? '-',
        age,
        limit,
        bytes(peer.rxBytes),
        bytes(peer.txBytes),
        drops,
      ]);
    }
  }
  const ccns: string[][] = [['AP', 'CCN', 'NAMESPACE', 'TUN', 'VPCS', 'DENIED']];
  for (const ap of APS) {
    for (const c of lab.apStatus(ap.id)?.ccns ?? [])
      ccns.push([ap.id, c.ccnId, c.netns, c.tun, c.vpcs.join(',') || '-', String(c.denied)]);
  }
  return `${table(rows)}\n${table(ccns)}`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
