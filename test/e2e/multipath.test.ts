/**
 * Multipath failover on real namespaces (root): a branch with two uplinks (two veth pairs) to a
 * hub, sag Gateways on both ends, sequence-numbered UDP through the tunnel from branch to hub.
 * The active uplink is cut (link down; nftables blackhole with the link up) and the outage the
 * traffic sees is measured; failback waits for the hold-down; random loss does not make it flap;
 * a device-bound uplink follows its device's address change (link watcher).
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { e2eSkipReason, sh } from '../support/netns.js';
import {
  BRANCH_IP,
  buildMultipathTopology,
  HUB_IP,
  type MultipathTopology,
} from '../support/multipath-topology.js';
import { nsSpawner, ProbeReceiverChild, ProbeSenderChild } from '../support/children.js';
import { wallNow } from '../support/time.js';
import { NFT } from '../support/nft.js';

const skip =
  e2eSkipReason(['ip', 'wireguard-go', 'wg']) ??
  (existsSync(NFT) ? undefined : `missing ${NFT} (Debian package nftables)`);
if (skip) console.log(`[skip] e2e multipath tests: ${skip}`);
const e2e = skip ? test.skip : test.serial;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOLD_DOWN_MS = 2000;
const LINK_DOWN_BOUND_MS = 150;

async function withTraffic(
  topo: MultipathTopology,
  run: (rx: ProbeReceiverChild) => Promise<void>,
): Promise<void> {
  const rx = await ProbeReceiverChild.spawn({ host: HUB_IP, port: 0 }, nsSpawner(topo.ns, topo.nsHub));
  const tx = await ProbeSenderChild.spawn(
    { host: HUB_IP, port: rx.port, ratePps: 500 },
    nsSpawner(topo.ns, topo.nsBranch),
  );
  try {
    await run(rx);
  } finally {
    await tx.close();
    await rx.close();
  }
}

/** Outage of the traffic across a cut at `cutAt`, after waiting for things to settle. */
async function outageAfter(rx: ProbeReceiverChild, cutAt: number, waitMs = 2500): Promise<number> {
  await sleep(waitMs);
  const report = await rx.report({ cutAtMs: cutAt, windowMs: waitMs - 500 });
  return report.outage!.ms;
}

e2e(
  'active path cut by link down (seen by the link watcher: < 150 ms) and by a blackhole (< 1 s): traffic moves to the other uplink; failback after the hold-down; an address change rebinds',
  async (t) => {
    const topo = await buildMultipathTopology({
      uplinksOnDevices: true,
      branch: { paths: { holdDownMs: HOLD_DOWN_MS } },
    });
    try {
      await withTraffic(topo, async (rx) => {
        await topo.waitActive('wan1');
        t.true((await topo.status()).multipath, 'the hub answered probes');

        let cutAt = wallNow();
        topo.linkDown(1);
        const down = await outageAfter(rx, cutAt);
        t.log(`link down: outage ${down.toFixed(0)} ms`);
        // Probes alone need up to 300 ms (3 x 100 ms); the netlink event takes the path down at once.
        t.true(down < LINK_DOWN_BOUND_MS, `outage ${down} ms`);
        t.like(
          topo.branch.events().find((e) => e.type === 'path:down' && e.uplink === 'wan1'),
          { reason: 'link-down' },
        );
        await topo.waitActive('wan2', 100);

        const upAt = Date.now();
        topo.linkUp(1);
        await rx.reset();
        await topo.waitActive('wan1', 10_000);
        const after = Date.now() - upAt;
        t.true(after >= HOLD_DOWN_MS, `failback after ${after} ms, before the hold-down`);
        await sleep(300);
        const failback = (await rx.report({ cutAtMs: wallNow() - after - 500 })).outage!.ms;
        t.log(`failback after ${after} ms, longest gap ${failback.toFixed(0)} ms`);
        t.true(failback < 200, 'failback is make-before-break');

        cutAt = wallNow();
        const hole = topo.blackhole(1);
        const blackhole = await outageAfter(rx, cutAt);
        t.log(`blackhole: outage ${blackhole.toFixed(0)} ms (${hole.dropped()} packets eaten)`);
        t.true(blackhole < 1000, `outage ${blackhole} ms`);
        await topo.waitActive('wan2', 100);
        const paths = (await topo.status()).paths;
        t.is(paths.find((p) => p.uplink === 'wan1')!.state, 'down');
        t.is(paths.find((p) => p.uplink === 'wan2')!.state, 'up');
        hole.remove();

        // wan1 is bound to its device: its address changes, the uplink follows (a new socket).
        // The hub reaches the new address through the same link (a /29 on the branch covers the hub's .2).
        sh('ip', ['route', 'add', '10.91.1.4/30', 'dev', topo.hubDev[1]], { ns: topo.nsHub });
        sh('ip', ['addr', 'add', '10.91.1.5/29', 'dev', topo.dev[1]], { ns: topo.nsBranch });
        const changedAt = Date.now();
        sh('ip', ['addr', 'del', '10.91.1.1/30', 'dev', topo.dev[1]], { ns: topo.nsBranch });
        const wan1 = async () =>
          (
            (await topo.branch.request({ op: 'uplinks' })).uplinks as { name: string; address: string }[]
          ).find((u) => u.name === 'wan1')!.address;
        for (let i = 0; i < 40 && (await wan1()) !== '10.91.1.5'; i++) await sleep(25);
        t.is(await wan1(), '10.91.1.5');
        t.like(
          topo.branch.events().find((e) => e.type === 'uplink:rebound'),
          { uplink: 'wan1', from: '10.91.1.1', to: '10.91.1.5' },
        );
        await topo.waitActive('wan1', HOLD_DOWN_MS + 3000); // up through probes from the new socket, then the hold-down
        t.log(
          `address change: wan1 carries traffic again from its new address ${Date.now() - changedAt} ms after it`,
        );
        await rx.reset();
        await sleep(300);
        t.true((await rx.report()).unique > 100, 'traffic flows after the rebind');
      });
    } finally {
      await topo.cleanup();
    }
  },
);

e2e(
  'no flapping: 20% random loss on the standby moves nothing, on the active path at most one failover',
  async (t) => {
    const topo = await buildMultipathTopology({ branch: { paths: { holdDownMs: HOLD_DOWN_MS } } });
    try {
      await withTraffic(topo, async () => {
        await topo.waitActive('wan1');
        const moves = () => topo.branch.events().filter((e) => e.type === 'path:failover').length;
        const before = moves();
        const standby = topo.loss(2, 20);
        await sleep(6000);
        t.is(moves(), before, 'loss on the standby path moved traffic');
        standby.remove();
        const active = topo.loss(1, 20);
        await sleep(8000);
        t.true(moves() - before <= 1, `${moves() - before} failovers under 20% loss`);
        t.log(
          `20% loss on the active path: ${moves() - before} failover(s), ${active.dropped()} packets dropped`,
        );
        active.remove();
      });
    } finally {
      await topo.cleanup();
    }
  },
);

e2e(
  'duplication: the critical class (protocol, addresses, port) loses nothing while its primary path drops 30%; the default class beside it does lose',
  async (t) => {
    const topo = await buildMultipathTopology();
    try {
      const spawnRx = () =>
        ProbeReceiverChild.spawn({ host: HUB_IP, port: 0 }, nsSpawner(topo.ns, topo.nsHub));
      const [critical, plain] = [await spawnRx(), await spawnRx()];
      // A 5-tuple rule for the critical flow; a class before it for other destinations must not
      // catch it (nor the default class's traffic, whose loss is asserted below).
      await topo.branch.request({
        op: 'classes',
        classes: [
          {
            name: 'elsewhere',
            match: { dstAddresses: ['10.99.0.0/16', 'fd00::/8'] },
            policy: { kind: 'duplicate' },
          },
          {
            name: 'critical',
            match: {
              protocol: 17,
              srcAddresses: [`${BRANCH_IP}/32`],
              dstAddresses: [`${HUB_IP}/32`],
              dstPorts: [critical.port, critical.port],
            },
            policy: { kind: 'duplicate' },
          },
        ],
      });
      const send = (port: number, count?: number) =>
        ProbeSenderChild.spawn(
          { host: HUB_IP, port, ratePps: 500, ...(count ? { count } : {}) },
          nsSpawner(topo.ns, topo.nsBranch),
        );
      const warm = await send(plain.port);
      const until = Date.now() + 15000;
      while (!(await topo.status()).paths.every((p) => p.active && p.state === 'up')) {
        if (Date.now() > until)
          throw new Error(`duplication not set up: ${JSON.stringify((await topo.status()).paths)}`);
        await sleep(100);
      }
      await warm.close();
      await critical.reset();
      await plain.reset();
      const [txCritical, txPlain] = [await send(critical.port, 2500), await send(plain.port, 2500)];
      await sleep(300);
      const lossy = topo.loss(1, 30);
      const [sentCritical, sentPlain] = [await txCritical.done(30000), await txPlain.done(30000)];
      await sleep(500);
      const a = await critical.report({ sent: sentCritical });
      const b = await plain.report({ sent: sentPlain });
      const hub = (await topo.hub.request({ op: 'status' })).peer as {
        counters: { drops: Record<string, number> };
      };
      t.log(
        `critical (duplicated): lost ${a.lost} of ${sentCritical.sent}; default class: lost ${b.lost} of ${sentPlain.sent}; nft dropped ${lossy.dropped()}; hub dropped ${hub.counters.drops.duplicate} second copies as duplicates, ${hub.counters.drops.replay} as replays`,
      );
      t.is(a.lost, 0);
      t.is(a.duplicates, 0, 'the receiver never sees a copy: the replay window drops it');
      t.true(b.lost > 0, 'the same loss hurt the class that is not duplicated');
      t.true(hub.counters.drops.duplicate > 500, 'both copies reached the hub');
      t.is(
        hub.counters.drops.replay,
        0,
        'a copy over the other path is counted as a duplicate, not a replay',
      );
      await Promise.all([txCritical.close(), txPlain.close(), critical.close(), plain.close()]);
      lossy.remove();
    } finally {
      await topo.cleanup();
    }
  },
);

e2e(
  'a stock WireGuard hub (wireguard-go): sag stays plain WireGuard, traffic flows, the hub never roams to an uplink',
  async (t) => {
    const topo = await buildMultipathTopology({ stockHub: true });
    try {
      await withTraffic(topo, async (rx) => {
        await sleep(3500); // several capability probes, each dropped by wireguard-go as non-IP
        const status = await topo.status();
        t.false(status.multipath);
        t.true(
          status.paths.every((p) => !p.active && p.state === 'unknown'),
          JSON.stringify(status.paths),
        );
        const report = await rx.report();
        t.true(report.unique > 1000, `${report.unique} packets through`);
        t.is(report.maxGap?.lost ?? 0, 0);
        // wg show dump, peer line: public-key psk endpoint allowed-ips ...: the branch's listening socket.
        const dump = String((await topo.hub.request({ op: 'status' })).dump)
          .trim()
          .split('\n');
        const endpoint = dump[1]!.split('\t')[2]!;
        const port = Number(endpoint.split(':')[1]);
        const named = (await topo.branch.request({ op: 'uplinks' })).uplinks as { port: number }[];
        t.false(
          named.some((u) => u.port === port),
          `the hub roamed to a named uplink: ${endpoint}`,
        );
      });
    } finally {
      await topo.cleanup();
    }
  },
);

/** Waits until the default class runs on `uplink` and returns how long it took. */
async function moved(topo: MultipathTopology, uplink: string, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  await topo.waitActive(uplink, timeoutMs);
  return Date.now() - t0;
}

e2e(
  'lowest latency follows a delay change; an SLA class leaves the path that breaks its latency bound',
  async (t) => {
    const topo = await buildMultipathTopology({ relays: true, branch: { paths: { window: 10 } } });
    try {
      await withTraffic(topo, async () => {
        await topo.waitActive('wan1');
        await topo.branch.request({
          op: 'classes',
          classes: [{ name: 'default', match: {}, policy: { kind: 'lowest-latency' } }],
        });
        await topo.relay[1]!.set({ delayMs: 25 }); // RTT ~50 ms on wan1, ~10 ms on wan2
        t.log(`lowest latency: on wan2 ${await moved(topo, 'wan2', 10_000)} ms after wan1 got slower`);
        await topo.relay[1]!.set({ delayMs: 5 });
        await topo.relay[2]!.set({ delayMs: 25 });
        t.log(`lowest latency: back on wan1 ${await moved(topo, 'wan1', 10_000)} ms after wan2 got slower`);

        await topo.relay[2]!.set({ delayMs: 10 }); // RTT ~20 ms: within the SLA
        await topo.branch.request({
          op: 'classes',
          classes: [{ name: 'default', match: {}, policy: { kind: 'sla', maxRttMs: 40 } }],
        });
        await sleep(1500);
        await topo.waitActive('wan1', 100); // both meet it: priority decides
        await topo.relay[1]!.set({ delayMs: 40 }); // RTT ~80 ms: breaks the 40 ms bound
        t.log(`SLA: on wan2 ${await moved(topo, 'wan2', 10_000)} ms after wan1 broke it`);
        const paths = (await topo.status()).paths;
        const rtt = (u: string) => paths.find((p) => p.uplink === u)!.rttMs!;
        t.true(rtt('wan1') > 40 && rtt('wan2') < 40, `rtt wan1 ${rtt('wan1')}, wan2 ${rtt('wan2')}`);
      });
    } finally {
      await topo.cleanup();
    }
  },
);
