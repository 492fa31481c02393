/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_partition.c - LeaderAndIsr (the controller assigns roles: leaders
 * start tracking their followers, followers start fetching; the topic
 * configurations of new logs are read on the ZooKeeper thread first),
 * StopReplica, Produce (acks=all waits until the ISR has the batches, a
 * delayed operation; v0-2 magic 0/1 message sets converted to one v2
 * batch), ListOffsets and OffsetForLeaderEpoch.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "authz.h"
#include "broker.h"
#include "ctl_epoch.h"
#include "fetcher.h"
#include "group.h"
#include "txn_coord.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "kp_records.h"
#include "kp_topic_config.h"
#include "log.h"
#include "log_dir.h"
#include "net.h"
#include "partition.h"
#include "log_move.h"
#include "purgatory.h"
#include "replica.h"
#include "topic_config.h"
#include "zk_admin.h"
#include "zk_thread.h"

#define MAX_DECOMPRESSED (256u << 20)

/* ------------------------------------------------------- LeaderAndIsr */

/*
 * A topic name from a controller's request becomes a log directory's
 * name, a znode's and a word of the checkpoint files: only what Kafka's
 * Topic.validate allows gets that far ("../x", a space or a newline never
 * reaches the file system).  Refused per partition with
 * INVALID_TOPIC_EXCEPTION.
 */
static bool name_legal(kp_str topic)
{
	if (topic.len > 0 && kp_topic_name_legal(topic.ptr, (size_t)topic.len))
		return true;
	KP_WARN("refusing a partition with an illegal topic name (%d bytes)",
		(int)topic.len);
	return false;
}

static bool in_list(const int32_t *l, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (l[i] == id)
			return true;
	return false;
}

static int32_t *dup_list(const int32_t *l, int32_t n)
{
	int32_t *d = malloc(sizeof(*d) * (size_t)(n > 0 ? n : 1));

	if (d != NULL && n > 0)
		memcpy(d, l, sizeof(*d) * (size_t)n);
	return d;
}

/* The online log dir holding the fewest logs, as Kafka places new
 * replicas; NULL when every dir is offline. */
static struct log_dir *pick_dir(struct broker *b)
{
	struct log_dir *best = NULL;

	for (int i = 0; i < b->ndirs; i++)
		if (!log_dir_is_offline(b->dirs[i]) &&
		    (best == NULL || b->dirs[i]->nlogs < best->nlogs))
			best = b->dirs[i];
	return best;
}

static struct log *find_log(struct broker *b, const char *topic, int32_t p)
{
	for (int i = 0; i < b->ndirs; i++) {
		struct log *log = log_dir_find(b->dirs[i], topic, p);

		if (log != NULL)
			return log;
	}
	return NULL;
}

/*
 * A new replica's log takes its topic's overrides from ZooKeeper: read on
 * the ZooKeeper thread before any state of the request is applied, once
 * per topic, not once per partition (a round trip each: seconds for
 * thousands of partitions).
 */
struct topic_cfg {
	const char *topic;		/* in the request's arena */
	struct log_config cfg;
	int32_t max_message_bytes, min_isr;
};

struct lai_job {
	struct net_req *r;
	struct topic_cfg *topics;	/* those new logs are made for */
	int32_t ntopics, cap;
	int32_t last;			/* the last found */
};

static const struct topic_cfg *topic_cfg_find(struct lai_job *j, const char *topic)
{
	if (j->last < j->ntopics && strcmp(j->topics[j->last].topic, topic) == 0)
		return &j->topics[j->last];
	for (int32_t i = 0; i < j->ntopics; i++)
		if (strcmp(j->topics[i].topic, topic) == 0) {
			j->last = i;
			return &j->topics[i];
		}
	return NULL;
}

/* The topic's settings with these overrides (any thread). */
static void topic_cfg_fill(struct broker *b, struct topic_cfg *tc,
			   const struct kp_zk_entity_config *over)
{
	topic_config_log(b->layers, over, &tc->cfg);
	tc->max_message_bytes = (int32_t)topic_config_num(b->layers, over,
							  "max.message.bytes");
	tc->min_isr = (int32_t)topic_config_num(b->layers, over, "min.insync.replicas");
}

static bool uuid_set(const kp_uuid *u)
{
	static const kp_uuid zero;

	return memcmp(u, &zero, sizeof(zero)) != 0;
}

/* v5 names the topic's id: a log that has another one is not this topic's
 * (INCONSISTENT_TOPIC_ID), a log without one takes it (partition.metadata). */
static kp_err_t check_topic_id(struct partition *p, const kp_uuid *id)
{
	int rc;

	if (id == NULL || !uuid_set(id) || p->log == NULL)
		return 0;
	rc = log_assign_topic_id(p->log, id);
	if (rc == -EEXIST) {
		KP_ERROR("%s-%d: the log's topic id is not the controller's: "
			 "INCONSISTENT_TOPIC_ID", p->topic, p->index);
		return KP_ERR_INCONSISTENT_TOPIC_ID;
	}
	if (rc < 0) {
		KP_ERROR("%s-%d: cannot write partition.metadata: %s", p->topic,
			 p->index, strerror(-rc));
		return KP_ERR_KAFKA_STORAGE_ERROR;
	}
	return 0;
}

static kp_err_t apply_state(struct broker *b, const struct kp_leader_and_isr_req *req,
			    kp_str topic, const kp_uuid *topic_id,
			    const struct kp_leader_and_isr_leader_and_isr_partition_state *st,
			    struct lai_job *j)
{
	struct partition *p;
	int16_t err = 0;
	bool was_leader;

	if (!name_legal(topic))
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	if (!in_list(st->replicas, st->replicas_count, b->id))
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	p = partition_get_or_add(&b->parts, topic.ptr, (size_t)topic.len,
				 st->partition_index);
	if (p == NULL)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	pthread_mutex_lock(&p->lock);
	if (p->deleting) {
		err = KP_ERR_KAFKA_STORAGE_ERROR;	/* its deletion is not over */
		goto out;
	}
	/* as Kafka: a replica in an offline log dir answers so, which is how
	 * the controller learns it is offline */
	if (p->log != NULL && log_is_offline(p->log)) {
		err = KP_ERR_KAFKA_STORAGE_ERROR;
		goto out;
	}
	err = check_topic_id(p, topic_id);
	if (err != 0)
		goto out;
	if (p->log != NULL && st->leader_epoch <= p->leader_epoch) {
		/* as Kafka: an epoch we already have is stale */
		err = KP_ERR_STALE_CONTROLLER_EPOCH;
		goto out;
	}
	if (p->log == NULL) {
		const struct topic_cfg *tc = topic_cfg_find(j, p->topic);
		struct log_dir *ld;

		if (tc == NULL) {
			/* it had a log when the configurations were read */
			KP_ERROR("%s-%d: lost its log meanwhile; not creating one "
				 "without its topic's configuration", p->topic, p->index);
			err = KP_ERR_KAFKA_STORAGE_ERROR;
			goto out;
		}
		p->max_message_bytes = tc->max_message_bytes;
		p->min_isr = tc->min_isr;
		pthread_mutex_lock(&b->dirs_lock);
		p->log = find_log(b, p->topic, p->index);
		if (p->log != NULL)
			p->log->cfg = tc->cfg;	/* loaded at start: now we know */
		else if ((ld = log_move_wished_dir(b, p->topic, p->index)) == NULL &&
			 (ld = pick_dir(b)) == NULL)
			p->log = NULL;
		else if (log_dir_add(ld, p->topic, p->index, &tc->cfg, &p->log) < 0)
			p->log = NULL;
		pthread_mutex_unlock(&b->dirs_lock);
		if (p->log == NULL) {
			KP_ERROR("cannot create the log of %s-%d", p->topic, p->index);
			err = KP_ERR_KAFKA_STORAGE_ERROR;
			goto out;
		}
		/* a new or just loaded log learns the id now */
		err = check_topic_id(p, topic_id);
		if (err != 0)
			goto out;
		{
			int64_t hw = replica_initial_hw(b, p->topic, p->index);
			int64_t leo = log_end_offset(p->log);

			log_hw_moved(p->log, hw < leo ? hw : leo);
			atomic_store(&p->hw, hw < leo ? hw : leo);
		}
	}
	was_leader = p->leader;
	free(p->replicas);
	free(p->isr);
	p->replicas = dup_list(st->replicas, st->replicas_count);
	p->nreplicas = st->replicas_count;
	p->isr = dup_list(st->isr, st->isr_count);
	p->nisr = st->isr_count;
	p->leader_id = st->leader;
	p->leader_epoch = st->leader_epoch;
	p->controller_epoch = st->controller_epoch;
	p->zk_version = st->zk_version;
	p->leader = st->leader == b->id;
	if (p->leader) {
		log_epoch_assign(&p->log->epochs, st->leader_epoch,
				 log_end_offset(p->log));
		if (!was_leader)
			p->lead_gen++;
		replica_become_leader(b, p, was_leader);
		KP_INFO("leading %s-%d at epoch %d (high watermark %" PRId64 ")",
			p->topic, p->index, st->leader_epoch, atomic_load(&p->hw));
	} else {
		KP_INFO("following %s-%d (leader %d, epoch %d)", p->topic, p->index,
			st->leader, st->leader_epoch);
	}
	pthread_mutex_unlock(&p->lock);
	if (p->leader) {
		fetcher_unfollow(b, p);
	} else {
		char host[256] = "";
		int port = 0;
		struct md_view *v = metadata_cache_get(&b->meta);
		const struct md_endpoint *e = st->leader >= 0
			? md_view_endpoint(v, st->leader, b->lsn.inter_name) : NULL;

		/* as Kafka's makeFollowers: the leader's endpoint on our
		 * inter-broker listener, from the metadata; the live leaders
		 * the controller names (its listener's) only when the
		 * metadata does not know the leader yet */
		if (e != NULL) {
			snprintf(host, sizeof(host), "%s", e->host);
			port = e->port;
		}
		md_view_unref(v);
		for (int32_t i = 0; host[0] == 0 && i < req->live_leaders_count; i++)
			if (req->live_leaders[i].broker_id == st->leader &&
			    req->live_leaders[i].host_name.len > 0) {
				snprintf(host, sizeof(host), "%.*s",
					 (int)req->live_leaders[i].host_name.len,
					 req->live_leaders[i].host_name.ptr);
				port = req->live_leaders[i].port;
			}
		if (host[0] == 0 && st->leader >= 0)
			KP_WARN("%s-%d: leader %d is not among the live leaders",
				p->topic, p->index, st->leader);
		if (host[0] != 0)
			fetcher_follow(b, p, st->leader, st->leader_epoch, host, port);
		else
			fetcher_unfollow(b, p);
	}
	/* waiting producers and fetches learn the new role */
	if (was_leader)
		purgatory_notify(b->purg, &p->watchers);
	if (p->is_offsets)
		group_partition_role(b, p);
	if (p->is_txn_state)
		txn_partition_role(b, p);
	return 0;
out:
	pthread_mutex_unlock(&p->lock);
	return err;
}

/* Apply every state of the request and answer (on the worker). */
static void lai_apply(struct lai_job *j)
{
	struct net_req *r = j->r;
	struct broker *b = r->worker->broker;
	const struct kp_leader_and_isr_req *req = r->body;
	struct kp_leader_and_isr_resp resp;
	struct kp_leader_and_isr_leader_and_isr_partition_error *errs;
	struct kp_leader_and_isr_resp_leader_and_isr_topic_error *terrs;
	int32_t n = 0, cap = req->ungrouped_partition_states_count > 0
		? req->ungrouped_partition_states_count : 0;
	int64_t t0 = kp_now_ms();

	kp_struct_init(r->api->resp, &resp);
	for (int32_t i = 0; i < req->topic_states_count; i++)
		cap += req->topic_states[i].partition_states_count;
	errs = kp_arena_calloc(&r->arena, (size_t)cap + 1, sizeof(*errs));
	terrs = kp_arena_calloc(&r->arena, (size_t)(req->topic_states_count > 0
						    ? req->topic_states_count : 0) + 1,
				sizeof(*terrs));
	if (errs == NULL || terrs == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < req->ungrouped_partition_states_count; i++) {
		const struct kp_leader_and_isr_leader_and_isr_partition_state *st =
			&req->ungrouped_partition_states[i];

		kp_struct_init(&kp_leader_and_isr_leader_and_isr_partition_error_desc, &errs[n]);
		errs[n].topic_name = st->topic_name;
		errs[n].partition_index = st->partition_index;
		errs[n++].error_code = apply_state(b, req, st->topic_name, NULL, st, j);
	}
	for (int32_t i = 0; i < req->topic_states_count; i++) {
		const struct kp_leader_and_isr_req_leader_and_isr_topic_state *t =
			&req->topic_states[i];

		/* v5 answers per topic id */
		kp_struct_init(&kp_leader_and_isr_resp_leader_and_isr_topic_error_desc,
			       &terrs[i]);
		terrs[i].topic_id = t->topic_id;
		terrs[i].partition_errors = &errs[n];
		terrs[i].partition_errors_count = t->partition_states_count;
		for (int32_t k = 0; k < t->partition_states_count; k++) {
			kp_struct_init(&kp_leader_and_isr_leader_and_isr_partition_error_desc,
				       &errs[n]);
			errs[n].topic_name = t->topic_name;
			errs[n].partition_index = t->partition_states[k].partition_index;
			errs[n++].error_code = apply_state(b, req, t->topic_name,
							   &t->topic_id,
							   &t->partition_states[k], j);
		}
	}
	resp.partition_errors = errs;
	resp.partition_errors_count = n;
	resp.topics = terrs;
	resp.topics_count = req->topic_states_count > 0 ? req->topic_states_count : 0;
	/* a leader move at scale: the states are applied in memory (the
	 * epoch checkpoints are written later, log_epoch.h) */
	if (n >= 100)
		KP_INFO("LeaderAndIsr: %d partition state(s) applied in %" PRId64 " ms",
			n, kp_now_ms() - t0);
	net_reply(r, &resp);
}

/* A state that makes us a replica of a partition without a log yet:
 * its topic's configuration is wanted.  -1 when out of memory. */
static int lai_want(struct lai_job *j, kp_str topic,
		    const struct kp_leader_and_isr_leader_and_isr_partition_state *st)
{
	struct net_req *r = j->r;
	struct broker *b = r->worker->broker;
	struct partition *p;
	bool has_log = false;
	char *name;

	if (!name_legal(topic) || !in_list(st->replicas, st->replicas_count, b->id))
		return 0;	/* refused when applied */
	p = partition_find(&b->parts, topic.ptr, (size_t)topic.len, st->partition_index);
	if (p != NULL) {
		pthread_mutex_lock(&p->lock);
		has_log = p->log != NULL;
		pthread_mutex_unlock(&p->lock);
	}
	if (has_log)
		return 0;
	name = kp_arena_strndup(&r->arena, topic.ptr, (size_t)(topic.len > 0 ? topic.len : 0));
	if (name == NULL)
		return -1;
	if (topic_cfg_find(j, name) != NULL)
		return 0;
	if (j->ntopics == j->cap) {
		int32_t ncap = j->cap ? 2 * j->cap : 8;
		struct topic_cfg *nt = kp_arena_calloc(&r->arena, (size_t)ncap,
						       sizeof(*nt));

		if (nt == NULL)
			return -1;
		if (j->ntopics > 0)
			memcpy(nt, j->topics, (size_t)j->ntopics * sizeof(*nt));
		j->topics = nt;
		j->cap = ncap;
	}
	j->topics[j->ntopics++].topic = name;
	return 0;
}

/* On the ZooKeeper thread: each wanted topic's overrides. */
static void lai_read_configs(void *arg)
{
	struct lai_job *j = arg;
	struct broker *b = j->r->worker->broker;

	for (int32_t i = 0; i < j->ntopics; i++) {
		struct kp_zk_entity_config over;
		char err[512];

		if (zk_admin_read_config(b->zk, "topics", j->topics[i].topic, &over, err,
					 sizeof(err)) < 0)
			KP_WARN("%s (overrides ignored)", err);
		topic_cfg_fill(b, &j->topics[i], &over);
		kp_zk_config_free(&over);
	}
}

static void lai_read_done(void *arg, bool ran)
{
	struct lai_job *j = arg;

	if (!ran) {
		net_req_fail(j->r, "the broker is stopping");
		return;
	}
	lai_apply(j);
}

static void lai_refused(struct net_req *r)
{
	const struct kp_leader_and_isr_req *req = r->body;
	struct kp_leader_and_isr_resp resp;

	KP_WARN("LeaderAndIsr from controller %d with stale epoch %d (known %d)",
		req->controller_id, req->controller_epoch,
		atomic_load(&r->worker->broker->controller_epoch));
	kp_struct_init(r->api->resp, &resp);
	resp.error_code = KP_ERR_STALE_CONTROLLER_EPOCH;
	net_reply(r, &resp);
}

static void lai_admitted(struct net_req *r);

void api_leader_and_isr(struct net_req *r)
{
	const struct kp_leader_and_isr_req *req = r->body;

	ctl_epoch_admit(r, req->controller_epoch, lai_admitted, lai_refused);
}

static void lai_admitted(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	const struct kp_leader_and_isr_req *req = r->body;
	struct lai_job *j;

	j = kp_arena_calloc(&r->arena, 1, sizeof(*j));
	if (j == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	j->r = r;
	for (int32_t i = 0; i < req->ungrouped_partition_states_count; i++)
		if (lai_want(j, req->ungrouped_partition_states[i].topic_name,
			     &req->ungrouped_partition_states[i]) < 0)
			goto oom;
	for (int32_t i = 0; i < req->topic_states_count; i++)
		for (int32_t k = 0; k < req->topic_states[i].partition_states_count; k++)
			if (lai_want(j, req->topic_states[i].topic_name,
				     &req->topic_states[i].partition_states[k]) < 0)
				goto oom;
	if (j->ntopics == 0 || b->zk == NULL) {
		/* nothing to read (no session: no overrides) */
		for (int32_t i = 0; i < j->ntopics; i++)
			topic_cfg_fill(b, &j->topics[i], NULL);
		lai_apply(j);
		return;
	}
	if (net_req_detach(r) < 0)
		goto oom;
	/* the names were copied from the request's old frame: still valid */
	zk_thread_call(b, r->worker->home, lai_read_configs, lai_read_done, j);
	return;
oom:
	net_req_fail(r, "out of memory");
}

/* -------------------------------------------------------- StopReplica */

/*
 * A StopReplica that deletes logs answers only once they are gone, so the
 * controller cannot re-create the topic over them.  Deleting waits until
 * every network worker has finished what it was running (each runs one
 * posted no-op): handlers that saw p->log then are done with it.
 */
struct stop_job {
	struct net_req *r;
	struct kp_stop_replica_resp resp;
	struct partition **doomed;
	int32_t ndoomed;
	atomic_int pending;
};

static kp_str arena_str(struct kp_arena *a, kp_str s)
{
	char *c;

	if (s.len <= 0)
		return s;
	c = kp_arena_strndup(a, s.ptr, (size_t)s.len);
	return c != NULL ? (kp_str){ c, s.len } : KP_STR_NULL;
}

static kp_err_t stop_one(struct broker *b, struct stop_job *job, kp_str topic,
			 int32_t index, int32_t epoch, bool del)
{
	struct partition *p;
	int16_t err = 0;
	bool was_leader = false;

	if (!name_legal(topic))
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	p = del ? partition_get_or_add(&b->parts, topic.ptr, (size_t)topic.len, index)
		: partition_find(&b->parts, topic.ptr, (size_t)topic.len, index);
	if (p == NULL)
		return del ? KP_ERR_UNKNOWN_SERVER_ERROR : 0;
	pthread_mutex_lock(&p->lock);
	/* v3 carries the leader epoch: -2 (topic deletion) and -1 (unknown)
	 * always stop, others only when newer than ours */
	if (epoch >= 0 && p->log != NULL && epoch <= p->leader_epoch) {
		err = KP_ERR_FENCED_LEADER_EPOCH;
		goto out;
	}
	if (p->leader)
		KP_INFO("no longer leading %s-%d", p->topic, p->index);
	was_leader = p->leader;
	p->leader = false;
	p->leader_id = -1;
	if (del && !p->deleting) {
		if (p->log == NULL) {
			/* not opened since start, but its files may be here */
			pthread_mutex_lock(&b->dirs_lock);
			p->log = find_log(b, p->topic, p->index);
			pthread_mutex_unlock(&b->dirs_lock);
		}
		p->deleting = true;
		job->doomed[job->ndoomed++] = p;
	}
out:
	pthread_mutex_unlock(&p->lock);
	if (err == 0) {
		fetcher_unfollow(b, p);
		if (was_leader)
			purgatory_notify(b->purg, &p->watchers);
		if (p->is_offsets)
			group_partition_role(b, p);
		if (p->is_txn_state)
			txn_partition_role(b, p);
	}
	return err;
}

static void stop_finish(void *arg)
{
	struct stop_job *job = arg;
	struct broker *b = job->r->worker->broker;

	for (int32_t i = 0; i < job->ndoomed; i++) {
		struct partition *p = job->doomed[i];
		struct log *log;

		pthread_mutex_lock(&p->lock);
		log = p->log;
		p->log = NULL;
		p->leader_epoch = -1;
		atomic_store(&p->hw, 0);
		if (log != NULL) {
			pthread_mutex_lock(&b->dirs_lock);
			for (int d = 0; d < b->ndirs; d++)
				if (log_dir_find(b->dirs[d], p->topic, p->index) == log) {
					if (log_dir_delete_log(b->dirs[d], p->topic,
							       p->index) < 0)
						KP_ERROR("cannot delete the log of %s-%d",
							 p->topic, p->index);
					break;
				}
			pthread_mutex_unlock(&b->dirs_lock);
			KP_INFO("deleted %s-%d", p->topic, p->index);
		}
		p->deleting = false;
		pthread_mutex_unlock(&p->lock);
	}
	net_reply(job->r, &job->resp);
}

static void stop_quiesced(void *arg)
{
	struct stop_job *job = arg;

	if (atomic_fetch_sub(&job->pending, 1) == 1)
		kp_loop_post(job->r->worker->loop, stop_finish, job);
}

static void stop_refused(struct net_req *r)
{
	const struct kp_stop_replica_req *req = r->body;
	struct kp_stop_replica_resp resp;

	KP_WARN("StopReplica from controller %d with stale epoch %d (known %d)",
		req->controller_id, req->controller_epoch,
		atomic_load(&r->worker->broker->controller_epoch));
	kp_struct_init(r->api->resp, &resp);
	resp.error_code = KP_ERR_STALE_CONTROLLER_EPOCH;
	net_reply(r, &resp);
}

static void stop_admitted(struct net_req *r);

void api_stop_replica(struct net_req *r)
{
	const struct kp_stop_replica_req *req = r->body;

	ctl_epoch_admit(r, req->controller_epoch, stop_admitted, stop_refused);
}

static void stop_admitted(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	const struct kp_stop_replica_req *req = r->body;
	struct kp_stop_replica_resp_stop_replica_partition_error *errs;
	struct stop_job *job;
	int32_t n = 0, cap = req->ungrouped_partitions_count > 0
		? req->ungrouped_partitions_count : 0;

	job = kp_arena_calloc(&r->arena, 1, sizeof(*job));
	if (job == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	job->r = r;
	kp_struct_init(r->api->resp, &job->resp);
	for (int32_t i = 0; i < req->topics_count; i++)
		cap += req->topics[i].partition_indexes_count > 0
			? req->topics[i].partition_indexes_count : 0;
	for (int32_t i = 0; i < req->topic_states_count; i++)
		cap += req->topic_states[i].partition_states_count > 0
			? req->topic_states[i].partition_states_count : 0;
	errs = kp_arena_calloc(&r->arena, (size_t)cap + 1, sizeof(*errs));
	job->doomed = kp_arena_calloc(&r->arena, (size_t)cap + 1, sizeof(*job->doomed));
	if (errs == NULL || job->doomed == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
#define STOP(name, idx, epoch, del) do {					\
		errs[n].topic_name = arena_str(&r->arena, (name));		\
		errs[n].partition_index = (idx);				\
		errs[n].error_code = stop_one(b, job, (name), (idx), (epoch), (del)); \
		n++;								\
	} while (0)
	for (int32_t i = 0; i < req->ungrouped_partitions_count; i++)
		STOP(req->ungrouped_partitions[i].topic_name,
		     req->ungrouped_partitions[i].partition_index, -1,
		     req->delete_partitions);
	for (int32_t i = 0; i < req->topics_count; i++)
		for (int32_t j = 0; j < req->topics[i].partition_indexes_count; j++)
			STOP(req->topics[i].name, req->topics[i].partition_indexes[j], -1,
			     req->delete_partitions);
	for (int32_t i = 0; i < req->topic_states_count; i++) {
		const struct kp_stop_replica_req_stop_replica_topic_state *t =
			&req->topic_states[i];

		for (int32_t j = 0; j < t->partition_states_count; j++)
			STOP(t->topic_name, t->partition_states[j].partition_index,
			     t->partition_states[j].leader_epoch,
			     t->partition_states[j].delete_partition);
	}
#undef STOP
	job->resp.partition_errors = errs;
	job->resp.partition_errors_count = n;
	if (job->ndoomed == 0 || b->net == NULL) {
		if (job->ndoomed > 0)
			stop_finish(job);
		else
			net_reply(r, &job->resp);
		return;
	}
	atomic_store(&job->pending, net_nworkers(b->net));
	for (int i = 0; i < net_nworkers(b->net); i++)
		kp_loop_post(net_worker_at(b->net, i)->loop, stop_quiesced, job);
}

/* ------------------------------------------------------------ Produce */

/*
 * acks=all: a produce whose batches are appended is a delayed operation
 * on its worker (Kafka's DelayedProduce) until the high watermark passes
 * each of them (every ISR replica has it), the leadership is lost, or
 * timeout_ms passes.  It watches the keys of its partitions, which
 * replica.c notifies when the high watermark moves and LeaderAndIsr /
 * StopReplica when the role changes.
 */
struct produce_pending {
	struct partition *p;
	uint32_t lead_gen;		/* our leadership when appended */
	int64_t required;		/* last offset + 1 */
	struct kp_produce_resp_partition_produce_response *out;
};

/* A parked produce (the op first: the purgatory hands it back). */
struct produce_wait {
	struct delayed_op op;
	struct net_req *r;
	struct kp_produce_resp *resp;
	struct produce_pending *pend;
	int32_t npend;			/* still waiting */
	struct purgatory_watch *watches;
};

/* Is ts a CreateTime timestamp further than diff from now?  (Kafka's
 * |ts - now| > diff, without overflow; "no timestamp" always passes.) */
static bool ts_out_of_range(int64_t ts, int64_t now, int64_t diff)
{
	uint64_t d;

	if (ts == KP_NO_TIMESTAMP)
		return false;
	d = ts > now ? (uint64_t)ts - (uint64_t)now : (uint64_t)now - (uint64_t)ts;
	return d > (uint64_t)diff;
}

/*
 * A batch refused for its timestamps: Kafka's INVALID_TIMESTAMP with, from
 * Produce v8, an error per offending record (its index in the batch).
 * Walks the records again: the refusal is the rare path.
 */
static kp_err_t refuse_timestamps(struct net_req *r, const uint8_t *data,
				  size_t len, bool append_time_set, int64_t now,
				  int64_t diff,
				  struct kp_produce_resp_partition_produce_response *out)
{
	struct kp_record_iter it;
	struct kp_record rec;
	struct kp_produce_resp_batch_index_and_error_message *e;
	int32_t n = 0;

	out->error_message = kp_str_c("One or more records have been rejected "
				      "due to invalid timestamp");
	if (r->h.api_version < 8 ||
	    kp_record_iter_init(&it, data, len, &r->worker->scratch,
				MAX_DECOMPRESSED) != 0)
		return KP_ERR_INVALID_TIMESTAMP;
	e = kp_arena_calloc(&r->arena, (size_t)it.h.record_count + 1, sizeof(*e));
	if (e == NULL)
		return KP_ERR_INVALID_TIMESTAMP;
	for (int32_t i = 0; kp_record_iter_next(&it, &rec) == 1; i++) {
		const char *msg;

		if (append_time_set)
			msg = kp_arena_sprintf(&r->arena, "record %" PRId32 ": a "
					       "producer may not set the timestamp "
					       "type to LogAppendTime", i);
		else if (ts_out_of_range(rec.timestamp, now, diff))
			msg = kp_arena_sprintf(&r->arena, "record %" PRId32 ": "
					       "timestamp %" PRId64 " is more than "
					       "%" PRId64 " ms from the broker's "
					       "clock (%" PRId64 ")", i,
					       rec.timestamp, diff, now);
		else
			continue;
		kp_struct_init(&kp_produce_resp_batch_index_and_error_message_desc,
			       &e[n]);
		e[n].batch_index = i;
		e[n].batch_index_error_message = msg != NULL ? kp_str_c(msg)
							      : KP_STR_NULL;
		n++;
	}
	out->record_errors = e;
	out->record_errors_count = n;
	return KP_ERR_INVALID_TIMESTAMP;
}

/*
 * Produce v0-2 carry whatever magic the client speaks (Kafka 2.8 checks
 * the magic only from v3): magic 0/1 message sets, from clients
 * configured for Kafka before 0.11, are validated and converted into one
 * v2 batch in the worker's conv buffer, as Kafka's LogValidator does for a
 * log in message format v2 (kp_legacy_to_v2); a v2 batch must be alone.
 * *data and *len are replaced by what to append (*len 0: nothing, which
 * Kafka answers with success and base offset -1).
 */
static kp_err_t produce_old_version(struct net_req *r, struct partition *p,
				    int64_t max_bytes, uint8_t **data, size_t *len,
				    bool *converted)
{
	struct net_worker *w = r->worker;
	const struct log_config *cfg = &p->log->cfg;
	struct kp_legacy_rules rules;
	struct kp_set_info si;
	int32_t n;
	int16_t err;

	err = kp_message_set_analyze(*data, *len, max_bytes, &si);
	if (err != 0)
		return err;
	if (si.entries > 0 && si.magic == 2) {
		*len = si.valid;	/* a partial entry after it is dropped */
		return si.entries > 1 ? KP_ERR_INVALID_RECORD : 0;
	}
	if (si.entries == 0) {
		*len = 0;
		return 0;
	}
	rules.now_ms = kp_wall_ms();
	rules.timestamp_diff_max_ms = cfg->timestamp_diff_max_ms;
	rules.log_append_time = cfg->log_append_time;
	rules.compacted = cfg->compact_policy;
	kp_wbuf_reset(&w->conv);
	err = kp_legacy_to_v2(*data, &si, &rules, &w->scratch, &w->conv_raw,
			      MAX_DECOMPRESSED, &w->conv, &n);
	if (err != 0)
		return err;
	/* the converted batch is held to the limit too, as Kafka does */
	if ((int64_t)w->conv.len > max_bytes)
		return KP_ERR_MESSAGE_TOO_LARGE;
	*data = w->conv.data;
	*len = w->conv.len;
	*converted = true;
	return 0;
}

static kp_err_t produce_one(struct net_req *r, struct partition *p,
			    const struct kp_produce_req_partition_produce_data *pd,
			    struct kp_produce_resp_partition_produce_response *out,
			    int16_t acks, struct produce_pending *pend)
{
	struct broker *b = r->worker->broker;
	uint8_t *data = (uint8_t *)pd->records.ptr;
	size_t len = pd->records.len > 0 ? (size_t)pd->records.len : 0;
	struct kp_batch_info info;
	struct log_append_info ai;
	int64_t max_bytes;
	bool converted = false;
	size_t size;
	int16_t err;

	if (p == NULL || p->log == NULL)
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	/* as Kafka: a replica in an offline log dir, whatever its role */
	if (log_is_offline(p->log))
		return KP_ERR_KAFKA_STORAGE_ERROR;
	if (!p->leader)
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	/* as Kafka: only the coordinators write there */
	if (p->is_offsets || p->is_txn_state)
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	max_bytes = p->max_message_bytes > 0 ? p->max_message_bytes
					     : b->message_max_bytes;
	if (r->h.api_version < 3) {
		err = produce_old_version(r, p, max_bytes, &data, &len, &converted);
		if (err != 0)
			return err;
		if (len == 0) {
			/* nothing to append: Kafka still checks the ISR */
			pthread_mutex_lock(&p->lock);
			err = !p->leader || p->log == NULL ? KP_ERR_NOT_LEADER_OR_FOLLOWER
				: acks == -1 && p->nisr < p->min_isr
				? KP_ERR_NOT_ENOUGH_REPLICAS : 0;
			pthread_mutex_unlock(&p->lock);
			if (err == 0)
				out->log_start_offset = log_start_offset(p->log);
			return err;
		}
	}
	if (!converted) {
		if (len == 0)
			return KP_ERR_INVALID_RECORD;
		/* as Kafka 2.8: from v3 exactly one batch, and it is magic 2 */
		if (len < 17 || data[KP_BATCH_OFF_MAGIC] != 2 ||
		    kp_batch_size(data, len, &size) != KP_BATCH_OK || size != len)
			return KP_ERR_INVALID_RECORD;
		if ((int64_t)len > max_bytes)
			return KP_ERR_MESSAGE_TOO_LARGE;
		err = kp_batch_validate(data, len, &r->worker->scratch,
					MAX_DECOMPRESSED, &info);
		if (err != 0)
			return err;
		/* as Kafka's LogValidator: the type is the topic's to set */
		if (info.h.attributes & KP_ATTR_LOG_APPEND_TIME)
			return refuse_timestamps(r, data, len, true, 0, 0, out);
		/* The batch's max timestamp is the records' (Kafka recomputes
		 * it on the leader): librdkafka writes 0 over records without
		 * one, which dated the segment to 1970 and let retention delete
		 * it at once.  LogAppendTime topics overwrite it when
		 * appending. */
		kp_batch_set_max_timestamp(data, len, info.max_timestamp, false);
		/* as Kafka: "Compacted topic cannot accept message without key" */
		if (p->log->cfg.compact_policy && info.null_keys > 0)
			return KP_ERR_INVALID_RECORD;
		/* ProduceRequest: zstd from v7; v0-2 are not checked */
		if ((info.h.attributes & KP_ATTR_CODEC_MASK) == KP_CODEC_ZSTD &&
		    r->h.api_version >= 3 && r->h.api_version < 7)
			return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
	}
	pthread_mutex_lock(&p->lock);
	/* in a controlled shutdown nothing new is appended, so the followers
	 * can catch up before the leadership moves (retriable for clients) */
	if (!p->leader || p->log == NULL ||
	    (atomic_load(&b->draining) && p->nreplicas > 1)) {
		pthread_mutex_unlock(&p->lock);
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	}
	/* as Kafka: acks=all refuses before appending when the ISR is short */
	if (acks == -1 && p->nisr < p->min_isr) {
		pthread_mutex_unlock(&p->lock);
		return KP_ERR_NOT_ENOUGH_REPLICAS;
	}
	/* message.timestamp.difference.max.ms, for CreateTime topics (a
	 * converted legacy set was held to it by kp_legacy_to_v2) */
	if (!converted && !p->log->cfg.log_append_time && info.ts_low <= info.ts_high) {
		int64_t now = kp_wall_ms(), diff = p->log->cfg.timestamp_diff_max_ms;

		if (ts_out_of_range(info.ts_low, now, diff) ||
		    ts_out_of_range(info.ts_high, now, diff)) {
			pthread_mutex_unlock(&p->lock);
			return refuse_timestamps(r, data, len, false, now, diff, out);
		}
	}
	err = (int16_t)log_append_leader(p->log, data, len, p->leader_epoch, -1, &ai);
	if (err == 0 && !ai.duplicate) {
		/* BrokerTopicMetrics (metrics.h): this partition's under its
		 * lock, the totals on this worker */
		uint64_t nrec = (uint64_t)(ai.last_offset - ai.first_offset + 1);

		kp_mctr_add(&p->m_messages_in, nrec);
		kp_mctr_add(&p->m_bytes_in, (uint64_t)len);
		kp_mctr_add(&r->worker->m->messages_in, nrec);
		kp_mctr_add(&r->worker->m->bytes_in, (uint64_t)len);
	}
	if (err == 0) {
		replica_update_hw(b, p);
		pend->p = p;
		pend->lead_gen = p->lead_gen;
		pend->required = ai.last_offset + 1;
		pend->out = out;
	}
	pthread_mutex_unlock(&p->lock);
	if (err == 0) {
		/* followers' parked fetches, consumers if the HW moved */
		purgatory_notify(b->purg, &p->watchers);
		out->base_offset = ai.first_offset;
		out->log_append_time_ms = ai.log_append_time;
		out->log_start_offset = log_start_offset(p->log);
	}
	return err;
}

/* Is pend acknowledged (every ISR replica has it)?  Sets its error. */
static bool ack_done(struct produce_pending *pend)
{
	struct partition *p = pend->p;
	bool done = true;

	pthread_mutex_lock(&p->lock);
	/* a new epoch while we stay leader (the controller changed the ISR)
	 * keeps the log as it is; losing the leadership in between may not */
	if (!p->leader || p->log == NULL || p->lead_gen != pend->lead_gen)
		pend->out->error_code = KP_ERR_NOT_LEADER_OR_FOLLOWER;
	else if (atomic_load(&p->hw) < pend->required)
		done = false;
	else if (p->nisr < p->min_isr)
		pend->out->error_code = KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND;
	pthread_mutex_unlock(&p->lock);
	return done;
}

/* Every pending append acknowledged (or failed), or nobody to answer. */
static bool produce_try(struct delayed_op *op)
{
	struct produce_wait *pw = (struct produce_wait *)op;

	if (net_req_orphaned(pw->r))
		return true;
	for (int32_t i = 0; i < pw->npend; ) {
		if (ack_done(&pw->pend[i]))
			pw->pend[i] = pw->pend[--pw->npend];
		else
			i++;
	}
	return pw->npend == 0;
}

/* Answer; what still waits (timeout, shutdown, connection gone) timed out. */
static void produce_complete(struct delayed_op *op, enum purgatory_end end)
{
	struct produce_wait *pw = (struct produce_wait *)op;

	(void)end;
	for (int32_t i = 0; i < pw->npend; i++)
		if (pw->pend[i].out->error_code == 0 && !ack_done(&pw->pend[i]))
			pw->pend[i].out->error_code = KP_ERR_REQUEST_TIMED_OUT;
	net_reply(pw->r, pw->resp);	/* pw lives in r's arena */
}

static const struct delayed_op_type produce_wait_type = {
	"produce", produce_try, produce_complete, NULL
};

/* Park r until its appends are acknowledged.  The response keeps no
 * pointer into the connection's read buffer: topic names are copied. */
static void produce_park(struct net_req *r, struct kp_produce_resp *resp,
			 struct produce_pending *pend, int32_t npend, int32_t timeout_ms)
{
	struct produce_wait *pw = kp_arena_calloc(&r->arena, 1, sizeof(*pw));

	if (pw == NULL ||
	    (pw->watches = kp_arena_calloc(&r->arena, (size_t)npend,
					   sizeof(*pw->watches))) == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < resp->responses_count; i++)
		resp->responses[i].name = arena_str(&r->arena, resp->responses[i].name);
	pw->r = r;
	pw->resp = resp;
	pw->pend = pend;
	pw->npend = npend;
	for (int32_t i = 0; i < npend; i++)
		pw->watches[i].key = &pend[i].p->watchers;
	/* tried once more: the high watermark may have moved meanwhile */
	purgatory_watch(r->worker->home, &pw->op, &produce_wait_type, pw->watches,
			npend, timeout_ms > 0 ? timeout_ms : 0);
}

void api_produce(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	const struct kp_produce_req *req = r->body;
	struct kp_produce_resp *resp;
	struct produce_pending *pend = NULL;
	int32_t npend = 0, total = 0;

	resp = kp_arena_calloc(&r->arena, 1, sizeof(*resp));
	if (resp == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	kp_struct_init(r->api->resp, resp);
	resp->responses = kp_arena_calloc(&r->arena, (size_t)req->topic_data_count + 1,
					  sizeof(*resp->responses));
	/* as Kafka: a transactional producer needs Write on its id first */
	bool txn_ok = r->h.api_version < 3 || req->transactional_id.ptr == NULL ||
		      req->transactional_id.len < 0 ||
		      authz_ok_str(r, KP_ACL_OP_WRITE, KP_ACL_RT_TXN_ID, req->transactional_id);
	for (int32_t i = 0; i < req->topic_data_count; i++)
		total += req->topic_data[i].partition_data_count > 0
			? req->topic_data[i].partition_data_count : 0;
	if (req->acks == -1)
		pend = kp_arena_calloc(&r->arena, (size_t)total + 1, sizeof(*pend));
	if (resp->responses == NULL || (req->acks == -1 && pend == NULL)) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < req->topic_data_count; i++) {
		const struct kp_produce_req_topic_produce_data *td = &req->topic_data[i];
		struct kp_produce_resp_topic_produce_response *tr = &resp->responses[i];

		kp_struct_init(&kp_produce_resp_topic_produce_response_desc, tr);
		tr->name = td->name;
		tr->partition_responses = kp_arena_calloc(&r->arena,
			(size_t)td->partition_data_count + 1, sizeof(*tr->partition_responses));
		if (tr->partition_responses == NULL) {
			net_req_fail(r, "out of memory");
			return;
		}
		tr->partition_responses_count = td->partition_data_count;
		/* Write on the topic (authz.h), as Kafka's handleProduceRequest */
		bool may_write = authz_ok_str(r, KP_ACL_OP_WRITE, KP_ACL_RT_TOPIC, td->name);
		for (int32_t j = 0; j < td->partition_data_count; j++) {
			const struct kp_produce_req_partition_produce_data *pd =
				&td->partition_data[j];
			struct kp_produce_resp_partition_produce_response *out =
				&tr->partition_responses[j];
			struct partition *p = partition_find(&b->parts, td->name.ptr,
							     (size_t)td->name.len, pd->index);
			struct produce_pending one;

			kp_struct_init(&kp_produce_resp_partition_produce_response_desc, out);
			out->index = pd->index;
			out->base_offset = -1;
			out->log_append_time_ms = -1;
			out->log_start_offset = -1;
			one.p = NULL;
			if (!txn_ok)
				out->error_code = KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
			else if (!may_write)
				out->error_code = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
			else if (req->acks != 0 && req->acks != 1 && req->acks != -1)
				out->error_code = KP_ERR_INVALID_REQUIRED_ACKS;
			else
				out->error_code = produce_one(r, p, pd, out, req->acks, &one);
			kp_mctr_add(&r->worker->m->total_produce, 1);
			if (out->error_code != 0)
				kp_mctr_add(&r->worker->m->failed_produce, 1);
			if (out->error_code == 0 && req->acks == -1 && one.p != NULL)
				pend[npend++] = one;
		}
	}
	resp->responses_count = req->topic_data_count;
	net_worker_trim(r->worker);
	if (req->acks == 0) {
		/* as Kafka: no answer at all; a failure closes the connection,
		 * the only way such a producer can notice */
		for (int32_t i = 0; i < resp->responses_count; i++)
			for (int32_t j = 0; j < resp->responses[i].partition_responses_count; j++)
				if (resp->responses[i].partition_responses[j].error_code) {
					net_req_fail(r, "acks=0 produce failed");
					return;
				}
		net_req_done(r);
		return;
	}
	if (npend > 0) {
		produce_park(r, resp, pend, npend, req->timeout_ms);
		return;
	}
	net_reply(r, resp);
}

/* -------------------------------------------------------- ListOffsets */

#define DEBUGGING_REPLICA_ID (-2)

/* The epoch in which offset was written: the last entry starting at or
 * before it. */
static int32_t epoch_of(const struct log_epoch_cache *c, int64_t offset)
{
	int32_t e = -1;

	for (int i = 0; i < c->n && c->e[i].start_offset <= offset; i++)
		e = c->e[i].epoch;
	return e;
}

static kp_err_t list_one(const struct kp_list_offsets_req *req, int16_t version,
			 struct partition *p,
			 const struct kp_list_offsets_req_list_offsets_partition *in,
			 struct kp_list_offsets_resp_list_offsets_partition_response *out,
			 struct kp_arena *a)
{
	bool consumer = req->replica_id < 0;
	int64_t hw, limit, off = -1, ts = -1;
	int16_t err;
	int rc;

	if (p == NULL || p->log == NULL)
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (!p->leader && req->replica_id != DEBUGGING_REPLICA_ID)
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	err = partition_check_epoch(p, in->current_leader_epoch);
	if (err != 0)
		return err;
	hw = atomic_load(&p->hw);
	/* consumers never learn of offsets above the high watermark, nor
	 * read_committed ones (v2+) of offsets above the last stable offset */
	limit = !consumer ? log_end_offset(p->log)
		: version >= 2 && req->isolation_level == 1 ? log_lso(p->log, hw) : hw;
	if (in->timestamp == LOG_TS_LATEST) {
		off = limit;
	} else if (in->timestamp == LOG_TS_EARLIEST) {
		off = log_start_offset(p->log);
	} else {
		rc = log_offset_for_timestamp(p->log, in->timestamp, &off, &ts);
		if (rc < 0)
			return KP_ERR_KAFKA_STORAGE_ERROR;
		if (rc == 1 || off >= limit)
			off = ts = -1;	/* as Kafka: no such record yet */
	}
	if (version == 0) {
		/* the legacy form: a list of offsets, here just the one */
		out->old_style_offsets = kp_arena_alloc(a, sizeof(int64_t));
		if (out->old_style_offsets == NULL)
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		out->old_style_offsets[0] = off >= 0 ? off : limit;
		out->old_style_offsets_count = in->max_num_offsets > 0 ? 1 : 0;
		return 0;
	}
	out->offset = off;
	out->timestamp = ts;
	/* the epoch cache belongs to the partition's appender (a role change
	 * or, on a follower, the fetcher may grow it): read it under the lock */
	pthread_mutex_lock(&p->lock);
	out->leader_epoch = off < 0 ? -1
		: in->timestamp == LOG_TS_LATEST ? p->leader_epoch
		: p->log != NULL ? epoch_of(&p->log->epochs, off) : -1;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void api_list_offsets(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	const struct kp_list_offsets_req *req = r->body;
	struct kp_list_offsets_resp resp;

	kp_struct_init(r->api->resp, &resp);
	resp.topics = kp_arena_calloc(&r->arena, (size_t)req->topics_count + 1,
				      sizeof(*resp.topics));
	if (resp.topics == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_list_offsets_req_list_offsets_topic *t = &req->topics[i];
		struct kp_list_offsets_resp_list_offsets_topic_response *tr = &resp.topics[i];

		kp_struct_init(&kp_list_offsets_resp_list_offsets_topic_response_desc, tr);
		tr->name = t->name;
		tr->partitions = kp_arena_calloc(&r->arena, (size_t)t->partitions_count + 1,
						 sizeof(*tr->partitions));
		if (tr->partitions == NULL) {
			net_req_fail(r, "out of memory");
			return;
		}
		tr->partitions_count = t->partitions_count;
		/* Describe on the topic, as Kafka's handleListOffsetRequest */
		bool may = authz_ok_str(r, KP_ACL_OP_DESCRIBE, KP_ACL_RT_TOPIC, t->name);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			struct kp_list_offsets_resp_list_offsets_partition_response *out =
				&tr->partitions[j];
			struct partition *p = partition_find(&b->parts, t->name.ptr,
							     (size_t)t->name.len,
							     t->partitions[j].partition_index);

			kp_struct_init(&kp_list_offsets_resp_list_offsets_partition_response_desc,
				       out);
			out->partition_index = t->partitions[j].partition_index;
			out->old_style_offsets_count = 0;
			out->error_code = may ? list_one(req, r->h.api_version, p,
							 &t->partitions[j], out, &r->arena)
					      : KP_ERR_TOPIC_AUTHORIZATION_FAILED;
		}
	}
	resp.topics_count = req->topics_count;
	net_reply(r, &resp);
}

/* ----------------------------------------------- OffsetForLeaderEpoch */

/* Where a leader epoch ends in our log: followers find their divergence
 * point with it, consumers validate their position after a leader change
 * (KIP-320).  Answered by the leader only. */
static void epoch_end_one(struct broker *b, kp_str topic,
			  const struct kp_offset_for_leader_epoch_req_offset_for_leader_partition *in,
			  struct kp_offset_for_leader_epoch_resp_epoch_end_offset *out)
{
	struct partition *p = partition_find(&b->parts, topic.ptr, (size_t)topic.len,
					     in->partition);

	out->partition = in->partition;
	out->leader_epoch = -1;
	out->end_offset = -1;
	if (p == NULL) {
		out->error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	pthread_mutex_lock(&p->lock);
	if (p->log == NULL)
		out->error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	else if (!p->leader)
		out->error_code = KP_ERR_NOT_LEADER_OR_FOLLOWER;
	else
		out->error_code = partition_check_epoch(p, in->current_leader_epoch);
	if (out->error_code == 0)
		log_end_offset_for_epoch(p->log, in->leader_epoch, &out->leader_epoch,
					 &out->end_offset);
	pthread_mutex_unlock(&p->lock);
}

void api_offset_for_leader_epoch(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	const struct kp_offset_for_leader_epoch_req *req = r->body;
	struct kp_offset_for_leader_epoch_resp resp;
	bool cluster = authz_ok_quiet(r, KP_ACL_OP_CLUSTER_ACTION, KP_ACL_RT_CLUSTER,
				      kp_str_c(KP_ACL_CLUSTER_NAME));

	kp_struct_init(r->api->resp, &resp);
	resp.topics = kp_arena_calloc(&r->arena, (size_t)req->topics_count + 1,
				      sizeof(*resp.topics));
	if (resp.topics == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_offset_for_leader_epoch_req_offset_for_leader_topic *t =
			&req->topics[i];
		struct kp_offset_for_leader_epoch_resp_offset_for_leader_topic_result *tr =
			&resp.topics[i];

		tr->topic = t->topic;
		tr->partitions = kp_arena_calloc(&r->arena, (size_t)t->partitions_count + 1,
						 sizeof(*tr->partitions));
		if (tr->partitions == NULL) {
			net_req_fail(r, "out of memory");
			return;
		}
		tr->partitions_count = t->partitions_count;
		/* ClusterAction (replicas) or Describe on the topic, as
		 * Kafka's handleOffsetForLeaderEpochRequest */
		bool may = cluster ||
			   authz_ok_str(r, KP_ACL_OP_DESCRIBE, KP_ACL_RT_TOPIC, t->topic);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			if (may) {
				epoch_end_one(b, t->topic, &t->partitions[j], &tr->partitions[j]);
				continue;
			}
			tr->partitions[j].partition = t->partitions[j].partition;
			tr->partitions[j].leader_epoch = -1;
			tr->partitions[j].end_offset = -1;
			tr->partitions[j].error_code = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
		}
	}
	resp.topics_count = req->topics_count;
	net_reply(r, &resp);
}
