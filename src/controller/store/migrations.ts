/**
 * Numbered schema migrations for the SQLite store.
 *
 * Each migration runs in its own transaction together with the row recording it
 * in `schema_migrations`, so a crash mid-migration leaves the database at the
 * previous version, never half-migrated (SQLite DDL is transactional). Released
 * migrations are never edited: a schema change is a new entry at the end.
 */
import type Database from 'better-sqlite3';
import { StoreSchemaTooNewError } from './errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'entities, audit log, API keys, device credentials',
    sql: `
      -- model_version and model_schema of the stored ModelState.
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;

      -- One row per model entity, the JSON of the entity as the model built it.
      -- version duplicates value.version so "what changed since version N" can
      -- be answered by an index instead of parsing every row.
      CREATE TABLE entities (
        collection TEXT NOT NULL
          CHECK (collection IN ('areas', 'accessPoints', 'instances', 'devices', 'ccns', 'cens', 'vpcs')),
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        value TEXT NOT NULL CHECK (json_valid(value)),
        PRIMARY KEY (collection, key)
      ) WITHOUT ROWID;
      CREATE INDEX entities_by_version ON entities (version);

      -- History of applied commands and credential events. AUTOINCREMENT so a
      -- sequence number is never reused, even after old entries are pruned.
      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        version INTEGER NOT NULL,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        kind TEXT NOT NULL,
        command TEXT NOT NULL CHECK (json_valid(command))
      );

      -- Secrets are stored as SHA-256 hex of the token only.
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      ); -- with rowid: listing in creation order needs it

      CREATE TABLE device_credentials (
        serial TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        issued_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'access point public keys',
    // Access points gained `publicKey` (null until set). Rows are the state itself
    // (see sqlite.ts), so old rows get the field written in, rather than every
    // reader learning that it may be missing. Entity versions stay: nothing changed
    // in meaning, an absent key and a null key are both "not set".
    sql: `
      UPDATE entities SET value = json_insert(value, '$.publicKey', NULL)
        WHERE collection = 'accessPoints';
    `,
  },
  {
    version: 3,
    name: 'device activation codes and status reports',
    sql: `
      -- One pending or used code per device; the code is stored as SHA-256 hex only.
      CREATE TABLE activation_codes (
        serial TEXT PRIMARY KEY,
        code_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      ) WITHOUT ROWID;

      -- The last status report of each device, as JSON; replaced on every report.
      CREATE TABLE device_status (
        serial TEXT PRIMARY KEY,
        received_at INTEGER NOT NULL,
        report TEXT NOT NULL CHECK (json_valid(report))
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: 'audit log retention by age',
    sql: `
      -- Pruning entries older than the retention age reads this index, not the whole log.
      CREATE INDEX IF NOT EXISTS audit_log_by_at ON audit_log (at);
    `,
  },
  {
    version: 5,
    name: 'TLS certificates',
    sql: `
      -- The controller's own CA ('ca') and the server certificates it issued
      -- ('server:<names>'), PEM. Kept here so every replica on this database
      -- serves under one CA and restarts keep the fingerprint devices pinned.
      CREATE TABLE tls_pairs (
        name TEXT PRIMARY KEY,
        cert_pem TEXT NOT NULL,
        key_pem TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

export function latestSchemaVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.length === 0 ? 0 : (migrations[migrations.length - 1] as Migration).version;
}

/** The highest migration recorded in the database, 0 for a new one. */
export function currentSchemaVersion(db: Database.Database): number {
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/**
 * Brings the database up to the last migration; returns the versions applied.
 * Refuses a database migrated by a newer sag rather than guess at its layout.
 */
export function migrate(
  db: Database.Database,
  at: number,
  migrations: readonly Migration[] = MIGRATIONS,
): number[] {
  migrations.forEach((m, i) => {
    // A gap or reordering is a programming error in this file, not a runtime condition.
    if (m.version !== i + 1) throw new Error(`migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const current = currentSchemaVersion(db);
  const latest = latestSchemaVersion(migrations);
  if (current > latest) {
    throw new StoreSchemaTooNewError(
      `the database is at schema version ${current} but this sag knows only up to ${latest}; upgrade sag`,
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applied: number[] = [];
  for (const m of migrations.slice(current)) {
    // Re-checked under the write lock: another process opening the same file may have just run it.
    const ran = db
      .transaction(() => {
        if (currentSchemaVersion(db) >= m.version) return false;
        db.exec(m.sql);
        record.run(m.version, m.name, at);
        return true;
      })
      .immediate();
    if (ran) applied.push(m.version);
  }
  return applied;
}
