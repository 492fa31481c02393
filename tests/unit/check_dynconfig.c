/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_dynconfig.c - the pure parts of dynamic configuration: throttled
 * replica lists (Kafka's ThrottledReplicaListValidator and the broker's
 * own partitions), the replication quota's rate window, which broker
 * keys change at run time, and kconfigs' --add-config / --delete-config
 * syntax.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "config_layers.h"
#include "kp_errors.h"
#include "quota.h"
#include "tool_config.h"

START_TEST(throttle_lists_valid)
{
	static const char *const ok[] = {
		"", "*", " * ", "0:1", "0:1,1:2", " 0:1 , 1:2 ", "0:1,,1:2", "12:1003",
	};
	static const char *const bad[] = {
		"0", "0:", ":1", "a:1", "0:1:2", "0-1", "*,0:1", "0:1 2", "**",
	};
	char err[512];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(throttle_list_validate("leader.replication.throttled.replicas",
						     ok[i], err, sizeof(err)) == 0,
			      "'%s' refused: %s", ok[i], err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(throttle_list_validate("leader.replication.throttled.replicas",
						     bad[i], err, sizeof(err)) < 0,
			      "'%s' accepted", bad[i]);
		ck_assert_ptr_nonnull(strstr(err, "must be the literal '*' or a list of "
					     "replicas"));
	}
	ck_assert_int_lt(throttle_list_validate("x", NULL, err, sizeof(err)), 0);
}
END_TEST

START_TEST(throttle_sets)
{
	struct throttle_set s;
	char err[256];

	/* only the entries naming broker 2, sorted, without duplicates */
	ck_assert_int_eq(throttle_set_parse("k", "5:2, 0:1,1:2,5:2,3:2,4:3", 2, &s,
					    err, sizeof(err)), 0);
	ck_assert(!s.all);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_int_eq(s.parts[0], 1);
	ck_assert_int_eq(s.parts[1], 3);
	ck_assert_int_eq(s.parts[2], 5);
	ck_assert(throttle_set_has(&s, 3));
	ck_assert(!throttle_set_has(&s, 0));
	ck_assert(!throttle_set_has(&s, 4));
	throttle_set_free(&s);

	ck_assert_int_eq(throttle_set_parse("k", "*", 7, &s, err, sizeof(err)), 0);
	ck_assert(s.all && throttle_set_has(&s, 12345));
	throttle_set_free(&s);

	ck_assert_int_eq(throttle_set_parse("k", NULL, 1, &s, err, sizeof(err)), 0);
	ck_assert(!throttle_set_has(&s, 0));
	ck_assert_int_lt(throttle_set_parse("k", "0:x", 1, &s, err, sizeof(err)), 0);
	ck_assert(!s.all && s.n == 0 && s.parts == NULL);
	/* an id beyond int32 names no broker but is a valid string */
	ck_assert_int_eq(throttle_set_parse("k", "0:99999999999", 1, &s, err,
					    sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 0);
	throttle_set_free(&s);
}
END_TEST

START_TEST(quota_window)
{
	struct quota q;
	int64_t t = 1000000;

	quota_init(&q);
	/* unlimited: never exceeded */
	quota_record(&q, 1 << 30, t);
	ck_assert(!quota_exceeded(&q, t));
	quota_destroy(&q);

	quota_init(&q);
	quota_set_limit(&q, 1000);	/* bytes/s */
	/* a fresh window counts at least 10 samples (1 s): 900 B is fine */
	quota_record(&q, 900, t);
	ck_assert(!quota_exceeded(&q, t));
	quota_record(&q, 200, t + 50);
	ck_assert(quota_exceeded(&q, t + 50));
	/* still within the window half a second later */
	ck_assert(quota_exceeded(&q, t + 500));
	/* the samples age out after 11 * 100 ms */
	ck_assert(!quota_exceeded(&q, t + QUOTA_SAMPLES * QUOTA_SAMPLE_MS + 100));
	ck_assert(quota_rate(&q, t + 5000) == 0.0);
	/* a steady 800 B/s stays under the limit */
	for (int i = 0; i < 50; i++)
		quota_record(&q, 80, t + 10000 + i * 100);
	ck_assert(!quota_exceeded(&q, t + 14950));
	ck_assert(quota_rate(&q, t + 14950) > 700.0);
	quota_destroy(&q);
}
END_TEST

START_TEST(broker_keys)
{
	char msg[512];

	/* Kafka 2.8's dynamic update modes */
	ck_assert(config_layers_is_dynamic("log.retention.ms"));
	ck_assert(config_layers_is_dynamic("log.segment.bytes"));
	ck_assert(config_layers_is_dynamic("message.max.bytes"));
	ck_assert(config_layers_is_dynamic("min.insync.replicas"));
	ck_assert(config_layers_is_dynamic("unclean.leader.election.enable"));
	ck_assert(config_layers_is_dynamic("log.message.downconversion.enable"));
	ck_assert(config_layers_is_dynamic(QUOTA_LEADER_RATE));
	ck_assert(config_layers_is_dynamic(QUOTA_FOLLOWER_RATE));
	ck_assert(config_layers_is_dynamic("num.io.threads"));
	ck_assert(config_layers_is_dynamic("log.cleaner.threads"));
	ck_assert(config_layers_is_dynamic("max.connections"));
	ck_assert(config_layers_is_dynamic("sasl.kerberos.min.time.before.relogin"));
	ck_assert(config_layers_is_dynamic("ssl.keystore.location"));
	ck_assert(!config_layers_is_dynamic("log.message.format.version"));
	ck_assert(!config_layers_is_dynamic("log.retention.hours"));
	ck_assert(!config_layers_is_dynamic("broker.id"));
	ck_assert(!config_layers_is_dynamic("num.partitions"));
	ck_assert(!config_layers_is_dynamic("no.such.key"));
	/* a listener override is not itself a dynamic key (read_only) */
	ck_assert(!config_layers_is_dynamic("listener.name.plaintext.ssl.keystore.location"));

	ck_assert_int_eq(config_layers_check_key("message.max.bytes", "5000", true,
						 msg, sizeof(msg)), 0);
	ck_assert_int_eq(config_layers_check_key("message.max.bytes", "5000", false,
						 msg, sizeof(msg)), 0);
	ck_assert_int_eq(config_layers_check_key(QUOTA_LEADER_RATE, "0", false, msg,
						 sizeof(msg)), 0);
	ck_assert_int_eq(config_layers_check_key(QUOTA_LEADER_RATE, "-1", false, msg,
						 sizeof(msg)), KP_ERR_INVALID_REQUEST);
	ck_assert_str_eq(msg, "Invalid value -1 for configuration "
			 "leader.replication.throttled.rate: Value must be at least 0");
	ck_assert_int_eq(config_layers_check_key("message.max.bytes", "big", true,
						 msg, sizeof(msg)), KP_ERR_INVALID_REQUEST);
	ck_assert_str_eq(msg, "Invalid value big for configuration message.max.bytes: "
			 "Not a number of type INT");
	ck_assert_int_eq(config_layers_check_key("num.partitions", "4", true, msg,
						 sizeof(msg)), KP_ERR_INVALID_REQUEST);
	ck_assert_str_eq(msg, "Cannot update these configs dynamically: Set(num.partitions)");
	ck_assert_int_eq(config_layers_check_key("log.retention.ms", NULL, true, msg,
						 sizeof(msg)), KP_ERR_INVALID_REQUEST);
	/* keys Kafka does not know are custom configs: kept, unchecked */
	ck_assert_int_eq(config_layers_check_key("no.such.key", "4", true, msg,
						 sizeof(msg)), 0);
	ck_assert_int_eq(config_layers_check_key("no.such.key", "4", false, msg,
						 sizeof(msg)), 0);

	/* per-broker keys: refused as the cluster default */
	ck_assert_int_eq(config_layers_check_key("sasl.kerberos.min.time.before.relogin",
						 "120000", true, msg, sizeof(msg)), 0);
	ck_assert_int_eq(config_layers_check_key("sasl.kerberos.min.time.before.relogin",
						 "120000", false, msg, sizeof(msg)),
			 KP_ERR_INVALID_REQUEST);
	ck_assert_str_eq(msg, "Cannot update these configs at default cluster level, "
			 "broker id must be specified: "
			 "Set(sasl.kerberos.min.time.before.relogin)");
	ck_assert_int_eq(config_layers_check_key("sasl.kerberos.min.time.before.relogin",
						 "soon", true, msg, sizeof(msg)),
			 KP_ERR_INVALID_REQUEST);
	/* SSL stores only per listener; an override checks by its base key */
	ck_assert_int_eq(config_layers_check_key("ssl.keystore.location", "/k", true,
						 msg, sizeof(msg)), KP_ERR_INVALID_REQUEST);
	ck_assert_str_eq(msg, "These security configs can be dynamically updated only "
			 "per-listener using the listener prefix: Set(ssl.keystore.location)");
	ck_assert_int_eq(config_layers_check_key(
				 "listener.name.plaintext.ssl.keystore.location", "/k", true,
				 msg, sizeof(msg)), 0);
	ck_assert_int_eq(config_layers_check_key(
				 "listener.name.plaintext.ssl.keystore.location", "/k", false,
				 msg, sizeof(msg)), KP_ERR_INVALID_REQUEST);
	ck_assert_int_eq(config_layers_check_key(
				 "listener.name.internal.sasl.login.refresh.buffer.seconds",
				 "99999", true, msg, sizeof(msg)), KP_ERR_INVALID_REQUEST);
	ck_assert_str_eq(msg, "Invalid value 99999 for configuration "
			 "sasl.login.refresh.buffer.seconds: Not a number of type SHORT");
	/* the cluster-level listener keys may be the cluster default */
	ck_assert_int_eq(config_layers_check_key("listener.name.external.max.connections",
						 "100", false, msg, sizeof(msg)), 0);
	ck_assert(config_layers_is_password("sasl.jaas.config"));
	ck_assert(config_layers_is_password("listener.name.sasl_ssl.plain.sasl.jaas.config"));
	ck_assert(config_layers_is_password("listener.name.ssl.ssl.keystore.password"));
	/* Kafka matches the end of the name */
	ck_assert(config_layers_is_password("zookeeper.ssl.keystore.password"));
	ck_assert(!config_layers_is_password("sasl.kerberos.service.name"));
	ck_assert(!config_layers_is_password("ssl.keystore.location"));
}
END_TEST

START_TEST(whole_entity_sets)
{
	char *keys[] = { "num.partitions", "message.max.bytes", "log.dirs" };
	char *vals[] = { "2", "3", "/x" };
	struct kp_zk_entity_config c = { keys, vals, 3 };
	char msg[512];

	/* every offending key is named, as Kafka's Set */
	ck_assert_int_eq(config_layers_check_entity(&c, true, msg, sizeof(msg)),
			 KP_ERR_INVALID_REQUEST);
	ck_assert_str_eq(msg, "Cannot update these configs dynamically: "
			 "Set(num.partitions, log.dirs)");
}
END_TEST

START_TEST(add_config_syntax)
{
	struct tool_kv *kv;
	char err[256];
	int n;

	n = tool_parse_add_config("a=1, b = [x,y] ,c=,d=[z]", &kv, err, sizeof(err));
	ck_assert_int_eq(n, 4);
	ck_assert_str_eq(kv[0].key, "a");
	ck_assert_str_eq(kv[0].value, "1");
	ck_assert_str_eq(kv[1].key, "b");
	ck_assert_str_eq(kv[1].value, "x,y");
	ck_assert_str_eq(kv[2].key, "c");
	ck_assert_str_eq(kv[2].value, "");
	ck_assert_str_eq(kv[3].value, "z");
	tool_kv_free(kv, n);

	n = tool_parse_add_config("leader.replication.throttled.replicas=[0:1,1:2]",
				  &kv, err, sizeof(err));
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(kv[0].value, "0:1,1:2");
	tool_kv_free(kv, n);

	/* '=' inside brackets belongs to the value (SCRAM credentials) */
	n = tool_parse_add_config("SCRAM-SHA-256=[iterations=8192,password=a=b],x=1", &kv,
				  err, sizeof(err));
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(kv[0].key, "SCRAM-SHA-256");
	ck_assert_str_eq(kv[0].value, "iterations=8192,password=a=b");
	tool_kv_free(kv, n);
	ck_assert_int_lt(tool_parse_add_config("a=b=c", &kv, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "key=val"));
	ck_assert_int_lt(tool_parse_add_config("a", &kv, err, sizeof(err)), 0);
	ck_assert_int_lt(tool_parse_add_config("a=1,b", &kv, err, sizeof(err)), 0);
	ck_assert_int_lt(tool_parse_add_config("=1", &kv, err, sizeof(err)), 0);

	n = tool_parse_delete_config(" a ,b", &kv, err, sizeof(err));
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(kv[0].key, "a");
	ck_assert_str_eq(kv[1].key, "b");
	tool_kv_free(kv, n);
	ck_assert_int_lt(tool_parse_delete_config("a,,b", &kv, err, sizeof(err)), 0);
	ck_assert_int_lt(tool_parse_delete_config("", &kv, err, sizeof(err)), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dynconfig");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, throttle_lists_valid);
	tcase_add_test(tc, throttle_sets);
	tcase_add_test(tc, quota_window);
	tcase_add_test(tc, broker_keys);
	tcase_add_test(tc, whole_entity_sets);
	tcase_add_test(tc, add_config_syntax);
	suite_add_tcase(s, tc);
	return check_run(s);
}
