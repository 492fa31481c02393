/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_zkdata.h - the JSON payloads of Kafka's ZooKeeper layout (Kafka 2.8).
 *
 * Brokers, controllers and tools meet in ZooKeeper; these are the formats
 * they share, encoded and decoded exactly as Kafka writes and reads them
 * (readers look fields up by name and ignore unknown ones; some numbers are
 * deliberately JSON strings), as Kafka 2.8's kafka.zk.ZkData classes do.
 * Also here: listener/endpoint strings (NAME://host:port).
 *
 * Decoders take untrusted bytes and fail cleanly (-1, message in err) on
 * anything malformed.  Encoders return a malloc'd NUL-terminated string.
 */
#ifndef KP_ZKDATA_H
#define KP_ZKDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"

#define KP_HOST_MAX 256
#define KP_LISTENER_MAX 64

/* One endpoint: listener name, host (no brackets), port. */
struct kp_endpoint {
	char listener[KP_LISTENER_MAX];
	char host[KP_HOST_MAX];
	int32_t port;
};

/*
 * Parse "NAME://host:port" (IPv6 hosts in brackets, empty host allowed).
 * The listener name must be letters, digits, '_' or '-'; port 0..65535.
 */
int kp_endpoint_parse(const char *s, struct kp_endpoint *ep, char *err,
		      size_t errlen);
/* Format as NAME://host:port, bracketing IPv6 hosts. */
void kp_endpoint_format(const struct kp_endpoint *ep, char *buf, size_t len);
/*
 * Parse a comma-separated listener list into a malloc'd array; duplicate
 * listener names are an error, as in Kafka.
 */
int kp_endpoints_parse(const char *list, struct kp_endpoint **eps, size_t *n,
		       char *err, size_t errlen);

/* /brokers/ids/<id> */
struct kp_zk_broker {
	int32_t id;			/* from the znode name, not the JSON */
	int version;
	int64_t timestamp;
	struct kp_endpoint *endpoints;
	size_t nendpoints;
	/* listener name -> security protocol, parallel arrays */
	char (*protocol_map)[2][KP_LISTENER_MAX];
	size_t nprotocols;
	char *rack;			/* NULL when unset */
};

char *kp_zk_broker_encode(const struct kp_zk_broker *b);
int kp_zk_broker_decode(const char *json, size_t len, struct kp_zk_broker *b,
			char *err, size_t errlen);
void kp_zk_broker_free(struct kp_zk_broker *b);
/* The endpoint of a listener name, or NULL. */
const struct kp_endpoint *kp_zk_broker_endpoint(const struct kp_zk_broker *b,
						const char *listener);

/* Replica list of one partition. */
struct kp_replicas {
	int32_t *ids;
	int32_t n;
};

/* /brokers/topics/<topic>: partition p's assignment is parts[p]. */
struct kp_zk_topic {
	int version;
	char topic_id[23];		/* URL-safe base64, "" when none */
	int32_t npartitions;
	struct kp_replicas *parts;
	struct kp_replicas *adding;	/* per partition, n == 0 when idle */
	struct kp_replicas *removing;
};

char *kp_zk_topic_encode(const struct kp_zk_topic *t);
/* Partitions must be exactly 0..n-1, each with a non-empty replica list. */
int kp_zk_topic_decode(const char *json, size_t len, struct kp_zk_topic *t,
		       char *err, size_t errlen);
void kp_zk_topic_free(struct kp_zk_topic *t);

/* /brokers/topics/<t>/partitions/<p>/state */
struct kp_zk_partition_state {
	int32_t controller_epoch;
	int32_t leader;			/* -1: none */
	int32_t leader_epoch;
	struct kp_replicas isr;
};

char *kp_zk_partition_state_encode(const struct kp_zk_partition_state *s);
int kp_zk_partition_state_decode(const char *json, size_t len,
				 struct kp_zk_partition_state *s, char *err,
				 size_t errlen);
void kp_zk_partition_state_free(struct kp_zk_partition_state *s);

/* /controller.  Kafka's fields, plus (ours) "endpoints": where the
 * controller takes ControlledShutdown; ep may be NULL. */
char *kp_zk_controller_encode(int32_t id, int64_t timestamp,
			      const struct kp_endpoint *ep);
int kp_zk_controller_decode(const char *json, size_t len, int32_t *id,
			    char *err, size_t errlen);
/*
 * /latest_producer_id_block (Kafka's ProducerIdBlockZNode): the last
 * block of producer ids handed out, {"version":1,"broker":<id>,
 * "block_start":"<first>","block_end":"<last>"} (the ids as strings, as
 * Kafka writes them).
 */
char *kp_zk_pid_block_encode(int32_t broker, int64_t start, int64_t end);
int kp_zk_pid_block_decode(const char *json, size_t len, int32_t *broker,
			   int64_t *start, int64_t *end, char *err, size_t errlen);
/* The controller's first endpoint; -ENOENT when it advertises none. */
int kp_zk_controller_endpoint(const char *json, size_t len,
			      struct kp_endpoint *ep, char *err, size_t errlen);

/* /cluster/id */
char *kp_zk_cluster_id_encode(const char *id);
int kp_zk_cluster_id_decode(const char *json, size_t len, char *id,
			    size_t idlen, char *err, size_t errlen);
/* A topic or cluster id as Kafka writes it (Uuid.toString: URL-safe
 * base64 without padding, 22 characters) and back; parse returns -1 for
 * anything else. */
void kp_uuid_format(const kp_uuid *id, char out[23]);
int kp_uuid_parse(const char *s, kp_uuid *out);
/* A new random cluster or topic id: a version 4 UUID, formatted so. */
void kp_cluster_id_generate(char out[23]);

/* /config/<type>/<name>: a list of key/value strings. */
struct kp_zk_entity_config {
	char **keys;
	char **values;
	size_t n;
};

char *kp_zk_config_encode(const struct kp_zk_entity_config *c);
int kp_zk_config_decode(const char *json, size_t len, struct kp_zk_entity_config *c,
			char *err, size_t errlen);
void kp_zk_config_free(struct kp_zk_entity_config *c);
const char *kp_zk_config_get(const struct kp_zk_entity_config *c, const char *key);
/* Set, replace or (value NULL) remove a key. */
int kp_zk_config_set(struct kp_zk_entity_config *c, const char *key,
		     const char *value);

/* /config/changes/config_change_<seq>: v2 entity_path, or v1 type/name. */
char *kp_zk_config_change_encode(const char *entity_path);
int kp_zk_config_change_decode(const char *json, size_t len, char *path,
			       size_t pathlen, char *err, size_t errlen);

/* Lists of (topic, partition[, replicas]) used by several admin nodes. */
struct kp_zk_tp {
	char *topic;
	int32_t partition;
	struct kp_replicas replicas;	/* reassignment only */
};

struct kp_zk_tp_list {
	struct kp_zk_tp *items;
	size_t n;
};

/* /isr_change_notification/isr_change_<seq> and
 * /admin/preferred_replica_election: {"version":1,"partitions":[{topic,partition}]} */
char *kp_zk_tp_list_encode(const struct kp_zk_tp_list *l, bool with_replicas);
/* /admin/reassign_partitions adds "replicas"; with_replicas requires it. */
int kp_zk_tp_list_decode(const char *json, size_t len, bool with_replicas,
			 struct kp_zk_tp_list *l, char *err, size_t errlen);
void kp_zk_tp_list_free(struct kp_zk_tp_list *l);

void kp_replicas_free(struct kp_replicas *r);

#endif /* KP_ZKDATA_H */
