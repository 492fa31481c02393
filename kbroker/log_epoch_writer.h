/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_epoch_writer.h - the thread that writes the leader-epoch
 * checkpoints changed since its last round (log_epoch_write_pending),
 * every leader.epoch.checkpoint.interval.ms, so that a leader change of
 * thousands of partitions costs their request no file writes.  One per
 * broker process.
 */
#ifndef LOG_EPOCH_WRITER_H
#define LOG_EPOCH_WRITER_H

#include <stddef.h>

struct broker;

/* 0, or -1 with a message in err. */
int log_epoch_writer_start(struct broker *b, char *err, size_t n);
/* Stop it; what is still queued is written by the logs' close. */
void log_epoch_writer_stop(void);

#endif /* LOG_EPOCH_WRITER_H */
