#include "tun_linux.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

namespace sag {

std::unique_ptr<LinuxTun> LinuxTun::open(const std::string& name, int* err, const char** what) {
  if (name.size() >= IFNAMSIZ) {
    *err = ENAMETOOLONG;
    *what = "interface name too long";
    return nullptr;
  }
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    *err = errno;
    *what = "open /dev/net/tun";
    return nullptr;
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    *err = errno;
    *what = "ioctl TUNSETIFF";
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<LinuxTun>(new LinuxTun(fd, std::string(ifr.ifr_name)));
}

LinuxTun::~LinuxTun() { ::close(fd_); }

int LinuxTun::read_batch(uint8_t* const* bufs, size_t cap, size_t* lens, int n) {
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

int LinuxTun::write_batch(const uint8_t* const* bufs, const size_t* lens, int n, int* failed) {
  int written = 0;
  *failed = 0;
  for (int i = 0; i < n; ++i) {
    ssize_t r;
    do r = ::write(fd_, bufs[i], lens[i]);
    while (r < 0 && errno == EINTR);
    if (r < 0) ++*failed;
    else ++written;
  }
  return written;
}

}  // namespace sag
