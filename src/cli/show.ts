/**
 * `sag show [IFACE] [--json]`: the state of running sag interfaces (and any wireguard-go ones),
 * read through their userspace API sockets, as a human summary or JSON.
 */
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { SystemError } from '../errors.js';
import { formatCidr, formatIp } from '../net/cidr.js';
import { encodeKey, publicKeyFromPrivate } from '../wg/crypto.js';
import { parseGetReply, UAPI_DIR, uapiSocketPath, type UapiDeviceState } from '../uapi/index.js';

export function listInterfaces(dir = UAPI_DIR): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.sock'))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

export function queryInterface(iface: string): Promise<UapiDeviceState> {
  const path = uapiSocketPath(iface);
  return new Promise((resolve, reject) => {
    const sock = connect(path, () => sock.write('get=1\n\n'));
    let text = '';
    sock.on('data', (d) => {
      text += String(d);
      if (/errno=-?\d+\n\n$/.test(text)) {
        sock.end();
        try {
          resolve(parseGetReply(text));
        } catch (err) {
          reject(err);
        }
      }
    });
    sock.on('error', (cause) =>
      reject(new SystemError(`cannot query ${iface} at ${path}: ${cause.message}`, { cause })),
    );
  });
}

export interface InterfaceJson {
  interface: string;
  publicKey: string | null;
  listenPort: number;
  fwmark: number;
  peers: {
    publicKey: string;
    presharedKey: boolean;
    endpoint: string | null;
    allowedIps: string[];
    latestHandshake: string | null;
    rxBytes: number;
    txBytes: number;
    persistentKeepalive: number;
  }[];
}

export function toJson(iface: string, s: UapiDeviceState): InterfaceJson {
  return {
    interface: iface,
    publicKey: s.privateKey ? encodeKey(publicKeyFromPrivate(s.privateKey)) : null,
    listenPort: s.listenPort,
    fwmark: s.fwmark,
    peers: s.peers.map((p) => ({
      publicKey: encodeKey(p.publicKey),
      presharedKey: p.presharedKey !== undefined,
      endpoint: p.endpoint
        ? `${p.endpoint.address.family === 6 ? `[${formatIp(p.endpoint.address)}]` : formatIp(p.endpoint.address)}:${p.endpoint.port}`
        : null,
      allowedIps: p.allowedIps.map(formatCidr),
      latestHandshake: p.lastHandshakeTimeSec ? new Date(p.lastHandshakeTimeSec * 1000).toISOString() : null,
      rxBytes: Number(p.rxBytes),
      txBytes: Number(p.txBytes),
      persistentKeepalive: p.persistentKeepaliveInterval,
    })),
  };
}

export function toText(iface: string, s: UapiDeviceState, nowMs = Date.now()): string {
  const j = toJson(iface, s);
  const lines = [`interface: ${iface}`];
  if (j.publicKey) lines.push(`  public key: ${j.publicKey}`);
  lines.push(`  listening port: ${j.listenPort}`);
  if (j.fwmark) lines.push(`  fwmark: 0x${j.fwmark.toString(16)}`);
  for (const p of j.peers) {
    lines.push('', `peer: ${p.publicKey}`);
    if (p.presharedKey) lines.push('  preshared key: (hidden)');
    if (p.endpoint) lines.push(`  endpoint: ${p.endpoint}`);
    lines.push(`  allowed ips: ${p.allowedIps.join(', ') || '(none)'}`);
    if (p.latestHandshake)
      lines.push(
        `  latest handshake: ${Math.max(0, Math.round((nowMs - Date.parse(p.latestHandshake)) / 1000))} seconds ago`,
      );
    if (p.rxBytes || p.txBytes) lines.push(`  transfer: ${p.rxBytes} B received, ${p.txBytes} B sent`);
    if (p.persistentKeepalive) lines.push(`  persistent keepalive: every ${p.persistentKeepalive} seconds`);
  }
  return `${lines.join('\n')}\n`;
}
