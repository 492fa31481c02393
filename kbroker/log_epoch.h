/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_epoch.h - the leader-epoch cache of one partition.
 *
 * An ordered list of (epoch, start offset): the first offset written in
 * each leader epoch.  Kept in <partition dir>/leader-epoch-checkpoint
 * ("0", count, then "<epoch> <start offset>" lines), replaced atomically
 * on every change and made durable by log_epoch_sync (log_flush calls it
 * before it moves the recovery point).  Not at every change, as Kafka 2.8
 * does: a leader change would cost two fsyncs per partition (3,000
 * partitions changing leader: seconds).  Losing the unsynced state takes
 * an OS crash, and then recovery rebuilds the epochs past the recovery
 * point from the batches, which carry them.  OffsetForLeaderEpoch and follower truncation ask it
 * where an epoch ends.  Owned by the partition's appender thread.
 */
#ifndef LOG_EPOCH_H
#define LOG_EPOCH_H

#include <stdbool.h>
#include <stdint.h>

struct log_epoch_entry {
	int32_t epoch;
	int64_t start_offset;
};

struct log_epoch_cache {
	struct log_epoch_entry *e;
	int n, cap;
	char *path;		/* the checkpoint file, NULL: memory only */
	bool unsynced;		/* written since the last log_epoch_sync */
};

/* Load path (a missing file is an empty cache).  0 or -errno. */
int log_epoch_open(struct log_epoch_cache *c, const char *path);
void log_epoch_close(struct log_epoch_cache *c);
/* fsync the checkpoint file if it changed since the last call.  0 or
 * -errno. */
int log_epoch_sync(struct log_epoch_cache *c);

/*
 * Record that epoch begins at start_offset.  Ignored when epoch is the
 * latest and start_offset is not smaller; otherwise entries with an epoch
 * >= epoch or a start >= start_offset are dropped first.  Persists a
 * change.  0 or -errno (the cache is updated even if the write fails).
 */
int log_epoch_assign(struct log_epoch_cache *c, int32_t epoch,
		     int64_t start_offset);
/* Drop entries starting at or after offset (log truncated to offset). */
int log_epoch_truncate_end(struct log_epoch_cache *c, int64_t offset);
/* Log start moved to offset: drop entries before it, the last dropped one
 * re-added as (its epoch, offset). */
int log_epoch_truncate_start(struct log_epoch_cache *c, int64_t offset);
int log_epoch_clear(struct log_epoch_cache *c);

/* Latest epoch, or -1 when empty. */
int32_t log_epoch_latest(const struct log_epoch_cache *c);
/*
 * Where the requested epoch ends, as OffsetForLeaderEpoch answers: sets
 * *epoch_out (the largest known epoch <= epoch, or -1) and *end_offset
 * (start of the next larger epoch, or log_end_offset for the latest; -1
 * when unknown).
 */
void log_epoch_end_offset(const struct log_epoch_cache *c, int32_t epoch,
			  int64_t log_end_offset, int32_t *epoch_out,
			  int64_t *end_offset);

#endif /* LOG_EPOCH_H */
