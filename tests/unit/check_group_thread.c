/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_group_thread.c - the group coordinator's deadline heap and thread
 * (kbroker/group_thread.c): deadlines fire in time order and only when
 * due, move earlier or later, can be cancelled, never spin when their
 * function leaves them due, and a deadline set from another thread while
 * the coordinator thread sleeps fires on time.
 */
#include <check.h>
#include <stdlib.h>
#include <time.h>

#include "check_run.h"
#include "group_thread.h"
#include "kp_log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct group_thread th;

struct owner {
	struct group_deadline d;
	int fired;
	int64_t fired_at;	/* the time it fired at */
	int64_t again;		/* set again to this when it fires; 0: not */
};

static void fire(struct group_deadline *d, int64_t now)
{
	struct owner *o = d->arg;

	o->fired++;
	o->fired_at = now;
	ck_assert_uint_eq(d->pos, 0);	/* out of the heap while it runs */
	if (o->again != 0)
		group_deadline_set(&th, d, o->again);
}

static void setup(void)
{
	kp_log_set_level(KP_LOG_ERROR);
	ck_assert_int_eq(group_thread_init(&th, &lock), 0);
	ck_assert_int_eq(group_thread_reserve(&th, 2048), 0);
}

static void teardown(void)
{
	group_thread_free(&th);
}

static void own(struct owner *o)
{
	*o = (struct owner){ .fired = 0 };
	group_deadline_init(&o->d, fire, o);
}

START_TEST(only_due_deadlines_fire)
{
	struct owner a, b;

	own(&a);
	own(&b);
	group_deadline_set(&th, &a.d, 100);
	group_deadline_set(&th, &b.d, 200);
	group_thread_run_due(&th, 99);
	ck_assert_int_eq(a.fired + b.fired, 0);
	group_thread_run_due(&th, 100);
	ck_assert_int_eq(a.fired, 1);
	ck_assert_int_eq(b.fired, 0);
	ck_assert_uint_eq(a.d.pos, 0);		/* out of the heap */
	group_thread_run_due(&th, 1000);
	ck_assert_int_eq(a.fired, 1);
	ck_assert_int_eq(b.fired, 1);
	ck_assert_uint_eq(th.n, 0);
}
END_TEST

START_TEST(by_moves_only_earlier_set_moves_either_way)
{
	struct owner a;

	own(&a);
	group_deadline_by(&th, &a.d, 500);	/* not scheduled: it is now */
	ck_assert_int_eq(a.d.at, 500);
	group_deadline_by(&th, &a.d, 700);
	ck_assert_int_eq(a.d.at, 500);
	group_deadline_by(&th, &a.d, 300);
	ck_assert_int_eq(a.d.at, 300);
	group_deadline_set(&th, &a.d, 900);
	ck_assert_int_eq(a.d.at, 900);
	group_thread_run_due(&th, 899);
	ck_assert_int_eq(a.fired, 0);
	group_deadline_set(&th, &a.d, 0);	/* cancels */
	ck_assert_uint_eq(th.n, 0);
	group_thread_run_due(&th, 10000);
	ck_assert_int_eq(a.fired, 0);
}
END_TEST

START_TEST(many_deadlines_fire_in_order)
{
	static struct owner os[1000];
	int cancelled = 0, fired = 0;

	srand(7);
	for (int i = 0; i < 1000; i++) {
		own(&os[i]);
		group_deadline_set(&th, &os[i].d, 1 + rand() % 5000);
	}
	/* move some, cancel some */
	for (int i = 0; i < 1000; i += 3)
		group_deadline_set(&th, &os[i].d, 1 + rand() % 5000);
	for (int i = 0; i < 1000; i += 7) {
		group_deadline_cancel(&th, &os[i].d);
		cancelled++;
	}
	/* step through time: each fires once, when due, not before */
	for (int64_t now = 0; now <= 5000; now += 37) {
		int64_t at[1000];

		for (int i = 0; i < 1000; i++)
			at[i] = os[i].d.pos != 0 ? os[i].d.at : -1;
		group_thread_run_due(&th, now);
		for (int i = 0; i < 1000; i++) {
			if (os[i].d.pos != 0)
				ck_assert_int_gt(os[i].d.at, now);
			if (at[i] > now)
				ck_assert_uint_ne(os[i].d.pos, 0);
			if (at[i] >= 0 && at[i] <= now)
				ck_assert_int_eq(os[i].fired, 1);
		}
	}
	group_thread_run_due(&th, 5001);
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_le(os[i].fired, 1);
		fired += os[i].fired;
		if (i % 7 == 0)
			ck_assert_int_eq(os[i].fired, 0);
	}
	ck_assert_int_eq(fired, 1000 - cancelled);
	ck_assert_uint_eq(th.n, 0);
}
END_TEST

START_TEST(a_deadline_left_due_does_not_spin)
{
	struct owner a;

	own(&a);
	a.again = 50;		/* its function sets it in the past */
	group_deadline_set(&th, &a.d, 100);
	group_thread_run_due(&th, 100);
	ck_assert_int_eq(a.fired, 1);
	ck_assert_uint_ne(a.d.pos, 0);
	ck_assert_int_eq(a.d.at, 101);	/* pushed past now */
	a.again = 0;
	group_thread_run_due(&th, 101);
	ck_assert_int_eq(a.fired, 2);
	ck_assert_uint_eq(th.n, 0);
}
END_TEST

/* ------------------------------------------------- the real thread */

static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

static void fire_signal(struct group_deadline *d, int64_t now)
{
	struct owner *o = d->arg;

	o->fired++;
	o->fired_at = now;
	pthread_cond_broadcast(&cond);
}

START_TEST(a_deadline_set_from_another_thread_fires_on_time)
{
	struct owner far, near;
	struct timespec until;
	int64_t t0;

	own(&far);
	own(&near);
	far.d.fn = near.d.fn = fire_signal;
	/* the thread sleeps toward a far deadline ... */
	group_deadline_set(&th, &far.d, kp_now_ms() + 60000);
	ck_assert_int_eq(group_thread_start(&th), 0);
	/* ... and a worker sets a near one */
	pthread_mutex_lock(&lock);
	t0 = kp_now_ms();
	group_deadline_set(&th, &near.d, t0 + 100);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 30;
	while (near.fired == 0)
		if (pthread_cond_timedwait(&cond, &lock, &until) != 0)
			break;
	pthread_mutex_unlock(&lock);
	group_thread_stop(&th);
	ck_assert_int_eq(near.fired, 1);
	ck_assert_int_ge(near.fired_at, t0 + 100);
	ck_assert_int_eq(far.fired, 0);
	ck_assert_uint_eq(th.n, 1);		/* far still waits */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("group_thread");
	TCase *heap = tcase_create("heap");
	TCase *thread = tcase_create("thread");

	tcase_add_checked_fixture(heap, setup, teardown);
	tcase_add_test(heap, only_due_deadlines_fire);
	tcase_add_test(heap, by_moves_only_earlier_set_moves_either_way);
	tcase_add_test(heap, many_deadlines_fire_in_order);
	tcase_add_test(heap, a_deadline_left_due_does_not_spin);
	suite_add_tcase(s, heap);
	tcase_add_checked_fixture(thread, setup, teardown);
	tcase_set_timeout(thread, 60);
	tcase_add_test(thread, a_deadline_set_from_another_thread_fires_on_time);
	suite_add_tcase(s, thread);
	return s;
}

int main(void)
{
	return check_run(suite());
}
