#include "pending_poll.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace sag {

PendingPoll::~PendingPoll() {
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (event_fd_ >= 0) ::close(event_fd_);
}

bool PendingPoll::open(int device_fd) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || event_fd_ < 0) return false;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = device_fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, device_fd, &ev) != 0) return false;
  ev.data.fd = event_fd_;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev) == 0;
}

void PendingPoll::set_pending(bool pending) {
  if (pending == pending_) return;
  pending_ = pending;
  uint64_t v = 1;
  if (pending)
    (void)!::write(event_fd_, &v, sizeof v);
  else
    (void)!::read(event_fd_, &v, sizeof v);
}

}  // namespace sag
