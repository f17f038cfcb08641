/**
 * Controller API failure paths: schema validation (400 with a message naming
 * the field), model refusals (409/404/400 with the model's code), storage
 * failures (503/500), and the API over a real SQLite file across a reopen.
 */
import test, { type ExecutionContext } from 'ava';
import type { InjectOptions } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sequentialIds } from '../../src/controller/model/index.js';
import { BODY_LIMIT, buildControllerApp } from '../../src/controller/api/index.js';
import {
  MemoryStore,
  StoreCorruptError,
  StoreFullError,
  openSqliteStore,
  type ControllerStore,
} from '../../src/controller/store/index.js';

const NOW = 1_700_000_000_000;
const KEY = (n: number) => Buffer.alloc(32, n).toString('base64');
const INSTANCE = {
  name: 'Hangzhou',
  area: 'mainland',
  model: 'app',
  bandwidthMbps: 50,
  lanCidrs: ['192.168.1.0/24'],
  uplinks: [],
};

async function setup(
  t: ExecutionContext,
  store: ControllerStore = new MemoryStore({ ids: sequentialIds() }),
) {
  const { token } = await store.createApiKey({ name: 'test' }, { actor: 'test', at: NOW });
  const app = buildControllerApp({ store, clock: () => NOW });
  t.teardown(() => app.close());
  const call = async (
    method: InjectOptions['method'],
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...headers },
      ...(payload === undefined ? {} : { payload: payload as string }),
    });
    return { status: res.statusCode, body: res.body === '' ? undefined : res.json() };
  };
  return { app, store, token, call };
}

// [case, method, url, body, expected message]
const INVALID: [number, InjectOptions['method'], string, unknown, RegExp][] = [
  [1, 'POST', '/v1/instances', { ...INSTANCE, name: undefined }, /^body\.name is required$/],
  [
    2,
    'POST',
    '/v1/instances',
    { ...INSTANCE, bandwidthMbps: '50' },
    /^body\.bandwidthMbps must be an integer$/,
  ],
  [
    3,
    'POST',
    '/v1/instances',
    { ...INSTANCE, name: 'n'.repeat(129) },
    /^body\.name must be at most 128 characters long$/,
  ],
  [
    4,
    'POST',
    '/v1/instances',
    { ...INSTANCE, bandwithMbps: 5 },
    /^body\.bandwithMbps is not an allowed field$/,
  ],
  [
    5,
    'POST',
    '/v1/instances',
    { ...INSTANCE, uplinks: [{ name: 'wan1', kind: 'wired', priority: 1, weight: 500 }] },
    /^body\.uplinks\[0\]\.weight must be at most 100$/,
  ],
  [
    6,
    'POST',
    '/v1/instances',
    { ...INSTANCE, uplinks: [{ name: 'wan1', kind: 'wired', priority: 1 }] },
    /^body\.uplinks\[0\]\.weight is required$/,
  ],
  [
    7,
    'POST',
    '/v1/instances',
    { ...INSTANCE, model: 'router' },
    /^body\.model must be one of "hardware", "vcpe", "app"$/,
  ],
  [
    8,
    'POST',
    '/v1/instances',
    { ...INSTANCE, lanCidrs: '192.168.1.0/24' },
    /^body\.lanCidrs must be an array$/,
  ],
  [
    9,
    'POST',
    '/v1/instances',
    { ...INSTANCE, lanCidrs: ['1'.repeat(50)] },
    /^body\.lanCidrs\[0\] must be at most 49 characters long$/,
  ],
  [10, 'POST', '/v1/instances', { ...INSTANCE, name: '' }, /^body\.name must not be empty$/],
  [11, 'POST', '/v1/instances', [], /^body must be an object$/],
  [
    12,
    'POST',
    '/v1/ccns',
    {
      name: 'X',
      area: 'mainland',
      cidrs: ['10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16', '10.4.0.0/16', '10.5.0.0/16', '10.6.0.0/16'],
    },
    /^body\.cidrs must have at most 5 items$/,
  ],
  [13, 'PATCH', '/v1/instances/sag-1', {}, /^body must set at least one field$/],
  [
    14,
    'POST',
    '/v1/devices',
    { serial: 'SN-1', model: 'app', publicKey: 'short', softwareVersion: '1' },
    /^body\.publicKey must be at least 44 characters long$/,
  ],
  [
    15,
    'POST',
    '/v1/devices',
    { serial: 'SN 1', model: 'app', publicKey: KEY(1), softwareVersion: '1' },
    /^body\.serial has characters or a form that is not allowed/,
  ],
  [
    16,
    'GET',
    `/v1/instances/sag-${'a'.repeat(60)}`,
    undefined,
    /^params\.id must be at most 52 characters long$/,
  ],
  [17, 'GET', '/v1/instances/SAG-1', undefined, /^params\.id has characters or a form that is not allowed/],
  [18, 'GET', '/v1/audit?limit=abc', undefined, /^query\.limit has characters/],
  [19, 'GET', '/v1/audit?limit=5000', undefined, /^query\.limit must be from 1 to 1000$/],
  [20, 'GET', '/v1/audit?verbose=1', undefined, /^query\.verbose is not an allowed field$/],
  [
    21,
    'PUT',
    '/v1/cens/cen-1/grants/mainland/international',
    { mbps: 1.5 },
    /^body\.mbps must be an integer$/,
  ],
  [22, 'PUT', '/v1/cens/cen-1/grants/mainland/international', { mbps: 0 }, /^body\.mbps must be at least 1$/],
  [23, 'POST', '/v1/api-keys', { name: 'k'.repeat(129) }, /^body\.name must be at most 128 characters long$/],
];

for (const [n, method, url, body, message] of INVALID) {
  test(`validation #${n}: ${method} ${url} -> 400`, async (t) => {
    const { call } = await setup(t);
    const res = await call(method, url, body);
    t.is(res.status, 400, JSON.stringify(res.body));
    t.is(res.body.error.code, 'ERR_VALIDATION');
    t.regex(res.body.error.message, message);
  });
}

test('malformed JSON, a wrong media type and an oversized body are refused', async (t) => {
  const { call } = await setup(t);
  const bad = await call('POST', '/v1/cens', '{"name": ', { 'content-type': 'application/json' });
  t.is(bad.status, 400);
  t.is(bad.body.error.code, 'ERR_BAD_REQUEST');
  const xml = await call('POST', '/v1/cens', '<cen name="x"/>', { 'content-type': 'application/xml' });
  t.deepEqual([xml.status, xml.body.error.code], [415, 'ERR_UNSUPPORTED_MEDIA_TYPE']);
  const text = await call('POST', '/v1/cens', 'name=x', { 'content-type': 'text/plain' });
  t.deepEqual([text.status, text.body.error.message], [400, 'body must be an object']);
  const huge = await call('POST', '/v1/cens', JSON.stringify({ name: 'x'.repeat(BODY_LIMIT) }), {
    'content-type': 'application/json',
  });
  t.is(huge.status, 413);
  t.is(huge.body.error.code, 'ERR_PAYLOAD_TOO_LARGE');
  const route = await call('GET', '/v1/nowhere');
  t.deepEqual([route.status, route.body.error.code], [404, 'ERR_ROUTE_NOT_FOUND']);
});

test('model refusals map to 409, 404 and 400 with the model code and subjects', async (t) => {
  const { call } = await setup(t);
  await call('POST', '/v1/instances', { ...INSTANCE, id: 'sag-hz1' });
  await call('POST', '/v1/instances', {
    ...INSTANCE,
    id: 'sag-sg1',
    area: 'international',
    lanCidrs: ['192.168.3.0/24'],
  });
  await call('POST', '/v1/ccns', { id: 'ccn-main', name: 'Main', area: 'mainland', cidrs: ['10.10.0.0/16'] });
  await call('PUT', '/v1/ccns/ccn-main/members/sag-hz1');
  await call('POST', '/v1/devices', {
    serial: 'SN-1',
    model: 'hardware',
    publicKey: KEY(1),
    softwareVersion: '1',
  });

  const cases: [string, InjectOptions['method'], string, unknown, number, string, RegExp][] = [
    ['in use', 'DELETE', '/v1/ccns/ccn-main', undefined, 409, 'ERR_MODEL_IN_USE', /still has members/],
    [
      'conflict',
      'POST',
      '/v1/devices',
      { serial: 'SN-1', model: 'app', publicKey: KEY(2), softwareVersion: '1' },
      409,
      'ERR_MODEL_CONFLICT',
      /already registered/,
    ],
    [
      'overlap',
      'PATCH',
      '/v1/instances/sag-hz1',
      { lanCidrs: ['10.10.1.0/24'] },
      409,
      'ERR_MODEL_CIDR_OVERLAP',
      /overlap/,
    ],
    [
      'area mismatch',
      'PUT',
      '/v1/ccns/ccn-main/members/sag-sg1',
      undefined,
      409,
      'ERR_MODEL_AREA_MISMATCH',
      /area international/,
    ],
    [
      'device model',
      'POST',
      '/v1/devices/SN-1/bind',
      { instanceId: 'sag-sg1' },
      409,
      'ERR_MODEL_DEVICE_MODEL_MISMATCH',
      /hardware device/,
    ],
    [
      'state',
      'POST',
      '/v1/instances/sag-sg1/offline',
      undefined,
      409,
      'ERR_MODEL_STATE',
      /from unbound to offline/,
    ],
    [
      'not found',
      'PUT',
      '/v1/ccns/ccn-nope/members/sag-hz1',
      undefined,
      404,
      'ERR_MODEL_NOT_FOUND',
      /CCN ccn-nope does not exist/,
    ],
    [
      'not found (read)',
      'GET',
      '/v1/devices/SN-404',
      undefined,
      404,
      'ERR_MODEL_NOT_FOUND',
      /device SN-404 does not exist/,
    ],
    [
      'invalid',
      'POST',
      '/v1/ccns',
      { name: 'X', area: 'mainland', cidrs: ['8.8.8.0/24'] },
      400,
      'ERR_MODEL_INVALID',
      /not private/,
    ],
    [
      'invalid key',
      'POST',
      '/v1/devices',
      { serial: 'SN-2', model: 'app', publicKey: `${'B'.repeat(42)}B=`, softwareVersion: '1' },
      400,
      'ERR_MODEL_INVALID',
      /WireGuard key/,
    ],
    [
      'unknown key',
      'DELETE',
      '/v1/api-keys/key-0123',
      undefined,
      404,
      'ERR_STORE_API_KEY_NOT_FOUND',
      /key-0123/,
    ],
  ];
  for (const [what, method, url, body, status, code, message] of cases) {
    const res = await call(method, url, body);
    t.is(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
    t.is(res.body.error.code, code, what);
    t.regex(res.body.error.message, message, what);
  }
  const inUse = await call('DELETE', '/v1/ccns/ccn-main');
  t.deepEqual(inUse.body.error.subjects, ['ccn-main', 'sag-hz1']);
  t.is((await call('GET', '/v1/health')).body.version, 5, 'no refusal changed the model');
});

test('the last active API key cannot be revoked (409)', async (t) => {
  const { call } = await setup(t);
  const [only] = (await call('GET', '/v1/api-keys')).body.items;
  const res = await call('DELETE', `/v1/api-keys/${only.id}`);
  t.is(res.status, 409);
  t.is(res.body.error.code, 'ERR_STORE_LAST_API_KEY');
});

test('storage failures are 503 (retry) or 500 (operator), and internals do not leak', async (t) => {
  const store = new MemoryStore({ ids: sequentialIds() });
  const { call } = await setup(t, store);
  store.failNextWrite(
    new StoreFullError('/var/lib/sag/controller.db: the disk is full; nothing was written'),
  );
  const full = await call('POST', '/v1/cens', { name: 'X' });
  t.is(full.status, 503);
  t.is(full.body.error.code, 'ERR_STORE_FULL');
  store.failNextWrite(new StoreCorruptError('damaged'));
  t.is((await call('POST', '/v1/cens', { name: 'X' })).status, 500);
  store.failNextWrite(new TypeError('secret internal detail'));
  const internal = await call('POST', '/v1/cens', { name: 'X' });
  t.deepEqual(internal, {
    status: 500,
    body: { error: { code: 'ERR_INTERNAL', message: 'internal error; the controller log has the details' } },
  });
  t.is((await call('POST', '/v1/cens', { name: 'X' })).status, 201, 'the store works again after the fault');
  await store.close();
  t.is((await call('GET', '/v1/health')).status, 503);
});

test('over SQLite: registrations, keys and device tokens survive a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sag-api-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'controller.db');
  const first = openSqliteStore({ path });
  const { app, call, token } = await setup(t, first);
  await call('POST', '/v1/instances', { ...INSTANCE, id: 'sag-hz1' });
  const dev = await call('POST', '/v1/devices', {
    serial: 'SN-1',
    model: 'app',
    publicKey: KEY(1),
    softwareVersion: '1',
  });
  await call('POST', '/v1/devices/SN-1/bind', { instanceId: 'sag-hz1' });
  const refused = await call('DELETE', '/v1/instances/sag-hz1');
  t.is(refused.status, 409);
  await app.close();
  await first.close();

  const second = openSqliteStore({ path });
  t.teardown(() => second.close());
  const app2 = buildControllerApp({ store: second, clock: () => NOW });
  t.teardown(() => app2.close());
  const config = await app2.inject({
    method: 'GET',
    url: '/v1/devices/SN-1/config',
    headers: { authorization: `Bearer ${dev.body.token}` },
  });
  t.is(config.statusCode, 200);
  t.is(config.json().instance.id, 'sag-hz1');
  t.is(config.json().modelVersion, 3);
  const list = await app2.inject({
    method: 'GET',
    url: '/v1/instances',
    headers: { authorization: `Bearer ${token}` },
  });
  t.is(list.json().items[0].state, 'bound');
});
