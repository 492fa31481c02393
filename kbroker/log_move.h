/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_move.h - moving a replica between this broker's log dirs
 * (AlterReplicaLogDirs, KIP-113), on one thread.
 *
 * A move is asked for a partition and a destination dir.  While the
 * partition has no log here it is only a wish: LeaderAndIsr creates the
 * log in that dir (log_move_wished_dir).  Otherwise a future log
 * "<topic>-<partition>.<uuid>-future" is opened in the destination and
 * filled from the current log batch by batch, as Kafka's
 * ReplicaAlterLogDirsThread fetches from the local log (so its leader
 * epoch cache, producer state and aborted transactions index are built
 * as a follower's are), while appends go on.  Once it is close behind,
 * the rest is copied under the partition's lock and the future log
 * replaces the current one: it is flushed, the current dir is renamed
 * "<topic>-<partition>.<uuid>-delete", the future dir is renamed
 * "<topic>-<partition>", reopened and handed to the partition; the old
 * log is closed and removed after file.delete.delay.ms (handlers that
 * saw it may still read it).  The high watermark is the partition's and
 * moves with it; the checkpoints of both dirs are rewritten.
 *
 * The copies read at most replica.alter.log.dirs.io.max.bytes.per.second
 * (a dynamic broker key, as Kafka's quota of its ReplicaAlterLogDirsThread;
 * the last catch-up under the lock is not held back).
 *
 * A truncation of the current log, a log start offset moving past the
 * copy, or a new destination restart the copy; an offline dir ends the
 * move.  At start (log_move_start), a "-future" dir whose current log
 * exists is removed and the move asked for again (it restarts once the
 * partition is hosted); one whose current log does not exist was
 * complete (the current dir is renamed "-delete" only after the future
 * log is flushed whole) and becomes the log.
 */
#ifndef LOG_MOVE_H
#define LOG_MOVE_H

#include <stdint.h>

#include "kp_errors.h"
#include "kp_buf.h"

struct broker;
struct log_dir;

/* Resume or finish the moves found in the dirs (after they are loaded,
 * before any partition is hosted) and start the thread. */
int log_move_start(struct broker *b, char *err, size_t n);
/* Stop the thread; a move under way leaves its future dir (resumed at
 * the next start); retired logs are closed and removed. */
void log_move_stop(struct broker *b);

/*
 * AlterReplicaLogDirs for one partition (Kafka 2.8's
 * ReplicaManager.alterReplicaLogDirs): 0 (moving or already there),
 * LOG_DIR_NOT_FOUND, KAFKA_STORAGE_ERROR (dir or replica offline, or a
 * move while some dir is offline), INVALID_TOPIC_EXCEPTION (future dir
 * name too long), REPLICA_NOT_AVAILABLE (known partition not hosted:
 * the dir is remembered), UNKNOWN_TOPIC_OR_PARTITION.
 */
kp_err_t log_move_request(struct broker *b, kp_str dir, kp_str topic,
			  int32_t partition);

/* The dir a partition not hosted yet was asked to live in, if online;
 * the caller holds b->dirs_lock. */
struct log_dir *log_move_wished_dir(struct broker *b, const char *topic,
				    int32_t partition);

/* The future logs in ld: fn(topic, partition, size, lag, arg) for each,
 * lag being the current log's end minus the future's. */
void log_move_futures(struct broker *b, const struct log_dir *ld,
		      void (*fn)(const char *topic, int32_t partition,
				 int64_t size, int64_t lag, void *arg),
		      void *arg);

/* replica.alter.log.dirs.io.max.bytes.per.second changed (Kafka's
 * dynamic broker key): the copies' bytes per second. */
void log_move_set_rate(struct broker *b, int64_t bytes_per_sec);

/* Whole batches at the head of buf[0, len): their byte count (a read
 * may end inside a batch). */
size_t log_move_whole_batches(const uint8_t *buf, size_t len);

#endif /* LOG_MOVE_H */
