#include "memory_tun.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

namespace sag {

MemoryTun::MemoryTun(size_t capacity)
    : capacity_(capacity), event_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

MemoryTun::~MemoryTun() {
  if (event_fd_ >= 0) close(event_fd_);
}

bool MemoryTun::inject(const uint8_t* packet, size_t len) {
  std::lock_guard<std::mutex> lock(mu_);
  if (to_dataplane_.size() >= capacity_) return false;
  to_dataplane_.emplace_back(packet, packet + len);
  uint64_t one = 1;
  (void)!write(event_fd_, &one, sizeof one);
  return true;
}

bool MemoryTun::take(std::vector<uint8_t>* packet) {
  std::lock_guard<std::mutex> lock(mu_);
  if (from_dataplane_.empty()) return false;
  *packet = std::move(from_dataplane_.front());
  from_dataplane_.pop_front();
  return true;
}

size_t MemoryTun::pending_out() const {
  std::lock_guard<std::mutex> lock(mu_);
  return from_dataplane_.size();
}

int MemoryTun::read_batch(uint8_t* const* bufs, size_t cap, size_t* lens, int n) {
  std::lock_guard<std::mutex> lock(mu_);
  int got = 0;
  while (got < n && !to_dataplane_.empty()) {
    auto& p = to_dataplane_.front();
    size_t len = p.size() > cap ? cap : p.size();
    if (len) std::memcpy(bufs[got], p.data(), len);
    lens[got++] = p.size() > cap ? cap + 1 : p.size();
    to_dataplane_.pop_front();
  }
  if (to_dataplane_.empty()) {
    uint64_t drain;
    (void)!read(event_fd_, &drain, sizeof drain);  // back to not-readable
  }
  return got;
}

int MemoryTun::write_batch(const uint8_t* const* bufs, const size_t* lens, int n, int* failed) {
  std::lock_guard<std::mutex> lock(mu_);
  int written = 0;
  *failed = 0;
  for (int i = 0; i < n; ++i) {
    if (from_dataplane_.size() >= capacity_) {
      ++*failed;
      continue;
    }
    from_dataplane_.emplace_back(bufs[i], bufs[i] + lens[i]);
    ++written;
  }
  return written;
}

}  // namespace sag
