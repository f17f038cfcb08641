// Allowed-IPs table: maps IP prefixes to the peer that owns them (WireGuard cryptokey routing).
// Outbound: the destination address of a packet from the TUN device picks the peer to encrypt for.
// Inbound: a decrypted packet is dropped unless its source address maps back to the peer it came from.
//
// Implementation: one path-compressed binary trie per family (32-bit keys for IPv4, 128-bit for IPv6).
// Every node stores its prefix bits, its cidr length, an optional owner and two children; a node without
// an owner exists only to join exactly two subtrees, so there are at most 2*prefixes - 1 nodes per family
// and removing a prefix frees every node that is no longer needed.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sag {

struct Peer;  // opaque here: the table stores and compares Peer pointers, never dereferences them

namespace detail {
struct Node4;  // defined in allowed_ips.cc
struct Node6;
}  // namespace detail

// Longest-prefix-match table from IPv4/IPv6 prefixes to Peer*.
//
// Thread safety: NOT internally synchronised. The owner serialises access with its own lock: writers
// (insert, remove, remove_peer, clear, move) need exclusive access; const lookups may run concurrently
// with each other only while no writer runs (e.g. under a shared/read lock, or on a table published
// read-only).
//
// Errors: insert() may throw std::bad_alloc (the table is then unchanged); nothing else throws.
// Lookups and removals never allocate. Addresses are always in network byte order.
class AllowedIps {
 public:
  AllowedIps() = default;
  ~AllowedIps();
  AllowedIps(const AllowedIps&) = delete;
  AllowedIps& operator=(const AllowedIps&) = delete;
  AllowedIps(AllowedIps&& other) noexcept;  // lets an owner build a table and swap it in
  AllowedIps& operator=(AllowedIps&& other) noexcept;

  // family: 4 or 6; addr: 4 or 16 bytes; cidr: 0..32 or 0..128. Host bits beyond cidr are ignored.
  // An existing identical prefix changes owner to peer: a prefix belongs to exactly one peer.
  // Returns false (and changes nothing) on a bad family, cidr, or a null peer.
  bool insert(int family, const uint8_t* addr, uint8_t cidr, Peer* peer);

  // Removes the prefix only if it exists and is owned by peer; returns whether it was removed.
  bool remove(int family, const uint8_t* addr, uint8_t cidr, Peer* peer);

  // Removes every prefix owned by peer (both families), e.g. when the peer is deleted.
  void remove_peer(Peer* peer);

  // Owner of the longest prefix containing addr, or nullptr.
  Peer* lookup_v4(const uint8_t addr[4]) const;
  Peer* lookup_v6(const uint8_t addr[16]) const;

  // Lookup by the destination / source address of a raw IP packet; the version nibble picks the family.
  // nullptr if the packet is shorter than its fixed header (20 / 40 bytes) or is not IPv4/IPv6.
  Peer* lookup_packet_dst(const uint8_t* pkt, size_t len) const;
  Peer* lookup_packet_src(const uint8_t* pkt, size_t len) const;

  size_t prefix_count() const { return prefixes4_ + prefixes6_; }
  size_t node_count() const { return nodes4_ + nodes6_; }
  size_t memory_bytes()
      const;  // node_count weighted by each family's node size (estimate, no malloc overhead)

  // Calls f(int family, const uint8_t* addr, uint8_t cidr) for every prefix owned by peer, IPv4 first,
  // in ascending address order. addr points to 4 or 16 bytes valid only during the call.
  // f must not modify this table.
  template <class F>
  void for_each(Peer* peer, F f) const {
    for_each_impl(peer, &call_visitor<F>, &f);
  }

  void clear();

 private:
  using Visitor = void (*)(void* ctx, int family, const uint8_t* addr, uint8_t cidr);
  template <class F>
  static void call_visitor(void* ctx, int family, const uint8_t* addr, uint8_t cidr) {
    (*static_cast<F*>(ctx))(family, addr, cidr);
  }
  void for_each_impl(Peer* peer, Visitor visit, void* ctx) const;

  detail::Node4* root4_ = nullptr;
  detail::Node6* root6_ = nullptr;
  size_t prefixes4_ = 0, prefixes6_ = 0;
  size_t nodes4_ = 0, nodes6_ = 0;
};

}  // namespace sag
