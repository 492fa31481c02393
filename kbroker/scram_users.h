/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scram_users.h - the SCRAM credentials the SASL listeners check, as
 * Kafka 2.8 keeps them in ZooKeeper mode: /config/users/<user> holds, for
 * each mechanism the user has, a config key "SCRAM-SHA-256" or
 * "SCRAM-SHA-512" whose value is ScramCredentialUtils' string
 * (salt=<b64>,stored_key=<b64>,server_key=<b64>,iterations=<n>; never the
 * password).  AlterUserScramCredentials (api_scram.c) writes the node and
 * a /config/changes notification "users/<user>"; every broker's
 * dynconfig.c watcher then re-reads that user here, so a new, changed or
 * deleted credential takes effect on every broker without a restart.
 *
 * Threads: loaded and reloaded on the main loop (dynconfig.c, blocking
 * ZooKeeper reads there); looked up by whichever thread runs the SASL
 * exchange, under the store's mutex (a copy is handed out).
 */
#ifndef SCRAM_USERS_H
#define SCRAM_USERS_H

#include "kp_sasl.h"
#include "kp_zkdata.h"

struct broker;

/* Set up b->scram (before any thread starts).  0 or -1. */
int scram_users_init(struct broker *b);
void scram_users_destroy(struct broker *b);
/* Replace the whole store with /config/users/ (main loop).  0 or -1. */
int scram_users_load_all(struct broker *b);
/* Re-read one user (main loop); a missing node removes the user. */
void scram_users_reload(struct broker *b, const char *user);
/* The same from a node already read (an empty c removes the user). */
void scram_users_apply(struct broker *b, const char *user,
		       const struct kp_zk_entity_config *c);
/* A kp_scram_lookup_fn; arg is the broker.  0, or -1 when none. */
int scram_users_lookup(void *arg, int mech, const char *user, struct kp_scram_cred *out);

#endif /* SCRAM_USERS_H */
