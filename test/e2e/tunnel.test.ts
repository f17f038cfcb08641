/**
 * End to end through real TUN devices in two network namespaces (topology in
 * test/support/tunnel-topology.ts): ping, a 50 MiB TCP transfer with checksums compared (with two
 * TUN queues, i.e. two send workers, and a shorter one with one), and a
 * capture on the underlay veth proving only type-4 WireGuard datagrams cross it, no plaintext.
 */
import test, { type ExecutionContext } from 'ava';
import { fileURLToPath } from 'node:url';
import { e2eSkipReason, sh } from '../support/netns.js';
import { waitForLine } from '../support/processes.js';
import { startCapture } from '../support/capture.js';
import { ipv4Udp, readPcap, wireguardDatagrams } from '../support/pcap.js';
import { buildTunnelTopology, TUNNEL_IP_B, type TunnelTopology } from '../support/tunnel-topology.js';

const skip = e2eSkipReason(['ip', 'ping', 'tcpdump']);
if (skip) console.log(`[skip] e2e tunnel tests: ${skip}`);
const e2e = skip ? test.skip : test.serial;

const MARKER = 'SAG-PLAINTEXT-MARKER-7f3a9c';
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

let topo: TunnelTopology | undefined;
test.after.always(async () => {
  await topo?.cleanup();
});

e2e('1 ping crosses the tunnel both ways', async (t) => {
  topo ??= await buildTunnelTopology({ tunQueues: 2 });
  const out = sh('ping', ['-c', '5', '-i', '0.2', '-W', '2', TUNNEL_IP_B], { ns: topo.nsA });
  t.regex(out, /5 received/);
  const stats = await topo.stats('b');
  t.true(stats.peer.counters.rxPackets >= 5);
  t.is(stats.peer.counters.drops.bad_auth, 0);
});

/**
 * Sends `mb` MiB through the tunnel with checksums compared while capturing the underlay: only
 * type-4 datagrams, no plaintext, no drops. Returns how many datagrams the largest frame held
 * (more than one: UDP GSO was in use).
 */
async function transfer(t: ExecutionContext, topo: TunnelTopology, mb: number): Promise<number> {
  const capture = await startCapture(topo.namespaces, topo.nsA, topo.vethA, { immediate: false });
  const sink = topo.namespaces.spawn(topo.nsB, process.execPath, [
    fixture('tcp-sink.mjs'),
    TUNNEL_IP_B,
    '5201',
  ]);
  await waitForLine(sink, /^LISTENING/);
  const sinkDone = waitForLine(sink, /^SINK /, 120000);
  const source = topo.namespaces.spawn(topo.nsA, process.execPath, [
    fixture('tcp-source.mjs'),
    TUNNEL_IP_B,
    '5201',
    String(mb),
    MARKER,
  ]);
  const [sourceLine, sinkLine] = await Promise.all([waitForLine(source, /^SOURCE /, 120000), sinkDone]);
  const [, sentBytes, sentHash] = sourceLine.split(' ');
  const [, gotBytes, gotHash] = sinkLine.split(' ');
  t.is(Number(sentBytes), mb * 1024 * 1024);
  t.is(gotBytes, sentBytes);
  t.is(gotHash, sentHash);

  const file = (await capture.stop()).pcap!;
  const frames = readPcap(file);
  let transport = 0;
  let largest = 0;
  for (const f of frames) {
    if (f.etherType === 0x0806) continue; // ARP on the underlay is fine
    t.is(f.etherType, 0x0800, 'only IPv4 on the underlay');
    const udp = ipv4Udp(f.payload);
    if (!udp) {
      t.fail('a non-UDP IPv4 packet crossed the underlay');
      break;
    }
    t.true(udp.srcPort === topo.underlayPort && udp.dstPort === topo.underlayPort);
    const datagrams = wireguardDatagrams(udp.payload);
    const bad = datagrams.find((d) => d.readUInt32LE(0) !== 4);
    if (bad) {
      t.fail(`a UDP datagram of type ${bad[0]} crossed the underlay`);
      break;
    }
    transport += datagrams.length;
    largest = Math.max(largest, datagrams.length);
  }
  const expected = Math.floor((mb * 1024 * 1024) / 1400) * 0.8;
  t.true(transport > expected, `expected many transport datagrams, saw ${transport}`);
  t.is(file.indexOf(Buffer.from(MARKER)), -1, 'the plaintext marker must not appear on the wire');
  const stats = await topo.stats('b');
  for (const [reason, n] of Object.entries(stats.peer.counters.drops)) t.is(n, 0, `drops ${reason}`);
  return largest;
}

e2e(
  '2 a 50 MiB TCP transfer arrives intact and the wire carries only type-4 datagrams (2 TUN queues)',
  async (t) => {
    topo ??= await buildTunnelTopology({ tunQueues: 2 });
    // Two queues, so two send workers: the device really is multi-queue.
    t.regex(sh('ip', ['-d', 'link', 'show', topo.tunA], { ns: topo.nsA }), /multi_queue numqueues 2\b/);
    const largest = await transfer(t, topo, 50);
    // Unless offloads were forced off for this run, the sender used UDP GSO (docs/offloads.md: SAG_OFFLOADS).
    if (process.env.SAG_OFFLOADS === undefined) t.true(largest > 1, 'UDP GSO frames on the underlay');
  },
);

e2e(
  '3 with every offload forced off (SAG_OFFLOADS=off) a 20 MiB transfer arrives intact, one datagram per frame',
  async (t) => {
    const off = await buildTunnelTopology({ offloads: 'off' });
    try {
      t.is(await transfer(t, off, 20), 1);
    } finally {
      await off.cleanup();
    }
  },
);

e2e(
  '4 with one TUN queue (one send worker, as before multi-queue) a 20 MiB transfer arrives intact',
  async (t) => {
    const one = await buildTunnelTopology({ tunQueues: 1 });
    try {
      t.notRegex(sh('ip', ['-d', 'link', 'show', one.tunA], { ns: one.nsA }), /multi_queue/);
      await transfer(t, one, 20);
    } finally {
      await one.cleanup();
    }
  },
);
