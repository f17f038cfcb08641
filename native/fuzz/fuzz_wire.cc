// libFuzzer target: the wire.h parsers and helpers against independent reference definitions.
//
// Input: the whole input is one "datagram" (a heap copy of exactly its size, so ASan catches any
// read past the end) fed to message_type() and ip_packet_length(), and also a source of numbers:
//   bytes 0..1  LE16 length for padded_length()  (0..65535: every length the dataplane can see)
//   bytes 2..3  LE16 MTU for padded_length()     (0..65535, beyond the 576..65503 the C API allows)
//   bytes 4..7  LE32 receiver index, bytes 8..15 LE64 counter: a transport header round trip.
// Missing bytes read as zero. Every call is also made on each prefix length 0..min(len, 64), so
// short, truncated inputs are covered by every input.
//
// Invariants:
//  - parse_probe matches its reference, round-trips through write_probe, and a probe is never IP;
//    flow_key never reads past n, is deterministic, and is all zero for non-IP bytes;
//  - message_type(p, n) == p[0] if n >= 4 and p[1..3] are zero, else 0;
//  - fixed_message_size: 148 / 92 / 64 for types 1 / 2 / 3, 0 for every other byte value;
//  - ip_packet_length(p, n): 0 unless the version nibble is 4 (n >= 20) or 6 (n >= 40); the IPv4
//    total-length field, or 40 + the IPv6 payload length; never reads past n;
//  - padded_length(len, mtu): >= len; == len when len > mtu; otherwise <= mtu, < len + 16, and a
//    multiple of 16 unless capped at exactly mtu; 0 for 0 (keepalives stay empty);
//  - store/load LE round trip; write_transport_header is parsed back by message_type and loads;
//    make_nonce is 4 zero bytes then the LE64 counter.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "paths.h"
#include "wire.h"

namespace {

using namespace sag;

[[noreturn]] void fail(const char* what, size_t a, size_t b) {
  std::fprintf(stderr, "fuzz_wire invariant violated: %s (%zu, %zu)\n", what, a, b);
  std::abort();
}
#define REQUIRE(cond, a, b)                         \
  do {                                              \
    if (!(cond)) fail(#cond, size_t(a), size_t(b)); \
  } while (0)

uint8_t ref_message_type(const uint8_t* p, size_t n) {
  if (n < 4) return 0;
  if (p[1] || p[2] || p[3]) return 0;
  return p[0];
}

size_t ref_ip_packet_length(const uint8_t* p, size_t n) {
  if (n == 0) return 0;
  int version = p[0] / 16;
  if (version == 4 && n >= 20) {
    size_t total = size_t(p[2]) * 256 + p[3];
    return total >= 20 ? total : 0;  // a total length below the header is not an IPv4 packet
  }
  if (version == 6 && n >= 40) return 40 + size_t(p[4]) * 256 + p[5];
  return 0;
}

uint64_t get(const uint8_t* p, size_t n, size_t off, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v |= uint64_t(off + i < n ? p[off + i] : 0) << (8 * i);
  return v;
}

// Path probes (wire.h) and the flow key of multipath selection (paths.h) read the same bytes.
void check_multipath(const uint8_t* p, size_t n) {
  wire::Probe probe{};
  bool is_probe = wire::parse_probe(p, n, &probe);
  bool ref = n >= 24 && (p[0] == 0x51 || p[0] == 0x52) && !p[1] && !p[2] && !p[3];
  REQUIRE(is_probe == ref, is_probe, n);
  if (is_probe) {
    REQUIRE(probe.path_id == get(p, n, 4, 4) && probe.sequence == get(p, n, 8, 8) &&
                probe.sent_ns == get(p, n, 16, 8),
            probe.path_id, n);
    uint8_t back[wire::kProbeSize];
    wire::write_probe(back, probe);
    REQUIRE(std::memcmp(back, p, wire::kProbeSize) == 0, n, 0);
    REQUIRE(wire::ip_packet_length(p, n) == 0, p[0], n);  // never mistaken for IP
  }
  FlowKey k = flow_key(p, n);
  REQUIRE(k.dscp < 64, k.dscp, n);
  if (k.has_ports)
    REQUIRE(k.protocol == 6 || k.protocol == 17 || k.protocol == 132 || k.protocol == 136, k.protocol, n);
  if (n == 0 || (p[0] >> 4 != 4 && p[0] >> 4 != 6))
    REQUIRE(k.protocol == 0 && !k.has_ports && k.hash == 0 && k.family == 0, k.protocol, n);
  if (k.family == 4)
    REQUIRE(k.src[1] == 0 && k.dst[1] == 0 && k.src[0] == wire::load_le32(p + 12), k.family, n);
  REQUIRE(flow_key(p, n).hash == k.hash, n, 0);
}

void check_parsers(const uint8_t* p, size_t n) {
  check_multipath(p, n);
  uint8_t t = wire::message_type(p, n);
  REQUIRE(t == ref_message_type(p, n), t, n);
  size_t ip = wire::ip_packet_length(p, n);
  REQUIRE(ip == ref_ip_packet_length(p, n), ip, n);
  if (ip) {
    int version = p[0] >> 4;
    REQUIRE(version == 4 ? (ip >= 20 && ip <= 65535) : (ip >= 40 && ip <= 65535 + 40), ip, version);
  }
}

void check_padding(size_t len, size_t mtu) {
  size_t padded = wire::padded_length(len, mtu);
  REQUIRE(padded >= len, padded, len);
  if (len > mtu) {
    REQUIRE(padded == len, padded, len);
  } else {
    REQUIRE(padded <= mtu, padded, mtu);
    REQUIRE(padded - len < wire::kPaddingMultiple, padded, len);
    REQUIRE(padded % wire::kPaddingMultiple == 0 || padded == mtu, padded, mtu);
    // The smallest such length: a multiple of 16 when one fits under the MTU.
    size_t round_up = (len + 15) / 16 * 16;
    REQUIRE(padded == (round_up <= mtu ? round_up : mtu), padded, round_up);
  }
  if (len == 0) REQUIRE(padded == 0, padded, mtu);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Exact-size heap copies: a parser reading one byte too far is a heap-buffer-overflow.
  std::vector<uint8_t> whole(data, data + size);
  check_parsers(size ? whole.data() : nullptr, size);
  for (size_t n = 0; n <= size && n <= 64; ++n) {
    std::unique_ptr<uint8_t[]> prefix(new uint8_t[n ? n : 1]);
    if (n) std::memcpy(prefix.get(), data, n);
    check_parsers(prefix.get(), n);
  }

  for (int type = 0; type < 256; ++type) {
    size_t want = type == 1 ? 148 : type == 2 ? 92 : type == 3 ? 64 : 0;
    REQUIRE(wire::fixed_message_size(uint8_t(type)) == want, type, want);
  }

  size_t len = size_t(get(data, size, 0, 2));
  size_t mtu = size_t(get(data, size, 2, 2));
  check_padding(len, mtu);
  check_padding(len, wire::kMaxInnerPacketSize);
  check_padding(len % 1500, 1420);

  uint32_t receiver = uint32_t(get(data, size, 4, 4));
  uint64_t counter = get(data, size, 8, 8);
  uint8_t header[wire::kTransportHeaderSize];
  std::memset(header, 0xee, sizeof header);
  wire::write_transport_header(header, receiver, counter);
  REQUIRE(wire::message_type(header, sizeof header) == wire::kTypeTransport, header[0], 0);
  REQUIRE(wire::load_le32(header + wire::kTransportOffsetReceiver) == receiver, receiver, 0);
  REQUIRE(wire::load_le64(header + wire::kTransportOffsetCounter) == counter, counter, 0);
  for (size_t i = 0; i < 8; ++i) REQUIRE(header[8 + i] == uint8_t(counter >> (8 * i)), i, header[8 + i]);
  uint8_t nonce[wire::kNonceSize];
  std::memset(nonce, 0xee, sizeof nonce);
  wire::make_nonce(nonce, counter);
  REQUIRE(nonce[0] == 0 && nonce[1] == 0 && nonce[2] == 0 && nonce[3] == 0, nonce[0], 0);
  REQUIRE(wire::load_le64(nonce + 4) == counter, counter, 0);
  uint8_t le[4];
  wire::store_le32(le, receiver);
  REQUIRE(le[0] == uint8_t(receiver) && le[3] == uint8_t(receiver >> 24), receiver, 0);

  // Size relations the pipelines rely on.
  static_assert(wire::kKeepaliveSize == 32 && wire::kTransportOverhead == 32, "overhead");
  static_assert(wire::kMaxInnerPacketSize + wire::kTransportOverhead == wire::kMaxDatagramSize, "max");
  return 0;
}
