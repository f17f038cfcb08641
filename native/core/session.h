// Session state: keypairs (one per completed handshake) and their per-peer slots.
//
// Ownership and locking (see Dataplane for the table lock):
//  - Keypair objects are owned by the dataplane's index table and are created and destroyed only
//    under the table lock held exclusively. Workers hold it shared for a batch, so a Keypair*
//    read from a slot stays valid for the whole batch.
//  - send_counter is an atomic: any number of senders take counters without a lock.
//  - The replay window and recent_sources belong to the receive worker's thread, their only reader
//    and writer (its decrypting helpers never touch them): no lock, none per packet.
//  - expired is an atomic flag set by the control plane or when the counter is exhausted.
#pragma once
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "replay.h"
#include "roaming.h"
#include "wire.h"

namespace sag {

struct Peer;

struct Keypair {
  uint32_t local_index = 0;   // receiver index in messages to us
  uint32_t remote_index = 0;  // receiver index we write in messages to the peer
  uint8_t send_key[wire::kKeySize];
  uint8_t recv_key[wire::kKeySize];
  bool initiator = false;
  uint64_t created_ns = 0;
  Peer* peer = nullptr;

  std::atomic<uint64_t> send_counter{0};
  std::atomic<bool> expired{false};
  std::atomic<bool> rekey_signalled{false};

  ReplayWindow replay;           // receive thread only
  RecentSources recent_sources;  // receive thread only: tells multipath copies from replays (roaming.h)

  ~Keypair() { wipe(); }
  void wipe() {
    // volatile stores so the compiler does not elide the zeroing of memory about to be freed
    volatile uint8_t* s = send_key;
    volatile uint8_t* r = recv_key;
    for (size_t i = 0; i < wire::kKeySize; ++i) s[i] = r[i] = 0;
  }

  // Takes the next send counter, or returns false if the keypair may no longer send.
  bool take_counter(uint64_t* counter) {
    if (expired.load(std::memory_order_relaxed)) return false;
    uint64_t c = send_counter.fetch_add(1, std::memory_order_relaxed);
    if (c >= wire::kRejectAfterMessages) {
      expired.store(true, std::memory_order_relaxed);
      return false;
    }
    *counter = c;
    return true;
  }
};

}  // namespace sag
