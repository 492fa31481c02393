/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client_quota.h - client quotas as Kafka 2.8's ClientQuotaManager and
 * ClientRequestQuotaManager (KIP-13, KIP-55, KIP-124, KIP-219):
 * producer_byte_rate, consumer_byte_rate and request_percentage of the
 * entities /config/users/<user>, /config/clients/<client-id>,
 * /config/users/<user>/clients/<client-id> and their <default>s.
 *
 * Precedence (Kafka's DefaultQuotaCallback), first found wins:
 *   1 users/<user>/clients/<client-id>     5 users/<default>/clients/<default>
 *   2 users/<user>/clients/<default>       6 users/<default>
 *   3 users/<user>                         7 clients/<client-id>
 *   4 users/<default>/clients/<client-id>  8 clients/<default>
 * and last the static quota.producer.default / quota.consumer.default
 * (deprecated, still honoured by 2.8) for the client-id level.  Clients
 * whose quota comes from the same entity share one sensor (one measured
 * rate): a user quota holds all of that user's clients together.
 *
 * A sensor's rate is Kafka's Rate over quota.window.num samples of
 * quota.window.size.seconds: a sample starts when the first value after
 * the previous one's end is recorded, samples older than the whole window
 * are dropped, and the elapsed time is at least num-1 windows.  A record
 * that takes the rate above the bound gives a throttle time of
 * (rate - bound) / bound * window (ms), for request_percentage capped at
 * one window (ClientRequestQuotaManager).  request_percentage counts
 * request handling time as a percentage of one thread per second.
 *
 * Threads: the entity table is replaced on the main loop (dynconfig.c);
 * the sensors are recorded by the network workers.  One mutex guards
 * both, taken once per recorded request (produce and fetch record their
 * bytes and time in one call); a broker with no quota at all (and no
 * static default) never takes it.  Per request nothing is allocated: a
 * (user, client-id) pair's cache entry and sensors are made the first
 * time the pair is seen.
 */
#ifndef CLIENT_QUOTA_H
#define CLIENT_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_errors.h"

enum cq_type { CQ_PRODUCE, CQ_FETCH, CQ_REQUEST, CQ_NTYPES };

/* The quota keys (Kafka's QuotaConfigs), by enum cq_type. */
extern const char *const cq_key_names[CQ_NTYPES];
#define CQ_DEFAULT_NAME "<default>"

struct client_quotas;

/* Window: quota.window.num samples of quota.window.size.seconds; the
 * static client-id defaults (INT64_MAX: none).  NULL when out of memory. */
struct client_quotas *cq_new(int nsamples, int window_s, int64_t producer_default,
			     int64_t consumer_default);
void cq_free(struct client_quotas *q);

/*
 * Set (values != NULL) or remove one entity's quotas: user and client are
 * the (desanitized) names, NULL for a component the entity lacks,
 * CQ_DEFAULT_NAME for <default>.  has[t] says whether values[t] is set.
 * 0 or -1 (out of memory).  Main loop.
 */
int cq_set_entity(struct client_quotas *q, const char *user, const char *client,
		  const bool *has, const double *values);
/* Whether any quota applies at all (the workers' fast path). */
bool cq_enabled(const struct client_quotas *q);

/*
 * What one request costs: bytes for CQ_PRODUCE or CQ_FETCH (type), and
 * thread time (µs) for request_percentage (req_us < 0: not counted, as
 * acks=0 produce).  Returns the throttle time in ms (0: none); *which
 * says which quota gave it (CQ_NTYPES: none).  The throttle time goes
 * into that quota's throttle-time sensor.
 */
int32_t cq_record(struct client_quotas *q, const char *user, const char *client,
		  int type, int64_t bytes, int64_t req_us, int64_t now_ms,
		  int *which);
/* Take back bytes recorded (a throttled fetch answers empty). */
void cq_unrecord(struct client_quotas *q, const char *user, const char *client,
		 int type, int64_t bytes, int64_t now_ms);
/* Kafka's getMaxValueInQuotaWindow: the most a fetch may return,
 * bound * (num - 1) * window seconds (INT64_MAX when unlimited). */
int64_t cq_max_in_window(struct client_quotas *q, const char *user,
			 const char *client, int type);

/* One sensor, for the metrics: its tags and current values. */
struct cq_sample {
	const char *user, *client;	/* tags ("" when not part of it) */
	int type;
	double rate;			/* bytes/s, or % of a thread */
	double throttle_avg_ms;		/* throttle-time: average over the window */
	double limit;			/* the bound, or -1 unlimited */
};
/* Call fn for every sensor (under the lock: fn must not call back). */
void cq_foreach(struct client_quotas *q, int64_t now_ms,
		void (*fn)(const struct cq_sample *s, void *arg), void *arg);

/* ------------------------------------------------ pure, unit tested */

/*
 * Which sensor (its user and client-id tags, each "" when not part of
 * it; n bytes each) a (user, client) pair records into for type, and its
 * bound (-1: unlimited), as DefaultQuotaCallback's quotaMetricTags and
 * quotaLimit.
 */
void cq_resolve(struct client_quotas *q, const char *user, const char *client,
		int type, char *tag_user, char *tag_client, size_t n, double *limit);
/* Kafka's Sanitizer: URL encoding, "+" as "%20", "*" as "%2A", "~" kept.
 * 0, or -1 when out does not fit. */
int cq_sanitize(const char *in, char *out, size_t n);
int cq_desanitize(const char *in, char *out, size_t n);

/* A sampled rate as Kafka's Rate (for the unit tests; samples <= 64). */
struct cq_rate_state {
	int n;				/* samples */
	int64_t window_ms;
	int cur;
	bool started;
	int64_t start[64];
	double val[64];
};
void cq_rate_init(struct cq_rate_state *r, int nsamples, int64_t window_ms);
void cq_rate_record(struct cq_rate_state *r, double v, int64_t now_ms);
/* The window the rate is measured over now (ms), as Rate.windowSize. */
int64_t cq_rate_window(struct cq_rate_state *r, int64_t now_ms);
/* Per second. */
double cq_rate_measure(struct cq_rate_state *r, int64_t now_ms);
/* Kafka's QuotaUtils.throttleTime: ms, from a rate above bound. */
int64_t cq_throttle_ms(double rate, double bound, int64_t window_ms);

#endif /* CLIENT_QUOTA_H */
