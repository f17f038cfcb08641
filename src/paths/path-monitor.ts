/**
 * One path's probing and BFD-like state, pure: the caller passes the clock (monotonic ms).
 *
 *   unknown ──first reply──> up ──downAfter probes unanswered and no reply for
 *      │                      ^     downAfter intervals──> down
 *      └──downAfter misses──> down ──upAfter consecutive replies──┘
 *
 * A path that has been down is "settling" until it has been up for holdDownMs without losing a
 * single probe: policies do not move traffic back to it before then, so a link that flaps or
 * keeps losing probes never pulls traffic back and forth.
 */
import type { PathOptions, PathQuality, PathState } from './types.js';

interface Sample {
  sequence: number;
  sentMs: number;
  rttMs: number | null; // null: not answered (yet)
}

export class PathMonitor {
  state: PathState = 'unknown';
  #sequence = 0;
  #nextProbeMs = Number.NEGATIVE_INFINITY;
  #lastSentMs = Number.NEGATIVE_INFINITY;
  #samples: Sample[] = [];
  #sinceReply = 0; // probes sent since the last reply
  #lastReplyMs = -Infinity;
  #goodRun = 0;
  #lastAnswered = -1;
  #lastLossMs = Number.NEGATIVE_INFINITY;
  #everDown = false;
  #upSinceMs = 0;
  #lastQualityMs = -Infinity;
  #held = false;

  constructor(readonly options: PathOptions) {}

  /** A probe to send now, if one is due at this rate; it is recorded as sent. */
  probeDue(now: number, intervalMs: number): number | undefined {
    // A faster rate (a standby path that now carries traffic) applies from the last probe on.
    const due = Number.isFinite(this.#nextProbeMs)
      ? Math.min(this.#nextProbeMs, this.#lastSentMs + intervalMs)
      : now;
    if (now < due) return undefined;
    this.#lastSentMs = now;
    // Keep the phase: a late timer does not shift the schedule, but never bunches probes either.
    this.#nextProbeMs = Math.max(due + intervalMs, now + intervalMs / 2);
    const sequence = ++this.#sequence;
    this.#samples.push({ sequence, sentMs: now, rttMs: null });
    if (this.#samples.length > this.options.window) this.#samples.shift();
    this.#sinceReply++;
    return sequence;
  }

  /** A reply arrived; returns true if the state changed. Late (after timeoutMs), unknown and repeated replies are ignored. */
  onReply(now: number, sequence: number, rttMs: number): boolean {
    if (this.#held) return false;
    const s = this.#samples.find((x) => x.sequence === sequence);
    if (!s || s.rttMs !== null || now - s.sentMs > this.options.timeoutMs) return false;
    s.rttMs = rttMs;
    this.#sinceReply = 0;
    this.#lastReplyMs = now;
    // Consecutive: a gap in the answered sequence numbers is a lost probe and restarts the run.
    const gap = sequence !== this.#lastAnswered + 1;
    this.#goodRun = gap ? 1 : this.#goodRun + 1;
    if (gap && this.#lastAnswered >= 0) this.#lastLossMs = now;
    this.#lastAnswered = Math.max(this.#lastAnswered, sequence);
    if (this.state === 'up') return false;
    if (this.state === 'unknown' || this.#goodRun >= this.options.upAfter) {
      this.state = 'up';
      this.#upSinceMs = now;
      return true;
    }
    return false;
  }

  /**
   * Applies timeouts; returns true if the state changed (to down). Down is BFD's detection time:
   * downAfter probes sent since the last reply and no reply for downAfter intervals.
   */
  tick(now: number): boolean {
    const { downAfter, intervalMs } = this.options;
    const silent = this.#sinceReply >= downAfter && now - this.#lastReplyMs >= downAfter * intervalMs;
    if (this.state === 'down' || !silent) return false;
    this.state = 'down';
    this.#everDown = true;
    this.#goodRun = 0;
    return true;
  }

  /** A local failure (no route from the uplink): down at once, as BFD does on a local link down. */
  onLocalFailure(now: number): boolean {
    this.#lastLossMs = now;
    this.#goodRun = 0;
    if (this.state === 'down') return false;
    this.state = 'down';
    this.#everDown = true;
    return true;
  }

  /**
   * The path's uplink has no link (interface down, address gone): down at once, and replies are
   * ignored until release(), so a reply that still finds a way (another interface's route) cannot
   * bring it back while the link is known dead.
   */
  hold(now: number): boolean {
    this.#held = true;
    return this.onLocalFailure(now);
  }

  /** The link is back: the path comes up through probes (upAfter replies) and the hold-down. */
  release(): void {
    this.#held = false;
  }

  get held(): boolean {
    return this.#held;
  }

  /** Up, and past the hold-down (up and loss-free for holdDownMs) if it was ever down. */
  settled(now: number): boolean {
    if (this.state !== 'up') return false;
    return !this.#everDown || now - Math.max(this.#upSinceMs, this.#lastLossMs) >= this.options.holdDownMs;
  }

  quality(now: number): PathQuality {
    const decided = this.#samples.filter((s) => s.rttMs !== null || now - s.sentMs > this.options.timeoutMs);
    const rtts = decided.map((s) => s.rttMs).filter((r): r is number => r !== null);
    const lossPct = decided.length ? (100 * (decided.length - rtts.length)) / decided.length : 0;
    if (!rtts.length) return { rttMs: null, jitterMs: null, lossPct };
    const rttMs = rtts.reduce((a, b) => a + b, 0) / rtts.length;
    let jitter = 0;
    for (let i = 1; i < rtts.length; i++) jitter += Math.abs(rtts[i]! - rtts[i - 1]!);
    return { rttMs, jitterMs: rtts.length > 1 ? jitter / (rtts.length - 1) : 0, lossPct };
  }

  /** True once per qualityEveryMs: time to report path:quality. */
  qualityDue(now: number): boolean {
    if (now - this.#lastQualityMs < this.options.qualityEveryMs) return false;
    this.#lastQualityMs = now;
    return true;
  }
}
