// Tests for ReplayWindow: table rows of counters with expected verdicts, and randomized agreement of
// may_accept/accept with a std::set reference applying the window rule.
#include "replay.h"

#include <cstdio>
#include <random>
#include <set>
#include <vector>

#include "check.h"

using sag::ReplayWindow;

namespace {

constexpr uint64_t W = ReplayWindow::kWindowSize;                                 // 8128
constexpr uint64_t L = ReplayWindow::kRejectAfterMessages;                        // 2^64 - 2^13 - 1
constexpr uint64_t kRing = ReplayWindow::kRingBlocks * ReplayWindow::kBlockBits;  // 8192

struct Step {
  uint64_t counter;
  bool accepted;
};
struct Row {
  int n;
  const char* name;
  std::vector<Step> steps;
};

const Row kRows[] = {
    {1, "in order from 0", {{0, true}, {1, true}, {2, true}, {3, true}, {63, true}, {64, true}, {65, true}}},
    {2,
     "reordered inside the window",
     {{0, true}, {5, true}, {3, true}, {4, true}, {1, true}, {2, true}, {200, true}, {100, true}, {6, true}}},
    {3,
     "duplicates",
     {{0, true}, {0, false}, {1, true}, {1, false}, {5, true}, {3, true}, {5, false}, {3, false}}},
    {4, "counter 0 twice after newer ones", {{10, true}, {0, true}, {0, false}, {10, false}}},
    {5,
     "too old: W behind accepted, W+1 behind rejected",
     {{10000, true},
      {10000 - W - 1, false},
      {10000 - W, true},
      {10000 - W, false},
      {10000 - W + 1, true},
      {10000 - W + 2, true}}},
    {6,
     "boundary with last at a block start",
     {{64 * 200, true}, {64 * 200 - W - 1, false}, {64 * 200 - W, true}, {64 * 200 - W + 1, true}}},
    {7,
     "boundary with last at a block end",
     {{64 * 200 + 63, true},
      {64 * 200 + 63 - W - 1, false},
      {64 * 200 + 63 - W, true},
      {64 * 200 + 63 - W, false}}},
    {8,
     "far jump clears the ring; old ones then rejected",
     {{0, true},
      {5, true},
      {9, true},
      {1000000, true},
      {5, false},
      {7, false},
      {1000000 - W - 1, false},
      {1000000 - W, true},
      {1000000 - 1, true},
      {1000000, false},
      {1000001, true}}},
    {9,
     "jump of exactly 64",
     {{0, true}, {64, true}, {0, false}, {1, true}, {63, true}, {64, false}, {128, true}, {65, true}}},
    {10,
     "jump of exactly W keeps the oldest bit",
     {{5, true}, {5 + W, true}, {5, false}, {4, false}, {6, true}, {6, false}, {5 + W - 1, true}}},
    {11,
     "jump of exactly 8192 (whole ring)",
     {{5, true},
      {5 + kRing, true},
      {5, false},
      {5 + kRing - W - 1, false},
      {5 + kRing - W, true},
      {5 + kRing - 1, true},
      {5 + kRing, false}}},
    {12,
     "ring slot reused after a full-ring jump is clean",
     {{1, true}, {kRing + 65, true}, {kRing + 1, true}, {kRing + 1, false}, {1, false}}},
    {13,
     "partial wrap: oldest retained block still exact",
     {{1, true},
      {100, true},
      {8191, true},
      {1, false},
      {100, false},
      {64, true},
      {63, true},
      {63, false},
      {8192, true},
      {63, false},
      {64, false},
      {65, true}}},
    {14,
     "limit: L-1 accepted, L and UINT64_MAX rejected",
     {{L - 1, true},
      {L, false},
      {UINT64_MAX, false},
      {L - 1, false},
      {L - 2, true},
      {L - 1 - W, true},
      {L - 2 - W, false}}},
    {15,
     "over-limit counters do not disturb a fresh window",
     {{L, false}, {UINT64_MAX, false}, {L + 1, false}, {0, true}, {W, true}, {0, false}}},
    {16,
     "jump from 0 straight to the limit",
     {{0, true}, {L - 1, true}, {0, false}, {L - 3, true}, {L - 3, false}}},
};

TEST_CASE("verdict table (16 rows)") {
  for (const Row& row : kRows) {
    ReplayWindow w;
    int step = 0;
    for (const Step& s : row.steps) {
      ++step;
      bool hint = w.may_accept(s.counter);
      bool got = w.accept(s.counter);
      if (got != s.accepted || hint != s.accepted)
        std::fprintf(stderr, "  row %d (%s) step %d counter %llu: got %d/%d want %d\n", row.n, row.name, step,
                     static_cast<unsigned long long>(s.counter), hint, got, s.accepted);
      CHECK(got == s.accepted);
      CHECK(hint == s.accepted);
    }
  }
}

TEST_CASE("long in-order run, then every replay rejected") {
  ReplayWindow w;
  bool all = true;
  for (uint64_t c = 0; c < 50000; ++c) all = all && w.accept(c);
  CHECK(all);
  int accepted_again = 0;
  for (uint64_t c = 0; c < 50000; ++c) accepted_again += w.may_accept(c) + w.accept(c);
  CHECK_EQ(accepted_again, 0);
}

TEST_CASE("reset forgets everything") {
  ReplayWindow w;
  CHECK(w.accept(0));
  CHECK(w.accept(123456));
  w.reset();
  CHECK(w.accept(0));
  CHECK(w.accept(5));
  CHECK(w.accept(123456));
  CHECK(!w.accept(123456));
}

// Reference: every accepted counter in a set, and the rule stated in replay.h.
struct Reference {
  std::set<uint64_t> seen;
  uint64_t last = 0;
  bool verdict(uint64_t c) const {
    if (c >= L) return false;
    if (c <= last && last - c > W) return false;
    return seen.count(c) == 0;
  }
  void accept(uint64_t c) {
    seen.insert(c);
    last = std::max(last, c);
  }
};

// Counters mostly advance slowly, often step back a little or to just around the window edge, sometimes
// repeat, and sometimes jump by 64, W, 8192 or far.
uint64_t next_counter(std::mt19937_64& rng, uint64_t last, uint64_t base) {
  switch (rng() % 12) {
    case 0:
    case 1:
    case 2:
      return last + 1 + rng() % 3;
    case 3:
    case 4:
      return last - std::min(last - base, rng() % 300);
    case 5:
      return last - std::min(last - base, W - 2 + rng() % 5);  // W-2 .. W+2 behind
    case 6:
      return last - std::min(last - base, rng() % (W + 200));
    case 7:
      return last;
    case 8: {
      static const uint64_t kJumps[] = {64, W, kRing, kRing + 64, 63, 65};
      return last + kJumps[rng() % 6];
    }
    case 9:
      return last + rng() % 20000;
    case 10:
      return rng() % 50 == 0 ? last + (uint64_t(1) << 40) : last + rng() % 100;
    default:
      return base + rng() % (last - base + 1);
  }
}

void random_run(uint64_t seed, uint64_t base, int ops, int* disagreements, int* accepted) {
  std::mt19937_64 rng(seed);
  ReplayWindow w;
  Reference ref;
  uint64_t last = base;
  for (int i = 0; i < ops; ++i) {
    uint64_t c = next_counter(rng, last, base);
    if (base != 0) c = base + (c - base) % (L + 3 - base);  // near the limit: fold into [base, L + 2]
    bool want = ref.verdict(c);
    bool hint = w.may_accept(c);
    bool again = w.may_accept(c);  // may_accept has no side effects
    bool got = w.accept(c);
    if (hint != want || again != want || got != want || w.may_accept(c)) ++*disagreements;
    if (want) {
      ref.accept(c);
      ++*accepted;
    }
    last = std::max(last, c);
  }
}

TEST_CASE("random: may_accept and accept agree with a std::set reference") {
  int disagreements = 0, accepted = 0;
  random_run(20240601, 0, 100000, &disagreements, &accepted);
  CHECK_EQ(disagreements, 0);
  CHECK(accepted > 30000 && accepted < 90000);  // both verdicts really exercised
  std::printf("  from 0: %d of 100000 accepted\n", accepted);

  disagreements = accepted = 0;  // near the limit, where counters start crossing L
  random_run(7, L - 200000, 20000, &disagreements, &accepted);
  CHECK_EQ(disagreements, 0);
  std::printf("  near the limit: %d of 20000 accepted\n", accepted);
}

}  // namespace

SAG_TEST_MAIN()
