/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_dir.h - one entry of log.dirs: its lock, meta.properties, the
 * clean-shutdown marker, the checkpoint files and the partition logs in it.
 *
 *   meta.properties                    version=0, broker.id, cluster.id
 *   .lock                              flock()ed while a broker uses the dir
 *   .kafka_cleanshutdown               present only after a clean shutdown
 *   recovery-point-offset-checkpoint   per partition: all below is fsynced
 *   log-start-offset-checkpoint        per partition, when above segment 0
 *   replication-offset-checkpoint      per partition high watermark
 *   <topic>-<partition>/               one struct log each
 *   <topic>-<partition>.<uuid>-future/ a replica moving here (log_move.c)
 *   <topic>-<partition>.<uuid>-delete/ a log being removed
 *
 * Opening notes and removes the marker (Kafka 2.8 does it before loading,
 * so a crash during loading is again unclean).  Closing cleanly flushes
 * every log, writes the checkpoints, then creates the marker.
 */
#ifndef LOG_DIR_H
#define LOG_DIR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "log_checkpoint.h"

struct log_dir {
	char *path;
	int lock_fd;
	bool clean;			/* the last shutdown was clean */
	struct log_checkpoint recovery;	/* as read at open */
	struct log_checkpoint starts;
	struct log_checkpoint hw;	/* replication-offset-checkpoint */
	/* hw is what that file holds (our last write of it succeeded and
	 * nothing was removed since): an unchanged checkpoint is not
	 * written again (replica_checkpoint_hw) */
	bool hw_on_disk;
	struct log_checkpoint cleaned;	/* cleaner-offset-checkpoint, as read */
	struct log **logs;
	int nlogs, caplogs;
	/* a write or fsync in it failed: Kafka's offline log dir (every log
	 * in it refuses appends and reads; DescribeLogDirs says
	 * KAFKA_STORAGE_ERROR) */
	atomic_bool offline;
	/* called once when the dir goes offline, on the thread whose write
	 * failed, maybe under a partition's lock: it must only post */
	void (*on_offline)(struct log_dir *ld, void *arg);
	void *on_offline_arg;
};

static inline bool log_dir_is_offline(const struct log_dir *ld)
{
	return atomic_load(&ld->offline);
}

/* Take the dir offline (a log in it failed; any thread): every log in it
 * refuses appends and reads from then on.  on_offline runs the first
 * time. */
void log_dir_fail(struct log_dir *ld);

/* Settings for a topic's logs while loading. */
typedef void (*log_dir_config_fn)(const char *topic, struct log_config *cfg,
				  void *arg);

/*
 * Create path if needed, lock it (-EBUSY with a message when another
 * process holds it), read the marker and the checkpoints.  A corrupt
 * checkpoint is reported and treated as absent (the logs recover).
 */
int log_dir_open(const char *path, struct log_dir **out);
/*
 * Load every <topic>-<partition> directory with up to threads threads;
 * "-delete" directories left by a deletion are removed.  0 or the first
 * error.
 */
int log_dir_load(struct log_dir *ld, log_dir_config_fn cfg_fn, void *arg,
		 int threads);
struct log *log_dir_find(const struct log_dir *ld, const char *topic,
			 int32_t partition);
/* Which of dirs[0, n) holds log (NULL: none); the caller holds the
 * broker's dirs_lock. */
struct log_dir *log_dir_holding(struct log_dir *const *dirs, int n,
				const struct log *log);
/* Create (or open) a partition's log here. */
int log_dir_add(struct log_dir *ld, const char *topic, int32_t partition,
		const struct log_config *cfg, struct log **out);
/* Open the log in <dir>/<name> (a future log's name, or the usual one)
 * tied to this dir's offline flag, without listing it among the dir's
 * logs. */
int log_dir_open_log(struct log_dir *ld, const char *name, const char *topic,
		     int32_t partition, const struct log_config *cfg,
		     int64_t recovery_point, int64_t start_offset, bool clean,
		     struct log **out);
/* List log among the dir's logs (0 or -ENOMEM) / take it off the list and
 * out of the dir's checkpoints, without closing it. */
int log_dir_adopt(struct log_dir *ld, struct log *log);
void log_dir_forget(struct log_dir *ld, struct log *log);
/* 32 random hex digits (Kafka's uuid in "-delete" and "-future" names). */
void log_dir_random_hex(char hex[33]);
/* rm -r path (errors logged). */
void log_dir_remove_tree(const char *path);
/* Close a log and rename its directory "<name>.<uuid>-delete", then remove
 * it (StopReplica with delete). */
int log_dir_delete_log(struct log_dir *ld, const char *topic,
		       int32_t partition);
/* Write recovery points, log start offsets and cleaner offsets of all
 * logs. */
int log_dir_checkpoint(struct log_dir *ld);
/* Write cleaner-offset-checkpoint: the first dirty offset of every log the
 * cleaner has cleaned. */
int log_dir_write_cleaned(struct log_dir *ld);
/* Replace the high-watermark checkpoint. */
int log_dir_write_hw(struct log_dir *ld, const struct log_checkpoint *hw);

/* meta.properties: 0, -ENOENT, or -EINVAL when malformed. */
int log_dir_read_meta(const struct log_dir *ld, int32_t *broker_id,
		      char *cluster_id, size_t n);
int log_dir_write_meta(const struct log_dir *ld, int32_t broker_id,
		       const char *cluster_id);

/* Close every log; clean: flush, checkpoint, leave the marker. */
void log_dir_close(struct log_dir *ld, bool clean);

#endif /* LOG_DIR_H */
