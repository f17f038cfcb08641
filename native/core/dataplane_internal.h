// Helpers shared by the files that implement Dataplane (dataplane.cc, dataplane_domains.cc,
// dataplane_paths.cc); not part of the core's interface.
#pragma once
#include <mutex>
#include <shared_mutex>
#include <string>

#include "dataplane.h"

namespace sag::internal {

using Exclusive = std::unique_lock<std::shared_mutex>;
using Shared = std::shared_lock<std::shared_mutex>;

inline Status not_found(const char* what, uint32_t id) {
  return Status::Error(SAG_ENOENT, std::string("no ") + what + " with id " + std::to_string(id));
}

}  // namespace sag::internal
