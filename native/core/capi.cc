// The C ABI over Dataplane. Every entry point catches everything: no exception crosses it.
// The testing functions (sag_testing.h) are in capi_testing.cc.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "capi_internal.h"
#include "io/tun_linux.h"
#include "io/udp_linux.h"

namespace {
thread_local std::string last_error;
}  // namespace

int sag::capi::fail(int code, std::string message) {
  last_error = std::move(message);
  return code;
}
using sag::capi::fail;
using sag::capi::guarded;
using sag::capi::report;

namespace {
bool valid_endpoint(const sag_endpoint* e) {
  return e && (e->family == 4 || e->family == 6);
}

static_assert(SAG_MAX_MTU == sag::wire::kMaxInnerPacketSize, "the MTU limit is what one datagram holds");

#define SAG_DROP_NAME_(upper, lower) #lower,
const char* const kDropNames[SAG_DROP_REASON_COUNT] = {SAG_DROP_REASONS(SAG_DROP_NAME_)};
#undef SAG_DROP_NAME_
}  // namespace

extern "C" {

const char* sag_last_error(void) {
  return last_error.c_str();
}

const char* sag_drop_reason_name(int reason) {
  return reason >= 0 && reason < SAG_DROP_REASON_COUNT ? kDropNames[reason] : "unknown";
}

int sag_dp_create(const sag_config* config, sag_dataplane** out) {
  return guarded([&] {
    if (!out) return fail(SAG_EINVAL, "out is null");
    sag::DataplaneConfig c;
    if (config) {
      if (config->mtu) c.mtu = config->mtu;
      if (config->staged_capacity) c.staged_capacity = config->staged_capacity;
      if (config->event_capacity) c.event_capacity = config->event_capacity;
      if (config->batch_size) c.batch_size = config->batch_size;
      c.tun_queues = config->tun_queues;
      c.receive_workers = config->receive_workers;
    }
    auto range = [](uint32_t lo, uint64_t hi) { return std::to_string(lo) + ".." + std::to_string(hi); };
    if (c.mtu < SAG_MIN_MTU || c.mtu > SAG_MAX_MTU)
      return fail(SAG_EINVAL,
                  "mtu " + std::to_string(c.mtu) + " is outside " + range(SAG_MIN_MTU, SAG_MAX_MTU));
    if (c.batch_size < 1 || c.batch_size > SAG_MAX_BATCH_SIZE)
      return fail(SAG_EINVAL, "batch_size must be within " + range(1, SAG_MAX_BATCH_SIZE));
    if (c.tun_queues > SAG_MAX_TUN_QUEUES)
      return fail(SAG_EINVAL,
                  "tun_queues must be within " + range(1, SAG_MAX_TUN_QUEUES) + " (0 for the default)");
    if (c.receive_workers > SAG_MAX_RECEIVE_WORKERS)
      return fail(SAG_EINVAL, "receive_workers must be within " + range(1, SAG_MAX_RECEIVE_WORKERS) +
                                  " (0 for the default)");
    if (c.staged_capacity > SAG_MAX_STAGED_CAPACITY || c.event_capacity > SAG_MAX_EVENT_CAPACITY)
      return fail(SAG_EINVAL, "staged_capacity (max " + std::to_string(SAG_MAX_STAGED_CAPACITY) +
                                  ") or event_capacity (max " + std::to_string(SAG_MAX_EVENT_CAPACITY) +
                                  ") too large");
    *out = new sag_dataplane(c);
    return int(SAG_OK);
  });
}

void sag_dp_destroy(sag_dataplane* dp) {
  try {
    delete dp;
  } catch (...) {
  }
}

void sag_dp_set_notify(sag_dataplane* dp, sag_notify_fn fn, void* ctx) {
  if (dp) dp->impl.set_notify(fn, ctx);
}

int sag_dp_open_tun(sag_dataplane* dp, const char* name, char* name_out, size_t name_out_len) {
  return guarded([&] {
    if (!dp || !name) return fail(SAG_EINVAL, "null argument");
    std::string actual;
    int rc = report(dp->impl.open_tun(name, &actual));
    if (rc == SAG_OK && name_out && name_out_len) {
      std::strncpy(name_out, actual.c_str(), name_out_len - 1);
      name_out[name_out_len - 1] = 0;
    }
    return rc;
  });
}

int sag_dp_add_domain_tun(sag_dataplane* dp, const char* name, char* name_out, size_t name_out_len,
                          uint32_t* domain_out) {
  return guarded([&] {
    if (!dp || !name || !domain_out) return fail(SAG_EINVAL, "null argument");
    std::string actual;
    int rc = report(dp->impl.open_domain_tun(name, &actual, domain_out));
    if (rc == SAG_OK && name_out && name_out_len) {
      std::strncpy(name_out, actual.c_str(), name_out_len - 1);
      name_out[name_out_len - 1] = 0;
    }
    return rc;
  });
}

int sag_dp_remove_domain(sag_dataplane* dp, uint32_t domain) {
  return guarded(
      [&] { return dp ? report(dp->impl.remove_domain(domain)) : fail(SAG_EINVAL, "null dataplane"); });
}

int sag_dp_set_peer_domain(sag_dataplane* dp, uint32_t peer_id, uint32_t domain) {
  return guarded([&] {
    return dp ? report(dp->impl.set_peer_domain(peer_id, domain)) : fail(SAG_EINVAL, "null dataplane");
  });
}

int sag_dp_set_rate_limit(sag_dataplane* dp, uint32_t peer_id, uint64_t bytes_per_s, uint64_t burst_bytes) {
  return guarded([&] {
    return dp ? report(dp->impl.set_rate_limit(peer_id, bytes_per_s, burst_bytes))
              : fail(SAG_EINVAL, "null dataplane");
  });
}

int sag_dp_start(sag_dataplane* dp) {
  return guarded([&] { return dp ? report(dp->impl.start()) : fail(SAG_EINVAL, "null dataplane"); });
}

int sag_dp_stop(sag_dataplane* dp) {
  return guarded([&] { return dp ? report(dp->impl.stop()) : fail(SAG_EINVAL, "null dataplane"); });
}

int sag_dp_add_uplink(sag_dataplane* dp, const sag_uplink_config* config, uint32_t* id_out,
                      sag_endpoint* bound_out) {
  return guarded([&] {
    if (!dp || !config || !id_out) return fail(SAG_EINVAL, "null argument");
    if (!valid_endpoint(&config->bind)) return fail(SAG_EINVAL, "uplink bind family must be 4 or 6");
    sag::UdpOptions opts;
    opts.bind = sag::from_api(config->bind);
    opts.device.assign(config->device, strnlen(config->device, sizeof config->device));
    opts.fwmark = config->fwmark;
    int err = 0;
    const char* what = "";
    auto sock = sag::LinuxUdp::open(opts, &err, &what);
    if (!sock) return fail(SAG_ESYS, std::string(what) + ": " + std::strerror(err));
    sag::Endpoint local = sock->local();
    int rc = report(dp->impl.add_uplink(std::move(sock), id_out));
    if (rc == SAG_OK && bound_out) *bound_out = sag::to_api(local);
    return rc;
  });
}

int sag_dp_remove_uplink(sag_dataplane* dp, uint32_t uplink_id) {
  return guarded(
      [&] { return dp ? report(dp->impl.remove_uplink(uplink_id)) : fail(SAG_EINVAL, "null dataplane"); });
}

int sag_dp_uplink_counters(sag_dataplane* dp, uint32_t uplink_id, sag_counters* out) {
  return guarded([&] {
    if (!dp || !out) return fail(SAG_EINVAL, "null argument");
    return report(dp->impl.uplink_counters(uplink_id, out));
  });
}

int sag_dp_add_peer(sag_dataplane* dp, const uint8_t public_key[32], uint32_t* id_out) {
  return guarded([&] {
    if (!dp || !public_key || !id_out) return fail(SAG_EINVAL, "null argument");
    return report(dp->impl.add_peer(public_key, id_out));
  });
}

int sag_dp_remove_peer(sag_dataplane* dp, uint32_t peer_id) {
  return guarded(
      [&] { return dp ? report(dp->impl.remove_peer(peer_id)) : fail(SAG_EINVAL, "null dataplane"); });
}

int sag_dp_set_endpoint(sag_dataplane* dp, uint32_t peer_id, const sag_endpoint* endpoint,
                        uint32_t uplink_id) {
  return guarded([&] {
    if (!dp || !valid_endpoint(endpoint)) return fail(SAG_EINVAL, "endpoint family must be 4 or 6");
    return report(dp->impl.set_endpoint(peer_id, sag::from_api(*endpoint), uplink_id));
  });
}

int sag_dp_set_allowed_ips(sag_dataplane* dp, uint32_t peer_id, const sag_prefix* prefixes, size_t count) {
  return guarded([&] {
    if (!dp || (!prefixes && count)) return fail(SAG_EINVAL, "null argument");
    return report(dp->impl.set_allowed_ips(peer_id, prefixes, count));
  });
}

int sag_dp_peer_allowed_ips(sag_dataplane* dp, uint32_t peer_id, sag_prefix* buf, size_t cap) {
  return guarded([&] {
    if (!dp || (!buf && cap)) return fail(SAG_EINVAL, "null argument");
    std::vector<sag_prefix> prefixes;
    if (int rc = report(dp->impl.peer_allowed_ips(peer_id, &prefixes)); rc < 0) return rc;
    if (prefixes.size() > size_t(INT32_MAX)) return fail(SAG_EINTERNAL, "too many allowed IPs to count");
    std::copy_n(prefixes.begin(), std::min(cap, prefixes.size()), buf);
    return int(prefixes.size());
  });
}

int sag_dp_peer_info(sag_dataplane* dp, uint32_t peer_id, sag_peer_info* out) {
  return guarded([&] {
    if (!dp || !out) return fail(SAG_EINVAL, "null argument");
    return report(dp->impl.peer_info(peer_id, out));
  });
}

int sag_dp_install_keypair(sag_dataplane* dp, uint32_t peer_id, const sag_keypair_config* kp,
                           uint64_t now_ns) {
  return guarded([&] {
    if (!dp || !kp) return fail(SAG_EINVAL, "null argument");
    return report(dp->impl.install_keypair(peer_id, *kp, now_ns));
  });
}

int sag_dp_retire_keypair(sag_dataplane* dp, uint32_t local_index) {
  return guarded(
      [&] { return dp ? report(dp->impl.retire_keypair(local_index)) : fail(SAG_EINVAL, "null dataplane"); });
}

int sag_dp_expire_keypair(sag_dataplane* dp, uint32_t local_index) {
  return guarded(
      [&] { return dp ? report(dp->impl.expire_keypair(local_index)) : fail(SAG_EINVAL, "null dataplane"); });
}

int sag_dp_expire_older_than(sag_dataplane* dp, uint64_t now_ns, uint64_t max_age_ns) {
  return guarded([&] {
    return dp ? dp->impl.expire_older_than(now_ns, max_age_ns) : fail(SAG_EINVAL, "null dataplane");
  });
}

int sag_dp_send_control(sag_dataplane* dp, uint32_t uplink_id, const sag_endpoint* to, const uint8_t* data,
                        size_t len) {
  return guarded([&] {
    if (!dp || !data || !valid_endpoint(to)) return fail(SAG_EINVAL, "null argument or bad endpoint family");
    return report(dp->impl.send_control(uplink_id, sag::from_api(*to), data, len));
  });
}

int sag_dp_send_keepalive(sag_dataplane* dp, uint32_t peer_id) {
  return guarded(
      [&] { return dp ? report(dp->impl.send_keepalive(peer_id)) : fail(SAG_EINVAL, "null dataplane"); });
}

int sag_dp_drop_staged(sag_dataplane* dp, uint32_t peer_id) {
  return guarded([&] {
    if (!dp) return fail(SAG_EINVAL, "null dataplane");
    int n = dp->impl.drop_staged(peer_id);
    return n < 0 ? fail(n, "no peer with id " + std::to_string(peer_id)) : n;
  });
}

int sag_dp_set_selection(sag_dataplane* dp, uint32_t peer_id, const sag_selection* selection) {
  return guarded([&] {
    return dp ? report(dp->impl.set_selection(peer_id, selection)) : fail(SAG_EINVAL, "null dataplane");
  });
}

int sag_dp_send_probe(sag_dataplane* dp, uint32_t peer_id, uint32_t uplink_id, const sag_endpoint* to,
                      uint32_t path_id, uint64_t sequence) {
  return guarded([&] {
    if (!dp || !valid_endpoint(to)) return fail(SAG_EINVAL, "null argument or bad endpoint family");
    return report(dp->impl.send_probe(peer_id, uplink_id, sag::from_api(*to), path_id, sequence));
  });
}

int sag_dp_poll_event(sag_dataplane* dp, sag_event* out) {
  return guarded([&] {
    if (!dp || !out) return fail(SAG_EINVAL, "null argument");
    return dp->impl.poll_event(out) ? int(SAG_OK) : int(SAG_EAGAIN);
  });
}

int sag_dp_counters(sag_dataplane* dp, sag_counters* out) {
  return guarded([&] {
    if (!dp || !out) return fail(SAG_EINVAL, "null argument");
    dp->impl.counters(out);
    return int(SAG_OK);
  });
}

}  // extern "C"
