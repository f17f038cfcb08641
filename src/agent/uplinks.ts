/**
 * The device's uplinks: the controller names them (compiled `uplinks`: name, kind, priority,
 * weight), the device knows where each one is (a local address or interface, given on the command
 * line as a binding). Together they become the Gateway's named uplinks (multipath).
 *
 * Only uplinks this class added are touched, so uplinks given to the Gateway some other way stay.
 * A compiled uplink without a binding is skipped with one log line per configuration that names
 * it; with no bindings at all nothing happens and the Gateway runs exactly as without multipath.
 */
import type { CompiledUplink } from '../contract/config.js';
import { InvalidArgumentError } from '../errors.js';
import type { Gateway } from '../gateway/index.js';
import type { Logger } from '../util/logger.js';
import { parseInterfaceName } from '../util/parse.js';
import { parseAddress } from '../net/validate.js';

/** Where a compiled uplink is on this device: a local address, an interface, or both. */
export interface UplinkBinding {
  /** Local address to send from (and bind). */
  address?: string;
  /** Interface to bind the uplink's socket to (SO_BINDTODEVICE). */
  device?: string;
}

/**
 * The controller's priorities are 1..50 and LTE goes last whatever its priority (the compiler's
 * order); the Gateway only has numbers, so a metered uplink gets its priority in a band of its own.
 */
export const METERED_PRIORITY_BASE = 1000;

/** Parses "NAME=ADDRESS", "NAME=dev:IFACE" or "NAME=dev:IFACE@ADDRESS" (command line). */
export function parseUplinkBinding(text: string): [string, UplinkBinding] {
  const match = /^([A-Za-z0-9_.-]{1,32})=(.+)$/.exec(text);
  if (!match)
    throw new InvalidArgumentError(
      `uplink binding ${JSON.stringify(text)} is not NAME=ADDRESS or NAME=dev:IFACE[@ADDRESS]`,
    );
  const [, name, where] = match as unknown as [string, string, string];
  if (!where.startsWith('dev:')) return [name, { address: checkedAddress(where, name) }];
  const [device, address] = where.slice(4).split('@', 2) as [string, string | undefined];
  if (!device) throw new InvalidArgumentError(`uplink binding ${JSON.stringify(text)} names no interface`);
  return [
    name,
    {
      device: parseInterfaceName(device, `uplink ${name} interface`),
      ...(address ? { address: checkedAddress(address, name) } : {}),
    },
  ];
}

function checkedAddress(text: string, name: string): string {
  return parseAddress(text, `uplink ${name} address`).address;
}

interface Managed {
  priority: number;
  weight: number;
  metered: boolean;
}

export class UplinkApplier {
  readonly #gateway: Gateway;
  readonly #bindings: ReadonlyMap<string, UplinkBinding>;
  readonly #log: Logger;
  readonly #managed = new Map<string, Managed>();

  constructor(gateway: Gateway, bindings: ReadonlyMap<string, UplinkBinding>, log: Logger) {
    this.#gateway = gateway;
    this.#bindings = bindings;
    this.#log = log;
  }

  /** Names of the Gateway uplinks this applier runs. */
  get names(): string[] {
    return [...this.#managed.keys()];
  }

  /**
   * Makes the Gateway's uplinks match `compiled`: removes those gone (or unbound), updates
   * priority/weight/metering in place (paths and their probe history stay), adds new ones.
   * An uplink the Gateway refuses (no such interface or address) is logged and left out; the
   * next configuration that changes uplinks tries it again.
   */
  apply(compiled: readonly CompiledUplink[]): void {
    if (this.#bindings.size === 0) return;
    const wanted = new Map<string, Managed>();
    for (const u of compiled) {
      if (!this.#bindings.has(u.name)) {
        this.#log(
          'warn',
          `agent: uplink ${u.name} (${u.kind}) of the configuration has no local binding (--uplink ${u.name}=...); skipped`,
        );
        continue;
      }
      const metered = u.kind === 'lte';
      wanted.set(u.name, {
        priority: metered ? METERED_PRIORITY_BASE + u.priority : u.priority,
        weight: u.weight,
        metered,
      });
    }
    for (const name of [...this.#managed.keys()]) {
      if (wanted.has(name)) continue;
      this.#gateway.removeUplink(name);
      this.#managed.delete(name);
      this.#log('info', `agent: uplink ${name} removed`);
    }
    for (const [name, policy] of wanted) {
      const had = this.#managed.get(name);
      if (
        had &&
        had.priority === policy.priority &&
        had.weight === policy.weight &&
        had.metered === policy.metered
      )
        continue;
      try {
        if (had) this.#gateway.updateUplink(name, policy);
        else this.#gateway.addUplink({ name, ...this.#bindings.get(name), ...policy });
      } catch (error) {
        // A binding the system refuses (no such interface or address) must not stop the hubs.
        this.#log(
          'error',
          `agent: uplink ${name} not ${had ? 'updated' : 'added'}: ${(error as Error).message}`,
        );
        continue;
      }
      this.#managed.set(name, policy);
      this.#log(
        'info',
        `agent: uplink ${name} ${had ? 'updated' : 'added'} (priority ${policy.priority}, weight ${policy.weight}${policy.metered ? ', metered' : ''})`,
      );
    }
  }
}
