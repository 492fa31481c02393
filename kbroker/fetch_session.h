/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch_session.h - KIP-227 incremental fetch sessions, the broker's side.
 *
 * A fetcher (a follower, or a consumer that opens sessions, as Kafka's
 * Java consumer does) sends one full Fetch with session epoch 0; the
 * broker keeps its partitions and fetch positions in a session and
 * answers with the session's id.  Later fetches (epochs 1, 2, ...) name
 * only the partitions whose position changed, and forget those no longer
 * wanted; the answer holds only the partitions with something new for
 * the fetcher: records, a changed high watermark, last stable offset or
 * log start offset, an error, a divergence or a preferred read replica.
 * An idle follower of 10,000 partitions then sends and receives a few
 * bytes per fetch instead of every partition each time.
 *
 * As Kafka's FetchManager and FetchSessionCache: session epoch -1 is a
 * full fetch without a session (it closes the named one); epoch 0 closes
 * the named session and opens a new one; an unknown session is
 * FETCH_SESSION_ID_NOT_FOUND and a wrong epoch INVALID_FETCH_SESSION_EPOCH
 * (top-level errors).  The cache holds max.incremental.fetch.session.
 * cache.slots sessions; a new one may evict a session unused for two
 * minutes, else the least valuable one it outranks: followers' sessions
 * outrank consumers', larger ones smaller, and only sessions older than
 * two minutes (or a consumer's, for a follower) may be taken.  Without a
 * free slot the answer carries session id 0 and the fetcher goes on with
 * full fetches.
 *
 * Beyond Kafka, a session answers only the replica id that opened it
 * (consumers are -1): a follower must never have its state moved by
 * positions another fetcher cached.  Session ids come from getrandom().
 *
 * One mutex guards the cache; it is taken twice per session fetch (once
 * to expand the request, once to trim the answer), never while reading a
 * log.
 */
#ifndef FETCH_SESSION_H
#define FETCH_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_errors.h"
#include "kp_msgs.h"

/* Kafka's FetchManager: sessions unused this long may always be evicted. */
#define FETCH_SESSION_EVICTION_MS 120000

struct fetch_sessions;

/*
 * Everything a partition's answer depends on besides the fetcher's
 * position (api_fetch.c fills it): two equal snapshots give the same
 * answer to a fetcher at the same position.
 */
struct fetch_snap {
	const void *log;	/* the partition's log (NULL: none) */
	int64_t leo, start, hw, lso;
	int32_t leader_epoch, zk_version;
	bool leader, offline;
};

/*
 * Each partition of an expanded request (struct fetch_sess_ctx's marks):
 * QUIET when its last answer said nothing and needed nothing more (no
 * records, no error, nothing to read at the fetcher's position, the
 * follower in sync): api_fetch.c leaves it out while the partition's
 * snapshot still equals the one kept with it (SKIPPED).  EVAL: looked at
 * in full, SETTLED: looked at and found quiet (snap[] is its snapshot).
 */
enum fetch_mark { FETCH_EVAL, FETCH_QUIET, FETCH_SKIPPED, FETCH_SETTLED };

/* What fetch_session_begin() decided for one request (in its arena). */
struct fetch_sess_ctx {
	int32_t id;		/* the session, or 0 */
	bool create;		/* a full fetch opening a session */
	bool incremental;	/* the request was expanded to the session */
	bool privileged;	/* a follower's */
	/* incremental: one of each per partition of the expanded request,
	 * in its order */
	int32_t n;
	uint64_t shape;		/* the session's shape when expanded */
	int32_t epoch;		/* the session's epoch this fetch moved it to */
	void **objs;		/* the hosted partition cached, or NULL */
	uint8_t *marks;		/* enum fetch_mark */
	struct fetch_snap *snaps;
};

struct fetch_sessions *fetch_sessions_new(int32_t max_slots, int64_t eviction_ms);
void fetch_sessions_free(struct fetch_sessions *c);

/*
 * The session context of a Fetch v7+ (req->session_id, session_epoch,
 * topics, forgotten_topics_data).  Returns 0 with *ctx set (NULL: a
 * sessionless full fetch), or the top-level error to answer.  For an
 * incremental fetch, req->topics becomes the session's whole partition
 * list with the positions it holds, in arena memory: the rest of the
 * fetch path reads every partition of the session as for a full fetch.
 * req must not be decoded again afterwards.
 */
kp_err_t fetch_session_begin(struct fetch_sessions *c, struct kp_arena *arena,
			     struct kp_fetch_req *req, int64_t now_ms,
			     struct fetch_sess_ctx **ctx);

/*
 * Before the answer to a fetch that fetch_session_begin() gave ctx goes
 * out: a full fetch opening a session creates it from req and resp (its
 * id in resp->session_id, 0 without a free slot); an incremental one
 * drops from resp the partitions with nothing new for the fetcher and
 * keeps what the others said, and the partition objects found (ctx->objs,
 * non-NULL ones: the caller guarantees such an object lives as long as
 * the process and a name always resolves to the same one, so later
 * fetches need not look it up again); those marked SKIPPED go without a look,
 * those SETTLED are QUIET with their snapshot in the next fetch, any
 * other is looked at in full again.  A NULL ctx leaves resp alone.
 */
void fetch_session_finish(struct fetch_sessions *c, const struct fetch_sess_ctx *ctx,
			  const struct kp_fetch_req *req, struct kp_fetch_resp *resp,
			  int64_t now_ms);

/* For the metrics: sessions, partitions they hold, evictions so far. */
void fetch_sessions_stats(struct fetch_sessions *c, int64_t *sessions,
			  int64_t *partitions, int64_t *evictions);

#endif /* FETCH_SESSION_H */
