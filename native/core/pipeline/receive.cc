#include "receive.h"

#include <cstring>

#include "../probe.h"

namespace sag {

ReceiveWorker::ReceiveWorker(DataplaneTables& tables)
    : Worker(tables),
      in_(size_t(batch_)),
      tun_ptrs_(size_t(batch_)),
      tun_lens_(size_t(batch_)),
      tun_peer_(size_t(batch_)) {
  for (int i = 0; i < batch_; ++i) in_[i].data = buffer(i);
}

Status ReceiveWorker::prepare() {
  for (auto& [id, up] : t_.uplinks) {
    Status s = watch(up.get());
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

void ReceiveWorker::on_ready(uint32_t uplink_id) {
  std::shared_lock<std::shared_mutex> lock(t_.table_mu);
  Uplink* up = t_.uplink(uplink_id);
  if (!up) return;  // removed after epoll reported it
  int n = up->socket->recv_batch(in_.data(), wire::kMaxDatagramSize, batch_);
  if (n > 0) process_locked(up, n);
}

void ReceiveWorker::process_batch(Uplink* up, int n) {
  std::shared_lock<std::shared_mutex> lock(t_.table_mu);
  process_locked(up, n);
}

void ReceiveWorker::process_locked(Uplink* up, int n) {
  tun_count_ = 0;
  for (int i = 0; i < n; ++i) {
    Datagram& d = in_[i];
    if (d.len > wire::kMaxDatagramSize) {
      up->counters.drop(kDropTooBig);
      continue;
    }
    uint8_t type = wire::message_type(d.data, d.len);
    if (type == wire::kTypeTransport) handle_transport(up, d);
    else if (type != 0) handle_control(up, d);
    else up->counters.drop(kDropMalformed);
  }
  write_tun();
}

void ReceiveWorker::handle_transport(Uplink* up, Datagram& d) {
  if (d.len < wire::kKeepaliveSize) {
    up->counters.drop(kDropMalformed);
    return;
  }
  uint32_t index = wire::load_le32(d.data + wire::kTransportOffsetReceiver);
  auto it = t_.keypairs.find(index);
  if (it == t_.keypairs.end()) {
    up->counters.drop(kDropNoSession);
    return;
  }
  Keypair* kp = it->second.get();
  Peer* peer = kp->peer;
  bool slotted = peer->current.load() == kp || peer->next.load() == kp || peer->previous.load() == kp;
  if (!slotted || kp->expired.load(std::memory_order_relaxed)) {
    peer->counters.drop(kDropNoSession);
    return;
  }
  uint64_t counter = wire::load_le64(d.data + wire::kTransportOffsetCounter);
  {
    std::lock_guard<std::mutex> lock(kp->replay_mu);
    if (!kp->replay.may_accept(counter)) {
      peer->counters.drop(kDropReplay);
      return;
    }
  }
  uint8_t* body = d.data + wire::kTransportHeaderSize;
  size_t body_len = d.len - wire::kTransportHeaderSize;
  if (!aead_.open(kp->recv_key, counter, body, body_len, body)) {
    peer->counters.drop(kDropBadAuth);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(kp->replay_mu);
    if (!kp->replay.accept(counter)) {  // a copy raced ahead of us between check and accept
      peer->counters.drop(kDropReplay);
      return;
    }
  }
  if (peer->next.load(std::memory_order_acquire) == kp) confirm_next(peer, kp);
  size_t plain_len = body_len - wire::kAuthTagSize;
  wire::Probe probe;
  if (wire::parse_probe(body, plain_len, &probe)) {  // multipath probe: never roams, never to the TUN
    peer->counters.add_rx(d.len, true);  // non-data, like a keepalive (see probe.cc)
    up->counters.add_rx(d.len, true);
    on_probe(t_, aead_, peer, up, d.peer, probe);
    return;
  }
  roam(peer, up, d.peer);
  peer->counters.add_rx(d.len, plain_len == 0);
  up->counters.add_rx(d.len, plain_len == 0);
  if (plain_len == 0) return;  // keepalive
  size_t ip_len = wire::ip_packet_length(body, plain_len);
  if (ip_len == 0 || ip_len > plain_len) {
    peer->counters.drop(kDropMalformed);
    return;
  }
  if (ip_len > t_.config.mtu) {  // an authenticated peer may still not push past our MTU (found by fuzzing)
    peer->counters.drop(kDropTooBig);
    return;
  }
  AllowedIps* ips = t_.ips_of(peer->domain);  // only the peer's own routing domain (domain.h)
  if (!ips || ips->lookup_packet_src(body, ip_len) != peer) {
    peer->counters.drop(kDropSourceNotAllowed);
    return;
  }
  if (!admit(peer->rx_limit, ip_len, t_.clock)) {
    peer->counters.drop(kDropRateLimited);
    return;
  }
  tun_ptrs_[tun_count_] = body;
  tun_lens_[tun_count_] = ip_len;  // the padding is dropped here
  tun_peer_[tun_count_] = peer;
  ++tun_count_;
}

void ReceiveWorker::confirm_next(Peer* peer, Keypair* kp) {
  {
    std::lock_guard<std::mutex> keys(peer->keys_mu);
    if (peer->next.load() != kp) return;  // another packet confirmed it first
    peer->previous.store(peer->current.load());
    peer->current.store(kp, std::memory_order_release);
    peer->next.store(nullptr);
  }
  // The displaced previous keypair is now in no slot; the next control operation frees it.
  t_.signal_peer(peer, nullptr, SAG_EVENT_KEYPAIR_CONFIRMED, kp->local_index);
  if (peer->staged_count.load(std::memory_order_relaxed) > 0) {
    peer->flush_requested.store(true);
    t_.request_flush(peer->id);
  }
}

void ReceiveWorker::roam(Peer* peer, Uplink* up, const Endpoint& from) {
  {
    std::lock_guard<std::mutex> lock(peer->endpoint_mu);
    if (peer->has_endpoint && peer->endpoint == from && peer->uplink_id == up->id) return;
    peer->endpoint = from;
    peer->uplink_id = up->id;
    peer->has_endpoint = true;
  }
  sag_event ev{};
  ev.type = SAG_EVENT_ENDPOINT_CHANGED;
  ev.peer_id = peer->id;
  ev.uplink_id = up->id;
  ev.from = to_api(from);
  if (!t_.events.push(ev)) peer->counters.drop(kDropQueueFull);
}

void ReceiveWorker::handle_control(Uplink* up, const Datagram& d) {
  size_t expected = wire::fixed_message_size(d.data[0]);
  if (expected != 0 && d.len != expected) {
    up->counters.drop(kDropMalformed);
    return;
  }
  if (d.len > SAG_MAX_CONTROL_MESSAGE) {
    up->counters.drop(kDropTooBig);
    return;
  }
  sag_event ev;
  ev.type = SAG_EVENT_CONTROL;
  ev.peer_id = 0;
  ev.uplink_id = up->id;
  ev.index = 0;
  ev.from = to_api(d.peer);
  ev.len = uint32_t(d.len);
  std::memcpy(ev.data, d.data, d.len);
  if (t_.events.push(ev)) up->counters.add_rx(d.len);
  else up->counters.drop(kDropQueueFull);
}

void ReceiveWorker::write_tun() {
  // Consecutive packets of one routing domain go to that domain's TUN in one batch.
  for (int start = 0, end = 0; start < tun_count_; start = end) {
    uint32_t domain = tun_peer_[start]->domain;
    for (end = start + 1; end < tun_count_ && tun_peer_[end]->domain == domain;) ++end;
    int failed = end - start;
    if (Tun* tun = t_.tun_of(domain)) {
      failed = 0;
      tun->write_batch(&tun_ptrs_[start], &tun_lens_[start], end - start, &failed);
    }
    if (failed) t_.global.drop(kDropIoError, uint64_t(failed));
  }
  tun_count_ = 0;
}

}  // namespace sag
