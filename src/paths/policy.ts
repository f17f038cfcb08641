/**
 * Selection policies, pure: given the paths' specs, states and quality, which path(s) a traffic
 * class uses. Hold-down: a path that came back from down is eligible only once it has settled,
 * unless no settled path is up. Hysteresis keeps a class where it is when the alternative is only
 * marginally better, so measurement noise does not move traffic.
 */
import type { SelectionMode } from '../dataplane/selection.js';
import type { PathQuality, PathSpec, Policy } from './types.js';

export interface Candidate {
  spec: PathSpec;
  quality: PathQuality;
  up: boolean;
  settled: boolean;
}

export interface Choice {
  mode: SelectionMode;
  paths: number[];
  weights?: number[];
}

/** A path must beat the current one by this much RTT (ms and fraction) to take lowest-latency traffic. */
const RTT_HYSTERESIS_MS = 2;
const RTT_HYSTERESIS_FRACTION = 0.1;

function rttOf(c: Candidate): number {
  return c.quality.rttMs ?? Number.POSITIVE_INFINITY;
}

/** Priority first (smaller wins), then lower RTT, then id: a total order. */
function byPreference(a: Candidate, b: Candidate): number {
  return a.spec.priority - b.spec.priority || rttOf(a) - rttOf(b) || a.spec.id - b.spec.id;
}

function spread(paths: Candidate[]): Choice {
  if (paths.length === 1) return { mode: 'single', paths: [paths[0]!.spec.id] };
  const sorted = [...paths].sort((a, b) => a.spec.id - b.spec.id);
  return { mode: 'weighted', paths: sorted.map((c) => c.spec.id), weights: sorted.map((c) => c.spec.weight) };
}

function single(c: Candidate): Choice {
  return { mode: 'single', paths: [c.spec.id] };
}

function meetsSla(c: Candidate, p: Extract<Policy, { kind: 'sla' }>): boolean {
  const q = c.quality;
  if (q.rttMs === null) return false;
  if (p.maxLossPct !== undefined && q.lossPct > p.maxLossPct) return false;
  if (p.maxRttMs !== undefined && q.rttMs > p.maxRttMs) return false;
  if (p.maxJitterMs !== undefined && (q.jitterMs ?? 0) > p.maxJitterMs) return false;
  return true;
}

/**
 * The eligible paths: the settled ones; if none is settled, the current ones that are still up
 * (so a path coming back never pulls traffic over before its hold-down, even when every path has
 * been down at some point); failing that, every path that is up.
 */
export function eligible(all: Candidate[], current: number[] = []): Candidate[] {
  const settled = all.filter((c) => c.settled);
  if (settled.length) return settled;
  const up = all.filter((c) => c.up);
  const kept = up.filter((c) => current.includes(c.spec.id));
  return kept.length ? kept : up;
}

/** The class's choice, or null when no path is up (the peer's roaming endpoint then carries it). */
export function choose(policy: Policy, all: Candidate[], current: number[] | undefined): Choice | null {
  const paths = eligible(all, current);
  if (!paths.length) return null;
  const keep = current?.length === 1 ? paths.find((c) => c.spec.id === current[0]) : undefined;
  switch (policy.kind) {
    case 'active-standby': {
      const best = Math.min(...paths.map((c) => c.spec.priority));
      return spread(paths.filter((c) => c.spec.priority === best));
    }
    case 'weighted':
      return spread(paths);
    case 'lowest-latency': {
      const best = [...paths].sort((a, b) => rttOf(a) - rttOf(b) || a.spec.id - b.spec.id)[0]!;
      if (keep && rttOf(keep) <= rttOf(best) * (1 + RTT_HYSTERESIS_FRACTION) + RTT_HYSTERESIS_MS)
        return single(keep);
      return single(best);
    }
    case 'sla': {
      if (keep && meetsSla(keep, policy)) return single(keep);
      const meeting = paths.filter((c) => meetsSla(c, policy)).sort(byPreference);
      if (meeting.length) return single(meeting[0]!);
      // Nobody meets it: the best available, by loss then latency.
      const best = [...paths].sort(
        (a, b) => a.quality.lossPct - b.quality.lossPct || rttOf(a) - rttOf(b) || a.spec.id - b.spec.id,
      );
      return single(best[0]!);
    }
    case 'duplicate': {
      // The first copy goes by the hold-down rules. The second may take a path still in its
      // hold-down: a copy moves no traffic off a working path, and without it the class would
      // lose at the next cut exactly what duplication is for. Settled paths are preferred.
      const first = [...paths].sort(byPreference)[0]!;
      const second = all
        .filter((c) => c.up && c.spec.id !== first.spec.id)
        .sort((a, b) => Number(b.settled) - Number(a.settled) || byPreference(a, b))[0];
      return second ? { mode: 'duplicate', paths: [first.spec.id, second.spec.id] } : single(first);
    }
  }
}
