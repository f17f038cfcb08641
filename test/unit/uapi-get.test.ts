import test from 'ava';
import { parseCidr, parseIp, type Cidr } from '../../src/net/cidr.js';
import {
  applySetCommand,
  emptyDevice,
  Errno,
  formatErrorReply,
  formatGetReply,
  parseGetReply,
  parseSetRequest,
  UapiError,
  type UapiDeviceState,
} from '../../src/uapi/index.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const cidr = (s: string): Cidr => {
  const r = parseCidr(s);
  if (!r.ok) throw new Error(s);
  return r.cidr;
};

/**
 * Captured from Debian's wireguard-go 0.0.20220316 (in a scratch network namespace) after the set
 * request below, with `get=1\n\n`. Its peers come out in Go map order, which varies; this capture had
 * peer A first. Note the masked 10.1.2.3/16, the zero preshared key of peer B, the bracketed IPv6
 * endpoint and the IPv4-mapped prefix printed with a dotted tail.
 */
const WIREGUARD_GO_SET =
  'set=1\nprivate_key=a8811a7f248e56337e7b3a7ba8db7ceaeff02160f1ef7927486322f2c1945a5d\nlisten_port=51820\nfwmark=4660\n' +
  'replace_peers=true\npublic_key=9b1063d55d5d89e5716de721a6e3a4559c3890b4c5f6acc5ebfb51edd0ee9360\n' +
  'preshared_key=4006dc8a93ac60d5df95956515a9f194ff064f6cc872fb0eeae0e6788d22c94e\nendpoint=192.0.2.1:51820\n' +
  'persistent_keepalive_interval=25\nreplace_allowed_ips=true\nallowed_ip=10.0.0.0/24\nallowed_ip=10.1.2.3/16\n' +
  'allowed_ip=fd00::/64\npublic_key=69f2872e893dea46600499f1e76eeb554771dbac942b5495e06542b5a05cea59\n' +
  'endpoint=[2001:db8::1]:443\nallowed_ip=::ffff:10.9.0.0/120\nallowed_ip=0.0.0.0/0\n\n';
const WIREGUARD_GO_GET =
  'private_key=a8811a7f248e56337e7b3a7ba8db7ceaeff02160f1ef7927486322f2c1945a5d\nlisten_port=51820\nfwmark=4660\n' +
  'public_key=9b1063d55d5d89e5716de721a6e3a4559c3890b4c5f6acc5ebfb51edd0ee9360\n' +
  'preshared_key=4006dc8a93ac60d5df95956515a9f194ff064f6cc872fb0eeae0e6788d22c94e\nprotocol_version=1\n' +
  'endpoint=192.0.2.1:51820\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\n' +
  'persistent_keepalive_interval=25\nallowed_ip=10.0.0.0/24\nallowed_ip=10.1.0.0/16\nallowed_ip=fd00::/64\n' +
  'public_key=69f2872e893dea46600499f1e76eeb554771dbac942b5495e06542b5a05cea59\n' +
  'preshared_key=0000000000000000000000000000000000000000000000000000000000000000\nprotocol_version=1\n' +
  'endpoint=[2001:db8::1]:443\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\n' +
  'persistent_keepalive_interval=0\nallowed_ip=::ffff:10.9.0.0/120\nallowed_ip=0.0.0.0/0\nerrno=0\n\n';

const FIXTURE: UapiDeviceState = {
  privateKey: hex('a8811a7f248e56337e7b3a7ba8db7ceaeff02160f1ef7927486322f2c1945a5d'),
  listenPort: 51820,
  fwmark: 4660,
  peers: [
    {
      publicKey: hex('9b1063d55d5d89e5716de721a6e3a4559c3890b4c5f6acc5ebfb51edd0ee9360'),
      presharedKey: hex('4006dc8a93ac60d5df95956515a9f194ff064f6cc872fb0eeae0e6788d22c94e'),
      endpoint: { address: parseIp('192.0.2.1')!, port: 51820 },
      lastHandshakeTimeSec: 0,
      lastHandshakeTimeNsec: 0,
      txBytes: 0n,
      rxBytes: 0n,
      persistentKeepaliveInterval: 25,
      allowedIps: [cidr('10.0.0.0/24'), cidr('10.1.0.0/16'), cidr('fd00::/64')],
    },
    {
      publicKey: hex('69f2872e893dea46600499f1e76eeb554771dbac942b5495e06542b5a05cea59'),
      endpoint: { address: parseIp('2001:db8::1')!, port: 443 },
      lastHandshakeTimeSec: 0,
      lastHandshakeTimeNsec: 0,
      txBytes: 0n,
      rxBytes: 0n,
      persistentKeepaliveInterval: 0,
      allowedIps: [cidr('::ffff:10.9.0.0/120'), cidr('0.0.0.0/0')],
    },
  ],
};

test('get reply is byte-for-byte what wireguard-go prints for the same device', (t) => {
  t.is(formatGetReply(FIXTURE), WIREGUARD_GO_GET);
});

test("applying wireguard-go's set request to an empty device gives the device it then reported", (t) => {
  t.deepEqual(applySetCommand(emptyDevice(), parseSetRequest(WIREGUARD_GO_SET)), FIXTURE);
});

test("parseGetReply reads wireguard-go's reply back to the same state", (t) => {
  t.deepEqual(parseGetReply(WIREGUARD_GO_GET), FIXTURE);
});

test('an empty device prints only errno; unset private key, port and fwmark are left out', (t) => {
  t.is(formatGetReply(emptyDevice()), 'errno=0\n\n');
  t.is(
    formatGetReply({ privateKey: new Uint8Array(32), listenPort: 0, fwmark: 0, peers: [] }),
    'errno=0\n\n',
  );
});

test('handshake time, counters and keepalive print as decimal; counters are 64-bit', (t) => {
  const reply = formatGetReply({
    listenPort: 1,
    fwmark: 0,
    peers: [
      {
        ...FIXTURE.peers[1]!,
        lastHandshakeTimeSec: 1_704_067_200,
        lastHandshakeTimeNsec: 123_456_789,
        txBytes: (1n << 64n) - 1n,
        rxBytes: 12345n,
        allowedIps: [],
      },
    ],
  });
  t.regex(
    reply,
    /\nlast_handshake_time_sec=1704067200\nlast_handshake_time_nsec=123456789\ntx_bytes=18446744073709551615\nrx_bytes=12345\npersistent_keepalive_interval=0\nerrno=0\n\n$/,
  );
  t.is(parseGetReply(reply).peers[0]?.txBytes, (1n << 64n) - 1n);
});

test('error replies carry the errno negated, as wireguard-go writes them', (t) => {
  t.is(formatErrorReply(0), 'errno=0\n\n');
  t.is(formatErrorReply(Errno.EINVAL), 'errno=-22\n\n');
  t.is(formatErrorReply(Errno.EPROTO), 'errno=-71\n\n');
  t.throws(() => formatErrorReply(-22), { instanceOf: RangeError });
});

test('parseGetReply turns an error reply into a UapiError and refuses malformed replies', (t) => {
  t.is(t.throws(() => parseGetReply('errno=-22\n\n'), { instanceOf: UapiError })?.errno, 22);
  t.is(t.throws(() => parseGetReply('listen_port=1\n\n'), { instanceOf: UapiError })?.errno, Errno.EPROTO);
  t.is(
    t.throws(() => parseGetReply('listen_port=x\nerrno=0\n\n'), { instanceOf: UapiError })?.errno,
    Errno.EPROTO,
  );
  t.is(t.throws(() => parseGetReply('garbage\nerrno=0\n\n'), { instanceOf: UapiError })?.errno, Errno.EPROTO);
  // Keys from other daemons' extensions (amneziawg's jc=, for one) are skipped, as wg(8) skips them.
  t.deepEqual(parseGetReply('jc=4\nlisten_port=7\nerrno=0\n\n'), { listenPort: 7, fwmark: 0, peers: [] });
});
