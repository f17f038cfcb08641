/**
 * Failover: the outage sequence-numbered UDP through the tunnel sees when the branch's active
 * uplink is cut, for sag multipath (two uplinks, probes every 100 ms, defaults otherwise) and, in
 * the same run, for plain WireGuard on the same wires (sag without multipath: one endpoint reached
 * by two kernel routes, roaming, persistent keepalive 25 s). Two cuts: `ip link set down` (the
 * kernel withdraws the route) and an nftables blackhole with the link up (nothing local notices).
 * With multipath a second stream, in a class the branch duplicates over both paths, runs beside the
 * first: it should lose nothing at any cut. Root only. Topology: test/support/multipath-topology.ts.
 *
 *   npm run bench:failover [-- --cuts N]      (default 20 cuts per case; the reference blackhole 3)
 */
import { e2eSkipReason } from '../test/support/netns.js';
import {
  buildMultipathTopology,
  HUB_IP,
  type MultipathTopology,
} from '../test/support/multipath-topology.js';
import { nsSpawner, ProbeReceiverChild, ProbeSenderChild } from '../test/support/children.js';
import { wallNow } from '../test/support/time.js';
import type { SenderStats } from '../test/support/probe-traffic.js';
import { median, printTable, writeJson, type Row } from './lib/report.js';

const RATE_PPS = 1000;
const DUPLICATED_PPS = 500; // the duplicated class's stream, beside the main one
const SETTLE_MS = 2500; // after a cut: time for failover, then the report window
const NO_RECOVERY_MS = 8000; // the reference blackhole: how long we wait for a recovery that never comes
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CaseResult {
  outages: number[];
  lost: number[];
  /** Cuts after which traffic had not resumed when the measurement ended. */
  unrecovered: number;
  /** Multipath: packets of the duplicated class lost around each cut. */
  duplicatedLost: number[];
}

type Cut = 'link-down' | 'blackhole';

/** Cuts the active uplink, measures, restores; multipath alternates uplinks (no failback wait). */
async function cutOnce(
  topo: MultipathTopology,
  rx: ProbeReceiverChild,
  tx: ProbeSenderChild,
  cut: Cut,
  n: 1 | 2,
  waitMs: number,
  duplicated?: ProbeReceiverChild,
): Promise<{ ms: number; lost: number; recovered: boolean; duplicatedLost: number }> {
  await rx.reset();
  await duplicated?.reset();
  await sleep(300);
  if ((await rx.report()).unique < 100) throw new Error('no traffic through the tunnel before the cut');
  if (topo.multipath) await topo.waitActive(`wan${n}`, 3000); // the cut must hit the path in use
  const at = wallNow();
  let restore: () => void;
  if (cut === 'link-down') {
    topo.linkDown(n);
    restore = () => topo.linkUp(n);
  } else {
    const hole = topo.blackhole(n);
    restore = () => hole.remove();
  }
  await sleep(waitMs);
  // With the sender's count, a path that never came back counts to the end (not as no outage).
  const sent = (await tx.proc.request({ op: 'stats' })).stats as SenderStats;
  const report = await rx.report({ cutAtMs: at, windowMs: waitMs - 200, sent });
  // Holes inside the window (the duplicated stream's sender keeps running, so none at the tail).
  const duplicatedLost = duplicated ? (await duplicated.report()).lost : 0;
  restore();
  return {
    ms: report.outage!.ms,
    lost: report.outage!.lost,
    recovered: report.outage!.recovered,
    duplicatedLost,
  };
}

async function runCase(multipath: boolean, cut: Cut, cuts: number): Promise<CaseResult> {
  // A long hold-down: no failback during the run, so each cut hits the path that carries traffic.
  const topo = await buildMultipathTopology(
    multipath
      ? { branch: { paths: { holdDownMs: 600_000 } } }
      : { multipath: false, persistentKeepalive: 25 },
  );
  const res: CaseResult = { outages: [], lost: [], unrecovered: 0, duplicatedLost: [] };
  try {
    const rx = await ProbeReceiverChild.spawn({ host: HUB_IP, port: 0 }, nsSpawner(topo.ns, topo.nsHub));
    const tx = await ProbeSenderChild.spawn(
      { host: HUB_IP, port: rx.port, ratePps: RATE_PPS },
      nsSpawner(topo.ns, topo.nsBranch),
    );
    let dupRx: ProbeReceiverChild | undefined;
    let dupTx: ProbeSenderChild | undefined;
    if (multipath) {
      dupRx = await ProbeReceiverChild.spawn({ host: HUB_IP, port: 0 }, nsSpawner(topo.ns, topo.nsHub));
      await topo.branch.request({
        op: 'classes',
        classes: [
          {
            name: 'critical',
            match: { protocol: 17, dstAddresses: [`${HUB_IP}/32`], dstPorts: [dupRx.port, dupRx.port] },
            policy: { kind: 'duplicate' },
          },
        ],
      });
      dupTx = await ProbeSenderChild.spawn(
        { host: HUB_IP, port: dupRx.port, ratePps: DUPLICATED_PPS },
        nsSpawner(topo.ns, topo.nsBranch),
      );
    }
    try {
      if (multipath) await topo.waitActive('wan1');
      else await sleep(1500);
      let active: 1 | 2 = 1;
      for (let i = 0; i < cuts; i++) {
        const wait = !multipath && cut === 'blackhole' ? NO_RECOVERY_MS : SETTLE_MS;
        const r = await cutOnce(topo, rx, tx, cut, active, wait, dupRx);
        if (multipath) res.duplicatedLost.push(r.duplicatedLost);
        res.outages.push(r.ms);
        res.lost.push(r.lost);
        res.unrecovered += r.recovered ? 0 : 1;
        const dup = multipath ? `; duplicated class ${r.duplicatedLost} lost` : '';
        process.stdout.write(
          `  ${multipath ? 'sag multipath' : 'plain WireGuard'} ${cut} #${i + 1}: ${r.ms.toFixed(0)} ms, ${r.lost} lost${r.recovered ? '' : ' (never recovered)'}${dup}\n`,
        );
        if (multipath) {
          // The cut uplink comes back (up, held down); the next cut takes the one now active, and
          // traffic falls over to the restored one: with no settled path, any path that is up serves.
          active = active === 1 ? 2 : 1;
          await sleep(900); // the restored path answers probes again: a failover target
        } else {
          await sleep(1500); // the route is back; traffic returns to link 1 by itself
        }
      }
    } finally {
      await dupTx?.close();
      await dupRx?.close();
      await tx.close();
      await rx.close();
    }
  } finally {
    await topo.cleanup();
  }
  return res;
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

export async function runFailover(cuts = 20): Promise<Row[]> {
  const skip = e2eSkipReason(['ip']);
  if (skip) {
    console.log(`\n(failover benchmark skipped: ${skip})`);
    return [];
  }
  const rows: Row[] = [];
  const raw: Record<string, CaseResult> = {};
  for (const cut of ['link-down', 'blackhole'] as const) {
    const sag = await runCase(true, cut, cuts);
    const ref = await runCase(false, cut, cut === 'blackhole' ? Math.min(3, cuts) : cuts);
    raw[`sag-${cut}`] = sag;
    raw[`wireguard-${cut}`] = ref;
    const refMedian = median(ref.outages);
    const noRecovery = ref.unrecovered > ref.outages.length / 2;
    for (const [who, r] of [
      ['plain WireGuard (reference)', ref],
      ['sag multipath', sag],
    ] as const) {
      const m = median(r.outages);
      rows.push({
        cut,
        setup: who,
        cuts: r.outages.length,
        'min ms': pct(r.outages, 0),
        'median ms': m,
        'p95 ms': pct(r.outages, 0.95),
        'max ms': pct(r.outages, 1),
        'median lost': median(r.lost),
        'not recovered': r.unrecovered,
        'vs reference':
          r === ref
            ? 1
            : refMedian === 0
              ? 'n/a (reference lost nothing)'
              : noRecovery
                ? `< ${(m / refMedian).toFixed(3)} (reference did not recover)`
                : Number((m / refMedian).toFixed(3)),
      });
    }
  }
  printTable(`Failover outage, UDP at ${RATE_PPS} pps through the tunnel, branch -> hub`, rows);
  const dupRows: Row[] = (['link-down', 'blackhole'] as const).map((cut) => {
    const lost = raw[`sag-${cut}`]!.duplicatedLost;
    return {
      cut,
      cuts: lost.length,
      'lost, all cuts': lost.reduce((a, b) => a + b, 0),
      'max lost at one cut': Math.max(0, ...lost),
    };
  });
  printTable(`Duplicated class beside it (UDP at ${DUPLICATED_PPS} pps, sent over both paths)`, dupRows);
  writeJson('failover', { rows, duplicated: dupRows, raw });
  return [...rows, ...dupRows];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--cuts');
  await runFailover(i > 0 ? Number(process.argv[i + 1]) : 20);
}
