/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.c - kbroker's Prometheus exposition (see metrics.h).
 *
 * Names are those Kafka's JMX beans take under the Prometheus JMX
 * exporter's usual rules (kafka.server<type=BrokerTopicMetrics,
 * name=MessagesInPerSec, topic=t><>Count becomes
 * kafka_server_brokertopicmetrics_messagesin_total{topic="t"}, a gauge's
 * Value becomes kafka_<domain>_<type>_<name>), so dashboards and alerts
 * written for Kafka work.  Request times are histograms in milliseconds
 * (_bucket/_sum/_count) rather than the exporter's quantiles.  Beyond
 * Kafka: the coordinator's consumer-group lag.
 */
#include "api_quota.h"
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "group_coord.h"
#include "kp_codec.h"
#include "kp_log.h"
#include "kp_zk.h"
#include "log.h"
#include "log_dir_event.h"
#include "metrics.h"
#include "fetch_session.h"
#include "net.h"
#include "partition.h"
#include "purgatory.h"

/* --------------------------------------------------------- partitions */

struct pstat {
	char *topic;
	int32_t index;
	bool leader, has_log;
	int32_t nreplicas, nisr, min_isr;
	int64_t size;
	uint64_t msgs_in, bytes_in;
};

struct pstats {
	struct pstat *v;
	size_t n, cap;
	bool failed;
};

static void collect(struct partition *p, void *arg)
{
	struct pstats *s = arg;
	struct pstat *x;

	if (s->failed)
		return;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		struct pstat *nv = realloc(s->v, ncap * sizeof(*nv));

		if (nv == NULL) {
			s->failed = true;
			return;
		}
		s->v = nv;
		s->cap = ncap;
	}
	x = &s->v[s->n];
	memset(x, 0, sizeof(*x));
	pthread_mutex_lock(&p->lock);
	if (p->deleting) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	x->topic = strdup(p->topic);
	x->index = p->index;
	x->leader = p->leader;
	x->has_log = p->log != NULL && !log_is_offline(p->log);
	x->nreplicas = p->nreplicas;
	x->nisr = p->nisr;
	x->min_isr = p->min_isr;
	x->size = p->log != NULL ? log_size_bytes(p->log) : 0;
	x->msgs_in = kp_mctr_get(&p->m_messages_in);
	x->bytes_in = kp_mctr_get(&p->m_bytes_in);
	pthread_mutex_unlock(&p->lock);
	if (x->topic == NULL) {
		s->failed = true;
		return;
	}
	s->n++;
}

static int by_topic(const void *a, const void *b)
{
	const struct pstat *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

static void gauge(struct kp_mtext *t, const char *name, const char *help, double v)
{
	kp_mtext_family(t, name, "gauge", help);
	kp_mtext_sample(t, name, NULL, 0, v);
}

static void render_partitions(struct kp_mtext *t, struct broker *b,
			      struct net_wmetrics *sum)
{
	struct pstats s = { 0 };
	int64_t under = 0, under_min = 0, count = 0, leaders = 0, offline = 0;
	char pbuf[16];

	partition_foreach(&b->parts, collect, &s);
	if (s.failed) {
		t->failed = true;
		goto out;
	}
	if (s.n > 0)
		qsort(s.v, s.n, sizeof(*s.v), by_topic);
	for (size_t i = 0; i < s.n; i++) {
		const struct pstat *x = &s.v[i];

		if (!x->has_log) {
			offline++;
			continue;
		}
		count++;
		if (!x->leader)
			continue;
		leaders++;
		under += x->nisr < x->nreplicas;
		under_min += x->nisr < x->min_isr;
	}

	/* BrokerTopicMetrics: the total without a topic label, then per topic */
	{
		static const struct {
			const char *name, *help;
			size_t off;
		} tot[] = {
			{ "kafka_server_brokertopicmetrics_messagesin_total",
			  "Records appended by clients' Produce requests",
			  offsetof(struct net_wmetrics, messages_in) },
			{ "kafka_server_brokertopicmetrics_bytesin_total",
			  "Bytes of record batches appended by clients' Produce requests",
			  offsetof(struct net_wmetrics, bytes_in) },
			{ "kafka_server_brokertopicmetrics_bytesout_total",
			  "Bytes of records sent to consumers (not followers)",
			  offsetof(struct net_wmetrics, bytes_out) },
			{ "kafka_server_brokertopicmetrics_failedproducerequests_total",
			  "Partitions of Produce requests answered with an error",
			  offsetof(struct net_wmetrics, failed_produce) },
			{ "kafka_server_brokertopicmetrics_failedfetchrequests_total",
			  "Partitions of Fetch requests answered with an error",
			  offsetof(struct net_wmetrics, failed_fetch) },
			{ "kafka_server_brokertopicmetrics_totalproducerequests_total",
			  "Partitions of Produce requests",
			  offsetof(struct net_wmetrics, total_produce) },
			{ "kafka_server_brokertopicmetrics_totalfetchrequests_total",
			  "Partitions of Fetch requests (clients' and followers')",
			  offsetof(struct net_wmetrics, total_fetch) },
		};

		for (size_t k = 0; k < sizeof(tot) / sizeof(tot[0]); k++) {
			kp_mctr *v = (kp_mctr *)((char *)sum + tot[k].off);

			kp_mtext_family(t, tot[k].name, "counter", tot[k].help);
			kp_mtext_sample(t, tot[k].name, NULL, 0, (double)kp_mctr_get(v));
			/* per topic: messages and bytes in, from the partitions
			 * this broker leads or led (since it hosts them) */
			if (k > 1)
				continue;
			for (size_t i = 0; i < s.n; ) {
				const char *topic = s.v[i].topic;
				uint64_t n = 0;
				const char *lab[] = { "topic", topic };

				for (; i < s.n && strcmp(s.v[i].topic, topic) == 0; i++)
					n += k == 0 ? s.v[i].msgs_in : s.v[i].bytes_in;
				kp_mtext_sample(t, tot[k].name, lab, 1, (double)n);
			}
		}
	}

	gauge(t, "kafka_server_replicamanager_underreplicatedpartitions",
	      "Partitions led here whose ISR is smaller than their replica set", (double)under);
	gauge(t, "kafka_server_replicamanager_underminisrpartitions",
	      "Partitions led here whose ISR is smaller than min.insync.replicas", (double)under_min);
	gauge(t, "kafka_server_replicamanager_partitioncount",
	      "Partitions hosted here with a log", (double)count);
	gauge(t, "kafka_server_replicamanager_leadercount",
	      "Partitions led here", (double)leaders);
	gauge(t, "kafka_server_replicamanager_offlinereplicacount",
	      "Partitions assigned here without a usable log", (double)offline);
	gauge(t, "kafka_log_logmanager_offlinelogdirectorycount",
	      "Log directories offline after a storage error",
	      (double)log_dir_event_offline_count(b));
	kp_mtext_family(t, "kafka_server_replicamanager_isrshrinks_total", "counter",
			"ISR shrinks written by this broker as leader");
	kp_mtext_sample(t, "kafka_server_replicamanager_isrshrinks_total", NULL, 0,
			(double)kp_mctr_get(&b->metrics.isr_shrinks));
	kp_mtext_family(t, "kafka_server_replicamanager_isrexpands_total", "counter",
			"ISR expansions written by this broker as leader");
	kp_mtext_sample(t, "kafka_server_replicamanager_isrexpands_total", NULL, 0,
			(double)kp_mctr_get(&b->metrics.isr_expands));

	kp_mtext_family(t, "kafka_log_log_size", "gauge",
			"Bytes of a partition's log segments");
	for (size_t i = 0; i < s.n; i++) {
		const char *lab[] = { "topic", s.v[i].topic, "partition", pbuf };

		if (!s.v[i].has_log)
			continue;
		snprintf(pbuf, sizeof(pbuf), "%" PRId32, s.v[i].index);
		kp_mtext_sample(t, "kafka_log_log_size", lab, 2, (double)s.v[i].size);
	}
out:
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i].topic);
	free(s.v);
}

/* ------------------------------------------------------------ requests */

static const char *const time_names[MT_N] = {
	"kafka_network_requestmetrics_totaltimems",
	"kafka_network_requestmetrics_requestqueuetimems",
	"kafka_network_requestmetrics_localtimems",
	"kafka_network_requestmetrics_remotetimems",
	"kafka_network_requestmetrics_responsesendtimems",
};

static const char *const time_help[MT_N] = {
	"Milliseconds from a request's frame read to its response written",
	"Milliseconds from a request's frame read to its handler called",
	"Milliseconds in the request's handler on its network thread",
	"Milliseconds a request waited parked (acks=all, long polls, ZooKeeper work)",
	"Milliseconds from a response ready to its last byte written",
};

/* Kafka's request name of a counted index (NULL: none). */
static const char *request_name(int k)
{
	const struct kp_api_desc *a;

	if (k == METRICS_FETCH_CONSUMER)
		return "FetchConsumer";
	if (k == METRICS_FETCH_FOLLOWER)
		return "FetchFollower";
	a = kp_api_get((int16_t)k);
	return a != NULL ? a->name : NULL;
}

static void render_requests(struct kp_mtext *t, struct net_server *ns)
{
	int nw = net_nworkers(ns);
	struct kp_mhist_sum *hs = calloc(METRICS_NAPI * MT_N, sizeof(*hs));
	uint64_t req[METRICS_NAPI] = { 0 };

	if (hs == NULL) {
		t->failed = true;
		return;
	}
	for (int i = 0; i < nw; i++) {
		struct net_wmetrics *m = net_worker_at(ns, i)->m;

		for (int k = 0; k < METRICS_NAPI; k++) {
			req[k] += kp_mctr_get(&m->requests[k]);
			for (int j = 0; j < MT_N; j++)
				kp_mhist_sum_add(&hs[k * MT_N + j], &m->time[k][j]);
		}
	}
	kp_mtext_family(t, "kafka_network_requestmetrics_requests_total", "counter",
			"Requests answered (or completed without an answer), by type");
	for (int k = 0; k < METRICS_NAPI; k++) {
		const char *name = request_name(k);
		const char *lab[] = { "request", name };

		if (name != NULL && req[k] > 0)
			kp_mtext_sample(t, "kafka_network_requestmetrics_requests_total",
					lab, 1, (double)req[k]);
	}
	for (int j = 0; j < MT_N; j++) {
		kp_mtext_family(t, time_names[j], "histogram", time_help[j]);
		for (int k = 0; k < METRICS_NAPI; k++) {
			const char *name = request_name(k);
			const char *lab[] = { "request", name };

			if (name != NULL && req[k] > 0)
				kp_mtext_hist(t, time_names[j], lab, 1, &hs[k * MT_N + j]);
		}
	}
	free(hs);
}

static void render_idle(struct kp_mtext *t, struct broker *b)
{
	struct net_server *ns = b->net;
	int nw = net_nworkers(ns);
	int64_t now = kp_now_us(), dt;
	uint64_t idle = 0;
	double v;

	for (int i = 0; i < nw; i++) {
		uint64_t x = kp_loop_idle_ns(net_worker_at(ns, i)->loop);

		idle += x - b->metrics.last_idle_ns[i];
		b->metrics.last_idle_ns[i] = x;
	}
	dt = now - b->metrics.last_idle_at_us;
	b->metrics.last_idle_at_us = now;
	v = dt > 0 ? (double)idle / 1000.0 / ((double)dt * nw) : 1.0;
	if (v > 1.0)
		v = 1.0;
	gauge(t, "kafka_network_socketserver_networkprocessoravgidlepercent",
	      "Share of time (0 to 1) the network threads waited for events since the previous scrape",
	      v);
}

/* -------------------------------------------------------------- groups */

/*
 * The coordinator's counts (Kafka's GroupMetadataManager gauges) and,
 * beyond Kafka, every committed offset with its partition's high
 * watermark and the lag, where this broker hosts a replica of the
 * partition (its leader's high watermark, or a follower's, which trails
 * it by a fetch).  Read under the coordinator's lock, then each
 * partition's (the lock order).
 */
static void render_groups(struct kp_mtext *t, struct broker *b)
{
	struct group_coord *gc = b->coord;
	static const char *const sname[GROUP_NSTATES] = {
		"kafka_coordinator_group_groupmetadatamanager_numgroupsempty",
		"kafka_coordinator_group_groupmetadatamanager_numgroupspreparingrebalance",
		"kafka_coordinator_group_groupmetadatamanager_numgroupscompletingrebalance",
		"kafka_coordinator_group_groupmetadatamanager_numgroupsstable",
		"kafka_coordinator_group_groupmetadatamanager_numgroupsdead",
	};
	int64_t nstate[GROUP_NSTATES] = { 0 }, ngroups = 0, noffsets = 0;
	struct kp_mtext cur, end, lag, secs;
	char pbuf[16];

	if (gc == NULL)
		return;
	kp_mtext_init(&cur);
	kp_mtext_init(&end);
	kp_mtext_init(&lag);
	kp_mtext_init(&secs);
	kp_mtext_family(&cur, "kafka_consumergroup_current_offset", "gauge",
			"A group's committed offset of a partition (the coordinator's)");
	kp_mtext_family(&end, "kafka_consumergroup_log_end_offset", "gauge",
			"High watermark of a partition a group committed on, where this broker hosts a replica");
	kp_mtext_family(&lag, "kafka_consumergroup_lag", "gauge",
			"High watermark minus a group's committed offset, where this broker hosts a replica");
	kp_mtext_family(&secs, "kafka_consumergroup_lag_seconds", "gauge",
			"The lag divided by the group's consume rate on the partition between its last two commits");
	pthread_mutex_lock(&gc->lock);
	for (uint32_t i = 0; i < gc->groups.nbuckets; i++)
		for (struct group *g = gc->groups.buckets[i]; g != NULL; g = g->next) {
			ngroups++;
			if (g->fsm.state < GROUP_NSTATES)
				nstate[g->fsm.state]++;
			noffsets += g->noffsets;
			for (uint32_t j = 0; j < g->onbuckets; j++)
				for (struct group_offset *o = g->obuckets[j]; o != NULL;
				     o = o->next) {
					const char *lab[] = { "group", g->id, "topic", o->topic,
							      "partition", pbuf };
					struct partition *p;
					int64_t hw = -1;

					snprintf(pbuf, sizeof(pbuf), "%" PRId32, o->partition);
					kp_mtext_sample(&cur, "kafka_consumergroup_current_offset",
							lab, 3, (double)o->offset);
					p = partition_find(&b->parts, o->topic, strlen(o->topic),
							   o->partition);
					if (p != NULL) {
						pthread_mutex_lock(&p->lock);
						if (p->log != NULL && !p->deleting)
							hw = atomic_load(&p->hw);
						pthread_mutex_unlock(&p->lock);
					}
					if (hw < 0)
						continue;
					kp_mtext_sample(&end, "kafka_consumergroup_log_end_offset",
							lab, 3, (double)hw);
					kp_mtext_sample(&lag, "kafka_consumergroup_lag", lab, 3,
							(double)(hw > o->offset ? hw - o->offset : 0));
					/* records per ms between the last two commits */
					if (hw <= o->offset)
						kp_mtext_sample(&secs, "kafka_consumergroup_lag_seconds",
								lab, 3, 0);
					else if (o->prev_ts > 0 && o->commit_ts > o->prev_ts &&
						 o->offset > o->prev_offset)
						kp_mtext_sample(&secs, "kafka_consumergroup_lag_seconds",
								lab, 3,
								(double)(hw - o->offset) *
								(double)(o->commit_ts - o->prev_ts) /
								(double)(o->offset - o->prev_offset) / 1000.0);
				}
		}
	pthread_mutex_unlock(&gc->lock);

	gauge(t, "kafka_coordinator_group_groupmetadatamanager_numgroups",
	      "Groups this broker coordinates", (double)ngroups);
	for (int s = 0; s < GROUP_NSTATES; s++)
		gauge(t, sname[s], "Groups this broker coordinates in that state",
		      (double)nstate[s]);
	gauge(t, "kafka_coordinator_group_groupmetadatamanager_numoffsets",
	      "Committed offsets of the groups this broker coordinates", (double)noffsets);
	kp_mtext_append(t, &cur);
	kp_mtext_append(t, &end);
	kp_mtext_append(t, &lag);
	kp_mtext_append(t, &secs);
	kp_mtext_free(&cur);
	kp_mtext_free(&end);
	kp_mtext_free(&lag);
	kp_mtext_free(&secs);
}

/* ---------------------------------------------------------- the whole */

/* Kafka's FetchSessionCache gauges and the evictions meter. */
static void render_sessions(struct kp_mtext *t, struct broker *b)
{
	int64_t n = 0, parts = 0, ev = 0;

	if (b->fsessions != NULL)
		fetch_sessions_stats(b->fsessions, &n, &parts, &ev);
	gauge(t, "kafka_server_fetchsessioncache_numincrementalfetchsessions",
	      "Incremental fetch sessions cached (KIP-227)", (double)n);
	gauge(t, "kafka_server_fetchsessioncache_numincrementalfetchpartitionscached",
	      "Partitions in the cached fetch sessions", (double)parts);
	kp_mtext_family(t, "kafka_server_fetchsessioncache_incrementalfetchsessionevictions_total",
			"counter", "Fetch sessions evicted to make room for new ones");
	kp_mtext_sample(t, "kafka_server_fetchsessioncache_incrementalfetchsessionevictions_total",
			NULL, 0, (double)ev);
}

void metrics_render(struct kp_mtext *t, void *arg)
{
	struct broker *b = arg;
	struct net_server *ns = b->net;
	struct net_wmetrics sum;
	int64_t parked = 0;
	int nw = net_nworkers(ns);
	const char *lab[] = { "delayedoperation", "All" };

	memset(&sum, 0, sizeof(sum));
	for (int i = 0; i < nw; i++) {
		struct net_worker *w = net_worker_at(ns, i);
		struct net_wmetrics *m = w->m;

		kp_mctr_add(&sum.messages_in, kp_mctr_get(&m->messages_in));
		kp_mctr_add(&sum.bytes_in, kp_mctr_get(&m->bytes_in));
		kp_mctr_add(&sum.bytes_out, kp_mctr_get(&m->bytes_out));
		kp_mctr_add(&sum.failed_produce, kp_mctr_get(&m->failed_produce));
		kp_mctr_add(&sum.failed_fetch, kp_mctr_get(&m->failed_fetch));
		kp_mctr_add(&sum.total_produce, kp_mctr_get(&m->total_produce));
		kp_mctr_add(&sum.total_fetch, kp_mctr_get(&m->total_fetch));
		parked += purgatory_home_count(w->home);
	}
	render_partitions(t, b, &sum);
	render_requests(t, ns);
	render_idle(t, b);
	/* the purgatory is one for every kind of delayed operation here */
	kp_mtext_family(t, "kafka_server_delayedoperationpurgatory_purgatorysize", "gauge",
			"Requests parked as delayed operations on the network threads");
	kp_mtext_sample(t, "kafka_server_delayedoperationpurgatory_purgatorysize", lab, 1,
			(double)parked);
	render_groups(t, b);
	quota_metrics_render(t, b);
	render_sessions(t, b);
	kp_zk_metrics(t, b->zk);
	kp_mtext_process(t);
}

int metrics_start(struct broker *b, char *err, size_t errlen)
{
	const char *url = kp_config_str(&b->cfg, "metrics.listener");

	if (url == NULL || url[0] == '\0')
		return 0;
	/* the idle share is measured from here (the workers just started) */
	b->metrics.last_idle_ns = calloc((size_t)net_nworkers(b->net), sizeof(uint64_t));
	if (b->metrics.last_idle_ns == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < net_nworkers(b->net); i++)
		b->metrics.last_idle_ns[i] = kp_loop_idle_ns(net_worker_at(b->net, i)->loop);
	b->metrics.last_idle_at_us = kp_now_us();
	b->metrics.http = kp_metrics_http_start(url, metrics_render, b, err, errlen);
	if (b->metrics.http == NULL)
		return -1;
	KP_INFO("metrics at %s (port %d), path /metrics", url,
		kp_metrics_http_port(b->metrics.http));
	return 0;
}

void metrics_stop(struct broker *b)
{
	kp_metrics_http_stop(b->metrics.http);
	b->metrics.http = NULL;
	free(b->metrics.last_idle_ns);
	b->metrics.last_idle_ns = NULL;
}
