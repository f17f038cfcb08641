/**
 * Native seal/open throughput per core, per packet, for every ChaCha20-Poly1305 path the CPU has
 * (ours: portable, avx2, avx512; and OpenSSL's EVP through the same Aead class) at 64, 576 and
 * 1420 bytes, beside `openssl speed -evp chacha20-poly1305` streaming at the same size and
 * OpenSSL's per-packet EVP, in the same run. Reports medians of 3 runs and the ratios.
 * All figures are bytes per user-CPU second (openssl speed's divisor), so load elsewhere on the
 * machine does not skew the ratios.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { buildNative, median, printTable, writeJson, type Row } from './lib/report.js';

const SIZES = [64, 576, 1420];
const RUNS = 3;
const SECONDS = 0.4; // per path, size and direction in bench_aead
const OPEN_POOL_BYTES = 1420;

function opensslSpeed(bytes: number): number {
  const out = execFileSync(
    'openssl',
    ['speed', '-evp', 'chacha20-poly1305', '-bytes', String(bytes), '-seconds', '1'],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const m = /^ChaCha20-Poly1305\s+([\d.]+)k/im.exec(out);
  if (!m) throw new Error(`cannot parse openssl speed output:\n${out}`);
  return Number(m[1]) * 1000;
}

interface AeadResult {
  impl: string;
  bytes: number;
  seal_bytes_per_sec: number;
  open_bytes_per_sec?: number;
}

export function runCrypto(): Row[] {
  const dir = buildNative();
  // runs[`${impl}/${bytes}`] = { seal: [...], open: [...] }; speed[bytes] = [...]
  const runs = new Map<string, { seal: number[]; open: number[] }>();
  const speed = new Map<number, number[]>();
  let defaultPath = '';
  for (let i = 0; i < RUNS; i++) {
    for (const bytes of SIZES) speed.set(bytes, [...(speed.get(bytes) ?? []), opensslSpeed(bytes)]);
    const r = JSON.parse(
      execFileSync(join(dir, 'bench_aead'), [String(SECONDS), ...SIZES.map(String)], { encoding: 'utf8' }),
    ) as { default: string; results: AeadResult[] };
    defaultPath = r.default;
    for (const x of r.results) {
      const key = `${x.impl}/${x.bytes}`;
      const e = runs.get(key) ?? { seal: [], open: [] };
      e.seal.push(x.seal_bytes_per_sec);
      if (x.open_bytes_per_sec !== undefined) e.open.push(x.open_bytes_per_sec);
      runs.set(key, e);
    }
  }
  const rows: Row[] = [];
  for (const bytes of SIZES) {
    const ref = median(speed.get(bytes) ?? [0]);
    const evp = runs.get(`openssl/${bytes}`);
    const evpSeal = evp ? median(evp.seal) : NaN;
    const evpOpen = evp ? median(evp.open) : NaN;
    rows.push({
      bytes,
      path: 'openssl speed (streaming)',
      'seal GB/s': ref / 1e9,
      'open GB/s': '',
      'seal/speed': 1,
      'open/speed': '',
      'seal/EVP': '',
      'open/EVP': '',
    });
    for (const [key, e] of runs) {
      const [impl, b] = key.split('/');
      if (Number(b) !== bytes) continue;
      const seal = median(e.seal);
      const open = e.open.length ? median(e.open) : NaN;
      const name =
        impl === 'evp-floor' ? 'EVP floor (no tag read)' : impl === defaultPath ? `${impl} (default)` : impl;
      rows.push({
        bytes,
        path: name,
        'seal GB/s': seal / 1e9,
        'open GB/s': Number.isNaN(open) ? '' : open / 1e9,
        'seal/speed': seal / ref,
        'open/speed': Number.isNaN(open) ? '' : open / ref,
        'seal/EVP': seal / evpSeal,
        'open/EVP': Number.isNaN(open) ? '' : open / evpOpen,
      });
    }
  }
  printTable(
    `ChaCha20-Poly1305 per packet, one core, median of ${RUNS} (EVP = the openssl path, per packet)`,
    rows,
  );
  const pool = runOpenPool(dir);
  writeJson('crypto', {
    sizes: SIZES,
    defaultPath,
    opensslSpeed: Object.fromEntries(speed),
    runs: Object.fromEntries(runs),
    openPool: pool,
  });
  return rows;
}

/**
 * The receive path's decryption of a 64-packet batch with 1..CPUs threads (open_pool.h), wall
 * clock, beside as many independent threads opening their own batches: how far the cores scale.
 */
function runOpenPool(dir: string): Array<{ threads: number; runs: number[]; independent: number[] }> {
  const byThreads = new Map<number, { runs: number[]; independent: number[] }>();
  for (let i = 0; i < RUNS; i++) {
    const r = JSON.parse(
      execFileSync(join(dir, 'bench_open_pool'), [String(OPEN_POOL_BYTES), '1'], { encoding: 'utf8' }),
    );
    for (const run of r.runs as Array<{
      threads: number;
      bytes_per_sec: number;
      independent_bytes_per_sec: number;
    }>) {
      const entry = byThreads.get(run.threads) ?? { runs: [], independent: [] };
      entry.runs.push(run.bytes_per_sec);
      entry.independent.push(run.independent_bytes_per_sec);
      byThreads.set(run.threads, entry);
    }
  }
  const one = median(byThreads.get(1)?.runs ?? [0]);
  const oneFree = median(byThreads.get(1)?.independent ?? [0]);
  const rows: Row[] = [...byThreads].map(([threads, e]) => ({
    'decrypting threads': threads,
    'pool GB/s (wall)': median(e.runs) / 1e9,
    'pool vs 1 thread': median(e.runs) / one,
    'independent threads vs 1': median(e.independent) / oneFree,
  }));
  printTable(
    `Receive decryption of 64-packet batches over cores, median of ${RUNS} (wall clock: needs idle cores)`,
    rows,
  );
  return [...byThreads].map(([threads, e]) => ({ threads, ...e }));
}

if (import.meta.url === `file://${process.argv[1]}`) runCrypto();
