#include "tun_linux.h"

#include "../thread_count.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20  // Linux 6.2+; older UAPI headers lack them
#define TUN_F_USO6 0x40
#endif

namespace sag {

namespace {
int open_device(const std::string& name, short flags, ifreq* ifr) {
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  *ifr = ifreq{};
  ifr->ifr_flags = flags;
  std::memcpy(ifr->ifr_name, name.data(), name.size());
  if (ioctl(fd, TUNSETIFF, ifr) < 0) {
    int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}
}  // namespace

std::unique_ptr<LinuxTun> LinuxTun::open_queue(const std::string& name, short flags, int* err,
                                               const char** what) {
  ifreq ifr;
  int fd = open_device(name, flags, &ifr);
  if (fd < 0) {
    *err = errno;
    *what = errno == ENOENT || errno == ENODEV ? "open /dev/net/tun" : "ioctl TUNSETIFF";
    return nullptr;
  }
  std::unique_ptr<LinuxTun> tun(new LinuxTun(fd, std::string(ifr.ifr_name)));
  tun->flags_ = flags;
  if ((flags & IFF_VNET_HDR) && !tun->enable_offloads()) {
    *err = errno;
    *what = "epoll/eventfd for the TUN device";
    return nullptr;
  }
  return tun;
}

std::unique_ptr<LinuxTun> LinuxTun::open_first(const std::string& name, short mq,
                                               const offload::OffloadConfig& offloads, int* err,
                                               const char** what) {
  const short base = IFF_TUN | IFF_NO_PI | mq;
  std::unique_ptr<LinuxTun> tun;
  if (offloads.tun) tun = open_queue(name, base | IFF_VNET_HDR, err, what);
  if (!tun) tun = open_queue(name, base, err, what);  // fallback: no offloads
  return tun;
}

std::unique_ptr<LinuxTun> LinuxTun::open(const std::string& name, int* err, const char** what,
                                         const offload::OffloadConfig& offloads, int queues) {
  if (name.size() >= IFNAMSIZ) {
    *err = ENAMETOOLONG;
    *what = "interface name too long";
    return nullptr;
  }
  std::unique_ptr<LinuxTun> tun;
  if (queues > 1) tun = open_first(name, IFF_MULTI_QUEUE, offloads, err, what);
  if (!tun) tun = open_first(name, 0, offloads, err, what);  // one queue, or the kernel refused more
  // An existing persistent multi-queue device refuses a single-queue attach: use one of its queues.
  if (!tun && queues <= 1 && *err == EINVAL) tun = open_first(name, IFF_MULTI_QUEUE, offloads, err, what);
  if (!tun || !(tun->flags_ & IFF_MULTI_QUEUE)) return tun;
  // Every queue must repeat the first one's flags: TUNSETIFF sets them for the whole device.
  for (int i = 1; i < queues && i < kMaxQueues; ++i) {
    int e;
    const char* w;
    auto q = open_queue(tun->name_, tun->flags_, &e, &w);
    if (!q) break;  // fewer queues than asked: still correct, only less spread
    tun->extra_.push_back(std::move(q));
  }
  return tun;
}

int LinuxTun::default_queues() {
  return count_from_env("SAG_TUN_QUEUES", kMaxQueues, clamp_count(online_cpus(), 1, 4));
}

// Offers what this kernel takes, best first. Even with none accepted the vnet header stays (it
// costs 10 bytes a packet); without TSO there is nothing to coalesce into.
bool LinuxTun::enable_offloads() {
  const unsigned tso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  const unsigned tries[] = {tso | TUN_F_USO4 | TUN_F_USO6, tso, TUN_F_CSUM, 0};
  for (unsigned flags : tries) {
    if (ioctl(fd_, TUNSETOFFLOAD, flags) != 0) continue;
    if (flags & TUN_F_TSO4)
      coalesce_ = std::make_unique<offload::Coalescer>(offload::Coalescer::kMaxSegments * 4,
                                                       (flags & TUN_F_USO4) != 0);
    break;
  }
  vnet_ = true;
  rbuf_.resize(offload::kVnetHdrSize + 65536);
  return poll_.open(fd_);
}

LinuxTun::~LinuxTun() {
  extra_.clear();
  ::close(fd_);
}

int LinuxTun::read_batch(uint8_t* const* bufs, size_t cap, size_t* lens, int n) {
  return vnet_ ? read_vnet(bufs, cap, lens, n) : read_plain(bufs, cap, lens, n);
}

int LinuxTun::write_batch(const uint8_t* const* bufs, const size_t* lens, int n, int* failed) {
  return vnet_ ? write_vnet(bufs, lens, n, failed) : write_plain(bufs, lens, n, failed);
}

int LinuxTun::read_plain(uint8_t* const* bufs, size_t cap, size_t* lens, int n) {
  // Without IFF_VNET_HDR the kernel hands over one packet per read.
  int got = 0;
  while (got < n) {
    // One spare byte lets us tell "exactly cap" from "larger than cap".
    ssize_t r = ::read(fd_, bufs[got], cap + 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return got > 0 ? got : -errno;
    }
    lens[got++] = size_t(r);
  }
  return got;
}

int LinuxTun::write_plain(const uint8_t* const* bufs, const size_t* lens, int n, int* failed) {
  int written = 0;
  *failed = 0;
  for (int i = 0; i < n; ++i) {
    ssize_t r;
    do r = ::write(fd_, bufs[i], lens[i]);
    while (r < 0 && errno == EINTR);
    if (r < 0)
      ++*failed;
    else
      ++written;
  }
  return written;
}

}  // namespace sag
