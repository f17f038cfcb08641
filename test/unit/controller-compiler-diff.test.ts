import test from 'ava';
import type { Command } from '../../src/controller/model/index.js';
import {
  canonicalJson,
  diffConfigs,
  type AccessPointConfig,
  type CompiledConfig,
  type ConfigChange,
  type DeviceConfig,
  type ForwardingRule,
  type HubPeer,
} from '../../src/contract/index.js';
import {
  compileAccessPointConfig,
  compileDeviceConfig,
  type DeviceCompileOptions,
} from '../../src/controller/compiler/index.js';
import { KEY, model, NO_GRANT, OPTS, WAN } from '../support/compiler-fixture.js';

const AP_SH: Command = {
  kind: 'accessPoint.create',
  id: 'ap-sh',
  area: 'mainland',
  endpoints: ['203.0.113.2:51820'],
  maxInstances: 100,
};
const VPC_BJ: Command[] = [
  { kind: 'vpc.create', id: 'vpc-bj', name: 'BJ', region: 'cn-beijing', cidrs: ['172.20.0.0/16'] },
  { kind: 'cen.attachVpc', cenId: 'cen-1', vpcId: 'vpc-bj' },
];
const SAG_D: Command[] = [
  {
    kind: 'instance.create',
    id: 'sag-d',
    name: 'Shop D',
    area: 'mainland',
    model: 'hardware',
    bandwidthMbps: 5,
    lanCidrs: ['192.168.4.0/24'],
    uplinks: [],
  },
  { kind: 'device.register', serial: 'SN-D', model: 'hardware', publicKey: KEY(6), softwareVersion: '1.0.0' },
  { kind: 'device.bind', serial: 'SN-D', instanceId: 'sag-d' },
  { kind: 'ccn.join', ccnId: 'ccn-1', instanceId: 'sag-d' },
];

const device = (extra: Command[] = [], opts: DeviceCompileOptions = OPTS, serial = 'SN-A') =>
  compileDeviceConfig(model(...extra), serial, opts);
const hub = (extra: Command[] = [], id = 'ap-hz') => compileAccessPointConfig(model(...extra), id);

// ---- versions ---------------------------------------------------------------

// [case, what, extra commands, compile, same version as the base fixture?]
const VERSIONS: [number, string, Command[], (extra: Command[]) => CompiledConfig, boolean][] = [
  [
    1,
    'rename an unrelated VPC in another area',
    [{ kind: 'vpc.update', id: 'vpc-far', name: 'Renamed' }],
    device,
    true,
  ],
  [
    2,
    'change the CIDRs of a VPC in no CEN',
    [{ kind: 'vpc.update', id: 'vpc-far', cidrs: ['172.31.0.0/16'] }],
    device,
    true,
  ],
  [
    3,
    'a heartbeat (liveness is not configuration)',
    [{ kind: 'device.heartbeat', serial: 'SN-A', at: 1_700_000_000_000 }],
    device,
    true,
  ],
  [
    4,
    'rename the instance, its CCN and the CEN',
    [
      { kind: 'instance.update', id: 'sag-a', name: 'New' },
      { kind: 'ccn.update', id: 'ccn-1', name: 'N' },
      { kind: 'cen.update', id: 'cen-1', name: 'N' },
    ],
    device,
    true,
  ],
  [
    5,
    'a new instance in the other area',
    [
      {
        kind: 'instance.create',
        id: 'sag-z',
        name: 'Z',
        area: 'international',
        model: 'app',
        bandwidthMbps: 1,
        lanCidrs: [],
        uplinks: [],
      },
    ],
    device,
    true,
  ],
  [
    6,
    'the other hub moves',
    [{ kind: 'accessPoint.update', id: 'ap-sg', endpoints: ['198.51.100.9:51820'] }],
    device,
    true,
  ],
  [
    7,
    'a spare device registers',
    [
      {
        kind: 'device.register',
        serial: 'SN-NEW',
        model: 'app',
        publicKey: KEY(60),
        softwareVersion: '1.0.0',
      },
    ],
    device,
    true,
  ],
  [
    8,
    'a peer branch LAN changes',
    [{ kind: 'instance.update', id: 'sag-b', lanCidrs: ['192.168.2.0/24'] }],
    device,
    false,
  ],
  [9, 'own bandwidth changes', [{ kind: 'instance.update', id: 'sag-a', bandwidthMbps: 200 }], device, false],
  [10, 'the grant goes', [NO_GRANT], device, false],
  [
    11,
    'own hub moves',
    [{ kind: 'accessPoint.update', id: 'ap-hz', endpoints: ['203.0.113.9:51820'] }],
    device,
    false,
  ],
  [
    12,
    'hub: uplinks of a branch are not hub configuration',
    [{ kind: 'instance.update', id: 'sag-a', uplinks: [WAN('wan9', 3)] }],
    hub,
    true,
  ],
  [
    13,
    'hub: the other area changes',
    [
      { kind: 'device.update', serial: 'SN-C', publicKey: KEY(70) },
      { kind: 'accessPoint.update', id: 'ap-sg', maxInstances: 7 },
    ],
    hub,
    true,
  ],
  [
    14,
    'hub: heartbeats of its branches',
    [
      { kind: 'device.heartbeat', serial: 'SN-A', at: 1 },
      { kind: 'device.heartbeat', serial: 'SN-B', at: 2 },
    ],
    hub,
    true,
  ],
  [
    15,
    'hub: a branch rotates its key',
    [{ kind: 'device.update', serial: 'SN-B', publicKey: KEY(70) }],
    hub,
    false,
  ],
  [16, 'hub: a new VPC for its CCN', VPC_BJ, hub, false],
];

for (const [n, what, extra, compile, same] of VERSIONS) {
  test(`version #${n}: ${what} ${same ? 'keeps' : 'changes'} the version`, (t) => {
    const base = compile([]);
    const next = compile(extra);
    t.not(next.modelVersion, base.modelVersion);
    if (same) t.is(next.version, base.version);
    else t.not(next.version, base.version);
    t.is(diffConfigs(base, next).length === 0, same);
  });
}

test('version: canonical JSON ignores key order, keeps array order', (t) => {
  t.is(canonicalJson({ b: [2, 1], a: { d: 1, c: null } }), '{"a":{"c":null,"d":1},"b":[2,1]}');
  t.throws(() => canonicalJson({ a: Number.NaN }), { instanceOf: TypeError });
});

// ---- diffs ------------------------------------------------------------------

const peerKey = (p: { publicKey: string }) => p.publicKey;
const byKey = <T>(items: T[], key: (t: T) => string) => [...items].sort((a, b) => (key(a) < key(b) ? -1 : 1));
const ruleKey = (r: ForwardingRule) => `${r.ccnId}>${r.to.kind}:${r.to.id}`;

/** What an agent holds: the content, lists as sets. allowedIps of a device follows its routes. */
function held(c: CompiledConfig): unknown {
  const { version: _v, modelVersion: _m, ...rest } = c;
  if (rest.kind === 'device') {
    const { allowedIps: _a, ...d } = rest as DeviceConfig;
    return { ...d, peers: byKey(d.peers, peerKey), routes: byKey(d.routes, (r) => r.cidr) };
  }
  return { ...rest, peers: byKey(rest.peers, peerKey), policy: byKey(rest.policy, ruleKey) };
}

/** Plays changes the way an agent would, checking each delta against what it replaces. */
function play(
  t: { deepEqual: (a: unknown, b: unknown, m?: string) => void },
  old: CompiledConfig | null,
  next: CompiledConfig,
  changes: ConfigChange[],
): unknown {
  const c = structuredClone(
    old ??
      (next.kind === 'device'
        ? {
            kind: 'device',
            serial: next.serial,
            ccnId: null,
            peers: [],
            routes: [],
            uplinks: [],
            instance: {},
          }
        : { kind: 'accessPoint', accessPointId: next.accessPointId, peers: [], policy: [] }),
  ) as Record<string, any>;
  for (const ch of changes) {
    switch (ch.op) {
      case 'set':
        if (ch.field === 'instance') Object.assign(c['instance'], ch.to);
        else c[ch.field] = ch.to;
        break;
      case 'bandwidth.change':
        c['instance'].bandwidthMbps = ch.to;
        break;
      case 'uplinks.change':
        c['uplinks'] = ch.to;
        break;
      case 'peer.remove':
        c['peers'] = c['peers'].filter((p: HubPeer) => p.publicKey !== ch.publicKey);
        break;
      case 'peer.add':
        c['peers'].push(ch.peer);
        break;
      case 'peer.change': {
        const i = c['peers'].findIndex((p: HubPeer) => p.publicKey === ch.publicKey);
        if (ch.allowedIps) {
          const kept = (c['peers'][i] as HubPeer).allowedIps.filter(
            (x) => !ch.allowedIps?.remove.includes(x),
          );
          t.deepEqual(
            [...kept, ...ch.allowedIps.add].sort(),
            [...(ch.peer as HubPeer).allowedIps].sort(),
            'allowedIps delta',
          );
        }
        c['peers'][i] = ch.peer;
        break;
      }
      case 'route.remove':
        c['routes'] = c['routes'].filter((r: { cidr: string }) => r.cidr !== ch.cidr);
        break;
      case 'route.add':
        c['routes'].push(ch.route);
        break;
      case 'route.change':
        c['routes'] = c['routes'].map((r: { cidr: string }) => (r.cidr === ch.cidr ? ch.route : r));
        break;
      case 'policy.remove':
        c['policy'] = c['policy'].filter((r: ForwardingRule) => ruleKey(r) !== ch.key);
        break;
      case 'policy.add':
        c['policy'].push(ch.rule);
        break;
      case 'policy.change': {
        const i = c['policy'].findIndex((r: ForwardingRule) => ruleKey(r) === ch.key);
        if (ch.cidrs) {
          const kept = (c['policy'][i] as ForwardingRule).cidrs.filter((x) => !ch.cidrs?.remove.includes(x));
          t.deepEqual([...kept, ...ch.cidrs.add].sort(), [...ch.rule.cidrs].sort(), 'policy cidrs delta');
        }
        c['policy'][i] = ch.rule;
        break;
      }
    }
  }
  return held({ ...c, version: '', modelVersion: 0 } as unknown as CompiledConfig);
}

const brief = (ch: ConfigChange): string => {
  switch (ch.op) {
    case 'set':
      return `set ${ch.field}`;
    case 'bandwidth.change':
      return `bandwidth ${ch.from}->${ch.to}`;
    case 'uplinks.change':
      return `uplinks ${ch.to.map((u) => u.name).join(',')}`;
    case 'peer.remove':
    case 'peer.add':
      return `${ch.op} ${ch.id}`;
    case 'peer.change':
      return `peer.change ${ch.id} ${ch.fields.join(',')}`;
    case 'route.remove':
      return `route.remove ${ch.cidr}`;
    case 'route.add':
      return `route.add ${ch.route.cidr}`;
    case 'route.change':
      return `route.change ${ch.cidr} ${ch.fields.join(',')}`;
    case 'policy.change':
      return `policy.change ${ch.key} ${ch.fields.join(',')}`;
    default:
      return `${ch.op} ${ch.key}`;
  }
};

type Side = [Command[], DeviceCompileOptions?];
const DEV_ROUTES = ['10.1.0.0/16', '172.16.0.0/16', '172.17.0.0/16', '192.168.2.0/24', 'fd00:2::/64'];

// [case, what, before, after, expected changes] for the device SN-A
const DEVICE_DIFFS: [number, string, Side, Side, string[]][] = [
  [1, 'nothing relevant', [[]], [[{ kind: 'device.heartbeat', serial: 'SN-A', at: 5 }]], []],
  [
    2,
    'bandwidth',
    [[]],
    [[{ kind: 'instance.update', id: 'sag-a', bandwidthMbps: 200 }]],
    ['bandwidth 100->200'],
  ],
  [
    3,
    'uplinks',
    [[]],
    [[{ kind: 'instance.update', id: 'sag-a', uplinks: [WAN('wan0', 1)] }]],
    ['uplinks wan0'],
  ],
  [4, 'a route added', [[]], [VPC_BJ], ['route.add 172.20.0.0/16']],
  [5, 'a route removed', [[]], [[NO_GRANT]], ['route.remove 172.17.0.0/16']],
  [
    6,
    'a route changed',
    [[]],
    [[{ kind: 'cen.setGrant', cenId: 'cen-1', areas: ['mainland', 'international'], mbps: 80 }]],
    ['route.change 172.17.0.0/16 grantMbps'],
  ],
  [
    7,
    'peer LAN replaced',
    [[]],
    [[{ kind: 'instance.update', id: 'sag-b', lanCidrs: ['192.168.2.0/24', '192.168.22.0/24'] }]],
    ['route.remove fd00:2::/64', 'route.add 192.168.22.0/24'],
  ],
  [
    8,
    'hub endpoints',
    [[]],
    [[{ kind: 'accessPoint.update', id: 'ap-hz', endpoints: ['203.0.113.9:51820'] }]],
    ['peer.change ap-hz endpoints'],
  ],
  [9, 'hub added', [[]], [[AP_SH]], ['peer.add ap-sh']],
  [
    10,
    'hub removed',
    [[AP_SH]],
    [[AP_SH, { kind: 'accessPoint.delete', id: 'ap-sh' }]],
    ['peer.remove ap-sh'],
  ],
  [
    11,
    'hub key rotated',
    [[]],
    [[], { accessPointKeys: { ...OPTS.accessPointKeys, 'ap-hz': KEY(111) } }],
    ['peer.remove ap-hz', 'peer.add ap-hz'],
  ],
  [
    12,
    'keepalive',
    [[]],
    [[], { ...OPTS, persistentKeepaliveSec: 15 }],
    ['peer.change ap-hz persistentKeepaliveSec'],
  ],
  [
    13,
    'left the CCN',
    [[]],
    [[{ kind: 'ccn.leave', ccnId: 'ccn-1', instanceId: 'sag-a' }]],
    ['set ccnId', 'peer.remove ap-hz', ...DEV_ROUTES.map((r) => `route.remove ${r}`)],
  ],
  [
    14,
    'own key rotated',
    [[]],
    [[{ kind: 'device.update', serial: 'SN-A', publicKey: KEY(50) }]],
    ['set publicKey'],
  ],
  [15, 'overlay pool moved', [[]], [[], { ...OPTS, overlay: { pool: '100.64.0.0/12' } }], ['set address']],
];

// [case, what, before, after, expected changes] for the hub ap-hz
const HUB_DIFFS: [number, string, Command[], Command[], string[]][] = [
  [1, 'nothing relevant', [], [{ kind: 'device.heartbeat', serial: 'SN-B', at: 5 }], []],
  [
    2,
    'branch bandwidth',
    [],
    [{ kind: 'instance.update', id: 'sag-b', bandwidthMbps: 40 }],
    ['peer.change SN-B bandwidthMbps'],
  ],
  [
    3,
    'branch LAN',
    [],
    [{ kind: 'instance.update', id: 'sag-b', lanCidrs: ['192.168.2.0/24', '192.168.22.0/24'] }],
    ['peer.change SN-B allowedIps', 'policy.change ccn-1>ccn:ccn-1 cidrs'],
  ],
  [
    4,
    'branch key rotated',
    [],
    [{ kind: 'device.update', serial: 'SN-B', publicKey: KEY(70) }],
    ['peer.remove SN-B', 'peer.add SN-B'],
  ],
  [5, 'branch bound and joined', [], SAG_D, ['policy.change ccn-1>ccn:ccn-1 cidrs', 'peer.add SN-D']],
  [
    6,
    'branch unbound (its LAN stays a CCN destination)',
    [],
    [{ kind: 'device.unbind', serial: 'SN-A' }],
    ['peer.remove SN-A'],
  ],
  [7, 'grant removed', [], [NO_GRANT], ['policy.remove ccn-1>vpc:vpc-sg']],
  [
    8,
    'grant changed',
    [],
    [{ kind: 'cen.setGrant', cenId: 'cen-1', areas: ['mainland', 'international'], mbps: 80 }],
    ['policy.change ccn-1>vpc:vpc-sg grantMbps'],
  ],
  [9, 'VPC attached', [], VPC_BJ, ['policy.add ccn-1>vpc:vpc-bj']],
  [
    10,
    'VPC CIDR added',
    [],
    [{ kind: 'vpc.update', id: 'vpc-hz', cidrs: ['172.16.0.0/16', '172.21.0.0/16'] }],
    ['policy.change ccn-1>vpc:vpc-hz cidrs'],
  ],
  [
    11,
    'CCN detached from the CEN',
    [],
    [{ kind: 'cen.detachCcn', cenId: 'cen-1', ccnId: 'ccn-1' }],
    ['policy.remove ccn-1>vpc:vpc-hz', 'policy.remove ccn-1>vpc:vpc-sg'],
  ],
  [
    12,
    'hub endpoints and capacity',
    [],
    [{ kind: 'accessPoint.update', id: 'ap-hz', endpoints: ['203.0.113.9:51820'], maxInstances: 3 }],
    ['set endpoints', 'set maxInstances'],
  ],
];

for (const [n, what, [before, beforeOpts], [after, afterOpts], expected] of DEVICE_DIFFS) {
  test(`device diff #${n}: ${what}`, (t) => {
    const old = device(before, beforeOpts);
    const next = device(after, afterOpts);
    const changes = diffConfigs(old, next);
    t.deepEqual(changes.map(brief), expected);
    t.deepEqual(play(t, old, next, changes), held(next));
  });
}

for (const [n, what, before, after, expected] of HUB_DIFFS) {
  test(`hub diff #${n}: ${what}`, (t) => {
    const old = hub(before);
    const next = hub(after);
    const changes = diffConfigs(old, next);
    t.deepEqual(changes.map(brief), expected);
    t.deepEqual(play(t, old, next, changes), held(next));
  });
}

test('diff: precise deltas for a branch LAN change at the hub', (t) => {
  const changes = diffConfigs(
    hub(),
    hub([{ kind: 'instance.update', id: 'sag-b', lanCidrs: ['192.168.2.0/24', '192.168.22.0/24'] }]),
  );
  const peer = changes.find((c) => c.op === 'peer.change');
  t.deepEqual(peer?.op === 'peer.change' ? peer.allowedIps : undefined, {
    add: ['192.168.22.0/24'],
    remove: ['fd00:2::/64'],
  });
  const rule = changes.find((c) => c.op === 'policy.change');
  t.deepEqual(rule?.op === 'policy.change' ? rule.cidrs : undefined, {
    add: ['192.168.22.0/24'],
    remove: ['fd00:2::/64'],
  });
});

test('diff: from nothing, a first apply adds everything', (t) => {
  for (const next of [device(), device([], OPTS, 'SN-LONE'), hub(), hub([], 'ap-sg')] as CompiledConfig[]) {
    const changes = diffConfigs(null, next);
    t.true(changes.length > 0);
    t.false(
      changes.some(
        (c) =>
          c.op.endsWith('.remove') ||
          (c.op.endsWith('.change') && c.op !== 'bandwidth.change' && c.op !== 'uplinks.change'),
      ),
    );
    t.deepEqual(play(t, null, next, changes), held(next));
  }
});

test('diff: removals come before additions', (t) => {
  const changes = diffConfigs(
    hub(),
    hub([{ kind: 'device.update', serial: 'SN-B', publicKey: KEY(70) }, ...SAG_D, NO_GRANT]),
  );
  const ops = changes.map((c) => c.op);
  const lastRemove = Math.max(...ops.map((o, i) => (o.endsWith('.remove') ? i : -1)));
  const firstAdd = ops.findIndex((o) => o.endsWith('.add'));
  t.true(lastRemove >= 0 && firstAdd > lastRemove, ops.join(' '));
});

test('diff: refuses configurations of different kinds or subjects', (t) => {
  const a = device();
  t.throws(() => diffConfigs(a, device([], OPTS, 'SN-B')), {
    code: 'ERR_COMPILER_DIFF_MISMATCH',
    message: /device SN-A against that of device SN-B/,
  } as never);
  t.throws(() => diffConfigs(a as CompiledConfig, hub() as CompiledConfig), {
    code: 'ERR_COMPILER_DIFF_MISMATCH',
  } as never);
  t.throws(() => diffConfigs(hub(), hub([], 'ap-sg') as AccessPointConfig), {
    code: 'ERR_COMPILER_DIFF_MISMATCH',
  } as never);
  t.deepEqual(diffConfigs(a, structuredClone(a) as DeviceConfig), []);
});
