#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Produce and consume throughput of one kbroker with a librdkafka client on
# this machine: 6 partitions, acks=1, 100 B and 1 KB messages.  Starts
# ZooKeeper, one controller and one broker with tools/kcluster in a
# temporary directory (run from the build tree: make bench-throughput).
set -eu
dir=$(mktemp -d /tmp/skald-bench.XXXXXX)
trap 'tools/kcluster down --dir "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
tools/kcluster up --dir "$dir" --brokers 1 --controllers 1 \
	--set num.partitions=6 --set num.network.threads=2 >"$dir/up.out"
boot=$(sed -n 's/^bootstrap.servers=//p' "$dir/up.out")
bench/bench_clients "$boot" t100 100 ${BENCH_COUNT_100:-3000000}
bench/bench_clients "$boot" t1k 1024 ${BENCH_COUNT_1K:-1000000}
