/**
 * The userspace link emulator (test/support/udp-relay.ts, delay-line.ts) and probe traffic
 * (probe-traffic.ts) on loopback, in-process, no root.
 *
 * Delay accuracy tolerance (documented in delay-line.ts): the added one-way delay's median is
 * within -0.6..+2 ms of the setting and its p95 within +5 ms, checked in a window where this
 * process was not kept from running (see quietRun). Measured on a 2-core machine, quiet: p50
 * +0.0..+0.4 ms, p95 +0.6..+1.4 ms, p99 ~+3 ms for 20/50/100 ms (timer resolution is 1 ms).
 * Under load from parallel test files (or other users of the machine) windows show a p95 of
 * +7..+60 ms and more: whole-process stalls, delaying the receiver's timestamps as much as the
 * relay's releases. Those runs check only what stalls cannot break (never early, exact counts).
 */
import test from 'ava';
import { createSocket } from 'node:dgram';
import { DelayLine, validateImpairment } from '../support/delay-line.js';
import { mulberry32 } from '../support/random.js';
import { waitFor, wallNow } from '../support/time.js';
import {
  analyzeProbe,
  ProbeReceiver,
  ProbeSender,
  type ProbeSample,
  type ProbeSenderOptions,
} from '../support/probe-traffic.js';
import { UdpRelay, type UdpRelayOptions } from '../support/udp-relay.js';
import { StallMeter } from '../support/stall-meter.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LO = '127.0.0.1';

/** receiver <- relay <- sender, all in this process. */
async function chain(
  t: import('ava').ExecutionContext,
  relayOpts: Partial<UdpRelayOptions>,
  tx: Omit<ProbeSenderOptions, 'host' | 'port'>,
) {
  const rx = new ProbeReceiver({ host: LO });
  const rxPort = await rx.start();
  const relay = new UdpRelay({ listen: { host: LO }, target: { host: LO, port: rxPort }, ...relayOpts });
  await relay.start();
  const sender = new ProbeSender({ host: LO, port: relay.listenPort, ...tx });
  t.teardown(async () => {
    await sender.stop();
    await relay.stop();
    await rx.stop();
  });
  return { rx, relay, sender };
}

/** Runs a sender to completion, then waits for the relay to drain. */
async function run(c: Awaited<ReturnType<typeof chain>>, drainMs = 150) {
  await c.sender.start();
  const stats = await c.sender.done;
  await sleep(drainMs);
  return stats;
}

test('impairment patches are validated: unknown keys and bad values throw', (t) => {
  t.deepEqual(validateImpairment({ delayMs: 5, cut: true }), { delayMs: 5, cut: true });
  t.throws(() => validateImpairment({ delay: 5 }), { message: /unknown impairment "delay"/ });
  t.throws(() => validateImpairment({ lossPct: 101 }), { message: /<= 100/ });
  t.throws(() => validateImpairment({ jitterMs: -1 }), { message: />= 0/ });
  t.throws(() => validateImpairment({ cut: 1 }), { message: /boolean/ });
});

test('the same seed drops the same packets', (t) => {
  const pattern = (seed: number) => {
    const line = new DelayLine(() => undefined, { seed, impairment: { lossPct: 30 } });
    const kept = Array.from({ length: 200 }, () => line.push(Buffer.alloc(1)));
    line.close();
    return kept;
  };
  t.deepEqual(pattern(7), pattern(7));
  t.notDeepEqual(pattern(7), pattern(8));
  const r = mulberry32(1);
  t.true(Array.from({ length: 1000 }, r).every((x) => x >= 0 && x < 1));
});

test('analyzeProbe: duplicates, reordering, holes and an unrecovered tail', (t) => {
  const s = (seq: number, recvOffset = 0): ProbeSample => ({
    seq,
    sendTs: 1000 + seq,
    recvTs: 1010 + seq + recvOffset,
    size: 64,
  });
  // 0..9, 5 twice, 7 before 6, 10..19 lost, 20..29, then nothing after 29 of 40 sent.
  const samples = [0, 1, 2, 3, 4, 5, 5, 7, 6, 8, 9]
    .map((q) => s(q))
    .concat(Array.from({ length: 10 }, (_, i) => s(20 + i)));
  const r = analyzeProbe(samples, { cutAtMs: 1009.5, sent: { sent: 40, lastSendTs: 1039 } });
  t.is(r.duplicates, 1);
  t.is(r.reordered, 1);
  t.is(r.unique, 20);
  t.is(r.expected, 40);
  t.is(r.lost, 20);
  t.is(r.lossPct, 50);
  t.like(r.maxGap, { fromSeq: 9, toSeq: 20, lost: 10, ms: 11 });
  t.like(r.outage, { fromSeq: 9, toSeq: 20, ms: 11, sinceCutMs: 10.5, recovered: true });
  // A cut after the second hole began: only the tail remains, which never recovered.
  t.like(analyzeProbe(samples, { cutAtMs: 1030, sent: { sent: 40, lastSendTs: 1039 } }).outage, {
    fromSeq: 29,
    lost: 10,
    ms: 10,
    recovered: false,
  });
  // Without a hole after the cut, the outage is zero.
  t.like(analyzeProbe(samples.slice(0, 11), { cutAtMs: 1003 }).outage, { ms: 0, lost: 0 });
});

test.serial('the relay forwards both ways, learns the client and counts replies without one', async (t) => {
  const echo = createSocket('udp4');
  echo.on('message', (m, r) => echo.send(m, r.port, r.address));
  await new Promise<void>((r) => echo.bind(0, LO, () => r()));
  const relay = new UdpRelay({ listen: { host: LO }, target: { host: LO, port: echo.address().port } });
  await relay.start();
  const client = createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, LO, () => r()));
  t.teardown(async () => {
    await relay.stop();
    echo.close();
    client.close();
  });

  // A "reply" reaching the right side before any client exists has nowhere to go.
  const stray = createSocket('udp4');
  stray.send(Buffer.from('early'), relay.outPort, LO, () => stray.close());
  t.true(await waitFor(() => relay.counters().rightToLeft.dropped.noClient === 1));

  const got: string[] = [];
  client.on('message', (m) => got.push(String(m)));
  for (let i = 0; i < 20; i++) client.send(Buffer.from(`m${i}`), relay.listenPort, LO);
  await waitFor(() => got.length >= 20);
  await sleep(20); // nothing more should come
  t.deepEqual(
    got,
    Array.from({ length: 20 }, (_, i) => `m${i}`),
  );
  const c = relay.counters();
  t.deepEqual(c.client, { host: LO, port: client.address().port });
  t.like(c.leftToRight, { received: 20, forwarded: 20, bytesForwarded: 20 * 2 + 10, queued: 0 });
  t.like(c.rightToLeft, { received: 21, forwarded: 20 });
});

/**
 * Runs a timing measurement under a StallMeter, up to `tries` times, until a window in which this
 * process was quiet (stalled <= 5 % of the window, never > 20 ms at once): only such a window says
 * something about the emulator (at 4 % the added p95 was +1.1 ms; +5 ms is crossed near 15 %). On a host too busy for any, the caller checks what stalls
 * cannot break and logs that accuracy went unverified. Every attempt is logged.
 */
async function quietRun<T>(
  t: import('ava').ExecutionContext,
  tries: number,
  measure: () => Promise<T>,
  show: (v: T) => string,
) {
  for (let i = 1; ; i++) {
    const meter = new StallMeter();
    const value = await measure();
    const stall = meter.stop();
    const quiet = stall.stalledMs <= 0.05 * stall.windowMs && stall.maxMs <= 20;
    t.log(
      `${show(value)}; stalled ${stall.stalledMs.toFixed(0)} ms of ${stall.windowMs.toFixed(0)} (max ${stall.maxMs.toFixed(0)})${quiet ? '' : ' - host busy'}`,
    );
    if (quiet || i >= tries) {
      if (!quiet) t.log('no quiet window: the timing bounds were not verified on this run');
      return { value, stall, quiet };
    }
  }
}

test.serial('added delay is within tolerance at 20, 50 and 100 ms (p50, p95)', async (t) => {
  const measure = async (delayMs: number) => {
    const c = await chain(t, { impairment: { delayMs } }, { ratePps: 1000, count: 1000 });
    await run(c, delayMs + 100);
    t.is(c.rx.count, 1000);
    const d = c.rx.samples.map((s) => s.recvTs - s.sendTs);
    return { ...c.rx.report().latency!, min: Math.min(...d) };
  };
  const fmt = (l: { p50: number; p95: number; max: number }, base = 0) =>
    `p50 ${(l.p50 - base).toFixed(3)} p95 ${(l.p95 - base).toFixed(3)} max ${(l.max - base).toFixed(3)} ms`;
  // Loopback and event-loop cost, subtracted below (0.1–0.3 ms).
  const base = (
    await quietRun(
      t,
      2,
      () => measure(0),
      (l) => `baseline one-way ${fmt(l)}`,
    )
  ).value.p50;
  for (const d of [20, 50, 100]) {
    const { value: l, quiet } = await quietRun(
      t,
      4,
      () => measure(d),
      (l) => `delay ${d} ms: added ${fmt(l, base)}`,
    );
    // Stalls only ever add delay: never early holds on any host.
    t.true(l.min >= d - 0.6, `min ${l.min} for ${d} ms`);
    if (!quiet) continue;
    t.true(l.p50 - base >= d - 0.6 && l.p50 - base <= d + 2, `p50 ${l.p50 - base} for ${d} ms`);
    t.true(l.p95 - base <= d + 5, `p95 ${l.p95 - base} for ${d} ms`);
  }
});

test.serial('jitter stays within ±jitter and reorders only when allowed', async (t) => {
  for (const allowReorder of [false, true]) {
    const measure = async () => {
      const c = await chain(
        t,
        { seed: 3, impairment: { delayMs: 30, jitterMs: 10, allowReorder } },
        { ratePps: 1000, count: 1000 },
      );
      await run(c, 150);
      const r = c.rx.report();
      const d = c.rx.samples.map((s) => s.recvTs - s.sendTs).sort((a, b) => a - b);
      return { r, min: d[0]!, p05: d[Math.floor(d.length * 0.05)]! };
    };
    const { value, quiet } = await quietRun(
      t,
      3,
      measure,
      (m) =>
        `allowReorder ${allowReorder}: min ${m.min.toFixed(2)} p05 ${m.p05.toFixed(2)} p95 ${m.r.latency!.p95.toFixed(2)} max ${m.r.latency!.max.toFixed(2)} reordered ${m.r.reordered}`,
    );
    const { r, min, p05 } = value;
    t.is(r.unique, 1000);
    t.true(min >= 20 - 0.6, 'never below delay - jitter');
    if (quiet) t.true(r.latency!.p95 <= 40 + 5, 'p95 within delay + jitter + the delay tolerance');
    // Without reordering, a packet never leaves before its predecessor, which at 1 ms spacing
    // pushes most delays toward the top of the range: the spread narrows but stays well above 0.
    t.true(r.latency!.p95 - p05 > (allowReorder ? 14 : 5), 'jitter actually spreads the delay');
    if (allowReorder) t.true(r.reordered > 100);
    else t.is(r.reordered, 0);
  }
});

test.serial(
  'random loss over 5000 packets is close to the setting and reproducible with a seed',
  async (t) => {
    const counts: number[] = [];
    for (let i = 0; i < 2; i++) {
      const c = await chain(t, { seed: 42, impairment: { lossPct: 20 } }, { ratePps: 5000, count: 5000 });
      const stats = await run(c);
      const { received, dropped } = c.relay.counters().leftToRight;
      const r = c.rx.report({ sent: stats });
      t.log(
        `dropped ${dropped.loss}/${received} (${((100 * dropped.loss) / received).toFixed(2)} %), receiver lossPct ${r.lossPct.toFixed(2)}`,
      );
      t.true(Math.abs((100 * dropped.loss) / received - 20) < 1.7, 'within 3 standard deviations of 20 %'); // sd = sqrt(5000*.2*.8) = 28 packets
      // Equal unless the host overflowed a socket buffer (4 MiB each) somewhere on the way.
      t.is(r.lost, dropped.loss + (5000 - received), 'the receiver sees exactly what the relay dropped');
      counts.push(received === 5000 ? dropped.loss : NaN);
    }
    if (!counts.some(Number.isNaN)) t.is(counts[0], counts[1], 'the same seed, the same drops');
  },
);

test.serial('cut drops everything, restore resumes, flush also drops what is in flight', async (t) => {
  const c = await chain(t, {}, { ratePps: 2000 });
  const meter = new StallMeter();
  await c.sender.start();
  await sleep(100);
  c.relay.cut();
  const cutAt = wallNow();
  const before = c.relay.counters().leftToRight.forwarded;
  await sleep(200);
  t.is(c.relay.counters().leftToRight.forwarded, before, 'nothing is forwarded while cut');
  c.relay.restore();
  const cutMs = wallNow() - cutAt;
  const rxAtRestore = c.rx.count;
  t.true(await waitFor(() => c.rx.count - rxAtRestore > 100), 'traffic resumes');
  const cut = c.relay.counters().leftToRight.dropped.cut;
  // 2 per ms, give or take what this process (sender and relay) was stalled on at either end.
  const slack = 10 + 4 * meter.stop().maxMs;
  t.true(Math.abs(cut - 2 * cutMs) <= slack, `${cut} dropped at 2000/s for ${cutMs} ms (slack ${slack})`);

  // With 100 ms of delay, about 200 packets are held; cut with flush loses them too.
  c.relay.set({ delayMs: 100 });
  await sleep(150);
  const held = c.relay.counters().leftToRight.queued;
  t.true(held > 100, `${held} held`);
  const forwarded = c.relay.counters().leftToRight.forwarded;
  c.relay.cut({ flush: true });
  await sleep(150);
  const after = c.relay.counters().leftToRight;
  t.is(after.forwarded, forwarded, 'nothing held was released');
  t.is(after.queued, 0);
  t.true(after.dropped.cut >= cut + held);
});

test.serial('rate limit: the bottleneck paces packets and tail-drops past the queue limit', async (t) => {
  // 600 packets of 64 bytes at 1000/s is 512 kbit/s offered into 256 kbit/s: one leaves every 2 ms.
  const meter = new StallMeter();
  const paced = await chain(
    t,
    { impairment: { rateKbit: 256, queueLimit: 1000 } },
    { ratePps: 1000, count: 600, size: 64 },
  );
  await run(paced, 800);
  const stall = meter.stop();
  t.like(paced.relay.counters().leftToRight, { forwarded: 600, dropped: { queue: 0 } });
  const s = paced.rx.samples;
  const spacing = (s.at(-1)!.recvTs - s[0]!.recvTs) / (s.length - 1);
  t.log(`${spacing.toFixed(3)} ms between packets (stalled up to ${stall.maxMs.toFixed(0)} ms)`);
  // Release times are computed, not measured, so only a stall at either end moves the average.
  t.true(
    Math.abs(spacing - 2) < 0.1 + (2 * stall.maxMs) / s.length,
    `${spacing} ms between packets at 256 kbit/s`,
  );

  // With room for only 20, about half of what is offered is dropped at the tail.
  const tail = await chain(
    t,
    { impairment: { rateKbit: 256, queueLimit: 20 } },
    { ratePps: 1000, count: 600, size: 64 },
  );
  await run(tail, 200);
  const l = tail.relay.counters().leftToRight;
  t.log(`queue limit 20: forwarded ${l.forwarded}, queue drops ${l.dropped.queue}`);
  t.is(l.forwarded + l.dropped.queue, l.received);
  t.true(l.dropped.queue > 200 && l.forwarded >= 300, 'the bottleneck passes about half');
});

test.serial('probe traffic measures a 300 ms cut as a 300 ms outage, and the loss', async (t) => {
  const c = await chain(t, { impairment: { delayMs: 10 } }, { ratePps: 1000, durationMs: 1500 });
  const meter = new StallMeter();
  await c.sender.start();
  await sleep(500);
  c.relay.cut();
  const cutAt = wallNow();
  await sleep(300);
  c.relay.restore();
  const cutMs = wallNow() - cutAt; // the timer's real duration, usually 300–302
  const stats = await c.sender.done;
  await sleep(100);
  const stall = meter.stop();
  const r = c.rx.report({ cutAtMs: cutAt, sent: stats });
  const o = r.outage!;
  t.log(
    `cut ${cutMs.toFixed(1)} ms; outage ${o.ms.toFixed(1)} ms (receive side ${o.recvMs.toFixed(1)}), ${o.lost} lost, since cut ${o.sinceCutMs.toFixed(1)} ms; loss ${r.lossPct.toFixed(2)} %; stalled up to ${stall.maxMs.toFixed(0)} ms`,
  );
  // Exact: the hole is precisely the packets the relay dropped, and they were all lost.
  const dropped = c.relay.counters().leftToRight.dropped.cut;
  t.is(o.lost, dropped);
  t.is(r.lost, dropped);
  t.is(r.expected, 1500);
  t.true(Math.abs(r.lossPct - (100 * dropped) / 1500) < 1e-9);
  t.true(o.recovered);
  // In time: one packet interval more than the cut, give or take what arrived while this process
  // was stalled at either end (read after the cut began, so dropped by it; or the reverse).
  const slack = 3 + 2 * stall.maxMs;
  t.true(
    o.ms >= cutMs - slack && o.ms <= cutMs + slack,
    `outage ${o.ms} for a ${cutMs} ms cut (slack ${slack})`,
  );
  t.true(Math.abs(o.sinceCutMs - cutMs) <= slack);
  t.true(Math.abs(o.recvMs - o.ms) <= slack);
  if (stall.maxMs <= 5)
    t.true(Math.abs(o.ms - 300) <= 10, `outage ${o.ms} for a nominal 300 ms cut on a quiet host`);
});
