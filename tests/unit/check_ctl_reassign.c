/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_ctl_reassign.c - what a partition reassignment writes
 * (kcontroller/reassign.c, reassign_plan), as KIP-455 and Kafka 2.8's
 * controller compute it: the full replica set RS = target ++ (current -
 * target), adding = target - origin, removing = RS - target, where the
 * origin of a partition already being reassigned is current - adding.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "kp_zkdata.h"
#include "reassign.h"

static void assert_list(const struct kp_replicas *got, const int32_t *want, int32_t n)
{
	ck_assert_int_eq(got->n, n);
	for (int32_t i = 0; i < n; i++)
		ck_assert_msg(got->ids[i] == want[i], "[%d]: %d, not %d", i, got->ids[i],
			      want[i]);
}

/* Plan current (with adding_now in progress) to target; check rs,
 * adding, removing. */
static void plan(const int32_t *cur, int32_t ncur, const int32_t *add_now,
		 int32_t nadd_now, const int32_t *tgt, int32_t ntgt,
		 const int32_t *rs, int32_t nrs, const int32_t *add, int32_t nadd,
		 const int32_t *rem, int32_t nrem)
{
	struct kp_replicas current = { (int32_t *)cur, ncur };
	struct kp_replicas adding_now = { (int32_t *)add_now, nadd_now };
	struct kp_replicas r, a, m;

	ck_assert_int_eq(reassign_plan(&current, &adding_now, tgt, ntgt, &r, &a, &m), 0);
	assert_list(&r, rs, nrs);
	assert_list(&a, add, nadd);
	assert_list(&m, rem, nrem);
	kp_replicas_free(&r);
	kp_replicas_free(&a);
	kp_replicas_free(&m);
}

#define L(...) ((const int32_t[]){ __VA_ARGS__ }), \
	(int32_t)(sizeof((const int32_t[]){ __VA_ARGS__ }) / sizeof(int32_t))
#define NONE NULL, 0

START_TEST(moving_every_replica_adds_the_target_and_removes_the_rest)
{
	plan(L(1, 2, 3), NONE, L(4, 5, 6),
	     L(4, 5, 6, 1, 2, 3), L(4, 5, 6), L(1, 2, 3));
}
END_TEST

START_TEST(a_partial_move_keeps_the_shared_replicas)
{
	/* the target's order first, then the leaving ones in theirs */
	plan(L(1, 2, 3), NONE, L(3, 4),
	     L(3, 4, 1, 2), L(4), L(1, 2));
	plan(L(1, 2), NONE, L(1, 2, 3),
	     L(1, 2, 3), L(3), NONE);
}
END_TEST

START_TEST(a_new_order_adds_and_removes_nothing)
{
	plan(L(1, 2, 3), NONE, L(3, 1, 2),
	     L(3, 1, 2), NONE, NONE);
}
END_TEST

START_TEST(cancelling_goes_back_to_the_origin)
{
	/* moving [1, 2] to [4, 5]: RS [4, 5, 1, 2], adding [4, 5]; the
	 * origin target [1, 2] removes the added ones and adds nothing */
	plan(L(4, 5, 1, 2), L(4, 5), L(1, 2),
	     L(1, 2, 4, 5), NONE, L(4, 5));
}
END_TEST

START_TEST(a_new_target_during_a_move_counts_from_the_origin)
{
	/* [1, 2] being moved to [4, 5]; now to [6, 1]: 6 is added (not 4 or
	 * 5, which were never there), 4, 5 and 2 are removed */
	plan(L(4, 5, 1, 2), L(4, 5), L(6, 1),
	     L(6, 1, 4, 5, 2), L(6), L(4, 5, 2));
	/* again to [4, 5]: they are not "added" twice */
	plan(L(4, 5, 1, 2), L(4, 5), L(4, 5),
	     L(4, 5, 1, 2), L(4, 5), L(1, 2));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ctl_reassign");
	TCase *tc = tcase_create("plan");

	tcase_add_test(tc, moving_every_replica_adds_the_target_and_removes_the_rest);
	tcase_add_test(tc, a_partial_move_keeps_the_shared_replicas);
	tcase_add_test(tc, a_new_order_adds_and_removes_nothing);
	tcase_add_test(tc, cancelling_goes_back_to_the_origin);
	tcase_add_test(tc, a_new_target_during_a_move_counts_from_the_origin);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
