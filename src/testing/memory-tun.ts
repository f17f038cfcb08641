/**
 * The in-memory TUN (native/core/io/testing/memory_tun.h, through sag_testing.h): the test plays
 * the host's IP stack, injecting the packets a Dataplane reads from its TUN and taking the ones it
 * writes. `memoryTun` goes wherever a TUN is chosen:
 *
 *   dataplane.openTun(memoryTun)                  new Gateway({ tun: memoryTun, ... })
 *   const { domain } = dataplane.openDomainTun(memoryTun)
 *
 * then tunInject(dataplane, packet, domain?) and tunTake(dataplane, domain?); for a Gateway, its
 * `dataplane`.
 */
import { withNativeHandle, type Dataplane } from '../dataplane/dataplane.js';
import type { NativeHandle, TunOpener } from '../dataplane/types.js';
import { NotFoundError } from '../errors.js';
import { loadAddon } from '../native/binding.js';
import type { RawDataplane, RawTesting } from '../native/types.js';
import { parseBuffer, parseUint32 } from '../util/parse.js';

function testing(): RawTesting {
  return loadAddon().testing;
}

/** The handle is the addon's NativeDataplane object; the addon checks that it is one. */
function raw(native: NativeHandle): RawDataplane {
  return native as unknown as RawDataplane;
}

/** Opens in-memory TUNs: the dataplane's own and those of routing domains. Stateless. */
export const memoryTun: TunOpener = Object.freeze({
  description: 'the in-memory TUN',
  openTun(native: NativeHandle): undefined {
    testing().openMemoryTun(raw(native));
    return undefined;
  },
  openDomainTun(native: NativeHandle): { domain: number; name: string } {
    return { domain: testing().addMemoryDomain(raw(native)), name: '' };
  },
});

/**
 * A packet from the host stack, as if written to the memory TUN of `domain` (0: the dataplane's
 * own). False when that TUN's inbound queue is full.
 */
export function tunInject(dataplane: Dataplane, packet: Uint8Array, domain = 0): boolean {
  const buf = parseBuffer(packet, 'packet', 1, 65535);
  return withNativeHandle(dataplane, 'injecting a packet', (native) =>
    testing().memoryTunInject(raw(native), buf, knownDomain(dataplane, domain)),
  );
}

/** The next packet the dataplane wrote to the memory TUN of `domain`, or null. */
export function tunTake(dataplane: Dataplane, domain = 0): Buffer | null {
  return withNativeHandle(dataplane, 'taking a packet', (native) =>
    testing().memoryTunTake(raw(native), knownDomain(dataplane, domain)),
  );
}

/** A domain that has no memory TUN (a device, or 0 without one) is refused natively. */
function knownDomain(dataplane: Dataplane, domain: unknown): number {
  const id = parseUint32(domain, 'domain');
  if (id !== 0 && !dataplane.domains().some((d) => d.domain === id))
    throw new NotFoundError(`no routing domain ${id}`);
  return id;
}
