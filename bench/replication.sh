#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Replication cost on this machine, with a librdkafka client: three
# kbrokers, 6 partitions of replication factor 3, min.insync.replicas=2,
# acks=all, 100 B and 1 KB messages, each without and with
# enable.idempotence (the producer state checks), 100 B messages again
# in transactions of 100 (a transactional producer committing every 100
# messages, each commit waiting for its markers); then end-to-end latency at 10,000
# msgs/s of 1 KB.  Compare with bench-throughput (one broker, replication
# factor 1, acks=1).  Starts ZooKeeper, one controller and three brokers
# with tools/kcluster in a temporary directory (make bench-replication).
set -eu
dir=$(mktemp -d /tmp/skald-bench.XXXXXX)
trap 'tools/kcluster down --dir "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
tools/kcluster up --dir "$dir" --brokers 3 --controllers 1 \
	--set num.partitions=6 --set default.replication.factor=3 \
	--set min.insync.replicas=2 --set num.network.threads=2 >"$dir/up.out"
boot=$(sed -n 's/^bootstrap.servers=//p' "$dir/up.out")
bench/bench_clients "$boot" r100 100 ${BENCH_COUNT_100:-3000000} all
bench/bench_clients "$boot" ri100 100 ${BENCH_COUNT_100:-3000000} all idempotent
bench/bench_clients "$boot" r1k 1024 ${BENCH_COUNT_1K:-1000000} all
bench/bench_clients "$boot" ri1k 1024 ${BENCH_COUNT_1K:-1000000} all idempotent
bench/bench_clients "$boot" rt100 100 ${BENCH_COUNT_TXN:-50000} all txn:100
bench/bench_clients --latency "$boot" lat1k 1024 10000 ${BENCH_LATENCY_S:-10} all
