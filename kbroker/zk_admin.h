/* SPDX-License-Identifier: Apache-2.0 */
/*
 * zk_admin.h - the ZooKeeper writes and reads of administration, as
 * Kafka's AdminZkClient does them: a new topic (/config/topics/<t>, then
 * /brokers/topics/<t>, which the controller watches), more partitions (a
 * rewritten /brokers/topics/<t>), a deletion (/admin/delete_topics/<t>),
 * an entity's configuration (/config/<type>/<name>, then a sequential
 * /config/changes/config_change_<n>), and the one reader of
 * /config/<type>/<name>.
 *
 * Every function here but zk_admin_topic_name_check and
 * zk_admin_check_assignment blocks on ZooKeeper: callers are the
 * ZooKeeper thread (zk_thread.h: requests), the main loop (configuration
 * changes) and start-up (log loading) - never a network worker.
 */
#ifndef ZK_ADMIN_H
#define ZK_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"
#include "kp_errors.h"
#include "kp_zkdata.h"

struct broker;
struct kp_zk;
struct md_view;

/* Kafka's longest topic name. */
#define ZK_ADMIN_MAX_TOPIC_LEN 249
/* A topic's assignment is one znode, which ZooKeeper caps at 1 MB. */
#define ZK_ADMIN_MAX_PARTITIONS 100000

/* Kafka's Topic.validate: 0 or INVALID_TOPIC_EXCEPTION with a message. */
kp_err_t zk_admin_topic_name_check(const char *name, char *msg, size_t n);
/* An explicit assignment: partitions 0..n-1, same size, no duplicates,
 * live brokers only (v).  0 or INVALID_REPLICA_ASSIGNMENT with a message. */
kp_err_t zk_admin_check_assignment(const struct md_view *v,
				   const struct kp_replicas *parts, int32_t n,
				   char *msg, size_t len);

/* Whether /brokers/topics/<name> exists: KP_ZK_OK, KP_ZK_NONODE or
 * another ZooKeeper error. */
int zk_admin_topic_exists(struct broker *b, const char *name);
/*
 * Create a topic: nparts x rf placed by Kafka's algorithm over the live
 * brokers, or the explicit assignment (parts[nparts]), with overrides cfg;
 * its new id into *topic_id (NULL: not wanted).  With validate_only,
 * everything but the writes.  0 or an error code with a message.
 */
kp_err_t zk_admin_create_topic(struct broker *b, const char *name, int32_t nparts,
			       int32_t rf, const struct kp_replicas *parts,
			       const struct kp_zk_entity_config *cfg,
			       bool validate_only, kp_uuid *topic_id, char *msg,
			       size_t n);
/* Mark a topic for deletion.  0 or an error code with a message. */
kp_err_t zk_admin_delete_topic(struct broker *b, const char *name, char *msg,
			       size_t n);
/*
 * Grow a topic to count partitions: the new ones placed by Kafka's
 * algorithm (assign NULL) or as assign[nassign] says.  0 or an error code
 * with a message.
 */
kp_err_t zk_admin_add_partitions(struct broker *b, const char *name, int32_t count,
				 const struct kp_replicas *assign, int32_t nassign,
				 bool validate_only, char *msg, size_t n);
/*
 * Queue the creation of __consumer_offsets as Kafka does it (compacted,
 * segment.bytes = offsets.topic.segment.bytes, compression.type=producer)
 * on the ZooKeeper thread, which logs why it failed, if it does (fewer
 * live brokers than rf, ...).  0, or an error code with a message when it
 * cannot even be queued.  Any thread.
 */
kp_err_t zk_admin_create_offsets_topic(struct broker *b, int32_t nparts, int32_t rf,
				       int32_t segment_bytes, char *msg, size_t n);

/*
 * Read /config/<type>/<name> (type "topics" or "brokers") into out: empty
 * when absent or without a session.  0, or -1 with why in err (out then
 * empty).
 */
int zk_admin_read_config(struct kp_zk *zk, const char *type, const char *name,
			 struct kp_zk_entity_config *out, char *err, size_t n);
/* Write /config/<type>/<name>, then the change notification every broker
 * watches (AdminZkClient.changeEntityConfig).  0 or an error code. */
kp_err_t zk_admin_write_config(struct broker *b, const char *type, const char *name,
			       const struct kp_zk_entity_config *cfg, char *msg,
			       size_t n);

#endif /* ZK_ADMIN_H */
