/**
 * TCP throughput through the two-namespace topology (test/helpers/tunnel-topology.ts), side by
 * side in one run: the raw veth underlay, Debian's wireguard-go, and sag. iperf3, one stream,
 * medians of 3 runs. Root only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { e2eSkipReason, sh } from '../test/helpers/netns.js';
import { buildTunnelTopology, TUNNEL_IP_B, type TunnelTopology } from '../test/helpers/tunnel-topology.js';
import { median, printTable, writeJson, type Row } from './lib/report.js';

const RUNS = 3;
const SECONDS = 5;
const WG_IP_A = '10.79.0.1';
const WG_IP_B = '10.79.0.2';

/** A wireguard-go tunnel between the same namespaces, on port 51821 of the same underlay. */
function addWireguardGo(topo: TunnelTopology): void {
  const dir = mkdtempSync(join(tmpdir(), 'sag-bench-wg-'));
  try {
    const key = () => execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
    const pub = (k: string) => execFileSync('wg', ['pubkey'], { input: k, encoding: 'utf8' }).trim();
    const [ka, kb] = [key(), key()];
    const sides = [
      { ns: topo.nsA, dev: 'wgba0', priv: ka, peer: pub(kb), ip: WG_IP_A, peerIp: WG_IP_B, endpoint: '10.78.0.2:51821' },
      { ns: topo.nsB, dev: 'wgbb0', priv: kb, peer: pub(ka), ip: WG_IP_B, peerIp: WG_IP_A, endpoint: '10.78.0.1:51821' },
    ];
    for (const s of sides) {
      const keyFile = join(dir, `${s.ns}.key`);
      writeFileSync(keyFile, s.priv, { mode: 0o600 });
      // The UAPI socket path (/var/run/wireguard/DEV.sock) is not per namespace: names must differ.
      sh('wireguard-go', [s.dev], { ns: s.ns });
      sh('wg', ['set', s.dev, 'private-key', keyFile, 'listen-port', '51821', 'peer', s.peer, 'allowed-ips', `${s.peerIp}/32`, 'endpoint', s.endpoint], { ns: s.ns });
      sh('ip', ['addr', 'add', `${s.ip}/24`, 'dev', s.dev], { ns: s.ns });
      sh('ip', ['link', 'set', s.dev, 'mtu', '1420', 'up'], { ns: s.ns });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function iperf(topo: TunnelTopology, serverIp: string, streams = 1): number {
  const server = topo.namespaces.spawn(topo.nsB, 'iperf3', ['-s', '-1', '-B', serverIp]);
  execFileSync('sleep', ['0.3']);
  try {
    const out = sh('iperf3', ['-c', serverIp, '-t', String(SECONDS), '-P', String(streams), '-J'], { ns: topo.nsA });
    return JSON.parse(out).end.sum_received.bits_per_second as number;
  } finally {
    server.kill();
  }
}

export async function runTunnel(): Promise<Row[]> {
  const skip = e2eSkipReason(['ip', 'iperf3', 'wireguard-go', 'wg']);
  if (skip) {
    console.log(`\n(tunnel benchmark skipped: ${skip})`);
    return [];
  }
  const topo = await buildTunnelTopology();
  try {
    addWireguardGo(topo);
    sh('ping', ['-c', '1', '-W', '2', WG_IP_B], { ns: topo.nsA }); // let wireguard-go handshake first
    const targets = { 'raw veth': '10.78.0.2', 'wireguard-go': WG_IP_B, sag: TUNNEL_IP_B } as const;
    const results: Record<string, number[]> = { 'raw veth': [], 'wireguard-go': [], sag: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const [name, ip] of Object.entries(targets)) results[name]!.push(iperf(topo, ip));
    }
    const med = (n: string) => median(results[n]!);
    const rows: Row[] = Object.keys(targets).map((name) => ({
      path: name,
      'Gbit/s': med(name) / 1e9,
      'vs wireguard-go': med(name) / med('wireguard-go'),
      'vs raw veth': med(name) / med('raw veth'),
    }));
    printTable(`iperf3 TCP, 1 stream, ${SECONDS} s, MTU 1420, median of ${RUNS}`, rows);
    writeJson('tunnel', results);
    return rows;
  } finally {
    await topo.cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runTunnel();
