#include "receive.h"

#include <cstring>

#include "../probe.h"

namespace sag {

ReceiveWorker::ReceiveWorker(DataplaneTables& tables)
    : Worker(tables),
      pool_(open_helpers_for(tables.config.receive_workers)),
      in_(size_t(batch_)),
      jobs_(size_t(batch_)),
      ordered_(size_t(batch_)),
      tun_ptrs_(size_t(batch_)),
      tun_lens_(size_t(batch_)),
      tun_peer_(size_t(batch_)) {
  for (int i = 0; i < batch_; ++i) in_[i].data = buffer(i);
}

Status ReceiveWorker::prepare() {
  if (!pool_.ok())
    return Status::Error(SAG_EINTERNAL, "ChaCha20-Poly1305 is not available to the receive helpers");
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
  job_count_ = 0;
  ordered_count_ = 0;
  now_ns_ = t_.clock();  // per batch: roaming needs no finer time
  roamed_peer_ = nullptr;
  for (int i = 0; i < n; ++i) {
    Datagram& d = in_[i];
    if (d.len > wire::kMaxDatagramSize) {
      up->counters.drop(kDropTooBig);
      continue;
    }
    uint8_t type = wire::message_type(d.data, d.len);
    if (type == wire::kTypeTransport)
      admit_transport(up, d);
    else if (wire::is_handshake_type(type))
      ordered_[ordered_count_++] = Admitted{&d, nullptr, -1};  // control, in order
    else  // never queued: the control plane has nothing to do with them (type 0: no header at all)
      up->counters.drop(type == 0 ? kDropMalformed : kDropBadType);
  }
  pool_.open_all(aead_, jobs_.data(), job_count_);  // the only step spread over cores
  for (int i = 0; i < ordered_count_; ++i) {
    const Admitted& a = ordered_[i];
    if (!a.kp)
      handle_control(up, *a.datagram);
    else if (a.job < 0)
      refuse_seen(up, a);
    else
      finish_transport(up, a, jobs_[a.job]);
  }
  write_tun();
}

// In one of the peer's slots and not expired: a keypair that may receive.
bool ReceiveWorker::slotted(Peer* peer, Keypair* kp) {
  bool in_slot = peer->current.load() == kp || peer->next.load() == kp || peer->previous.load() == kp;
  return in_slot && !kp->expired.load(std::memory_order_relaxed);
}

// Everything before decryption: a keypair in a slot, a counter the window may still take.
void ReceiveWorker::admit_transport(Uplink* up, Datagram& d) {
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
  if (!slotted(peer, kp)) {
    peer->counters.drop(kDropNoSession);
    return;
  }
  uint64_t counter = wire::load_le64(d.data + wire::kTransportOffsetCounter);
  if (!kp->replay.may_accept(
          counter)) {  // not worth decrypting; whether it is a replay or a copy is told in order
    ordered_[ordered_count_++] = Admitted{&d, kp, -1};
    return;
  }
  ordered_[ordered_count_++] = Admitted{&d, kp, job_count_};
  jobs_[job_count_++] = OpenJob{kp->recv_key, counter, d.data + wire::kTransportHeaderSize,
                                d.len - wire::kTransportHeaderSize, false};
}

// Everything after decryption, in arrival order. Earlier packets of the batch may have moved the
// keypair slots or the window since admit_transport, so both are judged again: the verdicts are
// those of handling the batch one packet at a time.
void ReceiveWorker::finish_transport(Uplink* up, const Admitted& a, const OpenJob& job) {
  Keypair* kp = a.kp;
  Peer* peer = kp->peer;
  Datagram& d = *a.datagram;
  if (!slotted(peer, kp)) {
    peer->counters.drop(kDropNoSession);
    return;
  }
  if (!kp->replay.may_accept(job.counter)) {  // a copy earlier in this batch was accepted first
    count_refused(peer, kp, job.counter, path_tag(up->id, d.peer));
    return;
  }
  if (!job.ok) {
    peer->counters.drop(kDropBadAuth);
    return;
  }
  kp->replay.accept(job.counter);
  // Which path delivered it matters only for a peer that probes (it may duplicate): plain
  // WireGuard peers pay no hash per packet.
  if (peer->probe_sources.any()) kp->recent_sources.record(job.counter, path_tag(up->id, d.peer));
  if (peer->next.load(std::memory_order_acquire) == kp) confirm_next(peer, kp);
  uint8_t* body = job.body;
  size_t plain_len = job.len - wire::kAuthTagSize;
  wire::Probe probe;
  if (wire::parse_probe(body, plain_len, &probe)) {  // multipath probe: never roams, never to the TUN
    peer->counters.add_rx(d.len, true);              // non-data, like a keepalive (see probe.cc)
    up->counters.add_rx(d.len, true);
    peer->probe_sources.saw(path_tag(up->id, d.peer), now_ns_);
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

// A datagram whose counter the window refused in the first pass (not decrypted).
void ReceiveWorker::refuse_seen(Uplink* up, const Admitted& a) {
  uint64_t counter = wire::load_le64(a.datagram->data + wire::kTransportOffsetCounter);
  count_refused(a.kp->peer, a.kp, counter, path_tag(up->id, a.datagram->peer));
}

// A counter the window has seen: a copy sent over another path, or a replay.
void ReceiveWorker::count_refused(Peer* peer, Keypair* kp, uint64_t counter, uint32_t tag) {
  if (!kp->recent_sources.is_copy_from_other_path(counter, tag) ||
      !peer->probe_sources.recent(tag, now_ns_)) {
    peer->counters.drop(kDropReplay);
    return;
  }
  peer->counters.drop(kDropDuplicate);
  peer->roam_guard.duplicate_seen_ns = now_ns_;
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
  // Within a batch (one clock reading) the verdict for a source the previous packet also came
  // from cannot differ: skip the endpoint lock for a run of packets from one place.
  if (peer == roamed_peer_ && up->id == roamed_uplink_ && from == roamed_from_) return;
  roamed_peer_ = peer;
  roamed_uplink_ = up->id;
  roamed_from_ = from;
  {
    std::lock_guard<std::mutex> lock(peer->endpoint_mu);
    if (!peer->roam_guard.should_move(peer->has_endpoint, peer->endpoint, peer->uplink_id, from, up->id,
                                      now_ns_))
      return;
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
  if (d.len != wire::fixed_message_size(d.data[0])) {  // all three are fixed, and fit an event
    up->counters.drop(kDropMalformed);
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
  if (t_.events.push(ev))
    up->counters.add_rx(d.len);
  else
    up->counters.drop(kDropQueueFull);
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
