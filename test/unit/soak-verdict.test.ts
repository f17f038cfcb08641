/** The soak's judgement on synthetic samples: a leak fails, a GC sawtooth passes, a stall fails. */
import test from 'ava';
import { judgeSoak, slope, type SoakSample } from '../support/soak-verdict.js';

function series(n: number, rss: (i: number) => number, gap: (i: number) => number = () => 20): SoakSample[] {
  return Array.from({ length: n }, (_, i) => ({
    t: (i + 1) * 5,
    mbps: 19,
    lossPct: 0,
    maxGapMs: gap(i),
    rssMb: { a: rss(i), b: 60 },
    handshakes: i,
    impaired: false,
  }));
}

test('slope is the least-squares slope', (t) => {
  t.is(slope([0, 1, 2, 3], [1, 3, 5, 7]), 2);
  t.is(slope([1], [5]), 0);
});

test('a steady leak over the second half fails, naming the process', (t) => {
  // 0.5 MB per 5 s window = 6 MB/min; 60 windows (5 min): 15 MB over the second half... plus level.
  const v = judgeSoak(series(120, (i) => 60 + i * 0.5));
  t.false(v.ok);
  t.is(v.reasons.length, 1, v.reasons.join('\n'));
  t.regex(v.reasons[0]!, /^a: RSS keeps growing/);
  t.true(v.memory.a!.growing);
  t.false(v.memory.b!.growing);
});

test('a start-up ramp then a flat GC sawtooth passes', (t) => {
  const v = judgeSoak(series(120, (i) => (i < 20 ? 40 + i * 2 : 80 + ((i * 7) % 10))));
  t.true(v.ok, v.reasons.join('\n'));
  t.true(Math.abs(v.memory.a!.mbPerMin) < 1);
});

test('one hole over a second fails; holes under it do not; a window with no traffic fails', (t) => {
  t.true(
    judgeSoak(
      series(
        10,
        () => 60,
        (i) => (i === 4 ? 900 : 30),
      ),
    ).ok,
  );
  const stalled = judgeSoak(
    series(
      10,
      () => 60,
      (i) => (i === 4 ? 1500 : 30),
    ),
  );
  t.false(stalled.ok);
  t.regex(stalled.reasons.join('\n'), /stalled for 1500 ms in the window ending at 25 s/);
  const silent = series(10, () => 60);
  silent[6]!.mbps = 0;
  t.regex(judgeSoak(silent).reasons.join('\n'), /no traffic at all/);
  t.regex(
    judgeSoak(
      series(10, () => 60),
      { minHandshakes: 50 },
    ).reasons.join('\n'),
    /only 9 handshakes/,
  );
});

test('a flapping link that moved the traffic too few times fails, naming failovers or failbacks', (t) => {
  const moved = series(10, () => 60).map((s, i) => ({
    ...s,
    failovers: Math.ceil(i / 2),
    failbacks: Math.floor(i / 2),
  }));
  t.true(judgeSoak(moved, { minFailovers: 5, minFailbacks: 4 }).ok);
  const stuck = judgeSoak(moved, { minFailovers: 5, minFailbacks: 5 });
  t.false(stuck.ok);
  t.deepEqual(stuck.reasons, ['only 4 failbacks; the flapping link should have caused at least 5']);
  t.regex(
    judgeSoak(
      series(10, () => 60),
      { minFailovers: 1 },
    ).reasons.join('\n'),
    /only 0 failovers/,
  );
});
