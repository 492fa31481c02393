/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_event.h - the controller's event queue and its thread (Kafka's
 * ControllerEventManager).
 *
 * Everything the controller reacts to is an event on one FIFO queue:
 * ZooKeeper watches, broker responses, the admin requests of its listener,
 * the auto-rebalance timer, and its own decisions to resign or to retry a
 * topic deletion.  One thread, the event thread, takes the events in the
 * order they were put and processes each to its end before the next; it
 * alone touches the controller's context, and it alone may block on
 * ZooKeeper.  Whatever an event decides that needs another event (a
 * fenced write: resign) is put on the queue, never called from inside.
 *
 * Any thread may put an event.  clear_and_put (a ZooKeeper session
 * expiry) first preempts what is queued: the preempt function runs, on
 * the calling thread, for each event dropped (an admin request is then
 * answered NOT_CONTROLLER without touching the context).  Scheduled
 * events wait for their delay, then join the tail of the queue.  After
 * ctl_event_stop every event put is preempted at once.
 *
 * The queue knows the event types (for names, payloads and freeing) but
 * not what they do: that is the process function the owner gives.
 */
#ifndef CTL_EVENT_H
#define CTL_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_codec.h"

enum ctl_event_type {
	CTL_EV_STARTUP,			/* stand for election (at start) */
	CTL_EV_CONTROLLER_CHANGE,	/* /controller changed or went */
	CTL_EV_EXPIRE,			/* ZooKeeper session expired */
	CTL_EV_RESIGN,			/* fenced: another controller wrote */
	CTL_EV_BROKER_CHANGE,		/* children of /brokers/ids */
	CTL_EV_TOPIC_CHANGE,		/* children of /brokers/topics */
	CTL_EV_PARTITION_MODIFICATION,	/* data of /brokers/topics/<topic> */
	CTL_EV_TOPIC_DELETION,		/* children of /admin/delete_topics */
	CTL_EV_TOPIC_DELETION_RETRY,	/* deletions waiting for brokers */
	CTL_EV_ISR_CHANGE,		/* children of /isr_change_notification */
	CTL_EV_LOG_DIR_EVENT,		/* children of /log_dir_event_notification */
	CTL_EV_REASSIGN_ISR_CHANGE,	/* a reassigned partition's ISR changed */
	CTL_EV_REASSIGN_ZNODE,		/* /admin/reassign_partitions */
	CTL_EV_PREFERRED_ZNODE,		/* /admin/preferred_replica_election */
	CTL_EV_AUTO_REBALANCE,		/* leader.imbalance.check.interval */
	CTL_EV_LAI_RESPONSE,		/* a broker answered LeaderAndIsr */
	CTL_EV_STOP_RESPONSE,		/* a broker answered StopReplica */
	CTL_EV_REQUEST,			/* the listener's admin request */
	CTL_EV_NTYPES
};

/*
 * An admin request of the controller's listener (ControlledShutdown,
 * ElectLeaders, Alter/ListPartitionReassignments).  The owner of the
 * request (the listener) fills what is below and keeps it alive until
 * done(), which processing or preempting calls exactly once, on the
 * event thread or the preempting thread, with resp filled.
 */
struct ctl_request {
	int16_t api_key;
	int16_t api_version;
	const void *req;		/* decoded request */
	void *resp;			/* the response, defaults set */
	struct kp_arena *arena;		/* the response's arrays */
	void (*done)(struct ctl_request *r);
	/* who asks (ctl_authz.h): the connection's authenticated name
	 * ("" when none) and peer address */
	const char *principal;
	const char *host;
};

/* One error code of a LeaderAndIsr answer: how many partitions, and one
 * of them (by name, or by topic id from v5 on: named on the event
 * thread, which knows the topics). */
struct ctl_lai_error {
	int16_t code;
	int32_t count;
	char *topic;			/* NULL: look topic_id up */
	kp_uuid topic_id;
	int32_t partition;
};

struct ctl_event {
	struct ctl_event *next;
	enum ctl_event_type type;
	int64_t due_ms;			/* scheduled: monotonic deadline */
	struct ctl_event_waiter *waiter;	/* ctl_event_put_wait */
	union {
		/* PARTITION_MODIFICATION, REASSIGN_ISR_CHANGE (partition) */
		struct { char *name; int32_t partition; } topic;
		/* LAI_RESPONSE */
		struct {
			int32_t broker;
			int16_t error;		/* top-level code */
			struct ctl_lai_error *errors;
			int32_t nerrors;
			/* each partition answered KAFKA_STORAGE_ERROR */
			struct ctl_lai_error *storage;
			int32_t nstorage;
		} lai;
		/* STOP_RESPONSE */
		struct {
			int32_t broker;
			int32_t epoch;		/* the controller epoch it was sent at */
			char *topic;
			bool deleting;		/* a deletion's (else a reassignment's) */
			bool failed;
		} stop;
		/* REQUEST */
		struct ctl_request *request;
	} u;
};

/* Process (event thread) or preempt (any thread) one event; the queue
 * frees it afterwards. */
typedef void (*ctl_event_fn)(struct ctl_event *ev, void *arg);

struct ctl_event_queue;

struct ctl_event_queue *ctl_event_queue_new(ctl_event_fn process,
					    ctl_event_fn preempt, void *arg);
/* After ctl_event_stop (or if never started): frees what is left. */
void ctl_event_queue_free(struct ctl_event_queue *q);
/* Start the event thread.  0 or -errno. */
int ctl_event_start(struct ctl_event_queue *q);
/*
 * Preempt every queued and scheduled event, let the event being processed
 * finish, and join the thread.  From any thread but the event thread.
 */
void ctl_event_stop(struct ctl_event_queue *q);

/* A zeroed event of this type (NULL when out of memory). */
struct ctl_event *ctl_event_new(enum ctl_event_type type);
/* Frees the payload too (a request is its owner's: not freed). */
void ctl_event_free(struct ctl_event *ev);
const char *ctl_event_name(enum ctl_event_type type);

/* Queue ev at the tail (the queue owns it; NULL is ignored). */
void ctl_event_put(struct ctl_event_queue *q, struct ctl_event *ev);
/* Put ev and wait until it has been processed (or preempted).  Not on
 * the event thread. */
void ctl_event_put_wait(struct ctl_event_queue *q, struct ctl_event *ev);
/* Preempt every queued event (not the scheduled ones), then put ev. */
void ctl_event_clear_and_put(struct ctl_event_queue *q, struct ctl_event *ev);
/* Put ev at the tail once delay_ms have passed. */
void ctl_event_schedule(struct ctl_event_queue *q, struct ctl_event *ev,
			int64_t delay_ms);
/* Drop the scheduled events of this type (not the queued ones). */
void ctl_event_unschedule(struct ctl_event_queue *q, enum ctl_event_type type);
/* Events queued (not counting scheduled ones), for tests. */
size_t ctl_event_queued(struct ctl_event_queue *q);

#endif /* CTL_EVENT_H */
