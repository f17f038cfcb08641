/**
 * API abuse, table-driven over every route `controllerRoutes()` returns: missing,
 * wrong-typed, oversized, unknown and malicious body fields, bad path parameters,
 * prototype-pollution keys, device tokens on operator routes and on other devices,
 * and the activation rate limits. Every refusal must be a 4xx with
 * `{error: {code, message}}` (naming the field for schema refusals) and must leave
 * the store exactly as it was (model state, audit log, API keys, device status).
 */
import test, { type ExecutionContext } from 'ava';
import type { InjectOptions } from 'fastify';
import { sequentialIds } from '../../src/controller/model/index.js';
import {
  buildControllerApp,
  controllerRoutes,
  type ActivationLimits,
} from '../../src/controller/api/index.js';
import type { JsonSchema } from '../../src/controller/api/schemas.js';
import type { RouteSpec } from '../../src/controller/api/route.js';
import { MemoryStore } from '../../src/controller/store/index.js';

const NOW = 1_700_000_000_000;
const KEY = (n: number) => Buffer.alloc(32, n).toString('base64');
const WAN = { name: 'wan1', kind: 'wired', priority: 1, weight: 100 };
const EP = '203.0.113.1:51820';

/** The route table, built over a throwaway store (the handlers are never called). */
const ROUTES: RouteSpec[] = controllerRoutes({ store: new MemoryStore(), clock: () => NOW });

/** A schema-valid body per operation that takes one; every array carries one item (the template for oversized lists). */
const BASE: Record<string, Record<string, unknown>> = {
  createApiKey: { name: 'ci' },
  createActivationCode: { ttlSeconds: 3600 },
  activateDevice: { serial: 'SN-2', code: 'AAAAA-AAAAA-AAAAA-AAAAA', publicKey: KEY(9) },
  reportDeviceStatus: {
    softwareVersion: '1.0',
    configVersion: null,
    accessPointId: 'ap-hz',
    peers: [
      {
        accessPointId: 'ap-hz',
        publicKey: KEY(100),
        endpoint: EP,
        lastHandshakeUnixMs: 0,
        rxBytes: 0,
        txBytes: 0,
        rxPackets: 0,
        txPackets: 0,
      },
    ],
    probes: [{ accessPointId: 'ap-hz', endpoint: EP, rttMs: 5, atUnixMs: 0 }],
  },
  registerDevice: { serial: 'SN-9', model: 'app', publicKey: KEY(9), softwareVersion: '1.0' },
  updateDevice: { softwareVersion: '1.1' },
  bindDevice: { instanceId: 'sag-2' },
  createArea: { name: 'europe', regions: ['eu-west-1'] },
  updateArea: { regions: ['eu-west-1'] },
  createAccessPoint: {
    id: 'ap-x',
    area: 'mainland',
    endpoints: ['203.0.113.5:51820'],
    maxInstances: 5,
    publicKey: KEY(5),
  },
  updateAccessPoint: { maxInstances: 5 },
  createInstance: {
    id: 'sag-9',
    name: 'Nine',
    area: 'mainland',
    model: 'app',
    bandwidthMbps: 10,
    lanCidrs: ['192.168.9.0/24'],
    uplinks: [WAN],
  },
  updateInstance: { name: 'Renamed' },
  createCcn: { id: 'ccn-x', name: 'X', area: 'mainland', cidrs: ['10.20.0.0/16'] },
  updateCcn: { name: 'Y' },
  createCen: { id: 'cen-x', name: 'X' },
  updateCen: { name: 'Y' },
  setGrant: { mbps: 10 },
  createVpc: { id: 'vpc-x', name: 'V', region: 'cn-hangzhou', cidrs: ['172.16.0.0/16'] },
  updateVpc: { name: 'W' },
};

const MALICIOUS: [string, string][] = [
  ['path traversal', '../../etc/passwd'],
  ['SQL fragment', "'; DROP TABLE entities; --"],
  ['NUL byte', 'a\u0000b'],
  ['long unicode', '\u{1D518}'.repeat(2000)],
  ['__proto__', '__proto__'],
  ['constructor', 'constructor'],
  ['CRLF', 'x\r\nSet-Cookie: a=b'],
  ['template/HTML', '<script>${7*7}</script>'],
];

/** Path-parameter values that must never reach a handler as a usable key (or must be a plain 404). */
const BAD_PARAMS: [string, string][] = [
  ['path traversal', '../../etc/passwd'],
  ['SQL fragment', "'; DROP TABLE entities; --"],
  ['NUL byte', 'a\u0000b'],
  // Over the schemas' maxLength (52/64) but under Fastify's router limit (maxParamLength 100); see the failing test below for longer ones.
  ['oversized', 'x'.repeat(90)],
  // 8 astral characters are 96 characters percent-encoded, just under the router limit; longer ones are in the failing test.
  ['unicode', '\u{1D518}'.repeat(8)],
  ['__proto__', '__proto__'],
  ['constructor', 'constructor'],
  ['prototype', 'prototype'],
  ['toString', 'toString'],
  ['hasOwnProperty', 'hasOwnProperty'],
  ['sag-constructor', 'sag-constructor'],
  ['unknown id', 'sag-404'],
];

async function setup(t: ExecutionContext, limits?: ActivationLimits) {
  const store = new MemoryStore({ ids: sequentialIds() });
  const { token, key } = await store.createApiKey({ name: 'test' }, { actor: 'test', at: NOW });
  const clock = { now: NOW };
  const app = buildControllerApp({
    store,
    clock: () => clock.now,
    storeCheckMs: 50,
    ...(limits ? { activationLimits: limits } : {}),
  });
  t.teardown(() => app.close());
  const call = async (
    method: InjectOptions['method'],
    url: string,
    payload?: unknown,
    auth: string | null = token,
    extra: { raw?: boolean; remoteAddress?: string; headers?: Record<string, string> } = {},
  ) => {
    const res = await app.inject({
      method,
      url,
      remoteAddress: extra.remoteAddress ?? '192.0.2.1',
      ...(payload === undefined
        ? {}
        : { payload: extra.raw ? (payload as string) : JSON.stringify(payload) }),
      headers: {
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        ...(auth === null ? {} : { authorization: `Bearer ${auth}` }),
        ...extra.headers,
      },
    });
    let body: any;
    try {
      body = res.body === '' ? undefined : res.json();
    } catch {
      body = res.body;
    }
    return { status: res.statusCode, body, headers: res.headers };
  };
  // A small network: hub ap-hz, instances sag-1/sag-2 in ccn-main, cen-1 with vpc-1, SN-1 bound to sag-1, SN-2 unbound.
  const ok = async (method: InjectOptions['method'], url: string, payload?: unknown) => {
    const res = await call(method, url, payload);
    if (res.status >= 300)
      throw new Error(`setup ${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  };
  await ok('POST', '/v1/access-points', {
    id: 'ap-hz',
    area: 'mainland',
    endpoints: [EP],
    maxInstances: 10,
    publicKey: KEY(100),
  });
  for (const n of [1, 2]) {
    await ok('POST', '/v1/instances', {
      id: `sag-${n}`,
      name: `I${n}`,
      area: 'mainland',
      model: 'app',
      bandwidthMbps: 50,
      lanCidrs: [`192.168.${n}.0/24`],
      uplinks: [WAN],
    });
  }
  await ok('POST', '/v1/ccns', { id: 'ccn-main', name: 'Main', area: 'mainland', cidrs: ['10.10.0.0/16'] });
  await ok('PUT', '/v1/ccns/ccn-main/members/sag-1');
  await ok('POST', '/v1/cens', { id: 'cen-1', name: 'C' });
  await ok('POST', '/v1/vpcs', { id: 'vpc-1', name: 'V1', region: 'cn-hangzhou', cidrs: ['172.20.0.0/16'] });
  const dev1 = (
    await ok('POST', '/v1/devices', {
      serial: 'SN-1',
      model: 'app',
      publicKey: KEY(1),
      softwareVersion: '1.0',
    })
  ).body.token as string;
  await ok('POST', '/v1/devices/SN-1/bind', { instanceId: 'sag-1' });
  const dev2 = (
    await ok('POST', '/v1/devices', {
      serial: 'SN-2',
      model: 'app',
      publicKey: KEY(2),
      softwareVersion: '1.0',
    })
  ).body.token as string;
  await ok('POST', '/v1/devices/SN-2/status', BASE['reportDeviceStatus']);

  /** Everything a request could change, as one comparable string. */
  const snapshot = async () =>
    JSON.stringify({
      state: await store.load(),
      audit: await store.audit({ after: 0, limit: 1000 }),
      keys: await store.listApiKeys(),
      status: [await store.getDeviceStatus('SN-1'), await store.getDeviceStatus('SN-2')],
      auth: [
        await store.authenticateDevice(dev1),
        await store.authenticateDevice(dev2),
        (await store.authenticateApiKey(token))?.id,
      ],
    });
  return { app, store, token, keyId: key.id, dev1, dev2, clock, call, snapshot };
}

type Ctx = Awaited<ReturnType<typeof setup>>;

/** Schema-valid values for path parameters, pointing at entities of the setup network. */
function validParam(spec: RouteSpec, name: string, keyId: string): string {
  if (spec.url.startsWith('/v1/api-keys')) return keyId;
  if (name === 'serial') return 'SN-1';
  if (name === 'name' || name === 'areaA') return 'mainland';
  if (name === 'areaB') return 'international';
  if (name === 'instanceId') return 'sag-1';
  if (name === 'ccnId') return 'ccn-main';
  if (name === 'vpcId') return 'vpc-1';
  const prefix = /^\/v1\/([a-z-]+)/.exec(spec.url)?.[1];
  return (
    { instances: 'sag-1', ccns: 'ccn-main', cens: 'cen-1', vpcs: 'vpc-1', 'access-points': 'ap-hz' }[
      prefix ?? ''
    ] ?? 'sag-1'
  );
}

function urlOf(spec: RouteSpec, keyId: string, override: Record<string, string> = {}): string {
  return spec.url.replace(/:([A-Za-z]+)/g, (_m, name: string) =>
    encodeURIComponent(override[name] ?? validParam(spec, name, keyId)),
  );
}

/** A 4xx with the error envelope; `field` (when given) must be named in the message. */
function assertRefused(
  t: ExecutionContext,
  label: string,
  res: { status: number; body: any },
  allowed: number[],
  field?: string,
): void {
  t.true(
    allowed.includes(res.status),
    `${label}: status ${res.status} not in ${allowed.join('/')}: ${JSON.stringify(res.body)?.slice(0, 300)}`,
  );
  const err = res.body?.error;
  t.true(
    typeof err?.code === 'string' && err.code.startsWith('ERR_'),
    `${label}: error.code ${JSON.stringify(err?.code)}`,
  );
  t.true(
    typeof err?.message === 'string' && err.message.length > 0 && err.message.length < 2000,
    `${label}: error.message`,
  );
  if (field !== undefined && res.status === 400)
    t.true(String(err?.message).includes(field), `${label}: message "${err?.message}" should name ${field}`);
}

interface Kind {
  type?: string;
  nullable: boolean;
  enum: boolean;
  maxLength?: number;
  maxItems?: number;
}

function kindOf(s: JsonSchema): Kind {
  const one = s['oneOf'] as JsonSchema[] | undefined;
  if (one) {
    const main = one.find((b) => b['type'] !== 'null') ?? {};
    return { ...kindOf(main), nullable: one.some((b) => b['type'] === 'null') };
  }
  return {
    type: s['type'] as string | undefined,
    nullable: false,
    enum: Array.isArray(s['enum']),
    ...(typeof s['maxLength'] === 'number' ? { maxLength: s['maxLength'] } : {}),
    ...(typeof s['maxItems'] === 'number' ? { maxItems: s['maxItems'] } : {}),
  };
}

interface Case {
  label: string;
  payload: unknown;
  raw?: boolean;
  allowed: number[];
  field?: string;
}

/** Every schema refusal for one body: per field missing, wrong types, null, oversized; plus unknown fields and non-objects. */
function bodyCases(spec: RouteSpec, base: Record<string, unknown>): Case[] {
  const schema = spec.body!;
  const cases: Case[] = [];
  const required = new Set(schema.required ?? []);
  for (const [field, s] of Object.entries(schema.properties)) {
    const at = `body.${field}`;
    const k = kindOf(s);
    const withField = (v: unknown) => ({ ...base, [field]: v });
    if (required.has(field)) {
      const { [field]: _gone, ...rest } = base;
      cases.push({ label: `${field} missing`, payload: rest, allowed: [400], field: at });
    }
    const wrong: [string, unknown][] =
      k.type === 'string'
        ? [
            ['number', 12345],
            ['boolean', true],
            ['array', ['x']],
            ['object', { a: 'x' }],
          ]
        : k.type === 'integer'
          ? [
              ['string', '5'],
              ['float', 1.5],
              ['array', [5]],
              ['object', { n: 5 }],
              ['huge', 1e300],
            ]
          : k.type === 'number'
            ? [
                ['string', '5'],
                ['array', [5]],
              ]
            : k.type === 'array'
              ? [
                  ['object', { 0: 'x' }],
                  ['string', 'x'],
                  ['number', 7],
                ]
              : k.type === 'object'
                ? [
                    ['array', []],
                    ['string', 'x'],
                  ]
                : [];
    for (const [what, v] of wrong)
      cases.push({ label: `${field} as ${what}`, payload: withField(v), allowed: [400], field: at });
    if (!k.nullable)
      cases.push({ label: `${field} null`, payload: withField(null), allowed: [400], field: at });
    if (k.type === 'string' && !k.enum) {
      cases.push({
        label: `${field} 10 KB`,
        payload: withField('a'.repeat(10_000)),
        allowed: [400],
        field: at,
      });
      cases.push({ label: `${field} 100 KB`, payload: withField('a'.repeat(100_000)), allowed: [413] });
    }
    if (k.type === 'array') {
      const item = (base[field] as unknown[] | undefined)?.[0] ?? 'x';
      if (k.maxItems !== undefined) {
        cases.push({
          label: `${field} maxItems+1`,
          payload: withField(Array.from({ length: k.maxItems + 1 }, () => item)),
          allowed: [400, 413],
          field: at,
        });
      }
      cases.push({
        label: `${field} 100k items`,
        payload: withField(Array.from({ length: 100_000 }, () => 1)),
        allowed: [413],
      });
      cases.push({
        label: `${field} item of wrong type`,
        payload: withField([typeof item === 'string' ? 42 : 'x']),
        allowed: [400],
        field: `${at}[0]`,
      });
    }
  }
  cases.push({
    label: 'unknown field (typo)',
    payload: { ...base, bandwithMbps: 5 },
    allowed: [400],
    field: 'body.bandwithMbps',
  });
  cases.push({
    label: 'unknown field "constructor"',
    payload: { ...base, constructor: { prototype: { polluted: true } } },
    allowed: [400],
  });
  cases.push({
    label: 'unknown field "__proto__" (raw JSON)',
    payload: `{"__proto__":{"polluted":true},${JSON.stringify(base).slice(1)}`,
    raw: true,
    allowed: [400],
  });
  cases.push({
    label: 'nested "__proto__" (raw JSON)',
    payload: `${JSON.stringify(base).slice(0, -1)}${Object.keys(base).length ? ',' : ''}"x":{"__proto__":{"polluted":true}}}`,
    raw: true,
    allowed: [400],
  });
  for (const [what, v] of [
    ['array', [base]],
    ['string', 'body'],
    ['number', 42],
  ] as [string, unknown][]) {
    cases.push({ label: `body as ${what}`, payload: v, allowed: [400], field: 'body' });
  }
  if (!spec.optionalBody)
    cases.push({ label: 'body null', payload: 'null', raw: true, allowed: [400], field: 'body' });
  cases.push({ label: 'malformed JSON', payload: '{"name":', raw: true, allowed: [400] });
  cases.push({
    label: 'deeply nested JSON',
    payload: `${'['.repeat(5000)}${']'.repeat(5000)}`,
    raw: true,
    allowed: [400],
  });
  cases.push({
    label: 'whole body over the limit',
    payload: { ...base, pad: 'p'.repeat(200_000) },
    allowed: [413],
  });
  return cases;
}

function authFor(spec: RouteSpec, ctx: Ctx): string | null {
  return spec.auth === 'public' ? null : ctx.token;
}

const withBody = ROUTES.filter((r) => r.body !== undefined);
const withParams = ROUTES.filter((r) => r.params !== undefined);

test('abuse table covers every route with a body', (t) => {
  t.true(ROUTES.length >= 50, `${ROUTES.length} routes`);
  for (const r of withBody) t.truthy(BASE[r.operationId], `no base body for ${r.operationId}`);
  for (const r of withBody) {
    // Each base body is itself schema-valid in the shape sense: only known fields.
    for (const f of Object.keys(BASE[r.operationId] ?? {}))
      t.true(f in r.body!.properties, `${r.operationId}.${f}`);
  }
});

/** Fields whose refusal is known to leave a write behind; covered by the test.failing below instead. */
const KNOWN_PARTIAL_WRITES = new Set(['reportDeviceStatus.softwareVersion']);

for (const spec of withBody) {
  test(`body abuse: ${spec.method} ${spec.url} (${spec.operationId})`, async (t) => {
    const ctx = await setup(t);
    const base = BASE[spec.operationId]!;
    const cases = bodyCases(spec, base);
    const url = urlOf(spec, ctx.keyId);
    for (const c of cases) {
      const before = await ctx.snapshot();
      const res = await ctx.call(spec.method, url, c.payload, authFor(spec, ctx), { raw: c.raw ?? false });
      assertRefused(t, c.label, res, c.allowed, c.field);
      t.is(await ctx.snapshot(), before, `${c.label}: the store changed`);
      t.is(
        (Object.prototype as Record<string, unknown>)['polluted'],
        undefined,
        `${c.label}: Object.prototype polluted`,
      );
      t.is(({} as Record<string, unknown>)['polluted'], undefined);
    }
    t.log(`${cases.length} cases`);
  });

  test(`malicious strings: ${spec.method} ${spec.url} (${spec.operationId})`, async (t) => {
    const ctx = await setup(t);
    const base = BASE[spec.operationId]!;
    const url = urlOf(spec, ctx.keyId);
    let refused = 0;
    let accepted = 0;
    for (const [field, s] of Object.entries(spec.body!.properties)) {
      if (kindOf(s).type !== 'string' || KNOWN_PARTIAL_WRITES.has(`${spec.operationId}.${field}`)) continue;
      for (const [what, value] of MALICIOUS) {
        const label = `${field} = ${what}`;
        const before = await ctx.snapshot();
        const res = await ctx.call(spec.method, url, { ...base, [field]: value }, authFor(spec, ctx));
        t.true(res.status < 500, `${label}: ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`);
        if (res.status >= 400) {
          refused++;
          assertRefused(t, label, res, [400, 401, 403, 404, 409, 413]);
          t.is(await ctx.snapshot(), before, `${label}: refused but the store changed`);
        } else {
          // Free text (names, versions) may legitimately hold these; then it must be stored verbatim, never interpreted.
          accepted++;
          t.false(value.includes('\u0000'), `${label}: a NUL byte was accepted (${res.status})`);
          t.false(/[\r\n]/.test(value), `${label}: CR/LF was accepted (${res.status})`);
          if (res.body && typeof res.body === 'object' && typeof res.body[field] === 'string')
            t.is(res.body[field], value, `${label}: stored verbatim`);
        }
      }
    }
    t.is((Object.prototype as Record<string, unknown>)['polluted'], undefined);
    t.log(`refused ${refused}, accepted ${accepted}`);
  });
}

for (const spec of withParams) {
  test(`bad path params: ${spec.method} ${spec.url} (${spec.operationId})`, async (t) => {
    const ctx = await setup(t);
    const body = BASE[spec.operationId];
    let n = 0;
    for (const name of Object.keys(spec.params!.properties)) {
      for (const [what, value] of BAD_PARAMS) {
        const label = `${name} = ${what}`;
        const before = await ctx.snapshot();
        const res = await ctx.call(
          spec.method,
          urlOf(spec, ctx.keyId, { [name]: value }),
          body,
          authFor(spec, ctx),
        );
        assertRefused(t, label, res, [400, 404], `params.${name}`);
        t.is(await ctx.snapshot(), before, `${label}: the store changed`);
        n++;
      }
    }
    t.log(`${n} cases`);
  });
}

test('raw path traversal and unknown routes answer 404 with the error envelope', async (t) => {
  const ctx = await setup(t);
  for (const url of [
    '/v1/devices/../api-keys',
    '/v1/../../etc/passwd',
    '/v1/devices/SN-1/config/../../../api-keys',
    '/v1/instances/%2e%2e%2fapi-keys',
    '/v1/areas/%00',
  ]) {
    for (const auth of [ctx.dev1, null]) {
      const before = await ctx.snapshot();
      const res = await ctx.call('GET', url, undefined, auth);
      t.true([400, 401, 403, 404].includes(res.status), `${url}: ${res.status}`);
      t.truthy(res.body?.error?.code, url);
      // Nothing an operator owns leaks to a device token or to nobody.
      t.false(
        JSON.stringify(res.body).includes('sagk_') || JSON.stringify(res.body).includes('"items"'),
        `${url}: leaked ${JSON.stringify(res.body)}`,
      );
      t.is(await ctx.snapshot(), before);
    }
  }
});

test('query abuse: audit and config queries refuse bad values naming the field', async (t) => {
  const ctx = await setup(t);
  const cases: [string, string][] = [
    ['/v1/audit?limit=abc', 'query.limit'],
    ['/v1/audit?limit=99999', 'query.limit'],
    ['/v1/audit?after=-1', 'query.after'],
    ['/v1/audit?after=9999999999999999', 'query.after'],
    [`/v1/audit?after=${'1'.repeat(10_000)}`, 'query.after'],
    ['/v1/audit?limit=0', 'query.limit'],
    ['/v1/audit?__proto__=1', 'query.__proto__'],
    ['/v1/audit?constructor=1', 'query.constructor'],
    ['/v1/audit?limit=1&limit=2', 'query.limit'],
    ['/v1/devices/SN-1/config?after=../../etc/passwd', 'query.after'],
    ['/v1/devices/SN-1/config?wait=5', 'query.wait'],
    [`/v1/devices/SN-1/config?after=${'a'.repeat(64)}&wait=-1`, 'query.wait'],
    [`/v1/devices/SN-1/config?after=${'a'.repeat(64)}&wait=99999`, 'query.wait'],
    ['/v1/devices/SN-1/config?after=%00', 'query.after'],
  ];
  for (const [url, field] of cases) {
    const before = await ctx.snapshot();
    const res = await ctx.call('GET', url);
    assertRefused(t, url, res, [400], field);
    t.is(await ctx.snapshot(), before);
  }
});

test('__proto__ and constructor keys in JSON bodies never pollute Object.prototype', async (t) => {
  const ctx = await setup(t);
  const payloads = [
    '{"__proto__":{"polluted":"yes"},"name":"k"}',
    '{"name":"k","constructor":{"prototype":{"polluted":"yes"}}}',
    '{"name":{"__proto__":{"polluted":"yes"}}}',
    '{"name":"k","__proto__":[]}',
  ];
  for (const spec of withBody) {
    for (const payload of payloads) {
      const before = await ctx.snapshot();
      const res = await ctx.call(spec.method, urlOf(spec, ctx.keyId), payload, authFor(spec, ctx), {
        raw: true,
      });
      assertRefused(t, `${spec.operationId} ${payload}`, res, [400]);
      t.is(await ctx.snapshot(), before);
    }
  }
  t.is((Object.prototype as Record<string, unknown>)['polluted'], undefined);
  t.is((Array.prototype as unknown as Record<string, unknown>)['polluted'], undefined);
  const state = await ctx.store.load();
  for (const c of Object.values(state))
    if (c && typeof c === 'object') t.is(Object.getPrototypeOf(c), Object.prototype);
});

test('wrong content types and methods are refused with the error envelope', async (t) => {
  const ctx = await setup(t);
  const before = await ctx.snapshot();
  const form = await ctx.call('POST', '/v1/instances', 'name=x', ctx.token, {
    raw: true,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assertRefused(t, 'form body', form, [415]);
  const text = await ctx.call('POST', '/v1/api-keys', '{"name":"k"}', ctx.token, {
    raw: true,
    headers: { 'content-type': 'text/plain' },
  });
  // Fastify parses text/plain as a string by default; the schema then refuses it with a clear 400.
  assertRefused(t, 'text/plain body', text, [400, 415], 'body');
  const method = await ctx.call('PUT', '/v1/instances', {});
  assertRefused(t, 'PUT on a collection', method, [404, 405]);
  t.is(await ctx.snapshot(), before);
});

// ---- authorization ---------------------------------------------------------------

test('a device token gets 403 on every operator route, for its own serial too, and nothing changes', async (t) => {
  const ctx = await setup(t);
  const operatorRoutes = ROUTES.filter((r) => r.auth === 'operator');
  t.true(operatorRoutes.length >= 40);
  for (const spec of operatorRoutes) {
    for (const tokenOf of [ctx.dev1, ctx.dev2]) {
      const before = await ctx.snapshot();
      const res = await ctx.call(spec.method, urlOf(spec, ctx.keyId), BASE[spec.operationId], tokenOf);
      assertRefused(t, `${spec.operationId} with a device token`, res, [403]);
      t.is(res.body?.error?.code, 'ERR_FORBIDDEN');
      t.is(await ctx.snapshot(), before, `${spec.operationId}: the store changed`);
    }
    // Invalid bodies too: authorization comes before validation, so nothing about the schema leaks.
    const bad = await ctx.call(
      spec.method,
      urlOf(spec, ctx.keyId),
      spec.body ? { junk: 1 } : undefined,
      ctx.dev1,
    );
    t.is(bad.status, 403, `${spec.operationId}: 403 before 400`);
  }
});

test('a device token cannot read or change another device (403) and nothing changes', async (t) => {
  const ctx = await setup(t);
  const deviceRoutes = ROUTES.filter((r) => r.auth === 'device');
  t.deepEqual(deviceRoutes.map((r) => r.operationId).sort(), ['getDeviceConfig', 'reportDeviceStatus']);
  const others = ['SN-2', 'sn-1', 'SN-1-', 'SN-404', 'constructor', '__proto__'];
  for (const spec of deviceRoutes) {
    for (const other of others) {
      const before = await ctx.snapshot();
      const res = await ctx.call(
        spec.method,
        urlOf(spec, ctx.keyId, { serial: other }),
        BASE[spec.operationId],
        ctx.dev1,
      );
      assertRefused(t, `${spec.operationId} as SN-1 on ${other}`, res, [403]);
      t.is(await ctx.snapshot(), before, `${spec.operationId} ${other}: the store changed`);
    }
  }
  // Its own routes work: the design lets a device read its config and report its status.
  t.is((await ctx.call('GET', '/v1/devices/SN-1/config', undefined, ctx.dev1)).status, 200);
  t.is((await ctx.call('POST', '/v1/devices/SN-1/status', BASE['reportDeviceStatus'], ctx.dev1)).status, 204);
  // SN-2's report as SN-2 stored earlier is untouched by SN-1's attempts.
  t.is((await ctx.store.getDeviceStatus('SN-2'))?.receivedAt, NOW);
});

test('operator keys may call the device routes (by design: mode "device" admits operators)', async (t) => {
  const ctx = await setup(t);
  t.is((await ctx.call('GET', '/v1/devices/SN-1/config')).status, 200);
  t.is((await ctx.call('POST', '/v1/devices/SN-2/status', BASE['reportDeviceStatus'])).status, 204);
});

test('missing, malformed, unknown and revoked credentials get 401 on every non-public route', async (t) => {
  const ctx = await setup(t);
  const guarded = ROUTES.filter((r) => r.auth !== 'public');
  const headers: [string, string | null][] = [
    ['none', null],
    ['garbage token', 'sagk_not-a-real-token'],
    ['empty token', ''],
    ['huge token', 'x'.repeat(8000)],
    ['SQL token', "' OR 1=1 --"],
  ];
  for (const spec of guarded) {
    for (const [what, tok] of headers) {
      const before = await ctx.snapshot();
      const res = await ctx.call(spec.method, urlOf(spec, ctx.keyId), BASE[spec.operationId], tok);
      assertRefused(t, `${spec.operationId} ${what}`, res, [401]);
      t.is(res.headers['www-authenticate'], 'Bearer realm="sag"');
      t.is(await ctx.snapshot(), before);
    }
  }
  // A deleted device's token stops working everywhere.
  const res = await ctx.call('DELETE', '/v1/devices/SN-2');
  t.is(res.status, 204);
  t.is((await ctx.call('GET', '/v1/devices/SN-2/config', undefined, ctx.dev2)).status, 401);
  t.is((await ctx.call('POST', '/v1/devices/SN-2/status', BASE['reportDeviceStatus'], ctx.dev2)).status, 401);
});

// ---- rate limits -------------------------------------------------------------------

const LIMITS: ActivationLimits = {
  perSerial: { attempts: 3, windowMs: 60_000 },
  perSource: { attempts: 5, windowMs: 60_000 },
};

test('activation: attempts beyond the per-serial limit get 429 with a shrinking Retry-After and change nothing', async (t) => {
  const ctx = await setup(t, LIMITS);
  t.is(
    (await ctx.call('POST', '/v1/devices', { serial: 'SN-A', model: 'app', softwareVersion: '1.0' })).status,
    201,
  );
  const { code } = (await ctx.call('POST', '/v1/devices/SN-A/activation')).body;
  const attempt = (from: string, c = 'AAAAA-AAAAA-AAAAA-AAAAA') =>
    ctx.call('POST', '/v1/activate', { serial: 'SN-A', code: c, publicKey: KEY(7) }, null, {
      remoteAddress: from,
    });
  for (let i = 0; i < 3; i++) t.is((await attempt(`198.51.100.${i}`)).status, 401);
  ctx.clock.now += 20_000;
  for (let i = 0; i < 10; i++) {
    const before = await ctx.snapshot();
    const res = await attempt(`198.51.100.${100 + i}`, code);
    assertRefused(t, `attempt ${i}`, res, [429]);
    t.is(res.body.error.code, 'ERR_RATE_LIMITED');
    t.is(res.headers['retry-after'], '40');
    t.is(await ctx.snapshot(), before, 'a limited attempt changes nothing, the code stays usable');
  }
  ctx.clock.now += 39_000;
  t.is((await attempt('198.51.100.250', code)).headers['retry-after'], '1');
  ctx.clock.now += 1_000;
  t.is((await attempt('198.51.100.250', code)).status, 200, 'a new window, and the code was not used up');
});

test('activation: one source is limited across serials; schema refusals come first and cost nothing', async (t) => {
  const ctx = await setup(t, LIMITS);
  const from = { remoteAddress: '203.0.113.77' };
  // Bodies the schema refuses never reach the limiter.
  for (let i = 0; i < 20; i++) {
    const res = await ctx.call('POST', '/v1/activate', { serial: `SN-${i}`, code: 'x' }, null, from);
    assertRefused(t, `invalid ${i}`, res, [400], 'body.publicKey');
  }
  for (let i = 0; i < 5; i++) {
    t.is(
      (
        await ctx.call(
          'POST',
          '/v1/activate',
          { serial: `SN-G${i}`, code: 'AAAAA', publicKey: KEY(7) },
          null,
          from,
        )
      ).status,
      401,
    );
  }
  for (let i = 0; i < 5; i++) {
    const res = await ctx.call(
      'POST',
      '/v1/activate',
      { serial: `SN-H${i}`, code: 'AAAAA', publicKey: KEY(7) },
      null,
      from,
    );
    assertRefused(t, `flood ${i}`, res, [429]);
    t.regex(String(res.headers['retry-after']), /^[1-9][0-9]*$/);
  }
  // Serials that exist are not burned by that flood from another source.
  t.is(
    (
      await ctx.call('POST', '/v1/activate', { serial: 'SN-G0', code: 'AAAAA', publicKey: KEY(7) }, null, {
        remoteAddress: '203.0.113.78',
      })
    ).status,
    401,
  );
});

// ---- known defects (test.failing: these pass once src/ is fixed, then drop `.failing`) ----

/*
 * Was a defect (fixed): a path parameter longer than Fastify's maxParamLength (default 100) or a
 * malformed percent-encoding ("%zz") is answered by Fastify itself (fastify.js
 * onMaxParamLength / onBadUrl) with its own body
 * `{"error":"Bad Request","code":"FST_ERR_MAX_PARAM_LENGTH","message":"'<whole url>' ...","statusCode":414}`
 * (400 FST_ERR_BAD_URL for bad encodings): `error` is a string, not `{code, message}`,
 * and the whole URL is echoed untruncated. Those routes-level errors never reach
 * app.setErrorHandler because buildControllerApp (src/controller/api/app.ts, the
 * Fastify({...}) options) passes no `frameworkErrors` handler; errors.ts FRAMEWORK_CODES
 * also has no 414 entry.
 */
test('regression: over-long or badly encoded path parameters get the {error: {code, message}} envelope', async (t) => {
  const ctx = await setup(t);
  for (const spec of withParams) {
    const name = Object.keys(spec.params!.properties)[0]!;
    for (const raw of ['x'.repeat(300), '%F0%9D%94%98'.repeat(100), '%zz']) {
      const url = spec.url.replace(/:([A-Za-z]+)/g, (_m, n: string) =>
        n === name ? raw : encodeURIComponent(validParam(spec, n, ctx.keyId)),
      );
      const before = await ctx.snapshot();
      const res = await ctx.call(spec.method, url, BASE[spec.operationId], authFor(spec, ctx));
      t.is(await ctx.snapshot(), before);
      t.true(res.status >= 400 && res.status < 500, `${spec.operationId} ${raw.slice(0, 5)}: ${res.status}`);
      t.is(
        typeof res.body?.error,
        'object',
        `${spec.operationId} ${raw.slice(0, 5)}: ${JSON.stringify(res.body).slice(0, 120)}`,
      );
      t.true(typeof res.body?.error?.code === 'string' && String(res.body.error.code).startsWith('ERR_'));
    }
  }
});

/*
 * Was a defect (fixed): POST /v1/devices/{serial}/status answers 400 ERR_MODEL_INVALID for a
 * softwareVersion the model refuses ("../../etc/passwd", NUL, CR/LF, "<script>", SQL)
 * but has already stored the report: src/controller/api/routes-agent.ts reportStatus()
 * calls `d.store.putDeviceStatus(serial, req.body, at)` (line 77) before the heartbeat
 * `d.apply(...)` (line 87) that validates softwareVersion (model/ops-edge.ts
 * validateSoftwareVersion). The refused report, malicious string included, is then
 * served to operators by GET /v1/devices/{serial}/status. A refusal must change nothing
 * (validate before storing, or store after the heartbeat).
 */
test('regression: a status report refused for its softwareVersion is not stored', async (t) => {
  const ctx = await setup(t);
  for (const [what, value] of MALICIOUS) {
    for (const [serial, token] of [
      ['SN-1', ctx.dev1],
      ['SN-2', ctx.dev2],
    ] as const) {
      const before = await ctx.snapshot();
      const res = await ctx.call(
        'POST',
        `/v1/devices/${serial}/status`,
        { ...BASE['reportDeviceStatus'], softwareVersion: value },
        token,
      );
      if (res.status < 400) continue; // a value the model accepts is a legitimate report
      assertRefused(t, `${serial} softwareVersion = ${what}`, res, [400]);
      t.is(
        await ctx.snapshot(),
        before,
        `${serial} softwareVersion = ${what}: refused (${res.status}) but the report was stored`,
      );
    }
  }
});
