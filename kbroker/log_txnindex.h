/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_txnindex.h - a partition's aborted transactions index, Kafka's
 * TransactionIndex: one `<20-digit base>.txnindex` file per segment
 * (the entries of kp_txn.h, one per aborted transaction whose abort
 * marker lies in that segment), kept whole in memory as well, in marker
 * order, for Fetch's aborted_transactions (read_committed consumers drop
 * the aborted data).
 *
 * The appender (the partition's owner) adds and removes entries; readers
 * (Fetch on any worker) collect them; the index's own mutex covers both.
 * Memory: 32 bytes per aborted transaction the log still holds.
 */
#ifndef LOG_TXNINDEX_H
#define LOG_TXNINDEX_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_txn.h"

struct log_txnidx {
	pthread_mutex_t lock;
	struct kp_aborted_txn *v;	/* ascending last_offset */
	size_t n, cap;
};

void log_txnidx_init(struct log_txnidx *t);
void log_txnidx_free(struct log_txnidx *t);
/* "<dir>/<20-digit base>.txnindex" */
void log_txnidx_path(char *buf, size_t n, const char *dir, int64_t base);

/*
 * Read the files of the segments at bases[0, n) (ascending; a missing
 * file is an empty index), keeping entries whose marker lies in their
 * segment and below end, in order.  A malformed entry ends its file's
 * entries (logged).  0 or -ENOMEM.
 */
int log_txnidx_load(struct log_txnidx *t, const char *dir, const int64_t *bases,
		    int n, int64_t end);
/* Append an entry to memory and to the file of the segment at base
 * (fsynced).  0 or -errno (the entry is in memory all the same unless
 * -ENOMEM). */
int log_txnidx_append(struct log_txnidx *t, const char *dir, int64_t base,
		      const struct kp_aborted_txn *e);
/* The largest marker offset held, -1 if none. */
int64_t log_txnidx_last(struct log_txnidx *t);
/*
 * Drop the entries whose marker is at or past offset; the file of the
 * segment at base (the one holding offset) is rewritten with what stays
 * of it (removed when nothing does).  0 or -errno.
 */
int log_txnidx_truncate(struct log_txnidx *t, const char *dir, int64_t base,
			int64_t offset);
/* Forget the entries whose marker is below base (their segments went). */
void log_txnidx_drop_below(struct log_txnidx *t, int64_t base);
void log_txnidx_clear(struct log_txnidx *t);
/*
 * Kafka's collectAbortedTxns over the whole log: each entry whose
 * transaction overlaps [from, upper) (marker at or after from, first
 * offset below upper) goes to fn, in marker order, stopping after an
 * entry whose last stable offset reaches upper (no later transaction
 * can start below it).  Returns how many went to fn; fn returning
 * non-zero stops.
 */
size_t log_txnidx_collect(struct log_txnidx *t, int64_t from, int64_t upper,
			  int (*fn)(void *arg, const struct kp_aborted_txn *e),
			  void *arg);

#endif /* LOG_TXNINDEX_H */
