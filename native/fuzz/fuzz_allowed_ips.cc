// libFuzzer target: the allowed-IPs trie (allowed_ips.h) against a brute-force reference.
//
// Input: a sequence of operations (at most kMaxOps; trailing bytes that do not form a whole
// operation are ignored). Each operation starts with an opcode byte b:
//   kind = (b & 0x0f) % 14, peer = b >> 6 (0..2: one of three peers, 3: nullptr)
// followed by its arguments. A "cidr byte" c means c % (width + 1) when c < 0x80 (valid), else c
// itself (mostly invalid: exercises the rejection paths).
//   0 insert v4      cidr byte, 4 address bytes
//   1 insert v6      cidr byte, 16 address bytes
//   2 remove v4      cidr byte, 4 address bytes
//   3 remove v6      cidr byte, 16 address bytes
//   4 remove_peer    (peer only)
//   5 lookup v4      4 address bytes
//   6 lookup v6      16 address bytes
//   7 lookup_packet  length byte L (L % 64), then L packet bytes: lookup_packet_src and _dst
//   8 clear
//   9 move           move-construct a new table from it, then move-assign it back
//  10 for_each       for_each(peer) must list exactly the peer's prefixes, IPv4 first, ascending
//  11 insert near    index byte i, cidr byte, flip byte f: a prefix derived from reference entry
//                    i % n (same family, address with bit f % width flipped unless f == 0xff)
//  12 remove near    index byte i, cidr byte (0xff: the entry's own cidr), peer as in the opcode
//  13 lookup near    index byte i, flip byte f: probes around entry i % n
// "near" operations let the fuzzer build nested and sibling prefixes without guessing addresses;
// with an empty reference they fall back to the zero address.
//
// Invariants, checked after every operation:
//  - insert/remove return what the reference says (false for a bad family/cidr or a null peer,
//    remove only when the exact prefix exists and is owned by that peer) and change exactly what
//    the reference changes; lookups equal the brute-force longest-prefix match;
//  - prefix_count() equals the reference size; node_count() equals the size of the canonical
//    path-compressed trie (prefixes plus one ownerless node per branching point), so removals
//    free every node no longer needed and nothing leaks;
//  - probes at the first and last address of every prefix, one beyond each end, and across the
//    first host bit all match the reference (all prefixes while there are at most 64, else the
//    ones the operation touched plus a rotating sample).
// ASan/LSan catch use-after-free and leaks on the way.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <tuple>
#include <vector>

#include "allowed_ips.h"
#include "peer.h"

namespace {

using sag::AllowedIps;
using sag::Peer;
__extension__ typedef unsigned __int128 u128;

constexpr size_t kMaxOps = 512;

[[noreturn]] void fail(const char* what, long a = 0, long b = 0) {
  std::fprintf(stderr, "fuzz_allowed_ips invariant violated: %s (%ld, %ld)\n", what, a, b);
  std::abort();
}
#define REQUIRE(cond, ...)                   \
  do {                                       \
    if (!(cond)) fail(#cond, ##__VA_ARGS__); \
  } while (0)

Peer g_peers[3];
Peer* peer_of(int sel) {
  return sel < 3 ? &g_peers[sel] : nullptr;
}
long peer_no(const Peer* p) {
  return p ? long(p - g_peers) : -1;
}

unsigned width(int family) {
  return family == 4 ? 32 : 128;
}

// Addresses as 128-bit integers, IPv4 in the low 32 bits; bytes in network order.
u128 load(int family, const uint8_t* a) {
  u128 k = 0;
  for (unsigned i = 0; i < (family == 4 ? 4u : 16u); ++i) k = (k << 8) | a[i];
  return k;
}
void store(int family, u128 k, uint8_t* out) {
  for (unsigned i = (family == 4 ? 4u : 16u); i-- > 0;) {
    out[i] = uint8_t(k);
    k >>= 8;
  }
}
u128 all_ones(int family) {
  return family == 4 ? u128(0xffffffffu) : ~u128(0);
}
u128 mask(int family, unsigned cidr) {
  unsigned w = width(family);
  if (cidr == 0) return 0;
  return (all_ones(family) << (w - cidr)) & all_ones(family);
}

struct Entry {
  int family;
  u128 key;  // masked to cidr
  unsigned cidr;
  Peer* peer;
};

struct Reference {
  std::vector<Entry> entries;

  Entry* find(int family, u128 key, unsigned cidr) {
    for (auto& e : entries)
      if (e.family == family && e.key == key && e.cidr == cidr) return &e;
    return nullptr;
  }
  static bool valid(int family, unsigned cidr) {
    return (family == 4 || family == 6) && cidr <= width(family);
  }
  bool insert(int family, u128 addr, unsigned cidr, Peer* peer) {
    if (!peer || !valid(family, cidr)) return false;
    u128 key = addr & mask(family, cidr);
    if (Entry* e = find(family, key, cidr))
      e->peer = peer;
    else
      entries.push_back({family, key, cidr, peer});
    return true;
  }
  bool remove(int family, u128 addr, unsigned cidr, Peer* peer) {
    if (!peer || !valid(family, cidr)) return false;
    u128 key = addr & mask(family, cidr);
    for (size_t i = 0; i < entries.size(); ++i) {
      Entry& e = entries[i];
      if (e.family == family && e.key == key && e.cidr == cidr) {
        if (e.peer != peer) return false;
        entries.erase(entries.begin() + long(i));
        return true;
      }
    }
    return false;
  }
  void remove_peer(Peer* peer) {
    if (!peer) return;
    entries.erase(
        std::remove_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.peer == peer; }),
        entries.end());
  }
  Peer* lookup(int family, u128 addr) const {
    const Entry* best = nullptr;
    for (auto& e : entries)
      if (e.family == family && (addr & mask(family, e.cidr)) == e.key && (!best || e.cidr > best->cidr))
        best = &e;
    return best ? best->peer : nullptr;
  }
  size_t count(int family) const {
    return size_t(
        std::count_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.family == family; }));
  }
  // Nodes of the canonical path-compressed trie: every prefix, plus each branching point (the
  // common prefix of two prefixes that diverge below both) that is not itself a prefix.
  size_t canonical_nodes() const {
    std::vector<std::tuple<int, u128, unsigned>> nodes;
    for (auto& e : entries) nodes.emplace_back(e.family, e.key, e.cidr);
    for (size_t i = 0; i < entries.size(); ++i)
      for (size_t j = i + 1; j < entries.size(); ++j) {
        const Entry& x = entries[i];
        const Entry& y = entries[j];
        if (x.family != y.family) continue;
        unsigned w = width(x.family);
        u128 diff = x.key ^ y.key;
        unsigned common = 0;
        while (common < w && !((diff >> (w - 1 - common)) & 1)) ++common;
        common = std::min({common, x.cidr, y.cidr});
        if (common < x.cidr && common < y.cidr)
          nodes.emplace_back(x.family, x.key & mask(x.family, common), common);
      }
    std::sort(nodes.begin(), nodes.end());
    return size_t(std::unique(nodes.begin(), nodes.end()) - nodes.begin());
  }
};

class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  bool has(size_t k) const { return n_ - i_ >= k; }
  uint8_t byte() { return p_[i_++]; }
  const uint8_t* take(size_t k) {
    const uint8_t* r = p_ + i_;
    i_ += k;
    return r;
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t i_ = 0;
};

Peer* table_lookup(const AllowedIps& t, int family, u128 addr) {
  uint8_t a[16];
  store(family, addr, a);
  return family == 4 ? t.lookup_v4(a) : t.lookup_v6(a);
}

void probe(const AllowedIps& t, const Reference& ref, int family, u128 addr) {
  addr &= all_ones(family);
  Peer* got = table_lookup(t, family, addr);
  Peer* want = ref.lookup(family, addr);
  if (got != want) {
    std::fprintf(stderr, "lookup v%d %016llx%016llx: table says peer %ld, reference %ld\n", family,
                 (unsigned long long)(addr >> 64), (unsigned long long)addr, peer_no(got), peer_no(want));
    fail("lookup differs from the reference");
  }
}

void probe_around(const AllowedIps& t, const Reference& ref, const Entry& e) {
  u128 host = ~mask(e.family, e.cidr) & all_ones(e.family);
  u128 first = e.key, last = e.key | host;
  probe(t, ref, e.family, first);
  probe(t, ref, e.family, last);
  probe(t, ref, e.family, first - 1);
  probe(t, ref, e.family, last + 1);
  unsigned w = width(e.family);
  if (e.cidr < w) probe(t, ref, e.family, first ^ (u128(1) << (w - 1 - e.cidr)));
  if (e.cidr > 0) probe(t, ref, e.family, first ^ (u128(1) << (w - e.cidr)));
}

void check_structure(const AllowedIps& t, const Reference& ref, bool exact_nodes) {
  REQUIRE(t.prefix_count() == ref.entries.size(), long(t.prefix_count()), long(ref.entries.size()));
  size_t p4 = ref.count(4), p6 = ref.count(6);
  size_t bound = (p4 ? 2 * p4 - 1 : 0) + (p6 ? 2 * p6 - 1 : 0);
  REQUIRE(t.node_count() <= bound, long(t.node_count()), long(bound));
  if (exact_nodes) {
    size_t canonical = ref.canonical_nodes();
    REQUIRE(t.node_count() == canonical, long(t.node_count()), long(canonical));
  }
}

void check_for_each(const AllowedIps& t, const Reference& ref, Peer* peer) {
  std::vector<std::tuple<int, u128, unsigned>> got, want;
  t.for_each(peer, [&](int family, const uint8_t* addr, uint8_t cidr) {
    got.emplace_back(family, load(family, addr), cidr);
  });
  if (peer)
    for (auto& e : ref.entries)
      if (e.peer == peer) want.emplace_back(e.family, e.key, e.cidr);
  std::sort(want.begin(), want.end());  // IPv4 (4) before IPv6 (6), then address, then shorter first
  REQUIRE(got == want, long(got.size()), long(want.size()));
}

unsigned cidr_from(uint8_t c, int family) {
  return c < 0x80 ? c % (width(family) + 1) : c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  AllowedIps table;
  Reference ref;
  Reader in(data, size);
  size_t rotate = 0;
  for (size_t op = 0; op < kMaxOps && in.has(1); ++op) {
    uint8_t b = in.byte();
    int kind = (b & 0x0f) % 14;
    Peer* peer = peer_of(b >> 6);
    std::vector<Entry> touched;
    switch (kind) {
      case 0:
      case 1:
      case 2:
      case 3: {
        int family = (kind == 0 || kind == 2) ? 4 : 6;
        size_t alen = family == 4 ? 4 : 16;
        if (!in.has(1 + alen)) return 0;
        unsigned cidr = cidr_from(in.byte(), family);
        const uint8_t* a = in.take(alen);
        std::vector<uint8_t> addr(a, a + alen);  // exact-size copy: no over-read goes unnoticed
        u128 key = load(family, addr.data());
        bool got, want;
        if (kind <= 1) {
          got = table.insert(family, addr.data(), uint8_t(cidr), peer);
          want = ref.insert(family, key, cidr, peer);
        } else {
          got = table.remove(family, addr.data(), uint8_t(cidr), peer);
          want = ref.remove(family, key, cidr, peer);
        }
        REQUIRE(got == want, kind, long(cidr));
        if (Reference::valid(family, cidr)) touched.push_back({family, key & mask(family, cidr), cidr, peer});
        break;
      }
      case 4:
        table.remove_peer(peer);
        ref.remove_peer(peer);
        break;
      case 5:
      case 6: {
        int family = kind == 5 ? 4 : 6;
        size_t alen = family == 4 ? 4 : 16;
        if (!in.has(alen)) return 0;
        const uint8_t* a = in.take(alen);
        std::vector<uint8_t> addr(a, a + alen);
        Peer* got = family == 4 ? table.lookup_v4(addr.data()) : table.lookup_v6(addr.data());
        REQUIRE(got == ref.lookup(family, load(family, addr.data())), peer_no(got));
        break;
      }
      case 7: {
        if (!in.has(1)) return 0;
        size_t len = in.byte() % 64;
        if (!in.has(len)) return 0;
        const uint8_t* p = in.take(len);
        std::unique_ptr<uint8_t[]> pkt(new uint8_t[len ? len : 1]);
        if (len) std::memcpy(pkt.get(), p, len);
        Peer* want_src = nullptr;
        Peer* want_dst = nullptr;
        if (len > 0 && (p[0] >> 4) == 4 && len >= 20) {
          want_src = ref.lookup(4, load(4, p + 12));
          want_dst = ref.lookup(4, load(4, p + 16));
        } else if (len > 0 && (p[0] >> 4) == 6 && len >= 40) {
          want_src = ref.lookup(6, load(6, p + 8));
          want_dst = ref.lookup(6, load(6, p + 24));
        }
        REQUIRE(table.lookup_packet_src(pkt.get(), len) == want_src, long(len));
        REQUIRE(table.lookup_packet_dst(pkt.get(), len) == want_dst, long(len));
        break;
      }
      case 8:
        table.clear();
        ref.entries.clear();
        REQUIRE(table.node_count() == 0 && table.prefix_count() == 0 && table.memory_bytes() == 0);
        break;
      case 9: {
        AllowedIps moved(std::move(table));
        REQUIRE(table.prefix_count() == 0 && table.node_count() == 0);
        table.insert(4, reinterpret_cast<const uint8_t*>("\x0a\0\0\0"), 8, &g_peers[0]);  // dropped below
        table = std::move(moved);
        REQUIRE(moved.prefix_count() == 0 && moved.node_count() == 0);
        AllowedIps& alias = table;
        table = std::move(alias);  // self-move is a no-op by contract
        break;
      }
      case 10:
        check_for_each(table, ref, peer);
        break;
      case 11:
      case 12:
      case 13: {
        if (!in.has(2)) return 0;
        uint8_t i = in.byte();
        uint8_t arg = in.byte();
        Entry base =
            ref.entries.empty() ? Entry{(i & 1) ? 6 : 4, 0, 0, nullptr} : ref.entries[i % ref.entries.size()];
        unsigned w = width(base.family);
        if (kind == 11) {
          if (!in.has(1)) return 0;
          uint8_t flip = in.byte();
          unsigned cidr = cidr_from(arg, base.family);
          u128 addr = base.key;
          if (flip != 0xff) addr ^= u128(1) << (w - 1 - flip % w);
          uint8_t a[16];
          store(base.family, addr, a);
          bool got = table.insert(base.family, a, uint8_t(cidr), peer);
          REQUIRE(got == ref.insert(base.family, addr, cidr, peer), long(cidr));
          if (Reference::valid(base.family, cidr))
            touched.push_back({base.family, addr & mask(base.family, cidr), cidr, peer});
        } else if (kind == 12) {
          unsigned cidr = arg == 0xff ? base.cidr : cidr_from(arg, base.family);
          uint8_t a[16];
          store(base.family, base.key, a);
          bool got = table.remove(base.family, a, uint8_t(cidr), peer);
          REQUIRE(got == ref.remove(base.family, base.key, cidr, peer), long(cidr));
          if (Reference::valid(base.family, cidr))
            touched.push_back({base.family, base.key & mask(base.family, cidr), cidr, peer});
        } else {
          u128 addr = base.key ^ (u128(arg) << (arg % (w - 7)));
          probe(table, ref, base.family, addr);
          probe(table, ref, base.family, base.key);
        }
        break;
      }
    }
    bool small = ref.entries.size() <= 64;
    check_structure(table, ref, small);
    for (auto& e : touched) probe_around(table, ref, e);
    if (small) {
      for (auto& e : ref.entries) probe_around(table, ref, e);
    } else {
      for (int k = 0; k < 8; ++k) probe_around(table, ref, ref.entries[rotate++ % ref.entries.size()]);
    }
  }
  check_structure(table, ref, true);
  for (auto& e : ref.entries) probe_around(table, ref, e);
  for (int p = 0; p < 4; ++p) check_for_each(table, ref, peer_of(p));
  return 0;
}
