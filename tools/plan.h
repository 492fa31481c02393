/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan.h - Kafka's JSON files for the partition tools and the arithmetic
 * of a reassignment's throttles, without any network code (unit-tested
 * in tests/unit/check_plan.c).
 *
 *  - a reassignment plan (kreassign-partitions --reassignment-json-file):
 *    {"version":1,"partitions":[{"topic":"t","partition":0,
 *     "replicas":[1,2],"log_dirs":["any","/data/b"]}]}; "version"
 *    defaults to 1 (the only one), "log_dirs" is optional and its length
 *    must equal the replicas' (an absolute path: the broker's log dir the
 *    replica must move to, AlterReplicaLogDirs; "any": where it is);
 *  - the topics to move (--topics-to-move-json-file):
 *    {"version":1,"topics":[{"topic":"t"}]};
 *  - the partitions of a leader election (kleader-election
 *    --path-to-json-file): {"partitions":[{"topic":"t","partition":0}]}.
 *
 * Parsers check every value's type and range (partitions and broker ids
 * 0..INT32_MAX) and return -1 with Kafka's message where Kafka has one.
 * Everything they return lives in the caller's arena.
 *
 * The move map is Kafka 2.8's (ReassignPartitionsCommand): per partition
 * the brokers that hold its data now (sources) and the brokers that must
 * copy it (destinations).  Reassignments already in progress are entered
 * first (sources = replicas - adding, destinations = adding); a proposed
 * one keeps the sources of an ongoing move of the same partition, or else
 * takes the current replicas, and its destinations are the target
 * replicas that are not sources.  The topic throttles follow from it:
 * leader.replication.throttled.replicas lists every source "p:b",
 * follower.replication.throttled.replicas every destination, each sorted
 * as strings and comma-joined as Kafka does; the broker throttle goes on
 * every source and destination broker.
 */
#ifndef PLAN_H
#define PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"

/* A partition of a plan or a list (replicas NULL where none apply). */
struct plan_part {
	const char *topic;
	int32_t partition;
	int32_t *replicas;
	int nreplicas;
	bool log_dir_moves;	/* some log_dirs entry is not "any" */
	/* per replica: the log dir it must live in, NULL for "any" (NULL
	 * when the plan has no "log_dirs") */
	const char **log_dirs;
};

struct plan {
	struct plan_part *parts;
	int nparts;
};

/*
 * A reassignment plan.  Returns 0, or -1 with a message in err.  Only the
 * format is checked here; plan_check() applies --execute's rules.
 */
int plan_parse_reassignment(struct kp_arena *a, const char *text, size_t len,
			    struct plan *plan, char *err, size_t errlen);
/*
 * --execute's rules, with Kafka's messages: a non-empty list, no empty
 * replica list, no partition twice, no broker twice in a partition.
 */
int plan_check(const struct plan *plan, char *err, size_t errlen);
/* The topics of a topics-to-move file (NULL-terminated), duplicates refused. */
int plan_parse_topics(struct kp_arena *a, const char *text, size_t len,
		      const char ***topics, int *ntopics, char *err,
		      size_t errlen);
/* The partitions of an election file (no replicas), duplicates refused. */
int plan_parse_election(struct kp_arena *a, const char *text, size_t len,
			struct plan *plan, char *err, size_t errlen);

/* Sort by topic, then partition (Kafka's order in every printed list). */
void plan_sort(struct plan *plan);
/* A topic of a sorted plan and its run of partitions there. */
struct plan_topic {
	const char *topic;
	const struct plan_part *parts;	/* into the plan */
	int32_t *partitions;		/* the parts' partition numbers */
	int nparts;
};
/*
 * The topics of a sorted plan in order, each with its partitions, as the
 * partition APIs' requests group them (arena memory; NULL when out of
 * memory).
 */
struct plan_topic *plan_by_topic(struct kp_arena *a, const struct plan *plan,
				 int *ntopics);
/* The plan as Kafka writes it: version 1, "any" log dirs, sorted. */
json_t *plan_to_json(const struct plan *plan);
/* plan_to_json() as one compact line (malloc'ed), as Kafka prints it. */
char *plan_to_text(const struct plan *plan);

/* The partition's state that --verify reports. */
enum plan_state {
	PLAN_COMPLETE,		/* no reassignment, replicas = target */
	PLAN_IN_PROGRESS,	/* a reassignment is going on */
	PLAN_MISMATCH,		/* none going on, but replicas != target */
};
/*
 * Kafka's rule: in progress while ListPartitionReassignments lists the
 * partition; otherwise complete exactly when the current replica list
 * (Metadata's, in order; none for an unknown partition) is the target.
 */
enum plan_state plan_state(const int32_t *target, int ntarget, bool ongoing,
			   const int32_t *current, int ncurrent);

/* ------------------------------------------------------------ move map */

struct plan_move {
	char *topic;
	int32_t partition;
	int32_t *sources;	/* a set, in the order entered */
	int nsources;
	int32_t *dests;
	int ndests;
};

struct plan_moves {
	struct plan_move *v;
	int n, cap;
};

void plan_moves_init(struct plan_moves *m);
void plan_moves_free(struct plan_moves *m);
/* A reassignment in progress, as ListPartitionReassignments lists it. */
int plan_moves_ongoing(struct plan_moves *m, const char *topic,
		       int32_t partition, const int32_t *replicas, int nreplicas,
		       const int32_t *adding, int nadding);
/* A proposed reassignment of a partition whose replicas are now current. */
int plan_moves_propose(struct plan_moves *m, const char *topic,
		       int32_t partition, const int32_t *target, int ntarget,
		       const int32_t *current, int ncurrent);
/*
 * The value of leader.replication.throttled.replicas (leader true) or
 * follower.replication.throttled.replicas for a topic: "p:b,...", sorted
 * as strings; "" when the topic has none.  malloc'ed; NULL when out of
 * memory.
 */
char *plan_moves_throttle(const struct plan_moves *m, const char *topic,
			  bool leader);
/* The distinct topics of the map, sorted (malloc'ed array of borrowed names). */
int plan_moves_topics(const struct plan_moves *m, const char ***out);
/* Every source and destination broker, distinct, ascending (malloc'ed). */
int plan_moves_brokers(const struct plan_moves *m, int32_t **out);

#endif /* PLAN_H */
