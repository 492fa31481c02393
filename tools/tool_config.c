/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_config.c - --add-config / --delete-config parsing; see
 * tool_config.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool_config.h"

static char *trimmed(const char *s, size_t n)
{
	char *r;

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	r = malloc(n + 1);
	if (r != NULL) {
		memcpy(r, s, n);
		r[n] = 0;
	}
	return r;
}

static int push(struct tool_kv **v, int *n, char *key, char *value)
{
	struct tool_kv *nv = realloc(*v, sizeof(*nv) * (size_t)(*n + 1));

	if (nv == NULL || key == NULL) {
		if (nv != NULL)
			*v = nv;
		free(key);
		free(value);
		return -1;
	}
	*v = nv;
	nv[*n].key = key;
	nv[*n].value = value;
	(*n)++;
	return 0;
}

void tool_kv_free(struct tool_kv *kv, int n)
{
	for (int i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

int tool_parse_add_config(const char *s, struct tool_kv **out, char *err,
			  size_t errlen)
{
	struct tool_kv *v = NULL;
	int n = 0;

	*out = NULL;
	while (*s) {
		const char *p = s, *eq = NULL;
		int depth = 0, neq = 0;
		char *key, *value;
		size_t vl;

		/* a comma inside [...] belongs to the value */
		for (; *p && (depth > 0 || *p != ','); p++) {
			if (*p == '[')
				depth++;
			else if (*p == ']' && depth > 0)
				depth--;
			else if (*p == '=' && depth == 0 && neq++ == 0)
				eq = p;
		}
		if (eq == NULL || neq != 1) {
			snprintf(err, errlen, "Invalid entity config: all configs to "
				 "be added must be in the format \"key=val\".");
			tool_kv_free(v, n);
			return -1;
		}
		key = trimmed(s, (size_t)(eq - s));
		value = trimmed(eq + 1, (size_t)(p - eq - 1));
		if (key == NULL || value == NULL || key[0] == 0) {
			snprintf(err, errlen, key != NULL && value != NULL
				 ? "Invalid entity config: empty key" : "out of memory");
			free(key);
			free(value);
			tool_kv_free(v, n);
			return -1;
		}
		vl = strlen(value);
		if (vl >= 2 && value[0] == '[' && value[vl - 1] == ']') {
			memmove(value, value + 1, vl - 2);
			value[vl - 2] = 0;
		}
		if (push(&v, &n, key, value) < 0) {
			snprintf(err, errlen, "out of memory");
			tool_kv_free(v, n);
			return -1;
		}
		s = *p ? p + 1 : p;
	}
	*out = v;
	return n;
}

int tool_parse_delete_config(const char *s, struct tool_kv **out, char *err,
			     size_t errlen)
{
	struct tool_kv *v = NULL;
	int n = 0;

	*out = NULL;
	for (;;) {
		size_t l = strcspn(s, ",");
		char *key = trimmed(s, l);

		if (key == NULL || key[0] == 0) {
			snprintf(err, errlen, key != NULL
				 ? "--delete-config: empty config name" : "out of memory");
			free(key);
			tool_kv_free(v, n);
			return -1;
		}
		if (push(&v, &n, key, NULL) < 0) {
			snprintf(err, errlen, "out of memory");
			tool_kv_free(v, n);
			return -1;
		}
		if (s[l] == 0)
			break;
		s += l + 1;
	}
	*out = v;
	return n;
}
