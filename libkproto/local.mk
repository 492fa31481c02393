# SPDX-License-Identifier: Apache-2.0
## libkproto: the Kafka wire protocol and record-batch library.

lib_LTLIBRARIES += libkproto/libkproto.la

KP_SCHEMAS = $(wildcard $(top_srcdir)/libkproto/schema/*.kps)
KP_GEN = $(top_srcdir)/libkproto/gen_msgs.py

libkproto_libkproto_la_SOURCES = \
	libkproto/kp_buf.c libkproto/kp_buf.h \
	libkproto/kp_arena.c libkproto/kp_arena.h \
	libkproto/kp_codec.c libkproto/kp_codec.h \
	libkproto/kp_proto.c libkproto/kp_proto.h \
	libkproto/kp_errors.c libkproto/kp_errors.h libkproto/kp_errors.def \
	libkproto/kp_crc32c.c libkproto/kp_crc32c.h \
	libkproto/kp_records.c libkproto/kp_records.h \
	libkproto/kp_compress.c libkproto/kp_compress.h \
	libkproto/kp_config.c libkproto/kp_config.h \
	libkproto/kp_zkdata.c libkproto/kp_zkdata.h \
	libkproto/kp_listener.c libkproto/kp_listener.h \
	libkproto/kp_sasl.c libkproto/kp_sasl.h \
	libkproto/kp_principal.c libkproto/kp_principal.h \
	libkproto/kp_sasl_cfg.c libkproto/kp_sasl_cfg.h \
	libkproto/kp_sasl_conn.c libkproto/kp_sasl_conn.h \
	libkproto/kp_zk.c libkproto/kp_zk.h \
	libkproto/kp_assign.c libkproto/kp_assign.h \
	libkproto/kp_groupmeta.c libkproto/kp_groupmeta.h \
	libkproto/kp_pidsnap.c libkproto/kp_pidsnap.h \
	libkproto/kp_txn.c libkproto/kp_txn.h \
	libkproto/kp_topic_config.c libkproto/kp_topic_config.h \
	libkproto/kp_log.c libkproto/kp_log.h \
	libkproto/kp_loop.c libkproto/kp_loop.h \
	libkproto/kp_client.c libkproto/kp_client.h \
	libkproto/kp_notify.c libkproto/kp_notify.h \
	libkproto/kp_answer.c libkproto/kp_answer.h \
	libkproto/kp_acl.c libkproto/kp_acl.h \
	libkproto/kp_metrics.c libkproto/kp_metrics.h
nodist_libkproto_libkproto_la_SOURCES = libkproto/kp_msgs.c libkproto/kp_msgs.h
libkproto_libkproto_la_CFLAGS = $(AM_CFLAGS) $(ZLIB_CFLAGS) $(LZ4_CFLAGS) $(ZSTD_CFLAGS) $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS) $(MHD_CFLAGS) $(PCRE2_CFLAGS)
libkproto_libkproto_la_LIBADD = $(ZLIB_LIBS) $(LZ4_LIBS) $(ZSTD_LIBS) $(SNAPPY_LIBS) $(JANSSON_LIBS) $(ZOOKEEPER_LIBS) $(OPENSSL_LIBS) $(MHD_LIBS) $(PCRE2_LIBS)
libkproto_libkproto_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0

## The installed API, in $(includedir)/skald: buffers, arena, the codec
## and the generated message structs, frames and headers, error codes,
## record batches, compression, CRC-32C, and the client with the event
## loop and logging it runs on.  kp_config, kp_zk, kp_zkdata, kp_assign,
## kp_groupmeta, kp_pidsnap, kp_topic_config, kp_notify, kp_answer and kp_metrics serve skald's own daemons and
## tools (ZooKeeper layout, configuration tables); they stay private so
## they can change without breaking programs built against the library.
pkginclude_HEADERS = \
	libkproto/kp_buf.h libkproto/kp_arena.h libkproto/kp_codec.h \
	libkproto/kp_proto.h libkproto/kp_errors.h libkproto/kp_errors.def \
	libkproto/kp_records.h libkproto/kp_compress.h libkproto/kp_crc32c.h \
	libkproto/kp_client.h libkproto/kp_loop.h libkproto/kp_log.h
nodist_pkginclude_HEADERS = libkproto/kp_msgs.h

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = libkproto/libkproto.pc

BUILT_SOURCES += libkproto/kp_msgs.c libkproto/kp_msgs.h
CLEANFILES += libkproto/kp_msgs.c libkproto/kp_msgs.h libkproto/kp_msgs.stamp
EXTRA_DIST += $(KP_GEN) libkproto/schema

## One run of the generator writes both files; the stamp keeps parallel
## make from running it twice.
libkproto/kp_msgs.stamp: $(KP_GEN) $(KP_SCHEMAS)
	@$(MKDIR_P) libkproto
	$(AM_V_GEN)$(PYTHON3) $(KP_GEN) --out-dir libkproto $(KP_SCHEMAS)
	@touch $@
libkproto/kp_msgs.c libkproto/kp_msgs.h: libkproto/kp_msgs.stamp
