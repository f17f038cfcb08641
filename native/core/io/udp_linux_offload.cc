// LinuxUdp with UDP_SEGMENT (GSO) on send and UDP_GRO on receive.
#include <errno.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>

#include "udp_linux.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

namespace sag {

namespace {
constexpr int kMaxSegments = 64;        // UDP_MAX_SEGMENTS on older kernels
constexpr size_t kMaxGsoBytes = 65000;  // below 64 KiB minus IP/UDP headers, either family
constexpr int kMaxMessages = 64;
constexpr int kMaxDatagrams = 256;

union Cmsg {
  char buf[CMSG_SPACE(sizeof(uint16_t))];
  cmsghdr align;
};
union GroCmsg {
  char buf[CMSG_SPACE(sizeof(int))];
  cmsghdr align;
};
}  // namespace

int LinuxUdp::send_gso(const Datagram* d, int n, bool* ok) {
  const bool dual_stack = local_.family() == AF_INET6;
  int sent = 0;
  int i = 0;
  while (i < n) {
    // Up to kMaxMessages groups over at most kMaxDatagrams datagrams per sendmmsg.
    mmsghdr msgs[kMaxMessages];
    iovec iov[kMaxDatagrams];
    Endpoint dest[kMaxMessages];
    Cmsg cm[kMaxMessages];
    int first[kMaxMessages + 1];
    int m = 0, j = i;
    while (j < n && m < kMaxMessages && j - i < kMaxDatagrams) {
      const Datagram& g = d[j];
      first[m] = j;
      size_t seg = g.len, total = 0;
      int k = j;
      while (k < n && k - i < kMaxDatagrams && k - j < kMaxSegments && total + d[k].len <= kMaxGsoBytes &&
             d[k].len <= seg && (k == j || d[k].peer == g.peer)) {
        iov[k - i] = {d[k].data, d[k].len};
        total += d[k].len;
        ++k;
        if (d[k - 1].len < seg) break;  // only the last may be shorter
      }
      if (k == j) {  // a datagram over the GSO byte limit: alone, without GSO
        iov[k - i] = {d[k].data, d[k].len};
        ++k;
      }
      dest[m] = dual_stack ? g.peer.mapped() : g.peer;
      msgs[m] = {};
      msghdr& h = msgs[m].msg_hdr;
      h.msg_iov = &iov[j - i];
      h.msg_iovlen = size_t(k - j);
      h.msg_name = &dest[m].addr;
      h.msg_namelen = dest[m].size();
      if (k - j > 1) {
        h.msg_control = cm[m].buf;
        h.msg_controllen = sizeof cm[m].buf;
        cmsghdr* c = CMSG_FIRSTHDR(&h);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t size = uint16_t(seg);
        std::memcpy(CMSG_DATA(c), &size, sizeof size);
      }
      ++m;
      j = k;
    }
    first[m] = j;
    int r;
    bool waited = false;
    for (;;) {
      r = sendmmsg(fd_, msgs, unsigned(m), 0);
      if (r >= 0) break;
      if (errno == EINTR) continue;
      if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) && !waited) {
        pollfd p{fd_, POLLOUT, 0};
        poll(&p, 1, 20);
        waited = true;
        continue;
      }
      r = 0;
      break;
    }
    int err = errno;
    for (int g = 0; g < r; ++g)
      for (int x = first[g]; x < first[g + 1]; ++x) {
        if (ok) ok[x] = true;
        ++sent;
      }
    i = first[r];
    if (r < m) {
      // Message r was refused. A GSO message the kernel cannot segment (EIO: no checksum offload
      // on the route; EINVAL) turns GSO off for good and goes out again datagram by datagram;
      // anything else (unreachable, buffer full) is skipped like a refused datagram.
      int count = first[r + 1] - first[r];
      if (count > 1 && (err == EIO || err == EINVAL)) {
        gso_.store(false, std::memory_order_relaxed);
        sent += send_plain(d + i, count, ok ? ok + i : nullptr);
      } else {
        for (int x = first[r]; x < first[r + 1]; ++x)
          if (ok) ok[x] = false;
      }
      i = first[r + 1];
    }
  }
  return sent;
}

// Hands over datagrams of the messages received earlier, as many as fit.
int LinuxUdp::split_pending(Datagram* d, size_t cap, int n) {
  int got = 0;
  while (got < n && gro_msg_ < gro_count_) {
    const uint8_t* buf = gro_buf_.data() + size_t(gro_msg_) * kGroBufferSize;
    size_t len = gro_len_[gro_msg_];
    size_t seg = gro_seg_[gro_msg_];
    size_t take = len - gro_off_ < seg ? len - gro_off_ : seg;
    Datagram& out = d[got++];
    out.peer = gro_from_[gro_msg_];
    if (gro_trunc_[gro_msg_] || take > cap) {
      out.len = cap + 1;      // the caller drops it as too big
      take = len - gro_off_;  // and the rest of a truncated message with it
    } else {
      std::memcpy(out.data, buf + gro_off_, take);
      out.len = take;
    }
    gro_off_ += take;
    if (gro_off_ >= len) {
      ++gro_msg_;
      gro_off_ = 0;
    }
  }
  return got;
}

int LinuxUdp::recv_gro(Datagram* d, size_t cap, int n) {
  int got = split_pending(d, cap, n);
  while (got < n) {
    mmsghdr msgs[kGroMessages];
    iovec iov[kGroMessages];
    GroCmsg cm[kGroMessages];
    for (int i = 0; i < kGroMessages; ++i) {
      iov[i] = {gro_buf_.data() + size_t(i) * kGroBufferSize, kGroBufferSize};
      msgs[i] = {};
      msghdr& h = msgs[i].msg_hdr;
      h.msg_iov = &iov[i];
      h.msg_iovlen = 1;
      h.msg_name = &gro_from_[i].addr;
      h.msg_namelen = sizeof gro_from_[i].addr;
      h.msg_control = cm[i].buf;
      h.msg_controllen = sizeof cm[i].buf;
    }
    int r;
    do r = recvmmsg(fd_, msgs, kGroMessages, MSG_DONTWAIT, nullptr);
    while (r < 0 && errno == EINTR);
    if (r <= 0) {
      if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && got == 0) got = -errno;
      break;
    }
    for (int i = 0; i < r; ++i) {
      msghdr& h = msgs[i].msg_hdr;
      gro_len_[i] = msgs[i].msg_len;
      gro_seg_[i] = gro_len_[i] ? gro_len_[i] : 1;  // an empty datagram is still one datagram
      gro_trunc_[i] = (h.msg_flags & MSG_TRUNC) != 0;
      for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
          int size;
          std::memcpy(&size, CMSG_DATA(c), sizeof size);
          if (size > 0) gro_seg_[i] = size_t(size);
        }
      }
      gro_from_[i] = gro_from_[i].unmapped();
    }
    gro_count_ = r;
    gro_msg_ = 0;
    gro_off_ = 0;
    got += split_pending(d + got, cap, n - got);
  }
  poll_.set_pending(gro_msg_ < gro_count_);
  return got;
}

}  // namespace sag
