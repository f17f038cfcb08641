#include "event_queue.h"

namespace sag {

size_t EventQueue::default_reserved(size_t capacity) {
  if (capacity < 2) return 0;  // one slot: the handshakes must still get through
  size_t r = capacity * SAG_EVENT_RESERVED_PERCENT / 100;
  return r ? r : 1;
}

EventQueue::EventQueue(size_t capacity) : EventQueue(capacity, default_reserved(capacity ? capacity : 1)) {}

EventQueue::EventQueue(size_t capacity, size_t reserved) : slots_(capacity ? capacity : 1) {
  reserved_ = reserved < slots_.size() ? reserved : slots_.size() - 1;
  free_.reserve(slots_.size());
  for (size_t i = slots_.size(); i-- > 0;) free_.push_back(uint32_t(i));
  for (Lane& lane : lanes_) lane.ring.resize(slots_.size());
}

void EventQueue::set_notify(Notify fn, void* ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  notify_ = fn;
  notify_ctx_ = ctx;
}

static void copy_event(sag_event& to, const sag_event& from) {
  to.type = from.type;
  to.peer_id = from.peer_id;
  to.uplink_id = from.uplink_id;
  to.index = from.index;
  to.from = from.from;
  to.len = from.len;
  for (uint32_t i = 0; i < from.len; ++i) to.data[i] = from.data[i];  // only the used part
}

bool EventQueue::push(const sag_event& ev) {
  // The hook runs under the lock so that once set_notify(nullptr) returns no call is in flight:
  // the owner may then free what ctx points to. Hooks must be short and must not call back.
  std::lock_guard<std::mutex> lock(mu_);
  bool control = ev.type == SAG_EVENT_CONTROL;
  Lane& lane = lanes_[control ? 0 : 1];
  if (free_.empty() || (control && lane.count >= slots_.size() - reserved_)) return false;
  uint32_t slot = free_.back();
  free_.pop_back();
  copy_event(slots_[slot], ev);
  lane.ring[(lane.head + lane.count++) % lane.ring.size()] = slot;
  if (free_.size() == slots_.size() - 1 && notify_) notify_(notify_ctx_);
  return true;
}

bool EventQueue::pop(sag_event* out) {
  std::lock_guard<std::mutex> lock(mu_);
  Lane& lane = lanes_[1].count ? lanes_[1] : lanes_[0];
  if (lane.count == 0) return false;
  uint32_t slot = lane.ring[lane.head];
  copy_event(*out, slots_[slot]);
  lane.head = (lane.head + 1) % lane.ring.size();
  --lane.count;
  free_.push_back(slot);
  return true;
}

size_t EventQueue::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slots_.size() - free_.size();
}

}  // namespace sag
