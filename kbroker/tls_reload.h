/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls_reload.h - TLS listeners' SSL stores replaced by a dynamic broker
 * config change (listener.name.<l>.ssl.keystore.location and the other
 * store keys in /config/brokers/<id>), without a restart.
 */
#ifndef TLS_RELOAD_H
#define TLS_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "kp_errors.h"
#include "kp_zkdata.h"

struct broker;

/* Whether key is a listener's SSL store key (listener.name.<l>.ssl.*). */
bool tls_reload_key(const char *key);
/*
 * AlterConfigs of this broker's entity whose new content is dyn: every
 * TLS listener whose stores it changes must get a usable context with the
 * same certificate subject and alternative names (Kafka's SslFactory
 * validation).  0, or KP_ERR_INVALID_REQUEST with Kafka's message.
 * ZooKeeper thread.
 */
kp_err_t tls_reload_check(struct broker *b, const struct kp_zk_entity_config *dyn,
			  char *msg, size_t n);
/* After the dynamic layers changed (and once after the listeners
 * started): a new context for each TLS listener whose stores changed;
 * one that fails is logged and the old stays.  Main loop. */
void tls_reload_apply(struct broker *b);

#endif /* TLS_RELOAD_H */
