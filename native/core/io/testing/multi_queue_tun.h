// In-memory double of a multi-queue TUN (tun.h): N MemoryTun queues behind one device. The host
// side picks the queue a packet arrives on (the kernel would by flow hash); the dataplane's
// writes go through queue 0, as with a real multi-queue device.
#pragma once
#include <memory>
#include <vector>

#include "memory_tun.h"

namespace sag {

class MultiQueueMemoryTun final : public Tun {
 public:
  explicit MultiQueueMemoryTun(int queues) {
    for (int i = 0; i < queues; ++i) queues_.push_back(std::make_unique<MemoryTun>());
  }
  MemoryTun* host(int i) const { return queues_[size_t(i)].get(); }

  int poll_fd() const override { return queues_[0]->poll_fd(); }
  int read_batch(uint8_t* const* bufs, size_t cap, size_t* lens, int n) override {
    return queues_[0]->read_batch(bufs, cap, lens, n);
  }
  int write_batch(const uint8_t* const* bufs, const size_t* lens, int n, int* failed) override {
    return queues_[0]->write_batch(bufs, lens, n, failed);
  }
  const char* name() const override { return "memtun-mq"; }
  int queues() const override { return int(queues_.size()); }
  Tun* queue(int i) override { return i >= 0 && i < queues() ? queues_[size_t(i)].get() : nullptr; }

 private:
  std::vector<std::unique_ptr<MemoryTun>> queues_;
};

}  // namespace sag
