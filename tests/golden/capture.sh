#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Capture the request frames real clients send, into tests/golden/<case>/.
#
#   tests/golden/capture.sh BUILD_DIR
#
#   tests/golden/capture.sh BUILD_DIR CASE...     (only those cases)
#
# Builds tests/golden/capture in BUILD_DIR (a configured build tree), starts
# it, and drives kcat, confluent-kafka and kafka-python (Debian's packages) at
# it: a metadata request, then a produce of five known records with each
# compression codec; an idempotent kcat produce (InitProducerId v4); and
# librdkafka's group admin API (tests/lib/rdkafka_admin.py): ListGroups v4
# with a state filter, DescribeGroups, OffsetFetch v7 for named partitions
# and for a whole group.  Two of librdkafka 2.0's frames carry stray zero
# bytes Kafka ignores (see check_golden.c): OffsetFetch v7 for a whole
# group (the topic count is a 4-byte placeholder, read as a null compact
# array and 3 more bytes) and ListGroups v4 (its tag count twice).
# Versions no installed client sends are pinned by check_wire_spec.c.  The records are key "k<i>", value "golden-<i>-"
# followed by 200 'x' (compressible: kafka-python sends a batch
# uncompressed when compressing would not shrink it), timestamp
# 1600000000000 + i, and (where the client supports headers) header
# "h" = "v<i>".  check_golden.c decodes the files and checks exactly
# these values.  Run by a developer when clients change; the output is
# committed.
set -eu
build=$(cd "${1:?usage: capture.sh BUILD_DIR [CASE...]}" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
only="$*"
py=/usr/bin/python3
make -C "$build" tests/golden/capture >/dev/null
tmp=$(mktemp -d)
trap 'kill $cap 2>/dev/null || true; rm -rf "$tmp"' EXIT

run_case() {
	name=$1; shift
	case " $only " in
	"  "|*" $name "*) ;;
	*) return 0 ;;
	esac
	rm -rf "$tmp/out"; mkdir -p "$tmp/out"
	rm -f "$tmp/port"
	"$build/tests/golden/capture" "$tmp/port" "$tmp/out" 1 &
	cap=$!
	i=0
	while [ ! -s "$tmp/port" ]; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "capture did not start" >&2; exit 1; }
		sleep 0.1
	done
	port=$(cat "$tmp/port")
	"$@" "127.0.0.1:$port" || { echo "client failed for $name" >&2; exit 1; }
	kill $cap; wait $cap 2>/dev/null || true
	rm -rf "${here:?}/$name"; mkdir -p "$here/$name"
	cp "$tmp/out"/*.bin "$here/$name/"
	echo "$name: $(ls "$here/$name" | tr '\n' ' ')"
}

kcat_produce() {
	codec=$1; bs=$2
	pad=$(printf '%200s' '' | tr ' ' x)
	for i in 0 1 2 3 4; do printf 'k%d:golden-%d-%s\n' $i $i "$pad"; done |
		kcat -P -b "$bs" -t golden -p 0 -K: -X compression.codec="$codec" \
			-X linger.ms=100 -c 5
}
kcat_metadata() { kcat -L -b "$1" -t golden >/dev/null; }

confluent_produce() {
	codec=$1; bs=$2
	"$py" - "$codec" "$bs" <<'PY'
import sys
from confluent_kafka import Producer
codec, bs = sys.argv[1], sys.argv[2]
p = Producer({"bootstrap.servers": bs, "compression.type": codec,
              "linger.ms": 200, "acks": 1, "client.id": "golden-confluent"})
for i in range(5):
    p.produce("golden", key=b"k%d" % i, value=b"golden-%d-" % i + b"x" * 200, partition=0,
              timestamp=1600000000000 + i, headers=[("h", b"v%d" % i)])
assert p.flush(20) == 0
PY
}

kafkapython_produce() {
	codec=$1; bs=$2
	"$py" - "$codec" "$bs" <<'PY'
import sys
from kafka import KafkaProducer
codec, bs = sys.argv[1], sys.argv[2]
p = KafkaProducer(bootstrap_servers=bs, acks=1, linger_ms=200,
                  compression_type=None if codec == "none" else codec,
                  client_id="golden-kafka-python")
for i in range(5):
    p.send("golden", key=b"k%d" % i, value=b"golden-%d-" % i + b"x" * 200, partition=0,
           timestamp_ms=1600000000000 + i, headers=[("h", b"v%d" % i)])
p.flush(20)
p.close(5)
PY
}

kcat_idempotent() {
	codec=$1; bs=$2
	pad=$(printf '%200s' '' | tr ' ' x)
	for i in 0 1 2 3 4; do printf 'k%d:golden-%d-%s\n' $i $i "$pad"; done |
		kcat -P -b "$bs" -t golden -p 0 -K: -X compression.codec="$codec" \
			-X enable.idempotence=true -X linger.ms=100 -c 5
}

rdkafka_admin_groups() {
	bs=$1
	top_srcdir="$here/../.." "$py" - "$bs" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests", "lib"))
import rdkafka_admin
with rdkafka_admin.Admin(sys.argv[1], timeout_ms=20000) as a:
    a.list_groups(["Stable", "Empty"])
    a.describe_groups(["golden"])
    a.list_offsets("golden", [("golden", 0), ("golden", 1)])
    a.list_offsets("golden")
PY
}

run_case kcat-metadata kcat_metadata
run_case kcat-idempotent-produce-none kcat_idempotent none
run_case rdkafka-admin-groups rdkafka_admin_groups
for codec in none gzip snappy lz4 zstd; do
	run_case "kcat-produce-$codec" kcat_produce "$codec"
	run_case "confluent-produce-$codec" confluent_produce "$codec"
	run_case "kafkapython-produce-$codec" kafkapython_produce "$codec"
done
