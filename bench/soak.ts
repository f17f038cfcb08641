/**
 * `npm run soak [-- --duration 10m --rate 2000 ...]`: sustained traffic through two sag gateways
 * (`sag up` in two namespaces) with forced rekeys and loss bursts, sampling throughput, loss, the
 * longest traffic hole and both processes' RSS. Prints a table as it goes, writes JSON to
 * bench/out/, and exits 1 if memory keeps growing over the second half or traffic stalls over 1 s.
 * Root only; not part of CI (test/e2e/soak-short.test.ts runs a 45 s form of it there).
 *
 *   --duration 10m   run time (ms, or with s/m/h)       --sample 5s    window per row
 *   --rate 2000      probe packets per second            --size 1200    probe payload bytes
 *   --rekey 4s       forced rekey interval                --loss-every 20s --loss-burst 2s --loss-pct 30
 *                                                        (--loss-every 0 disables the bursts)
 */
import { e2eSkipReason } from '../test/helpers/netns.js';
import { DEFAULT_SOAK, runSoak, soakTableHeader, soakTableRow, type SoakOptions } from '../test/harness/soak.js';
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
  '--loss-every': ['lossEveryMs', duration],
  '--loss-burst': ['lossBurstMs', duration],
  '--loss-pct': ['lossPct', Number],
};

function parse(argv: string[]): SoakOptions {
  const o: SoakOptions = { ...DEFAULT_SOAK };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = FLAGS[argv[i]!];
    const value = argv[i + 1];
    if (!flag || value === undefined) throw new Error(`usage: npm run soak -- [${Object.keys(FLAGS).join(' V] [')} V]`);
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
console.log(`soak: ${options.durationMs / 1000} s, ${options.ratePps} pps x ${options.size} B, rekey every ${options.rekeyMs} ms, ` +
  (options.lossEveryMs ? `${options.lossPct}% loss for ${options.lossBurstMs} ms every ${options.lossEveryMs} ms` : 'no loss bursts'));
console.log(soakTableHeader(['sag-b', 'sag-a']));
const result = await runSoak(options, (s) => console.log(soakTableRow(s)));
const v = result.verdict;
console.log(`\nsent ${result.sent} probes; ${result.lossBursts} loss bursts dropped ${result.impairedDrops} packets; longest hole ${v.maxGapMs.toFixed(0)} ms`);
for (const [p, m] of Object.entries(v.memory)) {
  console.log(`${p}: RSS ${m.levelMb.toFixed(1)} MB over the second half, trend ${m.mbPerMin >= 0 ? '+' : ''}${m.mbPerMin.toFixed(2)} MB/min (${m.growthMb.toFixed(1)} MB across it; allowed ${m.allowedMb.toFixed(1)} MB)`);
}
writeJson('soak', result);
if (!v.ok) {
  console.error(`\nsoak: FAILED\n  ${v.reasons.join('\n  ')}`);
  process.exit(1);
}
console.log('\nsoak: passed');
