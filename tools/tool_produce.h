/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_produce.h - the producer the tools share (kconsole-producer, kperf).
 *
 * Records are buffered per partition (keys and values copied into one
 * buffer per partition, no allocation per record) and sent on
 * tool_producer_flush(): one v2 batch per partition, one Produce request
 * per leader, all leaders' requests sent before any answer is awaited.
 * Retriable errors (leader moved, not enough replicas, a broken
 * connection) refresh the metadata and resend after a back-off, up to
 * `retries` times; then the records count as failed.  Without an
 * idempotent producer a resend after a lost answer can duplicate, as with
 * Kafka's console producer.
 *
 * Partitioning is Kafka's default: murmur2 of the key, or for records
 * without a key one partition per flush (the sticky partitioner of
 * KIP-480), moving round the partitions that have a leader.
 */
#ifndef TOOL_PRODUCE_H
#define TOOL_PRODUCE_H

#include "kp_buf.h"
#include "kp_records.h"
#include "tool.h"

struct tool_prec {
	size_t koff, voff;	/* in the partition's data buffer */
	int32_t klen, vlen;	/* -1: null */
	int64_t ts;
	int64_t t_enq_us;	/* monotonic, for latency */
};

struct tool_ppart {
	struct kp_wbuf data;
	struct tool_prec *recs;
	int32_t n, cap;
	int tries;
};

/* Called once per partition batch acknowledged (err 0) or given up. */
typedef void (*tool_ack_fn)(void *arg, int32_t partition,
			    const struct tool_prec *recs, int32_t n,
			    int16_t err, int64_t base_offset);

struct tool_producer {
	struct tool_cluster *cl;
	const char *topic;
	int16_t acks;
	int codec;		/* enum kp_codec */
	int retries;
	int retry_backoff_ms;
	int request_timeout_ms;
	size_t max_batch_bytes;	/* flush a partition before it grows past */
	int32_t nparts;
	struct tool_ppart *parts;
	int32_t sticky;
	size_t buffered;	/* bytes of keys and values waiting */
	int64_t acked, failed;
	tool_ack_fn on_ack;
	void *ack_arg;
	struct kp_wbuf scratch;
};

/* Learns the topic's partitions; dies when the topic does not exist. */
void tool_producer_init(struct tool_producer *p, struct tool_cluster *cl,
			const char *topic);
void tool_producer_free(struct tool_producer *p);
/*
 * Buffer one record.  partition -1 picks one (by key, or sticky).  ts -1
 * is now.  Returns the partition.
 */
int32_t tool_producer_add(struct tool_producer *p, int32_t partition,
			  const void *key, int32_t klen, const void *value,
			  int32_t vlen, int64_t ts);
/* Records buffered and not yet acknowledged or failed. */
int64_t tool_producer_pending(const struct tool_producer *p);
/* Send everything buffered and wait for it; returns records failed now. */
int64_t tool_producer_flush(struct tool_producer *p);

#endif /* TOOL_PRODUCE_H */
