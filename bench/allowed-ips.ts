/** Allowed-IPs trie: insert time, memory and lookups per second with 100,000 prefixes per family. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { buildNative, median, printTable, writeJson, type Row } from './lib/report.js';

const RUNS = 3;

export function runAllowedIps(): Row[] {
  const dir = buildNative();
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const out = execFileSync(join(dir, 'bench_allowed_ips'), { encoding: 'utf8' });
    const line = out
      .trim()
      .split('\n')
      .find((l) => l.startsWith('{"bench"'));
    runs.push(JSON.parse(line!));
  }
  const rows: Row[] = [
    {
      family: 'IPv4',
      prefixes: runs[0].prefixes_v4,
      'lookups/s (M)': median(runs.map((r) => r.lookups_per_sec_v4)) / 1e6,
    },
    {
      family: 'IPv6',
      prefixes: runs[0].prefixes_v6,
      'lookups/s (M)': median(runs.map((r) => r.lookups_per_sec_v6)) / 1e6,
    },
  ];
  printTable(
    `Allowed-IPs longest-prefix match, one core, median of ${RUNS} (insert of all: ${median(runs.map((r) => r.insert_ms)).toFixed(0)} ms)`,
    rows,
  );
  writeJson('allowed-ips', runs);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) runAllowedIps();
