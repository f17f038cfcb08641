// LinuxTun with IFF_VNET_HDR: every read and write carries a virtio_net_hdr in front.
#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

#include "tun_linux.h"

namespace sag {

// Hands over segments of the pending super-packet; clears it once all are out.
int LinuxTun::drain_pending(uint8_t* const* bufs, size_t cap, size_t* lens, int n) {
  const uint8_t* pkt = rbuf_.data() + offload::kVnetHdrSize;
  if (pending_.header_len + pending_.gso_size > cap) {
    lens[0] = cap + 1;  // segments the caller cannot hold: one too-big drop for the lot
    has_pending_ = false;
    return 1;
  }
  int w = offload::gso_write_segments(pending_, pkt, pending_next_, n, bufs, lens);
  pending_next_ += w;
  if (pending_next_ >= pending_.segments) has_pending_ = false;
  return w;
}

int LinuxTun::read_vnet(uint8_t* const* bufs, size_t cap, size_t* lens, int n) {
  int got = 0;
  while (got < n) {
    if (has_pending_) {
      got += drain_pending(bufs + got, cap, lens + got, n - got);
      continue;
    }
    ssize_t r = ::read(fd_, rbuf_.data(), rbuf_.size());
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (got == 0) got = -errno;
      break;
    }
    offload::virtio_net_hdr h;
    if (size_t(r) < sizeof h) {
      lens[got++] = 0;
      continue;
    }
    std::memcpy(&h, rbuf_.data(), sizeof h);
    uint8_t* pkt = rbuf_.data() + sizeof h;
    size_t len = size_t(r) - sizeof h;
    offload::GsoLayout l;
    if (!offload::gso_parse(h, pkt, len, &l)) {
      lens[got++] = 0;  // malformed vnet header: the caller counts the drop
      continue;
    }
    if (l.segments > 1 || l.gso_size) {
      pending_ = l;
      pending_next_ = 0;
      has_pending_ = true;
      continue;
    }
    if (len > cap) {
      lens[got++] = cap + 1;
      continue;
    }
    if ((h.flags & offload::VIRTIO_NET_HDR_F_NEEDS_CSUM) && !offload::complete_checksum(h, pkt, len)) {
      lens[got++] = 0;
      continue;
    }
    std::memcpy(bufs[got], pkt, len);
    lens[got++] = len;
  }
  poll_.set_pending(has_pending_);
  return got;
}

int LinuxTun::write_vnet(const uint8_t* const* bufs, const size_t* lens, int n, int* failed) {
  *failed = 0;
  int written = 0;
  if (!coalesce_) {
    static const offload::virtio_net_hdr zero{};
    for (int i = 0; i < n; ++i) {
      iovec iov[2] = {{const_cast<offload::virtio_net_hdr*>(&zero), sizeof zero},
                      {const_cast<uint8_t*>(bufs[i]), lens[i]}};
      ssize_t r;
      do r = ::writev(fd_, iov, 2);
      while (r < 0 && errno == EINTR);
      if (r < 0)
        ++*failed;
      else
        ++written;
    }
    return written;
  }
  const int chunk_max = offload::Coalescer::kMaxSegments * 4;
  for (int base = 0; base < n; base += chunk_max) {
    int chunk = n - base < chunk_max ? n - base : chunk_max;
    coalesce_->plan(bufs + base, lens + base, chunk);
    iovec iov[offload::Coalescer::kMaxSegments + 2];
    for (int k = 0; k < coalesce_->writes(); ++k) {
      int segments = 0;
      int cnt = coalesce_->iovecs(k, iov, &segments);
      ssize_t r;
      do r = ::writev(fd_, iov, cnt);
      while (r < 0 && errno == EINTR);
      if (r < 0)
        *failed += segments;
      else
        written += segments;
    }
  }
  return written;
}

}  // namespace sag
