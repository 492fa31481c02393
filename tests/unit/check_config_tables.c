/*
 * check_config_tables.c - kbroker's and kcontroller's configuration tables
 * are consistent: unique keys, every default valid by its own rules, a doc
 * line for every key, and the Kafka defaults the rest of the system relies
 * on.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "broker_config.h"
#include "controller_config.h"

static void check_table(const struct kp_config_def *defs, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		char err[256];

		ck_assert_ptr_nonnull(defs[i].doc);
		ck_assert_ptr_nonnull(defs[i].group);
		for (j = i + 1; j < n; j++)
			ck_assert_msg(strcmp(defs[i].key, defs[j].key) != 0,
				      "%s listed twice", defs[i].key);
		if (defs[i].def != NULL)
			ck_assert_msg(kp_config_validate(&defs[i], defs[i].def, err,
							 sizeof(err)) == 0,
				      "default of %s: %s", defs[i].key, err);
	}
}

START_TEST(tables_are_consistent)
{
	check_table(broker_config_defs, broker_config_ndefs);
	check_table(controller_config_defs, controller_config_ndefs);
}
END_TEST

START_TEST(broker_defaults_are_kafkas)
{
	struct kp_props p;
	struct kp_config c;
	char err[256];

	kp_props_init(&p);
	kp_props_set(&p, "zookeeper.connect", "127.0.0.1:2181", 1);
	ck_assert_int_eq(kp_config_build(&c, broker_config_defs, broker_config_ndefs,
					 &p, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(kp_config_int(&c, "socket.request.max.bytes"), 104857600);
	ck_assert_int_eq(kp_config_int(&c, "message.max.bytes"), 1048588);
	ck_assert_int_eq(kp_config_int(&c, "log.segment.bytes"), 1073741824);
	ck_assert_int_eq(kp_config_int(&c, "zookeeper.session.timeout.ms"), 18000);
	ck_assert_int_eq(kp_config_int(&c, "offsets.topic.num.partitions"), 50);
	ck_assert(kp_config_long(&c, "replica.lag.time.max.ms") == 30000);
	ck_assert(!kp_config_bool(&c, "unclean.leader.election.enable"));
	ck_assert_str_eq(kp_config_str(&c, "listeners"), "PLAINTEXT://:9092");
	kp_config_free(&c);
	kp_props_free(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config_tables");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, tables_are_consistent);
	tcase_add_test(tc, broker_defaults_are_kafkas);
	suite_add_tcase(s, tc);
	return check_run(s);
}
