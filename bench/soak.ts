/**
 * `npm run soak [-- --duration 10m --rate 2000 ...]`: sustained traffic through two sag gateways
 * (`sag up` in two namespaces joined by two underlay links, the branch with two [Uplink]s) with
 * forced rekeys while the preferred link flaps, sampling throughput, loss, the longest traffic
 * hole, both processes' RSS and the failovers/failbacks. Prints a table as it goes, writes JSON to
 * bench/out/, and exits 1 if memory keeps growing over the second half, traffic stalls over 1 s,
 * or the flapping did not move the traffic (a failover and a failback per cut, bar the last).
 * Root only; not part of CI (test/e2e/soak-short.test.ts runs a 45 s form of it there).
 *
 *   --duration 10m   run time (ms, or with s/m/h)       --sample 5s    window per row
 *   --rate 2000      probe packets per second            --size 1200    probe payload bytes
 *   --rekey 4s       forced rekey interval               --hold-down 2s the branch's HoldDown
 *   --flap-every 10s --flap-down 4s --flap-mode alternate|link|blackhole   (--flap-every 0: no flapping)
 *   --loss-every 0 --loss-burst 2s --loss-pct 30   loss bursts on both links (off by default)
 */
import { e2eSkipReason } from '../test/support/netns.js';
import { FLAP_MODES, type FlapMode } from '../test/support/flap.js';
import {
  DEFAULT_SOAK,
  runSoak,
  soakTableHeader,
  soakTableRow,
  type SoakOptions,
} from '../test/support/soak.js';
import { writeJson } from './lib/report.js';

function duration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v);
  if (!m) throw new Error(`bad duration "${v}" (e.g. 600000, 45s, 10m)`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms'];
}

const FLAGS: Record<string, [keyof SoakOptions, (v: string) => number]> = {
  '--duration': ['durationMs', duration],
  '--sample': ['sampleMs', duration],
  '--rate': ['ratePps', Number],
  '--size': ['size', Number],
  '--rekey': ['rekeyMs', duration],
  '--hold-down': ['holdDownMs', duration],
  '--flap-every': ['flapEveryMs', duration],
  '--flap-down': ['flapDownMs', duration],
  '--loss-every': ['lossEveryMs', duration],
  '--loss-burst': ['lossBurstMs', duration],
  '--loss-pct': ['lossPct', Number],
};

function parse(argv: string[]): SoakOptions {
  const o: SoakOptions = { ...DEFAULT_SOAK };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1];
    if (argv[i] === '--flap-mode' && FLAP_MODES.includes(value as FlapMode)) {
      o.flapMode = value as FlapMode;
      continue;
    }
    const flag = FLAGS[argv[i]!];
    if (!flag || value === undefined)
      throw new Error(
        `usage: npm run soak -- [${Object.keys(FLAGS).join(' V] [')} V] [--flap-mode ${FLAP_MODES.join('|')}]`,
      );
    const n = flag[1](value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${argv[i]}: bad value "${value}"`);
    (o as unknown as Record<string, number>)[flag[0]] = n;
  }
  return o;
}

const skip = e2eSkipReason(['ip', 'wg', '/usr/sbin/nft']);
if (skip) {
  console.error(`soak: ${skip}`);
  process.exit(2);
}
const options = parse(process.argv.slice(2));
console.log(
  `soak: ${options.durationMs / 1000} s, ${options.ratePps} pps x ${options.size} B, rekey every ${options.rekeyMs} ms, ` +
    (options.flapEveryMs
      ? `wan1 down (${options.flapMode}) for ${options.flapDownMs} ms every ${options.flapEveryMs} ms, hold-down ${options.holdDownMs} ms, `
      : 'no flapping, ') +
    (options.lossEveryMs
      ? `${options.lossPct}% loss on both links for ${options.lossBurstMs} ms every ${options.lossEveryMs} ms`
      : 'no loss bursts'),
);
console.log(soakTableHeader(['sag-b', 'sag-a']));
const result = await runSoak(options, (s) => console.log(soakTableRow(s)));
const v = result.verdict;
console.log(
  `\nsent ${result.sent} probes; longest hole ${v.maxGapMs.toFixed(0)} ms; handshakes ${result.samples.at(-1)?.handshakes ?? 0}`,
);
console.log(
  `wan1 went down ${result.flaps.link} times (link) and ${result.flaps.blackhole} times (blackhole): ${result.failovers} failovers to wan2, ${result.failbacks} failbacks to wan1`,
);
if (options.lossEveryMs)
  console.log(`${result.lossBursts} loss bursts dropped ${result.impairedDrops} packets`);
for (const [p, m] of Object.entries(v.memory)) {
  console.log(
    `${p}: RSS ${m.levelMb.toFixed(1)} MB over the second half, trend ${m.mbPerMin >= 0 ? '+' : ''}${m.mbPerMin.toFixed(2)} MB/min (${m.growthMb.toFixed(1)} MB across it; allowed ${m.allowedMb.toFixed(1)} MB)`,
  );
}
writeJson('soak', result);
if (!v.ok) {
  console.error(`\nsoak: FAILED\n  ${v.reasons.join('\n  ')}`);
  process.exit(1);
}
console.log('\nsoak: passed');
