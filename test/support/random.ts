/**
 * A small seeded generator (mulberry32: tiny, fast, seedable) and helpers, so property tests reproduce
 * their failures and the link emulator (delay-line.ts) the same loss and jitter pattern.
 */
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
export const chance = (r: Rng, p: number): boolean => r() < p;
export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
export const bytes = (r: Rng, n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(r, 0, 255));
export function bigBits(r: Rng, bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(int(r, 0, 0xffff));
  return v & ((1n << BigInt(bits)) - 1n);
}
