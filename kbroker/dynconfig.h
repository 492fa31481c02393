/*
 * dynconfig.h - configuration changed while the broker runs, as Kafka's
 * DynamicConfigManager and DynamicBrokerConfig do it in ZooKeeper mode.
 *
 * Admin requests (AlterConfigs, IncrementalAlterConfigs; api_admin.c) on
 * any broker write /config/topics/<t>, /config/brokers/<id> or
 * /config/brokers/<default> and then a sequential
 * /config/changes/config_change_<n> naming the entity.  Every broker
 * watches /config/changes, handles each notification newer than the last
 * one it handled (on the main loop), re-reads the named entity and applies
 * it: a topic's overrides to the live logs and partitions of that topic, a
 * broker entity (our id or <default>) to the broker's dynamic values, and
 * from there to every hosted partition, since topics without an override
 * inherit the broker's log.* keys.  Notifications older than 15 minutes
 * are deleted, as Kafka's change listener does.
 *
 * Precedence of a broker key, highest first: /config/brokers/<id>
 * (DYNAMIC_BROKER_CONFIG), /config/brokers/<default>
 * (DYNAMIC_DEFAULT_BROKER_CONFIG), the properties file
 * (STATIC_BROKER_CONFIG), the table's default (DEFAULT_CONFIG).
 *
 * Threads: the dynamic values are read by network workers and the
 * fetcher under dyn->lock; they change on the main thread only.
 */
#ifndef DYNCONFIG_H
#define DYNCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_zkdata.h"
#include "quota.h"

struct broker;
struct dyn_topic;

struct dynconfig {
	pthread_mutex_t lock;		/* everything below but the quotas */
	struct kp_zk_entity_config broker;	/* /config/brokers/<id> */
	struct kp_zk_entity_config defaults;	/* /config/brokers/<default> */
	struct dyn_topic *topics;	/* topics with a throttled-replicas list */
	_Atomic int nthrottled;		/* how many: 0 is the fast path */
	struct quota leader_quota;	/* bytes sent to throttled followers */
	struct quota follower_quota;	/* bytes fetched for throttled replicas */
	int64_t last_seq;		/* main thread: last notification handled */
};

/* Layers of a broker key (DescribeConfigs' ConfigSource numbering). */
enum dyn_layer {
	DYN_BROKER = 2,			/* DYNAMIC_BROKER_CONFIG */
	DYN_DEFAULT = 3,		/* DYNAMIC_DEFAULT_BROKER_CONFIG */
	DYN_STATIC = 4,			/* STATIC_BROKER_CONFIG */
	DYN_TABLE_DEFAULT = 5,		/* DEFAULT_CONFIG */
};

#define DYN_LEADER_RATE "leader.replication.throttled.rate"
#define DYN_FOLLOWER_RATE "follower.replication.throttled.rate"
#define DYN_LEADER_REPLICAS "leader.replication.throttled.replicas"
#define DYN_FOLLOWER_REPLICAS "follower.replication.throttled.replicas"

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

/*
 * The value of a broker key on one layer (DYN_BROKER, DYN_DEFAULT,
 * DYN_STATIC), copied into buf; NULL when that layer does not set it.
 */
const char *dynconfig_layer_get(struct broker *b, enum dyn_layer layer,
				const char *key, char *buf, size_t n);
/*
 * The effective value of a broker key (into buf) and its layer; the
 * table's default (or NULL when it has none) with DYN_TABLE_DEFAULT.
 */
const char *dynconfig_broker_get(struct broker *b, const char *key, char *buf,
				 size_t n, enum dyn_layer *layer);

/*
 * Whether key may be set on a broker entity (/config/brokers/<id> or
 * <default>: every key we change at run time may be set on both) and
 * value is valid for it.  0, or a Kafka error code with a message
 * (Kafka's wording where it has one).
 */
int16_t dynconfig_check_broker_key(const char *key, const char *value,
				   char *msg, size_t n);
/* Whether key is a broker key this broker changes without restart. */
bool dynconfig_is_dynamic(const char *key);
/* The dynamic-only broker keys (the throttle rates), NULL-terminated. */
extern const char *const dynconfig_extra_keys[];

/* Replication throttling (api_fetch.c: leader side; fetcher.c: follower). */
bool dynconfig_leader_throttled(struct broker *b, const char *topic,
				size_t len, int32_t partition);
bool dynconfig_follower_throttled(struct broker *b, const char *topic,
				  size_t len, int32_t partition);

#endif /* DYNCONFIG_H */
