/**
 * The harness CLIs (udp-relay-cli.ts, probe-cli.ts) as child processes on loopback, the way the
 * failover tests run them inside namespaces: ready lines, acked JSON-line requests, a cut through
 * stdin measured by probe processes. No root needed.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { ProbeReceiverChild, ProbeSenderChild, RelayChild } from '../support/children.js';
import { harnessCommand } from '../support/json-lines.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LO = '127.0.0.1';

test('the CLIs refuse a bad argument with usage and exit 2', (t) => {
  for (const [script, args] of [
    ['udp-relay-cli.ts', ['{not json']],
    ['probe-cli.ts', ['fly', '{}']],
  ] as const) {
    const c = harnessCommand(script, [...args]);
    const r = spawnSync(c.cmd, c.args, { encoding: 'utf8', input: '' });
    t.is(r.status, 2, `${script}: ${r.stderr}`);
    t.regex(r.stderr, /usage:/);
  }
});

test('relay and probe processes: acked changes, a 300 ms cut over stdin, counters', async (t) => {
  const rx = await ProbeReceiverChild.spawn({ host: LO });
  const relay = await RelayChild.spawn({
    listen: { host: LO },
    target: { host: LO, port: rx.port },
    seed: 5,
  });
  t.teardown(() => Promise.all([rx.close(), relay.close()]).then(() => undefined));

  const ack = await relay.set({ delayMs: 20, jitterMs: 2 }, 'leftToRight');
  t.like(ack.impairment.leftToRight, { delayMs: 20, jitterMs: 2, cut: false });
  t.like(ack.impairment.rightToLeft, { delayMs: 0 });
  t.true(Math.abs(ack.at - Date.now()) < 1000);
  await t.throwsAsync(relay.set({ delay: 5 } as never), { message: /unknown impairment "delay"/ });
  await t.throwsAsync(relay.proc.request({ op: 'explode' }), { message: /unknown op/ });

  const tx = await ProbeSenderChild.spawn({
    host: LO,
    port: relay.listenPort,
    ratePps: 1000,
    durationMs: 2000,
  });
  t.teardown(() => tx.close());
  await sleep(700);
  const cut = await relay.cut();
  t.true(cut.impairment.leftToRight.cut && cut.impairment.rightToLeft.cut);
  await sleep(300);
  const restored = await relay.restore();
  const cutMs = restored.at - cut.at; // by the relay's clock: what the relay actually applied
  const stats = await tx.done();
  t.is(stats.sent, 2000);
  await sleep(100);

  const r = await rx.report({ cutAtMs: cut.at, sent: stats });
  const o = r.outage!;
  t.log(
    `cut ${cutMs.toFixed(1)} ms by the relay; outage ${o.ms.toFixed(1)} ms, since cut ${o.sinceCutMs.toFixed(1)} ms, ${o.lost} lost; one-way p50 ${r.latency!.p50.toFixed(2)} ms`,
  );
  // The cut also catches packets waiting to be read when it began (the relay process was busy or
  // not scheduled): 1–4 ms on a quiet host, up to ~100 on a loaded one. Counts above are exact.
  t.true(o.ms >= cutMs - 5 && o.ms <= cutMs + 100, `outage ${o.ms} vs cut ${cutMs}`);
  t.true(Math.abs(o.sinceCutMs - cutMs) <= 100);
  t.true(o.recovered);
  t.true(r.latency!.p50 > 19.4, 'the 20 ms delay shows in one-way latency');
  const counters = (await relay.counters()).counters;
  t.is(counters.leftToRight.received, 2000);
  t.is(r.lost, counters.leftToRight.dropped.cut);
  t.is(o.lost, counters.leftToRight.dropped.cut, 'the hole is exactly what the relay dropped');
  t.is(r.unique, counters.leftToRight.forwarded);
});
