// Dataplane control operations for multipath: installing selection tables and sending probes.
#include "dataplane.h"
#include "dataplane_internal.h"
#include "paths.h"
#include "probe.h"

namespace sag {

Status Dataplane::set_selection(uint32_t peer_id, const sag_selection* selection) {
  std::shared_ptr<Selection> next;
  if (selection) {
    next = std::make_shared<Selection>();
    std::string error;
    if (!build_selection(*selection, next.get(), &error))
      return Status::Error(SAG_EINVAL, "selection: " + error);
  }
  std::lock_guard<std::mutex> control(control_mu_);
  std::shared_ptr<const Selection> old;
  {
    std::unique_lock<std::shared_mutex> lock(tables_.table_mu);  // the grace period: see paths.h
    Peer* peer = tables_.peer(peer_id);
    if (!peer) return internal::not_found("peer", peer_id);
    old = std::move(peer->selection);
    peer->selection = std::move(next);
  }
  return Status::Ok();  // the old table is freed here, outside the lock
}

Status Dataplane::send_probe(uint32_t peer_id, uint32_t uplink_id, const Endpoint& to, uint32_t path_id,
                             uint64_t sequence) {
  std::lock_guard<std::mutex> control(control_mu_);
  std::shared_lock<std::shared_mutex> lock(tables_.table_mu);
  Peer* peer = tables_.peer(peer_id);
  if (!peer) return internal::not_found("peer", peer_id);
  Uplink* up = tables_.uplink(uplink_id);
  if (!up) return internal::not_found("uplink", uplink_id);
  wire::Probe probe{wire::kProbeRequest, path_id, sequence, probe_clock_ns()};
  return sag::send_probe(tables_, probe_aead_, peer, up, to, probe);
}

}  // namespace sag
