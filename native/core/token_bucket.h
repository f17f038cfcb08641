// A per-peer rate limiter in bytes per second with a burst, for one direction of traffic.
//
// Algorithm: GCRA (the virtual-scheduling form of a token bucket). The whole state is one atomic
// "theoretical arrival time" (tat_ns): a packet of L bytes advances it by L/rate; the packet
// conforms if the new tat is at most `burst / rate` ahead of now. Equivalent to a bucket of `burst`
// bytes refilled at `rate`, but lock-free with one compare-exchange and no allocation.
//
// Threading: allow() may be called from any number of worker threads at once (CAS loop);
// configure() from the control thread at any time. A packet racing a configure() is judged by
// either the old or the new limit. The clock is passed in (any monotonic ns, the same for all
// calls on one bucket), so the limiter is tested with an explicit clock.
#pragma once
#include <atomic>
#include <cstdint>

#include "sag/sag.h"

namespace sag {

class TokenBucket {
 public:
  static constexpr uint64_t kMaxRate = SAG_MAX_RATE;    // bytes/s (~8.8 Tbit/s): keeps the math in u64
  static constexpr uint64_t kMaxBurst = SAG_MAX_BURST;  // bytes

  TokenBucket() = default;
  TokenBucket(uint64_t rate, uint64_t burst) { configure(rate, burst); }

  // rate 0 removes the limit. burst is clamped to at least one maximum-size packet by the caller's
  // choice; here it is taken as given (a packet larger than burst never conforms).
  void configure(uint64_t rate_bytes_per_s, uint64_t burst_bytes) {
    if (rate_bytes_per_s > kMaxRate) rate_bytes_per_s = kMaxRate;
    if (burst_bytes > kMaxBurst) burst_bytes = kMaxBurst;
    burst_.store(burst_bytes, std::memory_order_relaxed);
    rate_.store(rate_bytes_per_s, std::memory_order_release);
    tat_ns_.store(0, std::memory_order_relaxed);  // a new limit starts with a full bucket
  }
  bool limited() const { return rate_.load(std::memory_order_relaxed) != 0; }
  uint64_t rate() const { return rate_.load(std::memory_order_relaxed); }
  uint64_t burst() const { return burst_.load(std::memory_order_relaxed); }

  // Whether a packet of len bytes may pass at now_ns; if so it is charged to the bucket.
  bool allow(uint64_t len, uint64_t now_ns) {
    uint64_t rate = rate_.load(std::memory_order_acquire);
    if (rate == 0) return true;
    uint64_t cost = ns_for(len, rate);
    uint64_t tolerance = ns_for(burst_.load(std::memory_order_relaxed), rate);
    uint64_t tat = tat_ns_.load(std::memory_order_relaxed);
    for (;;) {
      uint64_t start = tat > now_ns ? tat : now_ns;
      uint64_t next = start + cost;
      if (next - now_ns > tolerance) return false;
      if (tat_ns_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return true;
    }
  }

 private:
  // ceil(len * 1e9 / rate) without overflow for len <= 2^30 (1e9 < 2^30, so the product is
  // < 2^60). Rounded up so a tiny packet at a high rate is never free; cost and tolerance round
  // the same way, so a burst-sized packet fits a full bucket exactly.
  static uint64_t ns_for(uint64_t len, uint64_t rate) {
    if (len > kMaxBurst) len = kMaxBurst;
    return (len * 1000000000ull + rate - 1) / rate;
  }

  std::atomic<uint64_t> rate_{0};
  std::atomic<uint64_t> burst_{0};
  std::atomic<uint64_t> tat_ns_{0};
};

}  // namespace sag

namespace sag {
// The workers' entry point: reads the clock only when the bucket has a limit.
template <class Clock>
inline bool admit(TokenBucket& bucket, uint64_t len, Clock now_ns) {
  return !bucket.limited() || bucket.allow(len, now_ns());
}
}  // namespace sag
