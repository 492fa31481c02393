/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alter_isr.c - ISR changes through the controller; see alter_isr.h.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alter_isr.h"
#include "broker.h"
#include "kp_arena.h"
#include "kp_client.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_msgs.h"
#include "kp_zk.h"
#include "kp_zkdata.h"
#include "partition.h"
#include "shutdown.h"

/* Kafka's AlterIsrManager sends again after 50 ms; the controller's
 * connection is looked for again with a backoff up to a second (its
 * reconnect.backoff.max.ms). */
#define RETRY_MS 50
#define RECONNECT_MAX_MS 1000
#define REQUEST_TIMEOUT_MS 30000
/* How long a stopping broker runs its loop for calls that refer to us. */
#define STOP_WAIT_MS 2000

/* An item sent, and its partition (the key: an item ended is freed). */
struct infl {
	struct alter_isr_item *it;		/* NULL once answered */
	struct partition *p;
};

struct alter_isr {
	struct broker *b;
	struct alter_isr_item *head, *tail;	/* queued, not sent */
	struct infl *infl;			/* in the request in flight */
	int ninfl;
	bool sending;				/* a request is in flight */
	int pending;				/* items not ended */
	struct kp_conn *conn;
	bool looking;				/* reading ZooKeeper for it */
	int reads;				/* ... reads in flight */
	bool found;
	struct kp_endpoint ep;
	int64_t epoch;				/* our registration's czxid */
	int64_t backoff_ms;
	struct kp_timer retry;
	bool retry_armed;
	struct kp_loop_call kick;
	bool kicked;
	bool stopping;
	int16_t last_err;			/* logged once per change */
};

static void maybe_send(struct alter_isr *m);

static void end(struct alter_isr *m, struct alter_isr_item *it, kp_err_t err,
		const struct kp_alter_isr_resp_partition_data *st)
{
	m->pending--;
	it->next = NULL;
	it->done(it, err, st);
}

static void enqueue(struct alter_isr *m, struct alter_isr_item *it)
{
	it->next = NULL;
	if (m->tail != NULL)
		m->tail->next = it;
	else
		m->head = it;
	m->tail = it;
}

static void on_retry(struct kp_loop *loop, void *arg)
{
	struct alter_isr *m = arg;

	(void)loop;
	m->retry_armed = false;
	maybe_send(m);
}

static void retry_later(struct alter_isr *m, int64_t ms)
{
	if (m->stopping || m->retry_armed)
		return;
	m->retry_armed = true;
	kp_timer_start(m->b->loop, &m->retry, ms);
}

/* Look for the controller again later, each time twice as late, up to
 * RECONNECT_MAX_MS (reset once a connection is ready). */
static void retry_backoff(struct alter_isr *m)
{
	retry_later(m, m->backoff_ms);
	m->backoff_ms = m->backoff_ms * 2 < RECONNECT_MAX_MS
		? m->backoff_ms * 2 : RECONNECT_MAX_MS;
}

static void on_kick(void *arg)
{
	struct alter_isr *m = arg;

	m->kicked = false;
	maybe_send(m);
}

/* The in-flight items back at the head of the queue (those not NULL). */
static void requeue_inflight(struct alter_isr *m)
{
	for (int i = m->ninfl - 1; i >= 0; i--) {
		struct alter_isr_item *it = m->infl[i].it;

		if (it == NULL)
			continue;
		it->next = m->head;
		m->head = it;
		if (m->tail == NULL)
			m->tail = it;
	}
	free(m->infl);
	m->infl = NULL;
	m->ninfl = 0;
	m->sending = false;
}

static void drop_conn(struct alter_isr *m)
{
	struct kp_conn *c = m->conn;

	m->conn = NULL;
	m->found = false;
	if (c != NULL)
		kp_conn_free(c);	/* an answer pending is told -ECANCELED */
}

static void log_error(struct alter_isr *m, int16_t err, const char *what)
{
	if (err == m->last_err)
		return;
	m->last_err = err;
	KP_WARN("AlterIsr: %s; sending again", what);
}

/* ------------------------------------------------------------ answers */

static int item_cmp(const void *x, const void *y)
{
	const struct alter_isr_item *a = *(struct alter_isr_item *const *)x;
	const struct alter_isr_item *b = *(struct alter_isr_item *const *)y;
	int c = strcmp(a->p->topic, b->p->topic);

	if (c != 0)
		return c;
	return a->p->index < b->p->index ? -1 : a->p->index > b->p->index;
}

/* The in-flight item of topic/partition (sorted as sent), or -1. */
static int find_inflight(const struct alter_isr *m, kp_str topic, int32_t index)
{
	int lo = 0, hi = m->ninfl - 1;

	if (topic.ptr == NULL || topic.len < 0)
		return -1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct partition *p = m->infl[mid].p;
		size_t tl = strlen(p->topic), n = tl < (size_t)topic.len ? tl : (size_t)topic.len;
		int c = memcmp(p->topic, topic.ptr, n);

		if (c == 0)
			c = tl < (size_t)topic.len ? -1 : tl > (size_t)topic.len;
		if (c == 0)
			c = p->index < index ? -1 : p->index > index;
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static void on_resp(struct kp_conn *c, int err, int16_t api_key, int16_t version,
		    void *resp, void *arg)
{
	struct alter_isr *m = arg;
	const struct kp_alter_isr_resp *r = resp;

	(void)c;
	(void)api_key;
	(void)version;
	if (err < 0 || r == NULL) {
		requeue_inflight(m);
		if (m->stopping)
			return;
		log_error(m, -1, "no answer from the controller");
		if (m->conn != NULL && kp_conn_state(m->conn) == KP_CONN_CLOSED)
			drop_conn(m);
		retry_later(m, RETRY_MS);
		return;
	}
	if (r->error_code != KP_ERR_NONE) {
		char what[128];

		snprintf(what, sizeof(what), "the controller answered %s",
			 kp_err_name(r->error_code));
		log_error(m, r->error_code, what);
		if (r->error_code == KP_ERR_STALE_BROKER_EPOCH)
			m->epoch = -1;	/* registered again: read it again */
		else if (r->error_code == KP_ERR_NOT_CONTROLLER)
			m->found = false;	/* look for the new one */
		requeue_inflight(m);
		retry_later(m, RETRY_MS);
		return;
	}
	m->last_err = 0;
	bool again = false;

	for (int32_t i = 0; i < r->topics_count; i++) {
		const struct kp_alter_isr_resp_topic_data *t = &r->topics[i];

		for (int32_t k = 0; k < t->partitions_count; k++) {
			const struct kp_alter_isr_resp_partition_data *pd = &t->partitions[k];
			int at = find_inflight(m, t->name, pd->partition_index);
			struct alter_isr_item *it;

			if (at < 0 || m->infl[at].it == NULL)
				continue;
			it = m->infl[at].it;
			m->infl[at].it = NULL;
			switch (pd->error_code) {
			case KP_ERR_NONE:
			case KP_ERR_UNKNOWN_TOPIC_OR_PARTITION:
			case KP_ERR_FENCED_LEADER_EPOCH:
			case KP_ERR_INVALID_UPDATE_VERSION:
			case KP_ERR_INVALID_REQUEST:	/* would be again */
				end(m, it, pd->error_code,
				    pd->error_code == KP_ERR_NONE ? pd : NULL);
				break;
			default:
				/* Kafka proposes it again (here after the
				 * usual pause, not at once) */
				KP_INFO("%s-%d: AlterIsr answered %s; proposing again",
					it->p->topic, it->p->index, kp_err_name(pd->error_code));
				enqueue(m, it);
				again = true;
				break;
			}
		}
	}
	/* left out of the answer: sent again */
	requeue_inflight(m);
	if (again)
		retry_later(m, RETRY_MS);
	else
		maybe_send(m);
}

/* ------------------------------------------------- the controller link */

static void on_state(struct kp_conn *c, enum kp_conn_state st, int err, void *arg)
{
	struct alter_isr *m = arg;

	if (c != m->conn)
		return;
	if (st == KP_CONN_READY) {
		m->backoff_ms = RETRY_MS;
		maybe_send(m);
	} else if (st == KP_CONN_CLOSED && !m->sending) {
		/* (with a request out, on_resp is told) */
		log_error(m, -2, "the connection to the controller closed");
		(void)err;
		m->conn = NULL;
		m->found = false;
		kp_conn_free(c);
		retry_later(m, RETRY_MS);
	}
}

static void connect_controller(struct alter_isr *m)
{
	struct kp_client_opts opts = { .client_id = "broker-alter-isr",
				       .connect_timeout_ms = 5000,
				       .request_timeout_ms = REQUEST_TIMEOUT_MS };
	char err[256];

	if (broker_controller_opts(m->b, &m->ep, &opts, err, sizeof(err)) < 0) {
		log_error(m, -3, err);
		m->found = false;
		retry_later(m, RECONNECT_MAX_MS);
		return;
	}
	m->conn = kp_conn_start(m->b->loop, m->ep.host, m->ep.port, &opts, on_state, m);
	/* a failure inside kp_conn_start was told before m->conn was set */
	if (m->conn != NULL && kp_conn_state(m->conn) == KP_CONN_CLOSED) {
		kp_conn_free(m->conn);
		m->conn = NULL;
	}
	if (m->conn == NULL) {
		log_error(m, -5, "cannot connect to the controller");
		m->found = false;
		retry_backoff(m);
	}
}

static void looked(struct alter_isr *m)
{
	if (--m->reads > 0)
		return;
	m->looking = false;
	if (m->stopping)
		return;
	if (!m->found || m->epoch < 0) {
		retry_backoff(m);
		return;
	}
	maybe_send(m);
}

static void on_controller(struct kp_zk_result *res, void *arg)
{
	struct alter_isr *m = arg;
	char err[256];

	if (res->rc == KP_ZK_OK && res->data != NULL &&
	    kp_zk_controller_endpoint(res->data, (size_t)res->len, &m->ep, err,
				      sizeof(err)) == 0)
		m->found = true;
	else
		log_error(m, -4, "no active controller in /controller");
	looked(m);
}

static void on_registration(struct kp_zk_result *res, void *arg)
{
	struct alter_isr *m = arg;

	if (res->rc == KP_ZK_OK && res->has_stat)
		m->epoch = res->stat.czxid;
	looked(m);
}

/* Read what is missing: where the controller is, our broker epoch. */
static void look(struct alter_isr *m)
{
	char path[64];

	if (m->looking)
		return;
	m->looking = true;
	m->reads = 1;		/* held until both are asked */
	if (!m->found) {
		m->reads++;
		if (kp_zk_get(m->b->zk, "/controller", NULL, NULL, on_controller,
			      m) == KP_ZK_NOT_QUEUED)
			m->reads--;
	}
	if (m->epoch < 0) {
		snprintf(path, sizeof(path), "/brokers/ids/%d", m->b->id);
		m->reads++;
		if (kp_zk_exists(m->b->zk, path, NULL, NULL, on_registration,
				 m) == KP_ZK_NOT_QUEUED)
			m->reads--;
	}
	looked(m);
}

/* ------------------------------------------------------------ sending */

/* Our leadership of it is not what it was proposed under. */
static bool stale(const struct alter_isr_item *it)
{
	struct partition *p = it->p;
	bool yes;

	pthread_mutex_lock(&p->lock);
	yes = !p->leader || p->lead_gen != it->lead_gen ||
	      p->leader_epoch != it->leader_epoch;
	pthread_mutex_unlock(&p->lock);
	return yes;
}

static void send_queued(struct alter_isr *m)
{
	struct kp_alter_isr_req req;
	struct kp_alter_isr_req_topic_data *topics;
	struct kp_alter_isr_req_partition_data *parts;
	struct alter_isr_item **v;
	struct kp_arena a;
	int n = 0, cap = 0, nt = 0;

	for (struct alter_isr_item *it = m->head; it != NULL; it = it->next)
		cap++;
	v = calloc((size_t)cap + 1, sizeof(*v));
	if (v == NULL) {
		retry_later(m, RETRY_MS);
		return;
	}
	while (m->head != NULL) {
		struct alter_isr_item *it = m->head;

		m->head = it->next;
		it->next = NULL;
		if (stale(it))
			end(m, it, KP_ERR_NOT_LEADER_OR_FOLLOWER, NULL);
		else
			v[n++] = it;
	}
	m->tail = NULL;
	if (n == 0) {
		free(v);
		return;
	}
	qsort(v, (size_t)n, sizeof(*v), item_cmp);
	kp_arena_init(&a, 0);
	topics = kp_arena_calloc(&a, (size_t)n, sizeof(*topics));
	parts = kp_arena_calloc(&a, (size_t)n, sizeof(*parts));
	if (topics == NULL || parts == NULL)
		goto fail;
	for (int i = 0; i < n; i++) {
		const struct alter_isr_item *it = v[i];

		if (i == 0 || strcmp(v[i - 1]->p->topic, it->p->topic) != 0) {
			kp_struct_init(&kp_alter_isr_req_topic_data_desc, &topics[nt]);
			topics[nt].name = kp_str_c(it->p->topic);
			topics[nt].partitions = &parts[i];
			topics[nt].partitions_count = 0;
			nt++;
		}
		kp_struct_init(&kp_alter_isr_req_partition_data_desc, &parts[i]);
		parts[i].partition_index = it->p->index;
		parts[i].leader_epoch = it->leader_epoch;
		parts[i].new_isr = (int32_t *)it->isr;
		parts[i].new_isr_count = it->nisr;
		parts[i].current_isr_version = it->version;
		topics[nt - 1].partitions_count++;
	}
	kp_struct_init(&kp_alter_isr_req_desc, &req);
	req.broker_id = m->b->id;
	req.broker_epoch = m->epoch;
	req.topics = topics;
	req.topics_count = nt;
	m->infl = calloc((size_t)n, sizeof(*m->infl));
	if (m->infl == NULL)
		goto fail;
	for (int i = 0; i < n; i++)
		m->infl[i] = (struct infl){ v[i], v[i]->p };
	free(v);
	v = NULL;
	m->ninfl = n;
	m->sending = true;
	if (kp_conn_request(m->conn, KP_API_ALTER_ISR, 0, &req, on_resp, m) < 0) {
		kp_arena_free(&a);
		requeue_inflight(m);
		drop_conn(m);
		retry_later(m, RETRY_MS);
		return;
	}
	kp_arena_free(&a);
	return;
fail:
	kp_arena_free(&a);
	/* back in the queue, in order */
	for (int i = n - 1; i >= 0; i--) {
		v[i]->next = m->head;
		m->head = v[i];
		if (m->tail == NULL)
			m->tail = v[i];
	}
	free(v);
	retry_later(m, RETRY_MS);
}

static void maybe_send(struct alter_isr *m)
{
	if (m->sending || m->head == NULL || m->retry_armed)
		return;
	if (!m->found || m->epoch < 0) {
		if (m->conn != NULL && !m->found)
			drop_conn(m);
		look(m);
		return;
	}
	if (m->conn == NULL) {
		connect_controller(m);
		return;
	}
	if (kp_conn_state(m->conn) != KP_CONN_READY)
		return;		/* on_state sends once it is */
	send_queued(m);
}

/* ------------------------------------------------------------- the API */

int alter_isr_start(struct broker *b)
{
	struct alter_isr *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return -1;
	m->b = b;
	m->epoch = -1;
	m->backoff_ms = RETRY_MS;
	kp_timer_init(&m->retry, on_retry, m);
	kp_loop_call_init(&m->kick, on_kick, m);
	b->aisr = m;
	return 0;
}

void alter_isr_submit(struct broker *b, struct alter_isr_item *it)
{
	struct alter_isr *m = b->aisr;

	m->pending++;
	enqueue(m, it);
	/* everything proposed in this turn of the loop goes in one request */
	if (!m->kicked) {
		m->kicked = true;
		kp_loop_post_call(b->loop, &m->kick);
	}
}

int alter_isr_pending(const struct broker *b)
{
	return b->aisr != NULL ? b->aisr->pending : 0;
}

void alter_isr_stop(struct broker *b)
{
	struct alter_isr *m = b->aisr;

	if (m == NULL)
		return;
	m->stopping = true;
	if (m->retry_armed)
		kp_timer_stop(b->loop, &m->retry);
	m->retry_armed = false;
	drop_conn(m);		/* the request in flight comes back queued */
	requeue_inflight(m);
	while (m->head != NULL) {
		struct alter_isr_item *it = m->head;

		m->head = it->next;
		end(m, it, KP_ERR_BROKER_NOT_AVAILABLE, NULL);
	}
	m->tail = NULL;
	/* a posted kick or a ZooKeeper read still refers to m */
	{
		int64_t until = kp_now_ms() + STOP_WAIT_MS;

		while ((m->kicked || m->reads > 0) && kp_now_ms() < until)
			kp_loop_run_once(b->loop, 100);
	}
	if (m->kicked || m->reads > 0) {
		/* left behind (ZooKeeper does not answer): what refers to
		 * it may still run */
		KP_WARN("AlterIsr: stopping with a ZooKeeper read unanswered");
		return;
	}
	free(m);
	b->aisr = NULL;
}
