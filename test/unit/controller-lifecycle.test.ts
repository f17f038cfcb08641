import test from 'ava';
import {
  INSTANCE_TRANSITIONS,
  ModelError,
  applyCommand,
  applyCommands,
  canTransition,
  createState,
  isValidId,
  orderUplinks,
  sequentialIds,
  type Command,
  type InstanceState,
  type ModelState,
  type Uplink,
} from '../../src/controller/model/index.js';

const STATES: InstanceState[] = ['unbound', 'bound', 'online', 'offline'];

// [case, from, to, allowed]
const TRANSITIONS: [number, InstanceState, InstanceState, boolean][] = [];
{
  const allowed = new Set([
    'unbound>bound',
    'bound>online',
    'bound>unbound',
    'online>offline',
    'offline>online',
    'offline>unbound',
  ]);
  let n = 1;
  for (const from of STATES)
    for (const to of STATES) if (from !== to) TRANSITIONS.push([n++, from, to, allowed.has(`${from}>${to}`)]);
}

for (const [n, from, to, allowed] of TRANSITIONS) {
  test(`transition #${n}: ${from} -> ${to} ${allowed ? 'allowed' : 'refused'}`, (t) => {
    t.is(canTransition(from, to), allowed);
  });
}

test('transition table covers every state', (t) => {
  t.deepEqual(Object.keys(INSTANCE_TRANSITIONS).sort(), [...STATES].sort());
});

const up = (name: string, priority: number, kind: 'wired' | 'lte' = 'wired', weight = 50): Uplink => ({
  name,
  kind,
  priority,
  weight,
});

// [case, uplinks, expected order of names]
const UPLINK_ORDER: [number, Uplink[], string[]][] = [
  [1, [], []],
  [2, [up('wan2', 2), up('wan1', 1)], ['wan1', 'wan2']],
  [3, [up('lte', 1, 'lte'), up('wan1', 50)], ['wan1', 'lte']], // LTE last whatever its priority
  [4, [up('wan1', 1), up('wan2', -1)], ['wan1']], // -1 means unused
  [5, [up('lte', -1, 'lte'), up('wan1', 3)], ['wan1']],
  [6, [up('b', 5), up('a', 5), up('c', 1)], ['c', 'b', 'a']], // ties keep configured order
  [7, [up('lte2', 2, 'lte'), up('lte1', 1, 'lte'), up('wan', 9)], ['wan', 'lte1', 'lte2']],
];

for (const [n, uplinks, expected] of UPLINK_ORDER) {
  test(`uplink order #${n}`, (t) => {
    t.deepEqual(
      orderUplinks(uplinks).map((u) => u.name),
      expected,
    );
  });
}

// [case, id prefix, id, valid]
const IDS: [number, 'sag' | 'ccn' | 'ap', string, boolean][] = [
  [1, 'sag', 'sag-abc123', true],
  [2, 'sag', 'sag-', false],
  [3, 'sag', 'SAG-abc', false],
  [4, 'sag', 'sag-ABC', false],
  [5, 'sag', 'ccn-abc', false],
  [6, 'ap', 'ap-hz-1', true],
  [7, 'ap', 'ap-hz-', false],
  [8, 'ccn', `ccn-${'a'.repeat(48)}`, true],
  [9, 'ccn', `ccn-${'a'.repeat(49)}`, false],
];

for (const [n, prefix, id, valid] of IDS) {
  test(`id #${n}: ${id}`, (t) => {
    t.is(isValidId(prefix, id), valid);
  });
}

test('sequential ids are deterministic', (t) => {
  const a = sequentialIds();
  const b = sequentialIds();
  t.deepEqual([a('sag'), a('ccn'), a('sag')], ['sag-000001', 'ccn-000002', 'sag-000003']);
  t.is(b('vpc'), 'vpc-000001');
});

const KEY = (n: number) => Buffer.alloc(32, n).toString('base64');
const BASE: Command[] = [
  {
    kind: 'instance.create',
    id: 'sag-1',
    name: 'Shop',
    area: 'mainland',
    model: 'app',
    bandwidthMbps: 5,
    lanCidrs: [],
    uplinks: [],
  },
  { kind: 'device.register', serial: 'APP-1', model: 'app', publicKey: KEY(7), softwareVersion: '1.0.0' },
];

function run(commands: Command[]): ModelState {
  return applyCommands(createState(), [...BASE, ...commands]).state;
}

test('device lifecycle: bind, heartbeat, expire, recover, offline, unbind, delete', (t) => {
  let s = run([]);
  t.is(s.instances['sag-1']!.state, 'unbound');
  t.is(s.devices['APP-1']!.lastSeen, null);

  s = applyCommand(s, { kind: 'device.bind', serial: 'APP-1', instanceId: 'sag-1' }).state;
  t.is(s.instances['sag-1']!.state, 'bound');

  s = applyCommand(s, {
    kind: 'device.heartbeat',
    serial: 'APP-1',
    at: 10_000,
    softwareVersion: '1.0.1',
  }).state;
  t.is(s.instances['sag-1']!.state, 'online');
  t.is(s.devices['APP-1']!.lastSeen, 10_000);
  t.is(s.devices['APP-1']!.softwareVersion, '1.0.1');

  // Still fresh at 35 s with a 30 s window: nothing changes.
  const same = applyCommand(s, { kind: 'instance.expire', at: 35_000, staleAfterMs: 30_000 });
  t.is(same.state, s);

  s = applyCommand(s, { kind: 'instance.expire', at: 50_000, staleAfterMs: 30_000 }).state;
  t.is(s.instances['sag-1']!.state, 'offline');

  // A late heartbeat (older than lastSeen) neither rewinds lastSeen nor revives the instance.
  const late = applyCommand(s, {
    kind: 'device.heartbeat',
    serial: 'APP-1',
    at: 9_000,
    softwareVersion: '0.9.0',
  });
  t.is(late.state, s);

  s = applyCommand(s, { kind: 'device.heartbeat', serial: 'APP-1', at: 60_000 }).state;
  t.is(s.instances['sag-1']!.state, 'online');
  t.is(s.devices['APP-1']!.softwareVersion, '1.0.1');

  s = applyCommand(s, { kind: 'instance.setOffline', id: 'sag-1' }).state;
  t.is(s.instances['sag-1']!.state, 'offline');
  t.is(applyCommand(s, { kind: 'instance.setOffline', id: 'sag-1' }).state, s, 'repeating is a no-op');

  s = applyCommand(s, { kind: 'device.unbind', serial: 'APP-1' }).state;
  t.is(s.instances['sag-1']!.state, 'unbound');
  t.is(s.devices['APP-1']!.instanceId, null);

  s = applyCommands(s, [
    { kind: 'instance.delete', id: 'sag-1' },
    { kind: 'device.delete', serial: 'APP-1' },
  ]).state;
  t.deepEqual(s.instances, {});
  t.deepEqual(s.devices, {});
});

test('an unbound device heartbeat only records lastSeen', (t) => {
  const s = applyCommand(run([]), { kind: 'device.heartbeat', serial: 'APP-1', at: 5 }).state;
  t.is(s.devices['APP-1']!.lastSeen, 5);
  t.is(s.instances['sag-1']!.state, 'unbound');
});

test('expire treats a never-seen device as stale only once online, which needs a heartbeat', (t) => {
  const s = run([{ kind: 'device.bind', serial: 'APP-1', instanceId: 'sag-1' }]);
  t.is(
    applyCommand(s, { kind: 'instance.expire', at: 1e9, staleAfterMs: 1 }).state,
    s,
    'bound, not online: untouched',
  );
});

test('device key rotation is validated and unique', (t) => {
  const s = run([
    { kind: 'device.register', serial: 'APP-2', model: 'app', publicKey: KEY(8), softwareVersion: '1' },
  ]);
  const rotated = applyCommand(s, { kind: 'device.update', serial: 'APP-1', publicKey: KEY(9) }).state;
  t.is(rotated.devices['APP-1']!.publicKey, KEY(9));
  const err = t.throws(() => applyCommand(s, { kind: 'device.update', serial: 'APP-1', publicKey: KEY(8) }), {
    instanceOf: ModelError,
  });
  t.is((err as ModelError).code, 'ERR_MODEL_CONFLICT');
  t.regex(err!.message, /APP-1.*APP-2/);
});

test('timestamps are validated, never read from a clock', (t) => {
  const err = t.throws(() => applyCommand(run([]), { kind: 'device.heartbeat', serial: 'APP-1', at: -1 }), {
    instanceOf: ModelError,
  });
  t.is((err as ModelError).code, 'ERR_MODEL_INVALID');
});
