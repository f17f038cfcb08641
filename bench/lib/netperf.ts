/**
 * Measurements between two namespaces for bench/tunnel.ts: iperf3 TCP and UDP, ping, and the CPU
 * time the tunnel processes of both namespaces spend (from /proc/<pid>/stat). Root only.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Namespaces } from '../../test/support/netns.js';
import { sh } from '../../test/support/netns.js';

export interface Link {
  namespaces: Namespaces;
  client: string; // namespace running the iperf3 client / ping
  server: string; // namespace running the iperf3 server
  serverIp: string; // address the traffic goes to (decides which path it takes)
}

/** Runs an iperf3 client against a one-shot server; returns iperf3's JSON. */
function iperf3(link: Link, args: string[]): Record<string, any> {
  const server = link.namespaces.spawn(link.server, 'iperf3', ['-s', '-1', '-B', link.serverIp]);
  execFileSync('sleep', ['0.3']);
  try {
    return JSON.parse(sh('iperf3', ['-c', link.serverIp, '-J', ...args], { ns: link.client }));
  } finally {
    if (server.exitCode === null) server.kill();
  }
}

export interface TcpResult {
  bitsPerSecond: number;
  bytes: number;
}

export function tcp(link: Link, seconds: number, streams: number): TcpResult {
  const out = iperf3(link, ['-t', String(seconds), '-P', String(streams)]);
  return { bitsPerSecond: out.end.sum_received.bits_per_second, bytes: out.end.sum_received.bytes };
}

export interface UdpResult {
  receivedPps: number;
  lossPercent: number;
}

/** 64-byte UDP payloads sent as fast as the client can; what the server received. */
export function udpSmall(link: Link, seconds: number): UdpResult {
  const out = iperf3(link, ['-u', '-b', '0', '-l', '64', '-t', String(seconds)]);
  const sum = out.end.sum;
  const received = sum.packets - sum.lost_packets;
  return {
    receivedPps: received / sum.seconds,
    lossPercent: sum.packets ? (100 * sum.lost_packets) / sum.packets : 0,
  };
}

/** Average round-trip time in ms of `count` pings 20 ms apart. */
export function ping(link: Link, count: number): number {
  const out = sh('ping', ['-c', String(count), '-i', '0.02', '-q', link.serverIp], { ns: link.client });
  const m = /= [\d.]+\/([\d.]+)\//.exec(out);
  if (!m) throw new Error(`cannot parse ping output:\n${out}`);
  return Number(m[1]);
}

const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Pids of processes named `comm` (its /proc comm) running in the given namespaces. */
export function pidsByName(namespaces: string[], comm: string): number[] {
  const pids: number[] = [];
  for (const ns of namespaces) {
    const out = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
    for (const p of out.split(/\s+/).filter(Boolean)) {
      try {
        if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() === comm) pids.push(Number(p));
      } catch {
        /* exited meanwhile */
      }
    }
  }
  return pids;
}

/** User + system CPU seconds of the processes so far (all their threads). */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  }
  return ticks / TICK;
}
