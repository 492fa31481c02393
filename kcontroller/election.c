/* SPDX-License-Identifier: Apache-2.0 */
/*
 * election.c - leader elections an operator asks for, and the ones that
 * keep leadership where the assignment wants it:
 *
 *  - preferred election: leadership back to the first replica of the
 *    assignment when it is alive and in sync (ElectLeaders type 0,
 *    /admin/preferred_replica_election, auto rebalance);
 *  - unclean election (ElectLeaders type 1): a partition without a live
 *    leader gets one even when no in-sync replica is alive - the first
 *    live replica, whose log then decides what the partition holds (data
 *    only the old ISR had is lost; the operator asked for it);
 *  - auto rebalance (auto.leader.rebalance.enable): every
 *    leader.imbalance.check.interval.seconds, a broker that leads fewer
 *    than (100 - leader.imbalance.per.broker.percentage) % of the
 *    partitions it is preferred for gets them back, so a broker that
 *    restarted does not leave another one a hot spot.
 *
 * Everything runs on the controller's event thread; elections go through
 * the partition state machine (ctl_partition_elect: fenced, conditional
 * writes, LeaderAndIsr to the replicas), requests through the batch.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_batch.h"
#include "ctl_ctx.h"
#include "ctl_event.h"
#include "ctl_partition.h"
#include "ctl_zk.h"
#include "election.h"
#include "kp_answer.h"
#include "kp_arena.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "kp_zk.h"
#include "kp_zkdata.h"

#define PREFERRED_ZNODE "/admin/preferred_replica_election"

enum { ELECT_PREFERRED = 0, ELECT_UNCLEAN = 1 };

kp_err_t election_preferred(struct controller *c, struct c_topic *t, int32_t p,
			    const char **why)
{
	bool reread = false;

	*why = NULL;
	for (int attempt = 0; attempt < 3; attempt++) {
		struct c_part *cp = &t->parts[p];
		int32_t pref;
		int rc;

		if (!cp->has_state || cp->replicas.n == 0) {
			*why = "the partition has no leader state yet";
			return KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE;
		}
		pref = cp->replicas.ids[0];
		if (cp->leader == pref)
			return KP_ERR_ELECTION_NOT_NEEDED;
		if (!ctl_ctx_eligible(c, pref)) {
			*why = ctl_ctx_live(c, pref) ? "the preferred replica is shutting down"
					      : "the preferred replica is not alive";
			return KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE;
		}
		if (!ctl_ctx_in_list(&cp->isr, pref) && !reread && c->zk != NULL) {
			/* our ISR may lag the leader's, whose change notices
			 * come in batches up to 7.5 s late: ZooKeeper's state
			 * decides, as Kafka reads it before it elects */
			reread = true;
			if (ctl_zk_read_state(c, t, p) == MOVED)
				return KP_ERR_NOT_CONTROLLER;
			attempt--;
			continue;
		}
		if (!ctl_ctx_in_list(&cp->isr, pref)) {
			*why = "the preferred replica is not in the ISR";
			return KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE;
		}
		rc = ctl_partition_elect(c, t, p, pref, cp->isr.ids, cp->isr.n);
		if (rc == -EAGAIN)
			continue;	/* re-read: decide again */
		if (rc == MOVED)
			return KP_ERR_NOT_CONTROLLER;
		if (rc < 0) {
			*why = rc == -EINVAL ? "the partition's state allows no election"
			       : "writing the partition state to ZooKeeper failed";
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		}
		KP_INFO("%s-%d: preferred replica %d leads (epoch %d)", t->name, p,
			pref, cp->leader_epoch);
		return 0;
	}
	*why = "the partition state kept changing";
	return KP_ERR_UNKNOWN_SERVER_ERROR;
}

/*
 * Unclean election of one partition: nothing to do while its leader is
 * alive; otherwise the first live in-sync replica, else the first live
 * replica whatever its log (ISR := just it).
 */
static kp_err_t elect_unclean(struct controller *c, struct c_topic *t, int32_t p,
			      const char **why)
{
	*why = NULL;
	for (int attempt = 0; attempt < 3; attempt++) {
		struct c_part *cp = &t->parts[p];
		int32_t leader, *isr, nisr = 0;
		bool unclean;
		int rc;

		if (!cp->has_state) {
			*why = "the partition has no leader state yet";
			return KP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE;
		}
		if (cp->leader >= 0 && ctl_ctx_live(c, cp->leader))
			return KP_ERR_ELECTION_NOT_NEEDED;
		leader = ctl_partition_offline_leader(c, cp, true, &unclean);
		if (leader < 0) {
			*why = "no replica of the partition is alive";
			return KP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE;
		}
		isr = calloc((size_t)cp->isr.n + 1, sizeof(*isr));
		if (isr == NULL)
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		if (!unclean) {
			for (int32_t i = 0; i < cp->isr.n; i++)
				if (ctl_ctx_eligible(c, cp->isr.ids[i]))
					isr[nisr++] = cp->isr.ids[i];
		} else {
			isr[nisr++] = leader;
		}
		rc = ctl_partition_elect(c, t, p, leader, isr, nisr);
		free(isr);
		if (rc == 0 && unclean)
			kp_mctr_add(&c->metrics.unclean_elections, 1);
		if (rc == -EAGAIN)
			continue;
		if (rc == MOVED)
			return KP_ERR_NOT_CONTROLLER;
		if (rc < 0) {
			*why = rc == -EINVAL ? "the partition's state allows no election"
			       : "writing the partition state to ZooKeeper failed";
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		}
		if (!unclean)
			KP_INFO("%s-%d: leader %d (epoch %d)", t->name, p, leader,
				cp->leader_epoch);
		else
			KP_WARN("%s-%d: unclean election of broker %d, which was not "
				"in the ISR (epoch %d): records only the ISR had are lost",
				t->name, p, leader, cp->leader_epoch);
		ctl_batch_um(c, t, p);
		return 0;
	}
	*why = "the partition state kept changing";
	return KP_ERR_UNKNOWN_SERVER_ERROR;
}

/* --------------------------------------------------------- ElectLeaders */

static kp_str arena_msg(struct kp_arena *a, const char *s)
{
	char *d;

	if (s == NULL || (d = kp_arena_strndup(a, s, strlen(s))) == NULL)
		return KP_STR_NULL;
	return (kp_str){ d, (int32_t)strlen(d) };
}

static kp_err_t elect_one(struct controller *c, int8_t type, const char *topic,
			  int32_t p, const char **why)
{
	struct c_topic *t = ctl_ctx_topic(c, topic);

	*why = NULL;
	if (!ctl_ctx_active(c))
		return KP_ERR_NOT_CONTROLLER;	/* resigned during this request */
	if (t == NULL || t->deleting || p < 0 || p >= t->nparts) {
		*why = t != NULL && t->deleting ? "the topic is being deleted" : NULL;
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	return type == ELECT_PREFERRED ? election_preferred(c, t, p, why)
				       : elect_unclean(c, t, p, why);
}

void election_elect_leaders(struct controller *c, int16_t version,
			    const struct kp_elect_leaders_req *req,
			    struct kp_elect_leaders_resp *resp, struct kp_arena *a)
{
	struct kp_elect_leaders_resp_replica_election_result *res;
	int8_t type = version >= 1 ? req->election_type : ELECT_PREFERRED;
	bool all = req->topic_partitions_count < 0;
	int32_t ntopics = all ? c->ntopics : req->topic_partitions_count;
	int elected = 0;

	resp->replica_election_results_count = 0;
	if (!ctl_ctx_active(c) || (type != ELECT_PREFERRED && type != ELECT_UNCLEAN)) {
		(void)kp_answer_elect_leaders(req, !ctl_ctx_active(c)
					      ? KP_ERR_NOT_CONTROLLER
					      : KP_ERR_INVALID_REQUEST, resp, a);
		return;
	}
	res = kp_arena_calloc(a, (size_t)ntopics + 1, sizeof(*res));
	if (res == NULL) {
		resp->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	resp->replica_election_results = res;
	for (int32_t i = 0; i < ntopics; i++) {
		const struct kp_elect_leaders_req_topic_partitions *tp =
			all ? NULL : &req->topic_partitions[i];
		struct c_topic *t = all ? c->topics[i] : NULL;
		char name[256];
		int32_t np;
		struct kp_elect_leaders_resp_partition_result *pr;

		if (all && t->deleting)
			continue;
		if (all)
			snprintf(name, sizeof(name), "%s", t->name);
		else
			snprintf(name, sizeof(name), "%.*s", tp->topic.len > 0
				 ? (int)tp->topic.len : 0, tp->topic.ptr);
		np = all ? t->nparts : (tp->partitions_count > 0 ? tp->partitions_count : 0);
		pr = kp_arena_calloc(a, (size_t)np + 1, sizeof(*pr));
		if (pr == NULL) {
			resp->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
			break;
		}
		kp_struct_init(&kp_elect_leaders_resp_replica_election_result_desc,
			       &res[resp->replica_election_results_count]);
		res[resp->replica_election_results_count].topic =
			all ? arena_msg(a, name) : tp->topic;
		for (int32_t j = 0; j < np; j++) {
			int32_t p = all ? j : tp->partitions[j];
			const char *why;

			kp_struct_init(&kp_elect_leaders_resp_partition_result_desc, &pr[j]);
			pr[j].partition_id = p;
			pr[j].error_code = elect_one(c, type, name, p, &why);
			pr[j].error_message = arena_msg(a, why);
			elected += pr[j].error_code == 0;
			if (pr[j].error_code == KP_ERR_NOT_CONTROLLER)
				resp->error_code = KP_ERR_NOT_CONTROLLER;
			/* every election's LeaderAndIsr goes out in a few
			 * requests, but not in one for thousands of them */
			if (ctl_batch_full(c))
				ctl_batch_flush(c);
		}
		res[resp->replica_election_results_count].partition_result = pr;
		res[resp->replica_election_results_count].partition_result_count = np;
		resp->replica_election_results_count++;
	}
	ctl_batch_flush(c);
	KP_INFO("ElectLeaders (%s): %d partition(s) got a new leader",
		type == ELECT_PREFERRED ? "preferred" : "unclean", elected);
}

/* --------------------------------------- /admin/preferred_replica_election */

void election_preferred_znode(struct controller *c)
{
	struct kp_zk_result res;
	struct kp_zk_tp_list l;
	struct kp_zk_op op;
	char err[256];
	int rc, n = 0;

	rc = ctl_zk_read(c, KP_ZK_READ_EXISTS, PREFERRED_ZNODE, true, &res);
	kp_zk_result_free(&res);
	if (rc != KP_ZK_OK || !ctl_ctx_active(c))
		return;
	rc = kp_zk_get_sync(c->zk, PREFERRED_ZNODE, &res);
	if (rc == KP_ZK_OK && res.data != NULL &&
	    kp_zk_tp_list_decode(res.data, (size_t)res.len, false, &l, err,
				 sizeof(err)) == 0) {
		for (size_t i = 0; i < l.n && ctl_ctx_active(c); i++) {
			const char *why;
			int16_t e = elect_one(c, ELECT_PREFERRED, l.items[i].topic,
					      l.items[i].partition, &why);

			n += e == 0;
			if (e != 0 && e != KP_ERR_ELECTION_NOT_NEEDED)
				KP_WARN("preferred election of %s-%d: %s%s%s",
					l.items[i].topic, l.items[i].partition,
					kp_err_name(e), why ? ": " : "", why ? why : "");
		}
		kp_zk_tp_list_free(&l);
		KP_INFO("%s: %d partition(s) moved to their preferred replica",
			PREFERRED_ZNODE, n);
	} else if (rc == KP_ZK_OK) {
		KP_WARN("%s: cannot parse it (%s); removing it", PREFERRED_ZNODE,
			res.data == NULL ? "no data" : err);
	}
	kp_zk_result_free(&res);
	ctl_batch_flush(c);
	if (!ctl_ctx_active(c))
		return;
	/* done: the node goes, as Kafka removes it once acted on */
	op = (struct kp_zk_op){ .type = KP_ZK_OP_DELETE, .path = PREFERRED_ZNODE,
				.version = -1 };
	ctl_zk_fenced(c, &op, 1, &res);
	kp_zk_result_free(&res);
}

/* ------------------------------------------------------- auto rebalance */

void election_rebalance_schedule(struct controller *c)
{
	int64_t s = kp_config_long(&c->cfg, "leader.imbalance.check.interval.seconds");

	ctl_event_unschedule(c->events, CTL_EV_AUTO_REBALANCE);
	if (!ctl_ctx_active(c) || !kp_config_bool(&c->cfg, "auto.leader.rebalance.enable"))
		return;
	ctl_event_schedule(c->events, ctl_event_new(CTL_EV_AUTO_REBALANCE), s * 1000);
}

static bool rebalance_candidate(const struct c_topic *t, const struct c_part *cp)
{
	return !t->deleting && cp->has_state && cp->replicas.n > 0 &&
	       !ctl_ctx_reassigning(cp);
}

void election_rebalance_run(struct controller *c)
{
	int pct = kp_config_int(&c->cfg, "leader.imbalance.per.broker.percentage");
	int moved = 0;

	if (!ctl_ctx_active(c))
		return;
	for (int b = 0; b < c->nbrokers && ctl_ctx_active(c); b++) {
		int32_t id = c->brokers[b].id;
		int64_t total = 0, off = 0;

		if (!ctl_ctx_eligible(c, id))
			continue;
		for (int i = 0; i < c->ntopics; i++) {
			const struct c_topic *t = c->topics[i];

			for (int32_t p = 0; p < t->nparts; p++) {
				const struct c_part *cp = &t->parts[p];

				if (!rebalance_candidate(t, cp) || cp->replicas.ids[0] != id)
					continue;
				total++;
				off += cp->leader != id;
			}
		}
		/* Kafka's test: the imbalance ratio above the percentage */
		if (total == 0 || off * 100 <= (int64_t)pct * total)
			continue;
		KP_INFO("broker %d leads %" PRId64 " of the %" PRId64 " partitions it is "
			"preferred for: moving them back", id, total - off, total);
		for (int i = 0; i < c->ntopics && ctl_ctx_active(c); i++) {
			struct c_topic *t = c->topics[i];

			for (int32_t p = 0; ctl_ctx_active(c) && p < t->nparts; p++) {
				struct c_part *cp = &t->parts[p];
				const char *why;

				if (!rebalance_candidate(t, cp) || cp->replicas.ids[0] != id ||
				    cp->leader == id || !ctl_ctx_in_list(&cp->isr, id))
					continue;
				moved += election_preferred(c, t, p, &why) == 0;
				if (ctl_batch_full(c))
					ctl_batch_flush(c);
			}
		}
	}
	ctl_batch_flush(c);
	if (moved > 0)
		KP_INFO("auto rebalance: %d partition(s) back on their preferred replica",
			moved);
	election_rebalance_schedule(c);
}
