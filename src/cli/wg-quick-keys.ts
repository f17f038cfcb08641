/**
 * The wg-quick(8) keys `sag up` honours beyond the device itself, each done as wg-quick does it on
 * Linux: routes by `Table` (off: none; auto or unset: the main table, a /0 through policy routing;
 * a number or name: every allowed IP into that table), and `DNS` through resolvconf. Whatever is
 * added leaves an undo on an UndoStack; what sag up cannot do is said, never skipped in silence.
 */
import type { WgQuickConfig } from '../config/index.js';
import { SystemError } from '../errors.js';
import { formatCidr, formatIp, type Cidr } from '../net/cidr.js';
import { addRoute, interfaceAddresses, routeCovers } from '../net/link.js';
import { addMarkFirewall } from '../net/mark-firewall.js';
import { addDefaultRoute, enableSrcValidMark, freeRouteTable, type Undo } from '../net/policy-routing.js';
import { addDns } from '../net/resolvconf.js';
import { findExecutable } from '../util/command.js';
import type { Logger } from '../util/logger.js';

/** Undo steps, run last-in first-out; a failing step is logged and the rest still run. */
export class UndoStack {
  readonly #steps: { what: string; undo: Undo }[] = [];

  push(what: string, undo: Undo): void {
    this.#steps.push({ what, undo });
  }

  /** Runs and empties the stack; resolves with the first error (after running every step). */
  async run(log: Logger): Promise<unknown> {
    let first: unknown;
    for (const { what, undo } of this.#steps.splice(0).reverse()) {
      try {
        await undo();
      } catch (err) {
        log('error', `cannot remove ${what}: ${(err as Error).message}`);
        first ??= err;
      }
    }
    return first;
  }
}

/** Table as wg-quick compares it: exactly "off" or "auto" (or unset), else a table for ip(8). */
function tableMode(config: WgQuickConfig): 'off' | 'auto' | 'table' {
  const t = config.interface.table;
  return t === 'off' ? 'off' : t === undefined || t === 'auto' ? 'auto' : 'table';
}

const isDefault = (c: Cidr) => c.prefix === 0;

/**
 * A full tunnel (a /0 allowed IP with Table auto) needs a table of its own whose number is also the
 * fwmark on the gateway's sockets: the file's FwMark if set, else the first free table from 51820
 * (wg-quick's add_default). Known before the gateway starts, so its sockets are marked from birth.
 */
export async function fullTunnelTable(config: WgQuickConfig): Promise<number | undefined> {
  if (tableMode(config) !== 'auto' || !config.peers.some((p) => p.allowedIps.some(isDefault)))
    return undefined;
  return config.interface.fwMark || (await freeRouteTable());
}

/**
 * Routes for every peer's allowed IPs, in wg-quick's order (which orders the nftables tables too).
 * Main-table routes already covered by one through the interface (an address's own) are skipped,
 * and a prefix routed elsewhere is an error, not taken over: wg-quick's `ip route add`.
 */
export async function addRoutes(
  config: WgQuickConfig,
  iface: string,
  policyTable: number | undefined,
  undo: UndoStack,
): Promise<void> {
  const mode = tableMode(config);
  if (mode === 'off') return;
  const byText = new Map<string, Cidr>();
  for (const p of config.peers) for (const c of p.allowedIps) byText.set(formatCidr(c), c);
  // `sort -nr -k 2 -t /`: longest prefix first, ties by the whole text, descending (::/0 first).
  const order = [...byText].sort(
    ([ta, a], [tb, b]) => b.prefix - a.prefix || (ta < tb ? 1 : ta > tb ? -1 : 0),
  );
  for (const [text, cidr] of order) {
    if (mode === 'table') await addRoute(iface, text, config.interface.table, 'add');
    else if (isDefault(cidr)) await addFullTunnel(iface, cidr, policyTable!, undo);
    else if (!(await routeCovers(iface, text))) await addRoute(iface, text, undefined, 'add');
  }
}

async function addFullTunnel(iface: string, cidr: Cidr, table: number, undo: UndoStack): Promise<void> {
  const text = formatCidr(cidr);
  undo.push(`the policy rules for ${text} (table ${table})`, await addDefaultRoute(iface, text, table));
  if (cidr.family === 4) await enableSrcValidMark();
  const nft = findExecutable('nft');
  if (!nft) {
    throw new SystemError(
      'nft (nftables) is not installed: the full-tunnel connmark and anti-spoofing rules wg-quick adds cannot be added (install nftables, or set Table = off and route it yourself)',
    );
  }
  const addresses = await interfaceAddresses(iface, cidr.family);
  const family = cidr.family === 4 ? 'ip' : 'ip6';
  undo.push(
    `nftables table ${family} wg-quick-${iface}`,
    await addMarkFirewall(nft, iface, cidr.family, table, addresses),
  );
}

/** DNS through resolvconf when it is installed; without it a warning (wg-quick would fail). */
export async function addDnsServers(
  config: WgQuickConfig,
  iface: string,
  log: Logger,
  undo: UndoStack,
): Promise<void> {
  const { dns, dnsSearch } = config.interface;
  if (dns.length === 0) {
    if (dnsSearch.length)
      log(
        'warn',
        `${config.file}: DNS search domains without a nameserver are not applied (${dnsSearch.join(' ')}), as with wg-quick`,
      );
    return;
  }
  const servers = dns.map(formatIp);
  const resolvconf = findExecutable('resolvconf');
  if (!resolvconf) {
    log(
      'warn',
      `${config.file}: DNS = ${[...servers, ...dnsSearch].join(', ')} not applied: resolvconf is not installed (wg-quick would refuse to come up)`,
    );
    return;
  }
  undo.push(`the DNS servers of ${iface}`, await addDns(resolvconf, iface, servers, dnsSearch));
}

/** What sag up parses but does not do (fully), as warnings. */
export function unsupportedKeyWarnings(config: WgQuickConfig, policyTable: number | undefined): string[] {
  const out: string[] = [];
  if (config.interface.saveConfig)
    out.push(
      `${config.file}: SaveConfig = true is not supported by sag up: the file is not rewritten at shutdown`,
    );
  // Only the listening socket takes the fwmark; multipath uplink sockets are opened without it.
  if (policyTable !== undefined && config.uplinks.length)
    out.push(
      `${config.file}: with a full tunnel only the listening socket carries fwmark ${policyTable}; the [Uplink] sockets do not, so their probes and traffic may be routed into the tunnel`,
    );
  return out;
}
