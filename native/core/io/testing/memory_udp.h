// In-memory UDP double: sockets bound on a MemoryNetwork deliver datagrams to each other by
// endpoint, with the sender's address as source. Thread-safe. Sockets must not outlive the network.
#pragma once
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "../udp.h"

namespace sag {

class MemoryUdp;

class MemoryNetwork {
 public:
  // Binds a socket at addr; nullptr if the address is taken.
  std::unique_ptr<MemoryUdp> bind(const Endpoint& addr);
  // Datagrams sent to nobody, or dropped because a receiver's queue was full.
  uint64_t lost() const;

 private:
  friend class MemoryUdp;
  bool deliver(const Endpoint& from, const Endpoint& to, const uint8_t* data, size_t len);
  void unbind(MemoryUdp* s);
  static std::vector<uint8_t> key(const Endpoint& e);

  mutable std::mutex mu_;
  std::map<std::vector<uint8_t>, MemoryUdp*> sockets_;
  uint64_t lost_ = 0;
};

class MemoryUdp final : public UdpSocket {
 public:
  ~MemoryUdp() override;
  int poll_fd() const override { return event_fd_; }
  int recv_batch(Datagram* d, size_t cap, int n) override;
  int send_batch(const Datagram* d, int n, bool* ok) override;
  bool send_now(const Datagram& d) override { return send_batch(&d, 1, nullptr) == 1; }
  Endpoint local() const override { return local_; }

 private:
  friend class MemoryNetwork;
  MemoryUdp(MemoryNetwork* net, const Endpoint& local);
  bool enqueue(const Endpoint& from, const uint8_t* data, size_t len);

  static constexpr size_t kCapacity = 4096;
  MemoryNetwork* net_;
  Endpoint local_;
  int event_fd_;
  std::mutex mu_;
  std::deque<std::pair<Endpoint, std::vector<uint8_t>>> queue_;
};

}  // namespace sag
