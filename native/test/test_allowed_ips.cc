// Tests for AllowedIps: table-driven match cases, removal rules, packet parsing, listing, and a
// randomized comparison against a brute-force longest-match reference.
#include "allowed_ips.h"

#include <arpa/inet.h>

#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "check.h"

using sag::AllowedIps;
using sag::Peer;

namespace {

Peer* P(int i) {
  return i == 0 ? nullptr : reinterpret_cast<Peer*>(uintptr_t(0x1000 + i));
}

struct Addr {
  int family = 0;
  uint8_t b[16] = {};
  uint8_t cidr = 0;
};

// "10.0.0.0/8", "2001:db8::/32" or a bare address (cidr = full length).
Addr parse(const std::string& text) {
  Addr a;
  std::string ip = text;
  size_t slash = text.find('/');
  if (slash != std::string::npos) ip = text.substr(0, slash);
  a.family = ip.find(':') == std::string::npos ? 4 : 6;
  int ok = inet_pton(a.family == 4 ? AF_INET : AF_INET6, ip.c_str(), a.b);
  if (ok != 1) std::abort();  // a typo in a test table
  a.cidr =
      uint8_t(slash == std::string::npos ? (a.family == 4 ? 32 : 128) : std::stoi(text.substr(slash + 1)));
  return a;
}

bool insert(AllowedIps& t, const char* prefix, int peer) {
  Addr a = parse(prefix);
  return t.insert(a.family, a.b, a.cidr, P(peer));
}

bool remove(AllowedIps& t, const char* prefix, int peer) {
  Addr a = parse(prefix);
  return t.remove(a.family, a.b, a.cidr, P(peer));
}

Peer* lookup(const AllowedIps& t, const char* addr) {
  Addr a = parse(addr);
  return a.family == 4 ? t.lookup_v4(a.b) : t.lookup_v6(a.b);
}

// Ownerless nodes join exactly two subtrees, so a family never needs more than 2*prefixes - 1 nodes.
bool node_bound_holds(const AllowedIps& t) {
  return t.node_count() <= 2 * t.prefix_count();
}

struct Route {
  const char* prefix;
  int peer;
};

struct MatchCase {
  const char* name;
  std::vector<Route> routes;
  const char* addr;
  int want;  // peer number, 0 = no match
};

const MatchCase kMatchCases[] = {
    {"1 exact /24", {{"10.1.2.0/24", 1}}, "10.1.2.3", 1},
    {"2 outside /24", {{"10.1.2.0/24", 1}}, "10.1.3.3", 0},
    {"3 longer prefix wins", {{"10.0.0.0/8", 1}, {"10.1.0.0/16", 2}}, "10.1.2.3", 2},
    {"4 shorter prefix when longer misses", {{"10.0.0.0/8", 1}, {"10.1.0.0/16", 2}}, "10.2.0.1", 1},
    {"5 insertion order irrelevant", {{"10.1.0.0/16", 2}, {"10.0.0.0/8", 1}}, "10.1.2.3", 2},
    {"6 v4 default route", {{"0.0.0.0/0", 1}, {"192.168.0.0/16", 2}}, "8.8.8.8", 1},
    {"7 v4 default loses to specific", {{"0.0.0.0/0", 1}, {"192.168.0.0/16", 2}}, "192.168.9.9", 2},
    {"8 /32 host", {{"10.0.0.0/8", 1}, {"10.0.0.7/32", 2}}, "10.0.0.7", 2},
    {"9 /32 neighbour falls back", {{"10.0.0.0/8", 1}, {"10.0.0.7/32", 2}}, "10.0.0.6", 1},
    {"10 v4 host bits masked", {{"10.1.2.3/8", 1}}, "10.200.0.1", 1},
    {"11 replacement by another peer", {{"10.0.0.0/8", 1}, {"10.0.0.0/8", 2}}, "10.9.9.9", 2},
    {"12 replacement via unmasked form", {{"10.0.0.0/8", 1}, {"10.7.7.7/8", 3}}, "10.0.0.1", 3},
    {"13 diverging siblings", {{"10.0.0.0/24", 1}, {"10.0.1.0/24", 2}, {"10.0.2.0/23", 3}}, "10.0.3.9", 3},
    {"14 sibling miss", {{"10.0.0.0/24", 1}, {"10.0.1.0/24", 2}}, "10.0.4.1", 0},
    {"15 /1 halves", {{"0.0.0.0/1", 1}, {"128.0.0.0/1", 2}}, "200.0.0.1", 2},
    {"16 /31 pair", {{"10.0.0.0/31", 1}, {"10.0.0.2/31", 2}}, "10.0.0.1", 1},
    {"17 empty table", {}, "1.1.1.1", 0},
    {"18 v6 exact /64", {{"2001:db8:1::/64", 1}}, "2001:db8:1::5", 1},
    {"19 v6 longer wins", {{"2001:db8::/32", 1}, {"2001:db8:1::/48", 2}}, "2001:db8:1:2::1", 2},
    {"20 v6 default route", {{"::/0", 1}, {"2001:db8::/32", 2}}, "fe80::1", 1},
    {"21 v6 /128 host", {{"::/0", 1}, {"2001:db8::1/128", 2}}, "2001:db8::1", 2},
    {"22 v6 /128 neighbour falls back", {{"::/0", 1}, {"2001:db8::1/128", 2}}, "2001:db8::2", 1},
    {"23 v6 host bits masked", {{"2001:db8::ffff/32", 1}}, "2001:db8:ffff::1", 1},
    {"24 v6 last bit decides", {{"2001:db8::/127", 1}, {"2001:db8::1/128", 2}}, "2001:db8::", 1},
    {"25 v6 bit 64 boundary",
     {{"2001:db8::/64", 1}, {"2001:db8:0:0:8000::/65", 2}},
     "2001:db8::8000:0:0:1",
     2},
    {"26 v4 default does not match v6", {{"0.0.0.0/0", 1}}, "::1", 0},
    {"27 v6 default does not match v4", {{"::/0", 1}}, "1.2.3.4", 0},
    {"28 v4-mapped v6 is not v4", {{"10.0.0.0/8", 1}}, "::ffff:10.0.0.1", 0},
    {"29 v4 and v6 side by side", {{"0.0.0.0/0", 1}, {"::/0", 2}}, "::ffff:10.0.0.1", 2},
};

TEST_CASE("match table") {
  for (const MatchCase& c : kMatchCases) {
    AllowedIps t;
    for (const Route& r : c.routes) CHECK(insert(t, r.prefix, r.peer));
    if (lookup(t, c.addr) != P(c.want)) std::fprintf(stderr, "  case: %s\n", c.name);
    CHECK(lookup(t, c.addr) == P(c.want));
    CHECK(node_bound_holds(t));
  }
}

TEST_CASE("invalid arguments refused") {
  AllowedIps t;
  uint8_t a[16] = {10};
  CHECK(!t.insert(5, a, 8, P(1)));
  CHECK(!t.insert(4, a, 33, P(1)));
  CHECK(!t.insert(6, a, 129, P(1)));
  CHECK(!t.insert(4, a, 8, nullptr));
  CHECK(!t.insert(4, nullptr, 8, P(1)));
  CHECK(!t.remove(4, a, 8, nullptr));
  CHECK(t.insert(4, a, 32, P(1)));
  CHECK(t.insert(6, a, 128, P(1)));
  CHECK_EQ(t.prefix_count(), 2u);
  CHECK(t.lookup_packet_dst(nullptr, 40) == nullptr);
}

struct RemoveStep {
  const char* op;  // "add", "del" (expects `ok`), "peer" (remove_peer), "look" (expects peer `arg`)
  const char* prefix;
  int arg;
  bool ok;
};

struct RemoveCase {
  const char* name;
  std::vector<RemoveStep> steps;
  size_t prefixes_after;
};

const RemoveCase kRemoveCases[] = {
    {"1 owner removes, lookup falls back",
     {{"add", "10.0.0.0/8", 1, true},
      {"add", "10.1.0.0/16", 2, true},
      {"del", "10.1.0.0/16", 2, true},
      {"look", "10.1.2.3", 1, true}},
     1},
    {"2 non-owner refused",
     {{"add", "10.1.0.0/16", 2, true}, {"del", "10.1.0.0/16", 3, false}, {"look", "10.1.2.3", 2, true}},
     1},
    {"3 old owner refused after replacement",
     {{"add", "10.1.0.0/16", 2, true},
      {"add", "10.1.0.0/16", 3, true},
      {"del", "10.1.0.0/16", 2, false},
      {"del", "10.1.0.0/16", 3, true},
      {"look", "10.1.2.3", 0, true}},
     0},
    {"4 other cidr refused",
     {{"add", "10.1.0.0/16", 2, true}, {"del", "10.1.0.0/15", 2, false}, {"del", "10.1.0.0/17", 2, false}},
     1},
    {"5 ownerless join node refused",
     {{"add", "10.0.0.0/24", 1, true}, {"add", "10.0.1.0/24", 1, true}, {"del", "10.0.0.0/23", 1, false}},
     2},
    {"6 host bits masked on remove", {{"add", "10.1.0.0/16", 2, true}, {"del", "10.1.99.99/16", 2, true}}, 0},
    {"7 remove middle of chain",
     {{"add", "10.0.0.0/8", 1, true},
      {"add", "10.1.0.0/16", 2, true},
      {"add", "10.1.1.0/24", 3, true},
      {"del", "10.1.0.0/16", 2, true},
      {"look", "10.1.1.1", 3, true},
      {"look", "10.1.2.1", 1, true}},
     2},
    {"8 remove_peer across families",
     {{"add", "10.0.0.0/8", 1, true},
      {"add", "10.1.0.0/16", 2, true},
      {"add", "2001:db8::/32", 2, true},
      {"add", "::/0", 1, true},
      {"peer", "", 2, true},
      {"look", "10.1.2.3", 1, true},
      {"look", "2001:db8::1", 1, true}},
     2},
    {"9 remove_peer of unknown peer",
     {{"add", "10.0.0.0/8", 1, true}, {"peer", "", 9, true}, {"look", "10.0.0.1", 1, true}},
     1},
    {"10 v4 remove leaves v6 alone",
     {{"add", "0.0.0.0/0", 1, true},
      {"add", "::/0", 1, true},
      {"del", "0.0.0.0/0", 1, true},
      {"look", "::1", 1, true},
      {"look", "1.1.1.1", 0, true}},
     1},
};

TEST_CASE("remove table") {
  for (const RemoveCase& c : kRemoveCases) {
    AllowedIps t;
    int failures_before = sagtest::failures();
    for (const RemoveStep& s : c.steps) {
      std::string op = s.op;
      if (op == "add") CHECK(insert(t, s.prefix, s.arg));
      if (op == "del") CHECK_EQ(remove(t, s.prefix, s.arg), s.ok);
      if (op == "peer") t.remove_peer(P(s.arg));
      if (op == "look") CHECK(lookup(t, s.prefix) == P(s.arg));
      CHECK(node_bound_holds(t));
    }
    CHECK_EQ(t.prefix_count(), c.prefixes_after);
    if (sagtest::failures() != failures_before) std::fprintf(stderr, "  case: %s\n", c.name);
  }
}

TEST_CASE("packets: src and dst for both versions, truncation") {
  AllowedIps t;
  CHECK(insert(t, "10.0.0.0/8", 1));       // v4 source side
  CHECK(insert(t, "192.168.0.0/16", 2));   // v4 destination side
  CHECK(insert(t, "2001:db8:1::/48", 3));  // v6 source side
  CHECK(insert(t, "2001:db8:2::/48", 4));  // v6 destination side

  uint8_t v4[20] = {0x45};
  std::memcpy(v4 + 12, parse("10.1.1.1").b, 4);
  std::memcpy(v4 + 16, parse("192.168.7.7").b, 4);
  uint8_t v6[40] = {0x60};
  std::memcpy(v6 + 8, parse("2001:db8:1::9").b, 16);
  std::memcpy(v6 + 24, parse("2001:db8:2::9").b, 16);
  uint8_t bad[40] = {0x50};

  struct Row {
    int n;
    const uint8_t* pkt;
    size_t len;
    int src;
    int dst;
  };
  const Row rows[] = {
      {1, v4, 20, 1, 2}, {2, v4, 19, 0, 0}, {3, v4, 0, 0, 0},   {4, v6, 40, 3, 4},
      {5, v6, 39, 0, 0}, {6, v6, 20, 0, 0}, {7, bad, 40, 0, 0}, {8, nullptr, 0, 0, 0},
  };
  for (const Row& r : rows) {
    bool ok = t.lookup_packet_src(r.pkt, r.len) == P(r.src) && t.lookup_packet_dst(r.pkt, r.len) == P(r.dst);
    if (!ok) std::fprintf(stderr, "  packet row %d\n", r.n);
    CHECK(ok);
  }
  uint8_t v4opts[60] = {};  // IHL 15: options do not move the addresses
  std::memcpy(v4opts, v4, 20);
  v4opts[0] = 0x4f;
  CHECK(t.lookup_packet_dst(v4opts, sizeof v4opts) == P(2));
}

std::string format(int family, const uint8_t* addr, uint8_t cidr) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(cidr);
}

TEST_CASE("for_each lists a peer's prefixes in order") {
  AllowedIps t;
  const char* mine[] = {"10.0.0.0/8", "10.1.0.0/16", "192.168.1.0/24", "::/0", "2001:db8::1/128"};
  for (const char* p : mine) CHECK(insert(t, p, 1));
  CHECK(insert(t, "10.2.0.0/16", 2));
  CHECK(insert(t, "172.16.5.5/12", 1));  // listed masked
  std::vector<std::string> got;
  t.for_each(P(1), [&](int fam, const uint8_t* a, uint8_t c) { got.push_back(format(fam, a, c)); });
  std::vector<std::string> want = {"10.0.0.0/8",     "10.1.0.0/16", "172.16.0.0/12",
                                   "192.168.1.0/24", "::/0",        "2001:db8::1/128"};
  CHECK(got == want);
  got.clear();
  t.for_each(nullptr, [&](int fam, const uint8_t* a, uint8_t c) { got.push_back(format(fam, a, c)); });
  CHECK(got.empty());
}

TEST_CASE("churn frees nodes; clear and move") {
  AllowedIps t;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 200; ++i) {
      uint8_t a[16] = {10, uint8_t(i), uint8_t(round), 0, 0x20, 0x01, uint8_t(i)};
      CHECK(t.insert(4, a, uint8_t(8 + i % 25), P(1 + i % 7)));
      CHECK(t.insert(6, a, uint8_t(i % 129), P(1 + i % 7)));
    }
    for (int p = 1; p <= 7; ++p) t.remove_peer(P(p));
    CHECK_EQ(t.node_count(), 0u);
    CHECK_EQ(t.prefix_count(), 0u);
  }
  CHECK(insert(t, "10.0.0.0/8", 1));
  AllowedIps moved(std::move(t));
  CHECK(lookup(moved, "10.0.0.1") == P(1));
  CHECK_EQ(t.node_count(), 0u);
  t = std::move(moved);
  CHECK(lookup(t, "10.0.0.1") == P(1));
  t.clear();
  CHECK_EQ(t.node_count(), 0u);
  CHECK(lookup(t, "10.0.0.1") == nullptr);
}

// ---- randomized comparison against a brute-force reference ----

struct RefEntry {
  Addr prefix;
  int peer;
};

void mask_bytes(uint8_t* b, int bytes, int cidr) {
  for (int i = 0; i < bytes; ++i) {
    int keep = std::min(8, std::max(0, cidr - 8 * i));
    b[i] &= uint8_t(0xff00 >> keep);
  }
}

bool covers(const Addr& p, const uint8_t* addr) {
  uint8_t tmp[16];
  std::memcpy(tmp, addr, 16);
  mask_bytes(tmp, p.family == 4 ? 4 : 16, p.cidr);
  return std::memcmp(tmp, p.b, p.family == 4 ? 4 : 16) == 0;
}

bool same_prefix(const Addr& a, const Addr& b) {
  return a.family == b.family && a.cidr == b.cidr && std::memcmp(a.b, b.b, 16) == 0;
}

int ref_lookup(const std::vector<RefEntry>& ref, int family, const uint8_t* addr) {
  int best = 0, best_cidr = -1;
  for (const RefEntry& e : ref)
    if (e.prefix.family == family && e.prefix.cidr > best_cidr && covers(e.prefix, addr)) {
      best = e.peer;
      best_cidr = e.prefix.cidr;
    }
  return best;
}

// Addresses cluster around a few bases with a couple of flipped bits, so prefixes nest and collide a lot.
Addr random_addr(std::mt19937& rng, int family) {
  static const char* kBases4[] = {"10.0.0.0", "10.0.128.0", "192.168.1.0", "255.255.255.255"};
  static const char* kBases6[] = {"2001:db8::", "2001:db8:0:1::", "fe80::", "2001:db8::ff00"};
  Addr a = parse(family == 4 ? kBases4[rng() % 4] : kBases6[rng() % 4]);
  int width = family == 4 ? 32 : 128;
  for (int flips = int(rng() % 4); flips > 0; --flips) {
    int bit = (rng() % 2) ? int(rng() % width) : width - 1 - int(rng() % 12);  // favour low bits
    a.b[bit / 8] ^= uint8_t(0x80 >> (bit % 8));
  }
  a.cidr = uint8_t(width);
  return a;
}

Addr random_prefix(std::mt19937& rng, int family) {
  Addr a = random_addr(rng, family);
  int width = family == 4 ? 32 : 128;
  int r = int(rng() % 10);
  a.cidr = uint8_t(r == 0 ? rng() % (width + 1) : r < 4 ? width - rng() % 4 : width - rng() % 20);
  mask_bytes(a.b, family == 4 ? 4 : 16, a.cidr);
  return a;
}

TEST_CASE("randomized against brute-force reference (seed 12345, 20000 ops)") {
  std::mt19937 rng(12345);
  AllowedIps t;
  std::vector<RefEntry> ref;
  int mismatches = 0, hits = 0, removed = 0, max_size = 0;
  for (int op = 0; op < 20000; ++op) {
    int family = (rng() % 2) ? 4 : 6;
    int kind = int(rng() % 1000);
    if (kind < 450) {  // insert (replaces an identical prefix's owner)
      Addr p = random_prefix(rng, family);
      int peer = 1 + int(rng() % 8);
      CHECK(t.insert(p.family, p.b, p.cidr, P(peer)));
      bool found = false;
      for (RefEntry& e : ref)
        if (same_prefix(e.prefix, p)) e.peer = peer, found = true;
      if (!found) ref.push_back({p, peer});
    } else if (kind < 700) {  // remove: usually an existing prefix, owner right or wrong
      Addr p = (!ref.empty() && rng() % 4 != 0) ? ref[rng() % ref.size()].prefix : random_prefix(rng, family);
      int peer = 1 + int(rng() % 8);
      for (const RefEntry& e : ref)
        if (same_prefix(e.prefix, p) && rng() % 2) peer = e.peer;
      bool expect = false;
      for (size_t i = 0; i < ref.size(); ++i)
        if (same_prefix(ref[i].prefix, p) && ref[i].peer == peer) {
          ref.erase(ref.begin() + long(i));
          expect = true;
          break;
        }
      if (t.remove(p.family, p.b, p.cidr, P(peer)) != expect) ++mismatches;
      removed += expect;
    } else if (kind < 703) {  // remove_peer
      int peer = 1 + int(rng() % 8);
      t.remove_peer(P(peer));
      std::vector<RefEntry> kept;
      for (const RefEntry& e : ref)
        if (e.peer != peer) kept.push_back(e);
      ref.swap(kept);
    } else {  // lookups
      Addr a = random_addr(rng, family);
      int want4 = ref_lookup(ref, 4, a.b), want6 = ref_lookup(ref, 6, a.b);
      if (t.lookup_v4(a.b) != P(want4) || t.lookup_v6(a.b) != P(want6)) ++mismatches;
      hits += (want4 != 0) + (want6 != 0);
    }
    if (t.prefix_count() != ref.size() || !node_bound_holds(t)) ++mismatches;
    max_size = std::max(max_size, int(ref.size()));
  }
  CHECK_EQ(mismatches, 0);
  std::printf("  random: %d lookup hits, %d removals, peak %d prefixes, final %zu prefixes / %zu nodes\n",
              hits, removed, max_size, ref.size(), t.node_count());
  CHECK(hits > 2000 && removed > 1000 && ref.size() > 100);  // the run really exercised a populated table

  // A peer's listing matches the reference.
  size_t listed = 0;
  for (int peer = 1; peer <= 8; ++peer)
    t.for_each(P(peer), [&](int fam, const uint8_t* a, uint8_t c) {
      Addr p;
      p.family = fam;
      std::memcpy(p.b, a, fam == 4 ? 4 : 16);
      p.cidr = c;
      bool ok = false;
      for (const RefEntry& e : ref) ok = ok || (same_prefix(e.prefix, p) && e.peer == peer);
      CHECK(ok);
      ++listed;
    });
  CHECK_EQ(listed, ref.size());

  // Removing everything one by one frees every node.
  for (const RefEntry& e : ref) CHECK(t.remove(e.prefix.family, e.prefix.b, e.prefix.cidr, P(e.peer)));
  CHECK_EQ(t.prefix_count(), 0u);
  CHECK_EQ(t.node_count(), 0u);
}

}  // namespace

SAG_TEST_MAIN()
