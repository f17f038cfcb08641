// Routing domains and rate limits through the real pipelines (worker threads, in-memory TUNs and
// UDP): a hub with one domain per "CCN" and branches whose prefixes overlap across domains.
#include <atomic>

#include "check.h"
#include "pipeline_fixture.h"

using namespace sagtest;

namespace {
// Hub H (domains A and B, memory TUNs) and branches X (in A) and Y (in B). Both branches own
// 10.1.0.0/24 — the same prefix in two domains. X and Y route everything (0.0.0.0/0) to H.
struct Hub {
  MemoryNetwork net;
  Node h{net, ep4(192, 0, 2, 100, 51820)};
  Node x{net, ep4(192, 0, 2, 1, 51820)};
  Node y{net, ep4(192, 0, 2, 2, 51820)};
  uint32_t dom_a = 0, dom_b = 0, hx = 0, hy = 0;
  uint32_t next_index = 1000;
  const uint8_t lan[4] = {10, 1, 0, 5}, other[4] = {10, 2, 0, 9}, server[4] = {172, 16, 0, 1};

  explicit Hub(bool clock = false) {
    if (clock) h.dp->set_clock(fake_clock);
    CHECK(h.dp->open_memory_domain(&dom_a).ok());
    hx = link(h, x, 1);
    CHECK(h.dp->set_peer_domain(hx, dom_a).ok());  // its prefixes move along
    CHECK(h.dp->start().ok());
    CHECK(h.dp->open_memory_domain(&dom_b).ok());  // added while running
    // Before the move, y's 10.1.0.0/24 sits in domain 0, which x has left: nothing is taken from x.
    hy = link(h, y, 2);
    CHECK(h.dp->set_peer_domain(hy, dom_b).ok());
    CHECK(x.dp->start().ok());
    CHECK(y.dp->start().ok());
  }
  // Joins hub and branch with a keypair; returns the hub's peer id for the branch.
  uint32_t link(Node& hub, Node& br, uint8_t tag) {
    uint8_t key_hb[32], key_bh[32], pub_h[32] = {0xee}, pub_b[32] = {tag};
    for (int i = 0; i < 32; ++i) key_hb[i] = uint8_t(i * tag + 1), key_bh[i] = uint8_t(0xf0 ^ (i + tag));
    uint32_t hp = 0;
    hub.dp->add_peer(pub_b, &hp);
    br.dp->add_peer(pub_h, &br.peer);
    sag_prefix lan_p{4, {10, 1, 0, 0}, 24}, all{4, {}, 0};
    hub.dp->set_allowed_ips(hp, &lan_p, 1);
    br.dp->set_allowed_ips(br.peer, &all, 1);
    hub.dp->set_endpoint(hp, br.addr, hub.uplink);
    br.dp->set_endpoint(br.peer, hub.addr, br.uplink);
    sag_keypair_config kh{}, kb{};
    uint32_t ih = next_index++, ib = next_index++;
    kh.local_index = ih;
    kh.remote_index = ib;
    kh.initiator = 1;
    std::memcpy(kh.send_key, key_hb, 32);
    std::memcpy(kh.recv_key, key_bh, 32);
    kb.local_index = ib;
    kb.remote_index = ih;
    kb.initiator = 1;
    std::memcpy(kb.send_key, key_bh, 32);
    std::memcpy(kb.recv_key, key_hb, 32);
    hub.dp->install_keypair(hp, kh, 1);
    br.dp->install_keypair(br.peer, kb, 1);
    return hp;
  }
  MemoryTun* dom(uint32_t id) { return h.dp->memory_tun(id); }
  sag_counters hub_peer(uint32_t id) {
    sag_peer_info info;
    h.dp->peer_info(id, &info);
    return info.counters;
  }
  static bool take(MemoryTun* tun, std::vector<uint8_t>* p, int ms = 2000) {
    return wait_for([&] { return tun->take(p); }, ms);
  }
};
}  // namespace

TEST_CASE("1 the same prefix in two domains: each domain's TUN reaches only its own branch") {
  Hub t;
  auto to_lan = ipv4_packet(t.server, t.lan, 100, 0xaa);
  CHECK(t.dom(t.dom_a)->inject(to_lan.data(), to_lan.size()));
  std::vector<uint8_t> got;
  CHECK(t.x.take(&got));
  CHECK(got == to_lan);
  CHECK(!t.y.take(&got, 100));
  auto to_lan_b = ipv4_packet(t.server, t.lan, 100, 0xbb);
  CHECK(t.dom(t.dom_b)->inject(to_lan_b.data(), to_lan_b.size()));
  CHECK(t.y.take(&got));
  CHECK(got == to_lan_b);
  CHECK(!t.x.take(&got, 100));
  // Domain 0 has no route for the prefix at all: nobody's branch is reachable from it.
  CHECK(t.h.tun->inject(to_lan.data(), to_lan.size()));
  CHECK(wait_for([&] { return t.h.global().drops[SAG_DROP_NO_ROUTE] == 1; }));
}

TEST_CASE("2 a branch's packets land only on its own domain's TUN") {
  Hub t;
  auto from_x = ipv4_packet(t.lan, t.server, 80, 0x11);
  auto from_y = ipv4_packet(t.lan, t.server, 80, 0x22);
  CHECK(t.x.tun->inject(from_x.data(), from_x.size()));
  CHECK(t.y.tun->inject(from_y.data(), from_y.size()));
  std::vector<uint8_t> got;
  CHECK(Hub::take(t.dom(t.dom_a), &got));
  CHECK(got == from_x);
  CHECK(Hub::take(t.dom(t.dom_b), &got));
  CHECK(got == from_y);
  CHECK(!Hub::take(t.dom(t.dom_a), &got, 50));
  CHECK(!t.h.take(&got, 50));
}

TEST_CASE("3 a branch spoofing a source outside its domain's prefixes is dropped at the hub") {
  Hub t;
  auto spoof = ipv4_packet(t.other, t.server, 80);
  CHECK(t.x.tun->inject(spoof.data(), spoof.size()));
  CHECK(wait_for([&] { return t.hub_peer(t.hx).drops[SAG_DROP_SOURCE_NOT_ALLOWED] == 1; }));
  std::vector<uint8_t> got;
  CHECK(!Hub::take(t.dom(t.dom_a), &got, 50));
  CHECK(!Hub::take(t.dom(t.dom_b), &got, 50));
}

TEST_CASE("4 moving a peer moves its prefixes; a domain with peers cannot be removed") {
  Hub t;
  CHECK_EQ(t.h.dp->remove_domain(t.dom_a).code, SAG_ESTATE);
  CHECK_EQ(t.h.dp->set_peer_domain(t.hx, 999).code, SAG_ENOENT);
  CHECK_EQ(t.h.dp->set_peer_domain(999, t.dom_a).code, SAG_ENOENT);
  CHECK(t.h.dp->set_peer_domain(t.hx, 0).ok());
  auto to_lan = ipv4_packet(t.server, t.lan, 100);
  CHECK(t.h.tun->inject(to_lan.data(), to_lan.size()));
  std::vector<uint8_t> got;
  CHECK(t.x.take(&got));
  CHECK(t.dom(t.dom_a)->inject(to_lan.data(), to_lan.size()));
  CHECK(wait_for([&] { return t.h.global().drops[SAG_DROP_NO_ROUTE] == 1; }));
  CHECK(t.h.dp->remove_domain(t.dom_a).ok());
  CHECK_EQ(t.h.dp->remove_domain(t.dom_a).code, SAG_ENOENT);
  CHECK(t.h.dp->memory_tun(t.dom_a) == nullptr);
  CHECK(t.h.dp->remove_peer(t.hy).ok());  // the peer's prefixes leave domain B's trie with it
  CHECK(t.dom(t.dom_b)->inject(to_lan.data(), to_lan.size()));
  CHECK(wait_for([&] { return t.h.global().drops[SAG_DROP_NO_ROUTE] == 2; }));
  CHECK(t.h.dp->remove_domain(t.dom_b).ok());
}

TEST_CASE("5 rate limit, frozen clock: exactly the burst passes each way, the rest is counted") {
  Hub t(true);
  g_now = 1;
  CHECK_EQ(t.h.dp->set_rate_limit(t.hx, 10000, 1000).code, SAG_EINVAL);  // burst below the MTU
  CHECK_EQ(t.h.dp->set_rate_limit(999, 10000, 5000).code, SAG_ENOENT);
  CHECK(t.h.dp->set_rate_limit(t.hx, 10000, 5000).ok());
  auto down = ipv4_packet(t.server, t.lan, 1000);
  for (int i = 0; i < 20; ++i) CHECK(t.dom(t.dom_a)->inject(down.data(), down.size()));
  CHECK(wait_for([&] { return t.hub_peer(t.hx).drops[SAG_DROP_RATE_LIMITED] == 15; }));
  CHECK_EQ(t.hub_peer(t.hx).tx_packets, 5u);
  auto up = ipv4_packet(t.lan, t.server, 1000);
  for (int i = 0; i < 20; ++i) CHECK(t.x.tun->inject(up.data(), up.size()));
  CHECK(wait_for([&] { return t.hub_peer(t.hx).drops[SAG_DROP_RATE_LIMITED] == 30; }));
  int arrived = 0;
  std::vector<uint8_t> got;
  while (Hub::take(t.dom(t.dom_a), &got, 100)) ++arrived;
  CHECK_EQ(arrived, 5);
  // Y has no limit and is not affected by X's.
  for (int i = 0; i < 20; ++i) CHECK(t.dom(t.dom_b)->inject(down.data(), down.size()));
  CHECK(wait_for([&] { return t.hub_peer(t.hy).tx_packets == 20; }));
  // One second later the bucket is full again (burst, not rate * 1 s).
  g_now += 1000000000ull;
  for (int i = 0; i < 20; ++i) CHECK(t.dom(t.dom_a)->inject(down.data(), down.size()));
  CHECK(wait_for([&] { return t.hub_peer(t.hx).drops[SAG_DROP_RATE_LIMITED] == 45; }));
  CHECK_EQ(t.hub_peer(t.hx).tx_packets, 10u);
  CHECK(t.h.dp->set_rate_limit(t.hx, 0, 0).ok());
  for (int i = 0; i < 20; ++i) CHECK(t.dom(t.dom_a)->inject(down.data(), down.size()));
  CHECK(wait_for([&] { return t.hub_peer(t.hx).tx_packets == 30; }));
}

TEST_CASE("6 domains churn while traffic flows (for ThreadSanitizer)") {
  Hub t;
  std::atomic<bool> stop{false};
  std::thread traffic([&] {
    auto up = ipv4_packet(t.lan, t.server, 200);
    auto down = ipv4_packet(t.server, t.lan, 200);
    while (!stop) {
      t.x.tun->inject(up.data(), up.size());
      if (MemoryTun* a = t.h.dp->memory_tun(t.dom_a)) a->inject(down.data(), down.size());
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  });
  for (int i = 0; i < 50; ++i) {
    uint32_t d = 0;
    CHECK(t.h.dp->open_memory_domain(&d).ok());
    CHECK(t.h.dp->set_peer_domain(t.hy, d).ok());
    CHECK(t.h.dp->set_rate_limit(t.hx, i % 2 ? 0 : 1000000, 65536).ok());
    CHECK(t.h.dp->set_peer_domain(t.hy, t.dom_b).ok());
    CHECK(t.h.dp->remove_domain(d).ok());
  }
  CHECK(wait_for([&] { return t.hub_peer(t.hx).rx_packets > 0 && t.hub_peer(t.hx).tx_packets > 0; }));
  stop = true;
  traffic.join();
}

SAG_TEST_MAIN()
