// Multipath classes with address rules (the 5-tuple's addresses): IPv4 and IPv6 prefixes per side,
// /0 and host prefixes, family never crossing, combined with DSCP/protocol/ports, keepalives, and
// the table checks (length, host bits, family, count).
#include <algorithm>
#include <cstring>
#include <initializer_list>

#include "check.h"
#include "paths.h"
#include "pipeline_fixture.h"

using namespace sagtest;

namespace {

sag_prefix v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t cidr) {
  sag_prefix p{};
  p.family = 4;
  p.addr[0] = a;
  p.addr[1] = b;
  p.addr[2] = c;
  p.addr[3] = d;
  p.cidr = cidr;
  return p;
}

// fd00:<tag>::<last>/cidr
sag_prefix v6(uint8_t tag, uint8_t last, uint8_t cidr) {
  sag_prefix p{};
  p.family = 6;
  p.addr[0] = 0xfd;
  p.addr[3] = tag;
  p.addr[15] = last;
  p.cidr = cidr;
  return p;
}

// A table with one path (id 7) and one class carrying the given address rules.
sag_selection with_prefixes(std::initializer_list<sag_prefix> src, std::initializer_list<sag_prefix> dst) {
  sag_selection s{};
  s.path_count = 1;
  s.paths[0] = {7, 1, to_api(ep4(192, 0, 2, 1, 1))};
  s.class_count = 1;
  auto& c = s.classes[0];
  c.path_count = 1;
  for (const sag_prefix& p : src) c.src_prefixes[c.src_prefix_count++] = p;
  for (const sag_prefix& p : dst) c.dst_prefixes[c.dst_prefix_count++] = p;
  return s;
}

std::vector<uint8_t> pkt4(std::initializer_list<uint8_t> src, std::initializer_list<uint8_t> dst,
                          uint16_t dport = 53, uint8_t dscp = 0) {
  uint8_t s[4], d[4];
  std::copy(src.begin(), src.end(), s);
  std::copy(dst.begin(), dst.end(), d);
  auto p = ipv4_packet(s, d, 64);
  p[1] = uint8_t(dscp << 2);
  p[20] = 0x30;
  p[21] = 0x39;  // source port 12345
  p[22] = uint8_t(dport >> 8);
  p[23] = uint8_t(dport);
  return p;
}

std::vector<uint8_t> pkt6(uint8_t src_tag, uint8_t src_last, uint8_t dst_tag, uint8_t dst_last) {
  sag_prefix s = v6(src_tag, src_last, 128), d = v6(dst_tag, dst_last, 128);
  return ipv6_packet(s.addr, d.addr, 64);
}

struct Table {
  Selection sel;
  std::string error;
  bool ok;
  explicit Table(const sag_selection& in) : ok(build_selection(in, &sel, &error)) {}
  bool matches(const std::vector<uint8_t>& p) const {
    return choose_paths(sel, flow_key(p.data(), p.size())).count == 1;
  }
  bool matches_keepalive() const { return choose_paths(sel, flow_key(nullptr, 0)).count == 1; }
};

}  // namespace

TEST_CASE("1 IPv4 prefixes: /16 source, /32 destination, several per side, /0") {
  Table t(with_prefixes({v4(10, 1, 0, 0, 16), v4(10, 3, 0, 0, 16)}, {v4(192, 0, 2, 9, 32)}));
  CHECK(t.ok);
  CHECK(t.matches(pkt4({10, 1, 200, 3}, {192, 0, 2, 9})));
  CHECK(t.matches(pkt4({10, 3, 0, 1}, {192, 0, 2, 9})));
  CHECK(!t.matches(pkt4({10, 2, 0, 1}, {192, 0, 2, 9})));   // source in neither
  CHECK(!t.matches(pkt4({10, 1, 0, 1}, {192, 0, 2, 10})));  // destination off by one
  Table any(with_prefixes({}, {v4(0, 0, 0, 0, 0)}));
  CHECK(any.ok);
  CHECK(any.matches(pkt4({1, 2, 3, 4}, {255, 255, 255, 255})));
  CHECK(!any.matches(pkt6(1, 1, 2, 2)));                  // an IPv4 /0 is every IPv4 address, no IPv6 one
  Table odd(with_prefixes({v4(10, 0, 0, 128, 25)}, {}));  // a length that is not a byte boundary
  CHECK(odd.ok);
  CHECK(odd.matches(pkt4({10, 0, 0, 200}, {1, 1, 1, 1})));
  CHECK(!odd.matches(pkt4({10, 0, 0, 127}, {1, 1, 1, 1})));
}

TEST_CASE("2 IPv6 prefixes: /64, /128, /0; families never cross") {
  Table t(with_prefixes({v6(1, 0, 64)}, {v6(2, 5, 128)}));
  CHECK(t.ok);
  CHECK(t.matches(pkt6(1, 77, 2, 5)));
  CHECK(!t.matches(pkt6(1, 77, 2, 6)));
  CHECK(!t.matches(pkt6(9, 77, 2, 5)));
  // An IPv4 packet whose address bytes equal the prefix's first bytes still does not match.
  sag_prefix any6{};
  any6.family = 6;  // ::/0
  Table v6any(with_prefixes({any6}, {}));
  CHECK(v6any.ok);
  CHECK(v6any.matches(pkt6(3, 3, 4, 4)));
  CHECK(!v6any.matches(pkt4({0xfd, 0, 0, 0}, {1, 1, 1, 1})));
  Table v4only(with_prefixes({v4(253, 0, 0, 0, 8)}, {}));
  CHECK(!v4only.matches(pkt6(1, 1, 2, 2)));  // fd00:... starts with byte 253, but is IPv6
  // Both families on one side: each packet is checked against the prefixes of its own family.
  Table dual(with_prefixes({}, {v4(192, 0, 2, 0, 24), v6(2, 0, 64)}));
  CHECK(dual.matches(pkt4({1, 1, 1, 1}, {192, 0, 2, 200})));
  CHECK(dual.matches(pkt6(1, 1, 2, 99)));
  CHECK(!dual.matches(pkt6(1, 1, 3, 99)));
}

TEST_CASE(
    "3 address rules combine with DSCP, protocol and ports; keepalives match only rules without addresses") {
  sag_selection in = with_prefixes({}, {v4(192, 0, 2, 0, 24)});
  auto& c = in.classes[0];
  c.dscp_mask = uint64_t(1) << 46;
  c.protocol = 17;
  c.dst_port_min = 5060;
  c.dst_port_max = 5060;
  Table t(in);
  CHECK(t.ok);
  CHECK(t.matches(pkt4({10, 0, 0, 1}, {192, 0, 2, 1}, 5060, 46)));
  CHECK(!t.matches(pkt4({10, 0, 0, 1}, {192, 0, 3, 1}, 5060, 46)));  // address
  CHECK(!t.matches(pkt4({10, 0, 0, 1}, {192, 0, 2, 1}, 5061, 46)));  // port
  CHECK(!t.matches(pkt4({10, 0, 0, 1}, {192, 0, 2, 1}, 5060, 0)));   // DSCP
  auto tcp = pkt4({10, 0, 0, 1}, {192, 0, 2, 1}, 5060, 46);
  tcp[9] = 6;
  CHECK(!t.matches(tcp));  // protocol
  CHECK(!t.matches_keepalive());
  Table open(with_prefixes({}, {}));
  CHECK(open.matches_keepalive());  // no address rule: every packet, as before
  CHECK(open.matches(pkt6(1, 1, 2, 2)));
  Table zero(with_prefixes({v4(0, 0, 0, 0, 0)}, {}));
  CHECK(!zero.matches_keepalive());  // even /0: a keepalive has no address
  uint8_t junk[3] = {0x45, 0, 0};    // too short for IPv4: not IP
  CHECK(choose_paths(zero.sel, flow_key(junk, sizeof junk)).count == 0);
}

TEST_CASE("4 prefixes are validated: length, host bits, family, count; first match still wins") {
  auto refused = [](const sag_selection& in, const char* why) {
    Table t(in);
    CHECK(!t.ok);
    if (t.error.find(why) == std::string::npos) std::fprintf(stderr, "  error was: %s\n", t.error.c_str());
    CHECK(t.error.find(why) != std::string::npos);
  };
  refused(with_prefixes({v4(10, 0, 0, 0, 33)}, {}), "prefix length 33 above 32");
  refused(with_prefixes({}, {v6(1, 0, 129)}), "prefix length 129 above 128");
  refused(with_prefixes({v4(10, 1, 2, 3, 16)}, {}), "10.1.2.3/16 has host bits set");
  refused(with_prefixes({}, {v6(1, 1, 64)}), "fd00:1::1/64 has host bits set");
  sag_prefix bad = v4(10, 0, 0, 0, 8);
  bad.family = 5;
  refused(with_prefixes({bad}, {}), "source prefix 0: prefix family must be 4 or 6");
  refused(with_prefixes({v4(10, 0, 0, 0, 8)}, {v6(1, 0, 64)}), "share no address family");
  sag_selection many = with_prefixes({}, {});
  many.classes[0].dst_prefix_count = SAG_MAX_CLASS_PREFIXES + 1;
  refused(many, "at most 8 destination prefixes");
  // Mixed families that do intersect are fine.
  CHECK(Table(with_prefixes({v4(10, 0, 0, 0, 8), v6(1, 0, 64)}, {v6(2, 0, 64)})).ok);
  // Bytes past an IPv4 address are not part of it.
  sag_prefix tail = v4(10, 0, 0, 0, 8);
  tail.addr[9] = 1;
  CHECK(Table(with_prefixes({tail}, {})).ok);

  sag_selection two = with_prefixes({}, {v4(192, 0, 2, 0, 24)});
  two.path_count = 2;
  two.paths[1] = {8, 1, to_api(ep4(192, 0, 2, 2, 2))};
  two.class_count = 2;
  two.classes[1] = {};
  two.classes[1].path_count = 1;
  two.classes[1].path_index[0] = 1;  // the catch-all after the address class
  Table t(two);
  CHECK(t.ok);
  auto path = [&](const std::vector<uint8_t>& p) {
    return choose_paths(t.sel, flow_key(p.data(), p.size())).path[0]->id;
  };
  CHECK_EQ(path(pkt4({10, 0, 0, 1}, {192, 0, 2, 1})), 7u);
  CHECK_EQ(path(pkt4({10, 0, 0, 1}, {198, 51, 100, 1})), 8u);
  CHECK_EQ(path(pkt6(1, 1, 2, 2)), 8u);
}

SAG_TEST_MAIN()
