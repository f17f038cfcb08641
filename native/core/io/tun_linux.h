// Linux TUN device (/dev/net/tun, IFF_TUN | IFF_NO_PI). The fd is owned here and closed on
// destruction, which also removes a non-persistent interface.
// Room for the next steps: IFF_VNET_HDR (offloads) and IFF_MULTI_QUEUE (one fd per worker) are
// flags on open; read_batch/write_batch keep their contract.
#pragma once
#include <memory>
#include <string>

#include "tun.h"

namespace sag {

class LinuxTun final : public Tun {
 public:
  // Opens or creates the interface; name may be empty (the kernel picks tunN). Returns nullptr
  // and sets *err (errno) and *what on failure.
  static std::unique_ptr<LinuxTun> open(const std::string& name, int* err, const char** what);
  ~LinuxTun() override;

  int poll_fd() const override { return fd_; }
  int read_batch(uint8_t* const* bufs, size_t cap, size_t* lens, int n) override;
  int write_batch(const uint8_t* const* bufs, const size_t* lens, int n, int* failed) override;
  const char* name() const override { return name_.c_str(); }

 private:
  LinuxTun(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  int fd_;
  std::string name_;
};

}  // namespace sag
