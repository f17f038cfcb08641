/**
 * The Dataplane class over the real addon, with in-memory TUNs and real UDP on loopback (no root):
 * validation before native, delivery, staging, events, counted drops, and releasing resources.
 */
import test from 'ava';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { Dataplane } from '../../src/dataplane/index.js';
import {
  AlreadyExistsError,
  InvalidArgumentError,
  InvalidStateError,
  NotFoundError,
} from '../../src/errors.js';
import { memoryTun, tunInject, tunTake } from '../../src/testing/index.js';
import { ipv4Packet, randomKey, sealTransport } from '../support/packets.js';
import { waitFor } from '../support/time.js';

const KEY_A = randomKey().toString('base64');
const KEY_B = randomKey().toString('base64');

interface Pair {
  a: Dataplane;
  b: Dataplane;
  k1: Buffer; // A -> B
  k2: Buffer; // B -> A
  portA: number;
  portB: number;
  close(): void;
}

function makePair(withKeys = true): Pair {
  const a = new Dataplane();
  const b = new Dataplane();
  a.openTun(memoryTun);
  b.openTun(memoryTun);
  const ua = a.addUplink({ address: '127.0.0.1' });
  const ub = b.addUplink({ address: '127.0.0.1' });
  a.addPeer({
    publicKey: KEY_B,
    allowedIps: ['10.0.0.2/32'],
    endpoint: { address: '127.0.0.1', port: ub.port },
  });
  b.addPeer({
    publicKey: KEY_A,
    allowedIps: ['10.0.0.1/32'],
    endpoint: { address: '127.0.0.1', port: ua.port },
  });
  const pair: Pair = {
    a,
    b,
    k1: randomKey(),
    k2: randomKey(),
    portA: ua.port,
    portB: ub.port,
    close() {
      a.close();
      b.close();
    },
  };
  if (withKeys) installKeys(pair);
  a.start();
  b.start();
  return pair;
}

function installKeys(p: Pair): void {
  p.b.installKeypair(KEY_A, {
    localIndex: 200,
    remoteIndex: 100,
    sendKey: p.k2,
    recvKey: p.k1,
    initiator: false,
  });
  p.a.installKeypair(KEY_B, {
    localIndex: 100,
    remoteIndex: 200,
    sendKey: p.k1,
    recvKey: p.k2,
    initiator: true,
  });
}

test('1 a packet crosses A -> B over loopback UDP and the reply comes back', async (t) => {
  const p = makePair();
  t.teardown(() => p.close());
  const pkt = ipv4Packet('10.0.0.1', '10.0.0.2', 100);
  t.true(tunInject(p.a, pkt));
  let got: Buffer | null = null;
  t.true(await waitFor(() => (got = tunTake(p.b)) !== null));
  t.deepEqual(got, pkt);
  const reply = ipv4Packet('10.0.0.2', '10.0.0.1', 60);
  tunInject(p.b, reply);
  t.true(await waitFor(() => (got = tunTake(p.a)) !== null));
  t.deepEqual(got, reply);
  const sa = p.a.peerStats(KEY_B);
  t.is(sa.counters.txPackets, 1);
  t.is(sa.counters.rxPackets, 1);
  t.is(sa.counters.txBytes, 16 + 112 + 16); // 100 bytes padded to 112
  t.is(sa.currentIndex, 100);
  t.deepEqual(sa.allowedIps, ['10.0.0.2/32']);
});

test('2 the responder keypair is confirmed on first data, with an event', async (t) => {
  const p = makePair();
  t.teardown(() => p.close());
  t.is(p.b.peerStats(KEY_A).nextIndex, 200);
  const confirmed = once(p.b, 'keypair:confirmed');
  tunInject(p.a, ipv4Packet('10.0.0.1', '10.0.0.2', 40));
  const [ev] = await confirmed;
  t.deepEqual(ev, { publicKey: KEY_A, localIndex: 200 });
  t.is(p.b.peerStats(KEY_A).currentIndex, 200);
});

test('3 without a session packets are staged, handshake:needed fires, and installing keys flushes them', async (t) => {
  const p = makePair(false);
  t.teardown(() => p.close());
  const needed = once(p.a, 'handshake:needed');
  const sent = [40, 41, 42].map((n) => ipv4Packet('10.0.0.1', '10.0.0.2', n));
  for (const s of sent) tunInject(p.a, s);
  const [ev] = await needed;
  t.is(ev.publicKey, KEY_B);
  t.true(await waitFor(() => p.a.peerStats(KEY_B).stagedPackets === 3));
  installKeys(p);
  for (const s of sent) {
    let got: Buffer | null = null;
    t.true(await waitFor(() => (got = tunTake(p.b)) !== null));
    t.deepEqual(got, s);
  }
});

test('4 control messages go out through sendControl and arrive as control:received', async (t) => {
  const p = makePair();
  t.teardown(() => p.close());
  const init = Buffer.alloc(148, 7);
  init.writeUInt32LE(1, 0);
  const got = once(p.b, 'control:received');
  p.a.sendControl(p.a.uplinks()[0]!.id, { address: '127.0.0.1', port: p.portB }, init);
  const [msg] = await got;
  t.deepEqual(msg.data, init);
  t.deepEqual(msg.from, { address: '127.0.0.1', port: p.portA });
  t.is(msg.uplinkId, p.b.uplinks()[0]!.id);
});

test('5 keepalives are counted and deliver nothing to the TUN', async (t) => {
  const p = makePair();
  t.teardown(() => p.close());
  p.a.sendKeepalive(KEY_B);
  t.true(await waitFor(() => p.b.peerStats(KEY_A).counters.rxPackets === 1));
  t.is(p.b.peerStats(KEY_A).counters.rxBytes, 32);
  t.is(p.b.peerStats(KEY_A).counters.rxKeepalives, 1);
  t.is(p.a.peerStats(KEY_B).counters.txKeepalives, 1);
  t.is(tunTake(p.b), null);
});

test('6 forged, replayed and truncated datagrams from a plain UDP socket are dropped and counted', async (t) => {
  const p = makePair();
  const sock = createSocket('udp4');
  t.teardown(() => {
    p.close();
    sock.close();
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const send = (b: Buffer) =>
    new Promise<void>((r, j) => sock.send(b, p.portB, '127.0.0.1', (e) => (e ? j(e) : r())));
  const inner = ipv4Packet('10.0.0.1', '10.0.0.2', 64);
  const valid = sealTransport(p.k1, 200, 7n, inner);
  await send(valid);
  await send(valid); // replay
  const forged = sealTransport(randomKey(), 200, 8n, inner); // wrong key
  await send(forged);
  await send(sealTransport(p.k1, 200, 9n, ipv4Packet('10.6.6.6', '10.0.0.2', 64))); // wrong source
  await send(Buffer.from([4, 0, 0, 0, 1, 2])); // truncated transport
  await send(Buffer.from([1, 0, 0, 0, 9])); // truncated initiation
  t.true(
    await waitFor(() => {
      const c = p.b.peerStats(KEY_A).counters;
      const u = p.b.uplinkStats(p.b.uplinks()[0]!.id);
      return (
        c.drops.replay === 1 &&
        c.drops.bad_auth === 1 &&
        c.drops.source_not_allowed === 1 &&
        u.drops.malformed === 2
      );
    }),
  );
  t.deepEqual(tunTake(p.b), inner);
  t.is(tunTake(p.b), null);
  // The valid packet came from the test socket: B roamed its endpoint there.
  const port = sock.address().port;
  t.true(await waitFor(() => p.b.peerStats(KEY_A).endpoint?.port === port));
});

test('7 invalid arguments throw InvalidArgumentError before reaching native code', (t) => {
  const dp = new Dataplane();
  t.teardown(() => dp.close());
  dp.openTun(memoryTun);
  const up = dp.addUplink({ address: '127.0.0.1' });
  const cases: [string, () => unknown][] = [
    ['mtu too small', () => new Dataplane({ mtu: 100 })],
    ['batch not integer', () => new Dataplane({ batchSize: 1.5 })],
    ['tun queues 0', () => new Dataplane({ tunQueues: 0 })],
    ['tun queues 17', () => new Dataplane({ tunQueues: 17 })],
    ['receive workers 0', () => new Dataplane({ receiveWorkers: 0 })],
    ['receive workers 17', () => new Dataplane({ receiveWorkers: 17 })],
    ['uplink address', () => dp.addUplink({ address: '300.1.1.1' })],
    ['uplink port', () => dp.addUplink({ port: 70000 })],
    ['uplink device', () => dp.addUplink({ device: 'a/b' })],
    ['fwmark', () => dp.addUplink({ fwmark: -1 })],
    ['key short', () => dp.addPeer({ publicKey: Buffer.alloc(31) })],
    ['key base64', () => dp.addPeer({ publicKey: 'not-a-key' })],
    ['allowed ip', () => dp.addPeer({ publicKey: KEY_A, allowedIps: ['10.0.0.0/33'] })],
    ['allowed ip type', () => dp.addPeer({ publicKey: KEY_A, allowedIps: [42 as unknown as string] })],
    ['endpoint port', () => dp.addPeer({ publicKey: KEY_A, endpoint: { address: '127.0.0.1', port: 0 } })],
    [
      'v6 endpoint on v4 uplink',
      () => dp.addPeer({ publicKey: KEY_A, endpoint: { address: '::1', port: 1 }, uplink: up.id }),
    ],
    ['tun name', () => dp.openTun('name-that-is-far-too-long')],
    ['control size', () => dp.sendControl(up.id, { address: '127.0.0.1', port: 1 }, Buffer.alloc(0))],
    ['control port', () => dp.sendControl(up.id, { address: '127.0.0.1', port: 0 }, Buffer.alloc(4))],
    ['expire args', () => dp.expireOlderThan(-1n, 0n)],
  ];
  for (const [name, fn] of cases) {
    const err = t.throws(fn, { instanceOf: InvalidArgumentError }, name);
    t.is(err?.code, 'ERR_SAG_INVALID_ARGUMENT', name);
  }
  t.deepEqual(dp.peers(), [], 'no half-added peer left behind');
  dp.addPeer({ publicKey: KEY_A });
  const badKeys: [string, () => unknown][] = [
    [
      'index 0',
      () =>
        dp.installKeypair(KEY_A, {
          localIndex: 0,
          remoteIndex: 1,
          sendKey: randomKey(),
          recvKey: randomKey(),
          initiator: true,
        }),
    ],
    [
      'send key',
      () =>
        dp.installKeypair(KEY_A, {
          localIndex: 1,
          remoteIndex: 1,
          sendKey: Buffer.alloc(3),
          recvKey: randomKey(),
          initiator: true,
        }),
    ],
    [
      'initiator',
      () =>
        dp.installKeypair(KEY_A, {
          localIndex: 1,
          remoteIndex: 1,
          sendKey: randomKey(),
          recvKey: randomKey(),
          initiator: 1 as unknown as boolean,
        }),
    ],
  ];
  for (const [name, fn] of badKeys) t.throws(fn, { instanceOf: InvalidArgumentError }, name);
});

test('8 unknown and duplicate objects give NotFoundError and AlreadyExistsError', (t) => {
  const dp = new Dataplane();
  t.teardown(() => dp.close());
  dp.openTun(memoryTun);
  dp.addUplink({ address: '127.0.0.1' });
  dp.addPeer({ publicKey: KEY_A, allowedIps: ['10.1.0.0/16'] });
  t.throws(() => dp.addPeer({ publicKey: KEY_A }), { instanceOf: AlreadyExistsError });
  t.throws(() => dp.removePeer(KEY_B), { instanceOf: NotFoundError });
  t.throws(() => dp.removeUplink(99), { instanceOf: NotFoundError });
  t.throws(() => dp.retireKeypair(1234), { instanceOf: NotFoundError });
  const kp = { localIndex: 5, remoteIndex: 6, sendKey: randomKey(), recvKey: randomKey(), initiator: true };
  dp.installKeypair(KEY_A, kp);
  t.throws(() => dp.installKeypair(KEY_A, { ...kp, sendKey: randomKey(), recvKey: randomKey() }), {
    instanceOf: AlreadyExistsError,
  });
  // A prefix moves to the peer that claims it last, as in WireGuard.
  dp.addPeer({ publicKey: KEY_B, allowedIps: ['10.1.0.0/16'] });
  t.deepEqual(dp.peerStats(KEY_A).allowedIps, []);
  t.deepEqual(dp.peerStats(KEY_B).allowedIps, ['10.1.0.0/16']);
  // Host bits are masked like wg does.
  dp.updatePeer(KEY_B, { allowedIps: ['10.2.3.4/8', 'fd00::1/64'] });
  t.deepEqual(dp.peerStats(KEY_B).allowedIps, ['10.0.0.0/8', 'fd00::/64']);
  // Read back from the native trie: IPv4 first, each family ascending, a duplicate once, one spelling.
  dp.updatePeer(KEY_A, { allowedIps: ['FD01:0::5/128', '10.9.0.0/16', '10.3.0.0/16', '10.3.0.0/16'] });
  t.deepEqual(dp.peerStats(KEY_A).allowedIps, ['10.3.0.0/16', '10.9.0.0/16', 'fd01::5/128']);
  t.deepEqual(dp.peerCounters(KEY_A), dp.peerStats(KEY_A).counters);
  t.throws(() => dp.peerCounters(randomKey()), { instanceOf: NotFoundError });
});

test('9 close releases the UDP port and every later call says the dataplane is closed', (t) => {
  const first = new Dataplane();
  first.openTun(memoryTun);
  const { port } = first.addUplink({ address: '127.0.0.1' });
  first.start();
  first.close();
  t.true(first.closed);
  t.throws(() => first.addUplink({}), { instanceOf: InvalidStateError });
  first.close(); // idempotent
  const second = new Dataplane();
  t.teardown(() => second.close());
  t.notThrows(() => second.addUplink({ address: '127.0.0.1', port }));
});

test('10 start needs a TUN; the TUN cannot change while running', (t) => {
  const dp = new Dataplane();
  t.teardown(() => dp.close());
  t.throws(() => dp.start(), { instanceOf: InvalidStateError, message: /TUN/ });
  dp.openTun(memoryTun);
  dp.start();
  t.throws(() => dp.openTun(memoryTun), { instanceOf: InvalidStateError });
  dp.stop();
  t.notThrows(() => dp.openTun(memoryTun));
});
