/*
 * group_int.h - the group coordinator's insides, shared by group.c (state
 * machine: join, sync, heartbeat, leave, timers), group_store.c (appends
 * to and loads from __consumer_offsets, offset expiry) and api_group.c
 * (the offset and admin APIs, FindCoordinator).
 *
 * Everything here is guarded by coord.lock unless a comment says
 * otherwise.  Times named *_deadline are monotonic milliseconds
 * (kp_now_ms); *_ts are wall-clock milliseconds as Kafka stores them.
 *
 * Deadlines fire on time, not on a polling tick: each group with a
 * deadline pending has its earliest one (group.wake) in the coordinator
 * thread's deadline heap (group_thread.h), beside the first queued
 * write's timeout and the next offset-expiry round.  Setting a deadline
 * earlier (any thread, lock held) moves the group's wake there
 * (group_wake_at); a deadline that moves later (a heartbeat) needs
 * nothing: the wake comes early, finds nothing due, and the group's exact
 * next wake is computed then (group_reschedule).
 */
#ifndef GROUP_INT_H
#define GROUP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "group_fsm.h"
#include "group_table.h"
#include "group_thread.h"
#include "kp_buf.h"
#include "kp_loop.h"

struct broker;
struct net_req;
struct partition;

/* A JoinGroup, as the coordinator needs it (group_join). */
struct group_join {
	kp_str group_id, member_id, instance_id, protocol_type, client_id;
	const char *peer;		/* "ip:port" */
	const struct group_protocol_ref *protocols;
	int32_t nprotocols;
	int32_t session_ms, rebalance_ms;
	bool require_known_id;		/* hand out member ids (KIP-394) */
	void *req;			/* answered through reply, now or later */
	group_reply_fn reply;
};

struct coord;
struct gwrite;
typedef void (*gwrite_fn)(struct coord *c, struct gwrite *w, int16_t err);

/* An append to __consumer_offsets waiting for the ISR. */
struct gwrite {
	struct gwrite *next;
	int32_t opart;
	uint32_t lead_gen;
	int64_t required;		/* the high watermark that acknowledges */
	int64_t deadline;
	gwrite_fn done;			/* NULL: nobody waits */
	struct group *g;		/* referenced (nwrites) */
	int32_t generation;
	struct net_req *r;		/* to answer, or NULL */
	void *resp;			/* its prepared response */
	int16_t **slots;		/* error codes to set in resp */
	int32_t nslots;
	struct group_offset *offsets;	/* commit: installed on success */
};

enum opart_state { OP_NONE, OP_LOADING, OP_LOADED };

struct opart {
	enum opart_state state;
	uint32_t lead_gen;		/* the leadership being served */
	struct partition *p;
	struct gwrite *writes, **writes_tail;
};

struct coord {
	struct broker *b;
	pthread_mutex_t lock;
	struct group_thread thread;	/* its loop and deadline heap */
	struct group_deadline writes_due; /* the first queued write's timeout */
	struct group_deadline expiry_due; /* the next offset-expiry round */
	atomic_bool check_posted;	/* a write check is queued */
	struct group_table groups;
	struct opart *parts;
	int32_t nparts;
	/* settings */
	int32_t initial_delay_ms;
	int32_t min_session_ms, max_session_ms;
	int32_t max_size;
	int32_t commit_timeout_ms;
	int32_t metadata_max;
	int32_t load_buffer;
	int64_t retention_ms;
	int64_t retention_check_ms;
	int32_t num_partitions;
	int32_t replication_factor;
	int32_t segment_bytes;
};

/* group.c */
struct coord *coord_of(struct net_req *r);
struct group *group_find(struct coord *c, kp_str id);
/* A new Empty group in the table; NULL when out of memory. */
struct group *group_add(struct coord *c, kp_str id, int32_t opart);
/* Move a loaded group into the table.  0 or -1. */
int group_adopt(struct coord *c, struct group *g);
/* The __consumer_offsets partition count (the topic's, else the config). */
int32_t coord_nparts(struct coord *c);
/* Coordinator checks for a group id: 0, NOT_COORDINATOR or
 * COORDINATOR_LOAD_IN_PROGRESS; *opart set. */
int16_t coord_check(struct coord *c, kp_str group, int32_t *opart);
/* Answer a parked request from any thread (posted to its worker). */
void coord_send(struct net_req *r, void *resp);
/* Copy into r's arena. */
kp_str arena_kstr(struct net_req *r, const char *s);
void prepare_rebalance(struct coord *c, struct group *g);
void try_complete_join(struct coord *c, struct group *g);
/* JoinGroup (lock held): j->req is answered through j->reply, at once or
 * when the rebalance completes. */
void group_join(struct coord *c, const struct group_join *j);
/* g has a deadline at t: its wake moves there if that is earlier. */
void group_wake_at(struct coord *c, struct group *g, int64_t t);
/* g's wake, exactly: its earliest deadline that can fire (or none). */
void group_reschedule(struct coord *c, struct group *g);
/* Room in the deadline heap for every group in the table and one more,
 * and the store's two deadlines.  0 or -1. */
int coord_reserve(struct coord *c);

/* group_store.c */
/* Append records (key/value pairs; value len -1: tombstone) to the
 * group's partition.  w (NULL: nobody waits) is consumed: queued until
 * the ISR has the records, or finished at once (done called) when the
 * append fails.  0 or the append's Kafka error code. */
int16_t store_append(struct coord *c, int32_t opart, const kp_bytes *keys,
		     const kp_bytes *values, int32_t n, struct gwrite *w);
/* The group's metadata record (members and assignments). */
int16_t store_group(struct coord *c, struct group *g, struct gwrite *w);
/* Tombstones for the given offsets and, with with_group, the group
 * record; appended, not waited for (as Kafka).  0, -1 when they could not
 * be encoded, or the append's error. */
int store_tombstones(struct coord *c, struct group *g, struct group_offset **os,
		     int32_t nos, bool with_group);
/* Tombstones for the group and all its offsets. */
void store_group_tombstones(struct coord *c, struct group *g);
/* Finish the writes whose fate is known. */
void store_check_writes(struct coord *c, int64_t now);
void gwrite_free(struct coord *c, struct gwrite *w);
/* A write that references g (until freed). */
struct gwrite *gwrite_new(struct group *g);
void store_load(struct coord *c, int32_t opart, uint32_t lead_gen);
void store_unload(struct coord *c, int32_t opart);
void store_expire_offsets(struct coord *c);
/* The first queued write's timeout (c->writes_due) after writes came or
 * went. */
void store_writes_reschedule(struct coord *c);

#endif /* GROUP_INT_H */
