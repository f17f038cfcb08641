// ChaCha20 eight blocks at a time: word i of blocks n..n+7 in one ymm register (the state
// "sliced" across blocks), so the rounds need no shuffles; a transpose at the end turns the
// sixteen registers into eight 64-byte blocks. Compiled for AVX2 by function attributes only, so
// the rest of the library keeps the baseline ISA; called only when the CPU has AVX2.
#include "chacha20.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define SAG_AVX2 __attribute__((target("avx2")))

namespace sag::crypto {

namespace {

constexpr size_t kWidth = 8;

SAG_AVX2 inline __m256i rotl(__m256i v, int n) {
  return _mm256_or_si256(_mm256_slli_epi32(v, n), _mm256_srli_epi32(v, 32 - n));
}

// Rotations by whole bytes are one byte shuffle.
SAG_AVX2 inline __m256i rotl16(__m256i v) {
  const __m256i m = _mm256_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2, 13, 12, 15, 14, 9,
                                    8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2);
  return _mm256_shuffle_epi8(v, m);
}
SAG_AVX2 inline __m256i rotl8(__m256i v) {
  const __m256i m = _mm256_set_epi8(14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3, 14, 13, 12, 15, 10,
                                    9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3);
  return _mm256_shuffle_epi8(v, m);
}

SAG_AVX2 inline void quarter(__m256i& a, __m256i& b, __m256i& c, __m256i& d) {
  a = _mm256_add_epi32(a, b);
  d = rotl16(_mm256_xor_si256(d, a));
  c = _mm256_add_epi32(c, d);
  b = rotl(_mm256_xor_si256(b, c), 12);
  a = _mm256_add_epi32(a, b);
  d = rotl8(_mm256_xor_si256(d, a));
  c = _mm256_add_epi32(c, d);
  b = rotl(_mm256_xor_si256(b, c), 7);
}

// Eight blocks from `counter` on, as eight pairs of registers: block j is out[2j], out[2j + 1].
SAG_AVX2 inline void blocks8(const ChachaState& st, uint32_t counter, __m256i out[16]) {
  __m256i in[16], x[16];
  for (int i = 0; i < 16; ++i) in[i] = _mm256_set1_epi32(int(st.w[i]));
  in[12] = _mm256_add_epi32(_mm256_set1_epi32(int(counter)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  for (int i = 0; i < 16; ++i) x[i] = in[i];
  for (int r = 0; r < 10; ++r) {
    quarter(x[0], x[4], x[8], x[12]);
    quarter(x[1], x[5], x[9], x[13]);
    quarter(x[2], x[6], x[10], x[14]);
    quarter(x[3], x[7], x[11], x[15]);
    quarter(x[0], x[5], x[10], x[15]);
    quarter(x[1], x[6], x[11], x[12]);
    quarter(x[2], x[7], x[8], x[13]);
    quarter(x[3], x[4], x[9], x[14]);
  }
  for (int i = 0; i < 16; ++i) x[i] = _mm256_add_epi32(x[i], in[i]);
  // Within each 128-bit lane, 4x4 transposes of words: q[g][m] lane k = words 4g..4g+3 of block
  // 4k + m.
  __m256i q[4][4];
  for (int g = 0; g < 4; ++g) {
    __m256i t0 = _mm256_unpacklo_epi32(x[4 * g], x[4 * g + 1]);
    __m256i t1 = _mm256_unpackhi_epi32(x[4 * g], x[4 * g + 1]);
    __m256i t2 = _mm256_unpacklo_epi32(x[4 * g + 2], x[4 * g + 3]);
    __m256i t3 = _mm256_unpackhi_epi32(x[4 * g + 2], x[4 * g + 3]);
    q[g][0] = _mm256_unpacklo_epi64(t0, t2);
    q[g][1] = _mm256_unpackhi_epi64(t0, t2);
    q[g][2] = _mm256_unpacklo_epi64(t1, t3);
    q[g][3] = _mm256_unpackhi_epi64(t1, t3);
  }
  // Then the lanes: low lanes make blocks 0..3, high lanes blocks 4..7.
  for (int m = 0; m < 4; ++m) {
    out[2 * m] = _mm256_permute2x128_si256(q[0][m], q[1][m], 0x20);
    out[2 * m + 1] = _mm256_permute2x128_si256(q[2][m], q[3][m], 0x20);
    out[2 * (m + 4)] = _mm256_permute2x128_si256(q[0][m], q[1][m], 0x31);
    out[2 * (m + 4) + 1] = _mm256_permute2x128_si256(q[2][m], q[3][m], 0x31);
  }
}

SAG_AVX2 void keystream(const ChachaState& st, uint8_t* ks, size_t nblocks) {
  __m256i b[16];
  blocks8(st, st.w[12], b);
  for (size_t i = 0; i < 2 * nblocks; ++i) _mm256_storeu_si256(reinterpret_cast<__m256i*>(ks + 32 * i), b[i]);
}

SAG_AVX2 void xor_stream(const ChachaState& st, const uint8_t* in, uint8_t* out, size_t len) {
  uint32_t counter = st.w[12];
  __m256i b[16];
  for (; len >= kWidth * kChachaBlockSize; len -= kWidth * kChachaBlockSize, counter += kWidth) {
    blocks8(st, counter, b);
    for (int i = 0; i < 16; ++i) {
      __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + 32 * i));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * i), _mm256_xor_si256(v, b[i]));
    }
    in += kWidth * kChachaBlockSize;
    out += kWidth * kChachaBlockSize;
  }
  if (len == 0) return;
  blocks8(st, counter, b);
  size_t i = 0;
  for (; len >= 32; ++i, len -= 32, in += 32, out += 32) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_xor_si256(v, b[i]));
  }
  if (len == 0) return;
  alignas(32) uint8_t last[32];
  _mm256_store_si256(reinterpret_cast<__m256i*>(last), b[i]);
  xor_bytes(out, in, last, len);
}

}  // namespace

const ChachaKernels kChachaAvx2 = {kWidth, keystream, xor_stream};

}  // namespace sag::crypto
#endif
