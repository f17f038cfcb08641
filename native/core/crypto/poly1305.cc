#include "poly1305.h"

#include <cstring>

namespace sag::crypto {

namespace {

using u128 = unsigned __int128;

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // little-endian host (x86-64, arm64); static_assert below
}

// h = (h + m + hibit * 2^128) * r mod 2^130 - 5, partially reduced (h < 2^130 + small).
inline void block(Poly1305& st, const uint8_t* m, uint64_t hibit) {
  uint64_t h0 = st.h0, h1 = st.h1, h2 = st.h2;
  u128 t = u128(h0) + load64(m);
  h0 = uint64_t(t);
  t = u128(h1) + load64(m + 8) + uint64_t(t >> 64);
  h1 = uint64_t(t);
  h2 += uint64_t(t >> 64) + hibit;

  // r1 is a multiple of 4 (clamping), so h1 * r1 * 2^128 = h1 * (r1 / 4) * 2^130 = h1 * s1 mod p.
  const uint64_t r0 = st.r0, r1 = st.r1, s1 = st.s1;
  u128 d0 = u128(h0) * r0 + u128(h1) * s1;
  u128 d1 = u128(h0) * r1 + u128(h1) * r0 + u128(h2) * s1;
  uint64_t d2 = h2 * r0;  // h2 < 8 and r0 < 2^60: no overflow

  d1 += uint64_t(d0 >> 64);
  d2 += uint64_t(d1 >> 64);
  h0 = uint64_t(d0);
  h1 = uint64_t(d1);
  // Fold everything from 2^130 up back in times 5.
  uint64_t c = (d2 & ~uint64_t(3)) + (d2 >> 2);
  h2 = d2 & 3;
  t = u128(h0) + c;
  h0 = uint64_t(t);
  t = u128(h1) + uint64_t(t >> 64);
  h1 = uint64_t(t);
  h2 += uint64_t(t >> 64);
  st.h0 = h0;
  st.h1 = h1;
  st.h2 = h2;
}

}  // namespace

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "Poly1305 loads assume a little-endian host");

void poly1305_init(Poly1305& st, const uint8_t key[32]) {
  st.r0 = load64(key) & 0x0ffffffc0fffffffULL;
  st.r1 = load64(key + 8) & 0x0ffffffc0ffffffcULL;
  st.s1 = st.r1 + (st.r1 >> 2);
  st.h0 = st.h1 = st.h2 = 0;
  st.pad0 = load64(key + 16);
  st.pad1 = load64(key + 24);
  st.buffered = 0;
}

void poly1305_blocks(Poly1305& st, const uint8_t* m, size_t nblocks) {
  for (size_t i = 0; i < nblocks; ++i, m += kPolyBlockSize) block(st, m, 1);
}

void poly1305_padded(Poly1305& st, const uint8_t* m, size_t len) {
  poly1305_blocks(st, m, len / kPolyBlockSize);
  size_t rest = len % kPolyBlockSize;
  if (rest == 0) return;
  uint8_t last[kPolyBlockSize] = {};
  std::memcpy(last, m + len - rest, rest);
  block(st, last, 1);
}

void poly1305_update(Poly1305& st, const uint8_t* m, size_t len) {
  if (st.buffered) {
    size_t take = kPolyBlockSize - st.buffered < len ? kPolyBlockSize - st.buffered : len;
    std::memcpy(st.buf + st.buffered, m, take);
    st.buffered += take;
    m += take;
    len -= take;
    if (st.buffered < kPolyBlockSize) return;
    block(st, st.buf, 1);
    st.buffered = 0;
  }
  poly1305_blocks(st, m, len / kPolyBlockSize);
  size_t rest = len % kPolyBlockSize;
  if (rest) std::memcpy(st.buf, m + len - rest, rest);
  st.buffered = rest;
}

void poly1305_finish(Poly1305& st, uint8_t tag[16]) {
  if (st.buffered) {
    uint8_t last[kPolyBlockSize] = {};
    std::memcpy(last, st.buf, st.buffered);
    last[st.buffered] = 1;
    block(st, last, 0);
  }
  // h < 2p here; h - p = h + 5 - 2^130: take it when that does not borrow (bit 130 set).
  uint64_t h0 = st.h0, h1 = st.h1, h2 = st.h2;
  u128 t = u128(h0) + 5;
  uint64_t g0 = uint64_t(t);
  t = u128(h1) + uint64_t(t >> 64);
  uint64_t g1 = uint64_t(t);
  uint64_t g2 = h2 + uint64_t(t >> 64);
  uint64_t use_g = 0 - (g2 >> 2);  // all ones when h >= p
  h0 = (h0 & ~use_g) | (g0 & use_g);
  h1 = (h1 & ~use_g) | (g1 & use_g);
  t = u128(h0) + st.pad0;
  h0 = uint64_t(t);
  h1 = h1 + st.pad1 + uint64_t(t >> 64);
  std::memcpy(tag, &h0, 8);
  std::memcpy(tag + 8, &h1, 8);
  volatile uint8_t* p = reinterpret_cast<volatile uint8_t*>(&st);
  for (size_t i = 0; i < sizeof st; ++i) p[i] = 0;
}

}  // namespace sag::crypto
