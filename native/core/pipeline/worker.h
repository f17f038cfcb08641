// What both workers share: a thread, an epoll set, a stop eventfd, and packet buffers allocated
// once. A buffer has headroom for the transport header in front of the packet and room for
// padding and the tag behind it, so a packet is encrypted or decrypted in place: no copy.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "../aead.h"
#include "../dataplane.h"
#include "../wire.h"

namespace sag {

class Worker {
 public:
  explicit Worker(DataplaneTables& tables);
  virtual ~Worker();

  Status start();
  void stop();

 protected:
  static constexpr size_t kHeadroom = wire::kTransportHeaderSize;
  static constexpr size_t kTailroom = wire::kPaddingMultiple + wire::kAuthTagSize;
  static constexpr size_t kBufferSize = kHeadroom + wire::kMaxDatagramSize + kTailroom;
  static constexpr uint32_t kStopToken = 0;  // epoll data of the stop eventfd

  // Runs until stop(); on_ready(token) is called for each ready epoll registration.
  virtual void on_ready(uint32_t token) = 0;
  virtual Status prepare() { return Status::Ok(); }
  Status watch_fd(int fd, uint32_t token);
  void unwatch_fd(int fd);
  // batch_ buffers for a batch, plus one scratch buffer at index batch_ for the slow paths.
  uint8_t* buffer(int i) { return buffers_.data() + size_t(i) * kBufferSize; }
  uint8_t* scratch() { return buffer(batch_); }

  DataplaneTables& t_;
  const int batch_;
  Aead aead_;

 private:
  void run();
  std::vector<uint8_t> buffers_;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  std::thread thread_;
};

}  // namespace sag
