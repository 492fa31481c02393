/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_sasl.h - the pure parts of SASL as Kafka 2.8 configures and speaks
 * it: a JAAS configuration line (sasl.jaas.config) parsed for its login
 * module and options, and the PLAIN mechanism's server side (RFC 4616)
 * checked against PlainLoginModule's user_<name>="<password>" options.
 */
#ifndef KP_SASL_H
#define KP_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One login module entry: "Class flag key=value ... ;". */
struct kp_jaas {
	char *module;			/* the class name */
	char *flag;			/* required, requisite, ... */
	char **keys, **values;
	size_t n;
};

/* 0, or -1 with a message; a second entry after the first ';' is an
 * error (Kafka wants exactly one per mechanism). */
int kp_jaas_parse(const char *text, struct kp_jaas *j, char *err, size_t errlen);
/* An option's value, or NULL. */
const char *kp_jaas_get(const struct kp_jaas *j, const char *key);
void kp_jaas_free(struct kp_jaas *j);

/*
 * A PLAIN client message, authzid NUL user NUL password, checked against
 * j's user_<user> options.  0 with the user in user (userlen bytes), or
 * -1 with Kafka's message in err (which Kafka sends back to the client).
 */
int kp_sasl_plain_check(const uint8_t *tok, size_t len, const struct kp_jaas *j,
			char *user, size_t userlen, char *err, size_t errlen);

#endif /* KP_SASL_H */
