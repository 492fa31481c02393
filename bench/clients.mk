# SPDX-License-Identifier: Apache-2.0
## produce and consume throughput through a real cluster with librdkafka
## (bench/throughput.sh starts one broker with kcluster and runs it)
EXTRA_DIST += bench/throughput.sh bench/replication.sh bench/groups.py \
	bench/cleaner.py
if HAVE_RDKAFKA
noinst_PROGRAMS += bench/bench_clients
bench_bench_clients_SOURCES = bench/bench_clients.c
bench_bench_clients_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS)
bench_bench_clients_LDADD = $(RDKAFKA_LIBS)

bench-throughput: bench/bench_clients$(EXEEXT) tools/kcluster$(EXEEXT)
	@sh $(srcdir)/bench/throughput.sh
bench-replication: bench/bench_clients$(EXEEXT) tools/kcluster$(EXEEXT)
	@sh $(srcdir)/bench/replication.sh
else
bench-throughput bench-replication:
	@echo "$@: skipped (librdkafka-dev is not installed)"
endif
## group coordinator: join latency and load time (Python, confluent-kafka)
bench-groups: kbroker/kbroker$(EXEEXT) tools/kcluster$(EXEEXT)
	@top_srcdir=$(top_srcdir) top_builddir=$(abs_top_builddir) \
		/usr/bin/python3 $(srcdir)/bench/groups.py
bench-cleaner: kbroker/kbroker$(EXEEXT) tools/kcluster$(EXEEXT)
	@top_srcdir=$(top_srcdir) top_builddir=$(abs_top_builddir) \
		/usr/bin/python3 $(srcdir)/bench/cleaner.py
.PHONY: bench-throughput bench-replication bench-groups bench-cleaner
