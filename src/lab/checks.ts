/**
 * What the lab proves, each as a named check with a result a person can read:
 * reach inside a CCN and to the attached VPC, isolation of the other CCN (with
 * the access point's own drop counter as witness), and the bandwidth limit
 * measured with iperf3 against the instance's Mbit/s.
 */
import type { Lab } from './lab.js';
import { runIn } from './processes.js';
import { BRANCHES, VPC, type BranchSpec } from './topology.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

const [B1, B2, B3] = BRANCHES as [BranchSpec, BranchSpec, BranchSpec];

/** Tries a ping a few times: the first packets may wait for a handshake. */
async function reaches(lab: Lab, from: BranchSpec, to: string, tries = 4): Promise<boolean> {
  for (let i = 0; i < tries; i++) if (await lab.ping(from, to)) return true;
  return false;
}

async function reach(lab: Lab, from: BranchSpec, to: string, label: string): Promise<CheckResult> {
  const ok = await reaches(lab, from, to);
  return {
    name: `${from.name} (${from.ccnId}) reaches ${label}`,
    ok,
    detail: ok ? `ping ${to}: replies` : `ping ${to}: no reply`,
  };
}

/** ccn-b's denied counter on ap-m1 (namespace <prefix>-ccn-b). */
export async function deniedAtAp(lab: Lab, ccnId: string): Promise<number> {
  const status = lab.apStatus('ap-m1');
  return status?.ccns.find((c) => c.ccnId === ccnId)?.denied ?? 0;
}

async function freshDenied(lab: Lab, ccnId: string, above: number, ms = 5000): Promise<number> {
  const until = Date.now() + ms;
  let n = await deniedAtAp(lab, ccnId);
  while (n <= above && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    n = await deniedAtAp(lab, ccnId);
  }
  return n;
}

export async function isolation(lab: Lab): Promise<CheckResult[]> {
  // ccn-b's own CIDR is 192.168.0.0/16, so b3 does send this to ap-m1: the access point must drop it.
  const before = await deniedAtAp(lab, 'ccn-b');
  const toB1 = await lab.ping(B3, B1.lanHost, 3);
  const after = await freshDenied(lab, 'ccn-b', before);
  const toVpc = await lab.ping(B3, VPC.host, 2);
  return [
    {
      name: `${B3.name} (${B3.ccnId}) cannot reach ${B1.name} (${B1.ccnId})`,
      ok: !toB1 && after > before,
      detail: `ping ${B1.lanHost}: ${toB1 ? 'REPLIES' : 'no reply'}; ap-m1 ${B3.ccnId} denied ${before} -> ${after}`,
    },
    {
      name: `${B3.name} (${B3.ccnId}) cannot reach the VPC`,
      ok: !toVpc,
      detail: `ping ${VPC.host}: ${toVpc ? 'REPLIES' : 'no reply'}`,
    },
  ];
}

/** UDP at twice the limit from b1 to b2's LAN: what arrives is b2's instance bandwidth. */
export async function measureRateMbps(
  lab: Lab,
  seconds = 3,
  offeredMbps = 2 * B2.bandwidthMbps,
): Promise<{ mbps: number; raw: string }> {
  const server = runIn(
    lab.topology.ns(`${B2.name}l`),
    'iperf3',
    ['-s', '-1', '-B', B2.lanHost],
    (seconds + 15) * 1000,
  );
  await new Promise((r) => setTimeout(r, 400));
  const client = await runIn(
    lab.topology.ns(`${B1.name}l`),
    'iperf3',
    ['-c', B2.lanHost, '-u', '-b', `${offeredMbps}M`, '-l', '1200', '-t', String(seconds), '-J'],
    (seconds + 15) * 1000,
  );
  await server;
  const json = JSON.parse(client.stdout || '{}') as {
    end?: {
      sum?: { bits_per_second?: number; lost_percent?: number };
      sum_received?: { bits_per_second?: number };
    };
    error?: string;
  };
  if (json.error || !json.end?.sum)
    throw new Error(`iperf3: ${json.error ?? client.stderr.trim() ?? 'no result'}`);
  const received =
    json.end.sum_received?.bits_per_second ??
    (json.end.sum.bits_per_second ?? 0) * (1 - (json.end.sum.lost_percent ?? 0) / 100);
  return { mbps: received / 1e6, raw: client.stdout };
}

/** UDP payload share of the IP bytes the token bucket counts (1200 of 1228). */
export const PAYLOAD_SHARE = 1200 / 1228;

export async function bandwidth(lab: Lab, tolerance = 0.15): Promise<CheckResult> {
  const { mbps } = await measureRateMbps(lab);
  const expected = B2.bandwidthMbps * PAYLOAD_SHARE;
  const ok = Math.abs(mbps - expected) <= expected * tolerance;
  return {
    name: `${B2.name}'s ${B2.bandwidthMbps} Mbit/s limit holds (iperf3 UDP at ${2 * B2.bandwidthMbps} Mbit/s from ${B1.name})`,
    ok,
    detail: `received ${mbps.toFixed(2)} Mbit/s, expected ${expected.toFixed(2)} ±${tolerance * 100}%`,
  };
}

export async function runChecks(lab: Lab): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  results.push(await reach(lab, B1, B2.lanHost, `${B2.name} (same CCN)`));
  results.push(await reach(lab, B2, B1.lanHost, `${B1.name} (same CCN)`));
  results.push(await reach(lab, B1, VPC.host, 'the VPC (ccn-a is attached)'));
  results.push(await reach(lab, B2, VPC.host, 'the VPC (ccn-a is attached)'));
  results.push(...(await isolation(lab)));
  results.push(await bandwidth(lab));
  return results;
}

export function formatChecks(results: readonly CheckResult[]): string {
  return results.map((r) => `  ${r.ok ? 'PASS' : 'FAIL'}  ${r.name}\n        ${r.detail}`).join('\n');
}
