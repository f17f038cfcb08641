#include "open_pool.h"

#include "../thread_count.h"

namespace sag {

OpenPool::OpenPool(int helpers) {
  for (int i = 0; i < helpers; ++i) threads_.push_back(std::make_unique<Helper>());
  for (auto& h : threads_) {
    Helper* raw = h.get();
    h->thread = std::thread([this, raw] { helper_loop(raw); });
  }
}

OpenPool::~OpenPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& h : threads_) h->thread.join();
}

bool OpenPool::ok() const {
  for (auto& h : threads_)
    if (!h->aead.ok()) return false;
  return true;
}

// Opens jobs[start..end) with one AEAD context.
static void open_range(Aead& aead, OpenJob* jobs, int start, int end) {
  for (int i = start; i < end; ++i)
    jobs[i].ok = aead.open(jobs[i].key, jobs[i].counter, jobs[i].body, jobs[i].len, jobs[i].body);
}

void OpenPool::drain(Aead& aead, uint32_t gen, OpenJob* jobs, int count) {
  uint64_t t = ticket_.load(std::memory_order_acquire);
  for (;;) {
    int start = int(uint32_t(t));
    if (uint32_t(t >> 32) != gen || start >= count) return;
    int end = start + kClaim < count ? start + kClaim : count;
    if (!ticket_.compare_exchange_weak(t, (uint64_t(gen) << 32) | uint32_t(end), std::memory_order_acq_rel))
      continue;  // t now holds the current ticket
    open_range(aead, jobs, start, end);
    t = ticket_.load(std::memory_order_acquire);
  }
}

void OpenPool::open_all(Aead& own, OpenJob* jobs, int n) {
  size_t bytes = 0;
  for (int i = 0; i < n; ++i) bytes += jobs[i].len;
  if (threads_.empty() || n < kMinParallelJobs || bytes < kMinParallelBytes) {
    open_range(own, jobs, 0, n);
    return;
  }
  uint32_t gen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    gen = ++generation_;
    jobs_ = jobs;
    count_ = n;
    ticket_.store(uint64_t(gen) << 32, std::memory_order_release);
  }
  wake_.notify_all();
  drain(own, gen, jobs, n);  // returns when every job is claimed
  wait_idle();
}

void OpenPool::wait_idle() {
  for (int spin = 0; spin < 256; ++spin)  // a helper is usually finishing its last claim
    if (busy_.load(std::memory_order_acquire) == 0) return;
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return busy_.load(std::memory_order_acquire) == 0; });
}

void OpenPool::helper_loop(Helper* self) {
  uint32_t seen = 0;
  for (;;) {
    OpenJob* jobs;
    int count;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      jobs = jobs_;
      count = count_;
    }
    busy_.fetch_add(1, std::memory_order_acq_rel);
    drain(self->aead, seen, jobs, count);
    if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mu_);  // so the notify cannot fall between check and wait
      idle_.notify_one();
    }
  }
}

int open_helpers_for(uint32_t workers) {
  // Half the CPUs by default: the send workers (one per TUN queue) take the rest.
  int n = workers ? int(workers) : count_from_env("SAG_RX_WORKERS", 16, clamp_count(online_cpus() / 2, 1, 4));
  return n - 1;
}

}  // namespace sag
