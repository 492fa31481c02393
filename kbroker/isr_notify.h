/* SPDX-License-Identifier: Apache-2.0 */
/*
 * isr_notify.h - ISR changes told to the controller in batches, as Kafka
 * 2.8's ZkIsrManager does in ZooKeeper mode.
 *
 * A leader whose ISR write to a partition's state znode succeeded records
 * the partition here (main loop).  Every ISR_PROP_CHECK_MS the set is
 * propagated - one /isr_change_notification/isr_change_<seq> znode
 * {"version":1,"partitions":[{"topic":..,"partition":..},...]} for all of
 * them (split only when larger than ISR_PROP_MAX_BYTES, far under
 * ZooKeeper's 1 MiB jute.maxbuffer) - when no change came for
 * ISR_PROP_LINGER_MS, or the last propagation is older than
 * ISR_PROP_MAX_DELAY_MS: an occasional change reaches the controller
 * (and, through its UpdateMetadata, every broker's Metadata) within
 * 5-7.5 s, and a storm of changes does not flood it.  The znodes are
 * created asynchronously (completions posted to the main loop); one whose
 * creation failed puts its partitions back into the set.
 *
 * struct isr_changes and its functions are pure (no ZooKeeper, times
 * passed in), for the unit tests.
 */
#ifndef ISR_NOTIFY_H
#define ISR_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ISR_PROP_CHECK_MS 2500		/* checkIntervalMs */
#define ISR_PROP_LINGER_MS 5000		/* lingerMs */
#define ISR_PROP_MAX_DELAY_MS 60000	/* maxDelayMs */
#define ISR_PROP_MAX_BYTES (512 * 1024)

struct kp_zk_tp;
struct broker;
struct partition;

/* The partitions whose ISR changed since the last propagation. */
struct isr_changes {
	struct kp_zk_tp *items;		/* topics owned (copies) */
	size_t n, cap;
	uint32_t *slots;		/* open addressing: item index + 1 */
	size_t nslots;
	int64_t last_change_ms;
	int64_t last_propagation_ms;
};

void isr_changes_init(struct isr_changes *c, int64_t now_ms);
void isr_changes_free(struct isr_changes *c);
/* Record a change (once per partition; the time always).  0, or -1 when
 * out of memory (the change is not recorded). */
int isr_changes_add(struct isr_changes *c, const char *topic,
		    int32_t partition, int64_t now_ms);
/* Kafka's rule: something to tell, and either no change for
 * ISR_PROP_LINGER_MS or no propagation for ISR_PROP_MAX_DELAY_MS. */
bool isr_changes_due(const struct isr_changes *c, int64_t now_ms);
/*
 * The set as notification bodies of at most about max_bytes each (one
 * when it fits; a single partition is never split), in order of
 * recording.  Returns how many (*out: that many malloc'ed strings in a
 * malloc'ed array), 0 when the set is empty, -1 when out of memory.
 */
long isr_changes_encode(const struct isr_changes *c, size_t max_bytes,
			char ***out);
/* After a propagation: empty the set, remember now. */
void isr_changes_clear(struct isr_changes *c, int64_t now_ms);

/* Broker side (main loop). */
int isr_notify_start(struct broker *b);
/* Record p's ISR change for the next propagation. */
void isr_notify_record(struct broker *b, const struct partition *p);
/* Stop the timer and send what is left (the caller drains the loop). */
void isr_notify_stop(struct broker *b);
/* Notification creates still in flight. */
int isr_notify_inflight(const struct broker *b);
void isr_notify_free(struct broker *b);

#endif /* ISR_NOTIFY_H */
