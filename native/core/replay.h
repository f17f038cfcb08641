// Anti-replay window for transport-data counters (RFC 6479 bitmap ring, as in WireGuard).
//
// Accepted counters: c < kRejectAfterMessages, not accepted before, and not more than kWindowSize
// behind the highest counter accepted so far ("last"), i.e. c >= last - kWindowSize. A counter exactly
// kWindowSize behind is still accepted; kWindowSize + 1 behind is rejected. This is wireguard-go's rule
// (replay.go rejects when last - counter > windowSize) and Linux WireGuard's; see replay.cc for why the
// ring tracks that boundary exactly.
#pragma once
#include <cstddef>
#include <cstdint>

#include "wire.h"

namespace sag {

// One window per receiving keypair.
//
// Thread safety: NOT internally synchronised. Typically several workers decrypt packets of one keypair,
// so the owner serialises may_accept/accept/reset with its own lock (may_accept may run under a shared
// lock while no accept/reset runs). Nothing here allocates or throws.
class ReplayWindow {
 public:
  static constexpr uint64_t kBlockBits = 64;
  static constexpr uint64_t kRingBlocks = 128;                                  // 8192 bits in the ring
  static constexpr uint64_t kWindowSize = (kRingBlocks - 1) * kBlockBits;       // 8128 usable
  static constexpr uint64_t kRejectAfterMessages = wire::kRejectAfterMessages;  // 2^64 - 2^13 - 1

  // A new window (and reset()) has seen nothing: the first counter accepted may be any valid one.
  ReplayWindow() = default;
  void reset();

  // Cheap test before decrypting: false if counter is certainly a replay, too old or over the limit.
  // Does not modify state; a true answer must still be confirmed by accept() after authentication.
  bool may_accept(uint64_t counter) const;

  // After authentication: marks counter as seen and slides the window forward if it is the newest.
  // Returns false, leaving the state unchanged, if counter is replayed, too old or over the limit.
  bool accept(uint64_t counter);

 private:
  static constexpr uint64_t kBlockShift = 6;  // log2(kBlockBits)
  static_assert(uint64_t(1) << kBlockShift == kBlockBits, "block shift");
  static_assert((kRingBlocks & (kRingBlocks - 1)) == 0, "ring size must be a power of two");

  void advance_to(uint64_t counter);

  uint64_t last_ = 0;                // highest accepted counter; 0 when nothing was accepted yet
  uint64_t ring_[kRingBlocks] = {};  // bit (c % 64) of block ((c / 64) % 128) set <=> c seen
};

}  // namespace sag
