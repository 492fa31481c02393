/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_group_fsm.c - a group's rebalance states (kbroker/group_fsm.c):
 * every transition Kafka 2.8's GroupMetadata allows is made and logged
 * "old -> new"; every other one is refused, logged as an error, and
 * leaves the state and its timestamp as they were.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_run.h"
#include "group_fsm.h"
#include "kp_log.h"
#include "kp_loop.h"

static const enum group_state all[GROUP_NSTATES] = {
	GROUP_EMPTY, GROUP_PREPARING_REBALANCE, GROUP_COMPLETING_REBALANCE,
	GROUP_STABLE, GROUP_DEAD,
};

/* Kafka 2.8's validPreviousStates, written out pair by pair (from, to) -
 * on purpose not the table the module uses. */
static const struct { enum group_state from, to; } kafka_valid[] = {
	{ GROUP_PREPARING_REBALANCE, GROUP_EMPTY },
	{ GROUP_STABLE, GROUP_PREPARING_REBALANCE },
	{ GROUP_COMPLETING_REBALANCE, GROUP_PREPARING_REBALANCE },
	{ GROUP_EMPTY, GROUP_PREPARING_REBALANCE },
	{ GROUP_PREPARING_REBALANCE, GROUP_COMPLETING_REBALANCE },
	{ GROUP_COMPLETING_REBALANCE, GROUP_STABLE },
	{ GROUP_STABLE, GROUP_DEAD },
	{ GROUP_PREPARING_REBALANCE, GROUP_DEAD },
	{ GROUP_COMPLETING_REBALANCE, GROUP_DEAD },
	{ GROUP_EMPTY, GROUP_DEAD },
	{ GROUP_DEAD, GROUP_DEAD },
};

static bool kafka_allows(enum group_state from, enum group_state to)
{
	for (size_t i = 0; i < sizeof(kafka_valid) / sizeof(kafka_valid[0]); i++)
		if (kafka_valid[i].from == from && kafka_valid[i].to == to)
			return true;
	return false;
}

/* The log goes to a file; log_take() returns what was written since the
 * last call. */
static FILE *log_file;

static void log_setup(void)
{
	log_file = tmpfile();
	ck_assert_ptr_nonnull(log_file);
	kp_log_set_fd(fileno(log_file));
	kp_log_set_level(KP_LOG_INFO);
}

static void log_teardown(void)
{
	kp_log_set_fd(-1);
	fclose(log_file);
}

static char *log_take(void)
{
	static char buf[4096];
	long end = lseek(fileno(log_file), 0, SEEK_CUR);
	ssize_t n;

	ck_assert_int_ge(end, 0);
	ck_assert_int_lt(end, (long)sizeof(buf));
	n = pread(fileno(log_file), buf, (size_t)end, 0);
	ck_assert_int_eq(n, end);
	buf[n] = 0;
	ck_assert_int_eq(ftruncate(fileno(log_file), 0), 0);
	ck_assert_int_eq(lseek(fileno(log_file), 0, SEEK_SET), 0);
	return buf;
}

START_TEST(state_names_are_kafkas)
{
	ck_assert_str_eq(group_state_name(GROUP_EMPTY), "Empty");
	ck_assert_str_eq(group_state_name(GROUP_PREPARING_REBALANCE), "PreparingRebalance");
	ck_assert_str_eq(group_state_name(GROUP_COMPLETING_REBALANCE), "CompletingRebalance");
	ck_assert_str_eq(group_state_name(GROUP_STABLE), "Stable");
	ck_assert_str_eq(group_state_name(GROUP_DEAD), "Dead");
}
END_TEST

START_TEST(valid_transitions_are_made_and_logged)
{
	int made = 0;

	for (int i = 0; i < GROUP_NSTATES; i++)
		for (int j = 0; j < GROUP_NSTATES; j++) {
			struct group_fsm f;
			char want[200];
			int64_t before;
			const char *log;

			if (!kafka_allows(all[i], all[j]))
				continue;
			ck_assert(group_fsm_valid(all[i], all[j]));
			group_fsm_init(&f, all[i], 5);
			ck_assert_str_eq(log_take(), "");	/* init logs nothing */
			before = kp_wall_ms();
			ck_assert_int_eq(group_fsm_to(&f, "g1", all[j]), 0);
			ck_assert_int_eq(f.state, all[j]);
			ck_assert_int_ge(f.since, before);
			ck_assert_int_le(f.since, kp_wall_ms());
			log = log_take();
			snprintf(want, sizeof(want), "group g1: %s -> %s\n",
				 group_state_name(all[i]), group_state_name(all[j]));
			ck_assert_msg(strstr(log, want) != NULL, "%s: no '%s'", log, want);
			ck_assert_ptr_null(strstr(log, "ERROR"));
			made++;
		}
	ck_assert_int_eq(made, 11);
}
END_TEST

START_TEST(invalid_transitions_are_refused_and_logged)
{
	int refused = 0;

	for (int i = 0; i < GROUP_NSTATES; i++)
		for (int j = 0; j < GROUP_NSTATES; j++) {
			struct group_fsm f;
			char want[200];
			const char *log;

			if (kafka_allows(all[i], all[j]))
				continue;
			ck_assert(!group_fsm_valid(all[i], all[j]));
			group_fsm_init(&f, all[i], 5);
			ck_assert_int_eq(group_fsm_to(&f, "g2", all[j]), -1);
			/* nothing changed */
			ck_assert_int_eq(f.state, all[i]);
			ck_assert_int_eq(f.since, 5);
			log = log_take();
			snprintf(want, sizeof(want), "group g2: refused state transition %s -> %s\n",
				 group_state_name(all[i]), group_state_name(all[j]));
			ck_assert_msg(strstr(log, want) != NULL, "%s: no '%s'", log, want);
			ck_assert_msg(strstr(log, "ERROR") != NULL, "not an error: %s", log);
			refused++;
		}
	/* 25 pairs, 11 allowed */
	ck_assert_int_eq(refused, 14);
}
END_TEST

/* Out-of-range values (a corrupted state) are never valid. */
START_TEST(unknown_states_are_refused)
{
	struct group_fsm f;

	ck_assert(!group_fsm_valid((enum group_state)7, GROUP_DEAD));
	ck_assert(!group_fsm_valid(GROUP_EMPTY, (enum group_state)7));
	group_fsm_init(&f, GROUP_STABLE, 9);
	ck_assert_int_eq(group_fsm_to(&f, "g3", (enum group_state)7), -1);
	ck_assert_int_eq(f.state, GROUP_STABLE);
	ck_assert_ptr_nonnull(strstr(log_take(), "refused"));
}
END_TEST

/* A whole rebalance, as the coordinator drives it. */
START_TEST(a_group_life)
{
	static const enum group_state path[] = {
		GROUP_PREPARING_REBALANCE, GROUP_COMPLETING_REBALANCE, GROUP_STABLE,
		GROUP_PREPARING_REBALANCE, GROUP_COMPLETING_REBALANCE,
		GROUP_PREPARING_REBALANCE, GROUP_EMPTY, GROUP_DEAD,
	};
	struct group_fsm f;

	group_fsm_init(&f, GROUP_EMPTY, 0);
	for (size_t i = 0; i < sizeof(path) / sizeof(path[0]); i++)
		ck_assert_int_eq(group_fsm_to(&f, "life", path[i]), 0);
	ck_assert_int_eq(f.state, GROUP_DEAD);
	/* the dead stay dead */
	ck_assert_int_eq(group_fsm_to(&f, "life", GROUP_EMPTY), -1);
	ck_assert_int_eq(f.state, GROUP_DEAD);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("group_fsm");
	TCase *tc = tcase_create("fsm");

	tcase_add_checked_fixture(tc, log_setup, log_teardown);
	tcase_add_test(tc, state_names_are_kafkas);
	tcase_add_test(tc, valid_transitions_are_made_and_logged);
	tcase_add_test(tc, invalid_transitions_are_refused_and_logged);
	tcase_add_test(tc, unknown_states_are_refused);
	tcase_add_test(tc, a_group_life);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
