/**
 * ControllerStore: the contract, run against both implementations (SQLite and
 * the in-memory double), then what only a file can show: migrations, reopening,
 * raw table contents, two connections, corruption and a full store.
 */
import test, { type ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ModelError,
  sequentialIds,
  type Command,
  type CommandInput,
} from '../../src/controller/model/index.js';
import {
  MemoryStore,
  StoreCorruptError,
  StoreError,
  StoreFullError,
  StoreReadOnlyError,
  StoreSchemaTooNewError,
  hashToken,
  migrate,
  openSqliteStore,
  translateSqliteError,
  type ControllerStore,
  type Migration,
} from '../../src/controller/store/index.js';

const KEY = (n: number) => Buffer.alloc(32, n).toString('base64');
const CTX = { actor: 'test', at: 1_700_000_000_000 };

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sag-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every table's rows, read through a separate read-only connection. */
function dump(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all() as string[];
    return Object.fromEntries(tables.map((name) => [name, db.prepare(`SELECT * FROM "${name}"`).all()]));
  } finally {
    db.close();
  }
}

const SETUP: CommandInput[] = [
  {
    kind: 'instance.create',
    id: 'sag-hz1',
    name: 'Hangzhou',
    area: 'mainland',
    model: 'hardware',
    bandwidthMbps: 50,
    lanCidrs: ['192.168.1.0/24'],
    uplinks: [],
  },
  { kind: 'ccn.create', id: 'ccn-main', name: 'Main', area: 'mainland', cidrs: ['10.10.0.0/16'] },
  { kind: 'ccn.join', ccnId: 'ccn-main', instanceId: 'sag-hz1' },
  { kind: 'device.register', serial: 'SN-1', model: 'hardware', publicKey: KEY(1), softwareVersion: '1.0.0' },
];

type Factory = (t: ExecutionContext) => ControllerStore;
const IMPLEMENTATIONS: [string, Factory][] = [
  [
    'sqlite',
    (t) => {
      const store = openSqliteStore({ path: join(tempDir(t), 'c.db'), ids: sequentialIds() });
      t.teardown(() => store.close());
      return store;
    },
  ],
  ['memory', () => new MemoryStore({ ids: sequentialIds() })],
];

for (const [impl, open] of IMPLEMENTATIONS) {
  test(`${impl}: a new store holds the area catalogue at version 0`, async (t) => {
    const store = open(t);
    const state = await store.load();
    t.is(state.version, 0);
    t.deepEqual(
      (await store.list('areas')).map((a) => a.name),
      ['international', 'mainland'],
    );
    t.deepEqual(await store.audit(), []);
  });

  test(`${impl}: apply bumps the version, fills generated ids and audits`, async (t) => {
    const store = open(t);
    const out = await store.apply({ kind: 'cen.create', name: 'Core' }, CTX);
    t.is(out.version, 1);
    t.is(out.command.kind, 'cen.create');
    const id = (out.command as Extract<Command, { kind: 'cen.create' }>).id;
    t.regex(id, /^cen-\d+$/);
    t.is((await store.get('cens', id))?.name, 'Core');
    t.is(await store.get('cens', 'constructor'), undefined);
    t.deepEqual(await store.audit(), [
      { seq: 1, version: 1, at: CTX.at, actor: 'test', command: out.command },
    ]);
  });

  test(`${impl}: a refused command changes nothing`, async (t) => {
    const store = open(t);
    for (const c of SETUP) await store.apply(c, CTX);
    const before = await store.load();
    const err = await t.throwsAsync(store.apply({ kind: 'instance.delete', id: 'sag-hz1' }, CTX), {
      instanceOf: ModelError,
    });
    t.is(err?.code, 'ERR_MODEL_IN_USE');
    t.is(await store.load(), before);
    t.is((await store.audit()).length, SETUP.length);
  });

  test(`${impl}: a no-op command is neither stored nor audited`, async (t) => {
    const store = open(t);
    for (const c of SETUP) await store.apply(c, CTX);
    const out = await store.apply({ kind: 'ccn.join', ccnId: 'ccn-main', instanceId: 'sag-hz1' }, CTX);
    t.deepEqual(out.changes, []);
    t.is(out.version, SETUP.length);
    t.is((await store.audit()).length, SETUP.length);
  });

  test(`${impl}: device.register issues a token that lives and dies with the device`, async (t) => {
    const store = open(t);
    const out = await store.apply(
      { kind: 'device.register', serial: 'SN-9', model: 'app', publicKey: KEY(9), softwareVersion: '1' },
      CTX,
    );
    t.regex(out.deviceToken ?? '', /^sagd_[A-Za-z0-9_-]{43}$/);
    t.is(await store.authenticateDevice(out.deviceToken as string), 'SN-9');
    t.is(await store.authenticateApiKey(out.deviceToken as string), undefined);
    const rotated = await store.rotateDeviceToken('SN-9', CTX);
    t.is(await store.authenticateDevice(out.deviceToken as string), undefined);
    t.is(await store.authenticateDevice(rotated), 'SN-9');
    await store.apply({ kind: 'device.delete', serial: 'SN-9' }, CTX);
    t.is(await store.authenticateDevice(rotated), undefined);
    await t.throwsAsync(store.rotateDeviceToken('SN-9', CTX), { code: 'ERR_MODEL_NOT_FOUND' } as never);
    t.deepEqual(
      (await store.audit()).map((e) => e.command.kind),
      ['device.register', 'device.rotateToken', 'device.delete'],
    );
  });

  test(`${impl}: API keys authenticate until revoked, and the last one stays`, async (t) => {
    const store = open(t);
    const a = await store.createApiKey({ name: 'first' }, CTX);
    const b = await store.createApiKey({ name: 'second' }, CTX);
    t.regex(a.token, /^sagk_/);
    t.is((await store.authenticateApiKey(a.token))?.id, a.key.id);
    t.is(await store.authenticateApiKey(`${a.token}x`), undefined);
    t.is(await store.authenticateApiKey('not a token'), undefined);
    t.is(await store.countActiveApiKeys(), 2);
    const revoked = await store.revokeApiKey(a.key.id, { ...CTX, at: CTX.at + 5 });
    t.is(revoked.revokedAt, CTX.at + 5);
    t.is(await store.authenticateApiKey(a.token), undefined);
    t.is((await store.revokeApiKey(a.key.id, CTX)).revokedAt, CTX.at + 5, 'revoking twice is harmless');
    await t.throwsAsync(store.revokeApiKey(b.key.id, CTX), { code: 'ERR_STORE_LAST_API_KEY' } as never);
    await t.throwsAsync(store.revokeApiKey('key-00', CTX), { code: 'ERR_STORE_API_KEY_NOT_FOUND' } as never);
    t.deepEqual(
      (await store.listApiKeys()).map((k) => [k.name, k.revokedAt !== null]),
      [
        ['first', true],
        ['second', false],
      ],
    );
    const audit = (await store.audit()).map((e) => e.command);
    t.false(JSON.stringify(audit).includes(a.token), 'the audit log never holds a secret');
  });

  test(`${impl}: a chosen bootstrap key must be long enough`, async (t) => {
    const store = open(t);
    await t.throwsAsync(store.createApiKey({ name: 'boot', token: 'short' }, CTX), {
      code: 'ERR_STORE_INVALID',
    } as never);
    const chosen = 'x'.repeat(40);
    await store.createApiKey({ name: 'boot', token: chosen }, CTX);
    t.truthy(await store.authenticateApiKey(chosen));
    await t.throwsAsync(store.createApiKey({ name: 'again', token: chosen }, CTX), {
      code: 'ERR_STORE_INVALID',
    } as never);
  });

  test(`${impl}: audit pages by sequence number`, async (t) => {
    const store = open(t);
    for (const c of SETUP) await store.apply(c, CTX);
    t.deepEqual(
      (await store.audit({ after: 1, limit: 2 })).map((e) => e.seq),
      [2, 3],
    );
    await t.throwsAsync(store.audit({ limit: 0 }), { instanceOf: StoreError });
  });
}

test('memory: an injected fault fails the write and changes nothing', async (t) => {
  const store = new MemoryStore({ ids: sequentialIds() });
  const before = await store.load();
  store.failNextWrite(new StoreFullError('disk full'));
  await t.throwsAsync(store.apply({ kind: 'cen.create', name: 'X' }, CTX), { instanceOf: StoreFullError });
  t.is(await store.load(), before);
  t.deepEqual(await store.audit(), []);
  t.is((await store.apply({ kind: 'cen.create', name: 'X' }, CTX)).version, 1);
});

// ---- SQLite only -------------------------------------------------------------

test('sqlite: migrations run from an empty file and are recorded', (t) => {
  const path = join(tempDir(t), 'c.db');
  const store = openSqliteStore({ path, now: () => 42 });
  store.close();
  const tables = dump(path);
  t.deepEqual(tables['schema_migrations'], [
    { version: 1, name: 'entities, audit log, API keys, device credentials', applied_at: 42 },
    { version: 2, name: 'access point public keys', applied_at: 42 },
    { version: 3, name: 'device activation codes and status reports', applied_at: 42 },
    { version: 4, name: 'audit log retention by age', applied_at: 42 },
    { version: 5, name: 'TLS certificates', applied_at: 42 },
  ]);
  for (const name of [
    'meta',
    'entities',
    'audit_log',
    'api_keys',
    'device_credentials',
    'activation_codes',
    'device_status',
  ])
    t.true(name in tables, name);
  t.deepEqual(tables['meta'], [
    { key: 'model_schema', value: '1' },
    { key: 'model_version', value: '0' },
  ]);
  const db = new Database(path, { readonly: true });
  t.is(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
});

test('sqlite: the migration runner applies only what is missing, atomically', (t) => {
  const db = new Database(join(tempDir(t), 'm.db'));
  t.teardown(() => db.close());
  const m1: Migration = { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER)' };
  const m2: Migration = { version: 2, name: 'two', sql: 'CREATE TABLE b (x INTEGER)' };
  const bad: Migration = {
    version: 3,
    name: 'bad',
    sql: 'CREATE TABLE c (x INTEGER); SELECT * FROM missing_table',
  };
  t.deepEqual(migrate(db, 1, [m1]), [1]);
  t.deepEqual(migrate(db, 2, [m1]), []);
  t.deepEqual(migrate(db, 3, [m1, m2]), [2]);
  // better-sqlite3's SqliteError does not pass ava's Error check, so catch by hand.
  let failure: unknown;
  try {
    migrate(db, 4, [m1, m2, bad]);
  } catch (e) {
    failure = e;
  }
  t.regex(String((failure as { message?: string })?.message), /missing_table/);
  t.is(
    db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'c'").pluck().get(),
    0,
    'a failed migration leaves no trace',
  );
  t.deepEqual(db.prepare('SELECT version FROM schema_migrations').pluck().all(), [1, 2]);
  t.throws(() => migrate(db, 5, [m1]), {
    instanceOf: StoreSchemaTooNewError,
    message: /version 2.*only up to 1/,
  });
});

test('sqlite: reopening keeps entities, version, audit, keys and device tokens', async (t) => {
  const path = join(tempDir(t), 'c.db');
  const first = openSqliteStore({ path, ids: sequentialIds() });
  let deviceToken = '';
  for (const c of SETUP) deviceToken = (await first.apply(c, CTX)).deviceToken ?? deviceToken;
  const key = await first.createApiKey({ name: 'ops' }, CTX);
  const state = await first.load();
  const audit = await first.audit();
  await first.close();

  const second = openSqliteStore({ path });
  t.teardown(() => second.close());
  t.deepEqual(await second.load(), state);
  t.deepEqual(await second.audit(), audit);
  t.is((await second.authenticateApiKey(key.token))?.id, key.key.id);
  t.is(await second.authenticateDevice(deviceToken), 'SN-1');
  t.deepEqual(second.integrityCheck(), []);
  t.is(
    (await second.apply({ kind: 'ccn.leave', ccnId: 'ccn-main', instanceId: 'sag-hz1' }, CTX)).version,
    SETUP.length + 1,
  );
});

test('sqlite: a refused command leaves every table byte-for-byte unchanged', async (t) => {
  const path = join(tempDir(t), 'c.db');
  const store = openSqliteStore({ path, ids: sequentialIds() });
  t.teardown(() => store.close());
  for (const c of SETUP) await store.apply(c, CTX);
  const before = dump(path);
  const refusals: CommandInput[] = [
    { kind: 'ccn.delete', id: 'ccn-main' },
    { kind: 'instance.update', id: 'sag-hz1', lanCidrs: ['10.10.1.0/24'] },
    { kind: 'device.register', serial: 'SN-1', model: 'app', publicKey: KEY(5), softwareVersion: '1' },
    { kind: 'nope' } as unknown as CommandInput,
  ];
  for (const c of refusals) await t.throwsAsync(store.apply(c, CTX), { instanceOf: ModelError });
  t.deepEqual(dump(path), before);
});

test('sqlite: secrets are stored only as SHA-256 hashes', async (t) => {
  const path = join(tempDir(t), 'c.db');
  const store = openSqliteStore({ path });
  const key = await store.createApiKey({ name: 'ops' }, CTX);
  const device = await store.apply(
    { kind: 'device.register', serial: 'SN-7', model: 'app', publicKey: KEY(7), softwareVersion: '1' },
    CTX,
  );
  await store.close();
  const text = JSON.stringify(dump(path));
  t.false(text.includes(key.token));
  t.false(text.includes(device.deviceToken as string));
  t.true(text.includes(hashToken(key.token)));
  t.true(text.includes(hashToken(device.deviceToken as string)));
});

test('sqlite: two connections on one file see each other’s writes', async (t) => {
  const path = join(tempDir(t), 'c.db');
  const a = openSqliteStore({ path, ids: sequentialIds(1) });
  const b = openSqliteStore({ path, ids: sequentialIds(1000) });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  await a.apply({ kind: 'cen.create', name: 'A' }, CTX);
  t.is((await b.load()).version, 1);
  // b's cached state is stale until it checks; its write must build on a's.
  await b.apply({ kind: 'cen.create', name: 'B' }, CTX);
  await a.apply({ kind: 'cen.create', name: 'C' }, CTX);
  t.deepEqual((await b.list('cens')).map((c) => c.name).sort(), ['A', 'B', 'C']);
  t.is((await a.load()).version, 3);
});

test('sqlite: a file that is not a database is reported as corrupt', (t) => {
  const path = join(tempDir(t), 'junk.db');
  writeFileSync(path, Buffer.alloc(8192, 0x5a));
  t.throws(() => openSqliteStore({ path }), {
    instanceOf: StoreCorruptError,
    message: /not a sag database.*junk\.db/,
  });
});

test('sqlite: rows the model would not have written are reported as corrupt', async (t) => {
  const path = join(tempDir(t), 'c.db');
  await openSqliteStore({ path }).close();
  const db = new Database(path);
  db.prepare("INSERT INTO entities (collection, key, version, value) VALUES ('cens', 'cen-x', 0, ?)").run(
    JSON.stringify({ id: 'cen-y', name: 'Y', grants: [], version: 0 }),
  );
  db.close();
  t.throws(() => openSqliteStore({ path }), { instanceOf: StoreCorruptError, message: /wrong key/ });
});

test('sqlite: a database from a newer sag is refused', async (t) => {
  const path = join(tempDir(t), 'c.db');
  await openSqliteStore({ path }).close();
  const db = new Database(path);
  db.prepare("INSERT INTO schema_migrations VALUES (99, 'future', 0)").run();
  db.close();
  t.throws(() => openSqliteStore({ path }), { instanceOf: StoreSchemaTooNewError });
});

test('sqlite: a full store refuses the write, keeps its state and recovers', async (t) => {
  const path = join(tempDir(t), 'c.db');
  const store = openSqliteStore({ path, ids: sequentialIds(), maxSizeBytes: 64 * 1024 });
  let err: unknown;
  let n = 0;
  for (; n < 10_000 && err === undefined; n++) {
    await store
      .apply({ kind: 'cen.create', name: `CEN ${n} ${'x'.repeat(100)}` }, CTX)
      .catch((e: unknown) => (err = e));
  }
  t.true(err instanceof StoreFullError, String(err));
  t.regex((err as Error).message, /reached its size cap of 64 KiB; nothing was written/);
  const state = await store.load();
  t.is(state.version, n - 1, 'every acknowledged command and nothing else');
  t.deepEqual(store.integrityCheck(), []);
  await store.close();
  const reopened = openSqliteStore({ path, ids: sequentialIds(100_000) });
  t.teardown(() => reopened.close());
  t.deepEqual(await reopened.load(), state);
  t.is((await reopened.apply({ kind: 'cen.create', name: 'after' }, CTX)).version, state.version + 1);
});

test('sqlite: driver errors map to typed store errors', (t) => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE x (v TEXT)');
  const path = join(tempDir(t), 'ro.db');
  new Database(path).exec('CREATE TABLE x (v TEXT)');
  const ro = new Database(path, { readonly: true });
  const caught = (fn: () => void): unknown => {
    try {
      fn();
    } catch (e) {
      return e;
    }
    return undefined;
  };
  const readOnly = translateSqliteError(
    caught(() => ro.prepare("INSERT INTO x VALUES ('a')").run()),
    'writing',
    path,
  );
  t.true(readOnly instanceof StoreReadOnlyError, String(readOnly));
  t.regex((readOnly as Error).message, /read-only.*ro\.db/, 'the operator is told which file');
  t.false((readOnly as StoreError).publicMessage.includes(path), 'API clients are not');
  t.truthy((readOnly as Error).cause);
  const plain = new Error('not sqlite');
  t.is(translateSqliteError(plain, 'x', path), plain);
  const busy = translateSqliteError(
    Object.assign(new Error('locked'), { code: 'SQLITE_BUSY_SNAPSHOT' }),
    'x',
    path,
  );
  t.is((busy as StoreError).code, 'ERR_STORE_BUSY');
  ro.close();
  db.close();
});
