import test from 'ava';
import {
  CAPABILITY_PATH_ID,
  PathMonitor,
  PeerPaths,
  choose,
  defaultPathOptions,
  type Candidate,
  type PathEvent,
  type PathSpec,
  type Policy,
  type TrafficClass,
} from '../../src/paths/index.js';
import type { SelectionTable } from '../../src/dataplane/selection.js';

// A monotonic clock that does not start at zero.
const T0 = 1_000_000;
const opts = { ...defaultPathOptions, qualityEveryMs: 60_000 };

const wan: PathSpec = {
  id: 1,
  uplink: 'wan',
  uplinkId: 11,
  endpoint: { address: '192.0.2.1', port: 51820 },
  priority: 1,
  weight: 1,
  metered: false,
};
const dsl: PathSpec = {
  id: 2,
  uplink: 'dsl',
  uplinkId: 12,
  endpoint: { address: '198.51.100.1', port: 51820 },
  priority: 2,
  weight: 1,
  metered: false,
};
const lte: PathSpec = {
  id: 3,
  uplink: 'lte',
  uplinkId: 13,
  endpoint: { address: '203.0.113.1', port: 51820 },
  priority: 100,
  weight: 1,
  metered: true,
};
const roaming = { uplinkId: 10, endpoint: { address: '192.0.2.1', port: 51820 } };

/** A simulated network: per path, is it answering and with what RTT. Ticks every `step` ms. */
class Sim {
  now = T0;
  readonly pp: PeerPaths;
  readonly alive = new Map<number, boolean>();
  readonly rtt = new Map<number, number>();
  lossEvery = new Map<number, number>(); // every n-th probe of the path is lost
  readonly events: Array<[number, PathEvent]> = [];
  readonly tables: Array<[number, SelectionTable | null]> = [];
  readonly probes: Array<[number, number]> = [];
  #pending: Array<{ at: number; pathId: number; seq: number; rtt: number }> = [];

  constructor(paths: PathSpec[], classes: TrafficClass[] = [], options = opts) {
    this.pp = new PeerPaths(options, classes);
    this.pp.setPaths(paths);
    for (const p of paths) {
      this.alive.set(p.id, true);
      this.rtt.set(p.id, 10);
    }
    this.alive.set(CAPABILITY_PATH_ID, true);
    this.rtt.set(CAPABILITY_PATH_ID, 10);
  }
  run(ms: number, step = 5): void {
    const end = this.now + ms;
    for (; this.now <= end; this.now += step) {
      for (const r of this.#pending.filter((x) => x.at <= this.now))
        this.pp.onReply(this.now, r.pathId, r.seq, r.rtt);
      this.#pending = this.#pending.filter((x) => x.at > this.now);
      const res = this.pp.tick(this.now, () => roaming);
      for (const e of res.events) this.events.push([this.now, e]);
      if (res.table !== undefined) this.tables.push([this.now, res.table]);
      for (const p of res.probes) {
        this.probes.push([this.now, p.pathId]);
        const n = this.lossEvery.get(p.pathId);
        if (!this.alive.get(p.pathId) || (n && p.sequence % n === 0)) continue;
        const rtt = this.rtt.get(p.pathId)!;
        this.#pending.push({ at: this.now + rtt, pathId: p.pathId, seq: p.sequence, rtt });
      }
    }
    this.now = end;
  }
  active(cls = 0): number[] {
    const t = this.tables.at(-1)?.[1];
    return t ? t.classes[cls]!.paths : [];
  }
  failovers(): Array<[number, PathEvent]> {
    return this.events.filter(([, e]) => e.type === 'path:failover');
  }
}

test('monitor: up on the first reply; down exactly downAfter intervals after the last reply', (t) => {
  const m = new PathMonitor(opts);
  t.is(m.probeDue(T0, 100), 1);
  t.is(m.probeDue(T0 + 50, 100), undefined);
  t.true(m.onReply(T0 + 10, 1, 10));
  t.is(m.state, 'up');
  for (let now = T0 + 100; now <= T0 + 300; now += 100) t.not(m.probeDue(now, 100), undefined);
  t.false(m.tick(T0 + 309)); // 3 probes unanswered, but the last reply is 299 ms old
  t.true(m.tick(T0 + 310));
  t.is(m.state, 'down');
});

test('monitor: back up after upAfter consecutive replies; a gap restarts the run; settled after the hold-down', (t) => {
  const m = new PathMonitor(opts);
  m.probeDue(T0, 100);
  m.onReply(T0 + 1, 1, 1);
  for (let i = 1; i <= 3; i++) m.probeDue(T0 + 100 * i, 100);
  m.tick(T0 + 400);
  t.is(m.state, 'down');
  const s = [5, 6, 7, 8].map((i) => m.probeDue(T0 + 100 * i, 100)!);
  t.false(m.onReply(T0 + 501, s[0]!, 1));
  t.false(m.onReply(T0 + 701, s[2]!, 1)); // s[1] lost: the run restarts
  t.false(m.onReply(T0 + 801, s[3]!, 1));
  m.probeDue(T0 + 900, 100);
  t.true(m.onReply(T0 + 901, 9, 1));
  t.is(m.state, 'up');
  t.false(m.settled(T0 + 901 + 4999));
  t.true(m.settled(T0 + 901 + 5000));
});

test('monitor: quality over the window: RTT mean, jitter, loss', (t) => {
  const m = new PathMonitor({ ...opts, timeoutMs: 100 });
  const rtts = [10, 20, null, 10];
  rtts.forEach((r, i) => {
    const seq = m.probeDue(T0 + 100 * i, 100)!;
    if (r !== null) m.onReply(T0 + 100 * i + r, seq, r);
  });
  const q = m.quality(T0 + 1000);
  t.is(q.lossPct, 25);
  t.is(q.rttMs, 40 / 3);
  t.is(q.jitterMs, 10);
});

test('capability: one probe per standby interval on the roaming endpoint, no table until answered', (t) => {
  const s = new Sim([wan, dsl]);
  s.alive.set(CAPABILITY_PATH_ID, false);
  s.run(2500);
  t.deepEqual(
    s.probes.map(([, id]) => id),
    [0, 0, 0],
  );
  t.deepEqual(s.tables, []);
  t.false(s.pp.capable);
  s.alive.set(CAPABILITY_PATH_ID, true);
  s.run(1000);
  t.true(s.pp.capable);
  s.run(100);
  t.deepEqual(s.active(), [1]);
});

test('active-standby: failover when the active path stops answering, within 300 ms of the last reply + a tick', (t) => {
  const s = new Sim([wan, dsl]);
  s.run(2000);
  t.deepEqual(s.active(), [1]);
  const cut = s.now;
  s.alive.set(1, false);
  s.run(1000);
  const [at, e] = s.failovers().at(-1)!;
  t.deepEqual(e, { type: 'path:failover', className: 'default', from: [1], to: [2] });
  t.true(at - cut <= 300 + 10, `failover ${at - cut} ms after the cut`);
  t.true(s.events.some(([, x]) => x.type === 'path:down' && x.pathId === 1));
});

test('uplink link down (link watcher): its paths down at once with the reason, the table moves on the next tick; replies ignored while it lasts', (t) => {
  const s = new Sim([wan, dsl]);
  s.run(2000);
  t.deepEqual(s.active(), [1]);
  const cut = s.now;
  s.pp.setUplinkLink(s.now, 'wan', 'link-down');
  s.run(0);
  t.deepEqual(
    s.events
      .filter(([at]) => at >= cut)
      .map(([, e]) => (e.type === 'path:down' ? [e.type, e.pathId, e.reason] : [e.type])),
    [['path:down', 1, 'link-down'], ['path:failover']],
  );
  t.deepEqual(s.active(), [2], 'moved in the same tick, no probe waited for');
  s.run(2000); // the (simulated) network still answers wan's probes: held down regardless
  t.is(s.pp.status(s.now).find((p) => p.id === 1)!.state, 'down');
  s.pp.setUplinkLink(s.now, 'wan', 'address-removed');
  t.false(
    s.events.some(([at, e]) => at > cut && e.type === 'path:down' && e.reason === 'address-removed'),
    'one outage, one path:down',
  );
});

test('uplink link back: no shortcut, the path returns through upAfter replies and the hold-down; new paths of a dead uplink start held', (t) => {
  const s = new Sim([wan, dsl]);
  s.run(2000);
  s.pp.setUplinkLink(s.now, 'wan', 'link-down');
  s.run(500);
  const back = s.now;
  s.pp.setUplinkLink(s.now, 'wan', null);
  t.is(s.pp.status(s.now).find((p) => p.id === 1)!.state, 'down');
  s.run(10_000);
  const up = s.events.find(([at, e]) => at >= back && e.type === 'path:up')!;
  t.true(up[0] - back >= 200, `up ${up[0] - back} ms after the link came back`);
  const failback = s.failovers().at(-1)!;
  t.deepEqual(failback[1], { type: 'path:failover', className: 'default', from: [2], to: [1] });
  t.true(failback[0] - up[0] >= opts.holdDownMs, 'failback waits for the hold-down');

  s.pp.setUplinkLink(s.now, 'lte', 'link-down');
  s.pp.setPaths([wan, dsl, lte], s.now);
  t.is(s.pp.status(s.now).find((p) => p.id === 3)!.state, 'down');
  const at = s.now;
  s.run(0);
  t.true(
    s.events.some(
      ([when, e]) => when >= at && e.type === 'path:down' && e.pathId === 3 && e.reason === 'link-down',
    ),
  );
});

test('active-standby: failback only after the hold-down, and not while the link flaps', (t) => {
  const s = new Sim([wan, dsl]);
  s.run(2000);
  s.alive.set(1, false);
  s.run(1000);
  s.alive.set(1, true);
  const back = s.now;
  s.run(4000);
  t.deepEqual(s.active(), [2], 'inside the hold-down');
  s.run(1500);
  t.deepEqual(s.active(), [1]);
  const [at] = s.failovers().at(-1)!;
  t.true(at - back >= 5000 && at - back <= 5400, `failback after ${at - back} ms`);
});

test('hold-down holds when every path has been down once: a path coming back does not take traffic', (t) => {
  const s = new Sim([wan, dsl]);
  s.run(2000);
  for (const cut of [1, 2, 1]) {
    s.alive.set(cut, false);
    s.run(1000);
    s.alive.set(cut, true);
    s.run(1000);
  }
  t.deepEqual(s.active(), [2], 'wan1 is back and preferred, but inside its hold-down');
  s.alive.set(2, false);
  s.run(1000);
  t.deepEqual(s.active(), [1], 'with the active path gone, a held-down path serves');
});

test('no flapping: a path that came back but keeps losing probes never takes traffic back', (t) => {
  const s = new Sim([wan, dsl]);
  s.run(2000);
  s.alive.set(1, false);
  s.run(1000);
  s.alive.set(1, true);
  s.lossEvery.set(1, 7); // up again (runs of 6 good), but never 5 s without a loss
  s.run(30_000);
  t.deepEqual(s.active(), [2]);
  t.is(s.failovers().length, 2); // the initial choice and the one failover
  s.lossEvery.delete(1);
  s.run(6000);
  t.deepEqual(s.active(), [1]);
});

test('no flapping: 1 in 5 probes lost on the standby or the active path moves nothing', (t) => {
  const s = new Sim([wan, dsl]);
  s.lossEvery.set(2, 5);
  s.lossEvery.set(1, 5);
  s.run(20_000);
  t.is(s.failovers().length, 1); // the initial choice only
});

test('equal priorities share by weight; LTE (metered) is last and probed at the standby rate', (t) => {
  const s = new Sim([wan, { ...dsl, priority: 1, weight: 3 }, lte]);
  s.run(2000);
  const table = s.tables.at(-1)![1]!;
  t.deepEqual(table.classes[0], { mode: 'weighted', paths: [1, 2], weights: [1, 3] });
  const lteProbes = s.probes.filter(([at, id]) => id === 3 && at > T0 + 1100).length;
  t.true(lteProbes <= 1, `${lteProbes} LTE probes in 1 s`);
  s.alive.set(1, false);
  s.alive.set(2, false);
  s.run(1000);
  t.deepEqual(s.active(), [3]);
  const fast = s.probes.filter(([at, id]) => id === 3 && at > s.now - 500).length;
  t.true(fast >= 4, 'carrying traffic, the LTE path is probed at the full rate');
});

const cls = (policy: Policy): TrafficClass[] => [{ name: 'c', match: { dscp: [46] }, policy }];

test('lowest latency follows a delay change, with hysteresis against noise', (t) => {
  const s = new Sim([wan, dsl], cls({ kind: 'lowest-latency' }), { ...opts, window: 10 });
  s.rtt.set(1, 30);
  s.rtt.set(2, 10);
  s.run(2000);
  t.deepEqual(s.active(0), [2]);
  s.rtt.set(1, 10);
  s.rtt.set(2, 11); // within the hysteresis
  s.run(2000);
  t.deepEqual(s.active(0), [2]);
  s.rtt.set(2, 50);
  s.run(2000);
  t.deepEqual(s.active(0), [1]);
  t.deepEqual(s.active(1), [1], 'the default class stays active-standby');
});

test('SLA: the class leaves a path that breaks it, and takes the best available when none meets it', (t) => {
  const s = new Sim([wan, dsl], cls({ kind: 'sla', maxRttMs: 50 }), { ...opts, window: 10 });
  s.rtt.set(1, 20);
  s.rtt.set(2, 30);
  s.run(2000);
  t.deepEqual(s.active(0), [1]);
  s.rtt.set(1, 80);
  s.run(2000);
  t.deepEqual(s.active(0), [2]);
  s.rtt.set(2, 90);
  s.run(2000);
  t.deepEqual(s.active(0), [1], 'neither meets it: the lower RTT');
});

test('duplicate: the two best paths; one when only one is up; weighted spreads over all', (t) => {
  const s = new Sim([wan, dsl, lte], cls({ kind: 'duplicate' }));
  s.run(2000);
  t.deepEqual(s.tables.at(-1)![1]!.classes[0], { dscp: [46], mode: 'duplicate', paths: [1, 2] });
  // Status names the classes each path carries: the duplicated class on both, the default on one.
  t.deepEqual(
    s.pp.status(s.now).map((p) => [p.id, p.active, p.classes]),
    [
      [1, true, ['c', 'default']],
      [2, true, ['c']],
      [3, false, []],
    ],
  );
  s.alive.set(2, false);
  s.alive.set(3, false);
  s.run(4000); // the LTE path is probed at the standby rate: it takes 3 of its probes to go down
  t.deepEqual(s.tables.at(-1)![1]!.classes[0], { dscp: [46], mode: 'single', paths: [1] });
  const c = (id: number, weight: number): Candidate => ({
    spec: { ...wan, id, weight },
    quality: { rttMs: 1, jitterMs: 0, lossPct: 0 },
    up: true,
    settled: true,
  });
  t.deepEqual(choose({ kind: 'weighted' }, [c(2, 5), c(1, 1)], undefined), {
    mode: 'weighted',
    paths: [1, 2],
    weights: [1, 5],
  });
  t.is(choose({ kind: 'weighted' }, [], undefined), null);
});

test('duplicate: a path back from down carries the second copy at once, inside its hold-down', (t) => {
  const s = new Sim([wan, dsl], cls({ kind: 'duplicate' }));
  s.run(2000);
  s.alive.set(1, false);
  s.run(1000);
  t.deepEqual(s.tables.at(-1)![1]!.classes[0], { dscp: [46], mode: 'single', paths: [2] });
  s.alive.set(1, true);
  s.run(500); // up again, far from settled
  t.deepEqual(
    s.tables.at(-1)![1]!.classes[0],
    { dscp: [46], mode: 'duplicate', paths: [2, 1] },
    'first copy stays put',
  );
  t.deepEqual(s.active(1), [2], 'the default class waits for the hold-down');
});

test('no path up: no class, the table is removed (the roaming endpoint carries traffic)', (t) => {
  const s = new Sim([wan]);
  s.run(1500);
  t.deepEqual(s.active(), [1]);
  s.alive.set(1, false);
  s.run(1000);
  t.is(s.tables.at(-1)![1], null);
});
