/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_sasl.c - JAAS lines parsed as Kafka reads them (login module,
 * flag, quoted and bare options, one entry only) and SASL PLAIN's server
 * side: the three tokens, the user_<name> passwords, the authorization id,
 * Kafka's messages, and malformed tokens refused without a crash.  SCRAM:
 * RFC 7677's SCRAM-SHA-256 exchange byte for byte, a SCRAM-SHA-512
 * exchange driven by a client computed here, Kafka's credential string
 * form both ways, wrong proofs, unknown users and malformed messages.
 * One connection's exchange (kp_sasl_conn, shared by kbroker and
 * kcontroller): the handshake's versions and mechanisms, KIP-368 session
 * lifetimes and expiry, re-authentication (same user and mechanism, at
 * most one a second), and connections.max.reauth.ms read per listener and
 * mechanism.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>

#include "kp_config.h"
#include "kp_sasl.h"
#include "kp_sasl_cfg.h"
#include "kp_sasl_conn.h"

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

/* RFC 7677 section 3: user "user", password "pencil" */
#define V_SALT "W22ZaJ0SNY7soEsUEjb6gQ=="
#define V_CFIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define V_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define V_SFIRST "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
	"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define V_CFINAL "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
	"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define V_SFINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

struct users {
	const char *name;
	struct kp_scram_cred cred;
};

static int lookup(void *arg, int mech, const char *user, struct kp_scram_cred *out)
{
	struct users *u = arg;

	(void)mech;
	if (strcmp(user, u->name) != 0)
		return -1;
	*out = u->cred;
	return 0;
}

static void make_cred(int mech, const char *pw, const char *salt_b64, int32_t iters,
		      struct kp_scram_cred *c)
{
	uint8_t salt[64], salted[64];
	int sl = kp_base64_decode(salt_b64, strlen(salt_b64), salt, sizeof(salt));

	ck_assert_int_gt(sl, 0);
	ck_assert_int_eq(kp_scram_salt_password(mech, pw, strlen(pw), salt, (size_t)sl, iters,
						salted), 0);
	ck_assert_int_eq(kp_scram_cred_from_salted(mech, salted, kp_scram_hash_len(mech), salt,
						   (size_t)sl, iters, c), 0);
}

static int step1(struct kp_scram_server *s, struct users *u, const char *msg,
		 const char *snonce, char *out, char *err)
{
	char why[256];

	return kp_scram_server_first(s, (const uint8_t *)msg, strlen(msg), lookup, u, snonce,
				     out, 1024, err, 256, why, sizeof(why));
}

static int step2(struct kp_scram_server *s, const char *msg, char *out, char *err)
{
	char why[256];

	return kp_scram_server_final(s, (const uint8_t *)msg, strlen(msg), out, 1024, err,
				     256, why, sizeof(why));
}

START_TEST(scram_rfc7677)
{
	struct users u = { .name = "user" };
	struct kp_scram_server s;
	char out[1024], err[256], text[512];
	struct kp_scram_cred back;

	make_cred(KP_SCRAM_SHA_256, "pencil", V_SALT, 4096, &u.cred);
	kp_scram_server_init(&s, KP_SCRAM_SHA_256);
	ck_assert_int_eq(step1(&s, &u, V_CFIRST, V_SNONCE, out, err), strlen(V_SFIRST));
	ck_assert_str_eq(out, V_SFIRST);
	ck_assert_int_eq(step2(&s, V_CFINAL, out, err), strlen(V_SFINAL));
	ck_assert_str_eq(out, V_SFINAL);
	ck_assert_int_eq(s.state, KP_SCRAM_DONE);
	/* a final message after the end */
	ck_assert_int_eq(step2(&s, V_CFINAL, out, err), -1);

	/* Kafka's string form, and back */
	ck_assert_int_gt(kp_scram_cred_format(&u.cred, text, sizeof(text)), 0);
	ck_assert_ptr_nonnull(strstr(text, "salt=" V_SALT ",stored_key="));
	ck_assert_ptr_nonnull(strstr(text, ",iterations=4096"));
	ck_assert_int_eq(kp_scram_cred_parse(KP_SCRAM_SHA_256, text, &back, err, sizeof(err)),
			 0);
	ck_assert_mem_eq(&back, &u.cred, sizeof(back));
	/* a SHA-256 credential is the wrong size for SHA-512 */
	ck_assert_int_eq(kp_scram_cred_parse(KP_SCRAM_SHA_512, text, &back, err, sizeof(err)),
			 -1);
	ck_assert_int_eq(kp_scram_cred_parse(KP_SCRAM_SHA_256, "salt=AA==,iterations=4096",
					     &back, err, sizeof(err)), -1);
	ck_assert_int_eq(kp_scram_cred_parse(KP_SCRAM_SHA_256, "salt=A,stored_key=,x", &back,
					     err, sizeof(err)), -1);

	/* a wrong proof (one bit) */
	kp_scram_server_init(&s, KP_SCRAM_SHA_256);
	ck_assert_int_gt(step1(&s, &u, V_CFIRST, V_SNONCE, out, err), 0);
	ck_assert_int_eq(step2(&s, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
			       "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVU=", out, err), -1);
	ck_assert_str_eq(err, KP_SCRAM_FAILED "SCRAM-SHA-256");
	/* a nonce that is not ours */
	kp_scram_server_init(&s, KP_SCRAM_SHA_256);
	ck_assert_int_gt(step1(&s, &u, V_CFIRST, V_SNONCE, out, err), 0);
	ck_assert_int_eq(step2(&s, "c=biws,r=rOprNGfwEbeRWgbNEkqO,"
			       "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", out, err), -1);
	/* as Kafka (endsWith): a final nonce with more in front of ours is
	 * taken (librdkafka repeats its client nonce), and the proof is then
	 * checked over the message as sent: the RFC proof no longer fits */
	kp_scram_server_init(&s, KP_SCRAM_SHA_256);
	ck_assert_int_gt(step1(&s, &u, V_CFIRST, V_SNONCE, out, err), 0);
	ck_assert_int_eq(step2(&s, "c=biws,r=xxrOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
			       "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", out, err), -1);
	/* an unknown user */
	kp_scram_server_init(&s, KP_SCRAM_SHA_256);
	ck_assert_int_eq(step1(&s, &u, "n,,n=bob,r=abc", NULL, out, err), -1);
	ck_assert_str_eq(err, KP_SCRAM_FAILED "SCRAM-SHA-256");
	/* an authorization id that is another user */
	kp_scram_server_init(&s, KP_SCRAM_SHA_256);
	ck_assert_int_eq(step1(&s, &u, "n,a=bob,n=user,r=abc", NULL, out, err), -1);
	ck_assert_str_eq(err, "Authentication failed: Client requested an authorization id "
			 "that is different from username");
	/* the same one is fine, and the channel binding then carries it */
	kp_scram_server_init(&s, KP_SCRAM_SHA_256);
	ck_assert_int_gt(step1(&s, &u, "n,a=user,n=user,r=abc", "def", out, err), 0);
	ck_assert_int_eq(step2(&s, "c=biws,r=abcdef,p=AAAA", out, err), -1);
	/* too few iterations */
	u.cred.iterations = 4095;
	kp_scram_server_init(&s, KP_SCRAM_SHA_256);
	ck_assert_int_eq(step1(&s, &u, V_CFIRST, NULL, out, err), -1);
}
END_TEST

/* The client side of the exchange, computed here for the SHA-512 test;
 * fnonce: the nonce to send (NULL: the server's, as the RFC has it). */
static void client_final_nonce(int mech, const char *pw, const char *cfirst_bare,
			       const char *sfirst, const char *fnonce, char *out,
			       size_t outlen)
{
	const char *r = strstr(sfirst, "r="), *sp = strstr(sfirst, ",s="),
		   *ip = strstr(sfirst, ",i=");
	uint8_t salt[128], salted[64], ck[64], sk[64], sig[64], proof[64];
	char am[2048], nonce[512], wo[600], pb[200];
	size_t hl = kp_scram_hash_len(mech);
	unsigned int n;
	int sl;

	ck_assert(r != NULL && sp != NULL && ip != NULL);
	snprintf(nonce, sizeof(nonce), "%.*s", (int)(sp - r - 2), r + 2);
	sl = kp_base64_decode(sp + 3, (size_t)(ip - sp - 3), salt, sizeof(salt));
	ck_assert_int_gt(sl, 0);
	ck_assert_int_eq(kp_scram_salt_password(mech, pw, strlen(pw), salt, (size_t)sl,
						atoi(ip + 3), salted), 0);
	HMAC(mech == KP_SCRAM_SHA_256 ? EVP_sha256() : EVP_sha512(), salted, (int)hl,
	     (const uint8_t *)"Client Key", 10, ck, &n);
	EVP_Digest(ck, hl, sk, &n, mech == KP_SCRAM_SHA_256 ? EVP_sha256() : EVP_sha512(),
		   NULL);
	snprintf(wo, sizeof(wo), "c=biws,r=%s", fnonce != NULL ? fnonce : nonce);
	snprintf(am, sizeof(am), "%s,%s,%s", cfirst_bare, sfirst, wo);
	HMAC(mech == KP_SCRAM_SHA_256 ? EVP_sha256() : EVP_sha512(), sk, (int)hl,
	     (const uint8_t *)am, strlen(am), sig, &n);
	for (size_t i = 0; i < hl; i++)
		proof[i] = ck[i] ^ sig[i];
	kp_base64_encode(proof, hl, pb, sizeof(pb));
	snprintf(out, outlen, "%s,p=%s", wo, pb);
}

static void client_final(int mech, const char *pw, const char *cfirst_bare,
			 const char *sfirst, char *out, size_t outlen)
{
	client_final_nonce(mech, pw, cfirst_bare, sfirst, NULL, out, outlen);
}

START_TEST(scram_sha512)
{
	struct users u = { .name = "al,i=ce" };
	struct kp_scram_server s;
	char out[1024], err[256], fin[1024];

	make_cred(KP_SCRAM_SHA_512, "s3cret", "c2FsdHNhbHRzYWx0", 8192, &u.cred);
	kp_scram_server_init(&s, KP_SCRAM_SHA_512);
	ck_assert_int_gt(step1(&s, &u, "n,,n=al=2Ci=3Dce,r=clientnonce", NULL, out, err), 0);
	ck_assert_ptr_nonnull(strstr(out, "r=clientnonce"));
	ck_assert_ptr_nonnull(strstr(out, ",s=c2FsdHNhbHRzYWx0,i=8192"));
	client_final(KP_SCRAM_SHA_512, "s3cret", "n=al=2Ci=3Dce,r=clientnonce", out, fin,
		     sizeof(fin));
	ck_assert_int_gt(step2(&s, fin, out, err), 0);
	ck_assert_str_eq(s.user, "al,i=ce");
	ck_assert(strncmp(out, "v=", 2) == 0);

	/* librdkafka's final nonce: its client nonce, then the server's r */
	kp_scram_server_init(&s, KP_SCRAM_SHA_512);
	ck_assert_int_gt(step1(&s, &u, "n,,n=al=2Ci=3Dce,r=cn", NULL, out, err), 0);
	{
		char fn[512];
		const char *comma = strchr(out, ',');

		ck_assert_ptr_nonnull(comma);
		snprintf(fn, sizeof(fn), "cn%.*s", (int)(comma - out - 2), out + 2);
		client_final_nonce(KP_SCRAM_SHA_512, "s3cret", "n=al=2Ci=3Dce,r=cn", out, fn,
				   fin, sizeof(fin));
		ck_assert(strncmp(fin, "c=biws,r=cncn", 13) == 0);
	}
	ck_assert_int_gt(step2(&s, fin, out, err), 0);

	/* the wrong password */
	kp_scram_server_init(&s, KP_SCRAM_SHA_512);
	ck_assert_int_gt(step1(&s, &u, "n,,n=al=2Ci=3Dce,r=xyz", NULL, out, err), 0);
	client_final(KP_SCRAM_SHA_512, "s3creT", "n=al=2Ci=3Dce,r=xyz", out, fin, sizeof(fin));
	ck_assert_int_eq(step2(&s, fin, out, err), -1);
	ck_assert_str_eq(err, KP_SCRAM_FAILED "SCRAM-SHA-512");
}
END_TEST

/* skald's client side against RFC 7677's exchange and our server */
START_TEST(scram_client)
{
	struct users u = { .name = "user" };
	struct kp_scram_client cl;
	struct kp_scram_server s;
	char out[1024], out2[1024], err[256];

	ck_assert_int_gt(kp_scram_client_first(&cl, KP_SCRAM_SHA_256, "user", "pencil",
					       "rOprNGfwEbeRWgbNEkqO", out, sizeof(out), err,
					       sizeof(err)), 0);
	ck_assert_str_eq(out, V_CFIRST);
	ck_assert_int_gt(kp_scram_client_final(&cl, (const uint8_t *)V_SFIRST,
					       strlen(V_SFIRST), out, sizeof(out), err,
					       sizeof(err)), 0);
	ck_assert_str_eq(out, V_CFINAL);
	ck_assert_int_eq(kp_scram_client_verify(&cl, (const uint8_t *)V_SFINAL,
						strlen(V_SFINAL), err, sizeof(err)), 0);
	ck_assert_int_eq(kp_scram_client_verify(&cl, (const uint8_t *)"v=AAAA", 6, err,
						sizeof(err)), -1);
	/* a server nonce that does not extend ours */
	ck_assert_int_gt(kp_scram_client_first(&cl, KP_SCRAM_SHA_256, "user", "pencil",
					       "abc", out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_int_eq(kp_scram_client_final(&cl, (const uint8_t *)V_SFIRST,
					       strlen(V_SFIRST), out, sizeof(out), err,
					       sizeof(err)), -1);

	/* SHA-512, a name to escape, a random nonce, against our server */
	u.name = "a,b=c";
	make_cred(KP_SCRAM_SHA_512, "pw", V_SALT, 4096, &u.cred);
	kp_scram_server_init(&s, KP_SCRAM_SHA_512);
	ck_assert_int_gt(kp_scram_client_first(&cl, KP_SCRAM_SHA_512, "a,b=c", "pw", NULL,
					       out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_int_gt(step1(&s, &u, out, NULL, out2, err), 0);
	ck_assert_int_gt(kp_scram_client_final(&cl, (const uint8_t *)out2, strlen(out2), out,
					       sizeof(out), err, sizeof(err)), 0);
	ck_assert_int_gt(step2(&s, out, out2, err), 0);
	ck_assert_int_eq(kp_scram_client_verify(&cl, (const uint8_t *)out2, strlen(out2),
						err, sizeof(err)), 0);
	/* malformed server-first messages */
	ck_assert_int_gt(kp_scram_client_first(&cl, KP_SCRAM_SHA_256, "user", "pencil",
					       "abc", out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_int_eq(kp_scram_client_final(&cl, (const uint8_t *)"r=abcd,s=!!,i=4096", 18,
					       out, sizeof(out), err, sizeof(err)), -1);
	ck_assert_int_eq(kp_scram_client_final(&cl, (const uint8_t *)"r=abcd,s=AAAA,i=10", 18,
					       out, sizeof(out), err, sizeof(err)), -1);
	ck_assert_int_eq(kp_scram_client_final(&cl, (const uint8_t *)"r=abcd", 6, out,
					       sizeof(out), err, sizeof(err)), -1);
}
END_TEST

START_TEST(scram_malformed)
{
	static const char *const firsts[] = {
		"", "n", "y,,n=user,r=a", "p=tls-unique,,n=user,r=a", "n,,", "n,,n=user",
		"n,,n=,r=a", "n,,n=us=er,r=a", "n,,n=user,r=", "n,,n=user,x=a",
		"n,a,n=user,r=a", "n,,n=user,r=a,tokenauth=true", "n,,n=user=2",
	};
	static const char *const finals[] = {
		"", "c=biws", "c=biws,r=abcdef", "c=xxxx,r=abcdef,p=AAAA", "c=biws,r=abcdef,p=",
		"c=biws,r=abcdef,p=!!!!", "c=biws,r=abcde,p=AAAA", "r=abcdef,p=AAAA",
	};
	struct users u = { .name = "user" };
	struct kp_scram_server s;
	char out[1024], err[256];
	uint8_t big[5000];

	make_cred(KP_SCRAM_SHA_256, "pencil", V_SALT, 4096, &u.cred);
	for (size_t i = 0; i < sizeof(firsts) / sizeof(*firsts); i++) {
		kp_scram_server_init(&s, KP_SCRAM_SHA_256);
		ck_assert_msg(step1(&s, &u, firsts[i], "def", out, err) == -1, "%s", firsts[i]);
	}
	for (size_t i = 0; i < sizeof(finals) / sizeof(*finals); i++) {
		kp_scram_server_init(&s, KP_SCRAM_SHA_256);
		ck_assert_int_gt(step1(&s, &u, "n,,n=user,r=abc", "def", out, err), 0);
		ck_assert_msg(step2(&s, finals[i], out, err) == -1, "%s", finals[i]);
	}
	/* oversized and NUL-carrying messages */
	memset(big, 'a', sizeof(big));
	kp_scram_server_init(&s, KP_SCRAM_SHA_256);
	ck_assert_int_eq(kp_scram_server_first(&s, big, sizeof(big), lookup, &u, NULL, out,
					       sizeof(out), err, sizeof(err), out, 16), -1);
	kp_scram_server_init(&s, KP_SCRAM_SHA_256);
	ck_assert_int_eq(kp_scram_server_first(&s, (const uint8_t *)"n,,n=user\0,r=a", 14,
					       lookup, &u, NULL, out, sizeof(out), err,
					       sizeof(err), err, 16), -1);
	/* base64 */
	ck_assert_int_eq(kp_base64_decode("AA=A", 4, big, 10), -1);
	ck_assert_int_eq(kp_base64_decode("AAA", 3, big, 10), -1);
	ck_assert_int_eq(kp_base64_decode("AAAAAAAA", 8, big, 5), -1);
	ck_assert_int_eq(kp_base64_decode("YWI=", 4, big, 10), 2);
	ck_assert_mem_eq(big, "ab", 2);
}
END_TEST

/* A PLAIN token "\0user\0pw". */
static size_t plain_tok(uint8_t *buf, const char *user, const char *pw)
{
	size_t ul = strlen(user), pl = strlen(pw);

	buf[0] = 0;
	memcpy(buf + 1, user, ul);
	buf[1 + ul] = 0;
	memcpy(buf + 2 + ul, pw, pl);
	return ul + pl + 2;
}

static void plain_listener(struct kp_sasl_listener *l, int64_t reauth_ms)
{
	char err[256];

	memset(l, 0, sizeof(*l));
	l->plain = true;
	l->scram[KP_SCRAM_SHA_256] = true;
	snprintf(l->mechs, sizeof(l->mechs), "PLAIN,SCRAM-SHA-256");
	ck_assert_int_eq(kp_jaas_parse(PLAIN_JAAS, &l->plain_jaas, err, sizeof(err)), 0);
	l->reauth_ms[0] = reauth_ms;
	l->reauth_ms[KP_SCRAM_SHA_256] = reauth_ms;
}

START_TEST(conn_exchange_and_reauth)
{
	struct kp_sasl_listener l;
	struct kp_sasl_conn c;
	struct users u = { .name = "user" };
	uint8_t tok[128];
	char out[1024], msg[256];
	size_t outlen, n;
	kp_str names[4];

	plain_listener(&l, 3000);
	ck_assert_int_eq(kp_sasl_mech_names(&l, names), 2);
	ck_assert_int_eq(names[1].len, 13);
	ck_assert_mem_eq(names[1].ptr, "SCRAM-SHA-256", 13);
	kp_sasl_conn_init(&c, &l, lookup, &u);
	/* tokens before a handshake, an unknown mechanism */
	ck_assert_int_eq(kp_sasl_conn_token(&c, "t", tok, 0, out, sizeof(out), &outlen, msg,
					    sizeof(msg), 1000), -1);
	ck_assert_int_eq(kp_sasl_conn_handshake(&c, "GSSAPI", 6, 1),
			 KP_ERR_UNSUPPORTED_SASL_MECHANISM);
	ck_assert_int_eq(kp_sasl_conn_handshake(&c, "SCRAM-SHA-512", 13, 1),
			 KP_ERR_UNSUPPORTED_SASL_MECHANISM);
	ck_assert_int_eq(c.state, KP_SASL_HANDSHAKE);
	ck_assert_int_eq(kp_sasl_conn_handshake(&c, "PLAIN", 5, 1), KP_ERR_NONE);
	ck_assert_int_eq(c.state, KP_SASL_AUTHENTICATE);
	ck_assert_int_eq(kp_sasl_conn_handshake(&c, "PLAIN", 5, 1), KP_ERR_ILLEGAL_SASL_STATE);
	/* no re-authentication before the first authentication */
	ck_assert(!kp_sasl_conn_reauth_begin(&c, 1000));
	n = plain_tok(tok, "admin", "admin-secret");
	ck_assert_int_eq(kp_sasl_conn_token(&c, "t", tok, n, out, sizeof(out), &outlen, msg,
					    sizeof(msg), 1000), 1);
	ck_assert_uint_eq(outlen, 0);
	ck_assert_str_eq(c.user, "admin");
	ck_assert_int_eq(c.state, KP_SASL_DONE);
	ck_assert_int_eq(c.lifetime_ms, 3000);
	ck_assert(!kp_sasl_conn_expired(&c, 4000));
	ck_assert(kp_sasl_conn_expired(&c, 4001));

	/* re-authentication, the same user: a new lifetime */
	ck_assert(kp_sasl_conn_reauth_begin(&c, 3500));
	ck_assert_int_eq(c.state, KP_SASL_HANDSHAKE);
	ck_assert_str_eq(c.user, "admin");	/* kept meanwhile */
	ck_assert_int_eq(kp_sasl_conn_handshake(&c, "PLAIN", 5, 2), KP_ERR_NONE);
	ck_assert_int_eq(kp_sasl_conn_token(&c, "t", tok, n, out, sizeof(out), &outlen, msg,
					    sizeof(msg), 3600), 1);
	ck_assert(!kp_sasl_conn_expired(&c, 6600));
	ck_assert(kp_sasl_conn_expired(&c, 6601));
	/* at most one a second */
	ck_assert(!kp_sasl_conn_reauth_begin(&c, 4499));
	ck_assert_int_eq(c.state, KP_SASL_DONE);
	/* another user is refused */
	ck_assert(kp_sasl_conn_reauth_begin(&c, 4500));
	ck_assert_int_eq(kp_sasl_conn_handshake(&c, "PLAIN", 5, 1), KP_ERR_NONE);
	n = plain_tok(tok, "alice", "al\"ice");
	ck_assert_int_eq(kp_sasl_conn_token(&c, "t", tok, n, out, sizeof(out), &outlen, msg,
					    sizeof(msg), 4600), -1);
	ck_assert_str_eq(msg, "Cannot change principals during re-authentication from "
			 "User.admin: User.alice");
	kp_sasl_conn_free(&c);

	/* another mechanism is refused at its first token */
	kp_sasl_conn_init(&c, &l, lookup, &u);
	ck_assert_int_eq(kp_sasl_conn_handshake(&c, "PLAIN", 5, 1), KP_ERR_NONE);
	n = plain_tok(tok, "admin", "admin-secret");
	ck_assert_int_eq(kp_sasl_conn_token(&c, "t", tok, n, out, sizeof(out), &outlen, msg,
					    sizeof(msg), 1000), 1);
	ck_assert(kp_sasl_conn_reauth_begin(&c, 2000));
	ck_assert_int_eq(kp_sasl_conn_handshake(&c, "SCRAM-SHA-256", 13, 1), KP_ERR_NONE);
	ck_assert_int_eq(kp_sasl_conn_token(&c, "t", (const uint8_t *)V_CFIRST,
					    strlen(V_CFIRST), out, sizeof(out), &outlen, msg,
					    sizeof(msg), 2000), -1);
	ck_assert_str_eq(msg, "SASL mechanism 'SCRAM-SHA-256' requested by client is not "
			 "supported for re-authentication of mechanism 'PLAIN'");
	kp_sasl_conn_free(&c);

	/* a wrong password on re-authentication: Kafka's text says so */
	kp_sasl_conn_init(&c, &l, lookup, &u);
	ck_assert_int_eq(kp_sasl_conn_handshake(&c, "PLAIN", 5, 0), KP_ERR_NONE);
	ck_assert_int_eq(c.state, KP_SASL_RAW);	/* v0: bare tokens */
	ck_assert_int_eq(kp_sasl_conn_token(&c, "t", tok, n, out, sizeof(out), &outlen, msg,
					    sizeof(msg), 1000), 1);
	ck_assert(kp_sasl_conn_reauth_begin(&c, 2000));
	ck_assert_int_eq(kp_sasl_conn_handshake(&c, "PLAIN", 5, 1), KP_ERR_NONE);
	n = plain_tok(tok, "admin", "nope");
	ck_assert_int_eq(kp_sasl_conn_token(&c, "t", tok, n, out, sizeof(out), &outlen, msg,
					    sizeof(msg), 2100), -1);
	kp_sasl_conn_free(&c);
	kp_sasl_listener_free(&l);

	/* no lifetime: no expiry, no re-authentication (ILLEGAL_SASL_STATE) */
	plain_listener(&l, 0);
	kp_sasl_conn_init(&c, &l, lookup, &u);
	ck_assert_int_eq(kp_sasl_conn_handshake(&c, "PLAIN", 5, 1), KP_ERR_NONE);
	n = plain_tok(tok, "admin", "admin-secret");
	ck_assert_int_eq(kp_sasl_conn_token(&c, "t", tok, n, out, sizeof(out), &outlen, msg,
					    sizeof(msg), 1000), 1);
	ck_assert_int_eq(c.lifetime_ms, 0);
	ck_assert(!kp_sasl_conn_expired(&c, INT64_MAX / 2));
	ck_assert(!kp_sasl_conn_reauth_begin(&c, 5000));
	ck_assert_int_eq(kp_sasl_conn_handshake(&c, "PLAIN", 5, 1), KP_ERR_ILLEGAL_SASL_STATE);
	kp_sasl_conn_free(&c);
	kp_sasl_listener_free(&l);
}
END_TEST

START_TEST(conn_scram_reauth)
{
	struct kp_sasl_listener l;
	struct kp_sasl_conn c;
	struct users u = { .name = "user" };
	struct kp_scram_client cl;
	char out[1024], out2[1024], msg[256], err[256];
	size_t outlen;
	int round;

	make_cred(KP_SCRAM_SHA_256, "pencil", V_SALT, 4096, &u.cred);
	plain_listener(&l, 60000);
	kp_sasl_conn_init(&c, &l, lookup, &u);
	for (round = 0; round < 2; round++) {
		int64_t now = 1000 + round * 2000;

		if (round > 0)
			ck_assert(kp_sasl_conn_reauth_begin(&c, now));
		ck_assert_int_eq(kp_sasl_conn_handshake(&c, "SCRAM-SHA-256", 13, 1),
				 KP_ERR_NONE);
		ck_assert_int_gt(kp_scram_client_first(&cl, KP_SCRAM_SHA_256, "user", "pencil",
						       NULL, out, sizeof(out), err,
						       sizeof(err)), 0);
		ck_assert_int_eq(kp_sasl_conn_token(&c, "t", (const uint8_t *)out, strlen(out),
						    out2, sizeof(out2), &outlen, msg,
						    sizeof(msg), now), 0);
		ck_assert_int_gt(kp_scram_client_final(&cl, (const uint8_t *)out2, outlen, out,
						       sizeof(out), err, sizeof(err)), 0);
		ck_assert_int_eq(kp_sasl_conn_token(&c, "t", (const uint8_t *)out, strlen(out),
						    out2, sizeof(out2), &outlen, msg,
						    sizeof(msg), now), 1);
		ck_assert_int_eq(kp_scram_client_verify(&cl, (const uint8_t *)out2, outlen, err,
							sizeof(err)), 0);
		ck_assert_str_eq(c.user, "user");
		ck_assert_int_eq(c.expiry_ms, now + 60000);
	}
	kp_sasl_conn_free(&c);
	kp_sasl_listener_free(&l);
}
END_TEST

static const struct kp_config_def reauth_defs[] = {
	{ "sasl.enabled.mechanisms", KP_CFG_LIST, "GSSAPI", 0, 0, NULL, "m", "S" },
	{ "sasl.jaas.config", KP_CFG_PASSWORD, NULL, 0, 0, NULL, "j", "S" },
	{ "connections.max.reauth.ms", KP_CFG_LONG, "0", 0, INT64_MAX, NULL, "r", "S" },
};

static int reauth_cfg(const char *text, struct kp_sasl_listener *l, char *err)
{
	struct kp_props p;
	struct kp_config c;
	int rc;

	kp_props_init(&p);
	ck_assert_int_eq(kp_props_parse(&p, text, strlen(text), err, 256), 0);
	if (kp_config_build(&c, reauth_defs, 3, &p, NULL, NULL, err, 256) < 0) {
		kp_props_free(&p);
		memset(l, 0, sizeof(*l));
		return -2;	/* refused by the table */
	}
	rc = kp_sasl_listener_setup(&c, "SASL_SSL", l, err, 256);
	kp_config_free(&c);
	kp_props_free(&p);
	return rc;
}

START_TEST(reauth_keys)
{
	struct kp_sasl_listener l;
	char err[256];

	/* none: 0 */
	ck_assert_int_eq(reauth_cfg("sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512\n",
				    &l, err), 0);
	ck_assert_int_eq(l.reauth_ms[KP_SCRAM_SHA_256], 0);
	kp_sasl_listener_free(&l);
	/* the key, the listener's, the listener's and mechanism's */
	ck_assert_int_eq(reauth_cfg("sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512\n"
				    "connections.max.reauth.ms=1000\n", &l, err), 0);
	ck_assert_int_eq(l.reauth_ms[KP_SCRAM_SHA_256], 1000);
	ck_assert_int_eq(l.reauth_ms[KP_SCRAM_SHA_512], 1000);
	kp_sasl_listener_free(&l);
	ck_assert_int_eq(reauth_cfg("sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512\n"
				    "connections.max.reauth.ms=1000\n"
				    "listener.name.sasl_ssl.connections.max.reauth.ms=2000\n"
				    "listener.name.sasl_ssl.scram-sha-512.connections.max.reauth.ms"
				    "=3000\n"
				    "listener.name.other.scram-sha-256.connections.max.reauth.ms"
				    "=9\n", &l, err), 0);
	ck_assert_int_eq(l.reauth_ms[KP_SCRAM_SHA_256], 2000);
	ck_assert_int_eq(l.reauth_ms[KP_SCRAM_SHA_512], 3000);
	kp_sasl_listener_free(&l);
	/* a bad value names its key (the table's check, as Kafka's) */
	ck_assert_int_eq(reauth_cfg("sasl.enabled.mechanisms=SCRAM-SHA-256\n"
				    "listener.name.sasl_ssl.scram-sha-256.connections.max.reauth.ms"
				    "=-5\n", &l, err), -2);
	ck_assert_str_eq(err, "Invalid value -5 for configuration listener.name.sasl_ssl."
			 "scram-sha-256.connections.max.reauth.ms: Value must be at least 0");
	kp_sasl_listener_free(&l);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sasl");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, jaas_lines);
	tcase_add_test(tc, plain_tokens);
	tcase_add_test(tc, scram_rfc7677);
	tcase_add_test(tc, scram_sha512);
	tcase_add_test(tc, scram_client);
	tcase_add_test(tc, scram_malformed);
	tcase_add_test(tc, conn_exchange_and_reauth);
	tcase_add_test(tc, conn_scram_reauth);
	tcase_add_test(tc, reauth_keys);
	suite_add_tcase(s, tc);
	return check_run(s);
}
