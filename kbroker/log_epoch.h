/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_epoch.h - the leader-epoch cache of one partition.
 *
 * An ordered list of (epoch, start offset): the first offset written in
 * each leader epoch.  Kept in <partition dir>/leader-epoch-checkpoint
 * (Kafka's format: "0", the count, then "<epoch> <start offset>" lines).
 *
 * A change updates the memory at once and only marks the cache dirty and
 * queues it: the file is written later, batched, by whoever comes first
 * of the epoch writer thread (log_epoch_write_pending, every
 * leader.epoch.checkpoint.interval.ms) and log_epoch_sync, which
 * log_flush calls before it moves the recovery point (written and
 * fsynced).  So a LeaderAndIsr that makes this broker leader of thousands
 * of partitions touches no file (Kafka 2.8 rewrites and fsyncs the file
 * at every change: ~1 ms a partition), and the file is never behind data
 * below the recovery point.  What a crash loses is past the recovery
 * point: log recovery walks those batches, which carry their epochs, and
 * assigns them again; a checkpoint that is missing, corrupt, or does not
 * know the epoch of the log's last batch is rebuilt from every batch
 * header (log_open).  OffsetForLeaderEpoch and follower truncation ask
 * it where an epoch ends.  Changed and read by the partition's owner
 * (under the partition's lock); the writer thread only reads it, under
 * the cache's own mutex.
 */
#ifndef LOG_EPOCH_H
#define LOG_EPOCH_H

#include <pthread.h>
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
	bool dirty;		/* changed since the file was last written */
	bool unsynced;		/* written since the last log_epoch_sync */
	/* the writer queue (log_epoch.c's, under its lock) */
	bool queued, writing;
	bool locks;		/* mu and io initialized (log_epoch_open) */
	struct log_epoch_cache *qnext;
	pthread_mutex_t mu;	/* e, n, dirty against the writer's snapshot */
	pthread_mutex_t io;	/* one file write at a time, in order */
};

/* Load path (a missing file is an empty cache; -EINVAL: corrupt, the
 * cache is empty).  0 or -errno. */
int log_epoch_open(struct log_epoch_cache *c, const char *path);
/* Forget the cache without writing it (a pending write is dropped; one
 * under way is waited for). */
void log_epoch_close(struct log_epoch_cache *c);
/* Write the file if the cache is dirty and fsync it if it was written
 * since the last call: the epochs are durable.  0 or -errno. */
int log_epoch_sync(struct log_epoch_cache *c);
/* Write the file now if dirty, without fsync (a clean shutdown, whose
 * syncfs follows).  0 or -errno. */
int log_epoch_write(struct log_epoch_cache *c);
/* Write every queued dirty cache (the epoch writer's round).  Returns how
 * many files were written. */
int log_epoch_write_pending(void);
/* Caches waiting for the writer. */
int log_epoch_pending(void);

/*
 * Record that epoch begins at start_offset.  Ignored when epoch is the
 * latest and start_offset is not smaller; otherwise entries with an epoch
 * >= epoch or a start >= start_offset are dropped first.  A change is
 * queued for the writer.  0 or -ENOMEM.
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
