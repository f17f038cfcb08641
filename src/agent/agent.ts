/**
 * The device agent: activation, then a loop that follows the device's
 * configuration and applies it to a Gateway, picks the nearest hub, and reports.
 *
 *   activate(serial, code)  key pair made here; only the public key goes to the controller
 *   start()                 Gateway up -> last good config from disk -> follow loop,
 *                           status timer, re-probe timer
 *   follow loop             long poll (after = running version) -> apply diff -> save
 *                           to disk; on failure keep running, retry with backoff
 *   hub selection           all hubs are Gateway peers; the allowed IPs sit on one,
 *                           chosen by probe RTT (select.ts), forced by switchAccessPoint,
 *                           moved away when its handshakes fail (peer:down)
 *
 * Everything that can fail at runtime (controller, disk, a bad configuration)
 * is reported as an event and retried; only start() and activate() throw.
 */
import { EventEmitter } from 'node:events';
import type { DeviceConfig } from '../contract/config.js';
import { ControllerRefusedError } from '../contract/errors.js';
import { backoffMs, retryDelayMs, type RetryPolicy } from '../contract/retry.js';
import { LONG_POLL_MAX_SEC } from '../contract/version.js';
import { STATUS_LIST_MAX, type DeviceStatusReport } from '../contract/status.js';
import { InvalidStateError } from '../errors.js';
import type { Gateway } from '../gateway/index.js';
import { encodeKey, generatePrivateKey, publicKeyFromPrivate, zeroize } from '../wg/crypto.js';
import { ConfigApplier, type ApplyOutcome } from './apply.js';
import { ConfigMismatchError, NotActivatedError, AgentStateError } from './errors.js';
import { handshakeProber, type ProbeResult, type Prober } from './probe.js';
import { chooseHub } from './select.js';
import { AgentStateDir, type AgentIdentity } from './state.js';
import { formatEndpoint, pathReports, reportedRtt } from './status.js';
import { UplinkApplier } from './uplinks.js';
import type { AgentEvents, AgentOptions, SelectReason } from './types.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';

/** Backoff while the controller cannot be asked (AgentOptions.retry overrides). */
const AGENT_RETRY: RetryPolicy = { initialMs: 1_000, maxMs: 60_000 };
/** A long poll that comes back "unchanged" sooner than this is not repeated sooner (a controller ignoring `wait`). */
const MIN_POLL_INTERVAL_MS = 1_000;

export class Agent extends EventEmitter<AgentEvents> {
  readonly #o: AgentOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #dir: AgentStateDir;
  #identity: AgentIdentity | undefined;
  #gateway: Gateway | undefined;
  #applier: ConfigApplier | undefined;
  #prober: Prober | undefined;
  readonly #probes = new Map<string, ProbeResult>();
  #probing: Promise<void> | undefined;
  #forced: string | null = null;
  #running = false;
  #stop = new AbortController();
  #loops: Promise<void>[] = [];
  #timers: NodeJS.Timeout[] = [];
  #downSince: number | null = null;

  constructor(options: AgentOptions) {
    super();
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? (() => {});
    this.#dir = new AgentStateDir(options.stateDir);
  }

  get running(): boolean {
    return this.#running;
  }
  get serial(): string | undefined {
    return this.#identity?.serial;
  }
  get publicKey(): string | undefined {
    return this.#identity?.publicKey;
  }
  /** The configuration running on the Gateway, null before the first one. */
  get config(): DeviceConfig | null {
    return this.#applier?.config ?? null;
  }
  get activeAccessPoint(): string | null {
    return this.#applier?.active?.accessPointId ?? null;
  }
  /** False while the controller cannot be reached. */
  get controllerReachable(): boolean {
    return this.#downSince === null;
  }
  get gateway(): Gateway | undefined {
    return this.#gateway;
  }
  get probes(): ProbeResult[] {
    return [...this.#probes.values()];
  }

  /**
   * Generates a key pair, trades the activation code and the public key for a device
   * token, and stores key (0600) and identity in the state directory. The private key
   * is written before the call (as private.key.new) and only made current once the
   * controller accepted the public key, so a refused activation leaves an earlier
   * identity intact. A previous configuration is dropped: it belonged to the old key.
   */
  async activate(serial: string, code: string): Promise<{ serial: string; publicKey: string }> {
    if (this.#running) throw new InvalidStateError('stop the agent before activating it again');
    await this.#ensureDir();
    const privateKey = generatePrivateKey();
    const publicKey = encodeKey(publicKeyFromPrivate(privateKey));
    try {
      await this.#dir.writePendingPrivateKey(encodeKey(privateKey));
    } finally {
      zeroize(privateKey);
    }
    let token: string;
    try {
      ({ token } = await this.#o.controller.activate({ serial, code, publicKey }));
    } catch (err) {
      await this.#dir.dropPendingPrivateKey();
      throw err;
    }
    await this.#dir.write(
      'identity.json.new',
      JSON.stringify({ serial, token, publicKey, activatedAt: this.#clock.unixMs() }, null, 2),
    );
    await this.#dir.commitPrivateKey();
    await this.#dir.move('identity.json.new', 'identity.json');
    await this.#dir.removeConfig();
    this.#identity = { serial, token, publicKey, activatedAt: this.#clock.unixMs() };
    return { serial, publicKey };
  }

  /** The state directory, 0700: created so, or an existing wider one tightened (and said so). */
  #ensureDir(): Promise<void> {
    return this.#dir.ensure((message) => this.#log('warn', `agent: ${message}`));
  }

  /** Brings the Gateway up on the last good configuration (if any) and starts following the controller. */
  async start(): Promise<void> {
    if (this.#running) throw new InvalidStateError('the agent is already running');
    await this.#ensureDir();
    const identity = await this.#dir.readIdentity();
    const key = await this.#dir.readPrivateKey();
    if (!identity || !key) throw new NotActivatedError(this.#dir.dir);
    const gateway = this.#o.gatewayFactory({ privateKey: key });
    if (gateway.publicKey !== identity.publicKey) {
      await gateway.stop();
      throw new AgentStateError(
        `${this.#dir.dir}: private.key does not match the public key in identity.json; activate again`,
      );
    }
    try {
      await gateway.start();
    } catch (error) {
      await gateway.stop();
      throw error;
    }
    this.#identity = identity;
    this.#gateway = gateway;
    this.#applier = new ConfigApplier(
      gateway,
      new UplinkApplier(gateway, new Map(Object.entries(this.#o.uplinks ?? {})), this.#log),
    );
    this.#prober =
      this.#o.prober?.(gateway) ?? handshakeProber(gateway, this.#clock, (id) => this.#probes.get(id));
    gateway.on('peer:down', this.#onPeerDown);
    // A new Gateway has new sessions: earlier probe results, choices and outages do not carry over.
    this.#probes.clear();
    this.#forced = null;
    this.#downSince = null;
    this.#running = true;
    this.#stop = new AbortController();
    const saved = await this.#dir.readConfig();
    if (saved) this.#applySafely(saved, 'disk');
    this.#loops = [this.#follow()];
    this.#every(this.#o.statusIntervalMs ?? 30_000, () => this.#reportQuietly());
    const reprobe = this.#o.reprobeIntervalMs ?? 300_000;
    if (reprobe > 0) this.#every(reprobe, () => void this.probeNow());
  }

  /** Stops following and reporting, then the Gateway (which drops every session). Idempotent. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#stop.abort();
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await Promise.allSettled([...this.#loops, this.#probing]);
    this.#gateway?.off('peer:down', this.#onPeerDown);
    await this.#gateway?.stop();
  }

  /** Forces traffic onto this hub (null: back to choosing by RTT) until stop() or the hub leaves the configuration. */
  switchAccessPoint(accessPointId: string | null): void {
    const applier = this.#running ? this.#applier : undefined;
    if (!applier) throw new InvalidStateError('the agent is not running');
    if (accessPointId !== null && !applier.hub(accessPointId))
      throw new RangeError(`access point ${accessPointId} is not a hub of the current configuration`);
    this.#forced = accessPointId;
    this.#select(this.#choose(), accessPointId === null ? 'probe' : 'forced');
  }

  /** Probes every hub now and re-selects; concurrent calls share one round. */
  probeNow(): Promise<void> {
    this.#probing ??= this.#probeRound().finally(() => (this.#probing = undefined));
    return this.#probing;
  }

  statusReport(): DeviceStatusReport {
    const applier = this.#applier;
    const peers = (applier?.hubs ?? []).slice(0, STATUS_LIST_MAX).map((hub) => {
      const s = this.#gateway!.peer(hub.publicKey);
      const endpoint = s.endpoint && formatEndpoint(s.endpoint);
      const c = s.counters;
      const paths = pathReports(s.paths);
      return {
        accessPointId: hub.accessPointId,
        publicKey: hub.publicKey,
        endpoint,
        lastHandshakeUnixMs: s.lastHandshakeUnixMs,
        rxBytes: c.rxBytes,
        txBytes: c.txBytes,
        rxPackets: c.rxPackets,
        txPackets: c.txPackets,
        ...(paths.length > 0 ? { paths } : {}),
      };
    });
    const probes = this.probes.slice(0, STATUS_LIST_MAX).map((p) => ({ ...p, rttMs: reportedRtt(p.rttMs) }));
    return {
      ...(this.#o.softwareVersion === undefined ? {} : { softwareVersion: this.#o.softwareVersion }),
      configVersion: applier?.config?.version ?? null,
      accessPointId: applier?.active?.accessPointId ?? null,
      peers,
      probes,
    };
  }

  /** Sends a status report now. Throws what the controller client throws. */
  async reportNow(): Promise<void> {
    const identity = this.#identity;
    if (!this.#running || !identity) throw new InvalidStateError('the agent is not running');
    const report = this.statusReport();
    await this.#o.controller.reportStatus(identity.serial, identity.token, report, this.#stop.signal);
    this.emit('status:reported', { report });
  }

  // ---- following the controller ----------------------------------------------

  async #follow(): Promise<void> {
    const identity = this.#identity as AgentIdentity;
    const longPoll = Math.min(Math.max(this.#o.longPollSec ?? 25, 0), LONG_POLL_MAX_SEC);
    let attempt = 0;
    while (this.#running) {
      const started = this.#clock.monotonicMs();
      let retryInMs = 0;
      try {
        const after = this.#applier?.config?.version;
        const answer = await this.#o.controller.getConfig(identity.serial, identity.token, {
          ...(after === undefined ? {} : { after, waitSec: longPoll }),
          signal: this.#stop.signal,
        });
        this.#reachable();
        if (answer.kind === 'config') {
          const ok = this.#applySafely(answer.config, 'controller');
          if (ok) await this.#save(answer.config);
          attempt = ok ? 0 : attempt + 1;
          if (!ok) retryInMs = backoffMs(attempt, this.#retry);
        } else {
          attempt = 0;
          retryInMs = Math.max(0, MIN_POLL_INTERVAL_MS - (this.#clock.monotonicMs() - started));
        }
      } catch (error) {
        if (!this.#running) break;
        attempt++;
        retryInMs = retryDelayMs(attempt, this.#retry, error);
        if (error instanceof ControllerRefusedError) {
          this.#reachable();
          this.#log('warn', `agent: ${error.message}; retrying in ${Math.round(retryInMs)} ms`);
          this.emit('controller:refused', { error, retryInMs });
        } else {
          this.#downSince ??= this.#clock.monotonicMs();
          this.#log(
            'warn',
            `agent: controller unreachable (${(error as Error).message}); running on the last configuration, retrying in ${Math.round(retryInMs)} ms`,
          );
          this.emit('controller:unreachable', { error: error as Error, attempt, retryInMs });
        }
      }
      if (retryInMs > 0) await sleep(retryInMs, this.#stop.signal);
    }
  }

  #reachable(): void {
    if (this.#downSince === null) return;
    const downMs = this.#clock.monotonicMs() - this.#downSince;
    this.#downSince = null;
    this.emit('controller:reachable', { downMs });
  }

  get #retry(): RetryPolicy {
    return { ...AGENT_RETRY, ...this.#o.retry };
  }

  /** Applies a configuration; false (and config:rejected) if it is not for us or the Gateway refuses it. */
  #applySafely(config: DeviceConfig, source: 'controller' | 'disk'): boolean {
    const identity = this.#identity as AgentIdentity;
    let outcome: ApplyOutcome;
    try {
      if (config.serial !== identity.serial)
        throw new ConfigMismatchError(
          `configuration ${config.version} is for device ${config.serial}, not ${identity.serial}`,
        );
      // The controller holds another key for us (re-registered?): the hubs would not accept ours.
      if (config.publicKey !== identity.publicKey)
        throw new ConfigMismatchError(
          `configuration ${config.version} carries another public key for ${identity.serial}; activate again`,
        );
      outcome = (this.#applier as ConfigApplier).apply(config);
    } catch (error) {
      this.#log(
        'error',
        `agent: configuration ${config.version} from ${source} not applied: ${(error as Error).message}`,
      );
      this.emit('config:rejected', { version: config.version, error: error as Error });
      return false;
    }
    this.emit('config:applied', { config, source, changes: outcome.changes.length });
    this.#afterApply(outcome);
    if (source === 'controller' && outcome.changes.length > 0) this.#reportQuietly();
    return true;
  }

  async #save(config: DeviceConfig): Promise<void> {
    try {
      await this.#dir.writeConfig(config);
    } catch (error) {
      // Running it matters more than remembering it; the next restart needs the controller then.
      this.#log('error', `agent: ${(error as Error).message}`);
    }
  }

  // ---- hub selection -----------------------------------------------------------

  #afterApply(outcome: ApplyOutcome): void {
    const applier = this.#applier as ConfigApplier;
    if (this.#forced !== null && !applier.hub(this.#forced)) this.#forced = null;
    for (const id of this.#probes.keys()) if (!applier.hub(id)) this.#probes.delete(id);
    if (!applier.active)
      this.#select(
        this.#choose(),
        outcome.activeLost ? 'failover' : this.#forced !== null ? 'forced' : 'default',
      );
    if (outcome.hubsChanged && applier.hubs.length > 0) void this.probeNow();
  }

  #choose(exclude?: string): string | null {
    const applier = this.#applier as ConfigApplier;
    const hubs = applier.hubs.filter((h) => h.accessPointId !== exclude);
    const active = applier.active?.accessPointId ?? null;
    return chooseHub({
      hubs,
      active: active === exclude ? null : active,
      forced: this.#forced,
      probes: this.#probes,
      margin: this.#o.switchMargin ?? { ratio: 0.2, ms: 5 },
    });
  }

  #select(accessPointId: string | null, reason: SelectReason): void {
    const applier = this.#applier as ConfigApplier;
    const previous = applier.active?.accessPointId ?? null;
    if (accessPointId === previous) return;
    applier.select(accessPointId);
    const rttMs = accessPointId === null ? null : (this.#probes.get(accessPointId)?.rttMs ?? null);
    this.#log(
      'info',
      `agent: traffic now through ${accessPointId ?? 'no hub'} (${reason}${rttMs === null ? '' : `, ${rttMs.toFixed(1)} ms`})`,
    );
    this.emit('ap:selected', { accessPointId, previous, reason, rttMs });
    this.#reportQuietly();
  }

  async #probeRound(): Promise<void> {
    const applier = this.#applier;
    if (!this.#running || !applier || !this.#prober || applier.hubs.length === 0) return;
    const targets = applier.hubs.map((h) => ({
      accessPointId: h.accessPointId,
      publicKey: h.publicKey,
      endpoint: applier.endpointOf(h),
    }));
    const results = await this.#prober(targets, this.#o.probeTimeoutMs ?? 2_000);
    if (!this.#running) return;
    for (const r of results) {
      const hub = applier.hub(r.accessPointId);
      // The configuration may have changed while probing: keep only results that still mean something.
      if (!hub || applier.endpointOf(hub) !== r.endpoint) continue;
      this.#probes.set(r.accessPointId, r);
      if (r.rttMs === null) applier.nextEndpoint(hub);
    }
    this.emit('probe:completed', { results });
    this.#select(this.#choose(), this.#forced !== null ? 'forced' : 'probe');
  }

  /** The active hub stopped answering handshakes: move to the best other one and probe again. */
  readonly #onPeerDown = ({ publicKey }: { publicKey: string }): void => {
    const active = this.#applier?.active;
    if (!this.#running || !active || active.publicKey !== publicKey) return;
    const kept = this.#probes.get(active.accessPointId);
    this.#probes.set(active.accessPointId, {
      accessPointId: active.accessPointId,
      endpoint: kept?.endpoint ?? active.endpoints[0]!,
      rttMs: null,
      atUnixMs: this.#clock.unixMs(),
    });
    if (this.#forced === null) this.#select(this.#choose(active.accessPointId), 'failover');
    void this.probeNow();
  };

  #reportQuietly(): void {
    if (!this.#running) return;
    this.reportNow().catch((error: Error) =>
      this.#log('debug', `agent: status report failed: ${error.message}`),
    );
  }

  #every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.#timers.push(timer);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
