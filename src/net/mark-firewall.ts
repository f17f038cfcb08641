/**
 * The nftables rules wg-quick(8) adds with a full tunnel, the same table and rules so either tool
 * (and whoever knows wg-quick) reads them alike:
 * - the gateway's encrypted UDP leaves with the tunnel's fwmark; `ct mark set mark` keeps it on the
 *   connection and `meta mark set ct mark` puts it back on the replies, so a reverse-path check
 *   with src_valid_mark=1 finds the underlay route (not the tunnel) and does not drop them;
 * - packets for the tunnel's own addresses arriving on any other interface, from a non-local
 *   source, are dropped: with the tunnel as default route, nothing outside should reach them.
 * wg-quick falls back to iptables-restore without nft; sag up does not, and says so.
 */
import { InvalidArgumentError } from '../errors.js';
import { runCommand } from '../util/command.js';
import { parseIntInRange } from '../util/parse.js';
import type { Family, Undo } from './policy-routing.js';

const nftFamily = (family: Family) => (family === 4 ? 'ip' : 'ip6');

/** The table is named after the interface, which goes into a script: wg-quick's name characters only. */
export function markTableName(dev: string): string {
  if (!/^[A-Za-z0-9_=+.-]{1,15}$/.test(dev))
    throw new InvalidArgumentError(`interface name ${JSON.stringify(dev)} cannot name an nftables table`);
  return `wg-quick-${dev}`;
}

/** The `nft -f` script wg-quick's add_default writes for one family (addresses in canonical form). */
export function markFirewallScript(
  dev: string,
  family: Family,
  fwmark: number,
  addresses: readonly string[],
): string {
  const pf = nftFamily(family);
  const t = `${pf} ${markTableName(dev)}`;
  for (const a of addresses)
    if (!/^[0-9a-fA-F:.]+$/.test(a))
      throw new InvalidArgumentError(`not an IP address: ${JSON.stringify(a)}`);
  const mark = parseIntInRange(fwmark, 'fwmark', 1, 0xffffffff);
  const lines = [
    `add table ${t}`,
    `add chain ${t} preraw { type filter hook prerouting priority -300; }`,
    `add chain ${t} premangle { type filter hook prerouting priority -150; }`,
    `add chain ${t} postmangle { type filter hook postrouting priority -150; }`,
    ...addresses.map(
      (a) => `add rule ${t} preraw iifname != "${dev}" ${pf} daddr ${a} fib saddr type != local drop`,
    ),
    `add rule ${t} postmangle meta l4proto udp mark ${mark} ct mark set mark`,
    `add rule ${t} premangle meta l4proto udp meta mark set ct mark`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Loads the script with `nft -f -`; the undo deletes the table. */
export async function addMarkFirewall(
  nft: string,
  dev: string,
  family: Family,
  fwmark: number,
  addresses: readonly string[],
): Promise<Undo> {
  await runCommand(nft, ['-f', '-'], { input: markFirewallScript(dev, family, fwmark, addresses) });
  return async () => {
    await runCommand(nft, ['delete', 'table', nftFamily(family), markTableName(dev)]);
  };
}
