import test, { type ExecutionContext } from 'ava';
import { ConfigError, parseConfig } from '../../src/config/index.js';
import { MAX_MTU, MIN_MTU } from '../../src/native/facts.generated.js';

const PRIV = 'qIEafySOVjN+ezp7qNt86u/wIWDx73knSGMi8sGUWl0=';
const PUB = 'mxBj1V1dieVxbechpuOkVZw4kLTF9qzF6/tR7dDuk2A=';

/** Asserts the text fails on `line` with a message matching `reason`, in "file:line: reason" form. */
function fails(t: ExecutionContext, text: string, line: number, reason: RegExp): void {
  const err = t.throws(() => parseConfig(text, 'wg0.conf'), { instanceOf: ConfigError });
  if (!err) return;
  t.is(err.code, 'ERR_SAG_CONFIG');
  t.is(err.file, 'wg0.conf');
  t.is(err.line, line, err.message);
  t.regex(err.reason, reason);
  t.is(err.message, `wg0.conf:${line}: ${err.reason}`);
}

const peer = (...lines: string[]): string =>
  `[Interface]\nPrivateKey = ${PRIV}\n\n[Peer]\nPublicKey = ${PUB}\n${lines.join('\n')}\n`;

test('the message names file, line and problem', (t) => {
  const text = `[Interface]\nPrivateKey = ${PRIV}\nListenPort = 51820\n\n[Peer]\n# peer one\nPublicKey = not-a-key\n`;
  const err = t.throws(() => parseConfig(text, 'wg0.conf'), { instanceOf: ConfigError });
  t.is(
    err?.message,
    "wg0.conf:7: PublicKey is not a valid base64 key (44 characters ending in '=', as `wg genkey` prints)",
  );
});

test('structure: lines before a section, unknown sections, lines without "=", unknown and misplaced keys', (t) => {
  fails(
    t,
    `# header\nPrivateKey = ${PRIV}\n[Interface]\n`,
    2,
    /"PrivateKey" appears before any \[Interface\] or \[Peer\] section/,
  );
  fails(t, '[Interface]\n[Peers]\n', 2, /unknown section \[Peers\]/);
  fails(t, '[Interface]\n[ Interface ]\n', 2, /unknown section/);
  fails(t, '[Interface]\nListenPort 51820\n', 2, /expected "Key = Value"/);
  fails(t, '[Interface]\nListenPorts = 1\n', 2, /unknown key "ListenPorts" in \[Interface\] section/);
  fails(t, '[Interface]\nPublicKey = x\n', 2, /PublicKey belongs in a \[Peer\] section/);
  fails(t, peer('Address = 10.0.0.1/24'), 6, /Address belongs in the \[Interface\] section/);
  fails(t, peer('ListenPort = 1'), 6, /ListenPort belongs in the \[Interface\] section/);
});

test('a [Peer] without PublicKey is reported at its header line', (t) => {
  fails(
    t,
    `[Interface]\n\n[Peer]\nAllowedIPs = 10.0.0.0/8\n[Peer]\nPublicKey = ${PUB}\n`,
    3,
    /\[Peer\] section has no PublicKey/,
  );
});

test('wg keys need a value', (t) => {
  fails(t, '[Interface]\nPrivateKey =\n', 2, /PrivateKey has no value/);
  fails(t, peer('AllowedIPs = '), 6, /AllowedIPs has no value/);
  fails(t, peer('Endpoint=# none'), 6, /Endpoint has no value/);
});

test('keys: wrong length, bad characters, non-canonical last digit', (t) => {
  fails(t, '[Interface]\nPrivateKey = abc\n', 2, /PrivateKey is not a valid base64 key/);
  fails(t, `[Interface]\nPrivateKey = ${PRIV.slice(0, 42)}l=\n`, 2, /PrivateKey is not a valid base64 key/);
  fails(t, `[Interface]\nPrivateKey = ${PRIV.slice(0, 43)}\n`, 2, /PrivateKey/);
  fails(t, peer('PresharedKey = ' + PUB.replace('/', '_')), 6, /PresharedKey is not a valid base64 key/);
});

test('numbers: ListenPort, FwMark, MTU, PersistentKeepalive', (t) => {
  for (const v of ['65536', '-1', 'http', '1.5', '0x10'])
    fails(t, `[Interface]\nListenPort = ${v}\n`, 2, /ListenPort must be a port number 0..65535/);
  for (const v of ['0x100000000', '4294967296', 'on', '0xg', '-1'])
    fails(t, `[Interface]\nFwMark = ${v}\n`, 2, /FwMark must be "off" or 0..0xffffffff/);
  for (const v of [String(MIN_MTU - 1), String(MAX_MTU + 1), '68', '65535', 'auto', '1e3', '-1'])
    fails(t, `[Interface]\nMTU = ${v}\n`, 2, new RegExp(`MTU must be an integer ${MIN_MTU}\\.\\.${MAX_MTU}`));
  for (const v of ['65536', 'on', '-5', '25s'])
    fails(t, peer(`PersistentKeepalive = ${v}`), 6, /PersistentKeepalive must be "off" or seconds 0..65535/);
});

test('Address, DNS, Table, SaveConfig', (t) => {
  fails(
    t,
    '[Interface]\nAddress = 10.0.0.1/24, 10.0.0.300/24\n',
    2,
    /Address "10.0.0.300\/24" is not an IP address/,
  );
  fails(t, '[Interface]\nAddress = 10.0.0.1/33\n', 2, /Address "10.0.0.1\/33" has a bad prefix length/);
  fails(t, '[Interface]\nAddress = fd00::1/129\n', 2, /bad prefix length \(0..128\)/);
  fails(t, '[Interface]\nDNS = 1.1.1\n', 2, /DNS server "1.1.1" is not an IP address/);
  fails(t, '[Interface]\nDNS = fe80::1%eth0\n', 2, /DNS server/);
  fails(t, '[Interface]\nDNS = -bad-.example\n', 2, /DNS entry "-bad-.example" is neither/);
  fails(t, '[Interface]\nTable = main table\n', 2, /Table must be/);
  fails(t, '[Interface]\nSaveConfig = yes\n', 2, /SaveConfig must be true or false/);
  fails(t, '[Interface]\nSaveConfig =\n', 2, /SaveConfig must be true or false/);
});

test('AllowedIPs: bad address, bad prefix, empty entry, incremental forms', (t) => {
  fails(
    t,
    peer('AllowedIPs = 10.0.0.0/8, 10.0.0.256/32'),
    6,
    /AllowedIPs entry "10.0.0.256\/32" is not an IP address or prefix/,
  );
  fails(t, peer('AllowedIPs = 10.0.0.0/33'), 6, /AllowedIPs entry "10.0.0.0\/33": prefix length above 32/);
  fails(t, peer('AllowedIPs = 10.0.0.0/08'), 6, /bad prefix length/);
  fails(t, peer('AllowedIPs = 10.0.0.0/8,'), 6, /empty entry/);
  fails(t, peer('AllowedIPs = -10.0.0.0/8'), 6, /incremental/);
  fails(t, peer('AllowedIPs = +10.0.0.0/8'), 6, /incremental/);
});

test('Endpoint: no port, bad port, brackets, unbracketed IPv6, bad host names', (t) => {
  fails(t, peer('Endpoint = 192.0.2.1'), 6, /needs a port/);
  fails(t, peer('Endpoint = 192.0.2.1:'), 6, /needs a port/);
  fails(t, peer('Endpoint = 192.0.2.1:0'), 6, /bad port \(1..65535\)/);
  fails(t, peer('Endpoint = 192.0.2.1:65536'), 6, /bad port/);
  fails(t, peer('Endpoint = vpn.example.com:wireguard'), 6, /bad port/);
  fails(t, peer('Endpoint = [192.0.2.1]:51820'), 6, /only an IPv6 address may go in square brackets/);
  fails(t, peer('Endpoint = [fe80::1%eth0]:51820'), 6, /zone indexes/);
  fails(t, peer('Endpoint = 2001:db8::1:51820'), 6, /write IPv6 endpoints as \[address\]:port/);
  fails(t, peer('Endpoint = 10.0.0.256:51820'), 6, /neither an IP address nor a valid host name/);
  fails(t, peer('Endpoint = under_score.example:1'), 6, /neither an IP address nor a valid host name/);
  fails(t, peer(`Endpoint = ${'a'.repeat(64)}.example:1`), 6, /valid host name/);
});

test('the line number counts comments and blank lines, and CRLF files', (t) => {
  fails(t, '# one\r\n\r\n[Interface]\r\n# four\r\n\r\nMTU = 10\r\n', 6, /MTU/);
});
