// Linux UDP socket for one uplink: recvmmsg/sendmmsg batches, optional SO_BINDTODEVICE and SO_MARK.
//
// Offloads (offload/config.h, SAG_OFFLOADS): with UDP_SEGMENT, send_batch() sends consecutive
// datagrams of one size to one destination (the last may be shorter) as one GSO message; with
// UDP_GRO, recv_batch() splits the coalesced messages the kernel returns back into datagrams.
// The UdpSocket contract is unchanged. If the kernel refuses either (setsockopt, or EIO/EINVAL on
// a GSO send), the socket falls back to one datagram per message by itself.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "../offload/config.h"
#include "pending_poll.h"
#include "udp.h"

namespace sag {

struct UdpOptions {
  Endpoint bind;               // family AF_INET or AF_INET6; an IPv6 socket is dual-stack
  std::string device;          // SO_BINDTODEVICE, empty for none
  uint32_t fwmark = 0;         // SO_MARK, 0 for none
  int buffer_bytes = 4 << 20;  // SO_RCVBUF/SO_SNDBUF wish; the FORCE variants are tried first (root)
};

class LinuxUdp final : public UdpSocket {
 public:
  static std::unique_ptr<LinuxUdp> open(
      const UdpOptions& opts, int* err, const char** what,
      const offload::OffloadConfig& offloads = offload::offloads_from_env());
  ~LinuxUdp() override;

  int poll_fd() const override { return gro_ ? poll_.fd() : fd_; }
  int recv_batch(Datagram* d, size_t cap, int n) override;
  int send_batch(const Datagram* d, int n, bool* ok) override;
  bool send_now(const Datagram& d) override;
  Endpoint local() const override { return local_; }

  bool gso() const { return gso_.load(std::memory_order_relaxed); }
  bool gro() const { return gro_; }

 private:
  LinuxUdp(int fd, Endpoint local) : fd_(fd), local_(local) {}
  bool enable_offloads(const offload::OffloadConfig& offloads);
  int recv_plain(Datagram* d, size_t cap, int n);
  int send_plain(const Datagram* d, int n, bool* ok);
  // udp_linux_offload.cc
  int recv_gro(Datagram* d, size_t cap, int n);
  int split_pending(Datagram* d, size_t cap, int n);
  int send_gso(const Datagram* d, int n, bool* ok);

  static constexpr int kGroMessages = 8;
  static constexpr size_t kGroBufferSize = 65536;

  int fd_;
  Endpoint local_;
  std::atomic<bool> gso_{false};  // cleared by a sender if the kernel refuses a GSO message
  bool gro_ = false;
  PendingPoll poll_;
  // Receiver side (one thread): coalesced messages not yet handed over in full.
  std::vector<uint8_t> gro_buf_;
  size_t gro_len_[kGroMessages] = {};
  size_t gro_seg_[kGroMessages] = {};
  bool gro_trunc_[kGroMessages] = {};
  Endpoint gro_from_[kGroMessages];
  int gro_count_ = 0, gro_msg_ = 0;
  size_t gro_off_ = 0;
};

}  // namespace sag
