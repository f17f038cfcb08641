// Path-compressed binary trie for AllowedIps. Written generically over the node type so that IPv4
// (32-bit keys) and IPv6 (128-bit keys) share one implementation.
//
// Invariants, per family:
//  - a node's key has every bit beyond its cidr cleared;
//  - child[b] of a node with cidr c has cidr > c, the same first c bits, and bit c equal to b;
//  - a node without an owner (peer == nullptr) has exactly two children, so nodes <= 2*prefixes - 1.
// Bits are numbered from the most significant (bit 0 = first bit on the wire).
#include "allowed_ips.h"

#include <algorithm>
#include <memory>

namespace sag {

__extension__ typedef unsigned __int128 u128;  // __extension__: stays quiet under -Wpedantic

namespace detail {
struct Node4 {
  uint32_t key;
  uint8_t cidr;
  Peer* peer;
  Node4* child[2];
};
struct Node6 {
  u128 key;
  uint8_t cidr;
  Peer* peer;
  Node6* child[2];
};
}  // namespace detail

namespace {

using detail::Node4;
using detail::Node6;

template <class K>
constexpr unsigned kBits = sizeof(K) * 8;

template <class K>
inline K prefix_mask(unsigned cidr) {
  return cidr == 0 ? K(0) : K(~K(0)) << (kBits<K> - cidr);  // shifting by the full width is UB
}

template <class K>
inline unsigned bit_at(K key, unsigned i) {
  return unsigned(key >> (kBits<K> - 1 - i)) & 1u;
}

// Leading zero bits, i.e. the length of the common prefix when applied to a XOR.
inline unsigned clz(uint32_t x) {
  return x ? unsigned(__builtin_clz(x)) : 32u;
}
inline unsigned clz(u128 x) {
  uint64_t hi = uint64_t(x >> 64), lo = uint64_t(x);
  if (hi) return unsigned(__builtin_clzll(hi));
  return lo ? 64u + unsigned(__builtin_clzll(lo)) : 128u;
}

template <class K>
inline K load_key(const uint8_t* a) {
  K k = 0;
  for (unsigned i = 0; i < sizeof(K); ++i) k = K(k << 8) | a[i];  // network order = most significant first
  return k;
}

template <class K>
inline void store_key(K k, uint8_t* out) {
  for (unsigned i = sizeof(K); i-- > 0;) {
    out[i] = uint8_t(k);
    k = K(k >> 8);
  }
}

// The counters of one family, so the generic code can update whichever family it works on.
template <class N>
struct Trie {
  N*& root;
  size_t& prefixes;
  size_t& nodes;
};

template <class N, class K>
N* new_node(K key, unsigned cidr, Peer* peer) {
  return new N{key, uint8_t(cidr), peer, {nullptr, nullptr}};  // throws std::bad_alloc only
}

// key must already be masked to cidr. Allocates everything it needs before linking anything in,
// so a std::bad_alloc leaves the trie unchanged.
template <class N, class K>
void trie_insert(Trie<N> t, K key, unsigned cidr, Peer* peer) {
  N** slot = &t.root;
  while (N* n = *slot) {
    unsigned common = std::min({cidr, unsigned(n->cidr), clz(K(key ^ n->key))});
    if (common == n->cidr) {
      if (n->cidr == cidr) {  // same prefix: (re)assign its owner
        if (!n->peer) ++t.prefixes;
        n->peer = peer;
        return;
      }
      slot = &n->child[bit_at(key, n->cidr)];  // n contains the new prefix: descend
      continue;
    }
    std::unique_ptr<N> leaf(new_node<N>(key, cidr, peer));
    if (common == cidr) {  // the new prefix contains n: it becomes n's parent
      leaf->child[bit_at(n->key, cidr)] = n;
      *slot = leaf.release();
      ++t.nodes;
    } else {  // they diverge at bit `common`: join them under an ownerless node
      N* glue = new_node<N>(K(key & prefix_mask<K>(common)), common, nullptr);
      glue->child[bit_at(n->key, common)] = n;
      glue->child[bit_at(key, common)] = leaf.release();
      *slot = glue;
      t.nodes += 2;
    }
    ++t.prefixes;
    return;
  }
  *slot = new_node<N>(key, cidr, peer);
  ++t.nodes;
  ++t.prefixes;
}

template <class N, class K>
Peer* trie_lookup(const N* n, K key) {
  Peer* best = nullptr;
  // Each node on the path is a longer prefix than the last, so the last owner seen is the longest match.
  while (n && K((key ^ n->key) & prefix_mask<K>(n->cidr)) == 0) {
    if (n->peer) best = n->peer;
    if (n->cidr == kBits<K>) break;
    n = n->child[bit_at(key, n->cidr)];
  }
  return best;
}

// Replaces the node in *slot by its only child (or nothing) and frees it. Requires n->peer == nullptr
// and at most one child.
template <class N>
void splice_out(Trie<N> t, N** slot) {
  N* n = *slot;
  *slot = n->child[0] ? n->child[0] : n->child[1];
  delete n;
  --t.nodes;
}

template <class N, class K>
bool trie_remove(Trie<N> t, K key, unsigned cidr, Peer* peer) {
  N** parent_slot = nullptr;
  N** slot = &t.root;
  while (N* n = *slot) {
    if (n->cidr > cidr || K((key ^ n->key) & prefix_mask<K>(n->cidr)) != 0) return false;
    if (n->cidr == cidr) break;
    parent_slot = slot;
    slot = &n->child[bit_at(key, n->cidr)];
  }
  N* n = *slot;
  if (!n || n->peer != peer) return false;
  n->peer = nullptr;
  --t.prefixes;
  if (n->child[0] && n->child[1]) return true;  // still needed to join two subtrees
  bool was_leaf = !n->child[0] && !n->child[1];
  splice_out(t, slot);
  // A removed leaf leaves its parent with one child; an ownerless parent is then redundant too.
  // Deeper ancestors are unaffected: they keep both their children.
  if (was_leaf && parent_slot && !(*parent_slot)->peer) splice_out(t, parent_slot);
  return true;
}

// Clears peer's prefixes below n (post-order) and returns what should replace n in its parent.
// Recursion depth is bounded by the key width + 1 (at most 129 frames).
template <class N>
N* prune_peer(Trie<N> t, N* n, Peer* peer) {
  if (!n) return nullptr;
  n->child[0] = prune_peer(t, n->child[0], peer);
  n->child[1] = prune_peer(t, n->child[1], peer);
  if (n->peer == peer) {
    n->peer = nullptr;
    --t.prefixes;
  }
  if (n->peer || (n->child[0] && n->child[1])) return n;
  N* only = n->child[0] ? n->child[0] : n->child[1];
  delete n;
  --t.nodes;
  return only;
}

template <class N>
void free_all(N* n) {  // depth bounded as in prune_peer
  if (!n) return;
  free_all(n->child[0]);
  free_all(n->child[1]);
  delete n;
}

// Pre-order: a prefix before the longer ones inside it, child 0 before child 1 => ascending addresses.
template <class N>
void visit_peer(const N* n, Peer* peer, int family, void (*visit)(void*, int, const uint8_t*, uint8_t),
                void* ctx) {
  if (!n) return;
  if (n->peer == peer) {
    uint8_t bytes[sizeof(n->key)];
    store_key(n->key, bytes);
    visit(ctx, family, bytes, n->cidr);
  }
  visit_peer(n->child[0], peer, family, visit, ctx);
  visit_peer(n->child[1], peer, family, visit, ctx);
}

bool valid_cidr(int family, uint8_t cidr) {
  return (family == 4 && cidr <= 32) || (family == 6 && cidr <= 128);
}

// IPv4: source at 12, destination at 16, 20-byte fixed header. IPv6: source at 8, destination at 24,
// 40-byte fixed header. Options/extension headers do not matter: the addresses come first.
Peer* lookup_packet(const AllowedIps& t, const uint8_t* pkt, size_t len, bool dst) {
  if (!pkt || len == 0) return nullptr;
  switch (pkt[0] >> 4) {
    case 4:
      return len >= 20 ? t.lookup_v4(pkt + (dst ? 16 : 12)) : nullptr;
    case 6:
      return len >= 40 ? t.lookup_v6(pkt + (dst ? 24 : 8)) : nullptr;
    default:
      return nullptr;
  }
}

}  // namespace

AllowedIps::~AllowedIps() {
  clear();
}

AllowedIps::AllowedIps(AllowedIps&& o) noexcept
    : root4_(o.root4_),
      root6_(o.root6_),
      prefixes4_(o.prefixes4_),
      prefixes6_(o.prefixes6_),
      nodes4_(o.nodes4_),
      nodes6_(o.nodes6_) {
  o.root4_ = nullptr;
  o.root6_ = nullptr;
  o.prefixes4_ = o.prefixes6_ = o.nodes4_ = o.nodes6_ = 0;
}

AllowedIps& AllowedIps::operator=(AllowedIps&& o) noexcept {
  if (this != &o) {
    clear();
    std::swap(root4_, o.root4_);
    std::swap(root6_, o.root6_);
    std::swap(prefixes4_, o.prefixes4_);
    std::swap(prefixes6_, o.prefixes6_);
    std::swap(nodes4_, o.nodes4_);
    std::swap(nodes6_, o.nodes6_);
  }
  return *this;
}

bool AllowedIps::insert(int family, const uint8_t* addr, uint8_t cidr, Peer* peer) {
  if (!peer || !addr || !valid_cidr(family, cidr)) return false;  // nullptr means "no owner" inside
  if (family == 4) {
    uint32_t k = load_key<uint32_t>(addr) & prefix_mask<uint32_t>(cidr);
    trie_insert(Trie<Node4>{root4_, prefixes4_, nodes4_}, k, cidr, peer);
  } else {
    u128 k = load_key<u128>(addr) & prefix_mask<u128>(cidr);
    trie_insert(Trie<Node6>{root6_, prefixes6_, nodes6_}, k, cidr, peer);
  }
  return true;
}

bool AllowedIps::remove(int family, const uint8_t* addr, uint8_t cidr, Peer* peer) {
  if (!peer || !addr || !valid_cidr(family, cidr)) return false;
  if (family == 4) {
    uint32_t k = load_key<uint32_t>(addr) & prefix_mask<uint32_t>(cidr);
    return trie_remove(Trie<Node4>{root4_, prefixes4_, nodes4_}, k, cidr, peer);
  }
  u128 k = load_key<u128>(addr) & prefix_mask<u128>(cidr);
  return trie_remove(Trie<Node6>{root6_, prefixes6_, nodes6_}, k, cidr, peer);
}

void AllowedIps::remove_peer(Peer* peer) {
  if (!peer) return;  // would otherwise "match" every ownerless node
  Trie<Node4> t4{root4_, prefixes4_, nodes4_};
  root4_ = prune_peer(t4, root4_, peer);
  Trie<Node6> t6{root6_, prefixes6_, nodes6_};
  root6_ = prune_peer(t6, root6_, peer);
}

Peer* AllowedIps::lookup_v4(const uint8_t addr[4]) const {
  return trie_lookup(root4_, load_key<uint32_t>(addr));
}

Peer* AllowedIps::lookup_v6(const uint8_t addr[16]) const {
  return trie_lookup(root6_, load_key<u128>(addr));
}

Peer* AllowedIps::lookup_packet_dst(const uint8_t* pkt, size_t len) const {
  return lookup_packet(*this, pkt, len, true);
}

Peer* AllowedIps::lookup_packet_src(const uint8_t* pkt, size_t len) const {
  return lookup_packet(*this, pkt, len, false);
}

size_t AllowedIps::memory_bytes() const {
  return nodes4_ * sizeof(Node4) + nodes6_ * sizeof(Node6);
}

void AllowedIps::for_each_impl(Peer* peer, Visitor visit, void* ctx) const {
  if (!peer) return;
  visit_peer(root4_, peer, 4, visit, ctx);
  visit_peer(root6_, peer, 6, visit, ctx);
}

void AllowedIps::clear() {
  free_all(root4_);
  free_all(root6_);
  root4_ = nullptr;
  root6_ = nullptr;
  prefixes4_ = prefixes6_ = nodes4_ = nodes6_ = 0;
}

}  // namespace sag
