/** `sag up CONF` as a child process inside a namespace, for the root tests that drive it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { SAG } from './sag-process.js';
import { waitFor } from './time.js';

export interface Running {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/** Starts `sag up CONF` in `ns` (with `env` added) and resolves once it says the interface is up. */
export async function sagUp(ns: string, conf: string, env: Record<string, string> = {}): Promise<Running> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, SAG, 'up', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const ready = await waitFor(() => / is up: /.test(err) || child.exitCode !== null, 20000, 50);
  if (!ready || child.exitCode !== null) throw new Error(`sag up did not come up: ${err}`);
  return { child, stderr: () => err, exited };
}
