/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_fetch.c - Fetch, with long polling.
 *
 * Record data is never copied: each partition's data is a range of a
 * segment file, put in the response as an external piece that net.c sends
 * with sendfile(), the segment pinned until then.
 *
 * A fetch that finds fewer than min_bytes becomes a delayed operation on
 * its own worker (Kafka's DelayedFetch; purgatory.h): its frame is copied
 * into its arena and it watches the key of every partition it reads.  An
 * append, a new high watermark or a role change notifies the partition's
 * key, which wakes the worker (one coalesced wake-up per worker) to try
 * the fetches watching it again; max_wait_ms bounds the wait.
 *
 * KIP-227: from Fetch v7 a fetcher may open a session (fetch_session.h):
 * an incremental fetch is first expanded to the session's partitions, so
 * everything below reads them all as for a full fetch (a follower's
 * position in each moves its follower state as always), and the answer is
 * trimmed to what changed just before it is sent.  The session keeps each
 * partition's object, and marks those whose last answer was quiet with a
 * snapshot of what the answer depended on (snap_of): while the partition
 * still matches it, the fetch is not looked at again for it (skip()), so
 * an idle follower's fetch does not evaluate every partition twice
 * (before parking and after its wait) to answer nothing.
 *
 * KIP-392: from Fetch v11 a consumer may read from a follower (up to the
 * follower's high watermark), and a leader with replica.selector.class
 * set answers a consumer that names its rack with the replica to read
 * from instead of data (replica_preferred_read).
 *
 * Fetch v0-3 come from clients configured for Kafka before 0.11, which
 * read magic 0 (v0-1) or magic 1 (v2-3) messages only: what was read is
 * down-converted from the stored v2 batches into the response's memory,
 * as Kafka 2.8 does (KafkaApis.maybeConvertFetchedData,
 * LazyDownConversionRecords, RecordsUtil.downConvert).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_quota.h"
#include "api.h"
#include "authz.h"
#include "fetch_session.h"
#include "broker.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "kp_records.h"
#include "log.h"
#include "net.h"
#include "partition.h"
#include "purgatory.h"
#include "quota.h"
#include "replica.h"

/* A parked fetch (the op first: the purgatory hands it back). */
struct fetch_wait {
	struct delayed_op op;
	struct net_req *r;
	struct fetch_sess_ctx *sess;	/* KIP-227, or NULL */
	struct partition **parts;	/* resolve() */
	bool retried;			/* fetch_try ran: a watched key moved */
};

/* Does the session keep a slot (object, mark, snapshot) for partition k
 * of the expanded request?  An incremental fetch's only. */
static bool kept(const struct fetch_sess_ctx *sess, size_t k)
{
	return sess != NULL && k < (size_t)sess->n;
}

/* The partitions a fetch names (resolve()). */
struct fetch_parts {
	struct partition **pp;		/* in the fetch's order, NULL: not hosted */
	/* one per partition found, its key's count read before the first
	 * check (purgatory_watch_since) */
	struct purgatory_watch *watches;
	int32_t nwatches;
};

/*
 * The partitions the fetch names, in its order (topic by topic), NULL for
 * those we do not host: looked up once per request, where each pass over
 * the request (follower positions, available, park, respond) looked them
 * up again; a follower's session names every partition it follows, each
 * fetch.  A partition never leaves the table (partition.h), and a
 * detached request decodes to the same order.  Each key's count is read
 * here, before anything is checked: parking tries the fetch again only if
 * one moved since.  -1 when out of memory.
 */
static int resolve(struct net_req *r, struct fetch_parts *fp,
		   const struct fetch_sess_ctx *sess)
{
	struct broker *b = r->worker->broker;
	const struct kp_fetch_req *req = r->body;
	size_t total = 0, k = 0;

	for (int32_t i = 0; i < req->topics_count; i++)
		total += req->topics[i].partitions_count > 0
			? (size_t)req->topics[i].partitions_count : 0;
	fp->pp = kp_arena_calloc(&r->arena, total + 1, sizeof(*fp->pp));
	fp->watches = kp_arena_calloc(&r->arena, total + 1, sizeof(*fp->watches));
	fp->nwatches = 0;
	if (fp->pp == NULL || fp->watches == NULL)
		return -1;
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_fetch_req_fetch_topic *t = &req->topics[i];

		for (int32_t j = 0; j < t->partitions_count; j++, k++) {
			/* the session's cache: a partition never leaves the
			 * table, so what a name found once it finds always */
			struct partition *p = kept(sess, k) ? sess->objs[k] : NULL;

			if (p == NULL)
				p = partition_find(&b->parts, t->topic.ptr,
						   (size_t)t->topic.len,
						   t->partitions[j].partition);
			if (kept(sess, k))
				sess->objs[k] = p;
			fp->pp[k] = p;
			if (p != NULL)
				purgatory_watch_init(&fp->watches[fp->nwatches++],
						     &p->watchers);
		}
	}
	return 0;
}

/* Everything p's answer depends on besides the fetch position
 * (fetch_session.h); read without p's lock as check_partition() does. */
static void snap_of(struct partition *p, struct fetch_snap *sn)
{
	struct log *log = p->log;

	sn->log = log;
	sn->leader = p->leader;
	sn->leader_epoch = p->leader_epoch;
	sn->zk_version = p->zk_version;
	sn->hw = atomic_load(&p->hw);
	sn->leo = sn->start = sn->lso = -1;
	sn->offline = false;
	if (log != NULL) {
		sn->leo = log_end_offset(log);
		sn->start = log_start_offset(log);
		sn->lso = log_lso(log, sn->hw);
		sn->offline = log_is_offline(log);
	}
}

static bool snap_eq(const struct fetch_snap *a, const struct fetch_snap *b)
{
	return a->log == b->log && a->leo == b->leo && a->start == b->start &&
	       a->hw == b->hw && a->lso == b->lso && a->leader_epoch == b->leader_epoch &&
	       a->zk_version == b->zk_version && a->leader == b->leader &&
	       a->offline == b->offline;
}

/*
 * May the partitions of topic be left out when quiet (skip())?  Not when
 * the answer may depend on more than the partition and the position: the
 * fetcher's rights (checked here, per topic: an ACL taken away must show)
 * and, for a consumer naming its rack, the other replicas (KIP-392).
 */
static bool may_skip(struct net_req *r, const struct fetch_sess_ctx *sess, kp_str topic)
{
	const struct kp_fetch_req *req = r->body;

	if (sess == NULL || sess->marks == NULL)
		return false;
	if (req->replica_id >= 0)
		return authz_cluster(r, KP_ACL_OP_CLUSTER_ACTION);
	if (r->worker->broker->rack_aware_reads && r->h.api_version >= 11 &&
	    req->rack_id.len > 0)
		return false;
	return authz_ok_str(r, KP_ACL_OP_READ, KP_ACL_RT_TOPIC, topic);
}

/*
 * Partition k (of the expanded request) was quiet at its last answer and
 * nothing it depends on moved since: its answer would be the same
 * nothing; marked SKIPPED.  A partition found SKIPPED is taken as it is
 * when trusted (the look was this fetch's first, or no key it watches
 * was notified since); else its snapshot is compared again.  *now (if
 * not NULL) gets p's snapshot, taken before anything else is read of p,
 * when it is looked at.
 */
static bool skip(const struct fetch_sess_ctx *sess, bool allowed, size_t k,
		 struct partition *p, bool trust, struct fetch_snap *now)
{
	struct fetch_snap tmp;
	uint8_t m;
	bool quiet;

	if (p == NULL || !kept(sess, k))
		return false;
	m = sess->marks[k];
	if (allowed && trust && m == FETCH_SKIPPED)
		return true;
	quiet = allowed && (m == FETCH_QUIET || m == FETCH_SKIPPED);
	if (!quiet && now == NULL)
		return false;
	if (now == NULL)
		now = &tmp;
	snap_of(p, now);
	if (quiet && snap_eq(&sess->snaps[k], now)) {
		sess->marks[k] = FETCH_SKIPPED;
		return true;
	}
	if (quiet)
		sess->marks[k] = FETCH_EVAL;
	return false;
}

/*
 * What a fetch may read of p: an error, or the offset bound (*limit).
 *
 * v12 (KIP-595): a fetcher names the epoch of the last batch it has.  When
 * that epoch ends in our log before the fetch offset, or we never had it,
 * the fetcher diverged: *div gets the epoch and end offset to truncate to
 * (it stays -1 otherwise) and there is nothing to read.  An epoch we
 * cannot place, or an offset below our log start, is out of range.  As
 * Kafka's Partition.readRecords, before the offset is checked against
 * our log end: a diverged follower may be ahead of us.
 */
static kp_err_t check_partition(const struct net_req *r, kp_str topic, struct partition *p,
			        const struct kp_fetch_req_fetch_partition *fp,
			        int64_t *limit, struct kp_fetch_resp_epoch_end_offset *div)
{
	const struct kp_fetch_req *req = r->body;
	int16_t err;

	div->epoch = -1;
	div->end_offset = -1;
	/* as Kafka's handleFetchRequest: replicas need ClusterAction on the
	 * cluster, consumers Read on the topic (authz.h) */
	if (req->replica_id >= 0 ? !authz_cluster(r, KP_ACL_OP_CLUSTER_ACTION)
				 : !authz_ok_str(r, KP_ACL_OP_READ, KP_ACL_RT_TOPIC, topic))
		return KP_ERR_TOPIC_AUTHORIZATION_FAILED;
	if (p == NULL || p->log == NULL)
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	/* as Kafka: a replica in an offline log dir, whatever its role */
	if (log_is_offline(p->log))
		return KP_ERR_KAFKA_STORAGE_ERROR;
	/* as Kafka: followers serve consumers that send client metadata
	 * (v11), replicas always fetch from the leader */
	if (!p->leader && (req->replica_id >= 0 || r->h.api_version < 11))
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	err = partition_check_epoch(p, fp->current_leader_epoch);
	if (err != 0)
		return err;
	if (r->h.api_version >= 12 && fp->last_fetched_epoch >= 0) {
		int32_t epoch;
		int64_t end;

		pthread_mutex_lock(&p->lock);
		log_end_offset_for_epoch(p->log, fp->last_fetched_epoch, &epoch, &end);
		pthread_mutex_unlock(&p->lock);
		if (epoch < 0 || end < 0 || fp->fetch_offset < log_start_offset(p->log))
			return KP_ERR_OFFSET_OUT_OF_RANGE;
		if (epoch < fp->last_fetched_epoch || end < fp->fetch_offset) {
			div->epoch = epoch;
			div->end_offset = end;
			return 0;
		}
	}
	/* consumers read up to the high watermark (read_committed ones, v4+,
	 * to the last stable offset), followers to the end */
	if (req->replica_id >= 0) {
		*limit = log_end_offset(p->log);
	} else {
		int64_t hw = atomic_load(&p->hw);

		*limit = r->h.api_version >= 4 && req->isolation_level == 1
			? log_lso(p->log, hw) : hw;
	}
	if (fp->fetch_offset < log_start_offset(p->log) ||
	    fp->fetch_offset > log_end_offset(p->log))
		return KP_ERR_OFFSET_OUT_OF_RANGE;
	/* as Kafka's updateFollowerFetchState: a replica id the partition's
	 * assignment does not have (a spoofed one, or ours) gets no records,
	 * error NONE, and moved nothing (replica_follower_fetch); a follower
	 * at our log end gets none anyway (no lock taken: the idle case) */
	if (req->replica_id >= 0 && *limit > fp->fetch_offset &&
	    !replica_is_follower(p, req->replica_id))
		*limit = fp->fetch_offset;
	return 0;
}

/*
 * Kafka's shouldLeaderThrottle: a follower outside the ISR fetching a
 * partition throttled on our (the leader's) side while the leader quota
 * is exceeded gets nothing for it.  In-sync followers are never held back.
 */
static bool leader_throttle(struct broker *b, const struct kp_fetch_req *req,
			    struct partition *p)
{
	bool in_isr;

	if (req->replica_id < 0 ||
	    !quota_repl_throttled(b->quotas, true, p->topic, strlen(p->topic), p->index))
		return false;
	pthread_mutex_lock(&p->lock);
	in_isr = partition_in_isr(p, req->replica_id);
	pthread_mutex_unlock(&p->lock);
	return !in_isr && quota_exceeded(&b->quotas->leader, kp_now_ms());
}

/*
 * KIP-392: the replica the leader sends this consumer to for fp, or -1 to
 * read here.  *v is the metadata snapshot, taken on first need.
 */
static int32_t preferred_replica(struct net_req *r, struct partition *p,
				 const struct kp_fetch_req_fetch_partition *fp,
				 struct md_view **v)
{
	struct broker *b = r->worker->broker;
	const struct kp_fetch_req *req = r->body;

	if (!b->rack_aware_reads || r->h.api_version < 11 || req->replica_id >= 0 ||
	    req->rack_id.len <= 0 || !p->leader)
		return -1;
	if (*v == NULL)
		*v = metadata_cache_get(&b->meta);
	return replica_preferred_read(b, p, req->rack_id.ptr, (size_t)req->rack_id.len,
				      fp->fetch_offset, *v);
}

/*
 * Bytes a fetch would get now, counted until min_bytes is reached (the
 * rest need not be read); *done when an error or a preferred read replica
 * must be answered at once (as Kafka's fetchMessages).
 */
static int64_t available(struct net_req *r, struct partition **pp,
			 const struct fetch_sess_ctx *sess, bool trust, bool *done)
{
	struct broker *b = r->worker->broker;
	const struct kp_fetch_req *req = r->body;
	struct md_view *v = NULL;
	int64_t total = 0;
	size_t k = 0;

	for (int32_t i = 0; i < req->topics_count && total < req->min_bytes && !*done; i++) {
		const struct kp_fetch_req_fetch_topic *t = &req->topics[i];
		bool allowed = may_skip(r, sess, t->topic);
		size_t first = k;

		for (int32_t j = 0; j < t->partitions_count && total < req->min_bytes; j++) {
			const struct kp_fetch_req_fetch_partition *fp = &t->partitions[j];
			struct partition *p = pp[first + (size_t)j];
			struct log_read_result rr;
			struct kp_fetch_resp_epoch_end_offset div;
			int64_t limit = 0;

			if (skip(sess, allowed, first + (size_t)j, p, trust, NULL))
				continue;
			/* an error, a divergence or a preferred read replica
			 * is answered at once */
			if (check_partition(r, t->topic, p, fp, &limit, &div) != 0 ||
			    div.epoch >= 0 || preferred_replica(r, p, fp, &v) >= 0) {
				*done = true;
				break;
			}
			if (limit <= fp->fetch_offset || leader_throttle(b, req, p))
				continue;
			if (log_read(p->log, fp->fetch_offset, fp->partition_max_bytes,
				     limit, true, &rr) == 0) {
				total += rr.length;
				log_read_done(&rr);
			}
		}
		k = first + (t->partitions_count > 0 ? (size_t)t->partitions_count : 0);
	}
	if (v != NULL)
		md_view_unref(v);
	return total;
}

#define MAX_DECOMPRESSED (256u << 20)

/*
 * The records of one partition for a Fetch v0-3: the range read, rebuilt
 * as magic 0 or 1 messages in r's arena.  As Kafka's lazy down-conversion:
 * the first batch that yields messages is always whole, the rest stops at
 * max(bytes read, that batch converted) (whole messages here, where Kafka
 * cuts the last one and pads); zstd cannot be converted
 * (UNSUPPORTED_COMPRESSION_TYPE when it comes first, else the data stops
 * before it); when nothing converts (a v0-2 fetch whose limit cuts the
 * first batch, only control batches) the answer is Kafka's 12-byte
 * overflow stub, a message header claiming more than follows, which
 * clients take as "the message is larger than the fetch size".
 */
static kp_err_t down_convert(struct net_req *r, struct partition *p,
			     const struct kp_fetch_req *req, int64_t fetch_offset,
			     const struct log_read_result *rr, kp_records *recs)
{
	struct net_worker *w = r->worker;
	int8_t magic = r->h.api_version <= 1 ? 0 : 1;
	size_t len = (size_t)rr->length, pos = 0, cap = 0, size, n;
	uint8_t *in, *copy;

	/* message.downconversion.enable is for consumers only */
	if (req->replica_id < 0 && !p->log->cfg.downconversion)
		return KP_ERR_UNSUPPORTED_VERSION;
	kp_wbuf_reset(&w->conv_in);
	kp_wbuf_reset(&w->conv);
	in = kp_wbuf_reserve(&w->conv_in, len);
	if (in == NULL)
		return KP_ERR_KAFKA_STORAGE_ERROR;
	for (size_t done = 0; done < len; ) {
		ssize_t got = pread(rr->fd, in + done, len - done,
				    (off_t)rr->position + (off_t)done);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return KP_ERR_KAFKA_STORAGE_ERROR;
		done += (size_t)got;
	}
	/* the log holds v2 batches only; a partial last one is left out */
	while (pos < len && (cap == 0 || w->conv.len < cap) &&
	       kp_batch_size(in + pos, len - pos, &size) == KP_BATCH_OK &&
	       in[pos + KP_BATCH_OFF_MAGIC] == 2) {
		int rc = kp_batch_down_convert(in + pos, size, magic, fetch_offset,
					       &w->scratch, &w->conv_raw,
					       MAX_DECOMPRESSED, &w->conv);

		if (rc == KP_DOWNCONV_ZSTD && w->conv.len == 0)
			return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
		if (rc < 0)
			break;
		if (cap == 0 && w->conv.len > 0)
			cap = len > w->conv.len ? len : w->conv.len;
		pos += size;
	}
	if (w->conv.len == 0) {
		kp_write_i64(&w->conv, -1);
		kp_write_i32(&w->conv, KP_BATCH_HEADER_SIZE);
		n = w->conv.len;
	} else {
		n = kp_message_set_prefix(w->conv.data, w->conv.len, cap);
	}
	if (w->conv.err || n > INT32_MAX ||
	    (copy = kp_arena_alloc(&r->arena, n)) == NULL)
		return KP_ERR_KAFKA_STORAGE_ERROR;
	memcpy(copy, w->conv.data, n);
	*recs = (kp_records){ .ptr = copy, .len = (int32_t)n, .ext = NULL };
	return 0;
}

struct aborted_acc {
	struct kp_arena *a;
	struct kp_fetch_resp_aborted_transaction *v;
	int32_t n, cap;
};

static int aborted_add(void *arg, const struct kp_aborted_txn *e)
{
	struct aborted_acc *acc = arg;

	if (acc->n == acc->cap) {
		int32_t cap = acc->cap ? acc->cap * 2 : 8;
		struct kp_fetch_resp_aborted_transaction *nv =
			kp_arena_calloc(acc->a, (size_t)cap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		if (acc->n > 0)
			memcpy(nv, acc->v, (size_t)acc->n * sizeof(*nv));
		acc->v = nv;
		acc->cap = cap;
	}
	kp_struct_init(&kp_fetch_resp_aborted_transaction_desc, &acc->v[acc->n]);
	acc->v[acc->n].producer_id = e->pid;
	acc->v[acc->n].first_offset = e->first_offset;
	acc->n++;
	return 0;
}

/*
 * Kafka's Log.collectAbortedTransactions for a read_committed fetch: the
 * aborted transactions overlapping the offsets read, [fetch_offset,
 * upper), upper being the offset after the range (the next segment's
 * base, or the read's limit when the range reaches into the last
 * segment; an upper bound, as Kafka's index lookup gives one).  -1 when
 * out of memory.
 */
static int aborted_txns(struct net_req *r, struct partition *p, int64_t fetch_offset,
			const struct log_read_result *rr, int64_t limit,
			struct kp_fetch_resp_partition_data *out)
{
	struct aborted_acc acc = { &r->arena, NULL, 0, 0 };
	int64_t upper = limit;
	size_t got;

	pthread_mutex_lock(&p->log->lock);
	for (int i = 0; i + 1 < p->log->nsegs; i++)
		if (p->log->segs[i] == rr->seg) {
			if (p->log->segs[i + 1]->base_offset < upper)
				upper = p->log->segs[i + 1]->base_offset;
			break;
		}
	pthread_mutex_unlock(&p->log->lock);
	got = log_txnidx_collect(&p->log->aborted, fetch_offset, upper, aborted_add, &acc);
	if (acc.n < (int32_t)got)
		return -1;
	out->aborted_transactions = acc.v;
	out->aborted_transactions_count = acc.n;
	return 0;
}

/* Kafka answers Fetch v0-5 NOT_LEADER_OR_FOLLOWER for a storage error,
 * which those clients know to retry. */
static kp_err_t storage_error(const struct net_req *r)
{
	return r->h.api_version <= 5 ? KP_ERR_NOT_LEADER_OR_FOLLOWER
				     : KP_ERR_KAFKA_STORAGE_ERROR;
}

/* A file range of the response lets its segment go once sent. */
static void segment_release(void *seg)
{
	log_segment_unref(seg);
}

/* trust: as skip()'s */
static void respond(struct net_req *r, struct partition **pp,
		    const struct fetch_sess_ctx *sess, bool trust)
{
	struct broker *b = r->worker->broker;
	const struct kp_fetch_req *req = r->body;
	struct net_worker *w = r->worker;
	struct kp_fetch_resp resp;
	struct md_view *v = NULL;
	int64_t budget = req->max_bytes > 0 ? req->max_bytes : 0;
	int64_t qmax = quota_fetch_budget(r);
	bool have_data = false;
	size_t k = 0;

	/* a consumer's quota caps what one fetch returns (Kafka's
	 * getMaxValueInQuotaWindow) */
	if (qmax < budget)
		budget = qmax;
	kp_struct_init(r->api->resp, &resp);
	resp.responses = kp_arena_calloc(&r->arena, (size_t)req->topics_count + 1,
					 sizeof(*resp.responses));
	if (resp.responses == NULL)
		goto oom;
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_fetch_req_fetch_topic *t = &req->topics[i];
		struct kp_fetch_resp_fetchable_topic_response *tr = &resp.responses[i];
		bool allowed = may_skip(r, sess, t->topic);

		kp_struct_init(&kp_fetch_resp_fetchable_topic_response_desc, tr);
		tr->topic = t->topic;
		/* not zeroed: what is skipped is never read (trim() drops it
		 * by its mark), the rest is initialised below */
		tr->partitions = kp_arena_alloc(&r->arena, ((size_t)t->partitions_count + 1) *
						sizeof(*tr->partitions));
		if (tr->partitions == NULL)
			goto oom;
		tr->partitions_count = t->partitions_count;
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const struct kp_fetch_req_fetch_partition *fp = &t->partitions[j];
			struct kp_fetch_resp_partition_data *out = &tr->partitions[j];
			size_t at = k++;
			struct partition *p = pp[at];
			struct log_read_result rr;
			struct net_file_range *fr;
			struct fetch_snap snap;
			int64_t limit = 0, max;

			kp_mctr_add(&w->m->total_fetch, 1);
			/* SKIPPED: the session drops it unseen */
			if (skip(sess, allowed, at, p, trust, &snap))
				continue;
			kp_struct_init(&kp_fetch_resp_partition_data_desc, out);
			out->partition_index = fp->partition;
			if (kept(sess, at))
				sess->marks[at] = FETCH_EVAL;
			out->high_watermark = -1;
			out->records = (kp_records){ .ptr = NULL, .len = 0 };
			out->error_code = check_partition(r, t->topic, p, fp, &limit,
							  &out->diverging_epoch);
			if (out->error_code != 0)
				kp_mctr_add(&w->m->failed_fetch, 1);
			if (p != NULL && p->log != NULL) {
				out->high_watermark = atomic_load(&p->hw);
				out->last_stable_offset = log_lso(p->log, out->high_watermark);
				out->log_start_offset = log_start_offset(p->log);
			}
			/* read_uncommitted gets null, read_committed an empty list */
			out->aborted_transactions_count = req->isolation_level ? 0 : -1;
			if (out->error_code != 0 || out->diverging_epoch.epoch >= 0)
				continue;
			/* a preferred read replica comes instead of data */
			out->preferred_read_replica = preferred_replica(r, p, fp, &v);
			if (out->preferred_read_replica < 0 && limit <= fp->fetch_offset &&
			    kept(sess, at)) {
				/* nothing to read, nothing wrong: quiet until
				 * something in the snapshot moves */
				sess->marks[at] = FETCH_SETTLED;
				sess->snaps[at] = snap;
			}
			if (out->preferred_read_replica >= 0 || limit <= fp->fetch_offset ||
			    leader_throttle(b, req, p))
				continue;
			max = fp->partition_max_bytes < budget ? fp->partition_max_bytes : budget;
			/* KIP-74: the first batch returned may exceed the limits,
			 * so a large batch cannot block a consumer forever; v0-2
			 * have hard limits (a cut batch) */
			if (log_read(p->log, fp->fetch_offset, max, limit,
				     !have_data && r->h.api_version >= 3, &rr) != 0) {
				out->error_code = storage_error(r);
				continue;
			}
			if (rr.seg == NULL)
				continue;
			/* read_committed: the aborted transactions of the range */
			if (r->h.api_version >= 4 && req->isolation_level == 1 &&
			    req->replica_id < 0 &&
			    aborted_txns(r, p, fp->fetch_offset, &rr, limit, out) < 0) {
				log_read_done(&rr);
				goto oom;
			}
			if (r->h.api_version < 4) {
				int16_t err = down_convert(r, p, req, fp->fetch_offset,
							   &rr, &out->records);

				budget -= rr.length;
				if (budget < 0)
					budget = 0;
				have_data = true;
				log_read_done(&rr);
				if (err == 0 && req->replica_id < 0)
					kp_mctr_add(&w->m->bytes_out, (uint64_t)out->records.len);
				if (err == KP_ERR_KAFKA_STORAGE_ERROR)
					err = storage_error(r);
				if (err != 0) {
					/* as Kafka's errorResponse */
					out->error_code = err;
					out->high_watermark = -1;
					out->last_stable_offset = -1;
					out->log_start_offset = -1;
				}
				continue;
			}
			fr = net_req_file_range(r, rr.fd, rr.position, segment_release,
						rr.seg);
			if (fr == NULL) {
				log_read_done(&rr);
				goto oom;
			}
			/* the response owns the segment reference now */
			out->records = (kp_records){ .ptr = NULL, .len = (int32_t)rr.length,
						     .ext = fr };
			if (req->replica_id < 0)
				kp_mctr_add(&w->m->bytes_out, (uint64_t)rr.length);
			/* the leader quota counts what throttled partitions send
			 * to any follower, in sync or not (Kafka's record()) */
			if (req->replica_id >= 0 &&
			    quota_repl_throttled(b->quotas, true, p->topic,
						 strlen(p->topic), p->index))
				quota_record(&b->quotas->leader, rr.length, kp_now_ms());
			budget -= rr.length;
			if (budget < 0)
				budget = 0;
			have_data = true;
		}
	}
	resp.responses_count = req->topics_count;
	resp.session_id = 0;
	fetch_session_finish(b->fsessions, sess, req, &resp, kp_now_ms());
	if (v != NULL)
		md_view_unref(v);
	/* KIP-219: the consumer's quota counts the response's size; over
	 * it, the answer goes out empty with the throttle time (the data
	 * read stays unsent: its segment references go with the slot) */
	if (quota_fetch_check(r, (int64_t)kp_encoded_size(r->api->resp, r->h.api_version,
							  kp_api_flexible(r->api, r->h.api_version),
							  &resp)))
		resp.responses_count = 0;
	net_reply(r, &resp);
	net_worker_trim(w);
	return;
oom:
	if (v != NULL)
		md_view_unref(v);
	net_req_fail(r, "out of memory");
}

/* ------------------------------------------------------------ parking */

/* Enough to answer (or an error to answer at once), or nobody to answer. */
static bool fetch_try(struct delayed_op *op)
{
	struct fetch_wait *fw = (struct fetch_wait *)op;
	const struct kp_fetch_req *req = fw->r->body;
	bool done = false;

	fw->retried = true;
	return net_req_orphaned(fw->r) ||
	       available(fw->r, fw->parts, fw->sess, false, &done) >= req->min_bytes || done;
}

/* Satisfied, max_wait_ms passed, or the broker stops: answer what there is. */
static void fetch_complete(struct delayed_op *op, enum purgatory_end end)
{
	struct fetch_wait *fw = (struct fetch_wait *)op;

	/* no key moved during the wait: what was skipped at the start
	 * stays skipped (a change nobody notifies, as the log start moved
	 * by retention, shows in the next fetch) */
	respond(fw->r, fw->parts, fw->sess,	/* op lives in r's arena */
		end == PURGATORY_EXPIRED && !fw->retried);
}

static const struct delayed_op_type fetch_wait_type = {
	"fetch", fetch_try, fetch_complete, NULL
};

static void park(struct net_req *r, struct fetch_parts *fp,
		 struct fetch_sess_ctx *sess)
{
	const struct kp_fetch_req *req;
	struct fetch_wait *fw;

	if (net_req_detach(r) < 0 ||
	    (fw = kp_arena_calloc(&r->arena, 1, sizeof(*fw))) == NULL) {
		respond(r, fp->pp, sess, false);
		return;
	}
	req = r->body;
	fw->r = r;
	fw->sess = sess;
	fw->parts = fp->pp;
	/* the counts were read before available() looked */
	purgatory_watch_since(r->worker->home, &fw->op, &fetch_wait_type, fp->watches,
			      fp->nwatches, req->max_wait_ms);
}

/* A fetch refused before any partition is read (a session error). */
static void respond_error(struct net_req *r, kp_err_t err)
{
	struct kp_fetch_resp resp;

	kp_struct_init(r->api->resp, &resp);
	resp.error_code = err;
	resp.session_id = 0;
	resp.responses_count = 0;
	net_reply(r, &resp);
}

/*
 * A follower's fetch offset is its log end: the leader's view of it (a
 * replica fetch needs ClusterAction with an authorizer).  In the same
 * pass, while p's lines are at hand, the session's quiet partitions that
 * did not change are marked SKIPPED (skip()).
 */
static void first_look(struct net_req *r, struct partition **pp,
		       const struct fetch_sess_ctx *sess)
{
	const struct kp_fetch_req *req = r->body;
	struct broker *b = r->worker->broker;
	bool follower = req->replica_id >= 0 && authz_cluster(r, KP_ACL_OP_CLUSTER_ACTION);
	int64_t now = kp_now_ms();
	size_t k = 0;

	if (!follower && (sess == NULL || sess->marks == NULL))
		return;
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_fetch_req_fetch_topic *t = &req->topics[i];
		bool allowed = may_skip(r, sess, t->topic);

		for (int32_t j = 0; j < t->partitions_count; j++, k++) {
			const struct kp_fetch_req_fetch_partition *fp = &t->partitions[j];
			struct partition *p = pp[k];

			if (p == NULL)
				continue;
			if (follower)
				replica_follower_fetch(b, p, req->replica_id, fp->fetch_offset,
						       fp->log_start_offset, now);
			(void)skip(sess, allowed, k, p, false, NULL);
		}
	}
}

void api_fetch(struct net_req *r)
{
	const struct kp_fetch_req *req = r->body;
	struct fetch_sess_ctx *sess = NULL;
	struct fetch_parts parts;
	struct partition **pp;
	bool done = false;

	if (r->h.api_version >= 7) {
		kp_err_t err;

		/* an incremental fetch rewrites the decoded request, which
		 * parking must not decode again: the frame is kept first */
		if (req->session_epoch > 0 && net_req_detach(r) < 0) {
			net_req_fail(r, "out of memory");
			return;
		}
		req = r->body;
		err = fetch_session_begin(r->worker->broker->fsessions, &r->arena,
					  r->body, kp_now_ms(), &sess);
		if (err != 0) {
			respond_error(r, err);
			return;
		}
	}

	if (resolve(r, &parts, sess) < 0) {
		net_req_fail(r, "out of memory");
		return;
	}
	pp = parts.pp;
	first_look(r, pp, sess);
	if (req->max_wait_ms > 0 && req->min_bytes > 0 &&
	    available(r, pp, sess, true, &done) < req->min_bytes && !done) {
		park(r, &parts, sess);
		return;
	}
	respond(r, pp, sess, true);
}
