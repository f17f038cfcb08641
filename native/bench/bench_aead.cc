// Seal/open throughput of the dataplane's AEAD path on one core: WireGuard transport messages of
// a given plaintext size, sealed and opened in place with one reusable context (as a worker does).
// Prints one JSON line. Usage: bench_aead [bytes=1420] [seconds=1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "aead.h"
#include "wire.h"

using Clock = std::chrono::steady_clock;

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
    auto start = Clock::now();
    auto until = start + std::chrono::duration<double>(seconds);
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
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    return double(n) * double(bytes) / secs;
  };
  double seal = run(false);
  double open = run(true);
  std::printf("{\"bench\":\"aead\",\"bytes\":%zu,\"seal_bytes_per_sec\":%.0f,\"open_bytes_per_sec\":%.0f}\n", bytes, seal, open);
  return seal > 0 && open > 0 ? 0 : 1;
}
