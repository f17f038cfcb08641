/**
 * Multipath status for `sag show`: a running `sag up` / `sag-wg` serves its paths as one JSON
 * document on /var/run/sag/IFACE.paths.sock (the WireGuard UAPI has no words for paths), and
 * `sag show` reads it and renders it under each peer. An interface without it (wireguard-go, an
 * older sag) simply shows no paths.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import type { Gateway } from '../gateway/gateway.js';
import type { PathStatus } from '../paths/types.js';
import { listenPrivate } from '../util/private-socket.js';

export const STATUS_DIR = '/var/run/sag';

export interface PeerPaths {
  publicKey: string;
  multipath: boolean;
  paths: PathStatus[];
}

export function pathsSocketPath(iface: string, dir = STATUS_DIR): string {
  return `${dir}/${iface}.paths.sock`;
}

/** Serves the gateway's paths; stop() removes the socket. */
export class PathsStatusServer {
  #server: Server | undefined;

  constructor(
    readonly path: string,
    readonly gateway: Gateway,
  ) {}

  async start(): Promise<void> {
    mkdirSync(this.path.slice(0, this.path.lastIndexOf('/')), { recursive: true, mode: 0o755 });
    rmSync(this.path, { force: true });
    const server = createServer((sock) => {
      // A client gone before the answer is written (EPIPE, ECONNRESET) must not take sag up down.
      sock.on('error', () => sock.destroy());
      const body: PeerPaths[] = this.gateway
        .peers()
        .map((p) => ({ publicKey: p.publicKey, multipath: p.multipath, paths: p.paths }));
      sock.end(`${JSON.stringify(body)}\n`);
    });
    // Paths name the endpoints and uplinks in use: for root only, like the UAPI socket.
    await listenPrivate(server, this.path);
    this.#server = server;
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
    rmSync(this.path, { force: true });
  }
}

/** The interface's paths, or [] when it serves none. */
export function queryPaths(iface: string, dir = STATUS_DIR): Promise<PeerPaths[]> {
  return new Promise((resolve) => {
    const sock = connect(pathsSocketPath(iface, dir));
    let text = '';
    sock.on('data', (d) => (text += String(d)));
    sock.on('end', () => {
      try {
        resolve(JSON.parse(text) as PeerPaths[]);
      } catch {
        resolve([]);
      }
    });
    sock.on('error', () => resolve([]));
  });
}

const ms = (v: number | null) => (v === null ? '-' : `${v.toFixed(1)} ms`);

/** Text lines for one peer's paths, indented under the peer in `sag show`. */
export function renderPaths(p: PeerPaths | undefined): string[] {
  if (!p || !p.paths.length) return [];
  const lines = [
    `  multipath: ${p.multipath ? 'yes' : 'waiting for the peer to answer a probe (plain WireGuard until then)'}`,
  ];
  for (const x of p.paths) {
    const where = `${x.uplink} -> ${x.endpoint.address.includes(':') ? `[${x.endpoint.address}]` : x.endpoint.address}:${x.endpoint.port}`;
    lines.push(
      `  path ${x.id} ${where}: ${x.state}${x.active ? `, active${x.classes?.length ? ` (${x.classes.join(', ')})` : ''}` : ''}; rtt ${ms(x.rttMs)}, jitter ${ms(x.jitterMs)}, loss ${x.lossPct.toFixed(1)}%`,
    );
  }
  return lines;
}

/** Inserts each peer's path lines after its block in `sag show`'s text. */
export function withPaths(text: string, peers: PeerPaths[]): string {
  if (!peers.length) return text;
  const byKey = new Map(peers.map((p) => [p.publicKey, p]));
  const out: string[] = [];
  let current: PeerPaths | undefined;
  const flush = () => {
    out.push(...renderPaths(current));
    current = undefined;
  };
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const m = /^peer: (\S+)$/.exec(line);
    if (m || line === '') {
      if (current && line === '') flush();
      if (m) current = byKey.get(m[1]!);
    }
    out.push(line);
  }
  flush();
  return `${out.join('\n')}\n`;
}
