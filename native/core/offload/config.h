// Which kernel offloads the Linux I/O may use. Each one can be forced off (to test the plain path,
// or to work around a kernel or NIC that misbehaves); each also falls back by itself when the
// kernel refuses it.
//
// SAG_OFFLOADS (environment, read when a TUN or UDP socket is opened):
//   unset, "on"    everything the kernel accepts
//   "off"          nothing: one packet per TUN read/write, one datagram per UDP message
//   "tun,gso"      a comma list of what to enable, from:
//                    tun  IFF_VNET_HDR + TUNSETOFFLOAD (TSO/USO/checksum) and coalesced writes
//                    gso  UDP_SEGMENT on send        gro  UDP_GRO on receive
// Unknown words are reported once on stderr and ignored.
#pragma once

namespace sag::offload {

struct OffloadConfig {
  bool tun = true;
  bool udp_gso = true;
  bool udp_gro = true;
};

OffloadConfig parse_offloads(const char* spec);  // nullptr: everything on
OffloadConfig offloads_from_env();

}  // namespace sag::offload
