/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_loop.c - the event loop: timers, file events, posted calls, stop,
 * and the logging module's line format.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_run.h"
#include "kp_log.h"
#include "kp_loop.h"

struct order {
	int seen[64];
	int n;
};

struct tctx {
	struct order *o;
	int id;
	struct kp_timer t;
};

static void record(struct kp_loop *loop, void *arg)
{
	struct tctx *c = arg;

	(void)loop;
	c->o->seen[c->o->n++] = c->id;
}

static void run_until(struct kp_loop *loop, int *counter, int want, int ms)
{
	int64_t end = kp_now_ms() + ms;

	while (*counter < want && kp_now_ms() < end)
		kp_loop_run_once(loop, 10);
}

START_TEST(timers_fire_in_deadline_order)
{
	struct kp_loop *loop = kp_loop_new();
	struct order o = { .n = 0 };
	struct tctx c[6];
	static const int delay[6] = { 50, 10, 30, 10, 0, 20 };

	for (int i = 0; i < 6; i++) {
		c[i].o = &o;
		c[i].id = i;
		kp_timer_init(&c[i].t, record, &c[i]);
		kp_timer_start(loop, &c[i].t, delay[i]);
	}
	run_until(loop, &o.n, 6, 5000);
	ck_assert_int_eq(o.n, 6);
	/* equal deadlines keep arming order: 1 before 3 */
	ck_assert_int_eq(o.seen[0], 4);
	ck_assert_int_eq(o.seen[1], 1);
	ck_assert_int_eq(o.seen[2], 3);
	ck_assert_int_eq(o.seen[3], 5);
	ck_assert_int_eq(o.seen[4], 2);
	ck_assert_int_eq(o.seen[5], 0);
	for (int i = 0; i < 6; i++)
		ck_assert(!kp_timer_armed(&c[i].t));
	kp_loop_free(loop);
}
END_TEST

START_TEST(stopped_timers_never_fire)
{
	struct kp_loop *loop = kp_loop_new();
	struct order o = { .n = 0 };
	struct tctx c[40];

	for (int i = 0; i < 40; i++) {
		c[i].o = &o;
		c[i].id = i;
		kp_timer_init(&c[i].t, record, &c[i]);
		kp_timer_start(loop, &c[i].t, (i * 7) % 13);
	}
	for (int i = 0; i < 40; i += 2)
		kp_timer_stop(loop, &c[i].t);
	kp_timer_stop(loop, &c[0].t);	/* twice is harmless */
	run_until(loop, &o.n, 20, 5000);
	kp_loop_run_once(loop, 30);
	ck_assert_int_eq(o.n, 20);
	for (int i = 0; i < o.n; i++)
		ck_assert_int_eq(o.seen[i] % 2, 1);
	kp_loop_free(loop);
}
END_TEST

struct rearm {
	struct kp_timer t;
	int fired;
};

static void rearm_cb(struct kp_loop *loop, void *arg)
{
	struct rearm *r = arg;

	if (++r->fired < 5)
		kp_timer_start(loop, &r->t, 0);	/* runs next iteration, not now */
}

START_TEST(a_timer_rearmed_in_its_callback_waits_for_the_next_round)
{
	struct kp_loop *loop = kp_loop_new();
	struct rearm r = { .fired = 0 };

	kp_timer_init(&r.t, rearm_cb, &r);
	kp_timer_start(loop, &r.t, 0);
	kp_loop_run_once(loop, 0);
	ck_assert_int_eq(r.fired, 1);
	kp_loop_run_once(loop, 0);
	ck_assert_int_eq(r.fired, 2);
	run_until(loop, &r.fired, 5, 5000);
	ck_assert_int_eq(r.fired, 5);
	ck_assert(!kp_timer_armed(&r.t));
	kp_loop_free(loop);
}
END_TEST

struct pipe_ctx {
	int fds[2];
	int reads;
	char got[64];
	size_t len;
};

static void on_readable(struct kp_loop *loop, int fd, int events, void *arg)
{
	struct pipe_ctx *p = arg;
	ssize_t n;

	ck_assert(events & KP_EV_READ);
	n = read(fd, p->got + p->len, sizeof(p->got) - p->len);
	if (n > 0)
		p->len += (size_t)n;
	p->reads++;
	if (n == 0)		/* writer closed */
		kp_loop_unwatch(loop, fd);
}

START_TEST(file_events_deliver_and_unwatch)
{
	struct kp_loop *loop = kp_loop_new();
	struct pipe_ctx p = { .reads = 0 };

	ck_assert_int_eq(pipe(p.fds), 0);
	ck_assert_int_eq(kp_loop_watch(loop, p.fds[0], KP_EV_READ, on_readable, &p), 0);
	ck_assert_int_eq(kp_loop_get_events(loop, p.fds[0]), KP_EV_READ);
	kp_loop_run_once(loop, 0);
	ck_assert_int_eq(p.reads, 0);	/* nothing to read yet */
	ck_assert_int_eq(write(p.fds[1], "hello", 5), 5);
	run_until(loop, &p.reads, 1, 5000);
	ck_assert_int_eq(p.len, 5);
	ck_assert(memcmp(p.got, "hello", 5) == 0);
	/* quiet mask: data waits */
	ck_assert_int_eq(kp_loop_set_events(loop, p.fds[0], 0), 0);
	ck_assert_int_eq(write(p.fds[1], "world", 5), 5);
	kp_loop_run_once(loop, 20);
	ck_assert_int_eq(p.reads, 1);
	ck_assert_int_eq(kp_loop_set_events(loop, p.fds[0], KP_EV_READ), 0);
	run_until(loop, &p.reads, 2, 5000);
	ck_assert_int_eq(p.len, 10);
	close(p.fds[1]);
	run_until(loop, &p.reads, 3, 5000);
	ck_assert_int_eq(kp_loop_get_events(loop, p.fds[0]), -1);
	close(p.fds[0]);
	/* an fd far above the first table size grows the table */
	{
		int fds[2];

		ck_assert_int_eq(pipe(fds), 0);
		int hi = dup2(fds[0], 700);

		ck_assert_int_eq(hi, 700);
		ck_assert_int_eq(kp_loop_watch(loop, hi, KP_EV_READ, on_readable, &p), 0);
		ck_assert_int_eq(write(fds[1], "x", 1), 1);
		p.reads = 0;
		run_until(loop, &p.reads, 1, 5000);
		ck_assert_int_eq(p.reads, 1);
		kp_loop_unwatch(loop, hi);
		close(hi);
		close(fds[0]);
		close(fds[1]);
	}
	kp_loop_free(loop);
}
END_TEST

#define POSTERS 4
#define POSTS 2000

struct post_ctx {
	struct kp_loop *loop;
	int last[POSTERS];
	atomic_int total;
	int out_of_order;
};

struct post_msg {
	struct post_ctx *ctx;
	int thread, seq;
};

static void on_post(void *arg)
{
	struct post_msg *m = arg;

	if (m->seq != m->ctx->last[m->thread] + 1)
		m->ctx->out_of_order++;
	m->ctx->last[m->thread] = m->seq;
	atomic_fetch_add(&m->ctx->total, 1);
	free(m);
}

struct poster {
	struct post_ctx *ctx;
	int id;
};

static void *poster_main(void *arg)
{
	struct poster *p = arg;

	for (int i = 0; i < POSTS; i++) {
		struct post_msg *m = malloc(sizeof(*m));

		m->ctx = p->ctx;
		m->thread = p->id;
		m->seq = i;
		ck_assert_int_eq(kp_loop_post(p->ctx->loop, on_post, m), 0);
	}
	return NULL;
}

static void stop_when_done(void *arg)
{
	struct post_ctx *c = arg;

	if (atomic_load(&c->total) == POSTERS * POSTS)
		kp_loop_stop(c->loop);
}

START_TEST(posts_from_threads_run_on_the_loop_in_order)
{
	struct post_ctx ctx = { .out_of_order = 0 };
	struct poster ps[POSTERS];
	pthread_t th[POSTERS];

	ctx.loop = kp_loop_new();
	for (int i = 0; i < POSTERS; i++)
		ctx.last[i] = -1;
	kp_loop_before_sleep(ctx.loop, stop_when_done, &ctx);
	for (int i = 0; i < POSTERS; i++) {
		ps[i].ctx = &ctx;
		ps[i].id = i;
		pthread_create(&th[i], NULL, poster_main, &ps[i]);
	}
	ck_assert_int_eq(kp_loop_run(ctx.loop), 0);
	for (int i = 0; i < POSTERS; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(atomic_load(&ctx.total), POSTERS * POSTS);
	ck_assert_int_eq(ctx.out_of_order, 0);
	kp_loop_free(ctx.loop);
}
END_TEST

static void *stopper_main(void *arg)
{
	usleep(20000);
	kp_loop_stop(arg);
	return NULL;
}

START_TEST(stop_from_another_thread_wakes_an_idle_loop)
{
	struct kp_loop *loop = kp_loop_new();
	pthread_t th;

	pthread_create(&th, NULL, stopper_main, loop);
	ck_assert_int_eq(kp_loop_run(loop), 0);	/* would block forever otherwise */
	pthread_join(th, NULL);
	/* a stop before run makes run return at once */
	kp_loop_stop(loop);
	ck_assert_int_eq(kp_loop_run(loop), 0);
	kp_loop_free(loop);
}
END_TEST

/* An embedded call: queued in order with allocated ones, queued again
 * once it ran, and dropped unfreed by kp_loop_free. */
struct embedded {
	struct kp_loop_call call;
	int runs;
	int order[4];
	int n;
};

static void on_embedded(void *arg)
{
	struct embedded *e = arg;

	e->order[e->n++ % 4] = 1;
	e->runs++;
}

static void on_plain(void *arg)
{
	struct embedded *e = arg;

	e->order[e->n++ % 4] = 2;
}

START_TEST(embedded_calls_run_in_order_and_requeue)
{
	struct kp_loop *loop = kp_loop_new();
	struct embedded e = { .n = 0 };

	ck_assert_ptr_nonnull(loop);
	kp_loop_call_init(&e.call, on_embedded, &e);
	ck_assert_int_eq(kp_loop_post(loop, on_plain, &e), 0);
	kp_loop_post_call(loop, &e.call);
	ck_assert_int_eq(kp_loop_post(loop, on_plain, &e), 0);
	for (int i = 0; i < 5 && e.n < 3; i++)
		kp_loop_run_once(loop, 100);
	ck_assert_int_eq(e.n, 3);
	ck_assert_int_eq(e.order[0], 2);
	ck_assert_int_eq(e.order[1], 1);
	ck_assert_int_eq(e.order[2], 2);
	/* once run, it may be queued again; queued and never run, the loop
	 * drops it without freeing it (it is e's) */
	kp_loop_post_call(loop, &e.call);
	for (int i = 0; i < 5 && e.runs < 2; i++)
		kp_loop_run_once(loop, 100);
	ck_assert_int_eq(e.runs, 2);
	kp_loop_post_call(loop, &e.call);
	kp_loop_free(loop);
	ck_assert_int_eq(e.runs, 2);
}
END_TEST

START_TEST(log_lines_have_level_ident_and_filtering)
{
	int fds[2];
	char buf[4096];
	ssize_t n;

	unsetenv("JOURNAL_STREAM");
	ck_assert_int_eq(pipe(fds), 0);
	kp_log_set_fd(fds[1]);
	kp_log_set_ident("check[7]");
	kp_log_set_level(KP_LOG_INFO);
	KP_INFO("hello %d", 42);
	KP_DEBUG("not shown %d", 1);
	KP_WARN("careful");
	kp_log_set_fd(-1);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = 0;
	close(fds[0]);
	ck_assert_ptr_nonnull(strstr(buf, "Z INFO check[7]: hello 42\n"));
	ck_assert_ptr_nonnull(strstr(buf, " WARN check[7]: careful\n"));
	ck_assert_ptr_null(strstr(buf, "not shown"));
	ck_assert_int_eq(kp_log_level_parse("debug"), KP_LOG_DEBUG);
	ck_assert_int_eq(kp_log_level_parse("WARNING"), KP_LOG_WARN);
	ck_assert_int_eq(kp_log_level_parse("loud"), -1);
}
END_TEST

static Suite *loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, timers_fire_in_deadline_order);
	tcase_add_test(tc, stopped_timers_never_fire);
	tcase_add_test(tc, a_timer_rearmed_in_its_callback_waits_for_the_next_round);
	tcase_add_test(tc, file_events_deliver_and_unwatch);
	tcase_add_test(tc, posts_from_threads_run_on_the_loop_in_order);
	tcase_add_test(tc, stop_from_another_thread_wakes_an_idle_loop);
	tcase_add_test(tc, embedded_calls_run_in_order_and_requeue);
	tcase_add_test(tc, log_lines_have_level_ident_and_filtering);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(loop_suite());
}
