/** Shared bench plumbing: medians, a printed table, and a JSON record (with the machine) under bench/out/. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine, machineLine } from './machine.js';

export const benchDir = dirname(dirname(fileURLToPath(import.meta.url)));
export const repoRoot = dirname(benchDir);

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export type Row = Record<string, string | number>;

export function printTable(title: string, rows: Row[]): void {
  console.log(`\n## ${title}\n`);
  if (!rows.length) return;
  const cols = Object.keys(rows[0]!);
  const cell = (v: string | number | undefined) => (typeof v === 'number' ? fmt(v) : (v ?? ''));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(cell(r[c])).length)));
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(cols));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(cols.map((c) => String(cell(r[c])))));
}

function fmt(v: number): string {
  if (Number.isNaN(v)) return 'n/a';
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function writeJson(name: string, data: unknown): string {
  const dir = join(benchDir, 'out');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = describeMachine();
  writeFileSync(file, JSON.stringify({ name, date: new Date().toISOString(), machine, data }, null, 2));
  console.log(`\nmachine: ${machineLine(machine)}`);
  console.log(`(json: ${file})`);
  return file;
}

/** Builds the standalone native core (release) and returns the build directory. */
export function buildNative(): string {
  const dir = join(repoRoot, 'build-native', 'release');
  execFileSync('cmake', ['-S', repoRoot, '-B', dir, '-DCMAKE_BUILD_TYPE=Release'], { stdio: 'ignore' });
  execFileSync('cmake', ['--build', dir, '-j', '2'], { stdio: 'ignore' });
  return dir;
}
