// Roaming, and telling a multipath copy from a replay.
//
// WireGuard moves a peer's endpoint to the source of its latest authenticated data packet. A sag
// peer that duplicates a critical class sends every such packet twice, over two paths, with the
// same counter: the first copy is accepted, the second is refused by the replay window. Two
// consequences, handled here:
//  - counters: a refused copy that arrived from a different path than the accepted one is a
//    `duplicate`, not a `replay` (RecentSources remembers which path delivered recent counters);
//  - roaming: whichever copy wins the race would move the endpoint, back and forth between the two
//    paths. While copies are being seen, a move back to the endpoint just left waits until the
//    current one has been quiet for kFlipHoldNs. A move to any other source, or any move when no
//    copies are seen, happens at once, exactly as in WireGuard.
// A copy counts as a duplicate only if it came over a path the peer has recently probed from (an
// authenticated probe, ProbeSources): a sag peer duplicating over its paths. An attacker replaying
// captured packets from anywhere else is counted as `replay`; one who replays from the peer's own
// other path (spoofing it) is counted as a duplicate and can at most delay a flip-back by
// kFlipHoldNs. Either way the packet is dropped.
#pragma once
#include <cstdint>

#include "endpoint.h"

namespace sag {

// A 32-bit tag of (uplink, source endpoint): equal paths give equal tags.
inline uint32_t path_tag(uint32_t uplink_id, const Endpoint& from) {
  uint32_t h = 2166136261u ^ uplink_id;  // FNV-1a over the uplink id, port and address
  auto mix = [&h](const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
  };
  uint16_t port = from.port();
  mix(reinterpret_cast<const uint8_t*>(&port), sizeof port);
  if (from.family() == AF_INET)
    mix(reinterpret_cast<const uint8_t*>(&from.addr.v4.sin_addr), 4);
  else
    mix(from.addr.v6.sin6_addr.s6_addr, 16);
  return h;
}

// Which path delivered each of the last kSize accepted counters (slot = counter mod kSize).
// Owned by a Keypair; like its replay window, touched only by the receive worker's thread.
struct RecentSources {
  static constexpr uint64_t kSize = 64;
  uint64_t counter[kSize] = {};
  uint32_t tag[kSize] = {};
  bool used[kSize] = {};  // no sentinel counter: any 64-bit value may arrive
  void record(uint64_t c, uint32_t t) {
    counter[c % kSize] = c;
    tag[c % kSize] = t;
    used[c % kSize] = true;
  }
  // A refused counter: true if it was accepted recently from another path (a multipath copy).
  bool is_copy_from_other_path(uint64_t c, uint32_t t) const {
    return used[c % kSize] && counter[c % kSize] == c && tag[c % kSize] != t;
  }
};

// The paths (tags) a peer's authenticated probes arrived over lately. Receive thread only.
struct ProbeSources {
  static constexpr int kSlots = 8;
  static constexpr uint64_t kRecentNs = 5'000'000'000;  // metered standby paths probe slowly
  uint32_t tag[kSlots] = {};
  uint64_t seen_ns[kSlots] = {};  // 0: empty
  void saw(uint32_t t, uint64_t now) {
    int slot = 0;  // the same path, else an empty or the stalest slot (the first of equals)
    for (int i = 0; i < kSlots; ++i) {
      if (seen_ns[i] && tag[i] == t) {
        slot = i;
        break;
      }
      if (seen_ns[i] < seen_ns[slot]) slot = i;
    }
    tag[slot] = t;
    seen_ns[slot] = now;
  }
  bool any() const { return seen_ns[0] != 0; }  // slot 0 is filled first and never emptied
  bool recent(uint32_t t, uint64_t now) const {
    for (int i = 0; i < kSlots; ++i)
      if (seen_ns[i] && tag[i] == t && now - seen_ns[i] < kRecentNs) return true;
    return false;
  }
};

// Flip damping for one peer. Receive thread only, its only user (should_move is called under the
// peer's endpoint_mu, which guards the endpoint it is given, not this struct).
struct RoamGuard {
  static constexpr uint64_t kFlipHoldNs = 200'000'000;           // quiet time before flipping back
  static constexpr uint64_t kDuplicateMemoryNs = 2'000'000'000;  // copies seen this recently

  Endpoint previous;
  uint32_t previous_uplink = 0;
  bool has_previous = false;
  uint64_t current_seen_ns = 0;    // last authenticated data from the current endpoint
  uint64_t duplicate_seen_ns = 0;  // last multipath copy refused (0: never)

  // The current endpoint is (has_current, current, current_uplink); a packet came from
  // (from, uplink) at now. Returns true if the endpoint should move there, and then remembers the
  // one being left.
  bool should_move(bool has_current, const Endpoint& current, uint32_t current_uplink, const Endpoint& from,
                   uint32_t uplink, uint64_t now) {
    if (has_current && current == from && current_uplink == uplink) {
      current_seen_ns = now;
      return false;
    }
    bool back = has_previous && previous == from && previous_uplink == uplink;
    bool copies = duplicate_seen_ns != 0 && now - duplicate_seen_ns < kDuplicateMemoryNs;
    if (back && copies && now - current_seen_ns < kFlipHoldNs) return false;
    if (has_current) {
      previous = current;
      previous_uplink = current_uplink;
      has_previous = true;
    }
    current_seen_ns = now;
    return true;
  }
};

}  // namespace sag
