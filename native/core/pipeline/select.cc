#include "select.h"

#include "../paths.h"

namespace sag {

Route route_packet(const DataplaneTables& t, Peer* peer, const uint8_t* pkt, size_t len) {
  Route r;
  if (const Selection* sel = peer->selection.get()) {
    PathChoice choice = choose_paths(*sel, flow_key(pkt, len));
    for (int i = 0; i < choice.count; ++i) {
      // A path whose uplink went away is skipped; the control plane pushes a new table soon.
      if (Uplink* up = t.uplink(choice.path[i]->uplink_id)) {
        r.up[r.count] = up;
        r.to[r.count] = choice.path[i]->remote;
        ++r.count;
      }
    }
  }
  return r;
}

}  // namespace sag
