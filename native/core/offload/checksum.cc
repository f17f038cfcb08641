#include "checksum.h"

#include <cstring>

namespace sag::offload {

namespace {

inline uint64_t add_carry(uint64_t a, uint64_t b) {
  uint64_t s = a + b;
  return s + (s < b);
}

inline uint16_t fold(uint64_t s) {
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return uint16_t(s);
}

}  // namespace

// Sums native-endian 64-bit words: the one's-complement sum does not depend on byte order
// (RFC 1071, 2.(B)), so a little-endian sum is the big-endian one byte-swapped.
uint16_t sum16(const uint8_t* p, size_t n, uint16_t initial) {
  uint64_t a = 0, b = 0;
  while (n >= 16) {
    uint64_t x, y;
    std::memcpy(&x, p, 8);
    std::memcpy(&y, p + 8, 8);
    a = add_carry(a, x);
    b = add_carry(b, y);
    p += 16;
    n -= 16;
  }
  a = add_carry(a, b);
  if (n >= 8) {
    uint64_t x;
    std::memcpy(&x, p, 8);
    a = add_carry(a, x);
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);  // zero-padded: an odd last byte is the high half of its word
  a = add_carry(a, tail);
  uint16_t s = fold(a);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  s = uint16_t(s >> 8 | s << 8);
#endif
  return fold(uint64_t(s) + initial);
}

uint16_t pseudo_header_sum(const uint8_t* src, const uint8_t* dst, size_t addr_len, uint8_t proto,
                           uint32_t l4_len) {
  uint16_t s = sum16(src, addr_len);
  s = sum16(dst, addr_len, s);
  return fold(uint64_t(s) + proto + (l4_len >> 16) + (l4_len & 0xffff));
}

uint16_t l4_checksum(const uint8_t* l4, size_t len, size_t check_offset, uint16_t pseudo, bool udp) {
  // Sum around the checksum field rather than zeroing it: the buffer may be read-only.
  uint16_t s = sum16(l4, check_offset, pseudo);
  s = sum16(l4 + check_offset + 2, len - check_offset - 2, s);
  // check_offset is even (16 for TCP, 6 for UDP), so the split keeps word alignment.
  uint16_t c = uint16_t(~s);
  return udp && c == 0 ? 0xffff : c;
}

void set_ipv4_checksum(uint8_t* ip) {
  size_t ihl = size_t(ip[0] & 0x0f) * 4;
  ip[10] = ip[11] = 0;
  store_be16(ip + 10, uint16_t(~sum16(ip, ihl)));
}

}  // namespace sag::offload
