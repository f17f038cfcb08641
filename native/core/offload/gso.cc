#include "gso.h"

#include <netinet/in.h>

#include <cstring>

#include "checksum.h"

namespace sag::offload {

namespace {

constexpr uint8_t kTcpFin = 0x01, kTcpPsh = 0x08, kTcpCwr = 0x80;

bool parse_ip(const uint8_t* pkt, size_t len, bool ipv6, size_t* min_l4) {
  if (len < 20) return false;
  uint8_t version = pkt[0] >> 4;
  if (ipv6) {
    if (version != 6 || len < 40) return false;
    *min_l4 = 40;
    return true;
  }
  if (version != 4) return false;
  size_t ihl = size_t(pkt[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > len) return false;
  *min_l4 = ihl;
  return true;
}

}  // namespace

bool gso_parse(const virtio_net_hdr& h, const uint8_t* pkt, size_t len, GsoLayout* out) {
  GsoLayout l;
  uint8_t type = h.gso_type & uint8_t(~VIRTIO_NET_HDR_GSO_ECN);
  if (type == VIRTIO_NET_HDR_GSO_NONE) {
    l.payload_len = len;
    l.segments = 1;
    *out = l;
    return true;
  }
  if (type == VIRTIO_NET_HDR_GSO_TCPV4)
    l.ipv6 = false;
  else if (type == VIRTIO_NET_HDR_GSO_TCPV6)
    l.ipv6 = true;
  else if (type == VIRTIO_NET_HDR_GSO_UDP_L4) {
    l.udp = true;
    l.ipv6 = len > 0 && (pkt[0] >> 4) == 6;
  } else {
    return false;
  }
  size_t min_l4 = 0;
  if (!parse_ip(pkt, len, l.ipv6, &min_l4)) return false;
  // The transport header starts right after the IP header: the kernel's csum_start says so for
  // every super-packet it builds, and segmenting from anywhere else would checksum the wrong bytes
  // (found by fuzzing: an IPv4 csum_start past the header).
  if (!(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || h.csum_start != min_l4) return false;
  l.l4_offset = h.csum_start;
  if (l.udp) {
    if (h.csum_offset != 6) return false;
    l.header_len = l.l4_offset + 8;
  } else {
    if (h.csum_offset != 16 || l.l4_offset + 20 > len) return false;
    size_t doff = size_t(pkt[l.l4_offset + 12] >> 4) * 4;
    if (doff < 20) return false;
    l.header_len = l.l4_offset + doff;
  }
  if (l.header_len >= len || h.gso_size == 0) return false;
  // The IP header must say what the packet is (no IPv6 extension headers between them).
  uint8_t proto = l.ipv6 ? pkt[6] : pkt[9];
  if (proto != (l.udp ? IPPROTO_UDP : IPPROTO_TCP)) return false;
  l.gso_size = h.gso_size;
  l.payload_len = len - l.header_len;
  l.segments = int((l.payload_len + l.gso_size - 1) / l.gso_size);
  *out = l;
  return true;
}

int gso_write_segments(const GsoLayout& l, const uint8_t* pkt, int first, int max, uint8_t* const* out,
                       size_t* lens) {
  const uint8_t* src_addr = pkt + (l.ipv6 ? 8 : 12);
  const uint8_t* dst_addr = pkt + (l.ipv6 ? 24 : 16);
  const size_t addr_len = l.ipv6 ? 16 : 4;
  const uint8_t proto = l.udp ? IPPROTO_UDP : IPPROTO_TCP;
  const uint32_t seq0 = l.udp ? 0 : load_be32(pkt + l.l4_offset + 4);
  const uint16_t id0 = l.ipv6 ? 0 : load_be16(pkt + 4);
  int written = 0;
  for (int s = first; s < l.segments && written < max; ++s, ++written) {
    size_t off = size_t(s) * l.gso_size;
    size_t seg = l.payload_len - off < l.gso_size ? l.payload_len - off : l.gso_size;
    uint8_t* o = out[written];
    std::memcpy(o, pkt, l.header_len);
    std::memcpy(o + l.header_len, pkt + l.header_len + off, seg);
    size_t total = l.header_len + seg;
    size_t l4_len = total - l.l4_offset;
    if (l.ipv6) {
      store_be16(o + 4, uint16_t(total - 40));
    } else {
      store_be16(o + 2, uint16_t(total));
      store_be16(o + 4, uint16_t(id0 + s));
      set_ipv4_checksum(o);
    }
    uint8_t* l4 = o + l.l4_offset;
    if (l.udp) {
      store_be16(l4 + 4, uint16_t(l4_len));
    } else {
      store_be32(l4 + 4, seq0 + uint32_t(off));
      if (s != l.segments - 1) l4[13] &= uint8_t(~(kTcpFin | kTcpPsh));
      if (s != 0) l4[13] &= uint8_t(~kTcpCwr);
    }
    uint16_t pseudo = pseudo_header_sum(src_addr, dst_addr, addr_len, proto, uint32_t(l4_len));
    size_t check = l.udp ? 6 : 16;
    store_be16(l4 + check, l4_checksum(l4, l4_len, check, pseudo, l.udp));
    lens[written] = total;
  }
  return written;
}

bool complete_checksum(const virtio_net_hdr& h, uint8_t* pkt, size_t len) {
  size_t start = h.csum_start, at = size_t(h.csum_start) + h.csum_offset;
  if (start >= len || at + 2 > len || (h.csum_offset & 1)) return false;
  uint16_t partial = load_be16(pkt + at);
  pkt[at] = pkt[at + 1] = 0;
  store_be16(pkt + at, uint16_t(~sum16(pkt + start, len - start, partial)));
  return true;
}

}  // namespace sag::offload
