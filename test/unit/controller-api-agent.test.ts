/**
 * The API a device agent uses, through fastify.inject over the in-memory store:
 * activation codes (one-time, hashed, expiring, rate-limited), the compiled
 * configuration with long polling, and status reports with their heartbeat.
 */
import test, { type ExecutionContext } from 'ava';
import type { InjectOptions } from 'fastify';
import { performance } from 'node:perf_hooks';
import { sequentialIds } from '../../src/controller/model/index.js';
import {
  SOFTWARE_VERSION_EVERY_MS,
  buildControllerApp,
  type ActivationLimits,
} from '../../src/controller/api/index.js';
import { MemoryStore } from '../../src/controller/store/index.js';

const NOW = 1_700_000_000_000;
const KEY = (n: number) => Buffer.alloc(32, n).toString('base64');
const WAN = { name: 'wan1', kind: 'wired', priority: 1, weight: 100 };

interface Options {
  limits?: ActivationLimits;
}

async function setup(t: ExecutionContext, opts: Options = {}) {
  const store = new MemoryStore({ ids: sequentialIds() });
  const { token } = await store.createApiKey({ name: 'test' }, { actor: 'test', at: NOW });
  const clock = { now: NOW };
  const app = buildControllerApp({
    store,
    clock: () => clock.now,
    storeCheckMs: 50,
    ...(opts.limits ? { activationLimits: opts.limits } : {}),
  });
  t.teardown(() => app.close());
  const call = async (
    method: InjectOptions['method'],
    url: string,
    payload?: unknown,
    auth: string | null = token,
    remoteAddress = '192.0.2.1',
  ) => {
    const res = await app.inject({
      method,
      url,
      remoteAddress,
      ...(payload === undefined ? {} : { payload: payload as object }),
      headers: auth === null ? {} : { authorization: `Bearer ${auth}` },
    });
    return { status: res.statusCode, body: res.body === '' ? undefined : res.json(), headers: res.headers };
  };
  return { app, store, token, clock, call };
}

type Call = Awaited<ReturnType<typeof setup>>['call'];

/** Two instances in one CCN of mainland, one hub with a key, device SN-1 (key 1) bound to sag-1. */
async function network(call: Call) {
  await call('POST', '/v1/access-points', {
    id: 'ap-hz',
    area: 'mainland',
    endpoints: ['203.0.113.1:51820'],
    maxInstances: 10,
    publicKey: KEY(100),
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
  await call('POST', '/v1/instances', {
    id: 'sag-2',
    name: 'Two',
    area: 'mainland',
    model: 'app',
    bandwidthMbps: 50,
    lanCidrs: ['192.168.2.0/24'],
    uplinks: [WAN],
  });
  await call('POST', '/v1/ccns', { id: 'ccn-main', name: 'Main', area: 'mainland', cidrs: ['10.10.0.0/16'] });
  await call('PUT', '/v1/ccns/ccn-main/members/sag-1');
  await call('PUT', '/v1/ccns/ccn-main/members/sag-2');
  const dev = await call('POST', '/v1/devices', {
    serial: 'SN-1',
    model: 'app',
    publicKey: KEY(1),
    softwareVersion: '1.0',
  });
  await call('POST', '/v1/devices/SN-1/bind', { instanceId: 'sag-1' });
  return dev.body.token as string;
}

// ---- activation ------------------------------------------------------------------

test('activation: a device registered without a key sets it with a one-time code and gets its own token', async (t) => {
  const { call, store } = await setup(t);
  const reg = await call('POST', '/v1/devices', { serial: 'SN-A', model: 'app', softwareVersion: '1.0' });
  t.is(reg.status, 201);
  t.is(reg.body.device.publicKey, '', 'no key until activation');
  const created = await call('POST', '/v1/devices/SN-A/activation');
  t.is(created.status, 201, 'the body may be left out');
  t.regex(created.body.code, /^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
  t.deepEqual(
    { ...created.body, code: 'x' },
    { serial: 'SN-A', code: 'x', createdAt: NOW, expiresAt: NOW + 86_400_000, usedAt: null },
  );

  // Case and dashes do not matter; no credential is needed, the code is one.
  const typed = (created.body.code as string).toLowerCase().replace(/-/g, '');
  const done = await call('POST', '/v1/activate', { serial: 'SN-A', code: typed, publicKey: KEY(7) }, null);
  t.is(done.status, 200);
  t.is(done.body.device.publicKey, KEY(7));
  t.regex(done.body.token, /^sagd_/);
  t.is(await store.authenticateDevice(done.body.token), 'SN-A');
  t.is(await store.authenticateDevice(reg.body.token), undefined, 'the registration token stops working');

  const reused = await call(
    'POST',
    '/v1/activate',
    { serial: 'SN-A', code: created.body.code, publicKey: KEY(8) },
    null,
  );
  t.is(reused.status, 403);
  t.is(reused.body.error.code, 'ERR_ACTIVATION_USED');
  t.is((await call('GET', '/v1/devices/SN-A')).body.publicKey, KEY(7), 'a used code changes nothing');

  const audit = (await store.audit()).map((e) => e.command.kind);
  t.deepEqual(audit.slice(-3), ['device.createActivationCode', 'device.update', 'device.activate']);
  t.false(
    JSON.stringify(await store.audit()).includes(created.body.code),
    'the code is not in the audit log',
  );
});

test('activation: wrong code and unknown serial are the same 401; expired is 403; a taken key keeps the code', async (t) => {
  const { call, clock } = await setup(t);
  await call('POST', '/v1/devices', { serial: 'SN-A', model: 'app', softwareVersion: '1.0' });
  await call('POST', '/v1/devices', {
    serial: 'SN-B',
    model: 'app',
    publicKey: KEY(9),
    softwareVersion: '1.0',
  });
  const { code } = (await call('POST', '/v1/devices/SN-A/activation', { ttlSeconds: 120 })).body;
  const wrong = await call(
    'POST',
    '/v1/activate',
    { serial: 'SN-A', code: 'AAAAA-AAAAA-AAAAA-AAAAA', publicKey: KEY(7) },
    null,
  );
  t.is(wrong.status, 401);
  t.is(wrong.body.error.code, 'ERR_ACTIVATION_INVALID');
  const unknown = await call('POST', '/v1/activate', { serial: 'SN-NOPE', code, publicKey: KEY(7) }, null);
  t.is(unknown.status, 401);
  t.is(unknown.body.error.code, 'ERR_ACTIVATION_INVALID');
  t.is(
    (await call('POST', '/v1/activate', { serial: 'SN-B', code, publicKey: KEY(7) }, null)).status,
    401,
    "another device's code",
  );

  const taken = await call('POST', '/v1/activate', { serial: 'SN-A', code, publicKey: KEY(9) }, null);
  t.is(taken.status, 409, 'the key of SN-B');
  t.is(taken.body.error.code, 'ERR_MODEL_CONFLICT');
  const malformed = await call(
    'POST',
    '/v1/activate',
    { serial: 'SN-A', code, publicKey: 'A'.repeat(43) + '=' },
    null,
  );
  t.is(malformed.status, 400, 'the all-zero key');

  clock.now += 121_000;
  const expired = await call('POST', '/v1/activate', { serial: 'SN-A', code, publicKey: KEY(7) }, null);
  t.is(expired.status, 403);
  t.is(expired.body.error.code, 'ERR_ACTIVATION_EXPIRED');
  // A new code replaces the old one.
  const fresh = (await call('POST', '/v1/devices/SN-A/activation', {})).body.code;
  t.is(
    (await call('POST', '/v1/activate', { serial: 'SN-A', code, publicKey: KEY(7) }, null)).status,
    401,
    'the replaced code',
  );
  t.is(
    (await call('POST', '/v1/activate', { serial: 'SN-A', code: fresh, publicKey: KEY(7) }, null)).status,
    200,
  );
});

test('activation: only operators create codes, for registered devices, with a bounded lifetime', async (t) => {
  const { call } = await setup(t);
  const dev = await call('POST', '/v1/devices', {
    serial: 'SN-A',
    model: 'app',
    publicKey: KEY(1),
    softwareVersion: '1.0',
  });
  t.is((await call('POST', '/v1/devices/SN-A/activation', undefined, dev.body.token)).status, 403);
  t.is((await call('POST', '/v1/devices/SN-NOPE/activation')).status, 404);
  t.is((await call('POST', '/v1/devices/SN-A/activation', { ttlSeconds: 10 })).status, 400);
  t.is((await call('POST', '/v1/devices/SN-A/activation', { ttl: 100 })).status, 400);
  t.is(
    (await call('POST', '/v1/activate', { serial: 'SN-A', code: 'x' }, null)).status,
    400,
    'publicKey is required',
  );
});

test('activation: attempts are limited per serial and per source address (429 with Retry-After)', async (t) => {
  const limits = {
    perSerial: { attempts: 3, windowMs: 60_000 },
    perSource: { attempts: 5, windowMs: 60_000 },
  };
  const { call, clock } = await setup(t, { limits });
  await call('POST', '/v1/devices', { serial: 'SN-A', model: 'app', softwareVersion: '1.0' });
  const { code } = (await call('POST', '/v1/devices/SN-A/activation')).body;
  const guess = (serial: string, from: string, c = 'AAAAA-AAAAA-AAAAA-AAAAA') =>
    call('POST', '/v1/activate', { serial, code: c, publicKey: KEY(7) }, null, from);
  for (const from of ['198.51.100.1', '198.51.100.2', '198.51.100.3'])
    t.is((await guess('SN-A', from)).status, 401);
  const limited = await guess('SN-A', '198.51.100.4', code);
  t.is(limited.status, 429, 'the right code too, once the serial is limited');
  t.is(limited.body.error.code, 'ERR_RATE_LIMITED');
  t.is(limited.headers['retry-after'], '60');

  // One source guessing across serials is stopped by its own budget.
  for (let i = 0; i < 5; i++) t.is((await guess(`SN-X${i}`, '203.0.113.9')).status, 401);
  t.is((await guess('SN-X9', '203.0.113.9')).status, 429);
  t.is((await guess('SN-X9', '203.0.113.10')).status, 401, 'other sources are not affected');

  clock.now += 60_000;
  t.is((await guess('SN-A', '198.51.100.4', code)).status, 200, 'a new window');
});

// ---- configuration and long polling -------------------------------------------------

test('config: the compiled configuration, with hub keys from the model and compiler refusals as statuses', async (t) => {
  const { call } = await setup(t);
  const token = await network(call);
  const res = await call('GET', '/v1/devices/SN-1/config', undefined, token);
  t.is(res.status, 200);
  const config = res.body;
  t.is(config.kind, 'device');
  t.regex(config.version, /^[0-9a-f]{64}$/);
  t.deepEqual(
    config.peers.map((p: { accessPointId: string; publicKey: string }) => [p.accessPointId, p.publicKey]),
    [['ap-hz', KEY(100)]],
  );
  t.deepEqual(config.allowedIps, ['10.10.0.0/16', '192.168.2.0/24']);

  await call('PATCH', '/v1/access-points/ap-hz', { publicKey: null });
  const keyless = await call('GET', '/v1/devices/SN-1/config', undefined, token);
  t.is(keyless.status, 409);
  t.is(keyless.body.error.code, 'ERR_COMPILER_ACCESS_POINT_KEY');
  t.deepEqual(keyless.body.error.subjects, ['ap-hz']);
  t.is((await call('GET', '/v1/devices/SN-NOPE/config')).status, 404);
  await call('POST', '/v1/devices', { serial: 'SN-2', model: 'app', softwareVersion: '1.0' });
  await call('POST', '/v1/devices/SN-2/bind', { instanceId: 'sag-2' });
  t.is((await call('GET', '/v1/devices/SN-2/config')).body.error.code, 'ERR_COMPILER_DEVICE_NOT_ACTIVATED');
  t.is((await call('GET', '/v1/devices/SN-1/config?wait=5')).status, 400, 'wait needs after');
});

test('long poll: answers at once when the version differs, else when a change arrives', async (t) => {
  const { call } = await setup(t);
  const token = await network(call);
  const v1 = (await call('GET', '/v1/devices/SN-1/config', undefined, token)).body.version as string;
  t.deepEqual((await call('GET', `/v1/devices/SN-1/config?after=${v1}`, undefined, token)).body, {
    unchanged: true,
    version: v1,
  });
  t.is(
    (await call('GET', `/v1/devices/SN-1/config?after=${'0'.repeat(64)}&wait=30`, undefined, token)).body
      .version,
    v1,
    'a stale version answers at once',
  );

  const started = performance.now();
  const polled = call('GET', `/v1/devices/SN-1/config?after=${v1}&wait=10`, undefined, token);
  await new Promise((r) => setTimeout(r, 200));
  // A heartbeat and a rename change the model but not this configuration: the poll keeps waiting.
  await call(
    'POST',
    '/v1/devices/SN-1/status',
    { configVersion: v1, accessPointId: 'ap-hz', peers: [], probes: [] },
    token,
  );
  await call('PATCH', '/v1/instances/sag-2', { name: 'Two renamed' });
  await new Promise((r) => setTimeout(r, 200));
  await call('PATCH', '/v1/instances/sag-2', { lanCidrs: ['192.168.2.0/24', '192.168.3.0/24'] });
  const answer = await polled;
  const elapsed = performance.now() - started;
  t.is(answer.status, 200);
  t.not(answer.body.version, v1);
  t.deepEqual(answer.body.allowedIps, ['10.10.0.0/16', '192.168.2.0/24', '192.168.3.0/24']);
  t.true(elapsed >= 350 && elapsed < 5000, `answered after ${elapsed} ms`);
});

test('long poll: times out unchanged; notices writes of other processes; ends when the server closes', async (t) => {
  const { app, call, store } = await setup(t);
  const token = await network(call);
  const v1 = (await call('GET', '/v1/devices/SN-1/config', undefined, token)).body.version as string;
  let started = performance.now();
  const timedOut = await call('GET', `/v1/devices/SN-1/config?after=${v1}&wait=1`, undefined, token);
  t.deepEqual(timedOut.body, { unchanged: true, version: v1 });
  t.true(performance.now() - started >= 950, 'waited the second');

  // Written straight to the store, as another process would: found by the periodic check.
  const polled = call('GET', `/v1/devices/SN-1/config?after=${v1}&wait=10`, undefined, token);
  await new Promise((r) => setTimeout(r, 100));
  await store.apply(
    { kind: 'ccn.update', id: 'ccn-main', cidrs: ['10.20.0.0/16'] },
    { actor: 'cli', at: NOW },
  );
  t.deepEqual((await polled).body.allowedIps, ['10.20.0.0/16', '192.168.2.0/24']);

  const v2 = (await call('GET', '/v1/devices/SN-1/config', undefined, token)).body.version as string;
  started = performance.now();
  const held = call('GET', `/v1/devices/SN-1/config?after=${v2}&wait=20`, undefined, token);
  await new Promise((r) => setTimeout(r, 100));
  await app.close();
  t.deepEqual((await held).body, { unchanged: true, version: v2 });
  t.true(performance.now() - started < 3000, 'close() did not wait out the poll');
});

// ---- status reports -------------------------------------------------------------

const REPORT = {
  softwareVersion: '1.0',
  configVersion: 'a'.repeat(64),
  accessPointId: 'ap-hz',
  peers: [
    {
      accessPointId: 'ap-hz',
      publicKey: KEY(100),
      endpoint: '203.0.113.1:51820',
      lastHandshakeUnixMs: NOW - 5000,
      rxBytes: 1,
      txBytes: 2,
      rxPackets: 3,
      txPackets: 4,
    },
  ],
  probes: [
    { accessPointId: 'ap-hz', endpoint: '203.0.113.1:51820', rttMs: 12.5, atUnixMs: NOW },
    { accessPointId: 'ap-hz', endpoint: '203.0.113.1:51820', rttMs: null, atUnixMs: NOW },
  ],
};

test('status: a device reports, operators read it; the report is the heartbeat', async (t) => {
  const { call, clock, store } = await setup(t);
  const token = await network(call);
  t.deepEqual((await call('GET', '/v1/devices/SN-1/status')).body, {
    serial: 'SN-1',
    lastSeen: null,
    receivedAt: null,
    report: null,
  });
  t.is((await call('POST', '/v1/devices/SN-1/status', REPORT, token)).status, 204);
  t.deepEqual((await call('GET', '/v1/devices/SN-1/status')).body, {
    serial: 'SN-1',
    lastSeen: NOW,
    receivedAt: NOW,
    report: REPORT,
  });
  t.is((await call('GET', '/v1/instances/sag-1')).body.state, 'online');
  t.is(
    (await call('GET', '/v1/devices/SN-1/status', undefined, token)).status,
    403,
    'reading status is for operators',
  );

  // Reports within a minute do not each write a heartbeat; the status itself is always replaced.
  clock.now += 10_000;
  await call('POST', '/v1/devices/SN-1/status', { ...REPORT, accessPointId: null }, token);
  t.is((await call('GET', '/v1/devices/SN-1/status')).body.receivedAt, NOW + 10_000);
  t.is((await call('GET', '/v1/devices/SN-1')).body.lastSeen, NOW);
  clock.now += 60_000;
  await call('POST', '/v1/devices/SN-1/status', REPORT, token);
  t.is((await call('GET', '/v1/devices/SN-1')).body.lastSeen, NOW + 70_000);
  t.is((await store.audit()).filter((e) => e.command.kind === 'device.heartbeat').length, 2);
  clock.now += 1_000;
  await call('POST', '/v1/devices/SN-1/status', { ...REPORT, softwareVersion: '1.1' }, token);
  t.is(
    (await call('GET', '/v1/devices/SN-1')).body.softwareVersion,
    '1.0',
    'a new software version 1 s after the last heartbeat waits',
  );
  t.is(
    (await call('GET', '/v1/devices/SN-1/status')).body.report.softwareVersion,
    '1.1',
    'the report has it',
  );
  clock.now += SOFTWARE_VERSION_EVERY_MS;
  await call('POST', '/v1/devices/SN-1/status', { ...REPORT, softwareVersion: '1.1' }, token);
  t.is(
    (await call('GET', '/v1/devices/SN-1')).body.softwareVersion,
    '1.1',
    `... and is written once the last heartbeat is ${SOFTWARE_VERSION_EVERY_MS / 1000} s old`,
  );
});

test('status: reports are validated and bounded', async (t) => {
  const { call } = await setup(t);
  const token = await network(call);
  const bad: [string, unknown][] = [
    ['unknown field', { ...REPORT, extra: 1 }],
    ['missing probes', { ...REPORT, probes: undefined }],
    ['too many peers', { ...REPORT, peers: Array.from({ length: 65 }, () => REPORT.peers[0]) }],
    ['negative counter', { ...REPORT, peers: [{ ...REPORT.peers[0], rxBytes: -1 }] }],
    ['fractional counter', { ...REPORT, peers: [{ ...REPORT.peers[0], txPackets: 1.5 }] }],
    ['rtt out of range', { ...REPORT, probes: [{ ...REPORT.probes[0], rttMs: 60_001 }] }],
    ['short key', { ...REPORT, peers: [{ ...REPORT.peers[0], publicKey: 'abc' }] }],
    ['bad config version', { ...REPORT, configVersion: 'xyz' }],
    ['long endpoint', { ...REPORT, probes: [{ ...REPORT.probes[0], endpoint: 'e'.repeat(65) }] }],
  ];
  for (const [what, body] of bad) {
    const res = await call('POST', '/v1/devices/SN-1/status', body, token);
    t.is(res.status, 400, what);
    t.is(res.body.error.code, 'ERR_VALIDATION', what);
  }
  const other = await call('POST', '/v1/devices', {
    serial: 'SN-9',
    model: 'app',
    publicKey: KEY(9),
    softwareVersion: '1.0',
  });
  t.is(
    (await call('POST', '/v1/devices/SN-1/status', REPORT, other.body.token)).status,
    403,
    "another device's status",
  );
  t.is((await call('GET', '/v1/devices/SN-1/status')).body.report, null, 'nothing stored');
});

test('access points carry their WireGuard key: set on create or later, cleared with null, unique', async (t) => {
  const { call } = await setup(t);
  const ap = await call('POST', '/v1/access-points', {
    id: 'ap-1',
    area: 'mainland',
    endpoints: ['203.0.113.1:51820'],
    maxInstances: 10,
  });
  t.is(ap.body.publicKey, null);
  t.is((await call('PATCH', '/v1/access-points/ap-1', { publicKey: KEY(50) })).body.publicKey, KEY(50));
  const clash = await call('POST', '/v1/access-points', {
    id: 'ap-2',
    area: 'mainland',
    endpoints: ['203.0.113.2:51820'],
    maxInstances: 10,
    publicKey: KEY(50),
  });
  t.is(clash.status, 409);
  const device = await call('POST', '/v1/devices', {
    serial: 'SN-1',
    model: 'app',
    publicKey: KEY(50),
    softwareVersion: '1.0',
  });
  t.is(device.status, 409, "a device may not take a hub's key");
  t.is((await call('PATCH', '/v1/access-points/ap-1', { publicKey: 'nope' })).status, 400);
  t.is((await call('PATCH', '/v1/access-points/ap-1', { publicKey: null })).body.publicKey, null);
});

test('status: per-path multipath status is optional, stored as sent, and bounded', async (t) => {
  const { call } = await setup(t);
  const token = await network(call);
  const path = {
    uplink: 'wan1',
    endpoint: '203.0.113.1:51820',
    state: 'up',
    rttMs: 12.5,
    lossPct: 0,
    active: true,
  };
  const withPaths = {
    ...REPORT,
    peers: [
      {
        ...REPORT.peers[0],
        paths: [path, { ...path, uplink: 'lte', state: 'unknown', rttMs: null, active: false }],
      },
    ],
  };
  t.is((await call('POST', '/v1/devices/SN-1/status', withPaths, token)).status, 204);
  t.deepEqual((await call('GET', '/v1/devices/SN-1/status')).body.report, withPaths);
  t.is(
    (await call('POST', '/v1/devices/SN-1/status', REPORT, token)).status,
    204,
    'an older agent without paths',
  );
  const bad: [string, unknown][] = [
    ['unknown state', { ...path, state: 'sideways' }],
    ['loss over 100', { ...path, lossPct: 101 }],
    ['extra field', { ...path, jitter: 1 }],
    ['long uplink name', { ...path, uplink: 'u'.repeat(33) }],
  ];
  for (const [what, p] of bad) {
    t.is(
      (
        await call(
          'POST',
          '/v1/devices/SN-1/status',
          { ...REPORT, peers: [{ ...REPORT.peers[0], paths: [p] }] },
          token,
        )
      ).status,
      400,
      what,
    );
  }
  t.is(
    (
      await call(
        'POST',
        '/v1/devices/SN-1/status',
        { ...REPORT, peers: [{ ...REPORT.peers[0], paths: Array.from({ length: 17 }, () => path) }] },
        token,
      )
    ).status,
    400,
    'too many paths',
  );
});
