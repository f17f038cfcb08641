/**
 * The access point service (`sag ap`): one Gateway (one UDP port, one key), a
 * routing domain and namespace per CCN with members here (hub.ts), following the
 * access point's compiled configuration from the controller (follow.ts).
 *
 *   start()   removes what a killed predecessor left (namespaces with our prefix),
 *             brings the Gateway up, then follows: long poll -> validate -> apply
 *             per CCN space; while the controller is unreachable it keeps the last
 *             configuration and retries with backoff
 *   stop()    stops following, stops the Gateway (its TUNs go), removes every
 *             namespace (and with them the veths into VPCs)
 */
import { EventEmitter } from 'node:events';
import { InvalidStateError } from '../errors.js';
import { Gateway } from '../gateway/index.js';
import { DEFAULT_MTU } from '../native/facts.generated.js';
import {
  ConfigFollower,
  type AccessPointClient,
  type AccessPointEvents,
  type FollowState,
  type RetryOptions,
} from './follow.js';
import { HubApplier, type HubNames } from './hub.js';
import { ip, netnsList } from './sys.js';
import type { Logger } from '../util/logger.js';
import type { AccessPointConfig } from '../contract/config.js';

export type { AccessPointClient, AccessPointEvents } from './follow.js';

export interface AccessPointOptions {
  id: string;
  token: string;
  privateKey: string;
  controller: AccessPointClient;
  names: HubNames;
  vpcs: ReadonlyMap<string, string>;
  listenPort?: number;
  listenAddress?: string;
  mtu?: number;
  /** Seconds each long poll may wait (default 25). */
  longPollSec?: number;
  retry?: RetryOptions;
  logger?: Logger;
}

export interface AccessPointPeerStatus {
  serial: string;
  ccnId: string;
  publicKey: string;
  endpoint: string | null;
  lastHandshakeUnixMs: number;
  rateLimitBytesPerSecond: number | null;
  rxBytes: number;
  txBytes: number;
  drops: Record<string, number>;
}

export interface AccessPointStatus extends FollowState {
  accessPointId: string;
  /** The configuration applied in full (every CCN space succeeded). */
  configVersion: string | null;
  listenPort: number;
  peers: AccessPointPeerStatus[];
  ccns: { ccnId: string; netns: string; tun: string; denied: number; vpcs: string[] }[];
}

export class AccessPoint extends EventEmitter<AccessPointEvents> {
  readonly #o: AccessPointOptions;
  readonly #log: Logger;
  #gateway: Gateway | undefined;
  #hub: HubApplier | undefined;
  #follower: ConfigFollower | undefined;

  constructor(options: AccessPointOptions) {
    super();
    this.#o = options;
    this.#log = options.logger ?? (() => {});
  }

  get config(): AccessPointConfig | null {
    return this.#hub?.config ?? null;
  }
  get gateway(): Gateway | undefined {
    return this.#gateway;
  }

  async start(): Promise<void> {
    if (this.#gateway) throw new InvalidStateError('the access point is already running');
    await removeLeftovers(this.#o.names.prefix, this.#log);
    const mtu = this.#o.mtu ?? DEFAULT_MTU;
    const gateway = new Gateway({
      privateKey: this.#o.privateKey,
      tun: `${this.#o.names.prefix}0`,
      mtu,
      logger: this.#log,
      ...(this.#o.listenPort === undefined ? {} : { listenPort: this.#o.listenPort }),
      ...(this.#o.listenAddress === undefined ? {} : { listenAddress: this.#o.listenAddress }),
    });
    await gateway.start();
    this.#gateway = gateway;
    const hub = new HubApplier({ gateway, names: this.#o.names, vpcs: this.#o.vpcs, mtu, logger: this.#log });
    this.#hub = hub;
    const follower = new ConfigFollower({
      id: this.#o.id,
      token: this.#o.token,
      controller: this.#o.controller,
      hub,
      logger: this.#log,
      ...(this.#o.longPollSec === undefined ? {} : { longPollSec: this.#o.longPollSec }),
      ...(this.#o.retry === undefined ? {} : { retry: this.#o.retry }),
    });
    follower.on('config:applied', (e) => this.emit('config:applied', e));
    follower.on('config:partial', (e) => this.emit('config:partial', e));
    follower.on('config:rejected', (e) => this.emit('config:rejected', e));
    follower.on('controller:unreachable', (e) => this.emit('controller:unreachable', e));
    this.#follower = follower;
    follower.start();
  }

  async stop(): Promise<void> {
    if (!this.#gateway) return;
    await this.#follower?.stop();
    await this.#gateway.stop();
    await this.#hub?.destroy();
    this.#gateway = undefined;
  }

  async status(): Promise<AccessPointStatus> {
    const gw = this.#gateway;
    const hub = this.#hub;
    if (!gw || !hub) throw new InvalidStateError('the access point is not running');
    // One synchronous snapshot, so failures reported go with the spaces they left behind.
    const follow = this.#follower!.state();
    const configVersion = hub.config?.version ?? null;
    const peers = hub.peers().map((p) => {
      const s = gw.peer(p.publicKey);
      const stats = gw.dataplane.peerStats(p.publicKey);
      return {
        serial: p.serial,
        ccnId: p.ccnId,
        publicKey: p.publicKey,
        endpoint: s.endpoint ? `${s.endpoint.address}:${s.endpoint.port}` : null,
        lastHandshakeUnixMs: s.lastHandshakeUnixMs,
        rateLimitBytesPerSecond: stats.rateLimit?.bytesPerSecond ?? null,
        rxBytes: s.counters.rxBytes,
        txBytes: s.counters.txBytes,
        drops: Object.fromEntries(Object.entries(s.counters.drops).filter(([, n]) => n > 0)),
      };
    });
    const spaces = hub.spaces().map((space) => ({
      space,
      ccnId: space.ccnId,
      netns: space.names.netns,
      tun: space.names.tun,
      vpcs: space.vpcLinks().map((l) => l.vpcId),
    }));
    const ccns = [];
    for (const { space, ...rest } of spaces) ccns.push({ ...rest, denied: await space.denied() });
    return { accessPointId: this.#o.id, configVersion, listenPort: gw.listenPort, peers, ccns, ...follow };
  }
}

/** Namespaces named with our prefix are ours: a predecessor killed with -9 left them. */
async function removeLeftovers(prefix: string, log: Logger): Promise<void> {
  for (const ns of await netnsList()) {
    if (!ns.startsWith(`${prefix}-ccn-`)) continue;
    await ip(null, ['netns', 'del', ns]);
    log('info', `ap: removed namespace ${ns} left by an earlier run`);
  }
}
