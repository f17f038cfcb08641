#include "memory_udp.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

namespace sag {

std::vector<uint8_t> MemoryNetwork::key(const Endpoint& e) {
  Endpoint u = e.unmapped();
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&u.addr);
  return std::vector<uint8_t>(p, p + u.size());
}

std::unique_ptr<MemoryUdp> MemoryNetwork::bind(const Endpoint& addr) {
  std::lock_guard<std::mutex> lock(mu_);
  auto k = key(addr);
  if (sockets_.count(k)) return nullptr;
  std::unique_ptr<MemoryUdp> s(new MemoryUdp(this, addr.unmapped()));
  sockets_[k] = s.get();
  return s;
}

uint64_t MemoryNetwork::lost() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lost_;
}

bool MemoryNetwork::deliver(const Endpoint& from, const Endpoint& to, const uint8_t* data, size_t len) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sockets_.find(key(to));
  if (it == sockets_.end() || !it->second->enqueue(from, data, len)) {
    ++lost_;
    return false;
  }
  return true;
}

void MemoryNetwork::unbind(MemoryUdp* s) {
  std::lock_guard<std::mutex> lock(mu_);
  sockets_.erase(key(s->local()));
}

MemoryUdp::MemoryUdp(MemoryNetwork* net, const Endpoint& local)
    : net_(net), local_(local), event_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

MemoryUdp::~MemoryUdp() {
  net_->unbind(this);
  if (event_fd_ >= 0) close(event_fd_);
}

bool MemoryUdp::enqueue(const Endpoint& from, const uint8_t* data, size_t len) {
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_.size() >= kCapacity) return false;
  queue_.emplace_back(from, std::vector<uint8_t>(data, data + len));
  uint64_t one = 1;
  (void)!write(event_fd_, &one, sizeof one);
  return true;
}

int MemoryUdp::recv_batch(Datagram* d, size_t cap, int n) {
  std::lock_guard<std::mutex> lock(mu_);
  int got = 0;
  while (got < n && !queue_.empty()) {
    auto& [from, bytes] = queue_.front();
    size_t len = bytes.size() > cap ? cap : bytes.size();
    if (len) std::memcpy(d[got].data, bytes.data(), len);
    d[got].len = bytes.size() > cap ? cap + 1 : bytes.size();
    d[got].peer = from;
    ++got;
    queue_.pop_front();
  }
  if (queue_.empty()) {
    uint64_t drain;
    (void)!read(event_fd_, &drain, sizeof drain);
  }
  return got;
}

int MemoryUdp::send_batch(const Datagram* d, int n, bool* ok) {
  int sent = 0;
  for (int i = 0; i < n; ++i) {
    // Like UDP, a datagram to nobody "leaves" fine; the network counts it lost.
    net_->deliver(local_, d[i].peer, d[i].data, d[i].len);
    if (ok) ok[i] = true;
    ++sent;
  }
  return sent;
}

}  // namespace sag
