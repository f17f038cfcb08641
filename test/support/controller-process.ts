/**
 * `sag controller` as a real child process (node --import tsx, running runOperatorCommand from
 * src/cli/operator directly, so tests do not depend on how sag.ts dispatches to it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { pinnedCaFromChain, readPeerChain } from '../../src/contract/trust.js';

const entry = new URL('../../src/cli/operator/index.ts', import.meta.url).href;
const SCRIPT = `import(process.argv[1]).then((m) => m.runOperatorCommand(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }))
  .then((code) => { process.exitCode = code ?? 99; });`;

export interface ControllerChild {
  proc: ChildProcess;
  url: string;
  /** What it printed as "CA fingerprint: ..." (undefined with --insecure-http). */
  caFingerprint: string | undefined;
  stdout(): string;
  stderr(): string;
  exit: Promise<number | null>;
}

/** Starts `sag controller ARGS` and waits until it prints its URL (rejects if it exits first). */
export async function startControllerChild(
  args: string[],
  env: Record<string, string> = {},
): Promise<ControllerChild> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('SAG_API_KEY' in env)) delete childEnv['SAG_API_KEY'];
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', '-e', SCRIPT, '--', entry, 'controller', ...args],
    { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "listening" line in 30 s; stdout: ${out} stderr: ${err}`)),
      30_000,
    );
    const check = () => {
      const m = /listening on (https?:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening; stdout: ${out} stderr: ${err}`));
    });
  });
  const caFingerprint = /^CA fingerprint: (sha256:[0-9a-f]{64})$/m.exec(out)?.[1];
  return { proc, url, caFingerprint, stdout: () => out, stderr: () => err, exit };
}

/** Kills a child the test left running (a failed assertion), by its own pid. */
export function killAtTeardown(t: { teardown(fn: () => void): void }, child: ControllerChild): void {
  t.teardown(() => {
    if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
  });
}

/** Runs `sag controller ARGS` expecting it to fail at startup: its exit status and output. */
export async function failedControllerStart(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  try {
    const child = await startControllerChild(args, env);
    child.proc.kill('SIGKILL');
    throw new Error(`the controller started at ${child.url}; expected a startup failure`);
  } catch (err) {
    const m = /^exited with (\S+) before listening; stdout: ([\s\S]*) stderr: ([\s\S]*)$/.exec(
      (err as Error).message,
    );
    if (!m) throw err;
    return { code: m[1] === 'null' ? null : Number(m[1]), stdout: m[2]!, stderr: m[3]! };
  }
}

/**
 * One raw API call (any status) over TLS, trusting the child's CA by the fingerprint it printed,
 * as devices do: the chain is read first, then the pinned CA is the only one trusted.
 */
export async function pinnedCall(
  c: ControllerChild,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  const url = new URL(`${c.url}${path}`);
  const ca = pinnedCaFromChain(await readPeerChain(url, 5000), c.caFingerprint!, c.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
