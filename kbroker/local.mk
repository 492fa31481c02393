# SPDX-License-Identifier: Apache-2.0
## kbroker: the broker daemon.  libkbroker.a holds its modules so unit
## tests and benchmarks link them directly.

noinst_LIBRARIES += kbroker/libkbroker.a
kbroker_libkbroker_a_SOURCES = kbroker/broker_config.c kbroker/broker_config.h \
	kbroker/log.c kbroker/log.h \
	kbroker/log_segment.c kbroker/log_segment.h \
	kbroker/log_index.c kbroker/log_index.h \
	kbroker/log_epoch.c kbroker/log_epoch.h \
	kbroker/log_epoch_writer.c kbroker/log_epoch_writer.h \
	kbroker/producer_state.c kbroker/producer_state.h \
	kbroker/log_txnindex.c kbroker/log_txnindex.h \
	kbroker/producer_id.c kbroker/producer_id.h \
	kbroker/api_producer.c kbroker/api_txn_markers.c \
	kbroker/txn_log.c kbroker/txn_log.h kbroker/txn_coord.c kbroker/txn_coord.h \
	kbroker/api_txn.c \
	kbroker/group_txn.c kbroker/group_txn.h kbroker/api_txn_offset.c \
	kbroker/log_checkpoint.c kbroker/log_checkpoint.h \
	kbroker/log_dir.c kbroker/log_dir.h \
	kbroker/bg_thread.c kbroker/bg_thread.h \
	kbroker/log_manager.c kbroker/log_manager.h \
	kbroker/log_cleaner.c kbroker/log_cleaner.h \
	kbroker/broker.h \
	kbroker/net.c kbroker/net.h \
	kbroker/transport.h kbroker/transport_plain.c \
	kbroker/transport_tls.c kbroker/transport_tls.h \
	kbroker/tls_reload.c kbroker/tls_reload.h \
	kbroker/purgatory.c kbroker/purgatory.h \
	kbroker/req_dispatch.c kbroker/req_dispatch.h \
	kbroker/api.h kbroker/api_metadata.c kbroker/api_partition.c kbroker/api_fetch.c \
	kbroker/api_topic.c kbroker/api_config.c kbroker/api_forward.c \
	kbroker/api_log_admin.c kbroker/log_dir_event.c kbroker/log_dir_event.h \
	kbroker/api_log_move.c kbroker/log_move.c kbroker/log_move.h \
	kbroker/ctl_epoch.c kbroker/ctl_epoch.h \
	kbroker/zk_admin.c kbroker/zk_admin.h kbroker/zk_thread.c kbroker/zk_thread.h \
	kbroker/config_layers.c kbroker/config_layers.h \
	kbroker/config_describe.c kbroker/config_describe.h \
	kbroker/topic_config.c kbroker/topic_config.h \
	kbroker/dynconfig.c kbroker/dynconfig.h kbroker/quota.c kbroker/quota.h \
	kbroker/partition.c kbroker/partition.h \
	kbroker/replica.c kbroker/replica.h \
	kbroker/isr_notify.c kbroker/isr_notify.h \
	kbroker/alter_isr.c kbroker/alter_isr.h \
	kbroker/fetcher.c kbroker/fetcher.h \
	kbroker/fetch_session.c kbroker/fetch_session.h \
	kbroker/shutdown.c kbroker/shutdown.h \
	kbroker/group.c kbroker/group.h kbroker/group_coord.h \
	kbroker/group_fsm.c kbroker/group_fsm.h kbroker/group_thread.c kbroker/group_thread.h \
	kbroker/group_table.c kbroker/group_table.h kbroker/group_store.c kbroker/group_store.h \
	kbroker/group_rebalance.c kbroker/group_rebalance.h \
	kbroker/group_offsets.c kbroker/group_offsets.h kbroker/api_group.c kbroker/api_refused.c \
	kbroker/authz.c kbroker/authz.h kbroker/api_acl.c \
	kbroker/api_sasl.c kbroker/api_scram.c kbroker/scram_users.c kbroker/scram_users.h \
	kbroker/metadata_cache.c kbroker/metadata_cache.h \
	kbroker/zk_broker.c kbroker/zk_broker.h \
	kbroker/metrics.c kbroker/metrics.h \
	kbroker/client_quota.c kbroker/client_quota.h kbroker/api_quota.c kbroker/api_quota.h
kbroker_libkbroker_a_CFLAGS = $(AM_CFLAGS) $(ZOOKEEPER_CFLAGS) $(OPENSSL_CFLAGS)

sbin_PROGRAMS += kbroker/kbroker
kbroker_kbroker_SOURCES = kbroker/main.c
kbroker_kbroker_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/kbroker
kbroker_kbroker_LDADD = kbroker/libkbroker.a libkproto/libkproto.la $(OPENSSL_LIBS)

## the daemon and its configuration file (etc/local.mk installs the file)
dist_man_MANS += man/man8/kbroker.8 man/man5/kbroker.properties.5
