/**
 * `get=1` replies: print a device state exactly as wireguard-go does, and read one back (what wg(8)
 * does as a client; used by tests and by anything that talks to another userspace daemon).
 *
 * Line order, from wireguard-go device/uapi.go IpcGetOperation and checked against Debian's
 * wireguard-go 0.0.20220316: private_key (only if set), listen_port (only if non-zero), fwmark (only
 * if non-zero); then per peer public_key, preshared_key (64 zeros when none), protocol_version=1,
 * endpoint (only if known), last_handshake_time_sec, last_handshake_time_nsec, tx_bytes, rx_bytes,
 * persistent_keepalive_interval, one allowed_ip per prefix; then "errno=0" and an empty line.
 */
import { Errno, UapiError } from './errors.js';
import { formatHexKey, isZeroKey, parseHexKey } from './keys.js';
import {
  formatGoEndpoint,
  formatGoPrefix,
  parseDecimal,
  parseUapiEndpoint,
  parseUapiPrefix,
  quote,
} from './text.js';
import type { MutableUapiPeer, UapiDeviceState, UapiPeerState } from './types.js';

const ZERO_KEY_HEX = '0'.repeat(64);
const U64_MAX = (1n << 64n) - 1n;

export function formatGetReply(device: UapiDeviceState): string {
  const out: string[] = [];
  if (device.privateKey && !isZeroKey(device.privateKey))
    out.push(`private_key=${formatHexKey(device.privateKey)}`);
  if (device.listenPort !== 0) out.push(`listen_port=${device.listenPort}`);
  if (device.fwmark !== 0) out.push(`fwmark=${device.fwmark}`);
  for (const peer of device.peers) {
    out.push(`public_key=${formatHexKey(peer.publicKey)}`);
    out.push(`preshared_key=${peer.presharedKey ? formatHexKey(peer.presharedKey) : ZERO_KEY_HEX}`);
    out.push('protocol_version=1');
    if (peer.endpoint) out.push(`endpoint=${formatGoEndpoint(peer.endpoint)}`);
    out.push(`last_handshake_time_sec=${peer.lastHandshakeTimeSec}`);
    out.push(`last_handshake_time_nsec=${peer.lastHandshakeTimeNsec}`);
    out.push(`tx_bytes=${peer.txBytes}`);
    out.push(`rx_bytes=${peer.rxBytes}`);
    out.push(`persistent_keepalive_interval=${peer.persistentKeepaliveInterval}`);
    for (const cidr of peer.allowedIps) out.push(`allowed_ip=${formatGoPrefix(cidr)}`);
  }
  out.push('errno=0');
  return `${out.join('\n')}\n\n`;
}

/**
 * The status reply. `errno` is the positive errno.h value (0 for success); it goes on the wire
 * negated, "errno=-22", because that is what wireguard-go sends and what wg(8) turns back into
 * "Invalid argument".
 */
export function formatErrorReply(errno: number): string {
  if (!Number.isInteger(errno) || errno < 0)
    throw new RangeError(`errno must be a non-negative integer, got ${errno}`);
  return errno === 0 ? 'errno=0\n\n' : `errno=-${errno}\n\n`;
}

type PeerBuilder = MutableUapiPeer;

/**
 * Reads a get reply up to its empty line. Unknown keys are skipped, as wg(8) does, so replies from
 * daemons with extra keys still read. A non-zero errno throws UapiError with that errno; a reply
 * that is malformed or has no errno line throws with EPROTO.
 */
export function parseGetReply(text: string): UapiDeviceState {
  let privateKey: Uint8Array | undefined;
  let listenPort = 0;
  let fwmark = 0;
  const peers: PeerBuilder[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    const bad = (what: string): never => {
      throw new UapiError(Errno.EPROTO, `get reply line ${i + 1}: ${what}`);
    };
    const eq = line.indexOf('=');
    if (eq < 0) bad(`no '=' in ${quote(line)}`);
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    const num = (max: number): number =>
      parseDecimal(value, max) ?? bad(`${key} ${quote(value)} is not an integer 0..${max}`);
    const key32 = (): Uint8Array => parseHexKey(value) ?? bad(`${key} is not 64 hexadecimal digits`);
    if (key === 'errno') {
      const errno = /^-?[0-9]{1,10}$/.test(value)
        ? Math.abs(Number(value))
        : bad(`errno ${quote(value)} is not an integer`);
      if (errno !== 0) throw new UapiError(errno, `the daemon answered errno=${value}`);
      return { ...(privateKey ? { privateKey } : {}), listenPort, fwmark, peers: peers.map(freezePeer) };
    }
    if (key === 'private_key') {
      const k = key32();
      privateKey = isZeroKey(k) ? undefined : k;
    } else if (key === 'listen_port') listenPort = num(0xffff);
    else if (key === 'fwmark') fwmark = num(0xffffffff);
    else if (key === 'public_key') {
      peers.push({
        publicKey: key32(),
        lastHandshakeTimeSec: 0,
        lastHandshakeTimeNsec: 0,
        txBytes: 0n,
        rxBytes: 0n,
        persistentKeepaliveInterval: 0,
        allowedIps: [],
      });
    } else {
      const peer = peers[peers.length - 1];
      if (!peer) continue; // unknown interface key (another daemon's extension): skipped
      if (key === 'preshared_key') {
        const k = key32();
        if (isZeroKey(k)) delete peer.presharedKey;
        else peer.presharedKey = k;
      } else if (key === 'endpoint') {
        const endpoint = parseUapiEndpoint(value);
        if (typeof endpoint === 'string') bad(`endpoint ${quote(value)}: ${endpoint}`);
        else peer.endpoint = endpoint;
      } else if (key === 'last_handshake_time_sec') peer.lastHandshakeTimeSec = num(Number.MAX_SAFE_INTEGER);
      else if (key === 'last_handshake_time_nsec') peer.lastHandshakeTimeNsec = num(999_999_999);
      else if (key === 'tx_bytes')
        peer.txBytes = u64(value) ?? bad(`tx_bytes ${quote(value)} is not a 64-bit count`);
      else if (key === 'rx_bytes')
        peer.rxBytes = u64(value) ?? bad(`rx_bytes ${quote(value)} is not a 64-bit count`);
      else if (key === 'persistent_keepalive_interval') peer.persistentKeepaliveInterval = num(0xffff);
      else if (key === 'allowed_ip') {
        const cidr = parseUapiPrefix(value);
        if (typeof cidr === 'string') bad(`allowed_ip ${quote(value)}: ${cidr}`);
        else peer.allowedIps.push(cidr);
      } else if (key === 'protocol_version') {
        if (value !== '1') bad(`protocol_version ${quote(value)} is not 1`);
      }
      // other peer keys: another daemon's extension, skipped
    }
  }
  throw new UapiError(Errno.EPROTO, 'get reply ended without an errno line');
}

function u64(text: string): bigint | undefined {
  if (!/^[0-9]{1,20}$/.test(text)) return undefined;
  const n = BigInt(text);
  return n <= U64_MAX ? n : undefined;
}

function freezePeer(p: PeerBuilder): UapiPeerState {
  return { ...p, allowedIps: [...p.allowedIps] };
}
