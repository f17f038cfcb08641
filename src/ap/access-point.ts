/**
 * The access point service (`sag ap`): one Gateway (one UDP port, one key), a
 * routing domain and namespace per CCN with members here (hub.ts), following the
 * access point's compiled configuration from the controller by long poll.
 *
 *   start()   removes what a killed predecessor left (namespaces with our prefix),
 *             brings the Gateway up, then follows: long poll -> diff -> apply;
 *             while the controller is unreachable it keeps the last configuration
 *             and retries with backoff
 *   stop()    stops following, stops the Gateway (its TUNs go), removes every
 *             namespace (and with them the veths into VPCs)
 */
import { EventEmitter } from 'node:events';
import type { AccessPointClient } from '../contract/client.js';
import type { AccessPointConfig } from '../contract/config.js';
import { retryDelayMs, type RetryPolicy } from '../contract/retry.js';
import { InvalidStateError } from '../errors.js';
import { Gateway } from '../gateway/index.js';
import { HubApplier, type HubNames } from './hub.js';
import { ip, netnsList } from './sys.js';
import type { Logger } from '../util/logger.js';

/** Backoff while the controller cannot be asked (AccessPointOptions.retry overrides). */
const AP_RETRY: RetryPolicy = { initialMs: 500, maxMs: 10_000 };

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
  retry?: Partial<RetryPolicy>;
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

export interface AccessPointStatus {
  accessPointId: string;
  configVersion: string | null;
  listenPort: number;
  peers: AccessPointPeerStatus[];
  ccns: { ccnId: string; netns: string; tun: string; denied: number; vpcs: string[] }[];
}

export interface AccessPointEvents {
  'config:applied': [{ config: AccessPointConfig; changes: number }];
  'config:rejected': [{ version: string; error: Error }];
  'controller:unreachable': [{ error: Error; retryInMs: number }];
}

export class AccessPoint extends EventEmitter<AccessPointEvents> {
  readonly #o: AccessPointOptions;
  readonly #log: Logger;
  #gateway: Gateway | undefined;
  #hub: HubApplier | undefined;
  #stop = new AbortController();
  #loop: Promise<void> | undefined;

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
    const mtu = this.#o.mtu ?? 1420;
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
    this.#hub = new HubApplier({ gateway, names: this.#o.names, vpcs: this.#o.vpcs, mtu, logger: this.#log });
    this.#stop = new AbortController();
    this.#loop = this.#follow();
  }

  async stop(): Promise<void> {
    if (!this.#gateway) return;
    this.#stop.abort();
    await this.#loop?.catch(() => {});
    await this.#gateway.stop();
    await this.#hub?.destroy();
    this.#gateway = undefined;
  }

  async status(): Promise<AccessPointStatus> {
    const gw = this.#gateway;
    const hub = this.#hub;
    if (!gw || !hub) throw new InvalidStateError('the access point is not running');
    const config = hub.config;
    const peers = (config?.peers ?? []).map((p) => {
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
    const ccns = [];
    for (const space of hub.spaces()) {
      ccns.push({
        ccnId: space.ccnId,
        netns: space.names.netns,
        tun: space.names.tun,
        denied: await space.denied(),
        vpcs: space.vpcLinks().map((l) => l.vpcId),
      });
    }
    return {
      accessPointId: this.#o.id,
      configVersion: config?.version ?? null,
      listenPort: gw.listenPort,
      peers,
      ccns,
    };
  }

  async #follow(): Promise<void> {
    const signal = this.#stop.signal;
    let attempt = 0;
    while (!signal.aborted) {
      let retryInMs = 0;
      try {
        const after = this.#hub?.config?.version;
        const answer = await this.#o.controller.getAccessPointConfig(this.#o.id, this.#o.token, {
          ...(after === undefined ? {} : { after, waitSec: this.#o.longPollSec ?? 25 }),
          signal,
        });
        attempt = 0;
        if (answer.kind === 'config') await this.#apply(answer.config);
        else retryInMs = 200; // a controller ignoring `wait` must not be hammered
      } catch (error) {
        if (signal.aborted) break;
        attempt++;
        retryInMs = retryDelayMs(attempt, { ...AP_RETRY, ...this.#o.retry }, error);
        this.#log(
          'warn',
          `ap: controller: ${(error as Error).message}; keeping the current configuration, retrying in ${Math.round(retryInMs)} ms`,
        );
        this.emit('controller:unreachable', { error: error as Error, retryInMs });
      }
      if (retryInMs > 0) await sleep(retryInMs, signal);
    }
  }

  async #apply(config: AccessPointConfig): Promise<void> {
    if (config.accessPointId !== this.#o.id) {
      const error = new InvalidStateError(`configuration for ${config.accessPointId}, this is ${this.#o.id}`);
      this.emit('config:rejected', { version: config.version, error });
      throw error;
    }
    try {
      const changes = await this.#hub!.apply(config);
      this.#log(
        'info',
        `ap: configuration ${config.version.slice(0, 12)} applied (${changes.length} changes, ${config.peers.length} peers)`,
      );
      this.emit('config:applied', { config, changes: changes.length });
    } catch (error) {
      this.emit('config:rejected', { version: config.version, error: error as Error });
      throw error;
    }
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
