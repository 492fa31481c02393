/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_principal.c - ssl.principal.mapping.rules; see kp_principal.h.
 *
 * Parsing follows the grammar of Kafka's SslPrincipalMapper: entries
 * separated by commas (with any white space around them), each DEFAULT,
 * RULE:<pattern>/<replacement>/[LU], or empty; a pattern or replacement
 * is a run of characters other than '/' and '\', or '\' with the
 * character after it.  Anything else refuses the whole list.  A rule
 * applies when its pattern matches the whole subject; its result is then
 * Java's String.replaceAll of the pattern by the replacement over the
 * subject: every match from the left, an empty match moving the search
 * one character on, the replacement's $n / ${name} taken as groups and
 * \x as x (Matcher.appendReplacement), and, first, Kafka's own step that
 * turns a $n naming a group the pattern lacks into the literal text.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "kp_principal.h"

struct rule {
	bool is_default;
	pcre2_code *re;
	uint32_t ngroups;
	char *repl;		/* the replacement, after Kafka's escaping */
	bool repl_broken;	/* a back reference Java cannot parse */
	char lu;		/* 'L', 'U' or 0 */
};

struct kp_principal_rules {
	int n;
	struct rule *rules;
};

/* Java's \s */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The end of a pattern or replacement starting at p: the '/' after it,
 * or NULL. */
static const char *segment_end(const char *p, const char *end)
{
	while (p < end && *p != '/') {
		if (*p == '\\') {
			if (p + 1 >= end)
				return NULL;
			p += 2;
		} else {
			p++;
		}
	}
	return p < end ? p : NULL;
}

/* After an entry: white space, then a comma or the end. */
static bool entry_ends(const char *p, const char *end)
{
	while (p < end && is_space(*p))
		p++;
	return p == end || *p == ',';
}

/*
 * Kafka's escapeLiteralBackReferences: with groups in the pattern, a $n
 * (n not starting with 0) is cut down digit by digit while it exceeds the
 * group count and has two digits or more; still too large, its '$' is
 * escaped, so appendReplacement takes it as text.
 */
static char *escape_back_refs(const char *repl, size_t len, uint32_t ngroups,
			      bool *broken)
{
	char *out = malloc(2 * len + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (ngroups > 0 && repl[i] == '$' && i + 1 < len &&
		    repl[i + 1] >= '0' && repl[i + 1] <= '9') {
			size_t j = i + 1, k = j;
			uint64_t idx = 0;

			while (k < len && repl[k] >= '0' && repl[k] <= '9')
				k++;
			if (repl[j] != '0') {
				if (k - j > 9) {
					/* Integer.parseInt overflows: Java throws */
					*broken = true;
				} else {
					for (size_t d = j; d < k; d++)
						idx = idx * 10 + (uint64_t)(repl[d] - '0');
					while (idx > ngroups && idx >= 10)
						idx /= 10;
					if (idx > ngroups)
						*o++ = '\\';
				}
			}
			memcpy(o, repl + i, k - i);
			o += k - i;
			i = k - 1;
			continue;
		}
		*o++ = repl[i];
	}
	*o = '\0';
	return out;
}

static void rules_add(struct kp_principal_rules *r, struct rule *one)
{
	r->rules[r->n++] = *one;
}

static int rule_compile(struct rule *ru, const char *pat, size_t plen,
			const char *repl, size_t rlen, char *err, size_t errlen)
{
	int code;
	PCRE2_SIZE off;
	PCRE2_UCHAR msg[256];

	ru->re = pcre2_compile((PCRE2_SPTR)pat, plen, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
			       &code, &off, NULL);
	if (ru->re == NULL) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errlen, "Invalid rule pattern `%.*s`: %s at offset %zu",
			 (int)plen, pat, (const char *)msg, (size_t)off);
		return -1;
	}
	pcre2_pattern_info(ru->re, PCRE2_INFO_CAPTURECOUNT, &ru->ngroups);
	ru->repl = escape_back_refs(repl, rlen, ru->ngroups, &ru->repl_broken);
	if (ru->repl == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

struct kp_principal_rules *kp_principal_rules_new(const char *rules, char *err,
						  size_t errlen)
{
	struct kp_principal_rules *r = calloc(1, sizeof(*r));
	const char *p, *end;
	size_t cap;

	if (rules == NULL)
		rules = "DEFAULT";
	if (r == NULL)
		goto nomem;
	/* String.trim() */
	p = rules;
	while (*p != '\0' && (unsigned char)*p <= ' ')
		p++;
	end = p + strlen(p);
	while (end > p && (unsigned char)end[-1] <= ' ')
		end--;
	/* at most one rule per comma, plus one */
	cap = 1;
	for (const char *q = p; q < end; q++)
		cap += *q == ',';
	r->rules = calloc(cap, sizeof(*r->rules));
	if (r->rules == NULL)
		goto nomem;
	for (;;) {
		struct rule one = { 0 };
		const char *q;

		while (p < end && is_space(*p))
			p++;
		if (p >= end)
			break;
		if (*p == ',') {		/* an empty entry */
			p++;
			continue;
		}
		if ((size_t)(end - p) >= 7 && memcmp(p, "DEFAULT", 7) == 0 &&
		    entry_ends(p + 7, end)) {
			one.is_default = true;
			q = p + 7;
		} else if ((size_t)(end - p) >= 5 && memcmp(p, "RULE:", 5) == 0) {
			const char *a = p + 5, *b = segment_end(a, end);
			const char *c = b != NULL ? segment_end(b + 1, end) : NULL;

			q = c != NULL ? c + 1 : NULL;
			if (q != NULL && q < end && (*q == 'L' || *q == 'U'))
				one.lu = *q++;
			if (q == NULL || !entry_ends(q, end))
				goto invalid;
			if (rule_compile(&one, a, (size_t)(b - a), b + 1, (size_t)(c - b - 1),
					 err, errlen) < 0) {
				pcre2_code_free(one.re);
				goto fail;
			}
		} else {
			goto invalid;
		}
		rules_add(r, &one);
		p = q;
		while (p < end && is_space(*p))
			p++;
		if (p < end)
			p++;		/* the comma */
		continue;
invalid:
		{
			const char *comma = memchr(p, ',', (size_t)(end - p));
			size_t n = (size_t)((comma != NULL ? comma : end) - p);

			while (n > 0 && is_space(p[n - 1]))
				n--;
			snprintf(err, errlen, "Invalid rule: `%.*s`", (int)n, p);
			goto fail;
		}
	}
	return r;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	kp_principal_rules_free(r);
	return NULL;
}

void kp_principal_rules_free(struct kp_principal_rules *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < r->n; i++) {
		pcre2_code_free(r->rules[i].re);
		free(r->rules[i].repl);
	}
	free(r->rules);
	free(r);
}

/* ------------------------------------------------------------ mapping */

struct out {
	char *buf;
	size_t cap, len;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n >= o->cap) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

/* Matcher.appendReplacement's reading of the replacement for one match;
 * -1 with why where Java throws. */
static int expand(const struct rule *ru, pcre2_code *re, const char *subj,
		  const PCRE2_SIZE *ov, struct out *o, char *why, size_t whylen)
{
	const char *s = ru->repl;
	size_t n = strlen(s), i = 0;

	while (i < n) {
		uint32_t g;

		if (s[i] == '\\') {
			if (++i >= n) {
				snprintf(why, whylen, "character to be escaped is missing");
				return -1;
			}
			put(o, s + i++, 1);
			continue;
		}
		if (s[i] != '$') {
			put(o, s + i++, 1);
			continue;
		}
		if (++i >= n) {
			snprintf(why, whylen, "Illegal group reference: group index is missing");
			return -1;
		}
		if (s[i] == '{') {
			const char *close = strchr(s + i, '}');
			char name[64];
			int num;
			size_t nl;

			if (close == NULL || close == s + i + 1 || !((s[i + 1] >= 'a' && s[i + 1] <= 'z') ||
								   (s[i + 1] >= 'A' && s[i + 1] <= 'Z'))) {
				snprintf(why, whylen, "named capturing group is missing trailing '}'");
				return -1;
			}
			nl = (size_t)(close - (s + i + 1));
			snprintf(name, sizeof(name), "%.*s", (int)(nl < sizeof(name) ? nl : sizeof(name) - 1),
				 s + i + 1);
			num = pcre2_substring_number_from_name(re, (PCRE2_SPTR)name);
			if (num < 0) {
				snprintf(why, whylen, "No group with name {%s}", name);
				return -1;
			}
			g = (uint32_t)num;
			i = (size_t)(close - s) + 1;
		} else {
			if (s[i] < '0' || s[i] > '9') {
				snprintf(why, whylen, "Illegal group reference");
				return -1;
			}
			g = (uint32_t)(s[i++] - '0');
			/* more digits while the group exists */
			while (i < n && s[i] >= '0' && s[i] <= '9' &&
			       g * 10 + (uint32_t)(s[i] - '0') <= ru->ngroups)
				g = g * 10 + (uint32_t)(s[i++] - '0');
			if (g > ru->ngroups) {
				snprintf(why, whylen, "No group %u", g);
				return -1;
			}
		}
		if (ov[2 * g] != PCRE2_UNSET)
			put(o, subj + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
	}
	return 0;
}

/* The rule's name for subj: 1 (in o), 0 when it does not apply, -1 when
 * Java would throw (why). */
static int rule_apply(const struct rule *ru, const char *subj, struct out *o,
		      char *why, size_t whylen)
{
	size_t len = strlen(subj), start = 0, last = 0;
	pcre2_match_data *md;
	int rc = 1;

	if (ru->is_default) {
		put(o, subj, len);
		return 1;
	}
	md = pcre2_match_data_create_from_pattern(ru->re, NULL);
	if (md == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (pcre2_match(ru->re, (PCRE2_SPTR)subj, len, 0,
			PCRE2_ANCHORED | PCRE2_ENDANCHORED, md, NULL) < 0) {
		pcre2_match_data_free(md);
		return 0;
	}
	if (ru->repl_broken) {
		snprintf(why, whylen, "a group reference of the replacement is out of range");
		pcre2_match_data_free(md);
		return -1;
	}
	/* replaceAll: every match, left to right */
	while (start <= len) {
		const PCRE2_SIZE *ov;

		if (pcre2_match(ru->re, (PCRE2_SPTR)subj, len, start, 0, md, NULL) < 0)
			break;
		ov = pcre2_get_ovector_pointer(md);
		put(o, subj + last, ov[0] - last);
		if (expand(ru, ru->re, subj, ov, o, why, whylen) < 0) {
			rc = -1;
			break;
		}
		last = ov[1];
		start = ov[1] == ov[0] ? ov[1] + 1 : ov[1];
	}
	pcre2_match_data_free(md);
	if (rc < 0)
		return rc;
	put(o, subj + last, len - last);
	for (size_t i = 0; i < o->len && ru->lu != 0; i++) {
		char c = o->buf[i];

		if (ru->lu == 'L' && c >= 'A' && c <= 'Z')
			o->buf[i] = (char)(c - 'A' + 'a');
		else if (ru->lu == 'U' && c >= 'a' && c <= 'z')
			o->buf[i] = (char)(c - 'a' + 'A');
	}
	return 1;
}

int kp_principal_map(const struct kp_principal_rules *r, const char *subject,
		     char *out, size_t outlen)
{
	char why[160];

	if (outlen == 0)
		return -1;
	for (int i = 0; i < r->n; i++) {
		struct out o = { out, outlen, 0, false };
		int rc = rule_apply(&r->rules[i], subject, &o, why, sizeof(why));

		if (rc < 0) {
			snprintf(out, outlen, "rule %d: %s", i + 1, why);
			return -1;
		}
		if (rc == 1) {
			if (o.full) {
				snprintf(out, outlen, "the name is longer than %zu bytes",
					 outlen - 1);
				return -1;
			}
			out[o.len] = '\0';
			return 0;
		}
	}
	snprintf(out, outlen, "No rules apply to %s", subject);
	return -1;
}
