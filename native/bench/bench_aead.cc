// Seal/open throughput of the dataplane's AEAD path on one core: WireGuard transport messages of
// a given plaintext size, sealed and opened in place with one reusable context (as a worker does).
// Prints one JSON line. Usage: bench_aead [bytes=1420] [seconds=1]
// Throughput is per user-CPU second of this process, the divisor `openssl speed` uses (unless
// -elapsed), so the two stay comparable on a busy machine.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <openssl/evp.h>

#include "aead.h"
#include "wire.h"

using Clock = std::chrono::steady_clock;

static double cpu_seconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec) + double(ru.ru_utime.tv_usec) * 1e-6;
}

int main(int argc, char** argv) {
  size_t bytes = argc > 1 ? size_t(std::atol(argv[1])) : 1420;
  double seconds = argc > 2 ? std::atof(argv[2]) : 1.0;
  uint8_t key[32];
  for (int i = 0; i < 32; ++i) key[i] = uint8_t(i * 13 + 1);
  std::vector<uint8_t> buf(sag::wire::kTransportHeaderSize + bytes + sag::wire::kAuthTagSize, 0x5a);
  sag::Aead aead;
  uint8_t* body = buf.data() + sag::wire::kTransportHeaderSize;

  auto run = [&](bool open) {
    uint64_t n = 0;
    auto until = Clock::now() + std::chrono::duration<double>(seconds);
    double cpu0 = cpu_seconds();
    std::vector<uint8_t> sealed(buf);
    if (open) aead.seal(key, 0, body, bytes, sealed.data() + sag::wire::kTransportHeaderSize);
    while (Clock::now() < until) {
      for (int i = 0; i < 256; ++i, ++n) {
        if (open) {
          std::memcpy(buf.data(), sealed.data(), sealed.size());  // opening in place consumes it
          if (!aead.open(key, 0, body, bytes + 16, body)) return -1.0;
        } else {
          sag::wire::write_transport_header(buf.data(), 1, n);
          aead.seal(key, n, body, bytes, body);
        }
      }
    }
    double secs = cpu_seconds() - cpu0;
    return double(n) * double(bytes) / secs;
  };
  // The floor under any EVP user: per message only what OpenSSL itself must do (new nonce, update,
  // final), without the tag read-out, key check and header our seal adds.
  auto floor = [&]() {
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    uint8_t nonce[12] = {};
    EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), nullptr, key, nonce);
    uint64_t n = 0;
    int out = 0;
    auto until = Clock::now() + std::chrono::duration<double>(seconds);
    double cpu0 = cpu_seconds();
    while (Clock::now() < until) {
      for (int i = 0; i < 256; ++i, ++n) {
        std::memcpy(nonce + 4, &n, 8);
        EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, nonce);
        EVP_EncryptUpdate(c, body, &out, body, int(bytes));
        EVP_EncryptFinal_ex(c, body + bytes, &out);
      }
    }
    double secs = cpu_seconds() - cpu0;
    EVP_CIPHER_CTX_free(c);
    return double(n) * double(bytes) / secs;
  };
  double seal = run(false);
  double open = run(true);
  double evp = floor();
  std::printf(
      "{\"bench\":\"aead\",\"bytes\":%zu,\"seal_bytes_per_sec\":%.0f,\"open_bytes_per_sec\":%.0f,"
      "\"evp_per_message_bytes_per_sec\":%.0f}\n",
      bytes, seal, open, evp);
  return seal > 0 && open > 0 ? 0 : 1;
}
