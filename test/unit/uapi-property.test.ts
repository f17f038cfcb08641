/**
 * Seeded random round trips (mulberry32; a failure names its seed, rerun with that seed to debug):
 * - device state -> get reply -> parseGetReply gives the state back;
 * - the get reply minus its read-only lines, sent as a set request to an empty device, rebuilds the
 *   configuration (what `wg showconf | wg setconf` relies on);
 * - set command -> formatSetRequest -> parseSetRequest gives the command back;
 * - random junk lines never make the parser throw anything but a UapiError.
 */
import test from 'ava';
import type { Cidr, Endpoint, IpAddress } from '../../src/net/cidr.js';
import {
  applySetCommand,
  emptyDevice,
  formatGetReply,
  formatSetRequest,
  parseGetReply,
  parseSetRequest,
  UapiError,
  type AllowedIpOp,
  type UapiDeviceState,
  type UapiPeerChange,
  type UapiPeerState,
  type UapiSetCommand,
} from '../../src/uapi/index.js';
import { clampPrivateKey } from '../../src/wg/crypto.js';
import { mulberry32, int, chance, pick, bytes, bigBits, type Rng } from '../support/random.js';

function randomIp(r: Rng): IpAddress {
  const v6 = chance(r, 0.4);
  // Some IPv6 addresses are IPv4-mapped, which Go prints with a dotted tail.
  if (v6 && chance(r, 0.2)) return { family: 6, value: (0xffffn << 32n) | bigBits(r, 32) };
  return v6 ? { family: 6, value: bigBits(r, 128) } : { family: 4, value: bigBits(r, 32) };
}
function randomCidr(r: Rng): Cidr {
  const ip = randomIp(r);
  const width = ip.family === 4 ? 32 : 128;
  const prefix = int(r, 0, width);
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - prefix)) - 1n);
  return { family: ip.family, network: ip.value & mask, prefix };
}
const randomEndpoint = (r: Rng): Endpoint => ({ address: randomIp(r), port: int(r, 0, 65535) });
const cidrKey = (c: Cidr): string => `${c.family}/${c.network}/${c.prefix}`;

function randomDevice(r: Rng): UapiDeviceState {
  const used = new Set<string>();
  const peers: UapiPeerState[] = Array.from({ length: int(r, 0, 5) }, () => {
    const allowedIps: Cidr[] = [];
    for (let i = int(r, 0, 6); i > 0; i--) {
      const c = randomCidr(r);
      if (!used.has(cidrKey(c))) {
        used.add(cidrKey(c));
        allowedIps.push(c);
      }
    }
    return {
      publicKey: bytes(r, 32),
      ...(chance(r, 0.5) ? { presharedKey: bytes(r, 32) } : {}),
      ...(chance(r, 0.7) ? { endpoint: randomEndpoint(r) } : {}),
      lastHandshakeTimeSec: chance(r, 0.5) ? int(r, 1, 2 ** 40) : 0,
      lastHandshakeTimeNsec: int(r, 0, 999_999_999),
      txBytes: bigBits(r, 64),
      rxBytes: bigBits(r, int(r, 1, 64)),
      persistentKeepaliveInterval: chance(r, 0.5) ? int(r, 1, 65535) : 0,
      allowedIps,
    };
  });
  return {
    ...(chance(r, 0.8) ? { privateKey: clampPrivateKey(bytes(r, 32)) } : {}),
    listenPort: chance(r, 0.8) ? int(r, 1, 65535) : 0,
    fwmark: chance(r, 0.3) ? int(r, 1, 0xffffffff) : 0,
    peers,
  };
}

/** The configuration part of a device: what a set request can carry. */
function configOnly(d: UapiDeviceState): UapiDeviceState {
  return {
    ...d,
    peers: d.peers.map((p) => ({
      ...p,
      lastHandshakeTimeSec: 0,
      lastHandshakeTimeNsec: 0,
      txBytes: 0n,
      rxBytes: 0n,
    })),
  };
}

const READ_ONLY =
  /^(protocol_version|last_handshake_time_sec|last_handshake_time_nsec|tx_bytes|rx_bytes|errno)=/;

test('device state -> get reply -> parseGetReply is the identity (500 seeds)', (t) => {
  for (let seed = 1; seed <= 500; seed++) {
    const device = randomDevice(mulberry32(seed));
    t.deepEqual(parseGetReply(formatGetReply(device)), device, `seed ${seed}`);
  }
});

test('get reply without read-only lines, sent as set=1 to an empty device, rebuilds the config (500 seeds)', (t) => {
  for (let seed = 1; seed <= 500; seed++) {
    const device = randomDevice(mulberry32(seed));
    const lines = formatGetReply(device)
      .split('\n')
      .filter((l) => l !== '' && !READ_ONLY.test(l));
    const request = `set=1\n${lines.map((l) => `${l}\n`).join('')}\n`;
    t.deepEqual(applySetCommand(emptyDevice(), parseSetRequest(request)), configOnly(device), `seed ${seed}`);
  }
});

function randomCommand(r: Rng): UapiSetCommand {
  const peers: UapiPeerChange[] = Array.from({ length: int(r, 0, 4) }, () => {
    const allowedIps: AllowedIpOp[] = Array.from({ length: int(r, 0, 5) }, (): AllowedIpOp => {
      const k = r();
      return k < 0.15
        ? { op: 'replace' }
        : k < 0.3
          ? { op: 'remove', cidr: randomCidr(r) }
          : { op: 'add', cidr: randomCidr(r) };
    });
    return {
      publicKey: bytes(r, 32),
      remove: chance(r, 0.1),
      updateOnly: chance(r, 0.2),
      ...(chance(r, 0.4) ? { presharedKey: chance(r, 0.3) ? null : bytes(r, 32) } : {}),
      ...(chance(r, 0.5) ? { endpoint: randomEndpoint(r) } : {}),
      ...(chance(r, 0.4) ? { persistentKeepaliveInterval: int(r, 0, 65535) } : {}),
      allowedIps,
    };
  });
  return {
    interface: {
      ...(chance(r, 0.4) ? { privateKey: chance(r, 0.2) ? null : bytes(r, 32) } : {}),
      ...(chance(r, 0.5) ? { listenPort: int(r, 0, 65535) } : {}),
      ...(chance(r, 0.3) ? { fwmark: int(r, 0, 0xffffffff) } : {}),
      replacePeers: chance(r, 0.3),
    },
    peers,
  };
}

test('set command -> formatSetRequest -> parseSetRequest is the identity (500 seeds)', (t) => {
  for (let seed = 1; seed <= 500; seed++) {
    const cmd = randomCommand(mulberry32(seed));
    // A random 32-byte key is all zero with negligible probability; zero would read back as null.
    t.deepEqual(parseSetRequest(formatSetRequest(cmd)), cmd, `seed ${seed}`);
  }
});

const JUNK_KEYS = [
  'private_key',
  'listen_port',
  'fwmark',
  'replace_peers',
  'public_key',
  'remove',
  'update_only',
  'preshared_key',
  'endpoint',
  'persistent_keepalive_interval',
  'replace_allowed_ips',
  'allowed_ip',
  'protocol_version',
  'x',
  '',
];
const JUNK_VALUES = [
  'true',
  '1',
  '0',
  '65536',
  '-1',
  '00'.repeat(32),
  'zz',
  '1.2.3.4:5',
  '[::1]:0',
  '10.0.0.0/8',
  '-::/0',
  '',
  '=',
  '\u00e9',
  '9'.repeat(30),
];

test('random junk never throws anything but a UapiError with EINVAL or EPROTO (2000 seeds)', (t) => {
  for (let seed = 1; seed <= 2000; seed++) {
    const r = mulberry32(seed);
    const lines = Array.from({ length: int(r, 0, 8) }, () =>
      chance(r, 0.1)
        ? pick(r, JUNK_VALUES)
        : `${pick(r, JUNK_KEYS)}=${chance(r, 0.5) ? pick(r, JUNK_VALUES) : String.fromCharCode(...bytes(r, int(r, 0, 6)))}`,
    );
    const text = `set=1\n${lines.map((l) => `${l.replace(/\n/g, '')}\n`).join('')}\n`;
    try {
      parseSetRequest(text);
    } catch (err) {
      if (!(err instanceof UapiError) || ![22, 71].includes(err.errno)) {
        t.fail(`seed ${seed}: ${String(err)}`);
        return;
      }
    }
  }
  t.pass();
});
