/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_metrics.h - metrics in Prometheus text format, served over HTTP.
 *
 * Three parts, used by kbroker and kcontroller:
 *
 *  - counters and histograms that one thread writes and any thread reads:
 *    a writer does a relaxed load and a relaxed store (no read-modify-
 *    write, no lock: on x86 a plain add), so each network worker keeps
 *    its own and a scrape sums them;
 *  - the text exposition (version 0.0.4): families with # HELP and
 *    # TYPE, samples with escaped label values, histograms as _bucket,
 *    _sum and _count;
 *  - the HTTP endpoint: libmicrohttpd on a thread of its own answers
 *    GET /metrics by calling the daemon's render function, so a scrape
 *    never runs on a network worker.  `metrics.listener=http://HOST:PORT`
 *    (skald's own key) says where.
 */
#ifndef KP_METRICS_H
#define KP_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------ single-writer values */

typedef _Atomic uint64_t kp_mctr;

static inline void kp_mctr_add(kp_mctr *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline uint64_t kp_mctr_get(kp_mctr *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* Bucket upper bounds of every histogram, in milliseconds (and +Inf). */
#define KP_MHIST_NB 14
extern const double kp_mhist_bounds[KP_MHIST_NB];

/* A histogram of durations, one writer.  Buckets are not cumulative here;
 * the text output makes them so.  sum is in microseconds. */
struct kp_mhist {
	kp_mctr b[KP_MHIST_NB + 1];	/* the last one: above every bound */
	kp_mctr sum_us;
};

void kp_mhist_observe_us(struct kp_mhist *h, uint64_t us);

/* A histogram summed from several (a scrape's view). */
struct kp_mhist_sum {
	uint64_t b[KP_MHIST_NB + 1];
	uint64_t sum_us;
	uint64_t count;
};

void kp_mhist_sum_add(struct kp_mhist_sum *s, struct kp_mhist *h);

/* ---------------------------------------------------- text exposition */

struct kp_mtext {
	char *p;
	size_t len, cap;
	bool failed;			/* out of memory: the text is partial */
};

void kp_mtext_init(struct kp_mtext *t);
void kp_mtext_free(struct kp_mtext *t);
/* The # HELP and # TYPE lines of a family; type is "counter", "gauge"
 * or "histogram". */
void kp_mtext_family(struct kp_mtext *t, const char *name, const char *type,
		     const char *help);
/* One sample: labels are nlab (name, value) pairs, values escaped. */
void kp_mtext_sample(struct kp_mtext *t, const char *name,
		     const char *const *labels, size_t nlab, double v);
/* A histogram's _bucket (le in milliseconds, the unit of Kafka's *timems
 * metrics; cumulative, ending at +Inf), _sum (milliseconds) and _count
 * samples. */
void kp_mtext_hist(struct kp_mtext *t, const char *name,
		   const char *const *labels, size_t nlab,
		   const struct kp_mhist_sum *s);
/* Append the text of another exposition (whole families). */
void kp_mtext_append(struct kp_mtext *t, const struct kp_mtext *src);
/* Process metrics (Prometheus' client conventions): CPU seconds,
 * resident and virtual memory, open and maximum descriptors, start time,
 * threads. */
void kp_mtext_process(struct kp_mtext *t);

/* ------------------------------------------------------ HTTP endpoint */

/* Parse "http://HOST:PORT" (HOST empty, a name, an IPv4 address or an
 * IPv6 one in brackets; PORT 0-65535).  0, or -1 with a message. */
int kp_metrics_parse_listener(const char *url, char *host, size_t hostlen,
			      int *port, char *err, size_t errlen);

/* Write the exposition into t (on the HTTP thread). */
typedef void (*kp_metrics_render_fn)(struct kp_mtext *t, void *arg);

struct kp_metrics_http;

/* Serve GET /metrics at url on a thread of its own; NULL with a message. */
struct kp_metrics_http *kp_metrics_http_start(const char *url,
					      kp_metrics_render_fn render,
					      void *arg, char *err, size_t errlen);
/* The port bound (after asking for port 0). */
int kp_metrics_http_port(const struct kp_metrics_http *h);
void kp_metrics_http_stop(struct kp_metrics_http *h);

#endif /* KP_METRICS_H */
