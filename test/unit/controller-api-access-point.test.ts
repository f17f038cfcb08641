/**
 * Access point credentials and configuration over the API: an operator issues the
 * token, the access point reads (and long-polls) only its own compiled
 * configuration, deleting the access point revokes it.
 */
import test, { type ExecutionContext } from 'ava';
import { sequentialIds } from '../../src/controller/model/index.js';
import { buildControllerApp } from '../../src/controller/api/index.js';
import { MemoryStore, SqliteStore } from '../../src/controller/store/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NOW = 1_700_000_000_000;
const KEY = (n: number) => Buffer.alloc(32, n).toString('base64');
const WAN = { name: 'wan1', kind: 'wired', priority: 1, weight: 100 };

async function setup(
  t: ExecutionContext,
  store: MemoryStore | SqliteStore = new MemoryStore({ ids: sequentialIds() }),
) {
  const { token } = await store.createApiKey({ name: 'test' }, { actor: 'test', at: NOW });
  const app = buildControllerApp({ store, clock: () => NOW, storeCheckMs: 50 });
  t.teardown(() => app.close());
  const call = async (
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    payload?: object,
    auth: string | null = token,
  ) => {
    const res = await app.inject({
      method,
      url,
      ...(payload ? { payload } : {}),
      headers: auth === null ? {} : { authorization: `Bearer ${auth}` },
    });
    return { status: res.statusCode, body: res.body === '' ? undefined : res.json() };
  };
  await call('POST', '/v1/areas', { name: 'mainland', regions: ['cn-hangzhou'] });
  await call('POST', '/v1/access-points', {
    id: 'ap-hz',
    area: 'mainland',
    endpoints: ['203.0.113.1:51820'],
    maxInstances: 10,
    publicKey: KEY(100),
  });
  await call('POST', '/v1/access-points', {
    id: 'ap-sh',
    area: 'mainland',
    endpoints: ['203.0.113.2:51820'],
    maxInstances: 10,
    publicKey: KEY(101),
  });
  await call('POST', '/v1/instances', {
    id: 'sag-1',
    name: 'One',
    area: 'mainland',
    model: 'app',
    bandwidthMbps: 50,
    lanCidrs: ['192.168.1.0/24'],
    uplinks: [WAN],
  });
  await call('POST', '/v1/ccns', { id: 'ccn-main', name: 'Main', area: 'mainland', cidrs: ['10.10.0.0/16'] });
  await call('PUT', '/v1/ccns/ccn-main/members/sag-1');
  const dev = await call('POST', '/v1/devices', {
    serial: 'SN-1',
    model: 'app',
    publicKey: KEY(1),
    softwareVersion: '1.0',
  });
  await call('POST', '/v1/devices/SN-1/bind', { instanceId: 'sag-1' });
  return { call, store, deviceToken: dev.body.token as string };
}

test('an access point token reads only its own configuration, which names its peers and CCN policy', async (t) => {
  const { call, deviceToken } = await setup(t);
  const issued = await call('POST', '/v1/access-points/ap-hz/token');
  t.is(issued.status, 200);
  const token = issued.body.token as string;
  t.regex(token, /^saga_/);
  const res = await call('GET', '/v1/access-points/ap-hz/config', undefined, token);
  t.is(res.status, 200);
  t.is(res.body.kind, 'accessPoint');
  t.is(res.body.accessPointId, 'ap-hz');
  t.deepEqual(
    res.body.peers.map((p: { serial: string; ccnId: string; bandwidthMbps: number }) => [
      p.serial,
      p.ccnId,
      p.bandwidthMbps,
    ]),
    [['SN-1', 'ccn-main', 50]],
  );
  t.true(
    res.body.policy.some(
      (r: { ccnId: string; to: { kind: string } }) => r.ccnId === 'ccn-main' && r.to.kind === 'ccn',
    ),
  );

  t.is(
    (await call('GET', '/v1/access-points/ap-sh/config', undefined, token)).status,
    403,
    'another access point',
  );
  t.is(
    (await call('GET', '/v1/devices/SN-1/config', undefined, token)).status,
    403,
    'a device configuration',
  );
  t.is((await call('GET', '/v1/access-points', undefined, token)).status, 403, 'operator routes');
  t.is(
    (await call('GET', '/v1/access-points/ap-hz/config', undefined, deviceToken)).status,
    403,
    'a device token',
  );
  t.is(
    (await call('POST', '/v1/access-points/ap-hz/token', undefined, token)).status,
    403,
    'rotating needs an operator',
  );
  t.is((await call('GET', '/v1/access-points/ap-hz/config', undefined, 'saga_nope')).status, 401);
  t.is((await call('POST', '/v1/access-points/ap-nope/token')).body.error.code, 'ERR_MODEL_NOT_FOUND');

  const v1 = res.body.version as string;
  t.deepEqual(
    (await call('GET', `/v1/access-points/ap-hz/config?after=${v1}&wait=0`, undefined, token)).body,
    { unchanged: true, version: v1 },
  );
  await call('PATCH', '/v1/instances/sag-1', { bandwidthMbps: 20 });
  const changed = await call('GET', `/v1/access-points/ap-hz/config?after=${v1}&wait=5`, undefined, token);
  t.is(changed.body.peers[0].bandwidthMbps, 20);

  const rotated = (await call('POST', '/v1/access-points/ap-hz/token')).body.token as string;
  t.is(
    (await call('GET', '/v1/access-points/ap-hz/config', undefined, token)).status,
    401,
    'the old token stops working',
  );
  t.is((await call('GET', '/v1/access-points/ap-hz/config', undefined, rotated)).status, 200);
});

test('deleting an access point revokes its token (SQLite store), and the token is no device token', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sag-ap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'c.db');
  const store = SqliteStore.open({ path: file, ids: sequentialIds() } as never);
  const { call } = await setup(t, store);
  const token = (await call('POST', '/v1/access-points/ap-sh/token')).body.token as string;
  t.is(await store.authenticateAccessPoint(token), 'ap-sh');
  t.is(await store.authenticateDevice(token), undefined, 'an access point token is no device token');
  t.is((await call('DELETE', '/v1/access-points/ap-sh')).status, 204);
  t.is(await store.authenticateAccessPoint(token), undefined);
  const audit = await store.audit({ limit: 1000 });
  t.true(audit.some((e) => e.command.kind === 'accessPoint.rotateToken'));
});
