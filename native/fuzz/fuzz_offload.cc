// libFuzzer target: the offload code behind the Linux TUN (offload/gso.h, offload/gro.h).
//
// Input: byte 0 picks the part, the rest drives it (missing bytes read as zero).
//  even: segmentation. Bytes 1..10 are a virtio_net_hdr, the rest one packet (an exact-size heap
//        copy, so ASan catches any over-read). gso_parse must refuse or describe the packet; every
//        segment then fits header_len + gso_size, the payloads add up, and each segment's IPv4
//        header and TCP/UDP checksums verify. complete_checksum stays in bounds.
//  odd:  coalescing. A batch of up to 64 packets, each from up to 6 bytes: flow (2 flows,
//        IPv4/IPv6), TCP or UDP, sequence step (in order, gap), payload size, flags, options,
//        corruption; or raw bytes. UDP coalescing is on for inputs of even length. The plan must cover every packet exactly once, keep each flow's packets in order,
//        stay within 64 KiB a write, and a merged write, completed and segmented again as the
//        kernel does, must give back the original TCP segments (headers except the window, IPv4
//        id and checksums; payload bytes exactly) with valid checksums.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../test/offload_packets.h"
#include "offload/gro.h"
#include "offload/gso.h"

namespace {

using namespace sag::offload;
using Bytes = std::vector<uint8_t>;

[[noreturn]] void fail(const char* what, size_t a, size_t b) {
  std::fprintf(stderr, "fuzz_offload invariant violated: %s (%zu, %zu)\n", what, a, b);
  std::abort();
}
#define REQUIRE(cond, a, b)                         \
  do {                                              \
    if (!(cond)) fail(#cond, size_t(a), size_t(b)); \
  } while (0)

struct Reader {
  const uint8_t* p;
  size_t n, at = 0;
  uint8_t u8() { return at < n ? p[at++] : 0; }
  uint16_t u16() { return uint16_t(u8() | u8() << 8); }
  bool done() const { return at >= n; }
};

std::vector<Bytes> segment_all(const GsoLayout& l, const uint8_t* pkt) {
  std::vector<Bytes> out(size_t(l.segments), Bytes(l.header_len + l.gso_size));
  std::vector<uint8_t*> ptrs;
  for (auto& b : out) ptrs.push_back(b.data());
  std::vector<size_t> lens(out.size());
  int w = gso_write_segments(l, pkt, 0, l.segments, ptrs.data(), lens.data());
  REQUIRE(w == l.segments, w, l.segments);
  for (size_t i = 0; i < out.size(); ++i) {
    REQUIRE(lens[i] <= l.header_len + l.gso_size, lens[i], l.gso_size);
    out[i].resize(lens[i]);
  }
  return out;
}

void fuzz_segmentation(Reader& r) {
  virtio_net_hdr h;
  uint8_t raw[sizeof h];
  for (auto& b : raw) b = r.u8();
  std::memcpy(&h, raw, sizeof h);
  Bytes pkt(r.p + r.at, r.p + r.n);
  uint8_t* heap = static_cast<uint8_t*>(std::malloc(pkt.size() ? pkt.size() : 1));
  if (!pkt.empty()) std::memcpy(heap, pkt.data(), pkt.size());
  GsoLayout l;
  if (gso_parse(h, heap, pkt.size(), &l)) {
    if (l.gso_size == 0) {
      REQUIRE(l.segments == 1, l.segments, 0);
      if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) complete_checksum(h, heap, pkt.size());
    } else if (l.segments <= 2048) {
      REQUIRE(l.header_len + l.payload_len == pkt.size(), l.header_len, pkt.size());
      size_t payload = 0;
      for (auto& s : segment_all(l, heap)) {
        payload += s.size() - l.header_len;
        REQUIRE(sagtest::checksums_ok(s), s.size(), l.header_len);
      }
      REQUIRE(payload == l.payload_len, payload, l.payload_len);
    }
  }
  std::free(heap);
}

Bytes make_packet(Reader& r, uint32_t seq[2]) {
  uint8_t kind = r.u8();
  if ((kind & 7) == 7) {  // raw bytes
    size_t len = r.u8() % 80;
    Bytes b;
    for (size_t i = 0; i < len; ++i) b.push_back(r.u8());
    return b;
  }
  sagtest::Flow f;
  int which = kind & 1;
  f.ipv6 = (kind >> 1) & 1;
  f.sport = uint16_t(1000 + which);
  uint8_t step = r.u8();
  if (kind & 4) {  // UDP of that flow: 64 bytes, or a shorter or longer one
    Bytes b = sagtest::udp(f, (step & 3) == 3 ? step % 100 : 64);
    if (step & 0x80) b[b.size() - 1] ^= 1;  // corrupted
    return b;
  }
  size_t payload = (step & 3) == 3 ? r.u8() % 40 : 1000 - (r.u8() % 3 == 0 ? r.u8() : 0);
  uint8_t fl = r.u8();
  uint8_t flags = sagtest::kAck | ((fl & 1) ? sagtest::kPsh : 0) | ((fl & 2) ? sagtest::kFin : 0) |
                  ((fl & 4) ? sagtest::kSyn : 0);
  size_t options = (fl & 8) ? 12 : 0;
  uint32_t s = seq[which];
  if ((step >> 2) % 5 == 1) s += 500;  // a gap
  Bytes b = sagtest::tcp(f, s, payload, flags, 0, options);
  seq[which] = s + uint32_t(payload);
  if (fl & 16) b[b.size() - 1] ^= uint8_t(1 + r.u8() % 255);  // corrupted (or a no-op on SYN-only)
  return b;
}

void fuzz_coalescing(Reader& r) {
  std::vector<Bytes> pkts;
  uint32_t seq[2] = {0, 0};
  while (!r.done() && pkts.size() < 64) pkts.push_back(make_packet(r, seq));
  std::vector<const uint8_t*> ptrs;
  std::vector<size_t> lens;
  for (auto& p : pkts) {
    ptrs.push_back(p.data());
    lens.push_back(p.size());
  }
  Coalescer c(64, (r.n & 1) == 0);
  c.plan(ptrs.data(), lens.data(), int(pkts.size()));
  size_t total = 0;
  for (int k = 0; k < c.writes(); ++k) {
    iovec iov[Coalescer::kMaxSegments + 2];
    int segs = 0;
    int n = c.iovecs(k, iov, &segs);
    REQUIRE(n >= 2 && segs >= 1, n, segs);
    virtio_net_hdr h;
    std::memcpy(&h, iov[0].iov_base, sizeof h);
    Bytes w;
    for (int i = 1; i < n; ++i)
      w.insert(w.end(), (uint8_t*)iov[i].iov_base, (uint8_t*)iov[i].iov_base + iov[i].iov_len);
    REQUIRE(w.size() <= 65535, w.size(), segs);
    total += size_t(segs);
    if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
      REQUIRE(segs == 1, segs, k);
      continue;
    }
    REQUIRE(segs >= 2, segs, k);
    REQUIRE(complete_checksum(h, w.data(), w.size()), w.size(), h.csum_start);
    REQUIRE(sagtest::checksums_ok(w), w.size(), k);
    GsoLayout l;
    REQUIRE(gso_parse(h, w.data(), w.size(), &l), w.size(), h.gso_size);
    auto back = segment_all(l, w.data());
    REQUIRE(back.size() == size_t(segs), back.size(), segs);
    // Match each segment with an original packet: the same TCP segment (ports, seq, payload).
    for (auto& s : back) {
      REQUIRE(sagtest::checksums_ok(s), s.size(), k);
      bool found = false;
      for (auto& p : pkts) {
        if (p.size() != s.size()) continue;
        size_t l4 = l.l4_offset;
        // UDP: everything from the UDP header on; TCP: all but the window and the checksum.
        bool same =
            l.udp ? std::memcmp(p.data() + l4, s.data() + l4, s.size() - l4) == 0
                  : std::memcmp(p.data() + l4, s.data() + l4, 14) == 0 &&  // ports, seq, ack, offset, flags
                        std::memcmp(p.data() + l4 + 18, s.data() + l4 + 18, s.size() - l4 - 18) == 0;
        if (same) found = true;
      }
      REQUIRE(found, s.size(), k);
    }
  }
  REQUIRE(total == pkts.size(), total, pkts.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r{data, size};
  if (r.u8() & 1)
    fuzz_coalescing(r);
  else
    fuzz_segmentation(r);
  return 0;
}
