/* SPDX-License-Identifier: Apache-2.0 */
/*
 * producer_id.h - producer ids for InitProducerId, handed out from blocks
 * of 1000 claimed in ZooKeeper as Kafka 2.8's ProducerIdManager does:
 * /latest_producer_id_block names the last block claimed (kp_zkdata); a
 * broker reads it with its version, writes the next block conditional on
 * that version and retries when another broker got there first, so no id
 * is handed out twice across brokers or restarts (ids of a block not used
 * before a restart are skipped, as in Kafka).
 */
#ifndef PRODUCER_ID_H
#define PRODUCER_ID_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define PRODUCER_ID_BLOCK 1000		/* Kafka's PidBlockSize */
#define PRODUCER_ID_ZNODE "/latest_producer_id_block"

struct kp_zk;

struct producer_ids {
	pthread_mutex_t lock;
	int64_t next, limit;		/* ids [next, limit) left; none when equal */
};

void producer_ids_init(struct producer_ids *p);
void producer_ids_destroy(struct producer_ids *p);
/* Any thread: the next id, 0; -EAGAIN when the block is used up. */
int producer_ids_next(struct producer_ids *p, int64_t *id);
/*
 * Blocking on ZooKeeper (the ZooKeeper thread): claim the next block
 * unless the current one still has ids.  0, or -1 with a message.
 */
int producer_ids_claim(struct producer_ids *p, struct kp_zk *zk, int32_t broker,
		       char *err, size_t errlen);

#endif /* PRODUCER_ID_H */
