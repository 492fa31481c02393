## bench: benchmarks.  They are built with everything else (so they never
## rot) but only run by hand or by `make bench`; figures go in issue notes,
## never into timed test assertions.  Each fragment adds its programs to
## noinst_PROGRAMS and to BENCH_RUN (the ones `make bench` runs).

BENCH_RUN =
include bench/records.mk
include bench/log.mk
include bench/clients.mk

bench: $(BENCH_RUN)
	@for b in $(BENCH_RUN); do echo "== $$b"; ./$$b || exit 1; done
	@$(MAKE) $(AM_MAKEFLAGS) bench-throughput bench-replication bench-groups
.PHONY: bench
