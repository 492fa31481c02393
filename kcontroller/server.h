/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server.h - the controller's own listener.
 *
 * Brokers reach the active controller here for ControlledShutdown (they
 * find the endpoint in /controller's "endpoints").  ApiVersions is served
 * too, since clients negotiate first.  Requests are handled on the
 * controller's event thread, one at a time, like every other event.
 */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>

#include "kp_zkdata.h"

struct controller;
struct server;

/* Listen on the controller's `listeners`; ep gets the advertised endpoint
 * (port resolved, empty host replaced by this machine's name). */
struct server *server_start(struct controller *c, struct kp_endpoint *ep,
			    char *err, size_t errlen);
void server_stop(struct server *s);

#endif /* SERVER_H */
