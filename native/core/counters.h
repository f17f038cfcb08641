// Traffic counters shared between worker threads and readers on the control thread.
// Relaxed atomics: readers see each counter exact, the set only approximately consistent, and
// never pause traffic. Receive and send fields sit on separate cache lines so the two workers
// do not bounce one line between cores.
#pragma once
#include <atomic>
#include <cstdint>

#include "sag/sag.h"

namespace sag {

enum DropReason : int {
  kDropBadAuth = SAG_DROP_BAD_AUTH,
  kDropReplay = SAG_DROP_REPLAY,
  kDropNoSession = SAG_DROP_NO_SESSION,
  kDropSourceNotAllowed = SAG_DROP_SOURCE_NOT_ALLOWED,
  kDropNoRoute = SAG_DROP_NO_ROUTE,
  kDropQueueFull = SAG_DROP_QUEUE_FULL,
  kDropMalformed = SAG_DROP_MALFORMED,
  kDropTooBig = SAG_DROP_TOO_BIG,
  kDropNoEndpoint = SAG_DROP_NO_ENDPOINT,
  kDropIoError = SAG_DROP_IO_ERROR,
  kDropRateLimited = SAG_DROP_RATE_LIMITED,
  kDropDuplicate = SAG_DROP_DUPLICATE,
  kDropBadType = SAG_DROP_BAD_TYPE,
  kDropReasonCount = SAG_DROP_REASON_COUNT,
};

class Counters {
 public:
  void add_rx(uint64_t bytes, bool keepalive = false) {
    rx_.packets.fetch_add(1, std::memory_order_relaxed);
    rx_.bytes.fetch_add(bytes, std::memory_order_relaxed);
    if (keepalive) rx_.keepalives.fetch_add(1, std::memory_order_relaxed);
  }
  void add_tx(uint64_t packets, uint64_t bytes, uint64_t keepalives = 0) {
    tx_.packets.fetch_add(packets, std::memory_order_relaxed);
    tx_.bytes.fetch_add(bytes, std::memory_order_relaxed);
    if (keepalives) tx_.keepalives.fetch_add(keepalives, std::memory_order_relaxed);
  }
  void drop(DropReason reason, uint64_t n = 1) { drops_[reason].fetch_add(n, std::memory_order_relaxed); }
  uint64_t drops(DropReason reason) const { return drops_[reason].load(std::memory_order_relaxed); }

  void snapshot(sag_counters* out) const {
    out->rx_packets = rx_.packets.load(std::memory_order_relaxed);
    out->rx_bytes = rx_.bytes.load(std::memory_order_relaxed);
    out->tx_packets = tx_.packets.load(std::memory_order_relaxed);
    out->tx_bytes = tx_.bytes.load(std::memory_order_relaxed);
    out->rx_keepalives = rx_.keepalives.load(std::memory_order_relaxed);
    out->tx_keepalives = tx_.keepalives.load(std::memory_order_relaxed);
    for (int i = 0; i < kDropReasonCount; ++i) out->drops[i] = drops_[i].load(std::memory_order_relaxed);
  }

 private:
  struct alignas(64) Pair {
    std::atomic<uint64_t> packets{0};
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint64_t> keepalives{0};
  };
  Pair rx_;
  Pair tx_;
  alignas(64) std::atomic<uint64_t> drops_[kDropReasonCount] = {};
};

}  // namespace sag
