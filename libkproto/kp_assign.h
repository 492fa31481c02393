/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_assign.h - Kafka's replica placement for new topics and partitions
 * (AdminUtils.assignReplicasToBrokers, Kafka 2.8), rack-aware when every
 * broker has a rack.
 *
 * The partition leaders go round the brokers from a start index; the
 * followers of each partition follow at a shift that grows every time the
 * partition id wraps the broker count, so replicas spread evenly.  With
 * racks, brokers are first interleaved rack by rack and each further
 * replica goes to a rack (and broker) without one, while any is left.
 */
#ifndef KP_ASSIGN_H
#define KP_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

struct kp_assign_broker {
	int32_t id;
	const char *rack;	/* NULL: none */
};

/*
 * Place rf replicas for each of nparts partitions numbered from
 * start_partition on brokers (any order; sorted by id inside).  fixed_start
 * >= 0 fixes Kafka's start index and shift (tests, partition addition);
 * -1 draws them at random.  out receives nparts * rf broker ids, partition
 * by partition, preferred replica first.  Returns 0, or a negative Kafka
 * error code (INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR,
 * INVALID_REPLICA_ASSIGNMENT for racks on some brokers only) with a
 * message in err.
 */
int kp_assign_replicas(const struct kp_assign_broker *brokers, int nbrokers,
		       int32_t nparts, int32_t rf, int fixed_start,
		       int32_t start_partition, int32_t *out, char *err,
		       size_t errlen);

/*
 * Placement of partitions added to a topic, as Kafka keeps the existing
 * pattern going: the start index is that of the first broker whose id is
 * >= partition 0's preferred replica, numbering continues from the current
 * count, rf is partition 0's replica count.
 */
int kp_assign_more(const struct kp_assign_broker *brokers, int nbrokers,
		   int32_t first_preferred, int32_t current, int32_t add,
		   int32_t rf, int32_t *out, char *err, size_t errlen);

#endif /* KP_ASSIGN_H */
