/**
 * PreUp, PostUp, PreDown and PostDown as wg-quick(8) runs them: in file order, each by bash with
 * `%i` replaced by the interface name, under wg-quick's own shell options (`set -e -o pipefail`,
 * extglob, LC_ALL=C), sharing our stdout and stderr. The first failing command stops the phase.
 * Hooks are the one place a config file runs a shell, because that is what the key means.
 */
import { spawn } from 'node:child_process';
import { HookFailedError } from '../errors.js';
import type { Logger } from '../util/logger.js';

export type HookPhase = 'PreUp' | 'PostUp' | 'PreDown' | 'PostDown';

/** wg-quick's substitution: every `%i`, nothing else (no escape for a literal "%i"). */
export function expandHook(hook: string, iface: string): string {
  return hook.replaceAll('%i', iface);
}

function runBash(command: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-O', 'extglob', '-c', command], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

/** Runs the phase's hooks in order; rejects with HookFailedError at the first that fails. */
export async function runHooks(
  phase: HookPhase,
  hooks: readonly string[],
  iface: string,
  log: Logger,
): Promise<void> {
  for (const hook of hooks) {
    const command = expandHook(hook, iface);
    log('info', `${phase}: ${command}`);
    let result: Awaited<ReturnType<typeof runBash>>;
    try {
      result = await runBash(command);
    } catch (cause) {
      throw new HookFailedError(`${phase} could not run bash: ${(cause as Error).message}`, { cause });
    }
    if (result.code !== 0) {
      const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.code}`;
      throw new HookFailedError(`${phase} command ${JSON.stringify(command)} ${how}`);
    }
  }
}
