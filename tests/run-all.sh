#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build skald from a clean checkout with warnings as errors and with
# AddressSanitizer + UndefinedBehaviorSanitizer, run every test (`make
# check`), print Check's summary lines, run the fuzz targets for a short
# fixed time each (clang/libFuzzer), and check the distribution
# (`make distcheck`).  Exits non-zero on any failure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${FUZZ_SECONDS:-45}

autoreconf -fi >/dev/null

build="$top/_build/check"
rm -rf "$build"
mkdir -p "$build"
cd "$build"
"$top/configure" --enable-werror --enable-sanitizers >configure.out 2>&1 ||
	{ cat configure.out; exit 1; }
make -j"$jobs" >make.out 2>&1 || { cat make.out; exit 1; }
status=0
make -j"$jobs" check || status=$?
echo "== Check summaries"
for log in $(find tests -name '*.log' ! -name test-suite.log | sort); do
	sed -n 's/^\([0-9]*%: Checks: .*\)$/'"$(basename "$log" .log)"': \1/p' "$log"
done
npass=$(sed -n 's/^# PASS: *//p' test-suite.log | head -1)
nfail=$(sed -n 's/^# FAIL: *//p' test-suite.log | head -1)
nerr=$(sed -n 's/^# ERROR: *//p' test-suite.log | head -1)
if [ "$status" -ne 0 ]; then
	cat test-suite.log 2>/dev/null || true
	echo "tests: ${npass:-0} passed, $(( ${nfail:-0} + ${nerr:-0} )) failed"
	exit "$status"
fi

echo "== Fuzzing (four targets) for ${fuzz_seconds}s each"
sh "$top/tests/fuzz/run-fuzz.sh" "$fuzz_seconds"

echo "== make distcheck"
dist="$top/_build/dist"
rm -rf "$dist"
mkdir -p "$dist"
cd "$dist"
"$top/configure" >/dev/null
make -j"$jobs" distcheck >distcheck.out 2>&1 || {
	tail -100 distcheck.out
	# the failing tests' own logs, from the distcheck build tree
	find . -name test-suite.log -path '*_build*' -exec cat {} + 2>/dev/null || true
	exit 1
}
grep -F 'archives ready' distcheck.out || true
echo "tests: ${npass:-0} passed, $(( ${nfail:-0} + ${nerr:-0} )) failed"
