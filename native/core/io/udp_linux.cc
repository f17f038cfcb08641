#include "udp_linux.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace sag {

namespace {
constexpr int kMaxBatch = 256;

void set_buffer(int fd, int force_opt, int opt, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes) != 0)
    setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes);
}
}  // namespace

std::unique_ptr<LinuxUdp> LinuxUdp::open(const UdpOptions& opts, int* err, const char** what,
                                         const offload::OffloadConfig& offloads) {
  auto fail = [&](const char* w, int fd) -> std::unique_ptr<LinuxUdp> {
    *err = errno;
    *what = w;
    if (fd >= 0) ::close(fd);
    return nullptr;
  };
  int family = opts.bind.family();
  int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("socket", -1);
  if (family == AF_INET6) {
    int off = 0;  // dual-stack, so one uplink socket serves IPv4 and IPv6 endpoints
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) != 0) return fail("IPV6_V6ONLY", fd);
  }
  if (!opts.device.empty() &&
      setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, opts.device.c_str(), socklen_t(opts.device.size())) != 0)
    return fail("SO_BINDTODEVICE", fd);
  if (opts.fwmark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &opts.fwmark, sizeof opts.fwmark) != 0)
    return fail("SO_MARK", fd);
  set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, opts.buffer_bytes);
  set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, opts.buffer_bytes);
  if (::bind(fd, &opts.bind.addr.sa, opts.bind.size()) != 0) return fail("bind", fd);
  Endpoint local;
  socklen_t len = sizeof local.addr;
  if (getsockname(fd, &local.addr.sa, &len) != 0) return fail("getsockname", fd);
  std::unique_ptr<LinuxUdp> sock(new LinuxUdp(fd, local));
  if (!sock->enable_offloads(offloads)) {
    *err = errno;
    *what = "epoll/eventfd for the UDP socket";
    return nullptr;
  }
  return sock;
}

// Probes UDP_SEGMENT with a harmless setsockopt (gso size 0 = off); a kernel without it says no.
bool LinuxUdp::enable_offloads(const offload::OffloadConfig& offloads) {
  int zero = 0, one = 1;
  if (offloads.udp_gso && setsockopt(fd_, SOL_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0) gso_ = true;
  if (offloads.udp_gro && setsockopt(fd_, SOL_UDP, UDP_GRO, &one, sizeof one) == 0) {
    gro_ = true;
    gro_buf_.resize(size_t(kGroMessages) * kGroBufferSize);
    return poll_.open(fd_);
  }
  return true;
}

LinuxUdp::~LinuxUdp() {
  ::close(fd_);
}

int LinuxUdp::recv_batch(Datagram* d, size_t cap, int n) {
  return gro_ ? recv_gro(d, cap, n) : recv_plain(d, cap, n);
}

int LinuxUdp::send_batch(const Datagram* d, int n, bool* ok) {
  return gso_.load(std::memory_order_relaxed) ? send_gso(d, n, ok) : send_plain(d, n, ok);
}

bool LinuxUdp::send_now(const Datagram& d) {
  Endpoint dest = local_.family() == AF_INET6 ? d.peer.mapped() : d.peer;
  ssize_t r;
  do r = sendto(fd_, d.data, d.len, MSG_DONTWAIT, &dest.addr.sa, dest.size());
  while (r < 0 && errno == EINTR);
  return r == ssize_t(d.len);
}

int LinuxUdp::recv_plain(Datagram* d, size_t cap, int n) {
  if (n > kMaxBatch) n = kMaxBatch;
  mmsghdr msgs[kMaxBatch];
  iovec iov[kMaxBatch];
  for (int i = 0; i < n; ++i) {
    iov[i] = {d[i].data, cap + 1};  // one spare byte reveals an oversized datagram
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &d[i].peer.addr;
    msgs[i].msg_hdr.msg_namelen = sizeof d[i].peer.addr;
  }
  int r;
  do r = recvmmsg(fd_, msgs, unsigned(n), MSG_DONTWAIT, nullptr);
  while (r < 0 && errno == EINTR);
  if (r < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
  for (int i = 0; i < r; ++i) {
    d[i].len = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? cap + 1 : msgs[i].msg_len;
    d[i].peer = d[i].peer.unmapped();
  }
  return r;
}

int LinuxUdp::send_plain(const Datagram* d, int n, bool* ok) {
  const bool dual_stack = local_.family() == AF_INET6;
  int sent = 0;
  int i = 0;
  while (i < n) {
    int chunk = n - i > kMaxBatch ? kMaxBatch : n - i;
    mmsghdr msgs[kMaxBatch];
    iovec iov[kMaxBatch];
    Endpoint dest[kMaxBatch];
    for (int j = 0; j < chunk; ++j) {
      const Datagram& g = d[i + j];
      dest[j] = dual_stack ? g.peer.mapped() : g.peer;
      iov[j] = {g.data, g.len};
      msgs[j] = {};
      msgs[j].msg_hdr.msg_iov = &iov[j];
      msgs[j].msg_hdr.msg_iovlen = 1;
      msgs[j].msg_hdr.msg_name = &dest[j].addr;
      msgs[j].msg_hdr.msg_namelen = dest[j].size();
    }
    int r;
    bool waited = false;
    for (;;) {
      r = sendmmsg(fd_, msgs, unsigned(chunk), 0);
      if (r >= 0 || errno == EINTR) {
        if (r >= 0) break;
        continue;
      }
      // Socket buffer full: wait once, briefly, for room rather than drop a burst.
      if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) && !waited) {
        pollfd p{fd_, POLLOUT, 0};
        poll(&p, 1, 20);
        waited = true;
        continue;
      }
      r = 0;
      break;
    }
    for (int j = 0; j < r; ++j)
      if (ok) ok[i + j] = true;
    sent += r;
    i += r;
    if (i < n && r < chunk) {
      // The datagram at i was refused (unreachable, wrong family, buffer full): skip it so one
      // bad destination does not hold back the rest of the batch.
      if (ok) ok[i] = false;
      ++i;
    }
  }
  return sent;
}

}  // namespace sag
