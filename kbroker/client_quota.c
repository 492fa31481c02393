/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client_quota.c - client quotas: entities, sensors, throttle times; see
 * client_quota.h.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_quota.h"

const char *const cq_key_names[CQ_NTYPES] = {
	"producer_byte_rate", "consumer_byte_rate", "request_percentage"
};

#define CQ_BUCKETS 1024
#define CQ_MAX_SAMPLES 64

/* Kafka's QuotaTypes: which kinds of entity hold a quota of a type. */
#define QT_CLIENT 1		/* clients/<c> (or a static default) */
#define QT_USER 2		/* users/<u> */
#define QT_USER_CLIENT 4	/* users/<u>/clients/<c> */

struct cq_entity {
	struct cq_entity *next;
	char *user, *client;	/* NULL: not a component */
	bool has[CQ_NTYPES];
	double v[CQ_NTYPES];
};

struct cq_sensor {
	struct cq_sensor *next;
	int type;
	char *tu, *tc;				/* tags */
	struct cq_rate_state rate;		/* bytes, or percent */
	struct cq_rate_state thr_sum, thr_cnt;	/* throttle-time's Avg */
	double limit;				/* last bound applied, -1 none */
};

/* A (user, client-id) pair seen: its sensors and bounds, until the
 * entities change (gen). */
struct cq_client {
	struct cq_client *next;
	char *user, *client;
	uint64_t gen;
	struct cq_sensor *s[CQ_NTYPES];
	double limit[CQ_NTYPES];		/* -1: unlimited */
};

struct client_quotas {
	pthread_mutex_t lock;
	int nsamples;
	int64_t window_ms;
	double static_default[CQ_NTYPES];	/* -1: none */
	_Atomic int enabled;			/* any type's bits */
	int types[CQ_NTYPES];			/* QT_* bits by type */
	uint64_t gen;
	struct cq_entity *ents[CQ_BUCKETS];
	struct cq_client *clients[CQ_BUCKETS];
	struct cq_sensor *sensors[CQ_BUCKETS];
};

/* ------------------------------------------------------------- rates */

void cq_rate_init(struct cq_rate_state *r, int nsamples, int64_t window_ms)
{
	memset(r, 0, sizeof(*r));
	if (nsamples < 1)
		nsamples = 1;
	if (nsamples > CQ_MAX_SAMPLES)
		nsamples = CQ_MAX_SAMPLES;
	r->n = nsamples;
	r->window_ms = window_ms > 0 ? window_ms : 1000;
}

/* Samples older than the whole window start over at now (Kafka's
 * purgeObsoleteSamples). */
static void rate_purge(struct cq_rate_state *r, int64_t now_ms)
{
	int64_t expire = (int64_t)r->n * r->window_ms;

	if (!r->started)
		return;
	for (int i = 0; i < r->n; i++)
		if (now_ms - r->start[i] >= expire) {
			r->start[i] = now_ms;
			r->val[i] = 0;
		}
}

void cq_rate_record(struct cq_rate_state *r, double v, int64_t now_ms)
{
	if (!r->started) {
		/* Kafka makes samples as it needs them: one unused reads as
		 * one started now */
		for (int i = 0; i < r->n; i++)
			r->start[i] = now_ms;
		r->started = true;
		r->cur = 0;
	}
	if (now_ms - r->start[r->cur] >= r->window_ms) {
		r->cur = (r->cur + 1) % r->n;
		r->start[r->cur] = now_ms;
		r->val[r->cur] = 0;
	}
	r->val[r->cur] += v;
}

int64_t cq_rate_window(struct cq_rate_state *r, int64_t now_ms)
{
	int64_t oldest = now_ms, elapsed, full, minfull = r->n - 1;

	rate_purge(r, now_ms);
	for (int i = 0; r->started && i < r->n; i++)
		if (r->start[i] < oldest)
			oldest = r->start[i];
	elapsed = now_ms - oldest;
	full = elapsed / r->window_ms;
	if (full < minfull)
		elapsed += (minfull - full) * r->window_ms;
	return elapsed;
}

static double rate_total(struct cq_rate_state *r, int64_t now_ms)
{
	double sum = 0;

	rate_purge(r, now_ms);
	for (int i = 0; r->started && i < r->n; i++)
		sum += r->val[i];
	return sum;
}

double cq_rate_measure(struct cq_rate_state *r, int64_t now_ms)
{
	double sum = rate_total(r, now_ms);
	int64_t w = cq_rate_window(r, now_ms);

	return w > 0 ? sum * 1000.0 / (double)w : 0;
}

int64_t cq_throttle_ms(double rate, double bound, int64_t window_ms)
{
	if (bound <= 0 || rate <= bound)
		return bound <= 0 && rate > 0 ? window_ms : 0;
	/* Math.round; the value is positive */
	double ms = (rate - bound) / bound * (double)window_ms + 0.5;

	return ms >= 9.2e18 ? INT64_MAX : (int64_t)ms;
}

/* ------------------------------------------------------------ naming */

int cq_sanitize(const char *in, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		unsigned char ch = *p;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' ||
		    ch == '~') {
			if (o + 1 >= n)
				return -1;
			out[o++] = (char)ch;
		} else {
			if (o + 3 >= n)
				return -1;
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	if (o >= n)
		return -1;
	out[o] = 0;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cq_desanitize(const char *in, char *out, size_t n)
{
	size_t o = 0;

	for (const char *p = in; *p; p++) {
		char ch = *p;

		if (ch == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			ch = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		}
		if (o + 1 >= n)
			return -1;
		out[o++] = ch;
	}
	if (o >= n)
		return -1;
	out[o] = 0;
	return 0;
}

/* ---------------------------------------------------------- tables */

static uint32_t hash3(int t, const char *a, const char *b)
{
	uint32_t h = 2166136261u ^ (uint32_t)t;

	for (const char *p = a ? a : "\x01"; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ 0x1f) * 16777619u;
	for (const char *p = b ? b : "\x01"; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h % CQ_BUCKETS;
}

static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static struct cq_entity *entity_find(struct client_quotas *q, const char *u,
				     const char *c)
{
	for (struct cq_entity *e = q->ents[hash3(0, u, c)]; e != NULL; e = e->next)
		if (same(e->user, u) && same(e->client, c))
			return e;
	return NULL;
}

/* Entity (u, c)'s bound of type t, or -1. */
static double ent_get(struct client_quotas *q, const char *u, const char *c, int t)
{
	struct cq_entity *e = entity_find(q, u, c);

	return e != NULL && e->has[t] ? e->v[t] : -1;
}

static bool ent_has(struct client_quotas *q, const char *u, const char *c, int t)
{
	return ent_get(q, u, c, t) >= 0;
}

#define D CQ_DEFAULT_NAME

void cq_resolve(struct client_quotas *q, const char *user, const char *client,
		int t, char *tu, char *tc, size_t n, double *limit)
{
	const char *su = user, *sc = client;	/* the tags */
	double v = -1;

	/* quotaMetricTags */
	switch (q->types[t]) {
	case 0:
	case QT_CLIENT:
		su = "";
		break;
	case QT_USER:
		sc = "";
		break;
	case QT_USER_CLIENT:
		break;
	default:
		if (ent_has(q, user, client, t) || ent_has(q, user, D, t))
			break;
		if (ent_has(q, user, NULL, t)) {
			sc = "";
			break;
		}
		if (ent_has(q, D, client, t) || ent_has(q, D, D, t))
			break;
		if (ent_has(q, D, NULL, t)) {
			sc = "";
			break;
		}
		su = "";
		break;
	}
	/* quotaLimit of those tags */
	if (*su != 0 && *sc != 0) {
		if ((v = ent_get(q, su, sc, t)) < 0 && (v = ent_get(q, su, D, t)) < 0 &&
		    (v = ent_get(q, D, sc, t)) < 0)
			v = ent_get(q, D, D, t);
	} else if (*su != 0) {
		if ((v = ent_get(q, su, NULL, t)) < 0)
			v = ent_get(q, D, NULL, t);
	} else if (*sc != 0) {
		if ((v = ent_get(q, NULL, sc, t)) < 0 &&
		    (v = ent_get(q, NULL, D, t)) < 0)
			v = q->static_default[t];
	}
	snprintf(tu, n, "%s", su);
	snprintf(tc, n, "%s", sc);
	*limit = v;
}

#undef D

static void recompute_types(struct client_quotas *q)
{
	int any = 0;

	for (int t = 0; t < CQ_NTYPES; t++)
		q->types[t] = q->static_default[t] >= 0 ? QT_CLIENT : 0;
	for (int i = 0; i < CQ_BUCKETS; i++)
		for (struct cq_entity *e = q->ents[i]; e != NULL; e = e->next)
			for (int t = 0; t < CQ_NTYPES; t++) {
				if (!e->has[t])
					continue;
				q->types[t] |= e->user == NULL ? QT_CLIENT
					     : e->client == NULL ? QT_USER : QT_USER_CLIENT;
			}
	for (int t = 0; t < CQ_NTYPES; t++)
		any |= q->types[t];
	atomic_store(&q->enabled, any);
}

struct client_quotas *cq_new(int nsamples, int window_s, int64_t producer_default,
			     int64_t consumer_default)
{
	struct client_quotas *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	pthread_mutex_init(&q->lock, NULL);
	q->nsamples = nsamples < 1 ? 1 : nsamples > CQ_MAX_SAMPLES ? CQ_MAX_SAMPLES : nsamples;
	q->window_ms = (int64_t)(window_s < 1 ? 1 : window_s) * 1000;
	q->static_default[CQ_PRODUCE] = producer_default == INT64_MAX ? -1
					: (double)producer_default;
	q->static_default[CQ_FETCH] = consumer_default == INT64_MAX ? -1
				      : (double)consumer_default;
	q->static_default[CQ_REQUEST] = -1;
	recompute_types(q);
	return q;
}

void cq_free(struct client_quotas *q)
{
	if (q == NULL)
		return;
	for (int i = 0; i < CQ_BUCKETS; i++) {
		while (q->ents[i] != NULL) {
			struct cq_entity *e = q->ents[i];

			q->ents[i] = e->next;
			free(e->user);
			free(e->client);
			free(e);
		}
		while (q->clients[i] != NULL) {
			struct cq_client *c = q->clients[i];

			q->clients[i] = c->next;
			free(c->user);
			free(c->client);
			free(c);
		}
		while (q->sensors[i] != NULL) {
			struct cq_sensor *s = q->sensors[i];

			q->sensors[i] = s->next;
			free(s->tu);
			free(s->tc);
			free(s);
		}
	}
	pthread_mutex_destroy(&q->lock);
	free(q);
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*oom = true;
	return d;
}

int cq_set_entity(struct client_quotas *q, const char *user, const char *client,
		  const bool *has, const double *values)
{
	bool any = false, oom = false;
	struct cq_entity **pp, *e, *fresh = NULL;

	for (int t = 0; values != NULL && t < CQ_NTYPES; t++)
		any |= has[t];
	if (any) {
		fresh = calloc(1, sizeof(*fresh));
		if (fresh == NULL)
			return -1;
		fresh->user = dup_or_null(user, &oom);
		fresh->client = dup_or_null(client, &oom);
		if (oom) {
			free(fresh->user);
			free(fresh->client);
			free(fresh);
			return -1;
		}
		for (int t = 0; t < CQ_NTYPES; t++) {
			fresh->has[t] = has[t];
			fresh->v[t] = has[t] ? values[t] : 0;
		}
	}
	pthread_mutex_lock(&q->lock);
	for (pp = &q->ents[hash3(0, user, client)]; *pp != NULL; pp = &(*pp)->next)
		if (same((*pp)->user, user) && same((*pp)->client, client))
			break;
	e = *pp;
	if (e != NULL)
		*pp = e->next;
	if (fresh != NULL) {
		pp = &q->ents[hash3(0, user, client)];
		fresh->next = *pp;
		*pp = fresh;
	}
	q->gen++;
	recompute_types(q);
	pthread_mutex_unlock(&q->lock);
	if (e != NULL) {
		free(e->user);
		free(e->client);
		free(e);
	}
	return 0;
}

bool cq_enabled(const struct client_quotas *q)
{
	return q != NULL && atomic_load(&((struct client_quotas *)q)->enabled) != 0;
}

/* Under the lock.  NULL when out of memory. */
static struct cq_sensor *sensor_get(struct client_quotas *q, int t, const char *tu,
				    const char *tc)
{
	uint32_t h = hash3(t + 1, tu, tc);
	struct cq_sensor *s;

	for (s = q->sensors[h]; s != NULL; s = s->next)
		if (s->type == t && strcmp(s->tu, tu) == 0 && strcmp(s->tc, tc) == 0)
			return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->tu = strdup(tu);
	s->tc = strdup(tc);
	if (s->tu == NULL || s->tc == NULL) {
		free(s->tu);
		free(s->tc);
		free(s);
		return NULL;
	}
	s->type = t;
	s->limit = -1;
	cq_rate_init(&s->rate, q->nsamples, q->window_ms);
	cq_rate_init(&s->thr_sum, q->nsamples, q->window_ms);
	cq_rate_init(&s->thr_cnt, q->nsamples, q->window_ms);
	s->next = q->sensors[h];
	q->sensors[h] = s;
	return s;
}

/* Under the lock: the pair's cache entry, resolved for the current
 * entities.  NULL when out of memory. */
static struct cq_client *client_get(struct client_quotas *q, const char *user,
				    const char *client)
{
	uint32_t h = hash3(0, user, client);
	struct cq_client *c;

	for (c = q->clients[h]; c != NULL; c = c->next)
		if (strcmp(c->user, user) == 0 && strcmp(c->client, client) == 0)
			break;
	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return NULL;
		c->user = strdup(user);
		c->client = strdup(client);
		if (c->user == NULL || c->client == NULL) {
			free(c->user);
			free(c->client);
			free(c);
			return NULL;
		}
		c->gen = q->gen - 1;
		c->next = q->clients[h];
		q->clients[h] = c;
	}
	if (c->gen != q->gen) {
		for (int t = 0; t < CQ_NTYPES; t++) {
			char tu[256], tc[256];

			cq_resolve(q, user, client, t, tu, tc, sizeof(tu), &c->limit[t]);
			c->s[t] = sensor_get(q, t, tu, tc);
			if (c->s[t] == NULL)
				return NULL;
			c->s[t]->limit = c->limit[t];
		}
		c->gen = q->gen;
	}
	return c;
}

static void note_throttle(struct cq_sensor *s, int32_t ms, int64_t now_ms)
{
	cq_rate_record(&s->thr_sum, ms, now_ms);
	cq_rate_record(&s->thr_cnt, 1, now_ms);
}

/* Record v into type t's sensor; the throttle time it causes. */
static int64_t record_one(struct client_quotas *q, struct cq_client *c, int t, double v,
			  int64_t now_ms)
{
	struct cq_sensor *s = c->s[t];
	double rate;
	int64_t ms;

	cq_rate_record(&s->rate, v, now_ms);
	if (c->limit[t] < 0)
		return 0;
	rate = cq_rate_measure(&s->rate, now_ms);
	if (rate <= c->limit[t])
		return 0;
	ms = cq_throttle_ms(rate, c->limit[t], cq_rate_window(&s->rate, now_ms));
	if (t == CQ_REQUEST && ms > q->window_ms)
		ms = q->window_ms;	/* boundedThrottleTime */
	return ms;
}

int32_t cq_record(struct client_quotas *q, const char *user, const char *client,
		  int type, int64_t bytes, int64_t req_us, int64_t now_ms, int *which)
{
	struct cq_client *c;
	int64_t tb = 0, tr = 0, best;

	*which = CQ_NTYPES;
	if (!cq_enabled(q))
		return 0;
	pthread_mutex_lock(&q->lock);
	if ((c = client_get(q, user, client)) == NULL) {
		pthread_mutex_unlock(&q->lock);
		return 0;
	}
	if ((type == CQ_PRODUCE || type == CQ_FETCH) && q->types[type] != 0)
		tb = record_one(q, c, type, (double)bytes, now_ms);
	if (req_us >= 0 && q->types[CQ_REQUEST] != 0)
		/* nanosToPercentage: a thread busy for a second is 100 */
		tr = record_one(q, c, CQ_REQUEST, (double)req_us * 100.0 / 1e6, now_ms);
	best = tb > tr ? tb : tr;
	if (best > INT32_MAX)
		best = INT32_MAX;
	if (best > 0) {
		*which = tb > tr ? type : CQ_REQUEST;
		note_throttle(c->s[*which], (int32_t)best, now_ms);
	}
	pthread_mutex_unlock(&q->lock);
	return (int32_t)best;
}

void cq_unrecord(struct client_quotas *q, const char *user, const char *client,
		 int type, int64_t bytes, int64_t now_ms)
{
	struct cq_client *c;

	if (!cq_enabled(q) || type < 0 || type >= CQ_NTYPES)
		return;
	pthread_mutex_lock(&q->lock);
	if (q->types[type] != 0 && (c = client_get(q, user, client)) != NULL)
		cq_rate_record(&c->s[type]->rate, -(double)bytes, now_ms);
	pthread_mutex_unlock(&q->lock);
}

int64_t cq_max_in_window(struct client_quotas *q, const char *user,
			 const char *client, int type)
{
	struct cq_client *c;
	int64_t r = INT64_MAX;

	if (!cq_enabled(q) || type < 0 || type >= CQ_NTYPES)
		return r;
	pthread_mutex_lock(&q->lock);
	if (q->types[type] != 0 && (c = client_get(q, user, client)) != NULL &&
	    c->limit[type] >= 0) {
		double v = c->limit[type] * (double)(q->nsamples - 1) *
			   (double)(q->window_ms / 1000);

		r = v >= 9.2e18 ? INT64_MAX : (int64_t)v;
	}
	pthread_mutex_unlock(&q->lock);
	return r;
}

void cq_foreach(struct client_quotas *q, int64_t now_ms,
		void (*fn)(const struct cq_sample *s, void *arg), void *arg)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	for (int i = 0; i < CQ_BUCKETS; i++)
		for (struct cq_sensor *s = q->sensors[i]; s != NULL; s = s->next) {
			struct cq_sample x;
			double cnt = rate_total(&s->thr_cnt, now_ms);

			x.user = s->tu;
			x.client = s->tc;
			x.type = s->type;
			x.rate = cq_rate_measure(&s->rate, now_ms);
			x.throttle_avg_ms = cnt > 0 ? rate_total(&s->thr_sum, now_ms) / cnt : 0;
			x.limit = s->limit;
			fn(&x, arg);
		}
	pthread_mutex_unlock(&q->lock);
}
