/**
 * The text formats of what crosses controller <-> agent/access point: entity ids,
 * device serials, area names, WireGuard keys and configuration versions. The
 * controller's model enforces them on what it stores; a receiver enforces them
 * again on what it is sent. Pure constants and predicates, imports nothing.
 */

export type IdPrefix = 'ap' | 'sag' | 'ccn' | 'cen' | 'vpc';

/** Lowercase letters, digits and inner "-", at most 48 after the prefix: safe in file, netns and nft text. */
const ID_BODY = '[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?';
const ID_PATTERNS: Record<IdPrefix, RegExp> = {
  ap: new RegExp(`^ap-${ID_BODY}$`),
  sag: new RegExp(`^sag-${ID_BODY}$`),
  ccn: new RegExp(`^ccn-${ID_BODY}$`),
  cen: new RegExp(`^cen-${ID_BODY}$`),
  vpc: new RegExp(`^vpc-${ID_BODY}$`),
};

/** Explicit ids (imports, operator-chosen access point ids) must still look like generated ones. */
export function isValidId(prefix: IdPrefix, id: string): boolean {
  return ID_PATTERNS[prefix].test(id);
}

export const SERIAL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
export const AREA_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * A WireGuard key is 32 bytes in padded base64: 43 significant characters, the last
 * carrying only 4 bits (hence the restricted final class), then "=".
 */
export const WG_KEY_PATTERN = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
/** WireGuard treats the all-zero key as "no key": a handshake with it fails. */
export const WG_ZERO_KEY = `${'A'.repeat(43)}=`;

/** A compiled configuration's content version: SHA-256, lowercase hex. */
export const CONFIG_VERSION_PATTERN = /^[0-9a-f]{64}$/;

/** Upper bound on any Mbit/s figure: 1 Tbit/s, far above any real link, catches unit mistakes. */
export const MAX_MBPS = 1_000_000;
