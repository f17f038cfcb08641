// Multipath: selection tables (classes, per-flow hashing, weights, duplicate, fallback) and
// probes (parse, echo, RTT event, no roaming, replay and forgery dropped) through the pipeline.
#include <map>

#include "check.h"
#include "paths.h"
#include "pipeline_fixture.h"

using namespace sagtest;

namespace {

sag_endpoint api(const Endpoint& e) {
  return to_api(e);
}

std::vector<uint8_t> udp_packet(const uint8_t src[4], const uint8_t dst[4], uint16_t sport, uint16_t dport,
                                uint8_t dscp = 0) {
  auto p = ipv4_packet(src, dst, 64);
  p[1] = uint8_t(dscp << 2);
  p[20] = uint8_t(sport >> 8);
  p[21] = uint8_t(sport);
  p[22] = uint8_t(dport >> 8);
  p[23] = uint8_t(dport);
  return p;
}

// One class over paths 0..n-1 of a table whose paths lead to the given endpoints on one uplink.
sag_selection table(uint32_t uplink, const std::vector<Endpoint>& to, uint8_t mode,
                    std::vector<uint32_t> weights = {}) {
  sag_selection s{};
  s.path_count = uint32_t(to.size());
  for (size_t i = 0; i < to.size(); ++i) s.paths[i] = {uint32_t(10 + i), uplink, api(to[i])};
  s.class_count = 1;
  auto& c = s.classes[0];
  c.mode = mode;
  c.path_count = uint8_t(mode == SAG_SELECT_DUPLICATE ? 2 : (mode == SAG_SELECT_SINGLE ? 1 : to.size()));
  for (int i = 0; i < c.path_count; ++i) {
    c.path_index[i] = uint8_t(i);
    c.weight[i] = weights.empty() ? 1 : weights[size_t(i)];
  }
  return s;
}

}  // namespace

TEST_CASE("1 flow key: DSCP, protocol, ports; a flow hashes the same every time, flows spread") {
  uint8_t s[4] = {10, 0, 0, 1}, d[4] = {10, 0, 0, 2};
  auto k = flow_key(udp_packet(s, d, 1000, 53, 46).data(), 64);
  CHECK_EQ(int(k.dscp), 46);
  CHECK_EQ(int(k.protocol), 17);
  CHECK(k.has_ports);
  CHECK_EQ(k.src_port, 1000);
  CHECK_EQ(k.dst_port, 53);
  CHECK_EQ(k.hash, flow_key(udp_packet(s, d, 1000, 53, 46).data(), 64).hash);
  CHECK(k.hash != flow_key(udp_packet(s, d, 1001, 53, 46).data(), 64).hash);
  auto none = flow_key(nullptr, 0);  // keepalive
  CHECK_EQ(int(none.protocol), 0);
  CHECK(!none.has_ports);
}

TEST_CASE(
    "2 classes: first match wins; DSCP set and port rules; unmatched packets use the roaming endpoint") {
  sag_selection in{};
  in.path_count = 2;
  in.paths[0] = {1, 1, api(ep4(192, 0, 2, 1, 1))};
  in.paths[1] = {2, 1, api(ep4(192, 0, 2, 2, 2))};
  in.class_count = 2;
  in.classes[0] = {};
  in.classes[0].dscp_mask = uint64_t(1) << 46;  // EF: voice
  in.classes[0].path_count = 1;
  in.classes[0].path_index[0] = 1;
  in.classes[1] = {};
  in.classes[1].protocol = 17;
  in.classes[1].dst_port_min = 5000;
  in.classes[1].dst_port_max = 5999;
  in.classes[1].path_count = 1;
  Selection sel;
  std::string err;
  CHECK(build_selection(in, &sel, &err));
  uint8_t s[4] = {10, 0, 0, 1}, d[4] = {10, 0, 0, 2};
  auto pick = [&](const std::vector<uint8_t>& p) {
    PathChoice c = choose_paths(sel, flow_key(p.data(), p.size()));
    return c.count ? int(c.path[0]->id) : 0;
  };
  CHECK_EQ(pick(udp_packet(s, d, 1, 5060, 46)), 2);
  CHECK_EQ(pick(udp_packet(s, d, 1, 5060, 0)), 1);
  CHECK_EQ(pick(udp_packet(s, d, 1, 6000, 0)), 0);
  CHECK_EQ(choose_paths(sel, flow_key(nullptr, 0)).count, 0);
}

TEST_CASE("3 weighted: each flow keeps one path; flows split by weight 3:1") {
  Selection sel;
  std::string err;
  CHECK(build_selection(table(1, {ep4(1, 1, 1, 1, 1), ep4(2, 2, 2, 2, 2)}, SAG_SELECT_WEIGHTED, {3, 1}), &sel,
                        &err));
  uint8_t s[4] = {10, 0, 0, 1}, d[4] = {10, 0, 0, 2};
  std::map<uint32_t, int> per_path;
  for (uint16_t port = 1; port <= 4000; ++port) {
    auto p = udp_packet(s, d, port, 443);
    uint32_t first = choose_paths(sel, flow_key(p.data(), p.size())).path[0]->id;
    for (int again = 0; again < 3; ++again)
      CHECK_EQ(choose_paths(sel, flow_key(p.data(), p.size())).path[0]->id, first);
    ++per_path[first];
  }
  CHECK(per_path[10] > 2800 && per_path[10] < 3200);  // 3000 expected
  CHECK(per_path[11] > 800 && per_path[11] < 1200);
}

TEST_CASE("4 tables are validated: indexes, weights, duplicate needs two paths, ids unique, ports") {
  Selection sel;
  std::string err;
  auto t = table(1, {ep4(1, 1, 1, 1, 1)}, SAG_SELECT_SINGLE);
  t.classes[0].path_index[0] = 3;
  CHECK(!build_selection(t, &sel, &err));
  t = table(1, {ep4(1, 1, 1, 1, 1), ep4(2, 2, 2, 2, 2)}, SAG_SELECT_WEIGHTED, {0, 1});
  CHECK(!build_selection(t, &sel, &err));
  t = table(1, {ep4(1, 1, 1, 1, 1), ep4(2, 2, 2, 2, 2)}, SAG_SELECT_DUPLICATE);
  t.classes[0].path_count = 1;
  CHECK(!build_selection(t, &sel, &err));
  t = table(1, {ep4(1, 1, 1, 1, 1), ep4(2, 2, 2, 2, 2)}, SAG_SELECT_SINGLE);
  t.paths[1].id = t.paths[0].id;
  CHECK(!build_selection(t, &sel, &err));
  t = table(1, {ep4(1, 1, 1, 1, 1)}, SAG_SELECT_SINGLE);
  t.classes[0].dst_port_min = 9;
  t.classes[0].dst_port_max = 8;
  CHECK(!build_selection(t, &sel, &err));
  t.classes[0].mode = 7;
  CHECK(!build_selection(t, &sel, &err));
  CHECK(err.find("class 0") != std::string::npos);
}

TEST_CASE("5 pipeline: single path moves traffic to another address; duplicate sends twice, delivered once") {
  Pair p;
  auto alt = p.net.bind(ep4(192, 0, 2, 99, 7000));  // where a second path of B would be
  auto s = table(p.a.uplink, {ep4(192, 0, 2, 99, 7000)}, SAG_SELECT_SINGLE);
  CHECK(p.a.dp->set_selection(p.a.peer, &s).ok());
  auto pkt = udp_packet(p.ip_a, p.ip_b, 1, 2);
  p.a.tun->inject(pkt.data(), pkt.size());
  uint8_t buf[2048];
  Datagram d{buf, 0, {}};
  CHECK(wait_for([&] { return alt->recv_batch(&d, sizeof buf, 1) == 1; }));
  CHECK(d.len > 32);
  // A probes over the alternative path (a duplicating peer is a probing one), then duplicates over
  // B's real address and the alternative one: sealed once (same counter).
  auto probe = p.forge_probe(900);
  Datagram probe_from_alt{probe.data(), probe.size(), p.b.addr};
  alt->send_batch(&probe_from_alt, 1, nullptr);
  CHECK(wait_for([&] { return p.b.peer_counters().rx_keepalives >= 1; }));
  auto dup = table(p.a.uplink, {p.b.addr, ep4(192, 0, 2, 99, 7000)}, SAG_SELECT_DUPLICATE);
  CHECK(p.a.dp->set_selection(p.a.peer, &dup).ok());
  p.a.tun->inject(pkt.data(), pkt.size());
  std::vector<uint8_t> got;
  CHECK(p.b.take(&got));
  Datagram d2{buf, 0, {}};
  CHECK(wait_for([&] { return alt->recv_batch(&d2, sizeof buf, 1) == 1; }));
  // The second copy reaching B over the other path, one A probes over: the replay window drops
  // it, counted as a duplicate (not a replay), and nothing more reaches the TUN.
  Datagram copy{buf, d2.len, p.b.addr};
  alt->send_batch(&copy, 1, nullptr);
  CHECK(wait_for([&] { return p.b.peer_counters().drops[SAG_DROP_DUPLICATE] == 1; }));
  CHECK(p.b.peer_counters().drops[SAG_DROP_REPLAY] == 0);
  CHECK(!p.b.tun->take(&got));
  // A path on a removed uplink falls back to the roaming endpoint; removing the table too.
  auto gone = table(999, {ep4(192, 0, 2, 99, 7000)}, SAG_SELECT_SINGLE);
  CHECK(p.a.dp->set_selection(p.a.peer, &gone).ok());
  p.a.tun->inject(pkt.data(), pkt.size());
  CHECK(p.b.take(&got));
  CHECK(p.a.dp->set_selection(p.a.peer, nullptr).ok());
  p.a.tun->inject(pkt.data(), pkt.size());
  CHECK(p.b.take(&got));
  CHECK_EQ(p.a.dp->set_selection(12345, nullptr).code, int(SAG_ENOENT));
}

TEST_CASE("6 probe: echoed natively, reply event with path id, sequence and RTT; no roaming, no TUN") {
  Pair p;
  // B must know A's session first (its keypair is "next" until A's first message confirms it).
  CHECK(p.a.dp->send_probe(p.a.peer, p.a.uplink, p.b.addr, 7, 42).ok());
  std::vector<sag_event> evs;
  CHECK(wait_for([&] {
    for (auto& e : p.a.events()) evs.push_back(e);
    for (auto& e : evs)
      if (e.type == SAG_EVENT_PROBE_REPLY) return true;
    return false;
  }));
  for (auto& e : evs) {
    if (e.type != SAG_EVENT_PROBE_REPLY) continue;
    CHECK_EQ(e.index, 7u);
    CHECK_EQ(e.len, 16u);
    CHECK_EQ(wire::load_le64(e.data), 42u);
    CHECK(wire::load_le64(e.data + 8) < 2000000000ull);
    CHECK_EQ(e.uplink_id, p.a.uplink);
  }
  std::vector<uint8_t> got;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(!p.b.tun->take(&got));
  CHECK(!p.a.tun->take(&got));
  for (auto& e : p.b.events()) CHECK(e.type != SAG_EVENT_ENDPOINT_CHANGED);
  CHECK_EQ(p.b.peer_counters().rx_packets, 1u);
  CHECK_EQ(p.b.peer_counters().rx_keepalives, 1u);  // probes are non-data for the timers
  CHECK_EQ(p.a.peer_counters().tx_keepalives, 1u);
}

TEST_CASE(
    "7 probe from another address is answered there and does not roam; replayed and forged probes are "
    "dropped") {
  Pair p;
  auto other = p.net.bind(ep4(198, 51, 100, 5, 6000));
  uint8_t req[wire::kProbeSize];
  wire::write_probe(req, {wire::kProbeRequest, 3, 9, 12345});
  auto d = p.forge(std::vector<uint8_t>(req, req + sizeof req), 77);
  Datagram g{d.data(), d.size(), p.b.addr};
  other->send_batch(&g, 1, nullptr);
  uint8_t buf[2048];
  Datagram in{buf, 0, {}};
  CHECK(wait_for([&] { return other->recv_batch(&in, sizeof buf, 1) == 1; }));
  CHECK_EQ(in.len, size_t(64));
  // The reply decrypts under B->A's key and echoes the fields.
  Aead aead;
  uint64_t counter = wire::load_le64(buf + 8);
  CHECK(aead.open(p.key2, counter, buf + 16, in.len - 16, buf + 16));
  wire::Probe r{};
  CHECK(wire::parse_probe(buf + 16, 32, &r));
  CHECK_EQ(int(r.kind), int(wire::kProbeReply));
  CHECK_EQ(r.path_id, 3u);
  CHECK_EQ(r.sequence, 9u);
  CHECK_EQ(r.sent_ns, 12345u);
  for (auto& e : p.b.events()) CHECK(e.type != SAG_EVENT_ENDPOINT_CHANGED);
  other->send_batch(&g, 1, nullptr);  // replay
  auto forged = d;
  forged[40] ^= 1;
  forged[8] = 78;  // fresh counter, broken ciphertext
  Datagram f{forged.data(), forged.size(), p.b.addr};
  other->send_batch(&f, 1, nullptr);
  CHECK(wait_for([&] {
    auto c = p.b.peer_counters();
    return c.drops[SAG_DROP_REPLAY] == 1 && c.drops[SAG_DROP_BAD_AUTH] == 1;
  }));
  CHECK(!other->recv_batch(&in, sizeof buf, 1));
  // Not a probe: a wrong kind or non-zero reserved bytes.
  wire::Probe x{};
  req[0] = 0x53;
  CHECK(!wire::parse_probe(req, sizeof req, &x));
  req[0] = wire::kProbeRequest;
  req[2] = 1;
  CHECK(!wire::parse_probe(req, sizeof req, &x));
  CHECK(!wire::parse_probe(req, 23, &x));
}

TEST_CASE("8 probe without a session is refused with ESTATE; unknown peer or uplink ENOENT") {
  Pair p(false);
  CHECK_EQ(p.a.dp->send_probe(p.a.peer, p.a.uplink, p.b.addr, 1, 1).code, int(SAG_ESTATE));
  CHECK_EQ(p.a.dp->send_probe(999, p.a.uplink, p.b.addr, 1, 1).code, int(SAG_ENOENT));
  CHECK_EQ(p.a.dp->send_probe(p.a.peer, 999, p.b.addr, 1, 1).code, int(SAG_ENOENT));
}

SAG_TEST_MAIN()
