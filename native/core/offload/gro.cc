#include "gro.h"

#include <netinet/in.h>

#include <cstring>

#include "checksum.h"

namespace sag::offload {

namespace {

constexpr uint8_t kTcpAck = 0x10, kTcpPsh = 0x08;
constexpr size_t kMaxGroupBytes = 65535;
// Open groups searched for a matching flow: enough for the streams a batch interleaves.
constexpr size_t kFlowScan = 8;

bool checksums_valid(const uint8_t* p, size_t len, size_t l4, bool ipv6, uint8_t proto) {
  if (!ipv6 && sum16(p, l4) != 0xffff) return false;
  if (proto == IPPROTO_UDP && load_be16(p + l4 + 6) == 0) return !ipv6;  // IPv4: no checksum
  const uint8_t* src = p + (ipv6 ? 8 : 12);
  const uint8_t* dst = p + (ipv6 ? 24 : 16);
  uint16_t pseudo = pseudo_header_sum(src, dst, ipv6 ? 16 : 4, proto, uint32_t(len - l4));
  return sum16(p + l4, len - l4, pseudo) == 0xffff;
}

// Any TCP or UDP packet whose ports can be read: its protocol and where its L4 header starts.
bool l4_flow(const uint8_t* p, size_t len, size_t* l4, bool* ipv6, uint8_t* proto) {
  if (len < 20) return false;
  if ((p[0] >> 4) == 4) {
    *l4 = size_t(p[0] & 0x0f) * 4;
    *ipv6 = false;
    *proto = p[9];
  } else if ((p[0] >> 4) == 6) {
    *l4 = 40;
    *ipv6 = true;
    *proto = len >= 40 ? p[6] : 0;
  } else {
    return false;
  }
  return (*proto == IPPROTO_TCP || *proto == IPPROTO_UDP) && *l4 >= 20 && len >= *l4 + 4;
}

}  // namespace

Coalescer::Coalescer(int max_packets, bool udp) : udp_(udp), next_(size_t(max_packets)) {
  items_.reserve(size_t(max_packets));
}

// A TCP segment or UDP datagram with payload and nothing that forbids merging.
bool Coalescer::coalescible(int i, Flow* f) const {
  const uint8_t* p = pkts_[i];
  size_t len = lens_[i];
  if (len < 28) return false;
  if ((p[0] >> 4) == 4) {
    if (p[0] != 0x45 || load_be16(p + 2) != len) return false;
    if (load_be16(p + 6) & 0x3fff) return false;  // MF or a fragment offset
    f->ipv6 = false;
    f->l4 = 20;
    f->proto = p[9];
  } else if ((p[0] >> 4) == 6) {
    if (len < 48 || load_be16(p + 4) + 40u != len) return false;
    f->ipv6 = true;
    f->l4 = 40;
    f->proto = p[6];
  } else {
    return false;
  }
  if (f->proto == IPPROTO_UDP) {
    if (!udp_ || load_be16(p + f->l4 + 4) != len - f->l4) return false;
    f->hdr = f->l4 + 8;
  } else if (f->proto == IPPROTO_TCP) {
    if (len < f->l4 + 20) return false;
    size_t doff = size_t(p[f->l4 + 12] >> 4) * 4;
    f->hdr = f->l4 + doff;
    if (doff < 20 || f->hdr > kMaxHeader) return false;
    if ((p[f->l4 + 13] & ~kTcpPsh) != kTcpAck) return false;
  } else {
    return false;
  }
  if (f->hdr >= len) return false;
  return checksums_valid(p, len, f->l4, f->ipv6, f->proto);
}

bool Coalescer::joins(const Item& g, int i, const Flow& f) const {
  if (!g.open || f.proto != g.flow.proto || f.ipv6 != g.flow.ipv6 || f.hdr != g.flow.hdr) return false;
  if (g.count >= kMaxSegments) return false;
  const uint8_t* p = pkts_[i];
  const uint8_t* h = pkts_[g.head];
  size_t payload = lens_[i] - f.hdr;
  if (payload > g.seg_size || g.flow.hdr + g.payload + payload > kMaxGroupBytes) return false;
  if (f.ipv6) {
    // version/traffic class/flow label, next header/hop limit, addresses
    if (std::memcmp(p, h, 4) != 0 || std::memcmp(p + 6, h + 6, 34) != 0) return false;
  } else {
    // TOS, TTL/protocol, addresses
    if (p[1] != h[1] || std::memcmp(p + 8, h + 8, 2) != 0 || std::memcmp(p + 12, h + 12, 8) != 0)
      return false;
  }
  const uint8_t* t = p + f.l4;
  const uint8_t* ht = h + f.l4;
  if (std::memcmp(t, ht, 4) != 0) return false;  // ports
  if (f.proto == IPPROTO_UDP) return true;
  if (std::memcmp(t + 8, ht + 8, 4) != 0 || load_be32(t + 4) != g.next_seq) return false;  // ack, seq
  return std::memcmp(t + 20, ht + 20, f.hdr - f.l4 - 20) == 0;                             // options
}

// Any other packet of a flow with an open group closes it, so a flow's packets keep their order.
void Coalescer::close_flow(int i, size_t from) {
  size_t l4 = 0;
  bool v6 = false;
  uint8_t proto = 0;
  if (!l4_flow(pkts_[i], lens_[i], &l4, &v6, &proto)) return;
  for (size_t k = from; k < items_.size(); ++k) {
    Item& g = items_[k];
    if (!g.open || g.flow.ipv6 != v6 || g.flow.proto != proto) continue;
    const uint8_t* h = pkts_[g.head];
    size_t a = v6 ? 8 : 12, al = v6 ? 32 : 8;
    if (std::memcmp(h + a, pkts_[i] + a, al) == 0 && std::memcmp(h + g.flow.l4, pkts_[i] + l4, 4) == 0)
      g.open = false;
  }
}

void Coalescer::plan(const uint8_t* const* pkts, const size_t* lens, int n) {
  pkts_ = pkts;
  lens_ = lens;
  items_.clear();
  size_t scan_from = 0;
  for (int i = 0; i < n; ++i) {
    next_[size_t(i)] = -1;
    Flow f;
    bool ok = coalescible(i, &f);
    bool merged = false;
    for (size_t k = items_.size(); ok && k-- > scan_from;) {
      Item& g = items_[k];
      if (!joins(g, i, f)) continue;
      next_[size_t(g.tail)] = i;
      g.tail = i;
      g.count++;
      size_t payload = lens[i] - f.hdr;
      g.payload += payload;
      g.next_seq += uint32_t(payload);
      bool psh = f.proto == IPPROTO_TCP && (pkts[i][f.l4 + 13] & kTcpPsh);
      if (payload < g.seg_size || psh) g.open = false;
      merged = true;
      break;
    }
    if (merged) continue;
    close_flow(i, scan_from);
    Item g;
    g.head = g.tail = i;
    g.count = 1;
    if (ok) {
      g.flow = f;
      g.seg_size = lens[i] - f.hdr;
      g.payload = g.seg_size;
      bool tcp = f.proto == IPPROTO_TCP;
      g.next_seq = tcp ? load_be32(pkts[i] + f.l4 + 4) + uint32_t(g.seg_size) : 0;
      g.open = !(tcp && (pkts[i][f.l4 + 13] & kTcpPsh));
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

// Builds the vnet header and, for a merged group, the rewritten IP and L4 headers.
void Coalescer::finish(Item& g) {
  g.vnet = virtio_net_hdr{};
  if (g.count < 2) return;
  const Flow& f = g.flow;
  const bool udp = f.proto == IPPROTO_UDP;
  const uint8_t* first = pkts_[g.head];
  std::memcpy(g.header, first, f.hdr);
  size_t total = f.hdr + g.payload;
  if (f.ipv6) {
    store_be16(g.header + 4, uint16_t(total - 40));
  } else {
    store_be16(g.header + 2, uint16_t(total));
    set_ipv4_checksum(g.header);
  }
  uint8_t* t = g.header + f.l4;
  if (udp)
    store_be16(t + 4, uint16_t(total - f.l4));
  else
    t[13] |= pkts_[g.tail][f.l4 + 13] & kTcpPsh;
  // CHECKSUM_PARTIAL: the pseudo-header sum, not complemented; the kernel sums from csum_start.
  const uint8_t* src = g.header + (f.ipv6 ? 8 : 12);
  const uint8_t* dst = g.header + (f.ipv6 ? 24 : 16);
  const size_t check = udp ? 6 : 16;
  store_be16(t + check, pseudo_header_sum(src, dst, f.ipv6 ? 16 : 4, f.proto, uint32_t(total - f.l4)));
  g.vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  g.vnet.gso_type = udp      ? VIRTIO_NET_HDR_GSO_UDP_L4
                    : f.ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6
                             : VIRTIO_NET_HDR_GSO_TCPV4;
  g.vnet.hdr_len = uint16_t(f.hdr);
  g.vnet.gso_size = uint16_t(g.seg_size);
  g.vnet.csum_start = uint16_t(f.l4);
  g.vnet.csum_offset = uint16_t(check);
}

int Coalescer::iovecs(int k, iovec* iov, int* segments) {
  Item& g = items_[size_t(k)];
  *segments = g.count;
  iov[0] = {&g.vnet, kVnetHdrSize};
  if (g.count < 2) {
    iov[1] = {const_cast<uint8_t*>(pkts_[g.head]), lens_[g.head]};
    return 2;
  }
  iov[1] = {g.header, g.flow.hdr};
  int n = 2;
  for (int i = g.head; i >= 0; i = next_[size_t(i)])
    iov[n++] = {const_cast<uint8_t*>(pkts_[i] + g.flow.hdr), lens_[i] - g.flow.hdr};
  return n;
}

}  // namespace sag::offload
