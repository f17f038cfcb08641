/**
 * Shared by `sag-wg` and `sag up`: run a Gateway with its userspace API socket until a signal
 * arrives or its interface is deleted, then tear everything down. And the wireguard-go style
 * daemonization: re-run ourselves detached and return once the child says it is ready.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, writeSync } from 'node:fs';
import type { Gateway } from '../gateway/gateway.js';
import { silenceStderrLoggers, type Logger } from '../util/logger.js';
import { GatewayUapiDevice, UapiServer, uapiSocketPath } from '../uapi/index.js';
import { PathsStatusServer, pathsSocketPath } from './paths-status.js';

/**
 * SAG_TEST_REKEY_AFTER_MS shortens sag's own REKEY_AFTER_TIME so tests and labs see rotation under
 * traffic in seconds; the peer keeps its stock timers. Ignored unless a positive number.
 */
export function testRekeyOption(): { rekeyAfterTimeMs?: number } {
  const ms = Number(process.env.SAG_TEST_REKEY_AFTER_MS);
  return Number.isFinite(ms) && ms > 0 ? { rekeyAfterTimeMs: ms } : {};
}

let stopRequested: Promise<string> | undefined;

/**
 * Resolves at the first SIGTERM, SIGINT or SIGHUP received from the first call on. Calling it early
 * (sag up does, before its PreUp hooks) turns a signal during bring-up into an orderly undo rather
 * than death with policy rules and DNS left behind.
 */
export function stopSignal(): Promise<string> {
  stopRequested ??= new Promise((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
      process.once(sig, () => resolve(`received ${sig}`));
  });
  return stopRequested;
}

/** What runs around serving (sag up: PostUp; PreDown and its own undo; PostDown). */
export interface ServeHooks {
  /** Once the UAPI socket serves (so `wg` works in it), before onReady; a failure stops serving. */
  afterStart?: () => Promise<void>;
  /** While the interface and the UAPI socket are still there (unless the interface was deleted). */
  beforeStop?: () => Promise<void>;
  /** Once the interface is gone. */
  afterStop?: () => Promise<void>;
}

/**
 * Serves the gateway's UAPI socket and resolves when the process should stop: SIGTERM/SIGINT, or
 * the interface disappearing (`ip link del`), which is how wg-quick takes a userspace device down.
 */
export async function serveUntilDone(
  gateway: Gateway,
  iface: string,
  log: Logger,
  onReady?: () => void,
  hooks: ServeHooks = {},
): Promise<string> {
  const server = new UapiServer(uapiSocketPath(iface), new GatewayUapiDevice(gateway));
  await server.start();
  const paths = new PathsStatusServer(pathsSocketPath(iface), gateway);
  await paths.start();
  try {
    await hooks.afterStart?.();
  } catch (err) {
    await server.stop();
    await paths.stop();
    throw err;
  }
  onReady?.();
  let watch: NodeJS.Timeout | undefined;
  const deleted = new Promise<string>((resolve) => {
    watch = setInterval(() => {
      if (!existsSync(`/sys/class/net/${iface}`)) resolve(`interface ${iface} was deleted`);
    }, 250);
  });
  const reason = await Promise.race([deleted, stopSignal()]);
  clearInterval(watch);
  log('info', `shutting down: ${reason}`);
  await hooks.beforeStop?.();
  await server.stop();
  await paths.stop();
  await gateway.stop();
  await hooks.afterStop?.();
  return reason;
}

/**
 * Re-runs this program detached with WG_PROCESS_FOREGROUND=1 and waits for its "ready" line on a
 * pipe: 0 once ready, 1 (after copying the child's error output) if it exits first. The child's
 * stdout/stderr are not inherited, so whoever ran us is not held open by the daemon.
 */
export function daemonize(argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, ...argv], {
      detached: true,
      env: { ...process.env, WG_PROCESS_FOREGROUND: '1', SAG_READY_FD: '3' },
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    const ready = child.stdio[3]!;
    ready.on('data', () => {
      child.removeAllListeners('exit');
      child.unref();
      child.stderr!.destroy();
      ready.destroy();
      resolve(0);
    });
    child.once('exit', (code) => {
      process.stderr.write(stderr);
      resolve(code === 0 ? 0 : 1);
    });
  });
}

/** Tells a waiting parent (see daemonize) that we are up; from then on a daemon logs nothing. */
export function signalReady(): void {
  const fd = Number(process.env.SAG_READY_FD);
  if (!Number.isInteger(fd) || fd < 3) return;
  silenceStderrLoggers();
  process.stderr.on('error', () => {}); // the parent closed our stderr: writing must not kill us
  try {
    writeSync(fd, 'ready\n');
    closeSync(fd);
  } catch {
    // the parent went away; nothing to tell
  }
}
