#include "paths.h"

#include <arpa/inet.h>

#include <cstring>

#include "wire.h"

namespace sag {

namespace {

bool fail(std::string* error, std::string message) {
  *error = std::move(message);
  return false;
}

std::string prefix_text(const sag_prefix& p) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(p.family == 4 ? AF_INET : AF_INET6, p.addr, buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(p.cidr);
}

// Checks one prefix (family, length, host bits zero) and builds its network and mask words.
bool build_prefix(const sag_prefix& in, Selection::Prefix* out, std::string* error) {
  if (in.family != 4 && in.family != 6) return fail(error, "prefix family must be 4 or 6");
  int width = in.family == 4 ? 32 : 128;
  if (in.cidr > width)
    return fail(error, "prefix length " + std::to_string(in.cidr) + " above " + std::to_string(width));
  uint8_t net[16] = {}, mask[16] = {};
  for (int i = 0; i < width / 8; ++i) {
    int bits = in.cidr - 8 * i;
    mask[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : uint8_t(0xff << (8 - bits));
    if (in.addr[i] & ~mask[i]) return fail(error, prefix_text(in) + " has host bits set");
    net[i] = in.addr[i];
  }
  out->family = in.family;
  for (int w = 0; w < 2; ++w) {
    out->net[w] = wire::load_le64(net + 8 * w);
    out->mask[w] = wire::load_le64(mask + 8 * w);
  }
  return true;
}

// Bit 0: some prefix is IPv4; bit 1: some prefix is IPv6.
unsigned families(const Selection::Prefix* p, uint8_t n) {
  unsigned f = 0;
  for (uint8_t i = 0; i < n; ++i) f |= p[i].family == 4 ? 1u : 2u;
  return f;
}

bool build_prefixes(const sag_prefix* in, uint8_t count, const char* side, Selection::Prefix* out,
                    uint8_t* out_count, std::string* error) {
  if (count > SAG_MAX_CLASS_PREFIXES)
    return fail(error,
                std::string("at most ") + std::to_string(SAG_MAX_CLASS_PREFIXES) + " " + side + " prefixes");
  for (uint8_t i = 0; i < count; ++i) {
    std::string why;
    if (!build_prefix(in[i], &out[i], &why))
      return fail(error, std::string(side) + " prefix " + std::to_string(i) + ": " + why);
  }
  *out_count = count;
  return true;
}

// Source and destination prefixes are checked, and must share a family or no packet could match.
bool build_addresses(const sag_traffic_class& in, Selection::Class* c, std::string* error) {
  if (!build_prefixes(in.src_prefixes, in.src_prefix_count, "source", c->src, &c->src_count, error))
    return false;
  if (!build_prefixes(in.dst_prefixes, in.dst_prefix_count, "destination", c->dst, &c->dst_count, error))
    return false;
  if (c->src_count && c->dst_count && !(families(c->src, c->src_count) & families(c->dst, c->dst_count)))
    return fail(error, "source and destination prefixes share no address family: no packet could match");
  return true;
}

bool build_class(const sag_traffic_class& in, uint32_t path_count, Selection::Class* c, std::string* error) {
  if (in.mode > SAG_SELECT_DUPLICATE) return fail(error, "unknown mode " + std::to_string(in.mode));
  if (in.path_count < 1 || in.path_count > SAG_MAX_PATHS)
    return fail(error, "path_count must be within 1..8");
  if (in.mode == SAG_SELECT_DUPLICATE && in.path_count != 2)
    return fail(error, "duplicate needs exactly 2 paths");
  if (in.src_port_min > in.src_port_max || in.dst_port_min > in.dst_port_max)
    return fail(error, "port range min > max");
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
    if (in.path_index[i] >= path_count)
      return fail(error, "path_index " + std::to_string(in.path_index[i]) + " out of range");
    c->index[i] = in.path_index[i];
    uint32_t w = in.mode == SAG_SELECT_WEIGHTED ? in.weight[i] : 1;
    if (w < 1 || w > 65535) return fail(error, "weight must be within 1..65535");
    sum += w;
    c->cumulative[i] = sum;
  }
  return build_addresses(in, c, error);
}

bool port_in(uint16_t port, uint16_t min, uint16_t max) {
  return max == 0 || (port >= min && port <= max);
}

// No prefixes: any address. A non-IP key (family 0) is in no prefix.
bool address_in(const uint64_t a[2], uint8_t family, const Selection::Prefix* p, uint8_t n) {
  if (n == 0) return true;
  for (uint8_t i = 0; i < n; ++i)
    if (p[i].family == family && (a[0] & p[i].mask[0]) == p[i].net[0] && (a[1] & p[i].mask[1]) == p[i].net[1])
      return true;
  return false;
}

bool matches(const Selection::Class& c, const FlowKey& k) {
  if (c.dscp_mask && !(c.dscp_mask >> k.dscp & 1)) return false;
  if (c.protocol && c.protocol != k.protocol) return false;
  if ((c.src_max || c.dst_max) && !k.has_ports) return false;
  if (!port_in(k.src_port, c.src_min, c.src_max) || !port_in(k.dst_port, c.dst_min, c.dst_max)) return false;
  return address_in(k.src, k.family, c.src, c.src_count) && address_in(k.dst, k.family, c.dst, c.dst_count);
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

bool has_ports(uint8_t protocol) {
  return protocol == 6 || protocol == 17 || protocol == 132 || protocol == 136;
}

}  // namespace

bool build_selection(const sag_selection& in, Selection* out, std::string* error) {
  if (in.path_count > SAG_MAX_PATHS) return fail(error, "at most 8 paths");
  if (in.class_count > SAG_MAX_CLASSES) return fail(error, "at most 16 classes");
  out->path_count = in.path_count;
  for (uint32_t i = 0; i < in.path_count; ++i) {
    const sag_path& p = in.paths[i];
    if (p.remote.family != 4 && p.remote.family != 6)
      return fail(error, "path endpoint family must be 4 or 6");
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
    k.family = 4;
    k.src[0] = wire::load_le32(pkt + 12);
    k.dst[0] = wire::load_le32(pkt + 16);
    h = mix(mix(0, k.src[0]), k.dst[0]);
  } else if (len >= wire::kIpv6HeaderSize && pkt[0] >> 4 == 6) {
    k.dscp = uint8_t((pkt[0] & 0x0f) << 2 | pkt[1] >> 6);
    k.protocol = pkt[6];  // extension headers are not walked: such flows hash by address only
    l4 = wire::kIpv6HeaderSize;
    k.family = 6;
    k.src[0] = wire::load_le64(pkt + 8);
    k.src[1] = wire::load_le64(pkt + 16);
    k.dst[0] = wire::load_le64(pkt + 24);
    k.dst[1] = wire::load_le64(pkt + 32);
    h = mix(mix(mix(mix(0, k.src[0]), k.src[1]), k.dst[0]), k.dst[1]);
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
