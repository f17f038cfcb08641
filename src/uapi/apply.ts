/**
 * The effect of a set command on a device's configuration, as wireguard-go's device/uapi.go gives it.
 * Pure: the gateway diffs the result against what it runs; tests use it as the reference model.
 *
 * Rules carried over from wireguard-go:
 * - a new private key is clamped, and any peer whose public key equals the new public key is dropped;
 * - `replace_peers` empties the peer list before the peer sections run;
 * - a section naming the device's own public key is ignored (wireguard-go's "dummy" peer);
 * - `update_only` skips a section whose peer does not exist yet; `remove` removes the peer;
 * - adding a prefix takes it from whichever peer held it and puts it last in this peer's list
 *   (the trie moves the entry); removing a prefix only touches it if this peer holds it.
 * One simplification: `remove` and `update_only` act on the whole section. wireguard-go applies the
 * lines before them first, so a section that adds a prefix and then removes its new peer also takes
 * that prefix away from its previous owner; wg(8) never sends such a section.
 * New peers are appended (wireguard-go lists peers in Go map order, which is unspecified).
 */
import { clampPrivateKey, publicKeyFromPrivate } from '../wg/crypto.js';
import type { Cidr } from '../net/cidr.js';
import { keysEqual } from './keys.js';
import type {
  MutableUapiPeer,
  UapiDeviceState,
  UapiPeerChange,
  UapiPeerState,
  UapiSetCommand,
} from './types.js';

type MutablePeer = MutableUapiPeer;

export function applySetCommand(device: UapiDeviceState, command: UapiSetCommand): UapiDeviceState {
  let privateKey = device.privateKey;
  let peers: MutablePeer[] = device.peers.map((p) => ({ ...p, allowedIps: [...p.allowedIps] }));
  const iface = command.interface;
  let ownPublicKey = privateKey ? publicKeyFromPrivate(privateKey) : undefined;
  if (iface.privateKey === null) {
    privateKey = undefined;
    ownPublicKey = undefined;
  } else if (iface.privateKey) {
    privateKey = clampPrivateKey(iface.privateKey);
    const pub = publicKeyFromPrivate(privateKey);
    ownPublicKey = pub;
    peers = peers.filter((p) => !keysEqual(p.publicKey, pub));
  }
  if (iface.replacePeers) peers = [];
  for (const change of command.peers) {
    if (ownPublicKey && keysEqual(change.publicKey, ownPublicKey)) continue;
    peers = applyPeerChange(peers, change);
  }
  return {
    ...(privateKey ? { privateKey } : {}),
    listenPort: iface.listenPort ?? device.listenPort,
    fwmark: iface.fwmark ?? device.fwmark,
    peers: peers.map((p): UapiPeerState => ({ ...p, allowedIps: [...p.allowedIps] })),
  };
}

function applyPeerChange(peers: MutablePeer[], change: UapiPeerChange): MutablePeer[] {
  let peer = peers.find((p) => keysEqual(p.publicKey, change.publicKey));
  if (change.remove) return peer ? peers.filter((p) => p !== peer) : peers;
  if (!peer) {
    if (change.updateOnly) return peers;
    peer = {
      publicKey: new Uint8Array(change.publicKey),
      lastHandshakeTimeSec: 0,
      lastHandshakeTimeNsec: 0,
      txBytes: 0n,
      rxBytes: 0n,
      persistentKeepaliveInterval: 0,
      allowedIps: [],
    };
    peers = [...peers, peer];
  }
  if (change.presharedKey === null) delete peer.presharedKey;
  else if (change.presharedKey) peer.presharedKey = new Uint8Array(change.presharedKey);
  if (change.endpoint) peer.endpoint = change.endpoint;
  if (change.persistentKeepaliveInterval !== undefined)
    peer.persistentKeepaliveInterval = change.persistentKeepaliveInterval;
  for (const step of change.allowedIps) {
    if (step.op === 'replace') {
      peer.allowedIps = [];
    } else if (step.op === 'add') {
      for (const p of peers) p.allowedIps = p.allowedIps.filter((c) => !sameCidr(c, step.cidr));
      peer.allowedIps.push(step.cidr);
    } else {
      peer.allowedIps = peer.allowedIps.filter((c) => !sameCidr(c, step.cidr));
    }
  }
  return peers;
}

function sameCidr(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.network === b.network && a.prefix === b.prefix;
}

/** A device with nothing configured: what a fresh wireguard-go reports. */
export function emptyDevice(): UapiDeviceState {
  return { listenPort: 0, fwmark: 0, peers: [] };
}
