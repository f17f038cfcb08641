/**
 * The local interfaces as rtnetlink reports them: per interface index its name, whether it passes
 * packets, and its addresses. Pure: fed by a dump (replace) and then by the monitor's changes.
 * Interfaces are keyed by index because address lines carry the index reliably while the name
 * iproute2 prints next to it can be stale after a rename.
 */
import type { AddressLine, IpMonitorLine, LinkLine } from './ip-monitor-lines.js';

export interface InterfaceInfo {
  index: number;
  name: string;
  state: string;
  usable: boolean;
  /** Canonical address texts, in the order they were added. */
  addresses: { family: 4 | 6; address: string; tentative: boolean }[];
}

export class LinkTable {
  readonly #byIndex = new Map<number, InterfaceInfo>();

  /** Forgets everything and loads a dump (links and addresses, in any order). */
  replace(lines: IpMonitorLine[]): void {
    this.#byIndex.clear();
    for (const l of lines) if (l.kind === 'link') this.apply(l);
    for (const l of lines) if (l.kind === 'address') this.apply(l);
  }

  /** Applies one change; returns false when it changed nothing we keep. */
  apply(line: IpMonitorLine): boolean {
    return line.kind === 'link' ? this.#link(line) : this.#address(line);
  }

  byName(name: string): InterfaceInfo | undefined {
    for (const i of this.#byIndex.values()) if (i.name === name) return i;
    return undefined;
  }

  /** The interface that holds a local address (canonical text). */
  byAddress(address: string): InterfaceInfo | undefined {
    for (const i of this.#byIndex.values()) if (i.addresses.some((a) => a.address === address)) return i;
    return undefined;
  }

  #link(l: LinkLine): boolean {
    const had = this.#byIndex.get(l.index);
    if (l.deleted) return this.#byIndex.delete(l.index);
    if (had && had.name === l.name && had.state === l.state && had.usable === l.usable) return false;
    this.#byIndex.set(l.index, {
      index: l.index,
      name: l.name,
      state: l.state,
      usable: l.usable,
      addresses: had?.addresses ?? [],
    });
    return true;
  }

  #address(l: AddressLine): boolean {
    const i = this.#byIndex.get(l.index);
    // An address of an interface we have not seen yet: its link line follows (or the dump has it).
    if (!i) return false;
    const at = i.addresses.findIndex((a) => a.address === l.address);
    if (l.deleted) {
      if (at < 0) return false;
      i.addresses.splice(at, 1);
      return true;
    }
    if (at >= 0) {
      // Announced again when IPv6 duplicate address detection ends.
      const changed = i.addresses[at]!.tentative !== l.tentative;
      i.addresses[at]!.tentative = l.tentative;
      return changed;
    }
    i.addresses.push({ family: l.family, address: l.address, tentative: l.tentative });
    return true;
  }
}
