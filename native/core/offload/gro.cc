#include "gro.h"

#include <netinet/in.h>

#include <cstring>

#include "checksum.h"

namespace sag::offload {

namespace {

constexpr uint8_t kTcpAck = 0x10, kTcpPsh = 0x08;
constexpr size_t kMaxGroupBytes = 65535;
// Open groups searched for a matching flow: enough for the streams a batch interleaves.
constexpr int kFlowScan = 8;

bool checksums_valid(const uint8_t* p, size_t len, size_t l4, bool ipv6) {
  if (!ipv6 && sum16(p, l4) != 0xffff) return false;
  const uint8_t* src = p + (ipv6 ? 8 : 12);
  const uint8_t* dst = p + (ipv6 ? 24 : 16);
  uint16_t pseudo = pseudo_header_sum(src, dst, ipv6 ? 16 : 4, IPPROTO_TCP, uint32_t(len - l4));
  return sum16(p + l4, len - l4, pseudo) == 0xffff;
}

// Any TCP packet whose ports can be read: where its L4 header starts.
bool tcp_flow(const uint8_t* p, size_t len, size_t* l4, bool* ipv6) {
  if (len < 20) return false;
  if ((p[0] >> 4) == 4) {
    *l4 = size_t(p[0] & 0x0f) * 4;
    *ipv6 = false;
    return p[9] == IPPROTO_TCP && *l4 >= 20 && len >= *l4 + 4;
  }
  *l4 = 40;
  *ipv6 = true;
  return (p[0] >> 4) == 6 && len >= 44 && p[6] == IPPROTO_TCP;
}

}  // namespace

TcpCoalescer::TcpCoalescer(int max_packets) : next_(size_t(max_packets)) { items_.reserve(size_t(max_packets)); }

// A TCP segment with payload and nothing that forbids merging (options in IPv4, fragments, flags).
bool TcpCoalescer::coalescible(int i, size_t* l4, size_t* hdr, bool* ipv6) const {
  const uint8_t* p = pkts_[i];
  size_t len = lens_[i];
  if (len < 40) return false;
  if ((p[0] >> 4) == 4) {
    if (p[0] != 0x45 || p[9] != IPPROTO_TCP || load_be16(p + 2) != len) return false;
    if (load_be16(p + 6) & 0x3fff) return false;  // MF or a fragment offset
    *l4 = 20;
    *ipv6 = false;
  } else if ((p[0] >> 4) == 6) {
    if (len < 60 || p[6] != IPPROTO_TCP || load_be16(p + 4) + 40u != len) return false;
    *l4 = 40;
    *ipv6 = true;
  } else {
    return false;
  }
  size_t doff = size_t(p[*l4 + 12] >> 4) * 4;
  *hdr = *l4 + doff;
  if (doff < 20 || *hdr >= len || *hdr > kMaxHeader) return false;
  if ((p[*l4 + 13] & ~kTcpPsh) != kTcpAck) return false;
  return checksums_valid(p, len, *l4, *ipv6);
}

bool TcpCoalescer::joins(const Item& g, int i, size_t hdr) const {
  if (!g.open || hdr != g.hdr || g.count >= kMaxSegments) return false;
  const uint8_t* p = pkts_[i];
  const uint8_t* f = pkts_[g.head];
  size_t payload = lens_[i] - hdr;
  if (payload > g.seg_size || g.hdr + g.payload + payload > kMaxGroupBytes) return false;
  if (g.ipv6) {
    // version/traffic class/flow label, next header/hop limit, addresses
    if (std::memcmp(p, f, 4) != 0 || std::memcmp(p + 6, f + 6, 34) != 0) return false;
  } else {
    // TOS, TTL/protocol, addresses
    if (p[1] != f[1] || std::memcmp(p + 8, f + 8, 2) != 0 || std::memcmp(p + 12, f + 12, 8) != 0) return false;
  }
  const uint8_t* t = p + g.l4;
  const uint8_t* ft = f + g.l4;
  if (std::memcmp(t, ft, 4) != 0 || std::memcmp(t + 8, ft + 8, 4) != 0) return false;  // ports, ack
  if (load_be32(t + 4) != g.next_seq) return false;
  return std::memcmp(t + 20, ft + 20, hdr - g.l4 - 20) == 0;  // options
}

void TcpCoalescer::plan(const uint8_t* const* pkts, const size_t* lens, int n) {
  pkts_ = pkts;
  lens_ = lens;
  items_.clear();
  size_t scan_from = 0;
  for (int i = 0; i < n; ++i) {
    next_[size_t(i)] = -1;
    size_t l4 = 0, hdr = 0;
    bool ipv6 = false;
    bool tcp = coalescible(i, &l4, &hdr, &ipv6);
    if (tcp) {
      bool merged = false;
      for (size_t k = items_.size(); k-- > scan_from;) {
        Item& g = items_[k];
        if (!g.open) continue;
        if (joins(g, i, hdr)) {
          next_[size_t(g.tail)] = i;
          g.tail = i;
          g.count++;
          size_t payload = lens[i] - hdr;
          g.payload += payload;
          g.next_seq += uint32_t(payload);
          if (payload < g.seg_size || (pkts[i][l4 + 13] & kTcpPsh)) g.open = false;
          merged = true;
          break;
        }
      }
      if (merged) continue;
    }
    // Any other packet of a flow with an open group closes it: order within a flow.
    size_t fl4 = 0;
    bool fv6 = false;
    if (tcp_flow(pkts[i], lens[i], &fl4, &fv6)) {
      for (size_t k = scan_from; k < items_.size(); ++k) {
        Item& g = items_[k];
        if (!g.open || g.ipv6 != fv6) continue;
        const uint8_t* f = pkts_[g.head];
        size_t a = fv6 ? 8 : 12, al = fv6 ? 32 : 8;
        if (std::memcmp(f + a, pkts[i] + a, al) == 0 && std::memcmp(f + g.l4, pkts[i] + fl4, 4) == 0) g.open = false;
      }
    }
    Item g;
    g.head = g.tail = i;
    g.count = 1;
    if (tcp) {
      g.ipv6 = ipv6;
      g.l4 = l4;
      g.hdr = hdr;
      g.seg_size = lens[i] - hdr;
      g.payload = g.seg_size;
      g.next_seq = load_be32(pkts[i] + l4 + 4) + uint32_t(g.seg_size);
      g.open = !(pkts[i][l4 + 13] & kTcpPsh);
    }
    items_.push_back(g);
    if (items_.size() - scan_from > kFlowScan) {
      // Old groups fall out of the search: they close, keeping the per-flow order trivially.
      items_[scan_from].open = false;
      ++scan_from;
    }
  }
  for (Item& g : items_) finish(g);
}

// Builds the vnet header and, for a merged group, the rewritten IP and TCP headers.
void TcpCoalescer::finish(Item& g) {
  g.vnet = virtio_net_hdr{};
  if (g.count < 2) return;
  const uint8_t* f = pkts_[g.head];
  std::memcpy(g.header, f, g.hdr);
  size_t total = g.hdr + g.payload;
  if (g.ipv6) {
    store_be16(g.header + 4, uint16_t(total - 40));
  } else {
    store_be16(g.header + 2, uint16_t(total));
    set_ipv4_checksum(g.header);
  }
  uint8_t* t = g.header + g.l4;
  t[13] |= pkts_[g.tail][g.l4 + 13] & kTcpPsh;
  // CHECKSUM_PARTIAL: the pseudo-header sum, not complemented; the kernel sums from csum_start.
  const uint8_t* src = g.header + (g.ipv6 ? 8 : 12);
  const uint8_t* dst = g.header + (g.ipv6 ? 24 : 16);
  store_be16(t + 16, pseudo_header_sum(src, dst, g.ipv6 ? 16 : 4, IPPROTO_TCP, uint32_t(total - g.l4)));
  g.vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  g.vnet.gso_type = g.ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
  g.vnet.hdr_len = uint16_t(g.hdr);
  g.vnet.gso_size = uint16_t(g.seg_size);
  g.vnet.csum_start = uint16_t(g.l4);
  g.vnet.csum_offset = 16;
}

int TcpCoalescer::iovecs(int k, iovec* iov, int* segments) {
  Item& g = items_[size_t(k)];
  *segments = g.count;
  iov[0] = {&g.vnet, kVnetHdrSize};
  if (g.count < 2) {
    iov[1] = {const_cast<uint8_t*>(pkts_[g.head]), lens_[g.head]};
    return 2;
  }
  iov[1] = {g.header, g.hdr};
  int n = 2;
  for (int i = g.head; i >= 0; i = next_[size_t(i)])
    iov[n++] = {const_cast<uint8_t*>(pkts_[i] + g.hdr), lens_[i] - g.hdr};
  return n;
}

}  // namespace sag::offload
