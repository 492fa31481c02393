/* SPDX-License-Identifier: Apache-2.0 */
/*
 * txn_coord.c - the transaction coordinator (see txn_coord.h): the
 * transactional ids' metadata and its transitions, their appends to
 * __transaction_state and the wait for the ISR, the transaction markers,
 * timeouts, expiry, loads.
 *
 * Transitions follow Kafka 2.8's TransactionCoordinator and
 * TransactionMetadata: a request computes the next metadata (the
 * "transit") and marks the id pending; the transit is appended and, once
 * the high watermark passes it, becomes the id's metadata and the request
 * is answered.  A request finding a transition pending gets
 * CONCURRENT_TRANSACTIONS, as in Kafka.
 */
#include "txn_coord.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "kp_client.h"
#include "kp_groupmeta.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_msgs.h"
#include "kp_records.h"
#include "kp_zkdata.h"
#include "log.h"
#include "metadata_cache.h"
#include "partition.h"
#include "producer_id.h"
#include "purgatory.h"
#include "replica.h"
#include "txn_log.h"
#include "zk_admin.h"
#include "zk_thread.h"

#define NBUCKETS 1024
#define MARKER_RETRY_MS 100
#define WRITE_CHECK_MS 500
#define MAX_DECOMPRESSED (64u << 20)
#define EPOCH_EXHAUSTED(e) ((e) >= INT16_MAX - 1)

enum part_state { PART_NONE, PART_LOADING, PART_LOADED };

struct txn_tp {
	char *topic;
	int32_t partition;
};

/* The metadata an id has, or will have once its append is acknowledged. */
struct txn_data {
	int64_t pid, last_pid;
	int16_t epoch, last_epoch;
	int32_t timeout_ms;
	int state;
	int64_t start_ts, update_ts;
	struct txn_tp *tps;
	int32_t ntps;
};

struct txn_meta {
	struct txn_meta *next;		/* hash chain */
	char *id;
	int32_t tpart;
	struct txn_data d;
	bool pending;			/* a transition is being written */
	int pending_state;		/* its state (PrepareEpochFence unwritten) */
	bool failed_fence;		/* Kafka's hasFailedEpochFence */
	/* markers of a prepared transaction: done per partition of d.tps */
	bool *marked;
	int32_t inflight;		/* marker requests out */
	int32_t marker_epoch;		/* the coordinator epoch they carry */
	bool completing;		/* markers done, Complete* being written */
	int nref;			/* writes and marker requests holding it */
	bool unlinked;			/* no longer in the table: freed at nref 0 */
};

struct txn_write;
typedef void (*write_done_fn)(struct txn_coord *c, struct txn_meta *m,
			      struct txn_write *w, kp_err_t err);

struct txn_write {
	struct txn_write *next;
	uint32_t lead_gen;
	int64_t required, deadline;
	struct txn_meta *m;
	struct txn_data tr;		/* the transit (tps owned) */
	bool tombstone;
	write_done_fn done;
	txn_reply_fn reply;
	void *reply_arg;
	kp_err_t reply_err;		/* what to answer on success */
};

struct txn_part {
	enum part_state state;
	uint32_t lead_gen;
	int32_t coord_epoch;		/* the partition's leader epoch */
	struct partition *p;
	struct txn_write *writes, **tail;
};

struct txn_dest {
	int32_t broker;
	struct kp_conn *conn;
};

struct txn_coord {
	pthread_mutex_t lock;
	struct broker *b;
	struct kp_loop *loop;
	pthread_t thread;
	bool running;
	atomic_bool check_posted;
	struct txn_meta *buckets[NBUCKETS];
	struct txn_part *parts;
	int32_t nparts;
	struct txn_dest *dests;
	int32_t ndests;
	struct kp_client_opts opts;
	char client_id[64];
	struct kp_timer marker_timer, write_timer, abort_timer, expire_timer;
	/* settings */
	int32_t num_partitions, rf, min_isr, segment_bytes, load_buffer;
	int32_t max_timeout_ms, abort_interval_ms, remove_interval_ms;
	int64_t id_expiration_ms;
	int32_t timeout_ms;		/* request.timeout for our appends */
};

static void send_markers(struct txn_coord *c, struct txn_meta *m);
static void complete_after_markers(struct txn_coord *c, struct txn_meta *m);

/* ------------------------------------------------------------ helpers */

static void kick_posted(void *arg)
{
	struct txn_coord *c = arg;

	kp_timer_start(c->loop, &c->marker_timer, MARKER_RETRY_MS);
}

/* The marker round again soon, from any thread. */
static void kick_markers(struct txn_coord *c)
{
	if (pthread_equal(pthread_self(), c->thread))
		kp_timer_start(c->loop, &c->marker_timer, MARKER_RETRY_MS);
	else
		kp_loop_post(c->loop, kick_posted, c);
}

static uint32_t hash_id(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static struct txn_meta *find(struct txn_coord *c, kp_str id)
{
	size_t len = id.len > 0 ? (size_t)id.len : 0;

	for (struct txn_meta *m = c->buckets[hash_id(id.ptr, len) % NBUCKETS]; m; m = m->next)
		if (strlen(m->id) == len && memcmp(m->id, id.ptr, len) == 0)
			return m;
	return NULL;
}

static void tps_free(struct txn_tp *tps, int32_t n)
{
	for (int32_t i = 0; i < n; i++)
		free(tps[i].topic);
	free(tps);
}

static int tps_copy(const struct txn_tp *src, int32_t n, struct txn_tp **out)
{
	struct txn_tp *t = calloc((size_t)n + 1, sizeof(*t));

	if (t == NULL)
		return -1;
	for (int32_t i = 0; i < n; i++) {
		t[i].topic = strdup(src[i].topic);
		t[i].partition = src[i].partition;
		if (t[i].topic == NULL) {
			tps_free(t, i);
			return -1;
		}
	}
	*out = t;
	return 0;
}

static bool tps_has(const struct txn_tp *tps, int32_t n, kp_str topic, int32_t part)
{
	for (int32_t i = 0; i < n; i++)
		if (tps[i].partition == part && (int32_t)strlen(tps[i].topic) == topic.len &&
		    memcmp(tps[i].topic, topic.ptr, (size_t)topic.len) == 0)
			return true;
	return false;
}

static void meta_unref(struct txn_meta *m)
{
	if (--m->nref > 0 || !m->unlinked)
		return;
	tps_free(m->d.tps, m->d.ntps);
	free(m->marked);
	free(m->id);
	free(m);
}

static void unlink_meta(struct txn_coord *c, struct txn_meta *m)
{
	struct txn_meta **pp = &c->buckets[hash_id(m->id, strlen(m->id)) % NBUCKETS];

	while (*pp != NULL && *pp != m)
		pp = &(*pp)->next;
	if (*pp == m)
		*pp = m->next;
	m->unlinked = true;
	m->nref++;
	meta_unref(m);
}

static struct txn_meta *meta_new(struct txn_coord *c, kp_str id, int32_t tpart)
{
	struct txn_meta *m = calloc(1, sizeof(*m));
	uint32_t h;

	if (m == NULL || (m->id = strndup(id.ptr, (size_t)id.len)) == NULL) {
		free(m);
		return NULL;
	}
	m->tpart = tpart;
	m->d.pid = m->d.last_pid = -1;
	m->d.epoch = m->d.last_epoch = -1;
	m->d.state = TXN_EMPTY;
	m->d.start_ts = -1;
	h = hash_id(m->id, strlen(m->id)) % NBUCKETS;
	m->next = c->buckets[h];
	c->buckets[h] = m;
	return m;
}

static int32_t txn_nparts(struct txn_coord *c)
{
	struct md_view *v = metadata_cache_get(&c->b->meta);
	const struct md_topic *t = md_view_topic(v, KP_TXN_STATE_TOPIC,
						 strlen(KP_TXN_STATE_TOPIC));
	int32_t n = t != NULL && t->nparts > 0 ? t->nparts : c->num_partitions;

	md_view_unref(v);
	return n;
}

/* Is the id ours: 0, NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS. */
static kp_err_t owner(struct txn_coord *c, kp_str id, int32_t *tpart)
{
	*tpart = kp_group_partition(id.ptr, id.len > 0 ? (size_t)id.len : 0, txn_nparts(c));
	if (*tpart >= c->nparts || c->parts[*tpart].state == PART_NONE)
		return KP_ERR_NOT_COORDINATOR;
	if (c->parts[*tpart].state == PART_LOADING)
		return KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	return 0;
}

/* ------------------------------------------------------------ appends */

static void write_free(struct txn_write *w)
{
	tps_free(w->tr.tps, w->tr.ntps);
	meta_unref(w->m);
	free(w);
}

/* A write's fate is known (lock held): the transit applied on success,
 * then its continuation.  Replies are collected by the caller. */
static void write_finish(struct txn_coord *c, struct txn_write *w, kp_err_t err)
{
	struct txn_meta *m = w->m;

	if (!m->unlinked) {
		m->pending = false;
		if (err == 0 && !w->tombstone) {
			tps_free(m->d.tps, m->d.ntps);
			m->d = w->tr;
			w->tr.tps = NULL;
			w->tr.ntps = 0;
			KP_DEBUG("transaction %s: %s (producer %" PRId64 " epoch %d)",
				 m->id, txn_state_name(m->d.state), m->d.pid, m->d.epoch);
		}
	}
	if (w->done != NULL)
		w->done(c, m, w, err);
	else if (w->reply != NULL)
		w->reply(w->reply_arg, err != 0 ? err : w->reply_err, m->d.pid, m->d.epoch);
	write_free(w);
}

/* Kafka's translation of a failed append to __transaction_state. */
static kp_err_t append_error(kp_err_t err)
{
	switch (err) {
	case KP_ERR_UNKNOWN_TOPIC_OR_PARTITION:
	case KP_ERR_NOT_ENOUGH_REPLICAS:
	case KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
	case KP_ERR_REQUEST_TIMED_OUT:
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	case KP_ERR_NOT_LEADER_OR_FOLLOWER:
	case KP_ERR_KAFKA_STORAGE_ERROR:
		return KP_ERR_NOT_COORDINATOR;
	case KP_ERR_MESSAGE_TOO_LARGE:
	case KP_ERR_RECORD_LIST_TOO_LARGE:
	default:
		return err == 0 ? 0 : KP_ERR_UNKNOWN_SERVER_ERROR;
	}
}

/*
 * Append w's transit (or tombstone) for w->m and queue w until the ISR
 * has it; on failure w is finished at once.  Lock held.
 */
static void append(struct txn_coord *c, struct txn_write *w)
{
	struct broker *b = c->b;
	struct txn_meta *m = w->m;
	struct txn_part *tp = m->tpart < c->nparts ? &c->parts[m->tpart] : NULL;
	struct partition *p = tp != NULL ? tp->p : NULL;
	struct kp_wbuf kw, vw, wb;
	struct kp_record_in rec;
	struct kp_batch_params bp;
	struct log_append_info ai;
	kp_err_t err = 0;

	kp_wbuf_init(&kw);
	kp_wbuf_init(&vw);
	kp_wbuf_init(&wb);
	m->pending = true;
	if (p == NULL || tp->state != PART_LOADED) {
		err = KP_ERR_NOT_LEADER_OR_FOLLOWER;
		goto out;
	}
	txn_log_key_encode(&kw, kp_str_c(m->id));
	if (!w->tombstone) {
		struct txn_log_value v = {
			.producer_id = w->tr.pid, .producer_epoch = w->tr.epoch,
			.timeout_ms = w->tr.timeout_ms, .state = (int8_t)w->tr.state,
			.update_ts = w->tr.update_ts, .start_ts = w->tr.start_ts,
		};
		struct txn_log_topic *ts = calloc((size_t)w->tr.ntps + 1, sizeof(*ts));
		int32_t *ps = calloc((size_t)w->tr.ntps + 1, sizeof(*ps));

		if (ts == NULL || ps == NULL) {
			free(ts);
			free(ps);
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
			goto out;
		}
		/* grouped by topic; Empty has a null array, as Kafka writes it */
		for (int32_t i = 0; i < w->tr.ntps; i++) {
			int32_t k;

			for (k = 0; k < v.ntopics; k++)
				if (strcmp(ts[k].topic.ptr, w->tr.tps[i].topic) == 0)
					break;
			if (k == v.ntopics) {
				ts[k].topic = kp_str_c(w->tr.tps[i].topic);
				ts[k].partitions = ps + i;
				v.ntopics++;
			}
		}
		/* lay each topic's partitions out contiguously */
		{
			int32_t at = 0;

			for (int32_t k = 0; k < v.ntopics; k++) {
				ts[k].partitions = ps + at;
				for (int32_t i = 0; i < w->tr.ntps; i++)
					if (strcmp(ts[k].topic.ptr, w->tr.tps[i].topic) == 0)
						ps[at++] = w->tr.tps[i].partition;
				ts[k].npartitions = (int32_t)(ps + at - ts[k].partitions);
			}
		}
		v.topics = w->tr.state == TXN_EMPTY ? NULL : ts;
		v.ntopics = w->tr.state == TXN_EMPTY ? 0 : v.ntopics;
		txn_log_value_encode(&vw, &v);
		free(ts);
		free(ps);
	}
	memset(&rec, 0, sizeof(rec));
	rec.key = (kp_bytes){ kw.data, (int32_t)kw.len };
	rec.value = w->tombstone ? KP_BYTES_NULL : (kp_bytes){ vw.data, (int32_t)vw.len };
	rec.timestamp = kp_wall_ms();
	kp_batch_params_init(&bp);
	if (kw.err || vw.err || kp_batch_build(&wb, &bp, &rec, 1) < 0 || wb.err) {
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	pthread_mutex_lock(&p->lock);
	if (!p->leader || p->log == NULL || p->lead_gen != tp->lead_gen)
		err = KP_ERR_NOT_LEADER_OR_FOLLOWER;
	else if (p->nisr < p->min_isr)
		err = KP_ERR_NOT_ENOUGH_REPLICAS;
	else
		err = (kp_err_t)log_append_leader(p->log, wb.data, wb.len,
						  p->leader_epoch, -1, &ai);
	if (err == 0)
		replica_update_hw(b, p);
	pthread_mutex_unlock(&p->lock);
	if (err == 0) {
		w->lead_gen = tp->lead_gen;
		w->required = ai.last_offset + 1;
		w->deadline = kp_now_ms() + c->timeout_ms;
		w->next = NULL;
		*tp->tail = w;
		tp->tail = &w->next;
		purgatory_notify(b->purg, &p->watchers);
		w = NULL;
	}
out:
	kp_wbuf_free(&kw);
	kp_wbuf_free(&vw);
	kp_wbuf_free(&wb);
	if (w != NULL)
		write_finish(c, w, append_error(err));
}

/* A write of transit tr (taken over) for m. */
static struct txn_write *write_new(struct txn_meta *m, const struct txn_data *tr)
{
	struct txn_write *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->m = m;
	m->nref++;
	if (tr != NULL)
		w->tr = *tr;
	return w;
}

/* Finish the writes the high watermark passed or that timed out. */
static void check_writes(struct txn_coord *c)
{
	int64_t now = kp_now_ms();

	for (int32_t i = 0; i < c->nparts; i++) {
		struct txn_part *tp = &c->parts[i];
		struct partition *p = tp->p;
		int64_t hw = 0;
		bool ok = false, short_isr = false;

		if (tp->writes == NULL)
			continue;
		if (p != NULL) {
			pthread_mutex_lock(&p->lock);
			hw = atomic_load(&p->hw);
			ok = p->leader && p->log != NULL && p->lead_gen == tp->lead_gen &&
				tp->state != PART_NONE;
			short_isr = p->nisr < p->min_isr;
			pthread_mutex_unlock(&p->lock);
		}
		while (tp->writes != NULL) {
			struct txn_write *w = tp->writes;
			kp_err_t err;

			if (!ok || w->lead_gen != tp->lead_gen)
				err = KP_ERR_NOT_LEADER_OR_FOLLOWER;
			else if (hw >= w->required)
				err = short_isr ? KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND : 0;
			else if (now >= w->deadline)
				err = KP_ERR_REQUEST_TIMED_OUT;
			else
				break;
			tp->writes = w->next;
			if (tp->writes == NULL)
				tp->tail = &tp->writes;
			write_finish(c, w, append_error(err));
		}
	}
}

static void check_posted(void *arg)
{
	struct txn_coord *c = arg;

	atomic_store(&c->check_posted, false);
	pthread_mutex_lock(&c->lock);
	check_writes(c);
	pthread_mutex_unlock(&c->lock);
}

/* A __transaction_state partition got data or a new high watermark (any
 * thread, any lock): one check is queued on our thread. */
static void hw_moved(void *arg)
{
	struct broker *b = arg;
	struct txn_coord *c = b->txn;

	if (c == NULL || !c->running || atomic_exchange(&c->check_posted, true))
		return;
	if (kp_loop_post(c->loop, check_posted, c) < 0)
		atomic_store(&c->check_posted, false);
}

static void write_timer(struct kp_loop *loop, void *arg)
{
	struct txn_coord *c = arg;

	pthread_mutex_lock(&c->lock);
	check_writes(c);
	pthread_mutex_unlock(&c->lock);
	kp_timer_start(loop, &c->write_timer, WRITE_CHECK_MS);
}

/* ------------------------------------------------------- transitions */

/* The transit: a copy of m's metadata with the partitions copied. */
static int transit(const struct txn_meta *m, struct txn_data *tr)
{
	*tr = m->d;
	tr->tps = NULL;
	tr->ntps = 0;
	if (m->d.ntps > 0 && tps_copy(m->d.tps, m->d.ntps, &tr->tps) < 0)
		return -1;
	tr->ntps = m->d.ntps;
	return 0;
}

static kp_err_t invalid_state(const struct txn_meta *m, bool commit)
{
	KP_INFO("transaction %s: %s requested in state %s", m->id,
		commit ? "commit" : "abort", txn_state_name(m->d.state));
	return KP_ERR_INVALID_TXN_STATE;
}

/* After Complete* is written: the markers of m are done. */
static void completed(struct txn_coord *c, struct txn_meta *m, struct txn_write *w,
		      kp_err_t err)
{
	(void)w;
	m->completing = false;
	if (err != 0 && !m->unlinked) {
		/* retried: the markers are all out, only the record is missing */
		KP_WARN("transaction %s: cannot write %s: %s; retrying", m->id,
			m->d.state == TXN_PREPARE_COMMIT ? "CompleteCommit" : "CompleteAbort",
			kp_err_name(err));
		kick_markers(c);
		return;
	}
	if (!m->unlinked)
		KP_INFO("transaction %s: %s", m->id, txn_state_name(m->d.state));
}

/* Markers all written: CompleteCommit / CompleteAbort. */
static void complete_after_markers(struct txn_coord *c, struct txn_meta *m)
{
	struct txn_data tr;
	struct txn_write *w;

	if (m->pending || m->completing || m->unlinked ||
	    (m->d.state != TXN_PREPARE_COMMIT && m->d.state != TXN_PREPARE_ABORT))
		return;
	memset(&tr, 0, sizeof(tr));
	tr = m->d;
	tr.tps = NULL;
	tr.ntps = 0;
	tr.state = m->d.state == TXN_PREPARE_COMMIT ? TXN_COMPLETE_COMMIT : TXN_COMPLETE_ABORT;
	tr.update_ts = kp_wall_ms();
	w = write_new(m, &tr);
	if (w == NULL)
		return;
	w->done = completed;
	m->completing = true;
	append(c, w);
}

/* PrepareCommit / PrepareAbort written: markers go out, the client is
 * answered. */
static void prepared(struct txn_coord *c, struct txn_meta *m, struct txn_write *w,
		     kp_err_t err)
{
	if (w->reply != NULL)
		w->reply(w->reply_arg, err != 0 ? err : w->reply_err, m->d.pid, m->d.epoch);
	w->reply = NULL;
	if (err != 0 || m->unlinked) {
		if (err != 0 && w->tr.state == TXN_PREPARE_ABORT &&
		    w->tr.epoch != m->d.epoch && !m->unlinked)
			m->failed_fence = true;
		return;
	}
	free(m->marked);
	m->marked = calloc((size_t)m->d.ntps + 1, sizeof(*m->marked));
	m->marker_epoch = c->parts[m->tpart].coord_epoch;
	send_markers(c, m);
}

/* Kafka's endTransaction (lock held).  epoch: the producer's, or the
 * bumped one of a fence (from_client false).  0 when the write went out
 * (fn called later), else the error (fn not called). */
static kp_err_t end_txn(struct txn_coord *c, struct txn_meta *m, int64_t pid,
			int16_t epoch, bool commit, bool from_client, kp_err_t ok_err,
			txn_reply_fn fn, void *arg)
{
	struct txn_data tr;
	struct txn_write *w;
	bool fence = false;

	if (m->d.pid != pid)
		return KP_ERR_INVALID_PRODUCER_ID_MAPPING;
	if ((from_client && epoch != m->d.epoch) || epoch < m->d.epoch)
		return KP_ERR_PRODUCER_FENCED;
	if (m->pending && m->pending_state != TXN_PREPARE_EPOCH_FENCE)
		return KP_ERR_CONCURRENT_TRANSACTIONS;
	switch (m->d.state) {
	case TXN_ONGOING:
		break;
	case TXN_COMPLETE_COMMIT:
		return commit ? KP_ERR_NONE : invalid_state(m, commit);
	case TXN_COMPLETE_ABORT:
		return !commit ? KP_ERR_NONE : invalid_state(m, commit);
	case TXN_PREPARE_COMMIT:
		return commit ? KP_ERR_CONCURRENT_TRANSACTIONS : invalid_state(m, commit);
	case TXN_PREPARE_ABORT:
		return !commit ? KP_ERR_CONCURRENT_TRANSACTIONS : invalid_state(m, commit);
	default:
		return invalid_state(m, commit);
	}
	if (!commit && m->pending && m->pending_state == TXN_PREPARE_EPOCH_FENCE)
		fence = true;
	if (transit(m, &tr) < 0)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	if (fence) {
		tr.epoch = epoch;
		tr.last_epoch = -1;
	}
	tr.state = commit ? TXN_PREPARE_COMMIT : TXN_PREPARE_ABORT;
	tr.update_ts = kp_wall_ms();
	w = write_new(m, &tr);
	if (w == NULL) {
		tps_free(tr.tps, tr.ntps);
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	w->done = prepared;
	w->reply = fn;
	w->reply_arg = arg;
	w->reply_err = ok_err;
	m->pending_state = tr.state;
	append(c, w);
	return 0;
}

/* Kafka's prepareFenceProducerEpoch then an abort not from the client
 * (a re-init of an ongoing transaction, or its timeout). */
static kp_err_t fence_and_abort(struct txn_coord *c, struct txn_meta *m, kp_err_t ok_err,
				txn_reply_fn fn, void *arg)
{
	int16_t epoch;

	if (EPOCH_EXHAUSTED(m->d.epoch) && !m->failed_fence)
		return KP_ERR_PRODUCER_FENCED;
	epoch = m->failed_fence ? m->d.epoch : (int16_t)(m->d.epoch + 1);
	m->pending = true;
	m->pending_state = TXN_PREPARE_EPOCH_FENCE;
	m->failed_fence = false;
	return end_txn(c, m, m->d.pid, epoch, false, false, ok_err, fn, arg);
}

/* ----------------------------------------------------------- requests */

/* On the ZooKeeper thread: the next producer id block, for the retry
 * the client makes after COORDINATOR_NOT_AVAILABLE. */
static void claim_run(void *arg)
{
	struct broker *b = arg;
	char err[256];

	if (producer_ids_claim(&b->pids, b->zk, b->id, err, sizeof(err)) < 0)
		KP_WARN("transaction coordinator: cannot claim a producer id block: %s", err);
}

static void claim_ids(struct broker *b)
{
	if (b->zk != NULL)
		zk_thread_post(b, claim_run, b);
}

void txn_init_producer_id(struct broker *b, kp_str id, int32_t timeout_ms,
			  bool has_expected, int64_t exp_pid, int16_t exp_epoch,
			  txn_reply_fn fn, void *arg)
{
	struct txn_coord *c = b->txn;
	struct txn_meta *m;
	struct txn_data tr;
	struct txn_write *w;
	int32_t tpart;
	int64_t now = kp_wall_ms();
	kp_err_t err;

	if (id.len <= 0) {
		fn(arg, KP_ERR_INVALID_REQUEST, -1, -1);
		return;
	}
	if (c == NULL || !c->running) {
		fn(arg, KP_ERR_NOT_COORDINATOR, -1, -1);
		return;
	}
	if (timeout_ms <= 0 || timeout_ms > c->max_timeout_ms) {
		fn(arg, KP_ERR_INVALID_TRANSACTION_TIMEOUT, -1, -1);
		return;
	}
	pthread_mutex_lock(&c->lock);
	if ((err = owner(c, id, &tpart)) != 0)
		goto fail;
	m = find(c, id);
	if (m == NULL) {
		int64_t pid;

		if (producer_ids_next(&b->pids, &pid) < 0) {
			err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
			claim_ids(b);
			goto fail;
		}
		if ((m = meta_new(c, id, tpart)) == NULL) {
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
			goto fail;
		}
		m->d.pid = pid;
		m->d.timeout_ms = timeout_ms;
		m->d.update_ts = now;
	}
	if (m->pending) {
		err = KP_ERR_CONCURRENT_TRANSACTIONS;
		goto fail;
	}
	if (has_expected && !(m->d.epoch == -1 || exp_pid == m->d.pid ||
			      (exp_pid == m->d.last_pid && EPOCH_EXHAUSTED(exp_epoch)))) {
		err = KP_ERR_PRODUCER_FENCED;
		goto fail;
	}
	switch (m->d.state) {
	case TXN_PREPARE_ABORT:
	case TXN_PREPARE_COMMIT:
		err = KP_ERR_CONCURRENT_TRANSACTIONS;
		goto fail;
	case TXN_ONGOING:
		/* abort it with the epoch bumped; the client retries */
		err = fence_and_abort(c, m, KP_ERR_CONCURRENT_TRANSACTIONS, fn, arg);
		if (err == 0) {
			pthread_mutex_unlock(&c->lock);
			return;
		}
		m->pending = false;
		goto fail;
	case TXN_EMPTY:
	case TXN_COMPLETE_COMMIT:
	case TXN_COMPLETE_ABORT:
		break;
	default:
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto fail;
	}
	if (transit(m, &tr) < 0) {
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto fail;
	}
	if (EPOCH_EXHAUSTED(m->d.epoch) && (!has_expected || exp_epoch == m->d.epoch)) {
		/* prepareProducerIdRotation */
		int64_t pid;

		if (producer_ids_next(&b->pids, &pid) < 0) {
			claim_ids(b);
			tps_free(tr.tps, tr.ntps);
			err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
			goto fail;
		}
		tr.last_pid = m->d.pid;
		tr.pid = pid;
		tr.epoch = 0;
		tr.last_epoch = has_expected ? m->d.epoch : -1;
	} else {
		/* prepareIncrementProducerEpoch */
		int16_t bumped = (int16_t)(m->d.epoch + 1);

		if (!has_expected) {
			tr.epoch = bumped;
			tr.last_epoch = -1;
		} else if (m->d.epoch == -1 || exp_epoch == m->d.epoch) {
			tr.epoch = bumped;
			tr.last_epoch = m->d.epoch;
		} else if (exp_epoch == m->d.last_epoch) {
			/* a retry of a bump whose answer was lost */
		} else {
			tps_free(tr.tps, tr.ntps);
			err = KP_ERR_PRODUCER_FENCED;
			goto fail;
		}
	}
	tps_free(tr.tps, tr.ntps);
	tr.tps = NULL;
	tr.ntps = 0;
	tr.state = TXN_EMPTY;
	tr.timeout_ms = timeout_ms;
	tr.start_ts = -1;
	tr.update_ts = now;
	if ((w = write_new(m, &tr)) == NULL) {
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto fail;
	}
	w->reply = fn;
	w->reply_arg = arg;
	m->pending_state = TXN_EMPTY;
	append(c, w);
	pthread_mutex_unlock(&c->lock);
	return;
fail:
	pthread_mutex_unlock(&c->lock);
	fn(arg, err, -1, -1);
}

void txn_add_partitions(struct broker *b, kp_str id, int64_t pid, int16_t epoch,
			const struct txn_tp_in *tps, int32_t n, txn_reply_fn fn,
			void *arg)
{
	struct txn_coord *c = b->txn;
	struct txn_meta *m;
	struct txn_data tr;
	struct txn_write *w;
	int32_t tpart, add = 0;
	kp_err_t err;

	if (id.len <= 0) {
		fn(arg, KP_ERR_INVALID_REQUEST, -1, -1);
		return;
	}
	if (c == NULL || !c->running) {
		fn(arg, KP_ERR_NOT_COORDINATOR, -1, -1);
		return;
	}
	pthread_mutex_lock(&c->lock);
	if ((err = owner(c, id, &tpart)) != 0)
		goto fail;
	if ((m = find(c, id)) == NULL || m->d.pid != pid) {
		err = KP_ERR_INVALID_PRODUCER_ID_MAPPING;
		goto fail;
	}
	if (m->d.epoch != epoch) {
		err = KP_ERR_PRODUCER_FENCED;
		goto fail;
	}
	if (m->pending || m->d.state == TXN_PREPARE_COMMIT ||
	    m->d.state == TXN_PREPARE_ABORT) {
		err = KP_ERR_CONCURRENT_TRANSACTIONS;
		goto fail;
	}
	for (int32_t i = 0; i < n; i++)
		if (!tps_has(m->d.tps, m->d.ntps, tps[i].topic, tps[i].partition))
			add++;
	if (m->d.state == TXN_ONGOING && add == 0) {
		err = KP_ERR_NONE;
		goto fail;
	}
	if (transit(m, &tr) < 0) {
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto fail;
	}
	{
		struct txn_tp *nt = realloc(tr.tps, sizeof(*nt) * (size_t)(tr.ntps + add + 1));

		if (nt == NULL) {
			tps_free(tr.tps, tr.ntps);
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
			goto fail;
		}
		tr.tps = nt;
		for (int32_t i = 0; i < n; i++) {
			if (tps_has(tr.tps, tr.ntps, tps[i].topic, tps[i].partition))
				continue;
			tr.tps[tr.ntps].topic = strndup(tps[i].topic.ptr, (size_t)tps[i].topic.len);
			tr.tps[tr.ntps].partition = tps[i].partition;
			if (tr.tps[tr.ntps].topic == NULL)
				break;
			tr.ntps++;
		}
	}
	/* prepareAddPartitions: the start time is set when the txn begins */
	if (m->d.state == TXN_EMPTY || m->d.state == TXN_COMPLETE_COMMIT ||
	    m->d.state == TXN_COMPLETE_ABORT)
		tr.start_ts = kp_wall_ms();
	tr.state = TXN_ONGOING;
	tr.update_ts = kp_wall_ms();
	if ((w = write_new(m, &tr)) == NULL) {
		tps_free(tr.tps, tr.ntps);
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto fail;
	}
	w->reply = fn;
	w->reply_arg = arg;
	m->pending_state = TXN_ONGOING;
	append(c, w);
	pthread_mutex_unlock(&c->lock);
	return;
fail:
	pthread_mutex_unlock(&c->lock);
	fn(arg, err, -1, -1);
}

void txn_end(struct broker *b, kp_str id, int64_t pid, int16_t epoch, bool commit,
	     txn_reply_fn fn, void *arg)
{
	struct txn_coord *c = b->txn;
	struct txn_meta *m;
	int32_t tpart;
	kp_err_t err;

	if (id.len <= 0) {
		fn(arg, KP_ERR_INVALID_REQUEST, -1, -1);
		return;
	}
	if (c == NULL || !c->running) {
		fn(arg, KP_ERR_NOT_COORDINATOR, -1, -1);
		return;
	}
	pthread_mutex_lock(&c->lock);
	if ((err = owner(c, id, &tpart)) != 0)
		goto fail;
	if ((m = find(c, id)) == NULL) {
		err = KP_ERR_INVALID_PRODUCER_ID_MAPPING;
		goto fail;
	}
	err = end_txn(c, m, pid, epoch, commit, true, KP_ERR_NONE, fn, arg);
	if (err == 0) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
fail:
	pthread_mutex_unlock(&c->lock);
	fn(arg, err, -1, -1);
}

/* ------------------------------------------------------------ markers */

struct marker_req {
	struct txn_coord *c;
	struct txn_meta *m;
	int32_t *idx;			/* indexes into m->d.tps */
	int32_t n;
};

static void marker_req_free(struct marker_req *mr)
{
	meta_unref(mr->m);
	free(mr->idx);
	free(mr);
}

static struct txn_dest *dest_for(struct txn_coord *c, int32_t broker);

static void markers_done_check(struct txn_coord *c, struct txn_meta *m)
{
	if (m->unlinked || m->inflight > 0 || m->marked == NULL)
		return;
	for (int32_t i = 0; i < m->d.ntps; i++)
		if (!m->marked[i]) {
			kick_markers(c);
			return;
		}
	free(m->marked);
	m->marked = NULL;
	complete_after_markers(c, m);
}

static void on_marker_resp(struct kp_conn *conn, int err, int16_t api_key,
			   int16_t version, void *resp, void *arg)
{
	struct marker_req *mr = arg;
	struct txn_coord *c = mr->c;
	struct txn_meta *m = mr->m;
	const struct kp_write_txn_markers_resp *r = resp;
	bool fenced = false;

	(void)conn;
	(void)api_key;
	(void)version;
	pthread_mutex_lock(&c->lock);
	m->inflight--;
	if (err == 0 && !m->unlinked && m->marked != NULL && r->markers_count > 0) {
		const struct kp_write_txn_markers_resp_writable_txn_marker_result *mk = &r->markers[0];

		for (int32_t t = 0; t < mk->topics_count; t++)
			for (int32_t k = 0; k < mk->topics[t].partitions_count; k++) {
				const struct kp_write_txn_markers_resp_writable_txn_marker_partition_result *pr =
					&mk->topics[t].partitions[k];

				for (int32_t i = 0; i < mr->n; i++) {
					const struct txn_tp *tp = &m->d.tps[mr->idx[i]];

					if (tp->partition != pr->partition_index ||
					    (int32_t)strlen(tp->topic) != mk->topics[t].name.len ||
					    memcmp(tp->topic, mk->topics[t].name.ptr,
						   (size_t)mk->topics[t].name.len) != 0)
						continue;
					if (pr->error_code == 0) {
						m->marked[mr->idx[i]] = true;
					} else if (pr->error_code ==
						   KP_ERR_TRANSACTION_COORDINATOR_FENCED) {
						/* a newer coordinator owns it now:
						 * stop, as Kafka's abortSending */
						KP_WARN("transaction %s: coordinator epoch %d "
							"fenced by %s-%d; markers stopped",
							m->id, m->marker_epoch, tp->topic,
							tp->partition);
						fenced = true;
					} else
						KP_DEBUG("transaction %s: marker for %s-%d: %s",
							 m->id, tp->topic, tp->partition,
							 kp_err_name(pr->error_code));
				}
			}
	} else if (err != 0) {
		KP_DEBUG("transaction %s: WriteTxnMarkers failed: %d", m->id, err);
	}
	if (fenced && !m->unlinked) {
		free(m->marked);
		m->marked = NULL;
		m->completing = true;	/* never completed by us */
	}
	markers_done_check(c, m);
	marker_req_free(mr);
	pthread_mutex_unlock(&c->lock);
}

/* Send the markers m still needs, one request per leader (lock held). */
static void send_markers(struct txn_coord *c, struct txn_meta *m)
{
	struct md_view *v;
	int32_t *leaders;

	if (m->unlinked || m->marked == NULL || m->inflight > 0 || m->pending)
		return;
	leaders = calloc((size_t)m->d.ntps + 1, sizeof(*leaders));
	if (leaders == NULL)
		return;
	v = metadata_cache_get(&c->b->meta);
	for (int32_t i = 0; i < m->d.ntps; i++) {
		const struct md_topic *t;
		const struct md_partition *mp;

		leaders[i] = -1;
		if (m->marked[i])
			continue;
		t = md_view_topic(v, m->d.tps[i].topic, strlen(m->d.tps[i].topic));
		mp = t != NULL ? md_topic_partition(t, m->d.tps[i].partition) : NULL;
		if (t == NULL || mp == NULL) {
			/* the partition is gone: no marker to write */
			KP_INFO("transaction %s: %s-%d no longer exists, no marker", m->id,
				m->d.tps[i].topic, m->d.tps[i].partition);
			m->marked[i] = true;
			continue;
		}
		leaders[i] = mp->leader;
	}
	md_view_unref(v);
	for (int32_t i = 0; i < m->d.ntps; i++) {
		int32_t leader = leaders[i];
		struct txn_dest *d;
		struct marker_req *mr;
		struct kp_write_txn_markers_req req;
		struct kp_write_txn_markers_req_writable_txn_marker mk;
		struct kp_write_txn_markers_req_writable_txn_marker_topic *ts;
		int32_t *parts, nts = 0;

		if (leader < 0)
			continue;
		d = dest_for(c, leader);
		if (d == NULL || d->conn == NULL || kp_conn_state(d->conn) != KP_CONN_READY) {
			for (int32_t k = i; k < m->d.ntps; k++)
				if (leaders[k] == leader)
					leaders[k] = -1;
			continue;
		}
		mr = calloc(1, sizeof(*mr));
		ts = calloc((size_t)m->d.ntps + 1, sizeof(*ts));
		parts = calloc((size_t)m->d.ntps + 1, sizeof(*parts));
		if (mr != NULL)
			mr->idx = calloc((size_t)m->d.ntps + 1, sizeof(*mr->idx));
		if (mr == NULL || mr->idx == NULL || ts == NULL || parts == NULL) {
			if (mr != NULL)
				free(mr->idx);
			free(mr);
			free(ts);
			free(parts);
			break;
		}
		/* the partitions of this leader, grouped by topic */
		for (int32_t k = i; k < m->d.ntps; k++) {
			int32_t t;

			if (leaders[k] != leader)
				continue;
			for (t = 0; t < nts; t++)
				if ((int32_t)strlen(m->d.tps[k].topic) == ts[t].name.len &&
				    memcmp(ts[t].name.ptr, m->d.tps[k].topic,
					   (size_t)ts[t].name.len) == 0)
					break;
			if (t == nts) {
				kp_struct_init(&kp_write_txn_markers_req_writable_txn_marker_topic_desc,
					       &ts[t]);
				ts[t].name = kp_str_c(m->d.tps[k].topic);
				ts[t].partition_indexes_count = 0;
				nts++;
			}
			mr->idx[mr->n++] = k;
		}
		{
			int32_t at = 0;

			for (int32_t t = 0; t < nts; t++) {
				ts[t].partition_indexes = parts + at;
				for (int32_t q = 0; q < mr->n; q++) {
					const struct txn_tp *tp = &m->d.tps[mr->idx[q]];

					if ((int32_t)strlen(tp->topic) == ts[t].name.len &&
					    memcmp(ts[t].name.ptr, tp->topic,
						   (size_t)ts[t].name.len) == 0)
						parts[at++] = tp->partition;
				}
				ts[t].partition_indexes_count =
					(int32_t)(parts + at - ts[t].partition_indexes);
			}
		}
		for (int32_t k = i; k < m->d.ntps; k++)
			if (leaders[k] == leader)
				leaders[k] = -1;
		kp_struct_init(&kp_write_txn_markers_req_desc, &req);
		kp_struct_init(&kp_write_txn_markers_req_writable_txn_marker_desc, &mk);
		mk.producer_id = m->d.pid;
		mk.producer_epoch = m->d.epoch;
		mk.transaction_result = m->d.state == TXN_PREPARE_COMMIT;
		mk.topics = ts;
		mk.topics_count = nts;
		mk.coordinator_epoch = m->marker_epoch;
		req.markers = &mk;
		req.markers_count = 1;
		mr->c = c;
		mr->m = m;
		m->nref++;
		m->inflight++;
		if (kp_conn_request(d->conn, KP_API_WRITE_TXN_MARKERS, -1, &req,
				    on_marker_resp, mr) < 0) {
			m->inflight--;
			marker_req_free(mr);
		}
		free(ts);
		free(parts);
	}
	free(leaders);
	markers_done_check(c, m);
}

static void on_dest_state(struct kp_conn *conn, enum kp_conn_state st, int err, void *arg)
{
	struct txn_dest *d = arg;

	if (conn != d->conn)
		return;
	if (st == KP_CONN_CLOSED) {
		KP_DEBUG("transaction markers: connection to broker %d lost (%d)",
			 d->broker, err);
		d->conn = NULL;
		kp_conn_free(conn);
	}
}

/* The connection to a broker's inter-broker listener (lock held). */
static struct txn_dest *dest_for(struct txn_coord *c, int32_t broker)
{
	struct txn_dest *d = NULL;
	struct md_view *v;
	const struct md_endpoint *e;

	for (int32_t i = 0; i < c->ndests; i++)
		if (c->dests[i].broker == broker)
			d = &c->dests[i];
	if (d == NULL) {
		/* fixed addresses: dests are never moved once made */
		if (c->ndests >= 1024)
			return NULL;
		d = &c->dests[c->ndests++];
		d->broker = broker;
		d->conn = NULL;
	}
	if (d->conn != NULL)
		return d;
	v = metadata_cache_get(&c->b->meta);
	e = md_view_endpoint(v, broker, c->b->lsn.inter_name);
	if (e != NULL)
		d->conn = kp_conn_start(c->loop, e->host, e->port, &c->opts, on_dest_state, d);
	md_view_unref(v);
	if (d->conn != NULL)
		kp_timer_start(c->loop, &c->marker_timer, MARKER_RETRY_MS);
	return d;
}

/* Resend what is missing (the thread). */
static void marker_timer(struct kp_loop *loop, void *arg)
{
	struct txn_coord *c = arg;

	(void)loop;
	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < NBUCKETS; i++)
		for (struct txn_meta *m = c->buckets[i], *next; m; m = next) {
			next = m->next;
			if (m->pending || m->completing)
				continue;
			if (m->d.state != TXN_PREPARE_COMMIT && m->d.state != TXN_PREPARE_ABORT)
				continue;
			if (m->marked == NULL) {
				/* markers done, the Complete record failed: again */
				complete_after_markers(c, m);
				continue;
			}
			send_markers(c, m);
		}
	pthread_mutex_unlock(&c->lock);
}

/* ------------------------------------------------- timeouts and expiry */

static void abort_timer(struct kp_loop *loop, void *arg)
{
	struct txn_coord *c = arg;
	int64_t now = kp_wall_ms();

	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < NBUCKETS; i++)
		for (struct txn_meta *m = c->buckets[i]; m; m = m->next) {
			kp_err_t err;

			if (m->pending || m->d.state != TXN_ONGOING ||
			    m->tpart >= c->nparts || c->parts[m->tpart].state != PART_LOADED ||
			    m->d.start_ts + m->d.timeout_ms >= now)
				continue;
			KP_INFO("transaction %s: timed out after %d ms, aborting (producer %"
				PRId64 " epoch %d fenced)", m->id, m->d.timeout_ms, m->d.pid,
				m->d.epoch);
			err = fence_and_abort(c, m, KP_ERR_NONE, NULL, NULL);
			if (err != 0) {
				m->pending = false;
				KP_WARN("transaction %s: cannot abort: %s", m->id, kp_err_name(err));
			}
		}
	pthread_mutex_unlock(&c->lock);
	kp_timer_start(loop, &c->abort_timer, c->abort_interval_ms);
}

static void removed(struct txn_coord *c, struct txn_meta *m, struct txn_write *w,
		    kp_err_t err)
{
	(void)w;
	if (err == 0 && !m->unlinked) {
		KP_INFO("transactional id %s expired, removed", m->id);
		unlink_meta(c, m);
	}
}

static void expire_timer(struct kp_loop *loop, void *arg)
{
	struct txn_coord *c = arg;
	int64_t now = kp_wall_ms();

	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < NBUCKETS; i++)
		for (struct txn_meta *m = c->buckets[i], *next; m; m = next) {
			struct txn_write *w;

			next = m->next;
			if (m->pending || m->d.update_ts + c->id_expiration_ms > now ||
			    (m->d.state != TXN_EMPTY && m->d.state != TXN_COMPLETE_COMMIT &&
			     m->d.state != TXN_COMPLETE_ABORT) ||
			    m->tpart >= c->nparts || c->parts[m->tpart].state != PART_LOADED)
				continue;
			if ((w = write_new(m, NULL)) == NULL)
				continue;
			w->tombstone = true;
			w->done = removed;
			m->pending_state = TXN_DEAD;
			append(c, w);
		}
	pthread_mutex_unlock(&c->lock);
	kp_timer_start(loop, &c->expire_timer, c->remove_interval_ms);
}

/* -------------------------------------------------------------- loads */

struct loaded {
	struct txn_meta *list;
	struct kp_arena arena;
	int64_t records;
};

static void load_record(struct loaded *l, int32_t tpart, const struct kp_record *rec)
{
	struct txn_log_value v;
	struct txn_meta *m;
	kp_str id;

	l->records++;
	if (rec->key.len < 0 || txn_log_key_decode(rec->key.ptr, (size_t)rec->key.len, &id) < 0)
		return;
	for (m = l->list; m; m = m->next)
		if ((int32_t)strlen(m->id) == id.len && memcmp(m->id, id.ptr, (size_t)id.len) == 0)
			break;
	if (rec->value.len < 0) {
		if (m != NULL)
			m->d.state = TXN_DEAD;	/* dropped after the load */
		return;
	}
	kp_arena_reset(&l->arena);
	if (txn_log_value_decode(rec->value.ptr, (size_t)rec->value.len, &l->arena, &v) < 0) {
		KP_WARN("%s-%d: undecodable record for %.*s", KP_TXN_STATE_TOPIC, tpart,
			(int)id.len, id.ptr);
		return;
	}
	if (m == NULL) {
		m = calloc(1, sizeof(*m));
		if (m == NULL || (m->id = strndup(id.ptr, (size_t)id.len)) == NULL) {
			free(m);
			return;
		}
		m->tpart = tpart;
		m->d.last_pid = -1;
		m->d.last_epoch = -1;
		m->next = l->list;
		l->list = m;
	}
	tps_free(m->d.tps, m->d.ntps);
	m->d.tps = NULL;
	m->d.ntps = 0;
	m->d.pid = v.producer_id;
	m->d.epoch = v.producer_epoch;
	m->d.timeout_ms = v.timeout_ms;
	m->d.state = v.state;
	m->d.update_ts = v.update_ts;
	m->d.start_ts = v.start_ts;
	{
		int32_t n = 0;

		for (int32_t t = 0; t < v.ntopics; t++)
			n += v.topics[t].npartitions;
		m->d.tps = calloc((size_t)n + 1, sizeof(*m->d.tps));
		if (m->d.tps == NULL)
			return;
		for (int32_t t = 0; t < v.ntopics; t++)
			for (int32_t k = 0; k < v.topics[t].npartitions; k++) {
				struct txn_tp *tp = &m->d.tps[m->d.ntps];

				tp->topic = strndup(v.topics[t].topic.ptr,
						    (size_t)v.topics[t].topic.len);
				tp->partition = v.topics[t].partitions[k];
				if (tp->topic != NULL)
					m->d.ntps++;
			}
	}
}

/* Read the partition's log from its start; NULL or why it stopped. */
static const char *load_log(struct txn_coord *c, struct log *log, int32_t tpart,
			    struct loaded *l)
{
	struct kp_wbuf scratch;
	uint8_t *buf = NULL;
	size_t cap = 0;
	int64_t off = log_start_offset(log), end = log_end_offset(log);
	const char *why = NULL;

	kp_wbuf_init(&scratch);
	while (off < end) {
		struct log_read_result res;
		size_t pos = 0, len;
		int64_t next = off;
		int rc = log_read(log, off, c->load_buffer, LOG_NO_LIMIT, true, &res);

		if (rc != 0) {
			why = kp_err_name((int16_t)rc);
			break;
		}
		if (res.seg == NULL || res.length <= 0) {
			log_read_done(&res);
			break;
		}
		if ((size_t)res.length > cap) {
			uint8_t *nb = realloc(buf, (size_t)res.length);

			if (nb == NULL) {
				log_read_done(&res);
				why = "out of memory";
				break;
			}
			buf = nb;
			cap = (size_t)res.length;
		}
		if (pread(res.fd, buf, (size_t)res.length, res.position) != res.length) {
			log_read_done(&res);
			why = "short read";
			break;
		}
		len = (size_t)res.length;
		log_read_done(&res);
		while (pos < len) {
			struct kp_batch_header h;
			struct kp_record_iter it;
			struct kp_record rec;
			size_t size;

			if (kp_batch_size(buf + pos, len - pos, &size) != KP_BATCH_OK ||
			    kp_batch_header_parse(buf + pos, size, &h) != KP_BATCH_OK)
				break;
			if (kp_batch_last_offset(&h) >= off && !(h.attributes & KP_ATTR_CONTROL) &&
			    kp_record_iter_init(&it, buf + pos, size, &scratch,
						MAX_DECOMPRESSED) == 0)
				while (kp_record_iter_next(&it, &rec) == 1)
					if (rec.offset >= off)
						load_record(l, tpart, &rec);
			next = kp_batch_last_offset(&h) + 1;
			pos += size;
		}
		if (next <= off) {
			why = "no whole batch where one should be";
			break;
		}
		off = next;
	}
	kp_wbuf_free(&scratch);
	free(buf);
	return why;
}

struct load_job {
	struct txn_coord *c;
	int32_t tpart;
	uint32_t lead_gen;
};

static void load_run(void *arg)
{
	struct load_job *j = arg;
	struct txn_coord *c = j->c;
	struct loaded l;
	struct partition *p = NULL;
	struct log *log = NULL;
	const char *why = NULL;
	int64_t t0 = kp_now_ms();
	int32_t nids = 0, nprepared = 0;

	memset(&l, 0, sizeof(l));
	kp_arena_init(&l.arena, 0);
	pthread_mutex_lock(&c->lock);
	if (j->tpart < c->nparts && c->parts[j->tpart].state == PART_LOADING &&
	    c->parts[j->tpart].lead_gen == j->lead_gen)
		p = c->parts[j->tpart].p;
	pthread_mutex_unlock(&c->lock);
	if (p != NULL) {
		pthread_mutex_lock(&p->lock);
		if (p->leader && p->lead_gen == j->lead_gen)
			log = p->log;
		pthread_mutex_unlock(&p->lock);
	}
	if (log != NULL)
		why = load_log(c, log, j->tpart, &l);
	pthread_mutex_lock(&c->lock);
	if (log != NULL && c->parts[j->tpart].state == PART_LOADING &&
	    c->parts[j->tpart].lead_gen == j->lead_gen) {
		while (l.list != NULL) {
			struct txn_meta *m = l.list;
			uint32_t h;

			l.list = m->next;
			if (m->d.state == TXN_DEAD || find(c, kp_str_c(m->id)) != NULL) {
				m->unlinked = true;
				m->nref = 1;
				meta_unref(m);
				continue;
			}
			h = hash_id(m->id, strlen(m->id)) % NBUCKETS;
			m->next = c->buckets[h];
			c->buckets[h] = m;
			nids++;
			if (m->d.state == TXN_PREPARE_COMMIT || m->d.state == TXN_PREPARE_ABORT) {
				/* finish it: the markers again, then Complete* */
				nprepared++;
				m->marked = calloc((size_t)m->d.ntps + 1, sizeof(*m->marked));
				m->marker_epoch = c->parts[j->tpart].coord_epoch;
			}
		}
		c->parts[j->tpart].state = PART_LOADED;
		KP_INFO("transaction coordinator: loaded %s-%d in %" PRId64 " ms: %" PRId64
			" records, %d transactional ids, %d prepared to finish%s%s",
			KP_TXN_STATE_TOPIC, j->tpart, kp_now_ms() - t0, l.records, nids,
			nprepared, why != NULL ? "; the log could not be read to its end: " : "",
			why != NULL ? why : "");
		if (nprepared > 0)
			kp_timer_start(c->loop, &c->marker_timer, 0);
	}
	pthread_mutex_unlock(&c->lock);
	while (l.list != NULL) {
		struct txn_meta *m = l.list;

		l.list = m->next;
		m->unlinked = true;
		m->nref = 1;
		meta_unref(m);
	}
	kp_arena_free(&l.arena);
	free(j);
}

/* We no longer lead tpart: its writes fail, its ids go (lock held). */
static void unload(struct txn_coord *c, int32_t tpart)
{
	struct txn_part *tp = &c->parts[tpart];

	tp->state = PART_NONE;
	while (tp->writes != NULL) {
		struct txn_write *w = tp->writes;

		tp->writes = w->next;
		write_finish(c, w, KP_ERR_NOT_COORDINATOR);
	}
	tp->tail = &tp->writes;
	for (int i = 0; i < NBUCKETS; i++)
		for (struct txn_meta *m = c->buckets[i], *next; m; m = next) {
			next = m->next;
			if (m->tpart == tpart)
				unlink_meta(c, m);
		}
}

static int ensure_part(struct txn_coord *c, int32_t idx)
{
	struct txn_part *np;

	if (idx < c->nparts)
		return 0;
	np = realloc(c->parts, sizeof(*np) * (size_t)(idx + 1));
	if (np == NULL)
		return -1;
	for (int32_t i = 0; i < c->nparts; i++) {
		struct txn_write *w = np[i].writes;

		if (w == NULL) {
			np[i].tail = &np[i].writes;
			continue;
		}
		while (w->next != NULL)
			w = w->next;
		np[i].tail = &w->next;
	}
	for (int32_t i = c->nparts; i <= idx; i++) {
		memset(&np[i], 0, sizeof(np[i]));
		np[i].tail = &np[i].writes;
	}
	c->parts = np;
	c->nparts = idx + 1;
	return 0;
}

void txn_partition_role(struct broker *b, struct partition *p)
{
	struct txn_coord *c = b->txn;
	struct txn_part *tp;
	struct load_job *j = NULL;
	bool leader;
	uint32_t gen;
	int32_t epoch;

	if (c == NULL || !c->running)
		return;
	pthread_mutex_lock(&p->lock);
	leader = p->leader && p->log != NULL && !p->deleting;
	gen = p->lead_gen;
	epoch = p->leader_epoch;
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_lock(&c->lock);
	if (ensure_part(c, p->index) < 0) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	tp = &c->parts[p->index];
	tp->p = p;
	if (!leader) {
		if (tp->state != PART_NONE) {
			KP_INFO("transaction coordinator: unloading %s-%d", p->topic, p->index);
			unload(c, p->index);
		}
	} else if (tp->state == PART_NONE || tp->lead_gen != gen) {
		if (tp->state != PART_NONE)
			unload(c, p->index);
		tp->state = PART_LOADING;
		tp->lead_gen = gen;
		tp->coord_epoch = epoch;
		j = malloc(sizeof(*j));
		if (j != NULL) {
			*j = (struct load_job){ c, p->index, gen };
			if (kp_loop_post(c->loop, load_run, j) < 0) {
				free(j);
				tp->state = PART_NONE;
			}
		} else {
			tp->state = PART_NONE;
		}
	}
	pthread_mutex_unlock(&c->lock);
}

/* ------------------------------------------------ FindCoordinator */

struct create_job {
	struct broker *b;
	int32_t nparts, rf, min_isr, segment_bytes;
};

/* On the ZooKeeper thread: __transaction_state as Kafka creates it. */
static void create_run(void *arg)
{
	struct create_job *o = arg;
	struct kp_zk_entity_config cfg;
	char seg[32], isr[32], msg[512] = "";
	kp_err_t err;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(seg, sizeof(seg), "%d", o->segment_bytes);
	snprintf(isr, sizeof(isr), "%d", o->min_isr);
	if (kp_zk_config_set(&cfg, "cleanup.policy", "compact") < 0 ||
	    kp_zk_config_set(&cfg, "compression.type", "uncompressed") < 0 ||
	    kp_zk_config_set(&cfg, "min.insync.replicas", isr) < 0 ||
	    kp_zk_config_set(&cfg, "segment.bytes", seg) < 0 ||
	    kp_zk_config_set(&cfg, "unclean.leader.election.enable", "false") < 0) {
		snprintf(msg, sizeof(msg), "out of memory");
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
	} else {
		err = zk_admin_create_topic(o->b, KP_TXN_STATE_TOPIC, o->nparts, o->rf,
					    NULL, &cfg, false, NULL, msg, sizeof(msg));
	}
	if (err != 0 && err != KP_ERR_TOPIC_ALREADY_EXISTS)
		KP_WARN("cannot create %s (transaction.state.log.replication.factor=%d): %s",
			KP_TXN_STATE_TOPIC, o->rf, msg);
	kp_zk_config_free(&cfg);
	free(o);
}

kp_err_t txn_find(struct broker *b, kp_str id, int32_t *tpart, int32_t *leader)
{
	struct txn_coord *c = b->txn;
	struct md_view *v = metadata_cache_get(&b->meta);
	const struct md_topic *t = md_view_topic(v, KP_TXN_STATE_TOPIC,
						 strlen(KP_TXN_STATE_TOPIC));
	const struct md_partition *mp;

	*leader = -1;
	if (c == NULL)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;

	if (t == NULL || t->nparts <= 0) {
		struct create_job *o = malloc(sizeof(*o));

		md_view_unref(v);
		if (o != NULL && b->zk != NULL) {
			*o = (struct create_job){ b, c->num_partitions, c->rf, c->min_isr,
						  c->segment_bytes };
			if (zk_thread_post(b, create_run, o) < 0)
				free(o);
		} else {
			free(o);
		}
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	}
	*tpart = kp_group_partition(id.ptr, id.len > 0 ? (size_t)id.len : 0, t->nparts);
	mp = md_topic_partition(t, *tpart);
	if (mp != NULL)
		*leader = mp->leader;
	md_view_unref(v);
	return *leader >= 0 ? 0 : KP_ERR_COORDINATOR_NOT_AVAILABLE;
}

/* ---------------------------------------------------------- lifecycle */

static void *run(void *arg)
{
	struct txn_coord *c = arg;

	kp_loop_run(c->loop);
	return NULL;
}

static void arm_timers(void *arg)
{
	struct txn_coord *c = arg;

	kp_timer_start(c->loop, &c->write_timer, WRITE_CHECK_MS);
	kp_timer_start(c->loop, &c->abort_timer, c->abort_interval_ms);
	kp_timer_start(c->loop, &c->expire_timer, c->remove_interval_ms);
}

int txn_start(struct broker *b, char *err, size_t errlen)
{
	struct txn_coord *c = calloc(1, sizeof(*c));
	const struct kp_config *cfg = &b->cfg;

	if (c == NULL || (c->loop = kp_loop_new()) == NULL ||
	    (c->dests = calloc(1024, sizeof(*c->dests))) == NULL) {
		if (c != NULL) {
			if (c->loop != NULL)
				kp_loop_free(c->loop);
			free(c);
		}
		snprintf(err, errlen, "cannot start the transaction coordinator");
		return -1;
	}
	{
		/* recursive: a marker connection failing inside a call made
		 * under the lock answers its requests, which take it */
		pthread_mutexattr_t ma;

		pthread_mutexattr_init(&ma);
		pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&c->lock, &ma);
		pthread_mutexattr_destroy(&ma);
	}
	c->b = b;
	c->num_partitions = kp_config_int(cfg, "transaction.state.log.num.partitions");
	c->rf = kp_config_int(cfg, "transaction.state.log.replication.factor");
	c->min_isr = kp_config_int(cfg, "transaction.state.log.min.isr");
	c->segment_bytes = kp_config_int(cfg, "transaction.state.log.segment.bytes");
	c->load_buffer = kp_config_int(cfg, "transaction.state.log.load.buffer.size");
	c->max_timeout_ms = kp_config_int(cfg, "transaction.max.timeout.ms");
	c->abort_interval_ms = kp_config_int(cfg,
		"transaction.abort.timed.out.transaction.cleanup.interval.ms");
	c->remove_interval_ms = kp_config_int(cfg,
		"transaction.remove.expired.transaction.cleanup.interval.ms");
	c->id_expiration_ms = kp_config_int(cfg, "transactional.id.expiration.ms");
	c->timeout_ms = kp_config_int(cfg, "request.timeout.ms");
	snprintf(c->client_id, sizeof(c->client_id), "broker-%d-txn-marker-sender", b->id);
	c->opts.client_id = c->client_id;
	c->opts.request_timeout_ms = c->timeout_ms;
	c->opts.connect_timeout_ms = c->timeout_ms;
	c->opts.tls = b->inter_tls;
	c->opts.tls_verify_host = b->inter_tls_verify_host;
	if (b->inter_sasl_mech != NULL) {
		c->opts.sasl_mechanism = b->inter_sasl_mech;
		c->opts.sasl_username = kp_jaas_get(&b->inter_sasl_jaas, "username");
		c->opts.sasl_password = kp_jaas_get(&b->inter_sasl_jaas, "password");
	}
	kp_timer_init(&c->marker_timer, marker_timer, c);
	kp_timer_init(&c->write_timer, write_timer, c);
	kp_timer_init(&c->abort_timer, abort_timer, c);
	kp_timer_init(&c->expire_timer, expire_timer, c);
	if (ensure_part(c, c->num_partitions - 1) < 0) {
		snprintf(err, errlen, "out of memory");
		kp_loop_free(c->loop);
		free(c->dests);
		free(c);
		return -1;
	}
	c->running = true;
	b->txn = c;
	purgatory_listen(b->purg, PURGATORY_KEY_TXN_LOG, hw_moved, b);
	if (pthread_create(&c->thread, NULL, run, c) != 0) {
		c->running = false;
		snprintf(err, errlen, "cannot start the transaction coordinator thread");
		return -1;
	}
	kp_loop_post(c->loop, arm_timers, c);
	return 0;
}

static void stop_loop(void *arg)
{
	struct txn_coord *c = arg;

	pthread_mutex_lock(&c->lock);
	for (int32_t i = 0; i < c->nparts; i++)
		if (c->parts[i].state != PART_NONE)
			unload(c, i);
	pthread_mutex_unlock(&c->lock);
	/* outstanding markers fail: their callbacks take the lock */
	for (int32_t i = 0; i < c->ndests; i++)
		if (c->dests[i].conn != NULL) {
			struct kp_conn *conn = c->dests[i].conn;

			c->dests[i].conn = NULL;
			kp_conn_free(conn);
		}
	kp_timer_stop(c->loop, &c->marker_timer);
	kp_timer_stop(c->loop, &c->write_timer);
	kp_timer_stop(c->loop, &c->abort_timer);
	kp_timer_stop(c->loop, &c->expire_timer);
	kp_loop_stop(c->loop);
}

void txn_stop(struct broker *b)
{
	struct txn_coord *c = b->txn;

	if (c == NULL || !c->running)
		return;
	if (kp_loop_post(c->loop, stop_loop, c) == 0)
		pthread_join(c->thread, NULL);
	c->running = false;
}

void txn_destroy(struct broker *b)
{
	struct txn_coord *c = b->txn;

	if (c == NULL)
		return;
	b->txn = NULL;
	for (int i = 0; i < NBUCKETS; i++)
		while (c->buckets[i] != NULL)
			unlink_meta(c, c->buckets[i]);
	free(c->parts);
	free(c->dests);
	kp_loop_free(c->loop);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
