/**
 * The forwarding policy of one CCN namespace as an nftables ruleset: default
 * drop, and an accept per compiled ForwardingRule. Pure text; applying it is
 * the namespace's part (one `nft -f`, atomic).
 *
 * Sources need no match here: a packet leaves the CCN's TUN only after the
 * dataplane checked its source against the sending member's allowed IPs
 * (counted as source_not_allowed otherwise), so "came in on this TUN" means
 * "came from a member of this CCN".
 */
import type { ForwardingRule } from '../contract/config.js';
import { InvalidArgumentError } from '../errors.js';

export const POLICY_TABLE = 'sag';

/**
 * Everything interpolated below is an interface name, an id or a CIDR. validate-config.ts
 * guarantees that for what the controller sent; this keeps a future field from ever
 * carrying a quote, brace, semicolon or newline into the ruleset.
 */
const NFT_SAFE = /^[A-Za-z0-9:./-]{1,64}$/;

function safe(text: string): string {
  if (!NFT_SAFE.test(text))
    throw new InvalidArgumentError(`refusing to write ${JSON.stringify(text)} into an nftables ruleset`);
  return text;
}

export function renderPolicy(tunName: string, sinkName: string, rules: readonly ForwardingRule[]): string {
  const tun = safe(tunName);
  const sink = safe(sinkName);
  const lines = [
    `table inet ${POLICY_TABLE}`,
    `delete table inet ${POLICY_TABLE}`,
    `table inet ${POLICY_TABLE} {`,
    '  chain forward {',
    '    type filter hook forward priority 0; policy drop;',
    '    ct state established,related accept',
    // Unrouted: no member, VPC or CCN route matched (e.g. another CCN's address). Counted as denied.
    `    oifname "${sink}" counter drop comment "denied"`,
  ];
  for (const rule of rules) {
    const cidrs = rule.cidrs.map(safe);
    const v4 = cidrs.filter((c) => !c.includes(':'));
    const v6 = cidrs.filter((c) => c.includes(':'));
    const note = `comment "${safe(rule.ccnId)} to ${safe(rule.to.kind)} ${safe(rule.to.id)}"`;
    if (v4.length) lines.push(`    iifname "${tun}" ip daddr { ${v4.join(', ')} } counter accept ${note}`);
    if (v6.length) lines.push(`    iifname "${tun}" ip6 daddr { ${v6.join(', ')} } counter accept ${note}`);
  }
  // Explicit, so what the policy refused is counted (nft list table inet sag shows it).
  lines.push('    counter drop comment "denied"', '  }', '}', '');
  return lines.join('\n');
}

/** Packets the policy denied (both "denied" rules), from `nft list table inet sag` output. */
export function deniedCount(listing: string): number {
  let n = 0;
  for (const m of listing.matchAll(/counter packets (\d+) bytes \d+ drop comment "denied"/g))
    n += Number(m[1]);
  return n;
}
