// Several send workers (one per TUN queue) sending to one peer at once: every packet gets its own
// counter (the receiver's replay window accepts them all), counters are exact, each queue's packets
// keep their order, and the slow paths stay with the primary worker. Run under TSan by run.sh.
#include <atomic>
#include <thread>

#include "check.h"
#include "io/testing/multi_queue_tun.h"
#include "pipeline_fixture.h"

using namespace sagtest;

namespace {

constexpr int kQueues = 3;
constexpr uint32_t kPerQueue = 3000;

// A with a multi-queue TUN double, B with a plain one. Keys as in Pair (A -> B uses key1).
struct QueuedPair {
  MemoryNetwork net;
  Node a{net, ep4(192, 0, 2, 1, 51820)};
  Node b{net, ep4(192, 0, 2, 2, 51820)};
  MultiQueueMemoryTun* mq = nullptr;
  const uint8_t ip_a[4] = {10, 0, 0, 1}, ip_b[4] = {10, 0, 0, 2};

  QueuedPair() {
    auto tun = std::make_unique<MultiQueueMemoryTun>(kQueues);
    mq = tun.get();
    CHECK(a.dp->attach_tun(std::move(tun)).ok());
    a.tun = nullptr;
    uint8_t pub_a[32] = {0xa}, pub_b[32] = {0xb}, key1[32], key2[32];
    for (int i = 0; i < 32; ++i) {
      key1[i] = uint8_t(i + 1);
      key2[i] = uint8_t(0xff - i);
    }
    a.dp->add_peer(pub_b, &a.peer);
    b.dp->add_peer(pub_a, &b.peer);
    sag_prefix pa = {4, {10, 0, 0, 2}, 32}, pb = {4, {10, 0, 0, 1}, 32};
    a.dp->set_allowed_ips(a.peer, &pa, 1);
    b.dp->set_allowed_ips(b.peer, &pb, 1);
    a.dp->set_endpoint(a.peer, b.addr, a.uplink);
    b.dp->set_endpoint(b.peer, a.addr, b.uplink);
    sag_keypair_config ka{}, kb{};
    ka.local_index = 100;
    ka.remote_index = 200;
    ka.initiator = 1;
    std::memcpy(ka.send_key, key1, 32);
    std::memcpy(ka.recv_key, key2, 32);
    kb.local_index = 200;
    kb.remote_index = 100;
    std::memcpy(kb.send_key, key2, 32);
    std::memcpy(kb.recv_key, key1, 32);
    b.dp->install_keypair(b.peer, kb, 1);
    a.dp->install_keypair(a.peer, ka, 1);
    CHECK(a.dp->start().ok());
    CHECK(b.dp->start().ok());
  }
  // Queue q's packet seq: its payload says which, so B can check per-queue order.
  std::vector<uint8_t> packet(int q, uint32_t seq) const {
    auto p = ipv4_packet(ip_a, ip_b, 100 + size_t(q) * 50);
    p[20] = uint8_t(q);
    std::memcpy(&p[24], &seq, 4);
    return p;
  }
};

}  // namespace

TEST_CASE("1 three send workers to one peer: exact counters, no counter reuse, per-queue order") {
  QueuedPair t;
  std::atomic<uint32_t> taken{0};
  std::atomic<bool> done{false};
  uint32_t next_seq[kQueues] = {};
  int out_of_order = 0, foreign = 0;
  std::thread consumer([&] {  // B's host side
    std::vector<uint8_t> p;
    while (!done || t.b.tun->pending_out() > 0) {
      if (!t.b.tun->take(&p)) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        continue;
      }
      int q = p.size() > 28 ? p[20] : kQueues;
      uint32_t seq;
      std::memcpy(&seq, &p[24], 4);
      if (q >= kQueues)
        ++foreign;
      else if (seq != next_seq[q]++)
        ++out_of_order;
      taken.fetch_add(1);
    }
  });
  std::atomic<uint32_t> injected{0};
  std::vector<std::thread> hosts;
  for (int q = 0; q < kQueues; ++q)
    hosts.emplace_back([&, q] {
      for (uint32_t seq = 0; seq < kPerQueue;) {
        // Stay well inside the in-memory network's and TUNs' bounds so nothing is dropped.
        if (injected.load() - taken.load() > 512) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          continue;
        }
        auto p = t.packet(q, seq);
        if (t.mq->host(q)->inject(p.data(), p.size())) {
          ++seq;
          injected.fetch_add(1);
        }
      }
    });
  for (auto& h : hosts) h.join();
  const uint32_t total = kQueues * kPerQueue;
  CHECK(wait_for([&] { return taken.load() == total; }, 30000));
  done = true;
  consumer.join();
  CHECK_EQ(taken.load(), total);
  CHECK_EQ(out_of_order, 0);
  CHECK_EQ(foreign, 0);
  sag_counters sent = t.a.peer_counters(), got = t.b.peer_counters();
  CHECK_EQ(sent.tx_packets, uint64_t(total));
  CHECK_EQ(got.rx_packets, uint64_t(total));
  CHECK_EQ(got.drops[SAG_DROP_REPLAY], 0u);
  CHECK_EQ(t.a.uplink_counters().tx_packets, uint64_t(total));
  // Keepalives (the wake fd) are the primary worker's and still work while the queues are busy.
  CHECK(t.a.dp->send_keepalive(t.a.peer).ok());
  CHECK(wait_for([&] { return t.b.peer_counters().rx_keepalives == 1; }));
}

TEST_CASE("2 packets staged from two queues: one handshake event; stop/start remakes the workers") {
  MemoryNetwork net;
  Node a{net, ep4(192, 0, 2, 1, 51820)};
  auto tun = std::make_unique<MultiQueueMemoryTun>(2);
  MultiQueueMemoryTun* mq = tun.get();
  CHECK(a.dp->attach_tun(std::move(tun)).ok());
  uint8_t pub_b[32] = {0xb};
  a.dp->add_peer(pub_b, &a.peer);
  sag_prefix pa = {4, {10, 0, 0, 2}, 32};
  a.dp->set_allowed_ips(a.peer, &pa, 1);
  CHECK(a.dp->start().ok());
  const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
  for (int i = 0; i < 20; ++i) {
    auto p = ipv4_packet(src, dst, 80);
    mq->host(i % 2)->inject(p.data(), p.size());
  }
  CHECK(wait_for([&] {
    sag_peer_info info;
    a.dp->peer_info(a.peer, &info);
    return info.staged_packets == 20;
  }));
  auto evs = a.events();
  int handshakes = 0;
  for (auto& e : evs) handshakes += e.type == SAG_EVENT_HANDSHAKE_NEEDED;
  CHECK_EQ(handshakes, 1);  // coalesced across workers
  CHECK(a.dp->stop().ok());
  CHECK(a.dp->start().ok());  // a restart makes the queue workers again
  CHECK(a.dp->stop().ok());
}

SAG_TEST_MAIN()
