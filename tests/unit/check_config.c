/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_config.c - Java-properties parsing and the table-driven config.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_config.h"

static struct kp_props parse(const char *text)
{
	struct kp_props p;
	char err[256];

	kp_props_init(&p);
	ck_assert_int_eq(kp_props_parse(&p, text, strlen(text), err, sizeof(err)), 0);
	return p;
}

START_TEST(properties_follow_java_syntax)
{
	struct kp_props p = parse(
		"# comment\n"
		"! also a comment\n"
		"broker.id=1\n"
		"  log.dirs = /var/lib/a,/var/lib/b\n"
		"listeners:PLAINTEXT://:9092\n"
		"spaced value with spaces\n"
		"cont=first\\\n"
		"      second\n"
		"esc\\=key=a\\tb\n"
		"uni=\\u00e9\n"
		"empty=\n"
		"broker.id=2\n");

	ck_assert_str_eq(kp_props_get(&p, "broker.id"), "2");
	ck_assert_str_eq(kp_props_get(&p, "log.dirs"), "/var/lib/a,/var/lib/b");
	ck_assert_str_eq(kp_props_get(&p, "listeners"), "PLAINTEXT://:9092");
	ck_assert_str_eq(kp_props_get(&p, "spaced"), "value with spaces");
	ck_assert_str_eq(kp_props_get(&p, "cont"), "firstsecond");
	ck_assert_str_eq(kp_props_get(&p, "esc=key"), "a\tb");
	ck_assert_str_eq(kp_props_get(&p, "uni"), "\xc3\xa9");
	ck_assert_str_eq(kp_props_get(&p, "empty"), "");
	ck_assert_ptr_null(kp_props_get(&p, "comment"));
	ck_assert_uint_eq(p.count, 8);
	kp_props_free(&p);
}
END_TEST

START_TEST(bad_escape_is_an_error)
{
	struct kp_props p;
	char err[256] = "";
	const char *t = "a=\\u00zz\n";

	kp_props_init(&p);
	ck_assert_int_eq(kp_props_parse(&p, t, strlen(t), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "line 1"));
	kp_props_free(&p);
}
END_TEST

START_TEST(store_then_load_round_trips)
{
	char dir[] = "/tmp/kpcfgXXXXXX", path[256], err[256];
	struct kp_props p, q;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/meta.properties", dir);
	kp_props_init(&p);
	kp_props_set(&p, "version", "0", 0);
	kp_props_set(&p, "cluster.id", "a b:c=d", 0);
	ck_assert_int_eq(kp_props_store(&p, path, "written by a test"), 0);
	kp_props_init(&q);
	ck_assert_int_eq(kp_props_load(&q, path, err, sizeof(err)), 0);
	ck_assert_str_eq(kp_props_get(&q, "version"), "0");
	ck_assert_str_eq(kp_props_get(&q, "cluster.id"), "a b:c=d");
	kp_props_free(&p);
	kp_props_free(&q);
	unlink(path);
	rmdir(dir);
}
END_TEST

static const struct kp_config_def defs[] = {
	{ "num.partitions", KP_CFG_INT, "1", 1, INT32_MAX, NULL, "partitions", "Log" },
	{ "log.retention.ms", KP_CFG_LONG, NULL, -1, INT64_MAX, NULL, "retention", "Log" },
	{ "auto.create.topics.enable", KP_CFG_BOOL, "true", 0, 0, NULL, "auto", "Log" },
	{ "compression.type", KP_CFG_STRING, "producer", 0, 0,
	  "producer|uncompressed|gzip|snappy|lz4|zstd", "codec", "Log" },
	{ "log.cleaner.min.cleanable.ratio", KP_CFG_DOUBLE, "0.5", 0, 0, NULL, "ratio", "Log" },
};

static int warned;
static void on_warn(const char *key, void *arg)
{
	(void)arg;
	ck_assert_str_eq(key, "no.such.key");
	warned++;
}

START_TEST(config_table_gives_defaults_values_and_warnings)
{
	struct kp_props p;
	struct kp_config c;
	char err[256];

	warned = 0;
	p = parse("num.partitions=6\nno.such.key=x\nauto.create.topics.enable=FALSE\n");
	ck_assert_int_eq(kp_config_build(&c, defs, 5, &p, on_warn, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(warned, 1);
	ck_assert_int_eq(kp_config_int(&c, "num.partitions"), 6);
	ck_assert(!kp_config_bool(&c, "auto.create.topics.enable"));
	ck_assert_str_eq(kp_config_str(&c, "compression.type"), "producer");
	ck_assert_ptr_null(kp_config_str(&c, "log.retention.ms"));
	ck_assert(!kp_config_is_set(&c, "log.retention.ms"));
	ck_assert(kp_config_is_set(&c, "num.partitions"));
	ck_assert_str_eq(kp_config_raw(&c, "no.such.key"), "x");
	ck_assert(kp_config_double(&c, "log.cleaner.min.cleanable.ratio") == 0.5);
	kp_config_free(&c);
	kp_props_free(&p);
}
END_TEST

START_TEST(invalid_values_are_rejected_with_a_clear_message)
{
	static const char *bad[] = {
		"num.partitions=0\n", "num.partitions=abc\n",
		"num.partitions=99999999999\n", "auto.create.topics.enable=yes\n",
		"compression.type=brotli\n", "log.cleaner.min.cleanable.ratio=x\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kp_props p = parse(bad[i]);
		struct kp_config c;
		char err[256] = "";

		ck_assert_int_eq(kp_config_build(&c, defs, 5, &p, NULL, NULL, err,
						 sizeof(err)), -1);
		ck_assert_msg(strstr(err, "Invalid value") != NULL, "%s", err);
		kp_props_free(&p);
	}
}
END_TEST

static const struct kp_config_def kdefs[] = {
	{ "num.io.threads", KP_CFG_INT, "8", 1, INT32_MAX, NULL, "io", "S", KP_CFG_INERT,
	  KP_DYN_CLUSTER, NULL },
	{ "num.partitions", KP_CFG_INT, "1", 1, INT32_MAX, NULL, "partitions", "S" },
	{ "sasl.jaas.config", KP_CFG_PASSWORD, NULL, 0, 0, NULL, "jaas", "S", KP_CFG_INERT,
	  KP_DYN_PER_BROKER, NULL },
	{ "ssl.keystore.location", KP_CFG_STRING, NULL, 0, 0, NULL, "ks", "S",
	  KP_CFG_INERT, KP_DYN_LISTENER, NULL },
	{ "offsets.topic.replication.factor", KP_CFG_SHORT, "3", 1, INT16_MAX, NULL,
	  "rf", "S" },
	{ "log.cleanup.policy", KP_CFG_LIST, "delete", 0, 0, "compact|delete", "p", "S" },
};
static const struct kp_config_def others[] = {
	{ "log.dirs", KP_CFG_STRING, NULL, 0, 0, NULL, "dirs", "S" },
};
static char warned_key[64];
static void note_warn(const char *key, void *arg)
{
	(void)arg;
	snprintf(warned_key, sizeof(warned_key), "%s", key);
	warned++;
}

START_TEST(kafka_keys_not_acted_on_load_silently_and_are_named)
{
	struct kp_props p;
	struct kp_config c;
	char err[256], buf[256];

	warned = 0;
	p = parse("num.io.threads=4\nnum.partitions=3\n"
		  "listener.name.sasl_ssl.plain.sasl.jaas.config=x required;\n"
		  "listener.name.ssl.ssl.keystore.location=/k\nlog.dirs=/d\nbogus=1\n");
	ck_assert_int_eq(kp_config_build2(&c, kdefs, 6, others, 1, &p, note_warn, NULL,
					  err, sizeof(err)), 0);
	/* only the key Kafka does not have warns */
	ck_assert_int_eq(warned, 1);
	ck_assert_str_eq(warned_key, "bogus");
	ck_assert_uint_eq(kp_config_inert_given(&c, buf, sizeof(buf)), 4);
	ck_assert_str_eq(buf, "num.io.threads, listener.name.sasl_ssl.plain.sasl.jaas.config, "
			 "listener.name.ssl.ssl.keystore.location, log.dirs");
	/* a short buffer names what fits and counts the rest */
	ck_assert_uint_eq(kp_config_inert_given(&c, buf, 60), 4);
	ck_assert_str_eq(buf, "num.io.threads and 3 more");
	ck_assert_int_eq(kp_config_int(&c, "num.io.threads"), 4);
	kp_config_free(&c);
	kp_props_free(&p);

	/* an override is checked by its base key, named as given */
	p = parse("listener.name.x.offsets.topic.replication.factor=40000\n");
	ck_assert_int_eq(kp_config_build2(&c, kdefs, 6, NULL, 0, &p, NULL, NULL, err,
					  sizeof(err)), -1);
	ck_assert_str_eq(err, "Invalid value 40000 for configuration "
			 "listener.name.x.offsets.topic.replication.factor: Not a number of "
			 "type SHORT");
	kp_props_free(&p);
	/* a key of the second table is validated too */
	ck_assert_ptr_eq(kp_config_listener_base(kdefs, 6, "listener.name.a.b.sasl.jaas.config"),
			 &kdefs[2]);
	ck_assert_ptr_null(kp_config_listener_base(kdefs, 6, "listener.name.a.nope"));
	ck_assert_ptr_null(kp_config_listener_base(kdefs, 6, "listener.namex.a.num.io.threads"));
}
END_TEST

START_TEST(values_are_checked_with_kafkas_words)
{
	static const struct {
		int def;
		const char *value, *msg;
	} cases[] = {
		{ 1, "abc", "Invalid value abc for configuration num.partitions: Not a number of type INT" },
		{ 1, "0", "Invalid value 0 for configuration num.partitions: Value must be at least 1" },
		{ 1, "2147483648", "Invalid value 2147483648 for configuration num.partitions: "
		  "Not a number of type INT" },
		{ 4, "0", "Invalid value 0 for configuration offsets.topic.replication.factor: "
		  "Value must be at least 1" },
		{ 5, "compact,shred", "Invalid value shred for configuration log.cleanup.policy: "
		  "String must be one of: compact, delete" },
		{ 1, " 7 ", NULL },
		{ 1, "+7", NULL },
		{ 5, "", NULL },
		{ 5, "compact , delete", NULL },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = kp_config_validate(&kdefs[cases[i].def], cases[i].value, err,
					    sizeof(err));

		if (cases[i].msg == NULL) {
			ck_assert_msg(rc == 0, "'%s': %s", cases[i].value, err);
		} else {
			ck_assert_int_eq(rc, -1);
			ck_assert_str_eq(err, cases[i].msg);
		}
	}
	ck_assert_str_eq(kp_config_note(&kdefs[0]), KP_CFG_INERT_NOTE);
	ck_assert_ptr_null(kp_config_note(&kdefs[1]));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, properties_follow_java_syntax);
	tcase_add_test(tc, bad_escape_is_an_error);
	tcase_add_test(tc, store_then_load_round_trips);
	tcase_add_test(tc, config_table_gives_defaults_values_and_warnings);
	tcase_add_test(tc, invalid_values_are_rejected_with_a_clear_message);
	tcase_add_test(tc, kafka_keys_not_acted_on_load_silently_and_are_named);
	tcase_add_test(tc, values_are_checked_with_kafkas_words);
	suite_add_tcase(s, tc);
	return check_run(s);
}
