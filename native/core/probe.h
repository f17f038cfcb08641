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
// may_wait: whether a full socket buffer may be waited for briefly (the control thread's probes)
// or must fail at once (UdpSocket::send_now: the receive thread's replies).
Status send_probe(DataplaneTables& t, Aead& aead, Peer* peer, Uplink* up, const Endpoint& to,
                  const wire::Probe& probe, bool may_wait = true);

// A decrypted probe from `from` on `up`: answers a request, reports a reply as an event. A request
// is charged to the peer's rx rate limit (its probe bytes) and to its probe reply budget
// (Peer::probe_replies); over either, it is dropped as rate_limited and not answered. A reply is
// not charged: it answers our own probe, and a peer busy at its limit must not lose its paths.
void on_probe(DataplaneTables& t, Aead& aead, Peer* peer, Uplink* up, const Endpoint& from,
              const wire::Probe& probe);

}  // namespace sag
