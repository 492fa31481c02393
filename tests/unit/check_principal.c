/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_principal.c - ssl.principal.mapping.rules (kp_principal) as
 * Kafka's SslPrincipalMapper reads and applies them: DEFAULT, RULE with L
 * and U, the rule order, Kafka's documented example list, escaped '/',
 * commas inside patterns, white space and empty entries, group references
 * (cut down or kept as text as Kafka does, named groups), Java's
 * replaceAll over every match, subjects no rule applies to, replacements
 * Java refuses, names too long, and lists that do not parse.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <string.h>

#include "kp_principal.h"

/* The name subject maps to under rules ("" when it maps to none). */
static const char *map(const char *rules, const char *subject)
{
	static char out[256];
	char err[256];
	struct kp_principal_rules *r = kp_principal_rules_new(rules, err, sizeof(err));
	int rc;

	ck_assert_msg(r != NULL, "%s: %s", rules, err);
	rc = kp_principal_map(r, subject, out, sizeof(out));
	kp_principal_rules_free(r);
	if (rc < 0)
		out[0] = '\0';
	return out;
}

/* The message a list that does not parse gets. */
static const char *refused(const char *rules)
{
	static char err[256];
	struct kp_principal_rules *r = kp_principal_rules_new(rules, err, sizeof(err));

	ck_assert_msg(r == NULL, "%s was accepted", rules);
	return err;
}

/* Kafka's documentation's example list */
#define DOC_RULES "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/," \
	"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L," \
	"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L,DEFAULT"

START_TEST(default_and_order)
{
	ck_assert_str_eq(map("DEFAULT", "CN=alice,OU=test,O=skald"),
			 "CN=alice,OU=test,O=skald");
	ck_assert_str_eq(map(NULL, "CN=a"), "CN=a");
	ck_assert_str_eq(map(DOC_RULES, "CN=kafka-server1,OU=ServiceUsers,O=Org,C=US"),
			 "kafka-server1");
	ck_assert_str_eq(map(DOC_RULES, "CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Palo Alto,"
			     "ST=CA,C=US"), "duke@javasoft");
	ck_assert_str_eq(map(DOC_RULES, "OU=Apps,CN=Adm1n.X,O=Org"), "adm1n.x");
	ck_assert_str_eq(map(DOC_RULES, "O=Org,C=US"), "O=Org,C=US");
	/* the first rule that applies wins, DEFAULT included */
	ck_assert_str_eq(map("DEFAULT,RULE:^CN=(.*)$/$1/", "CN=x"), "CN=x");
	ck_assert_str_eq(map("RULE:^CN=([^,]*).*$/$1/U", "CN=alice,O=x"), "ALICE");
	ck_assert_str_eq(map("RULE:^CN=([^,]*).*$/$1/L", "CN=AlIcE,O=x"), "alice");
}
END_TEST

START_TEST(no_rule_applies)
{
	char out[256], err[256];
	struct kp_principal_rules *r =
		kp_principal_rules_new("RULE:^CN=(.*?),OU=x$/$1/", err, sizeof(err));

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(kp_principal_map(r, "CN=a,OU=y", out, sizeof(out)), -1);
	ck_assert_str_eq(out, "No rules apply to CN=a,OU=y");
	/* a pattern must match the whole subject, not a part */
	ck_assert_int_eq(kp_principal_map(r, "CN=a,OU=xy", out, sizeof(out)), -1);
	ck_assert_int_eq(kp_principal_map(r, "CN=a,OU=x", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a");
	kp_principal_rules_free(r);
	/* an empty list has no rule at all */
	ck_assert_str_eq(map("", "CN=a"), "");
	ck_assert_str_eq(map(" , ", "CN=a"), "");
}
END_TEST

START_TEST(syntax)
{
	/* white space and empty entries around rules */
	ck_assert_str_eq(map("  RULE:^CN=(.*)$/$1/ ,  , DEFAULT ", "CN=bob"), "bob");
	ck_assert_str_eq(map(",DEFAULT", "CN=bob"), "CN=bob");
	/* a comma inside a pattern belongs to it */
	ck_assert_str_eq(map("RULE:^CN=([^,]*),O=(.*)$/$2/,DEFAULT", "CN=a,O=b"), "b");
	/* '/' escaped in pattern and replacement */
	ck_assert_str_eq(map("RULE:^CN=([^,]*),O=a\\/b$/$1\\/x/", "CN=bob,O=a/b"), "bob/x");
	/* \x in a replacement is x; \$ a dollar */
	ck_assert_str_eq(map("RULE:^CN=(.*)$/\\$$1/", "CN=z"), "$z");
	/* named groups */
	ck_assert_str_eq(map("RULE:^CN=(?<user>[^,]*).*$/${user}!/", "CN=eve,O=q"), "eve!");
}
END_TEST

START_TEST(group_references)
{
	/* a group the pattern lacks stays text (Kafka escapes it) */
	ck_assert_str_eq(map("RULE:^CN=(.*)$/$1@$2/", "CN=z"), "z@$2");
	/* $12 with one group: group 1, then the digit 2 */
	ck_assert_str_eq(map("RULE:^CN=(.*)$/$12/", "CN=z"), "z2");
	/* $0 is the whole match */
	ck_assert_str_eq(map("RULE:^CN=(.*)$/<$0>/", "CN=z"), "<CN=z>");
	/* a group that took no part adds nothing */
	ck_assert_str_eq(map("RULE:^CN=(a)?(.*)$/[$1]$2/", "CN=bc"), "[]bc");
	/* Java's replaceAll: the whole subject, then the empty match at its end */
	ck_assert_str_eq(map("RULE:(.*)/[$1]/", "ab"), "[ab][]");
	/* every match, not only the first */
	ck_assert_str_eq(map("RULE:(?:(\\w)=\\w+,?)+/x/", "A=b,C=d"), "x");
	ck_assert_str_eq(map("RULE:^(CN=\\w+),(O=\\w+)$/$2,$1/", "CN=a,O=b"), "O=b,CN=a");
}
END_TEST

START_TEST(replacements_java_refuses)
{
	char out[256], err[256];
	struct kp_principal_rules *r;

	/* with no group Kafka escapes nothing: $1 is "No group 1" */
	r = kp_principal_rules_new("RULE:^CN=a$/$1/,DEFAULT", err, sizeof(err));
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(kp_principal_map(r, "CN=a", out, sizeof(out)), -1);
	ck_assert_ptr_nonnull(strstr(out, "No group 1"));
	kp_principal_rules_free(r);
	ck_assert_str_eq(map("RULE:^(.*)$/$x/", "CN=a"), "");
	ck_assert_str_eq(map("RULE:^(.*)$/a$/", "CN=a"), "");
	ck_assert_str_eq(map("RULE:^(.*)$/${nope}/", "CN=a"), "");
	/* a name that does not fit */
	r = kp_principal_rules_new("DEFAULT", err, sizeof(err));
	ck_assert_int_eq(kp_principal_map(r, "CN=0123456789", out, 8), -1);
	ck_assert_int_eq(kp_principal_map(r, "CN=0123", out, 8), 0);
	ck_assert_str_eq(out, "CN=0123");
	kp_principal_rules_free(r);
}
END_TEST

START_TEST(invalid_lists)
{
	ck_assert_str_eq(refused("RULE:abc"), "Invalid rule: `RULE:abc`");
	ck_assert_str_eq(refused("DEFAULTS"), "Invalid rule: `DEFAULTS`");
	ck_assert_str_eq(refused("DEFAULT,foo"), "Invalid rule: `foo`");
	ck_assert_str_eq(refused("RULE:a/b/x,DEFAULT"), "Invalid rule: `RULE:a/b/x`");
	ck_assert_str_eq(refused("RULE:a/b/L x"), "Invalid rule: `RULE:a/b/L x`");
	ck_assert_str_eq(refused("RULE:a/b"), "Invalid rule: `RULE:a/b`");
	ck_assert_str_eq(refused("RULE:a\\"), "Invalid rule: `RULE:a\\`");
	ck_assert_str_eq(refused("rule:a/b/"), "Invalid rule: `rule:a/b/`");
	ck_assert_ptr_nonnull(strstr(refused("RULE:(abc/x/"), "Invalid rule pattern `(abc`"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("principal");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, default_and_order);
	tcase_add_test(tc, no_rule_applies);
	tcase_add_test(tc, syntax);
	tcase_add_test(tc, group_references);
	tcase_add_test(tc, replacements_java_refuses);
	tcase_add_test(tc, invalid_lists);
	suite_add_tcase(s, tc);
	return check_run(s);
}
