/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_config.h - kafka-configs.sh's --add-config syntax, shared so the
 * parser is unit tested on its own (tests/unit/check_dynconfig.c).
 */
#ifndef TOOL_CONFIG_H
#define TOOL_CONFIG_H

#include <stddef.h>

struct tool_kv {
	char *key;
	char *value;
};

/*
 * "k1=v1,k2=[a,b],k3=" as Kafka's ConfigCommand reads it: pairs are split
 * at commas outside square brackets, each pair at its one '=' outside
 * them (blanks around it dropped), and a value wholly in brackets loses
 * them, so k2's value is "a,b" (and SCRAM-SHA-256=[iterations=8192,
 * password=x]'s is "iterations=8192,password=x").  Returns the number of pairs (malloc'd into *out,
 * free with tool_kv_free), or -1 with a message in err.
 */
int tool_parse_add_config(const char *s, struct tool_kv **out, char *err,
			  size_t errlen);
/* "k1,k2" as --delete-config: trimmed keys, empty ones an error. */
int tool_parse_delete_config(const char *s, struct tool_kv **out, char *err,
			     size_t errlen);
void tool_kv_free(struct tool_kv *kv, int n);

#endif /* TOOL_CONFIG_H */
