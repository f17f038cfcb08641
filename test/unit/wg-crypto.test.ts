import test from 'ava';
import {
  aeadDecrypt,
  aeadEncrypt,
  aeadNonce,
  chachaPolyOpen,
  chachaPolySeal,
  clampPrivateKey,
  decodeKey,
  dh,
  encodeKey,
  generateKeyPair,
  hash,
  hmacBlake2s,
  InvalidKeyError,
  kdf1,
  kdf2,
  kdf3,
  LowOrderPointError,
  mac,
  publicKeyFromPrivate,
  xaeadDecrypt,
  xaeadEncrypt,
  useOnce,
  zeroize,
} from '../../src/wg/index.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const range = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => from + i);

test('BLAKE2s-256 of "" and "abc" (RFC 7693)', (t) => {
  t.is(toHex(hash(new Uint8Array(0))), '69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9');
  t.is(toHex(hash(utf8('abc'))), '508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982');
  // Multi-part input hashes the concatenation.
  t.is(toHex(hash(utf8('a'), utf8('bc'))), toHex(hash(utf8('abc'))));
});

test('HASH(construction) and H0 match the WireGuard initial chain key and hash', (t) => {
  const c0 = hash(utf8('Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s'));
  t.is(toHex(c0), '60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36');
  t.is(
    toHex(hash(c0, utf8('WireGuard v1 zx2c4 Jason@zx2c4.com'))),
    '2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3',
  );
});

test('keyed BLAKE2s: 128-bit MAC and the BLAKE2 KAT', async (t) => {
  // 128-bit output, as WireGuard's MAC; reference value from Python hashlib.blake2s(digest_size=16).
  t.is(toHex(mac(range(32), utf8('WireGuard'))), 'c44bc1a201f2ff374d10eda15244ad8a');
  t.is(mac(range(32), utf8('x')).length, 16);
  // 256-bit keyed KAT (blake2s-kat.txt, key 00..1f) through the library our MAC uses.
  const { blake2s } = await import('@noble/hashes/blake2.js');
  t.is(
    toHex(blake2s(new Uint8Array(0), { key: range(32) })),
    '48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49',
  );
  t.is(
    toHex(blake2s(Uint8Array.of(0), { key: range(32) })),
    '40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1',
  );
});

test('HMAC-BLAKE2s and KDF1/2/3 match an independent implementation (Python hmac+hashlib)', (t) => {
  t.is(
    toHex(hmacBlake2s(utf8('key'), utf8('The quick brown fox jumps over the lazy dog'))),
    'f93215bb90d4af4c3061cd932fb169fb8bb8a91d0b4022baea1271e1323cd9a0',
  );
  const k = range(32);
  const input = utf8('input keying material');
  const t1 = 'd49ec1ae587b690ec2d4c38d1802dd052d26ab3338bc0b665629ece5dfc61ae1';
  const t2 = '46d705e3e5cbc140bbfdf613d3733a0c3905bf21d5e1b34213c5a2a883b10553';
  const t3 = '17e6966e3a04136a899866a1650d1a323fdcdcb19956e0e97c6be5291850b302';
  t.is(toHex(kdf1(k, input)), t1);
  t.deepEqual(kdf2(k, input).map(toHex), [t1, t2]);
  t.deepEqual(kdf3(k, input).map(toHex), [t1, t2, t3]);
});

const SUNSCREEN = utf8(
  "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
);

test('ChaCha20-Poly1305 RFC 8439 section 2.8.2 vector', (t) => {
  const key = range(32, 0x80);
  const nonce = hex('070000004041424344454647');
  const ad = hex('50515253c0c1c2c3c4c5c6c7');
  const expected =
    'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b' +
    '1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc' +
    '3ff4def08e4b7a9de576d26586cec64b6116' +
    '1ae10b594f09e26a7e902ecbd0600691';
  const sealed = chachaPolySeal(key, nonce, SUNSCREEN, ad);
  t.is(toHex(sealed), expected);
  t.deepEqual(chachaPolyOpen(key, nonce, sealed, ad), SUNSCREEN);
  const bad = new Uint8Array(sealed);
  bad[0]! ^= 1;
  t.is(chachaPolyOpen(key, nonce, bad, ad), null);
  t.is(chachaPolyOpen(key, nonce, sealed, utf8('other ad')), null);
});

test('WireGuard AEAD nonce is 4 zero bytes then the counter little-endian', (t) => {
  t.is(toHex(aeadNonce(0x0102030405060708n)), '000000000807060504030201');
  t.is(toHex(aeadNonce(0n)), '000000000000000000000000');
  const key = range(32);
  const c = aeadEncrypt(key, 7n, utf8('hi'), utf8('ad'));
  t.is(toHex(c), toHex(chachaPolySeal(key, hex('000000000700000000000000'), utf8('hi'), utf8('ad'))));
  t.deepEqual(aeadDecrypt(key, 7n, c, utf8('ad')), utf8('hi'));
  t.is(aeadDecrypt(key, 8n, c, utf8('ad')), null);
  // Empty plaintext (the response's "encrypted nothing", keepalives) is just the tag.
  t.is(aeadEncrypt(key, 0n, new Uint8Array(0), new Uint8Array(0)).length, 16);
});

test('XChaCha20-Poly1305 draft-irtf-cfrg-xchacha A.3.1 vector', (t) => {
  const key = range(32, 0x80);
  const nonce = hex('404142434445464748494a4b4c4d4e4f5051525354555657');
  const ad = hex('50515253c0c1c2c3c4c5c6c7');
  const sealed = xaeadEncrypt(key, nonce, SUNSCREEN, ad);
  t.is(
    toHex(sealed),
    'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39' +
      'ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9' +
      '21f9664c97637da9768812f615c68b13b52e' +
      'c0875924c1c7987947deafd8780acf49',
  );
  t.deepEqual(xaeadDecrypt(key, nonce, sealed, ad), SUNSCREEN);
  t.is(xaeadDecrypt(key, nonce, sealed, new Uint8Array(0)), null);
});

test('X25519 RFC 7748 section 6.1 vector', (t) => {
  const alicePriv = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bobPriv = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  const alicePub = publicKeyFromPrivate(alicePriv);
  const bobPub = publicKeyFromPrivate(bobPriv);
  t.is(toHex(alicePub), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  t.is(toHex(bobPub), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
  t.is(toHex(dh(alicePriv, bobPub)), shared);
  t.is(toHex(dh(bobPriv, alicePub)), shared);
});

test('X25519 rejects low-order points and wrong key sizes', (t) => {
  const { privateKey } = generateKeyPair();
  t.throws(() => dh(privateKey, new Uint8Array(32)), {
    instanceOf: LowOrderPointError,
    code: 'ERR_WG_LOW_ORDER_POINT',
  });
  t.throws(() => dh(privateKey, Uint8Array.of(1, ...new Uint8Array(31))), { instanceOf: LowOrderPointError });
  t.throws(() => dh(privateKey, new Uint8Array(31)), { instanceOf: InvalidKeyError });
});

test('generated private keys are clamped like wg genkey', (t) => {
  for (let i = 0; i < 20; i++) {
    const { privateKey, publicKey } = generateKeyPair();
    t.is(privateKey[0]! & 7, 0);
    t.is(privateKey[31]! & 0x80, 0);
    t.is(privateKey[31]! & 0x40, 0x40);
    t.deepEqual(publicKeyFromPrivate(privateKey), publicKey);
  }
  t.is(toHex(clampPrivateKey(new Uint8Array(32).fill(0xff))), 'f8' + 'ff'.repeat(30) + '7f');
});

test('base64 keys: round trip and strict validation', (t) => {
  const k = range(32);
  const text = encodeKey(k);
  t.is(text, 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=');
  t.deepEqual(decodeKey(text), k);
  for (const bad of [
    '',
    'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8', // no padding
    'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=', // non-zero trailing bits
    'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==',
    'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd*h8=',
    'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n',
  ]) {
    t.throws(() => decodeKey(bad), { instanceOf: InvalidKeyError, code: 'ERR_WG_INVALID_KEY' }, bad);
  }
  t.throws(() => encodeKey(new Uint8Array(31)), { instanceOf: InvalidKeyError });
});

test('zeroize clears every buffer given', (t) => {
  const a = range(8, 1);
  const b = range(4, 9);
  zeroize(a, undefined, b);
  t.true(a.every((x) => x === 0) && b.every((x) => x === 0));
});

test('useOnce wipes the secret (a DH output) after use, also when the use throws', (t) => {
  const secret = range(32, 1);
  const seen = useOnce(secret, (s) => Array.from(s));
  t.deepEqual(seen, Array.from(range(32, 1)));
  t.true(secret.every((x) => x === 0));
  const other = range(32, 7);
  t.throws(() =>
    useOnce(other, () => {
      throw new Error('kdf failed');
    }),
  );
  t.true(other.every((x) => x === 0));
});
