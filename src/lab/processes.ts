/**
 * The lab's daemons: real `sag` command lines (controller, ap run, agent) inside
 * namespaces, their output kept in log files, and a stop that always ends them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/cli/sag.js next to this module's dist/lab/ (under tsx: the built dist, which `npm test` builds first). */
export const SAG_JS = fileURLToPath(new URL('../../dist/cli/sag.js', import.meta.url));

export class Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
  readonly #out: WriteStream;
  readonly #lines: string[] = [];
  readonly #waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];

  /**
   * `netOnly`: enter only the network namespace (nsenter), not the private mount
   * namespace `ip netns exec` makes. A process that itself creates named namespaces
   * (sag ap run) needs that, or its /run/netns mounts would be visible to it alone.
   */
  constructor(
    name: string,
    ns: string,
    args: string[],
    logDir: string,
    env: NodeJS.ProcessEnv = {},
    netOnly = false,
  ) {
    this.name = name;
    this.log = join(logDir, `${name}.log`);
    this.#out = createWriteStream(this.log);
    const [cmd, prefix] = netOnly
      ? ['nsenter', [`--net=/run/netns/${ns}`, '--']]
      : ['ip', ['netns', 'exec', ns]];
    this.child = spawn(cmd, [...prefix, process.execPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        this.#out.write(chunk);
        const text = partial + chunk.toString('utf8');
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.#line(line);
      });
    }
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines of output, for error messages. */
  tail(n = 15): string {
    return this.#lines.slice(-n).join('\n');
  }

  waitFor(pattern: RegExp, ms: number): Promise<string> {
    const seen = this.#lines.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.name}: no line matching ${pattern} within ${ms} ms; its last output:\n${this.tail()}`,
            ),
          ),
        ms,
      );
      const onExit = () =>
        reject(
          new Error(
            `${this.name} exited (${this.child.exitCode ?? this.child.signalCode}); its last output:\n${this.tail()}`,
          ),
        );
      this.child.once('exit', onExit);
      this.#waiters.push({
        pattern,
        resolve: (line) => {
          clearTimeout(timer);
          this.child.off('exit', onExit);
          resolve(line);
        },
      });
    });
  }

  /** SIGTERM, then SIGKILL after graceMs. Resolves with the exit code (null if killed by a signal). */
  async stop(graceMs = 8000, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.running) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    await new Promise((r) => this.#out.end(r));
    return this.child.exitCode;
  }

  #line(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > 500) this.#lines.splice(0, 100);
    for (const w of [...this.#waiters]) {
      if (!w.pattern.test(line)) continue;
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      w.resolve(line);
    }
  }
}

/** Runs a command inside a namespace to completion; resolves with its exit status and output. */
export function runIn(
  ns: string,
  cmd: string,
  args: string[],
  timeoutMs = 30_000,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
