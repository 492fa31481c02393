/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metadata_cache.h - what a broker knows about the cluster: live brokers
 * and, per partition, leader, leader epoch, replicas, ISR and offline
 * replicas.  Fed by the controller's UpdateMetadata; read by Metadata and
 * every request that needs a partition's leader.
 *
 * Readers take a snapshot: the cache holds an immutable, reference-counted
 * view that an UpdateMetadata replaces as a whole, so a Metadata request
 * never sees half an update and never blocks the writer for long.
 */
#ifndef METADATA_CACHE_H
#define METADATA_CACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kp_buf.h"
#include "purgatory.h"

/* One of a broker's listeners, as UpdateMetadata names it. */
struct md_endpoint {
	char *listener;		/* upper case */
	char *host;
	int32_t port;
};

struct md_broker {
	int32_t id;
	struct md_endpoint *eps;
	int32_t neps;
	char *rack;		/* NULL when unset */
};

struct md_partition {
	int32_t partition;
	int32_t leader;		/* -1 when offline */
	int32_t leader_epoch;
	int32_t *replicas;
	int32_t nreplicas;
	int32_t *isr;
	int32_t nisr;
	int32_t *offline;
	int32_t noffline;
};

struct md_topic {
	char *name;
	kp_uuid topic_id;		/* all zero when the controller sent none */
	struct md_partition *parts;	/* sorted by partition */
	int32_t nparts;
};

struct md_view {
	atomic_int refs;
	int32_t controller_id;		/* -1 unknown */
	int32_t controller_epoch;
	struct md_broker *brokers;	/* sorted by id */
	int32_t nbrokers;
	struct md_topic *topics;	/* sorted by name */
	int32_t ntopics;
};

struct metadata_cache {
	pthread_mutex_t lock;		/* guards view (the pointer) */
	struct md_view *view;
	/* notified once a new view is in: what admin requests waiting for
	 * the controller's metadata watch */
	struct purgatory_key changed;
};

void metadata_cache_init(struct metadata_cache *mc);
void metadata_cache_destroy(struct metadata_cache *mc);
/* A referenced snapshot; release with md_view_unref(). */
struct md_view *metadata_cache_get(struct metadata_cache *mc);
/* Replace the view (takes ownership of v, refs 1). */
void metadata_cache_set(struct metadata_cache *mc, struct md_view *v);

struct md_view *md_view_new(void);
void md_view_unref(struct md_view *v);
/* Sort brokers and topics so the lookups below can binary-search. */
void md_view_seal(struct md_view *v);
const struct md_topic *md_view_topic(const struct md_view *v, const char *name,
				     size_t len);
/* The topic with this id (linear: admin requests only); NULL if none. */
const struct md_topic *md_view_topic_by_id(const struct md_view *v,
					   const kp_uuid *id);
const struct md_broker *md_view_broker(const struct md_view *v, int32_t id);
/* A live broker's endpoint on a listener; NULL when it has none there. */
const struct md_endpoint *md_broker_endpoint(const struct md_broker *mb,
					     const char *listener);
/* md_view_broker, when the broker also has that listener. */
const struct md_endpoint *md_view_endpoint(const struct md_view *v, int32_t id,
					   const char *listener);
const struct md_partition *md_topic_partition(const struct md_topic *t,
					      int32_t p);

#endif /* METADATA_CACHE_H */
