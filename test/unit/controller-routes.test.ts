import test from 'ava';
import {
  ModelError,
  applyCommand,
  applyCommands,
  ccnMembers,
  ccnRoutes,
  cenCcns,
  cenVpcs,
  createState,
  instanceRoutes,
  reach,
  type Command,
  type ModelState,
  type ReachReason,
  type Route,
} from '../../src/controller/model/index.js';

const inst = (id: string, area: string, lanCidrs: string[]): Command => ({
  kind: 'instance.create',
  id,
  name: id.toUpperCase(),
  area,
  model: 'hardware',
  bandwidthMbps: 10,
  lanCidrs,
  uplinks: [],
});

/**
 * cen-1 joins ccn-a and ccn-b (mainland), ccn-c (international), vpc-hz (mainland)
 * and vpc-sg (international). ccn-d and vpc-loose are attached nowhere; vpc-other
 * sits on cen-2.
 */
const TOPOLOGY: Command[] = [
  { kind: 'ccn.create', id: 'ccn-a', name: 'A', area: 'mainland', cidrs: ['10.1.0.0/16'] },
  { kind: 'ccn.create', id: 'ccn-b', name: 'B', area: 'mainland', cidrs: ['10.2.0.0/16'] },
  { kind: 'ccn.create', id: 'ccn-c', name: 'C', area: 'international', cidrs: ['10.3.0.0/16'] },
  { kind: 'ccn.create', id: 'ccn-d', name: 'D', area: 'mainland', cidrs: ['10.4.0.0/16'] },
  inst('sag-a1', 'mainland', ['192.168.1.0/24']),
  inst('sag-a2', 'mainland', ['fd00:2::/64', '192.168.2.0/24']),
  inst('sag-b1', 'mainland', ['192.168.3.0/24']),
  inst('sag-c1', 'international', ['192.168.4.0/24']),
  inst('sag-d1', 'mainland', ['192.168.5.0/24']),
  inst('sag-lone', 'mainland', ['192.168.6.0/24']),
  { kind: 'ccn.join', ccnId: 'ccn-a', instanceId: 'sag-a1' },
  { kind: 'ccn.join', ccnId: 'ccn-a', instanceId: 'sag-a2' },
  { kind: 'ccn.join', ccnId: 'ccn-b', instanceId: 'sag-b1' },
  { kind: 'ccn.join', ccnId: 'ccn-c', instanceId: 'sag-c1' },
  { kind: 'ccn.join', ccnId: 'ccn-d', instanceId: 'sag-d1' },
  { kind: 'vpc.create', id: 'vpc-hz', name: 'HZ', region: 'cn-hangzhou', cidrs: ['172.16.0.0/16'] },
  { kind: 'vpc.create', id: 'vpc-sg', name: 'SG', region: 'ap-southeast-1', cidrs: ['172.17.0.0/16'] },
  { kind: 'vpc.create', id: 'vpc-loose', name: 'Loose', region: 'cn-beijing', cidrs: ['172.18.0.0/16'] },
  { kind: 'vpc.create', id: 'vpc-other', name: 'Other', region: 'cn-beijing', cidrs: ['172.19.0.0/16'] },
  { kind: 'cen.create', id: 'cen-1', name: 'One' },
  { kind: 'cen.create', id: 'cen-2', name: 'Two' },
  { kind: 'cen.attachCcn', cenId: 'cen-1', ccnId: 'ccn-a' },
  { kind: 'cen.attachCcn', cenId: 'cen-1', ccnId: 'ccn-b' },
  { kind: 'cen.attachCcn', cenId: 'cen-1', ccnId: 'ccn-c' },
  { kind: 'cen.attachVpc', cenId: 'cen-1', vpcId: 'vpc-hz' },
  { kind: 'cen.attachVpc', cenId: 'cen-1', vpcId: 'vpc-sg' },
  { kind: 'cen.attachVpc', cenId: 'cen-2', vpcId: 'vpc-other' },
];

const GRANT: Command = {
  kind: 'cen.setGrant',
  cenId: 'cen-1',
  areas: ['mainland', 'international'],
  mbps: 50,
};
const topology = (...extra: Command[]): ModelState =>
  applyCommands(createState(), [...TOPOLOGY, ...extra]).state;

test('derived views list members and attachments sorted by id', (t) => {
  const s = topology();
  t.deepEqual(
    ccnMembers(s, 'ccn-a').map((i) => i.id),
    ['sag-a1', 'sag-a2'],
  );
  t.deepEqual(
    cenCcns(s, 'cen-1').map((c) => c.id),
    ['ccn-a', 'ccn-b', 'ccn-c'],
  );
  t.deepEqual(
    cenVpcs(s, 'cen-1').map((v) => v.id),
    ['vpc-hz', 'vpc-sg'],
  );
});

// [case, extra commands, from CCN, target, reachable, reason, grant]
const REACH: [
  number,
  Command[],
  string,
  { kind: 'ccn' | 'vpc'; id: string },
  boolean,
  ReachReason,
  number | null,
][] = [
  [1, [], 'ccn-a', { kind: 'vpc', id: 'vpc-hz' }, true, 'same-area', null],
  [2, [], 'ccn-a', { kind: 'vpc', id: 'vpc-sg' }, false, 'no-grant', null],
  [3, [GRANT], 'ccn-a', { kind: 'vpc', id: 'vpc-sg' }, true, 'granted', 50],
  [4, [], 'ccn-c', { kind: 'vpc', id: 'vpc-hz' }, false, 'no-grant', null],
  [
    5,
    [{ ...GRANT, areas: ['international', 'mainland'] } as Command],
    'ccn-c',
    { kind: 'vpc', id: 'vpc-hz' },
    true,
    'granted',
    50,
  ],
  [6, [], 'ccn-a', { kind: 'vpc', id: 'vpc-loose' }, false, 'no-cen', null],
  [7, [], 'ccn-d', { kind: 'vpc', id: 'vpc-hz' }, false, 'no-cen', null],
  [8, [], 'ccn-a', { kind: 'vpc', id: 'vpc-other' }, false, 'different-cen', null],
  [9, [], 'ccn-a', { kind: 'ccn', id: 'ccn-b' }, true, 'same-area', null],
  [10, [], 'ccn-a', { kind: 'ccn', id: 'ccn-c' }, false, 'no-grant', null],
  [11, [GRANT], 'ccn-c', { kind: 'ccn', id: 'ccn-a' }, true, 'granted', 50],
  [12, [], 'ccn-a', { kind: 'ccn', id: 'ccn-a' }, true, 'same-ccn', null],
  [
    13,
    [{ ...GRANT, cenId: 'cen-2' } as Command],
    'ccn-a',
    { kind: 'vpc', id: 'vpc-sg' },
    false,
    'no-grant',
    null,
  ], // grants are per CEN
  [
    14,
    [GRANT, { kind: 'cen.removeGrant', cenId: 'cen-1', areas: ['international', 'mainland'] }],
    'ccn-a',
    { kind: 'vpc', id: 'vpc-sg' },
    false,
    'no-grant',
    null,
  ],
  [
    15,
    [GRANT, { ...GRANT, mbps: 200 } as Command],
    'ccn-a',
    { kind: 'vpc', id: 'vpc-sg' },
    true,
    'granted',
    200,
  ], // a second grant replaces the first
];

for (const [n, extra, from, target, reachable, reason, grantMbps] of REACH) {
  test(`reach #${n}: ${from} -> ${target.id}`, (t) => {
    t.deepEqual(reach(topology(...extra), from, target), { reachable, reason, grantMbps });
  });
}

const brief = (routes: Route[]) =>
  routes.map(
    (r) =>
      `${r.cidr} ${r.target.kind}:${r.target.id} ${r.area}${r.grantMbps === null ? '' : ` @${r.grantMbps}`}`,
  );

test('routes #1: a member gets its CCN, its peers and same-area CEN networks, not its own LAN', (t) => {
  t.deepEqual(brief(instanceRoutes(topology(), 'sag-a1')), [
    '10.1.0.0/16 ccn:ccn-a mainland',
    '10.2.0.0/16 ccn:ccn-b mainland',
    '172.16.0.0/16 vpc:vpc-hz mainland',
    '192.168.2.0/24 instance:sag-a2 mainland',
    '192.168.3.0/24 instance:sag-b1 mainland',
    'fd00:2::/64 instance:sag-a2 mainland',
  ]);
});

test('routes #2: a grant adds the other area, tagged with its bandwidth', (t) => {
  t.deepEqual(brief(instanceRoutes(topology(GRANT), 'sag-a1')), [
    '10.1.0.0/16 ccn:ccn-a mainland',
    '10.2.0.0/16 ccn:ccn-b mainland',
    '10.3.0.0/16 ccn:ccn-c international @50',
    '172.16.0.0/16 vpc:vpc-hz mainland',
    '172.17.0.0/16 vpc:vpc-sg international @50',
    '192.168.2.0/24 instance:sag-a2 mainland',
    '192.168.3.0/24 instance:sag-b1 mainland',
    '192.168.4.0/24 instance:sag-c1 international @50',
    'fd00:2::/64 instance:sag-a2 mainland',
  ]);
});

test('routes #3: the international side sees only its own area without a grant', (t) => {
  t.deepEqual(brief(instanceRoutes(topology(), 'sag-c1')), [
    '10.3.0.0/16 ccn:ccn-c international',
    '172.17.0.0/16 vpc:vpc-sg international',
  ]);
});

test('routes #4: an unattached CCN reaches only itself; an instance outside any CCN gets nothing', (t) => {
  const s = topology();
  t.deepEqual(brief(instanceRoutes(s, 'sag-d1')), ['10.4.0.0/16 ccn:ccn-d mainland']);
  t.deepEqual(instanceRoutes(s, 'sag-lone'), []);
});

test('routes #5: detaching and leaving withdraw routes', (t) => {
  const s = topology(
    { kind: 'cen.detachVpc', cenId: 'cen-1', vpcId: 'vpc-hz' },
    { kind: 'ccn.leave', ccnId: 'ccn-a', instanceId: 'sag-a2' },
    { kind: 'cen.detachCcn', cenId: 'cen-1', ccnId: 'ccn-b' },
  );
  t.deepEqual(brief(instanceRoutes(s, 'sag-a1')), ['10.1.0.0/16 ccn:ccn-a mainland']);
});

test('routes #6: ccnRoutes includes every member LAN', (t) => {
  t.deepEqual(
    ccnRoutes(topology(), 'ccn-a')
      .filter((r) => r.target.kind === 'instance')
      .map((r) => r.cidr),
    ['192.168.1.0/24', '192.168.2.0/24', '192.168.3.0/24', 'fd00:2::/64'],
  );
});

test('routes #7: routes list offline and unbound peers too (configuration, not liveness)', (t) => {
  const s = topology();
  t.is(s.instances['sag-a2']!.state, 'unbound');
  t.true(instanceRoutes(s, 'sag-a1').some((r) => r.target.id === 'sag-a2'));
});

test('routes #8: unknown ids are refused as not found', (t) => {
  const err = t.throws(() => instanceRoutes(topology(), 'sag-zzz'), { instanceOf: ModelError });
  t.is((err as ModelError).code, 'ERR_MODEL_NOT_FOUND');
  t.is(
    (t.throws(() => reach(topology(), 'ccn-a', { kind: 'vpc', id: 'vpc-zzz' })) as ModelError).code,
    'ERR_MODEL_NOT_FOUND',
  );
});

test('routes #9: overlap is refused in a CEN even across areas without a grant', (t) => {
  const s = topology();
  const err = t.throws(
    () => applyCommand(s, { kind: 'vpc.update', id: 'vpc-sg', cidrs: ['10.1.128.0/17'] }),
    { instanceOf: ModelError },
  );
  t.is((err as ModelError).code, 'ERR_MODEL_CIDR_OVERLAP');
  t.regex(err!.message, /vpc-sg.*ccn-a|ccn-a.*vpc-sg/);
});
