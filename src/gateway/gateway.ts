/**
 * Gateway: a WireGuard-compatible VPN endpoint = native Dataplane + Noise handshakes + timers.
 * The library face an agent imports: start()/stop(), peers added, changed and removed at runtime,
 * typed events, stats. Protocol work lives in protocol.ts; this file is lifecycle and configuration.
 *
 * A Gateway may run without a private key (as wireguard-go does before `wg set`): peers and traffic
 * are configured, handshakes wait for the key.
 */
import { EventEmitter } from 'node:events';
import { Dataplane } from '../dataplane/dataplane.js';
import type { Endpoint, TunOpener } from '../dataplane/types.js';
import { AlreadyExistsError, InvalidArgumentError, InvalidStateError, NotFoundError } from '../errors.js';
import { DEFAULT_MTU } from '../native/facts.generated.js';
import { clampPrivateKey, publicKeyFromPrivate, type KeyPair } from '../wg/crypto.js';
import { PeerTimers } from '../wg/timers.js';
import {
  MultipathDriver,
  type PeerEndpoint,
  type UplinkPolicy,
  type UplinkSpec,
  type UplinkStatus,
} from './multipath.js';
import { LinkWatch, type LinkSource } from './link-watch.js';
import { GatewayPeer } from './peer.js';
import type { PathStatus, TrafficClass } from '../paths/types.js';
import { ProtocolDriver } from './protocol.js';
import type { GatewayEvents, GatewayOptions, GatewayPeerOptions, GatewayPeerStatus } from './types.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { hasMethods, keyToBase64, parseIntInRange, parseKey } from '../util/parse.js';

const noLog: Logger = () => {};

export class Gateway extends EventEmitter<GatewayEvents> {
  readonly #dp: Dataplane;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #driver: ProtocolDriver;
  readonly #peers = new Map<string, GatewayPeer>();
  readonly #tun: string | TunOpener;
  readonly #pollMs: number;
  readonly #rekeyAfterTimeMs: number | undefined;
  #local: KeyPair | undefined;
  #uplink: { id: number; address: string; port: number };
  #listenAddress: string;
  #fwmark: number;
  #timer: NodeJS.Timeout | undefined;
  readonly #multipath: MultipathDriver;
  readonly #linkWatch: LinkWatch | undefined;
  #state: 'new' | 'running' | 'stopped' = 'new';

  constructor(options: Partial<GatewayOptions> = {}) {
    super();
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? noLog;
    this.#tun = options.tun ?? 'sag0';
    this.#pollMs =
      options.pollIntervalMs === undefined
        ? 100
        : parseIntInRange(options.pollIntervalMs, 'pollIntervalMs', 10, 10_000);
    this.#rekeyAfterTimeMs = options.rekeyAfterTimeMs;
    this.#listenAddress = options.listenAddress ?? '::';
    this.#fwmark = options.fwmark ?? 0;
    const watch = options.linkWatch ?? true;
    if (typeof watch !== 'boolean' && !isLinkSource(watch))
      throw new InvalidArgumentError('linkWatch must be a boolean or a link source (start, stop, on)');
    this.#dp = new Dataplane({ mtu: options.mtu ?? DEFAULT_MTU });
    this.#driver = new ProtocolDriver(
      {
        dataplane: this.#dp,
        clock: this.#clock,
        log: this.#log,
        uplinkId: () => this.#uplink.id,
        local: () => this.#local,
        peers: () => this.#peers.values(),
        peerByKey: (key) => this.#peers.get(keyToBase64(key)),
        emit: (event, ...args) => (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args),
      },
      options.underLoadBacklog ?? 128,
    );
    try {
      this.#uplink = this.#dp.addUplink({
        address: this.#listenAddress,
        port: options.listenPort ?? 0,
        fwmark: this.#fwmark,
      });
      if (options.privateKey !== undefined) this.setPrivateKey(options.privateKey);
    } catch (err) {
      this.#dp.close();
      throw err;
    }
    const emit = (event: string, payload: object) =>
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, payload);
    this.#multipath = new MultipathDriver(
      {
        dataplane: this.#dp,
        clock: this.#clock,
        log: this.#log,
        mainUplink: () => this.#uplink,
        emit,
        pathsDead: (publicKey) => {
          const peer = this.#peers.get(publicKey);
          if (peer) this.#driver.run(peer, peer.timers.onPathsDead(this.#clock.monotonicMs()));
        },
      },
      options.paths,
      options.classes,
    );
    try {
      for (const u of options.uplinks ?? []) this.#multipath.addUplink(u);
    } catch (err) {
      this.#dp.close();
      throw err;
    }
    if (watch !== false) {
      const mp = this.#multipath;
      const host = {
        uplinks: () => mp.uplinks(),
        setUplinkLink: mp.setUplinkLink.bind(mp),
        rebindUplink: mp.rebindUplink.bind(mp),
        log: this.#log,
        emit,
      };
      this.#linkWatch = watch === true ? new LinkWatch(host) : new LinkWatch(host, watch);
    }
    this.#dp.on('control:received', (m) => this.#driver.onControl(m));
    this.#dp.on('handshake:needed', ({ publicKey }) =>
      this.#withPeer(publicKey, (p, now) => p.timers.onStagedPackets(now)),
    );
    this.#dp.on('rekey:needed', ({ publicKey, localIndex }) =>
      this.#withPeer(publicKey, (p, now) => p.timers.onRekeyAfterMessages(now, localIndex)),
    );
    this.#dp.on('keypair:confirmed', ({ publicKey, localIndex }) =>
      this.#withPeer(publicKey, (p, now) => {
        p.lastHandshakeUnixMs = this.#clock.unixMs(); // the responder's handshake completes here
        return p.timers.onKeypairConfirmed(now, localIndex);
      }),
    );
    this.#dp.on('endpoint:changed', ({ publicKey, endpoint }) => {
      const peer = this.#peers.get(publicKey);
      if (!peer) return;
      peer.endpoint = endpoint;
      this.emit('peer:endpoint', { publicKey, endpoint });
    });
  }

  /** Opens the TUN device and starts the workers and timers. Not restartable after stop(). */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new InvalidStateError(`the gateway is ${this.#state}`);
    this.#dp.openTun(this.#tun);
    this.#dp.start();
    this.#state = 'running';
    this.#timer = setInterval(() => this.#driver.poll(), this.#pollMs);
    this.#multipath.start();
    this.#linkWatch?.sync();
    this.#log(
      'info',
      `gateway up on ${this.tunName ?? (typeof this.#tun === 'string' ? this.#tun : this.#tun.description)}, listening on port ${this.#uplink.port}`,
    );
  }

  /** Stops everything, wipes keys, releases the TUN device and the socket. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    if (this.#timer) clearInterval(this.#timer);
    this.#multipath.stop();
    await this.#linkWatch?.stop();
    for (const peer of this.#peers.values()) this.#driver.forget(peer);
    this.#dp.close();
    this.#local?.privateKey.fill(0);
    this.#state = 'stopped';
  }

  get running(): boolean {
    return this.#state === 'running';
  }
  get tunName(): string | undefined {
    return this.#dp.tunName;
  }
  get listenPort(): number {
    return this.#uplink.port;
  }
  get fwmark(): number {
    return this.#fwmark;
  }
  get publicKey(): string | undefined {
    return this.#local ? keyToBase64(this.#local.publicKey) : undefined;
  }
  /** The private key, for the userspace API's `get`. */
  get privateKey(): Uint8Array | undefined {
    return this.#local ? new Uint8Array(this.#local.privateKey) : undefined;
  }
  /** The dataplane, for inspection (stats, the memory TUN in tests). */
  get dataplane(): Dataplane {
    return this.#dp;
  }

  /** Sets or replaces our static key; every session with the old key ends. null removes it. */
  setPrivateKey(key: string | Uint8Array | null): void {
    const local = key === null ? undefined : derive(parseKey(key, 'privateKey'));
    if (local && this.#local && Buffer.compare(local.privateKey, this.#local.privateKey) === 0) return;
    // A peer with our own public key makes no sense (wireguard-go drops it too).
    if (local && this.#peers.has(keyToBase64(local.publicKey))) this.removePeer(local.publicKey);
    this.#local?.privateKey.fill(0);
    this.#local = local;
    this.#driver.setLocal(local);
    for (const peer of this.#peers.values()) {
      this.#driver.forget(peer);
      peer.timers = this.#newTimers();
      peer.rebuildHandshake(local, this.#driver.indices);
    }
  }

  /** Moves the listening socket to another port; peers keep their endpoints. */
  setListenPort(port: number): void {
    const uplink = this.#dp.addUplink({ address: this.#listenAddress, port, fwmark: this.#fwmark });
    const old = this.#uplink;
    this.#uplink = uplink;
    for (const peer of this.#peers.values())
      if (peer.endpoint) this.#dp.updatePeer(peer.publicKey, { endpoint: peer.endpoint, uplink: uplink.id });
    this.#multipath.refresh(); // paths through the listening socket move with it
    this.#dp.removeUplink(old.id);
  }

  setFwmark(fwmark: number): void {
    if (fwmark === this.#fwmark) return;
    this.#fwmark = fwmark;
    this.setListenPort(this.#uplink.port === 0 ? 0 : this.#uplink.port);
  }

  addPeer(options: GatewayPeerOptions): void {
    const keyBytes = parseKey(options.publicKey, 'publicKey');
    const publicKey = keyToBase64(keyBytes);
    if (this.#peers.has(publicKey)) throw new AlreadyExistsError(`peer ${publicKey} already exists`);
    const psk =
      options.presharedKey === undefined ? undefined : parseKey(options.presharedKey, 'presharedKey');
    const keepalive =
      options.persistentKeepalive === undefined
        ? 0
        : parseIntInRange(options.persistentKeepalive, 'persistentKeepalive', 0, 65535);
    options = withFirstEndpoint(options);
    this.#dp.addPeer({
      publicKey,
      allowedIps: options.allowedIps ?? [],
      ...(options.domain !== undefined ? { domain: options.domain } : {}),
      ...(options.rateLimit !== undefined ? { rateLimit: options.rateLimit } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint, uplink: this.#uplink.id } : {}),
    });
    try {
      this.#multipath.setPeer(publicKey, options.endpoints ?? (options.endpoint ? [options.endpoint] : []));
    } catch (err) {
      this.#dp.removePeer(publicKey); // refused as a whole: no half-added peer
      throw err;
    }
    const peer = new GatewayPeer(publicKey, keyBytes, this.#newTimers());
    peer.presharedKey = psk;
    peer.endpoint = options.endpoint ? { ...options.endpoint } : null;
    peer.rebuildHandshake(this.#local, this.#driver.indices);
    this.#peers.set(publicKey, peer);
    if (keepalive) {
      peer.persistentKeepalive = keepalive;
      this.#driver.run(peer, peer.timers.setPersistentKeepalive(this.#clock.monotonicMs(), keepalive));
    }
  }

  /** Changes what is given; omitted fields stay. `presharedKey: null` removes the key. */
  updatePeer(
    publicKey: string | Uint8Array,
    changes: Omit<GatewayPeerOptions, 'publicKey' | 'presharedKey'> & {
      presharedKey?: string | Uint8Array | null;
    },
  ): void {
    const peer = this.#peer(publicKey);
    const psk =
      changes.presharedKey === undefined || changes.presharedKey === null
        ? changes.presharedKey
        : parseKey(changes.presharedKey, 'presharedKey');
    const keepalive =
      changes.persistentKeepalive === undefined
        ? undefined
        : parseIntInRange(changes.persistentKeepalive, 'persistentKeepalive', 0, 65535);
    changes = withFirstEndpoint(changes);
    if (changes.endpoint) this.#multipath.setPeer(peer.publicKey, changes.endpoints ?? [changes.endpoint]);
    this.#dp.updatePeer(peer.publicKey, {
      ...(changes.allowedIps ? { allowedIps: changes.allowedIps } : {}),
      ...(changes.domain !== undefined ? { domain: changes.domain } : {}),
      ...(changes.rateLimit !== undefined ? { rateLimit: changes.rateLimit } : {}),
      ...(changes.endpoint ? { endpoint: changes.endpoint, uplink: this.#uplink.id } : {}),
    });
    if (changes.endpoint) peer.endpoint = { ...changes.endpoint };
    if (psk !== undefined) {
      peer.presharedKey = psk ?? undefined;
      peer.handshake?.setPresharedKey(peer.presharedKey);
    }
    if (keepalive !== undefined && keepalive !== peer.persistentKeepalive) {
      peer.persistentKeepalive = keepalive;
      this.#driver.run(peer, peer.timers.setPersistentKeepalive(this.#clock.monotonicMs(), keepalive));
    }
  }

  removePeer(publicKey: string | Uint8Array): void {
    const peer = this.#peer(publicKey);
    this.#driver.forget(peer);
    this.#multipath.removePeer(peer.publicKey);
    this.#dp.removePeer(peer.publicKey);
    this.#peers.delete(peer.publicKey);
  }

  /** Starts a handshake now (subject to the 5 s initiation rate limit). */
  initiateHandshake(publicKey: string | Uint8Array): void {
    const peer = this.#peer(publicKey);
    this.#driver.run(peer, peer.timers.requestHandshake(this.#clock.monotonicMs()));
  }

  peer(publicKey: string | Uint8Array): GatewayPeerStatus {
    const peer = this.#peer(publicKey);
    const stats = this.#dp.peerStats(peer.publicKey);
    return {
      publicKey: peer.publicKey,
      hasPresharedKey: peer.presharedKey !== undefined,
      endpoint: peer.endpoint ? { ...peer.endpoint } : null,
      allowedIps: stats.allowedIps,
      persistentKeepalive: peer.persistentKeepalive,
      lastHandshakeUnixMs: peer.lastHandshakeUnixMs,
      counters: stats.counters,
      paths: this.#multipath.paths(peer.publicKey),
      multipath: this.#multipath.capable(peer.publicKey),
    };
  }

  /** Adds a named uplink (its own socket); every peer gains the paths through it. */
  addUplink(spec: UplinkSpec): UplinkStatus {
    const up = this.#multipath.addUplink(spec);
    if (this.#state === 'running') this.#linkWatch?.sync();
    return up;
  }

  /** Removes a named uplink: its paths vanish and traffic moves to the others at once. */
  removeUplink(name: string): void {
    this.#multipath.removeUplink(name);
    if (this.#state === 'running') this.#linkWatch?.sync();
  }

  /** Changes an uplink's priority, weight or metering; its paths and their history stay. */
  updateUplink(name: string, changes: UplinkPolicy): UplinkStatus {
    return this.#multipath.updateUplink(name, changes);
  }

  uplinks(): UplinkStatus[] {
    return this.#multipath.uplinks();
  }

  /** Replaces the traffic classes (policies apply on the next probe round). */
  setClasses(classes: TrafficClass[]): void {
    this.#multipath.setClasses(classes);
  }

  /** A peer's paths: state, RTT, jitter, loss, active. */
  paths(publicKey: string | Uint8Array): PathStatus[] {
    return this.#multipath.paths(this.#peer(publicKey).publicKey);
  }

  peers(): GatewayPeerStatus[] {
    return [...this.#peers.keys()].map((k) => this.peer(k));
  }

  /** The peer's pre-shared key, for the userspace API's `get`. */
  presharedKey(publicKey: string | Uint8Array): Uint8Array | undefined {
    const psk = this.#peer(publicKey).presharedKey;
    return psk ? new Uint8Array(psk) : undefined;
  }

  #newTimers(): PeerTimers {
    return new PeerTimers(
      this.#rekeyAfterTimeMs === undefined ? {} : { rekeyAfterTimeMs: this.#rekeyAfterTimeMs },
    );
  }

  #peer(publicKey: string | Uint8Array): GatewayPeer {
    const key = keyToBase64(parseKey(publicKey, 'publicKey'));
    const peer = this.#peers.get(key);
    if (!peer) throw new NotFoundError(`no peer with public key ${key}`);
    return peer;
  }

  #withPeer(
    publicKey: string,
    input: (peer: GatewayPeer, now: number) => ReturnType<PeerTimers['tick']>,
  ): void {
    const peer = this.#peers.get(publicKey);
    if (peer) this.#driver.run(peer, input(peer, this.#clock.monotonicMs()));
  }
}

/** `endpoints` given: the first is also the `endpoint` (where handshakes go). */
function withFirstEndpoint<
  T extends { endpoint?: { address: string; port: number }; endpoints?: PeerEndpoint[] },
>(o: T): T {
  if (o.endpoints === undefined) return o;
  if (!Array.isArray(o.endpoints) || o.endpoints.length < 1)
    throw new InvalidArgumentError('endpoints must list at least one endpoint');
  const first = o.endpoints[0]!;
  return { ...o, endpoint: { address: first.address, port: first.port } };
}

function isLinkSource(v: unknown): v is LinkSource {
  return hasMethods(v, ['start', 'stop', 'on']);
}

function derive(privateKey: Buffer): KeyPair {
  // All zeros is how the userspace API says "no key"; as a key it would be a constant.
  if (privateKey.every((b) => b === 0)) throw new InvalidArgumentError('privateKey must not be all zeros');
  const clamped = clampPrivateKey(privateKey);
  privateKey.fill(0);
  return { privateKey: clamped, publicKey: publicKeyFromPrivate(clamped) };
}

export type { Endpoint };
