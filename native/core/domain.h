// Routing domains: isolated TUN + allowed-IPs pairs inside one dataplane.
//
// A peer belongs to exactly one domain. Domain 0 is the dataplane's own TUN and trie (what existed
// before domains), so a dataplane that never adds a domain behaves exactly as before. Each extra
// domain has its own TUN device and its own trie: the send worker looks a packet read from a
// domain's TUN up only in that domain's trie, and the receive worker checks a decrypted packet's
// source against its peer's domain trie and writes it only to that domain's TUN. Prefixes may
// overlap across domains; isolation is structural, not a filter that could be misconfigured.
//
// Locking: the Domains map and each Domain's trie follow DataplaneTables::table_mu (workers read
// under it shared, changes take it exclusive). A Domain's TUN supports one reader (the send
// worker) and one writer (the receive worker) at a time, as tun.h says.
#pragma once
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "allowed_ips.h"
#include "io/tun.h"

namespace sag {

class MemoryTun;

struct Domain {
  uint32_t id = 0;
  std::unique_ptr<Tun> tun;
  MemoryTun* memory = nullptr;  // tun, when it is the in-memory double (tests)
  AllowedIps allowed_ips;
};

// Domains 1..N. Domain 0 is not stored here: it is DataplaneTables::tun / allowed_ips.
class Domains {
 public:
  static constexpr uint32_t kMax = 4096;

  Domain* find(uint32_t id) const {
    auto it = map_.find(id);
    return it == map_.end() ? nullptr : it->second.get();
  }
  Domain* add(std::unique_ptr<Tun> tun, MemoryTun* memory) {
    auto d = std::make_unique<Domain>();
    d->id = next_id_++;
    d->tun = std::move(tun);
    d->memory = memory;
    Domain* raw = d.get();
    map_.emplace(raw->id, std::move(d));
    return raw;
  }
  void erase(uint32_t id) { map_.erase(id); }
  size_t size() const { return map_.size(); }
  template <class F>
  void for_each(F f) const {
    for (auto& [_, d] : map_) f(d.get());
  }

 private:
  std::unordered_map<uint32_t, std::unique_ptr<Domain>> map_;
  uint32_t next_id_ = 1;
};

}  // namespace sag
