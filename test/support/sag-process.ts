/**
 * sag's own programs as child processes: the built entry points (dist/, so `npm run build:ts`
 * first), keys from wg(8), and `sag up FILE` inside a namespace, waited for until it is up.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Namespaces } from './netns.js';
import { waitFor } from './time.js';

export const SAG_WG = fileURLToPath(new URL('../../dist/cli/sag-wg.js', import.meta.url));
export const SAG = fileURLToPath(new URL('../../dist/cli/sag.js', import.meta.url));

export const wgGenkey = (): string => execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
export const wgPubkey = (key: string): string =>
  execFileSync('wg', ['pubkey'], { input: key, encoding: 'utf8' }).trim();

export interface SagUpOptions {
  /** Extra environment (SAG_TEST_REKEY_AFTER_MS, say); `ip netns exec` passes only what is given here. */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** How much of the end of stderr log() keeps (a long soak must not hold all of it). */
  keepLog?: number;
  onStderr?: (chunk: string) => void;
  /** Names the process in the error when it does not come up. */
  what?: string;
}

/** `sag up CONF` in namespace `ns` (killed at the namespaces' cleanup); resolves once it logs "IFACE is up:". */
export async function startSagUp(
  namespaces: Namespaces,
  ns: string,
  conf: string,
  opts: SagUpOptions = {},
): Promise<{ child: ChildProcess; log(): string }> {
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const child = namespaces.spawn(ns, 'env', [...env, process.execPath, SAG, 'up', conf]);
  let log = '';
  child.stderr!.on('data', (d) => {
    log = opts.keepLog === undefined ? log + String(d) : (log + String(d)).slice(-opts.keepLog);
    opts.onStderr?.(String(d));
  });
  child.stdout!.resume();
  if (
    !(await waitFor(() => / is up: /.test(log) || child.exitCode !== null, opts.timeoutMs ?? 15000, 20)) ||
    child.exitCode !== null
  ) {
    throw new Error(`${opts.what ?? 'sag up'} did not come up: ${log}`);
  }
  return { child, log: () => log };
}
