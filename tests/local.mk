## tests: Check unit tests (tests/unit), integration tests
## (tests/integration), fuzz targets (tests/fuzz), golden captures
## (tests/golden).

UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_LDADD = libkproto/libkproto.la $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_buf tests/unit/check_codec
tests_unit_check_buf_SOURCES = tests/unit/check_buf.c
tests_unit_check_buf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_buf_LDADD = $(UNIT_LDADD)
tests_unit_check_codec_SOURCES = tests/unit/check_codec.c
tests_unit_check_codec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_codec_LDADD = $(UNIT_LDADD)

TESTS += tests/unit/check_buf tests/unit/check_codec

include tests/unit/records.mk
include tests/unit/storage.mk
include tests/unit/client.mk
