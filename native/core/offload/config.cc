#include "config.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace sag::offload {

OffloadConfig parse_offloads(const char* spec) {
  OffloadConfig c;
  if (!spec || !*spec || std::strcmp(spec, "on") == 0) return c;
  c.tun = c.udp_gso = c.udp_gro = false;
  if (std::strcmp(spec, "off") == 0) return c;
  std::string s(spec);
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    std::string word = s.substr(start, end - start);
    if (word == "tun")
      c.tun = true;
    else if (word == "gso")
      c.udp_gso = true;
    else if (word == "gro")
      c.udp_gro = true;
    else if (!word.empty())
      std::fprintf(stderr, "sag: SAG_OFFLOADS: unknown offload '%s' ignored (tun, gso, gro)\n", word.c_str());
    start = end + 1;
  }
  return c;
}

OffloadConfig offloads_from_env() {
  return parse_offloads(std::getenv("SAG_OFFLOADS"));
}

}  // namespace sag::offload
