/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_purgatory.c - kbroker's delayed operations (purgatory.c): parked
 * operations completed by a notification of a key they watch, by their
 * timer, by an explicit completion from their home or another thread, or
 * by the drain; each exactly once, on its home's thread, also when a
 * completion from another thread races the timer.
 *
 * kp_log.h comes before kp_errors.h on purpose: both once defined
 * KP_ERROR, and this order did not build.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "kp_log.h"
#include "kp_errors.h"
#include "kp_loop.h"
#include "purgatory.h"

/* An operation of the tests: ready when *flag is set. */
struct top {
	struct delayed_op op;
	struct purgatory_watch w[2];
	atomic_bool *flag;
	atomic_int tries;
	atomic_int completions;
	atomic_int releases;
	enum purgatory_end end;
	pthread_t completed_on;
};

static bool top_try(struct delayed_op *op)
{
	struct top *t = (struct top *)op;

	atomic_fetch_add(&t->tries, 1);
	return t->flag != NULL && atomic_load(t->flag);
}

static void top_done(struct delayed_op *op, enum purgatory_end end)
{
	struct top *t = (struct top *)op;

	t->end = end;
	t->completed_on = pthread_self();
	atomic_fetch_add(&t->completions, 1);
}

static void top_release(struct delayed_op *op)
{
	struct top *t = (struct top *)op;

	/* never before on_complete, and once */
	ck_assert_int_eq(atomic_load(&t->completions), 1);
	atomic_fetch_add(&t->releases, 1);
}

static const struct delayed_op_type plain_type = { "test", top_try, top_done, NULL };
static const struct delayed_op_type held_type = { "test-held", top_try, top_done,
						  top_release };

static struct purgatory *pg;
static struct purgatory_home *home;
static struct kp_loop *loop;

static void setup(void)
{
	kp_log_set_level(KP_LOG_ERROR);
	pg = purgatory_new();
	loop = kp_loop_new();
	ck_assert_ptr_nonnull(pg);
	ck_assert_ptr_nonnull(loop);
	home = purgatory_home_new(pg, loop);
	ck_assert_ptr_nonnull(home);
}

static void teardown(void)
{
	kp_loop_free(loop);
	purgatory_free(pg);
}

/* Run the loop until cond holds (bounded: 10 s). */
#define RUN_UNTIL(cond) do {							\
		int64_t until_ = kp_now_ms() + 10000;				\
		while (!(cond) && kp_now_ms() < until_)				\
			kp_loop_run_once(loop, 10);				\
		ck_assert(cond);						\
	} while (0)

static void top_init(struct top *t, atomic_bool *flag, struct purgatory_key *k1,
		     struct purgatory_key *k2)
{
	memset(t, 0, sizeof(*t));
	t->flag = flag;
	t->w[0].key = k1;
	t->w[1].key = k2;
}

START_TEST(notify_completes_what_watches_the_key)
{
	struct purgatory_key ka, kb, other;
	atomic_bool ready = false;
	struct top t;

	purgatory_key_init(&ka, PURGATORY_KEY_PLAIN);
	purgatory_key_init(&kb, PURGATORY_KEY_PLAIN);
	purgatory_key_init(&other, PURGATORY_KEY_PLAIN);
	top_init(&t, &ready, &ka, &kb);
	/* not ready: parked (tried once more by the watch) */
	ck_assert(!purgatory_watch(home, &t.op, &plain_type, t.w, 2, -1));
	ck_assert_int_eq(atomic_load(&t.tries), 1);
	ck_assert_int_eq(purgatory_home_count(home), 1);
	/* a key nobody here watches wakes nobody */
	purgatory_notify(pg, &other);
	for (int i = 0; i < 5; i++)
		kp_loop_run_once(loop, 0);
	ck_assert_int_eq(atomic_load(&t.tries), 1);
	/* a watched key that moved, not ready yet: tried, stays */
	purgatory_notify(pg, &kb);
	RUN_UNTIL(atomic_load(&t.tries) == 2);
	ck_assert_int_eq(atomic_load(&t.completions), 0);
	/* ready, notified: completed once, on this thread, unlisted */
	atomic_store(&ready, true);
	purgatory_notify(pg, &ka);
	RUN_UNTIL(atomic_load(&t.completions) == 1);
	ck_assert_int_eq(t.end, PURGATORY_COMPLETED);
	ck_assert(pthread_equal(t.completed_on, pthread_self()));
	ck_assert_int_eq(purgatory_home_count(home), 0);
	/* later notifications do not reach it */
	purgatory_notify(pg, &ka);
	for (int i = 0; i < 5; i++)
		kp_loop_run_once(loop, 0);
	ck_assert_int_eq(atomic_load(&t.tries), 3);
	ck_assert_int_eq(atomic_load(&t.completions), 1);
}
END_TEST

START_TEST(ready_at_watch_time_completes_at_once)
{
	struct purgatory_key k;
	atomic_bool ready = true;
	struct top t;

	purgatory_key_init(&k, PURGATORY_KEY_PLAIN);
	top_init(&t, &ready, &k, NULL);
	ck_assert(purgatory_watch(home, &t.op, &plain_type, t.w, 1, 1000));
	ck_assert_int_eq(atomic_load(&t.completions), 1);
	ck_assert_int_eq(t.end, PURGATORY_COMPLETED);
	ck_assert_int_eq(purgatory_home_count(home), 0);
	/* its timer went with it */
	for (int i = 0; i < 3; i++)
		kp_loop_run_once(loop, 0);
	ck_assert_int_eq(atomic_load(&t.completions), 1);
}
END_TEST

/* Counts read before the caller's own check: tried again at the watch
 * only when a key moved since; a later notification still wakes it. */
START_TEST(watch_since_tries_again_only_when_a_key_moved)
{
	struct purgatory_key ka, kb;
	atomic_bool ready = false;
	struct top t, u;

	purgatory_key_init(&ka, PURGATORY_KEY_PLAIN);
	purgatory_key_init(&kb, PURGATORY_KEY_PLAIN);
	/* nothing moved between the counts and the watch: not tried */
	memset(&t, 0, sizeof(t));
	t.flag = &ready;
	purgatory_watch_init(&t.w[0], &ka);
	purgatory_watch_init(&t.w[1], &kb);
	ck_assert(!purgatory_watch_since(home, &t.op, &plain_type, t.w, 2, -1));
	ck_assert_int_eq(atomic_load(&t.tries), 0);
	ck_assert_int_eq(purgatory_home_count(home), 1);
	/* a key moved after the counts were read (the change the caller's
	 * check may have missed): tried at once, and completed */
	memset(&u, 0, sizeof(u));
	u.flag = &ready;
	purgatory_watch_init(&u.w[0], &kb);
	atomic_store(&ready, true);
	purgatory_notify(pg, &kb);
	ck_assert(purgatory_watch_since(home, &u.op, &plain_type, u.w, 1, -1));
	ck_assert_int_eq(atomic_load(&u.tries), 1);
	ck_assert_int_eq(atomic_load(&u.completions), 1);
	/* the first one hears that notification (or a later one) */
	RUN_UNTIL(atomic_load(&t.completions) == 1);
	ck_assert_int_eq(t.end, PURGATORY_COMPLETED);
	ck_assert_int_eq(purgatory_home_count(home), 0);
}
END_TEST

START_TEST(timeout_expires_once)
{
	struct purgatory_key k;
	atomic_bool ready = false;
	struct top t;
	int64_t start = kp_now_ms();

	purgatory_key_init(&k, PURGATORY_KEY_PLAIN);
	top_init(&t, &ready, &k, NULL);
	ck_assert(!purgatory_watch(home, &t.op, &plain_type, t.w, 1, 50));
	RUN_UNTIL(atomic_load(&t.completions) == 1);
	ck_assert_int_ge(kp_now_ms() - start, 50);
	ck_assert_int_eq(t.end, PURGATORY_EXPIRED);
	ck_assert_int_eq(purgatory_home_count(home), 0);
	/* neither a completion nor a notification ends it again */
	ck_assert(!purgatory_complete(&t.op));
	atomic_store(&ready, true);
	purgatory_notify(pg, &k);
	for (int i = 0; i < 5; i++)
		kp_loop_run_once(loop, 0);
	ck_assert_int_eq(atomic_load(&t.completions), 1);
}
END_TEST

START_TEST(explicit_completion_once)
{
	struct top t;

	top_init(&t, NULL, NULL, NULL);
	/* no keys, no timer: only an explicit completion ends it */
	ck_assert(!purgatory_watch(home, &t.op, &plain_type, NULL, 0, -1));
	ck_assert_int_eq(purgatory_home_count(home), 1);
	ck_assert(purgatory_complete(&t.op));
	ck_assert(!purgatory_complete(&t.op));
	ck_assert_int_eq(atomic_load(&t.completions), 1);
	ck_assert_int_eq(t.end, PURGATORY_COMPLETED);
	ck_assert_int_eq(purgatory_home_count(home), 0);
}
END_TEST

/* Notified many times before the home runs: one wake-up, one try. */
START_TEST(notifications_coalesce)
{
	struct purgatory_key k;
	atomic_bool ready = false;
	struct top t;

	purgatory_key_init(&k, PURGATORY_KEY_PLAIN);
	top_init(&t, &ready, &k, NULL);
	ck_assert(!purgatory_watch(home, &t.op, &plain_type, t.w, 1, -1));
	for (int i = 0; i < 1000; i++)
		purgatory_notify(pg, &k);
	for (int i = 0; i < 5; i++)
		kp_loop_run_once(loop, 0);
	ck_assert_int_eq(atomic_load(&t.tries), 2);
	ck_assert(purgatory_complete(&t.op));
}
END_TEST

/* ---------------------------------------------------------- threads */

struct notifier {
	struct purgatory_key *k;
	atomic_bool *flag;
	int n;
};

static void *notify_main(void *arg)
{
	struct notifier *nt = arg;

	for (int i = 0; i < nt->n; i++)
		purgatory_notify(pg, nt->k);
	atomic_store(nt->flag, true);
	purgatory_notify(pg, nt->k);
	return NULL;
}

/* A notification from another thread (an append on another worker). */
START_TEST(notify_from_another_thread)
{
	struct purgatory_key k;
	atomic_bool ready = false;
	struct notifier nt = { &k, &ready, 10000 };
	struct top t;
	pthread_t th;

	purgatory_key_init(&k, PURGATORY_KEY_PLAIN);
	top_init(&t, &ready, &k, NULL);
	ck_assert(!purgatory_watch(home, &t.op, &plain_type, t.w, 1, -1));
	ck_assert_int_eq(pthread_create(&th, NULL, notify_main, &nt), 0);
	RUN_UNTIL(atomic_load(&t.completions) == 1);
	pthread_join(th, NULL);
	ck_assert(pthread_equal(t.completed_on, pthread_self()));
	ck_assert_int_eq(t.end, PURGATORY_COMPLETED);
}
END_TEST

#define RACES 2000

struct race {
	struct top ops[RACES];
	atomic_int handed;		/* ops[0..handed) are held and parked */
	atomic_bool ready;		/* the notification race's condition */
	struct purgatory_key k;
	bool by_notify;
};

/* The racer: ends each op as soon as it is handed over, while its 0 ms
 * timer fires on the home. */
static void *racer_main(void *arg)
{
	struct race *rc = arg;

	for (int i = 0; i < RACES; i++) {
		while (atomic_load(&rc->handed) <= i)
			;
		if (rc->by_notify) {
			atomic_store(&rc->ready, true);
			purgatory_notify(pg, &rc->k);
		} else {
			purgatory_complete_from(&rc->ops[i].op);
		}
		purgatory_release(&rc->ops[i].op);
	}
	return NULL;
}

static void run_race(bool by_notify)
{
	struct race *rc = calloc(1, sizeof(*rc));
	int expired = 0, completed = 0;
	pthread_t th;

	ck_assert_ptr_nonnull(rc);
	rc->by_notify = by_notify;
	purgatory_key_init(&rc->k, PURGATORY_KEY_PLAIN);
	ck_assert_int_eq(pthread_create(&th, NULL, racer_main, rc), 0);
	for (int i = 0; i < RACES; i++) {
		struct top *t = &rc->ops[i];

		atomic_store(&rc->ready, false);
		top_init(t, &rc->ready, &rc->k, NULL);
		if (purgatory_watch(home, &t->op, &held_type, t->w, 1, 0))
			ck_abort_msg("completed before it was handed over");
		purgatory_hold(&t->op);
		atomic_store(&rc->handed, i + 1);
		/* the timer, the racer's completion or its notification */
		RUN_UNTIL(atomic_load(&t->completions) == 1 &&
			  atomic_load(&t->releases) == 1);
	}
	pthread_join(th, NULL);
	for (int i = 0; i < RACES; i++) {
		struct top *t = &rc->ops[i];

		for (int j = 0; j < 3; j++)
			kp_loop_run_once(loop, 0);
		ck_assert_int_eq(atomic_load(&t->completions), 1);
		ck_assert_int_eq(atomic_load(&t->releases), 1);
		ck_assert(pthread_equal(t->completed_on, pthread_self()));
		expired += t->end == PURGATORY_EXPIRED;
		completed += t->end == PURGATORY_COMPLETED;
	}
	ck_assert_int_eq(expired + completed, RACES);
	ck_assert_int_eq(purgatory_home_count(home), 0);
	free(rc);
}

START_TEST(completion_from_another_thread_races_expiry)
{
	run_race(false);
}
END_TEST

START_TEST(notification_races_expiry)
{
	run_race(true);
}
END_TEST

/* ----------------------------------------------------------- drain */

START_TEST(drain_ends_what_nobody_holds)
{
	struct purgatory_key k;
	atomic_bool ready = false;
	struct top a, b, held;

	purgatory_key_init(&k, PURGATORY_KEY_PLAIN);
	top_init(&a, &ready, &k, NULL);
	top_init(&b, &ready, NULL, NULL);
	top_init(&held, &ready, &k, NULL);
	ck_assert(!purgatory_watch(home, &a.op, &plain_type, a.w, 1, 60000));
	ck_assert(!purgatory_watch(home, &b.op, &plain_type, NULL, 0, -1));
	ck_assert(!purgatory_watch(home, &held.op, &held_type, held.w, 1, -1));
	purgatory_hold(&held.op);
	ck_assert_int_eq(purgatory_home_count(home), 3);
	purgatory_drain(home);
	ck_assert_int_eq(atomic_load(&a.completions), 1);
	ck_assert_int_eq(a.end, PURGATORY_DRAINED);
	ck_assert_int_eq(atomic_load(&b.completions), 1);
	ck_assert_int_eq(b.end, PURGATORY_DRAINED);
	/* the held one is its holder's to end */
	ck_assert_int_eq(atomic_load(&held.completions), 0);
	ck_assert_int_eq(purgatory_home_count(home), 1);
	ck_assert(purgatory_complete_from(&held.op));
	purgatory_release(&held.op);
	RUN_UNTIL(atomic_load(&held.completions) == 1);
	ck_assert_int_eq(held.end, PURGATORY_COMPLETED);
	ck_assert_int_eq(atomic_load(&held.releases), 1);
	ck_assert_int_eq(purgatory_home_count(home), 0);
	/* a's timer is gone */
	for (int i = 0; i < 3; i++)
		kp_loop_run_once(loop, 0);
	ck_assert_int_eq(atomic_load(&a.completions), 1);
}
END_TEST

/* --------------------------------------------------- listeners, homes */

static void count_listener(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
}

START_TEST(listener_hears_its_kind)
{
	struct purgatory_key plain, group;
	atomic_int heard = 0;

	purgatory_key_init(&plain, PURGATORY_KEY_PLAIN);
	purgatory_key_init(&group, PURGATORY_KEY_GROUP_LOG);
	purgatory_listen(pg, PURGATORY_KEY_GROUP_LOG, count_listener, &heard);
	purgatory_notify(pg, &plain);
	ck_assert_int_eq(atomic_load(&heard), 0);
	/* with nobody watching the key too */
	purgatory_notify(pg, &group);
	purgatory_notify(pg, &group);
	ck_assert_int_eq(atomic_load(&heard), 2);
}
END_TEST

/* Homes past 64 share key bits: a notification still reaches them. */
START_TEST(many_homes)
{
	struct kp_loop *loops[70];
	struct purgatory_home *homes[70];
	struct purgatory_key k;
	atomic_bool ready = false;
	struct top t;

	purgatory_key_init(&k, PURGATORY_KEY_PLAIN);
	for (int i = 0; i < 70; i++) {
		loops[i] = kp_loop_new();
		ck_assert_ptr_nonnull(loops[i]);
		homes[i] = purgatory_home_new(pg, loops[i]);
		ck_assert_ptr_nonnull(homes[i]);
	}
	/* home 66 (the 67th: the test's own home is 0) shares bit 2 */
	top_init(&t, &ready, &k, NULL);
	ck_assert(!purgatory_watch(homes[65], &t.op, &plain_type, t.w, 1, -1));
	atomic_store(&ready, true);
	purgatory_notify(pg, &k);
	for (int i = 0; i < 5 && atomic_load(&t.completions) == 0; i++)
		kp_loop_run_once(loops[65], 10);
	ck_assert_int_eq(atomic_load(&t.completions), 1);
	for (int i = 0; i < 70; i++)
		kp_loop_free(loops[i]);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("purgatory");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, notify_completes_what_watches_the_key);
	tcase_add_test(tc, ready_at_watch_time_completes_at_once);
	tcase_add_test(tc, watch_since_tries_again_only_when_a_key_moved);
	tcase_add_test(tc, timeout_expires_once);
	tcase_add_test(tc, explicit_completion_once);
	tcase_add_test(tc, notifications_coalesce);
	tcase_add_test(tc, notify_from_another_thread);
	tcase_add_test(tc, completion_from_another_thread_races_expiry);
	tcase_add_test(tc, notification_races_expiry);
	tcase_add_test(tc, drain_ends_what_nobody_holds);
	tcase_add_test(tc, listener_hears_its_kind);
	tcase_add_test(tc, many_homes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
