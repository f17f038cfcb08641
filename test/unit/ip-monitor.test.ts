/**
 * The rtnetlink monitor process (src/net/ip-monitor.ts) with the real `ip` (iproute2; no root
 * needed to listen): the dump on start, restart with doubling backoff after the monitor dies (a
 * fake clock drives the backoff), a clear failure when `ip` cannot run, and a clean stop.
 */
import test from 'ava';
import { once } from 'node:events';
import { IpMonitor, type MonitorTimers } from '../../src/net/ip-monitor.js';
import { hasCommand } from '../support/netns.js';

const noIp =
  process.platform !== 'linux'
    ? 'rtnetlink is Linux only'
    : hasCommand('ip')
      ? undefined
      : 'missing ip (iproute2)';
const withIp = noIp ? test.skip : test;
if (noIp) console.log(`[skip] ip monitor tests: ${noIp}`);

/** A clock the test moves by hand: restarts happen when the test says so. */
class FakeTimers implements MonitorTimers {
  nowMs = 0;
  pending: { at: number; run: () => void }[] = [];
  now = () => this.nowMs;
  setTimeout = (run: () => void, ms: number) => {
    const t = { at: this.nowMs + ms, run };
    this.pending.push(t);
    return t;
  };
  clearTimeout = (h: unknown) => {
    this.pending = this.pending.filter((t) => t !== h);
  };
  advance(ms: number): void {
    this.nowMs += ms;
    const due = this.pending.filter((t) => t.at <= this.nowMs);
    this.pending = this.pending.filter((t) => t.at > this.nowMs);
    for (const t of due) t.run();
  }
}

withIp(
  'dumps the current links and addresses on start, restarts with doubling backoff after a kill, stops cleanly',
  async (t) => {
    const timers = new FakeTimers();
    const mon = new IpMonitor({ initialBackoffMs: 100, maxBackoffMs: 300, stableAfterMs: 10_000, timers });
    const failures: { message: string; restartInMs: number }[] = [];
    mon.on('failure', (f) => failures.push(f));
    const first = once(mon, 'snapshot');
    mon.start();
    const [lines] = (await first) as [{ kind: string; name?: string }[]];
    t.true(
      lines.some((l) => l.kind === 'link' && l.name === 'lo'),
      'lo in the dump',
    );

    for (const expected of [100, 200, 300, 300]) {
      const pid = mon.pid!;
      const died = once(mon, 'failure');
      process.kill(pid, 'SIGKILL');
      await died;
      t.is(failures.at(-1)!.restartInMs, expected);
      t.regex(failures.at(-1)!.message, /monitor exited \(SIGKILL\)/);
      t.is(mon.pid, undefined, 'no child until the backoff ends');
      const again = once(mon, 'snapshot');
      timers.advance(expected);
      await again;
      t.truthy(mon.pid);
    }
    timers.advance(10_000); // ran long enough: the next death starts the backoff afresh
    const died = once(mon, 'failure');
    process.kill(mon.pid!, 'SIGKILL');
    await died;
    t.is(failures.at(-1)!.restartInMs, 100);
    timers.advance(100);
    await once(mon, 'snapshot');

    const pid = mon.pid!;
    await mon.stop();
    t.is(mon.pid, undefined);
    t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the monitor child is gone');
    t.is(timers.pending.length, 0);
    await mon.stop(); // idempotent
  },
);

test('a missing ip binary is a failure event with the reason, retried with backoff, never an exception', async (t) => {
  const timers = new FakeTimers();
  const mon = new IpMonitor({ command: '/nonexistent/ip', initialBackoffMs: 50, timers });
  const failure = once(mon, 'failure');
  mon.start();
  const [f] = (await failure) as [{ message: string; restartInMs: number }];
  t.regex(f.message, /could not run .*ENOENT/);
  t.is(f.restartInMs, 50);
  const second = once(mon, 'failure');
  timers.advance(50);
  t.is(((await second) as [{ restartInMs: number }])[0].restartInMs, 100);
  await mon.stop();
  t.is(timers.pending.length, 0, 'stop cancels the pending restart');
});
