#include "worker.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

namespace sag {

Worker::Worker(DataplaneTables& tables)
    : t_(tables),
      batch_(int(tables.config.batch_size)),
      buffers_((size_t(tables.config.batch_size) + 1) * kBufferSize) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

Worker::~Worker() {
  stop();
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
}

Status Worker::watch_fd(int fd, uint32_t token) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = token;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0)
    return Status::Error(SAG_ESYS, std::string("epoll_ctl: ") + std::strerror(errno));
  return Status::Ok();
}

void Worker::unwatch_fd(int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

Status Worker::start() {
  if (epoll_fd_ < 0 || stop_fd_ < 0) return Status::Error(SAG_ESYS, "epoll or eventfd creation failed");
  if (!aead_.ok()) return Status::Error(SAG_EINTERNAL, std::string("ChaCha20-Poly1305: ") + aead_.error());
  Status s = watch_fd(stop_fd_, kStopToken);
  if (s.ok()) s = prepare();
  if (!s.ok()) return s;
  thread_ = std::thread([this] { run(); });
  return Status::Ok();
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  (void)!write(stop_fd_, &one, sizeof one);
  thread_.join();
}

void Worker::run() {
  epoll_event events[16];
  for (;;) {
    int n = epoll_wait(epoll_fd_, events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // the epoll fd is broken; nothing sensible left to do
    }
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u32 == kStopToken) return;
      on_ready(events[i].data.u32);
    }
  }
}

}  // namespace sag
