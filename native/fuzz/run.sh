#!/usr/bin/env bash
# Fuzzes the native core with libFuzzer: builds the targets in native/fuzz with clang (ASan +
# UBSan + coverage) in build-native/fuzz, replays every saved regression input once, then runs
# each target for a bounded time over a copy of its seed corpus (the repository is never written).
#
#   native/fuzz/run.sh [seconds-per-target]     default 50; 0 only replays corpora and regressions
#
# Targets run two at a time (SAG_FUZZ_PARALLEL=N to change), so 50 s each costs about 2.5 minutes
# of wall time for the five targets.
#
# Needs: cmake, OpenSSL headers, and clang with libFuzzer (Debian 12: apt-get install -y clang
# libclang-rt-14-dev). Exits non-zero if any regression input or fuzzing run fails, printing the
# input that failed (fuzzing artifacts are kept under build-native/fuzz/run/<target>/).
# SAG_FUZZ_TARGETS="fuzz_wire fuzz_receive" limits the targets; SAG_FUZZ_JOBS sets build jobs.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
secs=${1:-50}
build=build-native/fuzz
jobs=${SAG_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}

cxx=${CXX:-clang++}
case "$cxx" in *clang++*) ;; *) cxx=clang++ ;; esac
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "run.sh: $cxx not found; install clang with libFuzzer (Debian: apt-get install -y clang libclang-rt-14-dev)" >&2
  exit 2
fi

if [ -n "${SAG_FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$SAG_FUZZ_TARGETS"
else
  targets=()
  for src in native/fuzz/fuzz_*.cc; do targets+=("$(basename "$src" .cc)"); done
fi

mkdir -p "$build"
echo "== fuzz: building ${targets[*]} with $cxx in $build"
if ! cmake -S . -B "$build" -DSAG_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" >"$build.configure.log" 2>&1; then
  cat "$build.configure.log" >&2
  exit 2
fi
if ! cmake --build "$build" -j "$jobs" --target "${targets[@]}" >"$build.build.log" 2>&1; then
  tail -n 60 "$build.build.log" >&2
  exit 2
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Runs one target (its regressions, then fuzzing); writes its report to $work/report and exits
# non-zero if anything failed. Reports are printed in target order once all runs finish.
run_target() {
  local t=$1 bin="$root/$build/$1" work="$root/$build/run/$1"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  exec >"$work/report" 2>&1
  local rc=0

  # 1. Every saved regression input, once, one process each so a failure names its file.
  shopt -s nullglob
  local regressions=() f
  for f in native/fuzz/regressions/"$t"/*; do
    case "$(basename "$f")" in README* | .gitkeep) continue ;; esac
    [ -f "$f" ] && regressions+=("$f")
  done
  local nreg_failed=0
  for f in "${regressions[@]}"; do
    if ! "$bin" "$f" >"$work/regression.log" 2>&1; then
      echo "FAIL $t: regression input $root/$f"
      grep -E "invariant violated|ERROR:|runtime error" "$work/regression.log" | head -n 5
      nreg_failed=$((nreg_failed + 1))
    fi
  done
  [ "$nreg_failed" -gt 0 ] && rc=1
  echo "== $t: ${#regressions[@]} regression input(s), $nreg_failed failed"

  # 2. Fuzz for $secs seconds over a copy of the seed corpus.
  local seeds=(native/fuzz/corpus/"$t"/*)
  shopt -u nullglob
  [ "${#seeds[@]}" -gt 0 ] && cp "${seeds[@]}" "$work/corpus/"
  local log="$work/fuzz.log" args
  if [ "$secs" -gt 0 ]; then
    args=(-max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
          -artifact_prefix="$work/artifacts/")
  else
    args=(-runs=0 -print_final_stats=1 -artifact_prefix="$work/artifacts/")
  fi
  "$bin" "${args[@]}" "$work/corpus" >"$log" 2>&1
  local frc=$?
  local stats eps runs
  stats=$(grep -E "^#[0-9]+.*(DONE|INITED)" "$log" | tail -n 1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "== $t: ${secs}s, ${runs:-?} runs, ${eps:-?} exec/s; ${stats:-no stats}"
  if [ "$frc" -ne 0 ]; then
    rc=1
    echo "FAIL $t: libFuzzer exited with $frc; log $log"
    grep -E "invariant violated|ERROR:|runtime error|SUMMARY" "$log" | head -n 8
    local a
    for a in "$work"/artifacts/*; do [ -e "$a" ] && echo "FAIL $t: crashing input $a"; done
    grep -E "Test unit written to" "$log"
  fi
  return "$rc"
}

# Targets run $parallel at a time (default 2, the CI machine's cores): each is single-threaded,
# so two at a time doubles the fuzzing per wall-clock second.
parallel=${SAG_FUZZ_PARALLEL:-2}
echo "== fuzz: ${#targets[@]} target(s), ${secs}s each, $parallel at a time"
declare -A pids=()
failed=()
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  run_target "$t" &
  pids[$t]=$!
done
for t in "${targets[@]}"; do
  wait "${pids[$t]}" || failed+=("$t")
  cat "$root/$build/run/$t/report"
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  echo "fuzz: keep a crashing input as native/fuzz/regressions/<target>/<name> once the cause is understood" >&2
  exit 1
fi
echo "fuzz: all targets passed"
