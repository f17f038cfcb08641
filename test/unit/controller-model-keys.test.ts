/**
 * WireGuard keys in the model: access points carry theirs (optional, validated,
 * unique among hubs and devices), devices may be registered without one until
 * they activate, and the compiler takes hub keys from the model.
 */
import test from 'ava';
import {
  applyCommands,
  checkInvariants,
  createState,
  type Command,
  type ModelState,
} from '../../src/controller/model/index.js';
import {
  CompilerError,
  compileAccessPointConfig,
  compileDeviceConfig,
} from '../../src/controller/compiler/index.js';

const KEY = (n: number) => Buffer.alloc(32, n).toString('base64');
const AP = (id: string, n: number, publicKey?: string | null): Command => ({
  kind: 'accessPoint.create',
  id,
  area: 'mainland',
  endpoints: [`203.0.113.${n}:51820`],
  maxInstances: 10,
  ...(publicKey === undefined ? {} : { publicKey }),
});
const BASE: Command[] = [
  AP('ap-1', 1, KEY(101)),
  AP('ap-2', 2, KEY(102)),
  {
    kind: 'instance.create',
    id: 'sag-a',
    name: 'A',
    area: 'mainland',
    model: 'app',
    bandwidthMbps: 10,
    lanCidrs: ['192.168.1.0/24'],
    uplinks: [],
  },
  { kind: 'ccn.create', id: 'ccn-1', name: 'One', area: 'mainland', cidrs: ['10.1.0.0/16'] },
  { kind: 'ccn.join', ccnId: 'ccn-1', instanceId: 'sag-a' },
  { kind: 'device.register', serial: 'SN-A', model: 'app', softwareVersion: '1' },
  { kind: 'device.bind', serial: 'SN-A', instanceId: 'sag-a' },
];
const state = (...extra: Command[]): ModelState => applyCommands(createState(), [...BASE, ...extra]).state;

// [case, commands, error code, message]
const REFUSED: [number, Command[], string, RegExp][] = [
  [1, [AP('ap-3', 3, 'nope')], 'ERR_MODEL_INVALID', /access point ap-3: public key must be a WireGuard key/],
  [2, [AP('ap-3', 3, `${'A'.repeat(43)}=`)], 'ERR_MODEL_INVALID', /all zeros/],
  [3, [AP('ap-3', 3, KEY(101))], 'ERR_MODEL_CONFLICT', /ap-3 is already used by access point ap-1/],
  [
    4,
    [{ kind: 'device.update', serial: 'SN-A', publicKey: KEY(102) }],
    'ERR_MODEL_CONFLICT',
    /device SN-A is already used by access point ap-2/,
  ],
  [
    5,
    [
      { kind: 'device.register', serial: 'SN-B', model: 'app', publicKey: KEY(1), softwareVersion: '1' },
      { kind: 'accessPoint.update', id: 'ap-1', publicKey: KEY(1) },
    ],
    'ERR_MODEL_CONFLICT',
    /ap-1 is already used by device SN-B/,
  ],
  [
    6,
    [{ kind: 'accessPoint.update', id: 'ap-1', publicKey: 5 as unknown as string }],
    'ERR_MODEL_INVALID',
    /public key/,
  ],
  [7, [{ kind: 'device.update', serial: 'SN-A', publicKey: '' }], 'ERR_MODEL_INVALID', /public key/],
];

for (const [n, commands, code, message] of REFUSED) {
  test(`keys refused #${n}`, (t) => {
    const err = t.throws(() => state(...commands));
    t.is((err as { code?: string }).code, code);
    t.regex(err!.message, message);
  });
}

test('keys: optional on create, settable and clearable on update; keyless devices do not clash', (t) => {
  const s = state(
    AP('ap-3', 3),
    { kind: 'device.register', serial: 'SN-B', model: 'app', softwareVersion: '1' },
    { kind: 'accessPoint.update', id: 'ap-2', publicKey: null },
  );
  t.is(s.accessPoints['ap-3']?.publicKey, null);
  t.is(s.accessPoints['ap-2']?.publicKey, null);
  t.is(s.devices['SN-A']?.publicKey, '');
  t.is(s.devices['SN-B']?.publicKey, '', 'two devices awaiting activation');
  const keyed = applyCommands(s, [{ kind: 'accessPoint.update', id: 'ap-3', publicKey: KEY(103) }]).state;
  t.is(keyed.accessPoints['ap-3']?.publicKey, KEY(103));
  t.deepEqual(checkInvariants(keyed), []);
  const bad = {
    ...keyed,
    accessPoints: { ...keyed.accessPoints, 'ap-2': { ...keyed.accessPoints['ap-2']!, publicKey: KEY(103) } },
  };
  t.deepEqual(checkInvariants(bad), ['access point ap-3 and access point ap-2 have the same public key']);
});

test('compiler: hub keys come from the model, accessPointKeys overrides them', (t) => {
  const s = state({ kind: 'device.update', serial: 'SN-A', publicKey: KEY(1) });
  const config = compileDeviceConfig(s, 'SN-A');
  t.deepEqual(config.peers.map((p) => [p.accessPointId, p.publicKey]).sort(), [
    ['ap-1', KEY(101)],
    ['ap-2', KEY(102)],
  ]);
  const overridden = compileDeviceConfig(s, 'SN-A', { accessPointKeys: { 'ap-2': KEY(110) } });
  t.is(overridden.peers.find((p) => p.accessPointId === 'ap-2')?.publicKey, KEY(110));
  // The hub's own configuration lists the device once it has a key.
  t.deepEqual(
    compileAccessPointConfig(s, 'ap-1').peers.map((p) => p.serial),
    ['SN-A'],
  );

  const keyless = applyCommands(s, [{ kind: 'accessPoint.update', id: 'ap-2', publicKey: null }]).state;
  const err = t.throws(() => compileDeviceConfig(keyless, 'SN-A'), { instanceOf: CompilerError });
  t.is(err?.code, 'ERR_COMPILER_ACCESS_POINT_KEY');
  t.regex(err!.message, /ap-2 has no public key/);
});

test('compiler: a device awaiting activation has no configuration and is no hub peer', (t) => {
  const s = state();
  const err = t.throws(() => compileDeviceConfig(s, 'SN-A'), { instanceOf: CompilerError });
  t.is(err?.code, 'ERR_COMPILER_DEVICE_NOT_ACTIVATED');
  t.deepEqual(compileAccessPointConfig(s, 'ap-1').peers, []);
});
