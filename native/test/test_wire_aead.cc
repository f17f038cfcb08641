// Wire format and ChaCha20-Poly1305: RFC 8439 vector, transport encode/decode, padding, parsing
// of truncated and garbage input.
#include <cstring>
#include <string>
#include <vector>

#include "aead.h"
#include "check.h"
#include "wire.h"

using namespace sag;

namespace {
std::vector<uint8_t> hex(const char* s) {
  std::vector<uint8_t> out;
  auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (; s[0] && s[1]; s += 2) {
    while (*s == ' ') ++s;
    out.push_back(uint8_t(nib(s[0]) << 4 | nib(s[1])));
  }
  return out;
}
}  // namespace

TEST_CASE("1 RFC 8439 section 2.8.2 AEAD vector seals and opens") {
  auto key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  auto nonce = hex("070000004041424344454647");
  auto ad = hex("50515253c0c1c2c3c4c5c6c7");
  std::string pt =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
      "sunscreen would be it.";
  auto expect =
      hex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b"
          "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
          "3ff4def08e4b7a9de576d26586cec64b6116"
          "1ae10b594f09e26a7e902ecbd0600691");
  Aead aead;
  CHECK(aead.ok());
  std::vector<uint8_t> out(pt.size() + 16);
  CHECK(aead.seal_nonce(key.data(), nonce.data(), reinterpret_cast<const uint8_t*>(pt.data()), pt.size(),
                        out.data(), ad.data(), ad.size()));
  CHECK(out == expect);
  std::vector<uint8_t> back(pt.size());
  CHECK(aead.open_nonce(key.data(), nonce.data(), out.data(), out.size(), back.data(), ad.data(), ad.size()));
  CHECK(std::memcmp(back.data(), pt.data(), pt.size()) == 0);
  out[5] ^= 1;
  CHECK(
      !aead.open_nonce(key.data(), nonce.data(), out.data(), out.size(), back.data(), ad.data(), ad.size()));
}

TEST_CASE("2 transport message round trip in place, counter in nonce and header") {
  uint8_t key[32];
  for (int i = 0; i < 32; ++i) key[i] = uint8_t(i * 7);
  Aead aead;
  uint8_t buf[16 + 64 + 32] = {};
  const char* msg = "hello, tunnel";
  size_t len = std::strlen(msg);
  std::memcpy(buf + 16, msg, len);
  size_t padded = wire::padded_length(len, 1420);
  CHECK_EQ(padded, 16u);
  wire::write_transport_header(buf, 0xdeadbeef, 0x0102030405060708ull);
  CHECK(aead.seal(key, 0x0102030405060708ull, buf + 16, padded, buf + 16));
  CHECK_EQ(wire::message_type(buf, 16 + padded + 16), wire::kTypeTransport);
  CHECK_EQ(wire::load_le32(buf + 4), 0xdeadbeefu);
  CHECK_EQ(wire::load_le64(buf + 8), 0x0102030405060708ull);
  CHECK_EQ(buf[4], 0xef);  // little-endian on the wire
  uint8_t sealed[sizeof buf];
  std::memcpy(sealed, buf, sizeof buf);
  CHECK(aead.open(key, 0x0102030405060708ull, buf + 16, padded + 16, buf + 16));
  CHECK(std::memcmp(buf + 16, msg, len) == 0);
  for (size_t i = len; i < padded; ++i) CHECK_EQ(buf[16 + i], 0);
  // A wrong counter (nonce), a flipped ciphertext bit or a flipped tag bit fails.
  uint8_t tmp[sizeof buf];
  std::memcpy(tmp, sealed, sizeof tmp);
  CHECK(!aead.open(key, 0x0102030405060709ull, tmp + 16, padded + 16, tmp + 16));
  for (size_t at : {size_t(16), size_t(16 + padded)}) {
    std::memcpy(tmp, sealed, sizeof tmp);
    tmp[at] ^= 0x80;
    CHECK(!aead.open(key, 0x0102030405060708ull, tmp + 16, padded + 16, tmp + 16));
  }
}

TEST_CASE("3 keepalive is 32 bytes: header plus tag of an empty payload") {
  uint8_t key[32] = {1};
  Aead aead;
  uint8_t buf[wire::kKeepaliveSize];
  wire::write_transport_header(buf, 7, 0);
  CHECK(aead.seal(key, 0, nullptr, 0, buf + 16));
  uint8_t out[1];
  CHECK(aead.open(key, 0, buf + 16, 16, out));
  CHECK_EQ(sizeof buf, 32u);
}

TEST_CASE("4 padding to a multiple of 16, never past the MTU") {
  struct Row {
    size_t len, mtu, want;
  } rows[] = {{0, 1420, 0},       {1, 1420, 16},      {15, 1420, 16},     {16, 1420, 16},
              {17, 1420, 32},     {1404, 1420, 1408}, {1409, 1420, 1420}, {1419, 1420, 1420},
              {1420, 1420, 1420}, {1421, 1420, 1421}, {1500, 1500, 1500}, {1499, 1500, 1500},
              {1489, 1500, 1500}};
  int n = 0;
  for (auto& r : rows) {
    if (wire::padded_length(r.len, r.mtu) != r.want)
      sagtest::fail(__FILE__, __LINE__, "padding row " + std::to_string(n));
    ++n;
  }
}

TEST_CASE("5 message_type rejects truncated and non-zero reserved bytes") {
  uint8_t m[4] = {4, 0, 0, 0};
  CHECK_EQ(wire::message_type(m, 4), 4);
  CHECK_EQ(wire::message_type(m, 3), 0);
  CHECK_EQ(wire::message_type(m, 0), 0);
  for (int i = 1; i < 4; ++i) {
    uint8_t b[4] = {1, 0, 0, 0};
    b[i] = 1;
    CHECK_EQ(wire::message_type(b, 4), 0);
  }
  CHECK_EQ(wire::fixed_message_size(1), 148u);
  CHECK_EQ(wire::fixed_message_size(2), 92u);
  CHECK_EQ(wire::fixed_message_size(3), 64u);
  CHECK_EQ(wire::fixed_message_size(4), 0u);
}

TEST_CASE("6 ip_packet_length of IPv4, IPv6, truncated and garbage") {
  uint8_t v4[20] = {0x45, 0, 0, 60};
  CHECK_EQ(wire::ip_packet_length(v4, 20), 60u);
  CHECK_EQ(wire::ip_packet_length(v4, 19), 0u);
  uint8_t v6[40] = {0x60, 0, 0, 0, 0, 8};
  CHECK_EQ(wire::ip_packet_length(v6, 40), 48u);
  CHECK_EQ(wire::ip_packet_length(v6, 39), 0u);
  uint8_t tiny[20] = {0x45, 0, 0, 19};  // total length shorter than the header
  CHECK_EQ(wire::ip_packet_length(tiny, 20), 0u);
  uint8_t junk[40] = {0x55};
  CHECK_EQ(wire::ip_packet_length(junk, 40), 0u);
  CHECK_EQ(wire::ip_packet_length(junk, 0), 0u);
}

TEST_CASE("7 spec limits") {
  CHECK_EQ(wire::kRejectAfterMessages, 18446744073709543423ull);  // 2^64 - 2^13 - 1
  CHECK_EQ(wire::kRekeyAfterMessages, 1152921504606846976ull);    // 2^60
  CHECK_EQ(wire::kTransportOverhead, 32u);
}

SAG_TEST_MAIN()
