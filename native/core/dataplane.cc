#include "dataplane.h"
#include "dataplane_internal.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

#include "io/testing/memory_tun.h"
#include "io/tun_linux.h"
#include "pipeline/receive.h"
#include "pipeline/send.h"

namespace sag {

using namespace internal;

void DataplaneTables::request_flush(uint32_t peer_id) {
  {
    std::lock_guard<std::mutex> lock(flush_mu);
    flush_list.push_back(peer_id);
  }
  uint64_t one = 1;
  (void)!write(wake_fd, &one, sizeof one);
}

void DataplaneTables::signal_peer(Peer* peer, std::atomic<bool>* pending, sag_event_type type,
                                  uint32_t index) {
  if (pending && pending->exchange(true)) return;  // one already queued
  sag_event ev{};
  ev.type = type;
  ev.peer_id = peer->id;
  ev.index = index;
  if (!events.push(ev)) {
    if (pending) pending->store(false);
    peer->counters.drop(kDropQueueFull);
  }
}

Dataplane::Dataplane(const DataplaneConfig& config) : tables_(config) {
  tables_.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

Dataplane::~Dataplane() {
  stop();
  send_worker_.reset();
  queue_workers_.clear();
  receive_worker_.reset();
  if (tables_.wake_fd >= 0) close(tables_.wake_fd);
}

Status Dataplane::attach_tun(std::unique_ptr<Tun> tun) {
  std::lock_guard<std::mutex> control(control_mu_);
  if (running_) return Status::Error(SAG_ESTATE, "cannot replace the TUN device while running");
  Exclusive lock(tables_.table_mu);
  tables_.tun = std::move(tun);
  memory_tun_ = nullptr;
  return Status::Ok();
}

Status Dataplane::open_tun(const std::string& name, std::string* actual_name) {
  int err = 0;
  const char* what = "";
  int queues = tables_.config.tun_queues ? int(tables_.config.tun_queues) : LinuxTun::default_queues();
  auto tun = LinuxTun::open(name, &err, &what, offload::offloads_from_env(), queues);
  if (!tun) return Status::Error(SAG_ESYS, std::string(what) + " for '" + name + "': " + std::strerror(err));
  *actual_name = tun->name();
  return attach_tun(std::move(tun));
}

Status Dataplane::open_memory_tun() {
  auto tun = std::make_unique<MemoryTun>();
  MemoryTun* raw = tun.get();
  Status s = attach_tun(std::move(tun));
  if (s.ok()) memory_tun_ = raw;
  return s;
}

Status Dataplane::start() {
  std::lock_guard<std::mutex> control(control_mu_);
  if (running_) return Status::Ok();
  if (!tables_.tun) return Status::Error(SAG_ESTATE, "open a TUN device before starting");
  if (tables_.wake_fd < 0) return Status::Error(SAG_ESYS, "eventfd failed");
  send_worker_ = std::make_unique<SendWorker>(tables_, tables_.tun->queue(0), true);
  queue_workers_.clear();
  for (int q = 1; q < tables_.tun->queues(); ++q)
    queue_workers_.push_back(std::make_unique<SendWorker>(tables_, tables_.tun->queue(q), false));
  receive_worker_ = std::make_unique<ReceiveWorker>(tables_);
  Status s = send_worker_->start();
  for (auto& w : queue_workers_)
    if (s.ok()) s = w->start();
  if (s.ok()) {
    Shared lock(tables_.table_mu);
    s = receive_worker_->start();
  }
  if (!s.ok()) {
    send_worker_.reset();
    queue_workers_.clear();
    receive_worker_.reset();
    return s;
  }
  running_ = true;
  return Status::Ok();
}

Status Dataplane::stop() {
  std::lock_guard<std::mutex> control(control_mu_);
  if (!running_) return Status::Ok();
  send_worker_->stop();
  for (auto& w : queue_workers_) w->stop();
  receive_worker_->stop();
  running_ = false;
  return Status::Ok();
}

Status Dataplane::add_uplink(std::unique_ptr<UdpSocket> socket, uint32_t* id) {
  std::lock_guard<std::mutex> control(control_mu_);
  Exclusive lock(tables_.table_mu);
  auto up = std::make_unique<Uplink>();
  up->id = next_uplink_id_++;
  up->socket = std::move(socket);
  if (running_) {
    Status s = receive_worker_->watch(up.get());
    if (!s.ok()) return s;
  }
  *id = up->id;
  tables_.uplinks.emplace(up->id, std::move(up));
  return Status::Ok();
}

Status Dataplane::remove_uplink(uint32_t id) {
  std::lock_guard<std::mutex> control(control_mu_);
  Exclusive lock(tables_.table_mu);
  Uplink* up = tables_.uplink(id);
  if (!up) return not_found("uplink", id);
  if (running_) receive_worker_->unwatch(up);
  tables_.uplinks.erase(id);
  return Status::Ok();
}

Status Dataplane::uplink_counters(uint32_t id, sag_counters* out) {
  Shared lock(tables_.table_mu);
  Uplink* up = tables_.uplink(id);
  if (!up) return not_found("uplink", id);
  up->counters.snapshot(out);
  return Status::Ok();
}

Status Dataplane::add_peer(const uint8_t public_key[32], uint32_t* id) {
  std::lock_guard<std::mutex> control(control_mu_);
  Exclusive lock(tables_.table_mu);
  for (auto& [_, p] : tables_.peers)
    if (std::memcmp(p->public_key, public_key, 32) == 0)
      return Status::Error(SAG_EEXIST,
                           "a peer with this public key exists (id " + std::to_string(p->id) + ")");
  auto peer = std::make_unique<Peer>();
  peer->id = next_peer_id_++;
  std::memcpy(peer->public_key, public_key, 32);
  *id = peer->id;
  tables_.peers.emplace(peer->id, std::move(peer));
  return Status::Ok();
}

Status Dataplane::remove_peer(uint32_t id) {
  std::lock_guard<std::mutex> control(control_mu_);
  Exclusive lock(tables_.table_mu);
  Peer* peer = tables_.peer(id);
  if (!peer) return not_found("peer", id);
  tables_.ips_of(peer->domain)->remove_peer(peer);
  for (auto it = tables_.keypairs.begin(); it != tables_.keypairs.end();)
    it = it->second->peer == peer ? tables_.keypairs.erase(it) : std::next(it);
  tables_.peers.erase(id);
  return Status::Ok();
}

Status Dataplane::set_endpoint(uint32_t peer_id, const Endpoint& endpoint, uint32_t uplink_id) {
  std::lock_guard<std::mutex> control(control_mu_);
  Shared lock(tables_.table_mu);
  Peer* peer = tables_.peer(peer_id);
  if (!peer) return not_found("peer", peer_id);
  Uplink* up = tables_.uplink(uplink_id);
  if (!up) return not_found("uplink", uplink_id);
  if (up->socket->local().family() == AF_INET && endpoint.family() != AF_INET)
    return Status::Error(
        SAG_EINVAL, "an IPv6 endpoint cannot be reached from the IPv4 uplink " + std::to_string(uplink_id));
  std::lock_guard<std::mutex> ep(peer->endpoint_mu);
  peer->endpoint = endpoint.unmapped();
  peer->uplink_id = uplink_id;
  peer->has_endpoint = true;
  return Status::Ok();
}

Status Dataplane::set_allowed_ips(uint32_t peer_id, const sag_prefix* prefixes, size_t count) {
  std::lock_guard<std::mutex> control(control_mu_);
  for (size_t i = 0; i < count; ++i) {
    const sag_prefix& p = prefixes[i];
    if ((p.family != 4 && p.family != 6) || p.cidr > (p.family == 4 ? 32 : 128))
      return Status::Error(SAG_EINVAL,
                           "allowed IP " + std::to_string(i) + " has an invalid family or prefix length");
  }
  Exclusive lock(tables_.table_mu);
  Peer* peer = tables_.peer(peer_id);
  if (!peer) return not_found("peer", peer_id);
  AllowedIps* ips = tables_.ips_of(peer->domain);  // a peer's prefixes live in its domain's trie
  ips->remove_peer(peer);
  for (size_t i = 0; i < count; ++i)
    ips->insert(prefixes[i].family, prefixes[i].addr, prefixes[i].cidr, peer);
  return Status::Ok();
}

Status Dataplane::peer_allowed_ips(uint32_t peer_id, std::vector<sag_prefix>* out) {
  Shared lock(tables_.table_mu);
  Peer* peer = tables_.peer(peer_id);
  if (!peer) return not_found("peer", peer_id);
  *out = prefixes_of(*tables_.ips_of(peer->domain), peer);
  return Status::Ok();
}

Status Dataplane::peer_info(uint32_t peer_id, sag_peer_info* out) {
  Shared lock(tables_.table_mu);
  Peer* peer = tables_.peer(peer_id);
  if (!peer) return not_found("peer", peer_id);
  std::memset(out, 0, sizeof *out);
  out->id = peer->id;
  std::memcpy(out->public_key, peer->public_key, 32);
  Endpoint ep;
  out->has_endpoint = peer->endpoint_snapshot(&ep, &out->uplink_id);
  if (out->has_endpoint) out->endpoint = to_api(ep);
  auto index = [](const std::atomic<Keypair*>& slot) {
    Keypair* kp = slot.load();
    return kp ? kp->local_index : 0u;
  };
  out->current_index = index(peer->current);
  out->previous_index = index(peer->previous);
  out->next_index = index(peer->next);
  out->staged_packets = peer->staged_count.load();
  peer->counters.snapshot(&out->counters);
  return Status::Ok();
}

Status Dataplane::install_keypair(uint32_t peer_id, const sag_keypair_config& cfg, uint64_t now_ns) {
  std::lock_guard<std::mutex> control(control_mu_);
  if (cfg.local_index == 0) return Status::Error(SAG_EINVAL, "receiver index 0 is reserved");
  Exclusive lock(tables_.table_mu);
  Peer* peer = tables_.peer(peer_id);
  if (!peer) return not_found("peer", peer_id);
  if (tables_.keypairs.count(cfg.local_index))
    return Status::Error(SAG_EEXIST, "receiver index " + std::to_string(cfg.local_index) + " is in use");
  auto kp = std::make_unique<Keypair>();
  kp->local_index = cfg.local_index;
  kp->remote_index = cfg.remote_index;
  std::memcpy(kp->send_key, cfg.send_key, 32);
  std::memcpy(kp->recv_key, cfg.recv_key, 32);
  kp->initiator = cfg.initiator != 0;
  kp->created_ns = now_ns;
  kp->peer = peer;
  Keypair* raw = kp.get();
  tables_.keypairs.emplace(cfg.local_index, std::move(kp));
  {
    // WireGuard's rotation: an initiator's new keypair is used at once and the old current is
    // kept as previous for packets in flight; a responder's waits as next until the initiator
    // proves it has it by sending data. Displaced keypairs are swept below.
    std::lock_guard<std::mutex> keys(peer->keys_mu);
    if (raw->initiator) {
      Keypair* next = peer->next.load();
      peer->previous.store(next ? next : peer->current.load());
      peer->next.store(nullptr);
      peer->current.store(raw, std::memory_order_release);
    } else {
      peer->next.store(raw);
      peer->previous.store(nullptr);
    }
  }
  peer->handshake_event_pending.store(false);
  sweep_orphans();
  if (raw->initiator) {
    peer->flush_requested.store(true);
    tables_.request_flush(peer->id);
  }
  return Status::Ok();
}

Status Dataplane::retire_keypair(uint32_t local_index) {
  std::lock_guard<std::mutex> control(control_mu_);
  Exclusive lock(tables_.table_mu);
  auto it = tables_.keypairs.find(local_index);
  if (it == tables_.keypairs.end()) return not_found("keypair", local_index);
  Peer* peer = it->second->peer;
  {
    std::lock_guard<std::mutex> keys(peer->keys_mu);
    for (auto* slot : {&peer->previous, &peer->current, &peer->next})
      if (slot->load() == it->second.get()) slot->store(nullptr);
  }
  tables_.keypairs.erase(it);  // ~Keypair wipes the keys
  return Status::Ok();
}

Status Dataplane::expire_keypair(uint32_t local_index) {
  Shared lock(tables_.table_mu);
  auto it = tables_.keypairs.find(local_index);
  if (it == tables_.keypairs.end()) return not_found("keypair", local_index);
  it->second->expired.store(true);
  return Status::Ok();
}

int Dataplane::expire_older_than(uint64_t now_ns, uint64_t max_age_ns) {
  Shared lock(tables_.table_mu);
  int n = 0;
  for (auto& [_, kp] : tables_.keypairs) {
    if (now_ns >= kp->created_ns && now_ns - kp->created_ns >= max_age_ns && !kp->expired.exchange(true)) ++n;
  }
  return n;
}

void Dataplane::sweep_orphans() {
  for (auto it = tables_.keypairs.begin(); it != tables_.keypairs.end();) {
    Keypair* kp = it->second.get();
    Peer* p = kp->peer;
    bool slotted = p->previous.load() == kp || p->current.load() == kp || p->next.load() == kp;
    it = slotted ? std::next(it) : tables_.keypairs.erase(it);
  }
}

Status Dataplane::send_control(uint32_t uplink_id, const Endpoint& to, const uint8_t* data, size_t len) {
  if (len == 0 || len > wire::kMaxDatagramSize)
    return Status::Error(SAG_EINVAL, "control message length " + std::to_string(len) + " is out of range");
  Shared lock(tables_.table_mu);
  Uplink* up = tables_.uplink(uplink_id);
  if (!up) return not_found("uplink", uplink_id);
  Datagram d{const_cast<uint8_t*>(data), len, to};
  bool ok = false;
  up->socket->send_batch(&d, 1, &ok);
  if (!ok) {
    up->counters.drop(kDropIoError);
    return Status::Error(SAG_ESYS, "the uplink refused the datagram");
  }
  up->counters.add_tx(1, len);
  return Status::Ok();
}

Status Dataplane::send_keepalive(uint32_t peer_id) {
  Shared lock(tables_.table_mu);
  Peer* peer = tables_.peer(peer_id);
  if (!peer) return not_found("peer", peer_id);
  peer->keepalive_requested.store(true);
  tables_.request_flush(peer_id);
  return Status::Ok();
}

int Dataplane::drop_staged(uint32_t peer_id) {
  Shared lock(tables_.table_mu);
  Peer* peer = tables_.peer(peer_id);
  if (!peer) return SAG_ENOENT;
  std::lock_guard<std::mutex> staged(peer->staged_mu);
  int n = int(peer->staged.size());
  peer->staged.clear();
  peer->staged_count.store(0);
  peer->counters.drop(kDropNoSession, uint64_t(n));
  return n;
}

bool Dataplane::poll_event(sag_event* out) {
  if (!tables_.events.pop(out)) return false;
  if (out->type == SAG_EVENT_HANDSHAKE_NEEDED) {
    Shared lock(tables_.table_mu);
    if (Peer* p = tables_.peer(out->peer_id)) p->handshake_event_pending.store(false);
  }
  return true;
}

}  // namespace sag
