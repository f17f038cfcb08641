#!/usr/bin/env bash
# Runs the tests that drive the Node addon against an AddressSanitizer + UndefinedBehaviorSanitizer
# build of it, so memory errors in the addon and the core it wraps show up under real JS use (real
# TUN devices, real UDP, worker threads), not only in the ctest suite.
#
#   native/test/addon-asan.sh [test files...]    default: the dataplane unit, gateway unit and
#                                                 root dataplane e2e tests
#
# 1. Builds the addon (same sources as binding.gyp) with g++ -fsanitize=address,undefined into
#    build-native/addon-asan/sag.node; build/ is not touched.
# 2. Builds a canary addon with one deliberate heap overflow and checks that loading and calling it
#    under the same setup aborts with an ASan report: proof that the runtime is really active.
# 3. Runs the tests with SAG_ADDON_PATH pointing at the sanitized build and the compiler's own
#    libasan preloaded into node (node is not built with ASan; the runtime must come first).
#    Leak detection is off (node itself does not free everything at exit); any ASan or UBSan
#    report aborts the process, which fails the test.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out=build-native/addon-asan
mkdir -p "$out/obj"
cxx=${SAG_ASAN_CXX:-g++}
jobs=${SAG_ASAN_JOBS:-2}

node_inc=""
for d in /usr/include/node "$(dirname "$(dirname "$(command -v node)")")/include/node"; do
  [ -f "$d/node_api.h" ] && node_inc=$d && break
done
if [ -z "$node_inc" ]; then
  echo "addon-asan: node_api.h not found (install nodejs headers: Debian libnode-dev)" >&2
  exit 2
fi
libasan=$("$cxx" -print-file-name=libasan.so)
if [ ! -e "$libasan" ]; then
  echo "addon-asan: $cxx has no libasan.so ($libasan); Debian: apt-get install -y build-essential" >&2
  exit 2
fi
napi_inc=$(node -p "require('node-addon-api').include_dir")

flags=(-std=c++17 -fPIC -O1 -g -fno-omit-frame-pointer -fexceptions
       -fsanitize=address,undefined -fno-sanitize-recover=all
       -DNAPI_VERSION=9 -DNODE_ADDON_API_DISABLE_DEPRECATED -DNODE_GYP_MODULE_NAME=sag
       -I"$node_inc" -I"$napi_inc" -Inative/include -Inative/core)
sources=()
while read -r f; do [ -n "$f" ] && sources+=("native/core/$f"); done <native/core/sources.txt
# The addon's own sources, as binding.gyp lists them (so a new file there is built here too).
while read -r f; do sources+=("$f"); done < <(grep -o '"native/addon/[^"]*\.cc"' binding.gyp | tr -d '"')

echo "== addon-asan: building ${#sources[@]} sources with $cxx into $out"
export cxx out
export SAG_ASAN_FLAGS="${flags[*]}"
# One object per source, $jobs at a time; -MMD lets a rerun skip what has not changed.
printf '%s\n' "${sources[@]}" | xargs -P "$jobs" -I{} bash -c '
  src={}; obj="$out/obj/${src//\//_}.o"
  if [ -f "$obj" ] && [ -f "${obj%.o}.d" ] && [ -z "$(find $(sed -e "s/^[^:]*://" -e "s/\\\\$//" "${obj%.o}.d") -newer "$obj" 2>/dev/null)" ]; then exit 0; fi
  $cxx $SAG_ASAN_FLAGS -MMD -MF "${obj%.o}.d" -c "$src" -o "$obj"'
"$cxx" -shared -fsanitize=address,undefined -o "$out/sag.node" "$out"/obj/*.o -lcrypto -lpthread
"$cxx" ${flags[@]} -shared -o "$out/canary.node" native/test/asan/canary.cc

export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

echo "== addon-asan: canary (a deliberate heap overflow must abort node)"
set +e
canary_log=$(LD_PRELOAD="$libasan" node -e "require('$root/$out/canary.node').overflow()" 2>&1)
canary_rc=$?
set -e
if [ "$canary_rc" -eq 0 ] || ! grep -q "ERROR: AddressSanitizer: heap-buffer-overflow" <<<"$canary_log"; then
  echo "addon-asan: the canary overflow was NOT caught (exit $canary_rc); the sanitizer setup is broken:" >&2
  echo "$canary_log" | head -n 20 >&2
  exit 1
fi
echo "   caught: $(grep -m1 'ERROR: AddressSanitizer' <<<"$canary_log")"

if [ "$#" -gt 0 ]; then tests=("$@"); else
  tests=(test/unit/dataplane.test.ts test/unit/gateway.test.ts test/e2e/dataplane-root.test.ts)
fi
echo "== addon-asan: ${tests[*]} against $out/sag.node"
# The sanitized addon is slower: one test file at a time, with a longer timeout.
LD_PRELOAD="$libasan" SAG_ADDON_PATH="$root/$out/sag.node" \
  npx ava --concurrency 1 --timeout 300s "${tests[@]}"
