// Poly1305 eight blocks at a time with AVX-512 IFMA (52-bit multiply-accumulate), for long
// messages. The accumulator is split into eight lanes of radix-2^44 limbs (44, 44, 42 bits); each
// round multiplies every lane by r^8 and adds the next eight blocks, and at the end lane j is
// multiplied by r^(8-j) and the lanes are summed, which is the scalar Horner evaluation reordered.
// With 2^130 = 5 mod p, a product limb at 2^132 comes back times 20. Compiled for AVX-512 IFMA by
// function attributes; called only when the CPU has it.
#include "poly1305.h"

#if defined(__x86_64__)
#include <immintrin.h>

// GCC 12's AVX-512 intrinsics pass _mm512_undefined_epi32() (deliberately uninitialised) and then
// warn about it.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define SAG_IFMA __attribute__((target("avx512f,avx512ifma")))

namespace sag::crypto {

namespace {

constexpr uint64_t kMask44 = (uint64_t(1) << 44) - 1;
constexpr uint64_t kMask42 = (uint64_t(1) << 42) - 1;

// Eight field elements, one per 64-bit lane, as three limbs below 2^52 (lazily reduced).
struct Lanes {
  __m512i l0, l1, l2;
};

SAG_IFMA inline __m512i times20(__m512i x) {
  return _mm512_add_epi64(_mm512_slli_epi64(x, 4), _mm512_slli_epi64(x, 2));
}

// a * b + add mod p per lane; limbs of the result below 2^44, 2^44 + 2^8 and 2^43.
SAG_IFMA inline Lanes mul_add(const Lanes& a, const Lanes& b, const Lanes& add) {
  const __m512i b1x20 = times20(b.l1), b2x20 = times20(b.l2);
  // Low and high 52-bit halves of each limb product, summed by the limb they land in.
  __m512i lo0 = _mm512_madd52lo_epu64(add.l0, a.l0, b.l0);
  __m512i hi0 = _mm512_madd52hi_epu64(_mm512_setzero_si512(), a.l0, b.l0);
  __m512i lo1 = _mm512_madd52lo_epu64(add.l1, a.l0, b.l1);
  __m512i hi1 = _mm512_madd52hi_epu64(_mm512_setzero_si512(), a.l0, b.l1);
  __m512i lo2 = _mm512_madd52lo_epu64(add.l2, a.l0, b.l2);
  __m512i hi2 = _mm512_madd52hi_epu64(_mm512_setzero_si512(), a.l0, b.l2);
  lo0 = _mm512_madd52lo_epu64(lo0, a.l1, b2x20);
  hi0 = _mm512_madd52hi_epu64(hi0, a.l1, b2x20);
  lo1 = _mm512_madd52lo_epu64(lo1, a.l1, b.l0);
  hi1 = _mm512_madd52hi_epu64(hi1, a.l1, b.l0);
  lo2 = _mm512_madd52lo_epu64(lo2, a.l1, b.l1);
  hi2 = _mm512_madd52hi_epu64(hi2, a.l1, b.l1);
  lo0 = _mm512_madd52lo_epu64(lo0, a.l2, b1x20);
  hi0 = _mm512_madd52hi_epu64(hi0, a.l2, b1x20);
  lo1 = _mm512_madd52lo_epu64(lo1, a.l2, b2x20);
  hi1 = _mm512_madd52hi_epu64(hi1, a.l2, b2x20);
  lo2 = _mm512_madd52lo_epu64(lo2, a.l2, b.l0);
  hi2 = _mm512_madd52hi_epu64(hi2, a.l2, b.l0);
  // A high half weighs 2^52 = 2^8 times its limb's base: it joins the next limb shifted by 8; the
  // top one (2^140 = 2^130 * 2^10) comes back to limb 0 times 5 * 2^10.
  const __m512i m44 = _mm512_set1_epi64(int64_t(kMask44)), m42 = _mm512_set1_epi64(int64_t(kMask42));
  __m512i t1 = _mm512_add_epi64(lo1, _mm512_slli_epi64(hi0, 8));
  __m512i t2 = _mm512_add_epi64(lo2, _mm512_slli_epi64(hi1, 8));
  t1 = _mm512_add_epi64(t1, _mm512_srli_epi64(lo0, 44));
  __m512i t0 = _mm512_and_si512(lo0, m44);
  t2 = _mm512_add_epi64(t2, _mm512_srli_epi64(t1, 44));
  t1 = _mm512_and_si512(t1, m44);
  __m512i c = _mm512_add_epi64(_mm512_srli_epi64(t2, 42), _mm512_slli_epi64(hi2, 10));
  t2 = _mm512_and_si512(t2, m42);
  t0 = _mm512_add_epi64(t0, _mm512_add_epi64(c, _mm512_slli_epi64(c, 2)));
  t1 = _mm512_add_epi64(t1, _mm512_srli_epi64(t0, 44));
  t0 = _mm512_and_si512(t0, m44);
  return {t0, t1, t2};
}

// Eight message blocks (128 bytes) as limbs, with the 2^128 bit each block carries.
SAG_IFMA inline Lanes load_blocks(const uint8_t* m) {
  const __m512i a = _mm512_loadu_si512(m), b = _mm512_loadu_si512(m + 64);
  const __m512i lo = _mm512_permutex2var_epi64(a, _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), b);
  const __m512i hi = _mm512_permutex2var_epi64(a, _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), b);
  const __m512i m44 = _mm512_set1_epi64(int64_t(kMask44));
  return {_mm512_and_si512(lo, m44),
          _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64(lo, 44), _mm512_slli_epi64(hi, 20)), m44),
          _mm512_or_si512(_mm512_srli_epi64(hi, 24), _mm512_set1_epi64(int64_t(1) << 40))};
}

SAG_IFMA inline Lanes broadcast(uint64_t l0, uint64_t l1, uint64_t l2) {
  return {_mm512_set1_epi64(int64_t(l0)), _mm512_set1_epi64(int64_t(l1)), _mm512_set1_epi64(int64_t(l2))};
}

// Lanes where `mask` is set take x, the others 1.
SAG_IFMA inline Lanes or_one(__mmask8 mask, const Lanes& x) {
  return {_mm512_mask_blend_epi64(mask, _mm512_set1_epi64(1), x.l0), _mm512_maskz_mov_epi64(mask, x.l1),
          _mm512_maskz_mov_epi64(mask, x.l2)};
}

}  // namespace

SAG_IFMA size_t poly1305_blocks_ifma(Poly1305& st, const uint8_t* m, size_t nblocks) {
  constexpr size_t kLanes = 8;
  if (nblocks < kPolyIfmaMinBlocks) return 0;
  const size_t rounds = nblocks / kLanes;

  const Lanes zero = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
  // Powers of r: r^2, r^4, r^8 in every lane, and r^(8-j) in lane j from the bits of 7 - j.
  const Lanes r1 = broadcast(st.r0 & kMask44, (st.r0 >> 44 | st.r1 << 20) & kMask44, st.r1 >> 24);
  const Lanes r2 = mul_add(r1, r1, zero);
  const Lanes r4 = mul_add(r2, r2, zero);
  const Lanes r8 = mul_add(r4, r4, zero);
  Lanes rj = mul_add(r1, or_one(0x55, r1), zero);  // lanes 0, 2, 4, 6: 7 - j odd
  rj = mul_add(rj, or_one(0x33, r2), zero);        // lanes 0, 1, 4, 5: bit 1 of 7 - j
  rj = mul_add(rj, or_one(0x0f, r4), zero);        // lanes 0..3: bit 2 of 7 - j

  // Lane 0 starts with the scalar accumulator.
  Lanes h = load_blocks(m);
  const uint64_t h0 = st.h0, h1 = st.h1, h2 = st.h2;
  h.l0 = _mm512_add_epi64(h.l0, _mm512_maskz_set1_epi64(1, int64_t(h0 & kMask44)));
  h.l1 = _mm512_add_epi64(h.l1, _mm512_maskz_set1_epi64(1, int64_t((h0 >> 44 | h1 << 20) & kMask44)));
  h.l2 = _mm512_add_epi64(h.l2, _mm512_maskz_set1_epi64(1, int64_t(h1 >> 24 | h2 << 40)));
  for (size_t i = 1; i < rounds; ++i) h = mul_add(h, r8, load_blocks(m + i * kLanes * kPolyBlockSize));
  h = mul_add(h, rj, zero);

  // Sum the lanes, carry, fold 2^130 back as 5, and pack into the scalar radix-2^64 form.
  uint64_t l0 = uint64_t(_mm512_reduce_add_epi64(h.l0));
  uint64_t l1 = uint64_t(_mm512_reduce_add_epi64(h.l1));
  uint64_t l2 = uint64_t(_mm512_reduce_add_epi64(h.l2));
  l1 += l0 >> 44;
  l0 &= kMask44;
  l2 += l1 >> 44;
  l1 &= kMask44;
  l0 += (l2 >> 42) * 5;
  l2 &= kMask42;
  l1 += l0 >> 44;
  l0 &= kMask44;
  l2 += l1 >> 44;
  l1 &= kMask44;
  st.h0 = l0 | l1 << 44;
  st.h1 = l1 >> 20 | l2 << 24;
  st.h2 = l2 >> 40;
  return rounds * kLanes;
}

}  // namespace sag::crypto
#endif
