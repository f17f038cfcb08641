/**
 * nftables impairments inside a network namespace (root only), for links this kernel cannot
 * netem: a blackhole (every IP packet through an interface dropped while the link stays up, so
 * nothing sees a carrier change) and random loss (`numgen random mod 100 < N drop`).
 *
 * Each impairment is its own table, so removing one is `delete table` and never disturbs another
 * (or the project's own rules). Chains hook prerouting and postrouting at raw priority, which
 * covers traffic to, from and through the namespace, before conntrack sees it. ARP is not IP and
 * still passes: neighbours stay resolved, as on a real path that silently eats packets.
 *
 * Rulesets go through a file (`nft -f FILE`): under Node's spawn, nft cannot read "-" (stdin).
 * The binary is called by absolute path: node_modules/.bin has an unrelated "nft" that would win
 * on a PATH with node_modules/.bin first (npm scripts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NFT = '/usr/sbin/nft';
const PREFIX = 'sag_imp_';

/** 'in': packets arriving on the interface; 'out': leaving by it; 'both'. */
export type NftDirection = 'in' | 'out' | 'both';

export interface NftImpairment {
  readonly ns: string | undefined;
  readonly table: string;
  /** Packets dropped by this impairment's rules so far. */
  dropped(): number;
  /** Deletes the table; idempotent. */
  remove(): void;
}

function run(ns: string | undefined, args: string[]): string {
  const [file, argv] = ns ? ['ip', ['netns', 'exec', ns, NFT, ...args]] : [NFT, args];
  try {
    return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(
      `nft ${args.join(' ')}${ns ? ` in ${ns}` : ''} failed: ${err.stderr?.trim() || err.message}`,
    );
  }
}

/** Loads a ruleset with `nft -f` from a temporary file. `ns` undefined means this namespace. */
export function nftApply(ns: string | undefined, ruleset: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'sag-nft-'));
  try {
    const file = join(dir, 'rules.nft');
    writeFileSync(file, ruleset);
    run(ns, ['-f', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let counter = 0;
function tableName(kind: string, iface: string): string {
  // nft identifiers: a letter, then letters, digits, underscores; interface names may have - and .
  return `${PREFIX}${kind}_${iface.replace(/[^A-Za-z0-9_]/g, '_')}_${process.pid.toString(36)}${(counter++).toString(36)}`;
}

function quoteIface(iface: string): string {
  if (!/^[A-Za-z0-9_.@-]{1,15}$/.test(iface)) throw new Error(`bad interface name "${iface}"`);
  return `"${iface}"`;
}

function install(
  ns: string | undefined,
  kind: string,
  iface: string,
  dir: NftDirection,
  match: string,
): NftImpairment {
  if (dir !== 'in' && dir !== 'out' && dir !== 'both') throw new Error(`bad direction "${String(dir)}"`);
  const table = tableName(kind, iface);
  const q = quoteIface(iface);
  const chains: string[] = [];
  if (dir !== 'out')
    chains.push(
      `  chain in { type filter hook prerouting priority raw; policy accept; iifname ${q} ${match} counter drop; }`,
    );
  if (dir !== 'in')
    chains.push(
      `  chain out { type filter hook postrouting priority raw; policy accept; oifname ${q} ${match} counter drop; }`,
    );
  nftApply(ns, `table inet ${table} {\n${chains.join('\n')}\n}\n`);
  let removed = false;
  return {
    ns,
    table,
    dropped: () => (removed ? 0 : nftDropped(ns, table)),
    remove: () => {
      if (removed) return;
      removed = true;
      run(ns, ['delete', 'table', 'inet', table]);
    },
  };
}

/** Drops every IP packet through `iface` (the link stays up) until remove(). */
export function nftBlackhole(
  ns: string | undefined,
  iface: string,
  dir: NftDirection = 'both',
): NftImpairment {
  return install(ns, 'bh', iface, dir, '');
}

/** Drops `pct` percent (integer 0–100) of IP packets through `iface`, at random, until remove(). */
export function nftLoss(
  ns: string | undefined,
  iface: string,
  pct: number,
  dir: NftDirection = 'both',
): NftImpairment {
  if (!Number.isInteger(pct) || pct < 0 || pct > 100)
    throw new Error('loss percent must be an integer 0..100 (numgen mod 100)');
  return install(ns, 'loss', iface, dir, `numgen random mod 100 < ${pct}`);
}

/** Sum of the packet counters of a table's rules (from `nft -j`). */
export function nftDropped(ns: string | undefined, table: string): number {
  const out = JSON.parse(run(ns, ['-j', 'list', 'table', 'inet', table])) as {
    nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[];
  };
  let n = 0;
  for (const item of out.nftables) for (const e of item.rule?.expr ?? []) n += e.counter?.packets ?? 0;
  return n;
}

/** Deletes every impairment table in a namespace (a safety net for teardown; deleting the namespace also does). */
export function nftRemoveAll(ns: string | undefined): number {
  const out = JSON.parse(run(ns, ['-j', 'list', 'tables'])) as {
    nftables: { table?: { family: string; name: string } }[];
  };
  let n = 0;
  for (const item of out.nftables) {
    const t = item.table;
    if (t && t.name.startsWith(PREFIX)) {
      run(ns, ['delete', 'table', t.family, t.name]);
      n++;
    }
  }
  return n;
}
