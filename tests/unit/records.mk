# SPDX-License-Identifier: Apache-2.0
## tests for libkproto's records, CRC32C and compression (see tests/local.mk)
check_PROGRAMS += tests/unit/check_records
tests_unit_check_records_SOURCES = tests/unit/check_records.c
tests_unit_check_records_CFLAGS = $(UNIT_CFLAGS) $(ZLIB_CFLAGS)
tests_unit_check_records_LDADD = $(UNIT_LDADD) $(ZLIB_LIBS)
TESTS += tests/unit/check_records

## message format conversion for old clients (Produce v0-2, Fetch v0-3)
check_PROGRAMS += tests/unit/check_legacy
tests_unit_check_legacy_SOURCES = tests/unit/check_legacy.c
tests_unit_check_legacy_CFLAGS = $(UNIT_CFLAGS) $(ZLIB_CFLAGS)
tests_unit_check_legacy_LDADD = $(UNIT_LDADD) $(ZLIB_LIBS)
TESTS += tests/unit/check_legacy

check_PROGRAMS += tests/unit/check_golden
tests_unit_check_golden_SOURCES = tests/unit/check_golden.c
tests_unit_check_golden_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_golden_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/check_golden
