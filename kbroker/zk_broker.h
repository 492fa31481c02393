/* SPDX-License-Identifier: Apache-2.0 */
/*
 * zk_broker.h - the broker's side of the ZooKeeper contract: the cluster
 * id, a generated broker id, and the ephemeral registration
 * /brokers/ids/<id> with Kafka's JSON.
 */
#ifndef ZK_BROKER_H
#define ZK_BROKER_H

#include <stddef.h>
#include <stdint.h>

struct broker;

/* Read /cluster/id, creating it with a new id the first time. */
int zk_broker_cluster_id(struct broker *b, char *err, size_t errlen);
/* The persistent paths every broker makes sure of at start (Kafka's list). */
int zk_broker_ensure_paths(struct broker *b, char *err, size_t errlen);
/* A new id from /brokers/seqid, above reserved.broker.max.id (1000). */
int zk_broker_generate_id(struct broker *b, int32_t *id, char *err,
			  size_t errlen);
/*
 * Create /brokers/ids/<id>.  Fails when another live session holds it
 * (another broker with our id); succeeds when it is our own session's.
 */
int zk_broker_register(struct broker *b, char *err, size_t errlen);

#endif /* ZK_BROKER_H */
