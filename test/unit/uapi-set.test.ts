import test from 'ava';
import { parseCidr, parseIp, type Cidr } from '../../src/net/cidr.js';
import {
  Errno,
  formatSetRequest,
  parseSetRequest,
  UapiError,
  type UapiSetCommand,
} from '../../src/uapi/index.js';

const PRIV = 'a8811a7f248e56337e7b3a7ba8db7ceaeff02160f1ef7927486322f2c1945a5d';
const PUB_A = '9b1063d55d5d89e5716de721a6e3a4559c3890b4c5f6acc5ebfb51edd0ee9360';
const PUB_B = '69f2872e893dea46600499f1e76eeb554771dbac942b5495e06542b5a05cea59';
const PSK = '4006dc8a93ac60d5df95956515a9f194ff064f6cc872fb0eeae0e6788d22c94e';
const ZERO = '0'.repeat(64);

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const cidr = (s: string): Cidr => {
  const r = parseCidr(s);
  if (!r.ok) throw new Error(s);
  return r.cidr;
};
const set = (...lines: string[]): string => `set=1\n${lines.map((l) => `${l}\n`).join('')}\n`;

function refuses(t: import('ava').ExecutionContext, text: string, errno: number, message?: RegExp): void {
  const err = t.throws(() => parseSetRequest(text), { instanceOf: UapiError });
  t.is(err?.errno, errno, err?.message);
  t.is(err?.code, 'ERR_SAG_UAPI');
  if (message) t.regex(err?.message ?? '', message);
}

test('every key of a set request, in a typed command', (t) => {
  const cmd = parseSetRequest(
    set(
      `private_key=${PRIV}`,
      'listen_port=51820',
      'fwmark=4660',
      'replace_peers=true',
      `public_key=${PUB_A}`,
      'protocol_version=1',
      `preshared_key=${PSK}`,
      'endpoint=192.0.2.1:51820',
      'persistent_keepalive_interval=25',
      'replace_allowed_ips=true',
      'allowed_ip=10.0.0.0/24',
      'allowed_ip=10.1.2.3/16',
      'allowed_ip=-fd00::/64',
      `public_key=${PUB_B}`,
      'update_only=true',
      `preshared_key=${ZERO}`,
      'endpoint=[2001:db8::1]:443',
      `public_key=${PUB_A}`,
      'remove=true',
    ),
  );
  const expected: UapiSetCommand = {
    interface: { privateKey: hex(PRIV), listenPort: 51820, fwmark: 4660, replacePeers: true },
    peers: [
      {
        publicKey: hex(PUB_A),
        remove: false,
        updateOnly: false,
        presharedKey: hex(PSK),
        endpoint: { address: parseIp('192.0.2.1')!, port: 51820 },
        persistentKeepaliveInterval: 25,
        allowedIps: [
          { op: 'replace' },
          { op: 'add', cidr: cidr('10.0.0.0/24') },
          // host bits are masked, as wireguard-go's trie does
          { op: 'add', cidr: cidr('10.1.0.0/16') },
          { op: 'remove', cidr: cidr('fd00::/64') },
        ],
      },
      {
        publicKey: hex(PUB_B),
        remove: false,
        updateOnly: true,
        presharedKey: null,
        endpoint: { address: parseIp('2001:db8::1')!, port: 443 },
        allowedIps: [],
      },
      { publicKey: hex(PUB_A), remove: true, updateOnly: false, allowedIps: [] },
    ],
  };
  t.deepEqual(cmd, expected);
});

test('an empty request is an empty command; a zero private key means "remove it"', (t) => {
  t.deepEqual(parseSetRequest('set=1\n\n'), { interface: { replacePeers: false }, peers: [] });
  t.deepEqual(parseSetRequest(set(`private_key=${ZERO}`)).interface, {
    privateKey: null,
    replacePeers: false,
  });
});

test('values as wireguard-go reads them: upper-case hex, leading zeros, port 0, CRLF lines', (t) => {
  const cmd = parseSetRequest(
    `set=1\nlisten_port=0051820\r\nfwmark=0\r\npublic_key=${PUB_A.toUpperCase()}\r\nendpoint=1.2.3.4:0\r\n\r\n`,
  );
  t.is(cmd.interface.listenPort, 51820);
  t.is(cmd.interface.fwmark, 0);
  t.deepEqual(cmd.peers[0]?.publicKey, hex(PUB_A));
  t.is(cmd.peers[0]?.endpoint?.port, 0);
  t.deepEqual(cmd.peers[0]?.endpoint?.address, parseIp('1.2.3.4'));
});

test('end of input ends a request like an empty line; data after the empty line is refused', (t) => {
  t.is(parseSetRequest('set=1\nlisten_port=1\n').interface.listenPort, 1);
  refuses(t, 'set=1\nlisten_port=1\n\nlisten_port=2\n', Errno.EPROTO, /after the request/);
  refuses(t, 'get=1\n\n', Errno.EPROTO);
});

// errno values below were observed from wireguard-go 0.0.20220316 for the same lines.
test('a line without "=" is EPROTO', (t) => {
  refuses(t, set('listen_port'), Errno.EPROTO, /line 2: failed to parse line "listen_port"/);
});

test('unknown keys are EINVAL, including keys in the wrong part of the request', (t) => {
  refuses(t, set('foo=bar'), Errno.EINVAL, /invalid UAPI device key "foo"/);
  refuses(t, set('=x'), Errno.EINVAL);
  refuses(t, set('Listen_Port=1'), Errno.EINVAL); // keys are case-sensitive
  refuses(t, set('endpoint=1.2.3.4:5'), Errno.EINVAL, /peer keys must follow a public_key/);
  refuses(t, set('protocol_version=1'), Errno.EINVAL);
  refuses(
    t,
    set(`public_key=${PUB_A}`, 'listen_port=1'),
    Errno.EINVAL,
    /line 3: invalid UAPI peer key "listen_port"/,
  );
  refuses(t, set(`public_key=${PUB_A}`, 'private_key=' + PRIV), Errno.EINVAL);
});

test('bad hex keys are EINVAL', (t) => {
  refuses(t, set('public_key=XYZ'), Errno.EINVAL, /public_key "XYZ" is not 64 hexadecimal digits/);
  refuses(t, set(`public_key=${PUB_A.slice(0, 62)}`), Errno.EINVAL);
  refuses(t, set(`public_key=${PUB_A}00`), Errno.EINVAL);
  refuses(t, set(`private_key=${PRIV.slice(0, 63)}g`), Errno.EINVAL);
  refuses(t, set(`public_key=${PUB_A}`, 'preshared_key=abc'), Errno.EINVAL);
});

test('bad numbers are EINVAL', (t) => {
  for (const v of ['65536', '-1', '+5', '', ' 1', '1 ', '0x10', '1e3'])
    refuses(t, set(`listen_port=${v}`), Errno.EINVAL);
  refuses(t, set('fwmark=4294967296'), Errno.EINVAL);
  t.is(parseSetRequest(set('fwmark=4294967295')).interface.fwmark, 4294967295);
  refuses(t, set(`public_key=${PUB_A}`, 'persistent_keepalive_interval=65536'), Errno.EINVAL);
  refuses(t, set(`public_key=${PUB_A}`, 'persistent_keepalive_interval=off'), Errno.EINVAL);
});

test('flag keys take exactly "true"', (t) => {
  refuses(t, set('replace_peers=True'), Errno.EINVAL);
  refuses(t, set('replace_peers=false'), Errno.EINVAL);
  refuses(t, set(`public_key=${PUB_A}`, 'remove=false'), Errno.EINVAL);
  refuses(t, set(`public_key=${PUB_A}`, 'update_only=1'), Errno.EINVAL);
  refuses(t, set(`public_key=${PUB_A}`, 'replace_allowed_ips=yes'), Errno.EINVAL);
});

test('bad endpoints are EINVAL', (t) => {
  for (const v of [
    '1.2.3.4',
    '1.2.3.4:65536',
    '[1.2.3.4]:5',
    '::1:5',
    '[fe80::1%eth0]:5',
    'example.com:51820',
    '[::1]5',
    '1.2.3.04:5',
    '1.2.3.4:',
  ]) {
    refuses(t, set(`public_key=${PUB_A}`, `endpoint=${v}`), Errno.EINVAL);
  }
});

test('bad allowed IPs are EINVAL; the "/bits" is required', (t) => {
  for (const v of [
    '10.0.0.1',
    '10.0.0.0/33',
    'fd00::/129',
    '10.0.0.0/024',
    'x/8',
    '10.0.0.0/',
    '--10.0.0.0/8',
    '',
  ]) {
    refuses(t, set(`public_key=${PUB_A}`, `allowed_ip=${v}`), Errno.EINVAL);
  }
});

test('protocol_version other than 1 is EINVAL', (t) => {
  refuses(t, set(`public_key=${PUB_A}`, 'protocol_version=2'), Errno.EINVAL, /invalid protocol version "2"/);
  refuses(t, set(`public_key=${PUB_A}`, 'protocol_version=01'), Errno.EINVAL);
});

test('messages quote long input shortly', (t) => {
  const err = t.throws(() => parseSetRequest(set(`listen_port=${'9'.repeat(5000)}`)), {
    instanceOf: UapiError,
  });
  t.true((err?.message.length ?? 0) < 200);
});

test('formatSetRequest prints what parseSetRequest reads back', (t) => {
  const text = set(
    `private_key=${ZERO}`,
    'listen_port=1',
    'replace_peers=true',
    `public_key=${PUB_A}`,
    'update_only=true',
    `preshared_key=${ZERO}`,
    'endpoint=[::ffff:10.0.0.1]:7',
    'persistent_keepalive_interval=0',
    'replace_allowed_ips=true',
    'allowed_ip=::ffff:10.9.0.0/120',
    'allowed_ip=-0.0.0.0/0',
  );
  const cmd = parseSetRequest(text);
  t.is(formatSetRequest(cmd), text);
  t.deepEqual(parseSetRequest(formatSetRequest(cmd)), cmd);
});
