// Per-packet seal/open throughput of the dataplane's AEAD on one core, for every ChaCha20-Poly1305
// path the CPU has (portable, avx2, avx512: ours; openssl: EVP), at each plaintext size given:
// WireGuard transport messages sealed and opened in place with one reusable Aead (as a worker
// does), beside OpenSSL's floor for per-message EVP use.
// Prints one JSON line. Usage: bench_aead [seconds-per-measurement=0.5] [bytes...=64 576 1420]
// Throughput is per user-CPU second of this process, the divisor `openssl speed` uses (unless
// -elapsed), so the two stay comparable on a busy machine.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <openssl/evp.h>

#include "aead.h"
#include "wire.h"

using Clock = std::chrono::steady_clock;
using sag::crypto::Impl;

static double cpu_seconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec) + double(ru.ru_utime.tv_usec) * 1e-6;
}

// Runs op in rounds of 256 for `seconds`; bytes per user-CPU second.
template <class Op>
static double measure(double seconds, size_t bytes, Op op) {
  uint64_t n = 0;
  auto until = Clock::now() + std::chrono::duration<double>(seconds);
  double cpu0 = cpu_seconds();
  while (Clock::now() < until)
    for (int i = 0; i < 256; ++i, ++n)
      if (!op(n)) return -1.0;
  return double(n) * double(bytes) / (cpu_seconds() - cpu0);
}

static const uint8_t* bench_key() {
  static uint8_t key[32];
  for (int i = 0; i < 32; ++i) key[i] = uint8_t(i * 13 + 1);
  return key;
}

// Seal (header + encrypt in place) and open (decrypt in place, after restoring the sealed copy).
static void run_path(Impl impl, size_t bytes, double seconds, double* seal, double* open) {
  const uint8_t* key = bench_key();
  sag::Aead aead(impl);
  std::vector<uint8_t> buf(sag::wire::kTransportHeaderSize + bytes + sag::wire::kAuthTagSize, 0x5a);
  uint8_t* body = buf.data() + sag::wire::kTransportHeaderSize;
  *seal = measure(seconds, bytes, [&](uint64_t n) {
    sag::wire::write_transport_header(buf.data(), 1, n);
    return aead.seal(key, n, body, bytes, body);
  });
  std::vector<uint8_t> sealed(buf);
  aead.seal(key, 0, body, bytes, sealed.data() + sag::wire::kTransportHeaderSize);
  *open = measure(seconds, bytes, [&](uint64_t) {
    std::memcpy(buf.data(), sealed.data(), sealed.size());  // opening in place consumes it
    return aead.open(key, 0, body, bytes + sag::wire::kAuthTagSize, body);
  });
}

// The floor under any EVP user: per message only what OpenSSL itself must do (new nonce, update,
// final), without the tag read-out, key check and header our seal adds.
static double evp_floor(size_t bytes, double seconds) {
  std::vector<uint8_t> buf(bytes + sag::wire::kAuthTagSize, 0x5a);
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  uint8_t nonce[12] = {};
  EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), nullptr, bench_key(), nonce);
  int out = 0;
  double r = measure(seconds, bytes, [&](uint64_t n) {
    std::memcpy(nonce + 4, &n, 8);
    EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, nonce);
    EVP_EncryptUpdate(c, buf.data(), &out, buf.data(), int(bytes));
    EVP_EncryptFinal_ex(c, buf.data() + bytes, &out);
    return true;
  });
  EVP_CIPHER_CTX_free(c);
  return r;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 0.5;
  std::vector<size_t> sizes;
  for (int i = 2; i < argc; ++i) sizes.push_back(size_t(std::atol(argv[i])));
  if (sizes.empty()) sizes = {64, 576, 1420};
  std::string json = "{\"bench\":\"aead\",\"default\":\"" +
                     std::string(sag::crypto::impl_name(sag::Aead().impl())) + "\",\"results\":[";
  bool ok = true, first = true;
  for (size_t bytes : sizes) {
    for (Impl impl : sag::crypto::kAllImpls) {
      if (!sag::crypto::cpu_has(impl)) continue;
      double seal, open;
      run_path(impl, bytes, seconds, &seal, &open);
      ok = ok && seal > 0 && open > 0;
      char row[200];
      std::snprintf(
          row, sizeof row,
          "%s{\"impl\":\"%s\",\"bytes\":%zu,\"seal_bytes_per_sec\":%.0f,\"open_bytes_per_sec\":%.0f}",
          first ? "" : ",", sag::crypto::impl_name(impl), bytes, seal, open);
      json += row;
      first = false;
    }
    char row[120];
    std::snprintf(row, sizeof row, ",{\"impl\":\"evp-floor\",\"bytes\":%zu,\"seal_bytes_per_sec\":%.0f}",
                  bytes, evp_floor(bytes, seconds));
    json += row;
  }
  std::printf("%s]}\n", json.c_str());
  return ok ? 0 : 1;
}
