// Linux TUN device (/dev/net/tun, IFF_TUN | IFF_NO_PI). The fd is owned here and closed on
// destruction, which also removes a non-persistent interface.
//
// Offloads (offload/config.h, SAG_OFFLOADS): with IFF_VNET_HDR and TUNSETOFFLOAD (checksum,
// TSO4/6, USO4/6 where the kernel accepts them) the kernel hands over TCP/UDP super-packets of up
// to 64 KiB; read_batch() segments them into MTU-sized packets with correct checksums, and
// write_batch() coalesces in-order TCP segments of a flow into super-packets (offload/gro.h).
// The Tun contract is unchanged; a super-packet too large for the batch stays pending (poll_fd()
// stays readable) and is continued by the next read_batch(). A packet whose vnet header does not
// hold together is reported with length 0 (the caller counts it malformed). If the kernel refuses
// IFF_VNET_HDR or TUNSETOFFLOAD, the device works one packet per read/write as before.
//
// Queues: with queues > 1 the device is opened with IFF_MULTI_QUEUE and one more fd is attached
// per extra queue (same flags, offloads set per fd); queue(i) is then a LinuxTun of its own, owned
// here. If the kernel refuses multi-queue the device has one queue, as with queues = 1.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "../offload/config.h"
#include "../offload/gro.h"
#include "../offload/gso.h"
#include "pending_poll.h"
#include "sag/sag.h"
#include "tun.h"

namespace sag {

class LinuxTun final : public Tun {
 public:
  // Opens or creates the interface; name may be empty (the kernel picks tunN). Returns nullptr
  // and sets *err (errno) and *what on failure.
  static std::unique_ptr<LinuxTun> open(const std::string& name, int* err, const char** what,
                                        const offload::OffloadConfig& offloads = offload::offloads_from_env(),
                                        int queues = 1);
  // SAG_TUN_QUEUES if set (1..kMaxQueues), else the online CPUs capped at 4.
  static int default_queues();
  static constexpr int kMaxQueues = SAG_MAX_TUN_QUEUES;
  ~LinuxTun() override;

  int poll_fd() const override { return vnet_ ? poll_.fd() : fd_; }
  int read_batch(uint8_t* const* bufs, size_t cap, size_t* lens, int n) override;
  int write_batch(const uint8_t* const* bufs, const size_t* lens, int n, int* failed) override;
  const char* name() const override { return name_.c_str(); }
  int queues() const override { return 1 + int(extra_.size()); }
  Tun* queue(int i) override { return i == 0 ? this : i < queues() ? extra_[size_t(i) - 1].get() : nullptr; }

  bool vnet_header() const { return vnet_; }
  bool coalescing() const { return coalesce_ != nullptr; }

 private:
  LinuxTun(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  // One fd with exactly these TUNSETIFF flags (and offloads if they include IFF_VNET_HDR).
  static std::unique_ptr<LinuxTun> open_queue(const std::string& name, short flags, int* err,
                                              const char** what);
  static std::unique_ptr<LinuxTun> open_first(const std::string& name, short mq,
                                              const offload::OffloadConfig& offloads, int* err,
                                              const char** what);
  bool enable_offloads();
  int read_plain(uint8_t* const* bufs, size_t cap, size_t* lens, int n);
  int write_plain(const uint8_t* const* bufs, const size_t* lens, int n, int* failed);
  // tun_linux_vnet.cc
  int read_vnet(uint8_t* const* bufs, size_t cap, size_t* lens, int n);
  int write_vnet(const uint8_t* const* bufs, const size_t* lens, int n, int* failed);
  int drain_pending(uint8_t* const* bufs, size_t cap, size_t* lens, int n);

  int fd_;
  std::string name_;
  bool vnet_ = false;
  PendingPoll poll_;
  // Reader side: the last super-packet read and the next segment to hand over.
  std::vector<uint8_t> rbuf_;
  offload::GsoLayout pending_;
  int pending_next_ = 0;
  bool has_pending_ = false;
  // Writer side.
  std::unique_ptr<offload::Coalescer> coalesce_;
  std::vector<std::unique_ptr<LinuxTun>> extra_;  // queues 1.. of a multi-queue device
  short flags_ = 0;                               // as given to TUNSETIFF
};

}  // namespace sag
