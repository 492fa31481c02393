/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_checkpoint.h - Kafka's text checkpoint files, written atomically.
 *
 * Format (all of recovery-point-offset-checkpoint,
 * replication-offset-checkpoint, log-start-offset-checkpoint):
 *   0                 version
 *   2                 number of entries
 *   orders 0 4812     <topic> <partition> <offset>
 *   orders 3 771
 * Every write goes to "<name>.tmp", is fsynced, renamed over the old file
 * and the directory fsynced, so a crash leaves the old or the new file,
 * never a half-written one.
 */
#ifndef LOG_CHECKPOINT_H
#define LOG_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct log_tp_offset {
	char *topic;
	int32_t partition;
	int64_t offset;
	uint32_t hash;		/* of topic and partition */
};

/*
 * The entries in the order they were added (a remove moves the last one
 * into the hole) and an open-addressing index over them (linear probing,
 * at most half full): get, put and remove cost O(1), so building the
 * checkpoint of 10,000 logs is not quadratic.
 */
struct log_checkpoint {
	struct log_tp_offset *items;
	int n, cap;
	uint32_t *slots;	/* item index + 1; 0 = empty */
	uint32_t nslots;	/* 0 or a power of two */
};

void log_checkpoint_init(struct log_checkpoint *cp);
void log_checkpoint_free(struct log_checkpoint *cp);
/*
 * Read path into cp (emptied first).  0; -ENOENT when the file does not
 * exist (cp stays empty); -EINVAL for an unknown version, a wrong count or
 * a malformed line; other -errno for I/O errors.
 */
int log_checkpoint_read(const char *path, struct log_checkpoint *cp);
int log_checkpoint_write(const char *path, const struct log_checkpoint *cp);
/* The offset stored for topic-partition, or def. */
int64_t log_checkpoint_get(const struct log_checkpoint *cp, const char *topic,
			   int32_t partition, int64_t def);
/* Add or replace an entry.  0 or -ENOMEM. */
int log_checkpoint_put(struct log_checkpoint *cp, const char *topic,
		       int32_t partition, int64_t offset);
void log_checkpoint_remove(struct log_checkpoint *cp, const char *topic,
			   int32_t partition);
/* The same entries (topic, partition, offset), in any order: what the two
 * would write says the same. */
bool log_checkpoint_equal(const struct log_checkpoint *a,
			  const struct log_checkpoint *b);

/* Write data to path atomically: temp file, fsync, rename, fsync dir. */
int log_write_file_atomic(const char *path, const void *data, size_t len);
/* The same; without sync, replaced atomically for the process (a crash
 * of it leaves the old or the new file) but not yet durable: see
 * log_fsync_file. */
int log_write_file_replace(const char *path, const void *data, size_t len,
			   bool sync);
/* Make a file and its name durable (fsync it and its directory); a
 * missing file is no error. */
int log_fsync_file(const char *path);
/* fsync a directory (after creating, renaming or removing in it). */
int log_fsync_dir(const char *dir);

#endif /* LOG_CHECKPOINT_H */
