// ChaCha20-Poly1305 (RFC 8439) for transport data, over OpenSSL EVP.
// One Aead per worker thread: it owns reusable cipher contexts, so sealing and opening allocate nothing.
// Not thread-safe: never share an instance between threads.
#pragma once
#include <cstddef>
#include <cstdint>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace sag {

class Aead {
 public:
  Aead();
  ~Aead();
  Aead(const Aead&) = delete;
  Aead& operator=(const Aead&) = delete;

  bool ok() const { return enc_ != nullptr && dec_ != nullptr; }

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
  // Returns false if the tag does not authenticate; out then holds garbage the caller must drop.
  bool open(const uint8_t key[32], uint64_t counter, const uint8_t* ciphertext, size_t len, uint8_t* out,
            const uint8_t* ad = nullptr, size_t ad_len = 0);

 private:
  // Re-keying a context costs more than the nonce change; a worker mostly seals for the same
  // keypair batch after batch, so each context remembers the key it holds.
  static bool same_key(const uint8_t* held, const uint8_t* key);

  EVP_CIPHER_CTX* enc_;
  EVP_CIPHER_CTX* dec_;
  uint8_t enc_key_[32] = {};
  uint8_t dec_key_[32] = {};
  bool enc_keyed_ = false;
  bool dec_keyed_ = false;
};

}  // namespace sag
