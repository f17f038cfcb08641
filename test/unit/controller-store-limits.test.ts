/**
 * The store stays bounded: the audit log keeps the newest N entries and none older
 * than its age limit, a size cap answers ERR_STORE_FULL saying it is the cap, and
 * no store error that reaches an API client names a file.
 */
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHttpError } from '../../src/controller/api/index.js';
import { sequentialIds } from '../../src/controller/model/index.js';
import { StoreFullError, openSqliteStore } from '../../src/controller/store/index.js';

const T0 = 1_700_000_000_000;

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sag-store-limits-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('audit retention keeps the newest maxEntries and drops entries past maxAgeMs', async (t) => {
  const store = openSqliteStore({
    path: join(tempDir(t), 'c.db'),
    ids: sequentialIds(),
    auditRetention: { maxEntries: 5, maxAgeMs: 60_000 },
  });
  t.teardown(() => store.close());
  for (let i = 0; i < 12; i++)
    await store.apply({ kind: 'cen.create', name: `n${i}` }, { actor: 't', at: T0 + i });
  const kept = await store.audit({ limit: 1000 });
  t.deepEqual(
    kept.map((e) => e.seq),
    [8, 9, 10, 11, 12],
    'the newest five, sequence numbers never reused',
  );
  t.is((await store.load()).version, 12, 'the model keeps everything; only history is pruned');
  await store.apply({ kind: 'cen.create', name: 'later' }, { actor: 't', at: T0 + 60_009 });
  t.deepEqual(
    (await store.audit({ limit: 1000 })).map((e) => e.seq),
    [10, 11, 12, 13],
    'entries more than a minute older than the newest write are gone',
  );
});

test('a store at its size cap answers ERR_STORE_FULL naming the cap, and its API message has no path', async (t) => {
  const path = join(tempDir(t), 'capped.db');
  const store = openSqliteStore({ path, ids: sequentialIds(), maxSizeBytes: 96 * 1024 });
  t.teardown(() => store.close());
  let err: unknown;
  for (let n = 0; n < 10_000 && err === undefined; n++) {
    await store
      .apply({ kind: 'cen.create', name: `CEN ${n} ${'x'.repeat(100)}` }, { actor: 't', at: T0 })
      .catch((e: unknown) => (err = e));
  }
  t.true(err instanceof StoreFullError, String(err));
  t.regex((err as Error).message, /reached its size cap of 96 KiB; nothing was written/);
  t.true((err as Error).message.includes(path), 'the operator (log, CLI) is told which file');
  const http = toHttpError(err);
  t.is(http.status, 503);
  t.is(http.body.error.code, 'ERR_STORE_FULL');
  t.false(JSON.stringify(http.body).includes(path), 'the API client is not');
  t.false(JSON.stringify(http.body).includes(tmpdir()));
  // With retention, the same cap holds a log that never stops growing.
  const pruned = openSqliteStore({
    path: join(tempDir(t), 'pruned.db'),
    ids: sequentialIds(),
    maxSizeBytes: 96 * 1024,
    auditRetention: { maxEntries: 20, maxAgeMs: 3_600_000 },
  });
  t.teardown(() => pruned.close());
  for (let n = 0; n < 300; n++)
    await pruned
      .apply(
        { kind: 'device.register', serial: `SN-${n % 3}`, model: 'app', softwareVersion: '1.0' },
        { actor: 't', at: T0 + n },
      )
      .then(() => pruned.apply({ kind: 'device.delete', serial: `SN-${n % 3}` }, { actor: 't', at: T0 + n }));
  t.is((await pruned.audit({ limit: 1000 })).length, 20);
});
