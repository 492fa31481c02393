/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_ctl_partition.c - the controller's partition state machine
 * (kcontroller/ctl_partition.c) and its leader choices, on a context built
 * by hand (no ZooKeeper: everything tested here decides before it writes).
 *
 * Every valid transition (Kafka's validPreviousStates) is taken and logged
 * "old -> new"; every invalid one is refused, logged as an error, and
 * leaves the state as it was.  The leader choices follow Kafka's
 * PartitionLeaderElectionAlgorithms: assignment order, live and not
 * shutting down, in the ISR (unclean: any live replica).  Preferred
 * elections that need no write answer without one.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_run.h"
#include "ctl_ctx.h"
#include "ctl_partition.h"
#include "election.h"
#include "kp_answer.h"
#include "kp_arena.h"
#include "kp_codec.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"

/* ------------------------------------------------------------- helpers */

static FILE *logf_;

/* Log lines go to a temporary file, debug level and up. */
static void log_capture(void)
{
	logf_ = tmpfile();
	ck_assert_ptr_nonnull(logf_);
	kp_log_set_fd(fileno(logf_));
	kp_log_set_level(KP_LOG_DEBUG);
}

/* Everything logged since the last call (static buffer). */
static const char *log_take(void)
{
	static char buf[65536];
	size_t n;

	fflush(logf_);
	rewind(logf_);
	n = fread(buf, 1, sizeof(buf) - 1, logf_);
	buf[n] = '\0';
	ck_assert_int_eq(ftruncate(fileno(logf_), 0), 0);
	rewind(logf_);
	return buf;
}

static void log_release(void)
{
	kp_log_set_fd(-1);
	kp_log_set_level(KP_LOG_INFO);
	fclose(logf_);
	logf_ = NULL;
}

/* An active controller with live brokers ids[0..n), no ZooKeeper. */
static struct controller *ctx_new(const int32_t *ids, int n)
{
	struct controller *c = calloc(1, sizeof(*c));

	ck_assert_ptr_nonnull(c);
	c->id = 101;
	c->epoch = 7;
	c->role = CTL_ACTIVE;
	c->brokers = calloc((size_t)n + 1, sizeof(*c->brokers));
	ck_assert_ptr_nonnull(c->brokers);
	for (int i = 0; i < n; i++)
		c->brokers[i].id = ids[i];	/* sorted by the caller */
	c->nbrokers = n;
	return c;
}

static void ctx_free(struct controller *c)
{
	ctl_ctx_clear(c);
	free(c->shutting_down);
	free(c);
}

static void set_list(struct kp_replicas *l, const int32_t *ids, int32_t n)
{
	ctl_ctx_list_set(l, ids, n);
	ck_assert_int_eq(l->n, n);
}

/* Topic "t" of one partition: replicas, ISR, leader (has_state when the
 * ISR is given), in state s. */
static struct c_topic *topic_add(struct controller *c, const int32_t *replicas,
				 int32_t nr, const int32_t *isr, int32_t nisr,
				 int32_t leader, enum ctl_pstate s)
{
	struct c_topic *t = ctl_ctx_topic_new("t", 1);
	struct c_part *cp;

	ck_assert_ptr_nonnull(t);
	cp = &t->parts[0];
	set_list(&cp->replicas, replicas, nr);
	if (isr != NULL) {
		set_list(&cp->isr, isr, nisr);
		cp->has_state = true;
	}
	cp->leader = leader;
	cp->state = s;
	ck_assert_int_eq(ctl_ctx_topic_insert(c, t), 0);
	return t;
}

static const int32_t B123[] = { 1, 2, 3 };

/* ------------------------------------------------------- state machine */

/* Kafka's PartitionStateMachine: the states each one is entered from. */
static const bool expected[CTL_PS_NSTATES][CTL_PS_NSTATES] = {
	/* [from][to]:        NonExistent New    Online Offline */
	[CTL_PS_NONEXISTENT] = { false, true, false, false },
	[CTL_PS_NEW] = { false, false, true, true },
	[CTL_PS_ONLINE] = { false, false, true, true },
	[CTL_PS_OFFLINE] = { true, false, true, true },
};

START_TEST(the_table_is_kafkas)
{
	int nvalid = 0;

	for (int from = 0; from < CTL_PS_NSTATES; from++)
		for (int to = 0; to < CTL_PS_NSTATES; to++) {
			ck_assert_msg(ctl_partition_valid(from, to) == expected[from][to],
				      "%s -> %s", ctl_partition_state_name(from),
				      ctl_partition_state_name(to));
			nvalid += ctl_partition_valid(from, to);
		}
	ck_assert_int_eq(nvalid, 8);
	/* out of range is never valid */
	ck_assert(!ctl_partition_valid(CTL_PS_NSTATES, CTL_PS_NEW));
	ck_assert(!ctl_partition_valid(CTL_PS_NEW, CTL_PS_NSTATES));
	ck_assert_str_eq(ctl_partition_state_name(CTL_PS_NSTATES), "?");
}
END_TEST

START_TEST(every_valid_transition_is_taken_and_logged)
{
	int taken = 0;

	log_capture();
	for (int from = 0; from < CTL_PS_NSTATES; from++)
		for (int to = 0; to < CTL_PS_NSTATES; to++) {
			struct controller *c;
			struct c_topic *t;
			char want[128];
			const char *log;

			if (!expected[from][to])
				continue;
			c = ctx_new(B123, 3);
			t = topic_add(c, B123, 3, B123, 3, 1, from);
			log_take();
			ck_assert(ctl_partition_set_state(c, t, 0, to));
			ck_assert_int_eq(t->parts[0].state, to);
			snprintf(want, sizeof(want), "partition t-0: %s -> %s",
				 ctl_partition_state_name(from),
				 ctl_partition_state_name(to));
			log = log_take();
			ck_assert_msg(strstr(log, want) != NULL, "no \"%s\" in: %s", want, log);
			ck_assert_ptr_null(strstr(log, " ERROR "));
			ctx_free(c);
			taken++;
		}
	ck_assert_int_eq(taken, 8);
	log_release();
}
END_TEST

START_TEST(every_invalid_transition_is_refused_and_logged)
{
	int refused = 0;

	log_capture();
	for (int from = 0; from < CTL_PS_NSTATES; from++)
		for (int to = 0; to < CTL_PS_NSTATES; to++) {
			struct controller *c;
			struct c_topic *t;
			char want[160];
			const char *log;

			if (expected[from][to])
				continue;
			c = ctx_new(B123, 3);
			t = topic_add(c, B123, 3, B123, 3, 1, from);
			log_take();
			ck_assert(!ctl_partition_set_state(c, t, 0, to));
			ck_assert_int_eq(t->parts[0].state, from);	/* kept */
			snprintf(want, sizeof(want), "failed to change state for partition "
				 "t-0 from %s to %s: invalid transition",
				 ctl_partition_state_name(from),
				 ctl_partition_state_name(to));
			log = log_take();
			ck_assert_msg(strstr(log, want) != NULL, "no \"%s\" in: %s", want, log);
			ck_assert_ptr_nonnull(strstr(log, " ERROR "));
			ck_assert_ptr_null(strstr(log, " -> "));
			ctx_free(c);
			refused++;
		}
	ck_assert_int_eq(refused, 8);
	log_release();
}
END_TEST

START_TEST(creating_deleting_and_loading_follow_the_table)
{
	static const int32_t live[] = { 1, 2 };
	struct controller *c = ctx_new(live, 2);
	struct c_topic *t = ctl_ctx_topic_new("t", 3);
	const char *log;

	log_capture();
	ck_assert_int_eq(ctl_ctx_topic_insert(c, t), 0);
	for (int32_t p = 0; p < 3; p++)
		ck_assert_int_eq(t->parts[p].state, CTL_PS_NONEXISTENT);
	ctl_partition_create(c, t, 1, 3);	/* added partitions 1 and 2 */
	ck_assert_int_eq(t->parts[0].state, CTL_PS_NONEXISTENT);
	ck_assert_int_eq(t->parts[1].state, CTL_PS_NEW);
	ck_assert_int_eq(t->parts[2].state, CTL_PS_NEW);
	log_take();
	ctl_partition_create(c, t, 1, 2);	/* New -> New: refused */
	ck_assert_int_eq(t->parts[1].state, CTL_PS_NEW);
	ck_assert_ptr_nonnull(strstr(log_take(), "from NewPartition to NewPartition"));

	/* deletion: whatever the state, Offline then NonExistent */
	t->parts[0].state = CTL_PS_ONLINE;
	ctl_partition_delete(c, t);
	log = log_take();
	for (int32_t p = 0; p < 3; p++)
		ck_assert_int_eq(t->parts[p].state, CTL_PS_NONEXISTENT);
	ck_assert_ptr_nonnull(strstr(log, "t-0: OnlinePartition -> OfflinePartition"));
	ck_assert_ptr_nonnull(strstr(log, "t-0: OfflinePartition -> NonExistentPartition"));
	ck_assert_ptr_nonnull(strstr(log, "t-1: NewPartition -> OfflinePartition"));
	ck_assert_ptr_null(strstr(log, "ERROR"));

	/* loaded from znodes: no state znode New; live leader Online; dead
	 * leader or none Offline; a topic being deleted NonExistent */
	{
		struct c_topic *u = ctl_ctx_topic_new("u", 4);

		ck_assert_int_eq(ctl_ctx_topic_insert(c, u), 0);
		u->parts[1].has_state = true;
		u->parts[1].leader = 2;
		u->parts[2].has_state = true;
		u->parts[2].leader = 3;		/* not live */
		u->parts[3].has_state = true;
		u->parts[3].leader = -1;
		ctl_partition_load(c, u);
		ck_assert_int_eq(u->parts[0].state, CTL_PS_NEW);
		ck_assert_int_eq(u->parts[1].state, CTL_PS_ONLINE);
		ck_assert_int_eq(u->parts[2].state, CTL_PS_OFFLINE);
		ck_assert_int_eq(u->parts[3].state, CTL_PS_OFFLINE);
		u->deleting = true;
		ctl_partition_load(c, u);
		for (int32_t p = 0; p < 4; p++)
			ck_assert_int_eq(u->parts[p].state, CTL_PS_NONEXISTENT);
	}
	log_release();
	ctx_free(c);
}
END_TEST

START_TEST(an_election_the_state_refuses_writes_nothing)
{
	struct controller *c = ctx_new(B123, 3);
	struct c_topic *t = topic_add(c, B123, 3, B123, 3, -1, CTL_PS_NONEXISTENT);
	int32_t isr[] = { 2 };

	/* c->zk is NULL: a write would crash; the refusal comes first */
	log_capture();
	ck_assert_int_eq(ctl_partition_elect(c, t, 0, 2, isr, 1), -EINVAL);
	ck_assert_int_eq(t->parts[0].state, CTL_PS_NONEXISTENT);
	ck_assert_int_eq(t->parts[0].leader, -1);
	ck_assert_ptr_nonnull(strstr(log_take(), "from NonExistentPartition to "
				     "OnlinePartition: invalid transition"));
	log_release();
	ctx_free(c);
}
END_TEST

/* ------------------------------------------------------- leader choice */

START_TEST(offline_leader_is_the_first_eligible_in_sync_replica_in_assignment_order)
{
	static const int32_t live[] = { 1, 2, 3, 4 };
	static const int32_t replicas[] = { 4, 3, 2, 1 };
	static const int32_t isr[] = { 1, 2 };
	struct controller *c = ctx_new(live, 4);
	struct c_topic *t = topic_add(c, replicas, 4, isr, 2, 4, CTL_PS_OFFLINE);
	struct c_part *cp = &t->parts[0];
	bool unclean = true;

	/* assignment order, not ISR order: 2 before 1 */
	ck_assert_int_eq(ctl_partition_offline_leader(c, cp, false, &unclean), 2);
	ck_assert(!unclean);
	/* shutting down: not eligible */
	ck_assert_int_eq(ctl_ctx_add_shutting_down(c, 2), 0);
	ck_assert_int_eq(ctl_partition_offline_leader(c, cp, false, NULL), 1);
	/* no eligible in-sync replica: none when clean */
	ck_assert_int_eq(ctl_ctx_add_shutting_down(c, 1), 0);
	ck_assert_int_eq(ctl_partition_offline_leader(c, cp, false, &unclean), -1);
	ck_assert(!unclean);
	/* unclean: the first eligible replica, out of the ISR */
	ck_assert_int_eq(ctl_partition_offline_leader(c, cp, true, &unclean), 4);
	ck_assert(unclean);
	/* dead brokers are never picked */
	c->nbrokers = 2;	/* only 1 and 2 live, both shutting down */
	ck_assert_int_eq(ctl_partition_offline_leader(c, cp, true, &unclean), -1);
	ck_assert(!unclean);
	c->nbrokers = 4;
	ctx_free(c);
}
END_TEST

START_TEST(reassign_leader_stays_in_the_target_or_moves_into_it)
{
	static const int32_t live[] = { 1, 2, 3, 4, 5 };
	static const int32_t rs[] = { 4, 5, 1, 2 };
	static const int32_t isr[] = { 1, 2, 5 };
	static const int32_t tgt[] = { 4, 5, 1 };
	struct controller *c = ctx_new(live, 5);
	struct c_topic *t = topic_add(c, rs, 4, isr, 3, 1, CTL_PS_ONLINE);
	struct c_part *cp = &t->parts[0];
	struct kp_replicas target = { (int32_t *)tgt, 3 };
	struct kp_replicas moved = { (int32_t *)tgt, 2 };	/* [4, 5] */

	/* the leader (1) stays in the target */
	ck_assert_int_eq(ctl_partition_reassign_leader(c, cp, &target), 1);
	/* it leaves: the first in-sync target replica (4 is not in sync) */
	ck_assert_int_eq(ctl_partition_reassign_leader(c, cp, &moved), 5);
	/* 5 shuts down: nobody in sync in the target */
	ck_assert_int_eq(ctl_ctx_add_shutting_down(c, 5), 0);
	ck_assert_int_eq(ctl_partition_reassign_leader(c, cp, &moved), -1);
	ctx_free(c);
}
END_TEST

START_TEST(preferred_elections_that_need_no_write_answer_at_once)
{
	static const int32_t live[] = { 1, 2 };
	static const int32_t isr2[] = { 2 };
	static const int32_t isr12[] = { 1, 2 };
	struct controller *c = ctx_new(live, 2);
	struct c_topic *t = topic_add(c, B123, 3, isr12, 2, 1, CTL_PS_ONLINE);
	struct c_part *cp = &t->parts[0];
	const char *why;

	/* c->zk is NULL: none of these may write */
	ck_assert_int_eq(election_preferred(c, t, 0, &why), KP_ERR_ELECTION_NOT_NEEDED);
	cp->leader = 2;
	set_list(&cp->isr, isr2, 1);
	ck_assert_int_eq(election_preferred(c, t, 0, &why),
			 KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE);
	ck_assert_str_eq(why, "the preferred replica is not in the ISR");
	ck_assert_int_eq(ctl_ctx_add_shutting_down(c, 1), 0);
	ck_assert_int_eq(election_preferred(c, t, 0, &why),
			 KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE);
	ck_assert_str_eq(why, "the preferred replica is shutting down");
	c->nshutting_down = 0;
	c->brokers[0].id = 3;	/* broker 1 gone, 3 up (still sorted) */
	{
		struct c_broker tmp = c->brokers[0];

		c->brokers[0] = c->brokers[1];
		c->brokers[1] = tmp;
	}
	ck_assert_int_eq(election_preferred(c, t, 0, &why),
			 KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE);
	ck_assert_str_eq(why, "the preferred replica is not alive");
	cp->has_state = false;
	ck_assert_int_eq(election_preferred(c, t, 0, &why),
			 KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE);
	ck_assert_str_eq(why, "the partition has no leader state yet");
	ctx_free(c);
}
END_TEST

START_TEST(elect_leaders_refused_fills_every_listed_partition)
{
	struct kp_arena a;
	struct kp_elect_leaders_req req;
	struct kp_elect_leaders_resp resp;
	struct kp_elect_leaders_req_topic_partitions tp[2];
	int32_t p0[] = { 0, 3 }, p1[] = { 7 };

	kp_arena_init(&a, 0);
	memset(&req, 0, sizeof(req));
	memset(tp, 0, sizeof(tp));
	tp[0].topic = kp_str_c("a");
	tp[0].partitions = p0;
	tp[0].partitions_count = 2;
	tp[1].topic = kp_str_c("b");
	tp[1].partitions = p1;
	tp[1].partitions_count = 1;
	req.topic_partitions = tp;
	req.topic_partitions_count = 2;
	kp_struct_init(&kp_elect_leaders_resp_desc, &resp);
	ck_assert(kp_answer_elect_leaders(&req, KP_ERR_NOT_CONTROLLER, &resp, &a));
	ck_assert_int_eq(resp.error_code, KP_ERR_NOT_CONTROLLER);
	ck_assert_int_eq(resp.replica_election_results_count, 2);
	ck_assert(kp_str_eqc(resp.replica_election_results[1].topic, "b"));
	ck_assert_int_eq(resp.replica_election_results[0].partition_result_count, 2);
	ck_assert_int_eq(resp.replica_election_results[0].partition_result[1].partition_id, 3);
	ck_assert_int_eq(resp.replica_election_results[0].partition_result[1].error_code,
			 KP_ERR_NOT_CONTROLLER);
	ck_assert_int_eq(resp.replica_election_results[1].partition_result[0].partition_id, 7);
	ck_assert_int_eq(resp.replica_election_results[1].partition_result[0].error_code,
			 KP_ERR_NOT_CONTROLLER);
	/* every partition (a null list): the top-level code alone */
	req.topic_partitions_count = -1;
	kp_struct_init(&kp_elect_leaders_resp_desc, &resp);
	ck_assert(kp_answer_elect_leaders(&req, KP_ERR_INVALID_REQUEST, &resp, &a));
	ck_assert_int_eq(resp.error_code, KP_ERR_INVALID_REQUEST);
	ck_assert_int_eq(resp.replica_election_results_count, 0);
	kp_arena_free(&a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ctl_partition");
	TCase *fsm = tcase_create("state machine");
	TCase *lead = tcase_create("leader choice");

	tcase_add_test(fsm, the_table_is_kafkas);
	tcase_add_test(fsm, every_valid_transition_is_taken_and_logged);
	tcase_add_test(fsm, every_invalid_transition_is_refused_and_logged);
	tcase_add_test(fsm, creating_deleting_and_loading_follow_the_table);
	tcase_add_test(fsm, an_election_the_state_refuses_writes_nothing);
	suite_add_tcase(s, fsm);
	tcase_add_test(lead, offline_leader_is_the_first_eligible_in_sync_replica_in_assignment_order);
	tcase_add_test(lead, reassign_leader_stays_in_the_target_or_moves_into_it);
	tcase_add_test(lead, preferred_elections_that_need_no_write_answer_at_once);
	tcase_add_test(lead, elect_leaders_refused_fills_every_listed_partition);
	suite_add_tcase(s, lead);
	return s;
}

int main(void)
{
	return check_run(suite());
}
