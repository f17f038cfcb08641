/**
 * Prints a configuration back as a wg-quick file (what `wg showconf` plus wg-quick's save_config
 * write): [Interface] with Address, DNS, MTU, Table, SaveConfig, the hooks, then ListenPort, FwMark,
 * PrivateKey; then one [Peer] per peer with PublicKey, PresharedKey, AllowedIPs, Endpoint,
 * PersistentKeepalive; sag's multipath keys and [Uplink] / [Class] sections when present.
 * parseConfig reads the output back to an equal configuration.
 */
import { InvalidArgumentError } from '../errors.js';
import { formatCidr, formatIp } from '../net/cidr.js';
import { formatBase64Key } from '../uapi/keys.js';
import { classLines, tuningLines, uplinkLines } from './multipath-format.js';
import type { ConfigEndpoint, ConfigInterface, ConfigPeer, WgQuickConfig } from './types.js';

export function formatConfig(
  config: Pick<WgQuickConfig, 'interface' | 'peers'> &
    Partial<Pick<WgQuickConfig, 'uplinks' | 'classes' | 'pathTuning'>>,
): string {
  const sections = [
    [...interfaceLines(config.interface), ...tuningLines(config.pathTuning)],
    ...(config.uplinks ?? []).map(uplinkLines),
    ...(config.classes ?? []).map(classLines),
    ...config.peers.map(peerLines),
  ];
  return sections.map((lines) => `${lines.join('\n')}\n`).join('\n');
}

function interfaceLines(iface: ConfigInterface): string[] {
  const out = ['[Interface]'];
  for (const a of iface.addresses) out.push(`Address = ${formatIp(a.address)}/${a.prefix}`);
  for (const d of iface.dns) out.push(`DNS = ${formatIp(d)}`);
  for (const s of iface.dnsSearch) out.push(`DNS = ${s}`);
  if (iface.mtu !== undefined) out.push(`MTU = ${iface.mtu}`);
  if (iface.table !== undefined) out.push(`Table = ${iface.table}`);
  if (iface.saveConfig) out.push('SaveConfig = true');
  const hooks: [string, readonly string[]][] = [
    ['PreUp', iface.preUp],
    ['PostUp', iface.postUp],
    ['PreDown', iface.preDown],
    ['PostDown', iface.postDown],
  ];
  for (const [name, commands] of hooks) {
    for (const c of commands) {
      // A newline would end the line early and turn the rest of the command into config lines.
      if (/[\r\n]/.test(c))
        throw new InvalidArgumentError(`${name} command contains a line break: ${JSON.stringify(c)}`);
      out.push(`${name} = ${c}`);
    }
  }
  if (iface.listenPort !== undefined) out.push(`ListenPort = ${iface.listenPort}`);
  if (iface.fwMark !== undefined)
    out.push(`FwMark = ${iface.fwMark === 0 ? 'off' : `0x${iface.fwMark.toString(16)}`}`);
  if (iface.privateKey) out.push(`PrivateKey = ${formatBase64Key(iface.privateKey)}`);
  return out;
}

function peerLines(peer: ConfigPeer): string[] {
  const out = ['[Peer]', `PublicKey = ${formatBase64Key(peer.publicKey)}`];
  if (peer.presharedKey) out.push(`PresharedKey = ${formatBase64Key(peer.presharedKey)}`);
  if (peer.allowedIps.length > 0) out.push(`AllowedIPs = ${peer.allowedIps.map(formatCidr).join(', ')}`);
  if (peer.endpoints)
    out.push(
      `Endpoint = ${peer.endpoints.map((e) => formatEndpoint(e) + (e.uplink ? `@${e.uplink}` : '')).join(', ')}`,
    );
  else if (peer.endpoint) out.push(`Endpoint = ${formatEndpoint(peer.endpoint)}`);
  if (peer.persistentKeepalive !== undefined) {
    out.push(`PersistentKeepalive = ${peer.persistentKeepalive === 0 ? 'off' : peer.persistentKeepalive}`);
  }
  return out;
}

function formatEndpoint(endpoint: ConfigEndpoint): string {
  const host = endpoint.address ? formatIp(endpoint.address) : endpoint.host;
  return endpoint.address?.family === 6 ? `[${host}]:${endpoint.port}` : `${host}:${endpoint.port}`;
}
