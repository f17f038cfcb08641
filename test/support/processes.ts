/**
 * Child processes in tests: the node command line for a .ts entry, waiting for a line a child
 * prints, and stopping a child politely, then by force.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** The node command line that runs a .ts entry through tsx (resolved absolutely, so cwd does not matter). */
export function tsxCommand(entry: string, args: string[]): { cmd: string; args: string[] } {
  return { cmd: process.execPath, args: ['--import', import.meta.resolve('tsx'), entry, ...args] };
}

export function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * Asks a child to stop (a signal, or 'stdin' to end its stdin), then SIGKILLs it if it has not
 * exited within `graceMs`; resolves when it has exited (waiting at most `graceMs` more after the kill).
 */
export async function stopChild(
  child: ChildProcess,
  ask: NodeJS.Signals | 'stdin',
  graceMs = 3000,
): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const within = (ms: number) =>
    Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  if (ask === 'stdin') child.stdin?.end();
  else child.kill(ask);
  if (await within(graceMs)) return;
  child.kill('SIGKILL');
  await within(graceMs);
}

/** Resolves with the first stdout line matching `pattern` (rejects on exit or timeout). */
export function waitForLine(child: ChildProcess, pattern: RegExp, ms = 15000): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; stderr: ${stderr}`)),
      ms,
    );
    lines.on('line', (line) => {
      if (pattern.test(line)) {
        clearTimeout(timer);
        lines.removeAllListeners('line');
        resolve(line);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${pattern}; stderr: ${stderr}`));
    });
  });
}
