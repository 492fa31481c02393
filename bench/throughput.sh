#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Produce and consume throughput of one kbroker with a librdkafka client on
# this machine: 6 partitions, acks=1, 100 B and 1 KB messages.  Starts
# ZooKeeper, one controller and one broker with tools/kcluster in a
# temporary directory (run from the build tree: make bench-throughput).
# BENCH_SECURITY=tls also runs the 1 KB case over SSL, SASL_SSL (PLAIN) and
# SASL_SSL (SCRAM-SHA-512, a user made with kconfigs) listeners of the same
# broker, with a CA and certificate made here by the openssl command,
# beside PLAINTEXT, and ends with each one's produce and consume MB/s as a
# ratio of PLAINTEXT's in the same run.  The TLS produce figure is mostly
# the client's: librdkafka hands each piece of its request buffer to
# SSL_write on its own (one TLS record and one write(2) each), and past
# the part of a batch it copied, a 1 KB value and its record header are
# separate pieces; in plaintext one sendmsg takes the whole buffer.
# BENCH_SCRAPE=compare runs the 1 KB case BENCH_ROUNDS times (default 3)
# without and with a scrape of every daemon's metrics each second (kcluster
# turns metrics.listener on), alternating, on the same cluster.
# Then (BENCH_MOCK=0 skips it, BENCH_MOCK=only runs nothing else) 100 B
# produce with librdkafka's default producer settings and acks=1 to a topic
# of 4 partitions, against librdkafka's in-process mock broker and this
# broker alternately, BENCH_MOCK_ROUNDS times (default 3): both rates and
# the broker's ratio to the mock in the same run (bench_clients --mock).
set -eu
dir=$(mktemp -d /tmp/skald-bench.XXXXXX)
trap 'tools/kcluster down --dir "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
if [ "${BENCH_SECURITY:-}" = tls ]; then
	(cd "$dir" &&
	 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout ca.key -out ca.pem -days 1 -subj /CN=bench-ca &&
	 openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout b.key -out b.csr -subj /CN=localhost &&
	 printf 'subjectAltName=IP:127.0.0.1\n' >san.ext &&
	 openssl x509 -req -in b.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 1 -extfile san.ext -out b.pem &&
	 cat b.key b.pem >keystore.pem) >/dev/null 2>&1
	tools/kcluster up --dir "$dir" --brokers 1 --controllers 1 \
		--listeners PLAINTEXT,SSL,SASL_SSL \
		--set num.partitions=6 --set num.network.threads=2 \
		--set ssl.keystore.type=PEM --set ssl.keystore.location="$dir/keystore.pem" \
		--set sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512 \
		--set 'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_bench="bench-pw";' \
		>"$dir/up.out"
	boot=$(sed -n 's/^bootstrap.servers=//p' "$dir/up.out")
	# run NAME COMMAND...: its output shown and kept for the ratios
	run() {
		name=$1
		shift
		"$@" >"$dir/$name.out" || { cat "$dir/$name.out"; return 1; }
		cat "$dir/$name.out"
	}
	echo "PLAINTEXT:"
	run PLAINTEXT bench/bench_clients "$boot" p1k 1024 ${BENCH_COUNT_1K:-1000000}
	echo "SSL:"
	run SSL env BENCH_CLIENT_CONF="security.protocol=ssl,ssl.ca.location=$dir/ca.pem" \
		bench/bench_clients "$(sed -n 's/^bootstrap.SSL=//p' "$dir/up.out")" \
		s1k 1024 ${BENCH_COUNT_1K:-1000000}
	echo "SASL_SSL (PLAIN):"
	run SASL_SSL-PLAIN env BENCH_CLIENT_CONF="security.protocol=sasl_ssl,ssl.ca.location=$dir/ca.pem,sasl.mechanisms=PLAIN,sasl.username=bench,sasl.password=bench-pw" \
		bench/bench_clients "$(sed -n 's/^bootstrap.SASL_SSL=//p' "$dir/up.out")" \
		ss1k 1024 ${BENCH_COUNT_1K:-1000000}
	tools/kconfigs --bootstrap-server "$boot" --entity-type users \
		--entity-name bench --alter \
		--add-config 'SCRAM-SHA-512=[iterations=4096,password=bench-pw]' >/dev/null
	echo "SASL_SSL (SCRAM-SHA-512):"
	run SASL_SSL-SCRAM env BENCH_CLIENT_CONF="security.protocol=sasl_ssl,ssl.ca.location=$dir/ca.pem,sasl.mechanisms=SCRAM-SHA-512,sasl.username=bench,sasl.password=bench-pw" \
		bench/bench_clients "$(sed -n 's/^bootstrap.SASL_SSL=//p' "$dir/up.out")" \
		sc1k 1024 ${BENCH_COUNT_1K:-1000000}
	# MB/s of a phase (produce or consume) in one run's output
	mbs() { awk -v p="$1" '$1 == p { for (i = 1; i < NF; i++) if ($(i + 1) == "MB/s") print $i }' "$2"; }
	echo "ratio to PLAINTEXT in this run:"
	for r in SSL SASL_SSL-PLAIN SASL_SSL-SCRAM; do
		for ph in produce consume; do
			awk -v r="$r" -v ph="$ph" -v a="$(mbs "$ph" "$dir/$r.out")" \
			    -v b="$(mbs "$ph" "$dir/PLAINTEXT.out")" \
			    'BEGIN { printf "%-15s %-8s %.2fx\n", r, ph, (b > 0 ? a / b : 0) }'
		done
	done
	exit 0
fi
tools/kcluster up --dir "$dir" --brokers 1 --controllers 1 \
	--set num.partitions=6 --set num.network.threads=2 >"$dir/up.out"
boot=$(sed -n 's/^bootstrap.servers=//p' "$dir/up.out")
if [ "${BENCH_SCRAPE:-}" = compare ]; then
	urls=$(sed -n 's/^metrics\.[a-z]*\.[0-9]*=//p' "$dir/up.out")
	i=0
	while [ "$i" -lt "${BENCH_ROUNDS:-3}" ]; do
		i=$((i + 1))
		echo "round $i, no scrape:"
		bench/bench_clients "$boot" n$i 1024 ${BENCH_COUNT_1K:-1000000}
		echo "round $i, a scrape of every daemon each second:"
		(while :; do
			for u in $urls; do
				curl -sf -o /dev/null "$u" || echo "scrape of $u failed" >&2
			done
			sleep 1
		 done) &
		scraper=$!
		bench/bench_clients "$boot" s$i 1024 ${BENCH_COUNT_1K:-1000000}
		kill "$scraper"
		wait "$scraper" 2>/dev/null || true
	done
	exit 0
fi
if [ "${BENCH_MOCK:-1}" != only ]; then
	bench/bench_clients "$boot" t100 100 ${BENCH_COUNT_100:-3000000}
	bench/bench_clients "$boot" t1k 1024 ${BENCH_COUNT_1K:-1000000}
fi
if [ "${BENCH_MOCK:-1}" != 0 ]; then
	echo "100 B, default producer settings, against librdkafka's mock broker:"
	bench/bench_clients --mock "$boot" m100 100 ${BENCH_COUNT_MOCK:-2000000} \
		${BENCH_MOCK_ROUNDS:-3}
fi
