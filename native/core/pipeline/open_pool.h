// A fork-join pool that opens (decrypts and authenticates) the transport packets of one received
// batch on several cores, so decryption is spread over workers while the receive worker keeps
// every later step — replay update, roaming, the TUN write — in arrival order on one thread.
//
//   receive worker: parse batch -> jobs ─┬─ opens jobs itself ─┬─ waits for helpers -> in-order
//   helper threads:                      └─ open jobs ─────────┘    post-processing
//
// Jobs are claimed a few at a time from an atomic cursor, so a helper that wakes late takes what
// is left and a busy core does not hold the batch up for long. Small batches (a ping) are opened
// by the caller alone: waking a helper would cost more than it saves.
//
// Threading: open_all() is called by one thread at a time (the receive worker; tests). A helper
// announces itself in `busy_` before it claims, claims by compare-and-swap on `ticket_` (the
// generation in the high half, the next job in the low half) and touches jobs only between a
// successful claim and its `busy_` decrement. open_all() returns once every job is claimed and
// `busy_` is 0, so a helper that wakes after that finds a finished or newer generation, claims
// nothing, and the caller may reuse the jobs and their buffers at once.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "../aead.h"

namespace sag {

struct OpenJob {
  const uint8_t* key;  // the keypair's receive key; valid while the caller holds table_mu shared
  uint64_t counter;
  uint8_t* body;  // ciphertext with its tag, opened in place
  size_t len;
  bool ok;  // out: the tag authenticated
};

class OpenPool {
 public:
  // helpers: extra threads besides the caller (0: the caller opens everything).
  explicit OpenPool(int helpers);
  ~OpenPool();
  OpenPool(const OpenPool&) = delete;
  OpenPool& operator=(const OpenPool&) = delete;

  int helpers() const { return int(threads_.size()); }
  bool ok() const;  // every helper's AEAD context was created

  // Opens jobs[0..n) with `own` on the calling thread plus the helpers; returns when all are done.
  void open_all(Aead& own, OpenJob* jobs, int n);

  // Below this many jobs, or this many bytes, the caller opens the batch alone.
  static constexpr int kMinParallelJobs = 8;
  static constexpr size_t kMinParallelBytes = 8 * 1024;
  static constexpr int kClaim = 4;  // jobs taken per claim

 private:
  struct Helper {
    std::thread thread;
    Aead aead;
  };
  void helper_loop(Helper* self);
  // Claims and opens jobs of generation `gen` until none is left or a newer generation began.
  void drain(Aead& aead, uint32_t gen, OpenJob* jobs, int count);
  void wait_idle();

  std::vector<std::unique_ptr<Helper>> threads_;
  std::mutex mu_;
  std::condition_variable wake_;  // helpers wait for a new generation or stop
  std::condition_variable idle_;  // the caller waits for busy_ to reach 0
  uint32_t generation_ = 0;       // guarded by mu_
  bool stopping_ = false;         // guarded by mu_
  OpenJob* jobs_ = nullptr;       // guarded by mu_; read by a helper when it wakes
  int count_ = 0;                 // guarded by mu_
  std::atomic<uint64_t> ticket_{0};
  std::atomic<int> busy_{0};  // helpers between announcing themselves and finishing
};

// Helper threads a receive worker uses for `workers` decrypting threads in all (itself included):
// 0 takes $SAG_RX_WORKERS, else half the online CPUs (at least 1, at most 4). On 2 CPUs that is
// no helper: both are busy with the send and receive workers, and a helper only adds contention
// (measured: bench/RESULTS.md).
int open_helpers_for(uint32_t workers);

}  // namespace sag
