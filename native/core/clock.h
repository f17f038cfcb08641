// The one clock the workers read: for rate limiting, which must judge each packet as it passes.
// Control operations still take time explicitly (sag.h); tests replace DataplaneTables::clock.
#pragma once
#include <time.h>

#include <cstdint>

namespace sag {

using ClockFn = uint64_t (*)();

inline uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

}  // namespace sag
