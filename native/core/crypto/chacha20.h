// ChaCha20 (RFC 8439 section 2.3-2.4) keystream kernels, one set per instruction-set path.
// Internal to crypto/: the AEAD (chacha20poly1305.cc) picks a kernel set at run time.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sag::crypto {

constexpr size_t kChachaBlockSize = 64;

// The 16-word input block: constants, key, block counter (word 12), nonce.
struct ChachaState {
  uint32_t w[16];
};

void chacha_init(ChachaState& st, const uint8_t key[32], const uint8_t nonce[12], uint32_t counter);

struct ChachaKernels {
  // Widest batch keystream() writes at once, in blocks.
  size_t batch_blocks;
  // Writes the keystream of nblocks (<= batch_blocks) blocks from st's counter on to ks.
  void (*keystream)(const ChachaState& st, uint8_t* ks, size_t nblocks);
  // out = in ^ keystream from st's counter on, len bytes (in == out allowed).
  void (*xor_stream)(const ChachaState& st, const uint8_t* in, uint8_t* out, size_t len);
};

// The reference: one block at a time in plain C++.
extern const ChachaKernels kChachaPortable;
#if defined(__x86_64__)
// Eight blocks at once in ymm registers (AVX2).
extern const ChachaKernels kChachaAvx2;
// Sixteen blocks at once in zmm registers (AVX-512F), tails in ymm with AVX-512VL rotates.
extern const ChachaKernels kChachaAvx512;
#endif

// dst = a ^ b over len bytes (any overlap of dst with a, or dst == b).
void xor_bytes(uint8_t* dst, const uint8_t* a, const uint8_t* b, size_t len);

}  // namespace sag::crypto
