#include "send.h"

#include <unistd.h>

#include <cstring>

namespace sag {

SendWorker::SendWorker(DataplaneTables& tables, Tun* queue, bool primary)
    : Worker(tables),
      queue_(queue),
      primary_(primary),
      lens_(size_t(batch_) + 1),
      ptrs_(size_t(batch_) + 1),
      out_(2 * size_t(batch_) + 1),  // room for a duplicate of every packet
      out_peer_(2 * size_t(batch_) + 1),
      out_uplink_(2 * size_t(batch_) + 1),
      ok_(2 * size_t(batch_) + 1) {
  for (int i = 0; i < batch_; ++i) ptrs_[i] = buffer(i) + kHeadroom;
}

Status SendWorker::prepare() {
  Status s = watch_fd(queue_->poll_fd(), kTunToken);
  if (!primary_) return s;
  if (s.ok())
    t_.domains.for_each([&](Domain* d) {
      if (s.ok()) s = watch_domain(d);
    });
  return s.ok() ? watch_fd(t_.wake_fd, kWakeToken) : s;
}

void SendWorker::on_ready(uint32_t token) {
  if (token == kWakeToken) {
    handle_wakeups();
    return;
  }
  if (token >= kDomainTokenBase) {
    read_domain(token - kDomainTokenBase);
    return;
  }
  // The TUN cannot go away while running (attach_tun refuses), so no lock is needed to read it.
  int n = queue_->read_batch(ptrs_.data(), wire::kMaxInnerPacketSize, lens_.data(), batch_);
  if (n > 0) process_batch(n);
}

void SendWorker::process_batch(int n) {
  std::shared_lock<std::shared_mutex> lock(t_.table_mu);
  route_batch(n, t_.allowed_ips);
}

void SendWorker::route_batch(int n, const AllowedIps& ips) {
  ep_peer_ = nullptr;  // a new hold of table_mu (see send.h)
  const size_t mtu = t_.config.mtu;
  int out = 0;
  for (int i = 0; i < n; ++i) {
    uint8_t* pkt = ptrs_[i];
    size_t len = lens_[i];
    if (len > mtu) {
      t_.global.drop(kDropTooBig);
      continue;
    }
    size_t ip_len = wire::ip_packet_length(pkt, len);
    if (ip_len == 0 || ip_len > len) {
      t_.global.drop(kDropMalformed);
      continue;
    }
    Peer* peer = ips.lookup_packet_dst(pkt, len);
    if (!peer) {
      t_.global.drop(kDropNoRoute);
      continue;
    }
    if (!admit(peer->tx_limit, len, t_.clock)) {
      peer->counters.drop(kDropRateLimited);
      continue;
    }
    Keypair* kp = peer->sending_keypair();
    // Staged packets go first, so a packet never overtakes older ones of its peer.
    if (!kp || peer->staged_count.load(std::memory_order_relaxed) > 0) {
      stage(peer, pkt, len);
      if (kp) flush_staged(peer);
      continue;
    }
    Route route;
    switch (seal(peer, kp, buffer(i), len, &out_[out], &route)) {
      case Sealed::kOk:
        for (int r = 0; r < route.count; ++r, ++out) {
          if (r) out_[out] = {out_[out - 1].data, out_[out - 1].len, route.to[r]};
          out_uplink_[out] = route.up[r];
          out_peer_[out] = peer;
        }
        break;
      case Sealed::kExhausted:
        stage(peer, pkt, len);
        break;
      case Sealed::kDropped:
        break;
    }
  }
  transmit(out);
}

SendWorker::Sealed SendWorker::seal(Peer* peer, Keypair* kp, uint8_t* buf, size_t len, Datagram* out,
                                    Route* route) {
  uint64_t counter;
  if (!kp->take_counter(&counter)) return Sealed::kExhausted;
  if (counter >= wire::kRekeyAfterMessages)
    t_.signal_peer(peer, &kp->rekey_signalled, SAG_EVENT_REKEY_NEEDED, kp->local_index);
  uint8_t* pkt = buf + kHeadroom;
  *route = route_packet(t_, peer, pkt, len);
  if (route->count == 0) {  // no selection table (or no class matched): the roaming endpoint
    if (peer != ep_peer_) {
      uint32_t uplink_id;
      ep_uplink_ = peer->endpoint_snapshot(&ep_, &uplink_id) ? t_.uplink(uplink_id) : nullptr;
      ep_peer_ = peer;
    }
    if (ep_uplink_) *route = Route{1, {ep_uplink_, nullptr}, {ep_, Endpoint()}};
  }
  if (route->count == 0) {
    peer->counters.drop(kDropNoEndpoint);
    return Sealed::kDropped;
  }
  out->peer = route->to[0];
  size_t padded = wire::padded_length(len, t_.config.mtu);
  std::memset(pkt + len, 0, padded - len);
  wire::write_transport_header(buf, kp->remote_index, counter);
  if (!aead_.seal(kp->send_key, counter, pkt, padded, pkt)) {
    peer->counters.drop(kDropIoError);
    return Sealed::kDropped;
  }
  out->data = buf;
  out->len = kHeadroom + padded + wire::kAuthTagSize;
  return Sealed::kOk;
}

void SendWorker::send_one(Peer* peer, Uplink* up, const Datagram& d) {
  bool ok = false;
  up->socket->send_batch(&d, 1, &ok);
  if (ok) {
    // Only a keepalive is this short: the smallest IP packet pads to 32 bytes of payload.
    uint64_t keepalive = d.len == wire::kKeepaliveSize;
    peer->counters.add_tx(1, d.len, keepalive);
    up->counters.add_tx(1, d.len, keepalive);
  } else {
    peer->counters.drop(kDropIoError);
    up->counters.drop(kDropIoError);
  }
}

void SendWorker::send_routed(Peer* peer, const Route& route, Datagram d) {
  for (int r = 0; r < route.count; ++r) {
    d.peer = route.to[r];
    send_one(peer, route.up[r], d);
  }
}

void SendWorker::transmit(int count) {
  // Consecutive datagrams on one uplink go out in one sendmmsg.
  int start = 0;
  while (start < count) {
    Uplink* up = out_uplink_[start];
    int end = start + 1;
    while (end < count && out_uplink_[end] == up) ++end;
    up->socket->send_batch(&out_[start], end - start, reinterpret_cast<bool*>(&ok_[start]));
    for (int i = start; i < end; ++i) {
      if (ok_[i]) {
        out_peer_[i]->counters.add_tx(1, out_[i].len);
        up->counters.add_tx(1, out_[i].len);
      } else {
        out_peer_[i]->counters.drop(kDropIoError);
        up->counters.drop(kDropIoError);
      }
    }
    start = end;
  }
}

void SendWorker::stage(Peer* peer, const uint8_t* pkt, size_t len) {
  {
    std::lock_guard<std::mutex> lock(peer->staged_mu);
    if (peer->staged.size() >= t_.config.staged_capacity) {
      peer->staged.pop_front();  // the oldest is the least useful, as in WireGuard
      peer->counters.drop(kDropQueueFull);
    }
    peer->staged.emplace_back(pkt, pkt + len);
    peer->staged_count.store(uint32_t(peer->staged.size()), std::memory_order_relaxed);
  }
  if (!peer->sending_keypair())
    t_.signal_peer(peer, &peer->handshake_event_pending, SAG_EVENT_HANDSHAKE_NEEDED);
}

void SendWorker::flush_staged(Peer* peer) {
  // Slow path, with table_mu held shared. Packets stay staged while there is nowhere to send them.
  std::lock_guard<std::mutex> lock(peer->staged_mu);
  Endpoint ep;
  uint32_t uplink_id;
  while (!peer->staged.empty() && peer->endpoint_snapshot(&ep, &uplink_id) && t_.uplink(uplink_id)) {
    Keypair* kp = peer->sending_keypair();
    if (!kp) break;
    std::vector<uint8_t>& pkt = peer->staged.front();
    uint8_t* buf = scratch();
    std::memcpy(buf + kHeadroom, pkt.data(), pkt.size());
    Datagram d;
    Route route;
    Sealed r = seal(peer, kp, buf, pkt.size(), &d, &route);
    if (r == Sealed::kExhausted) break;
    if (r == Sealed::kOk) send_routed(peer, route, d);
    peer->staged.pop_front();
  }
  peer->staged_count.store(uint32_t(peer->staged.size()), std::memory_order_relaxed);
}

void SendWorker::send_keepalive(Peer* peer) {
  Keypair* kp = peer->sending_keypair();
  Datagram d;
  Route route;
  Sealed r = kp ? seal(peer, kp, scratch(), 0, &d, &route) : Sealed::kExhausted;
  if (r == Sealed::kExhausted)
    peer->counters.drop(kDropNoSession);
  else if (r == Sealed::kOk)
    send_routed(peer, route, d);
}

void SendWorker::handle_wakeups() {
  uint64_t drain;
  (void)!read(t_.wake_fd, &drain, sizeof drain);
  std::vector<uint32_t> ids;
  {
    std::lock_guard<std::mutex> lock(t_.flush_mu);
    ids.swap(t_.flush_list);
  }
  std::shared_lock<std::shared_mutex> lock(t_.table_mu);
  ep_peer_ = nullptr;
  for (uint32_t id : ids) {
    Peer* peer = t_.peer(id);
    if (!peer) continue;
    if (peer->flush_requested.exchange(false)) flush_staged(peer);
    if (peer->keepalive_requested.exchange(false)) send_keepalive(peer);
  }
}

}  // namespace sag
