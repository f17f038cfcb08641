/**
 * `sag-stats=1`: a sag extension of the userspace API that reports packet drop counters by reason,
 * for the interface as a whole and per peer. wireguard-go does not know the operation and closes
 * the connection without a reply, which tells a client the interface is not a sag one.
 *
 *   request: "sag-stats=1\n\n"
 *   reply:   "drop_REASON=N\n"...            the interface's counters (every reason the dataplane has)
 *            "public_key=HEX\n" "drop_REASON=N\n"...   once per peer
 *            "errno=0\n\n"
 *
 * REASON is the dataplane's drop reason name as sag.h spells it (bad_auth, replay, ...), in its
 * index order. A reader must ignore reasons it does not know, so a newer dataplane can add some.
 */
import { DROP_REASONS } from '../native/facts.generated.js';
import { decodeKey, encodeKey } from '../wg/crypto.js';
import { Errno, UapiError } from './errors.js';

export const STATS_OP = 'sag-stats=1';

export type DropCounts = Record<string, number>;

export interface UapiStats {
  readonly drops: DropCounts;
  readonly peers: readonly { readonly publicKey: string; readonly drops: DropCounts }[];
}

function dropLines(drops: DropCounts): string {
  return DROP_REASONS.filter((reason) => drops[reason] !== undefined)
    .map((reason) => `drop_${reason}=${drops[reason]}\n`)
    .join('');
}

export function formatStatsReply(stats: UapiStats): string {
  let out = dropLines(stats.drops);
  for (const p of stats.peers)
    out += `public_key=${Buffer.from(decodeKey(p.publicKey)).toString('hex')}\n${dropLines(p.drops)}`;
  return `${out}errno=0\n\n`;
}

/** Parses a complete reply (through its blank line); throws UapiError on errno != 0 or a bad line. */
export function parseStatsReply(text: string): UapiStats {
  const drops: DropCounts = {};
  const peers: { publicKey: string; drops: DropCounts }[] = [];
  let into = drops;
  for (const line of text.split('\n')) {
    if (line === '') break;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (eq < 0)
      throw new UapiError(Errno.EPROTO, `bad line in a stats reply: ${JSON.stringify(line.slice(0, 80))}`);
    if (key === 'errno') {
      if (value !== '0')
        throw new UapiError(
          Number(value) || Errno.EPROTO,
          `the interface refused the stats request (errno=${value})`,
        );
      return { drops, peers };
    }
    if (key === 'public_key') {
      if (!/^[0-9a-f]{64}$/.test(value))
        throw new UapiError(Errno.EPROTO, `bad public_key in a stats reply: ${value.slice(0, 80)}`);
      const peer = { publicKey: encodeKey(Buffer.from(value, 'hex')), drops: {} };
      peers.push(peer);
      into = peer.drops;
    } else if (key.startsWith('drop_') && /^\d+$/.test(value)) {
      into[key.slice(5)] = Number(value);
    }
    // Anything else: a newer sag's field; ignored.
  }
  throw new UapiError(Errno.EPROTO, 'the stats reply ended before its errno line');
}
