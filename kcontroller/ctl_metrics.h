/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_metrics.h - kcontroller's metrics.
 *
 * The controller's context belongs to its event thread, so the thread
 * publishes what a scrape shows - whether it is the active controller,
 * its offline, imbalanced and total partition counts (Kafka's
 * KafkaController gauges; 0 on a standby, as Kafka's) - into atomics after
 * every event, and counts elections (their ZooKeeper write timed, Kafka's
 * ControllerStats) as it makes them.  The HTTP thread (kp_metrics) reads
 * those and nothing else of the controller.
 */
#ifndef CTL_METRICS_H
#define CTL_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_metrics.h"

struct controller;

struct ctl_metrics {
	_Atomic int64_t active, offline, imbalance, partitions, topics, brokers;
	kp_mctr unclean_elections;	/* event thread */
	struct kp_mhist elections;	/* event thread: each election's time */
	struct kp_metrics_http *http;
};

/* After an event, on the event thread. */
void ctl_metrics_publish(struct controller *c);
/* Serve metrics.listener if set: 0, or -1 with a message. */
int ctl_metrics_start(struct controller *c, char *err, size_t errlen);
void ctl_metrics_stop(struct controller *c);
void ctl_metrics_render(struct kp_mtext *t, void *controller);

#endif /* CTL_METRICS_H */
