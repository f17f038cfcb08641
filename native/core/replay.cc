// RFC 6479 replay window. The ring holds the block containing last_ plus the 127 blocks before it.
//
// Boundary: a counter c <= last_ is judged from its bit when last_ - c <= kWindowSize (= 127 * 64).
// That bit is always exact: c >= last_ - 127*64 puts c in block (last_ / 64) - 127 or later, the oldest
// block the ring still holds (its slot is only reused, and cleared, once last_ enters the next block).
// A counter kWindowSize + 1 behind can fall into block (last_ / 64) - 128, whose slot already belongs
// to the current block, so it must be rejected without looking. Hence "more than kWindowSize behind"
// is too old, exactly wireguard-go's `f.last - counter > windowSize` test.
//
// Before anything is accepted last_ is 0 and the ring is clear, so "nothing seen" needs no extra flag:
// counter 0 is then accepted once, like any other counter.
#include "replay.h"

#include <algorithm>
#include <cstring>

namespace sag {

static_assert(ReplayWindow::kWindowSize == 8128, "WireGuard's window: 8128 usable bits");
static_assert(ReplayWindow::kRejectAfterMessages == UINT64_MAX - (uint64_t(1) << 13),
              "REJECT_AFTER_MESSAGES = 2^64 - 2^13 - 1");

namespace {

inline uint64_t slot_of(uint64_t counter) {
  return (counter / ReplayWindow::kBlockBits) & (ReplayWindow::kRingBlocks - 1);
}

inline uint64_t bit_of(uint64_t counter) {
  return uint64_t(1) << (counter & (ReplayWindow::kBlockBits - 1));
}

}  // namespace

void ReplayWindow::reset() {
  last_ = 0;
  std::memset(ring_, 0, sizeof ring_);  // 1 KiB, once per keypair: simpler than lazy clearing
}

bool ReplayWindow::may_accept(uint64_t counter) const {
  if (counter >= kRejectAfterMessages) return false;
  // Newer than anything seen: its block is either last_'s (whose higher bits are still clear, as no
  // counter above last_ was accepted) or one advance_to() will clear.
  if (counter > last_) return true;
  if (last_ - counter > kWindowSize) return false;
  return (ring_[slot_of(counter)] & bit_of(counter)) == 0;
}

bool ReplayWindow::accept(uint64_t counter) {
  if (!may_accept(counter)) return false;
  if (counter > last_) advance_to(counter);
  ring_[slot_of(counter)] |= bit_of(counter);
  return true;
}

// Clears the slots of the blocks after last_'s up to counter's; a jump of a whole ring or more clears
// all of them (and never loops more than kRingBlocks times, however far the jump).
void ReplayWindow::advance_to(uint64_t counter) {
  uint64_t current = last_ >> kBlockShift;
  uint64_t blocks = std::min((counter >> kBlockShift) - current, kRingBlocks);
  for (uint64_t i = 1; i <= blocks; ++i) ring_[(current + i) & (kRingBlocks - 1)] = 0;
  last_ = counter;
}

}  // namespace sag
