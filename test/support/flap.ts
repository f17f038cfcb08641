/**
 * A link that flaps: every `periodMs` it goes down for `downMs`, then comes back, until stop().
 * "Down" is whatever the caller's `cut` does (link down, an nftables blackhole) and the function it
 * returns undoes it; `mode` 'alternate' takes turns between the caller's cuts, so one run sees a
 * carrier loss and a silent blackhole both.
 *
 * The flapper does no I/O of its own: the cuts are passed in (test/support/soak.ts gives it
 * `ip link set DEV down` and nftBlackhole on the branch side of one underlay link).
 */

export type FlapMode = 'link' | 'blackhole' | 'alternate';
export const FLAP_MODES: readonly FlapMode[] = ['link', 'blackhole', 'alternate'];

export interface FlapOptions {
  /** One cycle (down, then up until the next cut), ms; 0 disables flapping. */
  periodMs: number;
  /** How long the link stays down in each cycle, ms (less than periodMs). */
  downMs: number;
  mode: FlapMode;
}

/** A cut: makes the link fail and returns the function that restores it. */
export type Cut = () => () => void;

export class Flapper {
  #timer: NodeJS.Timeout | undefined;
  #upTimer: NodeJS.Timeout | undefined;
  #restore: (() => void) | undefined;
  #touched = false;
  /** Cuts done so far, by kind. */
  readonly cuts: Record<'link' | 'blackhole', number> = { link: 0, blackhole: 0 };

  constructor(
    readonly options: FlapOptions,
    readonly cut: Record<'link' | 'blackhole', Cut>,
  ) {
    if (options.periodMs > 0 && !(options.downMs > 0 && options.downMs < options.periodMs)) {
      throw new Error(
        `flap: the down time (${options.downMs} ms) must be above 0 and below the period (${options.periodMs} ms)`,
      );
    }
    if (!FLAP_MODES.includes(options.mode))
      throw new Error(`flap: bad mode "${String(options.mode)}" (${FLAP_MODES.join(', ')})`);
  }

  get total(): number {
    return this.cuts.link + this.cuts.blackhole;
  }

  get down(): boolean {
    return this.#restore !== undefined;
  }

  start(): void {
    if (this.options.periodMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => this.#goDown(), this.options.periodMs);
  }

  /** Restores the link and stops flapping; idempotent. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#goUp();
  }

  /** Whether the link was down at any time since the last call (for marking sampling windows). */
  takeTouched(): boolean {
    const t = this.#touched || this.down;
    this.#touched = false;
    return t;
  }

  #goDown(): void {
    if (this.#restore) return;
    const kind =
      this.options.mode === 'alternate' ? (this.total % 2 === 0 ? 'link' : 'blackhole') : this.options.mode;
    this.#restore = this.cut[kind]();
    this.cuts[kind]++;
    this.#touched = true;
    this.#upTimer = setTimeout(() => this.#goUp(), this.options.downMs);
  }

  #goUp(): void {
    clearTimeout(this.#upTimer);
    const restore = this.#restore;
    this.#restore = undefined;
    if (!restore) return;
    this.#touched = true; // the window the link comes back in saw it down too
    restore();
  }
}
