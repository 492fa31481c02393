/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_sasl.c - JAAS lines parsed as Kafka reads them (login module,
 * flag, quoted and bare options, one entry only) and SASL PLAIN's server
 * side: the three tokens, the user_<name> passwords, the authorization id,
 * Kafka's messages, and malformed tokens refused without a crash.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "kp_sasl.h"

#define PLAIN_JAAS "org.apache.kafka.common.security.plain.PlainLoginModule required\n" \
	"  username=\"admin\" password=\"admin-secret\"\n" \
	"  user_admin=\"admin-secret\" user_alice=\"al\\\"ice\" debug=true;"

START_TEST(jaas_lines)
{
	struct kp_jaas j;
	char err[256];

	ck_assert_int_eq(kp_jaas_parse(PLAIN_JAAS, &j, err, sizeof(err)), 0);
	ck_assert_str_eq(j.module, "org.apache.kafka.common.security.plain.PlainLoginModule");
	ck_assert_str_eq(j.flag, "required");
	ck_assert_uint_eq(j.n, 5);
	ck_assert_str_eq(kp_jaas_get(&j, "username"), "admin");
	ck_assert_str_eq(kp_jaas_get(&j, "user_alice"), "al\"ice");
	ck_assert_str_eq(kp_jaas_get(&j, "debug"), "true");
	ck_assert_ptr_null(kp_jaas_get(&j, "user_bob"));
	kp_jaas_free(&j);

	ck_assert_int_eq(kp_jaas_parse("x.Module required a=\"b\"", &j, err, sizeof(err)), -1);
	ck_assert_int_eq(kp_jaas_parse("x.Module required a=\"b;", &j, err, sizeof(err)), -1);
	ck_assert_int_eq(kp_jaas_parse("x.Module required a=b; y.M required;", &j, err,
				       sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "more than one login module"));
	ck_assert_int_eq(kp_jaas_parse("", &j, err, sizeof(err)), -1);
	ck_assert_int_eq(kp_jaas_parse("x.Module required =b;", &j, err, sizeof(err)), -1);
}
END_TEST

static int plain(const struct kp_jaas *j, const char *tok, size_t len, char *user,
		 char *err)
{
	return kp_sasl_plain_check((const uint8_t *)tok, len, j, user, 64, err, 256);
}

START_TEST(plain_tokens)
{
	struct kp_jaas j;
	char err[256], user[64];

	ck_assert_int_eq(kp_jaas_parse(PLAIN_JAAS, &j, err, sizeof(err)), 0);
	ck_assert_int_eq(plain(&j, "\0admin\0admin-secret", 19, user, err), 0);
	ck_assert_str_eq(user, "admin");
	ck_assert_int_eq(plain(&j, "alice\0alice\0al\"ice", 18, user, err), 0);
	ck_assert_str_eq(user, "alice");
	/* wrong password, unknown user: the same message */
	ck_assert_int_eq(plain(&j, "\0admin\0admin-secreT", 19, user, err), -1);
	ck_assert_str_eq(err, "Authentication failed: Invalid username or password");
	ck_assert_int_eq(plain(&j, "\0bob\0admin-secret", 17, user, err), -1);
	ck_assert_str_eq(err, "Authentication failed: Invalid username or password");
	/* a password that is a prefix of the right one */
	ck_assert_int_eq(plain(&j, "\0admin\0admin", 12, user, err), -1);
	ck_assert_int_eq(plain(&j, "bob\0admin\0admin-secret", 22, user, err), -1);
	ck_assert_str_eq(err, "Authentication failed: Client requested an authorization "
			 "id that is different from username");
	ck_assert_int_eq(plain(&j, "\0\0x", 3, user, err), -1);
	ck_assert_str_eq(err, "Authentication failed: username not specified");
	ck_assert_int_eq(plain(&j, "\0admin\0", 7, user, err), -1);
	ck_assert_str_eq(err, "Authentication failed: password not specified");
	ck_assert_int_eq(plain(&j, "admin", 5, user, err), -1);
	ck_assert_str_eq(err, "Invalid SASL/PLAIN response: expected 3 tokens");
	ck_assert_int_eq(plain(&j, "\0a\0b\0c", 6, user, err), -1);
	ck_assert_int_eq(plain(&j, "", 0, user, err), -1);
	kp_jaas_free(&j);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sasl");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, jaas_lines);
	tcase_add_test(tc, plain_tokens);
	suite_add_tcase(s, tc);
	return check_run(s);
}
