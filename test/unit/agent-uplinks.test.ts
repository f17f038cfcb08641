/**
 * The agent's uplinks (multipath): compiled uplinks bound to local addresses become the Gateway's
 * named uplinks; an uplinks change adds, removes or re-weighs them without touching any peer; an
 * unbound uplink is skipped with one log line; with no bindings nothing changes at all. Then one
 * agent end to end over loopback: two bound uplinks give two paths, and an operator's priority
 * change moves the active one.
 */
import test, { type ExecutionContext } from 'ava';
import {
  ConfigApplier,
  METERED_PRIORITY_BASE,
  parseUplinkBinding,
  UplinkApplier,
  type UplinkBinding,
} from '../../src/agent/index.js';
import { contentVersion, type CompiledUplink, type DeviceConfig } from '../../src/contract/index.js';
import { InvalidArgumentError, NotFoundError } from '../../src/errors.js';
import { Gateway } from '../../src/gateway/index.js';
import { encodeKey, generatePrivateKey, publicKeyFromPrivate } from '../../src/wg/crypto.js';
import { gatewayOptions, keypair, world } from '../support/agent-world.js';
import { waitFor } from '../support/time.js';
import type { LogLevel } from '../../src/util/logger.js';
import { memoryTun } from '../../src/testing/index.js';

const KEY = (n: number) => Buffer.alloc(32, n).toString('base64');
const HUB = {
  accessPointId: 'ap-1',
  publicKey: KEY(1),
  endpoints: ['127.0.0.1:9'],
  persistentKeepaliveSec: 25,
  rank: 0,
};
const up = (name: string, priority: number, kind: 'wired' | 'lte' = 'wired', weight = 1): CompiledUplink => ({
  name,
  kind,
  priority,
  weight,
});

function config(uplinks: CompiledUplink[], deviceKey: string): DeviceConfig {
  const body = {
    kind: 'device' as const,
    serial: 'SN-1',
    publicKey: deviceKey,
    instance: { id: 'sag-1', area: 'mainland', model: 'app' as const, bandwidthMbps: 10 },
    ccnId: 'ccn-1',
    address: '100.96.0.9/32',
    uplinks,
    allowedIps: ['10.1.0.0/16'],
    routes: [
      {
        cidr: '10.1.0.0/16',
        target: { kind: 'ccn' as const, id: 'ccn-1' },
        area: 'mainland',
        grantMbps: null,
      },
    ],
    peers: [HUB],
  };
  return { ...body, version: contentVersion(body), modelVersion: 1 };
}

async function setup(t: ExecutionContext, bindings: Record<string, UplinkBinding>) {
  const priv = generatePrivateKey();
  const gw = new Gateway({ privateKey: encodeKey(priv), tun: memoryTun, listenAddress: '127.0.0.1' });
  await gw.start();
  t.teardown(() => gw.stop());
  const logs: [LogLevel, string][] = [];
  const applier = new ConfigApplier(
    gw,
    new UplinkApplier(gw, new Map(Object.entries(bindings)), (level, message) => logs.push([level, message])),
  );
  return { gw, applier, logs, me: encodeKey(publicKeyFromPrivate(priv)) };
}

const local = { address: '127.0.0.1' };
const uplinksOf = (gw: Gateway) => gw.uplinks().map((u) => [u.name, u.priority, u.weight, u.metered]);

test('bindings parse from the command line; bad ones are refused', (t) => {
  t.deepEqual(parseUplinkBinding('wan1=10.0.1.2'), ['wan1', { address: '10.0.1.2' }]);
  t.deepEqual(parseUplinkBinding('lte=dev:wwan0'), ['lte', { device: 'wwan0' }]);
  t.deepEqual(parseUplinkBinding('wan2=dev:eth1@2001:db8::2'), [
    'wan2',
    { device: 'eth1', address: '2001:db8::2' },
  ]);
  for (const bad of [
    'wan1',
    '=10.0.0.1',
    'wan1=',
    'wan1=not-an-ip',
    'wan1=dev:',
    'bad name!=10.0.0.1',
    `wan1=dev:${'x'.repeat(20)}`,
  ]) {
    t.throws(() => parseUplinkBinding(bad), { instanceOf: InvalidArgumentError }, bad);
  }
});

test('bound uplinks become Gateway uplinks (LTE metered and last); an unbound one is skipped with one log line', async (t) => {
  const { gw, applier, logs, me } = await setup(t, { wan1: local, lte: local });
  const out = applier.apply(config([up('wan1', 1, 'wired', 50), up('wan2', 2), up('lte', 1, 'lte')], me));
  t.deepEqual(uplinksOf(gw), [
    ['wan1', 1, 50, false],
    ['lte', METERED_PRIORITY_BASE + 1, 1, true],
  ]);
  const skipped = logs.filter(([, m]) => m.includes('wan2'));
  t.is(skipped.length, 1);
  t.is(skipped[0]![0], 'warn');
  t.regex(skipped[0]![1], /no local binding/);
  t.true(out.hubsChanged, 'the first configuration adds the hub');
  t.deepEqual(
    gw.paths(HUB.publicKey).map((p) => p.uplink),
    ['wan1', 'lte'],
    'the hub has a path per uplink',
  );
});

test('an uplinks change re-weighs, removes and adds uplinks without touching peers', async (t) => {
  const { gw, applier, me } = await setup(t, { wan1: local, wan2: local });
  applier.apply(config([up('wan1', 1), up('wan2', 2)], me));
  applier.select('ap-1');
  const peer = gw.peer(HUB.publicKey);
  const ports = new Map(gw.uplinks().map((u) => [u.name, u.port]));

  const swapped = applier.apply(config([up('wan2', 1), up('wan1', 2, 'wired', 7)], me));
  t.deepEqual(
    swapped.changes.map((c) => c.op),
    ['uplinks.change'],
  );
  t.false(swapped.hubsChanged);
  t.deepEqual(uplinksOf(gw), [
    ['wan1', 2, 7, false],
    ['wan2', 1, 1, false],
  ]);
  t.deepEqual(new Map(gw.uplinks().map((u) => [u.name, u.port])), ports, 'updated in place: same sockets');
  t.deepEqual(gw.peer(HUB.publicKey), peer, 'the peer, its allowed IPs and keepalive stay');

  applier.apply(config([up('wan2', 1)], me));
  t.deepEqual(uplinksOf(gw), [['wan2', 1, 1, false]]);
  t.deepEqual(
    gw.paths(HUB.publicKey).map((p) => p.uplink),
    ['wan2'],
  );
  applier.apply(config([up('wan2', 1), up('wan1', 3)], me));
  t.deepEqual(uplinksOf(gw), [
    ['wan2', 1, 1, false],
    ['wan1', 3, 1, false],
  ]);
  t.deepEqual(gw.peer(HUB.publicKey).allowedIps, ['10.1.0.0/16']);
  t.throws(() => gw.updateUplink('nope', { priority: 1 }), { instanceOf: NotFoundError });
  t.throws(() => gw.updateUplink('wan1', { weight: 0 }), { instanceOf: InvalidArgumentError });
  t.is(gw.uplinks().find((u) => u.name === 'wan1')?.weight, 1, 'a refused update changes nothing');
});

test('an uplink the system refuses is logged and left out; the hubs still apply', async (t) => {
  const { gw, applier, logs, me } = await setup(t, { wan1: local, wan2: { device: 'ma-nosuchdev0' } });
  const out = applier.apply(config([up('wan1', 1), up('wan2', 2)], me));
  t.is(out.changes.length > 0, true);
  t.deepEqual(uplinksOf(gw), [['wan1', 1, 1, false]]);
  t.true(
    logs.some(([level, m]) => level === 'error' && m.includes('uplink wan2 not added')),
    JSON.stringify(logs),
  );
  t.deepEqual(
    gw.peers().map((p) => p.publicKey),
    [HUB.publicKey],
  );
});

test('with no bindings the uplinks of the configuration change nothing', async (t) => {
  const { gw, applier, logs, me } = await setup(t, {});
  applier.apply(config([up('wan1', 1), up('lte', 2, 'lte')], me));
  applier.apply(config([up('wan1', 2)], me));
  t.deepEqual(gw.uplinks(), []);
  t.deepEqual(gw.peer(HUB.publicKey).paths, [], 'a plain WireGuard peer');
  t.deepEqual(logs, []);
});

test('an agent with two bound uplinks gets a path on each; an operator priority change moves the active path', async (t) => {
  const w = await world(t, { paths: { intervalMs: 50, holdDownMs: 0 } });
  // One hub dialled directly (no relay: paths from two local sockets must reach it as they are).
  const hubKey = keypair();
  const direct = new Gateway({ ...gatewayOptions, privateKey: hubKey.priv });
  await direct.start();
  t.teardown(() => direct.stop());
  await w.operator('POST', '/v1/access-points', {
    id: 'ap-d',
    area: 'mainland',
    endpoints: [`127.0.0.1:${direct.listenPort}`],
    maxInstances: 10,
    publicKey: hubKey.pub,
  });
  const wans = (p1: number, p2: number) => [
    { name: 'wan1', kind: 'wired', priority: p1, weight: 1 },
    { name: 'wan2', kind: 'wired', priority: p2, weight: 1 },
  ];
  await w.operator('POST', '/v1/instances', {
    id: 'sag-1',
    name: 'One',
    area: 'mainland',
    model: 'app',
    bandwidthMbps: 50,
    lanCidrs: ['192.168.1.0/24'],
    uplinks: wans(1, 2),
  });
  await w.operator('POST', '/v1/ccns', {
    id: 'ccn-main',
    name: 'Main',
    area: 'mainland',
    cidrs: ['10.10.0.0/16'],
  });
  await w.operator('PUT', '/v1/ccns/ccn-main/members/sag-1');
  await w.operator('POST', '/v1/devices', { serial: 'SN-1', model: 'app', softwareVersion: '1.0' });
  await w.operator('POST', '/v1/devices/SN-1/bind', { instanceId: 'sag-1' });
  const { code } = await w.operator('POST', '/v1/devices/SN-1/activation', { ttlSeconds: 600 });

  const agent = w.newAgent({ uplinks: { wan1: { address: '127.0.0.1' }, wan2: { address: '127.0.0.1' } } });
  const { publicKey } = await agent.activate('SN-1', code);
  direct.addPeer({ publicKey, allowedIps: ['192.168.1.0/24'] });
  await agent.start();
  const gw = agent.gateway as Gateway;
  const active = () =>
    gw
      .paths(hubKey.pub)
      .filter((p) => p.active)
      .map((p) => p.uplink)
      .join();
  const state = () => JSON.stringify(gw.paths(hubKey.pub));
  t.true(await waitFor(() => gw.uplinks().length === 2, 10_000), 'the configuration arrived');
  // The agent's probe is a handshake; paths then answer multipath probes.
  t.true(
    await waitFor(() => gw.paths(hubKey.pub).filter((p) => p.state === 'up').length === 2, 10_000),
    state(),
  );
  t.true(await waitFor(() => active() === 'wan1', 5_000), state());

  const report = agent.statusReport();
  const paths = report.peers.find((p) => p.accessPointId === 'ap-d')?.paths ?? [];
  t.deepEqual(
    paths.map((p) => [p.uplink, p.state, p.active]),
    [
      ['wan1', 'up', true],
      ['wan2', 'up', false],
    ],
  );
  t.true(paths.every((p) => typeof p.rttMs === 'number' && p.endpoint === `127.0.0.1:${direct.listenPort}`));
  await agent.reportNow(); // the controller's schema accepts it
  const stored = await w.operator('GET', '/v1/devices/SN-1/status');
  t.is(stored.report.peers[0].paths.length, 2);

  const ports = gw.uplinks().map((u) => u.port);
  await w.operator('PATCH', '/v1/instances/sag-1', { uplinks: wans(2, 1) });
  t.true(await waitFor(() => active() === 'wan2', 10_000), state());
  t.deepEqual(
    gw.uplinks().map((u) => [u.name, u.priority]),
    [
      ['wan1', 2],
      ['wan2', 1],
    ],
  );
  t.deepEqual(
    gw.uplinks().map((u) => u.port),
    ports,
    'the same sockets, re-weighed',
  );
  t.deepEqual(gw.peer(hubKey.pub).allowedIps, ['10.10.0.0/16'], 'the hub peer kept its routes');
});
