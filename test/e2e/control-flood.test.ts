/**
 * A flood of junk and of handshake initiations with a valid mac1 cannot fail over a branch's live
 * paths (sag.h: the event queue keeps slots for peer events, and drops other message types
 * natively). The hub of test/support/multipath-topology.ts and the branch's first uplink are each
 * flooded for 10 s from inside their own namespace (loopback: the traffic never leaves the test's
 * namespaces) while the branch probes both its paths; then:
 *  - no path went down on the branch, and its peer lost no event to a full queue;
 *  - the junk was dropped natively and counted by reason (bad_type, malformed) on the sockets;
 *  - the hub still completed a legitimate handshake with the branch during the flood (under load,
 *    after a cookie round, as WireGuard does).
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { e2eSkipReason } from '../support/netns.js';
import {
  buildMultipathTopology,
  type MultipathTopology,
  type PathInfo,
} from '../support/multipath-topology.js';
import { initiationWithMac1, random } from '../support/packets.js';
import { waitUntil } from '../support/time.js';
import { decodeKey } from '../../src/wg/crypto.js';

const SENDER = fileURLToPath(new URL('../fixtures/hostile-udp.mjs', import.meta.url));
const FLOOD_S = 10;
const skip = e2eSkipReason(['ip']);
if (skip) console.log(`[skip] e2e control-flood test: ${skip}`);
const e2e = skip ? test.skip : test.serial;

type Socket = {
  id: number;
  address: string;
  port: number;
  counters: { drops: Record<string, number>; rxPackets: number };
};

/** 256 datagrams: junk of every shape (no header, type 0, types 5-255) and 32 valid-mac1 initiations. */
function floodPool(responderPub: Uint8Array): string[] {
  const out: Buffer[] = [];
  for (let k = 0; k < 112; k++) out.push(random(1 + Math.floor(Math.random() * 1400)));
  const badTypes = [0, 5, 6, 9, 127, 200, 255];
  for (let k = 0; k < 112; k++)
    out.push(random([148, 92, 64, 32, 200][k % 5]!, badTypes[k % badTypes.length]));
  for (let k = 0; k < 32; k++) out.push(initiationWithMac1(responderPub));
  return out.map((b) => b.toString('base64'));
}

/** Floods host:port from inside the namespace for FLOOD_S seconds; resolves to datagrams sent. */
function flood(
  topo: MultipathTopology,
  ns: string,
  host: string,
  port: number,
  pool: string[],
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'sag-flood-'));
  const job = join(dir, 'job.json');
  writeFileSync(job, JSON.stringify({ host, port, packets: pool, seconds: FLOOD_S, listenMs: 100 }));
  const child = topo.ns.spawn(ns, process.execPath, [SENDER, job]);
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), (FLOOD_S + 20) * 1000);
    child.on('exit', () => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      const m = /RESULT (.*)/.exec(out);
      if (!m) reject(new Error(`flooder gave no result: ${out}`));
      else resolve((JSON.parse(m[1]!) as { sent: number }).sent);
    });
  });
}

async function sockets(child: MultipathTopology['hub']): Promise<Socket[]> {
  return (await child.request({ op: 'sockets' })).sockets as unknown as Socket[];
}

const drops = (before: Socket, after: Socket) =>
  Object.fromEntries(
    Object.keys(after.counters.drops).map((k) => [
      k,
      after.counters.drops[k]! - (before.counters.drops[k] ?? 0),
    ]),
  );

e2e(
  'a flood of junk and valid-mac1 initiations at the hub and a branch: no false path:down, drops counted, handshakes still complete',
  async (t) => {
    const topo = await buildMultipathTopology();
    try {
      const paths = async () => ((await topo.status()) as unknown as { paths: PathInfo[] }).paths;
      await topo.branch.request({ op: 'handshake' }); // no traffic yet: the session starts here
      let seen: PathInfo[] = [];
      await waitUntil(
        async () => (seen = await paths()).filter((p) => p.state === 'up').length === 2,
        15000,
        50,
        () => `both paths of the branch up before the flood: ${JSON.stringify(seen)}`,
      );
      const hubPub = decodeKey(String((await topo.hub.ready).publicKey));
      const branchPub = decodeKey(String((await topo.branch.ready).publicKey));
      const [hubSock] = await sockets(topo.hub);
      const branchSocks = await sockets(topo.branch);
      const wan1 = branchSocks.find((s) => s.address === '10.91.1.1');
      t.truthy(hubSock && wan1, JSON.stringify(branchSocks));
      const startEvents = topo.branch.events().length;
      const before = (await topo.status()) as unknown as { lastHandshakeUnixMs: number };

      const flooding = Promise.all([
        flood(topo, topo.nsHub, '127.0.0.1', hubSock!.port, floodPool(hubPub)),
        flood(topo, topo.nsBranch, wan1!.address, wan1!.port, floodPool(branchPub)),
      ]);
      // A legitimate handshake in the middle of the flood: the hub, under load, answers it with a
      // cookie first; the retry (REKEY_TIMEOUT later) carries mac2 and gets through.
      await new Promise((r) => setTimeout(r, 1500));
      const askedAt = Date.now();
      await topo.branch.request({ op: 'handshake' });
      const [hubSent, branchSent] = await flooding;
      await waitUntil(
        async () =>
          ((await topo.status()) as unknown as { lastHandshakeUnixMs: number }).lastHandshakeUnixMs >=
          askedAt,
        10000,
        100,
        () => 'no handshake completed with the flooded hub',
      );
      const after = (await topo.status()) as unknown as {
        lastHandshakeUnixMs: number;
        counters: { drops: Record<string, number> };
        paths: PathInfo[];
      };
      t.true(after.lastHandshakeUnixMs > before.lastHandshakeUnixMs);

      const events = topo.branch.events().slice(startEvents);
      t.deepEqual(
        events.filter((e) => e.type === 'path:down'),
        [],
        'no path went down during the flood',
      );
      t.deepEqual(
        after.paths.map((p) => p.state),
        ['up', 'up'],
      );
      t.is(after.counters.drops.queue_full ?? 0, 0, 'the branch lost no peer event to a full queue');

      const hubDrops = drops(hubSock!, (await sockets(topo.hub))[0]!);
      const branchDrops = drops(
        wan1!,
        (await sockets(topo.branch)).find((s) => s.id === wan1!.id)!,
      );
      t.log(`sent: hub ${hubSent}, branch ${branchSent}`);
      t.log(`hub socket drops ${JSON.stringify(hubDrops)}; branch wan1 drops ${JSON.stringify(branchDrops)}`);
      t.true(hubSent > 10000 && branchSent > 10000, 'a flood, not a trickle');
      for (const [where, d] of [
        ['hub', hubDrops],
        ['branch', branchDrops],
      ] as const) {
        t.true(d.bad_type! > 0, `${where}: message types other than 1-4 counted as bad_type`);
        t.true(d.malformed! > 0, `${where}: datagrams without a header counted as malformed`);
      }
    } finally {
      await topo.cleanup();
    }
  },
);
