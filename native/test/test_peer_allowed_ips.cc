// sag_dp_peer_allowed_ips through the C API: the read-back the control plane relies on instead of
// keeping its own copy. Table-driven: each case sets prefixes on peers in order (WireGuard's rule:
// a prefix set on another peer moves to it) and lists what each peer then reads back.
#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "sag/sag.h"
#include "sag/sag_testing.h"  // sag_dp_add_memory_domain: a second routing domain without a device

namespace {

// "10.0.0.0/8" or "fd00::/64" into a sag_prefix (a typo in a table aborts).
sag_prefix prefix(const std::string& text) {
  sag_prefix p{};
  size_t slash = text.find('/');
  std::string ip = text.substr(0, slash);
  p.family = ip.find(':') == std::string::npos ? 4 : 6;
  if (inet_pton(p.family == 4 ? AF_INET : AF_INET6, ip.c_str(), p.addr) != 1) std::abort();
  p.cidr = uint8_t(std::stoi(text.substr(slash + 1)));
  return p;
}

std::string text(const sag_prefix& p) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(p.family == 4 ? AF_INET : AF_INET6, p.addr, buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(p.cidr);
}

// Reads a peer's prefixes back, growing the buffer as the call says; "" joins them with ','.
std::string read_back(sag_dataplane* dp, uint32_t peer) {
  std::vector<sag_prefix> buf(1);
  int n = sag_dp_peer_allowed_ips(dp, peer, buf.data(), buf.size());
  if (n > int(buf.size())) {
    buf.resize(size_t(n));
    n = sag_dp_peer_allowed_ips(dp, peer, buf.data(), buf.size());
  }
  if (n < 0) return "error " + std::to_string(n);
  std::string out;
  for (int i = 0; i < n; ++i) out += (i ? "," : "") + text(buf[size_t(i)]);
  return out;
}

struct Step {
  int peer;  // 1 or 2
  std::vector<const char*> prefixes;
};
struct Case {
  const char* name;
  std::vector<Step> steps;
  const char* peer1;  // expected read-back
  const char* peer2;
};

const Case kCases[] = {
    {"1 nothing set reads back empty", {}, "", ""},
    {"2 IPv4 first, each family ascending, whatever the order given",
     {{1, {"fd00::/64", "10.2.0.0/16", "2001:db8::/32", "10.1.0.0/16", "0.0.0.0/0"}}},
     "0.0.0.0/0,10.1.0.0/16,10.2.0.0/16,2001:db8::/32,fd00::/64",
     ""},
    {"3 host bits are cleared", {{1, {"10.1.2.3/16", "fd00::1/64"}}}, "10.1.0.0/16,fd00::/64", ""},
    {"4 a duplicate is held once", {{1, {"10.0.0.1/32", "10.0.0.1/32"}}}, "10.0.0.1/32", ""},
    {"5 a prefix set on another peer moves to it",
     {{1, {"10.1.0.0/16", "10.2.0.0/16"}}, {2, {"10.2.0.0/16"}}},
     "10.1.0.0/16",
     "10.2.0.0/16"},
    {"6 setting replaces: what is left out is gone, and does not return to its old owner",
     {{1, {"10.1.0.0/16"}}, {2, {"10.1.0.0/16"}}, {2, {"10.3.0.0/16"}}},
     "",
     "10.3.0.0/16"},
    {"7 an overlapping but different prefix does not move",
     {{1, {"10.0.0.0/8"}}, {2, {"10.1.0.0/16", "10.0.0.0/9"}}},
     "10.0.0.0/8",
     "10.0.0.0/9,10.1.0.0/16"},
    {"8 an empty list clears", {{1, {"10.1.0.0/16", "::/0"}}, {1, {}}}, "", ""},
};

}  // namespace

TEST_CASE("1..8 the read-back table above") {
  for (const Case& c : kCases) {
    sag_dataplane* dp = nullptr;
    CHECK_EQ(sag_dp_create(nullptr, &dp), SAG_OK);
    uint8_t key1[32] = {1}, key2[32] = {2};
    uint32_t ids[3] = {};
    CHECK_EQ(sag_dp_add_peer(dp, key1, &ids[1]), SAG_OK);
    CHECK_EQ(sag_dp_add_peer(dp, key2, &ids[2]), SAG_OK);
    for (const Step& s : c.steps) {
      std::vector<sag_prefix> list;
      for (const char* p : s.prefixes) list.push_back(prefix(p));
      CHECK_EQ(sag_dp_set_allowed_ips(dp, ids[s.peer], list.data(), list.size()), SAG_OK);
    }
    std::string got1 = read_back(dp, ids[1]), got2 = read_back(dp, ids[2]);
    if (got1 != c.peer1 || got2 != c.peer2)
      sagtest::fail(__FILE__, __LINE__,
                    std::string(c.name) + ": peer 1 [" + got1 + "] peer 2 [" + got2 + "]");
    sag_dp_destroy(dp);
  }
}

TEST_CASE("9 the count comes back with a short or empty buffer; bad calls are refused") {
  sag_dataplane* dp = nullptr;
  CHECK_EQ(sag_dp_create(nullptr, &dp), SAG_OK);
  uint8_t key[32] = {1};
  uint32_t id = 0;
  CHECK_EQ(sag_dp_add_peer(dp, key, &id), SAG_OK);
  sag_prefix set[3] = {prefix("10.3.0.0/16"), prefix("10.1.0.0/16"), prefix("10.2.0.0/16")};
  CHECK_EQ(sag_dp_set_allowed_ips(dp, id, set, 3), SAG_OK);
  CHECK_EQ(sag_dp_peer_allowed_ips(dp, id, nullptr, 0), 3);
  sag_prefix two[2] = {};
  CHECK_EQ(sag_dp_peer_allowed_ips(dp, id, two, 2), 3);
  CHECK(text(two[0]) == "10.1.0.0/16" && text(two[1]) == "10.2.0.0/16");
  CHECK_EQ(sag_dp_peer_allowed_ips(dp, id + 1, two, 2), SAG_ENOENT);
  CHECK_EQ(sag_dp_peer_allowed_ips(dp, id, nullptr, 2), SAG_EINVAL);
  CHECK_EQ(sag_dp_peer_allowed_ips(nullptr, id, two, 2), SAG_EINVAL);
  sag_dp_destroy(dp);
}

TEST_CASE("10 a peer moved to another domain reads back its prefixes from there") {
  sag_dataplane* dp = nullptr;
  CHECK_EQ(sag_dp_create(nullptr, &dp), SAG_OK);
  uint8_t key[32] = {1};
  uint32_t id = 0, domain = 0;
  CHECK_EQ(sag_dp_add_peer(dp, key, &id), SAG_OK);
  sag_prefix set[2] = {prefix("fd00::/64"), prefix("10.1.0.0/16")};
  CHECK_EQ(sag_dp_set_allowed_ips(dp, id, set, 2), SAG_OK);
  CHECK_EQ(sag_dp_add_memory_domain(dp, &domain), SAG_OK);
  CHECK_EQ(sag_dp_set_peer_domain(dp, id, domain), SAG_OK);
  CHECK(read_back(dp, id) == "10.1.0.0/16,fd00::/64");
  sag_dp_destroy(dp);
}

SAG_TEST_MAIN()
