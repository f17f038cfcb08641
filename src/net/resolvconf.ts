/**
 * DNS for the life of a tunnel through resolvconf(8), as wg-quick(8) does it: the nameservers and
 * search domains go in as a record named after the interface (`resolvconf -a NAME -m 0 -x`, the
 * resolv.conf lines on stdin) and out again with `resolvconf -d NAME -f`.
 */
import { readFile } from 'node:fs/promises';
import { runCommand } from '../util/command.js';
import type { Undo } from './policy-routing.js';

const INTERFACE_ORDER = '/etc/resolvconf/interface-order';

/**
 * Debian's resolvconf orders records by name patterns; wg-quick names its record after the first
 * `NAME*` pattern there ("tun." on Debian) so the tunnel's servers come first. Empty without one.
 */
export async function resolvconfPrefix(orderFile = INTERFACE_ORDER): Promise<string> {
  let text: string;
  try {
    text = await readFile(orderFile, 'utf8');
  } catch {
    return '';
  }
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9-]+)\*$/.exec(line.trim());
    if (m) return `${m[1]}.`;
  }
  return '';
}

/** The resolv.conf lines wg-quick hands to resolvconf. */
export function resolvConfLines(nameservers: readonly string[], search: readonly string[]): string {
  const lines = nameservers.map((n) => `nameserver ${n}`);
  if (search.length) lines.push(`search ${search.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** Adds the record through the resolvconf at `resolvconf`; the undo removes it. */
export async function addDns(
  resolvconf: string,
  dev: string,
  nameservers: readonly string[],
  search: readonly string[],
): Promise<Undo> {
  const record = `${await resolvconfPrefix()}${dev}`;
  await runCommand(resolvconf, ['-a', record, '-m', '0', '-x'], {
    input: resolvConfLines(nameservers, search),
  });
  return async () => {
    await runCommand(resolvconf, ['-d', record, '-f']);
  };
}
