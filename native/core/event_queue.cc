#include "event_queue.h"

namespace sag {

EventQueue::EventQueue(size_t capacity) : slots_(capacity ? capacity : 1) {}

void EventQueue::set_notify(Notify fn, void* ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  notify_ = fn;
  notify_ctx_ = ctx;
}

bool EventQueue::push(const sag_event& ev) {
  // The hook runs under the lock so that once set_notify(nullptr) returns no call is in flight:
  // the owner may then free what ctx points to. Hooks must be short and must not call back.
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (count_ == slots_.size()) return false;
    sag_event& slot = slots_[(head_ + count_) % slots_.size()];
    // Copy only the used part of the payload.
    slot.type = ev.type;
    slot.peer_id = ev.peer_id;
    slot.uplink_id = ev.uplink_id;
    slot.index = ev.index;
    slot.from = ev.from;
    slot.len = ev.len;
    for (uint32_t i = 0; i < ev.len; ++i) slot.data[i] = ev.data[i];
    if (count_++ == 0 && notify_) notify_(notify_ctx_);
  }
  return true;
}

bool EventQueue::pop(sag_event* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (count_ == 0) return false;
  const sag_event& slot = slots_[head_];
  out->type = slot.type;
  out->peer_id = slot.peer_id;
  out->uplink_id = slot.uplink_id;
  out->index = slot.index;
  out->from = slot.from;
  out->len = slot.len;
  for (uint32_t i = 0; i < slot.len; ++i) out->data[i] = slot.data[i];
  head_ = (head_ + 1) % slots_.size();
  --count_;
  return true;
}

size_t EventQueue::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

}  // namespace sag
