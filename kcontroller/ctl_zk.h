/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_zk.h - the controller's ZooKeeper reads and writes (what Kafka's
 * KafkaZkClient does for its controller): watched reads, multis fenced by
 * the controller epoch, partition state znodes one at a time or thousands
 * pipelined, topic and broker registrations into the context.
 *
 * Every call blocks, and is made on the event thread only (the results
 * come back on ZooKeeper's own thread).  Watches left by these reads fire
 * on the loop's thread, where they become events (ctl_event.h) and
 * nothing else.
 *
 * Fencing: every write that decides leadership is a multi whose first op
 * checks the data version of /controller_epoch we got when elected.  A
 * failed check means another controller exists: the call returns MOVED
 * and queues a Resign (ctl_ctx_resign_later); a fenced controller writes
 * nothing more.
 */
#ifndef CTL_ZK_H
#define CTL_ZK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_ctx.h"
#include "kp_zk.h"

/* A blocking read, leaving a watch (its event is put on the controller's
 * queue) when watch is true. */
int ctl_zk_read(struct controller *c, enum kp_zk_read what, const char *path,
		bool watch, struct kp_zk_result *res);
/* A multi fenced by /controller_epoch's version: 0, MOVED, or the first
 * failing op's ZooKeeper code (per-op codes in res; free res always). */
int ctl_zk_fenced(struct controller *c, const struct kp_zk_op *ops, int n,
		  struct kp_zk_result *res);

/* "/brokers/topics/<topic>/partitions/<p>/state" */
void ctl_zk_state_path(char *buf, size_t n, const char *topic, int32_t p);
/* Re-read partition p's state znode into the context (0, MOVED, -1). */
int ctl_zk_read_state(struct controller *c, struct c_topic *t, int32_t p);
/* Every partition state of topics[0..n) in one pipelined batch: 0 or
 * MOVED. */
int ctl_zk_read_states(struct controller *c, struct c_topic **topics, int n);
/* The states of partitions ps[i] of ts[i], i < n, in one pipelined
 * batch (an ISR change notification's): 0 or MOVED. */
int ctl_zk_read_some_states(struct controller *c, struct c_topic **ts,
			    const int32_t *ps, int n);
/* Write leader and ISR (leader epoch + 1; 0 for a new znode), fenced and
 * conditional on the znode version: 0, -EAGAIN (the context was re-read:
 * decide again), MOVED, -1. */
int ctl_zk_write_state(struct controller *c, struct c_topic *t, int32_t p,
		       int32_t leader, const int32_t *isr, int32_t nisr);

/*
 * Many state writes at once, decided first (Kafka's batched state
 * changes): fenced multis of up to 100 partitions, each write conditional
 * on its znode's version, all pipelined; a multi that fails is retried
 * partition by partition.  Each write's rc: 0 written (context updated),
 * -EAGAIN its znode changed (context re-read: decide again), -1.
 */
struct ctl_zk_write {
	struct c_topic *t;
	int32_t p;
	int32_t leader;
	int32_t *isr;
	int32_t nisr;
	int rc;
	/* an ISR change a leader asked for (AlterIsr): this leader epoch
	 * kept, conditional on this znode version, not the context's */
	bool isr_only;
	int32_t epoch;
	int32_t version;
};

struct ctl_zk_writes {
	struct ctl_zk_write *w;
	int n, cap;
	int32_t *ids;			/* ISR storage for all of them */
	size_t nids, capids;
};

/* Decide one more write (the ISR is copied).  0 or -1. */
int ctl_zk_writes_add(struct ctl_zk_writes *d, struct c_topic *t, int32_t p,
		      int32_t leader, const int32_t *isr, int32_t nisr);
/* An AlterIsr write: leader, leader epoch and ISR as given, conditional
 * on version (the partition must have a state).  0 or -1. */
int ctl_zk_writes_add_isr(struct ctl_zk_writes *d, struct c_topic *t, int32_t p,
			  int32_t leader, int32_t epoch, int32_t version,
			  const int32_t *isr, int32_t nisr);
/* Write them all: MOVED when fenced, else 0 (see each rc). */
int ctl_zk_writes_run(struct controller *c, struct ctl_zk_writes *d);
void ctl_zk_writes_free(struct ctl_zk_writes *d);

/* Topics: /brokers/topics/<name> (with a data watch) into a new topic
 * of the context's shape (NULL when unreadable).  A znode without a topic
 * id gets one (known: the id we already use for it), as Kafka 2.8's
 * controller gives it: written back fenced. */
struct c_topic *ctl_zk_load_topic(struct controller *c, const char *name,
				  const char *known_id);
/* names[0..n) in one pipelined batch into out[0..n) (NULL where
 * unreadable).  -1 when out of memory. */
int ctl_zk_load_topics(struct controller *c, char **names, int n,
		       struct c_topic **out);
/* Replace partition p's replicas in its topic znode (read fresh, so a
 * topic id or partitions added meanwhile are kept), fenced and
 * conditional on the version read: 0, MOVED or -1. */
int ctl_zk_write_assignment(struct controller *c, struct c_topic *t, int32_t p,
			    const struct kp_replicas *rs,
			    const struct kp_replicas *adding,
			    const struct kp_replicas *removing);
/* Remove a deleted topic: its partition tree, topic znode, config and
 * deletion request in one fenced multi.  0, MOVED or a ZooKeeper code. */
int ctl_zk_delete_topic(struct controller *c, const struct c_topic *t);
/* unclean.leader.election.enable for this topic (its config, else the
 * controller's). */
bool ctl_zk_unclean_allowed(struct controller *c, const char *topic);

/* The current registrations (children watched), sorted by id, channels
 * not opened.  0 or -1. */
int ctl_zk_read_brokers(struct controller *c, struct c_broker **out, int *n);

#endif /* CTL_ZK_H */
