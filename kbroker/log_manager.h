/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_manager.h - the broker's background work on its logs, as Kafka's
 * LogManager schedules it:
 *
 *  - retention every log.retention.check.interval.ms (the first round
 *    after at most 30 s): segments past retention.ms or retention.bytes
 *    (topics whose cleanup.policy includes delete) and below the log start
 *    offset go, never one that reaches the partition's high watermark;
 *  - a segment is flushed once it rolls, without holding up appends, so
 *    the recovery point follows the rolls (an unclean restart then
 *    recovers only the segments after it);
 *  - flush.ms (checked every log.flush.scheduler.interval.ms);
 *  - files renamed .deleted are removed after file.delete.delay.ms;
 *  - recovery-point-offset-checkpoint and log-start-offset-checkpoint are
 *    written every log.flush.offset.checkpoint.interval.ms and
 *    log.flush.start.offset.checkpoint.interval.ms.
 *
 * One thread.  A log is only touched under its partition's lock, and only
 * while the partition still holds it; fsyncs of rolled segments happen
 * outside the lock on references to the segments.
 */
#ifndef LOG_MANAGER_H
#define LOG_MANAGER_H

struct broker;

int log_manager_start(struct broker *b, char *err, size_t n);
/* Stops the thread (before the logs are closed). */
void log_manager_stop(struct broker *b);

#endif /* LOG_MANAGER_H */
