// The receive path's parallel decryption (pipeline/open_pool.h): every job opened exactly once
// with the right verdict whatever the split, and received packets still reach the TUN in order.
#include <unistd.h>

#include "check.h"
#include "pipeline/open_pool.h"
#include "pipeline_fixture.h"

using namespace sagtest;

namespace {

struct Sealed {
  std::vector<uint8_t> plain, wire;
  uint64_t counter;
  const uint8_t* key;
};

// n messages of `size` bytes alternating between two keys; every 7th has a spoiled tag.
std::vector<Sealed> seal_messages(int n, size_t size, const uint8_t* k1, const uint8_t* k2) {
  Aead aead;
  std::vector<Sealed> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    Sealed& m = out[size_t(i)];
    m.plain.assign(size, uint8_t(i * 31 + 7));
    m.counter = uint64_t(i) * 3 + 1;
    m.key = i % 2 ? k2 : k1;
    m.wire.resize(size + wire::kAuthTagSize);
    aead.seal(m.key, m.counter, m.plain.data(), size, m.wire.data());
    if (i % 7 == 3) m.wire[size / 2] ^= 0x40;
  }
  return out;
}

void check_round(OpenPool& pool, Aead& own, const std::vector<Sealed>& msgs) {
  std::vector<std::vector<uint8_t>> bufs;
  std::vector<OpenJob> jobs;
  for (auto& m : msgs) bufs.push_back(m.wire);
  for (size_t i = 0; i < msgs.size(); ++i)
    jobs.push_back(OpenJob{msgs[i].key, msgs[i].counter, bufs[i].data(), bufs[i].size(), false});
  pool.open_all(own, jobs.data(), int(jobs.size()));
  for (size_t i = 0; i < msgs.size(); ++i) {
    bool spoiled = i % 7 == 3;
    CHECK(jobs[i].ok == !spoiled);
    if (!spoiled) CHECK(std::memcmp(bufs[i].data(), msgs[i].plain.data(), msgs[i].plain.size()) == 0);
  }
}

}  // namespace

TEST_CASE("1 every job opened with the right verdict, with 0, 1 and 3 helpers, batch after batch") {
  uint8_t k1[32], k2[32];
  for (int i = 0; i < 32; ++i) k1[i] = uint8_t(i), k2[i] = uint8_t(100 + i);
  auto big = seal_messages(64, 1420, k1, k2);
  auto small = seal_messages(3, 1420, k1, k2);  // below kMinParallelJobs: the caller alone
  auto tiny = seal_messages(40, 16, k1, k2);    // below kMinParallelBytes: the caller alone
  for (int helpers : {0, 1, 3}) {
    OpenPool pool(helpers);
    Aead own;
    CHECK(pool.ok());
    CHECK(pool.helpers() == helpers);
    for (int round = 0; round < 300; ++round) check_round(pool, own, round % 5 == 4 ? small : big);
    check_round(pool, own, tiny);
    check_round(pool, own, {});
  }
}

TEST_CASE("2 open_helpers_for: explicit counts, then $SAG_RX_WORKERS, then half the CPUs, 1..4") {
  CHECK(open_helpers_for(1) == 0);
  CHECK(open_helpers_for(4) == 3);
  setenv("SAG_RX_WORKERS", "3", 1);
  CHECK(open_helpers_for(0) == 2);
  setenv("SAG_RX_WORKERS", "99", 1);  // out of range: ignored
  long half = sysconf(_SC_NPROCESSORS_ONLN) / 2;
  CHECK_EQ(open_helpers_for(0), int(half < 1 ? 1 : half > 4 ? 4 : half) - 1);
  unsetenv("SAG_RX_WORKERS");
}

TEST_CASE("3 a burst received with 3 decrypting threads reaches the TUN in order, drops counted") {
  DataplaneConfig cfg;
  cfg.receive_workers = 3;
  Pair p(true, cfg);
  auto wire_peer = p.net.bind(ep4(198, 51, 100, 7, 5555));
  const int kCount = 600;
  std::vector<std::vector<uint8_t>> sent, expect;
  for (int i = 0; i < kCount; ++i) {
    auto inner = ipv4_packet(p.ip_a, p.ip_b, 200 + size_t(i % 5) * 250, uint8_t(i));
    inner[4] = uint8_t(i >> 8), inner[5] = uint8_t(i);  // IP id: the sequence number
    auto d = p.forge(inner, uint64_t(i) + 1);
    if (i % 50 == 17)
      d.back() ^= 1;  // spoiled tag
    else
      expect.push_back(inner);
    sent.push_back(std::move(d));
    if (i % 100 == 99) sent.push_back(sent[sent.size() - 2]);  // a replay inside the burst
  }
  // Queued while B is stopped, so its receive worker then reads full batches of 64.
  p.b.dp->stop();
  for (size_t at = 0; at < sent.size(); at += 64) {
    std::vector<Datagram> g;
    for (size_t i = at; i < sent.size() && i < at + 64; ++i)
      g.push_back(Datagram{sent[i].data(), sent[i].size(), p.b.addr});
    wire_peer->send_batch(g.data(), int(g.size()), nullptr);
  }
  p.b.dp->start();
  std::vector<uint8_t> got;
  size_t in_order = 0;
  while (in_order < expect.size() && p.b.take(&got) && got == expect[in_order]) ++in_order;
  CHECK_EQ(in_order, expect.size());
  CHECK(!p.b.tun->take(&got));
  auto pc = p.b.peer_counters();
  CHECK(pc.drops[SAG_DROP_BAD_AUTH] == uint64_t(kCount / 50));
  CHECK(pc.drops[SAG_DROP_REPLAY] == uint64_t(kCount / 100));
}

SAG_TEST_MAIN()
