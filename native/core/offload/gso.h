// Segmentation of the super-packets a TUN device with IFF_VNET_HDR and TUNSETOFFLOAD hands over
// (TSO for TCP over IPv4/IPv6, USO for UDP), and completion of checksums the kernel left partial.
// Pure functions over buffers: no I/O, no allocation.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sag::offload {

// struct virtio_net_hdr of <linux/virtio_net.h> (that header does not compile as C++), in the
// TUN's native byte order (no TUNSETVNETLE/BE).
struct virtio_net_hdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
};
static_assert(sizeof(virtio_net_hdr) == 10, "virtio_net_hdr is 10 bytes");
constexpr uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
constexpr uint8_t VIRTIO_NET_HDR_GSO_NONE = 0;
constexpr uint8_t VIRTIO_NET_HDR_GSO_TCPV4 = 1;
constexpr uint8_t VIRTIO_NET_HDR_GSO_TCPV6 = 4;
constexpr uint8_t VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
constexpr uint8_t VIRTIO_NET_HDR_GSO_ECN = 0x80;

constexpr size_t kVnetHdrSize = sizeof(virtio_net_hdr);  // 10: the TUN default (TUNSETVNETHDRSZ)

// What a valid super-packet looks like, worked out once by gso_parse().
struct GsoLayout {
  bool ipv6 = false;
  bool udp = false;       // UDP (USO) rather than TCP (TSO)
  size_t l4_offset = 0;   // = the IP header length (csum_start)
  size_t header_len = 0;  // IP + L4 header bytes copied to every segment
  size_t gso_size = 0;    // payload bytes per segment (the last may have fewer)
  size_t payload_len = 0;
  int segments = 0;
};

// Validates a packet with the vnet header the kernel gave it. For gso_type NONE, segments is 1
// (and the caller completes a partial checksum with complete_checksum). Returns false for a header
// or packet that does not hold together (unknown GSO type, zero gso_size, offsets out of range,
// IP version not matching the GSO type): the caller counts it as a malformed drop.
bool gso_parse(const virtio_net_hdr& h, const uint8_t* pkt, size_t len, GsoLayout* out);

// Writes segments [first, first + max) of a parsed super-packet (bounded by the segment count)
// into out[i] with their lengths in lens[i]; each out[i] must hold header_len + gso_size bytes.
// Every segment gets correct IP lengths, IPv4 id and header checksum, TCP sequence number and
// flags (FIN/PSH only on the last, CWR only on the first) and a full TCP/UDP checksum.
// Returns the number of segments written.
int gso_write_segments(const GsoLayout& l, const uint8_t* pkt, int first, int max, uint8_t* const* out,
                       size_t* lens);

// For a packet with VIRTIO_NET_HDR_F_NEEDS_CSUM and no GSO: the kernel stored the pseudo-header
// sum at csum_start + csum_offset; fold in the bytes from csum_start on. False if out of range.
bool complete_checksum(const virtio_net_hdr& h, uint8_t* pkt, size_t len);

}  // namespace sag::offload
