// Offload boundary cases: checksums, TSO/USO segmentation of TUN super-packets (last segment
// shorter, resuming a partly handed-over packet, IPv6, bad vnet headers), TCP coalescing for TUN
// writes (mixed flows and non-TCP packets in one batch, gaps, PSH, corrupted segments, IPv6) and
// the round trip coalesce -> segment giving back the original packets.
#include <cstring>
#include <vector>

#include "check.h"
#include "offload/checksum.h"
#include "offload/config.h"
#include "offload/gro.h"
#include "offload/gso.h"
#include "offload_packets.h"

using namespace sag::offload;
using sagtest::Flow;
using Bytes = std::vector<uint8_t>;

namespace {

virtio_net_hdr gso_hdr(uint8_t type, size_t gso_size, size_t l4, size_t csum_offset) {
  virtio_net_hdr h{};
  h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  h.gso_type = type;
  h.gso_size = uint16_t(gso_size);
  h.csum_start = uint16_t(l4);
  h.csum_offset = uint16_t(csum_offset);
  return h;
}

std::vector<Bytes> segment(const virtio_net_hdr& h, const Bytes& pkt, bool* ok) {
  GsoLayout l;
  *ok = gso_parse(h, pkt.data(), pkt.size(), &l);
  std::vector<Bytes> out;
  if (!*ok) return out;
  if (l.segments == 1 && l.gso_size == 0) return {pkt};
  std::vector<Bytes> bufs(size_t(l.segments), Bytes(l.header_len + l.gso_size));
  std::vector<uint8_t*> ptrs;
  for (auto& b : bufs) ptrs.push_back(b.data());
  std::vector<size_t> lens(bufs.size());
  int w = gso_write_segments(l, pkt.data(), 0, l.segments, ptrs.data(), lens.data());
  CHECK_EQ(w, l.segments);
  for (size_t i = 0; i < bufs.size(); ++i) bufs[i].resize(lens[i]);
  return bufs;
}

// Plans writes and returns each as (vnet header, bytes after it).
std::vector<std::pair<virtio_net_hdr, Bytes>> coalesce(const std::vector<Bytes>& pkts,
                                                       std::vector<int>* segs = nullptr, bool udp = true) {
  Coalescer c(256, udp);
  std::vector<const uint8_t*> ptrs;
  std::vector<size_t> lens;
  for (auto& p : pkts) {
    ptrs.push_back(p.data());
    lens.push_back(p.size());
  }
  c.plan(ptrs.data(), lens.data(), int(pkts.size()));
  std::vector<std::pair<virtio_net_hdr, Bytes>> out;
  for (int k = 0; k < c.writes(); ++k) {
    iovec iov[Coalescer::kMaxSegments + 2];
    int s = 0;
    int n = c.iovecs(k, iov, &s);
    virtio_net_hdr h;
    CHECK_EQ(iov[0].iov_len, kVnetHdrSize);
    std::memcpy(&h, iov[0].iov_base, sizeof h);
    Bytes b;
    for (int i = 1; i < n; ++i)
      b.insert(b.end(), (uint8_t*)iov[i].iov_base, (uint8_t*)iov[i].iov_base + iov[i].iov_len);
    out.push_back({h, b});
    if (segs) segs->push_back(s);
  }
  return out;
}

// What the kernel does with a coalesced write: complete the partial checksum, then segment.
std::vector<Bytes> kernel_view(const std::vector<std::pair<virtio_net_hdr, Bytes>>& writes) {
  std::vector<Bytes> out;
  for (auto [h, b] : writes) {
    if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
      out.push_back(b);
      continue;
    }
    CHECK(complete_checksum(h, b.data(), b.size()));
    CHECK(sagtest::checksums_ok(b));
    bool ok = false;
    for (auto& s : segment(h, b, &ok)) out.push_back(s);
    CHECK(ok);
  }
  return out;
}

}  // namespace

TEST_CASE("checksum: RFC 1071 example, odd length, initial value") {
  const uint8_t v[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  CHECK_EQ(sum16(v, 8), 0xddf2);
  const uint8_t odd[] = {0x01, 0x02, 0x03};
  CHECK_EQ(sum16(odd, 3), 0x0102 + 0x0300);
  CHECK_EQ(sum16(odd, 3, 0xffff), 0x0102 + 0x0300);  // + 0xffff is the identity in one's complement
  Bytes big(1501);
  for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t(i * 31);
  uint32_t ref = 0;
  for (size_t i = 0; i < big.size(); i += 2)
    ref += uint32_t(big[i] << 8 | (i + 1 < big.size() ? big[i + 1] : 0));
  while (ref >> 16) ref = (ref & 0xffff) + (ref >> 16);
  CHECK_EQ(sum16(big.data(), big.size()), ref);
}

TEST_CASE("gso: TCPv4 super-packet, last segment shorter") {
  Flow f;
  Bytes super = sagtest::tcp(f, 1000, 3000, sagtest::kAck | sagtest::kPsh | sagtest::kFin | sagtest::kCwr, 7);
  bool ok = false;
  auto segs = segment(gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1400, 20, 16), super, &ok);
  CHECK(ok);
  CHECK_EQ(segs.size(), size_t(3));
  const size_t sizes[] = {1400, 1400, 200};
  for (size_t i = 0; i < segs.size(); ++i) {
    const Bytes& s = segs[i];
    CHECK_EQ(s.size(), 40 + sizes[i]);
    CHECK_EQ(load_be16(&s[2]), s.size());
    CHECK_EQ(load_be16(&s[4]), 7 + i);
    CHECK_EQ(load_be32(&s[24]), 1000 + 1400 * i);
    CHECK(sagtest::checksums_ok(s));
    bool last = i == 2;
    CHECK_EQ((s[33] & (sagtest::kFin | sagtest::kPsh)) != 0, last);
    CHECK_EQ((s[33] & sagtest::kCwr) != 0, i == 0);
    CHECK_EQ(s[40], sagtest::payload_byte(uint32_t(1000 + 1400 * i)));
  }
}

TEST_CASE("gso: a partly handed-over super-packet resumes where it stopped") {
  Flow f;
  Bytes super = sagtest::tcp(f, 0, 5000);
  GsoLayout l;
  CHECK(gso_parse(gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1000, 20, 16), super.data(), super.size(), &l));
  CHECK_EQ(l.segments, 5);
  Bytes a(2000), b(2000);
  uint8_t* out[2] = {a.data(), b.data()};
  size_t lens[2];
  CHECK_EQ(gso_write_segments(l, super.data(), 3, 8, out, lens), 2);  // bounded by the count
  CHECK_EQ(load_be32(&a[24]), 3000u);
  CHECK_EQ(load_be32(&b[24]), 4000u);
}

TEST_CASE("gso: TCPv6 and UDP (USO) over IPv4 and IPv6") {
  Flow f6;
  f6.ipv6 = true;
  bool ok = false;
  auto segs = segment(gso_hdr(VIRTIO_NET_HDR_GSO_TCPV6, 1300, 40, 16), sagtest::tcp(f6, 5, 2700), &ok);
  CHECK(ok);
  CHECK_EQ(segs.size(), size_t(3));
  for (auto& s : segs) {
    CHECK(sagtest::checksums_ok(s));
    CHECK_EQ(load_be16(&s[4]) + 40u, s.size());
  }
  CHECK_EQ(segs[2].size(), 40 + 20 + 100u);
  for (bool v6 : {false, true}) {
    Flow f;
    f.ipv6 = v6;
    auto u = segment(gso_hdr(VIRTIO_NET_HDR_GSO_UDP_L4, 1000, v6 ? 40 : 20, 6), sagtest::udp(f, 2500), &ok);
    CHECK(ok);
    CHECK_EQ(u.size(), size_t(3));
    size_t l4 = v6 ? 40 : 20;
    for (auto& s : u) {
      CHECK(sagtest::checksums_ok(s));
      CHECK_EQ(load_be16(&s[l4 + 4]), s.size() - l4);
    }
    CHECK_EQ(u[2].size(), l4 + 8 + 500);
  }
}

TEST_CASE("gso: vnet headers that do not hold together are refused") {
  Flow f;
  Bytes p = sagtest::tcp(f, 0, 3000);
  GsoLayout l;
  auto bad = [&](virtio_net_hdr h, const Bytes& pkt) { return !gso_parse(h, pkt.data(), pkt.size(), &l); };
  CHECK(bad(gso_hdr(9, 1400, 20, 16), p));                           // unknown GSO type
  CHECK(bad(gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 0, 20, 16), p));       // gso_size 0
  CHECK(bad(gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1400, 4000, 16), p));  // csum_start past the end
  CHECK(bad(gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1400, 10, 16), p));    // inside the IP header
  CHECK(bad(gso_hdr(VIRTIO_NET_HDR_GSO_TCPV6, 1400, 40, 16), p));    // IPv4 packet, TCPV6 type
  CHECK(bad(gso_hdr(VIRTIO_NET_HDR_GSO_UDP_L4, 1400, 20, 6), p));    // says UDP, is TCP
  CHECK(bad(gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1400, 20, 8), p));     // wrong checksum offset
  virtio_net_hdr no_csum = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1400, 20, 16);
  no_csum.flags = 0;
  CHECK(bad(no_csum, p));
  CHECK(bad(gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1400, 20, 16), Bytes(p.begin(), p.begin() + 30)));  // truncated
  CHECK(!bad(gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1400, 20, 16), p));
  virtio_net_hdr range = gso_hdr(VIRTIO_NET_HDR_GSO_NONE, 0, 20, 4000);
  CHECK(!complete_checksum(range, p.data(), p.size()));
}

TEST_CASE("gso: a partial checksum the kernel left is completed") {
  for (bool v6 : {false, true}) {
    Flow f;
    f.ipv6 = v6;
    Bytes p = sagtest::udp(f, 333);
    size_t l4 = v6 ? 40 : 20;
    uint16_t pseudo = pseudo_header_sum(&p[v6 ? 8 : 12], &p[v6 ? 24 : 16], v6 ? 16 : 4, IPPROTO_UDP,
                                        uint32_t(p.size() - l4));
    store_be16(&p[l4 + 6], pseudo);
    CHECK(!sagtest::checksums_ok(p));
    CHECK(complete_checksum(gso_hdr(VIRTIO_NET_HDR_GSO_NONE, 0, l4, 6), p.data(), p.size()));
    CHECK(sagtest::checksums_ok(p));
  }
}

TEST_CASE("gro: one flow in order becomes one super-packet; the kernel gets the same segments back") {
  for (bool v6 : {false, true}) {
    Flow f;
    f.ipv6 = v6;
    std::vector<Bytes> in;
    for (int i = 0; i < 10; ++i)
      in.push_back(sagtest::tcp(f, 100 + 1380 * i, i == 9 ? 500 : 1380, sagtest::kAck, uint16_t(i)));
    std::vector<int> segs;
    auto w = coalesce(in, &segs);
    CHECK_EQ(w.size(), size_t(1));
    CHECK_EQ(segs[0], 10);
    CHECK_EQ(w[0].first.gso_type, v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4);
    CHECK_EQ(w[0].first.gso_size, 1380);
    CHECK_EQ(w[0].first.hdr_len, (v6 ? 60 : 40));
    auto back = kernel_view(w);
    CHECK_EQ(back.size(), in.size());
    for (size_t i = 0; i < back.size() && i < in.size(); ++i) {
      // Payloads, lengths and sequence numbers as sent; IPv4 ids are renumbered from the first.
      CHECK(back[i].size() == in[i].size());
      size_t h = v6 ? 60 : 40;
      CHECK(std::memcmp(back[i].data() + h, in[i].data() + h, in[i].size() - h) == 0);
      CHECK_EQ(load_be32(&back[i][v6 ? 44 : 24]), load_be32(&in[i][v6 ? 44 : 24]));
    }
  }
}

TEST_CASE("gro: mixed flows and non-TCP packets in one batch keep each flow's order") {
  Flow a, b, c;
  b.sport = 1001;
  c.dst = 9;
  Flow v6;
  v6.ipv6 = true;
  std::vector<Bytes> in = {
      sagtest::tcp(a, 0, 1000),    sagtest::tcp(b, 0, 1000),
      sagtest::udp(c, 100),        sagtest::tcp(a, 1000, 1000),
      sagtest::tcp(b, 1000, 1000), sagtest::tcp(a, 2000, 1000),
      sagtest::tcp(v6, 0, 1000),   sagtest::tcp(v6, 1000, 1000),
      sagtest::tcp(a, 3000, 0),  // a pure ACK of flow a: closes a's group, written after it
      sagtest::tcp(a, 3000, 1000),
  };
  std::vector<int> segs;
  auto w = coalesce(in, &segs);
  CHECK_EQ(w.size(), size_t(6));
  const int expected[] = {3, 2, 1, 2, 1, 1};
  for (size_t i = 0; i < 6 && i < segs.size(); ++i) CHECK_EQ(segs[i], expected[i]);
  auto back = kernel_view(w);
  CHECK_EQ(back.size(), in.size());
  // Per flow (a: sport 1000 IPv4), sequence numbers come out in the order they went in.
  uint32_t last = 0;
  int seen = 0;
  for (auto& p : back) {
    if ((p[0] >> 4) != 4 || p[9] != IPPROTO_TCP || load_be16(&p[20]) != 1000) continue;
    uint32_t seq = load_be32(&p[24]);
    CHECK(seq >= last);
    last = seq;
    ++seen;
  }
  CHECK_EQ(seen, 5);
}

TEST_CASE("gro: gaps, a shorter segment, PSH, flags, options and bad checksums end or skip a group") {
  Flow f;
  std::vector<int> segs;
  // gap in sequence numbers: two groups
  coalesce({sagtest::tcp(f, 0, 1000), sagtest::tcp(f, 1000, 1000), sagtest::tcp(f, 5000, 1000),
            sagtest::tcp(f, 6000, 1000)},
           &segs);
  CHECK(segs == std::vector<int>({2, 2}));
  segs.clear();
  // a shorter segment ends the group; the next starts anew
  coalesce({sagtest::tcp(f, 0, 1000), sagtest::tcp(f, 1000, 500), sagtest::tcp(f, 1500, 1000)}, &segs);
  CHECK(segs == std::vector<int>({2, 1}));
  segs.clear();
  // PSH ends it too (and is carried on the merged header)
  auto w = coalesce({sagtest::tcp(f, 0, 1000), sagtest::tcp(f, 1000, 1000, sagtest::kAck | sagtest::kPsh),
                     sagtest::tcp(f, 2000, 1000)},
                    &segs);
  CHECK(segs == std::vector<int>({2, 1}));
  CHECK(w[0].second[33] & sagtest::kPsh);
  segs.clear();
  // SYN/FIN are never merged; different options are not either
  coalesce(
      {sagtest::tcp(f, 0, 1000, sagtest::kAck | sagtest::kFin),
       sagtest::tcp(f, 1000, 1000, sagtest::kAck, 0, 12), sagtest::tcp(f, 2000, 1000, sagtest::kAck, 0, 8)},
      &segs);
  CHECK(segs == std::vector<int>({1, 1, 1}));
  segs.clear();
  // a corrupted segment is written alone, unchanged, for the kernel to drop
  Bytes bad = sagtest::tcp(f, 1000, 1000);
  bad[100] ^= 1;
  w = coalesce({sagtest::tcp(f, 0, 1000), bad, sagtest::tcp(f, 2000, 1000)}, &segs);
  CHECK(segs == std::vector<int>({1, 1, 1}));
  CHECK(w[1].second == bad);
  CHECK_EQ(w[1].first.gso_type, VIRTIO_NET_HDR_GSO_NONE);
}

TEST_CASE("gro: a group stops at 64 KiB") {
  Flow f;
  std::vector<Bytes> in;
  for (int i = 0; i < 60; ++i) in.push_back(sagtest::tcp(f, uint32_t(1400 * i), 1400));
  std::vector<int> segs;
  auto w = coalesce(in, &segs);
  CHECK_EQ(segs.size(), size_t(2));
  for (auto& [h, b] : w) CHECK(b.size() <= 65535);
  CHECK_EQ(kernel_view(w).size(), size_t(60));
}

TEST_CASE("gro: UDP datagrams of one flow and size become one USO super-packet (when enabled)") {
  for (bool v6 : {false, true}) {
    Flow f;
    f.ipv6 = v6;
    std::vector<Bytes> in;
    for (int i = 0; i < 10; ++i) in.push_back(sagtest::udp(f, i == 9 ? 20 : 64, uint16_t(i)));
    in.push_back(sagtest::udp(f, 64));  // after the shorter one: a new group
    std::vector<int> segs;
    auto w = coalesce(in, &segs);
    CHECK(segs == std::vector<int>({10, 1}));
    CHECK_EQ(w[0].first.gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
    CHECK_EQ(w[0].first.gso_size, 64);
    CHECK_EQ(w[0].first.csum_offset, 6);
    size_t l4 = v6 ? 40 : 20;
    CHECK_EQ(load_be16(&w[0].second[l4 + 4]), w[0].second.size() - l4);  // UDP length: the whole
    auto back = kernel_view(w);
    CHECK_EQ(back.size(), in.size());
    for (size_t i = 0; i < back.size() && i < in.size(); ++i) {
      CHECK(back[i].size() == in[i].size());
      CHECK(std::memcmp(back[i].data() + l4, in[i].data() + l4, in[i].size() - l4) ==
            0);  // UDP header + payload
    }
    segs.clear();
    coalesce(in, &segs, false);  // a kernel without USO from a TUN: one write each
    CHECK_EQ(segs.size(), in.size());
  }
  // Different ports, a different size in the middle, an IPv4 datagram without checksum
  Flow a, b;
  b.dport = 2001;
  Bytes nosum = sagtest::udp(a, 64);
  nosum[26] = nosum[27] = 0;
  std::vector<int> segs;
  coalesce({sagtest::udp(a, 64), sagtest::udp(b, 64), sagtest::udp(a, 64), sagtest::udp(a, 100), nosum,
            sagtest::udp(a, 64)},
           &segs);
  CHECK(segs == std::vector<int>({2, 1, 2, 1}));  // the 64-byte one after 100 joins and ends that group
}

TEST_CASE("config: SAG_OFFLOADS words") {
  auto c = parse_offloads(nullptr);
  CHECK(c.tun && c.udp_gso && c.udp_gro);
  c = parse_offloads("off");
  CHECK(!c.tun && !c.udp_gso && !c.udp_gro);
  c = parse_offloads("tun,gro");
  CHECK(c.tun && !c.udp_gso && c.udp_gro);
  c = parse_offloads("gso,bogus");
  CHECK(!c.tun && c.udp_gso && !c.udp_gro);
}

SAG_TEST_MAIN()
