/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shutdown.h - controlled shutdown: leadership handed over before we stop.
 */
#ifndef SHUTDOWN_H
#define SHUTDOWN_H

struct broker;

/* Ask the controller to move leadership off us (see shutdown.c); runs on
 * the main thread after its loop stopped, workers still serving. */
void broker_controlled_shutdown(struct broker *b);
/* Partitions with more than one replica that we lead. */
int broker_led_partitions(struct broker *b);

#endif /* SHUTDOWN_H */
