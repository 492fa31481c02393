/*
 * ctl_int.h - what controller.c shares with the controller's other state
 * machines (election.c: preferred and unclean elections, the
 * preferred-replica znode and auto rebalance; reassign.c: partition
 * reassignment).  All of it runs on the controller's event thread.
 */
#ifndef CTL_INT_H
#define CTL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "controller.h"
#include "kp_zk.h"

#define LEADER_DURING_DELETE (-2)
#define EPOCH_DURING_DELETE (-2)
#define MOVED (-1000)		/* the epoch check failed: a Resign is queued */

/* In charge: elected, and not fenced since. */
static inline bool ctl_active(const struct controller *c)
{
	return c->role == CTL_ACTIVE;
}
/*
 * Another controller took over (a fenced write failed, a state znode has
 * a newer epoch): stop acting now, and queue a Resign event, which drops
 * the context once the current event is done.
 */
void ctl_resign_later(struct controller *c);


struct c_broker *ctl_broker_find(struct controller *c, int32_t id);
/* Registered in /brokers/ids. */
bool ctl_live(struct controller *c, int32_t id);
/* Live and not in a controlled shutdown: may lead or join an ISR. */
bool ctl_eligible(struct controller *c, int32_t id);
bool ctl_in_list(const struct kp_replicas *l, int32_t id);
struct c_topic *ctl_topic_find(struct controller *c, const char *name);
void ctl_replicas_set(struct kp_replicas *dst, const int32_t *ids, int32_t n);

/* A blocking read, leaving a watch that the controller's watcher
 * dispatches when watch is true. */
int ctl_zk_read(struct controller *c, enum kp_zk_read what, const char *path,
		bool watch, struct kp_zk_result *res);
/* A multi fenced by /controller_epoch's version: 0, MOVED, or the first
 * failing op's ZooKeeper code. */
int ctl_fenced(struct controller *c, const struct kp_zk_op *ops, int n,
	       struct kp_zk_result *res);
/* Re-read partition p's state znode into the context (0, MOVED, -1). */
int ctl_read_state(struct controller *c, struct c_topic *t, int32_t p);
/* Write leader and ISR (leader epoch + 1), fenced and conditional on the
 * znode version: 0, -EAGAIN (context re-read: decide again), MOVED, -1. */
int ctl_write_state(struct controller *c, struct c_topic *t, int32_t p,
		    int32_t leader, const int32_t *isr, int32_t nisr);

/*
 * Many state writes at once: fenced multis of up to 100 partitions, each
 * write conditional on its znode's version, all pipelined (a multi that
 * fails is retried partition by partition).  rc per item: 0 written (context
 * updated), -EAGAIN conflict (context re-read: decide again), -1.
 * Returns MOVED when fenced (we resigned), else 0.
 */
struct state_write {
	struct c_topic *t;
	int32_t p;
	int32_t leader;
	int32_t *isr;
	int32_t nisr;
	int rc;
};
int ctl_write_states(struct controller *c, struct state_write *w, int n);

/* The current request batch (Kafka's ControllerBrokerRequestBatch). */
void ctl_batch_um(struct controller *c, struct c_topic *t, int32_t p);
void ctl_batch_lai(struct controller *c, int32_t broker, struct c_topic *t,
		   int32_t p, bool is_new);
void ctl_batch_lai_replicas(struct controller *c, struct c_topic *t, int32_t p,
			    bool is_new);
/* StopReplica with deletion; leader_epoch EPOCH_DURING_DELETE while the
 * topic is deleted, the partition's epoch for a replica reassigned away. */
void ctl_batch_stop(struct controller *c, int32_t broker, struct c_topic *t,
		    int32_t p, int32_t leader_epoch);
void ctl_batch_flush(struct controller *c);

/* election.c */
/* Preferred election of one partition: 0 (elected), ELECTION_NOT_NEEDED,
 * PREFERRED_LEADER_NOT_AVAILABLE, NOT_CONTROLLER (we resigned), ... */
int16_t ctl_elect_preferred(struct controller *c, struct c_topic *t, int32_t p,
			    const char **why);
/* /admin/preferred_replica_election changed (or at activation). */
void ctl_preferred_znode(struct controller *c);
/* (Re)schedule or drop the auto rebalance event. */
void ctl_rebalance_schedule(struct controller *c);
/* One auto rebalance round (the scheduled event's work); schedules the
 * next. */
void ctl_rebalance_run(struct controller *c);
/* ElectLeaders refused as a whole (not the controller, a bad election
 * type): err in resp and, for listed partitions, in each of them (v0 has
 * no top-level code).  Touches nothing but req, resp and a. */
void ctl_elect_leaders_refuse(int16_t version, const struct kp_elect_leaders_req *req,
			      struct kp_elect_leaders_resp *resp, struct kp_arena *a,
			      int16_t err);

/* reassign.c */
/* Load the reassignment state of a topic from its znode's adding/removing
 * lists (at activation and topic load). */
void ctl_reassign_load(struct c_topic *t, const struct kp_zk_topic *zt);
/* The ISR of p changed (or its broker set did): finish its reassignment
 * when every target replica is in sync. */
void ctl_reassign_check(struct controller *c, struct c_topic *t, int32_t p);
/* Resume every reassignment in the context (activation). */
void ctl_reassign_resume(struct controller *c);
/* /admin/reassign_partitions changed (or at activation). */
void ctl_reassign_znode(struct controller *c);
/* Reassignment in progress on p. */
bool ctl_reassigning(const struct c_part *cp);

#endif /* CTL_INT_H */
