/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_sasl.c - JAAS lines, SASL PLAIN and SCRAM; see kp_sasl.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

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

/* ------------------------------------------------------------- base64 */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int kp_base64_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	size_t need = (len + 2) / 3 * 4, o = 0;

	if (need + 1 > outlen)
		return -1;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return (int)o;
}

static int b64_val(char c)
{
	const char *p = c != '\0' ? strchr(b64, c) : NULL;

	return p != NULL ? (int)(p - b64) : -1;
}

int kp_base64_decode(const char *in, size_t len, uint8_t *out, size_t outlen)
{
	size_t o = 0;

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		uint32_t w;

		for (int k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || (v[k] = b64_val(in[i + k])) < 0)
				return -1;
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
		    (uint32_t)v[3];
		if (o + (size_t)(3 - pad) > outlen)
			return -1;
		out[o++] = (uint8_t)(w >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(w >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)w;
	}
	return (int)o;
}

/* -------------------------------------------------------------- SCRAM */

const char *kp_scram_mech_name(int mech)
{
	return mech == KP_SCRAM_SHA_256 ? "SCRAM-SHA-256"
	       : mech == KP_SCRAM_SHA_512 ? "SCRAM-SHA-512" : NULL;
}

int kp_scram_mech_parse(const char *name, size_t len)
{
	if (len == 13 && memcmp(name, "SCRAM-SHA-256", 13) == 0)
		return KP_SCRAM_SHA_256;
	if (len == 13 && memcmp(name, "SCRAM-SHA-512", 13) == 0)
		return KP_SCRAM_SHA_512;
	return 0;
}

size_t kp_scram_hash_len(int mech)
{
	return mech == KP_SCRAM_SHA_256 ? 32 : mech == KP_SCRAM_SHA_512 ? 64 : 0;
}

static const EVP_MD *scram_md(int mech)
{
	return mech == KP_SCRAM_SHA_256 ? EVP_sha256()
	       : mech == KP_SCRAM_SHA_512 ? EVP_sha512() : NULL;
}

static int hmac(int mech, const uint8_t *key, size_t keylen, const void *msg,
		size_t len, uint8_t *out)
{
	unsigned int n = 0;

	if (HMAC(scram_md(mech), key, (int)keylen, msg, len, out, &n) == NULL)
		return -1;
	return n == kp_scram_hash_len(mech) ? 0 : -1;
}

static int digest(int mech, const uint8_t *msg, size_t len, uint8_t *out)
{
	unsigned int n = 0;

	if (EVP_Digest(msg, len, out, &n, scram_md(mech), NULL) != 1)
		return -1;
	return n == kp_scram_hash_len(mech) ? 0 : -1;
}

int kp_scram_random(uint8_t *buf, size_t n)
{
	return n <= INT32_MAX && RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

int kp_scram_salt_password(int mech, const char *pw, size_t pwlen, const uint8_t *salt,
			   size_t saltlen, int32_t iterations, uint8_t *out)
{
	size_t hl = kp_scram_hash_len(mech);

	if (hl == 0 || iterations <= 0 || pwlen > INT32_MAX || saltlen > INT32_MAX)
		return -1;
	return PKCS5_PBKDF2_HMAC(pw, (int)pwlen, salt, (int)saltlen, iterations,
				 scram_md(mech), (int)hl, out) == 1 ? 0 : -1;
}

int kp_scram_cred_from_salted(int mech, const uint8_t *salted, size_t saltedlen,
			      const uint8_t *salt, size_t saltlen, int32_t iterations,
			      struct kp_scram_cred *c)
{
	size_t hl = kp_scram_hash_len(mech);
	uint8_t ck[KP_SCRAM_MAX_HASH];

	memset(c, 0, sizeof(*c));
	if (hl == 0 || saltedlen != hl || saltlen == 0 || saltlen > sizeof(c->salt) ||
	    iterations <= 0)
		return -1;
	memcpy(c->salt, salt, saltlen);
	c->salt_len = saltlen;
	c->key_len = hl;
	c->iterations = iterations;
	/* ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = H(ClientKey),
	 * ServerKey = HMAC(SaltedPassword, "Server Key") */
	if (hmac(mech, salted, hl, "Client Key", 10, ck) < 0 ||
	    digest(mech, ck, hl, c->stored_key) < 0 ||
	    hmac(mech, salted, hl, "Server Key", 10, c->server_key) < 0) {
		OPENSSL_cleanse(ck, sizeof(ck));
		return -1;
	}
	OPENSSL_cleanse(ck, sizeof(ck));
	return 0;
}

int kp_scram_cred_format(const struct kp_scram_cred *c, char *out, size_t outlen)
{
	char salt[KP_SCRAM_MAX_SALT * 2], sk[KP_SCRAM_MAX_HASH * 2], vk[KP_SCRAM_MAX_HASH * 2];
	int n;

	if (kp_base64_encode(c->salt, c->salt_len, salt, sizeof(salt)) < 0 ||
	    kp_base64_encode(c->stored_key, c->key_len, sk, sizeof(sk)) < 0 ||
	    kp_base64_encode(c->server_key, c->key_len, vk, sizeof(vk)) < 0)
		return -1;
	n = snprintf(out, outlen, "salt=%s,stored_key=%s,server_key=%s,iterations=%d",
		     salt, sk, vk, (int)c->iterations);
	return n >= 0 && (size_t)n < outlen ? n : -1;
}

int kp_scram_cred_parse(int mech, const char *text, struct kp_scram_cred *c, char *err,
			size_t errlen)
{
	size_t hl = kp_scram_hash_len(mech);
	const char *p = text;
	bool have[4] = { false, false, false, false };
	static const char *const names[4] = { "salt", "stored_key", "server_key",
					       "iterations" };

	memset(c, 0, sizeof(*c));
	if (hl == 0) {
		snprintf(err, errlen, "unknown SCRAM mechanism");
		return -1;
	}
	c->key_len = hl;
	while (*p != '\0') {
		const char *eq = strchr(p, '='), *end = strchr(p, ',');
		int k, n;

		if (end == NULL)
			end = p + strlen(p);
		if (eq == NULL || eq > end) {
			snprintf(err, errlen, "SCRAM credential: expected key=value");
			return -1;
		}
		for (k = 0; k < 4; k++)
			if ((size_t)(eq - p) == strlen(names[k]) &&
			    memcmp(p, names[k], strlen(names[k])) == 0)
				break;
		eq++;
		switch (k) {
		case 0:
			n = kp_base64_decode(eq, (size_t)(end - eq), c->salt, sizeof(c->salt));
			if (n <= 0)
				goto bad;
			c->salt_len = (size_t)n;
			break;
		case 1:
		case 2:
			n = kp_base64_decode(eq, (size_t)(end - eq),
					     k == 1 ? c->stored_key : c->server_key,
					     KP_SCRAM_MAX_HASH);
			if (n < 0 || (size_t)n != hl)
				goto bad;
			break;
		case 3: {
			char num[16], *e;
			long v;

			if ((size_t)(end - eq) == 0 || (size_t)(end - eq) >= sizeof(num))
				goto bad;
			memcpy(num, eq, (size_t)(end - eq));
			num[end - eq] = '\0';
			v = strtol(num, &e, 10);
			if (*e != '\0' || v <= 0 || v > INT32_MAX)
				goto bad;
			c->iterations = (int32_t)v;
			break;
		}
		default:
			break;		/* unknown keys are ignored, as Kafka */
		}
		if (k < 4)
			have[k] = true;
		p = *end == ',' ? end + 1 : end;
		continue;
bad:
		snprintf(err, errlen, "SCRAM credential: bad %s", names[k]);
		return -1;
	}
	for (int k = 0; k < 4; k++)
		if (!have[k]) {
			snprintf(err, errlen, "SCRAM credential: no %s", names[k]);
			return -1;
		}
	return 0;
}

void kp_scram_server_init(struct kp_scram_server *s, int mech)
{
	memset(s, 0, sizeof(*s));
	s->mech = mech;
	s->state = KP_SCRAM_WANT_FIRST;
}

void kp_scram_server_clear(struct kp_scram_server *s)
{
	OPENSSL_cleanse(&s->cred, sizeof(s->cred));
}

/* A saslname's escapes (=2C ',', =3D '=') undone; -1 if malformed. */
static int unescape_name(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c == '=') {
			if (len - i >= 3 && memcmp(in + i, "=2C", 3) == 0)
				c = ',';
			else if (len - i >= 3 && memcmp(in + i, "=3D", 3) == 0)
				c = '=';
			else
				return -1;
			i += 2;
		} else if (c == ',') {
			return -1;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

static int fail(struct kp_scram_server *s, char *err, size_t errlen, const char *msg,
		char *why, size_t whylen, const char *detail)
{
	s->state = KP_SCRAM_FAILED_STATE;
	snprintf(err, errlen, "%s", msg);
	snprintf(why, whylen, "%s", detail);
	kp_scram_server_clear(s);
	return -1;
}

static bool printable_nonce(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',')
			return false;
	return len > 0;
}

int kp_scram_server_first(struct kp_scram_server *s, const uint8_t *msg, size_t len,
			  kp_scram_lookup_fn lookup, void *arg, const char *snonce,
			  char *out, size_t outlen, char *err, size_t errlen, char *why,
			  size_t whylen)
{
	const char *m = (const char *)msg, *end = m + len, *p, *c1, *bare, *r, *re;
	char authz[256], failmsg[128], salt[KP_SCRAM_MAX_SALT * 2], rnd[33];
	int n;

	snprintf(failmsg, sizeof(failmsg), KP_SCRAM_FAILED "%s", kp_scram_mech_name(s->mech));
	if (s->state != KP_SCRAM_WANT_FIRST)
		return fail(s, err, errlen, failmsg, why, whylen, "unexpected message");
	if (len == 0 || len >= sizeof(s->client_first_bare) || memchr(m, 0, len) != NULL)
		return fail(s, err, errlen, failmsg, why, whylen,
			    "malformed client-first message");
	/* gs2-header: "n," [ "a=" saslname ] "," -- no channel binding */
	if (len < 3 || m[0] != 'n' || m[1] != ',')
		return fail(s, err, errlen, failmsg, why, whylen,
			    "client-first message: bad GS2 header (channel binding is "
			    "not supported)");
	p = m + 2;
	c1 = memchr(p, ',', (size_t)(end - p));
	if (c1 == NULL)
		return fail(s, err, errlen, failmsg, why, whylen,
			    "client-first message: bad GS2 header");
	authz[0] = '\0';
	if (c1 != p) {
		if (c1 - p < 2 || p[0] != 'a' || p[1] != '=' ||
		    unescape_name(p + 2, (size_t)(c1 - p - 2), authz, sizeof(authz)) < 0)
			return fail(s, err, errlen, failmsg, why, whylen,
				    "client-first message: bad authorization id");
	}
	bare = c1 + 1;
	if ((size_t)(bare - m) >= sizeof(s->gs2))
		return fail(s, err, errlen, failmsg, why, whylen, "GS2 header too long");
	memcpy(s->gs2, m, (size_t)(bare - m));
	s->gs2[bare - m] = '\0';
	/* bare: "n=" saslname ",r=" nonce [ "," extensions ] */
	if (end - bare < 2 || bare[0] != 'n' || bare[1] != '=')
		return fail(s, err, errlen, failmsg, why, whylen,
			    "client-first message: no user name");
	p = bare + 2;
	c1 = memchr(p, ',', (size_t)(end - p));
	if (c1 == NULL || unescape_name(p, (size_t)(c1 - p), s->user, sizeof(s->user)) < 0 ||
	    s->user[0] == '\0')
		return fail(s, err, errlen, failmsg, why, whylen,
			    "client-first message: bad user name");
	r = c1 + 1;
	if (end - r < 2 || r[0] != 'r' || r[1] != '=')
		return fail(s, err, errlen, failmsg, why, whylen,
			    "client-first message: no nonce");
	r += 2;
	re = memchr(r, ',', (size_t)(end - r));
	if (re == NULL)
		re = end;
	if (!printable_nonce(r, (size_t)(re - r)))
		return fail(s, err, errlen, failmsg, why, whylen,
			    "client-first message: bad nonce");
	/* extensions: Kafka's tokenauth=true asks for delegation tokens */
	if (re != end && memmem(re, (size_t)(end - re), "tokenauth=true", 14) != NULL)
		return fail(s, err, errlen, failmsg, why, whylen,
			    "delegation token authentication is not supported");
	if (authz[0] != '\0' && strcmp(authz, s->user) != 0)
		return fail(s, err, errlen,
			    "Authentication failed: Client requested an authorization id "
			    "that is different from username", why, whylen,
			    "authorization id differs from the user name");
	memcpy(s->client_first_bare, bare, (size_t)(end - bare));
	s->client_first_bare[end - bare] = '\0';
	if (lookup(arg, s->mech, s->user, &s->cred) < 0) {
		char d[300];

		snprintf(d, sizeof(d), "no %s credentials for user %s",
			 kp_scram_mech_name(s->mech), s->user);
		return fail(s, err, errlen, failmsg, why, whylen, d);
	}
	if (s->cred.iterations < KP_SCRAM_MIN_ITERATIONS ||
	    s->cred.key_len != kp_scram_hash_len(s->mech)) {
		char d[128];

		snprintf(d, sizeof(d), "Iterations %d is less than the minimum %d for %s",
			 (int)s->cred.iterations, KP_SCRAM_MIN_ITERATIONS,
			 kp_scram_mech_name(s->mech));
		return fail(s, err, errlen, failmsg, why, whylen, d);
	}
	if (snonce == NULL) {
		/* 32 random characters from [a-z0-9] */
		uint8_t b[32];

		if (RAND_bytes(b, sizeof(b)) != 1)
			return fail(s, err, errlen, failmsg, why, whylen, "no randomness");
		for (size_t i = 0; i < sizeof(b); i++)
			rnd[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[b[i] % 36];
		rnd[32] = '\0';
		snonce = rnd;
	}
	n = snprintf(s->nonce, sizeof(s->nonce), "%.*s%s", (int)(re - r), r, snonce);
	if (n < 0 || (size_t)n >= sizeof(s->nonce) ||
	    kp_base64_encode(s->cred.salt, s->cred.salt_len, salt, sizeof(salt)) < 0)
		return fail(s, err, errlen, failmsg, why, whylen, "nonce too long");
	n = snprintf(s->server_first, sizeof(s->server_first), "r=%s,s=%s,i=%d", s->nonce,
		     salt, (int)s->cred.iterations);
	if (n < 0 || (size_t)n >= sizeof(s->server_first) || (size_t)n >= outlen)
		return fail(s, err, errlen, failmsg, why, whylen, "message too long");
	memcpy(out, s->server_first, (size_t)n + 1);
	s->state = KP_SCRAM_WANT_FINAL;
	return n;
}

int kp_scram_server_final(struct kp_scram_server *s, const uint8_t *msg, size_t len,
			  char *out, size_t outlen, char *err, size_t errlen, char *why,
			  size_t whylen)
{
	const char *m = (const char *)msg, *end = m + len, *p, *c, *pr;
	char failmsg[128], cb[512], *am = NULL;
	uint8_t proof[KP_SCRAM_MAX_HASH], sig[KP_SCRAM_MAX_HASH], ck[KP_SCRAM_MAX_HASH],
		sk[KP_SCRAM_MAX_HASH], ssig[KP_SCRAM_MAX_HASH];
	size_t hl = kp_scram_hash_len(s->mech), amlen, cbl, nl;
	char sigb64[KP_SCRAM_MAX_HASH * 2];
	int n, rc = -1;

	snprintf(failmsg, sizeof(failmsg), KP_SCRAM_FAILED "%s", kp_scram_mech_name(s->mech));
	if (s->state != KP_SCRAM_WANT_FINAL)
		return fail(s, err, errlen, failmsg, why, whylen, "unexpected message");
	if (len == 0 || len > 4096 || memchr(m, 0, len) != NULL)
		return fail(s, err, errlen, failmsg, why, whylen,
			    "malformed client-final message");
	/* "c=" cbind ",r=" nonce [ "," extensions ] ",p=" proof */
	if (len < 2 || m[0] != 'c' || m[1] != '=')
		return fail(s, err, errlen, failmsg, why, whylen,
			    "client-final message: no channel binding");
	p = m + 2;
	c = memchr(p, ',', (size_t)(end - p));
	if (c == NULL)
		return fail(s, err, errlen, failmsg, why, whylen,
			    "client-final message: malformed");
	if (kp_base64_encode((const uint8_t *)s->gs2, strlen(s->gs2), cb, sizeof(cb)) < 0)
		return fail(s, err, errlen, failmsg, why, whylen, "GS2 header too long");
	cbl = strlen(cb);
	if ((size_t)(c - p) != cbl || memcmp(p, cb, cbl) != 0)
		return fail(s, err, errlen, failmsg, why, whylen,
			    "client-final message: channel binding does not match");
	p = c + 1;
	if (end - p < 2 || p[0] != 'r' || p[1] != '=')
		return fail(s, err, errlen, failmsg, why, whylen,
			    "client-final message: no nonce");
	p += 2;
	c = memchr(p, ',', (size_t)(end - p));
	/*
	 * Kafka's ScramSaslServer accepts a nonce that ends with the
	 * server-first nonce (endsWith, not equals), and librdkafka up to
	 * at least 2.0 sends its client nonce again in front of it: take what
	 * Kafka takes.  The nonce is part of AuthMessage, which the proof
	 * signs, so the client's proof still covers exactly what it sent.
	 */
	nl = strlen(s->nonce);
	if (c == NULL || (size_t)(c - p) < nl || memcmp(c - nl, s->nonce, nl) != 0)
		return fail(s, err, errlen, failmsg, why, whylen,
			    "Invalid client nonce in the final client message.");
	/* the proof is the last attribute */
	for (pr = end; pr > m && pr[-1] != ','; pr--)
		;
	if (pr == m || end - pr < 2 || pr[0] != 'p' || pr[1] != '=' ||
	    kp_base64_decode(pr + 2, (size_t)(end - pr - 2), proof, sizeof(proof)) !=
	    (int)hl)
		return fail(s, err, errlen, failmsg, why, whylen,
			    "client-final message: bad proof");
	/* AuthMessage = client-first-bare "," server-first "," final-without-proof */
	amlen = strlen(s->client_first_bare) + 1 + strlen(s->server_first) + 1 +
		(size_t)(pr - 1 - m);
	am = malloc(amlen + 1);
	if (am == NULL)
		return fail(s, err, errlen, failmsg, why, whylen, "out of memory");
	snprintf(am, amlen + 1, "%s,%s,%.*s", s->client_first_bare, s->server_first,
		 (int)(pr - 1 - m), m);
	/* ClientKey = proof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) == StoredKey */
	if (hmac(s->mech, s->cred.stored_key, hl, am, amlen, sig) < 0) {
		fail(s, err, errlen, failmsg, why, whylen, "HMAC failed");
		goto out;
	}
	for (size_t i = 0; i < hl; i++)
		ck[i] = proof[i] ^ sig[i];
	if (digest(s->mech, ck, hl, sk) < 0 || CRYPTO_memcmp(sk, s->cred.stored_key, hl) != 0) {
		fail(s, err, errlen, failmsg, why, whylen, "Invalid client credentials");
		goto out;
	}
	if (hmac(s->mech, s->cred.server_key, hl, am, amlen, ssig) < 0 ||
	    kp_base64_encode(ssig, hl, sigb64, sizeof(sigb64)) < 0) {
		fail(s, err, errlen, failmsg, why, whylen, "HMAC failed");
		goto out;
	}
	n = snprintf(out, outlen, "v=%s", sigb64);
	if (n < 0 || (size_t)n >= outlen) {
		fail(s, err, errlen, failmsg, why, whylen, "message too long");
		goto out;
	}
	s->state = KP_SCRAM_DONE;
	kp_scram_server_clear(s);
	rc = n;
out:
	OPENSSL_cleanse(ck, sizeof(ck));
	free(am);
	return rc;
}

/* ------------------------------------------------------- SCRAM client */

/* A saslname: ',' as =2C and '=' as =3D.  0 or -1 (room). */
static int escape_name(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *in != '\0'; in++) {
		const char *rep = *in == ',' ? "=2C" : *in == '=' ? "=3D" : NULL;
		size_t n = rep != NULL ? 3 : 1;

		if (o + n >= outlen)
			return -1;
		if (rep != NULL)
			memcpy(out + o, rep, 3);
		else
			out[o] = *in;
		o += n;
	}
	out[o] = '\0';
	return 0;
}

int kp_scram_client_first(struct kp_scram_client *c, int mech, const char *user,
			  const char *pw, const char *cnonce, char *out, size_t outlen,
			  char *err, size_t errlen)
{
	char name[512], rnd[33];
	int n;

	memset(c, 0, sizeof(*c));
	c->mech = mech;
	if (kp_scram_hash_len(mech) == 0 || strlen(pw) >= sizeof(c->pw) ||
	    escape_name(user, name, sizeof(name)) < 0) {
		snprintf(err, errlen, "SCRAM: bad mechanism, user name or password");
		return -1;
	}
	if (cnonce == NULL) {
		uint8_t b[32];

		if (RAND_bytes(b, sizeof(b)) != 1) {
			snprintf(err, errlen, "SCRAM: no randomness");
			return -1;
		}
		for (size_t i = 0; i < sizeof(b); i++)
			rnd[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[b[i] % 36];
		rnd[32] = '\0';
		cnonce = rnd;
	}
	snprintf(c->pw, sizeof(c->pw), "%s", pw);
	snprintf(c->cnonce, sizeof(c->cnonce), "%s", cnonce);
	n = snprintf(c->client_first_bare, sizeof(c->client_first_bare), "n=%s,r=%s", name,
		     c->cnonce);
	if (n < 0 || (size_t)n >= sizeof(c->client_first_bare) || (size_t)n + 3 >= outlen) {
		snprintf(err, errlen, "SCRAM: user name too long");
		return -1;
	}
	return snprintf(out, outlen, "n,,%s", c->client_first_bare);
}

int kp_scram_client_final(struct kp_scram_client *c, const uint8_t *sfirst, size_t len,
			  char *out, size_t outlen, char *err, size_t errlen)
{
	const char *m = (const char *)sfirst, *end = m + len, *r, *sp, *ip;
	char sf[1024], wo[700], am[2400], pb[200], num[16], *e;
	uint8_t salt[KP_SCRAM_MAX_SALT], salted[KP_SCRAM_MAX_HASH], ck[KP_SCRAM_MAX_HASH],
		sk[KP_SCRAM_MAX_HASH], sig[KP_SCRAM_MAX_HASH], proof[KP_SCRAM_MAX_HASH],
		svk[KP_SCRAM_MAX_HASH];
	size_t hl = kp_scram_hash_len(c->mech), cl = strlen(c->cnonce);
	long iters;
	int sl, n, rc = -1;

	if (len == 0 || len >= sizeof(sf) || memchr(m, 0, len) != NULL)
		goto bad;
	memcpy(sf, m, len);
	sf[len] = '\0';
	/* "r=" nonce ",s=" salt ",i=" iterations */
	r = sf;
	sp = strstr(sf, ",s=");
	ip = strstr(sf, ",i=");
	if (strncmp(r, "r=", 2) != 0 || sp == NULL || ip == NULL || ip < sp)
		goto bad;
	if ((size_t)(sp - r - 2) <= cl || memcmp(r + 2, c->cnonce, cl) != 0) {
		snprintf(err, errlen, "SCRAM: the server's nonce does not extend ours");
		return -1;
	}
	sl = kp_base64_decode(sp + 3, (size_t)(ip - sp - 3), salt, sizeof(salt));
	end = strchr(ip + 3, ',');
	if (end == NULL)
		end = ip + 3 + strlen(ip + 3);
	if (sl <= 0 || (size_t)(end - ip - 3) == 0 || (size_t)(end - ip - 3) >= sizeof(num))
		goto bad;
	memcpy(num, ip + 3, (size_t)(end - ip - 3));
	num[end - ip - 3] = '\0';
	iters = strtol(num, &e, 10);
	if (*e != '\0' || iters < KP_SCRAM_MIN_ITERATIONS || iters > 1000000) {
		snprintf(err, errlen, "SCRAM: iteration count %s refused", num);
		return -1;
	}
	n = snprintf(wo, sizeof(wo), "c=biws,r=%.*s", (int)(sp - r - 2), r + 2);
	if (n < 0 || (size_t)n >= sizeof(wo))
		goto bad;
	n = snprintf(am, sizeof(am), "%s,%s,%s", c->client_first_bare, sf, wo);
	if (n < 0 || (size_t)n >= sizeof(am))
		goto bad;
	if (kp_scram_salt_password(c->mech, c->pw, strlen(c->pw), salt, (size_t)sl,
				   (int32_t)iters, salted) < 0 ||
	    hmac(c->mech, salted, hl, "Client Key", 10, ck) < 0 ||
	    digest(c->mech, ck, hl, sk) < 0 ||
	    hmac(c->mech, sk, hl, am, strlen(am), sig) < 0 ||
	    hmac(c->mech, salted, hl, "Server Key", 10, svk) < 0 ||
	    hmac(c->mech, svk, hl, am, strlen(am), c->server_sig) < 0) {
		snprintf(err, errlen, "SCRAM: key derivation failed");
		goto out;
	}
	for (size_t i = 0; i < hl; i++)
		proof[i] = ck[i] ^ sig[i];
	if (kp_base64_encode(proof, hl, pb, sizeof(pb)) < 0)
		goto out;
	n = snprintf(out, outlen, "%s,p=%s", wo, pb);
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(err, errlen, "SCRAM: message too long");
		goto out;
	}
	rc = n;
out:
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(ck, sizeof(ck));
	OPENSSL_cleanse(svk, sizeof(svk));
	OPENSSL_cleanse(c->pw, sizeof(c->pw));
	return rc;
bad:
	snprintf(err, errlen, "SCRAM: malformed server-first message");
	return -1;
}

int kp_scram_client_verify(struct kp_scram_client *c, const uint8_t *sfinal, size_t len,
			   char *err, size_t errlen)
{
	const char *m = (const char *)sfinal;
	uint8_t v[KP_SCRAM_MAX_HASH];
	size_t hl = kp_scram_hash_len(c->mech);

	if (len >= 2 && m[0] == 'e' && m[1] == '=') {
		snprintf(err, errlen, "SCRAM: the server says %.*s", (int)(len > 100 ? 100 : len),
			 m);
		return -1;
	}
	if (len < 2 || m[0] != 'v' || m[1] != '=' ||
	    kp_base64_decode(m + 2, len - 2, v, sizeof(v)) != (int)hl ||
	    CRYPTO_memcmp(v, c->server_sig, hl) != 0) {
		snprintf(err, errlen, "SCRAM: the server's signature is wrong");
		return -1;
	}
	return 0;
}
