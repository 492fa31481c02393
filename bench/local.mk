# SPDX-License-Identifier: Apache-2.0
## bench: benchmarks.  They are built with everything else (so they never
## rot) but only run by hand or by `make bench`; figures go in issue notes,
## never into timed test assertions.  Each fragment adds its programs to
## noinst_PROGRAMS and to BENCH_RUN (the ones `make bench` runs).

BENCH_RUN =
include bench/records.mk
include bench/log.mk
include bench/clients.mk

## the controller at scale: 10,000 partitions of replication factor 3 on
## three brokers (create, broker and controller failover, controlled
## shutdown, a broker's restart, a double failure while it recovers, idle
## cost); Python, confluent-kafka and kazoo.  Several
## minutes: not in `make bench`'s list (make bench-controller; options in
## BENCH_CONTROLLER_ARGS, e.g. "--partitions 5000 --json")
EXTRA_DIST += bench/controller_scale.py
bench-controller: kbroker/kbroker$(EXEEXT) kcontroller/kcontroller$(EXEEXT) \
		tools/kcluster$(EXEEXT)
	@top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
		/usr/bin/python3 $(srcdir)/bench/controller_scale.py $(BENCH_CONTROLLER_ARGS)
.PHONY: bench-controller

## a leader shrinking and expanding 3,000 ISRs (issue 23): its ISR writes
## span, the ISR-change notices, how long its main loop is held up
## (make bench-isr; options in BENCH_ISR_ARGS, e.g. "--partitions 1000")
EXTRA_DIST += bench/isr_shrink.py
bench-isr: kbroker/kbroker$(EXEEXT) kcontroller/kcontroller$(EXEEXT) \
		tools/kcluster$(EXEEXT)
	@top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
		/usr/bin/python3 $(srcdir)/bench/isr_shrink.py $(BENCH_ISR_ARGS)
.PHONY: bench-isr

bench: $(BENCH_RUN)
	@for b in $(BENCH_RUN); do echo "== $$b"; ./$$b || exit 1; done
	@$(MAKE) $(AM_MAKEFLAGS) bench-throughput bench-replication bench-groups bench-cleaner
.PHONY: bench
