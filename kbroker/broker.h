/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker.h - the state of one kbroker process.
 *
 * Threads: the main thread runs the main loop (accepting connections,
 * ZooKeeper callbacks posted by kp_zk, signals, timers); network workers
 * (net.c) run requests.  Fields below are set before the workers start and
 * read-only afterwards unless a comment names their lock.
 */
#ifndef BROKER_H
#define BROKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_config.h"
#include "kp_listener.h"
#include "kp_sasl.h"
#include "kp_sasl_cfg.h"
#include "kp_loop.h"
#include "kp_zkdata.h"
#include "metadata_cache.h"
#include "metrics.h"
#include "partition.h"
#include "producer_id.h"

struct kp_loop;
struct kp_zk;
struct net_server;
struct log_dir;
struct dynconfig;
struct scram_users;
struct log_manager;
struct log_cleaner;
struct log_moves;
struct purgatory;
struct zk_thread;
struct fetchers;
struct isr_notify;
struct alter_isr;
struct config_layers;
struct repl_quotas;
struct client_quotas;
struct broker_authz;
struct txn_coord;
struct fetch_sessions;
struct net_req;

/* A SASL listener's mechanisms and credentials. */
struct broker_sasl {
	bool on;
	/* the mechanisms and PLAIN users (kp_sasl_cfg.h, as kcontroller's) */
	struct kp_sasl_listener l;
	/* SCRAM credentials (scram_users_lookup, given by main.c, so net.c
	 * calls no handler) */
	kp_scram_lookup_fn lookup;
	void *lookup_arg;
};

struct broker {
	struct kp_config cfg;
	int32_t id;
	char cluster_id[64];
	char *rack;
	bool rack_aware_reads;		/* replica.selector.class is set */

	/* listeners with their security protocols and the inter-broker
	 * listener (kp_listener.h); the four below point into it */
	struct kp_listeners lsn;
	/* the client TLS context of our connections to other brokers'
	 * inter-broker listener when it is SSL (NULL: plaintext), and
	 * whether their certificates must name the host (Kafka's
	 * ssl.endpoint.identification.algorithm=https) */
	struct ssl_ctx_st *inter_tls;
	/* per bound listener (parallel to listeners): its SASL setup, on
	 * only for SASL_PLAINTEXT and SASL_SSL */
	struct broker_sasl *sasl;
	bool inter_tls_verify_host;
	/* SASL on our connections to the inter-broker listener when it is
	 * SASL_*: sasl.mechanism.inter.broker.protocol and the username and
	 * password of that mechanism's JAAS line (NULL mech: none) */
	char *inter_sasl_mech;
	struct kp_jaas inter_sasl_jaas;
	struct kp_endpoint *listeners;	/* where we listen */
	size_t nlisteners;
	struct kp_endpoint *advertised;	/* what ZooKeeper and clients see */
	size_t nadvertised;
	int listen_backlog;
	int32_t socket_request_max_bytes;
	int64_t request_arena_cap;

	struct kp_loop *loop;		/* main thread */
	struct kp_zk *zk;
	struct producer_ids pids;	/* InitProducerId (producer_id.h) */
	struct zk_thread *zkt;		/* requests' ZooKeeper work (zk_thread.c) */
	struct purgatory *purg;		/* delayed operations (purgatory.c) */
	struct net_server *net;
	struct log_dir **dirs;
	int ndirs;
	pthread_mutex_t dirs_lock;	/* logs added to or deleted from dirs */

	struct metadata_cache meta;	/* its own lock */
	struct partition_table parts;	/* its own lock */
	_Atomic int32_t controller_epoch; /* highest seen */
	_Atomic int32_t message_max_bytes; /* effective (dynconfig.c changes it) */
	bool stopping;
	atomic_bool draining;		/* controlled shutdown: no new appends */

	/* replication (replica.c: main loop; fetcher.c: its own thread) */
	struct kp_timer isr_timer;	/* ISR expiry */
	struct kp_timer hw_timer;	/* replication-offset-checkpoint */
	int isr_inflight;		/* ISR znode writes in flight (main loop) */
	struct isr_notify *isrn;	/* batched ISR-change notices (isr_notify.c) */
	bool alter_isr;			/* ISR changes as AlterIsr (IBP >= 2.7-IV2) */
	struct alter_isr *aisr;		/* ... sent by alter_isr.c */
	int64_t replica_lag_ms;		/* replica.lag.time.max.ms */
	int64_t hw_checkpoint_ms;	/* replica.high.watermark.checkpoint.interval.ms */
	struct fetchers *fetcher;	/* num.replica.fetchers threads */
	struct group_coord *coord;	/* group coordinator (group.c) */
	struct txn_coord *txn;		/* transaction coordinator (txn_coord.c) */
	struct dynconfig *dyn;		/* the /config/changes watcher (dynconfig.c) */
	struct scram_users *scram;	/* SCRAM credentials (scram_users.c) */
	struct config_layers *layers;	/* a broker key's layers (config_layers.c) */
	struct repl_quotas *quotas;	/* replication throttles (quota.c) */
	struct client_quotas *cquota;	/* client quotas (client_quota.h) */
	/* KIP-219 accounting of each answer (api_quota.c's quota_on_reply
	 * and quota_set_throttle_field), given by main.c so that net.c
	 * calls no handler module; NULL: none */
	void (*reply_hook)(struct net_req *r, bool answered);
	void (*throttle_hook)(struct net_req *r, void *resp);
	struct broker_authz *authz;	/* the ACL authorizer, or NULL (authz.c) */
	struct fetch_sessions *fsessions;	/* KIP-227 (fetch_session.c) */
	struct log_manager *logman;	/* retention, flushes (log_manager.c) */
	struct log_cleaner *cleaner;	/* compaction (log_cleaner.c), or NULL */
	struct log_moves *moves;	/* AlterReplicaLogDirs (log_move.c) */
	struct broker_metrics metrics;	/* metrics.h */
};

#endif /* BROKER_H */
