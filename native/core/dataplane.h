// The dataplane: tables shared by the control thread and the workers, and the control operations.
//
// Threads: one control thread (the C API caller), one send worker per TUN queue (TUN -> encrypt
// -> UDP; the first also does the slow paths, see pipeline/send.h) and a receive worker (UDP ->
// decrypt -> TUN; pipeline/receive.h).
//
// Locking rule (the whole design rests on it):
//  - table_mu guards the tables (peers, keypairs, uplinks, allowed IPs, tun). Workers hold it
//    SHARED for one batch at a time, never across a blocking wait; control operations that change
//    a table hold it EXCLUSIVE, so a pointer a worker read from a table stays valid for its batch.
//  - Everything workers change while holding it shared is atomic or has its own lock (see peer.h,
//    session.h, counters.h). Lock order: table_mu -> Peer::keys_mu -> Peer::staged_mu -> leaves.
//  - control_mu serialises control operations against each other and against start/stop.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "aead.h"
#include "allowed_ips.h"
#include "clock.h"
#include "counters.h"
#include "domain.h"
#include "event_queue.h"
#include "io/tun.h"
#include "io/udp.h"
#include "peer.h"
#include "sag/sag.h"
#include "session.h"

namespace sag {

class MemoryTun;
class SendWorker;
class ReceiveWorker;

struct Status {
  int code = SAG_OK;
  std::string message;
  bool ok() const { return code == SAG_OK; }
  static Status Ok() { return {}; }
  static Status Error(int code, std::string message) { return {code, std::move(message)}; }
};

struct DataplaneConfig {
  uint32_t mtu = SAG_DEFAULT_MTU;
  uint32_t staged_capacity = 128;
  uint32_t event_capacity = 1024;
  uint32_t batch_size = 64;
  uint32_t tun_queues = 0;       // TUN queues = send workers (open_tun); 0: LinuxTun::default_queues()
  uint32_t receive_workers = 0;  // threads decrypting received batches; 0: open_helpers_for()
};

struct Uplink {
  uint32_t id = 0;
  std::unique_ptr<UdpSocket> socket;
  Counters counters;
};

// State the workers read. Members are public to the pipeline; the rules above apply.
struct DataplaneTables {
  explicit DataplaneTables(const DataplaneConfig& c) : config(c), events(c.event_capacity) {}

  const DataplaneConfig config;
  std::shared_mutex table_mu;
  std::unordered_map<uint32_t, std::unique_ptr<Peer>> peers;
  std::unordered_map<uint32_t, std::unique_ptr<Keypair>> keypairs;  // by local index
  std::unordered_map<uint32_t, std::unique_ptr<Uplink>> uplinks;
  AllowedIps allowed_ips;
  std::unique_ptr<Tun> tun;
  Domains domains;               // extra routing domains; domain 0 is tun + allowed_ips above (domain.h)
  ClockFn clock = monotonic_ns;  // read by the workers: rate limits per packet, roaming per batch

  EventQueue events;
  Counters global;  // packets that belong to no peer and no uplink

  // Peers whose staged packets or keepalive the send worker should handle; then wake_fd is written.
  std::mutex flush_mu;
  std::vector<uint32_t> flush_list;
  int wake_fd = -1;

  Uplink* uplink(uint32_t id) const {
    auto it = uplinks.find(id);
    return it == uplinks.end() ? nullptr : it->second.get();
  }
  Peer* peer(uint32_t id) const {
    auto it = peers.find(id);
    return it == peers.end() ? nullptr : it->second.get();
  }
  // The trie / TUN of a domain (0 = the dataplane's own); nullptr for an unknown domain.
  AllowedIps* ips_of(uint32_t domain) {
    if (domain == 0) return &allowed_ips;
    Domain* d = domains.find(domain);
    return d ? &d->allowed_ips : nullptr;
  }
  Tun* tun_of(uint32_t domain) const {
    if (domain == 0) return tun.get();
    Domain* d = domains.find(domain);
    return d ? d->tun.get() : nullptr;
  }
  // Asks the send worker to look at a peer (staged packets, keepalive). Callable from any thread.
  void request_flush(uint32_t peer_id);
  // Queues a peer event at most once until the control plane has taken it.
  void signal_peer(Peer* peer, std::atomic<bool>* pending, sag_event_type type, uint32_t index = 0);
};

class Dataplane {
 public:
  explicit Dataplane(const DataplaneConfig& config);
  ~Dataplane();
  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;

  Status open_tun(const std::string& name, std::string* actual_name);
  Status open_memory_tun();
  MemoryTun* memory_tun() const { return memory_tun_; }
  // Takes over a device (a test double, or one opened elsewhere). Before start().
  Status attach_tun(std::unique_ptr<Tun> tun);

  // Routing domains and rate limits: dataplane_domains.cc.
  Status add_domain(std::unique_ptr<Tun> tun, uint32_t* id, MemoryTun* memory = nullptr);
  Status open_domain_tun(const std::string& name, std::string* actual_name, uint32_t* id);
  Status open_memory_domain(uint32_t* id);
  MemoryTun* memory_tun(uint32_t domain);
  Status remove_domain(uint32_t id);
  Status set_peer_domain(uint32_t peer_id, uint32_t domain);
  Status set_rate_limit(uint32_t peer_id, uint64_t bytes_per_s, uint64_t burst_bytes);
  void set_clock(ClockFn clock) { tables_.clock = clock; }  // tests; before start()

  Status start();
  Status stop();
  bool running() const { return running_; }

  Status add_uplink(std::unique_ptr<UdpSocket> socket, uint32_t* id);
  Status remove_uplink(uint32_t id);
  Status uplink_counters(uint32_t id, sag_counters* out);

  Status add_peer(const uint8_t public_key[32], uint32_t* id);
  Status remove_peer(uint32_t id);
  Status set_endpoint(uint32_t peer_id, const Endpoint& endpoint, uint32_t uplink_id);
  Status set_allowed_ips(uint32_t peer_id, const sag_prefix* prefixes, size_t count);
  Status peer_info(uint32_t peer_id, sag_peer_info* out);
  Status peer_allowed_ips(uint32_t peer_id, std::vector<sag_prefix>* out);  // replaces *out

  Status install_keypair(uint32_t peer_id, const sag_keypair_config& kp, uint64_t now_ns);
  Status retire_keypair(uint32_t local_index);
  Status expire_keypair(uint32_t local_index);
  int expire_older_than(uint64_t now_ns, uint64_t max_age_ns);

  Status send_control(uint32_t uplink_id, const Endpoint& to, const uint8_t* data, size_t len);
  Status send_keepalive(uint32_t peer_id);
  int drop_staged(uint32_t peer_id);  // count dropped, or a negative status

  // Multipath (dataplane_paths.cc): selection table (null removes it) and probes.
  Status set_selection(uint32_t peer_id, const sag_selection* selection);
  Status send_probe(uint32_t peer_id, uint32_t uplink_id, const Endpoint& to, uint32_t path_id,
                    uint64_t sequence);

  void set_notify(EventQueue::Notify fn, void* ctx) { tables_.events.set_notify(fn, ctx); }
  bool poll_event(sag_event* out);
  void counters(sag_counters* out) const { tables_.global.snapshot(out); }

 private:
  void sweep_orphans();  // table_mu held exclusive
  void delete_keypair(Keypair* kp);

  DataplaneTables tables_;
  MemoryTun* memory_tun_ = nullptr;
  std::mutex control_mu_;
  Aead probe_aead_;  // the control thread's, for send_probe (under control_mu_)
  bool running_ = false;
  uint32_t next_peer_id_ = 1;
  uint32_t next_uplink_id_ = 1;
  std::unique_ptr<SendWorker> send_worker_;                 // TUN queue 0 and the slow paths
  std::vector<std::unique_ptr<SendWorker>> queue_workers_;  // TUN queues 1.. (multi-queue TUN)
  std::unique_ptr<ReceiveWorker> receive_worker_;
};

}  // namespace sag
