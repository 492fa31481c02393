/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_errors.c - the error-code table built from kp_errors.def.
 */
#include "config.h"

#include <stddef.h>

#include "kp_errors.h"

static const struct kp_error_info table[] = {
#define KP_ERR_DEF(code, name, retriable, message) { code, #name, retriable, message },
#include "kp_errors.def"
#undef KP_ERR_DEF
};

#define TABLE_LEN ((int)(sizeof(table) / sizeof(table[0])))

const struct kp_error_info *kp_error_info(kp_err_t code)
{
	int lo = 0, hi = TABLE_LEN - 1;

	/* The table is in code order (checked by the unit tests). */
	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (table[mid].code == code)
			return &table[mid];
		if (table[mid].code < code)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

const char *kp_err_name(kp_err_t code)
{
	const struct kp_error_info *e = kp_error_info(code);

	return e ? e->name : "UNKNOWN";
}

const char *kp_err_message(kp_err_t code)
{
	const struct kp_error_info *e = kp_error_info(code);

	return e ? e->message : "Unknown error code";
}

bool kp_err_retriable(kp_err_t code)
{
	const struct kp_error_info *e = kp_error_info(code);

	return e ? e->retriable : false;
}

const struct kp_error_info *kp_error_table(int *count)
{
	*count = TABLE_LEN;
	return table;
}
