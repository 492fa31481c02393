# SPDX-License-Identifier: Apache-2.0
## tests: Check unit tests (tests/unit), integration tests
## (tests/integration), fuzz targets (tests/fuzz), golden captures
## (tests/golden).

UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -I$(top_srcdir)/tests/lib
UNIT_LDADD = libkproto/libkproto.la $(CHECK_LIBS) $(OPENSSL_LIBS)

check_PROGRAMS += tests/unit/check_buf tests/unit/check_codec tests/unit/check_config tests/unit/check_zkdata
tests_unit_check_zkdata_SOURCES = tests/unit/check_zkdata.c
check_PROGRAMS += tests/unit/check_zk
tests_unit_check_zk_SOURCES = tests/unit/check_zk.c tests/lib/zkserver.c tests/lib/zkserver.h
tests_unit_check_zk_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_zk_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/check_zk
tests_unit_check_zkdata_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_zkdata_LDADD = $(UNIT_LDADD)
tests_unit_check_config_SOURCES = tests/unit/check_config.c
tests_unit_check_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_config_LDADD = $(UNIT_LDADD)
tests_unit_check_buf_SOURCES = tests/unit/check_buf.c
tests_unit_check_buf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_buf_LDADD = $(UNIT_LDADD)
tests_unit_check_codec_SOURCES = tests/unit/check_codec.c
## hand-written bytes of the versions no installed client sends
check_PROGRAMS += tests/unit/check_wire_spec
tests_unit_check_wire_spec_SOURCES = tests/unit/check_wire_spec.c tests/lib/check_run.h
tests_unit_check_wire_spec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_wire_spec_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/check_wire_spec
tests_unit_check_codec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_codec_LDADD = $(UNIT_LDADD)

TESTS += tests/unit/check_buf tests/unit/check_codec tests/unit/check_config tests/unit/check_zkdata

check_PROGRAMS += tests/unit/check_listener
tests_unit_check_listener_SOURCES = tests/unit/check_listener.c
tests_unit_check_listener_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_listener_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/check_listener
## ssl.principal.mapping.rules (libkproto/kp_principal.c)
check_PROGRAMS += tests/unit/check_principal
tests_unit_check_principal_SOURCES = tests/unit/check_principal.c
tests_unit_check_principal_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_principal_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/check_principal
check_PROGRAMS += tests/unit/check_sasl
tests_unit_check_sasl_SOURCES = tests/unit/check_sasl.c
tests_unit_check_sasl_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_sasl_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/check_sasl
check_PROGRAMS += tests/unit/check_acl
tests_unit_check_acl_SOURCES = tests/unit/check_acl.c
tests_unit_check_acl_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_acl_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/check_acl

include tests/unit/records.mk

## libFuzzer target (configure CC=clang --enable-fuzz); run by
## tests/fuzz/run-fuzz.sh from tests/run-all.sh.
EXTRA_DIST += tests/fuzz/run-fuzz.sh tests/run-all.sh
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_request
tests_fuzz_fuzz_request_SOURCES = tests/fuzz/fuzz_request.c
tests_fuzz_fuzz_request_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_request_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_request_LDADD = libkproto/libkproto.la
noinst_PROGRAMS += tests/fuzz/fuzz_sasl
tests_fuzz_fuzz_sasl_SOURCES = tests/fuzz/fuzz_sasl.c
tests_fuzz_fuzz_sasl_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_sasl_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_sasl_LDADD = libkproto/libkproto.la $(OPENSSL_LIBS)
noinst_PROGRAMS += tests/fuzz/fuzz_handlers
tests_fuzz_fuzz_handlers_SOURCES = tests/fuzz/fuzz_handlers.c
tests_fuzz_fuzz_handlers_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer -I$(top_srcdir)/kbroker
tests_fuzz_fuzz_handlers_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_handlers_LDADD = kbroker/libkbroker.a libkproto/libkproto.la $(OPENSSL_LIBS) $(ZLIB_LIBS)
noinst_PROGRAMS += tests/fuzz/fuzz_records
tests_fuzz_fuzz_records_SOURCES = tests/fuzz/fuzz_records.c
tests_fuzz_fuzz_records_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer -I$(top_srcdir)/kbroker
tests_fuzz_fuzz_records_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_records_LDADD = kbroker/libkbroker.a libkproto/libkproto.la $(OPENSSL_LIBS) $(ZLIB_LIBS)
endif

## The golden-capture responder, built only on request (make
## tests/golden/capture) by tests/golden/capture.sh.
EXTRA_PROGRAMS = tests/golden/capture
tests_golden_capture_SOURCES = tests/golden/capture.c tests/golden/versions.h
tests_golden_capture_LDADD = libkproto/libkproto.la
EXTRA_DIST += tests/golden/capture.sh tests/golden
CLEANFILES += tests/golden/capture
EXTRA_DIST += tests/lib/zookeeper.py

check_PROGRAMS += tests/unit/check_config_tables
tests_unit_check_config_tables_SOURCES = tests/unit/check_config_tables.c
tests_unit_check_config_tables_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker -I$(top_srcdir)/kcontroller
tests_unit_check_config_tables_LDADD = kbroker/libkbroker.a kcontroller/libkcontroller.a $(UNIT_LDADD)
TESTS += tests/unit/check_config_tables

## event loop, logging and the protocol client
check_PROGRAMS += tests/unit/check_loop tests/unit/check_client
tests_unit_check_loop_SOURCES = tests/unit/check_loop.c tests/lib/check_run.h
tests_unit_check_loop_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_loop_LDADD = $(UNIT_LDADD)
tests_unit_check_client_SOURCES = tests/unit/check_client.c tests/lib/check_run.h
tests_unit_check_client_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_client_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/check_loop tests/unit/check_client

## the broker's storage engine
check_PROGRAMS += tests/unit/check_log
tests_unit_check_log_SOURCES = tests/unit/check_log.c tests/lib/check_run.h
tests_unit_check_log_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_log_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_log
## many logs loaded at start by several threads (issue 23)
check_PROGRAMS += tests/unit/check_log_load
tests_unit_check_log_load_SOURCES = tests/unit/check_log_load.c tests/lib/check_run.h
tests_unit_check_log_load_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_log_load_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_log_load
## replicas moving between log dirs (AlterReplicaLogDirs)
check_PROGRAMS += tests/unit/check_log_move
tests_unit_check_log_move_SOURCES = tests/unit/check_log_move.c tests/lib/check_run.h
tests_unit_check_log_move_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_log_move_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_log_move
check_PROGRAMS += tests/unit/check_producer_state
tests_unit_check_producer_state_SOURCES = tests/unit/check_producer_state.c tests/lib/check_run.h
tests_unit_check_producer_state_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_producer_state_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_producer_state
check_PROGRAMS += tests/unit/check_txn_log
tests_unit_check_txn_log_SOURCES = tests/unit/check_txn_log.c tests/lib/check_run.h
tests_unit_check_txn_log_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_txn_log_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_txn_log
check_PROGRAMS += tests/unit/check_txn
tests_unit_check_txn_SOURCES = tests/unit/check_txn.c tests/lib/check_run.h
tests_unit_check_txn_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_txn_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_txn
check_PROGRAMS += tests/unit/check_group_txn
tests_unit_check_group_txn_SOURCES = tests/unit/check_group_txn.c tests/lib/check_run.h
tests_unit_check_group_txn_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_group_txn_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_group_txn

## integration tests: real ZooKeeper, real kbroker processes, real clients
## (run with Debian's python, where its kafka packages live)
TEST_EXTENSIONS = .py
PY_LOG_COMPILER = /usr/bin/python3
TESTS += tests/integration/0001-broker-start-register-serve.py
## whole clusters through tools/kcluster (ZooKeeper, kcontrollers, kbrokers)
TESTS += tests/integration/0002-cluster-kcat-keyed.py \
	tests/integration/0003-clients-codecs.py \
	tests/integration/0004-admin.py \
	tests/integration/0005-failover-restart.py \
	tests/integration/0006-replication.py \
	tests/integration/0007-groups.py \
	tests/integration/0011-leader-election.py \
	tests/integration/0012-reassign.py
## the controller: elections, rebalance, reassignment, deletion, fencing
TESTS += tests/integration/0013-controller.py
## broker.rack and rack-aware placement
TESTS += tests/integration/0014-racks.py
## a broker restarted over a few hundred logs under acks=all: parallel
## loading after a clean stop, back in every ISR, nothing lost (issue 23)
TESTS += tests/integration/0044-fast-restart.py
## retention, flushes of rolled segments, checkpoints (the log manager)
TESTS += tests/integration/0015-log-cleanup.py
## records without timestamps: retention, recovery, the time index
TESTS += tests/integration/0016-timestampless-retention.py
## KIP-392: consumers read from a replica in their rack
TESTS += tests/integration/0017-closest-replica.py
## clients configured for Kafka before 0.11: Produce v0-2 with magic 0/1
## message sets converted to v2, Fetch v0-3 down-converted
TESTS += tests/integration/0018-legacy-formats.py
## every Kafka 2.8 API key at Kafka 2.8's versions, group states with the
## clients' admin APIs
TESTS += tests/integration/0019-api-keys.py
## group members expire at their session deadline (the coordinator's timer)
TESTS += tests/integration/0020-group-expiry.py
## a real 3-server ZooKeeper ensemble under a chroot: its leader killed,
## then its quorum lost, under an acks=all producer and a consumer group
TESTS += tests/integration/0021-zk-ensemble.py
## a 5-server ensemble shared by two clusters under chroots, two servers
## killed at once; a broker SIGSTOPped past its ZooKeeper session
TESTS += tests/integration/0022-zk-sessions.py
## hostile clients on plain sockets: bad topic names, spoofed replicas,
## forged epochs, an amplification frame, a forward failing late
TESTS += tests/integration/0023-hostile-clients.py
## measured bounds: 5,000 idle connections, a client that never reads,
## the descriptor limit, a connect flood past max.connections (issue 20)
TESTS += tests/integration/0040-connection-bounds.py
## the idempotent producer: InitProducerId, producer id blocks, duplicates,
## gaps and epochs, state across leader changes and restarts
TESTS += tests/integration/0024-idempotence.py
## listeners and security protocols (issue 19)
TESTS += tests/integration/0025-tls-sasl.py
## Prometheus metrics scraped by a real Prometheus server (issue 22)
TESTS += tests/integration/0026-metrics.py
## DeleteRecords, DescribeLogDirs and JBOD log dirs (issue 22)
TESTS += tests/integration/0032-delete-records-logdirs.py
## AlterReplicaLogDirs: replicas moved between log dirs under an acks=all
## producer, a restart during a move, the swap's crash points (issue 22)
TESTS += tests/integration/0039-alter-log-dirs.py
## a leader's log dir fills up (a tmpfs the test mounts): the dir goes
## offline, leadership moves, nothing acknowledged is lost (issue 20)
TESTS += tests/integration/0041-disk-full.py
## a broker SIGKILLed right after it became leader, before its deferred
## leader-epoch-checkpoint was written: rebuilt, nothing lost (issue 23)
TESTS += tests/integration/0042-epoch-crash.py
## ISR changes written off the main loop and announced in batches, as
## Kafka 2.8 does: one notice for many partitions (issue 23)
TESTS += tests/integration/0043-isr-batching.py
TESTS += tests/integration/0045-alter-isr.py
## transactions: the coordinator, markers, read_committed, fencing,
## timeouts, coordinator failover (issue 21)
TESTS += tests/integration/0036-transactions.py
TESTS += tests/integration/0037-eos-ctp.py
TESTS += tests/integration/0038-kafkajs-eos.py
## transaction markers: WriteTxnMarkers, the last stable offset, the aborted
## transactions index, read_committed consumers (issue 21)
TESTS += tests/integration/0030-txn-markers.py
## client quotas: byte rates, request percentage, Describe/AlterClientQuotas (issue 22);
## the precedence and the rate and throttle arithmetic on their own
TESTS += tests/integration/0031-quotas.py
check_PROGRAMS += tests/unit/check_client_quota
tests_unit_check_client_quota_SOURCES = tests/unit/check_client_quota.c tests/lib/check_run.h
tests_unit_check_client_quota_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_client_quota_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_client_quota
## ZooKeeper ACLs and skald's digest identity (issue 19)
TESTS += tests/integration/0027-zk-acls.py
## TLS client principals (ssl.principal.mapping.rules) and keystore
## reload through a dynamic broker config (issue 19)
TESTS += tests/integration/0028-tls-principal-reload.py
## kcluster up --security sasl_ssl (issue 19)
TESTS += tests/integration/0029-kcluster-security.py
## Kafka's ACL authorizer: kacls, the znodes, a per-API matrix with real
## clients, propagation between brokers (issue 20)
TESTS += tests/integration/0035-acls.py
## a cluster whose every listener is SASL_SSL: daemons, tools, clients (issue 19)
TESTS += tests/integration/0034-secure-cluster.py
## KIP-227 fetch sessions (issue 23)
TESTS += tests/integration/0033-fetch-sessions.py
EXTRA_DIST += tests/integration tests/lib/kbroker.py tests/lib/check_run.h \
	tests/lib/cluster.py tests/lib/groupmember.py tests/lib/wire.py \
	tests/lib/kjs-consumer.js tests/lib/kjs-eos.js tests/lib/kwire.py tests/lib/rdkafka_admin.py \
	tests/lib/groupwire.py tests/lib/ktool.py tests/lib/zkfaults.py

## dynamic configuration (kconfigs, AlterConfigs, change notifications,
## replication throttles) on a kcluster; and its pure parts on their own
TESTS += tests/integration/0010-configs.py
check_PROGRAMS += tests/unit/check_dynconfig
tests_unit_check_dynconfig_SOURCES = tests/unit/check_dynconfig.c tests/lib/check_run.h
tests_unit_check_dynconfig_CFLAGS = $(UNIT_CFLAGS) $(JANSSON_CFLAGS) \
	-I$(top_srcdir)/kbroker -I$(top_srcdir)/tools
tests_unit_check_dynconfig_LDADD = kbroker/libkbroker.a tools/libtool.a \
	$(UNIT_LDADD) $(JANSSON_LIBS)
TESTS += tests/unit/check_dynconfig

## kbroker's request handlers, in process, over real sockets
check_PROGRAMS += tests/unit/check_broker_api
tests_unit_check_broker_api_SOURCES = tests/unit/check_broker_api.c tests/lib/check_run.h
tests_unit_check_broker_api_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_broker_api_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_broker_api

## kbroker's delayed operations (the purgatory)
check_PROGRAMS += tests/unit/check_purgatory
tests_unit_check_purgatory_SOURCES = tests/unit/check_purgatory.c tests/lib/check_run.h
tests_unit_check_purgatory_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_purgatory_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_purgatory

check_PROGRAMS += tests/unit/check_fetch_session
tests_unit_check_fetch_session_SOURCES = tests/unit/check_fetch_session.c tests/lib/check_run.h
tests_unit_check_fetch_session_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_fetch_session_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_fetch_session

## kbroker's batched ISR-change notifications
check_PROGRAMS += tests/unit/check_isr_notify
tests_unit_check_isr_notify_SOURCES = tests/unit/check_isr_notify.c tests/lib/check_run.h
tests_unit_check_isr_notify_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_isr_notify_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_isr_notify

## kbroker's network layer and its transports, over a real socket
check_PROGRAMS += tests/unit/check_net
tests_unit_check_net_SOURCES = tests/unit/check_net.c tests/lib/check_run.h
tests_unit_check_net_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_net_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_net

## replica placement and topic configs
check_PROGRAMS += tests/unit/check_assign
tests_unit_check_assign_SOURCES = tests/unit/check_assign.c tests/lib/check_run.h
tests_unit_check_assign_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_assign_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/check_assign

## the partition tools' plan files and reassignment throttles (tools/plan.c)
check_PROGRAMS += tests/unit/check_plan
tests_unit_check_plan_SOURCES = tests/unit/check_plan.c tests/lib/check_run.h
tests_unit_check_plan_CFLAGS = $(UNIT_CFLAGS) $(JANSSON_CFLAGS) -I$(top_srcdir)/tools
tests_unit_check_plan_LDADD = tools/libtool.a $(UNIT_LDADD) $(JANSSON_LIBS)
TESTS += tests/unit/check_plan

## __consumer_offsets records and group placement
check_PROGRAMS += tests/unit/check_groupmeta
tests_unit_check_groupmeta_SOURCES = tests/unit/check_groupmeta.c tests/lib/check_run.h
tests_unit_check_groupmeta_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_groupmeta_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/check_groupmeta

## the group coordinator's rebalance states (kbroker/group_fsm.c)
check_PROGRAMS += tests/unit/check_group_fsm
tests_unit_check_group_fsm_SOURCES = tests/unit/check_group_fsm.c tests/lib/check_run.h
tests_unit_check_group_fsm_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_group_fsm_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_group_fsm
## the group coordinator's bookkeeping: protocol vote, member ids handed
## out, members, offsets (kbroker/group_table.c)
check_PROGRAMS += tests/unit/check_group_table
tests_unit_check_group_table_SOURCES = tests/unit/check_group_table.c tests/lib/check_run.h
tests_unit_check_group_table_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_group_table_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_group_table
## the group coordinator's deadline heap and thread (kbroker/group_thread.c)
check_PROGRAMS += tests/unit/check_group_thread
tests_unit_check_group_thread_SOURCES = tests/unit/check_group_thread.c tests/lib/check_run.h
tests_unit_check_group_thread_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kbroker
tests_unit_check_group_thread_LDADD = kbroker/libkbroker.a $(UNIT_LDADD)
TESTS += tests/unit/check_group_thread

## tests/golden is distributed as a directory; in a build tree that built
## the capture responder (make tests/golden/capture), the program and its
## objects sit in it too and must not reach the tarball.
dist-hook:
	rm -f $(distdir)/tests/golden/capture $(distdir)/tests/golden/*.o
	rm -rf $(distdir)/tests/golden/.deps $(distdir)/tests/golden/.dirstamp

## the controller: its event queue, the partition state machine and the
## leader choices, reassignment plans, and its events against a real
## ZooKeeper
check_PROGRAMS += tests/unit/check_ctl_event tests/unit/check_ctl_partition \
	tests/unit/check_ctl_reassign tests/unit/check_ctl_controller
tests_unit_check_ctl_event_SOURCES = tests/unit/check_ctl_event.c tests/lib/check_run.h
tests_unit_check_ctl_event_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kcontroller
tests_unit_check_ctl_event_LDADD = kcontroller/libkcontroller.a $(UNIT_LDADD)
tests_unit_check_ctl_partition_SOURCES = tests/unit/check_ctl_partition.c tests/lib/check_run.h
tests_unit_check_ctl_partition_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kcontroller
tests_unit_check_ctl_partition_LDADD = kcontroller/libkcontroller.a $(UNIT_LDADD)
tests_unit_check_ctl_reassign_SOURCES = tests/unit/check_ctl_reassign.c tests/lib/check_run.h
tests_unit_check_ctl_reassign_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kcontroller
tests_unit_check_ctl_reassign_LDADD = kcontroller/libkcontroller.a $(UNIT_LDADD)
tests_unit_check_ctl_controller_SOURCES = tests/unit/check_ctl_controller.c \
	tests/lib/check_run.h tests/lib/zkserver.c tests/lib/zkserver.h
tests_unit_check_ctl_controller_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kcontroller
tests_unit_check_ctl_controller_LDADD = kcontroller/libkcontroller.a $(UNIT_LDADD)
TESTS += tests/unit/check_ctl_event tests/unit/check_ctl_partition \
	tests/unit/check_ctl_reassign tests/unit/check_ctl_controller

check_PROGRAMS += tests/unit/check_metrics
tests_unit_check_metrics_SOURCES = tests/unit/check_metrics.c
tests_unit_check_metrics_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_metrics_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/check_metrics

## contrib/: the Prometheus alert rules (promtool check rules, promtool
## test rules) and the Grafana dashboard's metric names
TESTS += tests/contrib/alert-rules.sh
EXTRA_DIST += tests/contrib/alert-rules.sh contrib
