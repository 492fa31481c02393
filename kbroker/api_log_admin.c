/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_log_admin.c - the admin APIs on a broker's logs: DeleteRecords (21)
 * and DescribeLogDirs (35), with Kafka 2.8's semantics.
 *
 * DeleteRecords: on the leader, each partition's log start offset moves to
 * the offset asked for (-1: the high watermark; past the high watermark is
 * OFFSET_OUT_OF_RANGE), whole segments below it are deleted at once and
 * the log dir's log-start-offset-checkpoint is rewritten, so a restart
 * keeps it.  Followers learn the leader's log start offset from their
 * Fetch responses (fetcher.c) and move theirs; they report it in their
 * next fetch (replica.c), which notifies the partition's key.  The
 * request is answered, as Kafka's DelayedDeleteRecords, once the low
 * watermark - the smallest log start offset of the leader and every
 * follower on a live broker - reached the new offset, or with
 * REQUEST_TIMED_OUT at timeout_ms.  Internal topics are refused
 * (INVALID_TOPIC_EXCEPTION), topics without the delete cleanup policy with
 * POLICY_VIOLATION, as in Kafka.
 *
 * DescribeLogDirs: every log dir with the replicas in it (or those asked
 * for), their size in bytes (the segments' .log files) and offset lag
 * (behind the high watermark, never negative; -1 for a log no partition
 * holds); a replica moving into the dir (AlterReplicaLogDirs, log_move.c)
 * appears there too with is_future true and, as offset lag, how far its
 * copy is behind the current log's end; an offline dir is reported with
 * KAFKA_STORAGE_ERROR and no replicas.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "authz.h"
#include "broker.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "log.h"
#include "log_dir.h"
#include "log_move.h"
#include "metadata_cache.h"
#include "net.h"
#include "partition.h"
#include "purgatory.h"

#define COUNT(n) ((n) > 0 ? (n) : 0)

/* DeleteRecordsRequest.HIGH_WATERMARK */
#define DELETE_TO_HW (-1)

static kp_str arena_copy(struct kp_arena *a, kp_str s)
{
	char *c;

	if (s.len <= 0)
		return s;
	c = kp_arena_strndup(a, s.ptr, (size_t)s.len);
	return c != NULL ? (kp_str){ c, s.len } : KP_STR_NULL;
}

/* Kafka's Topic.isInternal. */
static bool internal_topic(kp_str name)
{
	static const char *const names[] = { "__consumer_offsets", "__transaction_state" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((size_t)name.len == strlen(names[i]) &&
		    memcmp(name.ptr, names[i], (size_t)name.len) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------- DeleteRecords */

/* One partition still waiting for its low watermark. */
struct dr_pending {
	struct partition *p;
	uint32_t lead_gen;
	int64_t required;
	struct kp_delete_records_resp_delete_records_partition_result *out;
};

struct dr_wait {
	struct delayed_op op;		/* first: the purgatory hands it back */
	struct net_req *r;
	struct kp_delete_records_resp *resp;
	struct dr_pending *pend;
	int32_t npend;
	struct purgatory_watch *watches;
};

/*
 * The smallest log start offset of the leader and of every follower on a
 * live broker (Kafka's lowWatermarkIfLeader); p->lock held.
 */
static int64_t low_watermark(const struct partition *p, const struct md_view *v)
{
	int64_t low = log_start_offset(p->log);

	for (int32_t i = 0; i < p->nfollowers; i++) {
		const struct replica_state *f = &p->followers[i];

		if (v != NULL && md_view_broker(v, f->id) == NULL)
			continue;
		if (f->log_start < low)
			low = f->log_start;
	}
	return low;
}

/* Is pend done (its error or low watermark set)? */
static bool dr_done(struct broker *b, struct dr_pending *pend)
{
	struct partition *p = pend->p;
	struct md_view *v = metadata_cache_get(&b->meta);
	bool done = true;

	pthread_mutex_lock(&p->lock);
	if (!p->leader || p->log == NULL || p->lead_gen != pend->lead_gen) {
		pend->out->error_code = KP_ERR_NOT_LEADER_OR_FOLLOWER;
	} else {
		int64_t low = low_watermark(p, v);

		pend->out->low_watermark = low;
		done = low >= pend->required;
	}
	pthread_mutex_unlock(&p->lock);
	if (v != NULL)
		md_view_unref(v);
	return done;
}

static bool dr_try(struct delayed_op *op)
{
	struct dr_wait *w = (struct dr_wait *)op;
	struct broker *b = w->r->worker->broker;

	if (net_req_orphaned(w->r))
		return true;
	for (int32_t i = 0; i < w->npend; ) {
		if (dr_done(b, &w->pend[i]))
			w->pend[i] = w->pend[--w->npend];
		else
			i++;
	}
	return w->npend == 0;
}

static void dr_complete(struct delayed_op *op, enum purgatory_end end)
{
	struct dr_wait *w = (struct dr_wait *)op;
	struct broker *b = w->r->worker->broker;

	(void)end;
	for (int32_t i = 0; i < w->npend; i++)
		if (w->pend[i].out->error_code == 0 && !dr_done(b, &w->pend[i]))
			w->pend[i].out->error_code = KP_ERR_REQUEST_TIMED_OUT;
	net_reply(w->r, w->resp);	/* w lives in r's arena */
}

static const struct delayed_op_type dr_wait_type = {
	"delete_records", dr_try, dr_complete, NULL
};

/* Rewrite the checkpoint of the log dir holding log (a restart then
 * starts it where DeleteRecords put it, whatever else survives). */
static void checkpoint_dir_of(struct broker *b, const struct log *log)
{
	struct log_dir *ld;

	pthread_mutex_lock(&b->dirs_lock);
	ld = log_dir_holding(b->dirs, b->ndirs, log);
	if (ld != NULL)
		log_dir_checkpoint(ld);	/* logs its own errors */
	pthread_mutex_unlock(&b->dirs_lock);
}

/* Does the metadata know topic/index (then a broker not hosting it is not
 * its leader, as Kafka's getPartitionOrException says)? */
static bool known_partition(struct broker *b, kp_str topic, int32_t index)
{
	struct md_view *v = metadata_cache_get(&b->meta);
	const struct md_topic *t;
	bool yes;

	if (v == NULL)
		return false;
	t = md_view_topic(v, topic.ptr, (size_t)topic.len);
	yes = t != NULL && index >= 0 && index < t->nparts;
	md_view_unref(v);
	return yes;
}

/* The leader's part of one partition: move the log start offset. */
static kp_err_t delete_one(struct broker *b, kp_str topic, int32_t index,
			   int64_t offset, struct dr_pending *pend,
			   struct kp_delete_records_resp_delete_records_partition_result *out)
{
	struct partition *p;
	struct log *log;
	int64_t target;
	kp_err_t err = 0;
	bool moved = false;

	if (internal_topic(topic))
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	p = partition_find(&b->parts, topic.ptr, (size_t)topic.len, index);
	if (p == NULL)
		return known_partition(b, topic, index) ? KP_ERR_NOT_LEADER_OR_FOLLOWER
							: KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	pthread_mutex_lock(&p->lock);
	log = p->log;
	if (!p->leader || log == NULL) {
		err = KP_ERR_NOT_LEADER_OR_FOLLOWER;
	} else if (log_is_offline(log)) {
		err = KP_ERR_KAFKA_STORAGE_ERROR;
	} else if (!log->cfg.delete_policy) {
		err = KP_ERR_POLICY_VIOLATION;
	} else {
		int64_t hw = atomic_load(&p->hw);

		target = offset == DELETE_TO_HW ? hw : offset;
		if (target < 0 || target > hw) {
			err = KP_ERR_OFFSET_OUT_OF_RANGE;
		} else {
			moved = target > log_start_offset(log);
			err = (kp_err_t)log_advance_start_offset(log, target);
			if (err == 0) {
				pend->p = p;
				pend->lead_gen = p->lead_gen;
				pend->required = target;
				pend->out = out;
			}
		}
	}
	pthread_mutex_unlock(&p->lock);
	if (err == 0 && moved) {
		KP_INFO("%.*s-%" PRId32 ": log start offset moved to %" PRId64
			" (DeleteRecords)", (int)topic.len, topic.ptr, index, target);
		checkpoint_dir_of(b, log);
		/* followers' parked fetches answer with the new start */
		purgatory_notify(b->purg, &p->watchers);
	}
	return err;
}

void api_delete_records(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	const struct kp_delete_records_req *req = r->body;
	struct kp_delete_records_resp *resp;
	struct kp_delete_records_resp_delete_records_topic_result *ts;
	struct dr_pending *pend;
	struct dr_wait *w;
	int32_t total = 0, npend = 0;

	for (int32_t i = 0; i < COUNT(req->topics_count); i++)
		total += COUNT(req->topics[i].partitions_count);
	resp = kp_arena_calloc(&r->arena, 1, sizeof(*resp));
	ts = kp_arena_calloc(&r->arena, (size_t)COUNT(req->topics_count) + 1, sizeof(*ts));
	pend = kp_arena_calloc(&r->arena, (size_t)total + 1, sizeof(*pend));
	if (resp == NULL || ts == NULL || pend == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	kp_struct_init(r->api->resp, resp);
	for (int32_t i = 0; i < COUNT(req->topics_count); i++) {
		const struct kp_delete_records_req_delete_records_topic *in = &req->topics[i];
		int32_t np = COUNT(in->partitions_count);
		struct kp_delete_records_resp_delete_records_partition_result *ps =
			kp_arena_calloc(&r->arena, (size_t)np + 1, sizeof(*ps));
		/* as Kafka: Delete on the topic, else TOPIC_AUTHORIZATION_FAILED
		 * for each of its partitions */
		bool may = authz_ok_str(r, KP_ACL_OP_DELETE, KP_ACL_RT_TOPIC, in->name);

		if (ps == NULL) {
			net_req_fail(r, "out of memory");
			return;
		}
		kp_struct_init(&kp_delete_records_resp_delete_records_topic_result_desc, &ts[i]);
		/* copied: the response may wait past the read buffer's life */
		ts[i].name = arena_copy(&r->arena, in->name);
		for (int32_t j = 0; j < np; j++) {
			const struct kp_delete_records_req_delete_records_partition *pi =
				&in->partitions[j];

			kp_struct_init(&kp_delete_records_resp_delete_records_partition_result_desc,
				       &ps[j]);
			ps[j].partition_index = pi->partition_index;
			ps[j].low_watermark = -1;
			if (!may) {
				ps[j].error_code = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
				continue;
			}
			ps[j].error_code = delete_one(b, in->name, pi->partition_index,
						      pi->offset, &pend[npend], &ps[j]);
			if (ps[j].error_code == 0)
				npend++;
		}
		ts[i].partitions = ps;
		ts[i].partitions_count = np;
	}
	resp->topics = ts;
	resp->topics_count = COUNT(req->topics_count);
	if (npend == 0) {
		net_reply(r, resp);
		return;
	}
	w = kp_arena_calloc(&r->arena, 1, sizeof(*w));
	if (w == NULL ||
	    (w->watches = kp_arena_calloc(&r->arena, (size_t)npend,
					  sizeof(*w->watches))) == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	w->r = r;
	w->resp = resp;
	w->pend = pend;
	w->npend = npend;
	for (int32_t i = 0; i < npend; i++)
		w->watches[i].key = &pend[i].p->watchers;
	/* tried once more inside: a single replica completes at once */
	purgatory_watch(r->worker->home, &w->op, &dr_wait_type, w->watches, npend,
			req->timeout_ms > 0 ? req->timeout_ms : 0);
}

/* ----------------------------------------------------- DescribeLogDirs */

/* Was topic/partition asked for (NULL topics: everything)? */
static bool wanted(const struct kp_describe_log_dirs_req *req, const char *topic,
		   int32_t partition)
{
	if (req->topics_count < 0)
		return true;
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_describe_log_dirs_req_describable_log_dir_topic *t =
			&req->topics[i];

		if ((size_t)t->topic.len != strlen(topic) ||
		    memcmp(t->topic.ptr, topic, (size_t)t->topic.len) != 0)
			continue;
		for (int32_t j = 0; j < COUNT(t->partition_index_count); j++)
			if (t->partition_index[j] == partition)
				return true;
	}
	return false;
}

/* Kafka's getLogEndOffsetLag for a current (not future) log: -1 when the
 * partition is not hosted. */
static int64_t offset_lag(struct broker *b, const struct log *log)
{
	struct partition *p = partition_find(&b->parts, log->topic,
					     strlen(log->topic), log->partition);
	int64_t lag;

	if (p == NULL)
		return -1;
	lag = atomic_load(&p->hw) - log_end_offset(log);
	return lag > 0 ? lag : 0;
}

/* A future log of the dir, copied into the request's arena. */
struct dl_future {
	const char *topic;
	int32_t partition;
	int64_t size, lag;
};

struct dl_futures {
	struct kp_arena *a;
	struct dl_future *v;
	int n, cap;
	bool oom;
};

static void add_future(const char *topic, int32_t partition, int64_t size,
		       int64_t lag, void *arg)
{
	struct dl_futures *f = arg;

	if (f->n == f->cap) {
		int ncap = f->cap ? f->cap * 2 : 8;
		struct dl_future *nv = kp_arena_calloc(f->a, (size_t)ncap, sizeof(*nv));

		if (nv == NULL) {
			f->oom = true;
			return;
		}
		if (f->n > 0)
			memcpy(nv, f->v, (size_t)f->n * sizeof(*nv));
		f->v = nv;
		f->cap = ncap;
	}
	f->v[f->n].topic = kp_arena_strndup(f->a, topic, strlen(topic));
	if (f->v[f->n].topic == NULL) {
		f->oom = true;
		return;
	}
	f->v[f->n].partition = partition;
	f->v[f->n].size = size;
	f->v[f->n].lag = lag;
	f->n++;
}

/* The topic entry of ts[0, *nt) named topic, added when missing with room
 * for cap partitions. */
static struct kp_describe_log_dirs_resp_describe_log_dirs_topic *
topic_entry(struct net_req *r, struct kp_describe_log_dirs_resp_describe_log_dirs_topic *ts,
	    int32_t *nt, const char *topic, int cap)
{
	struct kp_describe_log_dirs_resp_describe_log_dirs_topic *t;
	char *name;

	for (int32_t k = 0; k < *nt; k++)
		if (strcmp(ts[k].name.ptr, topic) == 0)
			return &ts[k];
	t = &ts[(*nt)++];
	kp_struct_init(&kp_describe_log_dirs_resp_describe_log_dirs_topic_desc, t);
	name = kp_arena_strndup(&r->arena, topic, strlen(topic));
	/* room for every log of the dir: a few bytes each */
	t->partitions = kp_arena_calloc(&r->arena, (size_t)cap + 1,
					sizeof(*t->partitions));
	if (name == NULL || t->partitions == NULL)
		return NULL;
	t->name = kp_str_c(name);
	return t;
}

/* One log dir's result: its logs grouped by topic. */
static int describe_dir(struct net_req *r, const struct kp_describe_log_dirs_req *req,
			struct log_dir *ld,
			struct kp_describe_log_dirs_resp_describe_log_dirs_result *out)
{
	struct broker *b = r->worker->broker;
	struct kp_describe_log_dirs_resp_describe_log_dirs_topic *ts;
	struct dl_futures fut = { .a = &r->arena };
	int32_t nt = 0;
	char *name;

	kp_struct_init(&kp_describe_log_dirs_resp_describe_log_dirs_result_desc, out);
	name = kp_arena_strndup(&r->arena, ld->path, strlen(ld->path));
	if (name == NULL)
		return -ENOMEM;
	out->log_dir = kp_str_c(name);
	if (log_dir_is_offline(ld)) {
		out->error_code = KP_ERR_KAFKA_STORAGE_ERROR;
		return 0;
	}
	log_move_futures(b, ld, add_future, &fut);
	if (fut.oom)
		return -ENOMEM;
	ts = kp_arena_calloc(&r->arena, (size_t)(ld->nlogs + fut.n) + 1, sizeof(*ts));
	if (ts == NULL)
		return -ENOMEM;
	for (int i = 0; i < fut.n; i++) {
		struct kp_describe_log_dirs_resp_describe_log_dirs_topic *t;
		struct kp_describe_log_dirs_resp_describe_log_dirs_partition *pp;

		if (!wanted(req, fut.v[i].topic, fut.v[i].partition))
			continue;
		t = topic_entry(r, ts, &nt, fut.v[i].topic, ld->nlogs + fut.n);
		if (t == NULL)
			return -ENOMEM;
		pp = &t->partitions[t->partitions_count++];
		kp_struct_init(&kp_describe_log_dirs_resp_describe_log_dirs_partition_desc, pp);
		pp->partition_index = fut.v[i].partition;
		pp->partition_size = fut.v[i].size;
		pp->is_future_key = true;
		pp->offset_lag = fut.v[i].lag;
	}
	for (int i = 0; i < ld->nlogs; i++) {
		struct log *log = ld->logs[i];
		struct kp_describe_log_dirs_resp_describe_log_dirs_topic *t;
		struct kp_describe_log_dirs_resp_describe_log_dirs_partition *pp;

		if (!wanted(req, log->topic, log->partition))
			continue;
		t = topic_entry(r, ts, &nt, log->topic, ld->nlogs + fut.n);
		if (t == NULL)
			return -ENOMEM;
		pp = &t->partitions[t->partitions_count++];
		kp_struct_init(&kp_describe_log_dirs_resp_describe_log_dirs_partition_desc, pp);
		pp->partition_index = log->partition;
		pp->partition_size = log_size_bytes(log);
		pp->is_future_key = false;
		pp->offset_lag = offset_lag(b, log);
	}
	out->topics = ts;
	out->topics_count = nt;
	return 0;
}

void api_describe_log_dirs(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	const struct kp_describe_log_dirs_req *req = r->body;
	struct kp_describe_log_dirs_resp resp;
	struct kp_describe_log_dirs_resp_describe_log_dirs_result *res;
	int rc = 0;

	kp_struct_init(r->api->resp, &resp);
	pthread_mutex_lock(&b->dirs_lock);
	res = kp_arena_calloc(&r->arena, (size_t)b->ndirs + 1, sizeof(*res));
	for (int i = 0; res != NULL && rc == 0 && i < b->ndirs; i++)
		rc = describe_dir(r, req, b->dirs[i], &res[i]);
	resp.results_count = b->ndirs;
	pthread_mutex_unlock(&b->dirs_lock);
	if (res == NULL || rc < 0) {
		net_req_fail(r, "out of memory");
		return;
	}
	resp.results = res;
	net_reply(r, &resp);
}
