/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_group_table.c - the group coordinator's pure bookkeeping
 * (kbroker/group_table.c): the protocol chosen by vote (Kafka's
 * selectProtocol), which newcomers a group takes (supportsProtocols),
 * the member ids handed out with MEMBER_ID_REQUIRED (KIP-394) until they
 * are used or expire, member ids and hosts as Kafka writes them, members
 * leaving with their parked requests answered, a group's removal, and
 * committed offsets.
 */
#include <check.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "group_table.h"
#include "kp_errors.h"
#include "kp_log.h"

static struct group_table table;

static void setup(void)
{
	kp_log_set_level(KP_LOG_ERROR);
	ck_assert_int_eq(group_table_init(&table), 0);
}

static void teardown(void)
{
	group_table_free(&table);
}

/* A member called id supporting the protocols named in the
 * NULL-terminated list, each with metadata "<name>-meta". */
static struct group_member *member(struct group *g, const char *id, ...)
{
	struct group_member *m = calloc(1, sizeof(*m));
	struct group_protocol_ref ps[8];
	char meta[8][64];
	int32_t n = 0;
	va_list ap;

	ck_assert_ptr_nonnull(m);
	m->id = strdup(id);
	va_start(ap, id);
	for (const char *name; (name = va_arg(ap, const char *)) != NULL; n++) {
		snprintf(meta[n], sizeof(meta[n]), "%s-meta", name);
		ps[n].name = kp_str_c(name);
		ps[n].meta = (kp_bytes){ (const uint8_t *)meta[n], (int32_t)strlen(meta[n]) };
	}
	va_end(ap);
	ck_assert_int_eq(group_member_set_protocols(m, ps, n), 0);
	group_member_append(g, m);
	return m;
}

static struct group *new_group(const char *id)
{
	struct group *g = group_table_add(&table, kp_str_c(id), 3);

	ck_assert_ptr_nonnull(g);
	return g;
}

/* ------------------------------------------------------------ the vote */

START_TEST(one_member_gets_its_first_choice)
{
	struct group *g = new_group("v1");

	member(g, "a", "range", "roundrobin", NULL);
	ck_assert_str_eq(group_select_protocol(g), "range");
}
END_TEST

START_TEST(a_tie_goes_to_the_first_members_order)
{
	struct group *g = new_group("v2");

	member(g, "a", "range", "roundrobin", NULL);
	member(g, "b", "roundrobin", "range", NULL);
	ck_assert_str_eq(group_select_protocol(g), "range");
}
END_TEST

START_TEST(only_protocols_every_member_supports_are_candidates)
{
	struct group *g = new_group("v3");

	member(g, "a", "range", "roundrobin", NULL);
	member(g, "b", "range", "roundrobin", NULL);
	member(g, "c", "roundrobin", NULL);
	/* a and b prefer range, but c cannot use it */
	ck_assert_str_eq(group_select_protocol(g), "roundrobin");
}
END_TEST

START_TEST(each_member_votes_for_its_first_candidate)
{
	struct group *g = new_group("v4");

	/* candidates: roundrobin and sticky (b lacks range); a votes
	 * roundrobin, b and c sticky */
	member(g, "a", "range", "roundrobin", "sticky", NULL);
	member(g, "b", "sticky", "roundrobin", NULL);
	member(g, "c", "sticky", "range", "roundrobin", NULL);
	ck_assert_str_eq(group_select_protocol(g), "sticky");
}
END_TEST

START_TEST(no_common_protocol_no_choice)
{
	struct group *g = new_group("v5");

	ck_assert_ptr_null(group_select_protocol(g));	/* nobody */
	member(g, "a", "range", NULL);
	member(g, "b", "roundrobin", NULL);
	ck_assert_ptr_null(group_select_protocol(g));
}
END_TEST

/* ------------------------------------------------------ who may join */

START_TEST(newcomers_need_a_protocol_every_member_supports)
{
	struct group *g = new_group("s1");
	struct group_protocol_ref rr = { kp_str_c("roundrobin"), { (const uint8_t *)"x", 1 } };
	struct group_protocol_ref both[2] = {
		{ kp_str_c("sticky"), { NULL, 0 } }, rr,
	};

	/* an empty group takes any type with some protocol */
	ck_assert(group_supports_protocols(g, kp_str_c("consumer"), &rr, 1));
	ck_assert(!group_supports_protocols(g, kp_str_c("consumer"), &rr, 0));
	ck_assert(!group_supports_protocols(g, kp_str_c(""), &rr, 1));
	ck_assert(!group_supports_protocols(g, KP_STR_NULL, &rr, 1));
	g->protocol_type = strdup("consumer");
	member(g, "a", "range", "roundrobin", NULL);
	member(g, "b", "roundrobin", NULL);
	ck_assert(group_supports_protocols(g, kp_str_c("consumer"), &rr, 1));
	ck_assert(group_supports_protocols(g, kp_str_c("consumer"), both, 2));
	ck_assert(!group_supports_protocols(g, kp_str_c("consumer"), both, 1));
	ck_assert(!group_supports_protocols(g, kp_str_c("connect"), &rr, 1));
}
END_TEST

START_TEST(protocols_are_copied_and_compared_exactly)
{
	struct group *g = new_group("s2");
	struct group_member *m = member(g, "a", "range", "roundrobin", NULL);
	struct group_protocol_ref same[2] = {
		{ kp_str_c("range"), { (const uint8_t *)"range-meta", 10 } },
		{ kp_str_c("roundrobin"), { (const uint8_t *)"roundrobin-meta", 15 } },
	};
	struct group_protocol_ref other_meta[2] = {
		same[0], { kp_str_c("roundrobin"), { (const uint8_t *)"roundrobin-metA", 15 } },
	};
	struct group_protocol_ref swapped[2] = { same[1], same[0] };

	ck_assert(group_member_same_protocols(m, same, 2));
	ck_assert(!group_member_same_protocols(m, same, 1));
	ck_assert(!group_member_same_protocols(m, other_meta, 2));
	ck_assert(!group_member_same_protocols(m, swapped, 2));
	ck_assert_ptr_nonnull(group_member_protocol(m, "roundrobin"));
	ck_assert_int_eq(group_member_protocol(m, "roundrobin")->len, 15);
	ck_assert_ptr_null(group_member_protocol(m, "sticky"));
	ck_assert_ptr_null(group_member_protocol(m, NULL));
	ck_assert_int_eq(group_member_set_protocols(m, swapped, 2), 0);
	ck_assert(group_member_same_protocols(m, swapped, 2));
	ck_assert_str_eq(m->protocols[0].name, "roundrobin");
}
END_TEST

/* ------------------------------------------- member ids handed out */

START_TEST(handed_out_ids_are_taken_once)
{
	struct group *g = new_group("h1");
	char *a = group_member_id_new("client"), *b = group_member_id_new("client");
	char *a_copy = strdup(a), *taken;

	ck_assert_str_ne(a, b);
	ck_assert_int_eq(group_pending_add(g, a, 1000), 0);
	ck_assert_int_eq(group_pending_add(g, b, 2000), 0);
	ck_assert(group_pending_has(g, kp_str_c(a_copy)));
	ck_assert(!group_pending_has(g, kp_str_c("client-other")));
	ck_assert_ptr_null(group_pending_take(g, kp_str_c("client-other")));
	taken = group_pending_take(g, kp_str_c(a_copy));
	ck_assert_ptr_nonnull(taken);
	ck_assert_str_eq(taken, a_copy);	/* the caller owns it now */
	free(taken);
	ck_assert(!group_pending_has(g, kp_str_c(a_copy)));
	ck_assert_ptr_null(group_pending_take(g, kp_str_c(a_copy)));
	ck_assert_ptr_nonnull(g->pending);
	free(a_copy);
}
END_TEST

START_TEST(handed_out_ids_expire_at_their_deadline)
{
	struct group *g = new_group("h2");
	char *a = group_member_id_new("c"), *b = group_member_id_new("c");
	char *b_copy = strdup(b);

	ck_assert_int_eq(group_pending_add(g, a, 1000), 0);
	ck_assert_int_eq(group_pending_add(g, b, 2000), 0);
	ck_assert_int_eq(group_pending_expire(g, 999), 0);
	ck_assert_int_eq(group_pending_expire(g, 1000), 1);	/* a, at its deadline */
	ck_assert(group_pending_has(g, kp_str_c(b_copy)));
	ck_assert_int_eq(group_pending_expire(g, 1999), 0);
	ck_assert_int_eq(group_pending_expire(g, 5000), 1);
	ck_assert_ptr_null(g->pending);
	free(b_copy);
}
END_TEST

START_TEST(member_ids_are_prefix_and_uuid4)
{
	char *id = group_member_id_new("rdkafka");
	const char *u;

	ck_assert_ptr_nonnull(id);
	ck_assert_uint_eq(strlen(id), strlen("rdkafka-") + 36);
	ck_assert(strncmp(id, "rdkafka-", 8) == 0);
	u = id + 8;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			ck_assert_int_eq(u[i], '-');
		else
			ck_assert(isxdigit((unsigned char)u[i]) && !isupper((unsigned char)u[i]));
	}
	ck_assert_int_eq(u[14], '4');				/* version 4 */
	ck_assert(strchr("89ab", u[19]) != NULL);		/* RFC 4122 variant */
	free(id);
	id = group_member_id_new("");
	ck_assert_int_eq(id[0], '-');
	free(id);
}
END_TEST

START_TEST(client_host_is_slash_ip)
{
	char *h = group_client_host("127.0.0.1:54321");

	ck_assert_str_eq(h, "/127.0.0.1");
	free(h);
	h = group_client_host("no-port");
	ck_assert_str_eq(h, "/no-port");
	free(h);
}
END_TEST

/* ------------------------------------------------- parked requests */

struct answer {
	int calls;
	int16_t err;
	char member_id[128];
	const struct group_member *m;
};

static void record(void *req, const struct group_reply *rep)
{
	struct answer *a = req;

	a->calls++;
	a->err = rep->err;
	snprintf(a->member_id, sizeof(a->member_id), "%s",
		 rep->member_id != NULL ? rep->member_id : "");
	a->m = rep->m;
}

START_TEST(leaving_members_answer_what_they_parked)
{
	struct group *g = new_group("p1");
	struct group_member *a = member(g, "a", "range", NULL);
	struct group_member *b = member(g, "b", "range", NULL);
	struct answer join = { 0 }, sync = { 0 };

	member(g, "c", "range", NULL);
	ck_assert_str_eq(g->leader, "a");	/* the first to come */
	a->join = (struct group_parked){ &join, record };
	a->sync = (struct group_parked){ &sync, record };
	group_member_unlink(g, a);
	ck_assert_int_eq(join.calls, 1);
	ck_assert_int_eq(join.err, KP_ERR_UNKNOWN_MEMBER_ID);
	ck_assert_str_eq(join.member_id, "a");
	ck_assert_int_eq(sync.calls, 1);
	ck_assert_int_eq(sync.err, KP_ERR_UNKNOWN_MEMBER_ID);
	/* the leadership passes to the oldest who is left */
	ck_assert_str_eq(g->leader, "b");
	ck_assert_int_eq(g->nmembers, 2);
	ck_assert_ptr_eq(g->members, b);
	ck_assert_ptr_null(group_member_find(g, kp_str_c("a")));
	ck_assert_ptr_eq(group_member_find(g, kp_str_c("b")), b);
}
END_TEST

START_TEST(a_parked_request_is_answered_once)
{
	struct group *g = new_group("p2");
	struct group_member *a = member(g, "a", "range", NULL);
	struct answer ans = { 0 };

	a->join = (struct group_parked){ &ans, record };
	group_parked_reply(&a->join, &(struct group_reply){ .g = g, .m = a });
	ck_assert_int_eq(ans.calls, 1);
	ck_assert_int_eq(ans.err, 0);
	ck_assert_ptr_eq(ans.m, a);
	ck_assert_ptr_null(a->join.req);
	group_parked_error(&a->join, KP_ERR_UNKNOWN_MEMBER_ID, "a");
	ck_assert_int_eq(ans.calls, 1);
}
END_TEST

START_TEST(static_members_are_found_by_instance_id)
{
	struct group *g = new_group("p3");
	struct group_member *a = member(g, "a", "range", NULL);

	a->instance_id = strdup("host-1");
	ck_assert_ptr_eq(group_member_by_instance(g, kp_str_c("host-1")), a);
	ck_assert_ptr_null(group_member_by_instance(g, kp_str_c("host-2")));
	ck_assert_ptr_null(group_member_by_instance(g, KP_STR_NULL));
}
END_TEST

START_TEST(a_removed_group_is_dead_and_answers_not_coordinator)
{
	struct group_thread th;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct group *g = new_group("r1"), *h = new_group("r2");
	struct group_member *a = member(g, "a", "range", NULL);
	struct answer join = { 0 };

	ck_assert_int_eq(group_thread_init(&th, &lock), 0);
	ck_assert_int_eq(group_thread_reserve(&th, 4), 0);
	group_deadline_init(&g->wake, NULL, NULL);
	group_deadline_set(&th, &g->wake, 12345);
	ck_assert_uint_eq(th.n, 1);
	a->join = (struct group_parked){ &join, record };
	ck_assert_ptr_eq(group_table_find(&table, kp_str_c("r1")), g);
	g->nwrites = 1;			/* an append still points to it */
	group_remove(&table, &th, g);
	ck_assert_ptr_null(group_table_find(&table, kp_str_c("r1")));
	ck_assert_ptr_eq(group_table_find(&table, kp_str_c("r2")), h);
	ck_assert_uint_eq(table.ngroups, 1);
	ck_assert_uint_eq(th.n, 0);		/* out of the deadline heap */
	ck_assert(g->removed);
	ck_assert_int_eq(g->fsm.state, GROUP_DEAD);
	ck_assert_int_eq(join.calls, 1);
	ck_assert_int_eq(join.err, KP_ERR_NOT_COORDINATOR);
	ck_assert_int_eq(g->nmembers, 0);
	group_unref(g);			/* the append is done: freed */
	group_thread_free(&th);
}
END_TEST

/* ------------------------------------------------------------ offsets */

static struct group_offset *offset(const char *topic, int32_t partition, int64_t off)
{
	struct group_offset *o = calloc(1, sizeof(*o));

	ck_assert_ptr_nonnull(o);
	o->topic = strdup(topic);
	o->partition = partition;
	o->offset = off;
	o->expire_ts = -1;
	return o;
}

START_TEST(offsets_are_kept_per_partition)
{
	struct group *g = new_group("o1");
	char name[32];

	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "t%d", i % 7);
		group_offset_put(g, offset(name, i, i * 10));
	}
	ck_assert_uint_eq(g->noffsets, 100);
	ck_assert_int_eq(group_offset_find(g, "t3", 2, 3)->offset, 30);
	ck_assert_ptr_null(group_offset_find(g, "t3", 2, 4));
	ck_assert_ptr_null(group_offset_find(g, "t", 1, 3));
	/* a commit replaces */
	group_offset_put(g, offset("t3", 3, 31));
	ck_assert_uint_eq(g->noffsets, 100);
	ck_assert_int_eq(group_offset_find(g, "t3", 2, 3)->offset, 31);
	group_offset_del(g, group_offset_find(g, "t3", 2, 3));
	ck_assert_uint_eq(g->noffsets, 99);
	ck_assert_ptr_null(group_offset_find(g, "t3", 2, 3));
}
END_TEST

START_TEST(the_table_grows)
{
	char name[32];

	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "group-%d", i);
		ck_assert_ptr_nonnull(group_table_add(&table, kp_str_c(name), i % 50));
	}
	ck_assert_uint_eq(table.ngroups, 1000);
	for (int i = 0; i < 1000; i++) {
		struct group *g;

		snprintf(name, sizeof(name), "group-%d", i);
		g = group_table_find(&table, kp_str_c(name));
		ck_assert_ptr_nonnull(g);
		ck_assert_str_eq(g->id, name);
		ck_assert_int_eq(g->opart, i % 50);
		ck_assert_int_eq(g->fsm.state, GROUP_EMPTY);
	}
	ck_assert_ptr_null(group_table_find(&table, kp_str_c("group-1000")));
	ck_assert_ptr_null(group_table_find(&table, KP_STR_NULL));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("group_table");
	TCase *vote = tcase_create("vote");
	TCase *join = tcase_create("join");
	TCase *members = tcase_create("members");
	TCase *data = tcase_create("data");

	tcase_add_checked_fixture(vote, setup, teardown);
	tcase_add_test(vote, one_member_gets_its_first_choice);
	tcase_add_test(vote, a_tie_goes_to_the_first_members_order);
	tcase_add_test(vote, only_protocols_every_member_supports_are_candidates);
	tcase_add_test(vote, each_member_votes_for_its_first_candidate);
	tcase_add_test(vote, no_common_protocol_no_choice);
	suite_add_tcase(s, vote);
	tcase_add_checked_fixture(join, setup, teardown);
	tcase_add_test(join, newcomers_need_a_protocol_every_member_supports);
	tcase_add_test(join, protocols_are_copied_and_compared_exactly);
	tcase_add_test(join, handed_out_ids_are_taken_once);
	tcase_add_test(join, handed_out_ids_expire_at_their_deadline);
	tcase_add_test(join, member_ids_are_prefix_and_uuid4);
	tcase_add_test(join, client_host_is_slash_ip);
	suite_add_tcase(s, join);
	tcase_add_checked_fixture(members, setup, teardown);
	tcase_add_test(members, leaving_members_answer_what_they_parked);
	tcase_add_test(members, a_parked_request_is_answered_once);
	tcase_add_test(members, static_members_are_found_by_instance_id);
	tcase_add_test(members, a_removed_group_is_dead_and_answers_not_coordinator);
	suite_add_tcase(s, members);
	tcase_add_checked_fixture(data, setup, teardown);
	tcase_add_test(data, offsets_are_kept_per_partition);
	tcase_add_test(data, the_table_grows);
	suite_add_tcase(s, data);
	return s;
}

int main(void)
{
	return check_run(suite());
}
