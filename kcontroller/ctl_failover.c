/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_failover.c - the controller election: standing for it, becoming
 * active, resigning; see ctl_failover.h.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_batch.h"
#include "ctl_broker.h"
#include "ctl_authz.h"
#include "ctl_ctx.h"
#include "ctl_event.h"
#include "ctl_logdir.h"
#include "ctl_failover.h"
#include "ctl_partition.h"
#include "ctl_topic.h"
#include "ctl_zk.h"
#include "election.h"
#include "kp_log.h"
#include "kp_notify.h"
#include "kp_zkdata.h"
#include "reassign.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A child watch needs its parent: brokers make these too.  Created (or
 * found) in one pipelined round trip, parents first (a session's requests
 * are handled in order), not one round trip per path component.
 */
static void ensure_paths(struct controller *c)
{
	static const char *const paths[] = {
		"/brokers", "/brokers/ids", "/brokers/topics", "/admin",
		"/admin/delete_topics", "/isr_change_notification",
		"/log_dir_event_notification",
	};
	enum { N = sizeof(paths) / sizeof(paths[0]) };
	struct kp_zk_batch_item it[N];

	memset(it, 0, sizeof(it));
	for (int i = 0; i < N; i++) {
		it[i].kind = KP_ZK_BATCH_CREATE;
		it[i].path = paths[i];
	}
	kp_zk_batch_sync(c->zk, it, N);
	for (int i = 0; i < N; i++) {
		if (it[i].res.rc != KP_ZK_OK && it[i].res.rc != KP_ZK_NODEEXISTS)
			KP_WARN("creating %s: %s", paths[i], kp_zk_strerror(it[i].res.rc));
		kp_zk_result_free(&it[i].res);
	}
}

static void become_active(struct controller *c)
{
	struct kp_zk_result res;
	int64_t started = now_ms(), read_ms, states_ms;
	int rc;

	KP_INFO("active controller, epoch %d", c->epoch);
	ctl_ctx_clear(c);
	ctl_batch_reset(c);
	ensure_paths(c);
	/* as Kafka: what the notifications announce is in the states read
	 * below; new ones from now on are read once we are in charge */
	ctl_partition_isr_change_drop(c);
	/* watches before reading, so nothing is missed */
	if (ctl_zk_read_brokers(c, &c->brokers, &c->nbrokers) < 0)
		goto fail;
	rc = ctl_zk_read(c, KP_ZK_READ_CHILDREN, "/brokers/topics", true, &res);
	if (rc != KP_ZK_OK && rc != KP_ZK_NONODE) {
		kp_zk_result_free(&res);
		goto fail;
	}
	if (rc == KP_ZK_OK && res.nchildren > 0) {
		struct c_topic **ts = calloc((size_t)res.nchildren, sizeof(*ts));

		if (ts == NULL || ctl_zk_load_topics(c, res.children, res.nchildren, ts) < 0) {
			free(ts);
			kp_zk_result_free(&res);
			goto fail;
		}
		for (int32_t i = 0; i < res.nchildren; i++)
			if (ts[i] != NULL && ctl_ctx_topic_insert(c, ts[i]) < 0) {
				ctl_ctx_topic_free(ts[i]);
				ts[i] = NULL;
			}
		free(ts);
	}
	kp_zk_result_free(&res);
	states_ms = now_ms();
	if (ctl_zk_read_states(c, c->topics, c->ntopics) == MOVED)
		return;
	read_ms = now_ms() - started;
	states_ms = now_ms() - states_ms;
	/* each partition in the state its znode says */
	for (int i = 0; i < c->ntopics; i++)
		ctl_partition_load(c, c->topics[i]);
	ctl_broker_connect(c);
	/* brokers must know the live brokers before they act on roles */
	ctl_batch_brokers(c);
	ctl_batch_flush(c);
	/*
	 * Kafka sends every replica its partition's state before the
	 * elections, then what the elections changed.  Here the elections
	 * (new partitions, dead leaders, dead brokers leaving ISRs: a broker
	 * gone before we took over) come first, and every replica learns the
	 * state they left in the same LeaderAndIsr as everything else, each
	 * broker every partition in one UpdateMetadata: the brokers get the
	 * same final states, half the requests, and the new leaders sooner
	 * (an entry naming a dead leader was stale on arrival).  A state
	 * written by the elections (our epoch in it) had its LeaderAndIsr
	 * batched then, and is not sent twice.
	 */
	ctl_partition_online(c);
	for (int i = 0; i < c->ntopics; i++)
		for (int32_t p = 0; p < c->topics[i]->nparts; p++)
			if (c->topics[i]->parts[p].has_state && !c->topics[i]->deleting &&
			    c->topics[i]->parts[p].ctl_epoch != c->epoch)
				ctl_batch_lai_replicas(c, c->topics[i], p, false);
	ctl_batch_flush(c);
	ctl_topic_deletion(c);
	/* as Kafka's IsrChangeNotification handler: the notifications that
	 * came while the states were read are an event of their own, after
	 * any broker change that came meanwhile (a broker that died during
	 * the takeover gets its new leaders without waiting for them) */
	ctl_event_put(c->events, ctl_event_new(CTL_EV_ISR_CHANGE));
	ctl_logdir_event(c);
	reassign_resume(c);
	reassign_znode(c);
	election_preferred_znode(c);
	election_rebalance_schedule(c);
	if (ctl_ctx_active(c)) {
		int64_t nparts = 0;

		for (int i = 0; i < c->ntopics; i++)
			nparts += c->topics[i]->nparts;
		KP_INFO("in charge: %d topics, %" PRId64 " partitions, %d brokers "
			"(%" PRId64 " ms after winning the election; %" PRId64 " ms "
			"reading the cluster from ZooKeeper, of which %" PRId64 " ms the "
			"partition states)", c->ntopics, nparts, c->nbrokers,
			now_ms() - started, read_ms, states_ms);
	}
	return;
fail:
	KP_ERROR("cannot read the cluster state from ZooKeeper: resigning");
	ctl_ctx_resign_later(c);
}

/* Kafka's election: bump /controller_epoch and create /controller at once. */
static void elect(struct controller *c)
{
	struct kp_zk_result res;
	struct kp_zk_op ops[2];
	char epoch_buf[16], *json;
	int32_t epoch = 0, version;
	int rc = kp_zk_get_sync(c->zk, "/controller_epoch", &res);

	if (rc == KP_ZK_NONODE) {
		kp_zk_result_free(&res);
		rc = kp_zk_create_sync(c->zk, "/controller_epoch", "0", 1,
				       KP_ZK_PERSISTENT, NULL);
		if (rc != KP_ZK_OK && rc != KP_ZK_NODEEXISTS) {
			KP_ERROR("creating /controller_epoch: %s", kp_zk_strerror(rc));
			return;
		}
		rc = kp_zk_get_sync(c->zk, "/controller_epoch", &res);
	}
	if (rc != KP_ZK_OK) {
		KP_ERROR("reading /controller_epoch: %s", kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return;
	}
	if (res.data != NULL)
		epoch = (int32_t)strtol(res.data, NULL, 10);
	version = res.stat.version;
	kp_zk_result_free(&res);
	json = kp_zk_controller_encode(c->id, now_ms(), &c->ep);
	snprintf(epoch_buf, sizeof(epoch_buf), "%d", epoch + 1);
	ops[0] = (struct kp_zk_op){ .type = KP_ZK_OP_CREATE, .path = "/controller",
				    .data = json, .len = json ? (int32_t)strlen(json) : 0,
				    .mode = KP_ZK_EPHEMERAL };
	ops[1] = (struct kp_zk_op){ .type = KP_ZK_OP_SET, .path = "/controller_epoch",
				    .data = epoch_buf, .len = (int32_t)strlen(epoch_buf),
				    .version = version };
	rc = json != NULL ? kp_zk_multi_sync(c->zk, ops, 2, &res) : -1;
	free(json);
	kp_zk_result_free(&res);
	if (rc != KP_ZK_OK) {
		if (rc != KP_ZK_NODEEXISTS && rc != KP_ZK_BADVERSION)
			KP_WARN("controller election: %s", kp_zk_strerror(rc));
		return;		/* someone else won; the watch tells us more */
	}
	c->role = CTL_ACTIVE;
	c->epoch = epoch + 1;
	c->epoch_zkv = version + 1;
	become_active(c);
}

void ctl_failover_elect(struct controller *c)
{
	struct kp_zk_result res;
	int32_t id = -1;
	char err[128];
	int rc;

	rc = ctl_zk_read(c, KP_ZK_READ_EXISTS, "/controller", true, &res);
	kp_zk_result_free(&res);
	if (rc == KP_ZK_NONODE) {
		if (ctl_ctx_active(c))
			ctl_failover_resign(c);
		elect(c);
		return;
	}
	if (rc != KP_ZK_OK) {
		KP_WARN("watching /controller: %s", kp_zk_strerror(rc));
		return;
	}
	rc = kp_zk_get_sync(c->zk, "/controller", &res);
	if (rc == KP_ZK_OK && res.data != NULL &&
	    kp_zk_controller_decode(res.data, (size_t)res.len, &id, err, sizeof(err)) == 0) {
		if (ctl_ctx_active(c) && id != c->id)
			ctl_failover_resign(c);
		else if (!ctl_ctx_active(c))
			KP_INFO("standing by; the active controller is %d", id);
	}
	kp_zk_result_free(&res);
}

void ctl_failover_resign(struct controller *c)
{
	if (c->role == CTL_STANDBY)
		return;
	KP_INFO("resigning as controller (epoch %d)", c->epoch);
	c->role = CTL_STANDBY;
	if (c->events != NULL)
		ctl_event_unschedule(c->events, CTL_EV_AUTO_REBALANCE);
	ctl_ctx_clear(c);
	if (c->batch != NULL)
		ctl_batch_reset(c);
}

void ctl_failover_expire(struct controller *c)
{
	char err[256];
	int rc;

	ctl_failover_resign(c);
	/* waits until a new session is established, however long the
	 * ensemble takes (Kafka's ZooKeeperClient.reinitialize) */
	rc = kp_zk_reconnect(c->zk, err, sizeof(err));
	if (rc == KP_ZK_CLOSING)
		return;		/* stopping */
	if (rc != 0) {
		KP_ERROR("reconnecting to ZooKeeper: %s", err);
		kp_notifyf("STATUS=not reconnected after a session expiry: %s", err);
		return;
	}
	/* the new session has none of the ACL watches: set again on the
	 * loop, where they fire */
	ctl_authz_restart(c);
	ctl_failover_elect(c);
	kp_notifyf("STATUS=controller %d, in the election", c->id);
}
