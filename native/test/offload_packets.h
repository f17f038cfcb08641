// Builders of valid TCP/UDP packets over IPv4/IPv6 for the offload tests and the fuzz target.
#pragma once
#include <netinet/in.h>

#include <cstdint>
#include <vector>

#include "offload/checksum.h"

namespace sagtest {

struct Flow {
  bool ipv6 = false;
  uint8_t src = 1, dst = 2;  // last byte of the addresses
  uint16_t sport = 1000, dport = 2000;
};

constexpr uint8_t kAck = 0x10, kPsh = 0x08, kFin = 0x01, kSyn = 0x02, kCwr = 0x80;

inline std::vector<uint8_t> ip_header(const Flow& f, uint8_t proto, size_t l4_len, uint16_t id) {
  using namespace sag::offload;
  std::vector<uint8_t> h(f.ipv6 ? 40 : 20, 0);
  if (f.ipv6) {
    h[0] = 0x60;
    store_be16(&h[4], uint16_t(l4_len));
    h[6] = proto;
    h[7] = 64;
    h[8] = 0xfd;
    h[23] = f.src;
    h[24] = 0xfd;
    h[39] = f.dst;
  } else {
    h[0] = 0x45;
    store_be16(&h[2], uint16_t(20 + l4_len));
    store_be16(&h[4], id);
    h[6] = 0x40;  // DF
    h[8] = 64;
    h[9] = proto;
    h[12] = 10;
    h[15] = f.src;
    h[16] = 10;
    h[19] = f.dst;
    set_ipv4_checksum(h.data());
  }
  return h;
}

inline void fill_l4_checksum(std::vector<uint8_t>& p, bool ipv6, bool udp) {
  using namespace sag::offload;
  size_t l4 = ipv6 ? 40 : 20;
  uint16_t pseudo = pseudo_header_sum(&p[ipv6 ? 8 : 12], &p[ipv6 ? 24 : 16], ipv6 ? 16 : 4,
                                      udp ? IPPROTO_UDP : IPPROTO_TCP, uint32_t(p.size() - l4));
  size_t check = udp ? 6 : 16;
  store_be16(&p[l4 + check], l4_checksum(&p[l4], p.size() - l4, check, pseudo, udp));
}

inline uint8_t payload_byte(uint32_t seq) {
  return uint8_t(seq * 7 + 3);
}

// A TCP segment whose payload bytes are a function of their sequence number.
inline std::vector<uint8_t> tcp(const Flow& f, uint32_t seq, size_t payload, uint8_t flags = kAck,
                                uint16_t id = 0, size_t options = 0) {
  using namespace sag::offload;
  size_t th = 20 + options;
  std::vector<uint8_t> p = ip_header(f, IPPROTO_TCP, th + payload, id);
  size_t l4 = p.size();
  p.resize(l4 + th + payload, 0);
  store_be16(&p[l4], f.sport);
  store_be16(&p[l4 + 2], f.dport);
  store_be32(&p[l4 + 4], seq);
  store_be32(&p[l4 + 8], 777);
  p[l4 + 12] = uint8_t((th / 4) << 4);
  p[l4 + 13] = flags;
  store_be16(&p[l4 + 14], 500);
  for (size_t i = 0; i < options; ++i) p[l4 + 20 + i] = 1;  // NOPs
  for (size_t i = 0; i < payload; ++i) p[l4 + th + i] = payload_byte(seq + uint32_t(i));
  fill_l4_checksum(p, f.ipv6, false);
  return p;
}

inline std::vector<uint8_t> udp(const Flow& f, size_t payload, uint16_t id = 0) {
  using namespace sag::offload;
  std::vector<uint8_t> p = ip_header(f, IPPROTO_UDP, 8 + payload, id);
  size_t l4 = p.size();
  p.resize(l4 + 8 + payload, 0);
  store_be16(&p[l4], f.sport);
  store_be16(&p[l4 + 2], f.dport);
  store_be16(&p[l4 + 4], uint16_t(8 + payload));
  for (size_t i = 0; i < payload; ++i) p[l4 + 8 + i] = payload_byte(uint32_t(i));
  fill_l4_checksum(p, f.ipv6, true);
  return p;
}

// True if the IPv4 header checksum (if any) and the TCP/UDP checksum verify.
inline bool checksums_ok(const std::vector<uint8_t>& p) {
  using namespace sag::offload;
  bool v6 = (p[0] >> 4) == 6;
  size_t l4 = v6 ? 40 : size_t(p[0] & 15) * 4;
  if (!v6 && sum16(p.data(), l4) != 0xffff) return false;
  uint8_t proto = v6 ? p[6] : p[9];
  uint16_t pseudo =
      pseudo_header_sum(&p[v6 ? 8 : 12], &p[v6 ? 24 : 16], v6 ? 16 : 4, proto, uint32_t(p.size() - l4));
  return sum16(&p[l4], p.size() - l4, pseudo) == 0xffff;
}

}  // namespace sagtest
