/**
 * Running system tools (ip, nft, resolvconf): always an argument vector, never a shell, so no
 * field of a config file can inject a command. A failure names the command and its stderr.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { SystemError } from '../errors.js';

export interface RunOptions {
  /** Written to the command's stdin (closed after). */
  readonly input?: string;
}

/** Runs `file args...`, resolves with its stdout; rejects with a SystemError on a non-zero exit. */
export function runCommand(file: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const shown = [file, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.stdin.on('error', () => {}); // a command that exits without reading stdin is judged by its status
    child.stdin.end(opts.input ?? '');
    child.once('error', (cause) => reject(new SystemError(`${shown} failed: ${cause.message}`, { cause })));
    child.once('close', (code, signal) => {
      if (code === 0) return resolve(stdout);
      const why = stderr.trim() || (signal ? `killed by ${signal}` : `exit status ${code}`);
      reject(new SystemError(`${shown} failed: ${why}`));
    });
  });
}

/** The path of an executable found on PATH (as `command -v` finds it), or undefined. */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
