// Linux UDP socket for one uplink: recvmmsg/sendmmsg batches, optional SO_BINDTODEVICE and SO_MARK.
#pragma once
#include <memory>
#include <string>

#include "udp.h"

namespace sag {

struct UdpOptions {
  Endpoint bind;             // family AF_INET or AF_INET6; an IPv6 socket is dual-stack
  std::string device;        // SO_BINDTODEVICE, empty for none
  uint32_t fwmark = 0;       // SO_MARK, 0 for none
  int buffer_bytes = 4 << 20; // SO_RCVBUF/SO_SNDBUF wish; the FORCE variants are tried first (root)
};

class LinuxUdp final : public UdpSocket {
 public:
  static std::unique_ptr<LinuxUdp> open(const UdpOptions& opts, int* err, const char** what);
  ~LinuxUdp() override;

  int poll_fd() const override { return fd_; }
  int recv_batch(Datagram* d, size_t cap, int n) override;
  int send_batch(const Datagram* d, int n, bool* ok) override;
  Endpoint local() const override { return local_; }

 private:
  LinuxUdp(int fd, Endpoint local) : fd_(fd), local_(local) {}
  int fd_;
  Endpoint local_;
};

}  // namespace sag
