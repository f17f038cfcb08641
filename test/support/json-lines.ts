/**
 * The line protocol between a test and a harness child (udp-relay-cli.ts, probe-cli.ts), which may
 * run inside another network namespace: config as JSON on argv; the child prints JSON lines on
 * stdout, first {"event":"ready",...}; requests are JSON lines on stdin, each acknowledged by one
 * line {"id":<same>,"ok":true,"at":<wallNow() when applied>,...} or {"id":..,"ok":false,"error":".."}.
 * The `at` lets a test date a cut by the child's clock, not by when the ack reached it; a handler
 * that returns its own `at` (taken right after the change) overrides the default (after the handler).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stopChild, tsxCommand } from './processes.js';
import { wallNow } from './time.js';

export type Json = Record<string, unknown>;

// ---- child side ----

export function emit(obj: Json): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

/** Serves requests from stdin one at a time (so acks come back in order); `onClose` when stdin ends. */
export function serveStdin(
  handler: (req: Json) => Json | void | Promise<Json | void>,
  onClose: () => void,
): void {
  const rl = createInterface({ input: process.stdin });
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    if (!line.trim()) return;
    chain = chain.then(async () => {
      let id: unknown = null;
      try {
        const req = JSON.parse(line) as unknown;
        if (typeof req !== 'object' || req === null || Array.isArray(req))
          throw new Error('a request must be a JSON object');
        id = (req as Json).id ?? null;
        const result = (await handler(req as Json)) ?? {};
        emit({ id, ok: true, at: wallNow(), ...result });
      } catch (e) {
        emit({ id, ok: false, error: e instanceof Error ? e.message : String(e) });
      }
    });
  });
  rl.on('close', () => void chain.then(onClose));
}

/** For a CLI's main: the parsed JSON argument, or a usage error and exit 2. */
export function parseArgJson(arg: string | undefined, usage: string): Json {
  try {
    const v = JSON.parse(arg ?? '') as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Json;
  } catch {
    // fall through to usage
  }
  process.stderr.write(`usage: ${usage}\n`);
  process.exit(2);
}

// ---- parent side ----

/** Starts a process; the default spawns on this host, `nsSpawner` (children.ts) inside a namespace. */
export type Spawner = (cmd: string, args: string[]) => ChildProcess;

export const localSpawner: Spawner = (cmd, args) => spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });

/** The node command line that runs a harness entry of this folder (udp-relay-cli.ts, probe-cli.ts). */
export function harnessCommand(script: string, args: string[]): { cmd: string; args: string[] } {
  return tsxCommand(fileURLToPath(new URL(`./${script}`, import.meta.url)), args);
}

export class HarnessChild {
  readonly child: ChildProcess;
  /** The child's {"event":"ready",...} line. */
  readonly ready: Promise<Json>;
  #stderr = '';
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  readonly #events: Json[] = [];
  readonly #waiters: { event: string; resolve: (v: Json) => void }[] = [];
  readonly #exited: Promise<void>;

  constructor(child: ChildProcess) {
    this.child = child;
    child.stderr?.on('data', (d) => (this.#stderr = (this.#stderr + String(d)).slice(-4000)));
    child.stdin?.on('error', () => undefined); // a child that died mid-write is reported by exit
    this.#exited = new Promise((r) => child.once('exit', () => r()));
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => this.#onLine(line));
    this.ready = this.event('ready', 20000);
    this.ready.catch(() => undefined);
    void this.#exited.then(() => {
      const err = new Error(
        `harness child exited (${child.exitCode ?? child.signalCode}); stderr: ${this.#stderr}`,
      );
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    });
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Every {"event": ...} line seen so far, in order. */
  events(): readonly Json[] {
    return this.#events;
  }

  /** Sends one request and waits for its ack; an {"ok":false} ack rejects. */
  request(req: Json, timeoutMs = 15000): Promise<Json> {
    const id = this.#nextId++;
    return new Promise<Json>((resolve, reject) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        return reject(new Error(`harness child already exited; stderr: ${this.#stderr}`));
      }
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`no ack for ${JSON.stringify(req)} in ${timeoutMs} ms; stderr: ${this.#stderr}`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.child.stdin!.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  }

  /** Resolves with the first {"event": name} line (including one already seen). */
  event(name: string, timeoutMs = 15000): Promise<Json> {
    const seen = this.#events.find((e) => e.event === name);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "${name}" event in ${timeoutMs} ms; stderr: ${this.#stderr}`)),
        timeoutMs,
      );
      const w = { event: name, resolve: (v: Json) => (clearTimeout(timer), resolve(v)) };
      this.#waiters.push(w);
      void this.#exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`harness child exited before "${name}"; stderr: ${this.#stderr}`));
      });
    });
  }

  /** Ends stdin (the child shuts down cleanly), then SIGKILL if it has not exited in `graceMs`. */
  close(graceMs = 3000): Promise<void> {
    return stopChild(this.child, 'stdin', graceMs);
  }

  #onLine(line: string): void {
    let msg: Json;
    try {
      msg = JSON.parse(line) as Json;
    } catch {
      return; // not ours (a stray log line)
    }
    if (typeof msg.event === 'string') {
      this.#events.push(msg);
      for (let i = this.#waiters.length - 1; i >= 0; i--) {
        const w = this.#waiters[i]!;
        if (w.event === msg.event) {
          this.#waiters.splice(i, 1);
          w.resolve(msg);
        }
      }
      return;
    }
    const p = typeof msg.id === 'number' ? this.#pending.get(msg.id) : undefined;
    if (!p) return;
    this.#pending.delete(msg.id as number);
    if (msg.ok === true) p.resolve(msg);
    else p.reject(new Error(String(msg.error ?? 'request failed')));
  }
}
