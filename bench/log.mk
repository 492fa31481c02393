# SPDX-License-Identifier: Apache-2.0
## benchmark of the broker's storage engine
noinst_PROGRAMS += bench/bench_log
bench_bench_log_SOURCES = bench/bench_log.c
bench_bench_log_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/kbroker
bench_bench_log_LDADD = kbroker/libkbroker.a libkproto/libkproto.la $(OPENSSL_LIBS)
BENCH_RUN += bench/bench_log
