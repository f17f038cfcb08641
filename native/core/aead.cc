#include "aead.h"

#include <openssl/evp.h>

#include <openssl/crypto.h>

#include <climits>
#include <cstring>

#include "wire.h"

namespace sag {

Aead::Aead() : impl_(crypto::chosen_impl().impl), error_(crypto::chosen_impl().error) {
  if (!error_ && impl_ == crypto::Impl::kOpenssl) init_openssl();
}

Aead::Aead(crypto::Impl impl) : impl_(impl) {
  if (!crypto::cpu_has(impl))
    error_ = "this CPU lacks the instructions of the requested ChaCha20-Poly1305 path";
  else if (impl == crypto::Impl::kOpenssl)
    init_openssl();
}

void Aead::init_openssl() {
  enc_ = EVP_CIPHER_CTX_new();
  dec_ = EVP_CIPHER_CTX_new();
  // Bind the cipher once; per packet only key and nonce change.
  if (!enc_ || !dec_ || EVP_EncryptInit_ex(enc_, EVP_chacha20_poly1305(), nullptr, nullptr, nullptr) != 1 ||
      EVP_DecryptInit_ex(dec_, EVP_chacha20_poly1305(), nullptr, nullptr, nullptr) != 1)
    error_ = "ChaCha20-Poly1305 is not available from OpenSSL";
}

Aead::~Aead() {
  EVP_CIPHER_CTX_free(enc_);
  EVP_CIPHER_CTX_free(dec_);
  OPENSSL_cleanse(enc_key_, sizeof enc_key_);
  OPENSSL_cleanse(dec_key_, sizeof dec_key_);
}

bool Aead::same_key(const uint8_t* held, const uint8_t* key) {
  return CRYPTO_memcmp(held, key, 32) == 0;
}

bool Aead::seal(const uint8_t key[32], uint64_t counter, const uint8_t* plaintext, size_t len, uint8_t* out,
                const uint8_t* ad, size_t ad_len) {
  uint8_t nonce[wire::kNonceSize];
  wire::make_nonce(nonce, counter);
  return seal_nonce(key, nonce, plaintext, len, out, ad, ad_len);
}

bool Aead::open(const uint8_t key[32], uint64_t counter, const uint8_t* ciphertext, size_t len, uint8_t* out,
                const uint8_t* ad, size_t ad_len) {
  uint8_t nonce[wire::kNonceSize];
  wire::make_nonce(nonce, counter);
  return open_nonce(key, nonce, ciphertext, len, out, ad, ad_len);
}

bool Aead::seal_nonce(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* plaintext, size_t len,
                      uint8_t* out, const uint8_t* ad, size_t ad_len) {
  if (error_) return false;
  if (crypto::is_native(impl_)) return crypto::seal(impl_, key, nonce, ad, ad_len, plaintext, len, out);
  return evp_seal(key, nonce, plaintext, len, out, ad, ad_len);
}

bool Aead::open_nonce(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* ciphertext, size_t len,
                      uint8_t* out, const uint8_t* ad, size_t ad_len) {
  if (error_) return false;
  if (crypto::is_native(impl_)) return crypto::open(impl_, key, nonce, ad, ad_len, ciphertext, len, out);
  return evp_open(key, nonce, ciphertext, len, out, ad, ad_len);
}

bool Aead::evp_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* plaintext, size_t len,
                    uint8_t* out, const uint8_t* ad, size_t ad_len) {
  if (len > INT_MAX || ad_len > INT_MAX) return false;
  int n = 0;
  const bool rekey = !enc_keyed_ || !same_key(enc_key_, key);
  if (EVP_EncryptInit_ex(enc_, nullptr, nullptr, rekey ? key : nullptr, nonce) != 1) return false;
  if (rekey) {
    std::memcpy(enc_key_, key, 32);
    enc_keyed_ = true;
  }
  if (ad_len && EVP_EncryptUpdate(enc_, nullptr, &n, ad, int(ad_len)) != 1) return false;
  if (len && EVP_EncryptUpdate(enc_, out, &n, plaintext, int(len)) != 1) return false;
  if (EVP_EncryptFinal_ex(enc_, out + len, &n) != 1) return false;
  return EVP_CIPHER_CTX_ctrl(enc_, EVP_CTRL_AEAD_GET_TAG, int(wire::kAuthTagSize), out + len) == 1;
}

bool Aead::evp_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* ciphertext, size_t len,
                    uint8_t* out, const uint8_t* ad, size_t ad_len) {
  if (len < wire::kAuthTagSize || len > INT_MAX || ad_len > INT_MAX) return false;
  size_t body = len - wire::kAuthTagSize;
  int n = 0;
  const bool rekey = !dec_keyed_ || !same_key(dec_key_, key);
  if (EVP_DecryptInit_ex(dec_, nullptr, nullptr, rekey ? key : nullptr, nonce) != 1) return false;
  if (rekey) {
    std::memcpy(dec_key_, key, 32);
    dec_keyed_ = true;
  }
  // OpenSSL wants a mutable tag pointer; it only copies from it.
  if (EVP_CIPHER_CTX_ctrl(dec_, EVP_CTRL_AEAD_SET_TAG, int(wire::kAuthTagSize),
                          const_cast<uint8_t*>(ciphertext + body)) != 1)
    return false;
  if (ad_len && EVP_DecryptUpdate(dec_, nullptr, &n, ad, int(ad_len)) != 1) return false;
  if (body && EVP_DecryptUpdate(dec_, out, &n, ciphertext, int(body)) != 1) return false;
  return EVP_DecryptFinal_ex(dec_, out + body, &n) == 1;
}

}  // namespace sag
