/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_sasl.c - JAAS lines and SASL PLAIN; see kp_sasl.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "kp_sasl.h"

static int add(struct kp_jaas *j, char *k, char *v)
{
	char **nk = realloc(j->keys, (j->n + 1) * sizeof(*nk)), **nv;

	if (nk == NULL)
		return -1;
	j->keys = nk;
	nv = realloc(j->values, (j->n + 1) * sizeof(*nv));
	if (nv == NULL)
		return -1;
	j->values = nv;
	j->keys[j->n] = k;
	j->values[j->n] = v;
	j->n++;
	return 0;
}

/* A word: letters, digits, '.', '_', '-', '$'. */
static char *word(const char **p)
{
	const char *s = *p, *e = s;

	while (*e && (isalnum((unsigned char)*e) || strchr("._-$", *e) != NULL))
		e++;
	if (e == s)
		return NULL;
	*p = e;
	return strndup(s, (size_t)(e - s));
}

static void blanks(const char **p)
{
	while (isspace((unsigned char)**p))
		(*p)++;
}

int kp_jaas_parse(const char *text, struct kp_jaas *j, char *err, size_t errlen)
{
	const char *p = text;

	memset(j, 0, sizeof(*j));
	blanks(&p);
	j->module = word(&p);
	blanks(&p);
	j->flag = word(&p);
	if (j->module == NULL || j->flag == NULL) {
		snprintf(err, errlen, "JAAS config entry not terminated by semi-colon "
			 "or malformed: expected a login module and a control flag");
		goto fail;
	}
	for (;;) {
		char *k, *v;

		blanks(&p);
		if (*p == ';')
			break;
		k = word(&p);
		if (k == NULL || *p != '=') {
			free(k);
			snprintf(err, errlen, "JAAS config: expected key=value at \"%.20s\"", p);
			goto fail;
		}
		p++;
		if (*p == '"') {
			/* a quoted value; \" and \\ escape */
			char *buf = malloc(strlen(p) + 1);
			size_t n = 0;

			if (buf == NULL) {
				free(k);
				goto nomem;
			}
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				buf[n++] = *p;
			}
			buf[n] = '\0';
			if (*p != '"') {
				free(k);
				free(buf);
				snprintf(err, errlen, "JAAS config: unterminated quoted value");
				goto fail;
			}
			p++;
			v = buf;
		} else {
			v = word(&p);
			if (v == NULL) {
				snprintf(err, errlen, "JAAS config: no value for %s", k);
				free(k);
				goto fail;
			}
		}
		if (add(j, k, v) < 0) {
			free(k);
			free(v);
			goto nomem;
		}
	}
	p++;
	blanks(&p);
	if (*p != '\0') {
		snprintf(err, errlen, "JAAS config property contains more than one login "
			 "module");
		goto fail;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	kp_jaas_free(j);
	return -1;
}

const char *kp_jaas_get(const struct kp_jaas *j, const char *key)
{
	for (size_t i = 0; i < j->n; i++)
		if (strcmp(j->keys[i], key) == 0)
			return j->values[i];
	return NULL;
}

void kp_jaas_free(struct kp_jaas *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->keys[i]);
		free(j->values[i]);
	}
	free(j->keys);
	free(j->values);
	free(j->module);
	free(j->flag);
	memset(j, 0, sizeof(*j));
}

int kp_sasl_plain_check(const uint8_t *tok, size_t len, const struct kp_jaas *j,
			char *user, size_t userlen, char *err, size_t errlen)
{
	const uint8_t *end = tok + len, *u, *pw, *z1, *z2;
	char key[300];
	const char *want;
	size_t ul, pl;

	/* authzid NUL authcid NUL passwd, as Kafka's PlainSaslServer */
	z1 = memchr(tok, 0, len);
	z2 = z1 != NULL ? memchr(z1 + 1, 0, (size_t)(end - z1 - 1)) : NULL;
	if (z2 == NULL || memchr(z2 + 1, 0, (size_t)(end - z2 - 1)) != NULL) {
		snprintf(err, errlen, "Invalid SASL/PLAIN response: expected 3 tokens");
		return -1;
	}
	u = z1 + 1;
	ul = (size_t)(z2 - u);
	pw = z2 + 1;
	pl = (size_t)(end - pw);
	if (ul == 0) {
		snprintf(err, errlen, "Authentication failed: username not specified");
		return -1;
	}
	if (pl == 0) {
		snprintf(err, errlen, "Authentication failed: password not specified");
		return -1;
	}
	if (ul + 6 >= sizeof(key) || ul >= userlen) {
		snprintf(err, errlen, "Authentication failed: Invalid username or password");
		return -1;
	}
	snprintf(key, sizeof(key), "user_%.*s", (int)ul, (const char *)u);
	want = kp_jaas_get(j, key);
	if (want == NULL || strlen(want) != pl || CRYPTO_memcmp(want, pw, pl) != 0) {
		snprintf(err, errlen, "Authentication failed: Invalid username or password");
		return -1;
	}
	if (z1 != tok && ((size_t)(z1 - tok) != ul || memcmp(tok, u, ul) != 0)) {
		snprintf(err, errlen, "Authentication failed: Client requested an "
			 "authorization id that is different from username");
		return -1;
	}
	memcpy(user, u, ul);
	user[ul] = '\0';
	return 0;
}
