import test from 'ava';
import {
  CookieChecker,
  equalBytes,
  generateKeyPair,
  Handshake,
  HandshakeDecryptError,
  HandshakeFloodError,
  HandshakeReplayError,
  HandshakeStateError,
  InvalidMac1Error,
  LowOrderPointError,
  openTransport,
  RandomIndexAllocator,
  sealTransport,
  UnknownIndexError,
  UnknownPeerError,
  type KeyPair,
} from '../../src/wg/index.js';

const T0 = 1_700_000_000_000; // Unix ms
const SRC = { address: '192.0.2.1', port: 51820 };

interface Pair {
  alice: KeyPair;
  bob: KeyPair;
  a: Handshake; // alice's view of bob (initiator)
  b: Handshake; // bob's view of alice (responder)
  lookup: (pub: Uint8Array) => Handshake | undefined;
  bobChecker: CookieChecker;
  aliceChecker: CookieChecker;
}

function makePair(opts: { psk?: Uint8Array; bobPsk?: Uint8Array } = {}): Pair {
  const alice = generateKeyPair();
  const bob = generateKeyPair();
  const a = new Handshake({
    local: alice,
    remoteStatic: bob.publicKey,
    presharedKey: opts.psk,
    indices: new RandomIndexAllocator(),
  });
  const b = new Handshake({
    local: bob,
    remoteStatic: alice.publicKey,
    presharedKey: 'bobPsk' in opts ? opts.bobPsk : opts.psk,
    indices: new RandomIndexAllocator(),
  });
  const lookup = (pub: Uint8Array): Handshake | undefined =>
    equalBytes(pub, alice.publicKey) ? b : undefined;
  return {
    alice,
    bob,
    a,
    b,
    lookup,
    bobChecker: new CookieChecker(bob.publicKey),
    aliceChecker: new CookieChecker(alice.publicKey),
  };
}

function complete(p: Pair, now = T0) {
  const init = p.a.createInitiation(now);
  t_accept(p.bobChecker, init, now);
  const hs = Handshake.consumeInitiation(init, p.bob, p.lookup, now);
  const resp = hs.createResponse(now);
  const bKeys = hs.beginSession(now);
  t_accept(p.aliceChecker, resp, now);
  p.a.consumeResponse(resp);
  const aKeys = p.a.beginSession(now);
  return { init, resp, aKeys, bKeys, hs };
}

function t_accept(checker: CookieChecker, msg: Uint8Array, now: number): void {
  const r = checker.screen(msg, SRC, { now, underLoad: false });
  if (r.action !== 'accept') throw new Error('expected accept');
}

for (const withPsk of [false, true]) {
  test(`initiator and responder derive matching keypairs (${withPsk ? 'with' : 'without'} PSK)`, (t) => {
    const psk = withPsk ? new Uint8Array(32).fill(0x42) : undefined;
    const p = makePair({ psk });
    const { init, resp, aKeys, bKeys, hs } = complete(p);
    t.is(init.length, 148);
    t.is(resp.length, 92);
    t.is(hs, p.b);
    t.true(aKeys.isInitiator);
    t.false(bKeys.isInitiator);
    t.deepEqual(aKeys.sendKey, bKeys.recvKey);
    t.deepEqual(aKeys.recvKey, bKeys.sendKey);
    t.notDeepEqual(aKeys.sendKey, aKeys.recvKey);
    t.is(aKeys.remoteIndex, bKeys.localIndex);
    t.is(bKeys.remoteIndex, aKeys.localIndex);
    t.is(aKeys.createdAt, T0);
    t.is(p.a.state, 'zeroed');
    t.is(p.b.state, 'zeroed');
    // The keys actually carry traffic both ways.
    const ab = openTransport(
      bKeys.recvKey,
      sealTransport(aKeys.sendKey, aKeys.remoteIndex, 0n, Uint8Array.of(1, 2)),
    );
    t.deepEqual(ab.plaintext, Uint8Array.of(1, 2));
    t.is(ab.receiver, bKeys.localIndex);
    const ba = openTransport(
      aKeys.recvKey,
      sealTransport(bKeys.sendKey, bKeys.remoteIndex, 0n, new Uint8Array(0)),
    );
    t.is(ba.plaintext.length, 0);
  });
}

test('wrong PSK is rejected when the initiator consumes the response', (t) => {
  const p = makePair({ psk: new Uint8Array(32).fill(1), bobPsk: new Uint8Array(32).fill(2) });
  const init = p.a.createInitiation(T0);
  const hs = Handshake.consumeInitiation(init, p.bob, p.lookup, T0); // the initiation carries no PSK
  const resp = hs.createResponse(T0);
  t.throws(() => p.a.consumeResponse(resp), {
    instanceOf: HandshakeDecryptError,
    code: 'ERR_WG_HANDSHAKE_DECRYPT',
  });
  t.is(p.a.state, 'initiation-created', 'a failed response leaves the initiation pending');
});

test('PSK on one side only is rejected', (t) => {
  const p = makePair({ psk: undefined, bobPsk: new Uint8Array(32).fill(3) });
  const hs = Handshake.consumeInitiation(p.a.createInitiation(T0), p.bob, p.lookup, T0);
  t.throws(() => p.a.consumeResponse(hs.createResponse(T0)), { instanceOf: HandshakeDecryptError });
});

test('initiation for the wrong responder key is rejected (mac1 and Noise layers)', (t) => {
  const p = makePair();
  const eve = generateKeyPair();
  const toEve = new Handshake({
    local: p.alice,
    remoteStatic: eve.publicKey,
    indices: new RandomIndexAllocator(),
  });
  const init = toEve.createInitiation(T0);
  t.throws(() => p.bobChecker.screen(init, SRC, { now: T0, underLoad: false }), {
    instanceOf: InvalidMac1Error,
    code: 'ERR_WG_MAC1',
  });
  t.throws(() => Handshake.consumeInitiation(init, p.bob, p.lookup, T0), {
    instanceOf: HandshakeDecryptError,
  });
});

test('response from a responder with the wrong static key is rejected', (t) => {
  const p = makePair();
  const mallory = generateKeyPair();
  const init = p.a.createInitiation(T0);
  // Mallory knows alice's public key but answers as a different responder.
  const m = new Handshake({
    local: mallory,
    remoteStatic: p.alice.publicKey,
    indices: new RandomIndexAllocator(),
  });
  t.throws(() => Handshake.consumeInitiation(init, mallory, () => m, T0), {
    instanceOf: HandshakeDecryptError,
  });
});

test('unknown initiator static key is rejected', (t) => {
  const p = makePair();
  const init = p.a.createInitiation(T0);
  t.throws(() => Handshake.consumeInitiation(init, p.bob, () => undefined, T0), {
    instanceOf: UnknownPeerError,
    code: 'ERR_WG_UNKNOWN_PEER',
  });
});

const initiationFields: [string, number, number][] = [
  ['sender', 4, 8],
  ['ephemeral', 8, 40],
  ['static', 40, 88],
  ['timestamp', 88, 116],
  ['mac1', 116, 132],
  ['mac2', 132, 148],
];

for (const [field, start, end] of initiationFields) {
  for (const offset of [start, end - 1]) {
    test(`tampered initiation ${field} byte ${offset} is caught`, (t) => {
      const p = makePair();
      const init = p.a.createInitiation(T0);
      init[offset]! ^= 0x01;
      if (field === 'mac2') {
        // mac2 is only looked at under load: then the tampered message earns a cookie reply, not acceptance.
        t.is(p.bobChecker.screen(init, SRC, { now: T0, underLoad: true }).action, 'cookie-reply');
        return;
      }
      t.throws(() => p.bobChecker.screen(init, SRC, { now: T0, underLoad: false }), {
        instanceOf: InvalidMac1Error,
      });
      if (field === 'mac1') return;
      if (field === 'sender') {
        // Not part of the Noise transcript: mac1 alone protects it, the Noise layer would accept it.
        t.notThrows(() => Handshake.consumeInitiation(init, p.bob, p.lookup, T0));
        return;
      }
      t.throws(() => Handshake.consumeInitiation(init, p.bob, p.lookup, T0), {
        instanceOf: HandshakeDecryptError,
      });
      t.is(p.b.state, 'zeroed');
    });
  }
}

const responseFields: [string, number, number][] = [
  ['sender', 4, 8],
  ['receiver', 8, 12],
  ['ephemeral', 12, 44],
  ['empty', 44, 60],
  ['mac1', 60, 76],
  ['mac2', 76, 92],
];

for (const [field, start, end] of responseFields) {
  for (const offset of [start, end - 1]) {
    test(`tampered response ${field} byte ${offset} is caught`, (t) => {
      const p = makePair();
      const hs = Handshake.consumeInitiation(p.a.createInitiation(T0), p.bob, p.lookup, T0);
      const resp = hs.createResponse(T0);
      resp[offset]! ^= 0x01;
      if (field === 'mac2') {
        t.is(p.aliceChecker.screen(resp, SRC, { now: T0, underLoad: true }).action, 'cookie-reply');
        return;
      }
      t.throws(() => p.aliceChecker.screen(resp, SRC, { now: T0, underLoad: false }), {
        instanceOf: InvalidMac1Error,
      });
      if (field === 'mac1') return;
      if (field === 'sender') {
        t.notThrows(() => p.a.consumeResponse(resp));
        return;
      }
      const expected = field === 'receiver' ? UnknownIndexError : HandshakeDecryptError;
      t.throws(() => p.a.consumeResponse(resp), { instanceOf: expected });
      t.is(p.a.state, 'initiation-created');
    });
  }
}

test('replayed initiation (same timestamp) is rejected', (t) => {
  const p = makePair();
  const init = p.a.createInitiation(T0);
  Handshake.consumeInitiation(init, p.bob, p.lookup, T0);
  t.throws(() => Handshake.consumeInitiation(init, p.bob, p.lookup, T0 + 5_000), {
    instanceOf: HandshakeReplayError,
    code: 'ERR_WG_HANDSHAKE_REPLAY',
  });
  // A fresh initiation in the same whitened 16.8 ms window carries an equal timestamp: also a replay.
  const again = p.a.createInitiation(T0 + 1);
  t.throws(() => Handshake.consumeInitiation(again, p.bob, p.lookup, T0 + 5_000), {
    instanceOf: HandshakeReplayError,
  });
  // An older timestamp is rejected too, a newer one accepted.
  t.throws(() => Handshake.consumeInitiation(p.a.createInitiation(T0 - 1_000), p.bob, p.lookup, T0 + 6_000), {
    instanceOf: HandshakeReplayError,
  });
  t.notThrows(() =>
    Handshake.consumeInitiation(p.a.createInitiation(T0 + 1_000), p.bob, p.lookup, T0 + 7_000),
  );
});

test('replay protection survives completed sessions', (t) => {
  const p = makePair();
  const { init } = complete(p);
  t.throws(() => Handshake.consumeInitiation(init, p.bob, p.lookup, T0 + 60_000), {
    instanceOf: HandshakeReplayError,
  });
});

test('initiation within 20 ms of the last consumed one is rejected as a flood', (t) => {
  const p = makePair();
  Handshake.consumeInitiation(p.a.createInitiation(T0), p.bob, p.lookup, T0);
  const second = p.a.createInitiation(T0 + 1_000); // newer timestamp, so only the flood guard applies
  t.throws(() => Handshake.consumeInitiation(second, p.bob, p.lookup, T0 + 10), {
    instanceOf: HandshakeFloodError,
    code: 'ERR_WG_HANDSHAKE_FLOOD',
  });
  t.throws(() => Handshake.consumeInitiation(second, p.bob, p.lookup, T0 + 20), {
    instanceOf: HandshakeFloodError,
  });
  t.is(Handshake.consumeInitiation(second, p.bob, p.lookup, T0 + 21), p.b);
});

test('operations out of order raise HandshakeStateError', (t) => {
  const p = makePair();
  const err = { instanceOf: HandshakeStateError, code: 'ERR_WG_HANDSHAKE_STATE' };
  t.throws(() => p.b.createResponse(T0), err);
  t.throws(() => p.a.beginSession(T0), err);
  const hs = Handshake.consumeInitiation(p.a.createInitiation(T0), p.bob, p.lookup, T0);
  const resp = hs.createResponse(T0);
  p.a.consumeResponse(resp);
  t.throws(() => p.a.consumeResponse(resp), err, 'a response is consumed once');
  p.a.beginSession(T0);
  t.throws(() => p.a.beginSession(T0), err);
});

test('initiator remote static that is a low-order point cannot handshake', (t) => {
  const hs = new Handshake({
    local: generateKeyPair(),
    remoteStatic: new Uint8Array(32),
    indices: new RandomIndexAllocator(),
  });
  t.throws(() => hs.createInitiation(T0), { instanceOf: LowOrderPointError });
});

test('index allocator: unique non-zero indices, released when superseded', (t) => {
  // A random source that repeats itself and yields 0 first: the allocator must skip both.
  const seq = [0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0];
  let i = 0;
  const alloc = new RandomIndexAllocator((n) => Uint8Array.from({ length: n }, () => seq[i++ % seq.length]!));
  const p = makePair();
  const hs = new Handshake({ local: p.alice, remoteStatic: p.bob.publicKey, indices: alloc });
  const other = new Handshake({ local: p.bob, remoteStatic: p.alice.publicKey, indices: alloc });
  t.is(alloc.allocate(other), 1);
  hs.createInitiation(T0);
  t.is(hs.localIndex, 2);
  t.is(alloc.lookup(2), hs);
  hs.createInitiation(T0 + 1000);
  t.is(hs.localIndex, 3);
  t.is(alloc.lookup(2), undefined, 'the superseded index was released');
  hs.clear();
  t.is(hs.localIndex, 0);
  t.is(alloc.lookup(3), undefined);
});

test('local index passes to the keypair and the sender field carries it', (t) => {
  const p = makePair();
  const init = p.a.createInitiation(T0);
  const sender = new DataView(init.buffer).getUint32(4, true);
  t.is(sender, p.a.localIndex);
  const hs = Handshake.consumeInitiation(init, p.bob, p.lookup, T0);
  const resp = hs.createResponse(T0);
  const view = new DataView(resp.buffer);
  t.is(view.getUint32(8, true), sender, 'response receiver = initiator sender');
  const bKeys = hs.beginSession(T0);
  t.is(bKeys.localIndex, view.getUint32(4, true));
  t.is(hs.localIndex, 0);
});
