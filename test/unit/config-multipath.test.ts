import test, { type ExecutionContext } from 'ava';
import { ConfigError, formatConfig, parseConfig } from '../../src/config/index.js';

const PRIV = 'qIEafySOVjN+ezp7qNt86u/wIWDx73knSGMi8sGUWl0=';
const PUB = 'mxBj1V1dieVxbechpuOkVZw4kLTF9qzF6/tR7dDuk2A=';

const FILE = `[Interface]
PrivateKey = ${PRIV}
ProbeInterval = 50
HoldDown = 3000
DownAfter = 4

[Uplink]
Name = wan1
Address = 192.0.2.10
Priority = 1

[Uplink]
Name = lte
Device = wwan0
Metered = true
Bandwidth = 50

[Class]
Name = voice
DSCP = EF, 34
Protocol = udp
DestinationPort = 5060-5080
Policy = duplicate

[Class]
Name = erp
MaxLatency = 80
MaxLoss = 2

[Peer]
PublicKey = ${PUB}
AllowedIPs = 10.0.0.2/32
Endpoint = 203.0.113.1:51820@wan1, [2001:db8::1]:51820, 198.51.100.7:51820@lte
`;

test('multipath sections: uplinks, classes, probe tuning, several endpoints tied to uplinks', (t) => {
  const c = parseConfig(FILE, 'wg0.conf');
  t.deepEqual(c.pathTuning, { intervalMs: 50, holdDownMs: 3000, downAfter: 4 });
  t.deepEqual(c.uplinks, [
    { name: 'wan1', address: '192.0.2.10', priority: 1, line: 7 },
    { name: 'lte', device: 'wwan0', metered: true, bandwidthMbps: 50, line: 12 },
  ]);
  t.deepEqual(c.classes, [
    {
      name: 'voice',
      line: 18,
      match: { dscp: [46, 34], protocol: 17, dstPorts: [5060, 5080] },
      policy: { kind: 'duplicate' },
    },
    { name: 'erp', line: 25, match: {}, policy: { kind: 'sla', maxLossPct: 2, maxRttMs: 80 } },
  ]);
  const p = c.peers[0]!;
  t.is(p.endpoints?.length, 3);
  t.is(p.endpoints?.[0]?.uplink, 'wan1');
  t.is(p.endpoints?.[1]?.host, '2001:db8::1');
  t.is(p.endpoints?.[1]?.uplink, undefined);
  t.is(p.endpoint?.host, '203.0.113.1');
  t.deepEqual(c.warnings, []);
});

test('formatConfig prints the multipath parts and they parse back equal', (t) => {
  const c = parseConfig(FILE, 'wg0.conf');
  const text = formatConfig(c);
  t.regex(text, /\[Uplink\]\nName = lte\nDevice = wwan0\nMetered = true\nBandwidth = 50\n/);
  t.regex(text, /Endpoint = 203\.0\.113\.1:51820@wan1, \[2001:db8::1\]:51820, 198\.51\.100\.7:51820@lte/);
  const back = parseConfig(text, 'wg0.conf');
  const strip = <T extends { line: number }>(xs: readonly T[]) => xs.map(({ line: _l, ...rest }) => rest);
  t.deepEqual(strip(back.uplinks), strip(c.uplinks));
  t.deepEqual(strip(back.classes), strip(c.classes));
  t.deepEqual(back.pathTuning, c.pathTuning);
  t.deepEqual(back.peers[0]!.endpoints, c.peers[0]!.endpoints);
});

test('a plain wg-quick file has no multipath parts', (t) => {
  const c = parseConfig(
    `[Interface]\nPrivateKey = ${PRIV}\n[Peer]\nPublicKey = ${PUB}\nEndpoint = 192.0.2.1:51820\n`,
  );
  t.deepEqual(c.uplinks, []);
  t.deepEqual(c.classes, []);
  t.deepEqual(c.pathTuning, {});
  t.is(c.peers[0]!.endpoints, undefined);
});

function fails(t: ExecutionContext, text: string, line: number, reason: RegExp): void {
  const err = t.throws(() => parseConfig(text, 'wg0.conf'), { instanceOf: ConfigError });
  if (!err) return;
  t.is(err.line, line, err.message);
  t.regex(err.reason, reason);
}

const head = `[Interface]\nPrivateKey = ${PRIV}\n`;
test('multipath errors name the line', (t) => {
  fails(t, `${head}[Uplink]\nAddress = 192.0.2.1\n`, 3, /\[Uplink\] section has no Name/);
  fails(t, `${head}[Uplink]\nName = a b c!\n`, 4, /uplink Name/);
  fails(t, `${head}[Uplink]\nName = a\nPriority = -1\n`, 5, /Priority must be an integer 0..65535/);
  fails(t, `${head}[Uplink]\nName = a\nMetered = yes\n`, 5, /Metered must be true or false/);
  fails(t, `${head}[Uplink]\nName = a\nColour = red\n`, 5, /unknown key "Colour" in \[Uplink\]/);
  fails(t, `${head}[Uplink]\nName = a\n[Uplink]\nName = a\n`, 5, /already used at line 3/);
  fails(t, `${head}[Class]\nName = v\nDSCP = 64\n`, 5, /DSCP must list values 0..63/);
  fails(t, `${head}[Class]\nName = v\nPolicy = fastest\n`, 5, /Policy must be one of/);
  fails(t, `${head}[Class]\nName = v\nDestinationPort = 90-80\n`, 5, /range/);
  fails(t, `${head}[Class]\nName = v\nPolicy = sla\n`, 3, /needs at least one of MaxLoss/);
  fails(t, `${head}[Class]\nName = v\nPolicy = weighted\nMaxLoss = 5\n`, 3, /need Policy = sla/);
  fails(
    t,
    `${head}[Class]\nName = v\nSourceAddress = 10.1.2.3/16\n`,
    5,
    /SourceAddress entry "10.1.2.3\/16": host bits are set \(did you mean 10.1.0.0\/16\?\)/,
  );
  fails(
    t,
    `${head}[Class]\nName = v\nDestinationAddress = 10.0.0.0/8, fd00::/129\n`,
    5,
    /DestinationAddress entry "fd00::\/129": prefix length above 128/,
  );
  fails(
    t,
    `${head}[Class]\nName = v\nDestinationAddress = gateway.example\n`,
    5,
    /not an IPv4 or IPv6 address/,
  );
  const nine = Array.from({ length: 9 }, (_, i) => `10.${i}.0.0/16`);
  fails(
    t,
    `${head}[Class]\nName = v\nSourceAddress = ${nine.slice(0, 5).join(', ')}\nSourceAddress = ${nine.slice(5).join(', ')}\n`,
    6,
    /SourceAddress lists 9 prefixes; at most 8 per class/,
  );
  fails(
    t,
    `${head}[Class]\nName = v\nSourceAddress = 10.0.0.0/8\nDestinationAddress = fd00::/8\n`,
    3,
    /share no address family/,
  );
  fails(t, `${head}ProbeInterval = 5\n`, 3, /ProbeInterval must be an integer 10..600000/);
  fails(
    t,
    `${head}[Peer]\nPublicKey = ${PUB}\nEndpoint = 192.0.2.1:1@nowhere, 192.0.2.2:1\n`,
    3,
    /names uplink nowhere, which no \[Uplink\]/,
  );
  fails(t, `${head}[Peer]\nPublicKey = ${PUB}\nEndpoint = 192.0.2.1, 192.0.2.2:1\n`, 5, /needs a port/);
  fails(t, `${head}[Bogus]\n`, 3, /expected \[Interface\], \[Peer\], \[Uplink\] or \[Class\]/);
});

test('class address rules: prefixes of both families per side, bare addresses, repeated keys add up; printed and parsed back', (t) => {
  const text = `${head}[Class]\nName = branch9\nProtocol = tcp\nDestinationPort = 443\nSourceAddress = 10.9.0.0/16, FD00:9::/64\nsource address = 10.8.0.1\nDestinationAddress = 192.0.2.0/24, 0.0.0.0/0, 10.9.0.0/16\nPolicy = duplicate\n`;
  const c = parseConfig(text, 'wg0.conf');
  t.deepEqual(c.classes[0]!.match, {
    protocol: 6,
    dstPorts: [443, 443],
    srcAddresses: ['10.9.0.0/16', 'fd00:9::/64', '10.8.0.1/32'],
    dstAddresses: ['192.0.2.0/24', '0.0.0.0/0', '10.9.0.0/16'],
  });
  const out = formatConfig(c);
  t.regex(
    out,
    /\nSourceAddress = 10\.9\.0\.0\/16, fd00:9::\/64, 10\.8\.0\.1\/32\nDestinationAddress = 192\.0\.2\.0\/24, 0\.0\.0\.0\/0, 10\.9\.0\.0\/16\n/,
  );
  const back = parseConfig(out, 'wg0.conf');
  t.deepEqual(back.classes[0]!.match, c.classes[0]!.match);
  // A repeated prefix is kept once, so it does not count twice towards the limit.
  t.deepEqual(
    parseConfig(`${head}[Class]\nName = v\nSourceAddress = 10.0.0.0/8, 10.0.0.0/8\n`).classes[0]!.match,
    { srcAddresses: ['10.0.0.0/8'] },
  );
});
