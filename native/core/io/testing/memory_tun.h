// In-memory TUN double: the "host side" injects packets the dataplane will read, and takes the
// packets the dataplane wrote. Thread-safe; bounded so a test cannot exhaust memory.
#pragma once
#include <deque>
#include <mutex>
#include <vector>

#include "../tun.h"

namespace sag {

class MemoryTun final : public Tun {
 public:
  explicit MemoryTun(size_t capacity = 4096);
  ~MemoryTun() override;

  // Host side. inject() returns false when the inbound queue is full; take() false when empty.
  bool inject(const uint8_t* packet, size_t len);
  bool take(std::vector<uint8_t>* packet);
  size_t pending_out() const;

  int poll_fd() const override { return event_fd_; }
  int read_batch(uint8_t* const* bufs, size_t cap, size_t* lens, int n) override;
  int write_batch(const uint8_t* const* bufs, const size_t* lens, int n, int* failed) override;
  const char* name() const override { return "memtun"; }

 private:
  const size_t capacity_;
  int event_fd_;  // readable while to_dataplane_ is non-empty
  mutable std::mutex mu_;
  std::deque<std::vector<uint8_t>> to_dataplane_;
  std::deque<std::vector<uint8_t>> from_dataplane_;
};

}  // namespace sag
