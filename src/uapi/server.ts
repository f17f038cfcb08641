/**
 * The userspace API socket (/var/run/wireguard/IFACE.sock) that `wg` and `wg-quick` talk to.
 * Requests on one connection are answered strictly in order; a set request is parsed and validated
 * whole before the device sees it. The device behind it is an interface, so this is tested with a
 * plain object and used by sag-wg with a Gateway.
 */
import { mkdirSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { SagError, SystemError } from '../errors.js';
import { listenPrivate } from '../util/private-socket.js';
import { Errno, UapiError } from './errors.js';
import { UapiFramer, type UapiFrame } from './framer.js';
import { formatErrorReply, formatGetReply } from './get.js';
import { parseSetRequest } from './set.js';
import { formatStatsReply, type UapiStats } from './stats.js';
import type { UapiDeviceState, UapiSetCommand } from './types.js';

/** What the socket serves. set() throws UapiError (with its errno) to refuse a request. */
export interface UapiDevice {
  get(): UapiDeviceState | Promise<UapiDeviceState>;
  set(command: UapiSetCommand): void | Promise<void>;
  /** Drop counters for `sag-stats=1` (stats.ts); a device without them answers EINVAL. */
  stats?(): UapiStats | Promise<UapiStats>;
}

export const UAPI_DIR = '/var/run/wireguard';
export const uapiSocketPath = (iface: string, dir = UAPI_DIR): string => `${dir}/${iface}.sock`;

export class UapiSocketInUseError extends SagError {
  constructor(path: string) {
    super('ERR_SAG_UAPI_IN_USE', `another process is serving ${path} (is the interface already up?)`);
  }
}

export class UapiServer {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  constructor(
    readonly path: string,
    private readonly device: UapiDevice,
  ) {}

  /** Listens; a stale socket file left by a killed process is replaced, a live one is refused. */
  async start(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o755 });
    if (await isLive(this.path)) throw new UapiSocketInUseError(this.path);
    try {
      unlinkSync(this.path);
    } catch {
      // nothing stale to remove
    }
    const server = createServer((socket) => this.#serve(socket));
    // Only root may configure the interface, as with wireguard-go.
    await listenPrivate(server, this.path).catch((cause: Error) => {
      throw new SystemError(`cannot listen on ${this.path}: ${cause.message}`, { cause });
    });
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const framer = new UapiFramer();
    let queue = Promise.resolve();
    const handleFrames = (frames: UapiFrame[]) => {
      for (const frame of frames) queue = queue.then(() => this.#answer(socket, frame));
    };
    socket.on('data', (chunk: Buffer) => handleFrames(framer.push(chunk)));
    socket.on('end', () => {
      handleFrames(framer.end());
      void queue.then(() => socket.end());
    });
  }

  async #answer(socket: Socket, frame: UapiFrame): Promise<void> {
    if (socket.destroyed) return;
    switch (frame.kind) {
      case 'get':
        socket.write(await this.#reply(async () => formatGetReply(await this.device.get())));
        return;
      case 'stats':
        socket.write(
          await this.#reply(async () => {
            if (!this.device.stats) throw new UapiError(Errno.EINVAL, 'this device keeps no drop counters');
            return formatStatsReply(await this.device.stats());
          }),
        );
        return;
      case 'set':
        socket.write(
          await this.#reply(async () => {
            await this.device.set(parseSetRequest(frame.text));
            return formatErrorReply(0);
          }),
        );
        return;
      case 'error':
        socket.write(formatErrorReply(frame.error.errno));
        if (frame.close) socket.end();
        return;
      case 'close':
        socket.end();
        return;
    }
  }

  async #reply(produce: () => Promise<string>): Promise<string> {
    try {
      return await produce();
    } catch (err) {
      return formatErrorReply(err instanceof UapiError ? err.errno : Errno.EIO);
    }
  }
}

function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
