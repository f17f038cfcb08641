// The testing C ABI (sag_testing.h) over Dataplane and the in-memory TUN of io/testing/. Same rules
// as capi.cc: every entry point catches everything.
#include <cstring>
#include <string>
#include <vector>

#include "capi_internal.h"
#include "io/testing/memory_tun.h"
#include "sag/sag_testing.h"

using sag::capi::fail;
using sag::capi::guarded;
using sag::capi::report;

namespace {
sag::MemoryTun* memory_tun_of(sag_dataplane* dp, uint32_t domain) {
  sag::MemoryTun* tun = dp->impl.memory_tun(domain);
  if (!tun) fail(SAG_ESTATE, "routing domain " + std::to_string(domain) + " has no memory TUN");
  return tun;
}
}  // namespace

extern "C" {

int sag_dp_open_memory_tun(sag_dataplane* dp) {
  return guarded(
      [&] { return dp ? report(dp->impl.open_memory_tun()) : fail(SAG_EINVAL, "null dataplane"); });
}

int sag_dp_add_memory_domain(sag_dataplane* dp, uint32_t* domain_out) {
  return guarded([&] {
    if (!dp || !domain_out) return fail(SAG_EINVAL, "null argument");
    return report(dp->impl.open_memory_domain(domain_out));
  });
}

int sag_dp_domain_memory_tun_inject(sag_dataplane* dp, uint32_t domain, const uint8_t* packet, size_t len) {
  return guarded([&] {
    if (!dp || (!packet && len)) return fail(SAG_EINVAL, "null argument");
    sag::MemoryTun* tun = memory_tun_of(dp, domain);
    if (!tun) return int(SAG_ESTATE);
    return tun->inject(packet, len) ? int(SAG_OK) : fail(SAG_EAGAIN, "memory TUN inbound queue is full");
  });
}

int sag_dp_domain_memory_tun_take(sag_dataplane* dp, uint32_t domain, uint8_t* buf, size_t cap, size_t* len) {
  return guarded([&] {
    if (!dp || !buf || !len) return fail(SAG_EINVAL, "null argument");
    sag::MemoryTun* tun = memory_tun_of(dp, domain);
    if (!tun) return int(SAG_ESTATE);
    std::vector<uint8_t> pkt;
    if (!tun->take(&pkt)) return int(SAG_EAGAIN);
    if (pkt.size() > cap) return fail(SAG_EINVAL, "buffer too small for the packet");
    std::memcpy(buf, pkt.data(), pkt.size());
    *len = pkt.size();
    return int(SAG_OK);
  });
}

int sag_dp_memory_tun_inject(sag_dataplane* dp, const uint8_t* packet, size_t len) {
  return sag_dp_domain_memory_tun_inject(dp, 0, packet, len);
}

int sag_dp_memory_tun_take(sag_dataplane* dp, uint8_t* buf, size_t cap, size_t* len) {
  return sag_dp_domain_memory_tun_take(dp, 0, buf, cap, len);
}

}  // extern "C"
