import test from 'ava';
import { Errno, UapiFramer, type UapiFrame } from '../../src/uapi/index.js';
import { mulberry32 as rng } from '../support/random.js';

const SET_A = 'set=1\nlisten_port=1\npublic_key=' + 'ab'.repeat(32) + '\nallowed_ip=10.0.0.0/8\n\n';
const SET_B = 'set=1\n\n';

function feedAll(framer: UapiFramer, chunks: (string | Uint8Array)[]): UapiFrame[] {
  return chunks.flatMap((c) => framer.push(c));
}

test('get and set requests are split out of one stream, in order', (t) => {
  const frames = new UapiFramer().push(`get=1\n\n${SET_A}get=1\n\n${SET_B}`);
  t.deepEqual(frames, [
    { kind: 'get' },
    { kind: 'set', text: SET_A },
    { kind: 'get' },
    { kind: 'set', text: SET_B },
  ]);
});

test('any chunking gives the same frames (seeded)', (t) => {
  const stream = Buffer.from(`${SET_A}get=1\n\n${SET_B}${SET_A}`);
  const expected = new UapiFramer().push(stream);
  t.is(expected.length, 4);
  for (let seed = 1; seed <= 200; seed++) {
    const next = rng(seed);
    const chunks: Uint8Array[] = [];
    for (let pos = 0; pos < stream.length;) {
      const len = 1 + Math.floor(next() * 12);
      chunks.push(stream.subarray(pos, pos + len));
      pos += len;
    }
    t.deepEqual(feedAll(new UapiFramer(), chunks), expected, `seed ${seed}`);
  }
});

test('a set request ends at a line holding only "\\r", as Go\'s line scanner reads it', (t) => {
  const text = 'set=1\nlisten_port=1\r\n\r\n';
  t.deepEqual(new UapiFramer().push(`${text}get=1\n\n`), [{ kind: 'set', text }, { kind: 'get' }]);
});

test('"get=1" followed by anything but a newline is EINVAL, and the stream goes on after that byte', (t) => {
  const frames = new UapiFramer().push('get=1\nxget=1\n\n');
  t.is(frames.length, 2);
  const [first, second] = frames;
  t.true(first?.kind === 'error' && first.error.errno === Errno.EINVAL && !first.close);
  t.deepEqual(second, { kind: 'get' });
});

test('an unknown operation closes the connection without a reply, and later input is ignored', (t) => {
  for (const bad of ['bogus\n', 'set=1\r\n\n', '\n', 'GET=1\n', 'get=2\n', 'set=10\n']) {
    const framer = new UapiFramer();
    const frames = framer.push(bad);
    t.is(frames.length, 1, bad);
    t.is(frames[0]?.kind, 'close');
    t.true(framer.closed);
    t.deepEqual(framer.push('get=1\n\n'), []);
  }
  // A long first line is refused as soon as it cannot be an operation, without buffering it.
  const framer = new UapiFramer();
  t.is(framer.push('x'.repeat(1_000_000))[0]?.kind, 'close');
});

test("an over-long line is EIO (wireguard-go's 64 KiB scanner limit) and closes", (t) => {
  const framer = new UapiFramer();
  const frames = framer.push(`set=1\nlisten_port=${'1'.repeat(70_000)}\n\n`);
  t.is(frames.length, 1);
  const f = frames[0];
  t.true(f?.kind === 'error' && f.error.errno === Errno.EIO && f.close);
  t.true(framer.closed);
});

test('an over-large request is EMSGSIZE and closes, even fed in small pieces', (t) => {
  const framer = new UapiFramer({ maxRequestBytes: 1024 });
  const frames: UapiFrame[] = [...framer.push('set=1\n')];
  for (let i = 0; i < 200 && !framer.closed; i++) frames.push(...framer.push('allowed_ip=10.0.0.0/8\n'));
  t.is(frames.length, 1);
  const f = frames[0];
  t.true(f?.kind === 'error' && f.error.errno === Errno.EMSGSIZE && f.close);
  // Exactly at the limit is fine.
  const exact = 'set=1\n' + 'x'.repeat(1024 - 8) + '\n\n';
  t.is(exact.length, 1024);
  t.deepEqual(new UapiFramer({ maxRequestBytes: 1024 }).push(exact), [{ kind: 'set', text: exact }]);
});

test('end of stream mid-request drops the request; between requests it is quiet', (t) => {
  const f1 = new UapiFramer();
  t.deepEqual(f1.push('set=1\nlisten_port=1\n'), []);
  t.deepEqual(f1.end(), [{ kind: 'close', reason: 'connection ended in the middle of a request' }]);
  const f2 = new UapiFramer();
  f2.push('get=1\n\n');
  t.deepEqual(f2.end(), []);
  const f3 = new UapiFramer();
  f3.push('ge');
  t.is(f3.end()[0]?.kind, 'close');
});

test('options are checked', (t) => {
  t.throws(() => new UapiFramer({ maxRequestBytes: 0 }), { instanceOf: RangeError });
  t.throws(() => new UapiFramer({ maxLineBytes: Number.NaN }), { instanceOf: RangeError });
});
