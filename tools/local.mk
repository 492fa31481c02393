# SPDX-License-Identifier: Apache-2.0
## tools: operator command-line tools.

## kcluster: a local cluster (ZooKeeper, controllers, brokers) in one command
bin_PROGRAMS += tools/kcluster
tools_kcluster_SOURCES = tools/kcluster.c tools/kcluster_security.c tools/kcluster_security.h
tools_kcluster_CPPFLAGS = $(AM_CPPFLAGS) -DSBINDIR='"$(sbindir)"'
tools_kcluster_LDADD = libkproto/libkproto.la
dist_man_MANS += man/man1/kcluster.1

## What the tools share (messages, cluster view, output), not installed.
noinst_LIBRARIES += tools/libtool.a
tools_libtool_a_SOURCES = tools/tool.c tools/tool.h tools/tool_msg.c \
	tools/tool_produce.c tools/tool_produce.h \
	tools/tool_fetch.c tools/tool_fetch.h \
	tools/tool_config.c tools/tool_config.h \
	tools/plan.c tools/plan.h \
	tools/tool_security.c tools/tool_security.h \
	kbroker/transport_tls.c kbroker/transport_tls.h
## TLS contexts are the broker's code (kbroker/transport_tls.c)
tools_libtool_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS) -I$(top_srcdir)/kbroker
TOOL_LDADD = tools/libtool.a libkproto/libkproto.la $(JANSSON_LIBS) $(OPENSSL_LIBS)
TOOL_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)

bin_PROGRAMS += tools/kbroker-api-versions
tools_kbroker_api_versions_SOURCES = tools/kbroker-api-versions.c
tools_kbroker_api_versions_CFLAGS = $(TOOL_CFLAGS)
tools_kbroker_api_versions_LDADD = $(TOOL_LDADD)

bin_PROGRAMS += tools/ktopics
tools_ktopics_SOURCES = tools/ktopics.c
tools_ktopics_CFLAGS = $(TOOL_CFLAGS)
tools_ktopics_LDADD = $(TOOL_LDADD)

bin_PROGRAMS += tools/kconsumer-groups
tools_kconsumer_groups_SOURCES = tools/kconsumer-groups.c
tools_kconsumer_groups_CFLAGS = $(TOOL_CFLAGS)
tools_kconsumer_groups_LDADD = $(TOOL_LDADD)

bin_PROGRAMS += tools/kconsole-producer
tools_kconsole_producer_SOURCES = tools/kconsole-producer.c
tools_kconsole_producer_CFLAGS = $(TOOL_CFLAGS)
tools_kconsole_producer_LDADD = $(TOOL_LDADD)

bin_PROGRAMS += tools/kconsole-consumer
tools_kconsole_consumer_SOURCES = tools/kconsole-consumer.c
tools_kconsole_consumer_CFLAGS = $(TOOL_CFLAGS)
tools_kconsole_consumer_LDADD = $(TOOL_LDADD)

bin_PROGRAMS += tools/kperf
tools_kperf_SOURCES = tools/kperf.c
tools_kperf_CFLAGS = $(TOOL_CFLAGS)
tools_kperf_LDADD = $(TOOL_LDADD)

dist_man_MANS += man/man1/ktopics.1 man/man1/kbroker-api-versions.1 \
	man/man1/kconsole-producer.1 man/man1/kconsole-consumer.1 \
	man/man1/kconsumer-groups.1 man/man1/kperf.1

## The tools against a real cluster, and their --help against their pages.
TESTS += tests/integration/0008-tools.py tests/tools/help-vs-man.sh
EXTRA_DIST += tests/tools/help-vs-man.sh

## kdump-log: print and check segment files (.log, .index, .timeindex),
## our kafka-dump-log.sh.
bin_PROGRAMS += tools/kdump-log
tools_kdump_log_SOURCES = tools/kdump-log.c
tools_kdump_log_CFLAGS = $(TOOL_CFLAGS) $(ZLIB_CFLAGS)
tools_kdump_log_LDADD = $(TOOL_LDADD) $(ZLIB_LIBS)
dist_man_MANS += man/man1/kdump-log.1
TESTS += tests/integration/0009-kdump-log.py

## kleader-election and kreassign-partitions: Kafka's
## kafka-leader-election.sh and kafka-reassign-partitions.sh (plan files
## and throttles in plan.c).
bin_PROGRAMS += tools/kleader-election tools/kreassign-partitions
tools_kleader_election_SOURCES = tools/kleader-election.c
tools_kleader_election_CFLAGS = $(TOOL_CFLAGS)
tools_kleader_election_LDADD = $(TOOL_LDADD)
tools_kreassign_partitions_SOURCES = tools/kreassign-partitions.c
tools_kreassign_partitions_CFLAGS = $(TOOL_CFLAGS)
tools_kreassign_partitions_LDADD = $(TOOL_LDADD)
dist_man_MANS += man/man1/kleader-election.1 man/man1/kreassign-partitions.1

## kconfigs: dynamic topic and broker configuration, our kafka-configs.sh.
bin_PROGRAMS += tools/kconfigs
tools_kconfigs_SOURCES = tools/kconfigs.c
tools_kconfigs_CFLAGS = $(TOOL_CFLAGS)
tools_kconfigs_LDADD = $(TOOL_LDADD)
dist_man_MANS += man/man1/kconfigs.1

## kdelete-records and klog-dirs: Kafka's kafka-delete-records.sh and
## kafka-log-dirs.sh --describe.
bin_PROGRAMS += tools/kdelete-records tools/klog-dirs
tools_kdelete_records_SOURCES = tools/kdelete-records.c
tools_kdelete_records_CFLAGS = $(TOOL_CFLAGS)
tools_kdelete_records_LDADD = $(TOOL_LDADD)
tools_klog_dirs_SOURCES = tools/klog-dirs.c
tools_klog_dirs_CFLAGS = $(TOOL_CFLAGS)
tools_klog_dirs_LDADD = $(TOOL_LDADD)
dist_man_MANS += man/man1/kdelete-records.1 man/man1/klog-dirs.1
## kacls: ACLs (CreateAcls, DescribeAcls, DeleteAcls), our kafka-acls.sh.
bin_PROGRAMS += tools/kacls
tools_kacls_SOURCES = tools/kacls.c
tools_kacls_CFLAGS = $(TOOL_CFLAGS)
tools_kacls_LDADD = $(TOOL_LDADD)
dist_man_MANS += man/man1/kacls.1
