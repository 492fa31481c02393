/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_sasl.c - libFuzzer target for what a SASL listener parses from
 * untrusted bytes before authentication: a SaslAuthenticate request body
 * (decoded as the broker decodes it, at the version of the input's first
 * byte) whose token goes to the PLAIN check, and the same bytes as a
 * PLAIN token and as a JAAS line; and SCRAM: the bytes up to the first
 * newline as client-first, the rest as client-final (against a fixed
 * credential), and the whole as a stored credential string.  Nothing may
 * crash, leak or read out of bounds; a token the check accepts must name
 * a configured user, and no forged client-final may authenticate.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_codec.h"
#include "kp_msgs.h"
#include "kp_proto.h"
#include "kp_sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kp_jaas users;

static void check(const uint8_t *tok, size_t len)
{
	char user[256], err[256];

	if (kp_sasl_plain_check(tok, len, &users, user, sizeof(user), err,
				sizeof(err)) == 0 &&
	    strcmp(user, "admin") != 0 && strcmp(user, "alice") != 0)
		abort();
}

static struct kp_scram_cred cred;

static int lookup(void *arg, int mech, const char *user, struct kp_scram_cred *out)
{
	(void)arg;
	if (mech != KP_SCRAM_SHA_256 || strcmp(user, "user") != 0)
		return -1;
	*out = cred;
	return 0;
}

static void scram(const uint8_t *data, size_t size)
{
	static const uint8_t salted[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct kp_scram_server s;
	struct kp_scram_cred c;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t first = nl != NULL ? (size_t)(nl - data) : size;
	char out[1024], err[256], why[256], *text;

	if (cred.key_len == 0 &&
	    kp_scram_cred_from_salted(KP_SCRAM_SHA_256, salted, sizeof(salted),
				      (const uint8_t *)"salt", 4, 4096, &cred) < 0)
		abort();
	kp_scram_server_init(&s, KP_SCRAM_SHA_256);
	if (kp_scram_server_first(&s, data, first, lookup, NULL, "srv", out, sizeof(out),
				  err, sizeof(err), why, sizeof(why)) >= 0 && nl != NULL &&
	    kp_scram_server_final(&s, nl + 1, size - first - 1, out, sizeof(out), err,
				  sizeof(err), why, sizeof(why)) >= 0)
		abort();	/* a proof forged without the key */
	kp_scram_server_clear(&s);
	text = malloc(size + 1);
	if (text == NULL)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)kp_scram_cred_parse(KP_SCRAM_SHA_512, text, &c, err, sizeof(err));
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct kp_api_desc *api = kp_api_get(KP_API_SASL_AUTHENTICATE);
	struct kp_arena a;
	struct kp_reader r;
	struct kp_jaas j;
	char err[256], *text;
	void *req;

	if (users.n == 0 &&
	    kp_jaas_parse("org.apache.kafka.common.security.plain.PlainLoginModule "
			  "required user_admin=\"a-secret\" user_alice=\"b\";", &users,
			  err, sizeof(err)) < 0)
		abort();
	if (size == 0)
		return 0;
	kp_arena_init(&a, 1 << 20);
	req = kp_arena_alloc(&a, api->req->size);
	kp_reader_init(&r, data + 1, size - 1);
	if (req != NULL &&
	    kp_request_decode(api, (int16_t)(data[0] % 3), &r, &a, req) == 0) {
		const struct kp_sasl_authenticate_req *sa = req;

		check(sa->auth_bytes.ptr,
		      sa->auth_bytes.len > 0 ? (size_t)sa->auth_bytes.len : 0);
	}
	kp_arena_free(&a);
	check(data, size);
	scram(data, size);
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (kp_jaas_parse(text, &j, err, sizeof(err)) == 0)
		kp_jaas_free(&j);
	free(text);
	return 0;
}
