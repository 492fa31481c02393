/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_metadata.c - Metadata (clients), DescribeCluster and UpdateMetadata
 * (controller).
 *
 * UpdateMetadata carries every live broker and the partitions whose state
 * changed (a partition with leader -2 is being deleted); the broker merges
 * it into a new immutable view of the metadata cache and notifies the
 * cache's key, which admin requests waiting for their outcome watch.
 *
 * A Metadata request naming unknown topics that may be auto-created
 * creates them on the ZooKeeper thread (zk_thread.h) and is answered, from
 * its worker, once that is done (LEADER_NOT_AVAILABLE for each: the
 * controller has still to elect their leaders, as Kafka answers).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "authz.h"
#include "broker.h"
#include "ctl_epoch.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_topic_config.h"
#include "kp_msgs.h"
#include "metadata_cache.h"
#include "net.h"
#include "purgatory.h"
#include "zk_admin.h"
#include "zk_thread.h"

#define LEADER_DURING_DELETE (-2)
/* A topic the request names that is not being auto-created. */
#define NOT_CREATED INT16_MIN

static bool uuid_zero(const kp_uuid *u)
{
	static const kp_uuid zero;

	return memcmp(u, &zero, sizeof(zero)) == 0;
}

/* ------------------------------------------------------------ Metadata */

/*
 * A replica we host knows its partition's leader from the controller's
 * LeaderAndIsr, which reaches us just before the UpdateMetadata of the
 * same change: until that lands, our own newer epoch answers.  Else a
 * client told NOT_LEADER_OR_FOLLOWER by us would read from our Metadata
 * that we still lead, after a peer already named the new leader; some
 * clients (librdkafka 2.0) then keep the partition on the wrong broker
 * for good.  The lists are copied into the request's arena (the
 * partition's change under its lock).
 */
static void local_newer(struct net_req *r, const char *topic,
			struct kp_metadata_resp_metadata_response_partition *out)
{
	struct broker *b = r->worker->broker;
	struct partition *lp = partition_find(&b->parts, topic, strlen(topic),
					      out->partition_index);
	int32_t *isr, *reps;

	if (lp == NULL)
		return;
	pthread_mutex_lock(&lp->lock);
	if (lp->leader_epoch > out->leader_epoch && lp->nisr > 0 && lp->nreplicas > 0 &&
	    (isr = kp_arena_alloc(&r->arena, sizeof(*isr) * (size_t)lp->nisr)) != NULL &&
	    (reps = kp_arena_alloc(&r->arena,
				   sizeof(*reps) * (size_t)lp->nreplicas)) != NULL) {
		memcpy(isr, lp->isr, sizeof(*isr) * (size_t)lp->nisr);
		memcpy(reps, lp->replicas, sizeof(*reps) * (size_t)lp->nreplicas);
		out->leader_id = lp->leader_id;
		out->leader_epoch = lp->leader_epoch;
		out->isr_nodes = isr;
		out->isr_nodes_count = lp->nisr;
		out->replica_nodes = reps;
		out->replica_nodes_count = lp->nreplicas;
	}
	pthread_mutex_unlock(&lp->lock);
}

static int fill_partition(struct net_req *r, const struct md_view *v,
			  const char *topic, const struct md_partition *p,
			  struct kp_metadata_resp_metadata_response_partition *out)
{
	out->partition_index = p->partition;
	out->leader_id = p->leader;
	out->leader_epoch = p->leader_epoch;
	out->replica_nodes = p->replicas;
	out->replica_nodes_count = p->nreplicas;
	out->isr_nodes = p->isr;
	out->isr_nodes_count = p->nisr;
	out->offline_replicas = p->offline;
	out->offline_replicas_count = p->noffline;
	local_newer(r, topic, out);
	/* as Kafka: a leader that is not a live broker is not available;
	 * one without the client's listener is not found (v6+) */
	if (out->leader_id < 0 || md_view_broker(v, out->leader_id) == NULL) {
		out->error_code = KP_ERR_LEADER_NOT_AVAILABLE;
		out->leader_id = -1;
	} else if (md_view_endpoint(v, out->leader_id, r->listener) == NULL) {
		out->error_code = r->h.api_version >= 6 ? KP_ERR_LISTENER_NOT_FOUND
							: KP_ERR_LEADER_NOT_AVAILABLE;
		out->leader_id = -1;
	}
	return 0;
}

static int fill_topic(struct net_req *r, const struct md_view *v,
		      const struct md_topic *t,
		      struct kp_metadata_resp_metadata_response_topic *out)
{
	out->name = kp_str_c(t->name);
	out->is_internal = strcmp(t->name, "__consumer_offsets") == 0;
	out->partitions = kp_arena_calloc(&r->arena, (size_t)t->nparts + 1,
					  sizeof(*out->partitions));
	if (out->partitions == NULL)
		return -ENOMEM;
	out->partitions_count = t->nparts;
	for (int32_t i = 0; i < t->nparts; i++) {
		kp_struct_init(&kp_metadata_resp_metadata_response_partition_desc,
			       &out->partitions[i]);
		fill_partition(r, v, t->name, &t->parts[i], &out->partitions[i]);
	}
	return 0;
}

/* A broker as Metadata and DescribeCluster list it. */
struct live_broker {
	int32_t id;
	const char *host;
	int32_t port;
	const char *rack;	/* NULL: none */
};

/*
 * The brokers to list: the live ones with an endpoint on the listener the
 * request came in on (as Kafka's getAliveBrokerNodes(listenerName)), and
 * ourselves before the first UpdateMetadata names us.  *controller:
 * clients send admin requests to the "controller" and every broker
 * performs them, so it is the lowest live broker id, the same answer from
 * every broker.
 */
static struct live_broker *live_brokers(struct net_req *r, const struct md_view *v,
					int32_t *n, int32_t *controller)
{
	struct broker *b = r->worker->broker;
	bool self_listed = md_view_broker(v, b->id) != NULL;
	int32_t nb = v->nbrokers + (self_listed ? 0 : 1);
	struct live_broker *lb = kp_arena_calloc(&r->arena, (size_t)nb + 1, sizeof(*lb));
	const struct kp_endpoint *self = kp_listeners_advertised(&b->lsn, r->listener);

	if (lb == NULL)
		return NULL;
	nb = 0;
	for (int32_t i = 0; i < v->nbrokers; i++) {
		const struct md_endpoint *e = md_broker_endpoint(&v->brokers[i], r->listener);

		if (e != NULL)
			lb[nb++] = (struct live_broker){ v->brokers[i].id, e->host,
							 e->port, v->brokers[i].rack };
	}
	if (!self_listed && self != NULL)
		lb[nb++] = (struct live_broker){ b->id, self->host, self->port, b->rack };
	*controller = b->id;
	for (int32_t i = 0; i < nb; i++)
		if (lb[i].id < *controller)
			*controller = lb[i].id;
	*n = nb;
	return lb;
}

/* Kafka's answer to a request it refuses as a whole (v10+ topic ids, null
 * names): every topic asked for, with the error, and nothing else. */
static void metadata_error(struct net_req *r, int16_t err)
{
	const struct kp_metadata_req *req = r->body;
	struct kp_metadata_resp resp;
	int32_t n = req->topics_count > 0 ? req->topics_count : 0;

	kp_struct_init(r->api->resp, &resp);
	resp.topics = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*resp.topics));
	if (resp.topics == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		kp_struct_init(&kp_metadata_resp_metadata_response_topic_desc, &resp.topics[i]);
		resp.topics[i].name = req->topics[i].name.len >= 0 ? req->topics[i].name
								  : (kp_str){ "", 0 };
		resp.topics[i].topic_id = req->topics[i].topic_id;
		resp.topics[i].error_code = err;
	}
	resp.topics_count = n;
	net_reply(r, &resp);
}

/*
 * The answer, from the metadata cache as it is now; created[i], unless
 * NOT_CREATED, is the answer for the i-th topic named (auto-created).
 */
static void metadata_answer(struct net_req *r, const int16_t *created)
{
	struct broker *b = r->worker->broker;
	const struct kp_metadata_req *req = r->body;
	int16_t v = r->h.api_version;
	struct kp_metadata_resp resp;
	const struct kp_struct_desc *topic_desc = &kp_metadata_resp_metadata_response_topic_desc;
	const struct kp_struct_desc *broker_desc = &kp_metadata_resp_metadata_response_broker_desc;
	struct md_view *view;
	bool all = req->topics_count < 0 || (v == 0 && req->topics_count == 0);
	bool topic_ops = v >= 8 && req->include_topic_authorized_operations;
	struct live_broker *lb;
	int32_t nb, nt, n = 0;

	kp_struct_init(r->api->resp, &resp);
	view = metadata_cache_get(&b->meta);
	lb = live_brokers(r, view, &nb, &resp.controller_id);
	resp.brokers = kp_arena_calloc(&r->arena, (size_t)nb + 1, sizeof(*resp.brokers));
	nt = all ? view->ntopics : req->topics_count;
	resp.topics = kp_arena_calloc(&r->arena, (size_t)nt + 1, sizeof(*resp.topics));
	if (lb == NULL || resp.brokers == NULL || resp.topics == NULL) {
		md_view_unref(view);
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < nb; i++) {
		kp_struct_init(broker_desc, &resp.brokers[i]);
		resp.brokers[i].node_id = lb[i].id;
		resp.brokers[i].host = kp_str_c(lb[i].host);
		resp.brokers[i].port = lb[i].port;
		resp.brokers[i].rack = kp_str_c(lb[i].rack);
	}
	resp.brokers_count = nb;
	resp.cluster_id = kp_str_c(b->cluster_id);
	/* v8-10, asked for: the cluster's operations the principal may do
	 * (KIP-430; 0 without Describe on the cluster, as Kafka 2.8) */
	if (v >= 8 && v <= 10 && req->include_cluster_authorized_operations)
		resp.cluster_authorized_operations = authz_cluster_operations(r);
	for (int32_t i = 0; i < nt; i++) {
		struct kp_metadata_resp_metadata_response_topic *out = &resp.topics[n];
		const struct md_topic *t;

		/* as Kafka: only the topics the principal may Describe; a
		 * named one it may not is answered TOPIC_AUTHORIZATION_FAILED
		 * whether it exists or not (authz.h) */
		if (all && !authz_ok_quiet(r, KP_ACL_OP_DESCRIBE, KP_ACL_RT_TOPIC,
					   (kp_str){ view->topics[i].name,
						     (int32_t)strlen(view->topics[i].name) }))
			continue;
		n++;
		kp_struct_init(topic_desc, out);
		if (all) {
			t = &view->topics[i];
			if (topic_ops)
				out->topic_authorized_operations =
					authz_operations(r, KP_ACL_RT_TOPIC, kp_str_c(t->name));
		} else {
			kp_str name = req->topics[i].name;

			if (!authz_ok_str(r, KP_ACL_OP_DESCRIBE, KP_ACL_RT_TOPIC, name)) {
				out->name = name;
				out->error_code = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
				out->partitions_count = 0;
				continue;
			}
			/* KIP-430: a topic it may describe (known or not), but
			 * not one whose creation was refused, as Kafka 2.8 */
			if (topic_ops && !(created != NULL &&
					   created[i] == KP_ERR_TOPIC_AUTHORIZATION_FAILED))
				out->topic_authorized_operations =
					authz_operations(r, KP_ACL_RT_TOPIC, name);

			t = created != NULL && created[i] != NOT_CREATED ? NULL
				: md_view_topic(view, name.ptr, (size_t)name.len);
			if (t == NULL) {
				out->name = name;
				out->error_code = created != NULL && created[i] != NOT_CREATED
					? created[i] : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				out->partitions_count = 0;
				continue;
			}
		}
		out->topic_id = t->topic_id;
		if (fill_topic(r, view, t, out) < 0) {
			md_view_unref(view);
			net_req_fail(r, "out of memory");
			return;
		}
	}
	resp.topics_count = n;
	net_reply(r, &resp);	/* encoded now: the view may go */
	md_view_unref(view);
}

/* Unknown topics to auto-create: an answer for each named topic. */
struct auto_create {
	struct net_req *r;
	int16_t *created;
	bool *pending;		/* to create on the ZooKeeper thread */
};

/*
 * What may be decided here of an unknown topic's auto-creation: an invalid
 * name (INVALID_TOPIC_EXCEPTION), creation disabled
 * (UNKNOWN_TOPIC_OR_PARTITION), or 0: to create.
 */
static kp_err_t auto_create_check(struct broker *b, kp_str topic)
{
	char name[ZK_ADMIN_MAX_TOPIC_LEN + 2], msg[512];

	if (topic.len < 0 || topic.len > ZK_ADMIN_MAX_TOPIC_LEN)
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	memcpy(name, topic.ptr, (size_t)topic.len);
	name[topic.len] = 0;
	if (zk_admin_topic_name_check(name, msg, sizeof(msg)) != 0)
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	if (!kp_config_bool(&b->cfg, "auto.create.topics.enable") || b->zk == NULL)
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	return 0;
}

/* On the ZooKeeper thread: create them, as Kafka's auto-creation does
 * (num.partitions, default.replication.factor, no overrides). */
static void auto_create_run(void *arg)
{
	struct auto_create *ac = arg;
	struct broker *b = ac->r->worker->broker;
	const struct kp_metadata_req *req = ac->r->body;
	struct kp_zk_entity_config none;

	memset(&none, 0, sizeof(none));
	for (int32_t i = 0; i < req->topics_count; i++) {
		kp_str t = req->topics[i].name;
		char name[ZK_ADMIN_MAX_TOPIC_LEN + 2], msg[512];
		int16_t err;

		if (!ac->pending[i])
			continue;
		memcpy(name, t.ptr, (size_t)t.len);
		name[t.len] = 0;
		err = zk_admin_create_topic(b, name, kp_config_int(&b->cfg, "num.partitions"),
					    kp_config_int(&b->cfg, "default.replication.factor"),
					    NULL, &none, false, NULL, msg, sizeof(msg));
		if (err != 0 && err != KP_ERR_TOPIC_ALREADY_EXISTS) {
			KP_WARN("auto-creating topic %s: %s", name, msg);
			ac->created[i] = err;
		} else {
			/* as Kafka: the topic exists but has no leaders yet */
			ac->created[i] = KP_ERR_LEADER_NOT_AVAILABLE;
		}
	}
}

static void auto_create_done(void *arg, bool ran)
{
	struct auto_create *ac = arg;
	const struct kp_metadata_req *req = ac->r->body;

	for (int32_t i = 0; !ran && i < req->topics_count; i++)
		if (ac->pending[i])
			ac->created[i] = KP_ERR_LEADER_NOT_AVAILABLE;
	metadata_answer(ac->r, ac->created);
}

void api_metadata(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	const struct kp_metadata_req *req = r->body;
	struct auto_create *ac;
	struct md_view *view;
	bool any = false;

	/* v10 and v11 carry topic ids, but Kafka 2.8 looks topics up by
	 * name only and refuses ids and null names */
	for (int32_t i = 0; i < req->topics_count; i++)
		if (req->topics[i].name.len < 0 || !uuid_zero(&req->topics[i].topic_id)) {
			metadata_error(r, KP_ERR_INVALID_REQUEST);
			return;
		}
	if (req->topics_count <= 0 || !req->allow_auto_topic_creation) {
		metadata_answer(r, NULL);
		return;
	}
	ac = kp_arena_calloc(&r->arena, 1, sizeof(*ac));
	if (ac == NULL ||
	    (ac->created = kp_arena_calloc(&r->arena, (size_t)req->topics_count,
					   sizeof(*ac->created))) == NULL ||
	    (ac->pending = kp_arena_calloc(&r->arena, (size_t)req->topics_count,
					   sizeof(*ac->pending))) == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	ac->r = r;
	view = metadata_cache_get(&b->meta);
	for (int32_t i = 0; i < req->topics_count; i++) {
		kp_str name = req->topics[i].name;

		ac->created[i] = NOT_CREATED;
		if (md_view_topic(view, name.ptr, (size_t)name.len) != NULL)
			continue;
		/* unknown and not to be described: answered as such, never
		 * created; creation needs Create on the cluster or topic */
		if (!authz_ok_quiet(r, KP_ACL_OP_DESCRIBE, KP_ACL_RT_TOPIC, name))
			continue;
		if (!authz_ok_quiet(r, KP_ACL_OP_CREATE, KP_ACL_RT_CLUSTER,
				    kp_str_c(KP_ACL_CLUSTER_NAME)) &&
		    !authz_ok_str(r, KP_ACL_OP_CREATE, KP_ACL_RT_TOPIC, name)) {
			ac->created[i] = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
			continue;
		}
		ac->created[i] = auto_create_check(b, name);
		ac->pending[i] = ac->created[i] == 0;
		any |= ac->pending[i];
	}
	md_view_unref(view);
	if (!any) {
		metadata_answer(r, ac->created);
		return;
	}
	if (net_req_detach(r) < 0) {
		net_req_fail(r, "out of memory");
		return;
	}
	zk_thread_call(b, r->worker->home, auto_create_run, auto_create_done, ac);
}

/* ----------------------------------------------------- DescribeCluster */

void api_describe_cluster(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	const struct kp_describe_cluster_req *req = r->body;
	struct kp_describe_cluster_resp resp;
	struct md_view *view = metadata_cache_get(&b->meta);
	struct live_broker *lb;
	int32_t nb;

	kp_struct_init(r->api->resp, &resp);
	lb = live_brokers(r, view, &nb, &resp.controller_id);
	resp.brokers = lb != NULL ? kp_arena_calloc(&r->arena, (size_t)nb + 1,
						    sizeof(*resp.brokers)) : NULL;
	if (resp.brokers == NULL) {
		md_view_unref(view);
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < nb; i++) {
		kp_struct_init(&kp_describe_cluster_resp_describe_cluster_broker_desc,
			       &resp.brokers[i]);
		resp.brokers[i].broker_id = lb[i].id;
		resp.brokers[i].host = kp_str_c(lb[i].host);
		resp.brokers[i].port = lb[i].port;
		resp.brokers[i].rack = kp_str_c(lb[i].rack);
	}
	resp.brokers_count = nb;
	resp.cluster_id = kp_str_c(b->cluster_id);
	if (req->include_cluster_authorized_operations)
		resp.cluster_authorized_operations = authz_cluster_operations(r);
	net_reply(r, &resp);
	md_view_unref(view);
}

/* ------------------------------------------------------ UpdateMetadata */

struct merge_entry {
	const char *topic;
	size_t topic_len;
	int32_t partition;
	int32_t seq;		/* later wins */
	const struct md_partition *old;
	const struct kp_update_metadata_update_metadata_partition_state *upd;
	const kp_uuid *topic_id;	/* the old view's or the update's */
};

static int cmp_entry(const void *a, const void *b)
{
	const struct merge_entry *x = a, *y = b;
	size_t n = x->topic_len < y->topic_len ? x->topic_len : y->topic_len;
	int c = memcmp(x->topic, y->topic, n);

	if (c == 0 && x->topic_len != y->topic_len)
		c = x->topic_len < y->topic_len ? -1 : 1;
	if (c != 0)
		return c;
	if (x->partition != y->partition)
		return x->partition < y->partition ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static char *kstrdup(kp_str s)
{
	return strndup(s.ptr != NULL ? s.ptr : "", (size_t)(s.len > 0 ? s.len : 0));
}

static int32_t *dup_ints(const int32_t *p, int32_t n)
{
	int32_t *d = malloc(sizeof(*d) * (size_t)(n > 0 ? n : 1));

	if (d != NULL && n > 0)
		memcpy(d, p, sizeof(*d) * (size_t)n);
	return d;
}

static int build_partition(struct md_partition *out, const struct merge_entry *e)
{
	if (e->upd != NULL) {
		const struct kp_update_metadata_update_metadata_partition_state *u = e->upd;

		out->partition = u->partition_index;
		out->leader = u->leader;
		out->leader_epoch = u->leader_epoch;
		out->nreplicas = u->replicas_count > 0 ? u->replicas_count : 0;
		out->replicas = dup_ints(u->replicas, out->nreplicas);
		out->nisr = u->isr_count > 0 ? u->isr_count : 0;
		out->isr = dup_ints(u->isr, out->nisr);
		out->noffline = u->offline_replicas_count > 0 ? u->offline_replicas_count : 0;
		out->offline = dup_ints(u->offline_replicas, out->noffline);
	} else {
		*out = *e->old;
		out->replicas = dup_ints(e->old->replicas, e->old->nreplicas);
		out->isr = dup_ints(e->old->isr, e->old->nisr);
		out->offline = dup_ints(e->old->offline, e->old->noffline);
	}
	return out->replicas && out->isr && out->offline ? 0 : -ENOMEM;
}

/*
 * UpdateMetadata has no per-partition error: a state whose topic name
 * Kafka could never have created (Topic.validate) is left out of the view,
 * so no answer names it and nothing built on the cache sees it.
 */
static bool legal_name(kp_str name)
{
	if (name.len > 0 && kp_topic_name_legal(name.ptr, (size_t)name.len))
		return true;
	/* not printed: it may hold a newline */
	KP_WARN("UpdateMetadata: a state with an illegal topic name (%d "
		"bytes) ignored", (int)name.len);
	return false;
}

/* The new view: live brokers from req, partitions merged. */
static struct md_view *merge(const struct md_view *old,
			     const struct kp_update_metadata_req *req,
			     int16_t version)
{
	struct md_view *v = md_view_new();
	struct merge_entry *es;
	size_t n = 0, cap = 0;
	int32_t seq = 0;

	if (v == NULL)
		return NULL;
	for (int32_t i = 0; i < old->ntopics; i++)
		cap += (size_t)old->topics[i].nparts;
	for (int32_t i = 0; i < req->ungrouped_partition_states_count; i++)
		cap++;
	for (int32_t i = 0; i < req->topic_states_count; i++)
		cap += (size_t)(req->topic_states[i].partition_states_count > 0
				? req->topic_states[i].partition_states_count : 0);
	es = calloc(cap + 1, sizeof(*es));
	if (es == NULL)
		goto fail;
	for (int32_t i = 0; i < old->ntopics; i++)
		for (int32_t j = 0; j < old->topics[i].nparts; j++)
			es[n++] = (struct merge_entry){
				old->topics[i].name, strlen(old->topics[i].name),
				old->topics[i].parts[j].partition, seq++,
				&old->topics[i].parts[j], NULL, &old->topics[i].topic_id };
	for (int32_t i = 0; i < req->ungrouped_partition_states_count; i++) {
		const struct kp_update_metadata_update_metadata_partition_state *u =
			&req->ungrouped_partition_states[i];

		if (!legal_name(u->topic_name))
			continue;
		es[n++] = (struct merge_entry){ u->topic_name.ptr,
			(size_t)u->topic_name.len, u->partition_index, seq++, NULL, u, NULL };
	}
	for (int32_t i = 0; i < req->topic_states_count; i++) {
		const struct kp_update_metadata_req_update_metadata_topic_state *t =
			&req->topic_states[i];

		if (!legal_name(t->topic_name))
			continue;
		for (int32_t j = 0; j < t->partition_states_count; j++)
			es[n++] = (struct merge_entry){ t->topic_name.ptr,
				(size_t)t->topic_name.len,
				t->partition_states[j].partition_index, seq++, NULL,
				&t->partition_states[j], &t->topic_id };
	}
	if (n > 1)
		qsort(es, n, sizeof(*es), cmp_entry);
	v->topics = calloc(n + 1, sizeof(*v->topics));
	if (v->topics == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct md_topic *t;

		/* the last entry of each (topic, partition) run wins */
		if (i + 1 < n && cmp_entry(&(struct merge_entry){ es[i].topic,
			es[i].topic_len, es[i].partition, 0, NULL, NULL },
					   &(struct merge_entry){ es[i + 1].topic,
			es[i + 1].topic_len, es[i + 1].partition, 0, NULL, NULL }) == 0)
			continue;
		if (es[i].upd != NULL && es[i].upd->leader == LEADER_DURING_DELETE)
			continue;
		t = v->ntopics > 0 ? &v->topics[v->ntopics - 1] : NULL;
		if (t == NULL || strlen(t->name) != es[i].topic_len ||
		    memcmp(t->name, es[i].topic, es[i].topic_len) != 0) {
			t = &v->topics[v->ntopics++];
			t->name = strndup(es[i].topic, es[i].topic_len);
			t->parts = calloc(n - i, sizeof(*t->parts));
			if (t->name == NULL || t->parts == NULL)
				goto fail;
		}
		/* v7+ names the topic's id; an older update keeps the one
		 * we had */
		if (es[i].topic_id != NULL && !uuid_zero(es[i].topic_id))
			t->topic_id = *es[i].topic_id;
		if (uuid_zero(&t->topic_id)) {
			const struct md_topic *o = md_view_topic(old, es[i].topic,
								 es[i].topic_len);

			if (o != NULL)
				t->topic_id = o->topic_id;
		}
		if (build_partition(&t->parts[t->nparts++], &es[i]) < 0)
			goto fail;
	}
	v->brokers = calloc((size_t)req->live_brokers_count + 1, sizeof(*v->brokers));
	if (v->brokers == NULL)
		goto fail;
	for (int32_t i = 0; i < req->live_brokers_count; i++) {
		const struct kp_update_metadata_req_update_metadata_broker *lb =
			&req->live_brokers[i];
		struct md_broker *mb = &v->brokers[v->nbrokers++];

		mb->id = lb->id;
		mb->eps = calloc((size_t)(version == 0 ? 1 : lb->endpoints_count) + 1,
				 sizeof(*mb->eps));
		if (mb->eps == NULL)
			goto fail;
		if (version == 0) {
			mb->eps[0].listener = strdup("PLAINTEXT");
			mb->eps[0].host = kstrdup(lb->v0_host);
			mb->eps[0].port = lb->v0_port;
			mb->neps = 1;
			if (mb->eps[0].listener == NULL || mb->eps[0].host == NULL)
				goto fail;
		}
		for (int32_t j = 0; version > 0 && j < lb->endpoints_count; j++) {
			const struct kp_update_metadata_req_update_metadata_endpoint *e =
				&lb->endpoints[j];
			struct md_endpoint *me = &mb->eps[mb->neps++];

			/* v1-2 name no listener: its protocol's name is */
			me->listener = version >= 3
				? kstrdup(e->listener)
				: strdup(kp_secproto_name(e->security_protocol));
			me->host = kstrdup(e->host);
			me->port = e->port;
			if (me->listener == NULL || me->host == NULL)
				goto fail;
			for (char *c = me->listener; *c; c++)
				*c = (char)toupper((unsigned char)*c);
		}
		if (lb->rack.ptr != NULL && lb->rack.len >= 0)
			mb->rack = strndup(lb->rack.ptr, (size_t)lb->rack.len);
	}
	v->controller_id = req->controller_id;
	v->controller_epoch = req->controller_epoch;
	free(es);
	return v;
fail:
	free(es);
	md_view_unref(v);
	return NULL;
}

static void um_refused(struct net_req *r)
{
	const struct kp_update_metadata_req *req = r->body;
	struct kp_update_metadata_resp resp;

	KP_WARN("UpdateMetadata from controller %d with stale epoch %d (known %d)",
		req->controller_id, req->controller_epoch,
		atomic_load(&r->worker->broker->controller_epoch));
	kp_struct_init(r->api->resp, &resp);
	resp.error_code = KP_ERR_STALE_CONTROLLER_EPOCH;
	net_reply(r, &resp);
}

static void um_admitted(struct net_req *r);

/* A newer controller epoch is believed once ZooKeeper shows it
 * (ctl_epoch.h). */
void api_update_metadata(struct net_req *r)
{
	const struct kp_update_metadata_req *req = r->body;

	ctl_epoch_admit(r, req->controller_epoch, um_admitted, um_refused);
}

static void um_admitted(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	const struct kp_update_metadata_req *req = r->body;
	struct kp_update_metadata_resp resp;
	struct md_view *old = metadata_cache_get(&b->meta);
	struct md_view *v = NULL;

	kp_struct_init(r->api->resp, &resp);
	if (req->controller_epoch < old->controller_epoch) {
		/* a deposed controller: fenced, as Kafka does */
		KP_WARN("UpdateMetadata from controller %d with epoch %d < %d: "
			"ignored", req->controller_id, req->controller_epoch,
			old->controller_epoch);
		resp.error_code = KP_ERR_STALE_CONTROLLER_EPOCH;
	} else if ((v = merge(old, req, r->h.api_version)) == NULL) {
		resp.error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
	} else {
		metadata_cache_set(&b->meta, v);
		/* admin requests waiting for this */
		purgatory_notify(b->purg, &b->meta.changed);
	}
	md_view_unref(old);
	net_reply(r, &resp);
}
