import test from 'ava';
import {
  cidrContains,
  cidrsOverlap,
  findOverlap,
  formatCidr,
  formatEndpoint,
  formatIp,
  isDiallable,
  isPrivateCidr,
  parseCidr,
  parseEndpoint,
  parseIp,
  type Cidr,
} from '../../src/net/cidr.js';

function cidr(text: string): Cidr {
  const p = parseCidr(text);
  if (!p.ok) throw new Error(`${text}: ${p.reason}`);
  return p.cidr;
}

// [case, input, canonical output or undefined for a refusal]
const IPS: [number, string, string | undefined][] = [
  [1, '0.0.0.0', '0.0.0.0'],
  [2, '192.168.1.1', '192.168.1.1'],
  [3, '255.255.255.255', '255.255.255.255'],
  [4, '256.1.1.1', undefined],
  [5, '1.2.3', undefined],
  [6, '1.2.3.4.5', undefined],
  [7, '01.2.3.4', undefined], // leading zero: octal in some stacks
  [8, '1.2.3.-4', undefined],
  [9, '', undefined],
  [10, '::', '::'],
  [11, '::1', '::1'],
  [12, '2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
  [13, '2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'], // longest zero run wins
  [14, '2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of equal runs wins
  [15, '2001:db8:1:1:1:1:0:1', '2001:db8:1:1:1:1:0:1'], // single zero group stays
  [16, '::ffff:10.0.0.1', '::ffff:a00:1'],
  [17, '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  [18, '1::2::3', undefined],
  [19, '1:2:3:4:5:6:7:8:9', undefined],
  [20, '1:2:3:4:5:6:7::8', undefined], // "::" must replace at least one group
  [21, 'fe80::1%eth0', undefined],
  [22, '12345::', undefined],
  [23, ':1::', undefined],
  [24, 'fc00::', 'fc00::'],
  [25, '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
];

for (const [n, input, expected] of IPS) {
  test(`ip #${n}: ${JSON.stringify(input)}`, (t) => {
    const ip = parseIp(input);
    t.is(ip === undefined ? undefined : formatIp(ip), expected);
  });
}

// [case, input, canonical or refusal reason fragment, suggested canonical]
const CIDRS: [number, string, { ok: string } | { reason: RegExp; hint?: string }][] = [
  [1, '10.0.0.0/8', { ok: '10.0.0.0/8' }],
  [2, '0.0.0.0/0', { ok: '0.0.0.0/0' }],
  [3, '192.168.1.7/32', { ok: '192.168.1.7/32' }],
  [4, '10.0.0.1/8', { reason: /host bits/, hint: '10.0.0.0/8' }],
  [5, '10.0.0.0/33', { reason: /above 32/ }],
  [6, '10.0.0.0', { reason: /missing/ }],
  [7, '10.0.0.0/08', { reason: /prefix/ }],
  [8, '10.0.0.0/', { reason: /prefix/ }],
  [9, 'x/8', { reason: /not an IPv4 or IPv6/ }],
  [10, '2001:DB8::/32', { ok: '2001:db8::/32' }],
  [11, '2001:db8::1/64', { reason: /host bits/, hint: '2001:db8::/64' }],
  [12, '::/0', { ok: '::/0' }],
  [13, '2001:db8::/129', { reason: /above 128/ }],
  [14, 'fd00:0:0:1::/64', { ok: 'fd00:0:0:1::/64' }],
];

for (const [n, input, expected] of CIDRS) {
  test(`cidr #${n}: ${input}`, (t) => {
    const p = parseCidr(input);
    if ('ok' in expected) {
      t.true(p.ok);
      if (p.ok) t.is(formatCidr(p.cidr), expected.ok);
    } else {
      t.false(p.ok);
      if (!p.ok) {
        t.regex(p.reason, expected.reason);
        t.is(p.canonical, expected.hint);
      }
    }
  });
}

// [case, a, b, overlap?, a contains b?]
const OVERLAPS: [number, string, string, boolean, boolean][] = [
  [1, '10.0.0.0/8', '10.1.0.0/16', true, true],
  [2, '10.1.0.0/16', '10.0.0.0/8', true, false],
  [3, '10.0.0.0/16', '10.1.0.0/16', false, false],
  [4, '10.0.0.0/24', '10.0.0.0/24', true, true],
  [5, '10.0.0.0/25', '10.0.0.128/25', false, false],
  [6, '0.0.0.0/0', '203.0.113.0/24', true, true],
  [7, '10.0.0.0/8', '::/0', false, false], // families never overlap
  [8, 'fd00::/8', 'fd12:3456::/32', true, true],
  [9, 'fd00::/16', 'fd01::/16', false, false],
  [10, '255.255.255.255/32', '255.255.255.0/24', true, false],
];

for (const [n, a, b, overlap, contains] of OVERLAPS) {
  test(`overlap #${n}: ${a} vs ${b}`, (t) => {
    t.is(cidrsOverlap(cidr(a), cidr(b)), overlap);
    t.is(cidrsOverlap(cidr(b), cidr(a)), overlap);
    t.is(cidrContains(cidr(a), cidr(b)), contains);
  });
}

// [case, list, expected overlapping pair labels or undefined]
const SWEEPS: [number, string[], [string, string] | undefined][] = [
  [1, [], undefined],
  [2, ['10.0.0.0/24'], undefined],
  [3, ['10.0.0.0/24', '10.0.1.0/24', '10.0.2.0/24'], undefined],
  [4, ['10.0.2.0/24', '10.0.0.0/16'], ['10.0.0.0/16', '10.0.2.0/24']],
  [5, ['10.0.0.0/24', '10.0.0.0/24'], ['10.0.0.0/24', '10.0.0.0/24']],
  [6, ['10.0.0.0/8', '11.0.0.0/8', '10.200.0.0/16'], ['10.0.0.0/8', '10.200.0.0/16']],
  // A wide block swallowing a later one after narrower disjoint blocks in between.
  [7, ['10.0.0.0/16', '10.0.0.0/24', '10.0.1.0/24'], ['10.0.0.0/16', '10.0.0.0/24']],
  [8, ['10.0.0.0/8', 'fd00::/8', '192.168.0.0/16', 'fd00:1::/32'], ['fd00::/8', 'fd00:1::/32']],
  [9, ['10.0.0.0/9', '10.128.0.0/9', '11.0.0.0/8'], undefined],
];

for (const [n, list, expected] of SWEEPS) {
  test(`findOverlap #${n}`, (t) => {
    const pair = findOverlap(list.map((text) => ({ cidr: cidr(text), label: text })));
    t.deepEqual(
      pair?.map((p) => p.label),
      expected,
    );
  });
}

test('findOverlap agrees with pairwise comparison on generated lists', (t) => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let round = 0; round < 300; round++) {
    const list: Cidr[] = [];
    for (let i = 0; i < 1 + rand(6); i++) {
      const prefix = 20 + rand(9);
      const network =
        (BigInt(0x0a000000 + rand(1 << 14) * 256) >> BigInt(32 - prefix)) << BigInt(32 - prefix);
      list.push({ family: 4, network, prefix });
    }
    let pairwise = false;
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) pairwise ||= cidrsOverlap(list[i]!, list[j]!);
    const found = findOverlap(list.map((c, i) => ({ cidr: c, label: i })));
    t.is(found !== undefined, pairwise, list.map(formatCidr).join(' '));
    if (found) t.true(cidrsOverlap(found[0].cidr, found[1].cidr));
  }
});

// [case, cidr, private?]
const PRIVATE: [number, string, boolean][] = [
  [1, '10.0.0.0/8', true],
  [2, '10.20.0.0/16', true],
  [3, '172.16.0.0/12', true],
  [4, '172.32.0.0/16', false],
  [5, '172.0.0.0/11', false], // contains 172.16.0.0/12 but is wider
  [6, '192.168.10.0/24', true],
  [7, '100.64.0.0/10', true], // RFC 6598
  [8, '100.128.0.0/16', false],
  [9, '8.8.8.0/24', false],
  [10, 'fd12:3456:789a::/48', true], // ULA
  [11, 'fc00::/7', true],
  [12, '2001:db8::/32', false],
  [13, '0.0.0.0/0', false],
];

for (const [n, text, expected] of PRIVATE) {
  test(`private #${n}: ${text}`, (t) => {
    t.is(isPrivateCidr(cidr(text)), expected);
  });
}

// [case, input, canonical or undefined, diallable]
const ENDPOINTS: [number, string, string | undefined, boolean?][] = [
  [1, '203.0.113.10:51820', '203.0.113.10:51820', true],
  [2, '[2001:DB8::10]:51820', '[2001:db8::10]:51820', true],
  [3, '2001:db8::10:51820', undefined], // unbracketed IPv6 is ambiguous
  [4, '203.0.113.10', undefined],
  [5, '203.0.113.10:0', undefined],
  [6, '203.0.113.10:65536', undefined],
  [7, '203.0.113.10:065', undefined],
  [8, 'gw.example.com:51820', undefined], // literals only
  [9, '[203.0.113.10]:51820', undefined],
  [10, '[2001:db8::1]51820', undefined],
  [11, '0.0.0.0:51820', '0.0.0.0:51820', false],
  [12, '[::]:51820', '[::]:51820', false],
  [13, '224.0.0.1:51820', '224.0.0.1:51820', false],
  [14, '[ff02::1]:51820', '[ff02::1]:51820', false],
  [15, '127.0.0.1:51820', '127.0.0.1:51820', true], // labs and tests dial loopback
  [16, '255.255.255.255:1', '255.255.255.255:1', false],
];

for (const [n, input, expected, diallable] of ENDPOINTS) {
  test(`endpoint #${n}: ${input}`, (t) => {
    const e = parseEndpoint(input);
    t.is(e === undefined ? undefined : formatEndpoint(e), expected);
    if (e && diallable !== undefined) t.is(isDiallable(e.address), diallable);
  });
}
