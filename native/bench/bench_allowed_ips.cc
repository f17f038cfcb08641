// Benchmark for AllowedIps: insert 100,000 IPv4 and 100,000 IPv6 random prefixes spread over ~1000 peers,
// then look up random addresses for about one second per family. Prints a human summary and one JSON line.
// Half of the lookup addresses are drawn inside inserted prefixes (deep, successful walks), half at random.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "allowed_ips.h"

using sag::AllowedIps;
using sag::Peer;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kPrefixes = 100000;
constexpr int kPeers = 1000;
constexpr size_t kAddrPool = 1 << 20;  // pre-generated so the timed loop measures lookups, not the RNG

struct Prefix {
  uint8_t b[16];
  uint8_t cidr;
};

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

void random_bytes(std::mt19937_64& rng, uint8_t* out, int n) {
  for (int i = 0; i < n; ++i) out[i] = uint8_t(rng());
}

// kPrefixes distinct prefixes. IPv4: anywhere, cidr 8..32. IPv6: inside 2001:db8::/32 (a shared upper
// part, as in a real deployment), cidr 48..128.
std::vector<Prefix> make_prefixes(std::mt19937_64& rng, int family) {
  std::vector<Prefix> v;
  std::unordered_set<std::string> seen;
  while (v.size() < size_t(kPrefixes)) {
    Prefix p = {};
    if (family == 4) {
      random_bytes(rng, p.b, 4);
      p.cidr = uint8_t(8 + rng() % 25);
    } else {
      random_bytes(rng, p.b, 16);
      p.b[0] = 0x20, p.b[1] = 0x01, p.b[2] = 0x0d, p.b[3] = 0xb8;
      p.cidr = uint8_t(48 + rng() % 81);
    }
    for (int bit = p.cidr; bit < 128; ++bit) p.b[bit / 8] = uint8_t(p.b[bit / 8] & ~(0x80 >> (bit % 8)));
    if (seen.insert(std::string(reinterpret_cast<const char*>(p.b), 16) + char(p.cidr)).second)
      v.push_back(p);
  }
  return v;
}

// Even entries: an inserted prefix with random host bits. Odd entries: random in the same space.
std::vector<uint8_t> make_addresses(std::mt19937_64& rng, const std::vector<Prefix>& prefixes, int family) {
  int n = family == 4 ? 4 : 16;
  std::vector<uint8_t> pool(kAddrPool * size_t(n));
  for (size_t i = 0; i < kAddrPool; ++i) {
    uint8_t* a = &pool[i * size_t(n)];
    random_bytes(rng, a, n);
    if (family == 6) a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
    if (i % 2) continue;
    const Prefix& p = prefixes[rng() % prefixes.size()];
    for (int bit = 0; bit < p.cidr; ++bit) {
      uint8_t m = uint8_t(0x80 >> (bit % 8));
      a[bit / 8] = uint8_t((a[bit / 8] & ~m) | (p.b[bit / 8] & m));
    }
  }
  return pool;
}

struct LookupResult {
  double per_sec;
  double hit_rate;
};

LookupResult time_lookups(const AllowedIps& t, const std::vector<uint8_t>& pool, int family) {
  size_t n = family == 4 ? 4 : 16;
  uint64_t lookups = 0, hits = 0;
  uintptr_t sink = 0;  // keeps the results observable so nothing is optimised away
  Clock::time_point t0 = Clock::now();
  double elapsed = 0;
  while (elapsed < 1000.0) {
    for (size_t i = 0; i < kAddrPool; i += 1) {
      Peer* p = family == 4 ? t.lookup_v4(&pool[i * n]) : t.lookup_v6(&pool[i * n]);
      sink ^= reinterpret_cast<uintptr_t>(p);
      hits += p != nullptr;
      if ((i & 0xffff) == 0xffff && (elapsed = ms_since(t0)) >= 1000.0) {
        lookups += i + 1;
        goto done;
      }
    }
    lookups += kAddrPool;
    elapsed = ms_since(t0);
  }
done:
  if (sink == 1) std::printf("(sink)\n");
  return {double(lookups) / (elapsed / 1000.0), double(hits) / double(lookups)};
}

}  // namespace

int main() {
  std::mt19937_64 rng(42);
  std::vector<Prefix> v4 = make_prefixes(rng, 4), v6 = make_prefixes(rng, 6);
  AllowedIps t;

  Clock::time_point t0 = Clock::now();
  for (int i = 0; i < kPrefixes; ++i)
    t.insert(4, v4[size_t(i)].b, v4[size_t(i)].cidr, reinterpret_cast<Peer*>(uintptr_t(0x1000 + i % kPeers)));
  double insert4_ms = ms_since(t0);
  size_t prefixes4 = t.prefix_count(), nodes4 = t.node_count(), bytes4 = t.memory_bytes();
  t0 = Clock::now();
  for (int i = 0; i < kPrefixes; ++i)
    t.insert(6, v6[size_t(i)].b, v6[size_t(i)].cidr, reinterpret_cast<Peer*>(uintptr_t(0x1000 + i % kPeers)));
  double insert6_ms = ms_since(t0);
  size_t prefixes6 = t.prefix_count() - prefixes4, nodes6 = t.node_count() - nodes4;
  size_t bytes6 = t.memory_bytes() - bytes4;

  std::printf("insert: v4 %zu distinct prefixes in %.1f ms, v6 %zu in %.1f ms\n", prefixes4, insert4_ms,
              prefixes6, insert6_ms);
  std::printf("memory: v4 %zu nodes = %.2f MiB, v6 %zu nodes = %.2f MiB (node_count * sizeof node)\n", nodes4,
              double(bytes4) / 1048576.0, nodes6, double(bytes6) / 1048576.0);

  std::vector<uint8_t> pool4 = make_addresses(rng, v4, 4), pool6 = make_addresses(rng, v6, 6);
  LookupResult r4 = time_lookups(t, pool4, 4);
  LookupResult r6 = time_lookups(t, pool6, 6);
  std::printf("lookup: v4 %.2f M/s (%.0f%% hits), v6 %.2f M/s (%.0f%% hits)\n", r4.per_sec / 1e6,
              r4.hit_rate * 100, r6.per_sec / 1e6, r6.hit_rate * 100);

  std::printf(
      "{\"bench\":\"allowed_ips\",\"prefixes_v4\":%zu,\"prefixes_v6\":%zu,\"lookups_per_sec_v4\":%.0f,"
      "\"lookups_per_sec_v6\":%.0f,\"insert_ms\":%.1f}\n",
      prefixes4, prefixes6, r4.per_sec, r6.per_sec, insert4_ms + insert6_ms);
  return 0;
}
