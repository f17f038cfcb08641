// ChaCha20 sixteen blocks at a time: word i of blocks n..n+15 in one zmm register, rotations by
// AVX-512's vprold, a transpose at the end. Short batches and tails use it too: on this machine
// (AMD Zen 4) eight blocks in ymm registers cost as much as sixteen in zmm. Compiled for
// AVX-512 (BW for the masked tail) by function attributes only; called only when the CPU has AVX-512F/VL/BW.
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

namespace sag::crypto {

namespace {

constexpr size_t kWidth = 16;
constexpr size_t kBatchBytes = kWidth * kChachaBlockSize;

SAG_AVX512 inline void quarter(__m512i& a, __m512i& b, __m512i& c, __m512i& d) {
  a = _mm512_add_epi32(a, b);
  d = _mm512_rol_epi32(_mm512_xor_si512(d, a), 16);
  c = _mm512_add_epi32(c, d);
  b = _mm512_rol_epi32(_mm512_xor_si512(b, c), 12);
  a = _mm512_add_epi32(a, b);
  d = _mm512_rol_epi32(_mm512_xor_si512(d, a), 8);
  c = _mm512_add_epi32(c, d);
  b = _mm512_rol_epi32(_mm512_xor_si512(b, c), 7);
}

// Sixteen blocks from `counter` on: block j in out[j].
SAG_AVX512 inline void blocks16(const ChachaState& st, uint32_t counter, __m512i out[16]) {
  __m512i in[16], x[16];
  for (int i = 0; i < 16; ++i) in[i] = _mm512_set1_epi32(int(st.w[i]));
  in[12] = _mm512_add_epi32(_mm512_set1_epi32(int(counter)),
                            _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
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
  for (int i = 0; i < 16; ++i) x[i] = _mm512_add_epi32(x[i], in[i]);
  // Within each 128-bit lane, 4x4 transposes of words: q[g][m] lane k = words 4g..4g+3 of block
  // 4k + m.
  __m512i q[4][4];
  for (int g = 0; g < 4; ++g) {
    __m512i t0 = _mm512_unpacklo_epi32(x[4 * g], x[4 * g + 1]);
    __m512i t1 = _mm512_unpackhi_epi32(x[4 * g], x[4 * g + 1]);
    __m512i t2 = _mm512_unpacklo_epi32(x[4 * g + 2], x[4 * g + 3]);
    __m512i t3 = _mm512_unpackhi_epi32(x[4 * g + 2], x[4 * g + 3]);
    q[g][0] = _mm512_unpacklo_epi64(t0, t2);
    q[g][1] = _mm512_unpackhi_epi64(t0, t2);
    q[g][2] = _mm512_unpacklo_epi64(t1, t3);
    q[g][3] = _mm512_unpackhi_epi64(t1, t3);
  }
  // Then a 4x4 transpose of 128-bit lanes for each m: lane k of q[0..3][m] is block 4k + m.
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
