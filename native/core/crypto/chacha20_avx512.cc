// ChaCha20 sixteen blocks at a time: word i of blocks n..n+15 in one zmm register
// (chacha20_sliced.h), rotations by AVX-512's vprold, a transpose at the end. Short batches and
// tails use it too: on AMD Zen 4 eight blocks in ymm registers cost as much as sixteen in zmm.
// Compiled for AVX-512 (BW for the masked tail) by function attributes only; called only when
// the CPU has AVX-512F/VL/BW.
#include "chacha20.h"

#if defined(__x86_64__)
#include <immintrin.h>

// GCC 12's AVX-512 intrinsics pass _mm512_undefined_epi32() (deliberately uninitialised) and then
// warn about it.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define SAG_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw")))
#define SAG_SLICED_TARGET SAG_AVX512
#include "chacha20_sliced.h"

namespace sag::crypto {

namespace {

constexpr size_t kWidth = 16;
constexpr size_t kBatchBytes = kWidth * kChachaBlockSize;

struct Ops {
  typedef uint32_t Words __attribute__((vector_size(64)));
  SAG_AVX512 static __m512i unpacklo32(__m512i a, __m512i b) { return _mm512_unpacklo_epi32(a, b); }
  SAG_AVX512 static __m512i unpackhi32(__m512i a, __m512i b) { return _mm512_unpackhi_epi32(a, b); }
  SAG_AVX512 static __m512i unpacklo64(__m512i a, __m512i b) { return _mm512_unpacklo_epi64(a, b); }
  SAG_AVX512 static __m512i unpackhi64(__m512i a, __m512i b) { return _mm512_unpackhi_epi64(a, b); }
  template <int N>
  SAG_AVX512 static __m512i rotl(__m512i v) {
    return _mm512_rol_epi32(v, N);
  }
};

// Sixteen blocks from `counter` on: block j in out[j].
SAG_AVX512 inline void blocks16(const ChachaState& st, uint32_t counter, __m512i out[16]) {
  __m512i q[4][4];
  sliced_blocks<Ops>(st, counter, q);
  // A 4x4 transpose of 128-bit lanes for each m: lane k of q[0..3][m] is block 4k + m.
  for (int m = 0; m < 4; ++m) {
    __m512i u0 = _mm512_shuffle_i32x4(q[0][m], q[1][m], 0x44);
    __m512i u1 = _mm512_shuffle_i32x4(q[0][m], q[1][m], 0xee);
    __m512i u2 = _mm512_shuffle_i32x4(q[2][m], q[3][m], 0x44);
    __m512i u3 = _mm512_shuffle_i32x4(q[2][m], q[3][m], 0xee);
    out[m] = _mm512_shuffle_i32x4(u0, u2, 0x88);
    out[4 + m] = _mm512_shuffle_i32x4(u0, u2, 0xdd);
    out[8 + m] = _mm512_shuffle_i32x4(u1, u3, 0x88);
    out[12 + m] = _mm512_shuffle_i32x4(u1, u3, 0xdd);
  }
}

SAG_AVX512 void keystream(const ChachaState& st, uint8_t* ks, size_t nblocks) {
  __m512i b[16];
  blocks16(st, st.w[12], b);
  for (size_t i = 0; i < nblocks; ++i) _mm512_storeu_si512(ks + kChachaBlockSize * i, b[i]);
}

SAG_AVX512 void xor_stream(const ChachaState& st, const uint8_t* in, uint8_t* out, size_t len) {
  uint32_t counter = st.w[12];
  __m512i b[16];
  for (; len > 0; counter += kWidth) {
    blocks16(st, counter, b);
    size_t n = len < kBatchBytes ? len : kBatchBytes;
    size_t i = 0;
    for (; (i + 1) * kChachaBlockSize <= n; ++i) {
      __m512i v = _mm512_loadu_si512(in + kChachaBlockSize * i);
      _mm512_storeu_si512(out + kChachaBlockSize * i, _mm512_xor_si512(v, b[i]));
    }
    if (size_t rest = n - i * kChachaBlockSize) {
      // A masked load and store touch only the bytes of the message.
      __mmask64 k = (~uint64_t(0)) >> (64 - rest);
      __m512i v = _mm512_maskz_loadu_epi8(k, in + kChachaBlockSize * i);
      _mm512_mask_storeu_epi8(out + kChachaBlockSize * i, k, _mm512_xor_si512(v, b[i]));
    }
    in += n;
    out += n;
    len -= n;
  }
}

}  // namespace

const ChachaKernels kChachaAvx512 = {kWidth, keystream, xor_stream};

}  // namespace sag::crypto
#endif
