#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build the libFuzzer targets with clang (ASan + UBSan, coverage) in
# _build/fuzz and run each for a fixed time (seconds per target, default
# 45: four targets, three minutes), the request targets seeded with the
# golden frames captured from real clients.  Exits non-zero if a fuzzer
# finds a crash, a leak or a misread.
set -eu
seconds=${1:-45}
top=$(cd "$(dirname "$0")/../.." && pwd)
build="$top/_build/fuzz"
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ]; then
	CC=clang "$top/configure" --enable-fuzz --enable-sanitizers \
		--disable-shared CFLAGS="-g -O1 -fsanitize=fuzzer-no-link" \
		>configure.out 2>&1 || { cat configure.out; exit 1; }
fi
# the generated protocol header first: make builds BUILT_SOURCES for all
# and check only, and a parallel build of the targets alone could compile
# a fuzz target before it exists
make libkproto/kp_msgs.h >make.out 2>&1 || { cat make.out; exit 1; }
make -j"$(nproc 2>/dev/null || echo 2)" tests/fuzz/fuzz_request tests/fuzz/fuzz_sasl \
	tests/fuzz/fuzz_handlers tests/fuzz/fuzz_records >make.out 2>&1 ||
	{ cat make.out; exit 1; }
seeds=
[ -d "$top/tests/golden" ] && seeds="$top/tests/golden"

# run <target> <max_len> [seed dir]: its corpus in corpus-<target>
run() {
	t=$1 len=$2
	mkdir -p "$build/corpus-$t"
	echo "$t: ${seconds}s"
	"./tests/fuzz/$t" -max_total_time="$seconds" -max_len="$len" -seed=1 \
		-print_final_stats=1 "$build/corpus-$t" ${3:+"$3"} 2>"$t.out" ||
		{ tail -80 "$t.out"; exit 1; }
	grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$t.out" | head -2
}

# the request decoder (decode, encode, decode again)
run fuzz_request 8192 "$seeds"
# the SASL exchange before authentication (SaslAuthenticate bodies, PLAIN
# tokens, JAAS lines, SCRAM), unseeded
run fuzz_sasl 4096
# requests through an in-process broker's dispatcher and handlers
run fuzz_handlers 16384 "$seeds"
# record batches and legacy message sets (validation, codecs, conversion,
# log appends); the target writes its own seeds
FUZZ_RECORDS_SEEDS="$build/corpus-fuzz_records"
mkdir -p "$FUZZ_RECORDS_SEEDS"
export FUZZ_RECORDS_SEEDS
run fuzz_records 8192
