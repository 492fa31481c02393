/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_batch.c - the controller's request batch; see ctl_batch.h.
 *
 * LeaderAndIsr v5 and UpdateMetadata v7 carry topic ids; requests are
 * filled for every version (grouped and ungrouped partition lists) and
 * the channel encodes the highest one both sides speak.  Strings a
 * request carries are copied into its arena: it may wait in a channel
 * (retries, a broker not yet connected) while the registration or topic
 * it names is replaced or freed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "ctl_batch.h"
#include "ctl_ctx.h"
#include "ctl_event.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"

struct batch_lai {
	int32_t broker;
	struct c_topic *t;
	int32_t p;
	bool is_new;
};

struct batch_stop {
	int32_t broker;
	struct c_topic *t;
	int32_t p;
	int32_t leader_epoch;		/* -2: the topic is being deleted */
};

struct ctl_batch {
	struct batch_lai *lai;
	int nlai, cap_lai;
	struct { struct c_topic *t; int32_t p; } *um;
	int num, cap_um;
	bool um_brokers;		/* UpdateMetadata even without partitions */
	const int32_t *um_only;		/* send UpdateMetadata to these only */
	int num_only;			/* (0: all live brokers) */
	struct batch_stop *stop;
	int nstop, cap_stop;
	uint32_t gen;			/* bumped at every flush (never 0) */
};

/* LeaderAndIsr entries that make a flush worth it before the event ends */
#define BATCH_FULL 4096

struct ctl_batch *ctl_batch_new(void)
{
	return calloc(1, sizeof(struct ctl_batch));
}

void ctl_batch_free(struct ctl_batch *b)
{
	if (b == NULL)
		return;
	free(b->lai);
	free(b->um);
	free(b->stop);
	free(b);
}

/* Empty, for the next round (the generation marks UpdateMetadata's
 * partitions as not yet batched). */
static void batch_clear(struct ctl_batch *b)
{
	b->nlai = b->num = b->nstop = b->num_only = 0;
	b->um_only = NULL;
	b->um_brokers = false;
	b->gen = b->gen + 1 ? b->gen + 1 : 1;
}

void ctl_batch_reset(struct controller *c)
{
	batch_clear(c->batch);
}

#define GROW(arr, n, cap) do {							\
		if ((n) == (cap)) {						\
			int nc_ = (cap) ? 2 * (cap) : 64;			\
			void *na_ = realloc((arr), sizeof(*(arr)) * (size_t)nc_); \
			if (na_ == NULL)					\
				return;						\
			(arr) = na_;						\
			(cap) = nc_;						\
		}								\
	} while (0)

void ctl_batch_um(struct controller *c, struct c_topic *t, int32_t p)
{
	struct ctl_batch *b = c->batch;

	/* once per flush: LeaderAndIsr to each replica asks for it too */
	if (b->gen == 0)
		b->gen = 1;
	if (t->parts[p].um_gen == b->gen)
		return;
	t->parts[p].um_gen = b->gen;
	GROW(b->um, b->num, b->cap_um);
	b->um[b->num].t = t;
	b->um[b->num].p = p;
	b->num++;
}

void ctl_batch_brokers(struct controller *c)
{
	c->batch->um_brokers = true;
}

void ctl_batch_um_only(struct controller *c, const int32_t *ids, int n)
{
	c->batch->um_only = ids;
	c->batch->num_only = n;
}

void ctl_batch_lai(struct controller *c, int32_t broker, struct c_topic *t,
		      int32_t p, bool is_new)
{
	struct ctl_batch *b = c->batch;

	if (!ctl_ctx_live(c, broker))
		return;
	GROW(b->lai, b->nlai, b->cap_lai);
	b->lai[b->nlai++] = (struct batch_lai){ broker, t, p, is_new };
	ctl_batch_um(c, t, p);
}

void ctl_batch_lai_replicas(struct controller *c, struct c_topic *t, int32_t p,
			       bool is_new)
{
	const struct kp_replicas *r = &t->parts[p].replicas;

	for (int32_t i = 0; i < r->n; i++)
		ctl_batch_lai(c, r->ids[i], t, p, is_new);
}

void ctl_batch_stop(struct controller *c, int32_t broker, struct c_topic *t,
		    int32_t p, int32_t leader_epoch)
{
	struct ctl_batch *b = c->batch;

	GROW(b->stop, b->nstop, b->cap_stop);
	b->stop[b->nstop++] = (struct batch_stop){ broker, t, p, leader_epoch };
}

bool ctl_batch_full(const struct controller *c)
{
	return c->batch->nlai >= BATCH_FULL;
}

static int16_t protocol_code(const struct kp_zk_broker *reg, const char *listener)
{
	static const char *const names[] = { "PLAINTEXT", "SSL", "SASL_PLAINTEXT",
					     "SASL_SSL" };
	const char *proto = listener;

	for (size_t i = 0; i < reg->nprotocols; i++)
		if (strcmp(reg->protocol_map[i][0], listener) == 0)
			proto = reg->protocol_map[i][1];
	for (int16_t i = 0; i < 4; i++)
		if (strcmp(names[i], proto) == 0)
			return i;
	return 0;
}

/*
 * A string for a queued request, copied into its arena: a request may wait
 * in a channel (retries, a broker not yet connected) while the broker
 * registration or the topic it names is replaced or freed.
 */
static kp_str req_str(struct kp_arena *a, const char *s)
{
	char *d;

	if (s == NULL)
		return KP_STR_NULL;
	d = kp_arena_strndup(a, s, strlen(s));
	return d != NULL ? (kp_str){ d, (int32_t)strlen(d) } : KP_STR_NULL;
}

/* A topic name for a partition entry: consecutive entries of one topic
 * share one copy (prev, the entry before), which the grouping by topic
 * relies on (it compares pointers). */
static kp_str req_topic(struct kp_arena *a, const kp_str *prev, const char *name)
{
	if (prev != NULL && prev->ptr != NULL && kp_str_eqc(*prev, name))
		return *prev;
	return req_str(a, name);
}

static struct kp_update_metadata_req_update_metadata_broker *
live_brokers(struct controller *c, struct kp_arena *a)
{
	struct kp_update_metadata_req_update_metadata_broker *lb;

	lb = kp_arena_calloc(a, (size_t)c->nbrokers + 1, sizeof(*lb));
	if (lb == NULL)
		return NULL;
	for (int i = 0; i < c->nbrokers; i++) {
		const struct c_broker *cb = &c->brokers[i];
		const struct kp_endpoint *plain = kp_zk_broker_endpoint(&cb->reg, "PLAINTEXT");
		struct kp_update_metadata_req_update_metadata_endpoint *eps;

		kp_struct_init(&kp_update_metadata_req_update_metadata_broker_desc, &lb[i]);
		lb[i].id = cb->id;
		if (plain == NULL && cb->reg.nendpoints > 0)
			plain = &cb->reg.endpoints[0];
		lb[i].v0_host = req_str(a, plain != NULL ? plain->host : "");
		lb[i].v0_port = plain != NULL ? plain->port : -1;
		eps = kp_arena_calloc(a, cb->reg.nendpoints + 1, sizeof(*eps));
		if (eps == NULL)
			return NULL;
		for (size_t j = 0; j < cb->reg.nendpoints; j++) {
			kp_struct_init(&kp_update_metadata_req_update_metadata_endpoint_desc,
				       &eps[j]);
			eps[j].port = cb->reg.endpoints[j].port;
			eps[j].host = req_str(a, cb->reg.endpoints[j].host);
			eps[j].listener = req_str(a, cb->reg.endpoints[j].listener);
			eps[j].security_protocol =
				protocol_code(&cb->reg, cb->reg.endpoints[j].listener);
		}
		lb[i].endpoints = eps;
		lb[i].endpoints_count = (int32_t)cb->reg.nendpoints;
		lb[i].rack = req_str(a, cb->reg.rack);
	}
	return lb;
}

static int32_t *arena_ids(struct kp_arena *a, const struct kp_replicas *r)
{
	int32_t *d = kp_arena_alloc(a, sizeof(*d) * (size_t)(r->n > 0 ? r->n : 1));

	if (d != NULL && r->n > 0)
		memcpy(d, r->ids, sizeof(*d) * (size_t)r->n);
	return d;
}

/* A topic's id as LeaderAndIsr v5 and UpdateMetadata v7 carry it (zero
 * for a topic znode without one). */
static kp_uuid topic_uuid(const struct c_topic *t)
{
	kp_uuid u;

	memset(&u, 0, sizeof(u));
	if (t->topic_id[0] != '\0' && kp_uuid_parse(t->topic_id, &u) < 0)
		memset(&u, 0, sizeof(u));
	return u;
}

/* One partition's error in a LeaderAndIsr answer into e[0..*ne): one
 * entry per error code, with a count and its first partition. */
static void lai_error_add(struct ctl_lai_error *e, int32_t *ne, int16_t code,
			  const kp_str *name, const kp_uuid *id, int32_t partition)
{
	int32_t k;

	if (code == 0)
		return;
	for (k = 0; k < *ne && e[k].code != code; k++)
		;
	if (k < *ne) {
		e[k].count++;
		return;
	}
	e[k] = (struct ctl_lai_error){ .code = code, .count = 1,
				       .partition = partition };
	if (name != NULL)
		e[k].topic = strndup(name->ptr != NULL ? name->ptr : "",
				     name->len > 0 ? (size_t)name->len : 0);
	else
		e[k].topic_id = *id;
	(*ne)++;
}

/* A partition answered KAFKA_STORAGE_ERROR, into s[0..*ns): one entry
 * each (its replica is in an offline log dir). */
static void storage_add(struct ctl_lai_error *s, int32_t *ns, const kp_str *name,
			const kp_uuid *id, int32_t partition)
{
	struct ctl_lai_error *x = &s[(*ns)++];

	*x = (struct ctl_lai_error){ .code = KP_ERR_KAFKA_STORAGE_ERROR, .count = 1,
				     .partition = partition };
	if (name != NULL)
		x->topic = strndup(name->ptr != NULL ? name->ptr : "",
				   name->len > 0 ? (size_t)name->len : 0);
	else
		x->topic_id = *id;
}

/*
 * A LeaderAndIsr answer, on the loop's thread: its errors, summed up per
 * error code, become an event (topic ids are named on the event thread).
 */
static void on_lai_resp(int32_t broker, int16_t api_key, void *resp, void *arg)
{
	const struct kp_leader_and_isr_resp *r = resp;
	struct controller *c = arg;
	struct ctl_event *ev;
	struct ctl_lai_error *e, *st;
	int32_t ne = 0, nst = 0, cap;

	(void)api_key;
	if (r == NULL)
		return;
	/* v0-4 list partition errors by name, v5 grouped by topic id */
	cap = r->partition_errors_count > 0 ? r->partition_errors_count : 0;
	for (int32_t i = 0; i < r->topics_count; i++)
		if (r->topics[i].partition_errors_count > 0)
			cap += r->topics[i].partition_errors_count;
	ev = ctl_event_new(CTL_EV_LAI_RESPONSE);
	e = calloc((size_t)cap + 1, sizeof(*e));
	st = calloc((size_t)cap + 1, sizeof(*st));
	if (ev == NULL || e == NULL || st == NULL) {
		free(ev);
		free(e);
		free(st);
		return;
	}
	ev->u.lai.broker = broker;
	ev->u.lai.error = r->error_code;
	ev->u.lai.errors = e;
	ev->u.lai.storage = st;
	for (int32_t i = 0; r->error_code == 0 && i < r->partition_errors_count; i++) {
		lai_error_add(e, &ne, r->partition_errors[i].error_code,
			      &r->partition_errors[i].topic_name, NULL,
			      r->partition_errors[i].partition_index);
		if (r->partition_errors[i].error_code == KP_ERR_KAFKA_STORAGE_ERROR)
			storage_add(st, &nst, &r->partition_errors[i].topic_name, NULL,
				    r->partition_errors[i].partition_index);
	}
	for (int32_t i = 0; r->error_code == 0 && i < r->topics_count; i++)
		for (int32_t j = 0; j < r->topics[i].partition_errors_count; j++) {
			lai_error_add(e, &ne, r->topics[i].partition_errors[j].error_code,
				      NULL, &r->topics[i].topic_id,
				      r->topics[i].partition_errors[j].partition_index);
			if (r->topics[i].partition_errors[j].error_code ==
			    KP_ERR_KAFKA_STORAGE_ERROR)
				storage_add(st, &nst, NULL, &r->topics[i].topic_id,
					    r->topics[i].partition_errors[j].partition_index);
		}
	ev->u.lai.nerrors = ne;
	ev->u.lai.nstorage = nst;
	if (r->error_code == 0 && ne == 0) {
		ctl_event_free(ev);	/* nothing to say */
		return;
	}
	ctl_event_put(c->events, ev);
}

/* One line per error code, not per partition: after a controller
 * failover every partition a broker already has at that epoch answers
 * STALE_CONTROLLER_EPOCH, as in Kafka. */
void ctl_batch_lai_response(struct controller *c, const struct ctl_event *ev)
{
	int32_t broker = ev->u.lai.broker;

	if (ev->u.lai.error != 0) {
		KP_WARN("LeaderAndIsr to broker %d: error %d", broker, ev->u.lai.error);
		return;
	}
	/* replicas in an offline log dir were handled first
	 * (ctl_logdir_lai_response) */
	for (int32_t i = 0; i < ev->u.lai.nerrors; i++) {
		const struct ctl_lai_error *e = &ev->u.lai.errors[i];
		const struct c_topic *t = e->topic == NULL
					  ? ctl_ctx_topic_by_id(c, &e->topic_id) : NULL;
		const char *topic = e->topic != NULL ? e->topic
				    : t != NULL ? t->name : "?";

		if (e->code == KP_ERR_STALE_CONTROLLER_EPOCH)
			KP_INFO("LeaderAndIsr to broker %d: %d partition(s) already at "
				"that leader epoch (e.g. %s-%d)", broker, e->count,
				topic, e->partition);
		else
			KP_WARN("LeaderAndIsr to broker %d: %s for %d partition(s) "
				"(e.g. %s-%d)", broker, kp_err_name(e->code), e->count,
				topic, e->partition);
	}
}

static void send_lai(struct controller *c, struct c_broker *cb)
{
	struct ctl_batch *b = c->batch;
	struct chan_req *q;
	struct kp_leader_and_isr_req *req;
	struct kp_leader_and_isr_leader_and_isr_partition_state *ps;
	struct kp_leader_and_isr_req_leader_and_isr_topic_state *ts;
	struct kp_leader_and_isr_req_leader_and_isr_live_leader *ll;
	int n = 0, nt = 0, nl = 0, nlead = 0;

	for (int i = 0; i < b->nlai; i++)
		if (b->lai[i].broker == cb->id) {
			n++;
			nlead += b->lai[i].t->parts[b->lai[i].p].leader == cb->id;
		}
	if (n == 0 || cb->chan == NULL)
		return;
	KP_DEBUG("LeaderAndIsr to broker %d: %d partition(s), %d leading", cb->id, n,
		 nlead);
	q = chan_req_new(KP_API_LEADER_AND_ISR);
	if (q == NULL)
		return;
	req = kp_arena_calloc(&q->arena, 1, sizeof(*req));
	ps = kp_arena_calloc(&q->arena, (size_t)n, sizeof(*ps));
	ts = kp_arena_calloc(&q->arena, (size_t)n, sizeof(*ts));
	ll = kp_arena_calloc(&q->arena, (size_t)c->nbrokers + 1, sizeof(*ll));
	if (req == NULL || ps == NULL || ts == NULL || ll == NULL) {
		chan_req_free(q);
		return;
	}
	kp_struct_init(&kp_leader_and_isr_req_desc, req);
	req->controller_id = c->id;
	req->controller_epoch = c->epoch;
	req->broker_epoch = cb->epoch;
	n = 0;
	for (int i = 0; i < b->nlai; i++) {
		const struct batch_lai *e = &b->lai[i];
		const struct c_part *cp;
		struct kp_leader_and_isr_leader_and_isr_partition_state *s = &ps[n];

		if (e->broker != cb->id)
			continue;
		cp = &e->t->parts[e->p];
		kp_struct_init(&kp_leader_and_isr_leader_and_isr_partition_state_desc, s);
		s->topic_name = req_topic(&q->arena, n > 0 ? &ps[n - 1].topic_name : NULL,
					  e->t->name);
		s->partition_index = e->p;
		s->controller_epoch = cp->ctl_epoch;
		s->leader = cp->leader;
		s->leader_epoch = cp->leader_epoch;
		s->isr = arena_ids(&q->arena, &cp->isr);
		s->isr_count = cp->isr.n;
		s->zk_version = cp->zk_version;
		s->replicas = arena_ids(&q->arena, &cp->replicas);
		s->replicas_count = cp->replicas.n;
		s->adding_replicas = arena_ids(&q->arena, &cp->adding);
		s->adding_replicas_count = cp->adding.n;
		s->removing_replicas = arena_ids(&q->arena, &cp->removing);
		s->removing_replicas_count = cp->removing.n;
		s->is_new = e->is_new;
		/* v2+: grouped by topic (consecutive entries of one topic) */
		if (nt == 0 || ts[nt - 1].topic_name.ptr != s->topic_name.ptr) {
			kp_struct_init(&kp_leader_and_isr_req_leader_and_isr_topic_state_desc,
				       &ts[nt]);
			ts[nt].topic_name = s->topic_name;
			ts[nt].topic_id = topic_uuid(e->t);	/* v5+ */
			ts[nt].partition_states = s;
			ts[nt].partition_states_count = 0;
			nt++;
		}
		ts[nt - 1].partition_states_count++;
		/* the leaders it names, once each */
		if (cp->leader >= 0) {
			struct c_broker *lb = ctl_ctx_broker(c, cp->leader);
			bool seen = false;

			for (int j = 0; j < nl; j++)
				seen |= ll[j].broker_id == cp->leader;
			if (lb != NULL && !seen && ctl_ctx_endpoint(c, lb) != NULL) {
				kp_struct_init(&kp_leader_and_isr_req_leader_and_isr_live_leader_desc,
					       &ll[nl]);
				ll[nl].broker_id = lb->id;
				ll[nl].host_name = req_str(&q->arena, ctl_ctx_endpoint(c, lb)->host);
				ll[nl].port = ctl_ctx_endpoint(c, lb)->port;
				nl++;
			}
		}
		n++;
	}
	req->ungrouped_partition_states = ps;
	req->ungrouped_partition_states_count = n;
	req->topic_states = ts;
	req->topic_states_count = nt;
	req->live_leaders = ll;
	req->live_leaders_count = nl;
	q->req = req;
	q->done = on_lai_resp;
	q->arg = c;
	chan_send(cb->chan, q);
}

static void send_um(struct controller *c, struct c_broker *cb)
{
	struct ctl_batch *b = c->batch;
	struct chan_req *q = chan_req_new(KP_API_UPDATE_METADATA);
	struct kp_update_metadata_req *req;
	struct kp_update_metadata_update_metadata_partition_state *ps;
	struct kp_update_metadata_req_update_metadata_topic_state *ts;
	int n = 0, nt = 0;

	if (q == NULL || cb->chan == NULL) {
		chan_req_free(q);
		return;
	}
	req = kp_arena_calloc(&q->arena, 1, sizeof(*req));
	ps = kp_arena_calloc(&q->arena, (size_t)b->num + 1, sizeof(*ps));
	ts = kp_arena_calloc(&q->arena, (size_t)b->num + 1, sizeof(*ts));
	if (req == NULL || ps == NULL || ts == NULL) {
		chan_req_free(q);
		return;
	}
	kp_struct_init(&kp_update_metadata_req_desc, req);
	req->controller_id = c->id;
	req->controller_epoch = c->epoch;
	req->broker_epoch = cb->epoch;
	for (int i = 0; i < b->num; i++) {
		struct c_topic *t = b->um[i].t;
		const struct c_part *cp = &t->parts[b->um[i].p];
		struct kp_update_metadata_update_metadata_partition_state *s = &ps[n];
		int32_t *off;
		int32_t noff = 0;

		if (!cp->has_state && !t->deleting)
			continue;
		kp_struct_init(&kp_update_metadata_update_metadata_partition_state_desc, s);
		s->topic_name = req_topic(&q->arena, n > 0 ? &ps[n - 1].topic_name : NULL,
					  t->name);
		s->partition_index = b->um[i].p;
		s->controller_epoch = cp->ctl_epoch;
		s->leader = t->deleting ? LEADER_DURING_DELETE : cp->leader;
		s->leader_epoch = cp->leader_epoch;
		s->isr = arena_ids(&q->arena, &cp->isr);
		s->isr_count = cp->isr.n;
		s->zk_version = cp->zk_version;
		s->replicas = arena_ids(&q->arena, &cp->replicas);
		s->replicas_count = cp->replicas.n;
		off = kp_arena_calloc(&q->arena, (size_t)cp->replicas.n + 1, sizeof(*off));
		/* Kafka's isReplicaOnline: a live broker whose log dir
		 * holding the replica is offline counts as offline too */
		for (int32_t j = 0; off != NULL && j < cp->replicas.n; j++)
			if (!ctl_ctx_live(c, cp->replicas.ids[j]) ||
			    ctl_ctx_in_list(&cp->dir_offline, cp->replicas.ids[j]))
				off[noff++] = cp->replicas.ids[j];
		s->offline_replicas = off;
		s->offline_replicas_count = noff;
		if (nt == 0 || ts[nt - 1].topic_name.ptr != s->topic_name.ptr) {
			kp_struct_init(&kp_update_metadata_req_update_metadata_topic_state_desc,
				       &ts[nt]);
			ts[nt].topic_name = s->topic_name;
			ts[nt].topic_id = topic_uuid(t);	/* v7+ */
			ts[nt].partition_states = s;
			ts[nt].partition_states_count = 0;
			nt++;
		}
		ts[nt - 1].partition_states_count++;
		n++;
	}
	req->ungrouped_partition_states = ps;
	req->ungrouped_partition_states_count = n;
	req->topic_states = ts;
	req->topic_states_count = nt;
	req->live_brokers = live_brokers(c, &q->arena);
	req->live_brokers_count = c->nbrokers;
	if (req->live_brokers == NULL) {
		chan_req_free(q);
		return;
	}
	q->req = req;
	chan_send(cb->chan, q);
}

struct stop_ctx {
	struct controller *c;
	char *topic;
	int32_t epoch;			/* the controller epoch at sending */
	bool deleting;			/* counted in the topic's pending_stops */
};

/* A StopReplica answer (or its loss), on the loop's thread: an event. */
static void on_stop_resp(int32_t broker, int16_t api_key, void *resp, void *arg)
{
	const struct kp_stop_replica_resp *r = resp;
	struct stop_ctx *sc = arg;
	struct ctl_event *ev = ctl_event_new(CTL_EV_STOP_RESPONSE);
	bool failed = r == NULL || r->error_code != 0;

	(void)api_key;
	for (int32_t i = 0; r != NULL && i < r->partition_errors_count; i++)
		failed |= r->partition_errors[i].error_code != 0;
	if (ev == NULL || (ev->u.stop.topic = strdup(sc->topic)) == NULL) {
		free(ev);
		KP_ERROR("StopReplica of %s to broker %d: answer lost (out of memory)",
			 sc->topic, broker);
		return;
	}
	ev->u.stop.broker = broker;
	ev->u.stop.epoch = sc->epoch;
	ev->u.stop.deleting = sc->deleting;
	ev->u.stop.failed = failed;
	ctl_event_put(sc->c->events, ev);
}

static void send_stop(struct controller *c, struct c_broker *cb)
{
	struct ctl_batch *b = c->batch;
	struct chan_req *q;
	struct kp_stop_replica_req *req;
	struct kp_stop_replica_req_stop_replica_partition_v0 *v0;
	struct kp_stop_replica_req_stop_replica_topic_v1 *v1;
	struct kp_stop_replica_req_stop_replica_topic_state *v3;
	struct kp_stop_replica_req_stop_replica_partition_state *ps;
	struct stop_ctx *sc;
	int n = 0;

	/* one request per topic, so its answer settles that topic (and
	 * deletion and reassignment stops apart: only the former count) */
	for (int i = 0; i < b->nstop; i++) {
		struct c_topic *t = b->stop[i].t;
		bool del = b->stop[i].leader_epoch == EPOCH_DURING_DELETE;
		int32_t *idx;

		if (b->stop[i].broker != cb->id || b->stop[i].p < 0)
			continue;
		n = 0;
		for (int j = i; j < b->nstop; j++)
			n += b->stop[j].broker == cb->id && b->stop[j].t == t &&
			     b->stop[j].p >= 0 &&
			     (b->stop[j].leader_epoch == EPOCH_DURING_DELETE) == del;
		q = chan_req_new(KP_API_STOP_REPLICA);
		if (q == NULL)
			return;
		req = kp_arena_calloc(&q->arena, 1, sizeof(*req));
		v0 = kp_arena_calloc(&q->arena, (size_t)n, sizeof(*v0));
		v1 = kp_arena_calloc(&q->arena, 1, sizeof(*v1));
		v3 = kp_arena_calloc(&q->arena, 1, sizeof(*v3));
		ps = kp_arena_calloc(&q->arena, (size_t)n, sizeof(*ps));
		idx = kp_arena_calloc(&q->arena, (size_t)n, sizeof(*idx));
		sc = kp_arena_calloc(&q->arena, 1, sizeof(*sc));
		if (req == NULL || v0 == NULL || v1 == NULL || v3 == NULL || ps == NULL ||
		    idx == NULL || sc == NULL || (sc->topic = kp_arena_strndup(&q->arena,
						t->name, strlen(t->name))) == NULL) {
			chan_req_free(q);
			return;
		}
		sc->c = c;
		sc->epoch = c->epoch;
		sc->deleting = del;
		kp_struct_init(&kp_stop_replica_req_desc, req);
		req->controller_id = c->id;
		req->controller_epoch = c->epoch;
		req->broker_epoch = cb->epoch;
		req->delete_partitions = true;
		n = 0;
		for (int j = i; j < b->nstop; j++) {
			if (b->stop[j].broker != cb->id || b->stop[j].t != t ||
			    b->stop[j].p < 0 ||
			    (b->stop[j].leader_epoch == EPOCH_DURING_DELETE) != del)
				continue;
			kp_struct_init(&kp_stop_replica_req_stop_replica_partition_v0_desc, &v0[n]);
			v0[n].topic_name = kp_str_c(sc->topic);
			v0[n].partition_index = b->stop[j].p;
			kp_struct_init(&kp_stop_replica_req_stop_replica_partition_state_desc,
				       &ps[n]);
			ps[n].partition_index = b->stop[j].p;
			ps[n].leader_epoch = b->stop[j].leader_epoch;
			ps[n].delete_partition = true;
			idx[n] = b->stop[j].p;
			b->stop[j].p = -1;	/* consumed */
			n++;
		}
		kp_struct_init(&kp_stop_replica_req_stop_replica_topic_v1_desc, v1);
		v1->name = kp_str_c(sc->topic);
		v1->partition_indexes = idx;
		v1->partition_indexes_count = n;
		kp_struct_init(&kp_stop_replica_req_stop_replica_topic_state_desc, v3);
		v3->topic_name = kp_str_c(sc->topic);
		v3->partition_states = ps;
		v3->partition_states_count = n;
		req->ungrouped_partitions = v0;
		req->ungrouped_partitions_count = n;
		req->topics = v1;
		req->topics_count = 1;
		req->topic_states = v3;
		req->topic_states_count = 1;
		q->req = req;
		q->done = on_stop_resp;
		q->arg = sc;
		if (del)
			t->pending_stops++;
		chan_send(cb->chan, q);
	}
}

/* Send what the batch gathered: LeaderAndIsr, UpdateMetadata, StopReplica. */
void ctl_batch_flush(struct controller *c)
{
	struct ctl_batch *b = c->batch;

	if (!ctl_ctx_active(c)) {
		batch_clear(b);
		return;
	}
	for (int i = 0; i < c->nbrokers; i++)
		send_lai(c, &c->brokers[i]);
	if (b->num > 0 || b->um_brokers) {
		for (int i = 0; i < c->nbrokers; i++) {
			bool target = b->num_only == 0;

			for (int j = 0; j < b->num_only; j++)
				target |= b->um_only[j] == c->brokers[i].id;
			if (target)
				send_um(c, &c->brokers[i]);
		}
	}
	for (int i = 0; i < c->nbrokers; i++)
		send_stop(c, &c->brokers[i]);
	batch_clear(b);
}
