/**
 * Full-tunnel routing as wg-quick(8) does it on Linux (its add_default): a default route for the
 * tunnel in a table of its own, used by every packet except those carrying the tunnel's fwmark
 * (the encrypted UDP of the gateway itself), while the main table still wins for anything more
 * specific than a default route (`suppress_prefixlength 0`), so the LAN and the endpoint's own
 * route stay reachable. Each step returns its own undo, which removes exactly what it added.
 */
import { writeFile } from 'node:fs/promises';
import { SystemError } from '../errors.js';
import { parseIntInRange } from '../util/parse.js';
import { addRoute, ip } from './link.js';

export type Family = 4 | 6;
export type Undo = () => Promise<void>;

/** wg-quick's first choice of table (and fwmark) when the file sets no FwMark. */
export const FIRST_AUTO_TABLE = 51820;

const familyFlag = (family: Family) => (family === 4 ? '-4' : '-6');
const checkTable = (table: number) => String(parseIntInRange(table, 'table', 1, 0xffffffff));

/** The first table from `start` up that holds no IPv4 or IPv6 route, as wg-quick picks it. */
export async function freeRouteTable(start = FIRST_AUTO_TABLE): Promise<number> {
  for (let table = start; table <= 0xffffffff; table++) {
    const t = checkTable(table);
    const [v4, v6] = await Promise.all(
      (['-4', '-6'] as const).map((f) => ip([f, 'route', 'show', 'table', t]).catch(() => '')),
    );
    if (!v4!.trim() && !v6!.trim()) return table;
  }
  throw new SystemError('no free routing table above 51820');
}

/** The two rules that send unmarked traffic to `table` yet let the main table's specific routes win. */
function rules(table: number): string[][] {
  const t = checkTable(table);
  return [
    ['not', 'fwmark', t, 'table', t],
    ['table', 'main', 'suppress_prefixlength', '0'],
  ];
}

/**
 * Routes `prefix` (0.0.0.0/0 or ::/0) into `table` through `dev` and adds the rules. The route goes
 * with the interface; the undo deletes the rules we added (one instance each: another tunnel's
 * identical suppress_prefixlength rule stays).
 */
export async function addDefaultRoute(dev: string, prefix: string, table: number): Promise<Undo> {
  const family: Family = prefix.includes(':') ? 6 : 4;
  await addRoute(dev, prefix, table, 'add');
  const added: string[][] = [];
  const undo = async () => {
    for (const r of added.splice(0).reverse()) await ip([familyFlag(family), 'rule', 'del', ...r]);
  };
  try {
    for (const r of rules(table)) {
      await ip([familyFlag(family), 'rule', 'add', ...r]);
      added.push(r);
    }
  } catch (err) {
    await undo().catch(() => {});
    throw err;
  }
  return undo;
}

/**
 * Lets reverse-path filtering honour the connmark restored onto the endpoint's replies (see
 * mark-firewall.ts). Like wg-quick, IPv4 only (IPv6 has no rp_filter) and left set afterwards:
 * other tunnels may rely on it.
 */
export async function enableSrcValidMark(): Promise<void> {
  const path = '/proc/sys/net/ipv4/conf/all/src_valid_mark';
  try {
    await writeFile(path, '1\n');
  } catch (cause) {
    throw new SystemError(`cannot set ${path}: ${(cause as Error).message}`, { cause });
  }
}
