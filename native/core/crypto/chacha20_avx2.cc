// ChaCha20 eight blocks at a time: word i of blocks n..n+7 in one ymm register
// (chacha20_sliced.h), then a transpose into eight 64-byte blocks. Compiled for AVX2 by function
// attributes only, so the rest of the library keeps the baseline ISA; called only when the CPU
// has AVX2.
#include "chacha20.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define SAG_AVX2 __attribute__((target("avx2")))
#define SAG_SLICED_TARGET SAG_AVX2
#include "chacha20_sliced.h"

namespace sag::crypto {

namespace {

constexpr size_t kWidth = 8;

// AVX2 has no vector rotate: whole-byte rotations are one byte shuffle, the others two shifts.
struct Ops {
  typedef uint32_t Words __attribute__((vector_size(32)));
  template <int N>
  SAG_AVX2 static __m256i rotl(__m256i v) {
    if constexpr (N == 16) {
      return _mm256_shuffle_epi8(v, _mm256_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2, 13,
                                                    12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2));
    } else if constexpr (N == 8) {
      return _mm256_shuffle_epi8(v, _mm256_set_epi8(14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3, 14,
                                                    13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3));
    } else {
      return _mm256_or_si256(_mm256_slli_epi32(v, N), _mm256_srli_epi32(v, 32 - N));
    }
  }
  SAG_AVX2 static __m256i unpacklo32(__m256i a, __m256i b) { return _mm256_unpacklo_epi32(a, b); }
  SAG_AVX2 static __m256i unpackhi32(__m256i a, __m256i b) { return _mm256_unpackhi_epi32(a, b); }
  SAG_AVX2 static __m256i unpacklo64(__m256i a, __m256i b) { return _mm256_unpacklo_epi64(a, b); }
  SAG_AVX2 static __m256i unpackhi64(__m256i a, __m256i b) { return _mm256_unpackhi_epi64(a, b); }
};

// Eight blocks from `counter` on, as eight pairs of registers: block j is out[2j], out[2j + 1].
SAG_AVX2 inline void blocks8(const ChachaState& st, uint32_t counter, __m256i out[16]) {
  __m256i q[4][4];
  sliced_blocks<Ops>(st, counter, q);
  // Low lanes make blocks 0..3, high lanes blocks 4..7.
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
