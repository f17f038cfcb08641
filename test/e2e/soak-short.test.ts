/**
 * The short form of `npm run soak` (bench/soak.ts), in CI: 45 s of probe traffic through two
 * `sag up` gateways with rekeys every 3 s and loss bursts on the underlay. It must not stall for
 * over a second, memory must not trend upwards over the second half, rekeys must happen, and the
 * bursts must really have dropped packets.
 */
import test from 'ava';
import { DEFAULT_SOAK, runSoak } from '../harness/soak.js';
import { e2eSkipReason } from '../helpers/netns.js';

const skip = e2eSkipReason(['ip', 'wg', '/usr/sbin/nft']);
if (skip) console.log(`[skip] short soak: ${skip}`);
const e2e = skip ? test.skip : test.serial;

e2e('45 s soak: no stall over 1 s, no memory trend, rekeys and loss bursts happen', async (t) => {
  t.timeout(120_000);
  const durationMs = Number(process.env.SAG_SOAK_SHORT_MS ?? 45_000);
  const result = await runSoak({ ...DEFAULT_SOAK, durationMs, sampleMs: 3_000, ratePps: 1_000, rekeyMs: 3_000, lossEveryMs: 10_000, lossBurstMs: 1_500 });
  const v = result.verdict;
  const rows = result.samples.map((s) => `${s.t.toFixed(0)}s ${s.mbps.toFixed(2)} Mbit/s gap ${s.maxGapMs.toFixed(0)} ms rss ${JSON.stringify(s.rssMb)} hs ${s.handshakes}`).join('\n');
  t.deepEqual(v.reasons, [], rows);
  t.true(result.lossBursts >= 3, `${result.lossBursts} loss bursts`);
  t.true(result.impairedDrops > 0, 'the bursts dropped packets');
  // A rekey needs traffic and waits out REKEY_TIMEOUT between attempts: about one per 5-8 s here.
  t.true(result.samples.at(-1)!.handshakes >= Math.floor(durationMs / 10_000), rows);
  t.true(result.samples.every((s) => s.mbps > 0), rows);
});
