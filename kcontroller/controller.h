/*
 * controller.h - the state of one kcontroller process.
 *
 * Threads: the controller's work runs on its event thread (ctl_event.h),
 * one event at a time, as Kafka's controller runs on its single event
 * thread: ZooKeeper watches, broker responses, admin requests and timers
 * are put on its queue by the threads that see them (the main thread's
 * event loop: ZooKeeper watch delivery, broker channels, the listener).
 * Only the event thread blocks on ZooKeeper; only it touches the context.
 *
 * The context (brokers, topics, partitions) is only meaningful while
 * active: it is rebuilt from ZooKeeper at every election win and dropped
 * at resignation.
 */
#ifndef CONTROLLER_H
#define CONTROLLER_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_config.h"
#include "kp_loop.h"
#include "kp_zkdata.h"

struct kp_loop;
struct kp_zk;
struct channel;
struct ctl_event_queue;
struct ctl_request;

struct c_broker {
	int32_t id;
	int64_t epoch;			/* czxid of /brokers/ids/<id> */
	struct kp_zk_broker reg;
	struct channel *chan;
};

struct c_part {
	struct kp_replicas replicas;	/* assignment order */
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
	uint32_t um_gen;		/* batched for UpdateMetadata in batch.gen */
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

/* One control request batch (Kafka's ControllerBrokerRequestBatch). */
struct batch_lai {
	int32_t broker;
	struct c_topic *t;
	int32_t p;
	bool is_new;
};

struct batch_stop {
	int32_t broker;
	struct c_topic *t;
	int32_t p;
	int32_t leader_epoch;		/* -2: the topic is being deleted */
};

struct batch {
	struct batch_lai *lai;
	int nlai, cap_lai;
	struct { struct c_topic *t; int32_t p; } *um;
	int num, cap_um;
	bool um_brokers;		/* UpdateMetadata even without partitions */
	int32_t *um_only;		/* send UpdateMetadata to these only */
	int num_only;			/* (0: all live brokers) */
	struct batch_stop *stop;
	int nstop, cap_stop;
	uint32_t gen;			/* bumped at every flush (never 0) */
};

struct controller {
	struct kp_config cfg;
	int32_t id;
	struct kp_loop *loop;
	struct kp_zk *zk;
	const char *listener;		/* broker listener to connect to */
	int socket_timeout_ms;
	bool stopping;			/* the main loop's: a signal came */
	struct ctl_event_queue *events;

	/* the event thread's (the main thread's before start, after stop) */
	enum ctl_role {
		CTL_STANDBY,		/* not the controller */
		CTL_ACTIVE,		/* the controller: the context is live */
		CTL_RESIGNING,		/* fenced: a Resign event is queued */
	} role;
	int32_t epoch;			/* controller epoch while active */
	int32_t epoch_zkv;		/* data version of /controller_epoch */

	struct server *server;		/* ControlledShutdown listener */
	struct kp_endpoint ep;		/* advertised in /controller */

	struct c_broker *brokers;	/* live brokers, sorted by id */
	int nbrokers;
	struct c_topic **topics;	/* sorted by name */
	int ntopics;
	struct batch batch;
	int32_t *shutting_down;		/* brokers in controlled shutdown */
	int nshutting_down;
};

/* The event queue (before the listener starts).  0 or -1. */
int controller_init(struct controller *c);
/* Start the event thread; return once it has stood for election (won
 * it, or watches the winner).  0 or -1. */
int controller_start(struct controller *c);
/* Stop the event thread and resign: from then on the calling thread owns
 * everything.  Channels close on the loop (run it once more). */
void controller_stop(struct controller *c);
/* After controller_stop and the loop's last run: free what is left. */
void controller_free(struct controller *c);
/* An admin request of the listener, answered through r->done (any
 * thread). */
void controller_request(struct controller *c, struct ctl_request *r);
/* Give up the active role (if held) and drop the context (event thread,
 * or the owner after controller_stop). */
void controller_resign(struct controller *c);
/*
 * ControlledShutdown from broker_id (broker_epoch -1: not checked): move
 * the leadership of its partitions to other in-sync replicas, take it out
 * of the ISRs it is in, and fill resp with the partitions it still leads.
 */
struct kp_controlled_shutdown_resp;
struct kp_arena;
void controller_controlled_shutdown(struct controller *c, int32_t broker_id,
				    int64_t broker_epoch,
				    struct kp_controlled_shutdown_resp *resp,
				    struct kp_arena *a);
/*
 * Requests the controller listener serves for brokers that forward them
 * from clients (see election.c and reassign.c): fill resp (allocated in
 * a) from req.
 */
struct kp_elect_leaders_req;
struct kp_elect_leaders_resp;
struct kp_alter_partition_reassignments_req;
struct kp_alter_partition_reassignments_resp;
struct kp_list_partition_reassignments_req;
struct kp_list_partition_reassignments_resp;
void controller_elect_leaders(struct controller *c, int16_t version,
			      const struct kp_elect_leaders_req *req,
			      struct kp_elect_leaders_resp *resp, struct kp_arena *a);
void controller_alter_reassignments(struct controller *c,
				    const struct kp_alter_partition_reassignments_req *req,
				    struct kp_alter_partition_reassignments_resp *resp,
				    struct kp_arena *a);
void controller_list_reassignments(struct controller *c,
				   const struct kp_list_partition_reassignments_req *req,
				   struct kp_list_partition_reassignments_resp *resp,
				   struct kp_arena *a);
/* ZooKeeper session lost (any thread): what is queued is dropped; the
 * event thread resigns, reconnects and stands for election again. */
void controller_session_expired(struct controller *c);

#endif /* CONTROLLER_H */
