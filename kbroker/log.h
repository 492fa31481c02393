/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - a partition's commit log: an ordered list of segments, the last
 * one active, as Kafka lays it out in <log dir>/<topic>-<partition>/.
 *
 * Concurrency contract: one appender thread (the partition's owner) calls
 * every function that changes the log (append, roll, flush, truncate,
 * retention, close); any number of reader threads may call log_read(),
 * log_offset_for_timestamp() and the accessors at the same time.  Segment
 * list changes happen under log->lock, which readers take only to find
 * and reference a segment; appended bytes are published (segment size,
 * then log end offset, with release order) only after they and their
 * index entries are written, so a reader never sees part of a batch.
 *
 * Error returns are Kafka error codes (KP_ERR_*, positive) where a client
 * would see them, else -errno.
 */
#ifndef LOG_H
#define LOG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kp_buf.h"
#include "log_epoch.h"
#include "log_segment.h"
#include "log_txnindex.h"
#include "producer_state.h"

#define LOG_NO_LIMIT INT64_MAX

/* Per-topic settings (Kafka's topic-level names in the comments). */
struct log_config {
	int64_t segment_bytes;		/* segment.bytes, 1 GiB */
	int64_t segment_ms;		/* segment.ms, 7 days */
	int64_t segment_jitter_ms;	/* segment.jitter.ms, 0 */
	int32_t segment_index_bytes;	/* segment.index.bytes, 10 MiB */
	int32_t index_interval_bytes;	/* index.interval.bytes, 4096 */
	int64_t flush_messages;		/* flush.messages, never */
	int64_t flush_ms;		/* flush.ms, never */
	int64_t retention_ms;		/* retention.ms, 7 days; -1 forever */
	int64_t retention_bytes;	/* retention.bytes, -1 */
	int64_t file_delete_delay_ms;	/* file.delete.delay.ms, 60 s */
	bool log_append_time;		/* message.timestamp.type=LogAppendTime */
	int64_t timestamp_diff_max_ms;	/* message.timestamp.difference.max.ms */
	bool downconversion;		/* message.downconversion.enable */
	bool delete_policy;		/* cleanup.policy includes delete */
	bool compact_policy;		/* cleanup.policy includes compact */
	int64_t delete_retention_ms;	/* delete.retention.ms, 1 day */
	double min_cleanable_ratio;	/* min.cleanable.dirty.ratio, 0.5 */
	int64_t min_compaction_lag_ms;	/* min.compaction.lag.ms, 0 */
	int64_t max_compaction_lag_ms;	/* max.compaction.lag.ms, never */
	/* the broker's transactional.id.expiration.ms, 7 days: an idle
	 * producer id's state is forgotten after this long (Kafka 2.8) */
	int64_t producer_expiration_ms;
};

void log_config_defaults(struct log_config *cfg);

/* A segment's files renamed .deleted, waiting for file.delete.delay.ms. */
struct log_doomed {
	struct log_doomed *next;
	char *base_path;
	int64_t due_ms;		/* monotonic */
};

struct log {
	char *dir;			/* <log dir>/<topic>-<partition> */
	char *topic;
	int32_t partition;
	struct log_config cfg;

	pthread_mutex_t lock;		/* segs, nsegs */
	struct log_segment **segs;
	int nsegs, capsegs;

	/* leo to first_unstable: what a fetch reads of every log of a
	 * session (api_fetch.c's snap_of), together in one cache line
	 * (log_open allocates the log aligned) */
	_Alignas(64) _Atomic int64_t leo;	/* log end offset */
	_Atomic int64_t start_offset;	/* log start offset */
	/* a write or an fsync failed: Kafka takes the log directory offline
	 * (its IOException goes to the LogDirFailureChannel); this log stops
	 * here: every append and read is KAFKA_STORAGE_ERROR from then on,
	 * so nothing that may not be on disk is acknowledged or served */
	atomic_bool offline;
	/* the offline flag of the log directory holding it (log_dir.c sets
	 * it), which a failure of any of its logs raises, as Kafka takes the
	 * whole directory offline */
	const atomic_bool *dir_offline;
	/* transactions: the first offset of the earliest open or
	 * unreplicated transaction (INT64_MAX: none), which bounds the last
	 * stable offset; written under the appender's lock, read by any
	 * thread */
	_Atomic int64_t first_unstable;
	_Atomic int64_t recovery_point;	/* everything below is fsynced */
	int64_t last_flush_ms;		/* monotonic */
	struct log_epoch_cache epochs;
	struct log_doomed *doomed;
	uint64_t truncations;		/* +1 whenever data is cut off the end */
	/* the log cleaner: everything below was cleaned (cleaner-offset-
	 * checkpoint); written under the appender's lock */
	_Atomic int64_t first_dirty;
	int64_t cleaner_skip_until;	/* monotonic: after a failed cleaning */
	/* the topic's id from partition.metadata (KIP-516), all zero while
	 * unknown; set by the partition's owner (LeaderAndIsr v5) */
	kp_uuid topic_id;
	/* what tells the directory of a failure (log_dir.c sets it; called
	 * once, on the failing thread) */
	void (*dir_failed)(void *arg);
	void *dir_failed_arg;
	/* idempotent producers' state (producer_state.h); the appender's
	 * lock (the partition's mutex) */
	struct pstate producers;
	/* transactions: the aborted transactions index (first_unstable
	 * above) */
	struct log_txnidx aborted;
};

/* What an append did. */
struct log_append_info {
	int64_t first_offset;
	int64_t last_offset;
	int64_t max_timestamp;		/* -1 if none */
	int64_t log_append_time;	/* -1 unless LogAppendTime */
	int32_t batches;
	int64_t bytes;
	/* a leader's append of a batch the producer had written already
	 * (same epoch and sequences): nothing written, the offsets are the
	 * original batch's */
	bool duplicate;
};

/* A range of one segment to send: whole batches (the last may be cut by
 * the byte limit, as Kafka sends it).  Holds a segment reference. */
struct log_read_result {
	struct log_segment *seg;	/* NULL when nothing to send */
	int fd;
	int64_t position;
	int64_t length;
	int64_t first_offset;		/* base offset of the first batch */
	int64_t log_end_offset;
	int64_t log_start_offset;
};

/*
 * Open the log in dir (created when missing), named <topic>-<partition>.
 * recovery_point and start_offset come from the log dir's checkpoints
 * (-1 when absent); clean tells whether the last shutdown was clean.
 * Unclean: every segment from the one holding the recovery point on is
 * recovered.  0 or -errno.
 */
int log_open(const char *dir, const char *topic, int32_t partition,
	     const struct log_config *cfg, int64_t recovery_point,
	     int64_t start_offset, bool clean, struct log **out);
/* Flush (when flush says so), trim the active indexes, free. */
void log_close(struct log *log, bool flush);

static inline int64_t log_end_offset(const struct log *log)
{
	return atomic_load_explicit(&log->leo, memory_order_acquire);
}

static inline int64_t log_start_offset(const struct log *log)
{
	return atomic_load_explicit(&log->start_offset, memory_order_acquire);
}

/* Refusing appends and reads: this log or its directory failed. */
static inline bool log_is_offline(const struct log *log)
{
	return atomic_load(&log->offline) ||
	       (log->dir_offline != NULL && atomic_load(log->dir_offline));
}

/* Bytes of all segments. */
int64_t log_size_bytes(struct log *log);

/*
 * Leader append: data holds whole, validated v2 batches.  Offsets are
 * assigned from the log end offset (base offsets rewritten in place),
 * the leader epoch is stamped, and with LogAppendTime the batches get
 * now_ms as max timestamp.  A single batch carrying a producer id (a
 * client's: Produce v3+ sends exactly one) is checked against the
 * producer state first: a duplicate is not written and answered 0 with
 * info->duplicate and the original offsets; an older epoch is
 * KP_ERR_INVALID_PRODUCER_EPOCH, a sequence gap
 * KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, a plain batch while the producer
 * has a transaction open KP_ERR_INVALID_TXN_STATE.  Every appended batch
 * with a producer id updates the state (followers' too: transactions
 * opened and ended, aborts indexed).  Returns 0,
 * KP_ERR_RECORD_LIST_TOO_LARGE, KP_ERR_CORRUPT_MESSAGE or
 * KP_ERR_KAFKA_STORAGE_ERROR, or the producer errors above.
 */
int log_append_leader(struct log *log, uint8_t *data, size_t len,
		      int32_t leader_epoch, int64_t now_ms,
		      struct log_append_info *info);
/*
 * Leader append of a group coordinator's transactional batch (one batch
 * with a producer id: TxnOffsetCommit), as Kafka's origin Coordinator:
 * an epoch older than the producer's is KP_ERR_INVALID_PRODUCER_EPOCH,
 * the sequence is not checked; otherwise as log_append_leader.
 */
int log_append_coordinator(struct log *log, uint8_t *data, size_t len,
			   int32_t leader_epoch, struct log_append_info *info);
/*
 * Follower append: batches keep their offsets, which must start at or
 * after the log end offset.  Returns 0, KP_ERR_OFFSET_OUT_OF_RANGE,
 * KP_ERR_CORRUPT_MESSAGE or KP_ERR_KAFKA_STORAGE_ERROR.
 */
int log_append_follower(struct log *log, const uint8_t *data, size_t len,
			int64_t now_ms, struct log_append_info *info);

/*
 * Read from offset: the batch holding it and what follows, at most
 * max_bytes (at least one whole batch when min_one_batch), and only
 * batches that start below max_offset (the high watermark for consumers;
 * LOG_NO_LIMIT for followers).  0 (possibly empty), or
 * KP_ERR_OFFSET_OUT_OF_RANGE, or KP_ERR_KAFKA_STORAGE_ERROR.  Release
 * the result with log_read_done().
 */
int log_read(struct log *log, int64_t offset, int64_t max_bytes,
	     int64_t max_offset, bool min_one_batch,
	     struct log_read_result *res);
void log_read_done(struct log_read_result *res);

/* ListOffsets' special timestamps. */
#define LOG_TS_LATEST (-1)
#define LOG_TS_EARLIEST (-2)
/*
 * The first offset whose record timestamp is >= ts (or the special
 * values).  0 and *offset / *timestamp (-1 for the specials); 1 when no
 * record is that new; -errno.
 */
int log_offset_for_timestamp(struct log *log, int64_t ts, int64_t *offset,
			     int64_t *timestamp);

/* After a storage error (a failed write or fsync): the log refuses every
 * append and read from now on (log->offline), and so does every other log
 * of its directory (dir_failed).  Any thread. */
void log_set_offline(struct log *log);

/* fsync everything below offset and move the recovery point there. */
int log_flush(struct log *log, int64_t offset);
/* Everything is durable already (the caller synced the whole file
 * system): move the recovery point to the log end. */
void log_mark_flushed(struct log *log);
/* Apply flush.ms: flush when the last flush is older.  now: monotonic. */
int log_maybe_flush(struct log *log, int64_t now_ms);

/*
 * Flushing what was rolled without holding up appends (Kafka flushes a
 * segment once it rolls): log_flush_rolled_begin, under the appender's
 * lock, takes references on the segments below the active one that are
 * not durable yet; log_flush_job_run, under no lock, fsyncs them;
 * log_flush_rolled_end, under the lock again, moves the recovery point
 * unless the log was truncated meanwhile (log NULL: the log is gone, only
 * release).  begin returns the number of segments to flush.
 */
struct log_flush_job {
	struct log_segment **segs;
	int n;
	int64_t offset;
	uint64_t truncations;
};
int log_flush_rolled_begin(struct log *log, struct log_flush_job *job);
int log_flush_job_run(struct log_flush_job *job);
void log_flush_rolled_end(struct log *log, struct log_flush_job *job, int rc);
/* Base offset of the first segment (the log's own lock). */
int64_t log_first_base(struct log *log);

/*
 * Append whole batches, in offset order, to a segment outside any log
 * (the cleaner's output), with the same batch parsing as appends.  0,
 * -EINVAL for bytes that are no batches, or -errno.
 */
int log_write_batches(struct log_segment *seg, const uint8_t *data, size_t len);

/*
 * The log cleaner's view (appender's lock held): which segments may be
 * cleaned now (whole segments below the active one, at or below the high
 * watermark, none newer than min.compaction.lag.ms) and how dirty they
 * are (bytes at or past first_dirty).  With take, and something dirty,
 * the cleanable segments are referenced into segs[0, n), end is the offset
 * after them.  0 or -ENOMEM.
 */
struct log_clean_range {
	struct log_segment **segs;
	int n;
	int first_dirty_idx;		/* first segment holding dirty data */
	int64_t end;
	int64_t clean_bytes, dirty_bytes;
	bool overdue;			/* max.compaction.lag.ms passed */
	uint64_t truncations;
};
int log_clean_range_get(struct log *log, int64_t hw, int64_t now_wall,
			bool take, struct log_clean_range *r);
void log_clean_range_release(struct log_clean_range *r);
/*
 * Put cleaned (a closed, flushed segment at old's base offset) in old's
 * place (appender's lock held): -ESTALE when the log was truncated since r
 * was taken or old is no longer a closed segment of it; the caller then
 * drops cleaned.  On success the log owns cleaned.
 */
int log_replace_segment(struct log *log, const struct log_clean_range *r,
			struct log_segment *old, struct log_segment *cleaned);

/* Remove everything at and after offset (follower divergence). */
int log_truncate_to(struct log *log, int64_t offset);
/* Drop all segments and start empty at offset. */
int log_truncate_fully_and_start_at(struct log *log, int64_t offset);
/*
 * Move the log start offset forward (DeleteRecords, or a leader's start
 * seen by a follower); whole segments below it are deleted.  Returns 0 or
 * KP_ERR_OFFSET_OUT_OF_RANGE when offset is past the log end.
 */
int log_advance_start_offset(struct log *log, int64_t offset);
/*
 * Retention: delete segments by retention.ms and retention.bytes (when
 * the policy includes delete) and below the log start offset, oldest
 * first, never one that reaches high_watermark or beyond.  Returns the
 * number of segments deleted.  now_wall_ms is wall-clock time.
 */
int log_delete_old_segments(struct log *log, int64_t now_wall_ms,
			    int64_t high_watermark);
/* Unlink .deleted files whose delay has passed (now: monotonic). */
void log_reap_deleted(struct log *log, int64_t now_ms, bool all);
/*
 * What the log manager's one-second tick does for a log (flush what
 * rolled, unlink .deleted files) is needed only after a roll, a segment
 * deleted or a log opened: each of these bumps a process-wide count, so a
 * tick that sees it unchanged, with no log left waiting, skips its walk of
 * every log.  log_maintenance_pending: this log still waits for the tick
 * (rolled segments not yet flushed, .deleted files not yet unlinked); under
 * the lock its appends take.
 */
uint64_t log_maintenance_gen(void);
bool log_maintenance_pending(struct log *log);

/*
 * Forget idle producer ids (now: wall clock; Kafka's
 * removeExpiredProducers).  The appender's lock.  Returns how many.
 */
size_t log_expire_producers(struct log *log, int64_t now_wall_ms);
/*
 * The last stable offset for high watermark hw: min(first unstable
 * offset, hw).  Any thread; load hw before calling (the first unstable
 * offset moves before the high watermark passes it).
 */
static inline int64_t log_lso(const struct log *log, int64_t hw)
{
	int64_t fu = atomic_load(&log->first_unstable);

	return fu < hw ? fu : hw;
}
/* The high watermark moved to hw (the appender's lock): transactions
 * whose markers it passed become stable (Kafka's onHighWatermarkUpdated). */
void log_hw_moved(struct log *log, int64_t hw);
/*
 * Leader: append a transaction marker (Kafka's control batch, kp_txn.h)
 * for producer pid at epoch with the coordinator's epoch, commit or
 * abort.  As an append: 0 with info, KP_ERR_INVALID_PRODUCER_EPOCH for
 * an epoch older than the producer's, KP_ERR_TRANSACTION_COORDINATOR_FENCED
 * for a coordinator epoch older than the last marker's, or an append
 * error.  The appender's lock.
 */
int log_append_marker(struct log *log, int64_t pid, int16_t epoch,
		      int32_t coord_epoch, bool commit, int32_t leader_epoch,
		      struct log_append_info *info);

/* Write the producer snapshot at the log end if the state moved since the
 * last one (clean shutdown).  The appender's lock.  0 or -errno. */
int log_snapshot_producers(struct log *log);

/* Roll a new active segment now (tests, and segment.ms checks). */
int log_roll(struct log *log, int64_t now_wall_ms);

/*
 * Give the log its topic id: kept in memory and, when the log has no
 * partition.metadata yet, written there atomically ("version: 0",
 * "topic_id: <id>", as Kafka 2.8).  -EEXIST when the log already has
 * another id; other -errno from writing the file.
 */
int log_assign_topic_id(struct log *log, const kp_uuid *id);

/* The epoch cache's answer for OffsetForLeaderEpoch. */
void log_end_offset_for_epoch(struct log *log, int32_t epoch,
			      int32_t *epoch_out, int64_t *end_offset);

/* "<topic>-<partition>" directory name; parse splits at the last '-'. */
int log_dir_name(char *buf, size_t n, const char *topic, int32_t partition);
int log_parse_dir_name(const char *name, char *topic, size_t n,
		       int32_t *partition);

#endif /* LOG_H */
