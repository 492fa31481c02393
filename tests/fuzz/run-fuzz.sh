#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build the libFuzzer targets with clang (ASan + UBSan, coverage) in
# _build/fuzz and run it for a fixed time (seconds, default 60), seeded with
# the golden frames captured from real clients.  Exits non-zero if the
# fuzzer finds a crash, a leak or a misread.
set -eu
seconds=${1:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
build="$top/_build/fuzz"
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ]; then
	CC=clang "$top/configure" --enable-fuzz --enable-sanitizers \
		--disable-shared CFLAGS="-g -O1 -fsanitize=fuzzer-no-link" \
		>configure.out 2>&1 || { cat configure.out; exit 1; }
fi
make -j"$(nproc 2>/dev/null || echo 2)" tests/fuzz/fuzz_request tests/fuzz/fuzz_sasl \
	>make.out 2>&1 ||
	{ cat make.out; exit 1; }
corpus="$build/corpus"
mkdir -p "$corpus"
seeds=
[ -d "$top/tests/golden" ] && seeds="$top/tests/golden"
# shellcheck disable=SC2086
./tests/fuzz/fuzz_request -max_total_time="$seconds" -max_len=8192 -seed=1 \
	-print_final_stats=1 "$corpus" $seeds 2>fuzz.out || { tail -60 fuzz.out; exit 1; }
grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' fuzz.out | head -2
# the SASL exchange before authentication (SaslAuthenticate bodies, PLAIN
# tokens, JAAS lines), unseeded
mkdir -p "$build/corpus-sasl"
./tests/fuzz/fuzz_sasl -max_total_time="$seconds" -max_len=4096 -seed=1 \
	-print_final_stats=1 "$build/corpus-sasl" 2>fuzz-sasl.out ||
	{ tail -60 fuzz-sasl.out; exit 1; }
grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' fuzz-sasl.out | head -2
