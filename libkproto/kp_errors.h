/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_errors.h - Kafka's error codes: the complete table of Kafka 2.8.
 *
 * Codes >= 0 and -1 (UNKNOWN_SERVER_ERROR) are Kafka's, as sent on the
 * wire.  kp_err_t is the type of such a code.
 */
#ifndef KP_ERRORS_H
#define KP_ERRORS_H

#include <stdbool.h>
#include <stdint.h>

typedef int16_t kp_err_t;

/* One enumerator per Kafka error, KP_ERR_<NAME> = code. */
enum {
#define KP_ERR_DEF(code, name, retriable, message) KP_ERR_##name = code,
#include "kp_errors.def"
#undef KP_ERR_DEF
};

struct kp_error_info {
	kp_err_t code;
	const char *name;	/* e.g. "NOT_LEADER_OR_FOLLOWER" */
	bool retriable;
	const char *message;	/* Kafka's description */
};

/* The entry for code, or NULL for a code Kafka does not define. */
const struct kp_error_info *kp_error_info(kp_err_t code);
/* Name of a code ("UNKNOWN_ERROR_<n>" style text for unknown ones is not
 * returned: unknown codes give "UNKNOWN"). */
const char *kp_err_name(kp_err_t code);
const char *kp_err_message(kp_err_t code);
bool kp_err_retriable(kp_err_t code);
/* The whole table, in code order, and its length. */
const struct kp_error_info *kp_error_table(int *count);

#endif /* KP_ERRORS_H */
