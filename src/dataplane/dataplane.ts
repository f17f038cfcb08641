/**
 * Dataplane: the validated TypeScript face of the native dataplane. Every argument is checked
 * here before native code sees it; native failures come back as typed errors. Peers are named by
 * public key; native ids stay inside.
 */
import { EventEmitter } from 'node:events';
import {
  AlreadyExistsError,
  InternalError,
  InvalidArgumentError,
  InvalidStateError,
  NotFoundError,
  SagError,
  SystemError,
} from '../errors.js';
import { loadAddon } from '../native/binding.js';
import {
  DEFAULT_MTU,
  DROP_REASONS,
  MAX_BATCH_SIZE,
  MAX_EVENT_CAPACITY,
  MAX_RECEIVE_WORKERS,
  MAX_STAGED_CAPACITY,
  MAX_TUN_QUEUES,
} from '../native/facts.generated.js';
import { checkMtu } from '../native/mtu.js';
import { formatCidr, parseCidr } from '../net/cidr.js';
import {
  RawEventType,
  type ProbeSendResult,
  type RawCounters,
  type RawDataplane,
  type RawEvent,
} from '../native/types.js';
import { toRawSelection, type SelectionTable } from './selection.js';
import type {
  ControlMessage,
  Counters,
  DataplaneEvents,
  DataplaneOptions,
  Endpoint,
  KeypairOptions,
  NativeHandle,
  PeerOptions,
  PeerStats,
  RateLimit,
  TunOpener,
  Uplink,
  UplinkOptions,
} from './types.js';
import { parseRateLimit } from './rate-limit.js';
import {
  hasMethods,
  keyToBase64,
  parseBuffer,
  parseIntInRange,
  parseInterfaceName,
  parseKey,
  parsePort,
  parseUint32,
} from '../util/parse.js';
import { parseAddress, parseAllowedIp } from '../net/validate.js';

/** A peer's allowed IPs are not kept here: the native trie holds them (see #allowedIps). */
interface PeerEntry {
  id: number;
  publicKey: string;
  domain: number;
  rateLimit: Required<RateLimit> | null;
}

/** Status codes of native/include/sag/sag.h mapped to error classes. */
function nativeError(cause: unknown, context: string): SagError {
  const status = (cause as { status?: number }).status;
  const message = `${context}: ${(cause as Error).message}`;
  switch (status) {
    case -1:
      return new InvalidArgumentError(message, { cause });
    case -2:
      return new NotFoundError(message, { cause });
    case -3:
      return new AlreadyExistsError(message, { cause });
    case -4:
      return new SystemError(message, { cause });
    case -5:
      return new InvalidStateError(message, { cause });
    case -9:
      return new SystemError(message, { cause });
    default:
      return cause instanceof TypeError || cause instanceof RangeError
        ? new InvalidArgumentError(message, { cause })
        : new InternalError(message, { cause });
  }
}

function toCounters(raw: RawCounters): Counters {
  const drops = Object.fromEntries(DROP_REASONS.map((r) => [r, raw.drops[r]])) as Counters['drops'];
  const { rxPackets, rxBytes, txPackets, txBytes, rxKeepalives, txKeepalives } = raw;
  return { rxPackets, rxBytes, txPackets, txBytes, rxKeepalives, txKeepalives, drops };
}

function isTunOpener(value: unknown): value is TunOpener {
  return (
    hasMethods(value, ['openTun', 'openDomainTun']) && typeof (value as TunOpener).description === 'string'
  );
}

/**
 * For src/testing only (the package does not export it): runs fn on a Dataplane's native handle
 * with the Dataplane's closed check and error mapping. Set by the class's static block.
 */
export let withNativeHandle: <T>(dp: Dataplane, context: string, fn: (native: NativeHandle) => T) => T;

export class Dataplane extends EventEmitter<DataplaneEvents> {
  static {
    withNativeHandle = (dp, context, fn) => dp.#call(context, () => fn(dp.#native));
  }

  #raw: RawDataplane | undefined;
  #running = false;
  #tunName: string | undefined;
  /** Extra routing domains: id -> TUN name ('' when it is no device). */
  readonly #domains = new Map<number, string>();
  readonly #peersByKey = new Map<string, PeerEntry>();
  readonly #peersById = new Map<number, PeerEntry>();
  readonly #uplinks = new Map<number, Uplink>();
  readonly mtu: number;

  constructor(options: DataplaneOptions = {}) {
    super();
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('options must be an object');
    this.mtu = options.mtu === undefined ? DEFAULT_MTU : checkMtu(options.mtu);
    // Omitted (0): the native default.
    const count = (value: number | undefined, what: string, max: number) =>
      value === undefined ? 0 : parseIntInRange(value, what, 1, max);
    const stagedCapacity = count(options.stagedCapacity, 'stagedCapacity', MAX_STAGED_CAPACITY);
    const eventCapacity = count(options.eventCapacity, 'eventCapacity', MAX_EVENT_CAPACITY);
    const batchSize = count(options.batchSize, 'batchSize', MAX_BATCH_SIZE);
    const tunQueues = count(options.tunQueues, 'tunQueues', MAX_TUN_QUEUES);
    const receiveWorkers = count(options.receiveWorkers, 'receiveWorkers', MAX_RECEIVE_WORKERS);
    const addon = loadAddon();
    this.#raw = this.#call(
      'creating the dataplane',
      () =>
        new addon.NativeDataplane({
          mtu: this.mtu,
          stagedCapacity,
          eventCapacity,
          batchSize,
          tunQueues,
          receiveWorkers,
        }),
    );
    this.#raw.setEventHandler(() => this.#drainEvents());
  }

  get running(): boolean {
    return this.#running;
  }
  get closed(): boolean {
    return this.#raw === undefined;
  }
  /** Name of the TUN device, once opened. */
  get tunName(): string | undefined {
    return this.#tunName;
  }

  /**
   * Opens (or creates) the TUN device `name`; '' lets the kernel pick. Needs CAP_NET_ADMIN. Given a
   * TunOpener, lets it open its own kind of TUN instead (returns its device name, if any).
   */
  openTun(name: string): string;
  openTun(name: string | TunOpener): string | undefined;
  openTun(name: string | TunOpener): string | undefined {
    if (isTunOpener(name)) {
      this.#assertStopped('open a TUN device');
      this.#tunName = this.#call(`opening ${name.description}`, () => name.openTun(this.#native));
      return this.#tunName;
    }
    const checked = parseInterfaceName(name, 'TUN name', true);
    this.#assertStopped('open a TUN device');
    this.#tunName = this.#call(`opening TUN '${checked}'`, () => this.#handle.openTun(checked));
    return this.#tunName;
  }

  /**
   * Adds a routing domain with its own TUN device (its own allowed-IPs table; prefixes may overlap
   * other domains'). Works while running. Returns the domain id and the device name. Given a
   * TunOpener, the domain's TUN is of its kind.
   */
  openDomainTun(name: string | TunOpener): { domain: number; name: string } {
    const opened = isTunOpener(name)
      ? this.#call(`adding a domain on ${name.description}`, () => name.openDomainTun(this.#native))
      : this.#call(`opening domain TUN '${name}'`, () =>
          this.#handle.addDomainTun(parseInterfaceName(name, 'TUN name', true)),
        );
    this.#domains.set(opened.domain, opened.name);
    return opened;
  }

  /** Removes a routing domain and closes its TUN. Its peers must have been removed or moved. */
  removeDomain(domain: number): void {
    this.#domainId(domain, 1);
    const users = [...this.#peersById.values()].filter((p) => p.domain === domain).map((p) => p.publicKey);
    if (users.length)
      throw new InvalidStateError(`routing domain ${domain} still has peers: ${users.join(', ')}`);
    this.#call(`removing domain ${domain}`, () => this.#handle.removeDomain(domain));
    this.#domains.delete(domain);
  }

  /** Extra routing domains and their TUN names ('' when it is no device). */
  domains(): { domain: number; name: string }[] {
    return [...this.#domains].map(([domain, name]) => ({ domain, name }));
  }

  start(): void {
    if (this.#running) return;
    this.#call('starting the dataplane', () => this.#handle.start());
    this.#running = true;
  }

  stop(): void {
    if (!this.#running || !this.#raw) return;
    this.#call('stopping the dataplane', () => this.#handle.stop());
    this.#running = false;
  }

  /** Stops the workers and releases the TUN device and every socket. Idempotent. */
  close(): void {
    if (!this.#raw) return;
    this.#drainEvents();
    this.#raw.close();
    this.#raw = undefined;
    this.#running = false;
    this.#peersByKey.clear();
    this.#peersById.clear();
    this.#domains.clear();
    this.#uplinks.clear();
  }

  addUplink(options: UplinkOptions = {}): Uplink {
    const { address } = parseAddress(options.address ?? '::', 'uplink address');
    const port = parsePort(options.port ?? 0, 'uplink port', true);
    const device = options.device === undefined ? '' : parseInterfaceName(options.device, 'uplink device');
    const fwmark = options.fwmark === undefined ? 0 : parseUint32(options.fwmark, 'fwmark');
    const bound = this.#call(`binding uplink ${address} port ${port}`, () =>
      this.#handle.addUplink(address, port, device, fwmark),
    );
    const uplink = { id: bound.id, address: bound.address, port: bound.port };
    this.#uplinks.set(uplink.id, uplink);
    return { ...uplink };
  }

  removeUplink(id: number): void {
    parseUint32(id, 'uplink id', 1);
    this.#call(`removing uplink ${id}`, () => this.#handle.removeUplink(id));
    this.#uplinks.delete(id);
  }

  uplinks(): Uplink[] {
    return [...this.#uplinks.values()].map((u) => ({ ...u }));
  }

  uplinkStats(id: number): Counters {
    parseUint32(id, 'uplink id', 1);
    return toCounters(this.#call(`reading uplink ${id}`, () => this.#handle.uplinkCounters(id)));
  }

  addPeer(options: PeerOptions): void {
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('peer options must be an object');
    const key = parseKey(options.publicKey, 'publicKey');
    const publicKey = keyToBase64(key);
    if (this.#peersByKey.has(publicKey)) throw new AlreadyExistsError(`peer ${publicKey} already exists`);
    const allowed = this.#parseAllowedIps(options.allowedIps ?? []);
    const endpoint =
      options.endpoint === undefined ? undefined : this.#parseEndpoint(options.endpoint, options.uplink);
    const domain = options.domain === undefined ? 0 : this.#domainId(options.domain);
    const rateLimit = options.rateLimit === undefined ? null : parseRateLimit(options.rateLimit, this.mtu);
    const id = this.#call(`adding peer ${publicKey}`, () => this.#handle.addPeer(key));
    const entry: PeerEntry = { id, publicKey, domain: 0, rateLimit: null };
    this.#peersByKey.set(publicKey, entry);
    this.#peersById.set(id, entry);
    try {
      this.#applyDomain(entry, domain); // before the prefixes: they must never land in domain 0
      this.#applyRateLimit(entry, rateLimit);
      this.#applyAllowedIps(entry, allowed);
      if (endpoint)
        this.#call('setting the endpoint', () =>
          this.#handle.setEndpoint(id, endpoint.address, endpoint.port, endpoint.uplink),
        );
    } catch (err) {
      this.removePeer(publicKey); // never leave a half-configured peer
      throw err;
    }
  }

  /** Changes what is given; what is omitted stays. */
  updatePeer(publicKey: string | Uint8Array, changes: Omit<PeerOptions, 'publicKey'>): void {
    const entry = this.#peer(publicKey);
    const allowed = changes.allowedIps === undefined ? undefined : this.#parseAllowedIps(changes.allowedIps);
    const endpoint =
      changes.endpoint === undefined ? undefined : this.#parseEndpoint(changes.endpoint, changes.uplink);
    const domain = changes.domain === undefined ? undefined : this.#domainId(changes.domain);
    const rateLimit =
      changes.rateLimit === undefined ? undefined : parseRateLimit(changes.rateLimit, this.mtu);
    if (domain !== undefined) this.#applyDomain(entry, domain);
    if (rateLimit !== undefined) this.#applyRateLimit(entry, rateLimit);
    if (allowed) this.#applyAllowedIps(entry, allowed);
    if (endpoint)
      this.#call('setting the endpoint', () =>
        this.#handle.setEndpoint(entry.id, endpoint.address, endpoint.port, endpoint.uplink),
      );
  }

  removePeer(publicKey: string | Uint8Array): void {
    const entry = this.#peer(publicKey);
    this.#call(`removing peer ${entry.publicKey}`, () => this.#handle.removePeer(entry.id));
    this.#peersByKey.delete(entry.publicKey);
    this.#peersById.delete(entry.id);
  }

  peers(): string[] {
    return [...this.#peersByKey.keys()];
  }

  peerStats(publicKey: string | Uint8Array): PeerStats {
    const entry = this.#peer(publicKey);
    const info = this.#call(`reading peer ${entry.publicKey}`, () => this.#handle.peerInfo(entry.id));
    return {
      publicKey: entry.publicKey,
      endpoint: info.endpoint,
      uplinkId: info.endpoint ? info.uplinkId : null,
      allowedIps: this.#allowedIps(entry),
      domain: entry.domain,
      rateLimit: entry.rateLimit ? { ...entry.rateLimit } : null,
      currentIndex: info.currentIndex || null,
      previousIndex: info.previousIndex || null,
      nextIndex: info.nextIndex || null,
      stagedPackets: info.stagedPackets,
      counters: toCounters(info.counters),
    };
  }

  /** The peer's counters alone: what a poll of every peer needs (peerStats also walks the trie). */
  peerCounters(publicKey: string | Uint8Array): Counters {
    const entry = this.#peer(publicKey);
    return toCounters(
      this.#call(`reading peer ${entry.publicKey}`, () => this.#handle.peerInfo(entry.id)).counters,
    );
  }

  /** Packets that matched no peer and no uplink: no route, malformed, too big on the TUN side. */
  stats(): Counters {
    return toCounters(this.#call('reading counters', () => this.#handle.counters()));
  }

  /**
   * Installs a keypair from a completed handshake. nowNs is the monotonic time of installation
   * (default: process.hrtime), against which expireOlderThan() measures age.
   */
  installKeypair(
    publicKey: string | Uint8Array,
    keypair: KeypairOptions,
    nowNs: bigint = process.hrtime.bigint(),
  ): void {
    const entry = this.#peer(publicKey);
    if (keypair === null || typeof keypair !== 'object')
      throw new InvalidArgumentError('keypair must be an object');
    const localIndex = parseUint32(keypair.localIndex, 'localIndex', 1);
    const remoteIndex = parseUint32(keypair.remoteIndex, 'remoteIndex');
    const sendKey = parseKey(keypair.sendKey, 'sendKey');
    const recvKey = parseKey(keypair.recvKey, 'recvKey');
    if (typeof keypair.initiator !== 'boolean') throw new InvalidArgumentError('initiator must be a boolean');
    if (typeof nowNs !== 'bigint' || nowNs < 0n)
      throw new InvalidArgumentError('nowNs must be a non-negative bigint');
    try {
      this.#call(`installing keypair ${localIndex}`, () =>
        this.#handle.installKeypair(
          entry.id,
          localIndex,
          remoteIndex,
          sendKey,
          recvKey,
          keypair.initiator,
          nowNs,
        ),
      );
    } finally {
      sendKey.fill(0); // our copies; the caller's buffers are theirs to wipe
      recvKey.fill(0);
    }
  }

  /** Removes a keypair for good; its keys are zeroed in native memory. */
  retireKeypair(localIndex: number): void {
    parseUint32(localIndex, 'localIndex', 1);
    this.#call(`retiring keypair ${localIndex}`, () => this.#handle.retireKeypair(localIndex));
  }

  /** Keeps a keypair but stops using it for sending and receiving. */
  expireKeypair(localIndex: number): void {
    parseUint32(localIndex, 'localIndex', 1);
    this.#call(`expiring keypair ${localIndex}`, () => this.#handle.expireKeypair(localIndex));
  }

  /** Expires every keypair installed at or before nowNs - maxAgeNs; returns how many. */
  expireOlderThan(nowNs: bigint, maxAgeNs: bigint): number {
    if (typeof nowNs !== 'bigint' || typeof maxAgeNs !== 'bigint' || nowNs < 0n || maxAgeNs < 0n) {
      throw new InvalidArgumentError('nowNs and maxAgeNs must be non-negative bigints');
    }
    return this.#call('expiring keypairs', () => this.#handle.expireOlderThan(nowNs, maxAgeNs));
  }

  /** Sends a control-plane message (handshake, cookie reply) as one datagram. */
  sendControl(uplinkId: number, to: Endpoint, data: Uint8Array): void {
    parseUint32(uplinkId, 'uplink id', 1);
    const { address } = parseAddress(to?.address, 'destination address');
    const port = parsePort(to?.port, 'destination port', false);
    const buf = parseBuffer(data, 'control message', 1, 65535);
    this.#call(`sending a control message to ${address}:${port}`, () =>
      this.#handle.sendControl(uplinkId, address, port, buf),
    );
  }

  sendKeepalive(publicKey: string | Uint8Array): void {
    const entry = this.#peer(publicKey);
    this.#call('sending a keepalive', () => this.#handle.sendKeepalive(entry.id));
  }

  /** Installs the peer's multipath selection table (see selection.ts); null removes it. */
  setSelection(publicKey: string | Uint8Array, table: SelectionTable | null): void {
    const entry = this.#peer(publicKey);
    const raw = table === null ? null : toRawSelection(table, (id) => this.#uplinks.has(id));
    this.#call('setting the selection table', () => this.#handle.setSelection(entry.id, raw));
  }

  /**
   * Sends an authenticated probe for path `pathId` on an uplink to an endpoint of the peer; its
   * answer comes as 'probe:replied'. 'no-session': nothing to probe with yet; 'unreachable': the
   * kernel has no route from that uplink (link down, address gone); 'refused': any other refusal.
   */
  sendProbe(
    publicKey: string | Uint8Array,
    probe: { uplinkId: number; endpoint: Endpoint; pathId: number; sequence: number },
  ): ProbeSendResult {
    const entry = this.#peer(publicKey);
    const uplinkId = parseUint32(probe?.uplinkId, 'uplinkId', 1);
    const { address } = parseAddress(probe.endpoint?.address, 'probe endpoint address');
    const port = parsePort(probe.endpoint?.port, 'probe endpoint port', false);
    const pathId = parseUint32(probe.pathId, 'pathId');
    const sequence = parseIntInRange(probe.sequence, 'sequence', 0, Number.MAX_SAFE_INTEGER);
    return this.#call('sending a probe', () =>
      this.#handle.sendProbe(entry.id, uplinkId, address, port, pathId, BigInt(sequence)),
    );
  }

  /** Drops the packets staged for a peer (its handshake failed); returns how many. */
  dropStaged(publicKey: string | Uint8Array): number {
    const entry = this.#peer(publicKey);
    return this.#call('dropping staged packets', () => this.#handle.dropStaged(entry.id));
  }

  get #handle(): RawDataplane {
    if (!this.#raw) throw new InvalidStateError('the dataplane is closed');
    return this.#raw;
  }

  get #native(): NativeHandle {
    return this.#handle as unknown as NativeHandle;
  }

  #call<T>(context: string, fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      if (cause instanceof SagError) throw cause;
      throw nativeError(cause, context);
    }
  }

  #assertStopped(what: string): void {
    if (this.#running) throw new InvalidStateError(`cannot ${what} while the dataplane is running`);
  }

  #domainId(value: unknown, min = 0): number {
    const domain = parseUint32(value, 'domain', min);
    if (domain !== 0 && !this.#domains.has(domain)) throw new NotFoundError(`no routing domain ${domain}`);
    return domain;
  }

  #applyDomain(entry: PeerEntry, domain: number): void {
    if (entry.domain === domain) return;
    this.#call(`moving peer ${entry.publicKey} to domain ${domain}`, () =>
      this.#handle.setPeerDomain(entry.id, domain),
    );
    entry.domain = domain;
  }

  #applyRateLimit(entry: PeerEntry, limit: Required<RateLimit> | null): void {
    const rate = BigInt(limit?.bytesPerSecond ?? 0);
    const burst = BigInt(limit?.burstBytes ?? 0);
    this.#call(`setting the rate limit of ${entry.publicKey}`, () =>
      this.#handle.setRateLimit(entry.id, rate, burst),
    );
    entry.rateLimit = limit;
  }

  #peer(publicKey: string | Uint8Array): PeerEntry {
    const key = keyToBase64(parseKey(publicKey, 'publicKey'));
    const entry = this.#peersByKey.get(key);
    if (!entry) throw new NotFoundError(`no peer with public key ${key}`);
    return entry;
  }

  #parseAllowedIps(list: unknown): { address: string; cidr: number; text: string }[] {
    if (!Array.isArray(list)) throw new InvalidArgumentError('allowedIps must be an array of prefixes');
    return list.map((p, i) => parseAllowedIp(p, `allowedIps[${i}]`));
  }

  /** As in WireGuard, a prefix another peer of the domain had moves to this one (natively). */
  #applyAllowedIps(entry: PeerEntry, allowed: { address: string; cidr: number; text: string }[]): void {
    this.#call('setting allowed IPs', () =>
      this.#handle.setAllowedIps(
        entry.id,
        allowed.map(({ address, cidr }) => ({ address, cidr })),
      ),
    );
  }

  /** Read back from the native trie, the one copy: IPv4 first, each family ascending. */
  #allowedIps(entry: PeerEntry): string[] {
    const raw = this.#call(`reading the allowed IPs of ${entry.publicKey}`, () =>
      this.#handle.peerAllowedIps(entry.id),
    );
    return raw.map(({ address, cidr }) => {
      const parsed = parseCidr(`${address}/${cidr}`);
      if (!parsed.ok) throw new InternalError(`the dataplane returned a bad prefix ${address}/${cidr}`);
      return formatCidr(parsed.cidr);
    });
  }

  #parseEndpoint(
    endpoint: Endpoint,
    uplink: number | undefined,
  ): { address: string; port: number; uplink: number } {
    if (endpoint === null || typeof endpoint !== 'object')
      throw new InvalidArgumentError('endpoint must be {address, port}');
    const { address, family } = parseAddress(endpoint.address, 'endpoint address');
    const port = parsePort(endpoint.port, 'endpoint port', false);
    let id = uplink;
    if (id === undefined) {
      if (this.#uplinks.size !== 1)
        throw new InvalidArgumentError(
          `name the uplink for endpoint ${address}: there are ${this.#uplinks.size} uplinks`,
        );
      id = [...this.#uplinks.keys()][0]!;
    }
    const up = this.#uplinks.get(parseUint32(id, 'uplink id', 1));
    if (!up) throw new NotFoundError(`no uplink with id ${id}`);
    if (family === 6 && parseAddress(up.address, 'uplink').family === 4) {
      throw new InvalidArgumentError(
        `IPv6 endpoint ${address} cannot be reached from IPv4 uplink ${id} (${up.address})`,
      );
    }
    return { address, port, uplink: id };
  }

  #drainEvents(): void {
    if (!this.#raw) return;
    for (;;) {
      const batch = this.#raw.pollEvents(256);
      batch.forEach((ev, i) => this.#dispatch(ev, batch.length - 1 - i));
      if (batch.length < 256) return;
    }
  }

  #dispatch(ev: RawEvent, backlog: number): void {
    if (ev.type === RawEventType.Control) {
      const message: ControlMessage = { data: ev.data!, from: ev.from!, uplinkId: ev.uplinkId, backlog };
      this.emit('control:received', message);
      return;
    }
    const peer = this.#peersById.get(ev.peerId);
    if (!peer) return; // removed since the event was queued
    switch (ev.type) {
      case RawEventType.HandshakeNeeded:
        this.emit('handshake:needed', { publicKey: peer.publicKey });
        break;
      case RawEventType.KeypairConfirmed:
        this.emit('keypair:confirmed', { publicKey: peer.publicKey, localIndex: ev.index });
        break;
      case RawEventType.RekeyNeeded:
        this.emit('rekey:needed', { publicKey: peer.publicKey, localIndex: ev.index });
        break;
      case RawEventType.EndpointChanged:
        this.emit('endpoint:changed', {
          publicKey: peer.publicKey,
          endpoint: ev.from!,
          uplinkId: ev.uplinkId,
        });
        break;
      case RawEventType.ProbeReply:
        this.emit('probe:replied', {
          publicKey: peer.publicKey,
          pathId: ev.index,
          uplinkId: ev.uplinkId,
          from: ev.from!,
          sequence: Number(ev.data!.readBigUInt64LE(0)),
          rttMs: Number(ev.data!.readBigUInt64LE(8)) / 1e6,
        });
        break;
    }
  }
}
