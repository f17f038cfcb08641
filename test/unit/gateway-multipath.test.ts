/**
 * Multipath through the Gateway API over loopback (no root): uplinks added and removed at
 * runtime, paths that appear and vanish with them, failover events, API validation, and a plain
 * peer (one endpoint, no uplinks) that never gets probed.
 */
import test from 'ava';
import { Gateway } from '../../src/gateway/index.js';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../../src/errors.js';
import { encodeKey, generatePrivateKey, publicKeyFromPrivate } from '../../src/wg/crypto.js';
import { memoryTun, tunInject, tunTake } from '../../src/testing/index.js';
import { ipv4Packet } from '../support/packets.js';
import { waitFor } from '../support/time.js';

function keypair() {
  const priv = generatePrivateKey();
  return { priv: encodeKey(priv), pub: encodeKey(publicKeyFromPrivate(priv)) };
}

async function pair(t: import('ava').ExecutionContext) {
  const ka = keypair();
  const kb = keypair();
  const a = new Gateway({
    privateKey: ka.priv,
    tun: memoryTun,
    listenAddress: '127.0.0.1',
    pollIntervalMs: 20,
    uplinks: [
      { name: 'u1', address: '127.0.0.1', priority: 1 },
      { name: 'u2', address: '127.0.0.1', priority: 2 },
    ],
    paths: { intervalMs: 50, holdDownMs: 500 },
  });
  const b = new Gateway({
    privateKey: kb.priv,
    tun: memoryTun,
    listenAddress: '127.0.0.1',
    pollIntervalMs: 20,
  });
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  const events: { type: string; e: Record<string, unknown> }[] = [];
  for (const type of ['path:up', 'path:down', 'path:failover'] as const)
    a.on(type, (e: object) => events.push({ type, e: e as Record<string, unknown> }));
  await a.start();
  await b.start();
  b.addPeer({ publicKey: ka.pub, allowedIps: ['10.0.0.1/32'] });
  a.addPeer({
    publicKey: kb.pub,
    allowedIps: ['10.0.0.2/32'],
    endpoints: [{ address: '127.0.0.1', port: b.listenPort }],
  });
  return { a, b, ka, kb, events };
}

const activeUplinks = (g: Gateway, key: string) =>
  g
    .paths(key)
    .filter((p) => p.active)
    .map((p) => p.uplink);

test('paths come up after the first probe reply; removing the active uplink fails over at once; adding it back brings its path', async (t) => {
  const { a, b, kb, events } = await pair(t);
  tunInject(a.dataplane, ipv4Packet('10.0.0.1', '10.0.0.2', 60)); // a handshake, then probes
  t.true(await waitFor(() => tunTake(b.dataplane) !== null, 5000));
  t.true(
    await waitFor(() => a.peer(kb.pub).multipath && activeUplinks(a, kb.pub).join() === 'u1', 5000),
    JSON.stringify(a.paths(kb.pub)),
  );
  t.deepEqual(
    a.paths(kb.pub).map((p) => [p.uplink, p.state]),
    [
      ['u1', 'up'],
      ['u2', 'up'],
    ],
  );
  t.true(a.paths(kb.pub).every((p) => p.rttMs !== null && p.rttMs < 100));
  t.deepEqual(
    a.uplinks().map((u) => [u.name, u.priority, u.metered]),
    [
      ['u1', 1, false],
      ['u2', 2, false],
    ],
  );

  a.removeUplink('u1');
  t.deepEqual(
    a.paths(kb.pub).map((p) => p.uplink),
    ['u2'],
  );
  t.true(await waitFor(() => activeUplinks(a, kb.pub).join() === 'u2', 2000));
  t.true(events.some(({ type, e }) => type === 'path:failover' && (e.to as number[]).length === 1));
  // Traffic still flows, now through u2.
  tunInject(a.dataplane, ipv4Packet('10.0.0.1', '10.0.0.2', 60));
  t.true(await waitFor(() => tunTake(b.dataplane) !== null, 2000));

  a.addUplink({ name: 'u1', address: '127.0.0.1', priority: 1 });
  t.true(await waitFor(() => a.paths(kb.pub).some((p) => p.uplink === 'u1' && p.state === 'up'), 2000));
  // A fresh path has never been down: no hold-down, active-standby takes it.
  t.true(await waitFor(() => activeUplinks(a, kb.pub).join() === 'u1', 2000));
});

test('the uplink and class API refuses bad input with typed errors', async (t) => {
  const { a, kb } = await pair(t);
  t.throws(() => a.addUplink({ name: 'u1' }), { instanceOf: AlreadyExistsError });
  t.throws(() => a.addUplink({ name: 'bad name!' }), { instanceOf: InvalidArgumentError });
  t.throws(() => a.addUplink({ name: 'x', priority: -1 }), { instanceOf: InvalidArgumentError });
  t.throws(() => a.addUplink({ name: 'x', address: 'not-an-ip' }), { instanceOf: InvalidArgumentError });
  t.throws(() => a.removeUplink('nope'), { instanceOf: NotFoundError });
  t.throws(() => a.setClasses([{ name: 'c', match: {}, policy: { kind: 'fastest' } as never }]), {
    instanceOf: InvalidArgumentError,
  });
  t.throws(() => a.setClasses([{ name: 'c', match: { dscp: [64] }, policy: { kind: 'duplicate' } }]), {
    instanceOf: InvalidArgumentError,
  });
  t.throws(
    () =>
      a.setClasses([
        { name: 'c', match: {}, policy: { kind: 'duplicate' } },
        { name: 'c', match: {}, policy: { kind: 'weighted' } },
      ]),
    { instanceOf: InvalidArgumentError },
  );
  const bad = (match: object, message: RegExp) =>
    t.throws(() => a.setClasses([{ name: 'c', match, policy: { kind: 'duplicate' } }]), {
      instanceOf: InvalidArgumentError,
      message,
    });
  bad(
    { srcAddresses: ['10.1.2.3/16'] },
    /srcAddresses\[0\] "10.1.2.3\/16": host bits are set \(did you mean 10.1.0.0\/16\?\)/,
  );
  bad({ dstAddresses: ['10.0.0.0/33'] }, /dstAddresses\[0\] "10.0.0.0\/33": prefix length above 32/);
  bad({ dstAddresses: ['fd00::/129'] }, /prefix length above 128/);
  bad({ dstAddresses: ['example.com'] }, /not an IPv4 or IPv6 address/);
  bad({ dstAddresses: '10.0.0.0/8' }, /must be an array of at most 8 address prefixes/);
  bad({ srcAddresses: [10] }, /srcAddresses\[0\] must be a string/);
  bad({ srcAddresses: Array.from({ length: 9 }, (_, i) => `10.${i}.0.0/16`) }, /at most 8 address prefixes/);
  bad({ srcAddresses: ['10.0.0.0/8'], dstAddresses: ['fd00::/8'] }, /share no address family/);
  // Accepted: several per side, both families, bare addresses, /0, combined with the other fields.
  a.setClasses([
    {
      name: 'c',
      match: {
        protocol: 6,
        dstPorts: [443, 443],
        srcAddresses: ['10.0.0.1', '0.0.0.0/0', 'fd00::/64'],
        dstAddresses: ['::/0', '192.0.2.0/24'],
      },
      policy: { kind: 'duplicate' },
    },
  ]);
  t.throws(() => a.updatePeer(kb.pub, { endpoints: [] }), { instanceOf: InvalidArgumentError });
  t.throws(
    () => a.updatePeer(kb.pub, { endpoints: [{ address: '127.0.0.1', port: 1, uplink: 'nowhere' }] }),
    { instanceOf: NotFoundError },
  );
  t.throws(() => new Gateway({ tun: memoryTun, paths: { intervalMs: 1 } }), {
    instanceOf: InvalidArgumentError,
  });
  t.throws(() => new Gateway({ tun: memoryTun, paths: { bogus: 1 } as never }), {
    instanceOf: InvalidArgumentError,
  });
});

test('a plain peer (one endpoint, no uplinks) is never probed and has no paths', async (t) => {
  const ka = keypair();
  const kb = keypair();
  const a = new Gateway({
    privateKey: ka.priv,
    tun: memoryTun,
    listenAddress: '127.0.0.1',
    pollIntervalMs: 20,
    paths: { intervalMs: 20, standbyIntervalMs: 20 },
  });
  const b = new Gateway({
    privateKey: kb.priv,
    tun: memoryTun,
    listenAddress: '127.0.0.1',
    pollIntervalMs: 20,
  });
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  await a.start();
  await b.start();
  let probes = 0;
  const send = a.dataplane.sendProbe.bind(a.dataplane);
  a.dataplane.sendProbe = (...args) => (probes++, send(...args));
  b.addPeer({ publicKey: ka.pub, allowedIps: ['10.0.0.1/32'] });
  a.addPeer({
    publicKey: kb.pub,
    allowedIps: ['10.0.0.2/32'],
    endpoint: { address: '127.0.0.1', port: b.listenPort },
  });
  tunInject(a.dataplane, ipv4Packet('10.0.0.1', '10.0.0.2', 60));
  t.true(await waitFor(() => tunTake(b.dataplane) !== null, 5000));
  await new Promise((r) => setTimeout(r, 300));
  t.deepEqual(a.paths(kb.pub), []);
  t.false(a.peer(kb.pub).multipath);
  t.is(probes, 0, 'the plain peer was probed');
});

test('more than 8 paths for a peer is refused as a whole (peer or uplink not added)', async (t) => {
  const { a } = await pair(t);
  const k = keypair();
  const endpoints = Array.from({ length: 5 }, (_, i) => ({ address: '127.0.0.1', port: 40000 + i }));
  t.throws(() => a.addPeer({ publicKey: k.pub, endpoints }), {
    instanceOf: InvalidArgumentError,
    message: /10 paths; at most 8/,
  });
  t.throws(() => a.peer(k.pub), { instanceOf: NotFoundError });
  a.addPeer({ publicKey: k.pub, endpoints: endpoints.slice(0, 4) });
  t.throws(() => a.addUplink({ name: 'u3', address: '127.0.0.1' }), { instanceOf: InvalidArgumentError });
  t.deepEqual(
    a.uplinks().map((u) => u.name),
    ['u1', 'u2'],
  );
  t.is(a.paths(k.pub).length, 8);
});

test('weighted load balancing: each flow stays on one uplink, flows spread over both', async (t) => {
  const { a, b, kb } = await pair(t);
  a.setClasses([{ name: 'default', match: {}, policy: { kind: 'weighted' } }]);
  tunInject(a.dataplane, ipv4Packet('10.0.0.1', '10.0.0.2', 60));
  t.true(await waitFor(() => tunTake(b.dataplane) !== null, 5000));
  t.true(await waitFor(() => activeUplinks(a, kb.pub).length === 2, 5000), JSON.stringify(a.paths(kb.pub)));
  const ids = a.uplinks().map((u) => u.id);
  const tx = () =>
    ids.map((id) => a.dataplane.uplinkStats(id).txPackets - a.dataplane.uplinkStats(id).txKeepalives);
  const flow = (sport: number) => {
    const p = ipv4Packet('10.0.0.1', '10.0.0.2', 60);
    p.writeUInt16BE(sport, 20);
    p.writeUInt16BE(443, 22);
    return p;
  };
  const used = new Set<number>();
  for (let sport = 1000; sport < 1016; sport++) {
    const before = tx();
    for (let i = 0; i < 20; i++) tunInject(a.dataplane, flow(sport));
    t.true(await waitFor(() => tx().reduce((x, y) => x + y) - before.reduce((x, y) => x + y) >= 20, 2000));
    const delta = tx().map((n, i) => n - before[i]!);
    t.true(delta.filter((d) => d > 0).length === 1, `flow ${sport} split over uplinks: ${delta}`);
    used.add(delta.findIndex((d) => d > 0));
    while (tunTake(b.dataplane) !== null);
  }
  t.is(used.size, 2, '16 flows all hashed onto one uplink');
});

test('address classes: packets from one source prefix are duplicated on both uplinks, the rest stay on the first', async (t) => {
  const { a, b, kb } = await pair(t);
  a.setClasses([
    { name: 'site9', match: { srcAddresses: ['fd00::/64', '10.0.9.0/24'] }, policy: { kind: 'duplicate' } },
  ]);
  tunInject(a.dataplane, ipv4Packet('10.0.0.1', '10.0.0.2', 60));
  t.true(await waitFor(() => tunTake(b.dataplane) !== null, 5000));
  t.true(await waitFor(() => activeUplinks(a, kb.pub).length === 2, 5000), JSON.stringify(a.paths(kb.pub)));
  const ids = a.uplinks().map((u) => u.id);
  const tx = () =>
    ids.map((id) => a.dataplane.uplinkStats(id).txPackets - a.dataplane.uplinkStats(id).txKeepalives);
  const sendFrom = async (source: string, copies: number) => {
    const before = tx();
    for (let i = 0; i < 20; i++) tunInject(a.dataplane, ipv4Packet(source, '10.0.0.2', 60));
    const sent = () => tx().reduce((x, y) => x + y) - before.reduce((x, y) => x + y);
    t.true(await waitFor(() => sent() >= 20 * copies, 2000), `${sent()} sent`);
    await new Promise((r) => setTimeout(r, 50)); // copies that should not exist have time to show
    return tx().map((n, i) => n - before[i]!);
  };
  // The hub drops the 10.0.9.x packets (not its peer's allowed IPs): only our uplink counters matter.
  t.deepEqual(await sendFrom('10.0.9.7', 2), [20, 20], 'the class rule: both uplinks');
  t.deepEqual(await sendFrom('10.0.0.1', 1), [20, 0], 'the default class: the first uplink only');
  t.deepEqual(await sendFrom('10.0.10.7', 1), [20, 0], 'just outside the /24');
});

test('a hub that lost its sessions (restarted): every path stops answering, the branch handshakes at once, not after 15 s', async (t) => {
  const { a, b, ka, kb, events } = await pair(t);
  tunInject(a.dataplane, ipv4Packet('10.0.0.1', '10.0.0.2', 60));
  t.true(await waitFor(() => tunTake(b.dataplane) !== null, 5000));
  const handshakeAt = Date.now();
  t.true(
    await waitFor(() => a.peer(kb.pub).multipath && a.paths(kb.pub).every((p) => p.state === 'up'), 5000),
  );
  // Past REKEY_TIMEOUT since that handshake, so the rate limit does not delay the next one.
  await new Promise((r) => setTimeout(r, Math.max(0, handshakeAt + 5200 - Date.now())));
  const port = b.listenPort;
  await b.stop();
  const b2 = new Gateway({
    privateKey: kb.priv,
    tun: memoryTun,
    listenAddress: '127.0.0.1',
    listenPort: port,
    pollIntervalMs: 20,
  });
  t.teardown(() => b2.stop());
  await b2.start();
  b2.addPeer({ publicKey: ka.pub, allowedIps: ['10.0.0.1/32'] });
  const restartedAt = Date.now();
  // b2 knows no session: it drops a's probes and data (unknown receiver index) and never initiates.
  t.true(
    await waitFor(
      () => events.filter(({ type, e }) => type === 'path:down' && e.reason === 'probe-timeout').length >= 2,
      3000,
    ),
  );
  let delivered = false;
  const until = Date.now() + 3000;
  while (!delivered && Date.now() < until) {
    tunInject(a.dataplane, ipv4Packet('10.0.0.1', '10.0.0.2', 60));
    delivered = await waitFor(() => tunTake(b2.dataplane) !== null, 100);
  }
  const ms = Date.now() - restartedAt;
  t.log(`traffic through the restarted hub after ${ms} ms`);
  t.true(delivered && ms < 2000, 'a handshake as soon as every path was dead (WireGuard alone: 15 s)');
  t.true(await waitFor(() => a.paths(kb.pub).some((p) => p.state === 'up'), 3000), 'and the paths come back');
});
