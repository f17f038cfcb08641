// Bounded queue of events from the workers to the control plane (handshake messages, requests for
// a handshake, keypair confirmations). Fixed slots allocated once: a flood of handshake messages
// fills it and the rest are dropped and counted by the caller, so memory stays bounded.
// Locking: one mutex; producers are worker threads, the consumer is the control thread. Events are
// rare next to data packets, so a mutex costs nothing on the hot path.
#pragma once
#include <cstddef>
#include <mutex>
#include <vector>

#include "sag/sag.h"

namespace sag {

class EventQueue {
 public:
  using Notify = void (*)(void*);
  explicit EventQueue(size_t capacity);

  void set_notify(Notify fn, void* ctx);
  // False when full. Calls the notify hook when the queue goes from empty to non-empty.
  bool push(const sag_event& ev);
  bool pop(sag_event* out);
  size_t size() const;

 private:
  std::vector<sag_event> slots_;
  mutable std::mutex mu_;
  size_t head_ = 0;
  size_t count_ = 0;
  Notify notify_ = nullptr;
  void* notify_ctx_ = nullptr;
};

}  // namespace sag
