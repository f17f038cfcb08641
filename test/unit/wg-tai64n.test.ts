import test from 'ava';
import { compareTai64n, decodeTai64n, encodeTai64n, isAfter } from '../../src/wg/index.js';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('TAI64N layout: 2^62 + 10 + Unix seconds big-endian, then nanoseconds big-endian', (t) => {
  t.is(toHex(encodeTai64n(0, false)), '400000000000000a' + '00000000');
  // 2024-01-01T00:00:00.5Z = 1704067200.5 s
  const ts = encodeTai64n(1704067200_500, false);
  t.is(
    toHex(ts),
    (0x400000000000000an + 1704067200n).toString(16) + (500_000_000).toString(16).padStart(8, '0'),
  );
  t.deepEqual(decodeTai64n(ts), { unixSeconds: 1704067200n, nanoseconds: 500_000_000 });
});

test('whitening clears the low 24 bits of the nanoseconds', (t) => {
  const { nanoseconds } = decodeTai64n(encodeTai64n(1704067200_999));
  t.is(nanoseconds & 0xffffff, 0);
  t.true(nanoseconds <= 999_000_000 && nanoseconds > 999_000_000 - 0x1000000);
  // Two instants within one ~16.8 ms window encode identically: the second would be a replay.
  t.deepEqual(encodeTai64n(1704067200_000), encodeTai64n(1704067200_016));
  t.true(isAfter(encodeTai64n(1704067200_017), encodeTai64n(1704067200_000)));
});

test('compare orders by seconds then nanoseconds', (t) => {
  const a = encodeTai64n(1000_000, false);
  const b = encodeTai64n(1000_001, false);
  const c = encodeTai64n(1001_000, false);
  t.is(compareTai64n(a, b), -1);
  t.is(compareTai64n(b, a), 1);
  t.is(compareTai64n(a, a), 0);
  t.true(isAfter(c, b));
  t.false(isAfter(a, a));
  t.false(isAfter(a, c));
});

test('rejects invalid input', (t) => {
  t.throws(() => encodeTai64n(Number.NaN));
  t.throws(() => encodeTai64n(-1));
  t.throws(() => decodeTai64n(new Uint8Array(11)), { code: 'ERR_WG_MESSAGE_FORMAT' });
  t.throws(() => compareTai64n(new Uint8Array(12), new Uint8Array(13)), { code: 'ERR_WG_MESSAGE_FORMAT' });
});
