// Where an outbound packet of a peer goes by its selection table (paths.h), if one is installed
// and a class matches; otherwise the caller uses the roaming endpoint exactly as in WireGuard.
// Called by the send worker with table_mu held shared.
#pragma once
#include "../dataplane.h"

namespace sag {

struct Route {
  int count = 0;  // 0: no path chosen (use the roaming endpoint), 1, or 2 (duplicate)
  Uplink* up[2] = {nullptr, nullptr};
  Endpoint to[2];
};

// pkt/len is the plaintext IP packet (len 0 for a keepalive).
Route route_packet(const DataplaneTables& t, Peer* peer, const uint8_t* pkt, size_t len);

}  // namespace sag
