/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_principal.h - Kafka's ssl.principal.mapping.rules (KIP-371): the
 * name a TLS client certificate's subject (RFC 2253 form) maps to.
 *
 * The rules are a comma-separated list, tried in order; the first that
 * applies gives the name:
 *
 *   DEFAULT                      the subject itself
 *   RULE:pattern/replacement/    when pattern matches the whole subject,
 *   RULE:pattern/replacement/L   the subject with every match of pattern
 *   RULE:pattern/replacement/U   replaced (Java's replaceAll: $n and ${name}
 *                                group references, \x a literal x), then
 *                                lower- or upper-cased with L or U
 *
 * '/' and '\' inside pattern and replacement are escaped with '\'.  As in
 * Kafka's SslPrincipalMapper, a list that does not parse is refused as a
 * whole ("Invalid rule"), empty entries are skipped, and a subject no
 * rule applies to has no name (Kafka then fails the connection).
 * Patterns are Perl-compatible regular expressions (PCRE2), which agree
 * with Java's java.util.regex for what such rules use (groups, classes,
 * greedy and lazy quantifiers, anchors).
 *
 * Threads: a parsed rule list is read-only; any thread may map with it.
 */
#ifndef KP_PRINCIPAL_H
#define KP_PRINCIPAL_H

#include <stddef.h>

struct kp_principal_rules;

/* Parse rules (NULL: "DEFAULT").  NULL with a message in err (starting
 * "Invalid rule", or naming a pattern PCRE2 cannot compile). */
struct kp_principal_rules *kp_principal_rules_new(const char *rules, char *err,
						  size_t errlen);
void kp_principal_rules_free(struct kp_principal_rules *r);

/*
 * The name subject maps to, in out (NUL-terminated): 0.  -1 when no rule
 * applies, when the replacement of the rule that applies is invalid for
 * this match (Java throws: a group that does not exist, a trailing '\'
 * or '$'), or when the name does not fit in outlen; out then says why.
 */
int kp_principal_map(const struct kp_principal_rules *r, const char *subject,
		     char *out, size_t outlen);

#endif /* KP_PRINCIPAL_H */
