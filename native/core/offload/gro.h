// Coalescing for TUN writes (the receive side's GRO): consecutive in-order TCP segments of one
// flow within a batch become one super-packet with a virtio_net_hdr (GSO TCPV4/TCPV6), and, when
// enabled (the kernel takes USO from a TUN since Linux 6.2), consecutive UDP datagrams of one
// flow and one size become one GSO UDP_L4 super-packet; the kernel takes each in one write and
// segments it only where it must. Everything else is written as it came, behind a zero vnet
// header. Plans writes; the I/O is the caller's.
//
// A packet joins a flow's group only if: IPv4 without options and not fragmented, or IPv6
// without extension headers; same addresses, ports, TOS/TTL (traffic class/hop limit); a valid
// IP and L4 checksum (a corrupted packet goes to the kernel unchanged, which drops it); a payload
// of the group's segment size (a shorter one ends the group); at most 64 segments and 64 KiB.
// TCP also: same ack number, header length and options; only ACK (PSH allowed, it ends the
// group) set; the next sequence number. Packets of one flow keep their order; flows may
// interleave.
#pragma once
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gso.h"

namespace sag::offload {

class Coalescer {
 public:
  static constexpr size_t kMaxHeader = 60 + 60;  // IPv6 + TCP with options
  static constexpr int kMaxSegments = 64;

  Coalescer(int max_packets, bool udp);

  // Plans the writes for n packets (n <= max_packets). The packets must stay untouched until the
  // last write() of this plan.
  void plan(const uint8_t* const* pkts, const size_t* lens, int n);
  int writes() const { return int(items_.size()); }
  // The iovecs of write k: the vnet header (+ merged headers), then payloads; returns their count
  // (at most kMaxSegments + 2). *segments gets how many input packets the write carries.
  int iovecs(int k, iovec* iov, int* segments);

 private:
  struct Flow {
    bool ipv6 = false;
    uint8_t proto = 0;
    size_t l4 = 0, hdr = 0;  // IP header length; IP + L4 header length
  };
  struct Item {
    int head = -1, tail = -1;  // input packet indices, linked through next_
    int count = 0;
    size_t payload = 0;  // bytes after the headers, all segments
    size_t seg_size = 0;
    uint32_t next_seq = 0;  // TCP
    bool open = false;      // more segments may join
    Flow flow;
    virtio_net_hdr vnet{};
    uint8_t header[kMaxHeader];
  };
  bool coalescible(int i, Flow* f) const;
  bool joins(const Item& g, int i, const Flow& f) const;
  void close_flow(int i, size_t from);
  void finish(Item& g);

  const bool udp_;
  const uint8_t* const* pkts_ = nullptr;
  const size_t* lens_ = nullptr;
  std::vector<Item> items_;
  std::vector<int> next_;
};

}  // namespace sag::offload
