/**
 * ControllerStore over an embedded SQLite file (better-sqlite3).
 *
 * Durability: WAL journal with synchronous=FULL, so every commit fsyncs the WAL
 * before `apply` returns; an acknowledged change survives kill -9 and power loss.
 *
 * What is persisted: one row per entity, written from the model's `changes`,
 * plus the audit log. We chose this over "command log + periodic snapshot":
 * - the rows are the state itself, so loading never re-runs model logic. A log
 *   replay would break the day a model rule gets stricter and an old command no
 *   longer passes it; rows persist results, not intentions;
 * - a write costs what the command changed, never the size of the whole state;
 * - single entities can be read (and "changed since version N" asked) in SQL.
 * The audit log still keeps every applied command, as history, not as truth.
 *
 * Concurrency: writes run in BEGIN IMMEDIATE transactions, which take the write
 * lock first. The in-memory copy of the state is checked against the stored
 * model version inside that transaction (and on every read) and reloaded if
 * another process (e.g. a CLI) has written since, so two processes may share a file.
 */
import Database from 'better-sqlite3';
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  checkInvariants,
  createState,
  randomIds,
  get,
  COLLECTION_NAMES,
  type AreaDefinition,
  type CollectionName,
  type Collections,
  type CommandInput,
  type IdGenerator,
  type ModelState,
} from '../model/index.js';
import { hashActivationCode, newActivationCode, type StoredActivation } from './activation.js';
import {
  auditWindow,
  checkContext,
  checkExpiry,
  planActivation,
  planCommand,
  sortedByKey,
  type Planned,
} from './common.js';
import {
  ApiKeyNotFoundError,
  LastApiKeyError,
  StoreClosedError,
  StoreCorruptError,
  StoreFullError,
  StoreInvalidError,
  StoreIoError,
  translateSqliteError,
} from './errors.js';
import { MIB, type AuditRetention } from './limits.js';
import { MIGRATIONS, migrate, type Migration } from './migrations.js';
import {
  ACCESS_POINT_TOKEN_PREFIX,
  API_KEY_PREFIX,
  DEVICE_TOKEN_PREFIX,
  accessPointOf,
  accessPointSubject,
  deviceOf,
  hashToken,
  isWellFormedToken,
  newKeyId,
  newToken,
  validateChosenToken,
  validateKeyName,
} from './secrets.js';
import type {
  ActivationCodeInfo,
  ActivationResult,
  ApiKeyInfo,
  ApplyContext,
  ApplyOutcome,
  AuditEntry,
  AuditQuery,
  ControllerStore,
  CredentialEvent,
  DeviceStatusRecord,
  TlsPair,
} from './types.js';

export interface SqliteStoreOptions {
  /** Database file; created with its tables if missing. */
  path: string;
  /** Area catalogue for a new database; ignored once the database holds a model. */
  areas?: readonly AreaDefinition[];
  ids?: IdGenerator;
  /** How long a write waits for another process's lock before ERR_STORE_BUSY. */
  busyTimeoutMs?: number;
  /**
   * Caps the file size (SQLite max_page_count, rounded down to whole pages). A
   * write past it fails with ERR_STORE_FULL and changes nothing, exactly as on
   * a full disk, so a runaway audit log cannot fill the disk the host needs.
   */
  maxSizeBytes?: number;
  /** Audit entries beyond these are dropped as new ones are written; all are kept by default. */
  auditRetention?: AuditRetention;
  /** Clock for migration timestamps only; model and audit times come from ApplyContext. */
  now?: () => number;
  /** For tests of the migration runner. */
  migrations?: readonly Migration[];
}

interface ApiKeyRow {
  id: string;
  name: string;
  created_at: number;
  revoked_at: number | null;
}

const keyInfo = (r: ApiKeyRow): ApiKeyInfo => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

function statements(db: Database.Database) {
  return {
    version: db.prepare("SELECT value FROM meta WHERE key = 'model_version'").pluck(),
    setMeta: db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    allMeta: db.prepare('SELECT key, value FROM meta'),
    allEntities: db.prepare('SELECT collection, key, value FROM entities'),
    putEntity: db.prepare(
      'INSERT INTO entities (collection, key, version, value) VALUES (?, ?, ?, ?) ON CONFLICT (collection, key) DO UPDATE SET version = excluded.version, value = excluded.value',
    ),
    deleteEntity: db.prepare('DELETE FROM entities WHERE collection = ? AND key = ?'),
    addAudit: db.prepare('INSERT INTO audit_log (version, at, actor, kind, command) VALUES (?, ?, ?, ?, ?)'),
    pruneAuditCount: db.prepare('DELETE FROM audit_log WHERE seq <= (SELECT max(seq) FROM audit_log) - ?'),
    pruneAuditAge: db.prepare('DELETE FROM audit_log WHERE at < ?'),
    readAudit: db.prepare(
      'SELECT seq, version, at, actor, command FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?',
    ),
    addKey: db.prepare('INSERT INTO api_keys (id, name, token_hash, created_at) VALUES (?, ?, ?, ?)'),
    keyById: db.prepare('SELECT id, name, created_at, revoked_at FROM api_keys WHERE id = ?'),
    keyByHash: db.prepare(
      'SELECT id, name, created_at, revoked_at FROM api_keys WHERE token_hash = ? AND revoked_at IS NULL',
    ),
    allKeys: db.prepare('SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY rowid'),
    activeKeys: db.prepare('SELECT count(*) FROM api_keys WHERE revoked_at IS NULL').pluck(),
    revokeKey: db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?'),
    putCredential: db.prepare(
      'INSERT INTO device_credentials (serial, token_hash, issued_at) VALUES (?, ?, ?) ON CONFLICT (serial) DO UPDATE SET token_hash = excluded.token_hash, issued_at = excluded.issued_at',
    ),
    deleteCredential: db.prepare('DELETE FROM device_credentials WHERE serial = ?'),
    credentialByHash: db.prepare('SELECT serial FROM device_credentials WHERE token_hash = ?').pluck(),
    putActivation: db.prepare(
      'INSERT INTO activation_codes (serial, code_hash, created_at, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (serial) DO UPDATE SET code_hash = excluded.code_hash, created_at = excluded.created_at, expires_at = excluded.expires_at, used_at = NULL',
    ),
    activationBySerial: db.prepare(
      'SELECT code_hash AS codeHash, created_at AS createdAt, expires_at AS expiresAt, used_at AS usedAt FROM activation_codes WHERE serial = ?',
    ),
    useActivation: db.prepare('UPDATE activation_codes SET used_at = ? WHERE serial = ?'),
    deleteActivation: db.prepare('DELETE FROM activation_codes WHERE serial = ?'),
    putStatus: db.prepare(
      'INSERT INTO device_status (serial, received_at, report) VALUES (?, ?, ?) ON CONFLICT (serial) DO UPDATE SET received_at = excluded.received_at, report = excluded.report',
    ),
    statusBySerial: db.prepare(
      'SELECT received_at AS receivedAt, report FROM device_status WHERE serial = ?',
    ),
    deleteStatus: db.prepare('DELETE FROM device_status WHERE serial = ?'),
    tlsPair: db.prepare('SELECT cert_pem AS certPem, key_pem AS keyPem FROM tls_pairs WHERE name = ?'),
    addTlsPair: db.prepare(
      'INSERT INTO tls_pairs (name, cert_pem, key_pem, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING',
    ),
  };
}

export class SqliteStore implements ControllerStore {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #ids: IdGenerator;
  #sql: ReturnType<typeof statements>;
  #state: ModelState;
  #closed = false;
  readonly #retention: AuditRetention | undefined;
  /** The size cap in bytes as applied (whole pages), if any. */
  readonly #capBytes: number | undefined;

  /** Opens (creating and migrating if needed) a database file. Throws a StoreError on failure. */
  static open(options: SqliteStoreOptions): SqliteStore {
    let db: Database.Database | undefined;
    try {
      db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
      return new SqliteStore(db, options);
    } catch (err) {
      db?.close();
      throw translateSqliteError(err, 'opening the controller database', options.path);
    }
  }

  private constructor(db: Database.Database, options: SqliteStoreOptions) {
    this.path = options.path;
    this.#db = db;
    this.#ids = options.ids ?? randomIds();
    // WAL lets readers run beside the writer; FULL makes each commit fsync the WAL.
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal')
      throw new StoreIoError(
        `cannot use WAL journaling (got ${String(mode)}); is the database on a network file system?`,
        { path: options.path },
      );
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    if (options.maxSizeBytes !== undefined) {
      const pageSize = Number(db.pragma('page_size', { simple: true }));
      const pages = Math.max(1, Math.floor(options.maxSizeBytes / pageSize));
      db.pragma(`max_page_count = ${pages}`);
      this.#capBytes = pages * pageSize;
    }
    this.#retention = options.auditRetention;
    migrate(db, (options.now ?? Date.now)(), options.migrations ?? MIGRATIONS);
    this.#sql = statements(db);
    this.#seed(options.areas);
    this.#state = this.#readState();
  }

  async load(): Promise<ModelState> {
    return this.#current();
  }

  async get<C extends CollectionName>(collection: C, key: string): Promise<Collections[C] | undefined> {
    const record = this.#current()[collection] as Record<string, Collections[C]>;
    return Object.hasOwn(record, key) ? record[key] : undefined;
  }

  async list<C extends CollectionName>(collection: C): Promise<Collections[C][]> {
    return sortedByKey(this.#current()[collection] as Record<string, Collections[C]>);
  }

  async apply(input: CommandInput, ctx: ApplyContext): Promise<ApplyOutcome> {
    checkContext(ctx);
    let outcome: ApplyOutcome | undefined;
    this.#write('applying a command', () => {
      outcome = this.#commit(planCommand(this.#fresh(), input, this.#ids), ctx);
    });
    const done = outcome as ApplyOutcome;
    // Only after the commit: a rollback must leave the cached state untouched.
    this.#state = done.state;
    return done;
  }

  async createActivationCode(
    serial: string,
    input: { expiresAt: number },
    ctx: ApplyContext,
  ): Promise<{ code: string; info: ActivationCodeInfo }> {
    checkContext(ctx);
    checkExpiry(input.expiresAt, ctx.at);
    const code = newActivationCode();
    this.#write('creating an activation code', () => {
      const state = this.#fresh();
      get.device(state, serial);
      this.#sql.putActivation.run(serial, hashActivationCode(serial, code), ctx.at, input.expiresAt);
      this.#audit(state.version, ctx, {
        kind: 'device.createActivationCode',
        serial,
        expiresAt: input.expiresAt,
      });
    });
    return { code, info: { serial, createdAt: ctx.at, expiresAt: input.expiresAt, usedAt: null } };
  }

  async activateDevice(
    input: { serial: string; code: string; publicKey: string },
    ctx: ApplyContext,
  ): Promise<ActivationResult> {
    checkContext(ctx);
    let result: ActivationResult | undefined;
    this.#write('activating a device', () => {
      const stored = this.#sql.activationBySerial.get(input.serial) as StoredActivation | undefined;
      const outcome = this.#commit(planActivation(this.#fresh(), stored, input, ctx.at, this.#ids), ctx);
      this.#sql.useActivation.run(ctx.at, input.serial);
      this.#audit(outcome.version, ctx, { kind: 'device.activate', serial: input.serial });
      result = { outcome, token: this.#issueDeviceToken(input.serial, ctx.at) };
    });
    const done = result as ActivationResult;
    this.#state = done.outcome.state;
    return done;
  }

  async putDeviceStatus(serial: string, report: Record<string, unknown>, at: number): Promise<void> {
    this.#write('storing a device status report', () => {
      get.device(this.#fresh(), serial);
      this.#sql.putStatus.run(serial, at, JSON.stringify(report));
    });
  }

  async getDeviceStatus(serial: string): Promise<DeviceStatusRecord | undefined> {
    const row = this.#read(
      () => this.#sql.statusBySerial.get(serial) as { receivedAt: number; report: string } | undefined,
    );
    return (
      row && { serial, receivedAt: row.receivedAt, report: JSON.parse(row.report) as Record<string, unknown> }
    );
  }

  async getTlsPair(name: string): Promise<TlsPair | undefined> {
    return this.#read(() => this.#sql.tlsPair.get(name) as TlsPair | undefined);
  }

  async putTlsPairIfAbsent(name: string, pair: TlsPair, at: number): Promise<TlsPair> {
    let stored: TlsPair | undefined;
    this.#write('storing a TLS certificate', () => {
      this.#sql.addTlsPair.run(name, pair.certPem, pair.keyPem, at);
      stored = this.#sql.tlsPair.get(name) as TlsPair;
    });
    return stored!;
  }

  async createApiKey(
    input: { name: string; token?: string },
    ctx: ApplyContext,
  ): Promise<{ key: ApiKeyInfo; token: string }> {
    checkContext(ctx);
    const name = validateKeyName(input.name);
    const token = input.token === undefined ? newToken(API_KEY_PREFIX) : validateChosenToken(input.token);
    const key: ApiKeyInfo = { id: newKeyId(), name, createdAt: ctx.at, revokedAt: null };
    this.#write('creating an API key', () => {
      try {
        this.#sql.addKey.run(key.id, name, hashToken(token), ctx.at);
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
          throw new StoreInvalidError('that API key is already in use');
        throw err;
      }
      this.#audit(this.#fresh().version, ctx, { kind: 'apiKey.create', id: key.id, name });
    });
    return { key, token };
  }

  async listApiKeys(): Promise<ApiKeyInfo[]> {
    return this.#read(() => (this.#sql.allKeys.all() as ApiKeyRow[]).map(keyInfo));
  }

  async countActiveApiKeys(): Promise<number> {
    return this.#read(() => this.#sql.activeKeys.get() as number);
  }

  async revokeApiKey(id: string, ctx: ApplyContext): Promise<ApiKeyInfo> {
    checkContext(ctx);
    let info: ApiKeyInfo | undefined;
    this.#write('revoking an API key', () => {
      const row = this.#sql.keyById.get(id) as ApiKeyRow | undefined;
      if (!row) throw new ApiKeyNotFoundError(id);
      info = keyInfo(row);
      if (row.revoked_at !== null) return; // already revoked: idempotent, nothing to audit
      if ((this.#sql.activeKeys.get() as number) <= 1) throw new LastApiKeyError(id);
      this.#sql.revokeKey.run(ctx.at, id);
      this.#audit(this.#fresh().version, ctx, { kind: 'apiKey.revoke', id });
      info = { ...info, revokedAt: ctx.at };
    });
    return info as ApiKeyInfo;
  }

  async authenticateApiKey(token: string): Promise<ApiKeyInfo | undefined> {
    if (!isWellFormedToken(token)) return undefined;
    return this.#read(() => {
      const row = this.#sql.keyByHash.get(hashToken(token)) as ApiKeyRow | undefined;
      return row && keyInfo(row);
    });
  }

  async rotateDeviceToken(serial: string, ctx: ApplyContext): Promise<string> {
    checkContext(ctx);
    let token = '';
    this.#write('rotating a device token', () => {
      const state = this.#fresh();
      get.device(state, serial); // ModelNotFoundError for an unknown device
      token = this.#issueDeviceToken(serial, ctx.at);
      this.#audit(state.version, ctx, { kind: 'device.rotateToken', serial });
    });
    return token;
  }

  async authenticateDevice(token: string): Promise<string | undefined> {
    return deviceOf(this.#subject(token));
  }

  async rotateAccessPointToken(id: string, ctx: ApplyContext): Promise<string> {
    checkContext(ctx);
    const token = newToken(ACCESS_POINT_TOKEN_PREFIX);
    this.#write('rotating an access point token', () => {
      const state = this.#fresh();
      get.accessPoint(state, id); // ModelNotFoundError for an unknown access point
      this.#sql.putCredential.run(accessPointSubject(id), hashToken(token), ctx.at);
      this.#audit(state.version, ctx, { kind: 'accessPoint.rotateToken', id });
    });
    return token;
  }

  async authenticateAccessPoint(token: string): Promise<string | undefined> {
    return accessPointOf(this.#subject(token));
  }

  /** Device serial or accessPointSubject(id) of a token's credential. */
  #subject(token: string): string | undefined {
    if (!isWellFormedToken(token)) return undefined;
    return this.#read(() => this.#sql.credentialByHash.get(hashToken(token)) as string | undefined);
  }

  async audit(query?: AuditQuery): Promise<AuditEntry[]> {
    const { after, limit } = auditWindow(query);
    return this.#read(() => {
      const rows = this.#sql.readAudit.all(after, limit) as {
        seq: number;
        version: number;
        at: number;
        actor: string;
        command: string;
      }[];
      return rows.map((r) => ({
        seq: r.seq,
        version: r.version,
        at: r.at,
        actor: r.actor,
        command: JSON.parse(r.command),
      }));
    });
  }

  /** SQLite's full integrity check; empty when the file is sound. */
  integrityCheck(): string[] {
    const rows = this.#read(() => this.#db.pragma('integrity_check') as { integrity_check: string }[]);
    const problems = rows.map((r) => r.integrity_check);
    return problems.length === 1 && problems[0] === 'ok' ? [] : problems;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  // ---- internals ----------------------------------------------------------

  /** Writes a planned command; call inside #write. A no-op writes nothing and is not audited: retries must not grow the log. */
  #commit(plan: Planned, ctx: ApplyContext): ApplyOutcome {
    const { state, changes } = plan.result;
    const outcome: ApplyOutcome = { command: plan.command, state, version: state.version, changes };
    if (changes.length === 0) return outcome;
    for (const change of changes) {
      if (change.value === null) this.#sql.deleteEntity.run(change.collection, change.key);
      else
        this.#sql.putEntity.run(
          change.collection,
          change.key,
          change.value.version,
          JSON.stringify(change.value),
        );
    }
    this.#sql.setMeta.run('model_version', String(state.version));
    this.#audit(state.version, ctx, plan.command);
    for (const serial of plan.revokeFor) {
      this.#sql.deleteCredential.run(serial);
      this.#sql.deleteActivation.run(serial);
      this.#sql.deleteStatus.run(serial);
    }
    if (plan.issueFor !== undefined) outcome.deviceToken = this.#issueDeviceToken(plan.issueFor, ctx.at);
    return outcome;
  }

  #issueDeviceToken(serial: string, at: number): string {
    const token = newToken(DEVICE_TOKEN_PREFIX);
    this.#sql.putCredential.run(serial, hashToken(token), at);
    return token;
  }

  #audit(version: number, ctx: ApplyContext, command: { kind: string } | CredentialEvent): void {
    // Pruned first, in the same transaction: a log at the size cap makes room for its new entry.
    if (this.#retention !== undefined) {
      this.#sql.pruneAuditCount.run(this.#retention.maxEntries - 1);
      this.#sql.pruneAuditAge.run(ctx.at - this.#retention.maxAgeMs);
    }
    this.#sql.addAudit.run(version, ctx.at, ctx.actor, command.kind, JSON.stringify(command));
  }

  /** Runs `fn` in one BEGIN IMMEDIATE transaction; SQLite failures become StoreErrors. */
  #write(doing: string, fn: () => void): void {
    if (this.#closed) throw new StoreClosedError();
    try {
      this.#db.transaction(fn).immediate();
    } catch (err) {
      const translated = translateSqliteError(err, doing, this.path);
      if (translated instanceof StoreFullError && this.#capBytes !== undefined && diskHasRoom(this.path))
        throw new StoreFullError(
          `${doing}: the database reached its size cap of ${formatSize(this.#capBytes)}; nothing was written. Raise the cap or shorten the audit retention`,
          { cause: err, path: this.path },
        );
      throw translated;
    }
  }

  #read<T>(fn: () => T): T {
    if (this.#closed) throw new StoreClosedError();
    try {
      return fn();
    } catch (err) {
      throw translateSqliteError(err, 'reading the controller database', this.path);
    }
  }

  /** The cached state, reloaded first if another connection has committed since. */
  #current(): ModelState {
    return this.#read(() => this.#fresh());
  }

  #fresh(): ModelState {
    const stored = Number(this.#sql.version.get());
    if (stored !== this.#state.version) this.#state = this.#readState();
    return this.#state;
  }

  /** Writes the area catalogue into a database that has no model yet. */
  #seed(areas: readonly AreaDefinition[] | undefined): void {
    this.#db
      .transaction(() => {
        if (this.#sql.version.get() !== undefined) return;
        const state = createState(areas);
        for (const area of Object.values(state.areas))
          this.#sql.putEntity.run('areas', area.name, area.version, JSON.stringify(area));
        this.#sql.setMeta.run('model_schema', String(state.schema));
        this.#sql.setMeta.run('model_version', String(state.version));
      })
      .immediate();
  }

  /** Builds the state from rows; anything the model would not have written is corruption. */
  #readState(): ModelState {
    const meta = new Map(
      (this.#sql.allMeta.all() as { key: string; value: string }[]).map((r) => [r.key, r.value]),
    );
    const state: ModelState = {
      schema: 1,
      version: Number(meta.get('model_version')),
      areas: {},
      accessPoints: {},
      instances: {},
      devices: {},
      ccns: {},
      cens: {},
      vpcs: {},
    };
    if (meta.get('model_schema') !== '1')
      throw new StoreCorruptError(`unknown model schema ${JSON.stringify(meta.get('model_schema'))}`, {
        path: this.path,
      });
    for (const row of this.#sql.allEntities.iterate() as Iterable<{
      collection: string;
      key: string;
      value: string;
    }>) {
      if (!COLLECTION_NAMES.includes(row.collection as CollectionName))
        throw new StoreCorruptError(`unknown collection ${row.collection}`, { path: this.path });
      try {
        (state[row.collection as CollectionName] as Record<string, unknown>)[row.key] = JSON.parse(row.value);
      } catch (err) {
        throw new StoreCorruptError(`${row.collection}/${row.key} is not valid JSON`, {
          cause: err,
          path: this.path,
        });
      }
    }
    let problems: string[];
    try {
      problems = checkInvariants(state);
    } catch (err) {
      // Rows of the wrong shape (a number where an entity belongs) can make the checker itself throw.
      throw new StoreCorruptError('the stored model is malformed', { cause: err, path: this.path });
    }
    if (problems.length > 0) {
      throw new StoreCorruptError(
        `the stored model is inconsistent: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` and ${problems.length - 3} more` : ''}`,
        { path: this.path },
      );
    }
    return state;
  }
}

/** True when the file system holding `path` has space left: then a full store is its size cap. */
function diskHasRoom(path: string): boolean {
  try {
    const fs = statfsSync(dirname(path));
    return fs.bavail * fs.bsize > DISK_ROOM_BYTES;
  } catch {
    return false;
  }
}

function formatSize(bytes: number): string {
  return bytes >= MIB ? `${Math.round(bytes / MIB)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

/** Free space below which a full store is blamed on the disk, not the cap. */
const DISK_ROOM_BYTES = 4 * MIB;

/** Opens a SQLite controller store; see SqliteStore. */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return SqliteStore.open(options);
}
