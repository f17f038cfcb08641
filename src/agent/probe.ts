/**
 * Round-trip probes to access points.
 *
 * The default probe is the WireGuard handshake itself: the agent's Gateway sends
 * an initiation (UDP, 148 bytes) to the hub and times the response. That is one
 * round trip on exactly the path the tunnel would take, from the same socket, so
 * NAT mappings and the hub's endpoint for us stay as they are. It needs nothing
 * on the hub beyond WireGuard, and a hub answers only if it accepts our key, so a
 * reachable but misconfigured hub is never picked. The measured time includes the
 * hub's handshake computation (well under a millisecond), the same for every hub.
 * A probe that succeeds leaves a session with that hub, which makes a later
 * switch to it immediate.
 *
 * WireGuard's rate limit applies: an initiation within 5 s (REKEY_TIMEOUT) of the
 * previous one to the same peer is deferred. A hub whose handshake completed that
 * recently is therefore not probed again; its last result stands.
 *
 * Other probes (ICMP, a TCP connect, a stand-in in tests) plug in as a `Prober`.
 */
import type { Gateway } from '../gateway/index.js';
import type { Clock } from '../util/clock.js';

export interface ProbeTarget {
  accessPointId: string;
  publicKey: string;
  /** "a.b.c.d:port" / "[v6]:port" being probed. */
  endpoint: string;
}

export interface ProbeResult {
  accessPointId: string;
  endpoint: string;
  /** Milliseconds, null when unanswered within the timeout. */
  rttMs: number | null;
  /** Unix ms when answered or given up. */
  atUnixMs: number;
}

/** Probes every target concurrently; resolves once all answered or `timeoutMs` passed. */
export type Prober = (targets: readonly ProbeTarget[], timeoutMs: number) => Promise<ProbeResult[]>;

/** Within this long after a completed handshake a new initiation would be deferred, so the hub is not probed. */
export const PROBE_HOLD_OFF_MS = 5_500;

/**
 * The handshake prober over `gateway`, whose peers must already include every
 * target (with its endpoint set). `previous` supplies the result kept for a hub
 * that handshook too recently to be probed again.
 */
export function handshakeProber(
  gateway: Gateway,
  clock: Clock,
  previous: (accessPointId: string) => ProbeResult | undefined,
): Prober {
  return async (targets, timeoutMs) => {
    const pending = new Map<string, (rttMs: number | null) => void>();
    const onHandshake = (ev: { publicKey: string; initiator: boolean }) => {
      if (ev.initiator) pending.get(ev.publicKey)?.(clock.monotonicMs());
    };
    gateway.on('peer:handshake', onHandshake);
    try {
      return await Promise.all(
        targets.map((target) => probeOne(gateway, clock, target, timeoutMs, pending, previous)),
      );
    } finally {
      gateway.off('peer:handshake', onHandshake);
    }
  };
}

function probeOne(
  gateway: Gateway,
  clock: Clock,
  target: ProbeTarget,
  timeoutMs: number,
  pending: Map<string, (at: number | null) => void>,
  previous: (accessPointId: string) => ProbeResult | undefined,
): Promise<ProbeResult> {
  let lastHandshake = 0;
  try {
    lastHandshake = gateway.peer(target.publicKey).lastHandshakeUnixMs;
  } catch {
    return Promise.resolve({
      accessPointId: target.accessPointId,
      endpoint: target.endpoint,
      rttMs: null,
      atUnixMs: clock.unixMs(),
    });
  }
  const kept = previous(target.accessPointId);
  if (
    lastHandshake > 0 &&
    clock.unixMs() - lastHandshake < PROBE_HOLD_OFF_MS &&
    kept?.rttMs != null &&
    kept.endpoint === target.endpoint
  ) {
    return Promise.resolve(kept);
  }
  return new Promise<ProbeResult>((resolve) => {
    const start = clock.monotonicMs();
    const finish = (at: number | null) => {
      clearTimeout(timer);
      pending.delete(target.publicKey);
      resolve({
        accessPointId: target.accessPointId,
        endpoint: target.endpoint,
        rttMs: at === null ? null : Math.max(0, at - start),
        atUnixMs: clock.unixMs(),
      });
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    pending.set(target.publicKey, finish);
    try {
      gateway.initiateHandshake(target.publicKey);
    } catch {
      finish(null);
    }
  });
}
