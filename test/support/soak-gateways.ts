/**
 * The soak's two gateways (root): `sag up` in two namespaces joined by two underlay links. The
 * branch (A) has two uplinks through the multipath config sections ([Uplink] wan1 priority 1, wan2
 * priority 2; `Endpoint = hub1@wan1, hub2@wan2`); the hub (B) listens on both its link addresses.
 * Both run with SAG_TEST_REKEY_AFTER_MS. The branch's path moves are counted from its log (the
 * gateway's path:failover events, logged by `sag up` as "class C: paths [from] -> [to]"), its
 * paths read from the status socket `sag show --json` reads.
 *
 *   ns hds<tag>a: sag up hdsa<tag> 10.84.0.1 ─ wan1 10.83.1.1 ══ link 1 ══ 10.83.1.2 ┐ ns hds<tag>b:
 *                                            ─ wan2 10.83.2.1 ══ link 2 ══ 10.83.2.2 ┴ :51820 sag up hdsb<tag> 10.84.0.2
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryPaths } from '../../src/cli/paths-status.js';
import type { PathStatus } from '../../src/paths/types.js';
import { Namespaces, sh, uniqueTag } from './netns.js';
import { startSagUp, wgGenkey, wgPubkey } from './sag-process.js';
import { waitUntil } from './time.js';

export const BRANCH_IP = '10.84.0.1';
export const HUB_IP = '10.84.0.2';
/** The uplink that flaps (the preferred one, so that every cut moves traffic) and the other. */
export const FLAPPING = 'wan1';
export const STEADY = 'wan2';

export interface SoakGateways {
  ns: Namespaces;
  nsA: string;
  nsB: string;
  ifA: string;
  /** Branch-side device of each underlay link. */
  dev: Record<1 | 2, string>;
  procs: Record<string, ChildProcess>;
  logs: Record<string, () => string>;
  /** The branch's default-class moves so far: onto the steady uplink, and back onto the flapping one. */
  moves: { failovers: number; failbacks: number };
  /** The branch's paths (as `sag show --json` shows them under `multipath`). */
  paths(): Promise<PathStatus[]>;
  /** Waits until the branch runs multipath with traffic on the flapping uplink. */
  waitMultipath(timeoutMs: number): Promise<void>;
  cleanup(): Promise<void>;
}

export function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function branchConfig(own: string, hub: string, holdDownMs: number): string {
  return (
    `[Interface]\nPrivateKey = ${own}\nListenPort = 51820\nAddress = ${BRANCH_IP}/24\nHoldDown = ${holdDownMs}\n\n` +
    `[Uplink]\nName = ${FLAPPING}\nAddress = 10.83.1.1\nPriority = 1\n\n[Uplink]\nName = ${STEADY}\nAddress = 10.83.2.1\nPriority = 2\n\n` +
    `[Peer]\nPublicKey = ${wgPubkey(hub)}\nAllowedIPs = ${HUB_IP}/32\nEndpoint = 10.83.1.2:51820@${FLAPPING}, 10.83.2.2:51820@${STEADY}\n`
  );
}

function hubConfig(own: string, branch: string): string {
  return `[Interface]\nPrivateKey = ${own}\nListenPort = 51820\nAddress = ${HUB_IP}/24\n\n[Peer]\nPublicKey = ${wgPubkey(branch)}\nAllowedIPs = ${BRANCH_IP}/32\n`;
}

/** Counts "class default: paths [a] -> [b]" lines by where they lead; lines may arrive split. */
function moveCounter(
  moves: SoakGateways['moves'],
  uplinkOf: () => Map<number, string>,
): (chunk: string) => void {
  let partial = '';
  return (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const m = / class default: paths \[([\d,]*)\] -> \[([\d,]*)\]/.exec(line);
      if (!m || !m[1] || !m[2]) continue; // the first choice, or no path at all: not a move
      const to = m[2].split(',').map((id) => uplinkOf().get(Number(id)));
      if (to.includes(STEADY)) moves.failovers++;
      else if (to.includes(FLAPPING)) moves.failbacks++;
    }
  };
}

/** Starts both gateways; the caller must call cleanup(). */
export async function startSoakGateways(rekeyMs: number, holdDownMs: number): Promise<SoakGateways> {
  const tag = uniqueTag();
  const ns = new Namespaces();
  const dir = mkdtempSync(join(tmpdir(), 'hd-soak-'));
  const ifs = { a: `hdsa${tag}`, b: `hdsb${tag}` };
  const cleanup = async () => {
    await ns.cleanup();
    for (const i of Object.values(ifs)) rmSync(`/var/run/wireguard/${i}.sock`, { force: true });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const nsA = ns.add(`hds${tag}a`);
    const nsB = ns.add(`hds${tag}b`);
    const dev = { 1: `hdva${tag}`, 2: `hdwa${tag}` } as const;
    ns.link(
      { ns: nsA, dev: dev[1], addr: '10.83.1.1/30' },
      { ns: nsB, dev: `hdvb${tag}`, addr: '10.83.1.2/30' },
    );
    ns.link(
      { ns: nsA, dev: dev[2], addr: '10.83.2.1/30' },
      { ns: nsB, dev: `hdwb${tag}`, addr: '10.83.2.2/30' },
    );
    const [ka, kb] = [wgGenkey(), wgGenkey()];
    const files = { a: join(dir, `${ifs.a}.conf`), b: join(dir, `${ifs.b}.conf`) };
    writeFileSync(files.a, branchConfig(ka, kb, holdDownMs), { mode: 0o600 });
    writeFileSync(files.b, hubConfig(kb, ka), { mode: 0o600 });
    const paths = async () => (await queryPaths(ifs.a))[0]?.paths ?? [];
    let uplinkOf = new Map<number, string>();
    const moves = { failovers: 0, failbacks: 0 };
    const countMoves = moveCounter(moves, () => uplinkOf);
    const procs: Record<string, ChildProcess> = {};
    const logs: Record<string, () => string> = {};
    for (const [side, n] of [
      ['b', nsB],
      ['a', nsA],
    ] as const) {
      const { child, log } = await startSagUp(ns, n, files[side], {
        env: { SAG_TEST_REKEY_AFTER_MS: String(rekeyMs) },
        timeoutMs: 20_000,
        keepLog: 20_000,
        onStderr: side === 'a' ? countMoves : undefined,
        what: `sag up (${side})`,
      });
      procs[`sag-${side}`] = child;
      logs[`sag-${side}`] = log;
    }
    const waitMultipath = async (timeoutMs: number) => {
      const on = async () => {
        const peer = (await queryPaths(ifs.a))[0];
        return !!peer?.multipath && peer.paths.some((p) => p.active && p.uplink === FLAPPING);
      };
      await waitUntil(
        on,
        timeoutMs,
        100,
        async () =>
          `the branch did not go multipath on ${FLAPPING}: ${JSON.stringify(await queryPaths(ifs.a))}\n${logs['sag-a']!()}`,
      );
      uplinkOf = new Map((await paths()).map((p) => [p.id, p.uplink]));
      moves.failovers = moves.failbacks = 0; // the run counts from here
    };
    return { ns, nsA, nsB, ifA: ifs.a, dev, procs, logs, moves, paths, waitMultipath, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Brings a link of the branch down; returns the function that brings it back up. */
export function linkDown(gw: SoakGateways, n: 1 | 2): () => void {
  sh('ip', ['link', 'set', gw.dev[n], 'down'], { ns: gw.nsA });
  return () => void sh('ip', ['link', 'set', gw.dev[n], 'up'], { ns: gw.nsA });
}
