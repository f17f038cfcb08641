/**
 * Watches the interfaces the Gateway's uplinks use (rtnetlink through src/net/ip-monitor.ts) and
 * tells the multipath driver at once when an uplink loses its link or gets it back:
 *
 *  - an uplink bound to an address: the interface holding the address must pass packets (admin up,
 *    carrier, operstate UP/UNKNOWN); the address gone is "address-removed", the interface down
 *    "link-down";
 *  - an uplink bound to a device: that interface must pass packets and hold an address of the
 *    uplink's family (the bound one, if an address was given). When the bound address is gone but
 *    the device has another of the same family, the uplink is rebound to it (its address changed);
 *    a device deleted and created again (new interface index) gets the uplink a new socket too;
 *  - an uplink bound to neither (wildcard, no device) is left to the kernel's routing: not watched.
 *
 * Only changes of the verdict act (down with its reason, or up): the probes keep deciding when a
 * path is actually back. If the monitor dies, the last verdicts stay and the probes go on as
 * without the watcher; the restart's dump brings the verdicts up to date.
 */
import type { IpMonitorLine } from '../net/ip-monitor-lines.js';
import { IpMonitor } from '../net/ip-monitor.js';
import { LinkTable, type InterfaceInfo } from '../net/link-table.js';
import type { UplinkLinkReason } from '../paths/types.js';
import type { UplinkStatus } from './multipath.js';
import type { Logger } from '../util/logger.js';

/** Where link changes come from: IpMonitor, or a test's own source. */
export interface LinkSource {
  start(): void;
  stop(): Promise<void>;
  on(event: 'snapshot', listener: (lines: IpMonitorLine[]) => void): unknown;
  on(event: 'change', listener: (line: IpMonitorLine) => void): unknown;
  on(event: 'failure', listener: (f: { message: string; restartInMs: number }) => void): unknown;
}

export interface LinkWatchHost {
  uplinks(): UplinkStatus[];
  setUplinkLink(name: string, down: UplinkLinkReason | null): void;
  rebindUplink(name: string, address: string): UplinkStatus;
  log: Logger;
  emit: (event: string, payload: object) => void;
}

/** An uplink's link as the table shows it. */
export type UplinkVerdict = { up: true } | { up: false; reason: UplinkLinkReason } | { rebindTo: string[] };

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** The uplink's verdict, or null if it is not watched (wildcard address, no device). */
export function judgeUplink(
  table: LinkTable,
  u: Pick<UplinkStatus, 'address' | 'device'>,
): UplinkVerdict | null {
  const wildcard = WILDCARDS.has(u.address);
  if (!u.device) {
    if (wildcard) return null;
    const holder = table.byAddress(u.address);
    if (!holder) return { up: false, reason: 'address-removed' };
    return holder.usable ? { up: true } : { up: false, reason: 'link-down' };
  }
  const dev = table.byName(u.device);
  if (!dev?.usable) return { up: false, reason: 'link-down' };
  if (!wildcard && dev.addresses.some((a) => a.address === u.address)) return { up: true };
  const usable = sendableAddresses(dev, u.address);
  if (wildcard) return usable.length ? { up: true } : { up: false, reason: 'address-removed' };
  return usable.length ? { rebindTo: usable } : { up: false, reason: 'address-removed' };
}

/** The device's addresses an uplink bound to `address` could use: same family (any for '::'), not IPv6 link-local or tentative. */
function sendableAddresses(dev: InterfaceInfo, address: string): string[] {
  const family = address.includes(':') ? 6 : 4;
  return dev.addresses
    .filter((a) => (address === '::' || a.family === family) && !a.tentative && !/^fe[89ab]/i.test(a.address))
    .map((a) => a.address);
}

export class LinkWatch {
  readonly #host: LinkWatchHost;
  readonly #source: LinkSource;
  readonly #table = new LinkTable();
  /** Last verdict per uplink name: 'up' or the reason it is down. */
  readonly #verdicts = new Map<string, 'up' | UplinkLinkReason>();
  /**
   * Interface index under which each device-bound uplink's socket was bound: a device deleted and
   * created again (a modem's wwan0, ppp0) has a new index, and a socket bound to the old one never
   * sends again, so the uplink gets a new socket.
   */
  readonly #boundIndex = new Map<string, number>();
  #synced = false;
  #started = false;

  constructor(host: LinkWatchHost, source: LinkSource = new IpMonitor()) {
    this.#host = host;
    this.#source = source;
    source.on('snapshot', (lines) => {
      this.#table.replace(lines);
      this.#synced = true;
      this.evaluate();
    });
    source.on('change', (line) => {
      this.#table.apply(line);
      if (this.#synced) this.evaluate();
    });
    source.on('failure', ({ message, restartInMs }) => {
      this.#host.log(
        'warn',
        `link watcher: ${message}; restarting in ${restartInMs} ms (paths rely on probes meanwhile)`,
      );
      this.#host.emit('linkwatch:error', { message, restartInMs });
    });
  }

  /** Starts following links once some uplink needs it; call again after uplinks change. */
  sync(): void {
    if (!this.#started && this.#host.uplinks().some((u) => judgeUplink(this.#table, u) !== null)) {
      this.#started = true;
      this.#source.start();
    }
    if (this.#synced) this.evaluate();
  }

  async stop(): Promise<void> {
    this.#started = false;
    this.#synced = false;
    await this.#source.stop();
  }

  /** Compares every watched uplink's verdict with the last one and acts on the changes. */
  evaluate(): void {
    const names = new Set<string>();
    for (const u of this.#host.uplinks()) {
      names.add(u.name);
      const verdict = judgeUplink(this.#table, u);
      if (!verdict) {
        this.#apply(u.name, 'up'); // no longer watched: nothing holds it down
        continue;
      }
      const index = u.device === undefined ? undefined : this.#table.byName(u.device)?.index;
      // Its device gone when first seen: the socket is bound to an index that no longer exists.
      if (u.device !== undefined && index === undefined && !this.#boundIndex.has(u.name))
        this.#boundIndex.set(u.name, 0);
      if ('rebindTo' in verdict) this.#rebind(u, verdict.rebindTo, index);
      else if (verdict.up && index !== undefined && this.#recreated(u.name, index))
        this.#rebind(u, [u.address], index);
      else this.#apply(u.name, verdict.up ? 'up' : verdict.reason);
    }
    for (const name of this.#verdicts.keys()) if (!names.has(name)) this.#verdicts.delete(name);
    for (const name of this.#boundIndex.keys()) if (!names.has(name)) this.#boundIndex.delete(name);
  }

  /** The device now has another index than the uplink's socket was bound under (the first one seen is taken as bound). */
  #recreated(name: string, index: number): boolean {
    const bound = this.#boundIndex.get(name);
    if (bound === undefined) this.#boundIndex.set(name, index);
    return bound !== undefined && bound !== index;
  }

  #apply(name: string, now: 'up' | UplinkLinkReason): void {
    const before = this.#verdicts.get(name);
    this.#verdicts.set(name, now);
    // Down to down (link-down, then its IPv6 addresses flushed) is one outage, not two.
    if (
      before === now ||
      (before === undefined && now === 'up') ||
      (before !== undefined && before !== 'up' && now !== 'up')
    )
      return;
    this.#host.setUplinkLink(name, now === 'up' ? null : now);
    this.#host.emit(now === 'up' ? 'uplink:up' : 'uplink:down', {
      uplink: name,
      ...(now === 'up' ? {} : { reason: now }),
    });
  }

  /** Gives the uplink a new socket on the first candidate address that binds; none: down, tried again on the next change. */
  #rebind(u: UplinkStatus, candidates: string[], index: number | undefined): void {
    for (const address of candidates) {
      try {
        this.#host.rebindUplink(u.name, address);
      } catch (err) {
        this.#host.log(
          'warn',
          `link watcher: uplink ${u.name} could not move to ${address}: ${(err as Error).message}`,
        );
        continue;
      }
      if (index !== undefined) this.#boundIndex.set(u.name, index);
      const why = address === u.address ? 'its device was created again' : 'its address changed';
      this.#host.log(
        'info',
        `link watcher: uplink ${u.name} rebound from ${u.address} to ${address} on ${u.device ?? '?'} (${why})`,
      );
      this.#host.emit('uplink:rebound', { uplink: u.name, from: u.address, to: address });
      // rebindUplink released the hold: the paths come back through probes.
      const before = this.#verdicts.get(u.name);
      this.#verdicts.set(u.name, 'up');
      if (before !== undefined && before !== 'up') this.#host.emit('uplink:up', { uplink: u.name });
      return;
    }
    this.#apply(u.name, 'address-removed');
  }
}
