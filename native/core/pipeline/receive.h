// Receive path: UDP -> decrypt -> TUN.
//
//   recvmmsg (each uplink) ──> message type?
//     4 transport: receiver index -> keypair -> replay pre-check -> open in place -> replay
//                  update -> (next keypair? make it current) -> roaming -> keepalive? done
//                  -> inner IP length, source in the peer's allowed IPs? -> TUN write batch
//     1,2,3 (exact sizes): CONTROL event to the control plane (its lane of the event queue,
//                  event_queue.h: a flood of them cannot crowd out the peers' events)
//     another type after a well-formed header: drop bad_type; no header: drop malformed
//
// A batch goes through three passes: admit (parse, keypair, replay pre-check), open (decrypt on
// this thread and the OpenPool's helpers, open_pool.h), finish (everything else, in arrival order).
//
// Threading: one receive thread; holds table_mu shared per batch, across all three passes, so the
// keypairs the helpers use stay alive. Replay windows are this thread's alone (no lock); roaming
// takes the peer's endpoint lock once per run of packets from one source, not per packet.
#pragma once
#include "open_pool.h"
#include "worker.h"

namespace sag {

class ReceiveWorker final : public Worker {
 public:
  explicit ReceiveWorker(DataplaneTables& tables);
  ~ReceiveWorker() override { stop(); }

  // Called under table_mu held exclusive (or before start) as uplinks come and go.
  Status watch(Uplink* up) { return watch_fd(up->socket->poll_fd(), up->id); }
  void unwatch(Uplink* up) { unwatch_fd(up->socket->poll_fd()); }

  // Handles n datagrams already in the buffers, received on `up`. Public for tests.
  void process_batch(Uplink* up, int n);
  Datagram& slot(int i) { return in_[size_t(i)]; }

 private:
  Status prepare() override;
  void on_ready(uint32_t uplink_id) override;
  void process_locked(Uplink* up, int n);  // table_mu held shared
  struct Admitted {                        // a datagram past the first pass, in arrival order
    Datagram* datagram;
    Keypair* kp;  // null: a control message
    int job;      // index in jobs_; -1: refused by the replay pre-check, not decrypted
  };
  static bool slotted(Peer* peer, Keypair* kp);
  void admit_transport(Uplink* up, Datagram& d);
  void finish_transport(Uplink* up, const Admitted& a, const OpenJob& job);
  void handle_control(Uplink* up, const Datagram& d);
  void refuse_seen(Uplink* up, const Admitted& a);
  void count_refused(Peer* peer, Keypair* kp, uint64_t counter, uint32_t tag);
  void confirm_next(Peer* peer, Keypair* kp);
  void roam(Peer* peer, Uplink* up, const Endpoint& from);
  void write_tun();

  OpenPool pool_;
  std::vector<Datagram> in_;
  std::vector<OpenJob> jobs_;
  std::vector<Admitted> ordered_;
  int job_count_ = 0;
  int ordered_count_ = 0;
  uint64_t now_ns_ = 0;          // the clock at the start of the batch
  Peer* roamed_peer_ = nullptr;  // the last roam() of this batch: (peer, uplink, source)
  uint32_t roamed_uplink_ = 0;
  Endpoint roamed_from_;
  std::vector<const uint8_t*> tun_ptrs_;
  std::vector<size_t> tun_lens_;
  std::vector<Peer*> tun_peer_;
  int tun_count_ = 0;
};

}  // namespace sag
