/**
 * Controller HTTP API through fastify.inject (no sockets), over the in-memory
 * store: authentication and authorisation, every route's happy path, the device
 * configuration route (compiled configurations) and the OpenAPI document.
 * Activation, long polling and status reports: controller-api-agent.test.ts.
 */
import test, { type ExecutionContext } from 'ava';
import type { InjectOptions } from 'fastify';
import { sequentialIds } from '../../src/controller/model/index.js';
import { buildControllerApp, controllerRoutes, openapiPath } from '../../src/controller/api/index.js';
import { ensureOperatorKey } from '../../src/controller/server.js';
import { MemoryStore } from '../../src/controller/store/index.js';

const NOW = 1_700_000_000_000;
const KEY = (n: number) => Buffer.alloc(32, n).toString('base64');
const WAN = { name: 'wan1', kind: 'wired', priority: 1, weight: 100 };

async function setup(t: ExecutionContext) {
  const store = new MemoryStore({ ids: sequentialIds() });
  const { token } = await store.createApiKey({ name: 'test' }, { actor: 'test', at: NOW });
  const app = buildControllerApp({ store, clock: () => NOW });
  t.teardown(() => app.close());
  const call = async (
    method: InjectOptions['method'],
    url: string,
    payload?: unknown,
    auth: string | null = token,
  ) => {
    const res = await app.inject({
      method,
      url,
      ...(payload === undefined ? {} : { payload: payload as object }),
      headers: auth === null ? {} : { authorization: `Bearer ${auth}` },
    });
    return { status: res.statusCode, body: res.body === '' ? undefined : res.json(), headers: res.headers };
  };
  return { app, store, token, call };
}

/** A concrete URL for a route pattern; the values only need to pass the param schemas. */
function sample(url: string): string {
  const values: Record<string, string> = {
    id: 'sag-x',
    name: 'mainland',
    serial: 'SN-X',
    instanceId: 'sag-y',
    ccnId: 'ccn-x',
    vpcId: 'vpc-x',
    areaA: 'mainland',
    areaB: 'international',
  };
  return url
    .replace(/:([A-Za-z]+)/g, (_m, p: string) => values[p] ?? 'x')
    .replace('/api-keys/sag-x', '/api-keys/key-00');
}

const SPECS = controllerRoutes({ store: new MemoryStore(), clock: () => NOW });

test('health and the OpenAPI document need no credential', async (t) => {
  const { call } = await setup(t);
  t.deepEqual((await call('GET', '/v1/health', undefined, null)).body, { status: 'ok', version: 0 });
  t.is((await call('GET', '/v1/openapi.json', undefined, null)).status, 200);
});

test('every other route needs a credential (401 with a Bearer challenge)', async (t) => {
  const { call } = await setup(t);
  const guarded = SPECS.filter((s) => s.auth !== 'public');
  t.true(guarded.length > 40);
  for (const spec of guarded) {
    const res = await call(spec.method, sample(spec.url), spec.body ? {} : undefined, null);
    t.is(res.status, 401, `${spec.method} ${spec.url}`);
    t.is(res.body.error.code, 'ERR_UNAUTHENTICATED');
    t.is(res.headers['www-authenticate'], 'Bearer realm="sag"');
  }
});

test('a wrong, malformed or revoked credential is refused with 401', async (t) => {
  const { call, store } = await setup(t);
  for (const header of ['sagk_wrong', 'x'.repeat(300), '']) {
    const res = await call('GET', '/v1/instances', undefined, header);
    t.is(res.status, 401, header);
    t.regex(res.body.error.message, header === '' ? /Bearer <token>/ : /not a valid API key or device token/);
  }
  const basic = await (
    await setup(t)
  ).app.inject({ method: 'GET', url: '/v1/instances', headers: { authorization: 'Basic dXNlcjpwdw==' } });
  t.is(basic.statusCode, 401);
  const spare = await store.createApiKey({ name: 'spare' }, { actor: 't', at: NOW });
  t.is((await call('GET', '/v1/instances', undefined, spare.token)).status, 200);
  await call('DELETE', `/v1/api-keys/${spare.key.id}`);
  t.is((await call('GET', '/v1/instances', undefined, spare.token)).status, 401);
});

test('a device token reads only its own configuration (403 elsewhere)', async (t) => {
  const { call } = await setup(t);
  const a = await call('POST', '/v1/devices', {
    serial: 'SN-A',
    model: 'app',
    publicKey: KEY(1),
    softwareVersion: '1.0',
  });
  const b = await call('POST', '/v1/devices', {
    serial: 'SN-B',
    model: 'app',
    publicKey: KEY(2),
    softwareVersion: '1.0',
  });
  t.is(a.status, 201);
  const token = a.body.token as string;
  t.regex(token, /^sagd_/);
  // Its own configuration is served (an unbound device has none yet: 409, not 403).
  const own = await call('GET', '/v1/devices/SN-A/config', undefined, token);
  t.is(own.status, 409);
  t.is(own.body.error.code, 'ERR_COMPILER_DEVICE_NOT_BOUND');
  const other = await call('GET', '/v1/devices/SN-B/config', undefined, token);
  t.is(other.status, 403);
  t.is(other.body.error.code, 'ERR_FORBIDDEN');
  t.is((await call('GET', '/v1/devices/SN-A/config', undefined, b.body.token)).status, 403);
  for (const spec of SPECS.filter((s) => s.auth === 'operator')) {
    const res = await call(
      spec.method,
      sample(spec.url).replace('SN-X', 'SN-A'),
      spec.body ? {} : undefined,
      token,
    );
    t.is(res.status, 403, `${spec.method} ${spec.url}`);
    t.regex(res.body.error.message, /only read its own configuration/);
  }
  // Deleting the device kills its token.
  await call('DELETE', '/v1/devices/SN-A');
  t.is((await call('GET', '/v1/devices/SN-A/config', undefined, token)).status, 401);
});

test('areas and access points: create, read, update, delete', async (t) => {
  const { call } = await setup(t);
  t.deepEqual(
    (await call('GET', '/v1/areas')).body.items.map((a: { name: string }) => a.name),
    ['international', 'mainland'],
  );
  const area = await call('POST', '/v1/areas', { name: 'europe', regions: ['eu-west-9'] });
  t.is(area.status, 201);
  t.deepEqual(area.body, { name: 'europe', regions: ['eu-west-9'], version: 1 });
  t.deepEqual(
    (await call('PATCH', '/v1/areas/europe', { regions: ['eu-west-9', 'eu-north-9'] })).body.regions,
    ['eu-west-9', 'eu-north-9'],
  );
  t.is((await call('GET', '/v1/areas/europe')).body.version, 2);
  t.is((await call('DELETE', '/v1/areas/europe')).status, 204);
  t.is((await call('GET', '/v1/areas/europe')).status, 404);

  const ap = await call('POST', '/v1/access-points', {
    area: 'mainland',
    endpoints: ['203.0.113.1:51820'],
    maxInstances: 10,
  });
  t.is(ap.status, 201);
  t.regex(ap.body.id, /^ap-\d+$/);
  t.is((await call('PATCH', `/v1/access-points/${ap.body.id}`, { maxInstances: 20 })).body.maxInstances, 20);
  t.is((await call('GET', `/v1/access-points/${ap.body.id}`)).body.endpoints[0], '203.0.113.1:51820');
  t.is((await call('GET', '/v1/access-points')).body.items.length, 1);
  t.is((await call('DELETE', `/v1/access-points/${ap.body.id}`)).status, 204);
});

test('instances and devices: create, bind, unbind, rotate, delete', async (t) => {
  const { call } = await setup(t);
  const inst = await call('POST', '/v1/instances', {
    id: 'sag-hz1',
    name: 'Hangzhou',
    area: 'mainland',
    model: 'hardware',
    bandwidthMbps: 50,
    lanCidrs: ['192.168.1.0/24'],
    uplinks: [WAN],
  });
  t.is(inst.status, 201);
  t.is(inst.body.state, 'unbound');
  t.is((await call('PATCH', '/v1/instances/sag-hz1', { bandwidthMbps: 80 })).body.bandwidthMbps, 80);
  t.is((await call('GET', '/v1/instances')).body.items.length, 1);
  const dev = await call('POST', '/v1/devices', {
    serial: 'SN-1',
    model: 'hardware',
    publicKey: KEY(1),
    softwareVersion: '2.0',
  });
  t.deepEqual(dev.body.device, {
    serial: 'SN-1',
    model: 'hardware',
    publicKey: KEY(1),
    softwareVersion: '2.0',
    lastSeen: null,
    instanceId: null,
    version: 3,
  });
  t.is((await call('PATCH', '/v1/devices/SN-1', { softwareVersion: '2.1' })).body.softwareVersion, '2.1');
  const bound = await call('POST', '/v1/devices/SN-1/bind', { instanceId: 'sag-hz1' });
  t.is(bound.status, 200);
  t.is(bound.body.device.instanceId, 'sag-hz1');
  t.is(bound.body.instance.state, 'bound');
  const unbound = await call('POST', '/v1/devices/SN-1/unbind');
  t.is(unbound.body.device.instanceId, null);
  t.is(unbound.body.instance.state, 'unbound');
  t.is(
    (await call('POST', '/v1/devices/SN-1/unbind')).body.instance,
    null,
    'unbinding twice is a harmless no-op',
  );
  const rotated = await call('POST', '/v1/devices/SN-1/token');
  t.not(rotated.body.token, dev.body.token);
  t.is((await call('GET', '/v1/devices/SN-1/config', undefined, dev.body.token)).status, 401);
  // The rotated token authenticates: the device is unbound, so the compiler's 409 answers.
  t.is((await call('GET', '/v1/devices/SN-1/config', undefined, rotated.body.token)).status, 409);
  t.is((await call('GET', '/v1/devices')).body.items.length, 1);
  t.is((await call('GET', '/v1/devices/SN-1')).body.serial, 'SN-1');
  t.is((await call('DELETE', '/v1/devices/SN-1')).status, 204);
  t.is((await call('DELETE', '/v1/instances/sag-hz1')).status, 204);
});

test('CCNs, CENs and VPCs: membership, attachments, grants, routes and device config', async (t) => {
  const { call } = await setup(t);
  await call('POST', '/v1/instances', {
    id: 'sag-hz1',
    name: 'Hangzhou',
    area: 'mainland',
    model: 'app',
    bandwidthMbps: 50,
    lanCidrs: ['192.168.1.0/24'],
    uplinks: [WAN],
  });
  await call('POST', '/v1/instances', {
    id: 'sag-hz2',
    name: 'Ningbo',
    area: 'mainland',
    model: 'app',
    bandwidthMbps: 50,
    lanCidrs: ['192.168.2.0/24'],
    uplinks: [],
  });
  const dev = await call('POST', '/v1/devices', {
    serial: 'SN-1',
    model: 'app',
    publicKey: KEY(1),
    softwareVersion: '1',
  });
  await call('POST', '/v1/devices/SN-1/bind', { instanceId: 'sag-hz1' });

  const ccn = await call('POST', '/v1/ccns', { name: 'Main', area: 'mainland', cidrs: ['10.10.0.0/16'] });
  t.is(ccn.status, 201);
  const ccnId = ccn.body.id as string;
  t.is((await call('PATCH', `/v1/ccns/${ccnId}`, { name: 'Main net' })).body.name, 'Main net');
  t.is((await call('PUT', `/v1/ccns/${ccnId}/members/sag-hz1`)).body.ccnId, ccnId);
  await call('PUT', `/v1/ccns/${ccnId}/members/sag-hz2`);
  t.deepEqual(
    (await call('GET', `/v1/ccns/${ccnId}/members`)).body.items.map((i: { id: string }) => i.id),
    ['sag-hz1', 'sag-hz2'],
  );

  const cen = await call('POST', '/v1/cens', { name: 'Core' });
  const cenId = cen.body.id as string;
  t.is((await call('PATCH', `/v1/cens/${cenId}`, { name: 'Core net' })).body.name, 'Core net');
  const vpc = await call('POST', '/v1/vpcs', {
    name: 'SG',
    region: 'ap-southeast-1',
    cidrs: ['172.16.0.0/16'],
  });
  t.is(vpc.status, 201);
  const vpcId = vpc.body.id as string;
  t.is((await call('PATCH', `/v1/vpcs/${vpcId}`, { name: 'Singapore' })).body.name, 'Singapore');
  t.is((await call('PUT', `/v1/cens/${cenId}/ccns/${ccnId}`)).body.cenId, cenId);
  t.is((await call('PUT', `/v1/cens/${cenId}/vpcs/${vpcId}`)).body.cenId, cenId);
  const att = (await call('GET', `/v1/cens/${cenId}/attachments`)).body;
  t.deepEqual(
    [att.ccns.map((c: { id: string }) => c.id), att.vpcs.map((v: { id: string }) => v.id)],
    [[ccnId], [vpcId]],
  );

  // Without a grant the international VPC is out of reach; with one it is routed.
  const before = (await call('GET', '/v1/devices/SN-1/config', undefined, dev.body.token)).body;
  t.is(before.kind, 'device');
  t.is(before.instance.id, 'sag-hz1');
  t.is(before.ccnId, ccnId);
  t.deepEqual(
    before.routes.map((r: { cidr: string }) => r.cidr),
    ['10.10.0.0/16', '192.168.2.0/24'],
  );
  const granted = await call('PUT', `/v1/cens/${cenId}/grants/mainland/international`, { mbps: 20 });
  t.deepEqual(granted.body.grants, [{ areas: ['international', 'mainland'], mbps: 20 }]);
  const after = (await call('GET', '/v1/devices/SN-1/config', undefined, dev.body.token)).body;
  t.deepEqual(
    after.routes.find((r: { cidr: string }) => r.cidr === '172.16.0.0/16'),
    { cidr: '172.16.0.0/16', target: { kind: 'vpc', id: vpcId }, area: 'international', grantMbps: 20 },
  );
  t.not(after.version, before.version);
  t.true(after.modelVersion > before.modelVersion);
  t.is((await call('GET', '/v1/instances/sag-hz1/routes')).body.items.length, 3);
  t.is((await call('GET', `/v1/ccns/${ccnId}/routes`)).body.items.length, 4);
  t.deepEqual((await call('DELETE', `/v1/cens/${cenId}/grants/international/mainland`)).body.grants, []);

  t.is((await call('DELETE', `/v1/cens/${cenId}/vpcs/${vpcId}`)).body.cenId, null);
  t.is((await call('DELETE', `/v1/cens/${cenId}/ccns/${ccnId}`)).body.cenId, null);
  t.is((await call('DELETE', `/v1/ccns/${ccnId}/members/sag-hz2`)).body.ccnId, null);
  t.is((await call('GET', `/v1/ccns/${ccnId}`)).body.name, 'Main net');
  t.is((await call('GET', `/v1/cens/${cenId}`)).body.name, 'Core net');
  t.is((await call('GET', `/v1/vpcs/${vpcId}`)).body.region, 'ap-southeast-1');
  t.is((await call('GET', '/v1/ccns')).body.items.length, 1);
  t.is((await call('GET', '/v1/cens')).body.items.length, 1);
  t.is((await call('GET', '/v1/vpcs')).body.items.length, 1);
  t.is((await call('DELETE', `/v1/vpcs/${vpcId}`)).status, 204);
  t.is((await call('DELETE', `/v1/cens/${cenId}`)).status, 204);
  await call('DELETE', `/v1/ccns/${ccnId}/members/sag-hz1`);
  t.is((await call('DELETE', `/v1/ccns/${ccnId}`)).status, 204);
});

test('API keys and the audit log', async (t) => {
  const { call } = await setup(t);
  const created = await call('POST', '/v1/api-keys', { name: 'ci' });
  t.is(created.status, 201);
  t.regex(created.body.token, /^sagk_/);
  t.deepEqual(
    (await call('GET', '/v1/api-keys')).body.items.map((k: { name: string }) => k.name),
    ['test', 'ci'],
  );
  t.false(JSON.stringify((await call('GET', '/v1/api-keys')).body).includes(created.body.token));
  await call('POST', '/v1/cens', { name: 'Core' }, created.body.token);
  t.is((await call('DELETE', `/v1/api-keys/${created.body.key.id}`)).body.revokedAt, NOW);
  const audit = (await call('GET', '/v1/audit?after=0&limit=10')).body.items;
  t.deepEqual(
    audit.map((e: { command: { kind: string } }) => e.command.kind),
    ['apiKey.create', 'apiKey.create', 'cen.create', 'apiKey.revoke'],
  );
  t.is(audit[2].actor, `apikey:${created.body.key.id}`);
  t.is((await call('GET', '/v1/audit?after=3')).body.items.length, 1);
});

test('the OpenAPI document lists every served route with its schemas', async (t) => {
  const { app, call } = await setup(t);
  const doc = (await call('GET', '/v1/openapi.json', undefined, null)).body;
  t.is(doc.openapi, '3.1.0');
  let operations = 0;
  for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(methods)) {
      operations++;
      t.true(
        app.hasRoute({ method: method.toUpperCase() as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') }),
        `${method} ${path} is served`,
      );
    }
  }
  t.is(operations, SPECS.length);
  for (const spec of SPECS) {
    const op = doc.paths[openapiPath(spec.url)]?.[spec.method.toLowerCase()];
    t.truthy(op, `${spec.method} ${spec.url} is documented`);
    t.is(op.operationId, spec.operationId);
    if (spec.body) t.deepEqual(op.requestBody.content['application/json'].schema, spec.body);
    const pathParams = (spec.url.match(/:\w+/g) ?? []).map((p) => p.slice(1));
    t.deepEqual(
      op.parameters?.filter((p: { in: string }) => p.in === 'path').map((p: { name: string }) => p.name) ??
        [],
      pathParams,
    );
  }
  t.deepEqual(doc.paths['/v1/devices/{serial}/config'].get.security, [
    { operatorKey: [] },
    { deviceToken: [] },
  ]);
  t.is(new Set(SPECS.map((s) => s.operationId)).size, SPECS.length, 'operation ids are unique');
});

test('the first operator key is created once and printed once', async (t) => {
  const store = new MemoryStore();
  const printed: string[] = [];
  const print = (text: string) => printed.push(text);
  const key = await ensureOperatorKey(store, { at: NOW, print });
  t.truthy(key);
  t.is(printed.length, 1);
  const token = /(sagk_\S+)/.exec(printed[0] as string)?.[1] as string;
  t.is((await store.authenticateApiKey(token))?.id, key?.id);
  t.is(await ensureOperatorKey(store, { at: NOW, print }), undefined);
  t.is(printed.length, 1);

  const chosenStore = new MemoryStore();
  const chosen = 'bootstrap-secret-from-a-vault-0123456789';
  await ensureOperatorKey(chosenStore, { at: NOW, print, bootstrapApiKey: chosen });
  t.false((printed[1] as string).includes(chosen), 'a chosen key is not echoed');
  t.truthy(await chosenStore.authenticateApiKey(chosen));
});
