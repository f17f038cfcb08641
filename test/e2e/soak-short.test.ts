/**
 * The short form of `npm run soak` (bench/soak.ts), in CI: 45 s of probe traffic through two
 * `sag up` gateways joined by two underlay links, rekeys every 3 s, while the preferred link flaps
 * (down for 3 s every 8 s, alternately link down and nftables blackhole). It must not stall for
 * over a second, memory must not trend upwards over the second half, rekeys must happen, and every
 * cut (bar possibly the last) must move the traffic off the link and back once it returned.
 */
import test from 'ava';
import { DEFAULT_SOAK, runSoak } from '../support/soak.js';
import { e2eSkipReason } from '../support/netns.js';

const skip = e2eSkipReason(['ip', 'wg', '/usr/sbin/nft']);
if (skip) console.log(`[skip] short soak: ${skip}`);
const e2e = skip ? test.skip : test.serial;

e2e(
  '45 s soak with a flapping link: no stall over 1 s, no memory trend, rekeys, failovers and failbacks',
  async (t) => {
    t.timeout(120_000);
    const durationMs = Number(process.env.SAG_SOAK_SHORT_MS ?? 45_000);
    const result = await runSoak({
      ...DEFAULT_SOAK,
      durationMs,
      sampleMs: 3_000,
      ratePps: 1_000,
      rekeyMs: 3_000,
      flapEveryMs: 8_000,
      flapDownMs: 3_000,
      flapMode: 'alternate',
      holdDownMs: 1_500,
    });
    const v = result.verdict;
    const rows = result.samples
      .map(
        (s) =>
          `${s.t.toFixed(0)}s ${s.mbps.toFixed(2)} Mbit/s gap ${s.maxGapMs.toFixed(0)} ms rss ${JSON.stringify(s.rssMb)} hs ${s.handshakes} on ${s.activeUplink} moves ${s.failovers}/${s.failbacks}${s.flapped ? ' flap' : ''}`,
      )
      .join('\n');
    t.log(
      `${result.flaps.link} link-down and ${result.flaps.blackhole} blackhole cuts: ${result.failovers} failovers, ${result.failbacks} failbacks; longest hole ${v.maxGapMs.toFixed(0)} ms`,
    );
    t.deepEqual(v.reasons, [], rows);
    t.true(result.flaps.link >= 2 && result.flaps.blackhole >= 2, JSON.stringify(result.flaps));
    t.true(result.failovers >= 4 && result.failbacks >= 4, rows);
    // A rekey needs traffic and waits out REKEY_TIMEOUT between attempts: about one per 5-8 s here.
    t.true(result.samples.at(-1)!.handshakes >= Math.floor(durationMs / 10_000), rows);
    t.true(
      result.samples.every((s) => s.mbps > 0),
      rows,
    );
  },
);
