// Send path: TUN -> route -> encrypt -> UDP.
//
//   TUN read_batch ──> allowed-IPs lookup (destination) ──> peer
//        │                 no peer: drop no_route
//        │   no usable keypair: stage in the peer's bounded queue, signal HANDSHAKE_NEEDED
//        └──> take counter, pad, seal in place ──> group by uplink ──> sendmmsg
//
// Also woken through DataplaneTables::wake_fd to flush staged packets once a keypair is
// installed, and to send keepalives the control plane asks for.
// Threading: one thread; holds table_mu shared per batch; per-packet state is atomics; the short
// endpoint lock (see peer.h) is taken once per run of one peer's packets in a batch, not per
// packet. No allocation except when staging (the slow path).
#pragma once
#include "worker.h"

namespace sag {

class SendWorker final : public Worker {
 public:
  explicit SendWorker(DataplaneTables& tables);
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
  // Pads and seals the packet at buf + kHeadroom (len bytes; 0 is a keepalive) for the peer's
  // current endpoint into *out, on *up. kExhausted: the keypair may not send any more (the caller
  // stages the packet); kDropped: counted (no endpoint, crypto failure).
  Sealed seal(Peer* peer, Keypair* kp, uint8_t* buf, size_t len, Datagram* out, Uplink** up);
  void send_one(Peer* peer, Uplink* up, const Datagram& d);  // slow paths: one datagram, counted
  void stage(Peer* peer, const uint8_t* pkt, size_t len);
  void flush_staged(Peer* peer);
  void send_keepalive(Peer* peer);
  void transmit(int count);

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
