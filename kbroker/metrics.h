/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.h - kbroker's metrics, where they are counted and how a scrape
 * reads them.
 *
 * Counting costs no lock and no read-modify-write on a shared line:
 *  - each network worker has its own struct net_wmetrics (requests and
 *    their time histograms per API key, the BrokerTopicMetrics totals),
 *    written only by that worker (kp_mctr: relaxed load + store);
 *  - a partition counts its messages and bytes in under its own lock,
 *    which the leader append holds anyway;
 *  - ISR shrinks and expands are counted on the main loop, which alone
 *    writes the ISR.
 * A scrape (GET /metrics, on libmicrohttpd's thread, never a worker) sums
 * the workers' counters and walks the partitions, the purgatory homes and
 * the group coordinator's table.  Off unless metrics.listener is set.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdint.h>

#include "kp_metrics.h"

struct broker;
struct kp_mtext;

/* API keys counted (Kafka 2.8's highest is 60), then Kafka's two
 * request names of its own: Fetch requests are also counted as
 * FetchConsumer or FetchFollower (by replica id), as Kafka's RequestMetrics */
#define METRICS_NAPI 72
#define METRICS_FETCH_CONSUMER 70
#define METRICS_FETCH_FOLLOWER 71

/* Kafka's RequestMetrics times of a request, in order */
enum {
	MT_TOTAL,		/* frame read to response written */
	MT_QUEUE,		/* frame read to the handler called */
	MT_LOCAL,		/* in the handler */
	MT_REMOTE,		/* parked: handler returned to response ready */
	MT_SEND,		/* response ready to written */
	MT_N
};

struct net_wmetrics {
	kp_mctr requests[METRICS_NAPI];
	struct kp_mhist time[METRICS_NAPI][MT_N];
	/* BrokerTopicMetrics, all topics: clients' produce and fetch only
	 * (replication is not counted here, as in Kafka) */
	kp_mctr messages_in, bytes_in, bytes_out;
	kp_mctr failed_produce, failed_fetch;
	kp_mctr total_produce, total_fetch;
};

/* Broker-wide counters written by one thread each. */
struct broker_metrics {
	kp_mctr isr_shrinks, isr_expands;	/* main loop (replica.c) */
	struct kp_metrics_http *http;
	/* networkprocessoravgidlepercent between scrapes (scrape thread) */
	uint64_t *last_idle_ns;
	int64_t last_idle_at_us;
};

/* Start serving if metrics.listener is set (after the network started).
 * 0, or -1 with a message. */
int metrics_start(struct broker *b, char *err, size_t errlen);
/* Stop serving (before the network stops). */
void metrics_stop(struct broker *b);
/* The whole exposition (the HTTP thread's render function). */
void metrics_render(struct kp_mtext *t, void *broker);

#endif /* METRICS_H */
