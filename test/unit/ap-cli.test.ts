/**
 * `sag ap run` refuses bad flags with a clear message before touching anything,
 * and the CCN forwarding policy it renders (default drop, one accept per rule,
 * unrouted and denied counted).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deniedCount, renderPolicy } from '../../src/ap/policy.js';
import { parseApArgs } from '../../src/cli/ap.js';
import { SagError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sag-ap-cli-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const KEY = join(dir, 'key');
const TOKEN = join(dir, 'token');
const EMPTY = join(dir, 'empty');
const BADKEY = join(dir, 'badkey');
writeFileSync(KEY, `${Buffer.alloc(32, 7).toString('base64')}\n`, { mode: 0o600 });
writeFileSync(TOKEN, 'saga_x\n', { mode: 0o600 });
writeFileSync(EMPTY, '', { mode: 0o600 });
writeFileSync(BADKEY, 'not a key\n', { mode: 0o600 });
const BASE = [
  '--controller',
  'http://127.0.0.1:1',
  '--id',
  'ap-hz',
  '--token-file',
  TOKEN,
  '--key-file',
  KEY,
];

const refusals: [string, string[], RegExp][] = [
  ['1 a required flag missing', BASE.slice(0, 6), /--key-file is required/],
  ['2 an unknown flag', [...BASE, '--colour', 'red'], /unknown option --colour/],
  ['3 a flag without its value', [...BASE, '--mtu'], /--mtu needs a value/],
  ['4 a flag twice', [...BASE, '--mtu', '1400', '--mtu', '1300'], /--mtu given twice/],
  ['5 a malformed --vpc', [...BASE, '--vpc', 'prod'], /--vpc prod: expected VPC_ID=NETNS/],
  ['6 the same VPC twice', [...BASE, '--vpc', 'vpc-a=ns1', '--vpc', 'vpc-a=ns2'], /--vpc vpc-a given twice/],
  [
    '7 a prefix that would not fit interface names',
    [...BASE, '--prefix', 'toolongname'],
    /--prefix toolongname/,
  ],
  ['8 a port out of range', [...BASE, '--listen-port', '70000'], /--listen-port/],
  ['9 a non-numeric MTU', [...BASE, '--mtu', 'big'], /--mtu must be an integer 576..65503, got "big"/],
  [
    '10 a bad access point id',
    [...BASE.slice(0, 2), '--id', 'AP 1', ...BASE.slice(4)],
    /--id AP 1 is not an access point id/,
  ],
  [
    '11 a missing key file',
    [...BASE.slice(0, 6), '--key-file', join(dir, 'nope')],
    /cannot read key file .*ENOENT/,
  ],
  [
    '12 an empty token file',
    [...BASE.slice(0, 4), '--token-file', EMPTY, ...BASE.slice(6)],
    /token file .* is empty/,
  ],
  [
    '13 a key file without a key',
    [...BASE.slice(0, 6), '--key-file', BADKEY],
    /does not hold a base64 WireGuard private key/,
  ],
  ['14 a bad listen address', [...BASE, '--listen-address', 'here'], /listen-address/],
  ['15 a link octet out of range', [...BASE, '--link-octet', '256'], /--link-octet/],
];

for (const [name, argv, message] of refusals) {
  test(name, (t) => {
    const err = t.throws(() => parseApArgs(argv), { instanceOf: SagError, message });
    t.is((err as SagError).code, 'ERR_SAG_USAGE');
  });
}

test('16 good flags parse, --vpc repeats', (t) => {
  const args = parseApArgs([
    ...BASE,
    '--vpc',
    'vpc-a=ns1',
    '--vpc',
    'vpc-b=ns2',
    '--prefix',
    'hz1',
    '--link-octet',
    '3',
  ])!;
  t.deepEqual(
    [...args.vpcs],
    [
      ['vpc-a', 'ns1'],
      ['vpc-b', 'ns2'],
    ],
  );
  t.is(args.token, 'saga_x');
  t.is(args.listenPort, 51820);
  t.is(args.linkOctet, 3);
});

test('16b a key or token file others may read is warned about (as wg-quick does); 0600 ones are not', (t) => {
  const said: string[] = [];
  const log = (level: string, message: string) => void said.push(`${level}: ${message}`);
  t.truthy(parseApArgs(BASE, undefined, log));
  t.deepEqual(said, []);
  const open = join(dir, 'open-token');
  writeFileSync(open, 'saga_x\n');
  chmodSync(open, 0o644);
  t.truthy(parseApArgs([...BASE.slice(0, 4), '--token-file', open, ...BASE.slice(6)], undefined, log));
  t.deepEqual(said, [`warn: '${open}' is world accessible (mode 0644); chmod go= it`]);
});

test('17 the CLI exits 2 naming its help on a bad flag, 0 with --help', (t) => {
  const sag = join(process.cwd(), 'dist/cli/sag.js');
  const bad = spawnSync(process.execPath, [sag, 'ap', 'run', '--nope', 'x'], { encoding: 'utf8' });
  t.is(bad.status, 2);
  t.regex(bad.stderr, /unknown option --nope/);
  t.regex(bad.stderr, /see 'sag ap run --help'/);
  const help = spawnSync(process.execPath, [sag, 'ap', 'run', '--help'], { encoding: 'utf8' });
  t.is(help.status, 0);
  t.regex(help.stdout, /--vpc VPC_ID=NETNS/);
});

test('18 the policy: default drop, established return traffic, one accept per rule and family, counted denials', (t) => {
  const text = renderPolicy('hzt0', 'hzs0', [
    {
      ccnId: 'ccn-a',
      to: { kind: 'ccn', id: 'ccn-a' },
      reason: 'same-ccn',
      cidrs: ['10.10.0.0/16', '192.168.1.0/24'],
      grantMbps: null,
    },
    {
      ccnId: 'ccn-a',
      to: { kind: 'vpc', id: 'vpc-x' },
      reason: 'granted',
      cidrs: ['172.16.0.0/16', 'fd00::/64'],
      grantMbps: 100,
    },
  ]);
  t.regex(text, /policy drop;/);
  t.regex(text, /ct state established,related accept/);
  t.regex(text, /oifname "hzs0" counter drop comment "denied"/);
  t.regex(
    text,
    /iifname "hzt0" ip daddr \{ 10\.10\.0\.0\/16, 192\.168\.1\.0\/24 \} counter accept comment "ccn-a to ccn ccn-a"/,
  );
  t.regex(text, /iifname "hzt0" ip6 daddr \{ fd00::\/64 \} counter accept comment "ccn-a to vpc vpc-x"/);
  t.true(
    text.indexOf('delete table inet sag') < text.indexOf('table inet sag {'),
    'replaced atomically in one file',
  );
  t.true(text.trimEnd().endsWith('}'));
  const listing =
    'oifname "hzs0" counter packets 3 bytes 252 drop comment "denied"\n counter packets 4 bytes 336 drop comment "denied"';
  t.is(deniedCount(listing), 7);
  t.is(deniedCount(''), 0);
});
