import test from 'ava';
import {
  base64KeyToHex,
  formatBase64Key,
  formatHexKey,
  hexKeyToBase64,
  parseBase64Key,
  parseHexKey,
} from '../../src/uapi/index.js';

// A `wg genkey` output and its bytes.
const B64 = 'qIEafySOVjN+ezp7qNt86u/wIWDx73knSGMi8sGUWl0=';
const HEX = 'a8811a7f248e56337e7b3a7ba8db7ceaeff02160f1ef7927486322f2c1945a5d';

test('hex and base64 convert both ways', (t) => {
  t.is(hexKeyToBase64(HEX), B64);
  t.is(base64KeyToHex(B64), HEX);
  t.is(hexKeyToBase64(HEX.toUpperCase()), B64);
  t.is(formatHexKey(parseBase64Key(B64)!), HEX);
  t.is(formatBase64Key(parseHexKey(HEX)!), B64);
});

test('hex keys must be exactly 64 hex digits', (t) => {
  for (const bad of ['', HEX.slice(1), `${HEX}0`, `${HEX.slice(0, 63)}g`, ` ${HEX.slice(1)}`])
    t.is(parseHexKey(bad), undefined, bad);
  t.throws(() => hexKeyToBase64('abc'), { code: 'ERR_WG_INVALID_KEY' });
  t.throws(() => formatHexKey(new Uint8Array(31)), { code: 'ERR_WG_INVALID_KEY' });
});

test('base64 keys must be canonical 44-character base64, as wg(8) insists', (t) => {
  // 'l' in the last digit leaves non-zero unused bits: Buffer would decode it, wg refuses it.
  const nonCanonical = `${B64.slice(0, 42)}l=`;
  for (const bad of [
    '',
    B64.slice(0, 43),
    `${B64.slice(0, 43)}`,
    nonCanonical,
    B64.replace('+', '-'),
    `${B64} `,
  ]) {
    t.is(parseBase64Key(bad), undefined, bad);
  }
  t.throws(() => base64KeyToHex(nonCanonical), { code: 'ERR_WG_INVALID_KEY' });
});
