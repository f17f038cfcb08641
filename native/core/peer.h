// A peer as the dataplane sees it: keypair slots, endpoint, staged packets and counters.
//
// Locking (lock order: Dataplane::table_mu_ -> keys_mu -> staged_mu; endpoint_mu is a leaf):
//  - previous/current/next are atomics read lock-free by workers; they are changed under keys_mu
//    (by the control thread on install/retire, by a receive worker when next becomes current).
//  - endpoint and uplink_id are guarded by endpoint_mu (roaming updates them from a worker).
//  - staged is guarded by staged_mu; staged_count mirrors its size so the send path can skip
//    the lock when nothing is staged.
//  - Flags for coalesced events are atomics: at most one such event per peer is queued at a time.
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "counters.h"
#include "endpoint.h"
#include "session.h"
#include "token_bucket.h"

namespace sag {

struct Peer {
  uint32_t id = 0;
  uint8_t public_key[32] = {};

  std::mutex keys_mu;
  std::atomic<Keypair*> previous{nullptr};
  std::atomic<Keypair*> current{nullptr};
  std::atomic<Keypair*> next{nullptr};

  std::mutex endpoint_mu;
  Endpoint endpoint;
  uint32_t uplink_id = 0;
  bool has_endpoint = false;
  RoamGuard roam_guard;        // receive thread only: flip damping for multipath copies (roaming.h)
  ProbeSources probe_sources;  // receive thread only: paths its probes came over (roaming.h)

  // Multipath selection table (paths.h), or null for the roaming endpoint alone. Replaced only
  // under table_mu held exclusive; the send worker reads it under table_mu held shared.
  std::shared_ptr<const struct Selection> selection;

  std::mutex staged_mu;
  std::deque<std::vector<uint8_t>> staged;
  std::atomic<uint32_t> staged_count{0};

  std::atomic<bool> handshake_event_pending{false};
  std::atomic<bool> flush_requested{false};
  std::atomic<bool> keepalive_requested{false};

  Counters counters;

  // Routing domain (domain.h) and rate limits (token_bucket.h). domain changes only with
  // table_mu held exclusive; the buckets are lock-free. tx: TUN -> peer; rx: peer -> TUN.
  uint32_t domain = 0;
  TokenBucket tx_limit;
  TokenBucket rx_limit;
  // Probe requests answered natively, one token each (probe.h).
  TokenBucket probe_replies{SAG_PROBE_REPLY_RATE, SAG_PROBE_REPLY_BURST};

  bool endpoint_snapshot(Endpoint* ep, uint32_t* uplink) {
    std::lock_guard<std::mutex> lock(endpoint_mu);
    *ep = endpoint;
    *uplink = uplink_id;
    return has_endpoint;
  }

  // A keypair that may send now: current, not expired.
  Keypair* sending_keypair() const {
    Keypair* kp = current.load(std::memory_order_acquire);
    return kp && !kp->expired.load(std::memory_order_relaxed) ? kp : nullptr;
  }
};

}  // namespace sag
