// Receive-side decryption spread over cores (pipeline/open_pool.h): wall-clock throughput of
// OpenPool::open_all on batches of 64 transport messages, with 1..N decrypting threads, beside the
// ceiling: N independent threads each opening their own batches (how far the cores scale at all).
// Wall clock, not CPU time: the point is how much faster a batch is done with more cores.
// Prints one JSON line. Usage: bench_open_pool [bytes=1420] [seconds=1] [max_threads=online CPUs]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "aead.h"
#include "pipeline/open_pool.h"

using Clock = std::chrono::steady_clock;

namespace {

// Batches of kBatch messages opened for `seconds`, each thread with its own context and buffers.
double independent(int threads, const std::vector<std::vector<uint8_t>>& sealed, const uint8_t* key,
                   size_t bytes, double seconds) {
  std::atomic<uint64_t> total{0};
  std::vector<std::thread> pool;
  auto start = Clock::now();
  auto until = start + std::chrono::duration<double>(seconds);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      sag::Aead aead;
      std::vector<uint8_t> work;
      uint64_t n = 0;
      while (Clock::now() < until) {
        for (size_t i = 0; i < sealed.size(); ++i, ++n) {
          work = sealed[i];
          if (!aead.open(key, i, work.data(), bytes + 16, work.data())) std::abort();
        }
      }
      total += n;
    });
  }
  for (auto& th : pool) th.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  return double(total.load()) * double(bytes) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  size_t bytes = argc > 1 ? size_t(std::atol(argv[1])) : 1420;
  double seconds = argc > 2 ? std::atof(argv[2]) : 1.0;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int max_threads = argc > 3 ? std::atoi(argv[3]) : int(cpus < 1 ? 1 : cpus);
  const int kBatch = 64;
  uint8_t key[32];
  for (int i = 0; i < 32; ++i) key[i] = uint8_t(i * 7 + 3);
  sag::Aead own;
  std::vector<std::vector<uint8_t>> sealed(kBatch), work(kBatch);
  for (int i = 0; i < kBatch; ++i) {
    sealed[size_t(i)].assign(bytes + 16, uint8_t(i));
    own.seal(key, uint64_t(i), sealed[size_t(i)].data(), bytes, sealed[size_t(i)].data());
  }
  std::string rows;
  for (int threads = 1; threads <= max_threads; ++threads) {
    sag::OpenPool pool(threads - 1);
    std::vector<sag::OpenJob> jobs(kBatch);
    uint64_t batches = 0;
    bool all_ok = true;
    auto start = Clock::now();
    auto until = start + std::chrono::duration<double>(seconds);
    while (Clock::now() < until) {
      for (int i = 0; i < kBatch; ++i) {
        work[size_t(i)] = sealed[size_t(i)];  // opening in place consumes the ciphertext
        jobs[size_t(i)] = sag::OpenJob{key, uint64_t(i), work[size_t(i)].data(), bytes + 16, false};
      }
      pool.open_all(own, jobs.data(), kBatch);
      for (auto& j : jobs) all_ok &= j.ok;
      ++batches;
    }
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    if (!all_ok) return 1;
    char row[160];
    std::snprintf(row, sizeof row,
                  "%s{\"threads\":%d,\"bytes_per_sec\":%.0f,\"independent_bytes_per_sec\":%.0f}",
                  rows.empty() ? "" : ",", threads, double(batches) * kBatch * double(bytes) / secs,
                  independent(threads, sealed, key, bytes, seconds));
    rows += row;
  }
  std::printf("{\"bench\":\"open_pool\",\"bytes\":%zu,\"batch\":%d,\"runs\":[%s]}\n", bytes, kBatch,
              rows.c_str());
  return 0;
}
