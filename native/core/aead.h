// ChaCha20-Poly1305 (RFC 8439) for transport data: our own implementation (crypto/) on the path
// the CPU supports, or OpenSSL's EVP on a CPU without AVX2 (or when SAG_CHACHA_IMPL=openssl).
// One Aead per worker thread: for OpenSSL it owns reusable cipher contexts, so sealing and opening
// allocate nothing. Not thread-safe: never share an instance between threads.
#pragma once
#include <cstddef>
#include <cstdint>

#include "crypto/chacha20poly1305.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace sag {

class Aead {
 public:
  // The process's path (crypto::chosen_impl: SAG_CHACHA_IMPL or the CPU's best).
  Aead();
  // A given path (tests, benchmarks); not ok() if the CPU lacks it.
  explicit Aead(crypto::Impl impl);
  ~Aead();
  Aead(const Aead&) = delete;
  Aead& operator=(const Aead&) = delete;

  bool ok() const { return error_ == nullptr; }
  // Why not ok(): a refused SAG_CHACHA_IMPL, a path the CPU lacks, or no OpenSSL cipher.
  const char* error() const { return error_; }
  crypto::Impl impl() const { return impl_; }

  // Encrypts len bytes of plaintext to out (may equal plaintext) and appends the 16-byte tag.
  // The nonce is 4 zero bytes followed by counter as LE64. ad may be null when ad_len is 0.
  bool seal(const uint8_t key[32], uint64_t counter, const uint8_t* plaintext, size_t len, uint8_t* out,
            const uint8_t* ad = nullptr, size_t ad_len = 0);

  // The same with an explicit 12-byte nonce (RFC 8439 test vectors, handshake messages).
  bool seal_nonce(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* plaintext, size_t len,
                  uint8_t* out, const uint8_t* ad = nullptr, size_t ad_len = 0);
  bool open_nonce(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* ciphertext, size_t len,
                  uint8_t* out, const uint8_t* ad = nullptr, size_t ad_len = 0);

  // Decrypts ciphertext (len includes the 16-byte tag) to out (may equal ciphertext).
  // Returns false if the tag does not authenticate; out then holds bytes the caller must drop
  // (our own paths leave it unwritten, OpenSSL's may have decrypted into it).
  bool open(const uint8_t key[32], uint64_t counter, const uint8_t* ciphertext, size_t len, uint8_t* out,
            const uint8_t* ad = nullptr, size_t ad_len = 0);

 private:
  void init_openssl();
  bool evp_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* plaintext, size_t len,
                uint8_t* out, const uint8_t* ad, size_t ad_len);
  bool evp_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* ciphertext, size_t len,
                uint8_t* out, const uint8_t* ad, size_t ad_len);
  // Re-keying a context costs more than the nonce change; a worker mostly seals for the same
  // keypair batch after batch, so each context remembers the key it holds.
  static bool same_key(const uint8_t* held, const uint8_t* key);

  crypto::Impl impl_;
  const char* error_ = nullptr;
  EVP_CIPHER_CTX* enc_ = nullptr;
  EVP_CIPHER_CTX* dec_ = nullptr;
  uint8_t enc_key_[32] = {};
  uint8_t dec_key_[32] = {};
  bool enc_keyed_ = false;
  bool dec_keyed_ = false;
};

}  // namespace sag
