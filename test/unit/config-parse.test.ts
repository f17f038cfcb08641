import test from 'ava';
import { parseCidr, parseIp, type Cidr } from '../../src/net/cidr.js';
import { formatConfig, interfaceNameFromPath, parseConfig } from '../../src/config/index.js';
import { parseBase64Key } from '../../src/uapi/index.js';

const PRIV = 'qIEafySOVjN+ezp7qNt86u/wIWDx73knSGMi8sGUWl0=';
const PUB_A = 'mxBj1V1dieVxbechpuOkVZw4kLTF9qzF6/tR7dDuk2A=';
const PUB_B = 'afKHLok96kZgBJnx527rVUdx26yUK1SV4GVCtaBc6lk=';
const PSK = 'QAbcipOsYNXflZVlFanxlP8GT2zIcvsO6uDmeI0iyU4=';
const key = (b64: string): Uint8Array => parseBase64Key(b64)!;
const cidr = (s: string): Cidr => {
  const r = parseCidr(s);
  if (!r.ok) throw new Error(s);
  return r.cidr;
};

const FULL = `# wg0 on the office gateway
[Interface]
PrivateKey = ${PRIV}
ListenPort = 51820
Address = 10.0.0.1/24, fd00::1/64
Address = 192.168.7.1
MTU = 1420
FwMark = 0x1234
DNS = 10.0.0.53, fd00::53, corp.example
Table = off
PreUp = echo pre-up
PostUp = iptables -A FORWARD -i %i -j ACCEPT # wg-quick cuts this comment
PreDown = echo pre-down
PostDown = iptables -D FORWARD -i %i -j ACCEPT
SaveConfig = true

[Peer]
# the branch office
PublicKey = ${PUB_A}
PresharedKey = ${PSK}
AllowedIPs = 10.1.0.0/16, fd01::/48
AllowedIPs = 192.168.100.0/24
Endpoint = 192.0.2.1:51820
PersistentKeepalive = 25

[Peer]
PublicKey = ${PUB_B}
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = vpn.example.com:443
PersistentKeepalive = off
`;

test('a full file: every key lands in its typed field', (t) => {
  const c = parseConfig(FULL, 'wg0.conf');
  t.is(c.file, 'wg0.conf');
  t.deepEqual(c.warnings, []);
  t.deepEqual(c.interface, {
    privateKey: key(PRIV),
    listenPort: 51820,
    addresses: [
      { address: parseIp('10.0.0.1')!, prefix: 24 },
      { address: parseIp('fd00::1')!, prefix: 64 },
      { address: parseIp('192.168.7.1')!, prefix: 32 },
    ],
    mtu: 1420,
    fwMark: 0x1234,
    dns: [parseIp('10.0.0.53')!, parseIp('fd00::53')!],
    dnsSearch: ['corp.example'],
    table: 'off',
    preUp: ['echo pre-up'],
    postUp: ['iptables -A FORWARD -i %i -j ACCEPT'],
    preDown: ['echo pre-down'],
    postDown: ['iptables -D FORWARD -i %i -j ACCEPT'],
    saveConfig: true,
  });
  t.deepEqual(c.peers, [
    {
      line: 17,
      publicKey: key(PUB_A),
      presharedKey: key(PSK),
      allowedIps: [cidr('10.1.0.0/16'), cidr('fd01::/48'), cidr('192.168.100.0/24')],
      endpoint: { host: '192.0.2.1', port: 51820, address: parseIp('192.0.2.1')!, needsResolution: false },
      persistentKeepalive: 25,
    },
    {
      line: 26,
      publicKey: key(PUB_B),
      allowedIps: [cidr('0.0.0.0/0'), cidr('::/0')],
      endpoint: { host: 'vpn.example.com', port: 443, needsResolution: true },
      persistentKeepalive: 0,
    },
  ]);
});

test('a minimal file has defaults for everything', (t) => {
  const c = parseConfig(`[Interface]\nPrivateKey = ${PRIV}\n`);
  t.deepEqual(c.interface, {
    privateKey: key(PRIV),
    addresses: [],
    dns: [],
    dnsSearch: [],
    preUp: [],
    postUp: [],
    preDown: [],
    postDown: [],
    saveConfig: false,
  });
  t.deepEqual(c.peers, []);
  t.deepEqual(parseConfig('').peers, []);
});

test('keys and section names are case-insensitive; wg keys may contain white space, as wg(8) strips it', (t) => {
  const c = parseConfig(
    `[interface]\r\nprivate key = ${PRIV}   # trailing comment\r\nLISTENPORT=1\r\n  mtu=1280\r\n[PEER]\r\npublickey = ${PUB_A.slice(0, 10)} ${PUB_A.slice(10)}\r\nAllowed IPs = 10.0.0.0/8 , 10.1.0.0/16\r\nEndpoint = 192.0.2.1 : 5\r\n`,
  );
  t.deepEqual(c.interface.privateKey, key(PRIV));
  t.is(c.interface.listenPort, 1);
  t.is(c.interface.mtu, 1280);
  t.deepEqual(c.peers[0]?.publicKey, key(PUB_A));
  t.deepEqual(c.peers[0]?.allowedIps, [cidr('10.0.0.0/8'), cidr('10.1.0.0/16')]);
  t.is(c.peers[0]?.endpoint?.port, 5);
});

test('values: FwMark and PersistentKeepalive "off", decimal and hex marks, bare allowed IPs, IPv6 endpoints', (t) => {
  const c = parseConfig(
    `[Interface]\nFwMark = off\n[Peer]\nPublicKey = ${PUB_A}\nAllowedIPs = 10.0.0.7, fd00::7\nEndpoint = [2001:DB8::1]:51820\nPersistentKeepalive = 0\n`,
  );
  t.is(c.interface.fwMark, 0);
  t.is(parseConfig('[Interface]\nFwMark = 51820\n').interface.fwMark, 51820);
  t.is(parseConfig('[Interface]\nFwMark = 0xffffffff\n').interface.fwMark, 0xffffffff);
  t.deepEqual(c.peers[0]?.allowedIps, [cidr('10.0.0.7/32'), cidr('fd00::7/128')]);
  t.deepEqual(c.peers[0]?.endpoint, {
    host: '2001:db8::1',
    port: 51820,
    address: parseIp('2001:db8::1')!,
    needsResolution: false,
  });
  t.is(c.peers[0]?.persistentKeepalive, 0);
});

test('repeats follow wg-quick: scalars take the last value, lists add up, empty MTU/Table reset', (t) => {
  const c = parseConfig(
    `[Interface]\nListenPort = 1\nListenPort = 2\nMTU = 1400\nMTU =\nTable = 1234\nTable = \nDNS = 1.1.1.1\nDNS = 9.9.9.9 example.org\nPostUp = a\nPostUp = b\nSaveConfig = TRUE\nSaveConfig = false\n`,
  );
  t.is(c.interface.listenPort, 2);
  t.is(c.interface.mtu, undefined);
  t.is(c.interface.table, undefined);
  t.deepEqual(c.interface.dns, [parseIp('1.1.1.1')!, parseIp('9.9.9.9')!]);
  t.deepEqual(c.interface.dnsSearch, ['example.org']);
  t.deepEqual(c.interface.postUp, ['a', 'b']);
  t.false(c.interface.saveConfig);
  t.deepEqual(
    c.warnings.map((w) => w.line),
    [3, 5, 7, 13],
  );
  t.regex(c.warnings[0]!.message, /ListenPort was already set on line 2/);
});

test('a second [Interface] merges into the first, with a warning', (t) => {
  const c = parseConfig(
    `[Interface]\nListenPort = 1\n[Peer]\nPublicKey = ${PUB_A}\n[Interface]\nFwMark = 7\n`,
  );
  t.is(c.interface.listenPort, 1);
  t.is(c.interface.fwMark, 7);
  t.deepEqual(c.warnings, [
    { line: 5, message: 'another [Interface] section (the first is at line 1); wg-quick merges them' },
  ]);
});

test('two [Peer] sections with one PublicKey merge as wg(8) applies them: later values win, AllowedIPs replaced', (t) => {
  // Checked with wg setconf against wireguard-go: the endpoint of the first section survives, its
  // AllowedIPs do not.
  const c = parseConfig(
    `[Interface]\n[Peer]\nPublicKey = ${PUB_A}\nAllowedIPs = 10.0.0.0/8\nEndpoint = 192.0.2.1:1\nPersistentKeepalive = 5\n[Peer]\nPublicKey = ${PUB_A}\nAllowedIPs = 10.9.0.0/16\nPersistentKeepalive = 6\n`,
  );
  t.is(c.peers.length, 1);
  t.is(c.peers[0]?.line, 2);
  t.deepEqual(c.peers[0]?.allowedIps, [cidr('10.9.0.0/16')]);
  t.is(c.peers[0]?.endpoint?.port, 1);
  t.is(c.peers[0]?.persistentKeepalive, 6);
  t.is(c.warnings.length, 1);
  t.is(c.warnings[0]?.line, 7);
});

test('warnings for host bits in AllowedIPs and for a prefix given to two peers', (t) => {
  const c = parseConfig(
    `[Peer]\nPublicKey = ${PUB_A}\nAllowedIPs = 10.1.2.3/16\n[Peer]\nPublicKey = ${PUB_B}\nAllowedIPs = 10.1.0.0/16\n`,
  );
  t.deepEqual(c.peers[0]?.allowedIps, [cidr('10.1.0.0/16')]);
  t.deepEqual(c.warnings, [
    { line: 3, message: 'AllowedIPs entry 10.1.2.3/16 has host bits set; it means 10.1.0.0/16' },
    {
      line: 4,
      message: 'AllowedIPs 10.1.0.0/16 is also listed for the [Peer] at line 1; only this later peer gets it',
    },
  ]);
});

test('a byte-order mark and a file without [Interface] are fine', (t) => {
  const c = parseConfig(`\uFEFF[Peer]\nPublicKey = ${PUB_A}\n`);
  t.is(c.peers.length, 1);
});

test('formatConfig prints the full file in wg showconf / wg-quick save order, and it parses back equal', (t) => {
  const c = parseConfig(FULL, 'wg0.conf');
  const text = formatConfig(c);
  t.is(
    text,
    `[Interface]
Address = 10.0.0.1/24
Address = fd00::1/64
Address = 192.168.7.1/32
DNS = 10.0.0.53
DNS = fd00::53
DNS = corp.example
MTU = 1420
Table = off
SaveConfig = true
PreUp = echo pre-up
PostUp = iptables -A FORWARD -i %i -j ACCEPT
PreDown = echo pre-down
PostDown = iptables -D FORWARD -i %i -j ACCEPT
ListenPort = 51820
FwMark = 0x1234
PrivateKey = ${PRIV}

[Peer]
PublicKey = ${PUB_A}
PresharedKey = ${PSK}
AllowedIPs = 10.1.0.0/16, fd01::/48, 192.168.100.0/24
Endpoint = 192.0.2.1:51820
PersistentKeepalive = 25

[Peer]
PublicKey = ${PUB_B}
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = vpn.example.com:443
PersistentKeepalive = off
`,
  );
  const again = parseConfig(text, 'wg0.conf');
  t.deepEqual(again.interface, c.interface);
  t.deepEqual(
    again.peers.map(({ line: _l, ...p }) => p),
    c.peers.map(({ line: _l, ...p }) => p),
  );
});

test('formatConfig refuses a hook with a line break', (t) => {
  const c = parseConfig('[Interface]\n');
  t.throws(() => formatConfig({ ...c, interface: { ...c.interface, postUp: ['a\nListenPort = 1'] } }), {
    code: 'ERR_SAG_INVALID_ARGUMENT',
  });
});

test('interface name from the file name, as wg-quick derives it', (t) => {
  t.is(interfaceNameFromPath('/etc/wireguard/wg0.conf'), 'wg0');
  t.is(interfaceNameFromPath('office-vpn.conf'), 'office-vpn');
  t.is(interfaceNameFromPath('/etc/wireguard/this-name-is-too-long.conf'), undefined);
  t.is(interfaceNameFromPath('wg0.cfg'), undefined);
  t.is(interfaceNameFromPath('bad name.conf'), undefined);
});
