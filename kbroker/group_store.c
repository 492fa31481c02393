/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_store.c - the group coordinator's persistence in
 * __consumer_offsets (see group_store.h): appends and their wait for the
 * ISR, loads, unloads, offset expiry.
 *
 * Appends go through the partition's leader path (log_append_leader under
 * the partition lock, as a producer's acks=all batch) and wait in the
 * partition's list until the high watermark passes them; the broker
 * reports a moved high watermark through group_hw_moved(), which runs
 * group_store_check_writes() on the coordinator's thread.
 */
#include "group_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "group_txn.h"
#include "kp_errors.h"
#include "kp_groupmeta.h"
#include "kp_log.h"
#include "kp_records.h"
#include "kp_txn.h"
#include "log.h"
#include "partition.h"
#include "purgatory.h"
#include "replica.h"

#define MAX_DECOMPRESSED (64u << 20)

enum part_state { PART_NONE, PART_LOADING, PART_LOADED };

struct store_write;

/* A transaction marker that reached a partition being loaded: applied
 * once the load is done (the load may have read it already: harmless). */
struct txn_marker_seen {
	int64_t pid;
	int64_t offset;
	bool commit;
};

/* A __consumer_offsets partition, as the store serves it. */
struct group_part {
	enum part_state state;
	uint32_t lead_gen;		/* the leadership being served */
	struct partition *p;
	/* appends waiting for the ISR, in append order */
	struct store_write *writes, **writes_tail;
	struct txn_marker_seen *markers; /* while loading */
	int32_t nmarkers, capmarkers;
};

/* An append to __consumer_offsets waiting for the ISR. */
struct store_write {
	struct store_write *next;
	uint32_t lead_gen;
	int64_t required;		/* the high watermark that acknowledges */
	int64_t deadline;
	group_store_done_fn done;
	void *arg;
	struct group *g;		/* referenced (nwrites) */
	int32_t generation;
	struct group_offset *offsets;	/* a commit's: installed on success */
	int64_t batch_offset;		/* where it was appended; -1: not */
	int64_t pid;			/* a transaction's (TxnOffsetCommit): its
					 * offsets pending from the append on;
					 * -1: none */
	int16_t epoch;
};

static void writes_due(struct group_deadline *d, int64_t now);
static void expiry_due(struct group_deadline *d, int64_t now);

/* ------------------------------------------------------------ set up */

int group_store_init(struct group_store *st, struct broker *b, pthread_mutex_t *lock,
		     struct group_table *groups, struct group_thread *thread)
{
	const struct kp_config *cfg = &b->cfg;

	memset(st, 0, sizeof(*st));
	st->b = b;
	st->lock = lock;
	st->groups = groups;
	st->thread = thread;
	st->num_partitions = kp_config_int(cfg, "offsets.topic.num.partitions");
	st->commit_timeout_ms = kp_config_int(cfg, "offsets.commit.timeout.ms");
	st->load_buffer = kp_config_int(cfg, "offsets.load.buffer.size");
	st->retention_ms = (int64_t)kp_config_int(cfg, "offsets.retention.minutes") * 60000;
	st->retention_check_ms = kp_config_long(cfg, "offsets.retention.check.interval.ms");
	st->nparts = st->num_partitions;
	st->parts = calloc((size_t)st->nparts + 1, sizeof(*st->parts));
	if (st->parts == NULL || group_thread_reserve(thread, GROUP_STORE_NDEADLINES) < 0)
		return -1;
	for (int32_t i = 0; i < st->nparts; i++)
		st->parts[i].writes_tail = &st->parts[i].writes;
	group_deadline_init(&st->writes_due, writes_due, st);
	group_deadline_init(&st->expiry_due, expiry_due, st);
	group_deadline_set(thread, &st->expiry_due, kp_now_ms() + st->retention_check_ms);
	return 0;
}

void group_store_free(struct group_store *st)
{
	for (int32_t i = 0; i < st->nparts; i++)
		free(st->parts[i].markers);
	free(st->parts);
	st->parts = NULL;
	st->nparts = 0;
}

/* Track partition idx (grows the array; the write lists' tails move). */
static int ensure_part(struct group_store *st, int32_t idx)
{
	struct group_part *np;

	if (idx < st->nparts)
		return 0;
	np = realloc(st->parts, sizeof(*np) * (size_t)(idx + 1));
	if (np == NULL)
		return -1;
	for (int32_t i = 0; i < st->nparts; i++)	/* tails point into the old array */
		if (np[i].writes == NULL)
			np[i].writes_tail = &np[i].writes;
		else {
			struct store_write *w = np[i].writes;

			while (w->next != NULL)
				w = w->next;
			np[i].writes_tail = &w->next;
		}
	for (int32_t i = st->nparts; i <= idx; i++) {
		memset(&np[i], 0, sizeof(np[i]));
		np[i].writes_tail = &np[i].writes;
	}
	st->parts = np;
	st->nparts = idx + 1;
	return 0;
}

/* ------------------------------------------------------------ ownership */

/* The __consumer_offsets partition count (the topic's, else the config). */
static int32_t offsets_nparts(const struct group_store *st)
{
	struct md_view *v = metadata_cache_get(&st->b->meta);
	const struct md_topic *t = md_view_topic(v, KP_OFFSETS_TOPIC,
						 strlen(KP_OFFSETS_TOPIC));
	int32_t n = t != NULL && t->nparts > 0 ? t->nparts : st->num_partitions;

	md_view_unref(v);
	return n;
}

kp_err_t group_store_owner(const struct group_store *st, kp_str group_id, int32_t *opart)
{
	int32_t n = offsets_nparts(st);

	*opart = kp_group_partition(group_id.ptr, group_id.len > 0 ? (size_t)group_id.len : 0, n);
	if (*opart >= st->nparts || st->parts[*opart].state == PART_NONE)
		return KP_ERR_NOT_COORDINATOR;
	if (st->parts[*opart].state == PART_LOADING)
		return KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	return 0;
}

bool group_store_loading(const struct group_store *st)
{
	for (int32_t i = 0; i < st->nparts; i++)
		if (st->parts[i].state == PART_LOADING)
			return true;
	return false;
}

/* ------------------------------------------------------------ appends */

static void write_free(struct store_write *w)
{
	while (w->offsets != NULL) {
		struct group_offset *o = w->offsets;

		w->offsets = o->next;
		group_offset_free(o);
	}
	group_unref(w->g);
	free(w);
}

/* w's fate is known: a commit's offsets installed on success, then the
 * callback. */
static void finish(struct store_write *w, int16_t err)
{
	if (err == 0 && !w->g->removed)
		while (w->offsets != NULL) {
			struct group_offset *o = w->offsets;

			w->offsets = o->next;
			o->log_offset = w->batch_offset;
			group_offset_put(w->g, o);
		}
	/* a transaction's offsets not acknowledged are not pending (Kafka's
	 * failPendingTxnOffsetCommit) */
	if (err != 0 && w->pid >= 0 && w->batch_offset >= 0 && !w->g->removed)
		group_txn_fail(w->g, w->pid, w->batch_offset);
	if (w->done != NULL)
		w->done(w->arg, w->g, w->generation, err);
	write_free(w);
}

static struct store_write *write_new(struct group *g, group_store_done_fn done, void *arg)
{
	struct store_write *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->done = done;
	w->arg = arg;
	w->g = g;
	w->generation = g->generation;
	w->batch_offset = -1;
	w->pid = -1;
	g->nwrites++;
	return w;
}

/*
 * The first queued write's timeout, after writes went.  With none left
 * the deadline stays where it was: it fires once for nothing, instead of
 * every append after a drained queue asking the thread to re-arm (commits
 * come in streams, and the queue drains between them all the time).
 */
static void writes_reschedule(struct group_store *st)
{
	int64_t t = 0;

	/* per partition, the first write has the earliest deadline */
	for (int32_t i = 0; i < st->nparts; i++) {
		const struct store_write *w = st->parts[i].writes;

		if (w != NULL && (t == 0 || w->deadline < t))
			t = w->deadline;
	}
	if (t != 0)
		group_deadline_set(st->thread, &st->writes_due, t);
}

/*
 * Append records (key/value pairs; value len -1: a tombstone) to partition
 * opart.  w (NULL: nobody waits) is consumed: queued until the ISR has the
 * records, or finished at once when the append fails.  A w with a pid
 * writes a transactional batch of that producer and epoch, its offsets
 * pending in the group from the append on.  0 or the append's Kafka
 * error code.
 */
static kp_err_t append(struct group_store *st, int32_t opart, const kp_bytes *keys,
		       const kp_bytes *values, int32_t n, struct store_write *w)
{
	struct broker *b = st->b;
	struct group_part *op = opart < st->nparts ? &st->parts[opart] : NULL;
	struct partition *p = op != NULL ? op->p : NULL;
	struct kp_record_in *recs = calloc((size_t)n + 1, sizeof(*recs));
	struct kp_batch_params bp;
	struct log_append_info ai;
	struct kp_wbuf wb;
	int64_t now = kp_wall_ms();
	int16_t err = 0;

	kp_wbuf_init(&wb);
	if (p == NULL || op->state == PART_NONE) {
		err = KP_ERR_NOT_LEADER_OR_FOLLOWER;
		goto out;
	}
	if (recs == NULL) {
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	for (int32_t i = 0; i < n; i++) {
		recs[i].key = keys[i];
		recs[i].value = values[i];
		recs[i].timestamp = now;
	}
	kp_batch_params_init(&bp);
	if (w != NULL && w->pid >= 0) {
		/* as Kafka's storeOffsets for a TxnOffsetCommit */
		bp.producer_id = w->pid;
		bp.producer_epoch = w->epoch;
		bp.base_sequence = 0;
		bp.transactional = true;
	}
	if (kp_batch_build(&wb, &bp, recs, n) < 0 || wb.err) {
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	pthread_mutex_lock(&p->lock);
	if (!p->leader || p->log == NULL || p->lead_gen != op->lead_gen ||
	    (atomic_load(&b->draining) && p->nreplicas > 1))
		err = KP_ERR_NOT_LEADER_OR_FOLLOWER;
	else if (p->nisr < p->min_isr)
		err = KP_ERR_NOT_ENOUGH_REPLICAS;
	else if (wb.len > (size_t)(p->max_message_bytes > 0 ? p->max_message_bytes
							 : b->message_max_bytes))
		err = KP_ERR_MESSAGE_TOO_LARGE;
	else if (bp.producer_id >= 0)
		err = (int16_t)log_append_coordinator(p->log, wb.data, wb.len,
						      p->leader_epoch, &ai);
	else
		err = (int16_t)log_append_leader(p->log, wb.data, wb.len,
						 p->leader_epoch, -1, &ai);
	if (err == 0)
		replica_update_hw(b, p);
	pthread_mutex_unlock(&p->lock);
	if (err == 0) {
		if (w != NULL) {
			w->lead_gen = op->lead_gen;
			w->batch_offset = ai.first_offset;
			while (w->pid >= 0 && w->offsets != NULL) {
				struct group_offset *o = w->offsets;

				w->offsets = o->next;
				group_txn_add(w->g, w->pid, o, ai.first_offset);
			}
			w->required = ai.last_offset + 1;
			w->deadline = kp_now_ms() + st->commit_timeout_ms;
			w->next = NULL;
			*op->writes_tail = w;
			op->writes_tail = &w->next;
			/* the coordinator's timer answers it at its deadline */
			group_deadline_by(st->thread, &st->writes_due, w->deadline);
			w = NULL;
		}
		purgatory_notify(b->purg, &p->watchers); /* followers; our check */
	}
out:
	if (w != NULL)
		finish(w, err);
	kp_wbuf_free(&wb);
	free(recs);
	return err;
}

kp_err_t group_store_write_group(struct group_store *st, struct group *g,
				 group_store_done_fn done, void *arg)
{
	struct kp_gm_member *ms = calloc((size_t)g->nmembers + 1, sizeof(*ms));
	struct store_write *w = done != NULL ? write_new(g, done, arg) : NULL;
	struct kp_gm_group gv;
	struct kp_wbuf kw, vw;
	kp_bytes key, val;
	int32_t n = 0;
	int16_t err;

	if (ms == NULL || (done != NULL && w == NULL)) {
		free(ms);
		if (w != NULL)
			finish(w, KP_ERR_UNKNOWN_SERVER_ERROR);
		else if (done != NULL)
			done(arg, g, g->generation, KP_ERR_UNKNOWN_SERVER_ERROR);
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	for (struct group_member *m = g->members; m; m = m->next) {
		struct kp_gm_member *o = &ms[n++];
		const struct group_protocol *p = group_member_protocol(m, g->protocol);
		kp_bytes sub = p != NULL ? (kp_bytes){ p->meta, p->len }
					 : (kp_bytes){ (const uint8_t *)"", 0 };
		o->member_id = kp_str_c(m->id);
		o->instance_id = kp_str_c(m->instance_id);
		o->client_id = kp_str_c(m->client_id);
		o->client_host = kp_str_c(m->client_host);
		o->rebalance_timeout = m->rebalance_ms;
		o->session_timeout = m->session_ms;
		o->subscription = sub;
		o->assignment = (kp_bytes){ m->assignment, m->assignment_len };
	}
	/* value v3, as Kafka 2.8 writes it */
	gv = (struct kp_gm_group){
		.protocol_type = g->protocol_type != NULL ? kp_str_c(g->protocol_type)
							  : (kp_str){ "", 0 },
		.generation = g->generation,
		.protocol = kp_str_c(g->protocol),
		.leader = kp_str_c(g->leader),
		.state_ts = g->fsm.since,
		.members = ms,
		.nmembers = n,
	};
	kp_wbuf_init(&kw);
	kp_wbuf_init(&vw);
	kp_gm_group_key_encode(&kw, kp_str_c(g->id));
	kp_gm_group_value_encode(&vw, &gv);
	key = (kp_bytes){ kw.data, (int32_t)kw.len };
	val = (kp_bytes){ vw.data, (int32_t)vw.len };
	if (kw.err || vw.err) {
		if (w != NULL)
			finish(w, KP_ERR_UNKNOWN_SERVER_ERROR);
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
	} else {
		err = append(st, g->opart, &key, &val, 1, w);
	}
	kp_wbuf_free(&kw);
	kp_wbuf_free(&vw);
	free(ms);
	return err;
}

static void commit(struct group_store *st, struct group *g, struct group_offset *offsets,
		   int64_t pid, int16_t epoch, group_store_done_fn done, void *arg);

void group_store_commit(struct group_store *st, struct group *g,
			struct group_offset *offsets, group_store_done_fn done,
			void *arg)
{
	commit(st, g, offsets, -1, 0, done, arg);
}

void group_store_commit_txn(struct group_store *st, struct group *g,
			    struct group_offset *offsets, int64_t pid, int16_t epoch,
			    group_store_done_fn done, void *arg)
{
	commit(st, g, offsets, pid, epoch, done, arg);
}

static void commit(struct group_store *st, struct group *g, struct group_offset *offsets,
		   int64_t pid, int16_t epoch, group_store_done_fn done, void *arg)
{
	struct store_write *w = write_new(g, done, arg);
	struct kp_wbuf kw, vw;
	size_t *kend = NULL, *vend = NULL;
	kp_bytes *keys = NULL, *vals = NULL;
	int32_t n = 0, i = 0;

	if (w == NULL) {
		while (offsets != NULL) {
			struct group_offset *o = offsets;

			offsets = o->next;
			group_offset_free(o);
		}
		done(arg, g, g->generation, KP_ERR_UNKNOWN_SERVER_ERROR);
		return;
	}
	w->offsets = offsets;
	w->pid = pid;
	w->epoch = epoch;
	for (struct group_offset *o = offsets; o; o = o->next)
		n++;
	kp_wbuf_init(&kw);
	kp_wbuf_init(&vw);
	keys = calloc((size_t)n + 1, sizeof(*keys));
	vals = calloc((size_t)n + 1, sizeof(*vals));
	kend = calloc((size_t)n + 1, sizeof(*kend));
	vend = calloc((size_t)n + 1, sizeof(*vend));
	if (keys == NULL || vals == NULL || kend == NULL || vend == NULL)
		goto fail;
	for (struct group_offset *o = offsets; o; o = o->next, i++) {
		kp_gm_offset_key_encode(&kw, kp_str_c(g->id), kp_str_c(o->topic), o->partition);
		kp_gm_offset_value_encode(&vw, &(struct kp_gm_offset){
			.offset = o->offset, .leader_epoch = o->leader_epoch,
			.metadata = kp_str_c(o->metadata), .commit_ts = o->commit_ts,
			.expire_ts = o->expire_ts });
		kend[i] = kw.len;
		vend[i] = vw.len;
	}
	if (kw.err || vw.err)
		goto fail;
	for (i = 0; i < n; i++) {
		size_t ks = i > 0 ? kend[i - 1] : 0, vs = i > 0 ? vend[i - 1] : 0;

		keys[i] = (kp_bytes){ kw.data + ks, (int32_t)(kend[i] - ks) };
		vals[i] = (kp_bytes){ vw.data + vs, (int32_t)(vend[i] - vs) };
	}
	append(st, g->opart, keys, vals, n, w);		/* consumes w */
	w = NULL;
fail:
	if (w != NULL)
		finish(w, KP_ERR_UNKNOWN_SERVER_ERROR);
	kp_wbuf_free(&kw);
	kp_wbuf_free(&vw);
	free(keys);
	free(vals);
	free(kend);
	free(vend);
}

int group_store_tombstones(struct group_store *st, struct group *g,
			   struct group_offset **os, int32_t nos, bool with_group)
{
	int32_t n = nos + (with_group ? 1 : 0), k = 0;
	int rc = -1;
	kp_bytes *keys = calloc((size_t)n + 1, sizeof(*keys));
	kp_bytes *vals = calloc((size_t)n + 1, sizeof(*vals));
	struct kp_wbuf kw;
	size_t *ends = calloc((size_t)n + 1, sizeof(*ends));

	kp_wbuf_init(&kw);
	if (keys == NULL || vals == NULL || ends == NULL)
		goto out;
	for (int32_t i = 0; i < nos; i++) {
		kp_gm_offset_key_encode(&kw, kp_str_c(g->id), kp_str_c(os[i]->topic),
					os[i]->partition);
		ends[k++] = kw.len;
	}
	if (with_group) {
		kp_gm_group_key_encode(&kw, kp_str_c(g->id));
		ends[k++] = kw.len;
	}
	if (kw.err)
		goto out;
	for (int32_t i = 0; i < n; i++) {
		size_t start = i > 0 ? ends[i - 1] : 0;

		keys[i] = (kp_bytes){ kw.data + start, (int32_t)(ends[i] - start) };
		vals[i] = KP_BYTES_NULL;
	}
	rc = n > 0 ? append(st, g->opart, keys, vals, n, NULL) : 0;
	if (rc != 0)
		KP_WARN("group %s: cannot write tombstones", g->id);
out:
	kp_wbuf_free(&kw);
	free(keys);
	free(vals);
	free(ends);
	return rc;
}

void group_store_group_tombstones(struct group_store *st, struct group *g)
{
	struct group_offset **os = calloc((size_t)g->noffsets + 1, sizeof(*os));
	int32_t n = 0;

	if (os == NULL)
		return;
	for (uint32_t i = 0; i < g->onbuckets; i++)
		for (struct group_offset *o = g->obuckets[i]; o; o = o->next)
			os[n++] = o;
	group_store_tombstones(st, g, os, n, true);
	free(os);
}

void group_store_check_writes(struct group_store *st, int64_t now)
{
	for (int32_t i = 0; i < st->nparts; i++) {
		struct group_part *op = &st->parts[i];
		struct partition *p = op->p;
		int64_t hw = 0;
		bool ok = false, short_isr = false;

		if (op->writes == NULL)
			continue;
		if (p != NULL) {
			pthread_mutex_lock(&p->lock);
			hw = atomic_load(&p->hw);
			ok = p->leader && p->log != NULL && p->lead_gen == op->lead_gen &&
				op->state != PART_NONE;
			short_isr = p->nisr < p->min_isr;
			pthread_mutex_unlock(&p->lock);
		}
		/*
		 * The list is in append order (appends and the queueing happen
		 * under our lock): offsets, deadlines and leader generations
		 * only grow along it, so the first write still waiting ends the
		 * walk.  (Walking the whole list at every high-watermark move
		 * cost O(pending) each time: with thousands of commits waiting,
		 * this thread took a core and starved the followers it waits
		 * for.)
		 */
		while (op->writes != NULL) {
			struct store_write *w = op->writes;
			int16_t err;

			if (!ok || w->lead_gen != op->lead_gen)
				err = KP_ERR_NOT_LEADER_OR_FOLLOWER;
			else if (hw >= w->required)
				err = short_isr ? KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND : 0;
			else if (now >= w->deadline)
				err = KP_ERR_REQUEST_TIMED_OUT;
			else
				break;
			op->writes = w->next;
			if (op->writes == NULL)
				op->writes_tail = &op->writes;
			finish(w, err);
		}
	}
	writes_reschedule(st);
}

/* The first queued write timed out (the thread, lock held). */
static void writes_due(struct group_deadline *d, int64_t now)
{
	group_store_check_writes(d->arg, now);
}

/* -------------------------------------------------------------- loads */

struct loader {
	struct group_table t;
	int32_t opart;
	int64_t records, offsets_seen, groups_seen;
	int64_t txn_live;		/* transactional offsets pending in t */
	struct kp_arena arena;
};

/* A marker: pid's offsets before it end in every group of t (the
 * groups it wrote to are not indexed: a load's markers are few).  How
 * many ended. */
static int64_t end_txn(struct group_table *t, int32_t opart, int64_t pid, bool commit,
		       int64_t offset)
{
	int64_t n = 0;

	for (uint32_t i = 0; i < t->nbuckets; i++)
		for (struct group *g = t->buckets[i]; g; g = g->next)
			if (g->txn_offsets != NULL && g->opart == opart)
				n += group_txn_complete(g, pid, commit, offset);
	return n;
}

/* An offset record of the batch at batch_offset; pid >= 0: written by a
 * transaction, pending until its marker. */
static void apply_offset(struct loader *l, const struct kp_gm_key *k,
			 kp_bytes value, int64_t batch_offset, int64_t pid)
{
	struct group *g = group_table_find(&l->t, k->group);
	struct kp_gm_offset v;
	struct group_offset *o;

	l->offsets_seen++;
	if (value.len < 0 && pid >= 0)
		return;		/* Kafka writes no transactional tombstones */
	if (value.len < 0) {
		if (g != NULL) {
			o = group_offset_find(g, k->topic.ptr, (size_t)k->topic.len, k->partition);
			if (o != NULL)
				group_offset_del(g, o);
		}
		return;
	}
	if (kp_gm_offset_value_decode(value.ptr, (size_t)value.len, &v) < 0) {
		KP_WARN("%s-%d: undecodable offset record for group %.*s",
			KP_OFFSETS_TOPIC, l->opart, (int)k->group.len, k->group.ptr);
		return;
	}
	if (g == NULL && (g = group_table_add(&l->t, k->group, l->opart)) == NULL)
		return;
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return;
	o->topic = kp_str_dup(k->topic);
	o->metadata = kp_str_dup(v.metadata);
	if (o->topic == NULL || (v.metadata.len >= 0 && o->metadata == NULL)) {
		group_offset_free(o);
		return;
	}
	o->partition = k->partition;
	o->offset = v.offset;
	o->leader_epoch = v.leader_epoch;
	o->commit_ts = v.commit_ts;
	o->expire_ts = v.expire_ts;
	o->log_offset = batch_offset;
	if (pid < 0)
		group_offset_put(g, o);
	else if (group_txn_add(g, pid, o, batch_offset) == 0)
		l->txn_live++;
}

static void clear_metadata(struct group *g)
{
	group_free_members(g, KP_ERR_NOT_COORDINATOR);
	free(g->protocol_type);
	free(g->protocol);
	free(g->leader);
	g->protocol_type = g->protocol = g->leader = NULL;
	g->generation = 0;
}

static void apply_group(struct loader *l, const struct kp_gm_key *k,
			kp_bytes value)
{
	struct group *g = group_table_find(&l->t, k->group);
	struct kp_gm_group v;

	l->groups_seen++;
	if (value.len < 0) {
		if (g != NULL)
			clear_metadata(g);
		return;
	}
	kp_arena_reset(&l->arena);
	if (kp_gm_group_value_decode(value.ptr, (size_t)value.len, &l->arena, &v) < 0) {
		KP_WARN("%s-%d: undecodable group record for %.*s", KP_OFFSETS_TOPIC,
			l->opart, (int)k->group.len, k->group.ptr);
		return;
	}
	if (g == NULL && (g = group_table_add(&l->t, k->group, l->opart)) == NULL)
		return;
	clear_metadata(g);
	g->protocol_type = v.protocol_type.len > 0 ? kp_str_dup(v.protocol_type) : NULL;
	g->protocol = kp_str_dup(v.protocol);
	g->leader = kp_str_dup(v.leader);
	g->generation = v.generation;
	g->fsm.since = v.state_ts;
	for (int32_t i = v.nmembers - 1; i >= 0; i--) {
		const struct kp_gm_member *src = &v.members[i];
		struct group_member *m = calloc(1, sizeof(*m));

		if (m == NULL)
			continue;
		m->id = kp_str_dup(src->member_id);
		m->instance_id = kp_str_dup(src->instance_id);
		m->client_id = kp_str_dup(src->client_id);
		m->client_host = kp_str_dup(src->client_host);
		m->session_ms = src->session_timeout;
		m->rebalance_ms = src->rebalance_timeout;
		m->protocols = calloc(1, sizeof(*m->protocols));
		m->assignment = malloc(src->assignment.len > 0 ? (size_t)src->assignment.len : 1);
		if (m->protocols != NULL && g->protocol != NULL) {
			m->nprotocols = 1;
			m->protocols[0].name = strdup(g->protocol);
			m->protocols[0].len = src->subscription.len > 0 ? src->subscription.len : 0;
			m->protocols[0].meta = malloc((size_t)m->protocols[0].len + 1);
			if (m->protocols[0].meta != NULL && m->protocols[0].len > 0)
				memcpy(m->protocols[0].meta, src->subscription.ptr,
				       (size_t)m->protocols[0].len);
		}
		if (m->assignment != NULL && src->assignment.len > 0) {
			memcpy(m->assignment, src->assignment.ptr, (size_t)src->assignment.len);
			m->assignment_len = src->assignment.len;
		}
		m->next = g->members;
		g->members = m;
		g->nmembers++;
	}
}

/* Read one batch's records into the loader. */
static void load_batch(struct loader *l, const uint8_t *batch, size_t len,
		       struct kp_wbuf *scratch)
{
	struct kp_record_iter it;
	struct kp_record rec;
	int64_t txn_pid;

	if (kp_record_iter_init(&it, batch, len, scratch, MAX_DECOMPRESSED) < 0)
		return;
	if (it.h.attributes & KP_ATTR_CONTROL) {
		/* a transaction's marker: its offsets committed or aborted */
		int type;
		int32_t coord_epoch;
		int64_t ts;

		if (it.h.producer_id >= 0 && l->txn_live > 0 &&
		    kp_txn_marker_parse(batch, len, &type, &coord_epoch, &ts) == 1)
			l->txn_live -= end_txn(&l->t, l->opart, it.h.producer_id,
					       type == KP_CONTROL_COMMIT, it.h.base_offset);
		return;
	}
	txn_pid = (it.h.attributes & KP_ATTR_TRANSACTIONAL) ? it.h.producer_id : -1;
	while (kp_record_iter_next(&it, &rec) == 1) {
		struct kp_gm_key k;
		int type;

		l->records++;
		if (rec.key.len < 0)
			continue;
		type = kp_gm_key_decode(rec.key.ptr, (size_t)rec.key.len, &k);
		if (type == KP_GM_OFFSET)
			apply_offset(l, &k, rec.value, it.h.base_offset, txn_pid);
		else if (type == KP_GM_GROUP)
			apply_group(l, &k, rec.value);
	}
}

/* Read log from its start into l; NULL, or why it stopped short. */
static const char *load_log(struct group_store *st, struct log *log, struct loader *l)
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
		int rc = log_read(log, off, st->load_buffer, LOG_NO_LIMIT, true, &res);

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
		log_read_done(&res);	/* clears res */
		while (pos < len) {
			struct kp_batch_header h;
			size_t size;

			if (kp_batch_size(buf + pos, len - pos, &size) != KP_BATCH_OK ||
			    kp_batch_header_parse(buf + pos, size, &h) != KP_BATCH_OK)
				break;
			if (kp_batch_last_offset(&h) >= off)
				load_batch(l, buf + pos, size, &scratch);
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

void group_store_load(struct group_store *st, int32_t opart, uint32_t lead_gen,
		      group_store_adopt_fn adopt, void *arg)
{
	struct loader l;
	struct partition *p;
	struct log *log = NULL;
	int64_t t0 = kp_now_ms();
	int32_t ngroups = 0, noffsets = 0;
	const char *why = NULL;	/* the log could not be read to its end */

	memset(&l, 0, sizeof(l));
	l.opart = opart;
	kp_arena_init(&l.arena, 0);
	pthread_mutex_lock(st->lock);
	p = opart < st->nparts && st->parts[opart].state == PART_LOADING &&
		st->parts[opart].lead_gen == lead_gen ? st->parts[opart].p : NULL;
	pthread_mutex_unlock(st->lock);
	if (p == NULL)
		goto done;
	pthread_mutex_lock(&p->lock);
	if (p->leader && p->lead_gen == lead_gen)
		log = p->log;
	pthread_mutex_unlock(&p->lock);
	if (log == NULL)
		goto done;
	why = load_log(st, log, &l);
done:
	pthread_mutex_lock(st->lock);
	if (p != NULL && log != NULL && st->parts[opart].state == PART_LOADING &&
	    st->parts[opart].lead_gen == lead_gen) {
		for (uint32_t i = 0; i < l.t.nbuckets; i++)
			while (l.t.buckets[i] != NULL) {
				struct group *g = l.t.buckets[i];

				l.t.buckets[i] = g->next;
				l.t.ngroups--;
				if (g->nmembers == 0 && g->noffsets == 0 &&
				    g->protocol_type == NULL && g->txn_offsets == NULL) {
					group_free(g);	/* nothing left of it */
					continue;
				}
				/* as Kafka's loadGroup: not a transition */
				group_fsm_init(&g->fsm, g->nmembers > 0 ? GROUP_STABLE
					       : GROUP_EMPTY, g->fsm.since >= 0 ? g->fsm.since
					       : kp_wall_ms());
				if (adopt(arg, g) < 0) {
					group_free(g);
					continue;
				}
				ngroups++;
				noffsets += (int32_t)g->noffsets;
			}
		st->parts[opart].state = PART_LOADED;
		/* markers that came while we read */
		for (int32_t i = 0; i < st->parts[opart].nmarkers; i++) {
			const struct txn_marker_seen *mk = &st->parts[opart].markers[i];

			end_txn(st->groups, opart, mk->pid, mk->commit, mk->offset);
		}
		st->parts[opart].nmarkers = 0;
		KP_INFO("group coordinator: loaded %s-%d in %" PRId64 " ms: %" PRId64
			" records, %d groups, %d committed offsets%s%s", KP_OFFSETS_TOPIC,
			opart, kp_now_ms() - t0, l.records, ngroups, noffsets,
			why != NULL ? "; the log could not be read to its end: " : "",
			why != NULL ? why : "");
	}
	pthread_mutex_unlock(st->lock);
	group_table_free(&l.t);
	kp_arena_free(&l.arena);
}

/* We no longer serve opart: its writes fail, its groups go. */
static void unload(struct group_store *st, int32_t opart)
{
	struct group_part *op = &st->parts[opart];
	struct group_table *t = st->groups;

	op->state = PART_NONE;
	op->nmarkers = 0;
	/* writes first: their answers may touch the groups */
	while (op->writes != NULL) {
		struct store_write *w = op->writes;

		op->writes = w->next;
		finish(w, KP_ERR_NOT_LEADER_OR_FOLLOWER);
	}
	op->writes_tail = &op->writes;
	writes_reschedule(st);
	for (uint32_t i = 0; i < t->nbuckets; i++)
		for (struct group *g = t->buckets[i], *next; g; g = next) {
			next = g->next;
			if (g->opart == opart)
				group_remove(t, st->thread, g);
		}
}

void group_store_unload_all(struct group_store *st)
{
	for (int32_t i = 0; i < st->nparts; i++)
		if (st->parts[i].state != PART_NONE)
			unload(st, i);
}

int group_store_role(struct group_store *st, struct partition *p, bool leader,
		     uint32_t lead_gen)
{
	struct group_part *op;

	if (ensure_part(st, p->index) < 0)
		return -1;
	op = &st->parts[p->index];
	op->p = p;
	if (!leader) {
		if (op->state != PART_NONE) {
			KP_INFO("group coordinator: unloading %s-%d", p->topic, p->index);
			unload(st, p->index);
		}
		return 0;
	}
	if (op->state != PART_NONE && op->lead_gen == lead_gen)
		return 0;
	if (op->state != PART_NONE)
		unload(st, p->index);
	op->state = PART_LOADING;
	op->lead_gen = lead_gen;
	return 1;
}

void group_store_load_cancel(struct group_store *st, int32_t opart)
{
	if (opart < st->nparts) {
		st->parts[opart].state = PART_NONE;
		st->parts[opart].nmarkers = 0;
	}
}

void group_store_txn_marker(struct group_store *st, int32_t opart, int64_t pid,
			    bool commit, int64_t offset)
{
	struct group_part *op = opart >= 0 && opart < st->nparts ? &st->parts[opart] : NULL;
	int64_t n;

	if (op == NULL || op->state == PART_NONE)
		return;		/* not ours: its next leader loads it */
	if (op->state == PART_LOADING) {
		if (op->nmarkers == op->capmarkers) {
			int32_t cap = op->capmarkers > 0 ? op->capmarkers * 2 : 8;
			struct txn_marker_seen *nm = realloc(op->markers,
							     sizeof(*nm) * (size_t)cap);

			if (nm == NULL) {
				KP_ERROR("%s-%d: out of memory keeping a transaction marker "
					 "for the load", KP_OFFSETS_TOPIC, opart);
				return;
			}
			op->markers = nm;
			op->capmarkers = cap;
		}
		op->markers[op->nmarkers++] = (struct txn_marker_seen){ pid, offset, commit };
		return;
	}
	n = end_txn(st->groups, opart, pid, commit, offset);
	if (n > 0)
		KP_DEBUG("%s-%d: producer %" PRId64 "'s %s marker at %" PRId64 " ended %" PRId64
			 " transactional offsets", KP_OFFSETS_TOPIC, opart, pid,
			 commit ? "commit" : "abort", offset, n);
}

/* ------------------------------------------------------------- expiry */

/* Kafka 2.8's removeExpiredOffsets for one group; then an Empty group
 * with nothing left goes. */
static void expire_group(struct group_store *st, struct group *g, int64_t now)
{
	bool has_type = g->protocol_type != NULL && g->protocol_type[0] != 0;
	bool consumer = has_type && strcmp(g->protocol_type, "consumer") == 0;
	struct group_offset **os;
	int32_t n = 0;

	if (has_type && g->fsm.state != GROUP_EMPTY && !(consumer && g->nmembers > 0))
		return;
	os = calloc((size_t)g->noffsets + 1, sizeof(*os));
	if (os == NULL)
		return;
	for (uint32_t i = 0; i < g->onbuckets; i++)
		for (struct group_offset *o = g->obuckets[i]; o; o = o->next) {
			int64_t base = o->commit_ts;
			bool expired;

			if (has_type && g->fsm.state == GROUP_EMPTY)
				base = g->fsm.since >= 0 ? g->fsm.since : o->commit_ts;
			else if (has_type && group_subscribes(g, kp_str_c(o->topic)))
				continue;
			if (o->expire_ts >= 0)
				expired = now >= o->expire_ts;
			else
				expired = now - base >= st->retention_ms;
			if (expired)
				os[n++] = o;
		}
	if (n > 0) {
		KP_INFO("group %s: %d committed offsets expired", g->id, n);
		group_store_tombstones(st, g, os, n, false);
		for (int32_t i = 0; i < n; i++)
			group_offset_del(g, os[i]);
	}
	free(os);
	if (g->fsm.state == GROUP_EMPTY && g->noffsets == 0 && g->nwrites == 0 &&
	    g->txn_offsets == NULL) {
		KP_INFO("group %s: empty and without offsets, removed", g->id);
		group_store_tombstones(st, g, NULL, 0, true);
		group_remove(st->groups, st->thread, g);
	}
}

/* An offset-expiry round (the thread, lock held), and the next. */
static void expiry_due(struct group_deadline *d, int64_t now)
{
	struct group_store *st = d->arg;
	struct group_table *t = st->groups;
	int64_t wall = kp_wall_ms();

	group_deadline_set(st->thread, d, now + st->retention_check_ms);
	for (uint32_t i = 0; i < t->nbuckets; i++)
		for (struct group *g = t->buckets[i], *next; g; g = next) {
			next = g->next;
			if (g->opart < st->nparts && st->parts[g->opart].state == PART_LOADED)
				expire_group(st, g, wall);
		}
}
