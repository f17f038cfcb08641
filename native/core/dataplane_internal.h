// Helpers shared by the files that implement Dataplane (dataplane.cc, dataplane_domains.cc,
// dataplane_paths.cc); not part of the core's interface.
#pragma once
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "dataplane.h"

namespace sag::internal {

using Exclusive = std::unique_lock<std::shared_mutex>;
using Shared = std::shared_lock<std::shared_mutex>;

// The peer's prefixes in its domain's trie, in the trie's order (IPv4 first, ascending).
inline std::vector<sag_prefix> prefixes_of(const AllowedIps& ips, Peer* peer) {
  std::vector<sag_prefix> out;
  ips.for_each(peer, [&](int family, const uint8_t* addr, uint8_t cidr) {
    sag_prefix p{};
    p.family = uint8_t(family);
    std::memcpy(p.addr, addr, family == 4 ? 4 : 16);
    p.cidr = cidr;
    out.push_back(p);
  });
  return out;
}

inline Status not_found(const char* what, uint32_t id) {
  return Status::Error(SAG_ENOENT, std::string("no ") + what + " with id " + std::to_string(id));
}

}  // namespace sag::internal
