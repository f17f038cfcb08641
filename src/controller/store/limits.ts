/**
 * How large the controller's database may grow, and the defaults `sag controller`
 * uses (the store itself keeps everything unless told otherwise).
 *
 * The audit log is the one table that grows with time rather than with the fleet:
 * every heartbeat (one per device per minute at most) is an entry. Entries are
 * 150 to 500 bytes, so the default count keeps it under ~500 MB, and the default
 * size cap leaves room beside it for the model and the status reports of a 10,000
 * device fleet (~10 MB of entities, a few KiB of last status per device).
 */

export interface AuditRetention {
  /** The newest this many entries are kept. */
  maxEntries: number;
  /** Entries older than this (by their `at`, against the writer's clock) are dropped, ms. */
  maxAgeMs: number;
}

export const DAY_MS = 86_400_000;
export const MIB = 1024 ** 2;

export const DEFAULT_AUDIT_RETENTION: AuditRetention = {
  maxEntries: 1_000_000,
  maxAgeMs: 180 * DAY_MS,
};

/** Default cap on the database file, bytes: a full cap is ERR_STORE_FULL, not a full disk for the host. */
export const DEFAULT_DB_MAX_BYTES = 2048 * MIB;
