// A UDP endpoint (IPv4 or IPv6 address and port) stored as a socket address ready for the kernel.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>

#include "sag/sag.h"

namespace sag {

struct Endpoint {
  union {
    sockaddr sa;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } addr;

  Endpoint() { std::memset(&addr, 0, sizeof addr); }

  int family() const { return addr.sa.sa_family; }
  bool valid() const { return family() == AF_INET || family() == AF_INET6; }
  socklen_t size() const { return family() == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6); }
  uint16_t port() const { return ntohs(family() == AF_INET ? addr.v4.sin_port : addr.v6.sin6_port); }

  static Endpoint v4(const uint8_t a[4], uint16_t port) {
    Endpoint e;
    e.addr.v4.sin_family = AF_INET;
    std::memcpy(&e.addr.v4.sin_addr, a, 4);
    e.addr.v4.sin_port = htons(port);
    return e;
  }
  static Endpoint v6(const uint8_t a[16], uint16_t port) {
    Endpoint e;
    e.addr.v6.sin6_family = AF_INET6;
    std::memcpy(&e.addr.v6.sin6_addr, a, 16);
    e.addr.v6.sin6_port = htons(port);
    return e;
  }

  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as plain IPv4; anything else unchanged.
  Endpoint unmapped() const {
    if (family() == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&addr.v6.sin6_addr))
      return v4(addr.v6.sin6_addr.s6_addr + 12, port());
    return *this;
  }
  // IPv4 as ::ffff:a.b.c.d, for sending on a dual-stack IPv6 socket.
  Endpoint mapped() const {
    if (family() != AF_INET) return *this;
    uint8_t a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    std::memcpy(a + 12, &addr.v4.sin_addr, 4);
    return v6(a, port());
  }

  bool operator==(const Endpoint& o) const {
    if (family() != o.family()) return false;
    if (family() == AF_INET)
      return addr.v4.sin_port == o.addr.v4.sin_port && addr.v4.sin_addr.s_addr == o.addr.v4.sin_addr.s_addr;
    if (family() == AF_INET6)
      return addr.v6.sin6_port == o.addr.v6.sin6_port &&
             std::memcmp(&addr.v6.sin6_addr, &o.addr.v6.sin6_addr, 16) == 0 &&
             addr.v6.sin6_scope_id == o.addr.v6.sin6_scope_id;
    return true;
  }
  bool operator!=(const Endpoint& o) const { return !(*this == o); }
};

// Conversions to and from the C API's plain struct.
inline sag_endpoint to_api(const Endpoint& e) {
  sag_endpoint out{};
  if (e.family() == AF_INET) {
    out.family = 4;
    std::memcpy(out.addr, &e.addr.v4.sin_addr, 4);
  } else {
    out.family = 6;
    std::memcpy(out.addr, &e.addr.v6.sin6_addr, 16);
  }
  out.port = e.port();
  return out;
}
inline Endpoint from_api(const sag_endpoint& e) {
  return e.family == 4 ? Endpoint::v4(e.addr, e.port) : Endpoint::v6(e.addr, e.port);
}

}  // namespace sag
