#include "chacha20.h"

#include <cstring>

namespace sag::crypto {

namespace {

inline uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // little-endian host, as poly1305.cc asserts
}

inline uint32_t rotl(uint32_t v, int n) {
  return v << n | v >> (32 - n);
}

inline void quarter(uint32_t* x, int a, int b, int c, int d) {
  x[a] += x[b];
  x[d] = rotl(x[d] ^ x[a], 16);
  x[c] += x[d];
  x[b] = rotl(x[b] ^ x[c], 12);
  x[a] += x[b];
  x[d] = rotl(x[d] ^ x[a], 8);
  x[c] += x[d];
  x[b] = rotl(x[b] ^ x[c], 7);
}

void block(const uint32_t in[16], uint32_t counter, uint8_t out[kChachaBlockSize]) {
  uint32_t x[16];
  std::memcpy(x, in, sizeof x);
  x[12] = counter;
  for (int i = 0; i < 10; ++i) {
    quarter(x, 0, 4, 8, 12);
    quarter(x, 1, 5, 9, 13);
    quarter(x, 2, 6, 10, 14);
    quarter(x, 3, 7, 11, 15);
    quarter(x, 0, 5, 10, 15);
    quarter(x, 1, 6, 11, 12);
    quarter(x, 2, 7, 8, 13);
    quarter(x, 3, 4, 9, 14);
  }
  for (int i = 0; i < 16; ++i) {
    uint32_t v = x[i] + (i == 12 ? counter : in[i]);
    std::memcpy(out + 4 * i, &v, 4);
  }
}

void portable_keystream(const ChachaState& st, uint8_t* ks, size_t nblocks) {
  for (size_t i = 0; i < nblocks; ++i) block(st.w, st.w[12] + uint32_t(i), ks + i * kChachaBlockSize);
}

void portable_xor_stream(const ChachaState& st, const uint8_t* in, uint8_t* out, size_t len) {
  uint8_t ks[kChachaBlockSize];
  for (uint32_t counter = st.w[12]; len > 0; ++counter) {
    size_t n = len < kChachaBlockSize ? len : kChachaBlockSize;
    block(st.w, counter, ks);
    xor_bytes(out, in, ks, n);
    in += n;
    out += n;
    len -= n;
  }
}

}  // namespace

void chacha_init(ChachaState& st, const uint8_t key[32], const uint8_t nonce[12], uint32_t counter) {
  st.w[0] = 0x61707865;  // "expand 32-byte k"
  st.w[1] = 0x3320646e;
  st.w[2] = 0x79622d32;
  st.w[3] = 0x6b206574;
  for (int i = 0; i < 8; ++i) st.w[4 + i] = load32(key + 4 * i);
  st.w[12] = counter;
  for (int i = 0; i < 3; ++i) st.w[13 + i] = load32(nonce + 4 * i);
}

void xor_bytes(uint8_t* dst, const uint8_t* a, const uint8_t* b, size_t len) {
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    x ^= y;
    std::memcpy(dst + i, &x, 8);
  }
  for (; i < len; ++i) dst[i] = a[i] ^ b[i];
}

const ChachaKernels kChachaPortable = {1, portable_keystream, portable_xor_stream};

}  // namespace sag::crypto
