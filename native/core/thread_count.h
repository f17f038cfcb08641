// How many worker threads of a kind to run: an explicit setting, else an environment variable,
// else a share of the machine's CPUs. One rule for the send queues (io/tun_linux.cc) and the
// receive decryption helpers (pipeline/open_pool.cc).
#pragma once
#include <unistd.h>

#include <cstdlib>

namespace sag {

inline int online_cpus() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : int(n);
}

inline int clamp_count(int n, int lo, int hi) {
  return n < lo ? lo : n > hi ? hi : n;
}

// $var when it holds a count in 1..max, else fallback.
inline int count_from_env(const char* var, int max, int fallback) {
  const char* env = std::getenv(var);
  int n = env ? std::atoi(env) : 0;
  return n >= 1 && n <= max ? n : fallback;
}

}  // namespace sag
