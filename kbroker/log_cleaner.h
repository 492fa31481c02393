/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_cleaner.h - log compaction for topics whose cleanup.policy includes
 * compact (Kafka's LogCleaner; __consumer_offsets is one).
 *
 * One thread (log.cleaner.enable; log.cleaner.threads is not honoured
 * beyond one) picks the dirtiest log whose dirty share reaches
 * min.cleanable.dirty.ratio (or whose dirty part is older than
 * max.compaction.lag.ms).  The cleanable part is whole closed segments at
 * or below the high watermark and older than min.compaction.lag.ms; the
 * dirty part is what lies past the log's first dirty offset
 * (cleaner-offset-checkpoint).  A map of every key in the dirty part to its
 * latest offset (full keys, at most log.cleaner.dedupe.buffer.size; a
 * larger dirty part is cleaned in rounds) decides: a record goes when a
 * later record has its key, when it has no key, or when it is a tombstone
 * (null value) in a segment last modified delete.retention.ms before the
 * last segment already clean.  Every cleanable segment is rewritten batch
 * by batch (kp_batch_filter: offsets, timestamps and producer fields kept)
 * into <base>.log.cleaned with fresh indexes, flushed, given the old
 * segment's modification time and swapped in under the partition's lock
 * (log_replace_segment; abandoned if the log was truncated, deleted or
 * replaced meanwhile).  Readers holding the old segment keep reading it.
 */
#ifndef LOG_CLEANER_H
#define LOG_CLEANER_H

#include <stddef.h>

struct broker;

int log_cleaner_start(struct broker *b, char *err, size_t n);
void log_cleaner_stop(struct broker *b);

#endif /* LOG_CLEANER_H */
