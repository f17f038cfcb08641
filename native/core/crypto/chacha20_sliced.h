// The word-sliced ChaCha20 block function the SIMD kernels share: word i of W consecutive blocks
// in one register, so the rounds need no shuffles, then 4x4 transposes of words within each
// 128-bit lane. Ops supplies one instruction set's rotations and unpacks; lane-wise 32-bit add,
// xor and broadcast are GCC/Clang vector extensions, the same for every width. The including file
// defines SAG_SLICED_TARGET (its target attribute) first; everything here lands in that file's
// anonymous namespace and is compiled for that target only.
#ifndef SAG_SLICED_TARGET
#error "define SAG_SLICED_TARGET before including chacha20_sliced.h"
#endif
#include <cstdint>

#include "chacha20.h"

namespace sag::crypto {
namespace {

// Ops::Words is the register viewed as lanes of 32-bit words.
template <class Ops, class V>
SAG_SLICED_TARGET inline V add(V a, V b) {
  using W = typename Ops::Words;
  return (V)((W)a + (W)b);
}
template <class Ops, class V>
SAG_SLICED_TARGET inline V xor_(V a, V b) {
  using W = typename Ops::Words;
  return (V)((W)a ^ (W)b);
}

template <class Ops, class V>
SAG_SLICED_TARGET inline void sliced_quarter(V& a, V& b, V& c, V& d) {
  a = add<Ops>(a, b);
  d = Ops::template rotl<16>(xor_<Ops>(d, a));
  c = add<Ops>(c, d);
  b = Ops::template rotl<12>(xor_<Ops>(b, c));
  a = add<Ops>(a, b);
  d = Ops::template rotl<8>(xor_<Ops>(d, a));
  c = add<Ops>(c, d);
  b = Ops::template rotl<7>(xor_<Ops>(b, c));
}

// W blocks from `counter` on. On return q[g][m], 128-bit lane k, holds words 4g..4g+3 of block
// 4k + m; the caller moves lanes into whole blocks.
template <class Ops, class V>
SAG_SLICED_TARGET inline void sliced_blocks(const ChachaState& st, uint32_t counter, V q[4][4]) {
  // The input words are broadcast again for the final addition rather than kept in registers:
  // AVX2 has only sixteen.
  using W = typename Ops::Words;
  W counters = {};
  for (uint32_t i = 0; i < sizeof(V) / 4; ++i) counters[i] = counter + i;
  V x[16];
  for (int i = 0; i < 16; ++i) x[i] = i == 12 ? (V)counters : (V)(W{} + st.w[i]);
  for (int r = 0; r < 10; ++r) {
    sliced_quarter<Ops>(x[0], x[4], x[8], x[12]);
    sliced_quarter<Ops>(x[1], x[5], x[9], x[13]);
    sliced_quarter<Ops>(x[2], x[6], x[10], x[14]);
    sliced_quarter<Ops>(x[3], x[7], x[11], x[15]);
    sliced_quarter<Ops>(x[0], x[5], x[10], x[15]);
    sliced_quarter<Ops>(x[1], x[6], x[11], x[12]);
    sliced_quarter<Ops>(x[2], x[7], x[8], x[13]);
    sliced_quarter<Ops>(x[3], x[4], x[9], x[14]);
  }
  for (int i = 0; i < 16; ++i) x[i] = add<Ops>(x[i], i == 12 ? (V)counters : (V)(W{} + st.w[i]));
  for (int g = 0; g < 4; ++g) {
    V t0 = Ops::unpacklo32(x[4 * g], x[4 * g + 1]);
    V t1 = Ops::unpackhi32(x[4 * g], x[4 * g + 1]);
    V t2 = Ops::unpacklo32(x[4 * g + 2], x[4 * g + 3]);
    V t3 = Ops::unpackhi32(x[4 * g + 2], x[4 * g + 3]);
    q[g][0] = Ops::unpacklo64(t0, t2);
    q[g][1] = Ops::unpackhi64(t0, t2);
    q[g][2] = Ops::unpacklo64(t1, t3);
    q[g][3] = Ops::unpackhi64(t1, t3);
  }
}

}  // namespace
}  // namespace sag::crypto
