/**
 * Tunnel throughput side by side in one run (issue 6): the raw veth underlay, Debian's
 * wireguard-go and sag, all between the same two namespaces (test/support/tunnel-topology.ts).
 * For each path: iperf3 TCP with 1 and 4 streams, 64-byte UDP packets/s received and loss, ping
 * (50 pings), and CPU seconds per GB spent by the tunnel processes of both ends during the
 * 1-stream TCP run. Repeats and reports medians; prints a table with sag's ratios and writes JSON.
 * Root only. Cleans up whatever happens.
 *
 *   npm run bench:tunnel                  # 3 repeats, 5 s per iperf3 run
 *   npm run bench:tunnel -- --quick       # 1 repeat, 2 s: for iterating
 *   npm run bench:tunnel -- --runs 5 --seconds 10
 *   SAG_OFFLOADS=off npm run bench:tunnel # sag without offloads (see docs/offloads.md)
 *   SAG_TUN_QUEUES=1 npm run bench:tunnel # sag with one TUN queue = one send worker (default:
 *                                         # online CPUs capped at 4)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { e2eSkipReason, sh } from '../test/support/netns.js';
import { buildTunnelTopology, TUNNEL_IP_B, type TunnelTopology } from '../test/support/tunnel-topology.js';
import { cpuSeconds, pidsByName, ping, tcp, udpSmall, type Link } from './lib/netperf.js';
import { median, printTable, writeJson, type Row } from './lib/report.js';

const WG_IP_A = '10.79.0.1';
const WG_IP_B = '10.79.0.2';
const PINGS = 50;

/** A wireguard-go tunnel between the same namespaces, on port 51821 of the same underlay. */
function addWireguardGo(topo: TunnelTopology, tag: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'sag-bench-wg-'));
  try {
    const key = () => execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
    const pub = (k: string) => execFileSync('wg', ['pubkey'], { input: k, encoding: 'utf8' }).trim();
    const [ka, kb] = [key(), key()];
    const sides = [
      {
        ns: topo.nsA,
        dev: `fpwa${tag}`,
        priv: ka,
        peer: pub(kb),
        ip: WG_IP_A,
        peerIp: WG_IP_B,
        endpoint: '10.78.0.2:51821',
      },
      {
        ns: topo.nsB,
        dev: `fpwb${tag}`,
        priv: kb,
        peer: pub(ka),
        ip: WG_IP_B,
        peerIp: WG_IP_A,
        endpoint: '10.78.0.1:51821',
      },
    ];
    for (const s of sides) {
      const keyFile = join(dir, `${s.ns}.key`);
      writeFileSync(keyFile, s.priv, { mode: 0o600 });
      // The UAPI socket path (/var/run/wireguard/DEV.sock) is not per namespace: names must differ.
      sh('wireguard-go', [s.dev], { ns: s.ns });
      sh(
        'wg',
        [
          'set',
          s.dev,
          'private-key',
          keyFile,
          'listen-port',
          '51821',
          'peer',
          s.peer,
          'allowed-ips',
          `${s.peerIp}/32`,
          'endpoint',
          s.endpoint,
        ],
        { ns: s.ns },
      );
      sh('ip', ['addr', 'add', `${s.ip}/24`, 'dev', s.dev], { ns: s.ns });
      sh('ip', ['link', 'set', s.dev, 'mtu', '1420', 'up'], { ns: s.ns });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Sample {
  tcp1: number;
  tcp4: number;
  udpPps: number;
  udpLoss: number;
  pingMs: number;
  cpuSPerGB: number;
}
type Metric = keyof Sample;

interface Path {
  name: string;
  ip: string;
  comm?: string;
}

function measure(topo: TunnelTopology, path: Path, seconds: number): Sample {
  const link: Link = { namespaces: topo.namespaces, client: topo.nsA, server: topo.nsB, serverIp: path.ip };
  const pids = path.comm ? pidsByName([topo.nsA, topo.nsB], path.comm) : [];
  const cpu0 = cpuSeconds(pids);
  const one = tcp(link, seconds, 1);
  const cpu = cpuSeconds(pids) - cpu0;
  const four = tcp(link, seconds, 4);
  const udp = udpSmall(link, seconds);
  return {
    tcp1: one.bitsPerSecond / 1e9,
    tcp4: four.bitsPerSecond / 1e9,
    udpPps: udp.receivedPps,
    udpLoss: udp.lossPercent,
    pingMs: ping(link, PINGS),
    cpuSPerGB: pids.length ? cpu / (one.bytes / 1e9) : NaN,
  };
}

const COLUMNS: [Metric, string][] = [
  ['tcp1', 'TCP 1 stream Gbit/s'],
  ['tcp4', 'TCP 4 streams Gbit/s'],
  ['udpPps', 'UDP 64 B rx pkt/s'],
  ['udpLoss', 'UDP loss %'],
  ['pingMs', 'ping ms'],
  ['cpuSPerGB', 'CPU s/GB (both ends)'],
];

function table(medians: Record<string, Sample>): Row[] {
  const rows: Row[] = [];
  for (const [metric, label] of COLUMNS) {
    const sag = medians.sag![metric];
    rows.push({
      metric: label,
      'raw veth': medians['raw veth']![metric],
      'wireguard-go': medians['wireguard-go']![metric],
      sag,
      'sag / wireguard-go': sag / medians['wireguard-go']![metric],
      'sag / raw veth': sag / medians['raw veth']![metric],
    });
  }
  return rows;
}

export async function runTunnel(argv: string[] = []): Promise<Row[]> {
  const skip = e2eSkipReason(['ip', 'iperf3', 'ping', 'wireguard-go', 'wg']);
  if (skip) {
    console.log(`\n(tunnel benchmark skipped: ${skip})`);
    return [];
  }
  const { values } = parseArgs({
    args: argv,
    options: { quick: { type: 'boolean' }, runs: { type: 'string' }, seconds: { type: 'string' } },
  });
  const runs = Number(values.runs ?? (values.quick ? 1 : 3));
  const seconds = Number(values.seconds ?? (values.quick ? 2 : 5));
  const topo = await buildTunnelTopology();
  try {
    addWireguardGo(topo, topo.nsA.slice(4, -1));
    sh('ping', ['-c', '1', '-W', '2', WG_IP_B], { ns: topo.nsA }); // let wireguard-go handshake first
    const paths: Path[] = [
      { name: 'raw veth', ip: '10.78.0.2' },
      { name: 'wireguard-go', ip: WG_IP_B, comm: 'wireguard-go' },
      { name: 'sag', ip: TUNNEL_IP_B, comm: 'node' },
    ];
    const samples: Record<string, Sample[]> = Object.fromEntries(paths.map((p) => [p.name, []]));
    for (let i = 0; i < runs; i++) {
      for (const p of paths) samples[p.name]!.push(measure(topo, p, seconds));
    }
    const medians: Record<string, Sample> = {};
    for (const p of paths) {
      const s = samples[p.name]!;
      medians[p.name] = Object.fromEntries(
        COLUMNS.map(([m]) => [m, median(s.map((x) => x[m]))]),
      ) as unknown as Sample;
    }
    const rows = table(medians);
    const offloads = process.env.SAG_OFFLOADS ?? 'on';
    const tunQueues = process.env.SAG_TUN_QUEUES ?? 'default';
    printTable(
      `tunnel, MTU 1420, iperf3 ${seconds} s, median of ${runs}, sag offloads: ${offloads}, TUN queues: ${tunQueues}`,
      rows,
    );
    writeJson('tunnel', { runs, seconds, offloads, tunQueues, samples, medians });
    return rows;
  } finally {
    await topo.cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runTunnel(process.argv.slice(2));
