// The send worker's side of routing domains (domain.h): each domain's TUN is watched under its
// own epoll token, and a packet read from it is routed only through that domain's trie.
#include "send.h"

namespace sag {

Status SendWorker::watch_domain(Domain* d) {
  return watch_fd(d->tun->poll_fd(), kDomainTokenBase + d->id);
}

void SendWorker::unwatch_domain(Domain* d) {
  unwatch_fd(d->tun->poll_fd());
}

void SendWorker::read_domain(uint32_t domain) {
  // Unlike domain 0, a domain may be removed while running, so it is looked up under the lock;
  // read_batch never blocks, so holding table_mu shared across it keeps the locking rule.
  std::shared_lock<std::shared_mutex> lock(t_.table_mu);
  Domain* d = t_.domains.find(domain);
  if (!d) return;
  int n = d->tun->read_batch(ptrs_.data(), wire::kMaxInnerPacketSize, lens_.data(), batch_);
  if (n > 0) route_batch(n, d->allowed_ips);
}

}  // namespace sag
