/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_metrics.c - kcontroller's Prometheus exposition (ctl_metrics.h),
 * named as Kafka's controller beans become under the Prometheus JMX
 * exporter's usual rules.
 */
#include "config.h"

#include <string.h>

#include "ctl_ctx.h"
#include "ctl_metrics.h"
#include "kp_log.h"
#include "kp_zk.h"

void ctl_metrics_publish(struct controller *c)
{
	struct ctl_metrics *m = &c->metrics;
	int64_t offline = 0, imbalance = 0, parts = 0, topics = 0;
	bool active = ctl_ctx_active(c);

	if (active) {
		for (int i = 0; i < c->ntopics; i++) {
			const struct c_topic *t = c->topics[i];

			if (t->deleting)
				continue;
			topics++;
			for (int32_t p = 0; p < t->nparts; p++) {
				const struct c_part *cp = &t->parts[p];

				parts++;
				if (cp->leader < 0 || !ctl_ctx_live(c, cp->leader))
					offline++;
				else if (cp->replicas.n > 0 && cp->leader != cp->replicas.ids[0])
					imbalance++;
			}
		}
	}
	atomic_store(&m->active, active ? 1 : 0);
	atomic_store(&m->offline, offline);
	atomic_store(&m->imbalance, imbalance);
	atomic_store(&m->partitions, parts);
	atomic_store(&m->topics, topics);
	atomic_store(&m->brokers, active ? c->nbrokers : 0);
}

static void gauge(struct kp_mtext *t, const char *name, const char *help, int64_t v)
{
	kp_mtext_family(t, name, "gauge", help);
	kp_mtext_sample(t, name, NULL, 0, (double)v);
}

void ctl_metrics_render(struct kp_mtext *t, void *arg)
{
	struct controller *c = arg;
	struct ctl_metrics *m = &c->metrics;
	struct kp_mhist_sum s;

	gauge(t, "kafka_controller_kafkacontroller_activecontrollercount",
	      "1 on the active controller, 0 on a standby", atomic_load(&m->active));
	gauge(t, "kafka_controller_kafkacontroller_offlinepartitionscount",
	      "Partitions without a live leader (active controller only)",
	      atomic_load(&m->offline));
	gauge(t, "kafka_controller_kafkacontroller_preferredreplicaimbalancecount",
	      "Partitions led by another replica than their preferred (first) one",
	      atomic_load(&m->imbalance));
	gauge(t, "kafka_controller_kafkacontroller_globalpartitioncount",
	      "Partitions of the cluster's topics not being deleted",
	      atomic_load(&m->partitions));
	gauge(t, "kafka_controller_kafkacontroller_globaltopiccount",
	      "Topics of the cluster not being deleted", atomic_load(&m->topics));
	gauge(t, "kafka_controller_kafkacontroller_activebrokercount",
	      "Live brokers the active controller knows", atomic_load(&m->brokers));
	memset(&s, 0, sizeof(s));
	kp_mhist_sum_add(&s, &m->elections);
	kp_mtext_family(t, "kafka_controller_controllerstats_leaderelectionrateandtimems",
			"histogram", "Milliseconds each leader election took (its ZooKeeper write)");
	kp_mtext_hist(t, "kafka_controller_controllerstats_leaderelectionrateandtimems",
		      NULL, 0, &s);
	kp_mtext_family(t, "kafka_controller_controllerstats_uncleanleaderelections_total",
			"counter", "Leaders elected out of the ISR");
	kp_mtext_sample(t, "kafka_controller_controllerstats_uncleanleaderelections_total",
			NULL, 0, (double)kp_mctr_get(&m->unclean_elections));
	kp_zk_metrics(t, c->zk);
	kp_mtext_process(t);
}

int ctl_metrics_start(struct controller *c, char *err, size_t errlen)
{
	const char *url = kp_config_str(&c->cfg, "metrics.listener");

	if (url == NULL || url[0] == '\0')
		return 0;
	c->metrics.http = kp_metrics_http_start(url, ctl_metrics_render, c, err, errlen);
	if (c->metrics.http == NULL)
		return -1;
	KP_INFO("metrics at %s (port %d), path /metrics", url,
		kp_metrics_http_port(c->metrics.http));
	return 0;
}

void ctl_metrics_stop(struct controller *c)
{
	kp_metrics_http_stop(c->metrics.http);
	c->metrics.http = NULL;
}
