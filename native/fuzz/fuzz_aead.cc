// libFuzzer target: our ChaCha20-Poly1305 (native/core/crypto), every path this CPU has, against
// OpenSSL's EVP (sag::Aead on the openssl path).
//
// Input (missing bytes read as zero):
//   byte 0       flags: bit 0 seal and open in place; bit 1 the WireGuard counter-nonce form;
//                bits 2..3 what to tamper with before opening (0 nothing, 1 ciphertext, 2 tag, 3 AAD)
//   byte 1       AAD length (taken from the message bytes, as far as they go)
//   bytes 2..3   LE16 position of the tampered byte (modulo the tampered part's length)
//   byte 4       XOR mask for it (0 becomes 1, so tampering always changes a bit)
//   bytes 5..36  key; bytes 37..48 nonce (the counter form reads bytes 41..48 as the LE64 counter)
//   bytes 49..   AAD, then the plaintext
//
// Invariants, for each native path:
//  - seal gives OpenSSL's ciphertext and tag, in place or not;
//  - open of that gives the plaintext back;
//  - open of a tampered message fails, as OpenSSL's does, and leaves the output unwritten.
// SAG_CHACHA_IMPL=portable|avx2|avx512 limits the run to that path (a path the CPU lacks aborts).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "aead.h"
#include "crypto/chacha20poly1305.h"

namespace {

using namespace sag;
using crypto::Impl;

[[noreturn]] void fail(const char* what, Impl impl, size_t len) {
  std::fprintf(stderr, "fuzz_aead invariant violated: %s (path %s, %zu bytes)\n", what,
               crypto::impl_name(impl), len);
  std::abort();
}

std::vector<Impl> paths() {
  std::vector<Impl> v;
  const char* env = std::getenv(crypto::kImplEnv);
  if (env && *env) {
    const crypto::ImplChoice& c = crypto::chosen_impl();
    if (c.error || !crypto::is_native(c.impl)) {
      std::fprintf(stderr, "fuzz_aead: %s\n", c.error ? c.error : "the openssl path is the reference here");
      std::abort();
    }
    v.push_back(c.impl);
    return v;
  }
  for (Impl i : crypto::kAllImpls)
    if (crypto::is_native(i) && crypto::cpu_has(i)) v.push_back(i);
  return v;
}

constexpr size_t kHeader = 49;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<Impl> impls = paths();
  static Aead ref(Impl::kOpenssl);
  if (!ref.ok()) fail("no OpenSSL reference", Impl::kOpenssl, 0);

  uint8_t h[kHeader] = {};
  std::memcpy(h, data, size < kHeader ? size : kHeader);
  const bool in_place = h[0] & 1, counter_form = h[0] & 2;
  const int tamper = (h[0] >> 2) & 3;
  const uint8_t* key = h + 5;
  uint8_t nonce[crypto::kNonceSize];
  uint64_t counter = 0;
  for (int i = 0; i < 8; ++i) counter |= uint64_t(h[41 + i]) << (8 * i);
  if (counter_form)
    crypto::counter_nonce(nonce, counter);
  else
    std::memcpy(nonce, h + 37, sizeof nonce);

  // Exact-size heap copies so ASan sees any access past the AAD or the message.
  const size_t body = size > kHeader ? size - kHeader : 0;
  const size_t ad_len = h[1] < body ? h[1] : body;
  const size_t len = body - ad_len;
  std::vector<uint8_t> ad(ad_len), pt(len);
  if (ad_len) std::memcpy(ad.data(), data + kHeader, ad_len);
  if (len) std::memcpy(pt.data(), data + kHeader + ad_len, len);

  std::vector<uint8_t> want(len + crypto::kTagSize);
  if (!ref.seal_nonce(key, nonce, pt.data(), len, want.data(), ad.data(), ad_len))
    fail("OpenSSL seal", Impl::kOpenssl, len);

  std::vector<uint8_t> bad = want, bad_ad = ad;
  if (tamper) {
    size_t pos = size_t(h[2] | h[3] << 8);
    uint8_t mask = h[4] ? h[4] : 1;
    if (tamper == 1 && len)
      bad[pos % len] ^= mask;
    else if (tamper == 3 && ad_len)
      bad_ad[pos % ad_len] ^= mask;
    else
      bad[len + pos % crypto::kTagSize] ^= mask;
    std::vector<uint8_t> sink(len + 1);
    if (ref.open_nonce(key, nonce, bad.data(), bad.size(), sink.data(), bad_ad.data(), ad_len))
      fail("OpenSSL opened a tampered message", Impl::kOpenssl, len);
  }

  for (Impl impl : impls) {
    std::vector<uint8_t> got(len + crypto::kTagSize);
    bool sealed;
    if (in_place) {
      std::copy(pt.begin(), pt.end(), got.begin());
      sealed = counter_form ? crypto::seal(impl, key, counter, ad.data(), ad_len, got.data(), len, got.data())
                            : crypto::seal(impl, key, nonce, ad.data(), ad_len, got.data(), len, got.data());
    } else {
      sealed = counter_form ? crypto::seal(impl, key, counter, ad.data(), ad_len, pt.data(), len, got.data())
                            : crypto::seal(impl, key, nonce, ad.data(), ad_len, pt.data(), len, got.data());
    }
    if (!sealed) fail("seal failed", impl, len);
    if (got != want) fail("sealed message differs from OpenSSL's", impl, len);

    std::vector<uint8_t> out(len);
    uint8_t* dst = in_place ? got.data() : out.data();
    if (!crypto::open(impl, key, nonce, ad.data(), ad_len, got.data(), got.size(), dst))
      fail("open of a sealed message failed", impl, len);
    if (!std::equal(pt.begin(), pt.end(), dst)) fail("opened plaintext differs", impl, len);

    if (tamper) {
      std::vector<uint8_t> msg = bad, untouched(len, 0xa5);
      uint8_t* to = in_place ? msg.data() : untouched.data();
      if (crypto::open(impl, key, nonce, bad_ad.data(), ad_len, msg.data(), msg.size(), to))
        fail("opened a tampered message", impl, len);
      if (in_place ? msg != bad : untouched != std::vector<uint8_t>(len, 0xa5))
        fail("a failed open wrote its output", impl, len);
    }
  }
  return 0;
}
