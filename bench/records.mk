# SPDX-License-Identifier: Apache-2.0
## benchmarks for records and CRC-32C
noinst_PROGRAMS += bench/bench_records
bench_bench_records_SOURCES = bench/bench_records.c
bench_bench_records_LDADD = libkproto/libkproto.la
BENCH_RUN += bench/bench_records
