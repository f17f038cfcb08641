// Minimal table-friendly test harness for the native core: no dependencies, ctest-friendly exit code.
// Usage: TEST_CASE(name) { CHECK(expr); CHECK_EQ(a, b); }  and one SAG_TEST_MAIN() per executable.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace sagtest {
struct Case {
  const char* name;
  std::function<void()> fn;
};
inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}
inline int& failures() {
  static int n = 0;
  return n;
}
struct Registrar {
  Registrar(const char* n, std::function<void()> f) { registry().push_back({n, std::move(f)}); }
};
inline void fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, what.c_str());
  ++failures();
}
inline int run_all() {
  int failed_cases = 0;
  for (auto& c : registry()) {
    int before = failures();
    c.fn();
    bool ok = failures() == before;
    if (!ok) ++failed_cases;
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", c.name);
  }
  std::printf("%zu passed, %d failed\n", registry().size() - failed_cases, failed_cases);
  return failed_cases == 0 ? 0 : 1;
}
}  // namespace sagtest

#define SAG_CAT2(a, b) a##b
#define SAG_CAT(a, b) SAG_CAT2(a, b)
#define TEST_CASE(name)                                                                      \
  static void SAG_CAT(test_fn_, __LINE__)();                                                 \
  static sagtest::Registrar SAG_CAT(test_reg_, __LINE__)(name, SAG_CAT(test_fn_, __LINE__)); \
  static void SAG_CAT(test_fn_, __LINE__)()
#define CHECK(expr)                                                     \
  do {                                                                  \
    if (!(expr)) sagtest::fail(__FILE__, __LINE__, "CHECK(" #expr ")"); \
  } while (0)
#define CHECK_EQ(a, b)                                                                            \
  do {                                                                                            \
    auto _va = (a);                                                                               \
    auto _vb = (b);                                                                               \
    if (!(_va == _vb))                                                                            \
      sagtest::fail(__FILE__, __LINE__,                                                           \
                    "CHECK_EQ(" #a ", " #b ") : " + std::to_string(static_cast<long long>(_va)) + \
                        " != " + std::to_string(static_cast<long long>(_vb)));                    \
  } while (0)
#define SAG_TEST_MAIN()        \
  int main() {                 \
    return sagtest::run_all(); \
  }
