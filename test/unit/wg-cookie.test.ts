import test from 'ava';
import {
  CookieChecker,
  CookieDecryptError,
  CookieGenerator,
  decodeCookieReply,
  encodeSource,
  equalBytes,
  generateKeyPair,
  Handshake,
  InvalidMac1Error,
  ipBytes,
  RandomIndexAllocator,
  RateLimitedError,
  RateLimiter,
  UnexpectedCookieReplyError,
  type KeyPair,
} from '../../src/wg/index.js';

const T0 = 1_700_000_000_000;
const SRC = { address: '198.51.100.7', port: 40000 };
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const senderOf = (msg: Uint8Array): number => new DataView(msg.buffer, msg.byteOffset).getUint32(4, true);

function setup(): {
  alice: KeyPair;
  bob: KeyPair;
  a: Handshake;
  b: Handshake;
  checker: CookieChecker;
  lookup: (k: Uint8Array) => Handshake | undefined;
} {
  const alice = generateKeyPair();
  const bob = generateKeyPair();
  const a = new Handshake({ local: alice, remoteStatic: bob.publicKey, indices: new RandomIndexAllocator() });
  const b = new Handshake({ local: bob, remoteStatic: alice.publicKey, indices: new RandomIndexAllocator() });
  return {
    alice,
    bob,
    a,
    b,
    checker: new CookieChecker(bob.publicKey),
    lookup: (k) => (equalBytes(k, alice.publicKey) ? b : undefined),
  };
}

test('mac1 is always checked; mac2 is zero without a cookie', (t) => {
  const { a, checker } = setup();
  const init = a.createInitiation(T0);
  t.true(checker.checkMac1(init));
  t.true(init.subarray(132).every((x) => x === 0));
  t.is(checker.screen(init, SRC, { now: T0, underLoad: false }).action, 'accept');
  const bad = new Uint8Array(init);
  bad[120]! ^= 0xff;
  t.false(checker.checkMac1(bad));
  t.throws(() => checker.screen(bad, SRC, { now: T0, underLoad: false }), {
    instanceOf: InvalidMac1Error,
    code: 'ERR_WG_MAC1',
  });
  t.throws(() => checker.screen(bad, SRC, { now: T0, underLoad: true }), { instanceOf: InvalidMac1Error });
});

test('under load: cookie reply, initiator consumes it, retried initiation carries a valid mac2', (t) => {
  const { a, bob, checker, lookup } = setup();
  const first = a.createInitiation(T0);
  const r = checker.screen(first, SRC, { now: T0, underLoad: true });
  if (r.action !== 'cookie-reply') return t.fail('expected a cookie reply');
  t.is(r.reply.length, 64);
  const reply = decodeCookieReply(r.reply);
  t.is(reply.receiver, senderOf(first), 'addressed to the initiation sender index');

  t.false(a.cookies.hasFreshCookie(T0));
  a.cookies.consumeCookieReply(r.reply, T0 + 5);
  t.true(a.cookies.hasFreshCookie(T0 + 5));

  const retry = a.createInitiation(T0 + 5_000);
  t.false(
    retry.subarray(132).every((x) => x === 0),
    'mac2 is set',
  );
  t.true(checker.checkMac2(retry, SRC, T0 + 5_000));
  t.is(checker.screen(retry, SRC, { now: T0 + 5_000, underLoad: true }).action, 'accept');
  t.notThrows(() => Handshake.consumeInitiation(retry, bob, lookup, T0 + 5_000));
  // The cookie is bound to the source address and port.
  t.false(checker.checkMac2(retry, { ...SRC, port: SRC.port + 1 }, T0 + 5_000));
  t.false(checker.checkMac2(retry, { ...SRC, address: '198.51.100.8' }, T0 + 5_000));
  // A tampered mac2 fails.
  const bad = new Uint8Array(retry);
  bad[140]! ^= 1;
  t.false(checker.checkMac2(bad, SRC, T0 + 5_000));
});

test('responses get cookie replies and mac2 too', (t) => {
  const { a, b, bob, alice, lookup } = setup();
  const aliceChecker = new CookieChecker(alice.publicKey);
  Handshake.consumeInitiation(a.createInitiation(T0), bob, lookup, T0);
  const resp = b.createResponse(T0);
  const r = aliceChecker.screen(resp, SRC, { now: T0, underLoad: true });
  if (r.action !== 'cookie-reply') return t.fail('expected a cookie reply');
  t.is(decodeCookieReply(r.reply).receiver, senderOf(resp));
  b.cookies.consumeCookieReply(r.reply, T0);
  const gen = b.cookies;
  const copy = new Uint8Array(resp);
  gen.addMacs(copy, T0 + 1);
  t.true(aliceChecker.checkMac2(copy, SRC, T0 + 1));
});

test('cookie replies are bound to the last mac1 and authenticated', (t) => {
  const { a, checker } = setup();
  const fresh = new CookieGenerator(generateKeyPair().publicKey);
  const init1 = a.createInitiation(T0);
  const r1 = checker.createCookieReply(init1, SRC, T0);
  t.throws(() => fresh.consumeCookieReply(r1, T0), {
    instanceOf: UnexpectedCookieReplyError,
    code: 'ERR_WG_COOKIE_UNEXPECTED',
  });
  const tampered = new Uint8Array(r1);
  tampered[40]! ^= 1;
  t.throws(() => a.cookies.consumeCookieReply(tampered, T0), {
    instanceOf: CookieDecryptError,
    code: 'ERR_WG_COOKIE_DECRYPT',
  });
  a.createInitiation(T0 + 1_000); // a newer message: the reply to init1 no longer matches our mac1
  t.throws(() => a.cookies.consumeCookieReply(r1, T0 + 1_000), { instanceOf: CookieDecryptError });
  t.false(a.cookies.hasFreshCookie(T0 + 1_000));
  // Two replies use different random nonces.
  t.notDeepEqual(
    decodeCookieReply(checker.createCookieReply(init1, SRC, T0)).nonce,
    decodeCookieReply(r1).nonce,
  );
});

test('the initiator stops sending mac2 once its cookie is older than 120 s', (t) => {
  const { a, checker } = setup();
  const init = a.createInitiation(T0);
  a.cookies.consumeCookieReply(checker.createCookieReply(init, SRC, T0), T0);
  t.true(a.cookies.hasFreshCookie(T0 + 120_000));
  t.false(a.cookies.hasFreshCookie(T0 + 120_001));
  const late = a.createInitiation(T0 + 120_001);
  t.true(late.subarray(132).every((x) => x === 0));
});

test('cookie secret rotates after 120 s and old cookies stop working', (t) => {
  const { a, checker } = setup();
  const init = a.createInitiation(T0);
  a.cookies.consumeCookieReply(checker.createCookieReply(init, SRC, T0), T0);
  const withOldCookie = a.createInitiation(T0 + 100_000);
  t.true(checker.checkMac2(withOldCookie, SRC, T0 + 119_000));
  t.true(checker.checkMac2(withOldCookie, SRC, T0 + 120_000));
  // The secret is now stale: nothing passes until a new one is made.
  t.false(checker.checkMac2(withOldCookie, SRC, T0 + 120_001));
  const r = checker.screen(withOldCookie, SRC, { now: T0 + 120_001, underLoad: true });
  if (r.action !== 'cookie-reply') return t.fail('expected a cookie reply');
  // A fresh secret exists now, yet the message made with the old cookie still fails against it.
  t.false(checker.checkMac2(withOldCookie, SRC, T0 + 120_002));
  a.cookies.consumeCookieReply(r.reply, T0 + 120_002);
  const withNewCookie = a.createInitiation(T0 + 121_000);
  t.notDeepEqual(withNewCookie.subarray(132), withOldCookie.subarray(132));
  t.true(checker.checkMac2(withNewCookie, SRC, T0 + 121_000));
  // Within its lifetime the secret is reused: a second reply yields the same cookie.
  const r2 = checker.createCookieReply(withNewCookie, SRC, T0 + 130_000);
  a.cookies.consumeCookieReply(r2, T0 + 130_000);
  const again = a.createInitiation(T0 + 131_000);
  t.true(checker.checkMac2(again, SRC, T0 + 131_000));
});

test('source encoding: IP bytes then port big-endian', (t) => {
  t.is(toHex(encodeSource({ address: '10.0.0.1', port: 51820 })), '0a000001ca6c');
  t.is(toHex(encodeSource({ address: '::1', port: 1 })), '00'.repeat(15) + '01' + '0001');
  t.is(toHex(ipBytes('2001:db8::a:b')), '20010db80000000000000000000a000b');
  t.is(toHex(ipBytes('fe80::1%eth0')), 'fe80' + '00'.repeat(13) + '01');
  t.is(toHex(ipBytes('::ffff:192.0.2.1')), 'c0000201', 'IPv4-mapped collapses to IPv4');
  t.is(toHex(ipBytes('64:ff9b::192.0.2.1')), '0064ff9b0000000000000000c0000201');
  t.throws(() => ipBytes('not-an-ip'), { code: 'ERR_WG_MESSAGE_FORMAT' });
  t.throws(() => encodeSource({ address: '10.0.0.1', port: 65536 }), { code: 'ERR_WG_MESSAGE_FORMAT' });
});

test('rate limiter: burst of 5, then 20 per second, per source', (t) => {
  const rl = new RateLimiter();
  let now = 1_000;
  const burst = Array.from({ length: 7 }, () => rl.allow('a', now));
  t.deepEqual(burst, [true, true, true, true, true, false, false]);
  t.true(rl.allow('b', now), 'sources are independent');
  now += 49;
  t.false(rl.allow('a', now), 'not yet a full token after 49 ms');
  now += 1;
  t.true(rl.allow('a', now), 'one token per 50 ms');
  t.false(rl.allow('a', now));
  now += 500; // ten tokens' worth of time, but the bucket holds only five
  const refill = Array.from({ length: 7 }, () => rl.allow('a', now));
  t.deepEqual(refill, [true, true, true, true, true, false, false]);
  // Steady 20/s is sustained indefinitely.
  for (let i = 0; i < 40; i++) {
    now += 50;
    t.true(rl.allow('a', now));
  }
});

test('rate limiter forgets idle sources and, when full, the least recently seen one', (t) => {
  const rl = new RateLimiter({ maxEntries: 2 });
  t.true(rl.allow('192.0.2.1', 0));
  t.true(rl.allow('192.0.2.2', 0));
  t.true(rl.allow('192.0.2.1', 1), '.1 is now the most recently seen');
  t.true(rl.allow('192.0.2.3', 2), 'table full: a new source is still served');
  t.is(rl.size, 2, '... by forgetting .2, the least recently seen');
  for (let i = 0; i < 3; i++) rl.allow('192.0.2.1', 3);
  t.false(rl.allow('192.0.2.1', 3), '.1 kept its bucket (used up) across the eviction');
  rl.gc(1_003);
  t.is(rl.size, 1, '.3 idle > 1 s is dropped, .1 is kept');
});

test('rate limiter: an IPv6 /64 is one source, mapped IPv4 is its IPv4 address', (t) => {
  const rl = new RateLimiter();
  for (let i = 1; i <= 5; i++) t.true(rl.allow(`2001:db8:1:2::${i.toString(16)}`, 0));
  t.false(
    rl.allow('2001:db8:1:2:ffff:ffff:ffff:ffff', 0),
    'another address of the same /64 shares the bucket',
  );
  t.true(rl.allow('2001:db8:1:3::1', 0), 'the next /64 has its own');
  for (let i = 0; i < 5; i++) t.true(rl.allow('192.0.2.7', 0));
  t.false(rl.allow('::ffff:192.0.2.7', 0), 'a dual-stack socket reports the same host as ::ffff:a.b.c.d');
  t.is(rl.size, 3);
});

test('screen applies the rate limiter under load to sources with a valid mac2', (t) => {
  const { a, checker } = setup();
  const rl = new RateLimiter();
  const first = a.createInitiation(T0);
  const r = checker.screen(first, SRC, { now: T0, underLoad: true, rateLimiter: rl });
  if (r.action !== 'cookie-reply') return t.fail('expected a cookie reply');
  t.is(rl.size, 0, 'a source without a valid mac2 does not consume tokens');
  a.cookies.consumeCookieReply(r.reply, T0);
  const msg = a.createInitiation(T0 + 1_000);
  for (let i = 0; i < 5; i++)
    t.is(checker.screen(msg, SRC, { now: T0 + 1_000, underLoad: true, rateLimiter: rl }).action, 'accept');
  t.throws(() => checker.screen(msg, SRC, { now: T0 + 1_000, underLoad: true, rateLimiter: rl }), {
    instanceOf: RateLimitedError,
    code: 'ERR_WG_RATE_LIMITED',
  });
  // Not under load, no limiting.
  t.is(checker.screen(msg, SRC, { now: T0 + 1_000, underLoad: false, rateLimiter: rl }).action, 'accept');
});
