// Send path: TUN -> route -> encrypt -> UDP.
//
//   TUN read_batch ──> allowed-IPs lookup (destination) ──> peer
//        │                 no peer: drop no_route
//        │   no usable keypair: stage in the peer's bounded queue, signal HANDSHAKE_NEEDED
//        └──> take counter, pad, seal in place ──> group by uplink ──> sendmmsg
//
// Also woken through DataplaneTables::wake_fd to flush staged packets once a keypair is
// installed, and to send keepalives the control plane asks for.
// Threading: one SendWorker (thread) per TUN queue (tun.h), all running the code below at once.
// The primary one (queue 0) alone also watches wake_fd (staged flushes, keepalives) and the
// extra domain TUNs, so those slow paths stay single-threaded. What several workers share is safe
// for that: keypair send counters, counters and the token bucket are atomics, per-peer staging is
// under staged_mu, events go through EventQueue's mutex, UDP sockets take any number of senders;
// buffers, the AEAD context and the endpoint cache below are per worker. Each holds table_mu
// shared per batch; the short endpoint lock (see peer.h) is taken once per run of one peer's
// packets in a batch, not per packet. No allocation except when staging (the slow path).
#pragma once
#include "select.h"
#include "worker.h"

namespace sag {

class SendWorker final : public Worker {
 public:
  // Reads queue (a queue of t_.tun); primary: also the slow paths above.
  SendWorker(DataplaneTables& tables, Tun* queue, bool primary);
  ~SendWorker() override { stop(); }

  // Processes n packets already in the buffers (at kHeadroom, lengths in lens). Public for tests.
  void process_batch(int n);
  // Routing domains (send_domains.cc): watch / stop watching a domain's TUN. table_mu exclusive.
  Status watch_domain(Domain* d);
  void unwatch_domain(Domain* d);

 private:
  enum Token : uint32_t { kTunToken = 1, kWakeToken = 2, kDomainTokenBase = 16 };  // + domain id
  Status prepare() override;
  void on_ready(uint32_t token) override;
  void handle_wakeups();
  void read_domain(uint32_t domain);
  // process_batch with table_mu held shared: routes by ips (the trie of the TUN's domain).
  void route_batch(int n, const AllowedIps& ips);

  enum class Sealed { kOk, kExhausted, kDropped };
  // Pads and seals the packet at buf + kHeadroom (len bytes; 0 is a keepalive) into *out, for
  // the route (select.h) in *route: out->peer is route->to[0]; a duplicate goes to to[1] too. kExhausted: the keypair may not send any more (the caller
  // stages the packet); kDropped: counted (no endpoint, crypto failure).
  Sealed seal(Peer* peer, Keypair* kp, uint8_t* buf, size_t len, Datagram* out, Route* route);
  void send_routed(Peer* peer, const Route& route, Datagram d);  // send_one on each path
  void send_one(Peer* peer, Uplink* up, const Datagram& d);      // slow paths: one datagram, counted
  void stage(Peer* peer, const uint8_t* pkt, size_t len);
  void flush_staged(Peer* peer);
  void send_keepalive(Peer* peer);
  void transmit(int count);

  Tun* const queue_;
  const bool primary_;
  std::vector<size_t> lens_;
  std::vector<uint8_t*> ptrs_;
  std::vector<Datagram> out_;
  std::vector<Peer*> out_peer_;
  std::vector<Uplink*> out_uplink_;
  std::vector<uint8_t> ok_;
  // The last peer's endpoint and uplink, read once per run of its packets instead of taking its
  // endpoint lock per packet. Valid only while table_mu is held: reset when a hold begins.
  Peer* ep_peer_ = nullptr;
  Endpoint ep_;
  Uplink* ep_uplink_ = nullptr;
};

}  // namespace sag
