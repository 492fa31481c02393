/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_plan.c - the partition tools' JSON files and a reassignment's
 * throttles (tools/plan.c): Kafka's formats and messages, every value
 * checked, and Kafka 2.8's move map with reassignments in progress.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "plan.h"

static struct kp_arena a;
static char err[1024];

static void setup(void)
{
	kp_arena_init(&a, 0);
	err[0] = '\0';
}

static void teardown(void)
{
	kp_arena_free(&a);
}

static int parse(const char *json, struct plan *p)
{
	return plan_parse_reassignment(&a, json, strlen(json), p, err,
				       sizeof(err));
}

/* parse() must fail with a message containing want. */
static void refused(const char *json, const char *want)
{
	struct plan p;

	err[0] = '\0';
	ck_assert_msg(parse(json, &p) == -1, "accepted: %s", json);
	ck_assert_msg(strstr(err, want) != NULL, "%s: message '%s' lacks '%s'",
		      json, err, want);
}

START_TEST(reassignment_is_parsed)
{
	struct plan p;

	ck_assert_int_eq(parse("{\"version\":1,\"partitions\":["
			       "{\"topic\":\"t\",\"partition\":1,\"replicas\":[3,1],"
			       "\"log_dirs\":[\"any\",\"any\"]},"
			       "{\"topic\":\"a\",\"partition\":0,\"replicas\":[2]}]}",
			       &p), 0);
	ck_assert_int_eq(p.nparts, 2);
	ck_assert_str_eq(p.parts[0].topic, "t");
	ck_assert_int_eq(p.parts[0].partition, 1);
	ck_assert_int_eq(p.parts[0].nreplicas, 2);
	ck_assert_int_eq(p.parts[0].replicas[0], 3);
	ck_assert_int_eq(p.parts[0].replicas[1], 1);
	ck_assert_int_eq(p.parts[1].nreplicas, 1);
	ck_assert_int_eq(plan_check(&p, err, sizeof(err)), 0);
	/* Sorted as Kafka prints: by topic, then partition. */
	plan_sort(&p);
	ck_assert_str_eq(p.parts[0].topic, "a");
	/* No "version" means 1; no "partitions" an empty plan. */
	ck_assert_int_eq(parse("{\"partitions\":[]}", &p), 0);
	ck_assert_int_eq(p.nparts, 0);
	ck_assert_int_eq(parse("{\"version\":1}", &p), 0);
	ck_assert_int_eq(p.nparts, 0);
}
END_TEST

START_TEST(malformed_reassignment_is_refused)
{
	refused("", "not valid JSON");
	refused("{\"partitions\":[", "not valid JSON");
	refused("[1]", "not a JSON object");
	refused("{\"version\":2,\"partitions\":[]}",
		"Not supported version field value 2");
	refused("{\"version\":\"1\"}", "\"version\" must be a whole number");
	refused("{\"partitions\":{}}", "\"partitions\" must be an array");
	refused("{\"partitions\":[1]}", "entry 0 is not an object");
	refused("{\"partitions\":[{\"partition\":0,\"replicas\":[1]}]}",
		"\"topic\" must be a non-empty string");
	refused("{\"partitions\":[{\"topic\":\"\",\"partition\":0,\"replicas\":[1]}]}",
		"\"topic\" must be a non-empty string");
	refused("{\"partitions\":[{\"topic\":\"a\\u0000b\",\"partition\":0,"
		"\"replicas\":[1]}]}", "not valid JSON");
	refused("{\"partitions\":[{\"topic\":\"t\",\"replicas\":[1]}]}",
		"\"partition\" is missing");
	refused("{\"partitions\":[{\"topic\":\"t\",\"partition\":-1,\"replicas\":[1]}]}",
		"-1 is not from 0 to 2147483647");
	refused("{\"partitions\":[{\"topic\":\"t\",\"partition\":2147483648,"
		"\"replicas\":[1]}]}", "2147483648 is not from 0");
	refused("{\"partitions\":[{\"topic\":\"t\",\"partition\":1.5,\"replicas\":[1]}]}",
		"must be a whole number");
	refused("{\"partitions\":[{\"topic\":\"t\",\"partition\":0}]}",
		"t-0: \"replicas\" must be an array");
	refused("{\"partitions\":[{\"topic\":\"t\",\"partition\":0,\"replicas\":[1,\"2\"]}]}",
		"t-0: broker id must be a whole number");
	refused("{\"partitions\":[{\"topic\":\"t\",\"partition\":0,\"replicas\":[-3]}]}",
		"broker id -3 is not from 0");
	refused("{\"partitions\":[{\"topic\":\"t\",\"partition\":0,\"replicas\":[1,2],"
		"\"log_dirs\":[\"any\"]}]}",
		"Size of replicas list 1,2 is different from size of log dirs "
		"list (1 entries) for partition t-0");
	refused("{\"partitions\":[{\"topic\":\"t\",\"partition\":0,\"replicas\":[1],"
		"\"log_dirs\":[7]}]}", "entries must be strings");
	refused("{\"partitions\":[],\"partitions\":[]}", "not valid JSON");
}
END_TEST

/* log_dirs other than "any" name the dir each replica must move to
 * (AlterReplicaLogDirs), "any" none. */
START_TEST(log_dirs_are_kept_per_replica)
{
	struct plan p;

	ck_assert_int_eq(parse("{\"partitions\":[{\"topic\":\"t\",\"partition\":0,"
			       "\"replicas\":[1,2],\"log_dirs\":[\"any\",\"/var/lib/a\"]},"
			       "{\"topic\":\"t\",\"partition\":1,\"replicas\":[1],"
			       "\"log_dirs\":[\"any\"]},"
			       "{\"topic\":\"t\",\"partition\":2,\"replicas\":[1]}]}", &p), 0);
	ck_assert_int_eq(p.nparts, 3);
	ck_assert(p.parts[0].log_dir_moves);
	ck_assert_ptr_null(p.parts[0].log_dirs[0]);
	ck_assert_str_eq(p.parts[0].log_dirs[1], "/var/lib/a");
	ck_assert(!p.parts[1].log_dir_moves);
	ck_assert_ptr_null(p.parts[1].log_dirs[0]);
	ck_assert(!p.parts[2].log_dir_moves);
	ck_assert_ptr_null(p.parts[2].log_dirs);
}
END_TEST

START_TEST(execute_rules_use_kafkas_messages)
{
	struct plan p;

	ck_assert_int_eq(parse("{\"partitions\":[]}", &p), 0);
	ck_assert_int_eq(plan_check(&p, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Partition reassignment list cannot be empty");
	ck_assert_int_eq(parse("{\"partitions\":[{\"topic\":\"t\",\"partition\":0,"
			       "\"replicas\":[]}]}", &p), 0);
	ck_assert_int_eq(plan_check(&p, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Partition replica list cannot be empty");
	ck_assert_int_eq(parse("{\"partitions\":["
			       "{\"topic\":\"b\",\"partition\":1,\"replicas\":[1]},"
			       "{\"topic\":\"a\",\"partition\":0,\"replicas\":[1]},"
			       "{\"topic\":\"b\",\"partition\":1,\"replicas\":[2]},"
			       "{\"topic\":\"a\",\"partition\":0,\"replicas\":[1]},"
			       "{\"topic\":\"a\",\"partition\":0,\"replicas\":[1]},"
			       "{\"topic\":\"a\",\"partition\":1,\"replicas\":[1]}]}",
			       &p), 0);
	ck_assert_int_eq(plan_check(&p, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Partition reassignment contains duplicate topic "
			 "partitions: a-0,b-1");
	ck_assert_int_eq(parse("{\"partitions\":["
			       "{\"topic\":\"a\",\"partition\":0,\"replicas\":[1,2,1]},"
			       "{\"topic\":\"a\",\"partition\":1,\"replicas\":[1,2]},"
			       "{\"topic\":\"b\",\"partition\":1,\"replicas\":[3,2,3,2,2]}]}",
			       &p), 0);
	ck_assert_int_eq(plan_check(&p, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Partition replica lists may not contain duplicate "
			 "entries: a-0 contains multiple entries for 1. b-1 "
			 "contains multiple entries for 2,3");
}
END_TEST

START_TEST(plan_prints_as_kafka)
{
	struct plan p;
	char *s;
	json_t *j;

	ck_assert_int_eq(parse("{\"partitions\":["
			       "{\"topic\":\"t\",\"partition\":10,\"replicas\":[3]},"
			       "{\"topic\":\"t\",\"partition\":2,\"replicas\":[1,2]},"
			       "{\"topic\":\"a\",\"partition\":0,\"replicas\":[2,1]}]}",
			       &p), 0);
	s = plan_to_text(&p);
	ck_assert_str_eq(s, "{\"version\":1,\"partitions\":["
			 "{\"topic\":\"a\",\"partition\":0,\"replicas\":[2,1],"
			 "\"log_dirs\":[\"any\",\"any\"]},"
			 "{\"topic\":\"t\",\"partition\":2,\"replicas\":[1,2],"
			 "\"log_dirs\":[\"any\",\"any\"]},"
			 "{\"topic\":\"t\",\"partition\":10,\"replicas\":[3],"
			 "\"log_dirs\":[\"any\"]}]}");
	/* The printed plan reads back as the same plan. */
	ck_assert_int_eq(parse(s, &p), 0);
	ck_assert_int_eq(p.nparts, 3);
	ck_assert_int_eq(p.parts[2].partition, 10);
	free(s);
	p.nparts = 0;
	j = plan_to_json(&p);
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(s, "{\"version\":1,\"partitions\":[]}");
	free(s);
	json_decref(j);
}
END_TEST

START_TEST(topics_to_move)
{
	const char **t;
	int n;
	const char *ok = "{\"version\":1,\"topics\":[{\"topic\":\"x\"},{\"topic\":\"y\"}]}";
	const char *dup = "{\"topics\":[{\"topic\":\"x\"},{\"topic\":\"y\"},"
			  "{\"topic\":\"x\"},{\"topic\":\"y\"},{\"topic\":\"x\"}]}";
	const char *v2 = "{\"version\":2,\"topics\":[]}";
	const char *bad = "{\"topics\":[{\"name\":\"x\"}]}";

	ck_assert_int_eq(plan_parse_topics(&a, ok, strlen(ok), &t, &n, err,
					   sizeof(err)), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(t[0], "x");
	ck_assert_str_eq(t[1], "y");
	ck_assert_ptr_null(t[2]);
	ck_assert_int_eq(plan_parse_topics(&a, dup, strlen(dup), &t, &n, err,
					   sizeof(err)), -1);
	ck_assert_str_eq(err, "List of topics to reassign contains duplicate "
			 "entries: x,y");
	ck_assert_int_eq(plan_parse_topics(&a, v2, strlen(v2), &t, &n, err,
					   sizeof(err)), -1);
	ck_assert_str_eq(err, "Not supported version field value 2");
	ck_assert_int_eq(plan_parse_topics(&a, bad, strlen(bad), &t, &n, err,
					   sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "\"topic\" must be"));
}
END_TEST

START_TEST(election_file)
{
	struct plan p;
	const char *ok = "{\"partitions\":[{\"topic\":\"foo\",\"partition\":1},"
			 "{\"topic\":\"foobar\",\"partition\":2}]}";
	const char *dup = "{\"partitions\":[{\"topic\":\"foo\",\"partition\":1},"
			  "{\"topic\":\"foo\",\"partition\":1}]}";
	const char *none = "{\"topics\":[]}";
	const char *neg = "{\"partitions\":[{\"topic\":\"foo\",\"partition\":-2}]}";

	ck_assert_int_eq(plan_parse_election(&a, ok, strlen(ok), &p, err,
					     sizeof(err)), 0);
	ck_assert_int_eq(p.nparts, 2);
	ck_assert_str_eq(p.parts[1].topic, "foobar");
	ck_assert_int_eq(p.parts[1].partition, 2);
	ck_assert_int_eq(plan_parse_election(&a, dup, strlen(dup), &p, err,
					     sizeof(err)), -1);
	ck_assert_str_eq(err, "Replica election data contains duplicate "
			 "partitions: foo-1");
	ck_assert_int_eq(plan_parse_election(&a, none, strlen(none), &p, err,
					     sizeof(err)), -1);
	ck_assert_str_eq(err, "Replica election data is missing \"partitions\" "
			 "field");
	ck_assert_int_eq(plan_parse_election(&a, neg, strlen(neg), &p, err,
					     sizeof(err)), -1);
	ck_assert_int_eq(plan_parse_election(&a, "x", 1, &p, err,
					     sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "Replica election data is not valid JSON"));
}
END_TEST

/* A sorted plan grouped by topic, as the partition APIs' requests want it. */
START_TEST(plan_grouped_by_topic)
{
	struct plan p, empty = { 0 };
	struct plan_topic *t;
	int n = -1;
	const char *json = "{\"partitions\":[{\"topic\":\"b\",\"partition\":2},"
			   "{\"topic\":\"a\",\"partition\":7},"
			   "{\"topic\":\"b\",\"partition\":0},"
			   "{\"topic\":\"ab\",\"partition\":1}]}";

	ck_assert_int_eq(plan_parse_election(&a, json, strlen(json), &p, err,
					     sizeof(err)), 0);
	plan_sort(&p);
	t = plan_by_topic(&a, &p, &n);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(t[0].topic, "a");
	ck_assert_int_eq(t[0].nparts, 1);
	ck_assert_int_eq(t[0].partitions[0], 7);
	ck_assert_str_eq(t[1].topic, "ab");
	ck_assert_int_eq(t[1].nparts, 1);
	ck_assert_int_eq(t[1].partitions[0], 1);
	ck_assert_str_eq(t[2].topic, "b");
	ck_assert_int_eq(t[2].nparts, 2);
	ck_assert_int_eq(t[2].partitions[0], 0);
	ck_assert_int_eq(t[2].partitions[1], 2);
	ck_assert_ptr_eq(t[2].parts, &p.parts[2]);
	ck_assert_int_eq(t[2].parts[1].partition, 2);
	t = plan_by_topic(&a, &empty, &n);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(verify_states)
{
	static const int32_t t[] = { 2, 3 }, same[] = { 2, 3 },
			     reordered[] = { 3, 2 }, more[] = { 1, 2, 3 };

	ck_assert_int_eq(plan_state(t, 2, false, same, 2), PLAN_COMPLETE);
	ck_assert_int_eq(plan_state(t, 2, true, same, 2), PLAN_IN_PROGRESS);
	ck_assert_int_eq(plan_state(t, 2, true, more, 3), PLAN_IN_PROGRESS);
	/* The preferred replica is part of the plan: order matters. */
	ck_assert_int_eq(plan_state(t, 2, false, reordered, 2), PLAN_MISMATCH);
	ck_assert_int_eq(plan_state(t, 2, false, more, 3), PLAN_MISMATCH);
	/* An unknown partition has no replicas. */
	ck_assert_int_eq(plan_state(t, 2, false, NULL, 0), PLAN_MISMATCH);
}
END_TEST

static void throttles(const struct plan_moves *m, const char *topic,
		      const char *lead, const char *follow)
{
	char *l = plan_moves_throttle(m, topic, true);
	char *f = plan_moves_throttle(m, topic, false);

	ck_assert_str_eq(l, lead);
	ck_assert_str_eq(f, follow);
	free(l);
	free(f);
}

START_TEST(throttles_of_a_plan)
{
	struct plan_moves m;
	static const int32_t cur0[] = { 1, 2 }, tgt0[] = { 2, 3 };
	static const int32_t cur1[] = { 3, 1 }, tgt1[] = { 3, 1 };
	static const int32_t cur2[] = { 1 }, tgt2[] = { 2 };
	int32_t *b;
	const char **t;

	plan_moves_init(&m);
	ck_assert_int_eq(plan_moves_propose(&m, "t", 0, tgt0, 2, cur0, 2), 0);
	/* Unmoved partitions of a plan are leader-throttled too (Kafka). */
	ck_assert_int_eq(plan_moves_propose(&m, "t", 1, tgt1, 2, cur1, 2), 0);
	ck_assert_int_eq(plan_moves_propose(&m, "u", 0, tgt2, 1, cur2, 1), 0);
	throttles(&m, "t", "0:1,0:2,1:1,1:3", "0:3");
	throttles(&m, "u", "0:1", "0:2");
	throttles(&m, "none", "", "");
	ck_assert_int_eq(plan_moves_brokers(&m, &b), 3);
	ck_assert_int_eq(b[0], 1);
	ck_assert_int_eq(b[1], 2);
	ck_assert_int_eq(b[2], 3);
	free(b);
	ck_assert_int_eq(plan_moves_topics(&m, &t), 2);
	ck_assert_str_eq(t[0], "t");
	ck_assert_str_eq(t[1], "u");
	ck_assert_ptr_null(t[2]);
	free(t);
	plan_moves_free(&m);
}
END_TEST

START_TEST(throttles_merge_ongoing_reassignments)
{
	struct plan_moves m;
	/* t-0 moving from 1,2 to 2,3 (3 being added, 1 removed); t-5 moving
	 * from 4 to 5, not in the new plan; u-0 moving too. */
	static const int32_t r0[] = { 2, 3, 1 }, add0[] = { 3 };
	static const int32_t r5[] = { 5, 4 }, add5[] = { 5 };
	static const int32_t ru[] = { 1, 6 }, addu[] = { 6 };
	/* The new plan sends t-0 to 2,4 instead: 1,2 still hold the data. */
	static const int32_t cur0[] = { 2, 3, 1 }, tgt0[] = { 2, 4 };
	int32_t *b;

	plan_moves_init(&m);
	ck_assert_int_eq(plan_moves_ongoing(&m, "t", 0, r0, 3, add0, 1), 0);
	ck_assert_int_eq(plan_moves_ongoing(&m, "t", 5, r5, 2, add5, 1), 0);
	ck_assert_int_eq(plan_moves_ongoing(&m, "u", 0, ru, 2, addu, 1), 0);
	throttles(&m, "t", "0:1,0:2,5:4", "0:3,5:5");
	ck_assert_int_eq(plan_moves_propose(&m, "t", 0, tgt0, 2, cur0, 3), 0);
	throttles(&m, "t", "0:1,0:2,5:4", "0:4,5:5");
	throttles(&m, "u", "0:1", "0:6");
	ck_assert_int_eq(plan_moves_brokers(&m, &b), 5);
	ck_assert_int_eq(b[0], 1);
	ck_assert_int_eq(b[4], 6);	/* 3 is no longer a destination */
	free(b);
	plan_moves_free(&m);
}
END_TEST

START_TEST(throttle_lists_sort_as_strings)
{
	struct plan_moves m;
	static const int32_t c10[] = { 1 }, c1[] = { 2 }, c2[] = { 3, 1 },
			     tg[] = { 12 };

	plan_moves_init(&m);
	ck_assert_int_eq(plan_moves_propose(&m, "t", 2, tg, 1, c2, 2), 0);
	ck_assert_int_eq(plan_moves_propose(&m, "t", 10, tg, 1, c10, 1), 0);
	ck_assert_int_eq(plan_moves_propose(&m, "t", 1, tg, 1, c1, 1), 0);
	/* Kafka's TreeSet[String]: "10:1" < "1:2" < "2:1" < "2:3". */
	throttles(&m, "t", "10:1,1:2,2:1,2:3", "10:12,1:12,2:12");
	plan_moves_free(&m);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("plan");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reassignment_is_parsed);
	tcase_add_test(tc, malformed_reassignment_is_refused);
	tcase_add_test(tc, log_dirs_are_kept_per_replica);
	tcase_add_test(tc, execute_rules_use_kafkas_messages);
	tcase_add_test(tc, plan_prints_as_kafka);
	tcase_add_test(tc, topics_to_move);
	tcase_add_test(tc, election_file);
	tcase_add_test(tc, plan_grouped_by_topic);
	tcase_add_test(tc, verify_states);
	tcase_add_test(tc, throttles_of_a_plan);
	tcase_add_test(tc, throttles_merge_ongoing_reassignments);
	tcase_add_test(tc, throttle_lists_sort_as_strings);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
