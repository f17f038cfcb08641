#include "chacha20poly1305.h"

#include <cstdlib>
#include <initializer_list>

#include "chacha20.h"
#include "poly1305.h"

namespace sag::crypto {

namespace {

const ChachaKernels* kernels(Impl impl) {
  switch (impl) {
    case Impl::kPortable:
      return &kChachaPortable;
#if defined(__x86_64__)
    case Impl::kAvx2:
      return &kChachaAvx2;
    case Impl::kAvx512:
      return &kChachaAvx512;
#endif
    default:
      return nullptr;
  }
}

// The vector Poly1305 for long ciphertexts, where the path and the CPU have one (else null).
using PolyBulk = size_t (*)(Poly1305&, const uint8_t*, size_t);
PolyBulk poly_bulk(Impl impl) {
#if defined(__x86_64__)
  static const bool ifma = (__builtin_cpu_init(), __builtin_cpu_supports("avx512ifma"));
  if (impl == Impl::kAvx512 && ifma) return poly1305_blocks_ifma;
#endif
  (void)impl;
  return nullptr;
}

// Zeroes key material on the stack in a way the compiler may not drop as a dead store.
void wipe(void* p, size_t n) {
  std::memset(p, 0, n);
  __asm__ __volatile__("" : : "r"(p) : "memory");
}

// The largest batch any kernel set writes at once.
constexpr size_t kMaxBatchBlocks = 16;

// Keys the cipher for one message: block 0 gives the Poly1305 key, blocks 1.. the data. The first
// batch of the kernel's width is computed together, so the Poly1305 key costs no extra pass; it
// covers up to (width - 1) * 64 data bytes, which are in ks + 64 on return.
struct Message {
  ChachaState st;
  alignas(64) uint8_t ks[kMaxBatchBlocks * kChachaBlockSize];
  size_t first_blocks;  // blocks in ks
  size_t head;          // data bytes covered by ks

  Message(const ChachaKernels& k, const uint8_t* key, const uint8_t* nonce, size_t len) {
    chacha_init(st, key, nonce, 0);
    size_t want = 1 + (len + kChachaBlockSize - 1) / kChachaBlockSize;
    first_blocks = want < k.batch_blocks ? want : k.batch_blocks;
    k.keystream(st, ks, first_blocks);
    size_t covered = (first_blocks - 1) * kChachaBlockSize;
    head = len < covered ? len : covered;
  }
  ~Message() {
    wipe(ks, first_blocks * kChachaBlockSize);
    wipe(&st, sizeof st);
  }
  void crypt(const ChachaKernels& k, const uint8_t* in, uint8_t* out, size_t len) {
    xor_bytes(out, in, ks + kChachaBlockSize, head);
    if (len == head) return;
    st.w[12] = uint32_t(first_blocks);
    k.xor_stream(st, in + head, out + head, len - head);
  }
  // The tag over ad and ciphertext as section 2.8 lays them out.
  void tag(PolyBulk bulk, const uint8_t* ad, size_t ad_len, const uint8_t* ct, size_t len,
           uint8_t out[kTagSize]) {
    Poly1305 p;
    poly1305_init(p, ks);
    poly1305_padded(p, ad, ad_len);
    size_t done = bulk ? bulk(p, ct, len / kPolyBlockSize) * kPolyBlockSize : 0;
    poly1305_padded(p, ct + done, len - done);
    uint8_t lengths[16];
    for (int i = 0; i < 8; ++i) {
      lengths[i] = uint8_t(uint64_t(ad_len) >> (8 * i));
      lengths[8 + i] = uint8_t(uint64_t(len) >> (8 * i));
    }
    poly1305_blocks(p, lengths, 1);
    poly1305_finish(p, out);
  }
};

bool tags_equal(const uint8_t a[kTagSize], const uint8_t b[kTagSize]) {
  uint64_t a0, a1, b0, b1;
  std::memcpy(&a0, a, 8);
  std::memcpy(&a1, a + 8, 8);
  std::memcpy(&b0, b, 8);
  std::memcpy(&b1, b + 8, 8);
  return ((a0 ^ b0) | (a1 ^ b1)) == 0;  // no early exit on the first differing byte
}

}  // namespace

ImplChoice choose_impl(const char* env) {
  if (!env || !*env) {
    for (Impl i : {Impl::kAvx512, Impl::kAvx2})
      if (cpu_has(i)) return {i, nullptr};
    return {Impl::kOpenssl, nullptr};
  }
  for (Impl i : kAllImpls) {
    if (std::strcmp(env, impl_name(i)) != 0) continue;
    if (!cpu_has(i)) {
      return {i, i == Impl::kAvx2 ? "SAG_CHACHA_IMPL=avx2, but this CPU lacks AVX2"
                                  : "SAG_CHACHA_IMPL=avx512, but this CPU lacks AVX-512F/VL/BW"};
    }
    return {i, nullptr};
  }
  return {Impl::kPortable, "SAG_CHACHA_IMPL must be one of portable, avx2, avx512, openssl (or unset)"};
}

const char* impl_name(Impl impl) {
  switch (impl) {
    case Impl::kPortable:
      return "portable";
    case Impl::kAvx2:
      return "avx2";
    case Impl::kAvx512:
      return "avx512";
    case Impl::kOpenssl:
      return "openssl";
  }
  return "?";
}

bool cpu_has(Impl impl) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (impl == Impl::kAvx2) return __builtin_cpu_supports("avx2");
  if (impl == Impl::kAvx512)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
#endif
  return impl == Impl::kPortable || impl == Impl::kOpenssl;
}

const ImplChoice& chosen_impl() {
  static const ImplChoice choice = choose_impl(std::getenv(kImplEnv));
  return choice;
}

bool seal(Impl impl, const uint8_t key[kKeySize], const uint8_t nonce[kNonceSize], const uint8_t* ad,
          size_t ad_len, const uint8_t* in, size_t len, uint8_t* out) {
  const ChachaKernels* k = kernels(impl);
  if (!k || uint64_t(len) > kMaxPlaintext) return false;
  Message m(*k, key, nonce, len);
  m.crypt(*k, in, out, len);
  m.tag(poly_bulk(impl), ad, ad_len, out, len, out + len);
  return true;
}

bool open(Impl impl, const uint8_t key[kKeySize], const uint8_t nonce[kNonceSize], const uint8_t* ad,
          size_t ad_len, const uint8_t* in, size_t len, uint8_t* out) {
  const ChachaKernels* k = kernels(impl);
  if (!k || len < kTagSize || uint64_t(len - kTagSize) > kMaxPlaintext) return false;
  size_t body = len - kTagSize;
  Message m(*k, key, nonce, body);
  uint8_t expect[kTagSize];
  m.tag(poly_bulk(impl), ad, ad_len, in, body, expect);
  if (!tags_equal(expect, in + body)) return false;
  m.crypt(*k, in, out, body);
  return true;
}

bool chacha20_xor(Impl impl, const uint8_t key[kKeySize], const uint8_t nonce[kNonceSize], uint32_t counter,
                  const uint8_t* in, size_t len, uint8_t* out) {
  const ChachaKernels* k = kernels(impl);
  if (!k) return false;
  ChachaState st;
  chacha_init(st, key, nonce, counter);
  k->xor_stream(st, in, out, len);
  wipe(&st, sizeof st);
  return true;
}

void poly1305_mac(const uint8_t key[32], const uint8_t* msg, size_t len, uint8_t tag[kTagSize]) {
  Poly1305 p;
  poly1305_init(p, key);
  poly1305_update(p, msg, len);
  poly1305_finish(p, tag);
}

}  // namespace sag::crypto
