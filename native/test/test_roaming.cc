// Roaming with multipath copies (roaming.h): a copy over a second path is counted as a duplicate,
// not a replay, and racing copies do not flip the peer's endpoint back and forth, while a real
// move happens at once as in WireGuard.
#include <atomic>

#include "check.h"
#include "pipeline_fixture.h"
#include "roaming.h"

using namespace sagtest;

TEST_CASE("1 RoamGuard: moves at once without copies; with copies, back only after the hold") {
  Endpoint a = ep4(192, 0, 2, 1, 1), b = ep4(192, 0, 2, 2, 2), c = ep4(192, 0, 2, 3, 3);
  RoamGuard g;
  uint64_t t = 5000 * kMs;
  CHECK(g.should_move(false, {}, 0, a, 1, t));           // first endpoint
  CHECK(!g.should_move(true, a, 1, a, 1, t + kMs));      // same: stays
  CHECK(g.should_move(true, a, 1, b, 1, t + 2 * kMs));   // WireGuard: follows the latest source
  CHECK(g.should_move(true, b, 1, a, 1, t + 3 * kMs));   // and back, when no copies are seen
  CHECK(g.should_move(true, a, 1, a, 2, t + 4 * kMs));   // another uplink is another path
  g.duplicate_seen_ns = t + 5 * kMs;                     // copies over a second path from now
  CHECK(g.should_move(true, a, 2, b, 1, t + 6 * kMs));   // a new source still moves at once
  CHECK(!g.should_move(true, b, 1, a, 2, t + 7 * kMs));  // back to the one just left: held
  CHECK(!g.should_move(true, b, 1, b, 1, t + 8 * kMs));  // the current one delivers...
  CHECK(!g.should_move(true, b, 1, a, 2, t + 8 * kMs + RoamGuard::kFlipHoldNs - 1));
  CHECK(g.should_move(true, b, 1, a, 2, t + 8 * kMs + RoamGuard::kFlipHoldNs));  // ...then is quiet
  CHECK(g.should_move(true, a, 2, c, 1, t + 300 * kMs));                         // somewhere new: at once
  // Copies long ago no longer hold anything back.
  CHECK(g.should_move(true, c, 1, a, 2, t + 301 * kMs + RoamGuard::kDuplicateMemoryNs));
}

TEST_CASE("2 RecentSources: a refused counter is a copy only if another path delivered it") {
  RecentSources r;
  Endpoint a = ep4(192, 0, 2, 1, 1), b = ep4(192, 0, 2, 2, 1);
  CHECK(path_tag(1, a) != path_tag(1, b));
  CHECK(path_tag(1, a) != path_tag(2, a));
  CHECK(path_tag(1, a) == path_tag(1, ep4(192, 0, 2, 1, 1)));
  r.record(7, path_tag(1, a));
  CHECK(r.is_copy_from_other_path(7, path_tag(1, b)));
  CHECK(!r.is_copy_from_other_path(7, path_tag(1, a)));  // same path: a replay
  CHECK(!r.is_copy_from_other_path(8, path_tag(1, b)));  // never accepted
  r.record(7 + RecentSources::kSize, path_tag(1, a));    // the slot was reused: too old to tell
  CHECK(!r.is_copy_from_other_path(7, path_tag(1, b)));
}

TEST_CASE("3 pipeline: racing copies from two paths count as duplicates and do not flip the endpoint") {
  Pair p;
  p.b.dp->stop();
  p.b.dp->set_clock(fake_clock);
  p.b.dp->start();
  auto path1 = p.net.bind(ep4(198, 51, 100, 1, 1111));
  auto path2 = p.net.bind(ep4(198, 51, 100, 2, 2222));
  auto send = [&](MemoryUdp* via, const std::vector<uint8_t>& d) {
    Datagram g{const_cast<uint8_t*>(d.data()), d.size(), p.b.addr};
    via->send_batch(&g, 1, nullptr);
  };
  auto inner = ipv4_packet(p.ip_a, p.ip_b, 100);
  std::vector<uint8_t> got;
  auto moves = [&] {
    int n = 0;
    for (auto& ev : p.b.events()) n += ev.type == SAG_EVENT_ENDPOINT_CHANGED;
    return n;
  };
  // Both are paths A probes over (without that, a copy from elsewhere is a replay: test 4).
  send(path1.get(), p.forge_probe(1000));
  send(path2.get(), p.forge_probe(1001));
  CHECK(wait_for([&] { return p.b.peer_counters().rx_keepalives == 2; }));
  // 40 packets, each sent over both paths; which copy arrives first alternates.
  for (uint64_t c = 1; c <= 40; ++c) {
    auto d = p.forge(inner, c);
    bool path1_first = (c / 3) % 2 == 0;
    send(path1_first ? path1.get() : path2.get(), d);
    CHECK(p.b.take(&got));
    send(path1_first ? path2.get() : path1.get(), d);
    CHECK(wait_for([&] { return p.b.peer_counters().drops[SAG_DROP_DUPLICATE] == c; }));
    g_now += 10 * kMs;
  }
  CHECK(p.b.peer_counters().drops[SAG_DROP_REPLAY] == 0);
  // Moved to path 1, then to path 2 (a new source) once; never back and forth after that.
  CHECK(moves() == 2);
  // A copy replayed over the path that delivered it first is a replay.
  auto last = p.forge(inner, 1041);
  send(path2.get(), last);
  CHECK(p.b.take(&got));
  send(path2.get(), last);
  CHECK(wait_for([&] { return p.b.peer_counters().drops[SAG_DROP_REPLAY] == 1; }));
  // Path 2 goes quiet; path 1 alone carries traffic: after the hold the endpoint follows it.
  g_now += RoamGuard::kFlipHoldNs;
  send(path1.get(), p.forge(inner, 1042));
  CHECK(p.b.take(&got));
  CHECK(wait_for([&] { return moves() == 1; }));
}

TEST_CASE("4 pipeline: a packet replayed from an address the peer never probed from is a replay") {
  Pair p;
  auto attacker = p.net.bind(ep4(203, 0, 113, 66, 6666));
  auto d = p.forge(ipv4_packet(p.ip_a, p.ip_b, 80), 7);
  Datagram g{d.data(), d.size(), p.b.addr};
  auto from_a = p.net.bind(ep4(198, 51, 100, 1, 1111));
  from_a->send_batch(&g, 1, nullptr);
  std::vector<uint8_t> got;
  CHECK(p.b.take(&got));
  attacker->send_batch(&g, 1, nullptr);  // the same counter, another source: a replay
  CHECK(wait_for([&] { return p.b.peer_counters().drops[SAG_DROP_REPLAY] == 1; }));
  CHECK(p.b.peer_counters().drops[SAG_DROP_DUPLICATE] == 0);
}

TEST_CASE("5 ProbeSources: recent paths only; a full table forgets the stalest") {
  ProbeSources s;
  const uint64_t t = 10 * RoamGuard::kFlipHoldNs;
  CHECK(!s.recent(7, t));
  s.saw(7, t);
  CHECK(s.recent(7, t + 1));
  CHECK(!s.recent(7, t + ProbeSources::kRecentNs));
  for (uint32_t tag = 100; tag < 100 + ProbeSources::kSlots; ++tag) s.saw(tag, t + tag);  // 8 more
  CHECK(!s.recent(7, t + 200));  // the stalest slot went
  CHECK(s.recent(100, t + 200) && s.recent(107, t + 200));
  s.saw(100, t + 300);  // an existing path is refreshed in place
  s.saw(9, t + 301);    // and the new one takes the now stalest, 101
  CHECK(s.recent(100, t + 302) && s.recent(9, t + 302) && !s.recent(101, t + 302));
}

SAG_TEST_MAIN()
