/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_index.h - a segment's sparse offset index (.index) and time index
 * (.timeindex), memory-mapped as Kafka does.
 *
 * Offset index: 8-byte entries (int32 offset - base, int32 position in the
 * .log), meaning "the batch whose last offset is o starts at p".  Time
 * index: 12-byte entries (int64 timestamp, int32 offset - base): every
 * record with a timestamp above t comes after offset o.  Both big-endian,
 * strictly increasing.
 *
 * The active segment's files are preallocated to segment.index.bytes
 * (sparse, so it costs no disk) and trimmed to the entries in use when the
 * segment is rolled or closed.  The mapping is made once, at the full
 * length, and never moved: trimming only shrinks the file, so a reader in
 * another thread can never touch an unmapped page.  The number of entries
 * is published with release order after an entry is written; readers see
 * complete entries only.  Only the partition's appender thread writes.
 */
#ifndef LOG_INDEX_H
#define LOG_INDEX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define LOG_OINDEX_ENTRY 8
#define LOG_TINDEX_ENTRY 12

struct log_index {
	uint8_t *map;
	size_t map_len;
	int entry_size;
	int64_t base_offset;
	_Atomic int32_t entries;
	int32_t max_entries;
	bool active;		/* file is at its preallocated length */
	char *path;
};

/*
 * Open or create an index file.  active preallocates it.  The entries in
 * use are the longest valid prefix (a zero entry ends it: the
 * preallocated tail); an entry that breaks the order or points past
 * log_size sets *rebuild (the caller rebuilds from the log).  0 or -errno.
 */
int log_index_open(struct log_index *ix, const char *path, int entry_size,
		   int64_t base_offset, int32_t max_bytes, bool active,
		   int64_t log_size, bool *rebuild);
/* Unmap and close; the file keeps its trimmed or preallocated length. */
void log_index_close(struct log_index *ix);
/* Grow the file to its preallocated length (active) or trim it. */
int log_index_set_active(struct log_index *ix, bool active);
/* Forget every entry (before a rebuild).  0 or -errno. */
int log_index_reset(struct log_index *ix);
int log_index_flush(struct log_index *ix);
/* Rename the file (for ".deleted" and back); 0 or -errno. */
int log_index_rename(struct log_index *ix, const char *path);
/* Drop the entries naming an offset >= target (either kind). */
void log_index_truncate(struct log_index *ix, int64_t target);

static inline int32_t log_index_entries(const struct log_index *ix)
{
	return atomic_load_explicit(&ix->entries, memory_order_acquire);
}

/* The offset index is full at max entries, the time index one earlier
 * (Kafka keeps a slot for the entry written when the segment closes). */
bool log_index_full(const struct log_index *ix);

/* Offset index.  Append returns 0, or -1 (full, or not increasing). */
int log_oindex_append(struct log_index *ix, int64_t offset, int64_t position);
/* Greatest entry with offset <= target; (base, 0) when there is none. */
void log_oindex_lookup(const struct log_index *ix, int64_t target,
		       int64_t *offset, int64_t *position);
bool log_oindex_last(const struct log_index *ix, int64_t *offset,
		     int64_t *position);

/* Time index. */
int log_tindex_append(struct log_index *ix, int64_t timestamp, int64_t offset);
/* Greatest entry with timestamp <= target; (-1, base) when none. */
void log_tindex_lookup(const struct log_index *ix, int64_t target,
		       int64_t *timestamp, int64_t *offset);
bool log_tindex_last(const struct log_index *ix, int64_t *timestamp,
		     int64_t *offset);

#endif /* LOG_INDEX_H */
