/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_config.c - Java-properties parsing and table-driven configuration;
 * see kp_config.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kp_config.h"
#include "kp_log.h"

/* ------------------------------------------------------------ properties */

void kp_props_init(struct kp_props *p)
{
	p->items = NULL;
	p->count = 0;
	p->cap = 0;
}

void kp_props_free(struct kp_props *p)
{
	size_t i;

	for (i = 0; i < p->count; i++) {
		free(p->items[i].key);
		free(p->items[i].value);
	}
	free(p->items);
	kp_props_init(p);
}

int kp_props_set(struct kp_props *p, const char *key, const char *value,
		 int line)
{
	size_t i;
	char *v = strdup(value);

	if (v == NULL)
		return -1;
	for (i = 0; i < p->count; i++) {
		if (strcmp(p->items[i].key, key) == 0) {
			free(p->items[i].value);
			p->items[i].value = v;
			p->items[i].line = line;
			return 0;
		}
	}
	if (p->count == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 32;
		struct kp_prop *n = realloc(p->items, ncap * sizeof(*n));

		if (n == NULL) {
			free(v);
			return -1;
		}
		p->items = n;
		p->cap = ncap;
	}
	p->items[p->count].key = strdup(key);
	if (p->items[p->count].key == NULL) {
		free(v);
		return -1;
	}
	p->items[p->count].value = v;
	p->items[p->count].line = line;
	p->count++;
	return 0;
}

const char *kp_props_get(const struct kp_props *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->count; i++)
		if (strcmp(p->items[i].key, key) == 0)
			return p->items[i].value;
	return NULL;
}

/* A growable string used while parsing one logical line. */
struct sbuf {
	char *s;
	size_t len, cap;
};

static int sb_putc(struct sbuf *b, char c)
{
	if (b->len + 1 >= b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		char *n = realloc(b->s, ncap);

		if (n == NULL)
			return -1;
		b->s = n;
		b->cap = ncap;
	}
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
	return 0;
}

static int sb_put_utf8(struct sbuf *b, unsigned cp)
{
	if (cp < 0x80)
		return sb_putc(b, (char)cp);
	if (cp < 0x800)
		return sb_putc(b, (char)(0xc0 | (cp >> 6))) ||
		       sb_putc(b, (char)(0x80 | (cp & 0x3f)));
	return sb_putc(b, (char)(0xe0 | (cp >> 12))) ||
	       sb_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f))) ||
	       sb_putc(b, (char)(0x80 | (cp & 0x3f)));
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\f';
}

int kp_props_parse(struct kp_props *p, const char *text, size_t len,
		   char *err, size_t errlen)
{
	size_t i = 0;
	int line = 0;
	struct sbuf key = { 0 }, val = { 0 };
	int rc = -1;

	while (i < len) {
		int start_line;
		bool in_key = true, sep_seen = false, after_key_ws = false;

		line++;
		start_line = line;
		key.len = val.len = 0;
		if (key.s)
			key.s[0] = '\0';
		if (val.s)
			val.s[0] = '\0';
		/* Skip leading whitespace of the logical line. */
		while (i < len && is_ws(text[i]))
			i++;
		if (i < len && (text[i] == '#' || text[i] == '!')) {
			while (i < len && text[i] != '\n')
				i++;
			i++;
			continue;
		}
		if (i < len && (text[i] == '\n' || text[i] == '\r')) {
			if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
				i++;
			i++;
			continue;
		}
		while (i < len && text[i] != '\n' && text[i] != '\r') {
			char c = text[i++];
			struct sbuf *b = in_key ? &key : &val;

			if (c == '\\') {
				if (i >= len)
					break;
				c = text[i++];
				if (c == '\n' || c == '\r') {
					/* Continuation: skip the line end and
					 * the next line's leading blanks. */
					if (c == '\r' && i < len && text[i] == '\n')
						i++;
					line++;
					while (i < len && is_ws(text[i]))
						i++;
					continue;
				}
				switch (c) {
				case 't': c = '\t'; break;
				case 'n': c = '\n'; break;
				case 'r': c = '\r'; break;
				case 'f': c = '\f'; break;
				case 'u': {
					unsigned cp = 0;
					int k;

					for (k = 0; k < 4; k++) {
						char h = i < len ? text[i] : 0;

						if (!isxdigit((unsigned char)h)) {
							kp_errf(err, errlen,
							        "line %d: malformed \\uXXXX escape",
							        line);
							goto out;
						}
						cp = cp * 16 + (unsigned)(isdigit((unsigned char)h) ?
							h - '0' : (tolower((unsigned char)h) - 'a' + 10));
						i++;
					}
					if (sb_put_utf8(b, cp))
						goto nomem;
					continue;
				}
				default:
					break;
				}
				if (sb_putc(b, c))
					goto nomem;
				after_key_ws = false;
				continue;
			}
			if (in_key) {
				if (c == '=' || c == ':') {
					in_key = false;
					sep_seen = true;
					while (i < len && is_ws(text[i]))
						i++;
					continue;
				}
				if (is_ws(c)) {
					after_key_ws = true;
					continue;
				}
				if (after_key_ws) {
					/* "key value": whitespace separated. */
					in_key = false;
					if (sb_putc(&val, c))
						goto nomem;
					continue;
				}
				if (sb_putc(&key, c))
					goto nomem;
			} else {
				if (!sep_seen && val.len == 0 && (c == '=' || c == ':')) {
					sep_seen = true;
					while (i < len && is_ws(text[i]))
						i++;
					continue;
				}
				sep_seen = true;
				if (sb_putc(&val, c))
					goto nomem;
			}
		}
		if (i < len && text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			i++;
		i++;
		if (key.len == 0)
			continue;
		if (kp_props_set(p, key.s, val.s ? val.s : "", start_line))
			goto nomem;
	}
	rc = 0;
	goto out;
nomem:
	kp_errf(err, errlen, "out of memory");
out:
	free(key.s);
	free(val.s);
	return rc;
}

int kp_props_load(struct kp_props *p, const char *path, char *err,
		  size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc;

	if (f == NULL) {
		kp_errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 8192);

			if (nb == NULL) {
				free(buf);
				fclose(f);
				kp_errf(err, errlen, "out of memory");
				return -1;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		kp_errf(err, errlen, "%s: read error", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	rc = kp_props_parse(p, buf, len, err, errlen);
	free(buf);
	return rc;
}

/* Escape for a properties file: backslash, separators, leading blanks. */
static void put_escaped(FILE *f, const char *s, bool is_key)
{
	bool lead = true;

	for (; *s; s++) {
		char c = *s;

		switch (c) {
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '=': case ':': case '#': case '!':
			if (is_key || lead)
				fputc('\\', f);
			fputc(c, f);
			break;
		case ' ':
			if (is_key || lead)
				fputc('\\', f);
			fputc(c, f);
			break;
		default:
			fputc(c, f);
		}
		lead = false;
	}
}

int kp_props_store(const struct kp_props *p, const char *path,
		   const char *comment)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 5);
	FILE *f;
	size_t i;
	int fd, rc = -1;

	if (tmp == NULL)
		return -1;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", 5);
	f = fopen(tmp, "w");
	if (f == NULL)
		goto out;
	if (comment != NULL)
		fprintf(f, "#%s\n", comment);
	for (i = 0; i < p->count; i++) {
		put_escaped(f, p->items[i].key, true);
		fputc('=', f);
		put_escaped(f, p->items[i].value, false);
		fputc('\n', f);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		unlink(tmp);
		goto out;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		goto out;
	}
	/* Make the rename itself durable. */
	{
		char *dir = strdup(path), *slash;

		if (dir != NULL) {
			slash = strrchr(dir, '/');
			if (slash == dir)
				slash[1] = '\0';
			else if (slash != NULL)
				*slash = '\0';
			else
				strcpy(dir, ".");
			fd = open(dir, O_RDONLY | O_DIRECTORY);
			if (fd >= 0) {
				(void)fsync(fd);
				close(fd);
			}
			free(dir);
		}
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

/* ---------------------------------------------------------------- config */

/* Java's String.trim(): the value without leading and trailing blanks. */
static void trim_copy(const char *s, char *buf, size_t n)
{
	size_t len;

	while (*s != '\0' && (unsigned char)*s <= ' ')
		s++;
	len = strlen(s);
	while (len > 0 && (unsigned char)s[len - 1] <= ' ')
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
}

/* The trimmed span of s (Java's String.trim()). */
static const char *trim_span(const char *s, size_t *len)
{
	size_t n;

	while (*s != '\0' && (unsigned char)*s <= ' ')
		s++;
	n = strlen(s);
	while (n > 0 && (unsigned char)s[n - 1] <= ' ')
		n--;
	*len = n;
	return s;
}

/* Java's Long.parseLong of a trimmed value: an optional sign and digits. */
static int parse_i64(const char *s, int64_t *v)
{
	char t[32], *end;
	size_t n, sign;
	long long x;

	s = trim_span(s, &n);
	sign = n > 0 && (s[0] == '-' || s[0] == '+');
	if (n == sign || n >= sizeof(t))
		return -1;
	for (size_t i = sign; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	memcpy(t, s, n);
	t[n] = '\0';
	errno = 0;
	x = strtoll(t, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = x;
	return 0;
}

static int parse_bool(const char *s, bool *v)
{
	size_t n;

	s = trim_span(s, &n);
	if (n == 4 && strncasecmp(s, "true", 4) == 0) {
		*v = true;
		return 0;
	}
	if (n == 5 && strncasecmp(s, "false", 5) == 0) {
		*v = false;
		return 0;
	}
	return -1;
}

static bool one_of(const char *valid, const char *v, size_t vl)
{
	const char *p = valid;

	while (*p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);

		if (n == vl && strncmp(p, v, n) == 0)
			return true;
		if (bar == NULL)
			break;
		p = bar + 1;
	}
	return false;
}

/* "a|b|c" as Kafka lists valid strings: "a, b, c". */
static void valid_list(const char *valid, char *buf, size_t n)
{
	size_t o = 0;

	for (const char *p = valid; *p && o + 3 < n; p++) {
		if (*p == '|') {
			buf[o++] = ',';
			buf[o++] = ' ';
		} else {
			buf[o++] = *p;
		}
	}
	buf[o] = '\0';
}

static int invalid(const struct kp_config_def *d, const char *value, char *err,
		   size_t errlen, const char *why)
{
	kp_errf(err, errlen, "Invalid value %s for configuration %s: %s", value,
	        d->key, why);
	return -1;
}

/* Kafka's ConfigDef.Type name, as in "Not a number of type INT". */
static const char *java_type(enum kp_config_type t)
{
	switch (t) {
	case KP_CFG_INT: return "INT";
	case KP_CFG_SHORT: return "SHORT";
	case KP_CFG_LONG: return "LONG";
	case KP_CFG_DOUBLE: return "DOUBLE";
	default: return "?";
	}
}

/* Each item of a comma-separated list is one of d->valid (ValidList). */
static int check_list_items(const struct kp_config_def *d, const char *value,
			    char *err, size_t errlen)
{
	const char *s = value;
	char vl[512], item[256];

	while (*s != '\0' && (unsigned char)*s <= ' ')
		s++;
	if (*s == '\0')
		return 0;	/* the empty list */
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);

		while (n > 0 && (unsigned char)s[n - 1] <= ' ')
			n--;
		if (!one_of(d->valid, s, n)) {
			if (n >= sizeof(item))
				n = sizeof(item) - 1;
			memcpy(item, s, n);
			item[n] = '\0';
			valid_list(d->valid, vl, sizeof(vl));
			kp_errf(err, errlen, "Invalid value %s for configuration %s: "
			        "String must be one of: %s", item, d->key, vl);
			return -1;
		}
		if (comma == NULL)
			return 0;
		s = comma + 1;
		while (*s != '\0' && (unsigned char)*s <= ' ')
			s++;
	}
}

int kp_config_validate(const struct kp_config_def *d, const char *value,
		       char *err, size_t errlen)
{
	char why[600], t[512];
	int64_t i;
	bool b;

	if (value == NULL)
		return invalid(d, "null", err, errlen, "Value must be non-null");
	switch (d->type) {
	case KP_CFG_INT:
	case KP_CFG_SHORT:
	case KP_CFG_LONG:
		if (parse_i64(value, &i) ||
		    (d->type == KP_CFG_INT && (i < INT32_MIN || i > INT32_MAX)) ||
		    (d->type == KP_CFG_SHORT && (i < INT16_MIN || i > INT16_MAX))) {
			snprintf(why, sizeof(why), "Not a number of type %s",
				 java_type(d->type));
			return invalid(d, value, err, errlen, why);
		}
		if (d->min < d->max && i < d->min) {
			snprintf(why, sizeof(why), "Value must be at least %lld",
				 (long long)d->min);
			return invalid(d, value, err, errlen, why);
		}
		if (d->min < d->max && i > d->max) {
			snprintf(why, sizeof(why), "Value must be no more than %lld",
				 (long long)d->max);
			return invalid(d, value, err, errlen, why);
		}
		break;
	case KP_CFG_DOUBLE: {
		char *end;

		trim_copy(value, t, sizeof(t));
		errno = 0;
		(void)strtod(t, &end);
		if (t[0] == '\0' || errno == ERANGE || *end != '\0')
			return invalid(d, value, err, errlen, "Not a number of type DOUBLE");
		break;
	}
	case KP_CFG_BOOL:
		if (parse_bool(value, &b))
			return invalid(d, value, err, errlen,
				       "Expected value to be either true or false");
		break;
	case KP_CFG_STRING:
		trim_copy(value, t, sizeof(t));
		if (d->valid != NULL && !one_of(d->valid, t, strlen(t))) {
			char vl[512];

			valid_list(d->valid, vl, sizeof(vl));
			snprintf(why, sizeof(why), "String must be one of: %s", vl);
			return invalid(d, value, err, errlen, why);
		}
		break;
	case KP_CFG_LIST:
		if (d->valid != NULL && check_list_items(d, value, err, errlen) < 0)
			return -1;
		break;
	case KP_CFG_CLASS:
		trim_copy(value, t, sizeof(t));
		if (t[0] == '\0') {
			snprintf(why, sizeof(why), "Class %s could not be found.", value);
			return invalid(d, value, err, errlen, why);
		}
		break;
	case KP_CFG_PASSWORD:
		break;
	}
	return d->check != NULL ? d->check(d, value, err, errlen) : 0;
}

const struct kp_config_def *kp_config_find(const struct kp_config_def *defs,
					   size_t ndefs, const char *key)
{
	for (size_t i = 0; defs != NULL && i < ndefs; i++)
		if (strcmp(defs[i].key, key) == 0)
			return &defs[i];
	return NULL;
}

bool kp_config_is_listener_key(const char *key, const char **base)
{
	static const char prefix[] = "listener.name.";
	const char *dot;

	if (strncmp(key, prefix, sizeof(prefix) - 1) != 0)
		return false;
	dot = strchr(key + sizeof(prefix) - 1, '.');
	if (dot == NULL)
		return false;
	if (base != NULL)
		*base = dot + 1;
	return true;
}

const struct kp_config_def *kp_config_listener_base(const struct kp_config_def *defs,
						    size_t ndefs, const char *key)
{
	/* Kafka's ListenerMechanismConfigs: listener.name.<l>.<mechanism>.<key> */
	static const char *const mech[] = {
		"sasl.jaas.config", "sasl.login.callback.handler.class",
		"sasl.login.class", "sasl.server.callback.handler.class",
		"connections.max.reauth.ms",
	};
	const struct kp_config_def *d;
	const char *base;
	size_t bl;

	if (!kp_config_is_listener_key(key, &base))
		return NULL;
	d = kp_config_find(defs, ndefs, base);
	if (d != NULL)
		return d;
	bl = strlen(base);
	for (size_t i = 0; i < sizeof(mech) / sizeof(mech[0]); i++) {
		size_t ml = strlen(mech[i]);

		if (bl > ml && strcmp(base + bl - ml, mech[i]) == 0)
			return kp_config_find(defs, ndefs, mech[i]);
	}
	return NULL;
}

const char *kp_config_note(const struct kp_config_def *d)
{
	if (d->flags & KP_CFG_INERT)
		return KP_CFG_INERT_NOTE;
	if (d->flags & KP_CFG_DYN_INERT)
		return KP_CFG_DYN_INERT_NOTE;
	return NULL;
}

static ssize_t find_def(const struct kp_config *c, const char *key)
{
	const struct kp_config_def *d = kp_config_find(c->defs, c->ndefs, key);

	return d != NULL ? d - c->defs : -1;
}

/* The definition a given key is checked against, or NULL: unknown. */
static const struct kp_config_def *given_def(const struct kp_config *c,
					     const char *key, bool *inert)
{
	const struct kp_config_def *d = kp_config_find(c->defs, c->ndefs, key);

	if (d != NULL) {
		*inert = (d->flags & KP_CFG_INERT) != 0;
		return d;
	}
	*inert = true;
	d = kp_config_find(c->others, c->nothers, key);
	if (d != NULL)
		return d;
	d = kp_config_listener_base(c->defs, c->ndefs, key);
	if (d != NULL)
		return d;
	return kp_config_listener_base(c->others, c->nothers, key);
}

int kp_config_build2(struct kp_config *c, const struct kp_config_def *defs,
		     size_t ndefs, const struct kp_config_def *others,
		     size_t nothers, const struct kp_props *given,
		     void (*warn)(const char *key, void *arg), void *arg,
		     char *err, size_t errlen)
{
	size_t i;

	c->defs = defs;
	c->ndefs = ndefs;
	c->others = others;
	c->nothers = others != NULL ? nothers : 0;
	kp_props_init(&c->props);
	c->values = calloc(ndefs ? ndefs : 1, sizeof(*c->values));
	if (c->values == NULL) {
		kp_errf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < given->count; i++) {
		if (kp_props_set(&c->props, given->items[i].key,
				 given->items[i].value, given->items[i].line)) {
			kp_errf(err, errlen, "out of memory");
			goto fail;
		}
	}
	for (i = 0; i < ndefs; i++) {
		const char *v = kp_props_get(&c->props, defs[i].key);

		c->values[i] = v != NULL ? v : defs[i].def;
	}
	for (i = 0; i < c->props.count; i++) {
		const struct kp_prop *p = &c->props.items[i];
		bool inert;
		const struct kp_config_def *d = given_def(c, p->key, &inert);
		struct kp_config_def as;

		if (d == NULL) {
			if (warn != NULL)
				warn(p->key, arg);
			continue;
		}
		/* an override is checked by its base key's rules, named as given */
		as = *d;
		as.key = p->key;
		if (kp_config_validate(&as, p->value, err, errlen))
			goto fail;
	}
	return 0;
fail:
	kp_config_free(c);
	return -1;
}

int kp_config_build(struct kp_config *c, const struct kp_config_def *defs,
		    size_t ndefs, const struct kp_props *given,
		    void (*warn)(const char *key, void *arg), void *arg,
		    char *err, size_t errlen)
{
	return kp_config_build2(c, defs, ndefs, NULL, 0, given, warn, arg, err,
				errlen);
}

size_t kp_config_inert_given(const struct kp_config *c, char *buf, size_t n)
{
	size_t count = 0, listed = 0, o = 0;

	if (n == 0)
		return 0;
	buf[0] = '\0';
	for (size_t i = 0; i < c->props.count; i++) {
		const char *k = c->props.items[i].key;
		size_t kl = strlen(k);
		bool inert;

		if (given_def(c, k, &inert) == NULL || !inert)
			continue;
		count++;
		/* room kept for " and N more" */
		if (listed < count - 1 || o + kl + 2 + 32 >= n)
			continue;
		o += (size_t)snprintf(buf + o, n - o, "%s%s", o > 0 ? ", " : "", k);
		listed++;
	}
	if (listed < count)
		snprintf(buf + o, n - o, " and %zu more", count - listed);
	return count;
}

void kp_config_free(struct kp_config *c)
{
	free(c->values);
	c->values = NULL;
	kp_props_free(&c->props);
}

static const char *value_of(const struct kp_config *c, const char *key,
			    const struct kp_config_def **dp)
{
	ssize_t i = find_def(c, key);

	if (i < 0) {
		fprintf(stderr, "kp_config: unknown key %s requested\n", key);
		abort();
	}
	*dp = &c->defs[i];
	return c->values[i];
}

int64_t kp_config_long(const struct kp_config *c, const char *key)
{
	const struct kp_config_def *d;
	const char *v = value_of(c, key, &d);
	int64_t x = 0;

	if (v == NULL || parse_i64(v, &x))
		return 0;
	return x;
}

int32_t kp_config_int(const struct kp_config *c, const char *key)
{
	return (int32_t)kp_config_long(c, key);
}

double kp_config_double(const struct kp_config *c, const char *key)
{
	const struct kp_config_def *d;
	const char *v = value_of(c, key, &d);

	return v ? strtod(v, NULL) : 0.0;
}

bool kp_config_bool(const struct kp_config *c, const char *key)
{
	const struct kp_config_def *d;
	const char *v = value_of(c, key, &d);
	bool b = false;

	if (v != NULL)
		(void)parse_bool(v, &b);
	return b;
}

const char *kp_config_str(const struct kp_config *c, const char *key)
{
	const struct kp_config_def *d;

	return value_of(c, key, &d);
}

bool kp_config_is_set(const struct kp_config *c, const char *key)
{
	return kp_props_get(&c->props, key) != NULL;
}

const char *kp_config_raw(const struct kp_config *c, const char *key)
{
	return kp_props_get(&c->props, key);
}

const char *kp_config_type_name(enum kp_config_type t)
{
	switch (t) {
	case KP_CFG_INT: return "int";
	case KP_CFG_SHORT: return "short";
	case KP_CFG_LONG: return "long";
	case KP_CFG_DOUBLE: return "double";
	case KP_CFG_BOOL: return "boolean";
	case KP_CFG_STRING: return "string";
	case KP_CFG_LIST: return "list";
	case KP_CFG_PASSWORD: return "password";
	case KP_CFG_CLASS: return "class";
	}
	return "?";
}

const char *kp_config_dyn_name(enum kp_config_dyn m)
{
	switch (m) {
	case KP_DYN_READ_ONLY: return "read-only";
	case KP_DYN_CLUSTER: return "cluster-wide";
	case KP_DYN_PER_BROKER: return "per-broker";
	case KP_DYN_LISTENER: return "per-broker, per listener";
	}
	return "?";
}

void kp_config_print_help(FILE *f, const struct kp_config_def *defs,
			  size_t ndefs)
{
	const char *group = NULL;
	size_t i;

	for (i = 0; i < ndefs; i++) {
		const struct kp_config_def *d = &defs[i];
		const char *note = kp_config_note(d);

		if (d->group != NULL && (group == NULL || strcmp(group, d->group))) {
			group = d->group;
			fprintf(f, "\n%s:\n", group);
		}
		fprintf(f, "  %s (%s, default %s", d->key, kp_config_type_name(d->type),
			d->def == NULL ? "none" : (d->def[0] ? d->def : "\"\""));
		if (d->dyn != KP_DYN_READ_ONLY)
			fprintf(f, ", dynamic %s", kp_config_dyn_name(d->dyn));
		fprintf(f, ")\n      %s\n", d->doc);
		if (note != NULL)
			fprintf(f, "      %s\n", note);
	}
}

static void warn_unknown(const char *key, void *arg)
{
	(void)arg;
	if (strcmp(key, "log.level") == 0)	/* ours, applied below */
		return;
	KP_WARN("unknown configuration key %s (ignored)", key);
}

int kp_config_from_args(struct kp_config *c, const char *prog,
			const char *usage, int argc, char **argv,
			const struct kp_config_def *defs, size_t ndefs,
			const struct kp_config_def *others, size_t nothers)
{
	static const struct option opts[] = {
		{ "override", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "help-config", no_argument, NULL, 'H' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct kp_props props, over;
	const char *level;
	char err[512], inert[1800];
	size_t ninert;
	int ch, rc;

	kp_props_init(&props);
	kp_props_init(&over);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		char *eq;

		switch (ch) {
		case 'o':
			eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg) {
				fprintf(stderr, "%s: --override wants key=value, got '%s'\n",
					prog, optarg);
				kp_props_free(&over);
				return 2;
			}
			*eq = 0;
			kp_props_set(&over, optarg, eq + 1, 0);
			*eq = '=';
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case 'H':
			kp_config_print_help(stdout, defs, ndefs);
			exit(0);
		case 'V':
			printf("%s (%s) %s\n", prog, PACKAGE_NAME, PACKAGE_VERSION);
			exit(0);
		default:
			fputs(usage, stderr);
			kp_props_free(&over);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		kp_props_free(&over);
		return 2;
	}
	if (kp_props_load(&props, argv[optind], err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		kp_props_free(&over);
		return 1;
	}
	for (size_t i = 0; i < over.count; i++)
		kp_props_set(&props, over.items[i].key, over.items[i].value, 0);
	kp_props_free(&over);
	rc = kp_config_build2(c, defs, ndefs, others, nothers, &props, warn_unknown,
			      NULL, err, sizeof(err));
	kp_props_free(&props);
	if (rc < 0) {
		fprintf(stderr, "%s: invalid configuration: %s\n", prog, err);
		return 1;
	}
	level = kp_config_raw(c, "log.level");
	if (level != NULL) {
		if (kp_log_level_parse(level) < 0) {
			fprintf(stderr, "%s: invalid configuration: log.level '%s' is "
				"not one of error, warn, info, debug\n", prog, level);
			kp_config_free(c);
			return 1;
		}
		kp_log_set_level((enum kp_log_level)kp_log_level_parse(level));
	}
	/* as Kafka, these load silently; one line tells the operator */
	ninert = kp_config_inert_given(c, inert, sizeof(inert));
	if (ninert > 0)
		KP_INFO("%zu Kafka key%s set but not acted on: %s", ninert,
			ninert == 1 ? "" : "s", inert);
	return 0;
}
