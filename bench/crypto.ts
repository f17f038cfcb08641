/**
 * Native seal/open throughput per core beside OpenSSL's own `openssl speed` for
 * ChaCha20-Poly1305 at 1420 bytes, in the same run. Reports medians of 3 runs and the ratio.
 * All figures are bytes per user-CPU second (openssl speed's divisor), so load elsewhere on the
 * machine does not skew the ratio.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { buildNative, median, printTable, writeJson, type Row } from './lib/report.js';

const BYTES = 1420;
const RUNS = 3;

function opensslSpeed(): number {
  const out = execFileSync(
    'openssl',
    ['speed', '-evp', 'chacha20-poly1305', '-bytes', String(BYTES), '-seconds', '2'],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const m = /^ChaCha20-Poly1305\s+([\d.]+)k/im.exec(out);
  if (!m) throw new Error(`cannot parse openssl speed output:\n${out}`);
  return Number(m[1]) * 1000;
}

export function runCrypto(): Row[] {
  const dir = buildNative();
  const seal: number[] = [];
  const open: number[] = [];
  const evp: number[] = [];
  const ref: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    ref.push(opensslSpeed());
    const r = JSON.parse(execFileSync(join(dir, 'bench_aead'), [String(BYTES), '2'], { encoding: 'utf8' }));
    seal.push(r.seal_bytes_per_sec);
    open.push(r.open_bytes_per_sec);
    evp.push(r.evp_per_message_bytes_per_sec);
  }
  const gb = (v: number) => v / 1e9;
  const refMed = median(ref);
  const rows: Row[] = [
    { what: 'openssl speed (reference)', 'GB/s': gb(refMed), 'vs openssl': 1 },
    // What OpenSSL's EVP API allows per message at best (nonce init, update, final; no tag read):
    // the ceiling for any caller of EVP, sag included.
    { what: 'EVP per message, floor', 'GB/s': gb(median(evp)), 'vs openssl': median(evp) / refMed },
    { what: 'sag seal (encrypt + header)', 'GB/s': gb(median(seal)), 'vs openssl': median(seal) / refMed },
    { what: 'sag open (decrypt in place)', 'GB/s': gb(median(open)), 'vs openssl': median(open) / refMed },
  ];
  printTable(`ChaCha20-Poly1305, ${BYTES}-byte packets, one core, median of ${RUNS}`, rows);
  const pool = runOpenPool(dir);
  writeJson('crypto', {
    bytes: BYTES,
    runs: { openssl: ref, evpPerMessage: evp, seal, open },
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
      execFileSync(join(dir, 'bench_open_pool'), [String(BYTES), '1'], { encoding: 'utf8' }),
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
