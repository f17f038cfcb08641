/**
 * Two Gateways talking real UDP over loopback with in-memory TUNs (no root): the Noise handshake,
 * traffic both ways, refusals for wrong keys and pre-shared keys, rotation under traffic, roaming
 * of a handshake, and peers changed at runtime.
 */
import test from 'ava';
import { once } from 'node:events';
import { Gateway } from '../../src/gateway/index.js';
import { AlreadyExistsError, NotFoundError } from '../../src/errors.js';
import { encodeKey, generatePrivateKey, publicKeyFromPrivate } from '../../src/wg/crypto.js';
import { memoryTun, tunInject, tunTake } from '../../src/testing/index.js';
import { ipv4Packet, randomKey } from '../support/packets.js';
import { waitFor } from '../support/time.js';

function keypair() {
  const priv = generatePrivateKey();
  return { priv: encodeKey(priv), pub: encodeKey(publicKeyFromPrivate(priv)) };
}

interface Pair {
  a: Gateway;
  b: Gateway;
  ka: ReturnType<typeof keypair>;
  kb: ReturnType<typeof keypair>;
}

async function makePair(
  t: import('ava').ExecutionContext,
  opts: { psk?: [string, string]; rekeyAfterTimeMs?: number; logs?: string[] } = {},
): Promise<Pair> {
  const ka = keypair();
  const kb = keypair();
  const logger = (level: string, msg: string) => opts.logs?.push(`${level} ${msg}`);
  const a = new Gateway({
    privateKey: ka.priv,
    tun: memoryTun,
    listenAddress: '127.0.0.1',
    pollIntervalMs: 20,
    rekeyAfterTimeMs: opts.rekeyAfterTimeMs,
    logger,
  });
  const b = new Gateway({
    privateKey: kb.priv,
    tun: memoryTun,
    listenAddress: '127.0.0.1',
    pollIntervalMs: 20,
    logger,
  });
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  a.addPeer({
    publicKey: kb.pub,
    allowedIps: ['10.0.0.2/32'],
    endpoint: { address: '127.0.0.1', port: b.listenPort },
    presharedKey: opts.psk?.[0],
  });
  b.addPeer({ publicKey: ka.pub, allowedIps: ['10.0.0.1/32'], presharedKey: opts.psk?.[1] });
  await a.start();
  await b.start();
  return { a, b, ka, kb };
}

async function roundTrip(p: Pair, size = 100): Promise<boolean> {
  const pkt = ipv4Packet('10.0.0.1', '10.0.0.2', size);
  tunInject(p.a.dataplane, pkt);
  let got: Buffer | null = null;
  if (!(await waitFor(() => (got = tunTake(p.b.dataplane)) !== null, 5000))) return false;
  if (!pkt.equals(got!)) return false;
  const reply = ipv4Packet('10.0.0.2', '10.0.0.1', size);
  tunInject(p.b.dataplane, reply);
  return (await waitFor(() => (got = tunTake(p.a.dataplane)) !== null, 5000)) && reply.equals(got!);
}

test('1 a packet triggers the handshake; traffic then flows both ways; both sides report the handshake', async (t) => {
  const p = await makePair(t);
  const handshakes = once(p.a, 'peer:handshake');
  t.true(await roundTrip(p));
  const [ev] = await handshakes;
  t.deepEqual(ev.publicKey, p.kb.pub);
  t.true(ev.initiator);
  t.true(p.a.peer(p.kb.pub).lastHandshakeUnixMs > 0);
  t.true(
    await waitFor(() => p.b.peer(p.ka.pub).lastHandshakeUnixMs > 0),
    'the responder records it on first data',
  );
  // B learned A's endpoint from the authenticated initiation (it had none configured).
  t.deepEqual(p.b.peer(p.ka.pub).endpoint, { address: '127.0.0.1', port: p.a.listenPort });
});

test('2 with matching pre-shared keys the session works', async (t) => {
  const psk = randomKey().toString('base64');
  const p = await makePair(t, { psk: [psk, psk] });
  t.true(await roundTrip(p));
  t.true(p.a.peer(p.kb.pub).hasPresharedKey);
});

test('3 a pre-shared key mismatch gives no session and a clear rejection on the initiator', async (t) => {
  const logs: string[] = [];
  const p = await makePair(t, {
    psk: [randomKey().toString('base64'), randomKey().toString('base64')],
    logs,
  });
  const rejected = once(p.a, 'handshake:rejected');
  tunInject(p.a.dataplane, ipv4Packet('10.0.0.1', '10.0.0.2', 60));
  const [ev] = await rejected;
  t.is(ev.code, 'ERR_WG_HANDSHAKE_DECRYPT');
  t.true(
    logs.some((l) => /rejected: response failed to authenticate/.test(l)),
    logs.join('\n'),
  );
  t.is(tunTake(p.b.dataplane), null);
  t.is(p.a.peer(p.kb.pub).lastHandshakeUnixMs, 0);
});

test('4 an initiation from an unknown key is refused by the responder, naming the source', async (t) => {
  const logs: string[] = [];
  const p = await makePair(t, { logs });
  p.b.removePeer(p.ka.pub);
  p.b.addPeer({ publicKey: keypair().pub, allowedIps: ['10.0.0.1/32'] }); // B expects someone else
  const rejected = once(p.b, 'handshake:rejected');
  tunInject(p.a.dataplane, ipv4Packet('10.0.0.1', '10.0.0.2', 60));
  const [ev] = await rejected;
  t.is(ev.code, 'ERR_WG_UNKNOWN_PEER');
  t.is(ev.from.port, p.a.listenPort);
  t.true(logs.some((l) => l.includes(`from 127.0.0.1:${p.a.listenPort} rejected`)));
});

test('5 sessions rotate under traffic without losing packets (short rekey interval)', async (t) => {
  const p = await makePair(t, { rekeyAfterTimeMs: 5_000 });
  let handshakes = 0;
  p.a.on('peer:handshake', () => handshakes++);
  const deadline = Date.now() + 12_000;
  let sent = 0;
  let received = 0;
  while (Date.now() < deadline) {
    tunInject(p.a.dataplane, ipv4Packet('10.0.0.1', '10.0.0.2', 200));
    sent++;
    await new Promise((r) => setTimeout(r, 10));
    while (tunTake(p.b.dataplane)) received++;
  }
  await waitFor(() => {
    while (tunTake(p.b.dataplane)) received++;
    return received === sent;
  }, 2000);
  t.true(handshakes >= 2, `handshakes: ${handshakes}`);
  t.is(received, sent);
  const drops = p.b.peer(p.ka.pub).counters.drops;
  t.is(drops.bad_auth + drops.no_session + drops.replay, 0, JSON.stringify(drops));
});

test('6 peers are changed and removed at runtime; mistakes are typed errors', async (t) => {
  const p = await makePair(t);
  t.true(await roundTrip(p));
  t.throws(() => p.a.addPeer({ publicKey: p.kb.pub }), { instanceOf: AlreadyExistsError });
  p.a.updatePeer(p.kb.pub, { allowedIps: ['10.0.0.2/32', '10.9.0.0/16'], persistentKeepalive: 1 });
  t.deepEqual(p.a.peer(p.kb.pub).allowedIps, ['10.0.0.2/32', '10.9.0.0/16']);
  t.true(
    await waitFor(() => p.b.peer(p.ka.pub).counters.rxKeepalives >= 1, 3000),
    'persistent keepalive arrives',
  );
  t.is(p.a.peer(p.kb.pub).persistentKeepalive, 1);
  p.a.removePeer(p.kb.pub);
  t.throws(() => p.a.peer(p.kb.pub), { instanceOf: NotFoundError });
  tunInject(p.a.dataplane, ipv4Packet('10.0.0.1', '10.0.0.2', 60));
  t.true(await waitFor(() => p.a.dataplane.stats().drops.no_route === 1));
});

test('7 a flood of initiations puts the gateway under load: cookie replies instead of handshakes', async (t) => {
  const { createSocket } = await import('node:dgram');
  const { mac } = await import('../../src/wg/crypto.js');
  const { mac1Key } = await import('../../src/wg/cookie.js');
  const k = keypair();
  const g = new Gateway({
    privateKey: k.priv,
    tun: memoryTun,
    listenAddress: '127.0.0.1',
    underLoadBacklog: 32,
  });
  await g.start();
  const sock = createSocket('udp4');
  t.teardown(async () => {
    sock.close();
    await g.stop();
  });
  const replies: Buffer[] = [];
  sock.on('message', (m) => replies.push(m));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const key = mac1Key(Buffer.from(k.pub, 'base64'));
  // Valid mac1 (so they pass the first gate), garbage otherwise: the cheap flood mac2 exists for.
  for (let n = 0; n < 600; n++) {
    const msg = Buffer.alloc(148);
    for (let i = 4; i < 116; i++) msg[i] = (i * 31 + n) & 0xff;
    msg[0] = 1;
    Buffer.from(mac(key, msg.subarray(0, 116))).copy(msg, 116);
    sock.send(msg, g.listenPort, '127.0.0.1');
  }
  t.true(
    await waitFor(() => replies.some((r) => r.length === 64 && r[0] === 3), 5000),
    `replies: ${replies.length}`,
  );
  t.true(
    replies.every((r) => r[0] === 3),
    'nothing but cookie replies: no handshake state was created',
  );
});
