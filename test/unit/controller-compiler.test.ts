import test from 'ava';
import { SagError } from '../../src/errors.js';
import { applyCommands, type Command, type ModelState } from '../../src/controller/model/index.js';
import {
  CompilerError,
  compileAccessPointConfig,
  compileDeviceConfig,
  type CompilerErrorCode,
} from '../../src/controller/compiler/index.js';
import { KEY, model, NO_GRANT, OPTS } from '../support/compiler-fixture.js';

// [case, extra commands, serial, expected allowed IPs]
const ALLOWED: [number, Command[], string, string[]][] = [
  [1, [], 'SN-A', ['10.1.0.0/16', '172.16.0.0/16', '172.17.0.0/16', '192.168.2.0/24', 'fd00:2::/64']],
  [2, [], 'SN-B', ['10.1.0.0/16', '172.16.0.0/16', '172.17.0.0/16', '192.168.1.0/24']],
  [3, [], 'SN-C', ['10.2.0.0/16']], // CCN isolation: nothing of ccn-1
  [4, [NO_GRANT], 'SN-A', ['10.1.0.0/16', '172.16.0.0/16', '192.168.2.0/24', 'fd00:2::/64']], // cross-area VPC only with a grant
  // ccn-2 on the CEN without a grant: its own-area VPC, still nothing of ccn-1 or vpc-hz.
  [
    5,
    [NO_GRANT, { kind: 'cen.attachCcn', cenId: 'cen-1', ccnId: 'ccn-2' }],
    'SN-C',
    ['10.2.0.0/16', '172.17.0.0/16'],
  ],
  [6, [], 'SN-LONE', []], // in no CCN: compiles, reaches nothing
  [
    7,
    [{ kind: 'ccn.leave', ccnId: 'ccn-1', instanceId: 'sag-b' }],
    'SN-A',
    ['10.1.0.0/16', '172.16.0.0/16', '172.17.0.0/16'],
  ],
  [
    8,
    [{ kind: 'cen.detachCcn', cenId: 'cen-1', ccnId: 'ccn-1' }],
    'SN-A',
    ['10.1.0.0/16', '192.168.2.0/24', 'fd00:2::/64'],
  ],
];

for (const [n, extra, serial, expected] of ALLOWED) {
  test(`allowed IPs #${n}: ${serial}`, (t) => {
    const config = compileDeviceConfig(model(...extra), serial, OPTS);
    t.deepEqual(config.allowedIps, expected);
    t.deepEqual(
      config.routes.map((r) => r.cidr),
      expected,
    );
  });
}

test('device #1: identity, bandwidth, uplinks in preference order, hub with endpoints and keepalive', (t) => {
  const s = model();
  const c = compileDeviceConfig(s, 'SN-A', OPTS);
  t.is(c.kind, 'device');
  t.is(c.publicKey, KEY(1));
  t.deepEqual(c.instance, { id: 'sag-a', area: 'mainland', model: 'hardware', bandwidthMbps: 100 });
  t.is(c.ccnId, 'ccn-1');
  t.deepEqual(
    c.uplinks.map((u) => u.name),
    ['wan0', 'wan1', 'wan3', 'lte'],
  ); // -1 left out, LTE last
  t.deepEqual(c.peers, [
    {
      accessPointId: 'ap-hz',
      publicKey: KEY(101),
      endpoints: ['203.0.113.1:51820'],
      persistentKeepaliveSec: 25,
      rank: 0,
    },
  ]);
  t.is(c.modelVersion, s.version);
  t.regex(c.version, /^[0-9a-f]{64}$/);
  t.regex(c.address, /^100\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+\/32$/); // inside 100.96.0.0/12
});

test('device #2: routes say where each prefix leads and the grant bandwidth', (t) => {
  const c = compileDeviceConfig(model(), 'SN-A', OPTS);
  t.deepEqual(
    c.routes.find((r) => r.cidr === '172.17.0.0/16'),
    { cidr: '172.17.0.0/16', target: { kind: 'vpc', id: 'vpc-sg' }, area: 'international', grantMbps: 50 },
  );
  t.deepEqual(c.routes.find((r) => r.cidr === 'fd00:2::/64')?.target, {
    kind: 'instance',
    id: 'sag-b',
    ccnId: 'ccn-1',
  });
});

test('device #3: an instance in no CCN gets no hubs but keeps uplinks and address', (t) => {
  const c = compileDeviceConfig(model(), 'SN-LONE', OPTS);
  t.is(c.ccnId, null);
  t.deepEqual(c.peers, []);
  t.deepEqual(
    c.uplinks.map((u) => u.name),
    ['wan1'],
  );
  t.regex(c.address, /\/32$/);
});

test('device #4: every hub of the area is listed, ranks 0..n-1, international hub has both endpoints', (t) => {
  const s = model({
    kind: 'accessPoint.create',
    id: 'ap-sh',
    area: 'mainland',
    endpoints: ['203.0.113.2:51820'],
    maxInstances: 100,
  });
  const c = compileDeviceConfig(s, 'SN-A', OPTS);
  t.deepEqual(c.peers.map((p) => p.accessPointId).sort(), ['ap-hz', 'ap-sh']);
  t.deepEqual(
    c.peers.map((p) => p.rank),
    [0, 1],
  );
  t.deepEqual(compileDeviceConfig(s, 'SN-C', { ...OPTS, persistentKeepaliveSec: 0 }).peers, [
    {
      accessPointId: 'ap-sg',
      publicKey: KEY(102),
      endpoints: ['198.51.100.1:51820', '[2001:db8::1]:51820'],
      persistentKeepaliveSec: 0,
      rank: 0,
    },
  ]);
});

test('device #5: default hub order spreads branches by capacity and a new hub only takes branches', (t) => {
  const count = 200;
  const extra: Command[] = [
    {
      kind: 'accessPoint.create',
      id: 'ap-sh',
      area: 'mainland',
      endpoints: ['203.0.113.2:51820'],
      maxInstances: 100,
    },
  ];
  for (let i = 0; i < count; i++) {
    extra.push(
      {
        kind: 'instance.create',
        id: `sag-x${i}`,
        name: `X${i}`,
        area: 'mainland',
        model: 'app',
        bandwidthMbps: 5,
        lanCidrs: [`10.${200 + (i >> 8)}.${i & 255}.0/24`],
        uplinks: [],
      },
      {
        kind: 'device.register',
        serial: `SN-X${i}`,
        model: 'app',
        publicKey: KEY(1).slice(0, 36) + String(i).padStart(6, 'a') + 'A=',
        softwareVersion: '1.0.0',
      },
      { kind: 'device.bind', serial: `SN-X${i}`, instanceId: `sag-x${i}` },
      { kind: 'ccn.join', ccnId: 'ccn-1', instanceId: `sag-x${i}` },
    );
  }
  const before = model(...extra);
  const first = (s: ModelState, i: number) =>
    compileDeviceConfig(s, `SN-X${i}`, OPTS).peers[0]?.accessPointId;
  const top = Array.from({ length: count }, (_, i) => first(before, i));
  const onHz = top.filter((id) => id === 'ap-hz').length;
  t.true(onHz > count * 0.35 && onHz < count * 0.65, `ap-hz preferred by ${onHz} of ${count}`);
  const after = applyCommands(before, [
    {
      kind: 'accessPoint.create',
      id: 'ap-new',
      area: 'mainland',
      endpoints: ['203.0.113.3:51820'],
      maxInstances: 100,
    },
  ]).state;
  const keys = { accessPointKeys: { ...OPTS.accessPointKeys, 'ap-new': KEY(104) } };
  const moved = top
    .map((was, i) => [was, compileDeviceConfig(after, `SN-X${i}`, keys).peers[0]?.accessPointId] as const)
    .filter(([a, b]) => a !== b);
  t.true(moved.length > 0);
  t.true(
    moved.every(([, now]) => now === 'ap-new'),
    'a branch only moves to the new hub',
  );
});

test('access point #1: peers of its area in a CCN, with LAN + tunnel address, limit and CCN', (t) => {
  const s = model();
  const hz = compileAccessPointConfig(s, 'ap-hz');
  const addr = (serial: string) => compileDeviceConfig(s, serial, OPTS).address;
  t.is(hz.kind, 'accessPoint');
  t.deepEqual(hz.peers, [
    {
      serial: 'SN-A',
      publicKey: KEY(1),
      instanceId: 'sag-a',
      ccnId: 'ccn-1',
      address: addr('SN-A'),
      allowedIps: [addr('SN-A'), '192.168.1.0/24'].sort(),
      bandwidthMbps: 100,
    },
    {
      serial: 'SN-B',
      publicKey: KEY(2),
      instanceId: 'sag-b',
      ccnId: 'ccn-1',
      address: addr('SN-B'),
      allowedIps: [addr('SN-B'), '192.168.2.0/24', 'fd00:2::/64'].sort(),
      bandwidthMbps: 20,
    },
  ]);
  const sg = compileAccessPointConfig(s, 'ap-sg');
  t.deepEqual(
    sg.peers.map((p) => [p.serial, p.ccnId, p.bandwidthMbps]),
    [['SN-C', 'ccn-2', 30]],
  );
  t.deepEqual(sg.endpoints, ['198.51.100.1:51820', '[2001:db8::1]:51820']);
});

test('access point #2: forwarding policy per CCN, VPCs by area and grant', (t) => {
  const brief = (s: ModelState, ap: string) =>
    compileAccessPointConfig(s, ap).policy.map(
      (r) =>
        `${r.ccnId}>${r.to.kind}:${r.to.id} ${r.reason}${r.grantMbps === null ? '' : `@${r.grantMbps}`} ${r.cidrs.join(',')}`,
    );
  t.deepEqual(brief(model(), 'ap-hz'), [
    'ccn-1>ccn:ccn-1 same-ccn 10.1.0.0/16,192.168.1.0/24,192.168.2.0/24,fd00:2::/64',
    'ccn-1>vpc:vpc-hz same-area 172.16.0.0/16',
    'ccn-1>vpc:vpc-sg granted@50 172.17.0.0/16',
  ]);
  t.deepEqual(brief(model(NO_GRANT), 'ap-hz'), [
    'ccn-1>ccn:ccn-1 same-ccn 10.1.0.0/16,192.168.1.0/24,192.168.2.0/24,fd00:2::/64',
    'ccn-1>vpc:vpc-hz same-area 172.16.0.0/16',
  ]);
  t.deepEqual(brief(model(), 'ap-sg'), ['ccn-2>ccn:ccn-2 same-ccn 10.2.0.0/16,192.168.3.0/24']);
  // Following the model's CEN rule, a CCN attached to the same CEN reaches another CCN across areas with the grant.
  t.deepEqual(brief(model({ kind: 'cen.attachCcn', cenId: 'cen-1', ccnId: 'ccn-2' }), 'ap-sg'), [
    'ccn-2>ccn:ccn-1 granted@50 10.1.0.0/16,192.168.1.0/24,192.168.2.0/24,fd00:2::/64',
    'ccn-2>ccn:ccn-2 same-ccn 10.2.0.0/16,192.168.3.0/24',
    'ccn-2>vpc:vpc-hz granted@50 172.16.0.0/16',
    'ccn-2>vpc:vpc-sg same-area 172.17.0.0/16',
  ]);
  // A hub with no CCN members has no policy at all.
  t.deepEqual(brief(model({ kind: 'device.unbind', serial: 'SN-C' }), 'ap-sg'), []);
});

test('access point #3: unbound instances, devices without a CCN and other areas are not peers', (t) => {
  const s = model({ kind: 'device.unbind', serial: 'SN-B' });
  t.deepEqual(
    compileAccessPointConfig(s, 'ap-hz').peers.map((p) => p.serial),
    ['SN-A'],
  ); // SN-LONE: no CCN
});

test('no private keys: output mentions no private key and carries only known public keys', (t) => {
  const s = model();
  const out = JSON.stringify([
    ...['SN-A', 'SN-B', 'SN-C', 'SN-LONE'].map((serial) => compileDeviceConfig(s, serial, OPTS)),
    compileAccessPointConfig(s, 'ap-hz'),
    compileAccessPointConfig(s, 'ap-sg'),
  ]);
  t.notRegex(out, /private/i);
  const known = new Set([1, 2, 3, 4, 5, 101, 102, 103].map(KEY));
  const keys = out.match(/[A-Za-z0-9+/]{43}=/g) ?? [];
  t.true(keys.length >= 6);
  t.deepEqual(
    keys.filter((k) => !known.has(k)),
    [],
  );
});

// [case, what, thunk, code, message]
const ERRORS: [number, string, (s: ModelState) => unknown, CompilerErrorCode, RegExp][] = [
  [
    1,
    'unknown serial',
    (s) => compileDeviceConfig(s, 'SN-NOPE', OPTS),
    'ERR_COMPILER_UNKNOWN_DEVICE',
    /SN-NOPE is not registered/,
  ],
  [
    2,
    'prototype name as serial',
    (s) => compileDeviceConfig(s, 'constructor', OPTS),
    'ERR_COMPILER_UNKNOWN_DEVICE',
    /constructor/,
  ],
  [
    3,
    'device not bound',
    (s) => compileDeviceConfig(s, 'SN-FREE', OPTS),
    'ERR_COMPILER_DEVICE_NOT_BOUND',
    /SN-FREE is bound to no instance/,
  ],
  [
    4,
    'unknown access point',
    (s) => compileAccessPointConfig(s, 'ap-nope'),
    'ERR_COMPILER_UNKNOWN_ACCESS_POINT',
    /ap-nope does not exist/,
  ],
  [
    5,
    'hub key missing',
    (s) => compileDeviceConfig(s, 'SN-A', { accessPointKeys: {} }),
    'ERR_COMPILER_ACCESS_POINT_KEY',
    /ap-hz has no public key/,
  ],
  [
    6,
    'hub key malformed',
    (s) => compileDeviceConfig(s, 'SN-A', { accessPointKeys: { 'ap-hz': 'nope' } }),
    'ERR_COMPILER_ACCESS_POINT_KEY',
    /ap-hz: .*public key/,
  ],
  [
    7,
    'two hubs, one key',
    (s) =>
      compileDeviceConfig(
        applyCommands(s, [
          {
            kind: 'accessPoint.create',
            id: 'ap-sh',
            area: 'mainland',
            endpoints: ['203.0.113.2:51820'],
            maxInstances: 1,
          },
        ]).state,
        'SN-A',
        { accessPointKeys: { 'ap-hz': KEY(9), 'ap-sh': KEY(9) } },
      ),
    'ERR_COMPILER_ACCESS_POINT_KEY',
    /ap-hz and ap-sh have the same public key/,
  ],
  [
    8,
    'keepalive out of range',
    (s) => compileDeviceConfig(s, 'SN-A', { ...OPTS, persistentKeepaliveSec: 70000 }),
    'ERR_COMPILER_INVALID_OPTIONS',
    /persistentKeepaliveSec/,
  ],
  [
    9,
    'pool not a CIDR',
    (s) => compileDeviceConfig(s, 'SN-A', { ...OPTS, overlay: { pool: '100.96.0.1/12' } }),
    'ERR_COMPILER_INVALID_OPTIONS',
    /host bits/,
  ],
  [
    10,
    'pools overlap',
    (s) =>
      compileAccessPointConfig(s, 'ap-hz', { overlay: { areaPools: { international: '100.100.0.0/16' } } }),
    'ERR_COMPILER_INVALID_OPTIONS',
    /100\.96\.0\.0\/12 and 100\.100\.0\.0\/16 overlap/,
  ],
  [
    11,
    'pool meets a CCN CIDR',
    (s) => compileDeviceConfig(s, 'SN-A', { ...OPTS, overlay: { pool: '10.0.0.0/8' } }),
    'ERR_COMPILER_POOL_OVERLAP',
    /10\.1\.0\.0\/16 \(CIDR of CCN ccn-1\)/,
  ],
  [
    12,
    'pool meets a peer LAN at the hub',
    (s) => compileAccessPointConfig(s, 'ap-hz', { overlay: { pool: '192.168.0.0/16' } }),
    'ERR_COMPILER_POOL_OVERLAP',
    /LAN of instance sag-a/,
  ],
  [
    13,
    'pool too small',
    (s) => compileDeviceConfig(s, 'SN-A', { ...OPTS, overlay: { pool: '100.96.0.0/30' } }),
    'ERR_COMPILER_POOL_EXHAUSTED',
    /1 usable addresses but 4 instances/,
  ],
];

for (const [n, what, thunk, code, message] of ERRORS) {
  test(`refusal #${n}: ${what}`, (t) => {
    const err = t.throws(() => thunk(model()));
    t.true(err instanceof CompilerError);
    t.true(err instanceof SagError);
    t.is((err as CompilerError).code, code);
    t.regex(err?.message ?? '', message);
  });
}
