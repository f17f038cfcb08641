#include "paths.h"

#include <cstring>

#include "wire.h"

namespace sag {

namespace {

bool fail(std::string* error, std::string message) {
  *error = std::move(message);
  return false;
}

bool build_class(const sag_traffic_class& in, uint32_t path_count, Selection::Class* c, std::string* error) {
  if (in.mode > SAG_SELECT_DUPLICATE) return fail(error, "unknown mode " + std::to_string(in.mode));
  if (in.path_count < 1 || in.path_count > SAG_MAX_PATHS) return fail(error, "path_count must be within 1..8");
  if (in.mode == SAG_SELECT_DUPLICATE && in.path_count != 2) return fail(error, "duplicate needs exactly 2 paths");
  if (in.src_port_min > in.src_port_max || in.dst_port_min > in.dst_port_max) return fail(error, "port range min > max");
  c->dscp_mask = in.dscp_mask;
  c->protocol = in.protocol;
  c->src_min = in.src_port_min;
  c->src_max = in.src_port_max;
  c->dst_min = in.dst_port_min;
  c->dst_max = in.dst_port_max;
  c->mode = in.mode;
  c->count = in.path_count;
  uint32_t sum = 0;
  for (int i = 0; i < in.path_count; ++i) {
    if (in.path_index[i] >= path_count) return fail(error, "path_index " + std::to_string(in.path_index[i]) + " out of range");
    c->index[i] = in.path_index[i];
    uint32_t w = in.mode == SAG_SELECT_WEIGHTED ? in.weight[i] : 1;
    if (w < 1 || w > 65535) return fail(error, "weight must be within 1..65535");
    sum += w;
    c->cumulative[i] = sum;
  }
  return true;
}

bool port_in(uint16_t port, uint16_t min, uint16_t max) { return max == 0 || (port >= min && port <= max); }

bool matches(const Selection::Class& c, const FlowKey& k) {
  if (c.dscp_mask && !(c.dscp_mask >> k.dscp & 1)) return false;
  if (c.protocol && c.protocol != k.protocol) return false;
  if ((c.src_max || c.dst_max) && !k.has_ports) return false;
  return port_in(k.src_port, c.src_min, c.src_max) && port_in(k.dst_port, c.dst_min, c.dst_max);
}

// 64-bit mix (splitmix64 finaliser): cheap, and spreads nearby tuples over the weights evenly.
uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

bool has_ports(uint8_t protocol) { return protocol == 6 || protocol == 17 || protocol == 132 || protocol == 136; }

}  // namespace

bool build_selection(const sag_selection& in, Selection* out, std::string* error) {
  if (in.path_count > SAG_MAX_PATHS) return fail(error, "at most 8 paths");
  if (in.class_count > SAG_MAX_CLASSES) return fail(error, "at most 16 classes");
  out->path_count = in.path_count;
  for (uint32_t i = 0; i < in.path_count; ++i) {
    const sag_path& p = in.paths[i];
    if (p.remote.family != 4 && p.remote.family != 6) return fail(error, "path endpoint family must be 4 or 6");
    if (p.remote.port == 0) return fail(error, "path endpoint port must not be 0");
    for (uint32_t j = 0; j < i; ++j)
      if (in.paths[j].id == p.id) return fail(error, "duplicate path id " + std::to_string(p.id));
    out->paths[i] = {p.id, p.uplink_id, from_api(p.remote)};
  }
  out->class_count = in.class_count;
  for (uint32_t i = 0; i < in.class_count; ++i) {
    std::string why;
    if (!build_class(in.classes[i], in.path_count, &out->classes[i], &why))
      return fail(error, "class " + std::to_string(i) + ": " + why);
  }
  return true;
}

FlowKey flow_key(const uint8_t* pkt, size_t len) {
  FlowKey k;
  size_t l4 = 0;
  uint64_t h = 0;
  if (len >= wire::kMinIpv4HeaderSize && pkt[0] >> 4 == 4) {
    k.dscp = pkt[1] >> 2;
    k.protocol = pkt[9];
    size_t ihl = size_t(pkt[0] & 0x0f) * 4;
    bool first_fragment = (wire::load_le32(pkt + 4) & 0xff1f0000u) == 0;  // offset bits (BE) zero
    if (ihl >= wire::kMinIpv4HeaderSize && first_fragment) l4 = ihl;
    h = mix(mix(0, wire::load_le32(pkt + 12)), wire::load_le32(pkt + 16));
  } else if (len >= wire::kIpv6HeaderSize && pkt[0] >> 4 == 6) {
    k.dscp = uint8_t((pkt[0] & 0x0f) << 2 | pkt[1] >> 6);
    k.protocol = pkt[6];  // extension headers are not walked: such flows hash by address only
    l4 = wire::kIpv6HeaderSize;
    for (int i = 8; i < 40; i += 8) h = mix(h, wire::load_le64(pkt + i));
  } else {
    return k;
  }
  if (l4 && has_ports(k.protocol) && len >= l4 + 4) {
    k.has_ports = true;
    k.src_port = uint16_t(pkt[l4] << 8 | pkt[l4 + 1]);
    k.dst_port = uint16_t(pkt[l4 + 2] << 8 | pkt[l4 + 3]);
  }
  k.hash = mix(h, uint64_t(k.protocol) << 32 | uint64_t(k.src_port) << 16 | k.dst_port);
  return k;
}

PathChoice choose_paths(const Selection& sel, const FlowKey& key) {
  PathChoice choice;
  for (uint32_t i = 0; i < sel.class_count; ++i) {
    const Selection::Class& c = sel.classes[i];
    if (!matches(c, key)) continue;
    int pick = 0;
    if (c.mode == SAG_SELECT_WEIGHTED) {
      uint32_t r = uint32_t(key.hash % c.cumulative[c.count - 1]);
      while (r >= c.cumulative[pick]) ++pick;
    }
    choice.path[0] = &sel.paths[c.index[pick]];
    choice.count = 1;
    if (c.mode == SAG_SELECT_DUPLICATE) {
      choice.path[1] = &sel.paths[c.index[1]];
      choice.count = 2;
    }
    return choice;
  }
  return choice;
}

}  // namespace sag
