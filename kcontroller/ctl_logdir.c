/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_logdir.c - see ctl_logdir.h.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "ctl_batch.h"
#include "ctl_ctx.h"
#include "ctl_event.h"
#include "ctl_logdir.h"
#include "ctl_partition.h"
#include "ctl_zk.h"
#include "kp_log.h"
#include "kp_zk.h"

#define EVENT_DIR "/log_dir_event_notification"
#define LOG_DIR_FAILURE 1

/* The integer after "key": in a flat JSON object, or -1. */
static long json_int(const char *data, size_t len, const char *key)
{
	char buf[256], pat[32];
	const char *at;
	char *end;
	long v;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, data, len);
	buf[len] = 0;
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	at = strstr(buf, pat);
	if (at == NULL)
		return -1;
	at += strlen(pat);
	while (*at == ' ' || *at == '\t' || *at == '\n' || *at == '\r')
		at++;
	if (*at++ != ':')
		return -1;
	while (*at == ' ' || *at == '\t' || *at == '\n' || *at == '\r')
		at++;
	errno = 0;
	v = strtol(at, &end, 10);
	if (end == at || errno != 0 || v < 0 || v > INT32_MAX)
		return -1;
	return v;
}

/* The broker id of one notification ({"version":1,"broker":<id>,
 * "event":1}), or -1 (malformed or another event: logged). */
static int32_t event_broker(const char *data, int32_t len, const char *path)
{
	long b, e;

	if (data == NULL || len <= 0)
		return -1;
	b = json_int(data, (size_t)len, "broker");
	e = json_int(data, (size_t)len, "event");
	if (b < 0 || e != LOG_DIR_FAILURE) {
		KP_WARN("%s: not a log dir failure event; ignored", path);
		return -1;
	}
	return (int32_t)b;
}

/* Every replica broker has: LeaderAndIsr, so the offline ones answer. */
static void ask_broker(struct controller *c, int32_t broker)
{
	for (int i = 0; i < c->ntopics; i++) {
		struct c_topic *t = c->topics[i];

		if (t->deleting)
			continue;
		for (int32_t p = 0; p < t->nparts; p++)
			if (t->parts[p].has_state &&
			    ctl_ctx_in_list(&t->parts[p].replicas, broker))
				ctl_batch_lai(c, broker, t, p, false);
	}
}

void ctl_logdir_event(struct controller *c)
{
	struct kp_zk_result res;
	int rc = ctl_zk_read(c, KP_ZK_READ_CHILDREN, EVENT_DIR, true, &res);

	for (int32_t i = 0; rc == KP_ZK_OK && ctl_ctx_active(c) && i < res.nchildren; i++) {
		struct kp_zk_result data;
		char path[512];
		int32_t broker;

		snprintf(path, sizeof(path), "%s/%s", EVENT_DIR, res.children[i]);
		if (kp_zk_get_sync(c->zk, path, &data) == KP_ZK_OK) {
			broker = event_broker(data.data, data.len, path);
			if (broker >= 0 && ctl_ctx_live(c, broker)) {
				KP_WARN("broker %d has an offline log dir: asking it "
					"which replicas are offline", broker);
				ask_broker(c, broker);
			}
		}
		kp_zk_result_free(&data);
		kp_zk_delete_sync(c->zk, path, -1);
	}
	kp_zk_result_free(&res);
	ctl_batch_flush(c);
}

void ctl_logdir_lai_response(struct controller *c, const struct ctl_event *ev)
{
	int32_t broker = ev->u.lai.broker;

	if (ev->u.lai.error != 0)
		return;
	/* replicas in an offline log dir: leadership moves away (Kafka's
	 * LeaderAndIsrResponseReceived) */
	for (int32_t i = 0; i < ev->u.lai.nstorage; i++) {
		const struct ctl_lai_error *e = &ev->u.lai.storage[i];
		struct c_topic *t = e->topic != NULL ? ctl_ctx_topic(c, e->topic)
						     : ctl_ctx_topic_by_id(c, &e->topic_id);

		if (t != NULL && !t->deleting && e->partition >= 0 &&
		    e->partition < t->nparts)
			ctl_logdir_replica_offline(c, broker, t, e->partition);
	}
	if (ev->u.lai.nstorage > 0)
		ctl_batch_flush(c);
}

void ctl_logdir_replica_offline(struct controller *c, int32_t broker,
				struct c_topic *t, int32_t p)
{
	struct c_part *cp = &t->parts[p];
	int32_t *ids;

	if (!ctl_ctx_live(c, broker) || ctl_ctx_in_list(&cp->dir_offline, broker))
		return;
	ids = realloc(cp->dir_offline.ids, sizeof(*ids) * (size_t)(cp->dir_offline.n + 1));
	if (ids == NULL) {
		KP_ERROR("%s-%d: out of memory marking broker %d's replica offline",
			 t->name, p, broker);
		return;
	}
	ids[cp->dir_offline.n++] = broker;
	cp->dir_offline.ids = ids;
	KP_WARN("%s-%d: broker %d's replica is in an offline log dir", t->name, p,
		broker);
	ctl_partition_replica_offline(c, t, p);
}

void ctl_logdir_broker_started(struct controller *c, int32_t broker)
{
	for (int i = 0; i < c->ntopics; i++)
		for (int32_t p = 0; p < c->topics[i]->nparts; p++) {
			struct kp_replicas *l = &c->topics[i]->parts[p].dir_offline;

			for (int32_t k = 0; k < l->n; k++)
				if (l->ids[k] == broker) {
					l->ids[k] = l->ids[--l->n];
					break;
				}
		}
}
