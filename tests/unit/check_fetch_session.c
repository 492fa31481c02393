/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_fetch_session.c - KIP-227 fetch sessions on the broker
 * (fetch_session.c): sessionless and session-opening full fetches,
 * incremental fetches expanded to the session and answers trimmed to what
 * changed (records, high watermark, log start, errors), partitions added,
 * moved and forgotten, the order rotated after records, epochs and unknown
 * ids refused, a session closed by epoch 0 or -1 or by forgetting
 * everything, Kafka's eviction rules when the cache is full, and what a
 * session keeps for the fetch path (partition objects, quiet marks and
 * their snapshots).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "kp_log.h"
#include "kp_errors.h"
#include "fetch_session.h"
#include "kp_codec.h"

#define MAXP 16

/* A request being built: partitions of named topics, one topic entry
 * per partition (as skald's fetcher sends them). */
struct treq {
	struct kp_fetch_req req;
	struct kp_fetch_req_fetch_topic t[MAXP];
	struct kp_fetch_req_fetch_partition p[MAXP];
	struct kp_fetch_req_forgotten_topic ft[MAXP];
	int32_t fp[MAXP];
};

static void treq_init(struct treq *q, int32_t id, int32_t epoch, int32_t replica)
{
	memset(q, 0, sizeof(*q));
	kp_struct_init(&kp_fetch_req_desc, &q->req);
	q->req.session_id = id;
	q->req.session_epoch = epoch;
	q->req.replica_id = replica;
	q->req.topics = q->t;
	q->req.forgotten_topics_data = q->ft;
}

static void treq_add(struct treq *q, const char *topic, int32_t part, int64_t offset)
{
	int n = q->req.topics_count++;

	kp_struct_init(&kp_fetch_req_fetch_partition_desc, &q->p[n]);
	q->p[n].partition = part;
	q->p[n].fetch_offset = offset;
	q->p[n].partition_max_bytes = 1048576;
	q->t[n].topic = kp_str_c(topic);
	q->t[n].partitions = &q->p[n];
	q->t[n].partitions_count = 1;
}

static void treq_forget(struct treq *q, const char *topic, int32_t part)
{
	int n = q->req.forgotten_topics_data_count++;

	q->fp[n] = part;
	q->ft[n].topic = kp_str_c(topic);
	q->ft[n].partitions = &q->fp[n];
	q->ft[n].partitions_count = 1;
}

/* The answer the fetch path would give req: every partition, high
 * watermark hw(partition), no records; the caller adjusts. */
struct tresp {
	struct kp_fetch_resp resp;
	struct kp_fetch_resp_fetchable_topic_response t[MAXP];
	struct kp_fetch_resp_partition_data d[MAXP];
};

static void tresp_for(struct tresp *a, const struct kp_fetch_req *req, int64_t hw)
{
	int n = 0;

	memset(a, 0, sizeof(*a));
	kp_struct_init(&kp_fetch_resp_desc, &a->resp);
	a->resp.responses = a->t;
	for (int32_t i = 0; i < req->topics_count; i++) {
		a->t[i].topic = req->topics[i].topic;
		a->t[i].partitions = &a->d[n];
		for (int32_t j = 0; j < req->topics[i].partitions_count; j++, n++) {
			ck_assert_int_lt(n, MAXP);
			kp_struct_init(&kp_fetch_resp_partition_data_desc, &a->d[n]);
			a->d[n].partition_index = req->topics[i].partitions[j].partition;
			a->d[n].high_watermark = hw;
			a->d[n].last_stable_offset = hw;
			a->d[n].log_start_offset = 0;
		}
		a->t[i].partitions_count = req->topics[i].partitions_count;
	}
	a->resp.responses_count = req->topics_count;
}

/* The partition data for topic/part in an answer, or NULL. */
static struct kp_fetch_resp_partition_data *tresp_find(struct tresp *a, const char *topic,
							int32_t part)
{
	for (int32_t i = 0; i < a->resp.responses_count; i++)
		for (int32_t j = 0; j < a->t[i].partitions_count; j++)
			if ((size_t)a->t[i].topic.len == strlen(topic) &&
			    memcmp(a->t[i].topic.ptr, topic, strlen(topic)) == 0 &&
			    a->t[i].partitions[j].partition_index == part)
				return &a->t[i].partitions[j];
	return NULL;
}

static int32_t count_parts(const struct kp_fetch_req *req)
{
	int32_t n = 0;

	for (int32_t i = 0; i < req->topics_count; i++)
		n += req->topics[i].partitions_count;
	return n;
}

static int32_t count_resp(const struct tresp *a)
{
	int32_t n = 0;

	for (int32_t i = 0; i < a->resp.responses_count; i++)
		n += a->t[i].partitions_count;
	return n;
}

/* Open a session over a/0, a/1, b/0 at offsets 10, 20, 30; its id. */
static int32_t open3(struct fetch_sessions *c, struct kp_arena *ar, int32_t replica,
		     int64_t now)
{
	struct treq q;
	struct tresp a;
	struct fetch_sess_ctx *ctx;

	treq_init(&q, 0, 0, replica);
	treq_add(&q, "a", 0, 10);
	treq_add(&q, "a", 1, 20);
	treq_add(&q, "b", 0, 30);
	ck_assert_int_eq(fetch_session_begin(c, ar, &q.req, now, &ctx), 0);
	ck_assert_ptr_nonnull(ctx);
	ck_assert(ctx->create);
	tresp_for(&a, &q.req, 100);
	fetch_session_finish(c, ctx, &q.req, &a.resp, now);
	ck_assert_int_eq(count_resp(&a), 3);	/* a full answer is whole */
	return a.resp.session_id;
}

START_TEST(sessionless_full_fetch)
{
	struct fetch_sessions *c = fetch_sessions_new(10, FETCH_SESSION_EVICTION_MS);
	struct kp_arena ar;
	struct treq q;
	struct fetch_sess_ctx *ctx = (void *)1;
	int64_t n, parts, ev;

	kp_arena_init(&ar, 4096);
	treq_init(&q, 0, -1, -1);
	treq_add(&q, "a", 0, 1);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 0, &ctx), 0);
	ck_assert_ptr_null(ctx);
	fetch_sessions_stats(c, &n, &parts, &ev);
	ck_assert_int_eq(n, 0);
	kp_arena_free(&ar);
	fetch_sessions_free(c);
}
END_TEST

START_TEST(incremental_expands_and_trims)
{
	struct fetch_sessions *c = fetch_sessions_new(10, FETCH_SESSION_EVICTION_MS);
	struct kp_arena ar;
	struct treq q;
	struct tresp a;
	struct fetch_sess_ctx *ctx;
	int64_t n, parts, ev;
	int32_t id;

	kp_arena_init(&ar, 4096);
	id = open3(c, &ar, 1, 0);
	ck_assert_int_ne(id, 0);
	fetch_sessions_stats(c, &n, &parts, &ev);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(parts, 3);

	/* epoch 1, nothing named: the fetch path sees all three at the
	 * session's positions, and nothing changed: an empty answer */
	treq_init(&q, id, 1, 1);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 1, &ctx), 0);
	ck_assert_ptr_nonnull(ctx);
	ck_assert(ctx->incremental);
	ck_assert_int_eq(count_parts(&q.req), 3);
	ck_assert_int_eq(q.req.topics_count, 2);	/* grouped by topic */
	ck_assert_int_eq(q.req.topics[0].partitions[1].fetch_offset, 20);
	ck_assert_int_eq(q.req.topics[1].partitions[0].fetch_offset, 30);
	tresp_for(&a, &q.req, 100);
	fetch_session_finish(c, ctx, &q.req, &a.resp, 1);
	ck_assert_int_eq(a.resp.session_id, id);
	ck_assert_int_eq(count_resp(&a), 0);

	/* the same epoch again is refused; so is an unknown id */
	treq_init(&q, id, 1, 1);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 2, &ctx),
			 KP_ERR_INVALID_FETCH_SESSION_EPOCH);
	treq_init(&q, id + 1, 2, 1);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 2, &ctx),
			 KP_ERR_FETCH_SESSION_ID_NOT_FOUND);
	/* another replica naming it (beyond Kafka): not its session */
	treq_init(&q, id, 2, 2);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 2, &ctx),
			 KP_ERR_FETCH_SESSION_ID_NOT_FOUND);
	treq_init(&q, id, 0, 2);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 2, &ctx), 0);
	fetch_sessions_stats(c, &n, &parts, &ev);
	ck_assert_int_eq(n, 1);		/* nor may it close it */

	/* epoch 2: a/1 moved to 25 and returns records, b/0's high
	 * watermark moved: those two, not a/0 */
	treq_init(&q, id, 2, 1);
	treq_add(&q, "a", 1, 25);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 3, &ctx), 0);
	ck_assert_int_eq(count_parts(&q.req), 3);
	ck_assert_int_eq(q.req.topics[0].partitions[1].fetch_offset, 25);
	tresp_for(&a, &q.req, 100);
	tresp_find(&a, "a", 1)->records.len = 100;
	tresp_find(&a, "b", 0)->high_watermark = 101;
	fetch_session_finish(c, ctx, &q.req, &a.resp, 3);
	ck_assert_int_eq(count_resp(&a), 2);
	ck_assert_ptr_null(tresp_find(&a, "a", 0));
	ck_assert_ptr_nonnull(tresp_find(&a, "a", 1));
	ck_assert_ptr_nonnull(tresp_find(&a, "b", 0));

	/* epoch 3: a/1 went to the end of the order (it returned records);
	 * an error is always answered, and again once it is gone */
	treq_init(&q, id, 3, 1);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 4, &ctx), 0);
	ck_assert_int_eq(q.req.topics_count, 3);
	ck_assert_int_eq(q.req.topics[2].partitions[0].partition, 1);
	ck_assert_int_eq(q.req.topics[2].topic.len, 1);
	ck_assert_int_eq(q.req.topics[2].topic.ptr[0], 'a');
	tresp_for(&a, &q.req, 100);
	tresp_find(&a, "b", 0)->high_watermark = 101;
	tresp_find(&a, "a", 0)->error_code = KP_ERR_NOT_LEADER_OR_FOLLOWER;
	fetch_session_finish(c, ctx, &q.req, &a.resp, 4);
	ck_assert_int_eq(count_resp(&a), 1);
	ck_assert_ptr_nonnull(tresp_find(&a, "a", 0));

	treq_init(&q, id, 4, 1);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 5, &ctx), 0);
	tresp_for(&a, &q.req, 100);
	tresp_find(&a, "b", 0)->high_watermark = 101;
	fetch_session_finish(c, ctx, &q.req, &a.resp, 5);
	ck_assert_int_eq(count_resp(&a), 1);
	ck_assert_ptr_nonnull(tresp_find(&a, "a", 0));

	/* epoch 5: forget a/0, add c/7 */
	treq_init(&q, id, 5, 1);
	treq_add(&q, "c", 7, 70);
	treq_forget(&q, "a", 0);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 6, &ctx), 0);
	ck_assert_int_eq(count_parts(&q.req), 3);
	tresp_for(&a, &q.req, 100);
	tresp_find(&a, "b", 0)->high_watermark = 101;
	ck_assert_ptr_null(tresp_find(&a, "a", 0));
	fetch_session_finish(c, ctx, &q.req, &a.resp, 6);
	/* the new partition's first answer is news, the others are not */
	ck_assert_int_eq(count_resp(&a), 1);
	ck_assert_ptr_nonnull(tresp_find(&a, "c", 7));
	fetch_sessions_stats(c, &n, &parts, &ev);
	ck_assert_int_eq(parts, 3);

	/* forgetting everything closes it: a sessionless empty fetch */
	treq_init(&q, id, 6, 1);
	treq_forget(&q, "a", 1);
	treq_forget(&q, "b", 0);
	treq_forget(&q, "c", 7);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 7, &ctx), 0);
	ck_assert_ptr_null(ctx);
	fetch_sessions_stats(c, &n, &parts, &ev);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(parts, 0);
	kp_arena_free(&ar);
	fetch_sessions_free(c);
}
END_TEST

/* The position of partition part of topic in an expanded request, -1. */
static int32_t index_of(const struct kp_fetch_req *req, const char *topic, int32_t part)
{
	int32_t k = 0;

	for (int32_t i = 0; i < req->topics_count; i++)
		for (int32_t j = 0; j < req->topics[i].partitions_count; j++, k++)
			if ((size_t)req->topics[i].topic.len == strlen(topic) &&
			    memcmp(req->topics[i].topic.ptr, topic, strlen(topic)) == 0 &&
			    req->topics[i].partitions[j].partition == part)
				return k;
	return -1;
}

/*
 * What the fetch path learns about each partition stays with the session:
 * the object it resolved (handed back, so no look-up by name), and for a
 * partition found quiet (SETTLED) its snapshot, handed back as QUIET.  A
 * SKIPPED partition leaves the answer unseen and stays quiet; one looked
 * at again (its snapshot moved: EVAL) is answered as before and is quiet
 * no more; a partition whose position the fetcher moved is looked at.
 */
START_TEST(quiet_partitions_are_marked_and_skipped)
{
	struct fetch_sessions *c = fetch_sessions_new(10, FETCH_SESSION_EVICTION_MS);
	struct kp_arena ar;
	struct treq q;
	struct tresp a;
	struct fetch_sess_ctx *ctx;
	struct fetch_snap snap = { .log = &snap, .leo = 10, .start = 0, .hw = 10,
				   .lso = 10, .leader_epoch = 3, .zk_version = 4,
				   .leader = true };
	int objs[3];
	int32_t id, k;

	kp_arena_init(&ar, 4096);
	id = open3(c, &ar, 1, 0);

	/* epoch 1: nothing known yet; the fetch path resolves all three
	 * and finds a/0 and b/0 quiet */
	treq_init(&q, id, 1, 1);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 1, &ctx), 0);
	ck_assert_int_eq(ctx->n, 3);
	for (k = 0; k < 3; k++) {
		ck_assert_ptr_null(ctx->objs[k]);
		ck_assert_int_eq(ctx->marks[k], FETCH_EVAL);
		ctx->objs[k] = &objs[k];
	}
	ctx->marks[index_of(&q.req, "a", 0)] = FETCH_SETTLED;
	ctx->snaps[index_of(&q.req, "a", 0)] = snap;
	ctx->marks[index_of(&q.req, "b", 0)] = FETCH_SETTLED;
	ctx->snaps[index_of(&q.req, "b", 0)] = snap;
	tresp_for(&a, &q.req, 100);
	fetch_session_finish(c, ctx, &q.req, &a.resp, 1);
	ck_assert_int_eq(count_resp(&a), 0);

	/* epoch 2: the objects come back, and the quiet ones with their
	 * snapshot; a/0 is skipped (its answer entry is not even read),
	 * b/0's snapshot moved and its high watermark with it: answered */
	treq_init(&q, id, 2, 1);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 2, &ctx), 0);
	for (k = 0; k < 3; k++)
		ck_assert_ptr_eq(ctx->objs[k], &objs[k]);
	k = index_of(&q.req, "a", 0);
	ck_assert_int_eq(ctx->marks[k], FETCH_QUIET);
	ck_assert_int_eq(ctx->snaps[k].zk_version, 4);
	ck_assert_ptr_eq(ctx->snaps[k].log, &snap);
	ck_assert_int_eq(ctx->marks[index_of(&q.req, "a", 1)], FETCH_EVAL);
	ck_assert_int_eq(ctx->marks[index_of(&q.req, "b", 0)], FETCH_QUIET);
	tresp_for(&a, &q.req, 100);
	ctx->marks[k] = FETCH_SKIPPED;
	/* garbage in the skipped entry: never looked at */
	memset(tresp_find(&a, "a", 0), 0xa5, sizeof(a.d[0]));
	ctx->marks[index_of(&q.req, "b", 0)] = FETCH_EVAL;
	tresp_find(&a, "b", 0)->high_watermark = 101;
	fetch_session_finish(c, ctx, &q.req, &a.resp, 2);
	ck_assert_int_eq(count_resp(&a), 1);
	ck_assert_ptr_nonnull(tresp_find(&a, "b", 0));
	ck_assert_int_eq(tresp_find(&a, "b", 0)->high_watermark, 101);

	/* epoch 3: a/0 still quiet, b/0 quiet no more; then the fetcher
	 * moves a/0: looked at again, whatever it was */
	treq_init(&q, id, 3, 1);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 3, &ctx), 0);
	ck_assert_int_eq(ctx->marks[index_of(&q.req, "a", 0)], FETCH_QUIET);
	ck_assert_int_eq(ctx->marks[index_of(&q.req, "b", 0)], FETCH_EVAL);
	tresp_for(&a, &q.req, 100);
	tresp_find(&a, "b", 0)->high_watermark = 101;
	fetch_session_finish(c, ctx, &q.req, &a.resp, 3);
	treq_init(&q, id, 4, 1);
	treq_add(&q, "a", 0, 11);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 4, &ctx), 0);
	ck_assert_int_eq(ctx->marks[index_of(&q.req, "a", 0)], FETCH_EVAL);
	ck_assert_ptr_eq(ctx->objs[index_of(&q.req, "a", 0)], &objs[0]);
	tresp_for(&a, &q.req, 100);
	tresp_find(&a, "b", 0)->high_watermark = 101;
	fetch_session_finish(c, ctx, &q.req, &a.resp, 4);
	kp_arena_free(&ar);
	fetch_sessions_free(c);
}
END_TEST

/*
 * A fetch overtaken by the session's next one (a client sending ahead,
 * which may have moved a position meanwhile) makes nothing quiet; and
 * after the session changed shape under it (partitions added), what it
 * learnt still goes to the right partitions, found by name.
 */
START_TEST(an_overtaken_fetch_marks_nothing_quiet)
{
	struct fetch_sessions *c = fetch_sessions_new(10, FETCH_SESSION_EVICTION_MS);
	struct kp_arena ar;
	struct treq q, q2;
	struct tresp a, a2;
	struct fetch_sess_ctx *ctx, *ctx2;
	struct fetch_snap snap = { .leo = 10, .hw = 10, .lso = 10, .leader = true };
	int obj;
	int32_t id, k;

	kp_arena_init(&ar, 4096);
	id = open3(c, &ar, 1, 0);
	treq_init(&q, id, 1, 1);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 1, &ctx), 0);
	/* epoch 2 begins before epoch 1 is answered, adding c/0 */
	treq_init(&q2, id, 2, 1);
	treq_add(&q2, "c", 0, 5);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q2.req, 2, &ctx2), 0);
	ck_assert_int_eq(ctx2->n, 4);
	k = index_of(&q.req, "b", 0);
	ctx->marks[k] = FETCH_SETTLED;
	ctx->snaps[k] = snap;
	ctx->objs[k] = &obj;
	tresp_for(&a, &q.req, 100);
	fetch_session_finish(c, ctx, &q.req, &a.resp, 2);
	tresp_for(&a2, &q2.req, 100);
	fetch_session_finish(c, ctx2, &q2.req, &a2.resp, 2);
	treq_init(&q, id, 3, 1);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 3, &ctx), 0);
	k = index_of(&q.req, "b", 0);
	ck_assert_int_eq(ctx->marks[k], FETCH_EVAL);
	ck_assert_ptr_eq(ctx->objs[k], &obj);	/* found by name */
	kp_arena_free(&ar);
	fetch_sessions_free(c);
}
END_TEST

START_TEST(full_fetch_closes_the_named_session)
{
	struct fetch_sessions *c = fetch_sessions_new(10, FETCH_SESSION_EVICTION_MS);
	struct kp_arena ar;
	struct treq q;
	struct fetch_sess_ctx *ctx;
	int64_t n, parts, ev;
	int32_t id, id2;

	kp_arena_init(&ar, 4096);
	id = open3(c, &ar, -1, 0);
	/* epoch 0 with the id: closed, a new one opened */
	treq_init(&q, id, 0, -1);
	treq_add(&q, "a", 0, 1);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 1, &ctx), 0);
	ck_assert(ctx->create);
	{
		struct tresp a;

		tresp_for(&a, &q.req, 5);
		fetch_session_finish(c, ctx, &q.req, &a.resp, 1);
		id2 = a.resp.session_id;
	}
	ck_assert_int_ne(id2, 0);
	ck_assert_int_ne(id2, id);
	fetch_sessions_stats(c, &n, &parts, &ev);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(parts, 1);
	ck_assert_int_eq(ev, 0);
	treq_init(&q, id, 1, -1);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 2, &ctx),
			 KP_ERR_FETCH_SESSION_ID_NOT_FOUND);
	/* epoch -1 with the id: closed, no new one */
	treq_init(&q, id2, -1, -1);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 3, &ctx), 0);
	ck_assert_ptr_null(ctx);
	fetch_sessions_stats(c, &n, &parts, &ev);
	ck_assert_int_eq(n, 0);
	kp_arena_free(&ar);
	fetch_sessions_free(c);
}
END_TEST

START_TEST(eviction_as_kafka)
{
	struct fetch_sessions *c = fetch_sessions_new(1, 1000);
	struct kp_arena ar;
	int64_t n, parts, ev;
	int32_t a, b, f, d;

	kp_arena_init(&ar, 4096);
	/* a consumer's session fills the cache */
	a = open3(c, &ar, -1, 0);
	ck_assert_int_ne(a, 0);
	/* another consumer cannot take a fresh session's slot */
	b = open3(c, &ar, -1, 10);
	ck_assert_int_eq(b, 0);
	/* a follower can take a consumer's */
	f = open3(c, &ar, 2, 20);
	ck_assert_int_ne(f, 0);
	fetch_sessions_stats(c, &n, &parts, &ev);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(ev, 1);
	/* nobody takes a fresh follower's */
	ck_assert_int_eq(open3(c, &ar, 3, 30), 0);
	ck_assert_int_eq(open3(c, &ar, -1, 30), 0);
	/* unused past the eviction time: anyone may */
	d = open3(c, &ar, -1, 2000);
	ck_assert_int_ne(d, 0);
	fetch_sessions_stats(c, &n, &parts, &ev);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(ev, 2);
	kp_arena_free(&ar);
	fetch_sessions_free(c);
}
END_TEST

START_TEST(no_slots_no_sessions)
{
	struct fetch_sessions *c = fetch_sessions_new(0, FETCH_SESSION_EVICTION_MS);
	struct kp_arena ar;
	struct treq q;
	struct fetch_sess_ctx *ctx = (void *)1;

	kp_arena_init(&ar, 4096);
	treq_init(&q, 0, 0, 1);
	treq_add(&q, "a", 0, 1);
	ck_assert_int_eq(fetch_session_begin(c, &ar, &q.req, 0, &ctx), 0);
	ck_assert_ptr_null(ctx);
	kp_arena_free(&ar);
	fetch_sessions_free(c);
}
END_TEST

START_TEST(many_partitions)
{
	/* a follower's session of 5,000 partitions over 50 topics, one
	 * moved per fetch: the expansion keeps every position */
	struct fetch_sessions *c = fetch_sessions_new(10, FETCH_SESSION_EVICTION_MS);
	struct kp_arena ar;
	struct kp_fetch_req req;
	struct kp_fetch_req_fetch_topic *t = calloc(50, sizeof(*t));
	struct kp_fetch_req_fetch_partition *p = calloc(5000, sizeof(*p));
	char names[50][8];
	struct fetch_sess_ctx *ctx;
	struct kp_fetch_resp resp;
	int32_t id;

	kp_arena_init(&ar, 0);
	kp_struct_init(&kp_fetch_req_desc, &req);
	req.replica_id = 1;
	req.session_epoch = 0;
	req.topics = t;
	req.topics_count = 50;
	for (int i = 0; i < 50; i++) {
		snprintf(names[i], sizeof(names[i]), "t%d", i);
		t[i].topic = kp_str_c(names[i]);
		t[i].partitions = &p[i * 100];
		t[i].partitions_count = 100;
		for (int j = 0; j < 100; j++) {
			kp_struct_init(&kp_fetch_req_fetch_partition_desc, &p[i * 100 + j]);
			p[i * 100 + j].partition = j;
			p[i * 100 + j].fetch_offset = i * 1000 + j;
		}
	}
	ck_assert_int_eq(fetch_session_begin(c, &ar, &req, 0, &ctx), 0);
	kp_struct_init(&kp_fetch_resp_desc, &resp);
	resp.responses_count = 0;
	fetch_session_finish(c, ctx, &req, &resp, 0);
	id = resp.session_id;
	ck_assert_int_ne(id, 0);
	for (int32_t e = 1; e <= 20; e++) {
		struct kp_fetch_req_fetch_topic one;
		struct kp_fetch_req_fetch_partition op;

		kp_struct_init(&kp_fetch_req_desc, &req);
		req.replica_id = 1;
		req.session_id = id;
		req.session_epoch = e;
		kp_struct_init(&kp_fetch_req_fetch_partition_desc, &op);
		op.partition = e;
		op.fetch_offset = 99999;
		one.topic = kp_str_c(names[e]);
		one.partitions = &op;
		one.partitions_count = 1;
		req.topics = &one;
		req.topics_count = 1;
		ck_assert_int_eq(fetch_session_begin(c, &ar, &req, e, &ctx), 0);
		ck_assert_int_eq(count_parts(&req), 5000);
		ck_assert_int_eq(req.topics_count, 50);
		for (int32_t i = 0; i < req.topics_count; i++)
			for (int32_t j = 0; j < req.topics[i].partitions_count; j++) {
				const struct kp_fetch_req_fetch_partition *x =
					&req.topics[i].partitions[j];
				int ti = atoi(req.topics[i].topic.ptr + 1);

				if (ti >= 1 && ti <= e && x->partition == ti)
					ck_assert_int_eq(x->fetch_offset, 99999);
				else
					ck_assert_int_eq(x->fetch_offset,
							 ti * 1000 + x->partition);
			}
		kp_struct_init(&kp_fetch_resp_desc, &resp);
		fetch_session_finish(c, ctx, &req, &resp, e);
		kp_arena_reset(&ar);
	}
	kp_arena_free(&ar);
	fetch_sessions_free(c);
	free(t);
	free(p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fetch_session");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, sessionless_full_fetch);
	tcase_add_test(tc, incremental_expands_and_trims);
	tcase_add_test(tc, full_fetch_closes_the_named_session);
	tcase_add_test(tc, eviction_as_kafka);
	tcase_add_test(tc, no_slots_no_sessions);
	tcase_add_test(tc, many_partitions);
	tcase_add_test(tc, quiet_partitions_are_marked_and_skipped);
	tcase_add_test(tc, an_overtaken_fetch_marks_nothing_quiet);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
