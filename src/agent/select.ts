/**
 * Which hub carries the traffic: a pure function of the hubs, the probe results,
 * the active hub and an operator's forced choice, so the policy is tested without
 * sockets.
 *
 * 1. A forced hub (switchAccessPoint) wins while it is in the configuration.
 * 2. Otherwise the lowest measured RTT; ties go to the controller's rank, which
 *    spreads branches over hubs.
 * 3. The active hub stays unless another is faster by more than the margin: RTTs
 *    jitter, and each move costs the new hub's session its first packets.
 * 4. With nothing measured yet, the active hub stays, or the controller's rank 0
 *    is taken ("this order is what it uses before probes answer").
 */
import type { DevicePeer } from '../contract/config.js';
import type { ProbeResult } from './probe.js';

export interface HubChoice {
  hubs: readonly DevicePeer[];
  active: string | null;
  forced: string | null;
  probes: ReadonlyMap<string, ProbeResult>;
  margin: { ratio: number; ms: number };
}

export function chooseHub(c: HubChoice): string | null {
  if (c.hubs.length === 0) return null;
  if (c.forced !== null && c.hubs.some((h) => h.accessPointId === c.forced)) return c.forced;
  const rtt = (id: string) => c.probes.get(id)?.rttMs ?? null;
  const answered = c.hubs.filter((h) => rtt(h.accessPointId) !== null);
  const active = c.hubs.find((h) => h.accessPointId === c.active);
  if (answered.length === 0)
    return active?.accessPointId ?? [...c.hubs].sort((a, b) => a.rank - b.rank)[0]!.accessPointId;
  const best = answered.reduce((a, b) => {
    const ra = rtt(a.accessPointId) as number;
    const rb = rtt(b.accessPointId) as number;
    return rb < ra || (rb === ra && b.rank < a.rank) ? b : a;
  });
  const activeRtt = active ? rtt(active.accessPointId) : null;
  if (
    active &&
    activeRtt !== null &&
    activeRtt <= (rtt(best.accessPointId) as number) * (1 + c.margin.ratio) + c.margin.ms
  ) {
    return active.accessPointId;
  }
  return best.accessPointId;
}
