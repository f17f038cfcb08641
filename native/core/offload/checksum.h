// Internet checksum (RFC 1071) for the offload code: IPv4 header checksums and TCP/UDP checksums
// over a pseudo header. Values are the 16-bit one's-complement sums of big-endian words, as they
// appear on the wire once stored big-endian.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sag::offload {

// One's-complement sum of the bytes (an odd trailing byte counts as its high half), added to
// `initial` (a previous sum). Not complemented.
uint16_t sum16(const uint8_t* p, size_t n, uint16_t initial = 0);

// Sum of the pseudo header: source and destination addresses (4 or 16 bytes each, as in the IP
// header), the protocol and the L4 length.
uint16_t pseudo_header_sum(const uint8_t* src, const uint8_t* dst, size_t addr_len, uint8_t proto,
                           uint32_t l4_len);

// Complemented checksum of an L4 segment (header + payload, `len` bytes) whose checksum field at
// check_offset is ignored; UDP's 0 is returned as 0xffff (0 means "no checksum" there).
uint16_t l4_checksum(const uint8_t* l4, size_t len, size_t check_offset, uint16_t pseudo, bool udp);

// Recomputes the IPv4 header checksum in place (ihl*4 bytes at ip).
void set_ipv4_checksum(uint8_t* ip);

inline uint16_t load_be16(const uint8_t* p) {
  return uint16_t(p[0] << 8 | p[1]);
}
inline uint32_t load_be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline void store_be16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

}  // namespace sag::offload
