/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_segment.h - one segment of a partition log: <base>.log with its
 * .index and .timeindex.
 *
 * The .log file is record batches back to back, exactly as on the wire.
 * Only the partition's appender thread writes; other threads read whole
 * batches up to the published size (stored with release order after the
 * bytes and index entries are in place), so a reader never sees part of a
 * batch.  A segment is reference-counted: a read result holds a reference,
 * so a segment dropped by retention or truncation keeps its descriptor
 * until the last sendfile() is done.
 */
#ifndef LOG_SEGMENT_H
#define LOG_SEGMENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_records.h"
#include "log_index.h"

struct log_epoch_cache;

/* What the log layer knows about one batch it hands to append. */
struct log_batch_meta {
	size_t pos;		/* position inside the appended bytes */
	size_t size;
	int64_t base_offset;
	int64_t last_offset;
	int64_t max_timestamp;
	int32_t leader_epoch;
	int64_t producer_id;	/* -1: none */
	int16_t producer_epoch;
	int32_t base_sequence;
	int16_t attributes;
};

struct log_segment {
	int64_t base_offset;
	int fd;
	char *base_path;		/* "<dir>/<20-digit base>" */
	_Atomic int64_t size;		/* bytes of whole batches, published */
	_Atomic int64_t next_offset;	/* offset after the last batch */
	struct log_index oix, tix;
	/* read by ListOffsets and retention in other threads */
	_Atomic int64_t max_ts;		/* largest batch timestamp, -1 */
	_Atomic int64_t max_ts_offset;
	int64_t first_batch_ts;		/* for segment.ms; -1 unknown */
	int64_t created_ms;		/* wall clock */
	int64_t roll_jitter_ms;
	int64_t bytes_since_index;
	int32_t index_interval;
	atomic_int refs;
	bool active;
};

/* Whether a segment's timestamp can date its data (kp_ts_known). */
static inline bool log_ts_known(int64_t ts)
{
	return kp_ts_known(ts);
}

/* A batch position found in a segment. */
struct log_seg_pos {
	int64_t position;
	int64_t base_offset;
	int64_t last_offset;
	int64_t size;
	int32_t leader_epoch;	/* the batch's partitionLeaderEpoch; -1 below magic 2 */
};

/*
 * Open (or with create, make) the segment at base in dir.  An active
 * segment gets preallocated indexes.  *rebuild is set when an index is
 * missing or corrupt (the caller recovers the segment).  0 or -errno.
 */
int log_segment_open(const char *dir, int64_t base, int32_t index_bytes,
		     int32_t index_interval, bool create, bool active,
		     struct log_segment **out, bool *rebuild);
/*
 * The log cleaner's output for the segment at base: a new active segment
 * whose files end in ".cleaned" (any left by an interrupted try go
 * first; a start removes them too).
 */
int log_segment_create_cleaned(const char *dir, int64_t base, int32_t index_bytes,
			       int32_t index_interval, struct log_segment **out);
/*
 * Give a cleaned segment (closed, flushed) the names of the segment it
 * replaces: the old indexes are removed, the .log replaces the old one
 * atomically, the indexes take their names.  The old segment's object
 * keeps reading its (now unlinked) file.  0 once the new .log is in place
 * (an index it could not name is rebuilt at the next start), or -errno
 * with the old .log still there.
 */
int log_segment_swap_in(struct log_segment *cleaned);
void log_segment_ref(struct log_segment *seg);
/* Drop a reference; the last one closes and frees. */
void log_segment_unref(struct log_segment *seg);

static inline int64_t log_segment_size(const struct log_segment *seg)
{
	return atomic_load_explicit(&seg->size, memory_order_acquire);
}

static inline int64_t log_segment_next_offset(const struct log_segment *seg)
{
	return atomic_load_explicit(&seg->next_offset, memory_order_acquire);
}

/*
 * Append len bytes of whole batches described by metas (in order, offsets
 * increasing and not below next_offset).  Writes, adds index entries, then
 * publishes.  0 or -errno (nothing published on error).
 */
int log_segment_append(struct log_segment *seg, const uint8_t *data,
		       size_t len, const struct log_batch_meta *metas,
		       int nmetas);

/*
 * The first batch whose last offset is >= target, searching from the
 * index and reading only published bytes.  0 and *out, 1 when the segment
 * holds nothing at or after target, -errno on I/O errors.
 */
int log_segment_find(const struct log_segment *seg, int64_t target,
		     struct log_seg_pos *out);
/*
 * The first record with timestamp >= ts: its offset and timestamp.  0,
 * 1 when none, or -errno.
 */
int log_segment_find_timestamp(const struct log_segment *seg, int64_t ts,
			       int64_t *offset, int64_t *timestamp);

/*
 * Rebuild the indexes, next offset and timestamps by walking every batch,
 * checking structure and CRC; the file is cut at the first batch that is
 * torn, corrupt or out of order.  Batches' leader epochs go to epochs when
 * not NULL.  Returns bytes cut (>= 0) or -errno.
 */
int64_t log_segment_recover(struct log_segment *seg,
			    struct log_epoch_cache *epochs);
/*
 * Set next offset, timestamps and the index byte counter from the index
 * and a scan of the tail after the last index entry (a segment loaded
 * after a clean shutdown).  0 or -errno; 1 when the tail does not parse
 * (the caller recovers the segment).
 */
int log_segment_load_tail(struct log_segment *seg);

/*
 * Assign the leader epoch of every batch to epochs, walking the batch
 * headers only (the epoch cache rebuilt from the log).  0 or -errno.
 */
int log_segment_scan_epochs(const struct log_segment *seg,
			    struct log_epoch_cache *epochs);
/* The last batch of the segment: 0 and *out, 1 when it is empty, -errno. */
int log_segment_last_batch(const struct log_segment *seg, struct log_seg_pos *out);

/* Cut the segment before the batch holding offset.  Returns bytes cut. */
int64_t log_segment_truncate_to(struct log_segment *seg, int64_t offset);
/* fdatasync the .log and msync the indexes. */
int log_segment_flush(struct log_segment *seg);
/*
 * Roll: write the final time-index entry and trim the indexes (false), or
 * make the segment writable again after a truncation (true).
 */
int log_segment_set_active(struct log_segment *seg, bool active);
/* Rename the files with (or without) a ".deleted" suffix. */
int log_segment_mark_deleted(struct log_segment *seg);
/* Unlink base_path's .log/.index/.timeindex with the given suffix. */
void log_segment_unlink_files(const char *base_path, const char *suffix);

/* "<dir>/<20 digits>" into buf. */
void log_segment_base_path(char *buf, size_t n, const char *dir, int64_t base);

#endif /* LOG_SEGMENT_H */
