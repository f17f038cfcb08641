// Poly1305 (RFC 8439 section 2.5), scalar, radix 2^64 with 128-bit products: the fastest form for
// the short messages a tunnel carries, and the reference every path shares.
// Needs a compiler with unsigned __int128 (GCC and Clang on 64-bit targets).
#pragma once
#include <cstddef>
#include <cstdint>

namespace sag::crypto {

constexpr size_t kPolyBlockSize = 16;

struct Poly1305 {
  uint64_t r0, r1, s1;  // clamped r; s1 = r1 + r1/4 folds 2^130 = 5 into the product
  uint64_t h0, h1, h2;  // accumulator, h2 holds the bits from 2^128 up (a few)
  uint64_t pad0, pad1;  // s, added at the end
  uint8_t buf[kPolyBlockSize];
  size_t buffered;  // bytes in buf (poly1305_update only)
};

void poly1305_init(Poly1305& st, const uint8_t key[32]);

// Absorbs nblocks whole 16-byte blocks, each with the 2^128 bit set (as RFC 8439 pads every block
// of its AEAD construction). Must not be mixed with a partial block pending from poly1305_update.
void poly1305_blocks(Poly1305& st, const uint8_t* m, size_t nblocks);

// Absorbs len bytes, zero-padded to a whole block (RFC 8439's pad16 for AAD and ciphertext).
void poly1305_padded(Poly1305& st, const uint8_t* m, size_t len);

// Absorbs a byte stream of any split (the raw MAC of section 2.5: the last partial block gets
// the 0x01 marker byte instead of the 2^128 bit).
void poly1305_update(Poly1305& st, const uint8_t* m, size_t len);

// Writes the 16-byte tag and wipes the state.
void poly1305_finish(Poly1305& st, uint8_t tag[16]);

#if defined(__x86_64__)
// Below this many blocks the vector setup (powers of r) costs more than it saves.
constexpr size_t kPolyIfmaMinBlocks = 24;
// AVX-512 IFMA (poly1305_ifma.cc): absorbs the largest multiple of eight of nblocks whole blocks,
// as poly1305_blocks would, if nblocks >= kPolyIfmaMinBlocks; returns how many it absorbed.
// Only on a CPU with AVX-512F and IFMA.
size_t poly1305_blocks_ifma(Poly1305& st, const uint8_t* m, size_t nblocks);
#endif

}  // namespace sag::crypto
