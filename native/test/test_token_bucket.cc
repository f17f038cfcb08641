// The per-peer rate limiter (token_bucket.h) against an explicit clock: numbered table cases.
#include <thread>
#include <vector>

#include "check.h"
#include "token_bucket.h"

using sag::TokenBucket;

namespace {
struct Step {
  uint64_t at_ns;
  uint64_t len;
  bool pass;
};
struct Case {
  const char* name;
  uint64_t rate, burst;
  std::vector<Step> steps;
};

constexpr uint64_t kMs = 1000000;

const Case kCases[] = {
    {"1 no limit passes everything", 0, 0, {{0, 65535, true}, {0, 65535, true}}},
    {"2 a full bucket passes exactly the burst at one instant",
     1000,
     3000,
     {{0, 1000, true}, {0, 1000, true}, {0, 1000, true}, {0, 1, false}}},
    {"3 refill at the rate: 1000 B/s gives 1000 bytes after 1 s",
     1000,
     1000,
     {{0, 1000, true}, {0, 1000, false}, {999 * kMs, 1000, false}, {1000 * kMs, 1000, true}}},
    {"4 the bucket never holds more than the burst after idling",
     1000,
     2000,
     {{0, 2000, true}, {100000 * kMs, 2000, true}, {100000 * kMs, 1, false}}},
    {"5 a packet larger than the burst never passes", 1000000, 1500, {{0, 1501, false}, {0, 1500, true}}},
    {"6 a refused packet costs nothing", 1000, 1000, {{0, 600, true}, {0, 600, false}, {0, 400, true}}},
    {"7 partial refill: 500 ms at 1000 B/s is 500 bytes",
     1000,
     1000,
     {{0, 1000, true}, {500 * kMs, 501, false}, {500 * kMs, 500, true}}},
    {"8 a clock that goes back does not mint tokens",
     1000,
     1000,
     {{1000 * kMs, 1000, true}, {0, 1, false}, {1999 * kMs, 1000, false}, {2000 * kMs, 1000, true}}},
    {"9 high rate: 1.25 GB/s (10 Gbit/s) with a 64 KiB burst",
     1250000000,
     65536,
     {{0, 65536, true}, {0, 1, false}, {52428, 65536, false}, {52429, 65536, true}}},
};
}  // namespace

TEST_CASE("token bucket table (cases 1-9)") {
  for (const Case& c : kCases) {
    TokenBucket b;
    b.configure(c.rate, c.burst);
    int i = 0;
    for (const Step& s : c.steps) {
      ++i;
      if (b.allow(s.len, s.at_ns) != s.pass) {
        std::fprintf(stderr, "  case '%s' step %d\n", c.name, i);
        CHECK(false);
      }
    }
  }
}

TEST_CASE("10 reconfiguring refills, and rate 0 removes the limit") {
  TokenBucket b;
  b.configure(1000, 1000);
  CHECK(b.allow(1000, 0));
  CHECK(!b.allow(1, 0));
  b.configure(1000, 1000);
  CHECK(b.allow(1000, 0));
  b.configure(0, 0);
  CHECK(!b.limited());
  CHECK(b.allow(1u << 20, 0));
}

TEST_CASE("11 concurrent callers never pass more than burst + rate * elapsed") {
  TokenBucket b;
  b.configure(1000, 100000);  // 100 000 bytes at one instant, then almost nothing
  std::atomic<uint64_t> passed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i)
        if (b.allow(100, 0)) passed.fetch_add(100);
    });
  for (auto& t : threads) t.join();
  CHECK_EQ(passed.load(), 100000u);
}

SAG_TEST_MAIN()
