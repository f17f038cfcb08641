// Bounded queue of events from the workers to the control plane, in two lanes:
//  - control: received handshake messages (SAG_EVENT_CONTROL). Anyone on the internet can send
//    them, so this lane may hold at most capacity - reserved events;
//  - peer: everything else (probe replies, keypair confirmations, roaming, handshake and rekey
//    requests), which only an authenticated peer or our own send path can cause. It may use any
//    free slot, and the reserved ones are its alone.
// A flood of handshake datagrams thus fills the control lane and the rest of it is dropped and
// counted by the caller, while a probe reply still finds a slot: the flood cannot make a live path
// look dead. pop() takes the peer lane first, so those events are not stuck behind a backlog of
// handshakes either (as wireguard-go keeps handshakes in a queue of their own). Within a lane,
// events keep their order; nothing relies on order across lanes (a confirmation follows the
// install of its keypair, which follows the control plane's handling of the handshake).
//
// Fixed slots allocated once, so memory stays bounded. Locking: one mutex; producers are worker
// threads, the consumer is the control thread. Events are rare next to data packets.
#pragma once
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "sag/sag.h"

namespace sag {

class EventQueue {
 public:
  using Notify = void (*)(void*);
  // reserved: slots only the peer lane may use; by default SAG_EVENT_RESERVED_PERCENT of the
  // capacity, at least one when there are two slots or more.
  explicit EventQueue(size_t capacity);
  EventQueue(size_t capacity, size_t reserved);

  void set_notify(Notify fn, void* ctx);
  // False when the event's lane is full. Calls the notify hook when the queue goes from empty to
  // non-empty.
  bool push(const sag_event& ev);
  bool pop(sag_event* out);  // the peer lane first
  size_t size() const;
  size_t capacity() const { return slots_.size(); }
  size_t reserved() const { return reserved_; }

  static size_t default_reserved(size_t capacity);

 private:
  struct Lane {  // a ring of slot numbers
    std::vector<uint32_t> ring;
    size_t head = 0;
    size_t count = 0;
  };

  std::vector<sag_event> slots_;
  std::vector<uint32_t> free_;  // slot numbers not in a lane
  size_t reserved_;
  mutable std::mutex mu_;
  Lane lanes_[2];  // 0: control, 1: peer
  Notify notify_ = nullptr;
  void* notify_ctx_ = nullptr;
};

}  // namespace sag
