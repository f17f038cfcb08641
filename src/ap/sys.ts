/**
 * The few system commands an access point runs: iproute2 (optionally inside a
 * network namespace), nft and sysctl in a namespace. Arguments go as argv, never
 * through a shell; a failure is a SystemError naming the command and its stderr.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SystemError } from '../errors.js';

const run = promisify(execFile);
const NFT = '/usr/sbin/nft'; // node_modules/.bin may hold an unrelated `nft`

export async function exec(cmd: string, args: string[], input?: string): Promise<string> {
  try {
    if (input === undefined) return (await run(cmd, args, { encoding: 'utf8' })).stdout;
    return await new Promise<string>((resolve, reject) => {
      const child = execFile(cmd, args, { encoding: 'utf8' }, (err, stdout, stderr) =>
        err ? reject(Object.assign(err, { stderr })) : resolve(stdout),
      );
      child.stdin?.end(input);
    });
  } catch (cause) {
    const stderr = String((cause as { stderr?: string }).stderr ?? '').trim();
    throw new SystemError(`${cmd} ${args.join(' ')} failed: ${stderr || (cause as Error).message}`, {
      cause,
    });
  }
}

/** `ip [-n NS] ARGS`. */
export function ip(ns: string | null, args: string[]): Promise<string> {
  return exec('ip', ns === null ? args : ['-n', ns, ...args]);
}

/** Runs nft with a ruleset file on stdin inside the namespace: the whole file applies atomically or not at all. */
export function nftApply(ns: string, ruleset: string): Promise<string> {
  return exec('ip', ['netns', 'exec', ns, NFT, '-f', '-'], ruleset);
}

export function nftList(ns: string, args: string[]): Promise<string> {
  return exec('ip', ['netns', 'exec', ns, NFT, ...args]);
}

export function sysctl(ns: string, key: string, value: string): Promise<string> {
  return exec('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `${key}=${value}`]);
}

/** What a CCN space runs; the real commands below, an in-memory double in testing/system.ts. */
export interface ApSystem {
  ip(ns: string | null, args: string[]): Promise<string>;
  nftApply(ns: string, ruleset: string): Promise<string>;
  nftList(ns: string, args: string[]): Promise<string>;
  sysctl(ns: string, key: string, value: string): Promise<string>;
}

export const hostSystem: ApSystem = { ip, nftApply, nftList, sysctl };

export async function netnsList(): Promise<string[]> {
  const out = await exec('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

export async function netnsExists(ns: string): Promise<boolean> {
  return (await netnsList()).includes(ns);
}
