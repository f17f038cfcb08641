#!/usr/bin/env bash
# Builds the native core with CMake alone (as firmware does) and runs its ctest suite three times:
# a normal optimised build, an AddressSanitizer + UndefinedBehaviorSanitizer build, and a
# ThreadSanitizer build (the pipeline tests run real worker threads against the control thread).
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs=$(nproc 2>/dev/null || echo 2)
for variant in release asan tsan; do
  dir="build-native/$variant"
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
  [ "$variant" = asan ] && flags+=(-DSAG_SANITIZE=ON)
  [ "$variant" = tsan ] && flags+=(-DSAG_TSAN=ON)
  echo "== native core: $variant build"
  cmake -S . -B "$dir" "${flags[@]}" >/dev/null
  cmake --build "$dir" -j "$jobs" >/dev/null
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 TSAN_OPTIONS=halt_on_error=1 \
    ctest --test-dir "$dir" --output-on-failure
done
