import test from 'ava';
import {
  decodeCookieReply,
  decodeInitiation,
  decodeResponse,
  decodeTransport,
  encodeCookieReply,
  encodeInitiation,
  encodeResponse,
  encodeTransportHeader,
  messageType,
  MessageFormatError,
  openTransport,
  sealTransport,
  TransportDecryptError,
} from '../../src/wg/index.js';

const fill = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const initiation = {
  sender: 0x11223344,
  ephemeral: fill(32, 0xe1),
  encryptedStatic: fill(48, 0x5a),
  encryptedTimestamp: fill(28, 0x7c),
  mac1: fill(16, 0xa1),
  mac2: fill(16, 0xa2),
};
const response = {
  sender: 0x01020304,
  receiver: 0xfffffffe,
  ephemeral: fill(32, 0xe2),
  encryptedNothing: fill(16, 0x66),
  mac1: fill(16, 0xb1),
  mac2: fill(16, 0xb2),
};
const cookieReply = { receiver: 0xdeadbeef, nonce: fill(24, 0x24), encryptedCookie: fill(32, 0x32) };

test('initiation: 148 bytes, exact layout, round trip', (t) => {
  const b = encodeInitiation(initiation);
  t.is(b.length, 148);
  t.is(toHex(b.subarray(0, 8)), '0100000044332211');
  t.is(b[8], 0xe1);
  t.is(b[40], 0x5a);
  t.is(b[88], 0x7c);
  t.is(b[116], 0xa1);
  t.is(b[132], 0xa2);
  t.deepEqual(decodeInitiation(b), { type: 1, ...initiation });
  // MACs default to zero so the cookie layer can fill them in.
  const { mac1: _1, mac2: _2, ...noMacs } = initiation;
  t.true(
    encodeInitiation(noMacs)
      .subarray(116)
      .every((x) => x === 0),
  );
});

test('response: 92 bytes, exact layout, round trip', (t) => {
  const b = encodeResponse(response);
  t.is(b.length, 92);
  t.is(toHex(b.subarray(0, 12)), '0200000004030201feffffff');
  t.is(b[12], 0xe2);
  t.is(b[44], 0x66);
  t.is(b[60], 0xb1);
  t.is(b[76], 0xb2);
  t.deepEqual(decodeResponse(b), { type: 2, ...response });
});

test('cookie reply: 64 bytes, exact layout, round trip', (t) => {
  const b = encodeCookieReply(cookieReply);
  t.is(b.length, 64);
  t.is(toHex(b.subarray(0, 8)), '03000000efbeadde');
  t.is(b[8], 0x24);
  t.is(b[32], 0x32);
  t.deepEqual(decodeCookieReply(b), { type: 3, ...cookieReply });
});

test('transport: header layout and keepalive seal/open', (t) => {
  t.is(toHex(encodeTransportHeader(0x0a0b0c0d, 0x0102030405060708n)), '040000000d0c0b0a0807060504030201');
  const key = fill(32, 9);
  const keepalive = sealTransport(key, 77, 0n, new Uint8Array(0));
  t.is(keepalive.length, 32);
  t.is(messageType(keepalive), 4);
  const m = decodeTransport(keepalive);
  t.is(m.receiver, 77);
  t.is(m.counter, 0n);
  t.is(m.content.length, 16);
  const opened = openTransport(key, sealTransport(key, 5, 9n, Uint8Array.of(1, 2, 3)));
  t.deepEqual(opened, { receiver: 5, counter: 9n, plaintext: Uint8Array.of(1, 2, 3) });
  const tampered = sealTransport(key, 5, 9n, Uint8Array.of(1, 2, 3));
  tampered[8]! ^= 1; // counter is the nonce: changing it must break authentication
  t.throws(() => openTransport(key, tampered), {
    instanceOf: TransportDecryptError,
    code: 'ERR_WG_TRANSPORT_DECRYPT',
  });
});

const cases: [string, (b: Uint8Array) => unknown, Uint8Array][] = [
  ['initiation', decodeInitiation, encodeInitiation(initiation)],
  ['response', decodeResponse, encodeResponse(response)],
  ['cookie reply', decodeCookieReply, encodeCookieReply(cookieReply)],
];

for (const [name, decode, good] of cases) {
  test(`${name} decoder rejects short, long, wrong type and non-zero reserved input`, (t) => {
    const expectation = { instanceOf: MessageFormatError, code: 'ERR_WG_MESSAGE_FORMAT' };
    t.notThrows(() => decode(good));
    t.throws(() => decode(good.subarray(0, good.length - 1)), expectation);
    t.throws(() => decode(new Uint8Array(0)), expectation);
    const long = new Uint8Array(good.length + 1);
    long.set(good);
    t.throws(() => decode(long), expectation);
    for (const i of [1, 2, 3]) {
      const bad = new Uint8Array(good);
      bad[i] = 1;
      t.throws(() => decode(bad), expectation, `reserved byte ${i}`);
      t.is(messageType(bad), undefined);
    }
    const wrongType = new Uint8Array(good);
    wrongType[0] = wrongType[0] === 1 ? 2 : 1;
    t.throws(() => decode(wrongType), expectation);
    t.is(messageType(good) as number | undefined, good[0]);
  });
}

test('transport decoder rejects short and non-zero reserved input; messageType rejects unknown', (t) => {
  const good = sealTransport(fill(32, 1), 1, 0n, new Uint8Array(0));
  t.throws(() => decodeTransport(good.subarray(0, 31)), { instanceOf: MessageFormatError });
  const bad = new Uint8Array(good);
  bad[3] = 0x80;
  t.throws(() => decodeTransport(bad), { instanceOf: MessageFormatError });
  t.is(messageType(Uint8Array.of(5, 0, 0, 0, ...new Uint8Array(40))), undefined);
  t.is(messageType(good.subarray(0, 31)), undefined);
  t.is(messageType(new Uint8Array(3)), undefined);
});

test('encoders validate field sizes and integer ranges', (t) => {
  t.throws(() => encodeInitiation({ ...initiation, ephemeral: fill(31, 0) }), {
    instanceOf: MessageFormatError,
  });
  t.throws(() => encodeInitiation({ ...initiation, sender: 2 ** 32 }), { instanceOf: MessageFormatError });
  t.throws(() => encodeResponse({ ...response, receiver: -1 }), { instanceOf: MessageFormatError });
  t.throws(() => encodeCookieReply({ ...cookieReply, nonce: fill(12, 0) }), {
    instanceOf: MessageFormatError,
  });
  t.throws(() => encodeTransportHeader(1, 1n << 64n), { instanceOf: MessageFormatError });
});

test('decoded fields are copies, not views of the receive buffer', (t) => {
  const b = encodeInitiation(initiation);
  const m = decodeInitiation(b);
  b.fill(0);
  t.is(m.ephemeral[0], 0xe1);
});
