/**
 * Store support for device agents, against both implementations: activation codes
 * (hashed, one-time, expiring, atomic with the key change and the new token),
 * status reports, and their removal with the device. Then what only SQLite shows:
 * the code is not in the file, and migration 2 gives old access point rows a key field.
 */
import test, { type ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelError, sequentialIds } from '../../src/controller/model/index.js';
import {
  ActivationError,
  MIGRATIONS,
  MemoryStore,
  StoreFullError,
  StoreInvalidError,
  normalizeActivationCode,
  openSqliteStore,
  type ControllerStore,
} from '../../src/controller/store/index.js';

const KEY = (n: number) => Buffer.alloc(32, n).toString('base64');
const NOW = 1_700_000_000_000;
const CTX = { actor: 'test', at: NOW };

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sag-store-act-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const IMPLEMENTATIONS: [string, (t: ExecutionContext) => ControllerStore][] = [
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
  test(`${impl}: an activation sets the key, issues a token and uses up the code, atomically`, async (t) => {
    const store = open(t);
    const reg = await store.apply(
      { kind: 'device.register', serial: 'SN-1', model: 'app', softwareVersion: '1' },
      CTX,
    );
    await store.apply(
      { kind: 'device.register', serial: 'SN-2', model: 'app', publicKey: KEY(2), softwareVersion: '1' },
      CTX,
    );
    const { code, info } = await store.createActivationCode('SN-1', { expiresAt: NOW + 1000 }, CTX);
    t.deepEqual(info, { serial: 'SN-1', createdAt: NOW, expiresAt: NOW + 1000, usedAt: null });
    t.is(normalizeActivationCode(code.toLowerCase()), code.replace(/-/g, ''));

    // Refusals change nothing, the code included.
    const version = (await store.load()).version;
    await t.throwsAsync(
      store.activateDevice({ serial: 'SN-1', code: 'AAAAA-AAAAA-AAAAA-AAAAA', publicKey: KEY(1) }, CTX),
      { instanceOf: ActivationError, message: /do not match/ },
    );
    const taken = await t.throwsAsync(
      store.activateDevice({ serial: 'SN-1', code, publicKey: KEY(2) }, CTX),
      { instanceOf: ModelError },
    );
    t.is(taken?.code, 'ERR_MODEL_CONFLICT');
    t.is((await store.load()).version, version);

    const out = await store.activateDevice(
      { serial: 'SN-1', code, publicKey: KEY(1) },
      { actor: 'device:SN-1', at: NOW + 10 },
    );
    t.is(out.outcome.version, version + 1);
    t.is((await store.get('devices', 'SN-1'))?.publicKey, KEY(1));
    t.is(await store.authenticateDevice(out.token), 'SN-1');
    t.is(await store.authenticateDevice(reg.deviceToken as string), undefined);
    const used = await t.throwsAsync(store.activateDevice({ serial: 'SN-1', code, publicKey: KEY(3) }, CTX), {
      instanceOf: ActivationError,
    });
    t.is(used?.code, 'ERR_ACTIVATION_USED');
    const audit = await store.audit();
    t.deepEqual(
      audit.slice(-3).map((e) => [e.command.kind, e.actor]),
      [
        ['device.createActivationCode', 'test'],
        ['device.update', 'device:SN-1'],
        ['device.activate', 'device:SN-1'],
      ],
    );
  });

  test(`${impl}: codes expire, need a registered device and a future expiry`, async (t) => {
    const store = open(t);
    await store.apply({ kind: 'device.register', serial: 'SN-1', model: 'app', softwareVersion: '1' }, CTX);
    await t.throwsAsync(store.createActivationCode('SN-NOPE', { expiresAt: NOW + 1000 }, CTX), {
      instanceOf: ModelError,
    });
    await t.throwsAsync(store.createActivationCode('SN-1', { expiresAt: NOW }, CTX), {
      instanceOf: StoreInvalidError,
    });
    const { code } = await store.createActivationCode('SN-1', { expiresAt: NOW + 1000 }, CTX);
    const err = await t.throwsAsync(
      store.activateDevice({ serial: 'SN-1', code, publicKey: KEY(1) }, { ...CTX, at: NOW + 1000 }),
      { instanceOf: ActivationError },
    );
    t.is(err?.code, 'ERR_ACTIVATION_EXPIRED');
    // Without a key argument the activation must not pass as "keep the old key".
    await t.throwsAsync(
      store.activateDevice({ serial: 'SN-1', code, publicKey: undefined as unknown as string }, CTX),
      { instanceOf: ModelError },
    );
  });

  test(`${impl}: status reports are kept per device and go with it`, async (t) => {
    const store = open(t);
    await store.apply(
      { kind: 'device.register', serial: 'SN-1', model: 'app', publicKey: KEY(1), softwareVersion: '1' },
      CTX,
    );
    await t.throwsAsync(store.putDeviceStatus('SN-NOPE', {}, NOW), { instanceOf: ModelError });
    t.is(await store.getDeviceStatus('SN-1'), undefined);
    await store.putDeviceStatus('SN-1', { peers: [1] }, NOW);
    await store.putDeviceStatus('SN-1', { peers: [2] }, NOW + 1);
    t.deepEqual(await store.getDeviceStatus('SN-1'), {
      serial: 'SN-1',
      receivedAt: NOW + 1,
      report: { peers: [2] },
    });
    const { code } = await store.createActivationCode('SN-1', { expiresAt: NOW + 1000 }, CTX);
    await store.apply({ kind: 'device.delete', serial: 'SN-1' }, CTX);
    await store.apply({ kind: 'device.register', serial: 'SN-1', model: 'app', softwareVersion: '1' }, CTX);
    t.is(await store.getDeviceStatus('SN-1'), undefined, 'deleting the device deleted its status');
    await t.throwsAsync(store.activateDevice({ serial: 'SN-1', code, publicKey: KEY(1) }, CTX), {
      instanceOf: ActivationError,
      message: /do not match/,
    });
  });
}

test('memory: a failed write during activation changes nothing', async (t) => {
  const store = new MemoryStore({ ids: sequentialIds() });
  await store.apply({ kind: 'device.register', serial: 'SN-1', model: 'app', softwareVersion: '1' }, CTX);
  const { code } = await store.createActivationCode('SN-1', { expiresAt: NOW + 1000 }, CTX);
  store.failNextWrite(new StoreFullError('full'));
  await t.throwsAsync(store.activateDevice({ serial: 'SN-1', code, publicKey: KEY(1) }, CTX), {
    instanceOf: StoreFullError,
  });
  t.is((await store.get('devices', 'SN-1'))?.publicKey, '');
  t.truthy(
    await store.activateDevice({ serial: 'SN-1', code, publicKey: KEY(1) }, CTX),
    'the code is still good',
  );
});

test('sqlite: only the hash of a code is stored, and it survives a reopen', async (t) => {
  const path = join(tempDir(t), 'c.db');
  const first = openSqliteStore({ path, ids: sequentialIds() });
  await first.apply({ kind: 'device.register', serial: 'SN-1', model: 'app', softwareVersion: '1' }, CTX);
  const { code } = await first.createActivationCode('SN-1', { expiresAt: NOW + 1000 }, CTX);
  await first.close();
  for (const file of [path, `${path}-wal`]) {
    let bytes = '';
    try {
      bytes = readFileSync(file).toString('latin1');
    } catch {
      continue;
    }
    t.false(bytes.includes(code) || bytes.includes(code.replace(/-/g, '')), `${file} holds no code`);
  }
  const second = openSqliteStore({ path, ids: sequentialIds() });
  t.teardown(() => second.close());
  t.truthy(await second.activateDevice({ serial: 'SN-1', code, publicKey: KEY(1) }, CTX));
});

test('sqlite: migration 2 gives access points stored before it a null key, versions unchanged', async (t) => {
  const path = join(tempDir(t), 'c.db');
  const old = openSqliteStore({ path, ids: sequentialIds() });
  await old.apply(
    {
      kind: 'accessPoint.create',
      id: 'ap-1',
      area: 'mainland',
      endpoints: ['203.0.113.1:51820'],
      maxInstances: 5,
    },
    CTX,
  );
  await old.close();
  // Turn the file into what a sag at schema 1 left: no later migrations, the row without the field.
  const db = new Database(path);
  db.exec(
    'DELETE FROM schema_migrations WHERE version > 1; DROP TABLE activation_codes; DROP TABLE device_status; DROP TABLE tls_pairs;',
  );
  db.prepare(
    "UPDATE entities SET value = json_remove(value, '$.publicKey') WHERE collection = 'accessPoints'",
  ).run();
  t.false(
    (db.prepare("SELECT value FROM entities WHERE key = 'ap-1'").pluck().get() as string).includes(
      'publicKey',
    ),
  );
  db.close();

  const store = openSqliteStore({ path, ids: sequentialIds() });
  t.teardown(() => store.close());
  const check = new Database(path, { readonly: true });
  t.deepEqual(
    check.prepare('SELECT version FROM schema_migrations').pluck().all(),
    MIGRATIONS.map((m) => m.version),
  );
  check.close();
  t.deepEqual(await store.get('accessPoints', 'ap-1'), {
    id: 'ap-1',
    area: 'mainland',
    endpoints: ['203.0.113.1:51820'],
    maxInstances: 5,
    version: 1,
    publicKey: null,
  });
  await store.apply({ kind: 'accessPoint.update', id: 'ap-1', publicKey: KEY(9) }, CTX);
  t.is((await store.get('accessPoints', 'ap-1'))?.publicKey, KEY(9));
  const noop = await store.apply({ kind: 'accessPoint.update', id: 'ap-1', publicKey: KEY(9) }, CTX);
  t.deepEqual(noop.changes, [], 'setting the same key is a no-op');
});
