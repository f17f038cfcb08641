// Dataplane control operations for routing domains and per-peer rate limits (see domain.h and
// token_bucket.h). Locking as in dataplane.h: control_mu_, then table_mu.
#include <cstring>
#include <vector>

#include "dataplane.h"
#include "dataplane_internal.h"
#include "io/testing/memory_tun.h"
#include "io/tun_linux.h"
#include "pipeline/send.h"

namespace sag {

using namespace internal;

Status Dataplane::add_domain(std::unique_ptr<Tun> tun, uint32_t* id, MemoryTun* memory) {
  std::lock_guard<std::mutex> control(control_mu_);
  Exclusive lock(tables_.table_mu);
  if (tables_.domains.size() >= Domains::kMax)
    return Status::Error(SAG_EINVAL, "at most " + std::to_string(Domains::kMax) + " routing domains");
  Domain* d = tables_.domains.add(std::move(tun), memory);
  if (running_) {
    Status s = send_worker_->watch_domain(d);
    if (!s.ok()) {
      tables_.domains.erase(d->id);
      return s;
    }
  }
  *id = d->id;
  return Status::Ok();
}

Status Dataplane::open_domain_tun(const std::string& name, std::string* actual_name, uint32_t* id) {
  int err = 0;
  const char* what = "";
  auto tun = LinuxTun::open(name, &err, &what);
  if (!tun) return Status::Error(SAG_ESYS, std::string(what) + " for '" + name + "': " + std::strerror(err));
  *actual_name = tun->name();
  return add_domain(std::move(tun), id);
}

Status Dataplane::open_memory_domain(uint32_t* id) {
  auto tun = std::make_unique<MemoryTun>();
  MemoryTun* raw = tun.get();
  return add_domain(std::move(tun), id, raw);
}

MemoryTun* Dataplane::memory_tun(uint32_t domain) {
  if (domain == 0) return memory_tun_;
  Shared lock(tables_.table_mu);
  Domain* d = tables_.domains.find(domain);
  return d ? d->memory : nullptr;
}

Status Dataplane::remove_domain(uint32_t id) {
  std::lock_guard<std::mutex> control(control_mu_);
  Exclusive lock(tables_.table_mu);
  Domain* d = tables_.domains.find(id);
  if (!d) return not_found("routing domain", id);
  for (auto& [_, p] : tables_.peers)
    if (p->domain == id)
      return Status::Error(SAG_ESTATE, "routing domain " + std::to_string(id) + " still has peer " +
                                           std::to_string(p->id) + "; move or remove its peers first");
  if (running_) send_worker_->unwatch_domain(d);
  tables_.domains.erase(id);
  return Status::Ok();
}

Status Dataplane::set_peer_domain(uint32_t peer_id, uint32_t domain) {
  std::lock_guard<std::mutex> control(control_mu_);
  Exclusive lock(tables_.table_mu);
  Peer* peer = tables_.peer(peer_id);
  if (!peer) return not_found("peer", peer_id);
  AllowedIps* to = tables_.ips_of(domain);
  if (!to) return not_found("routing domain", domain);
  if (peer->domain == domain) return Status::Ok();
  // The peer's prefixes move with it: a peer's allowed IPs live only in its own domain's trie.
  AllowedIps* from = tables_.ips_of(peer->domain);
  std::vector<sag_prefix> prefixes = prefixes_of(*from, peer);
  from->remove_peer(peer);
  for (const sag_prefix& p : prefixes) to->insert(p.family, p.addr, p.cidr, peer);
  peer->domain = domain;
  return Status::Ok();
}

Status Dataplane::set_rate_limit(uint32_t peer_id, uint64_t bytes_per_s, uint64_t burst_bytes) {
  if (bytes_per_s > TokenBucket::kMaxRate)
    return Status::Error(SAG_EINVAL, "rate " + std::to_string(bytes_per_s) + " bytes/s is above the maximum");
  if (bytes_per_s && (burst_bytes < tables_.config.mtu || burst_bytes > TokenBucket::kMaxBurst))
    return Status::Error(SAG_EINVAL, "burst " + std::to_string(burst_bytes) + " bytes must be within mtu (" +
                                         std::to_string(tables_.config.mtu) + ")..2^30");
  std::lock_guard<std::mutex> control(control_mu_);
  Shared lock(tables_.table_mu);
  Peer* peer = tables_.peer(peer_id);
  if (!peer) return not_found("peer", peer_id);
  peer->tx_limit.configure(bytes_per_s, burst_bytes);
  peer->rx_limit.configure(bytes_per_s, burst_bytes);
  return Status::Ok();
}

}  // namespace sag
