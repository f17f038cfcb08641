/** Per-source limiter keys (IPv6 by /64), trusted-proxy blocks and the LRU table the limiters share. */
import test from 'ava';
import { AttemptLimiter } from '../../src/controller/api/limiter.js';
import { addressIn, parseCidrList, sourceKey } from '../../src/net/source.js';
import { LruMap } from '../../src/util/lru.js';

test('sourceKey: IPv4 as is, mapped IPv4 unwrapped, IPv6 by its /64, zone ids dropped', (t) => {
  t.is(sourceKey('192.0.2.1'), '192.0.2.1');
  t.is(sourceKey('::ffff:192.0.2.1'), '192.0.2.1');
  t.is(sourceKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  t.is(sourceKey('2001:db8:1:2::ffff'), '2001:db8:1:2::/64');
  t.is(sourceKey('2001:db8:1:3::1'), '2001:db8:1:3::/64');
  t.is(sourceKey('fe80::1%eth0'), 'fe80::/64');
  t.is(sourceKey('::1'), '::/64');
  t.is(sourceKey('not an address'), 'not an address');
});

test('parseCidrList and addressIn: trusted proxy blocks', (t) => {
  const blocks = parseCidrList(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'], '--trusted-proxy');
  t.true(addressIn('10.1.2.3', blocks));
  t.true(addressIn('::ffff:10.1.2.3', blocks), 'a dual-stack socket reports IPv4 peers mapped');
  t.true(addressIn('2001:db8:ffff::1', blocks));
  t.true(addressIn('192.0.2.7', blocks), 'a bare address is its host prefix');
  t.false(addressIn('192.0.2.8', blocks));
  t.false(addressIn('11.0.0.1', blocks));
  t.false(addressIn('garbage', blocks));
  t.throws(() => parseCidrList(['10.0.0.1/8'], '--trusted-proxy'), {
    code: 'ERR_SAG_INVALID_ARGUMENT',
    message: /--trusted-proxy "10.0.0.1\/8": host bits are set \(did you mean 10.0.0.0\/8\?\)/,
  });
});

test('LruMap evicts the least recently used entry when full', (t) => {
  const m = new LruMap<string, number>(2);
  m.set('a', 1);
  m.set('b', 2);
  t.is(m.get('a'), 1); // a is now the most recent
  m.set('c', 3);
  t.deepEqual(
    [...m.entries()],
    [
      ['a', 1],
      ['c', 3],
    ],
  );
  t.throws(() => new LruMap(0), { instanceOf: RangeError });
});

test('AttemptLimiter: a full table forgets its oldest key, and a new key is still served', (t) => {
  const limiter = new AttemptLimiter({ attempts: 1, windowMs: 60_000 }, 3);
  for (const k of ['a', 'b', 'c']) t.is(limiter.take(k, 0), 0);
  t.true(limiter.take('a', 1) > 0, 'a used its one attempt');
  t.is(limiter.take('d', 2), 0, 'the table is full of live windows, yet a new key is served');
  t.is(limiter.size, 3);
  t.is(limiter.take('b', 3), 0, 'b, the least recently used, was forgotten and starts afresh');
  t.true(limiter.take('a', 4) > 0, 'a, used recently, kept its count');
});
