// A pollable fd for devices that keep packets in userspace between reads (a TUN super-packet or
// a UDP GRO message split over several batches): an epoll set holding the device fd and an
// eventfd that is readable while something is pending. Callers poll fd() as before; it stays
// level-triggered readable while the device has data or pending() is set.
#pragma once

namespace sag {

class PendingPoll {
 public:
  PendingPoll() = default;
  ~PendingPoll();
  PendingPoll(const PendingPoll&) = delete;
  PendingPoll& operator=(const PendingPoll&) = delete;

  bool open(int device_fd);  // false (errno set) if epoll or eventfd fails
  int fd() const { return epoll_fd_; }
  void set_pending(bool pending);  // called by the reading thread only

 private:
  int epoll_fd_ = -1;
  int event_fd_ = -1;
  bool pending_ = false;
};

}  // namespace sag
