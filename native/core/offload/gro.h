// Coalescing for TUN writes (the receive side's GRO): consecutive in-order TCP segments of one
// flow within a batch become one super-packet with a virtio_net_hdr (GSO TCPV4/TCPV6), so the
// kernel takes them in one write and its TCP stack sees one large packet. Everything else is
// written as it came, behind a zero vnet header. Plans writes; the I/O is the caller's.
//
// A segment joins a flow's group only if: IPv4 without options and not fragmented, or IPv6
// without extension headers; same addresses, ports, TOS/TTL (traffic class/hop limit), ack
// number, TCP header length and options; only ACK (PSH allowed, it ends the group) set; the next
// sequence number; a payload of the group's segment size (a shorter one ends the group); a valid
// IP and TCP checksum (a corrupted segment goes to the kernel unchanged, which drops it); and the
// group stays within 64 KiB. Packets of one flow keep their order; flows may interleave.
#pragma once
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gso.h"

namespace sag::offload {

class TcpCoalescer {
 public:
  static constexpr size_t kMaxHeader = 60 + 60;  // IPv4 with options (not coalesced) / IPv6 + TCP
  static constexpr int kMaxSegments = 64;

  explicit TcpCoalescer(int max_packets);

  // Plans the writes for n packets (n <= max_packets). The packets must stay untouched until the
  // last write() of this plan.
  void plan(const uint8_t* const* pkts, const size_t* lens, int n);
  int writes() const { return int(items_.size()); }
  // The iovecs of write k: the vnet header (+ merged headers), then payloads; returns their count
  // (at most kMaxSegments + 2). *segments gets how many input packets the write carries.
  int iovecs(int k, iovec* iov, int* segments);

 private:
  struct Item {
    int head = -1, tail = -1;  // input packet indices, linked through next_
    int count = 0;
    size_t payload = 0;        // bytes after the headers, all segments
    size_t seg_size = 0;
    uint32_t next_seq = 0;
    bool open = false;         // more segments may join
    bool ipv6 = false;
    size_t l4 = 0, hdr = 0;    // IP header length, IP + TCP header length
    virtio_net_hdr vnet{};
    uint8_t header[kMaxHeader];
  };
  bool coalescible(int i, size_t* l4, size_t* hdr, bool* ipv6) const;
  bool joins(const Item& g, int i, size_t hdr) const;
  void finish(Item& g);

  const uint8_t* const* pkts_ = nullptr;
  const size_t* lens_ = nullptr;
  std::vector<Item> items_;
  std::vector<int> next_;
};

}  // namespace sag::offload
