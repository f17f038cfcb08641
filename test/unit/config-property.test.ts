/**
 * Seeded random round trips (mulberry32; a failure names its seed):
 * - config -> formatConfig -> parseConfig gives the config back;
 * - the same file written untidily (random key case, spacing, comments, blank lines, CRLF, lists
 *   split over repeated lines) parses to the same config, as wg-quick would read it.
 */
import test from 'ava';
import { MAX_MTU, MIN_MTU } from '../../src/native/facts.generated.js';
import { formatCidr, formatIp, type Cidr, type IpAddress } from '../../src/net/cidr.js';
import {
  formatConfig,
  parseConfig,
  type ConfigEndpoint,
  type ConfigInterface,
  type ConfigPeer,
} from '../../src/config/index.js';
import { mulberry32, int, chance, pick, bigBits, type Rng } from '../support/random.js';

const many = <T>(r: Rng, max: number, f: () => T): T[] => Array.from({ length: int(r, 0, max) }, f);
/** A key whose base64 is canonical (any 32 bytes are). */
const key = (r: Rng): Uint8Array => Uint8Array.from({ length: 32 }, () => int(r, 0, 255));
const ip = (r: Rng): IpAddress =>
  chance(r, 0.5) ? { family: 4, value: bigBits(r, 32) } : { family: 6, value: bigBits(r, 128) };
function cidr(r: Rng): Cidr {
  const a = ip(r);
  const width = a.family === 4 ? 32 : 128;
  const prefix = int(r, 0, width);
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - prefix)) - 1n);
  return { family: a.family, network: a.value & mask, prefix };
}
const LABELS = ['vpn', 'corp', 'example', 'a1', 'x-y', 'gw2', 'com', 'net'];
const hostname = (r: Rng): string =>
  [...many(r, 2, () => pick(r, LABELS)), pick(r, LABELS), pick(r, ['com', 'org', 'io'])].join('.');
const HOOKS = [
  'echo hi',
  'iptables -A FORWARD -i %i -j ACCEPT',
  'ip rule add fwmark 7 table 7',
  'printf "a=b"',
  'true',
];

function endpoint(r: Rng): ConfigEndpoint {
  if (chance(r, 0.3)) return { host: hostname(r), port: int(r, 1, 65535), needsResolution: true };
  const address = ip(r);
  return { host: formatIp(address), port: int(r, 1, 65535), address, needsResolution: false };
}

function randomConfig(r: Rng): { interface: ConfigInterface; peers: ConfigPeer[] } {
  const used = new Set<string>();
  const peers: ConfigPeer[] = many(r, 4, () => ({
    line: 0,
    publicKey: key(r),
    ...(chance(r, 0.4) ? { presharedKey: key(r) } : {}),
    allowedIps: many(r, 5, () => cidr(r)).filter(
      (c) => !used.has(formatCidr(c)) && !!used.add(formatCidr(c)),
    ),
    ...(chance(r, 0.6) ? { endpoint: endpoint(r) } : {}),
    ...(chance(r, 0.5) ? { persistentKeepalive: int(r, 0, 65535) } : {}),
  }));
  const iface: ConfigInterface = {
    ...(chance(r, 0.9) ? { privateKey: key(r) } : {}),
    ...(chance(r, 0.6) ? { listenPort: int(r, 0, 65535) } : {}),
    ...(chance(r, 0.3) ? { fwMark: int(r, 0, 0xffffffff) } : {}),
    addresses: many(r, 3, () => {
      const a = ip(r);
      return { address: a, prefix: int(r, 0, a.family === 4 ? 32 : 128) };
    }),
    ...(chance(r, 0.4) ? { mtu: int(r, MIN_MTU, MAX_MTU) } : {}),
    dns: many(r, 3, () => ip(r)),
    dnsSearch: many(r, 2, () => hostname(r)),
    ...(chance(r, 0.3) ? { table: pick(r, ['off', 'auto', '1234', 'main']) } : {}),
    preUp: many(r, 2, () => pick(r, HOOKS)),
    postUp: many(r, 2, () => pick(r, HOOKS)),
    preDown: many(r, 2, () => pick(r, HOOKS)),
    postDown: many(r, 2, () => pick(r, HOOKS)),
    saveConfig: chance(r, 0.3),
  };
  return { interface: iface, peers };
}

const withoutLines = (peers: readonly ConfigPeer[]): Omit<ConfigPeer, 'line'>[] =>
  peers.map(({ line: _line, ...p }) => p);

test('config -> formatConfig -> parseConfig is the identity (400 seeds)', (t) => {
  for (let seed = 1; seed <= 400; seed++) {
    const config = randomConfig(mulberry32(seed));
    const parsed = parseConfig(formatConfig(config), 'rt.conf');
    t.deepEqual(parsed.interface, config.interface, `seed ${seed}`);
    t.deepEqual(withoutLines(parsed.peers), withoutLines(config.peers), `seed ${seed}`);
    t.deepEqual(parsed.warnings, [], `seed ${seed}`);
  }
});

/** Rewrites a formatted file the way people write them; wg-quick reads both the same. */
function untidy(r: Rng, text: string): string {
  const out: string[] = [];
  const cased = (s: string): string =>
    [...s]
      .map((ch) => (chance(r, 0.3) ? (chance(r, 0.5) ? ch.toUpperCase() : ch.toLowerCase()) : ch))
      .join('');
  const pad = (): string => pick(r, ['', ' ', '  ', '\t']);
  for (const line of text.split('\n')) {
    if (chance(r, 0.1)) out.push(pick(r, ['', '# a comment', '   ', '\t# indented comment']));
    if (line === '' || line.startsWith('[')) {
      out.push(
        line.startsWith('[') ? `${pad()}${cased(line)}${pad()}${chance(r, 0.3) ? ' # section' : ''}` : line,
      );
      continue;
    }
    const eq = line.indexOf(' = ');
    const k = line.slice(0, eq);
    let v = line.slice(eq + 3);
    // Lists may be split over repeated lines; AllowedIPs and Address/DNS entries keep their order.
    if ((k === 'AllowedIPs' || k === 'Address' || k === 'DNS') && v.includes(', ') && chance(r, 0.5)) {
      for (const item of v.split(', ')) out.push(`${pad()}${cased(k)}${pad()}=${pad()}${item}${pad()}`);
      continue;
    }
    if (k === 'AllowedIPs') v = v.split(', ').join(pick(r, [',', ', ', ' , ']));
    // A trailing comment is fine anywhere, after a hook too (wg-quick cuts it off the command).
    const comment = chance(r, 0.3) ? ` # note` : '';
    out.push(`${pad()}${cased(k)}${pad()}=${pad()}${v}${pad()}${comment}`);
  }
  return out.join(chance(r, 0.3) ? '\r\n' : '\n');
}

test('an untidy rewrite of the same file parses to the same config (400 seeds)', (t) => {
  for (let seed = 1; seed <= 400; seed++) {
    const r = mulberry32(seed);
    const config = randomConfig(r);
    const text = untidy(r, formatConfig(config));
    const parsed = parseConfig(text, 'untidy.conf');
    t.deepEqual(parsed.interface, config.interface, `seed ${seed}\n${text}`);
    t.deepEqual(withoutLines(parsed.peers), withoutLines(config.peers), `seed ${seed}\n${text}`);
  }
});
