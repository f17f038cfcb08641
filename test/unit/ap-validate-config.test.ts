/**
 * The access point's check of a received configuration: what the controller compiles
 * passes unchanged; every field with a wrong form, and every value that could break out
 * of nftables text or an `ip` argument, is refused with the field named.
 */
import test from 'ava';
import { compileAccessPointConfig } from '../../src/controller/compiler/index.js';
import { ConfigRefusedError } from '../../src/ap/errors.js';
import { renderPolicy } from '../../src/ap/policy.js';
import { validateAccessPointConfig } from '../../src/ap/validate-config.js';
import { OPTS, model } from '../support/compiler-fixture.js';
import type { AccessPointConfig } from '../../src/contract/config.js';

const compiled = compileAccessPointConfig(model(), 'ap-hz', OPTS);
type Mutable = { [k: string]: any };

function tampered(edit: (c: Mutable) => void): unknown {
  const copy = structuredClone(compiled) as unknown as Mutable;
  edit(copy);
  return copy;
}

test('1 the compiled configuration passes and comes back equal, as a fresh copy', (t) => {
  const checked = validateAccessPointConfig(compiled, 'ap-hz');
  t.deepEqual(checked, compiled);
  t.not(checked.peers[0], compiled.peers[0]);
  t.true(compiled.peers.length >= 2 && compiled.policy.some((r) => r.to.kind === 'vpc'), 'fixture covers');
});

test('2 unknown fields are dropped, not passed on', (t) => {
  const checked = validateAccessPointConfig(
    tampered((c) => {
      c['extra'] = '; flush ruleset';
      c['peers'][0]['extra'] = 1;
    }),
    'ap-hz',
  );
  t.false('extra' in checked);
  t.false('extra' in checked.peers[0]!);
});

/** Values that would end a quoted string, a set or a statement in nftables text, or an ip argument. */
const HOSTILE = [
  'ccn-1"; flush ruleset; "',
  'ccn-1 } accept',
  'ccn-1\nadd rule inet sag forward accept',
  "ccn-1'",
  'ccn-1{',
  'ccn-1}',
  'ccn-1;',
  'ccn-1 ',
  'ccn-1\t',
  'ccn-../../etc',
  'ccn-1#',
  '',
];

const cases: [string, (c: Mutable) => void, RegExp][] = [
  ['1 not an object', (c) => Object.keys(c).forEach((k) => delete c[k]), /kind/],
  ['2 wrong kind', (c) => (c['kind'] = 'device'), /kind "device" is not "accessPoint"/],
  ['3 version not a hash', (c) => (c['version'] = 'abc'), /version "abc"/],
  ['4 another access point', (c) => (c['accessPointId'] = 'ap-sg'), /is not this access point \(ap-hz\)/],
  [
    '5 access point id malformed',
    (c) => (c['accessPointId'] = 'AP-HZ'),
    /accessPointId "AP-HZ" is not an id of the form ap-/,
  ],
  ['6 area with a space', (c) => (c['area'] = 'main land'), /area "main land"/],
  ['7 endpoint not canonical', (c) => (c['endpoints'] = ['203.0.113.01:51820']), /endpoints\[0\]/],
  ['8 endpoint port out of range', (c) => (c['endpoints'] = ['203.0.113.1:70000']), /endpoints\[0\]/],
  ['9 maxInstances negative', (c) => (c['maxInstances'] = -1), /maxInstances -1/],
  ['10 modelVersion a string', (c) => (c['modelVersion'] = '1'), /modelVersion "1"/],
  ['11 peers not a list', (c) => (c['peers'] = {}), /peers \{\} is not a list/],
  ['12 peer serial with a slash', (c) => (c['peers'][0]['serial'] = 'SN/A'), /peers\[0\]\.serial/],
  [
    '13 key too short',
    (c) => (c['peers'][0]['publicKey'] = 'AAAA='),
    /peers\[0\]\.publicKey .* WireGuard key/,
  ],
  [
    '14 key of 33 bytes',
    (c) => (c['peers'][0]['publicKey'] = Buffer.alloc(33, 1).toString('base64')),
    /publicKey/,
  ],
  ['15 key with stray low bits', (c) => (c['peers'][0]['publicKey'] = `${'A'.repeat(42)}B=`), /publicKey/],
  ['16 the all-zero key', (c) => (c['peers'][0]['publicKey'] = `${'A'.repeat(43)}=`), /all-zero key/],
  [
    '17 two peers, one key',
    (c) => (c['peers'][1]['publicKey'] = c['peers'][0]['publicKey']),
    /publicKey twice/,
  ],
  ['18 two peers, one serial', (c) => (c['peers'][1]['serial'] = c['peers'][0]['serial']), /serial twice/],
  [
    '19 instance id of another kind',
    (c) => (c['peers'][0]['instanceId'] = 'ccn-1'),
    /instanceId "ccn-1" is not an id of the form sag-/,
  ],
  [
    '20 address with host bits',
    (c) => (c['peers'][0]['address'] = '100.98.72.62/24'),
    /address .*host bits are set/,
  ],
  ['21 address not a host prefix', (c) => (c['peers'][0]['address'] = '100.98.72.0/24'), /not a host prefix/],
  [
    '22 allowed IP upper-case v6',
    (c) => (c['peers'][1]['allowedIps'][2] = 'FD00:2::/64'),
    /canonical form \(fd00:2::\/64\)/,
  ],
  [
    '23 allowed IP with leading zero',
    (c) => (c['peers'][0]['allowedIps'][1] = '192.168.01.0/24'),
    /allowedIps\[1\]/,
  ],
  [
    '24 allowed IPs without the address',
    (c) => c['peers'][0]['allowedIps'].shift(),
    /does not hold the address/,
  ],
  [
    '25 allowed IPs overlapping within a peer',
    (c) => c['peers'][0]['allowedIps'].push('192.168.1.128/25'),
    /overlap/,
  ],
  [
    '26 two peers of a CCN claiming one LAN',
    (c) => c['peers'][1]['allowedIps'].push('192.168.1.0/25'),
    /peers of ccn-1 .* overlap/,
  ],
  ['27 bandwidth fractional', (c) => (c['peers'][0]['bandwidthMbps'] = 1.5), /bandwidthMbps 1.5/],
  ['28 bandwidth beyond 1 Tbit/s', (c) => (c['peers'][0]['bandwidthMbps'] = 2_000_000), /bandwidthMbps/],
  ['29 bandwidth NaN (JSON null)', (c) => (c['peers'][0]['bandwidthMbps'] = null), /bandwidthMbps null/],
  ['30 rule target kind unknown', (c) => (c['policy'][0]['to']['kind'] = 'internet'), /to\.kind "internet"/],
  [
    '31 rule vpc target with a ccn id',
    (c) => (c['policy'][1]['to']['id'] = 'ccn-1'),
    /to\.id "ccn-1" is not an id of the form vpc-/,
  ],
  ['32 rule reason unknown', (c) => (c['policy'][0]['reason'] = 'no-cen'), /reason "no-cen"/],
  ['33 rule without CIDRs', (c) => (c['policy'][1]['cidrs'] = []), /cidrs \[\] is empty/],
  ['34 rule CIDR a bare address', (c) => (c['policy'][1]['cidrs'] = ['172.16.0.1']), /missing "\/prefix"/],
  ['35 rule grant zero', (c) => (c['policy'][2]['grantMbps'] = 0), /grantMbps 0/],
  [
    '36 the same destination twice',
    (c) => c['policy'].push(structuredClone(c['policy'][1])),
    /destination twice/,
  ],
  [
    '37 CIDR with a set-closing brace',
    (c) => (c['policy'][1]['cidrs'] = ['172.16.0.0/16 } accept']),
    /not a CIDR/,
  ],
  [
    '38 CIDR with a newline',
    (c) => (c['policy'][1]['cidrs'] = ['172.16.0.0/16\nflush ruleset']),
    /bad prefix length/,
  ],
  [
    '39 hostile value shown escaped and short',
    (c) => (c['area'] = `x"\n${'y'.repeat(200)}`),
    /area "x\\"\\nyyy.*\.\.\. is not/,
  ],
  ...HOSTILE.flatMap((bad, i): [string, (c: Mutable) => void, RegExp][] => [
    [
      `h${i}a peer CCN ${JSON.stringify(bad)}`,
      (c) => (c['peers'][0]['ccnId'] = bad),
      /peers\[0\]\.ccnId .* is not an id of the form ccn-/,
    ],
    [`h${i}b rule CCN ${JSON.stringify(bad)}`, (c) => (c['policy'][0]['ccnId'] = bad), /policy\[0\]\.ccnId/],
    [
      `h${i}c rule target ${JSON.stringify(bad)}`,
      (c) => (c['policy'][1]['to']['id'] = bad.replace('ccn', 'vpc')),
      /policy\[1\]\.to\.id/,
    ],
    [
      `h${i}d rule CIDR ${JSON.stringify(bad)}`,
      (c) => (c['policy'][1]['cidrs'] = [bad]),
      /policy\[1\]\.cidrs\[0\]/,
    ],
  ]),
];

for (const [name, edit, message] of cases) {
  test(`refused: ${name}`, (t) => {
    const error = t.throws(() => validateAccessPointConfig(tampered(edit), 'ap-hz'), {
      instanceOf: ConfigRefusedError,
    });
    t.regex(error!.message, message);
    t.is((error as ConfigRefusedError).code, 'ERR_SAG_AP_CONFIG_REFUSED');
  });
}

test('refused: not an object at all', (t) => {
  for (const raw of [null, 'config', 42, []])
    t.throws(() => validateAccessPointConfig(raw, 'ap-hz'), { message: /configuration .* is not an object/ });
});

test('the renderer refuses an unsafe value even past the validator', (t) => {
  const rules = (compiled as AccessPointConfig).policy.map((r) => ({ ...r }));
  rules[1] = { ...rules[1]!, to: { kind: 'vpc', id: 'vpc-x" accept comment "' } };
  t.throws(() => renderPolicy('sagt0', 'sags0', rules), { message: /refusing to write .* nftables/ });
  t.throws(() => renderPolicy('sagt0;', 'sags0', []), { message: /refusing/ });
  t.notThrows(() => renderPolicy('sagt0', 'sags0', compiled.policy));
});
