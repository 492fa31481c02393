/*
 * check_config_tables.c - kbroker's and kcontroller's configuration tables
 * are consistent: unique keys, every default valid by its own rules, a doc
 * line for every key, and the Kafka defaults the rest of the system relies
 * on.
 *
 * The tables are also the truth the shipped files are held to:
 * etc/kbroker.properties and etc/kcontroller.properties load without an
 * error or an unknown key and name every key once (set, or commented out
 * with its default), and the section 5 man pages give every key with its
 * type and default.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <stdio.h>
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

/* ------------------------------------------- the shipped files */

/*
 * Keys the daemons take that are not in the tables: kp_config_from_args()
 * applies log.level itself.  The files and man pages may mention them.
 */
static bool extra_key(const char *key)
{
	return strcmp(key, "log.level") == 0;
}

static const struct kp_config_def *find_def(const struct kp_config_def *defs,
					    size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(defs[i].key, key) == 0)
			return &defs[i];
	return NULL;
}

/* $top_srcdir/rel, read whole and NUL-terminated. */
static char *read_src(const char *rel)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	FILE *f;
	char *buf;
	long len;

	snprintf(path, sizeof(path), "%s/%s", top != NULL ? top : ".", rel);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert_int_ge(len, 0);
	rewind(f);
	buf = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = 0;
	fclose(f);
	return buf;
}

static int unknown_keys;

static void count_unknown(const char *key, void *arg)
{
	(void)arg;
	fprintf(stderr, "unknown key %s\n", key);
	unknown_keys++;
}

/*
 * The file as shipped loads (what the daemon does at start, minus the
 * command line), sets the required keys, and names every table key
 * exactly once: "key=value" set, or "#key=value" commented out, where
 * the value is the default (or an example, for a key without one) and
 * is valid, so uncommenting a line never breaks the start.
 */
static void check_shipped(const char *rel, const struct kp_config_def *defs,
			  size_t n, const char *const *required)
{
	char *text = read_src(rel), *line, *save = NULL;
	int *seen = calloc(n, sizeof(*seen));
	struct kp_props props;
	struct kp_config c;
	char err[512];

	ck_assert_ptr_nonnull(seen);
	kp_props_init(&props);
	ck_assert_msg(kp_props_parse(&props, text, strlen(text), err, sizeof(err)) == 0,
		      "%s: %s", rel, err);
	unknown_keys = 0;
	ck_assert_msg(kp_config_build(&c, defs, n, &props, count_unknown, NULL,
				      err, sizeof(err)) == 0, "%s: %s", rel, err);
	ck_assert_msg(unknown_keys == 0, "%s sets %d unknown key(s)", rel,
		      unknown_keys);
	for (const char *const *r = required; *r != NULL; r++)
		ck_assert_msg(kp_config_is_set(&c, *r), "%s does not set %s", rel, *r);
	kp_config_free(&c);
	kp_props_free(&props);

	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		bool commented = line[0] == '#';
		char *key = commented ? line + 1 : line, *eq;
		const struct kp_config_def *d;

		/* prose comments have a space after '#'; settings do not */
		if (!islower((unsigned char)key[0]) || (eq = strchr(key, '=')) == NULL)
			continue;
		*eq = 0;
		d = find_def(defs, n, key);
		if (d == NULL) {
			ck_assert_msg(extra_key(key), "%s names unknown key %s", rel, key);
			continue;
		}
		seen[d - defs]++;
		if (!commented)
			continue;
		if (d->def != NULL)
			ck_assert_msg(strcmp(eq + 1, d->def) == 0,
				      "%s: #%s=%s, but the default is %s", rel, key,
				      eq + 1, d->def);
		ck_assert_msg(kp_config_validate(d, eq + 1, err, sizeof(err)) == 0,
			      "%s: #%s: %s", rel, key, err);
	}
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(seen[i] == 1, "%s names %s %d times, not once", rel,
			      defs[i].key, seen[i]);
	free(seen);
	free(text);
}

START_TEST(shipped_broker_properties)
{
	static const char *const required[] = {
		"broker.id", "listeners", "log.dirs", "zookeeper.connect", NULL
	};

	check_shipped("etc/kbroker.properties", broker_config_defs,
		      broker_config_ndefs, required);
}
END_TEST

START_TEST(shipped_controller_properties)
{
	static const char *const required[] = {
		"controller.id", "listeners", "zookeeper.connect", NULL
	};

	check_shipped("etc/kcontroller.properties", controller_config_defs,
		      controller_config_ndefs, required);
}
END_TEST

static const char *type_word(enum kp_config_type t)
{
	switch (t) {
	case KP_CFG_INT: return "int";
	case KP_CFG_LONG: return "long";
	case KP_CFG_DOUBLE: return "double";
	case KP_CFG_BOOL: return "boolean";
	case KP_CFG_STRING: return "string";
	case KP_CFG_LIST: return "list";
	case KP_CFG_PASSWORD: return "password";
	}
	return "?";
}

/* Drop roff's escaped minus ("\-"), the only escape a key entry needs. */
static void unescape_minus(char *s)
{
	char *w = s;

	for (; *s; s++)
		if (!(s[0] == '\\' && s[1] == '-'))
			*w++ = *s;
	*w = 0;
}

/*
 * Every key has its entry in the section 5 page, in the one form the
 * page uses for them:
 *	.TP
 *	.BR key " (type, default value)"    or    " (type, no default)"
 * and every such entry is a key the daemon takes.
 */
static void check_man5(const char *rel, const struct kp_config_def *defs,
		       size_t n)
{
	char *text = read_src(rel), *line, *save = NULL;
	int *seen = calloc(n, sizeof(*seen));
	bool after_tp = false;

	ck_assert_ptr_nonnull(seen);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		const struct kp_config_def *d;
		char key[128], want[1024], *rest;
		size_t klen;

		if (strcmp(line, ".TP") == 0) {
			after_tp = true;
			continue;
		}
		if (!after_tp)
			continue;
		after_tp = false;
		if (strncmp(line, ".BR ", 4) != 0 || !islower((unsigned char)line[4]))
			continue;
		klen = strcspn(line + 4, " ");
		ck_assert_uint_lt(klen, sizeof(key));
		memcpy(key, line + 4, klen);
		key[klen] = 0;
		rest = line + 4 + klen;
		unescape_minus(rest);
		d = find_def(defs, n, key);
		if (d == NULL) {
			ck_assert_msg(extra_key(key), "%s documents unknown key %s", rel, key);
			continue;
		}
		seen[d - defs]++;
		if (d->def != NULL)
			snprintf(want, sizeof(want), " \" (%s, default %s)\"",
				 type_word(d->type), d->def[0] ? d->def : "\"\"");
		else
			snprintf(want, sizeof(want), " \" (%s, no default)\"",
				 type_word(d->type));
		ck_assert_msg(strcmp(rest, want) == 0, "%s: %s has '%s', want '%s'",
			      rel, key, rest, want);
	}
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(seen[i] == 1, "%s documents %s %d times, not once", rel,
			      defs[i].key, seen[i]);
	free(seen);
	free(text);
}

START_TEST(broker_man_page_has_every_key)
{
	check_man5("man/man5/kbroker.properties.5", broker_config_defs,
		   broker_config_ndefs);
}
END_TEST

START_TEST(controller_man_page_has_every_key)
{
	check_man5("man/man5/kcontroller.properties.5", controller_config_defs,
		   controller_config_ndefs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config_tables");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, tables_are_consistent);
	tcase_add_test(tc, broker_defaults_are_kafkas);
	tcase_add_test(tc, shipped_broker_properties);
	tcase_add_test(tc, shipped_controller_properties);
	tcase_add_test(tc, broker_man_page_has_every_key);
	tcase_add_test(tc, controller_man_page_has_every_key);
	suite_add_tcase(s, tc);
	return check_run(s);
}
