// The network side of the dataplane: one UDP socket per uplink, read and written in batches.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../endpoint.h"

namespace sag {

struct Datagram {
  uint8_t* data;  // buffer: filled by recv_batch (capacity given to it), read by send_batch
  size_t len;
  Endpoint peer;  // source on receive, destination on send
};

// Contract:
//  - poll_fd() is level-triggered readable while recv_batch() may return datagrams.
//  - recv_batch() never blocks; it returns the number received (0 if none) or -errno. A datagram
//    larger than cap is truncated and reported with len = cap + 1 (the caller drops it as too big).
//    Source addresses are reported unmapped (IPv4 as IPv4, even on a dual-stack socket).
//  - send_batch() sends in order and returns how many the kernel took; a datagram it refuses is
//    skipped, not retried. ok (may be null) gets one flag per datagram. Never blocks for long.
//    IPv4 destinations on a dual-stack socket are mapped.
//  - send_now() sends one datagram and never waits: false (errno says why; EAGAIN for a full
//    buffer) when the kernel does not take it at once. For the receive thread, which must not stall.
//  - One receiving thread and any number of sending threads may use a socket at the same time.
class UdpSocket {
 public:
  virtual ~UdpSocket() = default;
  virtual int poll_fd() const = 0;
  virtual int recv_batch(Datagram* d, size_t cap, int n) = 0;
  virtual int send_batch(const Datagram* d, int n, bool* ok) = 0;
  virtual bool send_now(const Datagram& d) = 0;
  virtual Endpoint local() const = 0;
};

}  // namespace sag
