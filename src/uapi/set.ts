/**
 * `set=1` requests: parse into a validated UapiSetCommand, and print one back (for clients and tests).
 *
 * Key handling follows wireguard-go's device/uapi.go IpcSetOperation: keys are case-sensitive;
 * interface keys come first and the first `public_key=` switches to peer keys for the rest of the
 * request, so a peer key before any public_key, or an interface key after one, is an unknown key.
 * wireguard-go answers EINVAL for any unknown key or bad value and EPROTO only for a line without '='.
 *
 * Unlike wireguard-go, which applies each line as it reads it and so leaves earlier lines applied
 * when a later one fails, the whole request is validated before anything is returned: a request
 * is applied entirely or not at all.
 */
import type { Endpoint } from '../net/cidr.js';
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
import type { AllowedIpOp, UapiPeerChange, UapiSetCommand } from './types.js';

const SET_LINE = 'set=1\n';
const ZERO_KEY_HEX = '0'.repeat(64);

interface PeerBuilder {
  publicKey: Uint8Array;
  remove: boolean;
  updateOnly: boolean;
  presharedKey?: Uint8Array | null;
  endpoint?: Endpoint;
  persistentKeepaliveInterval?: number;
  allowedIps: AllowedIpOp[];
}

interface InterfaceBuilder {
  privateKey?: Uint8Array | null;
  listenPort?: number;
  fwmark?: number;
  replacePeers: boolean;
}

/**
 * Parses one complete request as the framer delivers it: "set=1\n", key=value lines, an empty line.
 * A request that ends without the empty line is accepted (wireguard-go treats end of input the same
 * way); text after the empty line is refused, since it would belong to another request.
 * Throws UapiError with the errno wireguard-go would answer.
 */
export function parseSetRequest(text: string): UapiSetCommand {
  if (!text.startsWith(SET_LINE)) throw new UapiError(Errno.EPROTO, 'request does not start with "set=1"');
  const lines = text.slice(SET_LINE.length).split('\n');
  // The final '\n' leaves an empty element that is not a line of its own.
  if (lines[lines.length - 1] === '') lines.pop();
  const iface: InterfaceBuilder = { replacePeers: false };
  const peers: PeerBuilder[] = [];
  for (let i = 0; i < lines.length; i++) {
    // Go's bufio.ScanLines drops one '\r' before each '\n'; so do we.
    const line = stripCr(lines[i]!);
    const lineNo = i + 2; // the set=1 line is line 1
    if (line === '') {
      if (i !== lines.length - 1)
        throw new UapiError(Errno.EPROTO, `line ${lineNo + 1}: data after the request's closing empty line`);
      break;
    }
    const eq = line.indexOf('=');
    if (eq < 0)
      throw new UapiError(Errno.EPROTO, `line ${lineNo}: failed to parse line ${quote(line)}: no '='`);
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    const fail = (what: string): never => {
      throw new UapiError(Errno.EINVAL, `line ${lineNo}: ${what}`);
    };
    if (key === 'public_key') {
      const publicKey = parseHexKey(value) ?? fail(`public_key ${quote(value)} is not 64 hexadecimal digits`);
      peers.push({ publicKey, remove: false, updateOnly: false, allowedIps: [] });
      continue;
    }
    const peer = peers[peers.length - 1];
    if (peer) parsePeerLine(peer, key, value, fail);
    else parseInterfaceLine(iface, key, value, fail);
  }
  return { interface: { ...iface }, peers: peers.map((p) => ({ ...p, allowedIps: [...p.allowedIps] })) };
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

type Fail = (what: string) => never;

function parseInterfaceLine(iface: InterfaceBuilder, key: string, value: string, fail: Fail): void {
  switch (key) {
    case 'private_key': {
      const k = parseHexKey(value) ?? fail(`private_key is not 64 hexadecimal digits`);
      iface.privateKey = isZeroKey(k) ? null : k;
      return;
    }
    case 'listen_port':
      iface.listenPort =
        parseDecimal(value, 0xffff) ?? fail(`listen_port ${quote(value)} is not an integer 0..65535`);
      return;
    case 'fwmark':
      iface.fwmark =
        parseDecimal(value, 0xffffffff) ?? fail(`fwmark ${quote(value)} is not an integer 0..4294967295`);
      return;
    case 'replace_peers':
      iface.replacePeers = parseTrue(key, value, fail);
      return;
    default:
      fail(
        `invalid UAPI device key ${quote(key)}${PEER_KEYS.has(key) ? ' (peer keys must follow a public_key line)' : ''}`,
      );
  }
}

const PEER_KEYS = new Set([
  'remove',
  'update_only',
  'preshared_key',
  'endpoint',
  'persistent_keepalive_interval',
  'replace_allowed_ips',
  'allowed_ip',
  'protocol_version',
]);
const INTERFACE_KEYS = new Set(['private_key', 'listen_port', 'fwmark', 'replace_peers']);

function parsePeerLine(peer: PeerBuilder, key: string, value: string, fail: Fail): void {
  switch (key) {
    case 'remove':
      peer.remove = parseTrue(key, value, fail);
      return;
    case 'update_only':
      peer.updateOnly = parseTrue(key, value, fail);
      return;
    case 'preshared_key': {
      const k = parseHexKey(value) ?? fail(`preshared_key is not 64 hexadecimal digits`);
      peer.presharedKey = isZeroKey(k) ? null : k;
      return;
    }
    case 'endpoint': {
      const endpoint = parseUapiEndpoint(value);
      if (typeof endpoint === 'string') fail(`endpoint ${quote(value)}: ${endpoint}`);
      else peer.endpoint = endpoint;
      return;
    }
    case 'persistent_keepalive_interval':
      peer.persistentKeepaliveInterval =
        parseDecimal(value, 0xffff) ??
        fail(`persistent_keepalive_interval ${quote(value)} is not an integer 0..65535`);
      return;
    case 'replace_allowed_ips':
      parseTrue(key, value, fail);
      peer.allowedIps.push({ op: 'replace' });
      return;
    case 'allowed_ip': {
      const remove = value.startsWith('-');
      const cidr = parseUapiPrefix(remove ? value.slice(1) : value);
      if (typeof cidr === 'string') fail(`allowed_ip ${quote(value)}: ${cidr}`);
      else peer.allowedIps.push(remove ? { op: 'remove', cidr } : { op: 'add', cidr });
      return;
    }
    case 'protocol_version':
      if (value !== '1') fail(`invalid protocol version ${quote(value)} (only 1 exists)`);
      return;
    default:
      fail(
        `invalid UAPI peer key ${quote(key)}${INTERFACE_KEYS.has(key) ? ' (interface keys must come before the first public_key)' : ''}`,
      );
  }
}

/** wireguard-go accepts exactly "true" for its flag keys; "false" is an error, not a no-op. */
function parseTrue(key: string, value: string, fail: Fail): true {
  if (value !== 'true') fail(`${key} must be "true", got ${quote(value)}`);
  return true;
}

/**
 * Prints a command as a request that parseSetRequest reads back to an equal command. Within a peer
 * section the flags come first, then the settings, then the allowed-IPs steps in order.
 */
export function formatSetRequest(command: UapiSetCommand): string {
  const out: string[] = ['set=1'];
  const iface = command.interface;
  if (iface.privateKey !== undefined)
    out.push(`private_key=${iface.privateKey ? formatHexKey(iface.privateKey) : ZERO_KEY_HEX}`);
  if (iface.listenPort !== undefined) out.push(`listen_port=${iface.listenPort}`);
  if (iface.fwmark !== undefined) out.push(`fwmark=${iface.fwmark}`);
  if (iface.replacePeers) out.push('replace_peers=true');
  for (const peer of command.peers) out.push(...peerLines(peer));
  return `${out.join('\n')}\n\n`;
}

function peerLines(peer: UapiPeerChange): string[] {
  const out = [`public_key=${formatHexKey(peer.publicKey)}`];
  if (peer.updateOnly) out.push('update_only=true');
  if (peer.remove) out.push('remove=true');
  if (peer.presharedKey !== undefined)
    out.push(`preshared_key=${peer.presharedKey ? formatHexKey(peer.presharedKey) : ZERO_KEY_HEX}`);
  if (peer.endpoint) out.push(`endpoint=${formatGoEndpoint(peer.endpoint)}`);
  if (peer.persistentKeepaliveInterval !== undefined)
    out.push(`persistent_keepalive_interval=${peer.persistentKeepaliveInterval}`);
  for (const step of peer.allowedIps) out.push(allowedIpLine(step));
  return out;
}

function allowedIpLine(step: AllowedIpOp): string {
  if (step.op === 'replace') return 'replace_allowed_ips=true';
  const text = formatGoPrefix(step.cidr);
  return step.op === 'remove' ? `allowed_ip=-${text}` : `allowed_ip=${text}`;
}
