#include "probe.h"

#include <errno.h>
#include <time.h>

namespace sag {

uint64_t probe_clock_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

Status send_probe(DataplaneTables& t, Aead& aead, Peer* peer, Uplink* up, const Endpoint& to,
                  const wire::Probe& probe, bool may_wait) {
  constexpr size_t kPadded = (wire::kProbeSize + wire::kPaddingMultiple - 1) & ~(wire::kPaddingMultiple - 1);
  uint8_t buf[wire::kTransportHeaderSize + kPadded + wire::kAuthTagSize] = {};
  Keypair* kp = peer->sending_keypair();
  uint64_t counter;
  if (!kp || !kp->take_counter(&counter)) return Status::Error(SAG_ESTATE, "the peer has no usable session");
  if (counter >= wire::kRekeyAfterMessages)
    t.signal_peer(peer, &kp->rekey_signalled, SAG_EVENT_REKEY_NEEDED, kp->local_index);
  uint8_t* body = buf + wire::kTransportHeaderSize;
  wire::write_probe(body, probe);
  wire::write_transport_header(buf, kp->remote_index, counter);
  if (!aead.seal(kp->send_key, counter, body, kPadded, body)) {
    peer->counters.drop(kDropIoError);
    return Status::Error(SAG_EINTERNAL, "sealing the probe failed");
  }
  Datagram d{buf, sizeof buf, to};
  bool ok = false;
  errno = 0;
  if (may_wait)
    up->socket->send_batch(&d, 1, &ok);
  else
    ok = up->socket->send_now(d);
  if (!ok) {
    // A Linux socket leaves the kernel's reason in errno (one datagram: the last call failed).
    int err = errno;
    peer->counters.drop(kDropIoError);
    up->counters.drop(kDropIoError);
    if (err == ENETUNREACH || err == EHOSTUNREACH || err == ENETDOWN || err == EADDRNOTAVAIL)
      return Status::Error(SAG_EUNREACH, "no route for the probe from this uplink");
    return Status::Error(SAG_ESYS, "the uplink refused the probe");
  }
  // Counted as keepalives (non-data): the WireGuard timers must not take probes for traffic.
  peer->counters.add_tx(1, sizeof buf, 1);
  up->counters.add_tx(1, sizeof buf, 1);
  return Status::Ok();
}

void on_probe(DataplaneTables& t, Aead& aead, Peer* peer, Uplink* up, const Endpoint& from,
              const wire::Probe& probe) {
  if (probe.kind == wire::kProbeRequest) {
    // A request costs the peer its probe bytes under its rate limit, and the answers it may have
    // are capped: an authenticated peer cannot make us send at will.
    if (!admit(peer->rx_limit, wire::kProbeSize, t.clock) || !peer->probe_replies.allow(1, t.clock())) {
      peer->counters.drop(kDropRateLimited);
      return;
    }
    wire::Probe reply = probe;
    reply.kind = wire::kProbeReply;
    // No session to answer with (e.g. it just expired): the prober counts a miss, as it should.
    // The receive thread must never wait on a full socket buffer: the reply is sent or dropped.
    if (send_probe(t, aead, peer, up, from, reply, false).code == SAG_ESTATE)
      peer->counters.drop(kDropNoSession);
    return;
  }
  uint64_t now = probe_clock_ns();
  sag_event ev{};
  ev.type = SAG_EVENT_PROBE_REPLY;
  ev.peer_id = peer->id;
  ev.uplink_id = up->id;
  ev.index = probe.path_id;
  ev.from = to_api(from);
  ev.len = 16;
  wire::store_le64(ev.data, probe.sequence);
  wire::store_le64(ev.data + 8, now >= probe.sent_ns ? now - probe.sent_ns : 0);
  if (!t.events.push(ev)) peer->counters.drop(kDropQueueFull);
}

}  // namespace sag
