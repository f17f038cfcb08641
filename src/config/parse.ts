/**
 * wg-quick configuration files, read the way `wg-quick up` reads them: wg-quick itself takes Address,
 * MTU, DNS, Table, PreUp/PostUp/PreDown/PostDown and SaveConfig out of [Interface] and hands every
 * other line to wg(8). So the two tools' rules apply side by side:
 *
 * - Both: '#' starts a comment (in hook commands too: wg-quick cuts the line at the first '#'), keys and section names are case-insensitive, blank
 *   lines are skipped, a line before any section is an error.
 * - wg-quick keys: the value is trimmed; Address and DNS split on commas and spaces and accumulate
 *   over repeated lines; MTU, Table and SaveConfig take the last value; an empty MTU or Table resets
 *   it. Hook values are kept as commands, verbatim after the comment is cut.
 * - wg keys (PrivateKey, ListenPort, FwMark; PublicKey, PresharedKey, AllowedIPs, Endpoint,
 *   PersistentKeepalive): wg(8) deletes all white space from the line, so "Allowed IPs = a, b" is
 *   fine; an empty value is an error; repeated keys take the last value except AllowedIPs, which
 *   accumulates.
 * - A second [Interface] merges into the first. Each [Peer] is one peer; two with the same PublicKey
 *   are applied in turn by wg(8), so here they merge: later values win and, since wg sends every
 *   peer with replace-allowed-ips, the later section's AllowedIPs replace the earlier ones.
 * Things wg-quick accepts that are likely mistakes (repeats, masked host bits, a prefix given to two
 * peers) come back as warnings; everything else wrong is a ConfigError naming file and line.
 */
import { formatCidr, type Cidr } from '../net/cidr.js';
import { formatBase64Key } from '../uapi/keys.js';
import { ConfigError } from './errors.js';
import type {
  ConfigEndpoint,
  ConfigInterface,
  ConfigPeer,
  ConfigWarning,
  InterfaceAddress,
  WgQuickConfig,
} from './types.js';
import {
  parseAddresses,
  parseAllowedIps,
  parseBool,
  parseConfigEndpoint,
  parseDns,
  parseFwMark,
  parseKey,
  parseListenPort,
  parseMtu,
  parsePersistentKeepalive,
  parseTable,
  type Fail,
} from './values.js';
import type { IpAddress } from '../net/cidr.js';
import {
  CLASS_KEYS,
  finishClass,
  finishUplink,
  INTERFACE_PATH_KEYS,
  parseEndpointList,
  setClassKey,
  setPathKey,
  setUplinkKey,
  UPLINK_KEYS,
  type ClassBuilder,
  type UplinkBuilder,
} from './multipath.js';
import type { PathTuning } from './types.js';

const WG_QUICK_KEYS: Record<string, string> = {
  address: 'Address',
  mtu: 'MTU',
  dns: 'DNS',
  table: 'Table',
  preup: 'PreUp',
  postup: 'PostUp',
  predown: 'PreDown',
  postdown: 'PostDown',
  saveconfig: 'SaveConfig',
};
const WG_INTERFACE_KEYS: Record<string, string> = {
  privatekey: 'PrivateKey',
  listenport: 'ListenPort',
  fwmark: 'FwMark',
};
const WG_PEER_KEYS: Record<string, string> = {
  publickey: 'PublicKey',
  presharedkey: 'PresharedKey',
  allowedips: 'AllowedIPs',
  endpoint: 'Endpoint',
  persistentkeepalive: 'PersistentKeepalive',
};
/** Keys that may repeat without a warning because repeats add up. */
const LIST_KEYS = new Set(['Address', 'DNS', 'PreUp', 'PostUp', 'PreDown', 'PostDown', 'AllowedIPs']);

interface InterfaceBuilder {
  privateKey?: Uint8Array;
  listenPort?: number;
  fwMark?: number;
  addresses: InterfaceAddress[];
  mtu?: number;
  dns: IpAddress[];
  dnsSearch: string[];
  table?: string;
  preUp: string[];
  postUp: string[];
  preDown: string[];
  postDown: string[];
  saveConfig: boolean;
}

interface PeerBuilder {
  line: number;
  publicKey?: Uint8Array;
  presharedKey?: Uint8Array;
  allowedIps: Cidr[];
  endpoint?: ConfigEndpoint;
  endpoints?: ConfigEndpoint[];
  persistentKeepalive?: number;
}

interface Scope {
  /** Canonical key name -> line it was last set on, for repeat warnings. */
  readonly seen: Map<string, number>;
}

/** Parses the text of a configuration file; `file` names it in errors ("wg0.conf:7: ..."). */
export function parseConfig(text: string, file = 'config'): WgQuickConfig {
  const warnings: ConfigWarning[] = [];
  const iface: InterfaceBuilder = {
    addresses: [],
    dns: [],
    dnsSearch: [],
    preUp: [],
    postUp: [],
    preDown: [],
    postDown: [],
    saveConfig: false,
  };
  const ifaceScope: Scope = { seen: new Map() };
  const peers: { builder: PeerBuilder; scope: Scope }[] = [];
  let section: 'none' | 'interface' | 'peer' | 'uplink' | 'class' = 'none';
  const uplinks: UplinkBuilder[] = [];
  const classes: ClassBuilder[] = [];
  const tuning: { -readonly [K in keyof PathTuning]?: number } = {};
  let interfaceLine = 0;
  // A byte-order mark from a Windows editor is not part of the first line.
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!.replace(/\r$/, '');
    const hash = raw.indexOf('#');
    const stripped = hash < 0 ? raw : raw.slice(0, hash);
    const trimmed = stripped.trim();
    if (trimmed === '') continue;
    const fail: Fail = (reason) => {
      throw new ConfigError(file, lineNo, reason);
    };
    if (trimmed.startsWith('[')) {
      const name = trimmed.toLowerCase();
      if (name === '[interface]') {
        if (interfaceLine) {
          warnings.push({
            line: lineNo,
            message: `another [Interface] section (the first is at line ${interfaceLine}); wg-quick merges them`,
          });
        } else interfaceLine = lineNo;
        section = 'interface';
      } else if (name === '[peer]') {
        peers.push({ builder: { line: lineNo, allowedIps: [] }, scope: { seen: new Map() } });
        section = 'peer';
      } else if (name === '[uplink]') {
        uplinks.push({ line: lineNo });
        section = 'uplink';
      } else if (name === '[class]') {
        classes.push({ line: lineNo, dscp: [] });
        section = 'class';
      } else fail(`unknown section ${trimmed}; expected [Interface], [Peer], [Uplink] or [Class]`);
      continue;
    }
    const eq = stripped.indexOf('=');
    if (eq < 0) fail(`expected "Key = Value" or a section header, got "${trimmed}"`);
    const key = stripped.slice(0, eq).trim();
    const value = stripped.slice(eq + 1).trim();
    if (section === 'none') fail(`"${key}" appears before any [Interface] or [Peer] section`);
    const compact = key.replace(/\s+/g, '').toLowerCase();
    if (section === 'uplink' || section === 'class') {
      const title = section === 'uplink' ? 'Uplink' : 'Class';
      const mpName =
        (section === 'uplink' ? UPLINK_KEYS : CLASS_KEYS)[compact] ??
        fail(`unknown key "${key}" in [${title}] section`);
      const mpValue = value.replace(/\s+/g, '');
      if (mpValue === '') fail(`${mpName} has no value`);
      if (section === 'uplink') setUplinkKey(uplinks[uplinks.length - 1]!, mpName, mpValue, fail);
      else setClassKey(classes[classes.length - 1]!, mpName, mpValue, fail);
      continue;
    }
    const pathKey = section === 'interface' ? INTERFACE_PATH_KEYS[compact] : undefined;
    if (pathKey) {
      setPathKey(tuning, pathKey, key, value.replace(/\s+/g, ''), fail);
      continue;
    }
    const quickName = section === 'interface' ? WG_QUICK_KEYS[key.toLowerCase()] : undefined;
    const wgName = (section === 'interface' ? WG_INTERFACE_KEYS : WG_PEER_KEYS)[compact];
    const name = quickName ?? wgName;
    if (name === undefined) fail(misplacedKey(key, compact, section));
    const current = section === 'peer' ? peers[peers.length - 1]! : undefined;
    noteRepeat(current ? current.scope : ifaceScope, name, lineNo, warnings);
    if (quickName !== undefined) {
      setQuickKey(iface, quickName, value, fail);
      continue;
    }
    // wg(8) strips every white space character from the line before parsing it.
    const wgValue = value.replace(/\s+/g, '');
    if (wgValue === '') fail(`${name} has no value`);
    if (current) setPeerKey(current.builder, name, wgValue, fail, warnings, lineNo);
    else setInterfaceKey(iface, name, wgValue, fail);
  }
  const finished = finishPeers(
    peers.map((p) => p.builder),
    file,
    warnings,
  );
  const mp = finishMultipath(uplinks, classes, finished, file);
  return { file, interface: freezeInterface(iface), peers: finished, warnings, ...mp, pathTuning: tuning };
}

function misplacedKey(key: string, compact: string, section: 'interface' | 'peer'): string {
  const lower = key.toLowerCase();
  if (section === 'peer' && (WG_QUICK_KEYS[lower] ?? WG_INTERFACE_KEYS[compact])) {
    return `${WG_QUICK_KEYS[lower] ?? WG_INTERFACE_KEYS[compact]} belongs in the [Interface] section, not [Peer]`;
  }
  if (section === 'interface' && WG_PEER_KEYS[compact])
    return `${WG_PEER_KEYS[compact]} belongs in a [Peer] section, not [Interface]`;
  return `unknown key "${key}" in [${section === 'peer' ? 'Peer' : 'Interface'}] section`;
}

function noteRepeat(scope: Scope, name: string, lineNo: number, warnings: ConfigWarning[]): void {
  const before = scope.seen.get(name);
  if (before !== undefined && !LIST_KEYS.has(name)) {
    warnings.push({
      line: lineNo,
      message: `${name} was already set on line ${before}; this later value wins`,
    });
  }
  scope.seen.set(name, lineNo);
}

function setQuickKey(iface: InterfaceBuilder, name: string, value: string, fail: Fail): void {
  switch (name) {
    case 'Address':
      iface.addresses.push(...parseAddresses(value, fail));
      return;
    case 'MTU':
      if (value === '') delete iface.mtu;
      else iface.mtu = parseMtu(value, fail);
      return;
    case 'DNS': {
      const { servers, search } = parseDns(value, fail);
      iface.dns.push(...servers);
      iface.dnsSearch.push(...search);
      return;
    }
    case 'Table':
      if (value === '') delete iface.table;
      else iface.table = parseTable(value, fail);
      return;
    case 'SaveConfig':
      iface.saveConfig = parseBool('SaveConfig', value, fail);
      return;
    case 'PreUp':
      iface.preUp.push(value);
      return;
    case 'PostUp':
      iface.postUp.push(value);
      return;
    case 'PreDown':
      iface.preDown.push(value);
      return;
    default:
      iface.postDown.push(value);
  }
}

function setInterfaceKey(iface: InterfaceBuilder, name: string, value: string, fail: Fail): void {
  if (name === 'PrivateKey') iface.privateKey = parseKey(name, value, fail);
  else if (name === 'ListenPort') iface.listenPort = parseListenPort(value, fail);
  else iface.fwMark = parseFwMark(value, fail);
}

function setPeerKey(
  peer: PeerBuilder,
  name: string,
  value: string,
  fail: Fail,
  warnings: ConfigWarning[],
  lineNo: number,
): void {
  switch (name) {
    case 'PublicKey':
      peer.publicKey = parseKey(name, value, fail);
      return;
    case 'PresharedKey':
      peer.presharedKey = parseKey(name, value, fail);
      return;
    case 'AllowedIPs': {
      const { cidrs, masked } = parseAllowedIps(value, fail);
      for (const m of masked)
        warnings.push({
          line: lineNo,
          message: `AllowedIPs entry ${m.written} has host bits set; it means ${formatCidr(m.cidr)}`,
        });
      peer.allowedIps.push(...cidrs);
      return;
    }
    case 'Endpoint':
      if (value.includes(',') || value.includes('@')) {
        peer.endpoints = parseEndpointList(value, fail);
        if (!peer.endpoints.length) fail('Endpoint lists no endpoint');
        peer.endpoint = peer.endpoints[0];
      } else {
        peer.endpoint = parseConfigEndpoint(value, fail);
        delete peer.endpoints;
      }
      return;
    default:
      peer.persistentKeepalive = parsePersistentKeepalive(value, fail);
  }
}

function freezeInterface(b: InterfaceBuilder): ConfigInterface {
  return {
    ...b,
    addresses: [...b.addresses],
    dns: [...b.dns],
    dnsSearch: [...b.dnsSearch],
    preUp: [...b.preUp],
    postUp: [...b.postUp],
    preDown: [...b.preDown],
    postDown: [...b.postDown],
  };
}

function finishPeers(builders: PeerBuilder[], file: string, warnings: ConfigWarning[]): ConfigPeer[] {
  const out: ConfigPeer[] = [];
  const byKey = new Map<string, number>();
  for (const b of builders) {
    if (!b.publicKey) throw new ConfigError(file, b.line, '[Peer] section has no PublicKey');
    const id = formatBase64Key(b.publicKey);
    const at = byKey.get(id);
    const own: ConfigPeer = { ...b, publicKey: b.publicKey, allowedIps: [...b.allowedIps] };
    if (at === undefined) {
      byKey.set(id, out.length);
      out.push(own);
      continue;
    }
    const prev = out[at]!;
    warnings.push({
      line: b.line,
      message: `PublicKey ${id} already has a [Peer] section at line ${prev.line}; they merge, and this section's AllowedIPs replace the earlier ones`,
    });
    const merged: { -readonly [K in keyof ConfigPeer]: ConfigPeer[K] } = {
      ...prev,
      allowedIps: own.allowedIps,
    };
    if (own.presharedKey) merged.presharedKey = own.presharedKey;
    if (own.endpoint) merged.endpoint = own.endpoint;
    if (own.endpoint) merged.endpoints = own.endpoints;
    if (own.persistentKeepalive !== undefined) merged.persistentKeepalive = own.persistentKeepalive;
    out[at] = merged;
  }
  warnSharedPrefixes(out, warnings);
  return out;
}

/** Uplink and class names are unique; an endpoint's @uplink names an [Uplink]. */
function finishMultipath(
  uplinks: UplinkBuilder[],
  classes: ClassBuilder[],
  peers: ConfigPeer[],
  file: string,
): Pick<WgQuickConfig, 'uplinks' | 'classes'> {
  const failAt =
    (line: number) =>
    (reason: string): never => {
      throw new ConfigError(file, line, reason);
    };
  const outUplinks = uplinks.map((u) => finishUplink(u, failAt(u.line)));
  const outClasses = classes.map((c) => finishClass(c, failAt(c.line)));
  for (const list of [outUplinks, outClasses]) {
    const seen = new Map<string, number>();
    for (const x of list) {
      const before = seen.get(x.name);
      if (before !== undefined) failAt(x.line)(`the name ${x.name} is already used at line ${before}`);
      seen.set(x.name, x.line);
    }
  }
  for (const p of peers) {
    for (const e of p.endpoints ?? []) {
      if (e.uplink !== undefined && !outUplinks.some((u) => u.name === e.uplink))
        failAt(p.line)(
          `Endpoint ${e.host}:${e.port} names uplink ${e.uplink}, which no [Uplink] section defines`,
        );
    }
  }
  return { uplinks: outUplinks, classes: outClasses };
}

/** The kernel gives a prefix to one peer only: the one configured last. */
function warnSharedPrefixes(peers: ConfigPeer[], warnings: ConfigWarning[]): void {
  const owner = new Map<string, number>();
  for (const peer of peers) {
    for (const cidr of peer.allowedIps) {
      const text = formatCidr(cidr);
      const before = owner.get(text);
      if (before !== undefined && before !== peer.line) {
        warnings.push({
          line: peer.line,
          message: `AllowedIPs ${text} is also listed for the [Peer] at line ${before}; only this later peer gets it`,
        });
      }
      owner.set(text, peer.line);
    }
  }
}

/**
 * wg-quick takes the interface name from the file name: "wg0.conf" -> "wg0". Undefined when the
 * name is not 1..15 characters of [A-Za-z0-9_=+.-] followed by ".conf", which wg-quick refuses.
 */
export function interfaceNameFromPath(path: string): string | undefined {
  const m = /(?:^|\/)([a-zA-Z0-9_=+.-]{1,15})\.conf$/.exec(path);
  return m ? m[1] : undefined;
}
