/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shutdown.h - controlled shutdown: leadership handed over before we stop.
 */
#ifndef SHUTDOWN_H
#define SHUTDOWN_H

#include <stddef.h>

struct broker;

/* Ask the controller to move leadership off us (see shutdown.c); runs on
 * the main thread after its loop stopped, workers still serving. */
void broker_controlled_shutdown(struct broker *b);
/* Partitions with more than one replica that we lead. */
int broker_led_partitions(struct broker *b);
/*
 * The TLS and SASL settings of a connection to the controller at ep
 * (/controller names its endpoint by its security protocol): the
 * broker's inter-broker client settings (truststore, SASL mechanism and
 * credentials), which must cover that protocol.  0, or -1 with a message
 * in err.
 */
struct kp_endpoint;
struct kp_client_opts;
int broker_controller_opts(const struct broker *b, const struct kp_endpoint *ep,
			   struct kp_client_opts *o, char *err, size_t errlen);

#endif /* SHUTDOWN_H */
