// Path probes: build, send, answer and time the authenticated probes of wire.h.
//
// A probe is a transport message under the peer's current sending keypair, so it is encrypted,
// authenticated and replay-protected exactly like data (a forged or replayed probe is dropped and
// counted by the receive path before it gets here). The receive worker calls on_probe() after
// decryption: a request is answered at once on the uplink it came in by, to the address it came
// from; a reply becomes a PROBE_REPLY event. Neither goes to the TUN nor moves the endpoint.
// Threading: callable from any thread holding table_mu shared, with that thread's own Aead.
#pragma once
#include <cstdint>

#include "aead.h"
#include "dataplane.h"
#include "wire.h"

namespace sag {

// CLOCK_MONOTONIC in ns: the probe timestamps (the one clock the core reads; see sag.h).
uint64_t probe_clock_ns();

// Seals and sends one probe to `to` on `up` under the peer's sending keypair. SAG_ESTATE when the
// peer has no usable session; SAG_ESYS when the socket refused it (counted as io_error).
Status send_probe(DataplaneTables& t, Aead& aead, Peer* peer, Uplink* up, const Endpoint& to,
                  const wire::Probe& probe);

// A decrypted probe from `from` on `up`: answers a request, reports a reply as an event.
void on_probe(DataplaneTables& t, Aead& aead, Peer* peer, Uplink* up, const Endpoint& from,
              const wire::Probe& probe);

}  // namespace sag
