// The TUN side of the dataplane: a device that hands us outbound IP packets and takes inbound ones.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sag {

// Contract:
//  - poll_fd() is level-triggered readable (EPOLLIN) while read_batch() may return packets.
//  - read_batch() never blocks: it returns 0 when nothing is waiting, else the number of packets
//    read (at most n), each into bufs[i] (capacity cap) with its length in lens[i]; a packet longer
//    than cap is reported with lens[i] = cap + 1 so the caller can count it as too big. A negative
//    value is -errno of a failure that is not "would block".
//  - write_batch() writes packets in order and returns how many were written; a failing packet is
//    skipped and counted in *failed. It may block only briefly (the kernel queue is full).
//  - One reader thread and one writer thread may use a device at the same time.
//  - A multi-queue device (IFF_MULTI_QUEUE) has queues() > 1 readers: queue(i) for i < queues()
//    is a Tun of its own (queue(0) may be this one) with its own poll_fd, read by its own thread.
//    The kernel spreads packets over the queues by flow hash, so one flow stays on one queue and
//    keeps its order. Writes may go through any queue (the dataplane writes through this one).
class Tun {
 public:
  virtual ~Tun() = default;
  virtual int poll_fd() const = 0;
  virtual int read_batch(uint8_t* const* bufs, size_t cap, size_t* lens, int n) = 0;
  virtual int write_batch(const uint8_t* const* bufs, const size_t* lens, int n, int* failed) = 0;
  virtual const char* name() const = 0;
  virtual int queues() const { return 1; }
  virtual Tun* queue(int i) { return i == 0 ? this : nullptr; }
};

}  // namespace sag
