// ChaCha20-Poly1305 AEAD (RFC 8439) of our own, on caller-owned buffers, with one implementation
// per instruction set chosen at run time:
//   portable  plain C++, the reference every other path is checked against
//   avx2      ChaCha20 eight blocks at a time (ymm)
//   avx512    ChaCha20 sixteen blocks at a time (zmm, AVX-512F/VL)
//   openssl   OpenSSL's EVP, for a CPU without AVX2 (driven by sag::Aead in aead.h, not here)
// SAG_CHACHA_IMPL=portable|avx2|avx512|openssl forces one (so tests run every path a CPU has);
// a forced path the CPU lacks is refused, not replaced.
// Stateless and thread-safe; nothing is allocated.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sag::crypto {

constexpr size_t kKeySize = 32;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;
// RFC 8439 section 2.8: the 32-bit block counter allows 2^32 - 1 blocks of data per nonce.
constexpr uint64_t kMaxPlaintext = (uint64_t(1) << 38) - 64;

enum class Impl : uint8_t { kPortable, kAvx2, kAvx512, kOpenssl };
constexpr Impl kAllImpls[] = {Impl::kPortable, Impl::kAvx2, Impl::kAvx512, Impl::kOpenssl};
constexpr const char* kImplEnv = "SAG_CHACHA_IMPL";

const char* impl_name(Impl impl);
// Whether this CPU (and OS) can run the path; portable and openssl always can.
bool cpu_has(Impl impl);
// True for the paths this file implements (all but openssl).
constexpr bool is_native(Impl impl) {
  return impl != Impl::kOpenssl;
}

// The process's path: SAG_CHACHA_IMPL when set (and non-empty), else the fastest the CPU has
// (avx512, then avx2, else openssl). Decided once. error is null, or says why the variable was
// refused (unknown name, or a path the CPU lacks); impl is then unusable.
struct ImplChoice {
  Impl impl;
  const char* error;
};
const ImplChoice& chosen_impl();
// The decision itself, for a given value of the variable (null when unset).
ImplChoice choose_impl(const char* env_value);

// The WireGuard transport nonce: 4 zero bytes, then the 64-bit message counter little-endian.
inline void counter_nonce(uint8_t nonce[kNonceSize], uint64_t counter) {
  std::memset(nonce, 0, 4);
  for (int i = 0; i < 8; ++i) nonce[4 + i] = uint8_t(counter >> (8 * i));
}

// Encrypts len bytes of in to out and writes the tag at out + len (out holds len + 16 bytes).
// out may equal in; other overlaps are not allowed. ad may be null when ad_len is 0.
// Returns false only for a non-native impl or len beyond kMaxPlaintext.
bool seal(Impl impl, const uint8_t key[kKeySize], const uint8_t nonce[kNonceSize], const uint8_t* ad,
          size_t ad_len, const uint8_t* in, size_t len, uint8_t* out);

// Authenticates and decrypts in (len bytes including the 16-byte tag) to out (len - 16 bytes).
// The tag is checked (in constant time) before anything is decrypted: when open returns false,
// out has not been written, so it never holds unauthenticated plaintext. out may equal in.
bool open(Impl impl, const uint8_t key[kKeySize], const uint8_t nonce[kNonceSize], const uint8_t* ad,
          size_t ad_len, const uint8_t* in, size_t len, uint8_t* out);

// The WireGuard transport form: nonce from the 64-bit counter.
inline bool seal(Impl impl, const uint8_t key[kKeySize], uint64_t counter, const uint8_t* ad, size_t ad_len,
                 const uint8_t* in, size_t len, uint8_t* out) {
  uint8_t nonce[kNonceSize];
  counter_nonce(nonce, counter);
  return seal(impl, key, nonce, ad, ad_len, in, len, out);
}
inline bool open(Impl impl, const uint8_t key[kKeySize], uint64_t counter, const uint8_t* ad, size_t ad_len,
                 const uint8_t* in, size_t len, uint8_t* out) {
  uint8_t nonce[kNonceSize];
  counter_nonce(nonce, counter);
  return open(impl, key, nonce, ad, ad_len, in, len, out);
}

// The bare primitives, for the RFC 8439 vectors of section 2 and appendix A.
// out = in ^ ChaCha20 keystream from block `counter` on (in == out allowed). False for openssl.
bool chacha20_xor(Impl impl, const uint8_t key[kKeySize], const uint8_t nonce[kNonceSize], uint32_t counter,
                  const uint8_t* in, size_t len, uint8_t* out);
// The one-time authenticator of section 2.5 over a message of any length.
void poly1305_mac(const uint8_t key[32], const uint8_t* msg, size_t len, uint8_t tag[kTagSize]);

}  // namespace sag::crypto
