// Our ChaCha20-Poly1305 (native/core/crypto): the RFC 8439 vectors of section 2 and appendix A on
// every path this CPU has, and random messages against OpenSSL's EVP (every length 0..300, then
// random ones up to 2048, in place and out of place, with and without AAD; tampered tags,
// ciphertexts and AAD refused on both, output left unwritten).
// With SAG_CHACHA_IMPL set it checks that the default Aead takes (or refuses) that path.
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "aead.h"
#include "check.h"
#include "crypto/chacha20.h"
#include "crypto/chacha20poly1305.h"
#include "crypto/poly1305.h"

using namespace sag;
using crypto::Impl;

namespace {

std::vector<uint8_t> hex(const char* s) {
  std::vector<uint8_t> out;
  auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  while (*s) {
    if (*s == ' ') {
      ++s;
      continue;
    }
    out.push_back(uint8_t(nib(s[0]) << 4 | nib(s[1])));
    s += 2;
  }
  return out;
}

std::vector<uint8_t> bytes(const char* s) {
  return std::vector<uint8_t>(s, s + std::strlen(s));
}

std::vector<Impl> native_paths() {
  std::vector<Impl> v;
  for (Impl i : crypto::kAllImpls)
    if (crypto::is_native(i) && crypto::cpu_has(i)) v.push_back(i);
  return v;
}

std::vector<uint8_t> xor_stream(Impl impl, const std::vector<uint8_t>& key, const std::vector<uint8_t>& nonce,
                                uint32_t counter, const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out(in.size());
  CHECK(crypto::chacha20_xor(impl, key.data(), nonce.data(), counter, in.data(), in.size(), out.data()));
  return out;
}

const char* kSunscreen =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen "
    "would be it.";

}  // namespace

TEST_CASE("1 the CPU's paths: portable always, the default is one the CPU has") {
  CHECK(crypto::cpu_has(Impl::kPortable));
  CHECK(crypto::cpu_has(Impl::kOpenssl));
  crypto::ImplChoice unset = crypto::choose_impl(nullptr);
  CHECK(unset.error == nullptr);
  CHECK(crypto::cpu_has(unset.impl));
  if (crypto::cpu_has(Impl::kAvx2)) CHECK(unset.impl != Impl::kOpenssl);
  CHECK(crypto::choose_impl("").error == nullptr);
  CHECK(crypto::choose_impl("sse9").error != nullptr);
  for (Impl i : crypto::kAllImpls) {
    crypto::ImplChoice c = crypto::choose_impl(crypto::impl_name(i));
    CHECK(c.impl == i);
    CHECK((c.error == nullptr) == crypto::cpu_has(i));
  }
  std::printf("     paths on this CPU:");
  for (Impl i : crypto::kAllImpls)
    if (crypto::cpu_has(i)) std::printf(" %s", crypto::impl_name(i));
  std::printf("; default %s\n", crypto::impl_name(unset.impl));
}

TEST_CASE("2 SAG_CHACHA_IMPL: the default Aead takes the forced path, or refuses one the CPU lacks") {
  const char* env = std::getenv(crypto::kImplEnv);
  Aead aead;
  if (!env || !*env) {
    CHECK(aead.ok());
    return;
  }
  Impl want = Impl::kPortable;
  bool known = false;
  for (Impl i : crypto::kAllImpls)
    if (std::strcmp(env, crypto::impl_name(i)) == 0) want = i, known = true;
  CHECK(known);
  CHECK_EQ(int(aead.impl()), int(want));
  CHECK_EQ(aead.ok(), crypto::cpu_has(want));
  if (!aead.ok()) {
    CHECK(std::strstr(aead.error(), env) != nullptr);
    std::printf("     refused as expected: %s\n", aead.error());
    return;
  }
  auto key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  auto nonce = hex("070000004041424344454647");
  auto ad = hex("50515253c0c1c2c3c4c5c6c7");
  auto pt = bytes(kSunscreen);
  std::vector<uint8_t> out(pt.size() + 16);
  CHECK(aead.seal_nonce(key.data(), nonce.data(), pt.data(), pt.size(), out.data(), ad.data(), ad.size()));
  CHECK(out ==
        hex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da"
            "92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585"
            "808b4831d7bc3ff4def08e4b7a9de576d26586cec64b61161ae10b594f09e26a7e902ecbd0600691"));
}

TEST_CASE("3 RFC 8439 2.3.2, A.1: ChaCha20 block function on every path") {
  struct V {
    const char *key, *nonce;
    uint32_t counter;
    const char* block;
  } vs[] = {
      {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "000000090000004a00000000", 1,
       "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4ed2826446079faa0914c2d705d98b02a2b5129"
       "cd1"
       "de164eb9cbd083e8a2503c4e"},
      {"0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", 0,
       "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b"
       "8f4"
       "1518a11cc387b669b2ee6586"},
      {"0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", 1,
       "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed29b721769ce64e43d57133b074d839d531ed1"
       "f28"
       "510afb45ace10a1f4b794d6f"},
      {"0000000000000000000000000000000000000000000000000000000000000001", "000000000000000000000000", 1,
       "3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a8eca00bbb4a73bdad192b5c42f73f2fd4e273"
       "644"
       "c8b36125a64addeb006c13a0"},
      {"00ff000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", 2,
       "72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca13b25aa26cb4a648cb9b9d1be65b2c0924a66"
       "c54"
       "d545ec1b7374f4872e99f096"},
      {"0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000002", 0,
       "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c78a970e0e955c14f3a88e741b97c286f75f8fc"
       "299"
       "e8148362fa198a39531bed6d"},
  };
  for (Impl impl : native_paths())
    for (auto& v : vs) {
      auto got = xor_stream(impl, hex(v.key), hex(v.nonce), v.counter, std::vector<uint8_t>(64, 0));
      if (got != hex(v.block))
        std::printf("     %s: block vector %s differs\n", crypto::impl_name(impl), v.block);
      CHECK(got == hex(v.block));
    }
}

TEST_CASE("4 RFC 8439 2.4.2, A.2 #3: ChaCha20 encryption on every path") {
  auto key = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  auto sunscreen =
      hex("6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b35716"
          "39d624"
          "e65152ab8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab77937365af90bbf74"
          "a35be6"
          "b40b8eedf2785e42874d");
  auto jabber_key = hex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
  auto jabber =
      hex("62e6347f95ed87a45ffae7426f27a1df5fb69110044c0d73118effa95b01e5cf166d3df2d721caf9b21e5fb14c616871fd"
          "84c54f"
          "9d65b283196c7fe4f60553ebf39c6402c42234e32a356b3e764312a61a5532055716ead6962568f87d3f3f7704c6a8d1bc"
          "d1bf4d"
          "50d6154b6da731b187b58dfd728afa36757a797ac188d1");
  const char* jabber_pt =
      "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were the borogoves,\n"
      "And the mome raths outgrabe.";
  for (Impl impl : native_paths()) {
    CHECK(xor_stream(impl, key, hex("000000000000004a00000000"), 1, bytes(kSunscreen)) == sunscreen);
    CHECK(xor_stream(impl, jabber_key, hex("000000000000000000000002"), 42, bytes(jabber_pt)) == jabber);
    // In place gives the same.
    auto buf = bytes(kSunscreen);
    auto nonce = hex("000000000000004a00000000");
    CHECK(crypto::chacha20_xor(impl, key.data(), nonce.data(), 1, buf.data(), buf.size(), buf.data()));
    CHECK(buf == sunscreen);
  }
}

TEST_CASE("5 RFC 8439 2.5.2, 2.6.2, A.3: Poly1305 and its key generation") {
  struct V {
    const char *key, *msg, *tag;
  } vs[] = {
      {"85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
       "43727970746f6772617068696320466f72756d2052657365617263682047726f7570",
       "a8061dc1305136c6c22b8baf0c0127a9"},
      {"0000000000000000000000000000000000000000000000000000000000000000",
       "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
       "000"
       "000000000000000000000000",
       "00000000000000000000000000000000"},
      // A.3 #5..#11: the edge cases of the reduction modulo 2^130 - 5.
      {"0200000000000000000000000000000000000000000000000000000000000000", "ffffffffffffffffffffffffffffffff",
       "03000000000000000000000000000000"},
      {"02000000000000000000000000000000ffffffffffffffffffffffffffffffff", "02000000000000000000000000000000",
       "03000000000000000000000000000000"},
      {"0100000000000000000000000000000000000000000000000000000000000000",
       "fffffffffffffffffffffffffffffffff0ffffffffffffffffffffffffffffff11000000000000000000000000000000",
       "05000000000000000000000000000000"},
      {"0100000000000000000000000000000000000000000000000000000000000000",
       "fffffffffffffffffffffffffffffffffbfefefefefefefefefefefefefefefe01010101010101010101010101010101",
       "00000000000000000000000000000000"},
      {"0200000000000000000000000000000000000000000000000000000000000000", "fdffffffffffffffffffffffffffffff",
       "faffffffffffffffffffffffffffffff"},
      {"0100000000000000040000000000000000000000000000000000000000000000",
       "e33594d7505e43b900000000000000003394d7505e4379cd01000000000000000000000000000000000000000000000001000"
       "000"
       "000000000000000000000000",
       "14000000000000005500000000000000"},
      {"0100000000000000040000000000000000000000000000000000000000000000",
       "e33594d7505e43b900000000000000003394d7505e4379cd010000000000000000000000000000000000000000000000",
       "13000000000000000000000000000000"},
  };
  for (auto& v : vs) {
    auto key = hex(v.key), msg = hex(v.msg);
    uint8_t tag[16];
    crypto::poly1305_mac(key.data(), msg.data(), msg.size(), tag);
    CHECK(std::vector<uint8_t>(tag, tag + 16) == hex(v.tag));
  }
  // 2.6.2: the one-time key is the first 32 bytes of block 0.
  auto key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  auto otk = hex("8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646");
  for (Impl impl : native_paths()) {
    auto block = xor_stream(impl, key, hex("000000000001020304050607"), 0, std::vector<uint8_t>(32, 0));
    CHECK(block == otk);
  }
}

TEST_CASE("6 RFC 8439 2.8.2: AEAD seals and opens on every path, tampering refused") {
  auto key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  auto nonce = hex("070000004041424344454647");
  auto ad = hex("50515253c0c1c2c3c4c5c6c7");
  auto pt = bytes(kSunscreen);
  auto expect =
      hex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a"
          "71de0a9e"
          "060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b"
          "7a9de576"
          "d26586cec64b61161ae10b594f09e26a7e902ecbd0600691");
  for (Impl impl : native_paths()) {
    std::vector<uint8_t> out(pt.size() + 16);
    CHECK(
        crypto::seal(impl, key.data(), nonce.data(), ad.data(), ad.size(), pt.data(), pt.size(), out.data()));
    CHECK(out == expect);
    std::vector<uint8_t> back(pt.size(), 0xee);
    CHECK(crypto::open(impl, key.data(), nonce.data(), ad.data(), ad.size(), out.data(), out.size(),
                       back.data()));
    CHECK(back == pt);
    for (size_t at : {size_t(0), pt.size() - 1, pt.size(), out.size() - 1}) {
      auto bad = out;
      bad[at] ^= 0x80;
      std::vector<uint8_t> untouched(pt.size(), 0xee);
      CHECK(!crypto::open(impl, key.data(), nonce.data(), ad.data(), ad.size(), bad.data(), bad.size(),
                          untouched.data()));
      CHECK(untouched == std::vector<uint8_t>(pt.size(), 0xee));
    }
    auto bad_ad = ad;
    bad_ad[0] ^= 1;
    CHECK(!crypto::open(impl, key.data(), nonce.data(), bad_ad.data(), bad_ad.size(), out.data(), out.size(),
                        back.data()));
    CHECK(!crypto::open(impl, key.data(), nonce.data(), nullptr, 0, out.data(), 15, back.data()));
  }
  CHECK(!crypto::seal(Impl::kOpenssl, key.data(), nonce.data(), nullptr, 0, pt.data(), pt.size(), pt.data()));
}

TEST_CASE("7 kernels: every batch size and counter agrees with the portable reference") {
  std::mt19937_64 rng(7);
  uint8_t key[32], nonce[12];
  for (auto& b : key) b = uint8_t(rng());
  for (auto& b : nonce) b = uint8_t(rng());
  for (Impl impl : native_paths()) {
    const crypto::ChachaKernels* k = impl == Impl::kPortable ? &crypto::kChachaPortable
#if defined(__x86_64__)
                                     : impl == Impl::kAvx2 ? &crypto::kChachaAvx2
                                                           : &crypto::kChachaAvx512;
#else
                                                             : nullptr;
#endif
    for (uint32_t counter : {0u, 1u, 12345u, 0xfffffff0u}) {
      crypto::ChachaState st;
      crypto::chacha_init(st, key, nonce, counter);
      for (size_t n = 1; n <= k->batch_blocks; ++n) {
        std::vector<uint8_t> got(n * 64), want(n * 64);
        k->keystream(st, got.data(), n);
        crypto::kChachaPortable.keystream(st, want.data(), n);
        CHECK(got == want);
      }
    }
  }
}

TEST_CASE("7b Poly1305 with AVX-512 IFMA agrees with the scalar reference, extreme limbs included") {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512ifma")) return;
  std::mt19937_64 rng(77);
  for (int round = 0; round < 60; ++round) {
    uint8_t key[32];
    std::vector<uint8_t> msg(16 * 140);
    // Every third round all bytes 0xff: the largest r, s and blocks the reduction must carry.
    for (auto& b : key) b = round % 3 == 0 ? 0xff : uint8_t(rng());
    for (auto& b : msg) b = round % 3 == 0 ? 0xff : uint8_t(rng());
    size_t nblocks = crypto::kPolyIfmaMinBlocks + size_t(rng() % 110);
    size_t lead = size_t(rng() % 3);  // scalar blocks first, so the lanes start from a live h
    crypto::Poly1305 a, b;
    crypto::poly1305_init(a, key);
    crypto::poly1305_init(b, key);
    crypto::poly1305_blocks(a, msg.data(), lead + nblocks);
    crypto::poly1305_blocks(b, msg.data(), lead);
    size_t done = crypto::poly1305_blocks_ifma(b, msg.data() + 16 * lead, nblocks);
    CHECK_EQ(done, nblocks / 8 * 8);
    crypto::poly1305_blocks(b, msg.data() + 16 * (lead + done), nblocks - done);
    uint8_t ta[16], tb[16];
    crypto::poly1305_finish(a, ta);
    crypto::poly1305_finish(b, tb);
    CHECK(std::memcmp(ta, tb, 16) == 0);
  }
  crypto::Poly1305 p;
  crypto::poly1305_init(p, std::vector<uint8_t>(32, 1).data());
  CHECK_EQ(crypto::poly1305_blocks_ifma(p, nullptr, crypto::kPolyIfmaMinBlocks - 1), size_t(0));
#endif
}

TEST_CASE("8 random messages against OpenSSL: lengths 0..300 and up to 2048, AAD, in place") {
  std::mt19937_64 rng(8);
  Aead ref(Impl::kOpenssl);
  CHECK(ref.ok());
  std::vector<size_t> lens;
  for (size_t n = 0; n <= 300; ++n) lens.push_back(n);
  for (int i = 0; i < 200; ++i) lens.push_back(size_t(rng() % 2049));
  for (size_t n : {size_t(511), size_t(512), size_t(513), size_t(1023), size_t(1024), size_t(1025),
                   size_t(1420), size_t(2048)})
    lens.push_back(n);
  for (Impl impl : native_paths()) {
    int mismatches = 0;
    for (size_t len : lens) {
      uint8_t key[32], nonce[12];
      for (auto& b : key) b = uint8_t(rng());
      for (auto& b : nonce) b = uint8_t(rng());
      std::vector<uint8_t> ad(rng() % 3 == 0 ? rng() % 40 : 0), pt(len);
      for (auto& b : ad) b = uint8_t(rng());
      for (auto& b : pt) b = uint8_t(rng());
      std::vector<uint8_t> want(len + 16), got(len + 16);
      CHECK(ref.seal_nonce(key, nonce, pt.data(), len, want.data(), ad.data(), ad.size()));
      CHECK(crypto::seal(impl, key, nonce, ad.data(), ad.size(), pt.data(), len, got.data()));
      if (got != want) ++mismatches;
      // In place, as the dataplane does.
      std::vector<uint8_t> buf(pt);
      buf.resize(len + 16);
      CHECK(crypto::seal(impl, key, nonce, ad.data(), ad.size(), buf.data(), len, buf.data()));
      CHECK(buf == want);
      CHECK(crypto::open(impl, key, nonce, ad.data(), ad.size(), buf.data(), buf.size(), buf.data()));
      CHECK(std::equal(pt.begin(), pt.end(), buf.begin()));
      // A flipped bit anywhere is refused by both.
      std::vector<uint8_t> bad(want), out(len, 0xee);
      bad[rng() % bad.size()] ^= uint8_t(1u << (rng() % 8));
      CHECK(!crypto::open(impl, key, nonce, ad.data(), ad.size(), bad.data(), bad.size(), out.data()));
      CHECK(!ref.open_nonce(key, nonce, bad.data(), bad.size(), std::vector<uint8_t>(len + 1).data(),
                            ad.data(), ad.size()));
      CHECK(out == std::vector<uint8_t>(len, 0xee));
    }
    CHECK_EQ(mismatches, 0);
  }
}

TEST_CASE("9 the WireGuard counter nonce: 4 zero bytes, then the counter LE64") {
  uint8_t n[12];
  crypto::counter_nonce(n, 0x0102030405060708ULL);
  CHECK(std::vector<uint8_t>(n, n + 12) == hex("000000000807060504030201"));
}

SAG_TEST_MAIN()
