// Multipath selection: a peer's paths and traffic classes, applied to every outbound packet in the
// send worker without the control plane (which pushes a new table whenever its decision changes).
//
// Ownership and locking: a Selection is immutable once built. Peer::selection holds it; it is
// replaced only under DataplaneTables::table_mu held EXCLUSIVE, and the send worker reads it under
// table_mu held SHARED for one batch, so a table a worker is using is never freed under it (the
// pointer swap is the RCU-style publish; the exclusive lock is the grace period).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "endpoint.h"
#include "sag/sag.h"

namespace sag {

struct Selection {
  struct Path {
    uint32_t id;
    uint32_t uplink_id;
    Endpoint remote;
  };
  // An address prefix as the matcher compares it: the address bytes zero-padded to 16 and read as
  // two little-endian words (FlowKey holds packet addresses the same way), network and mask.
  struct Prefix {
    uint64_t net[2];
    uint64_t mask[2];
    uint8_t family;  // 4 or 6
  };
  struct Class {
    uint64_t dscp_mask;
    uint8_t protocol;
    uint16_t src_min, src_max, dst_min, dst_max;
    uint8_t mode;
    uint8_t count;
    uint8_t index[SAG_MAX_PATHS];
    uint32_t cumulative[SAG_MAX_PATHS];  // WEIGHTED: running sum of weights
    uint8_t src_count, dst_count;        // 0: any address
    Prefix src[SAG_MAX_CLASS_PREFIXES];
    Prefix dst[SAG_MAX_CLASS_PREFIXES];
  };
  uint32_t path_count = 0;
  Path paths[SAG_MAX_PATHS];
  uint32_t class_count = 0;
  Class classes[SAG_MAX_CLASSES];
};

// Checks and converts the C API table; on failure returns false with the reason in *error.
bool build_selection(const sag_selection& in, Selection* out, std::string* error);

// What a packet's header says, for class rules and the flow hash. Non-IP or empty (keepalive):
// all zero, which only rules without protocol/port/address constraints (and DSCP 0 allowed) match.
struct FlowKey {
  uint8_t family = 0;                         // 4, 6, or 0 when not IP
  uint64_t src[2] = {0, 0}, dst[2] = {0, 0};  // addresses as in Selection::Prefix
  uint8_t dscp = 0;
  uint8_t protocol = 0;
  uint16_t src_port = 0, dst_port = 0;
  bool has_ports = false;
  uint64_t hash = 0;  // of addresses, protocol and ports: stable for a flow
};
FlowKey flow_key(const uint8_t* pkt, size_t len);

// The paths a packet takes: count 0 (no class matched: use the roaming endpoint), 1 or 2.
struct PathChoice {
  int count = 0;
  const Selection::Path* path[2] = {nullptr, nullptr};
};
PathChoice choose_paths(const Selection& sel, const FlowKey& key);

}  // namespace sag
