// Two dataplanes joined by an in-memory network, each with an in-memory TUN, for pipeline tests.
#pragma once
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "aead.h"
#include "dataplane.h"
#include "io/testing/memory_tun.h"
#include "io/testing/memory_udp.h"
#include "wire.h"

namespace sagtest {

using namespace sag;

// A clock the test moves by hand (Dataplane::set_clock, before start): the workers read it for
// rate limits and roaming.
constexpr uint64_t kMs = 1'000'000;
inline std::atomic<uint64_t> g_now{1000 * kMs};
inline uint64_t fake_clock() {
  return g_now.load();
}

inline bool wait_for(const std::function<bool()>& cond, int ms = 2000) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return cond();
}

inline Endpoint ep4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  uint8_t addr[4] = {a, b, c, d};
  return Endpoint::v4(addr, port);
}

inline std::vector<uint8_t> ipv4_packet(const uint8_t src[4], const uint8_t dst[4], size_t total,
                                        uint8_t fill = 0xab) {
  if (total < 20) total = 20;
  std::vector<uint8_t> p(total, fill);
  std::memset(p.data(), 0, 20);
  p[0] = 0x45;
  p[2] = uint8_t(total >> 8);
  p[3] = uint8_t(total);
  p[8] = 64;
  p[9] = 17;
  std::memcpy(&p[12], src, 4);
  std::memcpy(&p[16], dst, 4);
  return p;
}

inline std::vector<uint8_t> ipv6_packet(const uint8_t src[16], const uint8_t dst[16], size_t total) {
  if (total < 40) total = 40;
  std::vector<uint8_t> p(total, 0xcd);
  std::memset(p.data(), 0, 40);
  p[0] = 0x60;
  p[4] = uint8_t((total - 40) >> 8);
  p[5] = uint8_t(total - 40);
  p[6] = 17;
  p[7] = 64;
  std::memcpy(&p[8], src, 16);
  std::memcpy(&p[24], dst, 16);
  return p;
}

struct Node {
  std::unique_ptr<Dataplane> dp;
  MemoryTun* tun = nullptr;
  uint32_t uplink = 0;
  uint32_t peer = 0;
  Endpoint addr;

  Node(MemoryNetwork& net, const Endpoint& a, DataplaneConfig cfg = {}) : dp(new Dataplane(cfg)), addr(a) {
    dp->open_memory_tun();
    tun = dp->memory_tun();
    dp->add_uplink(net.bind(a), &uplink);
  }
  sag_counters peer_counters() {
    sag_peer_info info;
    dp->peer_info(peer, &info);
    return info.counters;
  }
  sag_counters uplink_counters() {
    sag_counters c;
    dp->uplink_counters(uplink, &c);
    return c;
  }
  sag_counters global() {
    sag_counters c;
    dp->counters(&c);
    return c;
  }
  bool take(std::vector<uint8_t>* p, int ms = 2000) {
    return wait_for([&] { return tun->take(p); }, ms);
  }
  std::vector<sag_event> events() {
    std::vector<sag_event> out;
    sag_event ev;
    while (dp->poll_event(&ev)) out.push_back(ev);
    return out;
  }
};

// A: 10.0.0.1 (fd00::1), B: 10.0.0.2 (fd00::2); A -> B uses key1, B -> A key2.
struct Pair {
  MemoryNetwork net;
  Node a;
  Node b;
  uint8_t key1[32], key2[32];
  const uint8_t ip_a[4] = {10, 0, 0, 1}, ip_b[4] = {10, 0, 0, 2};
  uint8_t ip6_a[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  uint8_t ip6_b[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

  explicit Pair(bool with_keys = true, const DataplaneConfig& cfg = {})
      : a(net, ep4(192, 0, 2, 1, 51820), cfg), b(net, ep4(192, 0, 2, 2, 51820), cfg) {
    for (int i = 0; i < 32; ++i) {
      key1[i] = uint8_t(i + 1);
      key2[i] = uint8_t(0xff - i);
    }
    uint8_t pub_a[32] = {0xa}, pub_b[32] = {0xb};
    a.dp->add_peer(pub_b, &a.peer);
    b.dp->add_peer(pub_a, &b.peer);
    sag_prefix pa[2] = {{4, {10, 0, 0, 2}, 32}, {6, {}, 128}};
    std::memcpy(pa[1].addr, ip6_b, 16);
    sag_prefix pb[2] = {{4, {10, 0, 0, 1}, 32}, {6, {}, 128}};
    std::memcpy(pb[1].addr, ip6_a, 16);
    a.dp->set_allowed_ips(a.peer, pa, 2);
    b.dp->set_allowed_ips(b.peer, pb, 2);
    a.dp->set_endpoint(a.peer, b.addr, a.uplink);
    b.dp->set_endpoint(b.peer, a.addr, b.uplink);
    if (with_keys) install_keys();
    a.dp->start();
    b.dp->start();
  }
  void install_keys(uint32_t ia = 100, uint32_t ib = 200) {
    sag_keypair_config ka{}, kb{};
    ka.local_index = ia;
    ka.remote_index = ib;
    ka.initiator = 1;
    std::memcpy(ka.send_key, key1, 32);
    std::memcpy(ka.recv_key, key2, 32);
    kb.local_index = ib;
    kb.remote_index = ia;
    kb.initiator = 0;
    std::memcpy(kb.send_key, key2, 32);
    std::memcpy(kb.recv_key, key1, 32);
    b.dp->install_keypair(b.peer, kb, 1);
    a.dp->install_keypair(a.peer, ka, 1);
  }
  // A transport message as A would send it to B (receiver index 200), sealed with key1.
  std::vector<uint8_t> forge(const std::vector<uint8_t>& inner, uint64_t counter, uint32_t receiver = 200,
                             const uint8_t* key = nullptr) {
    size_t padded = wire::padded_length(inner.size(), 1420);
    std::vector<uint8_t> d(16 + padded + 16, 0);
    std::memcpy(d.data() + 16, inner.data(), inner.size());
    wire::write_transport_header(d.data(), receiver, counter);
    Aead aead;
    aead.seal(key ? key : key1, counter, d.data() + 16, padded, d.data() + 16);
    return d;
  }
  // A path probe reply (wire.h) as A would send it to B: sent from a socket, it makes that
  // socket's address one of A's probed paths in B's eyes.
  std::vector<uint8_t> forge_probe(uint64_t counter, uint32_t path_id = 1) {
    std::vector<uint8_t> inner(wire::kProbeSize);
    wire::write_probe(inner.data(), wire::Probe{wire::kProbeReply, path_id, counter, 0});
    return forge(inner, counter);
  }
};

}  // namespace sagtest
