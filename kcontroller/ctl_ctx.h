/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_ctx.h - the state of one kcontroller process (struct controller) and
 * the controller context it holds while active (Kafka's ControllerContext):
 * live brokers with their epochs, topics with their ids, and per partition
 * the replicas, leader, leader epoch, ISR, znode version, reassignment
 * lists and state in the partition state machine (ctl_partition.h).
 *
 * Threads: after controller_start, all of it but the configuration, the
 * loop, the ZooKeeper handle and the queue (set before, read-only since)
 * belongs to the event thread (ctl_event.h); before start and after
 * controller_stop, to the main thread.  The context is only meaningful
 * while active: it is rebuilt from ZooKeeper at every election win and
 * dropped at resignation (ctl_failover.c).
 *
 * Everything here is pure bookkeeping: nothing reads or writes ZooKeeper
 * (ctl_zk.c) or talks to brokers (ctl_batch.c).
 */
#ifndef CTL_CTX_H
#define CTL_CTX_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl_metrics.h"
#include "kp_config.h"
#include "kp_sasl.h"
#include "kp_zkdata.h"

struct kp_loop;
struct kp_zk;
struct channel;
struct server;
struct ctl_batch;
struct ctl_event_queue;

#define LEADER_DURING_DELETE (-2)
#define EPOCH_DURING_DELETE (-2)
#define MOVED (-1000)		/* fenced: another controller is in charge */

struct c_broker {
	int32_t id;
	int64_t epoch;			/* czxid of /brokers/ids/<id> */
	struct kp_zk_broker reg;
	struct channel *chan;
};

/*
 * A partition's state (Kafka's PartitionState; transitions and their
 * valid previous states are ctl_partition.c's):
 *   NonExistent  not created yet, or deleted;
 *   New          assigned replicas, no leader yet (no state znode);
 *   Online       a leader was elected (it may have died since: the
 *                broker event takes it Offline);
 *   Offline      its leader died and no replica could take over, or its
 *                topic is being deleted.
 */
enum ctl_pstate {
	CTL_PS_NONEXISTENT,
	CTL_PS_NEW,
	CTL_PS_ONLINE,
	CTL_PS_OFFLINE,
	CTL_PS_NSTATES
};

struct c_part {
	struct kp_replicas replicas;	/* assignment order */
	enum ctl_pstate state;
	bool has_state;			/* .../partitions/<p>/state exists */
	int32_t leader;			/* -1: none */
	int32_t leader_epoch;
	int32_t ctl_epoch;		/* controller_epoch in the znode */
	int32_t zk_version;
	struct kp_replicas isr;
	/* a reassignment in progress (reassign.c): replicas is the full
	 * set, target = replicas - removing, origin = replicas - adding */
	struct kp_replicas adding;
	struct kp_replicas removing;
	bool zk_reassign;		/* listed in /admin/reassign_partitions */
	uint32_t um_gen;		/* batched for UpdateMetadata (ctl_batch.c) */
	/* live brokers whose replica is in an offline log dir (they answered
	 * LeaderAndIsr with KAFKA_STORAGE_ERROR): not leaders nor in the ISR
	 * until they restart (Kafka's replicasOnOfflineDirs; ctl_logdir.c) */
	struct kp_replicas dir_offline;
};

struct c_topic {
	char *name;
	char topic_id[23];
	int32_t nparts;
	struct c_part *parts;
	bool deleting;			/* queued in /admin/delete_topics */
	int pending_stops;		/* StopReplica(delete) unanswered */
	bool stop_failed;		/* some replica could not be stopped */
};

struct controller {
	/* set before the event thread starts; read-only afterwards */
	struct kp_config cfg;
	int32_t id;
	struct kp_loop *loop;
	struct kp_zk *zk;
	struct ctl_authz *authz;	/* the ACL authorizer, or NULL (ctl_authz.c) */
	const char *listener;		/* broker listener to connect to */
	int socket_timeout_ms;
	/* the channels' security (main.c): that listener's protocol, the
	 * TLS client context (NULL: plaintext) and whether the brokers'
	 * certificates must name their host, the SASL mechanism (NULL:
	 * none) with the username and password of its JAAS line */
	int inter_proto;
	struct ssl_ctx_st *inter_tls;
	bool inter_tls_verify_host;
	char *inter_sasl_mech;
	struct kp_jaas inter_sasl_jaas;
	struct ctl_event_queue *events;
	struct server *server;		/* the controller's listener */
	struct kp_endpoint ep;		/* advertised in /controller */
	bool stopping;			/* the main loop's: a signal came */

	/* the event thread's */
	enum ctl_role {
		CTL_STANDBY,		/* not the controller */
		CTL_ACTIVE,		/* the controller: the context is live */
		CTL_RESIGNING,		/* fenced: a Resign event is queued */
	} role;
	int32_t epoch;			/* controller epoch while active */
	int32_t epoch_zkv;		/* data version of /controller_epoch */
	struct c_broker *brokers;	/* live brokers, sorted by id */
	int nbrokers;
	struct c_topic **topics;	/* sorted by name */
	int ntopics;
	int32_t *shutting_down;		/* brokers in controlled shutdown */
	int nshutting_down;
	struct ctl_batch *batch;	/* requests being gathered */
	struct ctl_metrics metrics;	/* published for scrapes (ctl_metrics.h) */
};

/* In charge: elected, and not fenced since. */
static inline bool ctl_ctx_active(const struct controller *c)
{
	return c->role == CTL_ACTIVE;
}
/*
 * Another controller took over (a fenced write failed, a state znode has
 * a newer epoch): stop acting at once, and queue a Resign event, which
 * drops the context after the current event.
 */
void ctl_ctx_resign_later(struct controller *c);

/* Brokers: the live one of that id, or NULL. */
struct c_broker *ctl_ctx_broker(const struct controller *c, int32_t id);
/* Registered in /brokers/ids. */
bool ctl_ctx_live(const struct controller *c, int32_t id);
bool ctl_ctx_shutting_down(const struct controller *c, int32_t id);
/* Live and not in a controlled shutdown: may lead or join an ISR
 * (Kafka's liveBrokerIds leave shutting-down brokers out too). */
bool ctl_ctx_eligible(const struct controller *c, int32_t id);
/* Mark id as shutting down (until its registration goes or changes).
 * 0 or -1. */
int ctl_ctx_add_shutting_down(struct controller *c, int32_t id);
/* The endpoint the controller (and followers) reach a broker at. */
const struct kp_endpoint *ctl_ctx_endpoint(const struct controller *c,
					   const struct c_broker *b);
/* Replace the live brokers by now[0..n) (sorted by id), freeing the old
 * list; what is not carried over (channels) is the caller's. */
void ctl_ctx_set_brokers(struct controller *c, struct c_broker *now, int n);
void ctl_ctx_brokers_free(struct c_broker *l, int n);

/* Topics, sorted by name. */
struct c_topic *ctl_ctx_topic(const struct controller *c, const char *name);
/* The topic with this id (LeaderAndIsr v5 answers name topics by id). */
struct c_topic *ctl_ctx_topic_by_id(const struct controller *c, const kp_uuid *id);
/* A topic of n partitions without leaders (NonExistent), named name. */
struct c_topic *ctl_ctx_topic_new(const char *name, int32_t nparts);
/* Into the context (-EEXIST, -ENOMEM) / out of it (freed). */
int ctl_ctx_topic_insert(struct controller *c, struct c_topic *t);
void ctl_ctx_topic_remove(struct controller *c, struct c_topic *t);
void ctl_ctx_topic_free(struct c_topic *t);

/* Drop everything the context holds (resignation). */
void ctl_ctx_clear(struct controller *c);

/* Replica lists. */
bool ctl_ctx_in_list(const struct kp_replicas *l, int32_t id);
/* dst := ids[0..n) (an allocation failure keeps the old list). */
void ctl_ctx_list_set(struct kp_replicas *dst, const int32_t *ids, int32_t n);
/* A reassignment is in progress on this partition. */
bool ctl_ctx_reassigning(const struct c_part *cp);

#endif /* CTL_CTX_H */
