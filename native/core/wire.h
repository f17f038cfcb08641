// WireGuard wire format: the single source of truth for message types, sizes, offsets and limits.
// Sources: WireGuard whitepaper sections 5.4 and 6; wireguard-go device/noise-protocol.go and constants.go.
// All integers on the wire are little-endian.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "crypto/chacha20poly1305.h"

namespace sag::wire {

// Message types: one byte followed by three zero bytes.
enum MessageType : uint8_t {
  kTypeInitiation = 1,
  kTypeResponse = 2,
  kTypeCookieReply = 3,
  kTypeTransport = 4,
};

constexpr size_t kInitiationSize = 148;
constexpr size_t kResponseSize = 92;
constexpr size_t kCookieReplySize = 64;

// Transport data message: type(1) reserved(3) receiver(4) counter(8) | ciphertext (plaintext + tag).
constexpr size_t kTransportOffsetReceiver = 4;
constexpr size_t kTransportOffsetCounter = 8;
constexpr size_t kTransportHeaderSize = 16;
constexpr size_t kAuthTagSize = crypto::kTagSize;
constexpr size_t kKeepaliveSize = kTransportHeaderSize + kAuthTagSize;  // empty payload: 32 bytes
constexpr size_t kTransportOverhead = kTransportHeaderSize + kAuthTagSize;
constexpr size_t kPaddingMultiple = 16;

constexpr size_t kKeySize = crypto::kKeySize;
constexpr size_t kNonceSize = crypto::kNonceSize;  // 4 zero bytes || counter LE64

// Spec limits (whitepaper section 6).
constexpr uint64_t kRekeyAfterMessages = uint64_t(1) << 60;
constexpr uint64_t kRejectAfterMessages = UINT64_MAX - (uint64_t(1) << 13);  // 2^64 - 2^13 - 1

// Largest UDP payload we accept or produce, and largest inner IP packet.
constexpr size_t kMaxDatagramSize = 65535;
constexpr size_t kMaxInnerPacketSize = kMaxDatagramSize - kTransportOverhead;
constexpr size_t kMinIpv4HeaderSize = 20;
constexpr size_t kIpv6HeaderSize = 40;

inline uint32_t load_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint64_t load_le64(const uint8_t* p) {
  return uint64_t(load_le32(p)) | uint64_t(load_le32(p + 4)) << 32;
}
inline void store_le32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
  p[2] = uint8_t(v >> 16);
  p[3] = uint8_t(v >> 24);
}
inline void store_le64(uint8_t* p, uint64_t v) {
  store_le32(p, uint32_t(v));
  store_le32(p + 4, uint32_t(v >> 32));
}

// The message type if the first four bytes are a type byte and three zero bytes, else 0.
inline uint8_t message_type(const uint8_t* p, size_t len) {
  if (len < 4 || p[1] != 0 || p[2] != 0 || p[3] != 0) return 0;
  return p[0];
}

// Initiation, response or cookie reply: the messages the control plane handles.
inline bool is_handshake_type(uint8_t type) {
  return type == kTypeInitiation || type == kTypeResponse || type == kTypeCookieReply;
}

// Expected size of a fixed-size handshake message, or 0 for variable/unknown types.
inline size_t fixed_message_size(uint8_t type) {
  switch (type) {
    case kTypeInitiation:
      return kInitiationSize;
    case kTypeResponse:
      return kResponseSize;
    case kTypeCookieReply:
      return kCookieReplySize;
    default:
      return 0;
  }
}

inline void write_transport_header(uint8_t* p, uint32_t receiver, uint64_t counter) {
  p[0] = kTypeTransport;
  p[1] = 0;
  p[2] = 0;
  p[3] = 0;
  store_le32(p + kTransportOffsetReceiver, receiver);
  store_le64(p + kTransportOffsetCounter, counter);
}

inline void make_nonce(uint8_t nonce[kNonceSize], uint64_t counter) {
  crypto::counter_nonce(nonce, counter);
}

// Plaintext length after zero padding to a multiple of 16, never beyond mtu (keepalives stay empty).
inline size_t padded_length(size_t len, size_t mtu) {
  size_t padded = (len + kPaddingMultiple - 1) & ~(kPaddingMultiple - 1);
  if (padded > mtu) padded = len > mtu ? len : mtu;
  return padded;
}

// Length an inner IP packet claims for itself (total length / payload length + header), 0 if not IP.
inline size_t ip_packet_length(const uint8_t* p, size_t len) {
  if (len < 1) return 0;
  switch (p[0] >> 4) {
    case 4: {
      if (len < kMinIpv4HeaderSize) return 0;
      size_t total = size_t(p[2]) << 8 | p[3];
      return total < kMinIpv4HeaderSize ? 0 : total;  // shorter than its own header: not IP
    }
    case 6:
      if (len < kIpv6HeaderSize) return 0;
      return kIpv6HeaderSize + (size_t(p[4]) << 8 | p[5]);
    default:
      return 0;
  }
}

// Path probe (a sag extension): the plaintext of a transport message under the current session.
// Its first nibble (5) is neither 4 nor 6, so a stock WireGuard peer drops it as a non-IP packet.
//   kind(1: 0x51 request, 0x52 reply) reserved(3, zero) path_id(LE32) sequence(LE64) sent_ns(LE64)
// A reply copies path_id, sequence and sent_ns from the request: the RTT is measured on one clock.
constexpr uint8_t kProbeRequest = 0x51;
constexpr uint8_t kProbeReply = 0x52;
constexpr size_t kProbeSize = 24;
constexpr size_t kProbeOffsetPath = 4;
constexpr size_t kProbeOffsetSequence = 8;
constexpr size_t kProbeOffsetSentNs = 16;

struct Probe {
  uint8_t kind;
  uint32_t path_id;
  uint64_t sequence;
  uint64_t sent_ns;
};

// Parses a decrypted plaintext (padding included) as a probe; false if it is not one.
inline bool parse_probe(const uint8_t* p, size_t len, Probe* out) {
  if (len < kProbeSize || (p[0] != kProbeRequest && p[0] != kProbeReply)) return false;
  if (p[1] != 0 || p[2] != 0 || p[3] != 0) return false;
  out->kind = p[0];
  out->path_id = load_le32(p + kProbeOffsetPath);
  out->sequence = load_le64(p + kProbeOffsetSequence);
  out->sent_ns = load_le64(p + kProbeOffsetSentNs);
  return true;
}

inline void write_probe(uint8_t* p, const Probe& probe) {
  p[0] = probe.kind;
  p[1] = 0;
  p[2] = 0;
  p[3] = 0;
  store_le32(p + kProbeOffsetPath, probe.path_id);
  store_le64(p + kProbeOffsetSequence, probe.sequence);
  store_le64(p + kProbeOffsetSentNs, probe.sent_ns);
}

}  // namespace sag::wire
