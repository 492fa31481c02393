/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_client_quota.c - client quotas on their own (client_quota.h):
 * Kafka's precedence of the eight entity levels and the static default,
 * the sensor tags, Kafka's Rate over its samples and the throttle times
 * that come of it (byte rates and request_percentage's one-window cap),
 * the max bytes a fetch may return, and the name sanitizer.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "check_run.h"
#include "client_quota.h"

#define D CQ_DEFAULT_NAME

static struct client_quotas *q;

static void setup(void)
{
	q = cq_new(11, 1, INT64_MAX, INT64_MAX);
	ck_assert_ptr_nonnull(q);
}

static void teardown(void)
{
	cq_free(q);
}

static void set(const char *u, const char *c, double producer)
{
	bool has[CQ_NTYPES] = { true, false, false };
	double v[CQ_NTYPES] = { producer, 0, 0 };

	ck_assert_int_eq(cq_set_entity(q, u, c, has, v), 0);
}

static void unset(const char *u, const char *c)
{
	ck_assert_int_eq(cq_set_entity(q, u, c, NULL, NULL), 0);
}

/* The producer bound for (user, client), and its tags. */
static double limit(const char *u, const char *c, char *tu, char *tc)
{
	double v;

	cq_resolve(q, u, c, CQ_PRODUCE, tu, tc, 256, &v);
	return v;
}

START_TEST(no_quota_is_unlimited)
{
	char tu[256], tc[256];

	ck_assert(!cq_enabled(q));
	ck_assert(limit("alice", "app", tu, tc) < 0);
	/* NoQuotas: the client id alone tags the sensor */
	ck_assert_str_eq(tu, "");
	ck_assert_str_eq(tc, "app");
}
END_TEST

/* Each level in turn, from the lowest: the next one up takes over. */
START_TEST(eight_levels_in_kafkas_order)
{
	char tu[256], tc[256];

	set(NULL, D, 8);
	ck_assert(cq_enabled(q));
	ck_assert(limit("alice", "app", tu, tc) == 8);
	ck_assert_str_eq(tu, "");
	ck_assert_str_eq(tc, "app");
	set(NULL, "app", 7);
	ck_assert(limit("alice", "app", tu, tc) == 7);
	set("<default>", NULL, 6);
	ck_assert(limit("alice", "app", tu, tc) == 6);
	ck_assert_str_eq(tu, "alice");
	ck_assert_str_eq(tc, "");	/* a user quota: all its clients share */
	set("alice", NULL, 5);
	ck_assert(limit("alice", "app", tu, tc) == 5);
	ck_assert_str_eq(tc, "");
	set(D, D, 4);
	ck_assert(limit("alice", "app", tu, tc) == 5);	/* user still wins over (<default>, <default>) */
	unset("alice", NULL);
	ck_assert(limit("alice", "app", tu, tc) == 4);
	ck_assert_str_eq(tu, "alice");
	ck_assert_str_eq(tc, "app");
	set("alice", NULL, 5);
	set(D, "app", 3);
	ck_assert(limit("alice", "app", tu, tc) == 5);
	set("alice", D, 2);
	ck_assert(limit("alice", "app", tu, tc) == 2);
	ck_assert_str_eq(tu, "alice");
	ck_assert_str_eq(tc, "app");
	set("alice", "app", 1);
	ck_assert(limit("alice", "app", tu, tc) == 1);
	/* another user and client of the same table */
	ck_assert(limit("bob", "app", tu, tc) == 3);	/* <default>/clients/app */
	ck_assert(limit("bob", "other", tu, tc) == 4);	/* <default>/clients/<default> */
	ck_assert(limit("alice", "other", tu, tc) == 2);/* alice/clients/<default> */
	unset("alice", D);
	ck_assert(limit("alice", "other", tu, tc) == 5);
	unset("alice", NULL);
	ck_assert(limit("alice", "other", tu, tc) == 4);
	unset(D, D);
	ck_assert(limit("alice", "other", tu, tc) == 6);	/* users/<default> */
	unset(D, NULL);
	unset(D, "app");
	unset("alice", "app");
	ck_assert(limit("alice", "other", tu, tc) == 8);
	ck_assert(limit("alice", "app", tu, tc) == 7);
}
END_TEST

START_TEST(static_default_is_the_last_level)
{
	struct client_quotas *s = cq_new(11, 1, 5000, INT64_MAX);
	char tu[256], tc[256];
	double v;

	ck_assert(cq_enabled(s));
	cq_resolve(s, "ANONYMOUS", "x", CQ_PRODUCE, tu, tc, sizeof(tu), &v);
	ck_assert(v == 5000);
	cq_resolve(s, "ANONYMOUS", "x", CQ_FETCH, tu, tc, sizeof(tu), &v);
	ck_assert(v < 0);
	cq_free(s);
}
END_TEST

/* A fresh window counts at least num-1 samples of time. */
START_TEST(rate_over_samples)
{
	struct cq_rate_state r;

	cq_rate_init(&r, 11, 1000);
	cq_rate_record(&r, 1000, 0);
	ck_assert_int_eq(cq_rate_window(&r, 0), 10000);
	ck_assert(cq_rate_measure(&r, 0) == 100.0);	/* 1000 B over 10 s */
	for (int64_t t = 1000; t <= 20000; t += 1000)
		cq_rate_record(&r, 1000, t);
	/* 11 samples of 1000 B, the oldest started 10 s ago */
	ck_assert_int_eq(cq_rate_window(&r, 20000), 10000);
	ck_assert(cq_rate_measure(&r, 20000) == 1100.0);
	ck_assert_int_eq(cq_rate_window(&r, 20500), 10500);
	/* nothing for longer than the whole window: all samples go */
	ck_assert(cq_rate_measure(&r, 40000) == 0);
}
END_TEST

START_TEST(throttle_times)
{
	/* Kafka's QuotaUtils.throttleTime: (rate - bound) / bound * window */
	ck_assert_int_eq(cq_throttle_ms(1500, 1000, 10000), 5000);
	ck_assert_int_eq(cq_throttle_ms(1000, 1000, 10000), 0);
	ck_assert_int_eq(cq_throttle_ms(999, 1000, 10000), 0);
}
END_TEST

START_TEST(record_throttles_over_the_bound)
{
	int which;
	int32_t ms;

	set(NULL, "p", 1000);
	/* 10 s of credit at first: 10000 B pass, the next byte does not */
	ms = cq_record(q, "ANONYMOUS", "p", CQ_PRODUCE, 10000, -1, 0, &which);
	ck_assert_int_eq(ms, 0);
	ck_assert_int_eq(which, CQ_NTYPES);
	ms = cq_record(q, "ANONYMOUS", "p", CQ_PRODUCE, 5000, -1, 100, &which);
	ck_assert_int_eq(which, CQ_PRODUCE);
	/* 15000 B over 10.1 s (100 ms + the 10 s minimum): 1485 B/s, so
	 * (1485 - 1000) / 1000 * 10100 ms */
	ck_assert_int_eq(ms, 4900);
	/* another client id is not held back */
	ms = cq_record(q, "ANONYMOUS", "q", CQ_PRODUCE, 1000000, -1, 100, &which);
	ck_assert_int_eq(ms, 0);
	/* the most a fetch may take: bound x (num - 1) x window */
	ck_assert_int_eq(cq_max_in_window(q, "ANONYMOUS", "p", CQ_PRODUCE), 10000);
	ck_assert_int_eq(cq_max_in_window(q, "ANONYMOUS", "p", CQ_FETCH), INT64_MAX);
}
END_TEST

START_TEST(request_percentage_capped_at_one_window)
{
	bool has[CQ_NTYPES] = { false, false, true };
	double v[CQ_NTYPES] = { 0, 0, 10 };
	int which;
	int32_t ms;

	ck_assert_int_eq(cq_set_entity(q, "u", NULL, has, v), 0);
	/* 0.5 s of one thread: 50 % over 10 s is 5 %, under the 10 % */
	ms = cq_record(q, "u", "c", CQ_NTYPES, 0, 500000, 0, &which);
	ck_assert_int_eq(ms, 0);
	/* 5 s more: 5.5 s of thread time in 10.01 s is about 55 % */
	ms = cq_record(q, "u", "c", CQ_NTYPES, 0, 5000000, 10, &which);
	ck_assert_int_eq(which, CQ_REQUEST);
	/* (55 - 10) / 10 * 10010 ms is about 45 s: capped at one window */
	ck_assert_int_eq(ms, 1000);
}
END_TEST

START_TEST(sanitizer)
{
	char out[64], back[64];

	ck_assert_int_eq(cq_sanitize("app-1_x.y~", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "app-1_x.y~");
	ck_assert_int_eq(cq_sanitize("CN=a b*", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "CN%3Da%20b%2A");
	ck_assert_int_eq(cq_desanitize(out, back, sizeof(back)), 0);
	ck_assert_str_eq(back, "CN=a b*");
	ck_assert_int_eq(cq_sanitize("////////", out, 8), -1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("client_quota");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, no_quota_is_unlimited);
	tcase_add_test(tc, eight_levels_in_kafkas_order);
	tcase_add_test(tc, static_default_is_the_last_level);
	tcase_add_test(tc, rate_over_samples);
	tcase_add_test(tc, throttle_times);
	tcase_add_test(tc, record_throttles_over_the_bound);
	tcase_add_test(tc, request_percentage_capped_at_one_window);
	tcase_add_test(tc, sanitizer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
