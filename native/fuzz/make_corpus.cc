// Writes the seed corpora under native/fuzz/corpus/<target>/ (deterministic: running it again gives
// the same files). Built with -DSAG_FUZZ=ON as fuzz_make_corpus; run it from the repository root:
//   build-native/fuzz/fuzz_make_corpus native/fuzz/corpus
// The input formats are documented at the top of each fuzz_*.cc.
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../test/offload_packets.h"
#include "../test/pipeline_fixture.h"
#include "aead.h"
#include "offload/gso.h"
#include "wire.h"

namespace {

using Bytes = std::vector<uint8_t>;
Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string g_root;
int g_files = 0;

void write(const std::string& target, const std::string& name, const Bytes& b) {
  std::string dir = g_root + "/" + target;
  mkdir(g_root.c_str(), 0755);
  mkdir(dir.c_str(), 0755);
  std::string path = dir + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (!b.empty() && std::fwrite(b.data(), 1, b.size(), f) != b.size())) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::fclose(f);
  ++g_files;
}

void append(Bytes& out, const Bytes& b) {
  out.insert(out.end(), b.begin(), b.end());
}
void le(Bytes& out, uint64_t v, int width) {
  for (int i = 0; i < width; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

// ---- fuzz_receive ---------------------------------------------------------------------------------

enum : uint8_t { kRaw = 0, kSealed = 1, kEndBatch = 2, kUplink2 = 0x10, kTooBig = 0x20 };
uint8_t src_sel(int s) {
  return uint8_t((s & 3) << 2);
}

Bytes record(uint8_t kind, const Bytes& body) {
  Bytes r;
  le(r, body.size() + 1, 2);
  r.push_back(kind);
  append(r, body);
  return r;
}

struct Sealed {
  uint8_t key = 0;      // 0 101, 1 102, 2 103, 3 201, 4.. wrong key / unknown index
  uint8_t mode = 1;     // bits 0-1 fix-up (1 IPv4, 2 IPv6, 3 keepalive), bit 3 lying length,
                        // bit 4 relative counter, bit 5 relative to REJECT_AFTER_MESSAGES
  uint8_t src = 0x41;   // bits 6-7: 1 peer 1, 2 peer 2, 3 elsewhere; bits 0-5 host
  uint16_t length = 0;  // inner length (0: as given)
  uint8_t pad = 0;
  uint64_t counter = 0;
  Bytes inner;
};

Bytes sealed(uint8_t kind, const Sealed& s) {
  Bytes b;
  b.push_back(s.key);
  b.push_back(s.mode);
  b.push_back(s.src);
  le(b, s.length, 2);
  b.push_back(s.pad);
  le(b, s.counter, 8);
  append(b, s.inner);
  return record(uint8_t(kind | kSealed), b);
}

Bytes ipv4(const uint8_t src[4], const uint8_t dst[4], size_t total) {
  return sagtest::ipv4_packet(src, dst, total);
}

// A transport message sealed here, for the raw path (the same keys as fuzz_receive.cc).
Bytes transport(uint32_t index, uint64_t counter, const Bytes& inner) {
  uint8_t key[32];
  for (int i = 0; i < 32; ++i) key[i] = uint8_t(index * 37 + i * 7 + 1);
  size_t padded = sag::wire::padded_length(inner.size(), 1420);
  Bytes d(16 + padded + 16, 0);
  if (!inner.empty()) std::memcpy(d.data() + 16, inner.data(), inner.size());
  sag::wire::write_transport_header(d.data(), index, counter);
  sag::Aead aead;
  if (!aead.seal(key, counter, d.data() + 16, padded, d.data() + 16)) std::exit(2);
  return d;
}

Bytes handshake(uint8_t type, size_t size) {
  Bytes m(size, uint8_t(0x10 * type + 1));
  if (size >= 4) {
    m[0] = type;
    m[1] = m[2] = m[3] = 0;
  }
  return m;
}

void receive_corpus() {
  const std::string t = "fuzz_receive";
  const uint8_t a1[4] = {10, 0, 0, 1}, a2[4] = {10, 0, 0, 2}, peer2[4] = {10, 0, 0, 200};
  {
    Sealed s;  // IPv4 from 10.0.0.1 on keypair 101 (current)
    s.inner = ipv4(a1, a2, 84);
    s.counter = 1;
    write(t, "valid-ipv4-current", Bytes{0x01} + sealed(0, s));
  }
  {
    Sealed s;  // IPv6 on responder keypair 102 (next): confirms it, flushes the staged packet
    s.key = 1;
    s.mode = 2;
    s.length = 100;
    write(t, "valid-ipv6-next-confirms", Bytes{0x43} + sealed(0, s));
  }
  {
    Sealed s;
    s.mode = 3;  // keepalive: empty inner packet
    write(t, "keepalive", Bytes{0x01} + sealed(0, s));
  }
  {
    Bytes in = {0x01};
    Bytes msg = transport(101, 7, ipv4(a2, a1, 60));
    append(in, record(kRaw, msg));
    append(in, record(kRaw, msg));  // replayed
    write(t, "raw-valid-transport-and-replay", in);
  }
  {
    Bytes in = {0x01};
    append(in, record(kRaw, handshake(1, 148)));
    append(in, record(kRaw, handshake(2, 92)));
    append(in, record(kRaw | src_sel(1), handshake(3, 64)));
    append(in, record(kRaw, handshake(9, 40)));   // unknown type: still a control message
    append(in, record(kRaw, handshake(1, 147)));  // wrong size: malformed
    append(in, record(kRaw | kEndBatch, handshake(2, 93)));
    append(in, record(kRaw | kUplink2, handshake(1, 148)));
    write(t, "handshake-sizes", in);
  }
  {
    Bytes in = {0x01};
    Bytes msg = transport(101, 3, ipv4(a1, a2, 40));
    for (size_t n : {size_t(0), size_t(3), size_t(4), size_t(16), size_t(31), size_t(32), msg.size() - 1})
      append(in, record(kRaw, Bytes(msg.begin(), msg.begin() + long(n))));
    write(t, "truncated-transport", in);
  }
  {
    Bytes in = {0x01};
    Sealed s;
    s.inner = ipv4(a1, a2, 60);
    s.counter = 10000;
    append(in, sealed(kEndBatch, s));
    s.mode = 0x11;  // counters relative to the newest accepted (10000)
    for (int16_t delta :
         {int16_t(-8128), int16_t(-8129), int16_t(0), int16_t(-1), int16_t(64), int16_t(8192)}) {
      s.counter = uint16_t(delta);
      append(in, sealed(kEndBatch, s));
    }
    write(t, "replay-window-edges", in);
  }
  {
    Bytes in = {0x01};
    Sealed s;
    s.mode = 0x21;  // REJECT_AFTER_MESSAGES - 1, then REJECT_AFTER_MESSAGES itself
    s.inner = ipv4(a1, a2, 40);
    s.counter = uint16_t(int16_t(-1));
    append(in, sealed(0, s));
    s.counter = 0;
    append(in, sealed(0, s));
    write(t, "reject-after-messages", in);
  }
  {
    Bytes in = {0x01};
    Sealed s;
    s.inner = ipv4(peer2, a1, 60);  // peer 2's address on peer 1's keypair: not allowed
    s.src = 0;
    append(in, sealed(0, s));
    s.key = 3;  // ... and on peer 2's own keypair: delivered
    s.counter = 1;
    append(in, sealed(0, s));
    s.key = 0;
    s.counter = 2;
    s.src = 0xc5;  // 10.0.1.5: peer 2's other prefix
    append(in, sealed(0, s));
    write(t, "source-not-allowed", in);
  }
  {
    Sealed s;
    s.inner = ipv4(a1, a2, 60);
    Bytes in = {0x00};  // peer 1 has no keypair: no session; peer 2's works
    append(in, sealed(0, s));
    s.key = 3;
    append(in, sealed(0, s));
    write(t, "no-session", in);
  }
  {
    Sealed s;
    s.inner = ipv4(a1, a2, 60);
    Bytes in = {0x01};
    s.key = 5;  // unknown receiver index
    append(in, sealed(0, s));
    s.key = 4;  // right index, wrong key: bad tag
    append(in, sealed(0, s));
    s.key = 7;  // receiver index 0
    append(in, sealed(0, s));
    write(t, "unknown-index-bad-tag", in);
  }
  {
    Bytes in = {0x09};  // 101 current but expired
    Sealed s;
    s.inner = ipv4(a1, a2, 60);
    append(in, sealed(0, s));
    write(t, "expired-keypair", in);
  }
  {
    Bytes in = {0x01};
    append(in, record(kRaw | kTooBig, handshake(4, 64)));
    write(t, "too-big", in);
  }
  {
    Bytes in = {0x81};  // peer 1 without endpoint: the first datagram sets it; then it roams
    Sealed s;
    s.inner = ipv4(a1, a2, 60);
    append(in, sealed(kEndBatch, s));
    s.counter = 1;
    append(in, sealed(kUplink2 | src_sel(2) | kEndBatch, s));
    s.counter = 2;
    append(in, sealed(src_sel(3), s));
    write(t, "roaming", in);
  }
  {
    Bytes in = {0x01};
    Sealed s;
    s.length = 1420;  // a full MTU
    s.counter = 5;
    append(in, sealed(0, s));
    s.mode = 2;
    s.counter = 6;
    append(in, sealed(0, s));
    write(t, "mtu-sized", in);
  }
  {
    Bytes in = {0x01};
    for (int i = 0; i < 12; ++i) append(in, record(kRaw, handshake(1, 148)));  // queue holds 8
    write(t, "event-queue-flood", in);
  }
  {
    Bytes in = {0x01};
    Sealed s;
    s.mode = 0x09;  // IPv4 fix-up keeping the inner length field: claims more than it has
    s.inner = ipv4(a1, a2, 60);
    s.inner[2] = 0x05;
    append(in, sealed(0, s));
    s.mode = 0x0a;  // IPv6 with a short payload length: padding stripped
    s.inner.assign(60, 0);
    s.inner[5] = 4;
    s.counter = 1;
    s.pad = 12;
    append(in, sealed(0, s));
    write(t, "inner-lengths", in);
  }
}

// ---- fuzz_allowed_ips -----------------------------------------------------------------------------

Bytes op(uint8_t kind, int peer, const Bytes& args) {
  Bytes b{uint8_t(kind | (peer << 6))};
  append(b, args);
  return b;
}

void allowed_ips_corpus() {
  const std::string t = "fuzz_allowed_ips";
  {
    Bytes in;  // nested IPv4 prefixes, then lookups inside and around them
    append(in, op(0, 0, {8, 10, 0, 0, 0}));
    append(in, op(0, 1, {24, 10, 1, 2, 0}));
    append(in, op(0, 2, {32, 10, 1, 2, 3}));
    append(in, op(0, 1, {16, 10, 1, 99, 99}));  // host bits ignored
    append(in, op(5, 0, {10, 1, 2, 3}));
    append(in, op(5, 0, {10, 1, 2, 4}));
    append(in, op(5, 0, {10, 200, 0, 1}));
    append(in, op(5, 0, {11, 0, 0, 0}));
    append(in, op(10, 1, {}));
    write(t, "ipv4-nested", in);
  }
  {
    Bytes in;
    Bytes a = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    append(in, op(1, 0, Bytes{64} + a));
    append(in, op(1, 1, Bytes{128} + a));
    append(in, op(1, 2, Bytes{0} + a));
    append(in, op(6, 0, a));
    append(in, op(3, 1, Bytes{128} + a));
    append(in, op(6, 0, a));
    append(in, op(3, 0, Bytes{128} + a));  // not there any more
    append(in, op(10, 0, {}));
    write(t, "ipv6-insert-remove", in);
  }
  {
    Bytes in;
    append(in, op(0, 0, {0, 0, 0, 0, 0}));
    append(in, op(11, 1, {0, 24, 0}));  // derived from the first prefix, bit 0 flipped
    append(in, op(11, 2, {1, 25, 30}));
    append(in, op(11, 0, {2, 32, 0xff}));
    append(in, op(4, 1, {}));          // remove_peer
    append(in, op(12, 0, {0, 0xff}));  // remove an existing prefix
    append(in, op(13, 0, {1, 7}));
    append(in, op(9, 0, {}));  // move out and back
    append(in, op(10, 2, {}));
    append(in, op(8, 0, {}));  // clear
    write(t, "derived-remove-peer-move-clear", in);
  }
  {
    Bytes in;
    append(in, op(0, 0, {0xa1, 1, 2, 3, 4}));  // cidr 161: rejected
    append(in, op(0, 3, {8, 10, 0, 0, 0}));    // null peer: rejected
    append(in, op(4, 3, {}));                  // remove_peer(nullptr)
    append(in, op(0, 0, {8, 10, 0, 0, 0}));
    append(in, op(2, 1, {8, 10, 0, 0, 0}));  // owned by another peer: not removed
    Bytes pkt = ipv4((const uint8_t*)"\x0a\x00\x00\x01", (const uint8_t*)"\x0a\x00\x00\x02", 20);
    append(in, op(7, 0, Bytes{20} + pkt));
    append(in, op(7, 0, Bytes{19} + Bytes(pkt.begin(), pkt.begin() + 19)));
    write(t, "rejections-and-packets", in);
  }
}

// ---- fuzz_wire ---------------------------------------------------------------------------------------

void wire_corpus() {
  const std::string t = "fuzz_wire";
  const uint8_t a1[4] = {10, 0, 0, 1}, a2[4] = {10, 0, 0, 2};
  write(t, "transport-keepalive", transport(201, 0, {}));
  write(t, "initiation", handshake(1, 148));
  write(t, "response", handshake(2, 92));
  write(t, "cookie-reply", handshake(3, 64));
  write(t, "ipv4-header", ipv4(a1, a2, 20));
  Bytes v6(40, 0);
  v6[0] = 0x60;
  v6[5] = 8;
  write(t, "ipv6-header", v6);
  write(t, "short", Bytes{4, 0, 0});
}

// ---- fuzz_aead ------------------------------------------------------------------------------------

// Header as fuzz_aead.cc reads it: flags, AAD length, tamper position and mask, key, nonce.
Bytes aead_input(uint8_t flags, uint8_t ad_len, uint16_t pos, size_t msg_len) {
  Bytes b{flags, ad_len, uint8_t(pos), uint8_t(pos >> 8), 0x40};
  for (int i = 0; i < 32; ++i) b.push_back(uint8_t(0x80 + i));
  Bytes nonce{7, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47};
  append(b, nonce);
  for (size_t i = 0; i < size_t(ad_len) + msg_len; ++i) b.push_back(uint8_t(i * 31 + 7));
  return b;
}

void aead_corpus() {
  const std::string t = "fuzz_aead";
  write(t, "rfc8439-shape-114-ad12", aead_input(0, 12, 0, 114));
  write(t, "empty-keepalive-counter-form", aead_input(2, 0, 0, 0));
  write(t, "in-place-1420", aead_input(1, 0, 0, 1420));
  write(t, "tamper-ciphertext-64", aead_input(1 | 2 | (1 << 2), 0, 33, 64));
  write(t, "tamper-tag-576", aead_input(2 << 2, 0, 5, 576));
  write(t, "tamper-ad-1025", aead_input(3 << 2, 40, 17, 1025));
}

// ---- fuzz_offload --------------------------------------------------------------------------------------

Bytes vnet(uint8_t type, uint16_t gso_size, uint16_t csum_start, uint16_t csum_offset) {
  sag::offload::virtio_net_hdr h{};
  h.flags = sag::offload::VIRTIO_NET_HDR_F_NEEDS_CSUM;
  h.gso_type = type;
  h.gso_size = gso_size;
  h.csum_start = csum_start;
  h.csum_offset = csum_offset;
  Bytes b(sizeof h);
  std::memcpy(b.data(), &h, sizeof h);
  return b;
}

void offload_corpus() {
  const std::string t = "fuzz_offload";
  using namespace sag::offload;
  sagtest::Flow v4, v6;
  v6.ipv6 = true;
  write(t, "tso4-last-shorter",
        Bytes{0} + vnet(VIRTIO_NET_HDR_GSO_TCPV4, 1000, 20, 16) + sagtest::tcp(v4, 7, 2500));
  write(t, "tso6", Bytes{0} + vnet(VIRTIO_NET_HDR_GSO_TCPV6, 1200, 40, 16) + sagtest::tcp(v6, 7, 3000));
  write(t, "uso4", Bytes{0} + vnet(VIRTIO_NET_HDR_GSO_UDP_L4, 500, 20, 6) + sagtest::udp(v4, 1700));
  write(t, "uso6", Bytes{0} + vnet(VIRTIO_NET_HDR_GSO_UDP_L4, 500, 40, 6) + sagtest::udp(v6, 1200));
  write(t, "partial-checksum", Bytes{0} + vnet(VIRTIO_NET_HDR_GSO_NONE, 0, 20, 6) + sagtest::udp(v4, 100));
  write(t, "bad-type", Bytes{0} + vnet(9, 1000, 20, 16) + sagtest::tcp(v4, 0, 2000));
  // Coalescing: kind (flow bit 0, IPv6 bit 1, raw when 7), step, size, flags (see fuzz_offload.cc).
  Bytes one_flow{1};
  for (int i = 0; i < 20; ++i) one_flow = one_flow + Bytes{0, 1, 1, 0};
  write(t, "gro-one-flow", one_flow);
  Bytes mixed{1};
  for (int i = 0; i < 16; ++i) mixed = mixed + Bytes{uint8_t(i % 4), 1, 1, uint8_t(i == 9 ? 1 : 0)};
  mixed = mixed + Bytes{7, 30};
  write(t, "gro-mixed-flows-v6-raw", mixed);
  write(t, "gro-gap-short-corrupt", Bytes{1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 3, 5, 0, 0, 1, 1, 16, 9, 0, 1, 1, 0});
}

}  // namespace

int main(int argc, char** argv) {
  g_root = argc > 1 ? argv[1] : "native/fuzz/corpus";
  receive_corpus();
  allowed_ips_corpus();
  wire_corpus();
  offload_corpus();
  aead_corpus();
  std::printf("wrote %d files under %s\n", g_files, g_root.c_str());
  return 0;
}
