// The testing C API (sag_testing.h) as a test program sees it: only the two public headers, two
// dataplanes over loopback UDP with memory TUNs. Numbered cases; each states what must hold.
#include <chrono>
#include <cstring>
#include <thread>

#include "check.h"
#include "sag/sag.h"
#include "sag/sag_testing.h"

namespace {

bool eventually(int (*op)(sag_dataplane*, uint8_t*, size_t, size_t*), sag_dataplane* dp, uint8_t* buf,
                size_t cap, size_t* len) {
  for (int i = 0; i < 2000; ++i) {
    if (op(dp, buf, cap, len) == SAG_OK) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// A 20-byte IPv4 header (UDP, no payload) from 10.0.0.<src> to 10.0.0.<dst>.
void ipv4(uint8_t p[20], uint8_t src, uint8_t dst) {
  std::memset(p, 0, 20);
  p[0] = 0x45;
  p[3] = 20;
  p[8] = 64;
  p[9] = 17;
  p[12] = p[16] = 10;
  p[15] = src;
  p[19] = dst;
}

struct Node {
  sag_dataplane* dp = nullptr;
  uint32_t uplink = 0, peer = 0;
  sag_endpoint bound{};
  Node() {
    CHECK_EQ(sag_dp_create(nullptr, &dp), SAG_OK);
    CHECK_EQ(sag_dp_open_memory_tun(dp), SAG_OK);
    sag_uplink_config up{};
    up.bind.family = 4;
    up.bind.addr[0] = 127;
    up.bind.addr[3] = 1;
    CHECK_EQ(sag_dp_add_uplink(dp, &up, &uplink, &bound), SAG_OK);
  }
  ~Node() { sag_dp_destroy(dp); }
  // Routes 10.0.0.<ip>/32 to `other`, sealing with `send` and opening with `recv`.
  void link(const Node& other, uint8_t ip, uint32_t local, uint32_t remote, uint8_t send, uint8_t recv) {
    uint8_t pub[32] = {ip};
    CHECK_EQ(sag_dp_add_peer(dp, pub, &peer), SAG_OK);
    sag_prefix p{4, {10, 0, 0, ip}, 32};
    CHECK_EQ(sag_dp_set_allowed_ips(dp, peer, &p, 1), SAG_OK);
    CHECK_EQ(sag_dp_set_endpoint(dp, peer, &other.bound, uplink), SAG_OK);
    sag_keypair_config kp{};
    kp.local_index = local;
    kp.remote_index = remote;
    kp.initiator = 1;
    std::memset(kp.send_key, send, 32);
    std::memset(kp.recv_key, recv, 32);
    CHECK_EQ(sag_dp_install_keypair(dp, peer, &kp, 1), SAG_OK);
  }
};

}  // namespace

TEST_CASE("1 a packet injected at A's memory TUN is taken, whole, from B's") {
  Node a, b;
  a.link(b, 2, 100, 200, 0x11, 0x22);
  b.link(a, 1, 200, 100, 0x22, 0x11);
  CHECK_EQ(sag_dp_start(a.dp), SAG_OK);
  CHECK_EQ(sag_dp_start(b.dp), SAG_OK);
  uint8_t sent[20], got[64];
  size_t len = 0;
  CHECK_EQ(sag_dp_memory_tun_take(b.dp, got, sizeof got, &len), SAG_EAGAIN);  // nothing yet
  ipv4(sent, 1, 2);
  CHECK_EQ(sag_dp_memory_tun_inject(a.dp, sent, sizeof sent), SAG_OK);
  CHECK(eventually(sag_dp_memory_tun_take, b.dp, got, sizeof got, &len));
  CHECK_EQ(len, sizeof sent);
  CHECK(std::memcmp(got, sent, sizeof sent) == 0);
  CHECK_EQ(sag_dp_memory_tun_inject(b.dp, sent, sizeof sent), SAG_OK);  // no route back: counted
  for (int i = 0; i < 2000; ++i) {
    sag_counters c{};
    sag_dp_counters(b.dp, &c);
    if (c.drops[SAG_DROP_NO_ROUTE] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  sag_counters c{};
  CHECK_EQ(sag_dp_counters(b.dp, &c), SAG_OK);
  CHECK_EQ(c.drops[SAG_DROP_NO_ROUTE], 1u);
}

TEST_CASE("2 memory domains: their own TUN; gone with the domain") {
  Node a;
  uint32_t dom = 0;
  CHECK_EQ(sag_dp_add_memory_domain(a.dp, &dom), SAG_OK);
  CHECK(dom != 0);
  uint8_t pkt[20];
  ipv4(pkt, 1, 9);
  CHECK_EQ(sag_dp_domain_memory_tun_inject(a.dp, dom, pkt, sizeof pkt), SAG_OK);
  CHECK_EQ(sag_dp_remove_domain(a.dp, dom), SAG_OK);
  CHECK_EQ(sag_dp_domain_memory_tun_inject(a.dp, dom, pkt, sizeof pkt), SAG_ESTATE);
  CHECK(std::strstr(sag_last_error(), "has no memory TUN") != nullptr);
}

TEST_CASE("3 bad calls: clear status, no crash") {
  Node a;
  uint8_t buf[8];
  size_t len = 0;
  uint32_t dom = 0;
  CHECK_EQ(sag_dp_open_memory_tun(nullptr), SAG_EINVAL);
  CHECK_EQ(sag_dp_add_memory_domain(a.dp, nullptr), SAG_EINVAL);
  CHECK_EQ(sag_dp_add_memory_domain(nullptr, &dom), SAG_EINVAL);
  CHECK_EQ(sag_dp_memory_tun_inject(a.dp, nullptr, 20), SAG_EINVAL);
  CHECK_EQ(sag_dp_memory_tun_take(a.dp, nullptr, 8, &len), SAG_EINVAL);
  CHECK_EQ(sag_dp_domain_memory_tun_take(a.dp, 77, buf, sizeof buf, &len), SAG_ESTATE);
  CHECK_EQ(sag_dp_start(a.dp), SAG_OK);
  CHECK_EQ(sag_dp_open_memory_tun(a.dp), SAG_ESTATE);  // not while running
}

SAG_TEST_MAIN()
