/**
 * Follows rtnetlink link and address changes through `ip -o monitor link address` (iproute2),
 * after a dump of the current state (`ip -o link show`, `ip -o addr show`).
 *
 * Why a child process and not a netlink socket in the addon: iproute2 is on every system sag runs
 * on (it already configures the TUN devices, src/net/link.ts), its one-line output is stable, and
 * the watcher then needs no native code, no extra thread and no new dependency. The cost is one
 * idle process and a parse per change, which is nothing next to a link event's rate.
 *
 * The monitor may die (killed, OOM, `ip` missing): it is restarted with exponential backoff and
 * every death is reported as a `failure` event; after a restart the dump runs again, so changes
 * missed meanwhile are caught up. Lines it cannot parse are counted and otherwise ignored.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { parseIpMonitorLine, type IpMonitorLine } from './ip-monitor-lines.js';

const run = promisify(execFile);

export interface IpMonitorOptions {
  /** The iproute2 binary (default "ip"). */
  command?: string;
  /** First restart delay after a death, doubled per further death up to maxBackoffMs (default 100). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A monitor that ran this long resets the backoff (default 10 s). */
  stableAfterMs?: number;
  /** Time source for the backoff (tests pass a fake one). */
  timers?: MonitorTimers;
}

export interface MonitorTimers {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: MonitorTimers = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface IpMonitorEvents {
  /** The full state, after each (re)start: replaces whatever was known. */
  snapshot: [IpMonitorLine[]];
  /** One change, in order, after the snapshot it follows. */
  change: [IpMonitorLine];
  /** The monitor died or could not start; it is started again after restartInMs. */
  failure: [{ message: string; restartInMs: number }];
}

export class IpMonitor extends EventEmitter<IpMonitorEvents> {
  readonly #command: string;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #stableAfterMs: number;
  readonly #timers: MonitorTimers;
  #backoffMs: number;
  #child: ChildProcess | undefined;
  #restart: unknown;
  #running = false;
  /** Lines that arrived while the dump of this generation was running: applied after it. */
  #pending: IpMonitorLine[] | null = null;
  #generation = 0;
  #unparsed = 0;
  #lastDumpError = '';

  constructor(options: IpMonitorOptions = {}) {
    super();
    this.#command = options.command ?? 'ip';
    this.#initialBackoffMs = options.initialBackoffMs ?? 100;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#stableAfterMs = options.stableAfterMs ?? 10_000;
    this.#timers = options.timers ?? realTimers;
    this.#backoffMs = this.#initialBackoffMs;
  }

  /** Lines seen that were not understood (kept for diagnostics). */
  get unparsedLines(): number {
    return this.#unparsed;
  }

  /** The monitor child's pid, while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#spawn();
  }

  /** Stops the monitor and waits for the child to exit. Idempotent. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#restart !== undefined) this.#timers.clearTimeout(this.#restart);
    this.#restart = undefined;
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.kill('SIGTERM');
    // `ip monitor` ends on SIGTERM at once; a child stuck in the kernel gets SIGKILL after 2 s.
    const force = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(force);
  }

  #spawn(): void {
    const generation = ++this.#generation;
    const startedAt = this.#timers.now();
    const child = spawn(this.#command, ['-o', 'monitor', 'link', 'address'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#pending = [];
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-500)));
    createInterface({ input: child.stdout! }).on('line', (line) => this.#onLine(generation, line));
    child.once('spawn', () => void this.#dump(generation));
    let failed = false;
    const died = (why: string) => {
      if (failed) return;
      failed = true;
      if (this.#generation === generation && this.#timers.now() - startedAt >= this.#stableAfterMs)
        this.#backoffMs = this.#initialBackoffMs;
      this.#onDeath(generation, `${why}${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
    };
    child.once('error', (err) => died(`${this.#command} monitor could not run (${err.message})`));
    child.once('close', (code, signal) =>
      died(`${this.#command} monitor exited (${signal ?? `code ${code}`})`),
    );
  }

  async #dump(generation: number): Promise<void> {
    let lines: IpMonitorLine[];
    try {
      const [links, addresses] = await Promise.all([
        run(this.#command, ['-o', 'link', 'show'], { encoding: 'utf8' }),
        run(this.#command, ['-o', 'addr', 'show'], { encoding: 'utf8' }),
      ]);
      lines = this.#parseAll(`${links.stdout}\n${addresses.stdout}`);
    } catch (err) {
      // The monitor runs but the state is unknown: start over (the death path reports it).
      if (generation === this.#generation) this.#child?.kill('SIGTERM');
      this.#lastDumpError = (err as Error).message;
      return;
    }
    if (generation !== this.#generation || !this.#running) return;
    const pending = this.#pending ?? [];
    this.#pending = null;
    this.emit('snapshot', lines);
    for (const l of pending) this.emit('change', l);
  }

  #parseAll(text: string): IpMonitorLine[] {
    const out: IpMonitorLine[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const parsed = parseIpMonitorLine(line);
      if (parsed) out.push(parsed);
      else this.#unparsed++;
    }
    return out;
  }

  #onLine(generation: number, line: string): void {
    if (generation !== this.#generation || !line.trim()) return;
    const parsed = parseIpMonitorLine(line);
    if (!parsed) {
      this.#unparsed++;
      return;
    }
    if (this.#pending) this.#pending.push(parsed);
    else this.emit('change', parsed);
  }

  #onDeath(generation: number, message: string): void {
    if (generation !== this.#generation || !this.#running) return;
    this.#child = undefined;
    const restartInMs = this.#backoffMs;
    this.#backoffMs = Math.min(this.#maxBackoffMs, this.#backoffMs * 2);
    const dump = this.#lastDumpError ? ` (state dump failed: ${this.#lastDumpError})` : '';
    this.#lastDumpError = '';
    this.emit('failure', { message: `${message}${dump}`, restartInMs });
    this.#restart = this.#timers.setTimeout(() => {
      this.#restart = undefined;
      if (this.#running) this.#spawn();
    }, restartInMs);
  }
}
