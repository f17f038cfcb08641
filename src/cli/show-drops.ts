/**
 * The drop counters section of `sag show`: packets the dataplane refused, by reason, for the
 * interface and for each peer, read with the `sag-stats=1` UAPI extension (src/uapi/stats.ts).
 * A wireguard-go interface has no such counters: it closes the connection, and the section says
 * they are not available rather than failing the whole command.
 */
import { connect } from 'node:net';
import { SystemError } from '../errors.js';
import { parseStatsReply, STATS_OP, uapiSocketPath, type DropCounts, type UapiStats } from '../uapi/index.js';
import type { InterfaceJson } from './show.js';

/** The counters, or null when the interface does not serve them (not a sag interface). */
export function queryDrops(iface: string, path = uapiSocketPath(iface)): Promise<UapiStats | null> {
  return new Promise((resolve, reject) => {
    const sock = connect(path, () => sock.write(`${STATS_OP}\n\n`));
    let text = '';
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      fn();
    };
    sock.setTimeout(5000, () =>
      settle(() => reject(new SystemError(`no answer from ${iface} at ${path} within 5 s`))),
    );
    sock.on('data', (d) => {
      text += String(d);
      if (!/errno=-?\d+\n\n$/.test(text)) return;
      settle(() => {
        try {
          resolve(parseStatsReply(text));
        } catch {
          resolve(null); // an interface that refuses the request has no counters for us
        }
      });
    });
    sock.on('end', () => settle(() => resolve(null)));
    sock.on('error', (cause) =>
      settle(() => reject(new SystemError(`cannot query ${iface} at ${path}: ${cause.message}`, { cause }))),
    );
  });
}

export interface DropsJson {
  /** Every reason the dataplane counts, for the whole interface; null when not available. */
  drops: DropCounts | null;
}

/** The JSON of `sag show --json` with the drop counters added: `drops` on the interface and on each peer. */
export function withDrops(
  json: InterfaceJson,
  stats: UapiStats | null,
): InterfaceJson & DropsJson & { peers: (InterfaceJson['peers'][number] & DropsJson)[] } {
  const byPeer = new Map(stats?.peers.map((p) => [p.publicKey, p.drops]));
  return {
    ...json,
    drops: stats ? { ...stats.drops } : null,
    peers: json.peers.map((p) => ({ ...p, drops: stats ? { ...(byPeer.get(p.publicKey) ?? {}) } : null })),
  };
}

function nonZero(drops: DropCounts): string {
  const parts = Object.entries(drops)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, n]) => `${reason} ${n}`);
  return parts.length ? parts.join(', ') : 'none';
}

/** The human section, printed after the interface and its peers. */
export function dropsText(stats: UapiStats | null): string {
  if (!stats) return '\ndrops: not available (not a sag interface)\n';
  const lines = ['', 'drops (packets refused, by reason):', `  interface: ${nonZero(stats.drops)}`];
  for (const p of stats.peers) lines.push(`  peer ${p.publicKey}: ${nonZero(p.drops)}`);
  return `${lines.join('\n')}\n`;
}
