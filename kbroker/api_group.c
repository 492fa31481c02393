/*
 * api_group.c - FindCoordinator, the committed-offset APIs (OffsetCommit,
 * OffsetFetch, OffsetDelete) and the group admin APIs (DescribeGroups,
 * ListGroups, DeleteGroups).  Join/Sync/Heartbeat/Leave are in group.c.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "group.h"
#include "group_int.h"
#include "kp_errors.h"
#include "kp_groupmeta.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "net.h"
#include "req_dispatch.h"

/* ----------------------------------------------------- FindCoordinator */

void api_find_coordinator(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	struct coord *c = b->coord;
	const struct kp_find_coordinator_req *req = r->body;
	struct kp_find_coordinator_resp resp;
	struct md_view *v;
	const struct md_topic *t;
	int16_t err = 0;
	char msg[512] = "";

	kp_struct_init(r->api->resp, &resp);
	resp.node_id = -1;
	resp.host = (kp_str){ "", 0 };
	resp.port = -1;
	if (req->key_type != 0) {
		/* no transaction coordinator here */
		err = req->key_type == 1 ? KP_ERR_COORDINATOR_NOT_AVAILABLE
					 : KP_ERR_INVALID_REQUEST;
		snprintf(msg, sizeof(msg), "%s", req->key_type == 1
			 ? "transactions are not supported" : "unknown key type");
		goto out;
	}
	v = metadata_cache_get(&b->meta);
	t = md_view_topic(v, KP_OFFSETS_TOPIC, strlen(KP_OFFSETS_TOPIC));
	if (t == NULL || t->nparts <= 0) {
		md_view_unref(v);
		err = admin_create_offsets_topic(b, c->num_partitions,
						 c->replication_factor,
						 c->segment_bytes, msg, sizeof(msg));
		if (err != 0 && err != KP_ERR_TOPIC_ALREADY_EXISTS)
			KP_WARN("cannot create %s (offsets.topic.replication.factor=%d): %s",
				KP_OFFSETS_TOPIC, c->replication_factor, msg);
		/* as Kafka: not yet, ask again */
		err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		goto out;
	}
	{
		int32_t idx = kp_group_partition(req->key.ptr,
						 req->key.len > 0 ? (size_t)req->key.len : 0,
						 t->nparts);
		const struct md_partition *mp = md_topic_partition(t, idx);
		const struct md_broker *mb = mp != NULL && mp->leader >= 0
			? md_view_broker(v, mp->leader) : NULL;

		if (mb == NULL) {
			err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		} else {
			resp.node_id = mb->id;
			resp.host = arena_kstr(r, mb->host);
			resp.port = mb->port;
		}
	}
	md_view_unref(v);
out:
	resp.error_code = err;
	if (err != 0)
		resp.error_message = arena_kstr(r, msg[0] ? msg : kp_err_name(err));
	net_reply(r, &resp);
}

/* -------------------------------------------------------- OffsetCommit */

static bool partition_known(struct broker *b, kp_str topic, int32_t partition)
{
	struct md_view *v = metadata_cache_get(&b->meta);
	const struct md_topic *t = topic.len > 0
		? md_view_topic(v, topic.ptr, (size_t)topic.len) : NULL;
	bool known = t != NULL && md_topic_partition(t, partition) != NULL;

	md_view_unref(v);
	return known;
}

static int16_t commit_error(int16_t err)
{
	switch (err) {
	case KP_ERR_UNKNOWN_TOPIC_OR_PARTITION:
	case KP_ERR_NOT_ENOUGH_REPLICAS:
	case KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	case KP_ERR_NOT_LEADER_OR_FOLLOWER:
	case KP_ERR_KAFKA_STORAGE_ERROR:
		return KP_ERR_NOT_COORDINATOR;
	case KP_ERR_MESSAGE_TOO_LARGE:
	case KP_ERR_RECORD_LIST_TOO_LARGE:
	case KP_ERR_INVALID_FETCH_SIZE:
		return KP_ERR_INVALID_COMMIT_OFFSET_SIZE;
	default:
		return err;
	}
}

static void commit_done(struct coord *c, struct gwrite *w, int16_t err)
{
	(void)c;
	err = commit_error(err);
	if (err == 0 && !w->g->removed) {
		while (w->offsets != NULL) {
			struct group_offset *o = w->offsets;

			w->offsets = o->next;
			group_offset_put(w->g, o);
		}
	}
	for (int32_t i = 0; i < w->nslots; i++)
		*w->slots[i] = err;
	coord_send(w->r, w->resp);
}

/* The group-level checks of a commit (Kafka's doCommitOffsets). */
static int16_t commit_check(struct coord *c, struct group **gp,
			    const struct kp_offset_commit_req *req, int32_t opart)
{
	struct group *g = group_find(c, req->group_id);
	struct group_member *m;

	if (g == NULL) {
		if (req->generation_id >= 0)
			return KP_ERR_ILLEGAL_GENERATION;
		/* a group used only to store offsets */
		g = group_add(c, req->group_id, opart);
		if (g == NULL)
			return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	*gp = g;
	if (g->fsm.state == GROUP_DEAD)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	m = group_member_by_instance(g, req->group_instance_id);
	if (m != NULL && !kp_str_eqc(req->member_id, m->id))
		return KP_ERR_FENCED_INSTANCE_ID;
	if (req->generation_id < 0 && g->fsm.state == GROUP_EMPTY)
		return 0;
	if (g->fsm.state == GROUP_COMPLETING_REBALANCE)
		return KP_ERR_REBALANCE_IN_PROGRESS;
	m = group_member_find(g, req->member_id);
	if (m == NULL)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if (req->generation_id != g->generation)
		return KP_ERR_ILLEGAL_GENERATION;
	/* a member's commit counts as a heartbeat, as in Kafka */
	m->deadline = kp_now_ms() + m->session_ms;
	group_wake_at(c, g, m->deadline);
	return 0;
}

void api_offset_commit(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	struct coord *c = b->coord;
	const struct kp_offset_commit_req *req = r->body;
	struct kp_offset_commit_resp *resp = kp_arena_alloc(&r->arena, sizeof(*resp));
	struct kp_offset_commit_resp_offset_commit_response_topic *ts;
	struct group *g = NULL;
	struct gwrite *w = NULL;
	struct kp_wbuf kw, vw;
	size_t *kend = NULL, *vend = NULL;
	kp_bytes *keys = NULL, *vals = NULL;
	int32_t total = 0, n = 0, opart = 0;
	int64_t now = kp_wall_ms();
	int16_t top;

	kp_wbuf_init(&kw);
	kp_wbuf_init(&vw);
	if (resp == NULL)
		goto oom;
	kp_struct_init(r->api->resp, resp);
	ts = kp_arena_calloc(&r->arena, (size_t)(req->topics_count > 0 ? req->topics_count : 0) + 1,
			     sizeof(*ts));
	if (ts == NULL)
		goto oom;
	resp->topics = ts;
	resp->topics_count = req->topics_count > 0 ? req->topics_count : 0;
	for (int32_t i = 0; i < resp->topics_count; i++) {
		const struct kp_offset_commit_req_offset_commit_request_topic *rt = &req->topics[i];
		int32_t np = rt->partitions_count > 0 ? rt->partitions_count : 0;

		kp_struct_init(&kp_offset_commit_resp_offset_commit_response_topic_desc, &ts[i]);
		ts[i].name = rt->name;
		ts[i].partitions = kp_arena_calloc(&r->arena, (size_t)np + 1,
						   sizeof(*ts[i].partitions));
		if (ts[i].partitions == NULL)
			goto oom;
		ts[i].partitions_count = np;
		for (int32_t j = 0; j < np; j++) {
			kp_struct_init(&kp_offset_commit_resp_offset_commit_response_partition_desc,
				       &ts[i].partitions[j]);
			ts[i].partitions[j].partition_index = rt->partitions[j].partition_index;
		}
		total += np;
	}
	keys = calloc((size_t)total + 1, sizeof(*keys));
	vals = calloc((size_t)total + 1, sizeof(*vals));
	kend = calloc((size_t)total + 1, sizeof(*kend));
	vend = calloc((size_t)total + 1, sizeof(*vend));
	if (keys == NULL || vals == NULL || kend == NULL || vend == NULL)
		goto oom;
	pthread_mutex_lock(&c->lock);
	top = req->group_id.len < 0 ? KP_ERR_INVALID_GROUP_ID
		: coord_check(c, req->group_id, &opart);
	if (top == 0)
		top = commit_check(c, &g, req, opart);
	if (top == 0) {
		w = gwrite_new(g);
		if (w == NULL)
			top = KP_ERR_UNKNOWN_SERVER_ERROR;
		else
			w->slots = kp_arena_calloc(&r->arena, (size_t)total + 1,
						   sizeof(*w->slots));
		if (w != NULL && w->slots == NULL)
			top = KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	for (int32_t i = 0; i < resp->topics_count; i++) {
		const struct kp_offset_commit_req_offset_commit_request_topic *rt = &req->topics[i];

		for (int32_t j = 0; j < ts[i].partitions_count; j++) {
			const struct kp_offset_commit_req_offset_commit_request_partition *rp =
				&rt->partitions[j];
			int16_t *slot = &ts[i].partitions[j].error_code;
			struct group_offset *o;

			if (top != 0) {
				*slot = top;
				continue;
			}
			if (rp->committed_metadata.len > c->metadata_max) {
				*slot = KP_ERR_OFFSET_METADATA_TOO_LARGE;
				continue;
			}
			if (!partition_known(b, rt->name, rp->partition_index)) {
				*slot = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			o = calloc(1, sizeof(*o));
			if (o == NULL || (o->topic = kp_str_dup(rt->name)) == NULL ||
			    (o->metadata = kp_str_dup(rp->committed_metadata.len >= 0
						    ? rp->committed_metadata
						    : (kp_str){ "", 0 })) == NULL) {
				group_offset_free(o);
				*slot = KP_ERR_UNKNOWN_SERVER_ERROR;
				continue;
			}
			o->partition = rp->partition_index;
			o->offset = rp->committed_offset;
			o->leader_epoch = rp->committed_leader_epoch;
			o->commit_ts = rp->commit_timestamp >= 0 ? rp->commit_timestamp : now;
			o->expire_ts = req->retention_time_ms >= 0 ? now + req->retention_time_ms : -1;
			o->next = w->offsets;
			w->offsets = o;
			kp_gm_offset_key_encode(&kw, req->group_id, rt->name, rp->partition_index);
			kp_gm_offset_value_encode(&vw, &(struct kp_gm_offset){
				.offset = o->offset, .leader_epoch = o->leader_epoch,
				.metadata = kp_str_c(o->metadata), .commit_ts = o->commit_ts,
				.expire_ts = o->expire_ts });
			kend[n] = kw.len;
			vend[n] = vw.len;
			w->slots[n++] = slot;
		}
	}
	if (w != NULL && n > 0 && !kw.err && !vw.err) {
		for (int32_t i = 0; i < n; i++) {
			size_t ks = i > 0 ? kend[i - 1] : 0, vs = i > 0 ? vend[i - 1] : 0;

			keys[i] = (kp_bytes){ kw.data + ks, (int32_t)(kend[i] - ks) };
			vals[i] = (kp_bytes){ vw.data + vs, (int32_t)(vend[i] - vs) };
		}
		w->nslots = n;
		w->r = r;
		w->resp = resp;
		w->done = commit_done;
		store_append(c, g->opart, keys, vals, n, w);	/* answers */
		pthread_mutex_unlock(&c->lock);
		goto out;
	}
	if (w != NULL) {
		if (n > 0)	/* could not encode */
			for (int32_t i = 0; i < n; i++)
				*w->slots[i] = KP_ERR_UNKNOWN_SERVER_ERROR;
		gwrite_free(c, w);
	}
	pthread_mutex_unlock(&c->lock);
	net_reply(r, resp);
out:
	kp_wbuf_free(&kw);
	kp_wbuf_free(&vw);
	free(keys);
	free(vals);
	free(kend);
	free(vend);
	return;
oom:
	kp_wbuf_free(&kw);
	kp_wbuf_free(&vw);
	free(keys);
	free(vals);
	free(kend);
	free(vend);
	net_req_fail(r, "out of memory");
}

/* --------------------------------------------------------- OffsetFetch */

static void fetch_fill(struct net_req *r, struct group *g, kp_str topic, int32_t part,
		       struct kp_offset_fetch_resp_offset_fetch_response_partition *out)
{
	struct group_offset *o = g != NULL && topic.len >= 0
		? group_offset_find(g, topic.ptr, (size_t)topic.len, part) : NULL;

	kp_struct_init(&kp_offset_fetch_resp_offset_fetch_response_partition_desc, out);
	out->partition_index = part;
	out->committed_offset = -1;
	out->committed_leader_epoch = -1;
	out->metadata = (kp_str){ "", 0 };
	if (o != NULL) {
		out->committed_offset = o->offset;
		out->committed_leader_epoch = o->leader_epoch;
		out->metadata = arena_kstr(r, o->metadata != NULL ? o->metadata : "");
	}
}

static int cmp_offsets(const void *a, const void *b)
{
	const struct group_offset *x = *(const struct group_offset *const *)a;
	const struct group_offset *y = *(const struct group_offset *const *)b;
	int c = strcmp(x->topic, y->topic);

	return c != 0 ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

/* Every offset of g, grouped by topic. */
static int fetch_all(struct net_req *r, struct group *g,
		     struct kp_offset_fetch_resp *resp)
{
	struct group_offset **os;
	struct kp_offset_fetch_resp_offset_fetch_response_topic *ts;
	int32_t n = 0, nt = 0;

	if (g == NULL || g->noffsets == 0)
		return 0;
	os = kp_arena_calloc(&r->arena, g->noffsets, sizeof(*os));
	ts = kp_arena_calloc(&r->arena, g->noffsets, sizeof(*ts));
	if (os == NULL || ts == NULL)
		return -1;
	for (uint32_t i = 0; i < g->onbuckets; i++)
		for (struct group_offset *o = g->obuckets[i]; o; o = o->next)
			os[n++] = o;
	qsort(os, (size_t)n, sizeof(*os), cmp_offsets);
	for (int32_t i = 0; i < n;) {
		int32_t j = i;

		while (j < n && strcmp(os[j]->topic, os[i]->topic) == 0)
			j++;
		kp_struct_init(&kp_offset_fetch_resp_offset_fetch_response_topic_desc, &ts[nt]);
		ts[nt].name = arena_kstr(r, os[i]->topic);
		ts[nt].partitions = kp_arena_calloc(&r->arena, (size_t)(j - i),
						    sizeof(*ts[nt].partitions));
		if (ts[nt].partitions == NULL)
			return -1;
		ts[nt].partitions_count = j - i;
		for (int32_t k = i; k < j; k++)
			fetch_fill(r, g, kp_str_c(os[k]->topic), os[k]->partition,
				   &ts[nt].partitions[k - i]);
		nt++;
		i = j;
	}
	resp->topics = ts;
	resp->topics_count = nt;
	return 0;
}

void api_offset_fetch(struct net_req *r)
{
	struct coord *c = coord_of(r);
	const struct kp_offset_fetch_req *req = r->body;
	struct kp_offset_fetch_resp resp;
	struct kp_offset_fetch_resp_offset_fetch_response_topic *ts = NULL;
	struct group *g = NULL;
	int32_t opart;
	int16_t err;

	kp_struct_init(r->api->resp, &resp);
	resp.topics_count = 0;
	pthread_mutex_lock(&c->lock);
	err = req->group_id.len < 0 ? KP_ERR_INVALID_GROUP_ID
		: coord_check(c, req->group_id, &opart);
	if (err == 0)
		g = group_find(c, req->group_id);
	if (req->topics_count < 0) {
		/* v2+: all of the group's offsets */
		if (err == 0 && fetch_all(r, g, &resp) < 0)
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	ts = kp_arena_calloc(&r->arena, (size_t)req->topics_count + 1, sizeof(*ts));
	if (ts == NULL) {
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_offset_fetch_req_offset_fetch_request_topic *rt = &req->topics[i];
		int32_t np = rt->partition_indexes_count > 0 ? rt->partition_indexes_count : 0;

		kp_struct_init(&kp_offset_fetch_resp_offset_fetch_response_topic_desc, &ts[i]);
		ts[i].name = rt->name;
		ts[i].partitions = kp_arena_calloc(&r->arena, (size_t)np + 1,
						   sizeof(*ts[i].partitions));
		if (ts[i].partitions == NULL) {
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
			goto out;
		}
		ts[i].partitions_count = np;
		for (int32_t j = 0; j < np; j++) {
			fetch_fill(r, err == 0 ? g : NULL, rt->name, rt->partition_indexes[j],
				   &ts[i].partitions[j]);
			/* v0/v1 have no top-level error: each partition says */
			if (r->h.api_version < 2)
				ts[i].partitions[j].error_code = err;
		}
	}
	resp.topics = ts;
	resp.topics_count = req->topics_count;
out:
	pthread_mutex_unlock(&c->lock);
	resp.error_code = err;
	net_reply(r, &resp);
}

/* -------------------------------------------------------- OffsetDelete */

void api_offset_delete(struct net_req *r)
{
	struct coord *c = coord_of(r);
	const struct kp_offset_delete_req *req = r->body;
	struct kp_offset_delete_resp resp;
	struct kp_offset_delete_resp_offset_delete_response_topic *ts;
	struct group_offset **doomed = NULL;
	struct group *g = NULL;
	int32_t opart, total = 0, nd = 0;
	int16_t err;
	bool consumer_active;

	kp_struct_init(r->api->resp, &resp);
	ts = kp_arena_calloc(&r->arena, (size_t)(req->topics_count > 0 ? req->topics_count : 0) + 1,
			     sizeof(*ts));
	if (ts == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < req->topics_count; i++)
		total += req->topics[i].partitions_count > 0 ? req->topics[i].partitions_count : 0;
	pthread_mutex_lock(&c->lock);
	err = req->group_id.len <= 0 ? KP_ERR_INVALID_GROUP_ID
		: coord_check(c, req->group_id, &opart);
	if (err == 0) {
		g = group_find(c, req->group_id);
		if (g == NULL || g->fsm.state == GROUP_DEAD)
			err = KP_ERR_GROUP_ID_NOT_FOUND;
	}
	if (err == 0 && g->fsm.state != GROUP_EMPTY &&
	    (g->protocol_type == NULL || strcmp(g->protocol_type, "consumer") != 0))
		err = KP_ERR_NON_EMPTY_GROUP;
	if (err == 0 && (doomed = calloc((size_t)total + 1, sizeof(*doomed))) == NULL)
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
	if (err != 0)
		goto out;
	consumer_active = g->fsm.state != GROUP_EMPTY;
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_offset_delete_req_offset_delete_request_topic *rt = &req->topics[i];
		int32_t np = rt->partitions_count > 0 ? rt->partitions_count : 0;
		bool busy = consumer_active && group_subscribes(g, rt->name);

		kp_struct_init(&kp_offset_delete_resp_offset_delete_response_topic_desc, &ts[i]);
		ts[i].name = rt->name;
		ts[i].partitions = kp_arena_calloc(&r->arena, (size_t)np + 1,
						   sizeof(*ts[i].partitions));
		if (ts[i].partitions == NULL) {
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
			goto out;
		}
		ts[i].partitions_count = np;
		for (int32_t j = 0; j < np; j++) {
			int32_t idx = rt->partitions[j].partition_index;
			struct group_offset *o;

			kp_struct_init(&kp_offset_delete_resp_offset_delete_response_partition_desc,
				       &ts[i].partitions[j]);
			ts[i].partitions[j].partition_index = idx;
			if (busy) {
				ts[i].partitions[j].error_code = KP_ERR_GROUP_SUBSCRIBED_TO_TOPIC;
				continue;
			}
			o = rt->name.len >= 0 ? group_offset_find(g, rt->name.ptr, (size_t)rt->name.len, idx)
					      : NULL;
			if (o != NULL) {
				bool dup = false;

				for (int32_t k = 0; k < nd; k++)
					dup |= doomed[k] == o;
				if (!dup)
					doomed[nd++] = o;
			}
		}
	}
	resp.topics = ts;
	resp.topics_count = req->topics_count > 0 ? req->topics_count : 0;
	if (nd > 0) {
		int rc = store_tombstones(c, g, doomed, nd, false);

		if (rc == 0)
			for (int32_t k = 0; k < nd; k++)
				group_offset_del(g, doomed[k]);
		else
			err = rc < 0 ? KP_ERR_UNKNOWN_SERVER_ERROR : KP_ERR_NOT_COORDINATOR;
	}
out:
	pthread_mutex_unlock(&c->lock);
	free(doomed);
	resp.error_code = err;
	if (err != 0) {
		resp.topics = NULL;
		resp.topics_count = 0;
	}
	net_reply(r, &resp);
}

/* ------------------------------------------------------ DescribeGroups */

static void describe_one(struct coord *c, struct net_req *r, kp_str id, bool ops,
			 struct kp_describe_groups_resp_described_group *out)
{
	struct group *g;
	int32_t opart;
	int16_t err = coord_check(c, id, &opart);

	kp_struct_init(&kp_describe_groups_resp_described_group_desc, out);
	out->group_id = id;
	out->group_state = (kp_str){ "", 0 };
	out->protocol_type = (kp_str){ "", 0 };
	out->protocol_data = (kp_str){ "", 0 };
	out->authorized_operations = INT32_MIN;
	out->members_count = 0;
	if (err != 0) {
		out->error_code = err;
		return;
	}
	/* v3+, asked for: every group operation (no authorizer), also for a
	 * group we do not know (Dead, no error) as Kafka */
	if (ops)
		out->authorized_operations = metadata_group_ops;
	g = group_find(c, id);
	if (g == NULL) {
		out->group_state = kp_str_c("Dead");
		return;
	}
	out->group_state = arena_kstr(r, group_state_name(g->fsm.state));
	out->protocol_type = arena_kstr(r, g->protocol_type != NULL ? g->protocol_type : "");
	if (g->fsm.state == GROUP_STABLE)
		out->protocol_data = arena_kstr(r, g->protocol != NULL ? g->protocol : "");
	if (g->nmembers > 0) {
		struct kp_describe_groups_resp_described_group_member *ms =
			kp_arena_calloc(&r->arena, (size_t)g->nmembers, sizeof(*ms));
		int32_t n = 0;

		if (ms == NULL) {
			out->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
			return;
		}
		for (struct group_member *m = g->members; m; m = m->next) {
			struct kp_describe_groups_resp_described_group_member *o = &ms[n++];

			kp_struct_init(&kp_describe_groups_resp_described_group_member_desc, o);
			o->member_id = arena_kstr(r, m->id);
			o->group_instance_id = arena_kstr(r, m->instance_id);
			o->client_id = arena_kstr(r, m->client_id);
			o->client_host = arena_kstr(r, m->client_host);
			o->member_metadata = (kp_bytes){ NULL, 0 };
			o->member_assignment = (kp_bytes){ NULL, 0 };
			/* metadata and assignment only when Stable, as Kafka */
			if (g->fsm.state != GROUP_STABLE)
				continue;
			{
				const struct group_protocol *p = group_member_protocol(m, g->protocol);
				uint8_t *d = p != NULL && p->len > 0
					? kp_arena_alloc(&r->arena, (size_t)p->len) : NULL;

				if (d != NULL) {
					memcpy(d, p->meta, (size_t)p->len);
					o->member_metadata = (kp_bytes){ d, p->len };
				}
			}
			if (m->assignment_len > 0) {
				uint8_t *d = kp_arena_alloc(&r->arena, (size_t)m->assignment_len);

				if (d != NULL) {
					memcpy(d, m->assignment, (size_t)m->assignment_len);
					o->member_assignment = (kp_bytes){ d, m->assignment_len };
				}
			}
		}
		out->members = ms;
		out->members_count = n;
	}
}

void api_describe_groups(struct net_req *r)
{
	struct coord *c = coord_of(r);
	const struct kp_describe_groups_req *req = r->body;
	struct kp_describe_groups_resp resp;
	int32_t n = req->groups_count > 0 ? req->groups_count : 0;
	struct kp_describe_groups_resp_described_group *gs =
		kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*gs));

	if (gs == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	kp_struct_init(r->api->resp, &resp);
	pthread_mutex_lock(&c->lock);
	group_thread_run_due(&c->thread, kp_now_ms());
	for (int32_t i = 0; i < n; i++)
		describe_one(c, r, req->groups[i],
			     r->h.api_version >= 3 && req->include_authorized_operations,
			     &gs[i]);
	pthread_mutex_unlock(&c->lock);
	resp.groups = gs;
	resp.groups_count = n;
	net_reply(r, &resp);
}

/* ---------------------------------------------------------- ListGroups */

/* v4's filter: Kafka's state names, matched exactly; none means all. */
static bool state_wanted(const struct kp_list_groups_req *req, const char *state)
{
	if (req->states_filter_count <= 0)
		return true;
	for (int32_t i = 0; i < req->states_filter_count; i++)
		if (kp_str_eqc(req->states_filter[i], state))
			return true;
	return false;
}

void api_list_groups(struct net_req *r)
{
	struct coord *c = coord_of(r);
	const struct kp_list_groups_req *req = r->body;
	struct kp_list_groups_resp resp;
	struct kp_list_groups_resp_listed_group *gs;
	int32_t n = 0;

	kp_struct_init(r->api->resp, &resp);
	pthread_mutex_lock(&c->lock);
	group_thread_run_due(&c->thread, kp_now_ms());
	gs = kp_arena_calloc(&r->arena, (size_t)c->groups.ngroups + 1, sizeof(*gs));
	if (gs == NULL) {
		pthread_mutex_unlock(&c->lock);
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < c->nparts; i++)
		if (c->parts[i].state == OP_LOADING)
			resp.error_code = KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	for (uint32_t i = 0; i < c->groups.nbuckets; i++)
		for (struct group *g = c->groups.buckets[i]; g; g = g->next) {
			if (!state_wanted(req, group_state_name(g->fsm.state)))
				continue;
			kp_struct_init(&kp_list_groups_resp_listed_group_desc, &gs[n]);
			gs[n].group_id = arena_kstr(r, g->id);
			gs[n].protocol_type = arena_kstr(r, g->protocol_type != NULL
							 ? g->protocol_type : "");
			gs[n].group_state = arena_kstr(r, group_state_name(g->fsm.state));
			n++;
		}
	pthread_mutex_unlock(&c->lock);
	resp.groups = gs;
	resp.groups_count = n;
	net_reply(r, &resp);
}

/* -------------------------------------------------------- DeleteGroups */

void api_delete_groups(struct net_req *r)
{
	struct coord *c = coord_of(r);
	const struct kp_delete_groups_req *req = r->body;
	struct kp_delete_groups_resp resp;
	int32_t n = req->groups_names_count > 0 ? req->groups_names_count : 0;
	struct kp_delete_groups_resp_deletable_group_result *rs =
		kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*rs));

	if (rs == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	kp_struct_init(r->api->resp, &resp);
	pthread_mutex_lock(&c->lock);
	group_thread_run_due(&c->thread, kp_now_ms());
	for (int32_t i = 0; i < n; i++) {
		kp_str id = req->groups_names[i];
		struct group *g;
		int32_t opart;
		int16_t err = id.len < 0 ? KP_ERR_INVALID_GROUP_ID : coord_check(c, id, &opart);

		kp_struct_init(&kp_delete_groups_resp_deletable_group_result_desc, &rs[i]);
		rs[i].group_id = id;
		if (err == 0) {
			g = group_find(c, id);
			if (g == NULL || g->fsm.state == GROUP_DEAD)
				err = KP_ERR_GROUP_ID_NOT_FOUND;
			else if (g->fsm.state != GROUP_EMPTY)
				err = KP_ERR_NON_EMPTY_GROUP;
			else {
				KP_INFO("group %s: deleted (%u committed offsets)", g->id,
					g->noffsets);
				store_group_tombstones(c, g);
				group_remove(&c->groups, &c->thread, g);
			}
		}
		rs[i].error_code = err;
	}
	pthread_mutex_unlock(&c->lock);
	resp.results = rs;
	resp.results_count = n;
	net_reply(r, &resp);
}
