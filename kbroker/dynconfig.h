/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dynconfig.h - configuration changed while the broker runs: the
 * /config/changes watcher, as Kafka's DynamicConfigManager in ZooKeeper
 * mode.
 *
 * Admin requests (AlterConfigs, IncrementalAlterConfigs; api_config.c) on
 * any broker write /config/topics/<t>, /config/brokers/<id> or
 * /config/brokers/<default> and then a sequential
 * /config/changes/config_change_<n> naming the entity (zk_admin.c).  Every
 * broker watches /config/changes, handles each notification newer than
 * the last one it handled, re-reads the named entity and applies it: a
 * topic's overrides to the live logs and partitions of that topic and to
 * the replication quotas (its throttled-replicas lists), a broker entity
 * (our id or <default>) to the broker's layers (config_layers.h), the
 * throttle rates and message.max.bytes, and from there to every hosted
 * partition, since topics without an override inherit the broker's log.*
 * keys.  Notifications older than 15 minutes are deleted, as Kafka's
 * change listener does.
 *
 * Threads: the main loop (the watch fires there; its ZooKeeper reads
 * block it, never a network worker).
 */
#ifndef DYNCONFIG_H
#define DYNCONFIG_H

#include <stddef.h>

struct broker;

/* Set up b->dyn (before any thread starts).  0 or -1. */
int dynconfig_init(struct broker *b);
/*
 * Once the broker id is known: create /config/changes if missing, load
 * the broker entities and every topic's throttle lists, remember the
 * newest notification as handled (its state was just loaded) and watch
 * for more.  Also after a ZooKeeper session expiry.  0 or -1 with err.
 */
int dynconfig_start(struct broker *b, char *err, size_t errlen);
void dynconfig_destroy(struct broker *b);

#endif /* DYNCONFIG_H */
