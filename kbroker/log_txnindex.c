/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_txnindex.c - the aborted transactions index (see log_txnindex.h),
 * Kafka 2.8's TransactionIndex and Log.collectAbortedTransactions.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kp_log.h"
#include "log_checkpoint.h"
#include "log_txnindex.h"

#define TXNIDX_MAX_BYTES (64 << 20)

void log_txnidx_init(struct log_txnidx *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
}

void log_txnidx_free(struct log_txnidx *t)
{
	free(t->v);
	pthread_mutex_destroy(&t->lock);
	t->v = NULL;
	t->n = t->cap = 0;
}

void log_txnidx_path(char *buf, size_t n, const char *dir, int64_t base)
{
	snprintf(buf, n, "%s/%020" PRId64 ".txnindex", dir, base);
}

/* Lock held. */
static int push(struct log_txnidx *t, const struct kp_aborted_txn *e)
{
	if (t->n == t->cap) {
		size_t n = t->cap ? t->cap * 2 : 16;
		struct kp_aborted_txn *nv = realloc(t->v, n * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		t->v = nv;
		t->cap = n;
	}
	t->v[t->n++] = *e;
	return 0;
}

static int load_file(struct log_txnidx *t, const char *path, int64_t base,
		     int64_t limit)
{
	struct stat st;
	uint8_t *buf;
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0 || st.st_size > TXNIDX_MAX_BYTES) {
		KP_WARN("%s: unreadable or too large; ignored", path);
		close(fd);
		return 0;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	got = pread(fd, buf, (size_t)st.st_size, 0);
	close(fd);
	if (got < 0)
		got = 0;
	if (got % KP_TXNIDX_ENTRY != 0)
		KP_WARN("%s: %zd trailing bytes ignored", path,
			(ssize_t)(got % KP_TXNIDX_ENTRY));
	for (ssize_t pos = 0; pos + KP_TXNIDX_ENTRY <= got; pos += KP_TXNIDX_ENTRY) {
		struct kp_aborted_txn e;
		int64_t prev = t->n ? t->v[t->n - 1].last_offset : -1;

		if (kp_txnidx_get(buf + pos, &e) < 0 || e.last_offset < base ||
		    e.last_offset <= prev || e.first_offset > e.last_offset) {
			KP_WARN("%s: malformed entry at byte %zd; the rest is ignored",
				path, pos);
			break;
		}
		if (e.last_offset >= limit)
			break;
		if ((rc = push(t, &e)) < 0)
			break;
	}
	free(buf);
	return rc;
}

int log_txnidx_load(struct log_txnidx *t, const char *dir, const int64_t *bases,
		    int n, int64_t end)
{
	char path[PATH_MAX];
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	t->n = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		int64_t limit = i + 1 < n ? bases[i + 1] : end;

		log_txnidx_path(path, sizeof(path), dir, bases[i]);
		rc = load_file(t, path, bases[i], limit < end ? limit : end);
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int log_txnidx_append(struct log_txnidx *t, const char *dir, int64_t base,
		      const struct kp_aborted_txn *e)
{
	char path[PATH_MAX];
	uint8_t buf[KP_TXNIDX_ENTRY];
	int fd, rc;

	pthread_mutex_lock(&t->lock);
	rc = push(t, e);
	pthread_mutex_unlock(&t->lock);
	if (rc < 0)
		return rc;
	kp_txnidx_put(buf, e);
	log_txnidx_path(path, sizeof(path), dir, base);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || fdatasync(fd) < 0)
		rc = errno ? -errno : -EIO;
	close(fd);
	return rc;
}

int64_t log_txnidx_last(struct log_txnidx *t)
{
	int64_t last;

	pthread_mutex_lock(&t->lock);
	last = t->n ? t->v[t->n - 1].last_offset : -1;
	pthread_mutex_unlock(&t->lock);
	return last;
}

int log_txnidx_truncate(struct log_txnidx *t, const char *dir, int64_t base,
			int64_t offset)
{
	char path[PATH_MAX];
	uint8_t *buf;
	size_t keep, from;
	int rc = 0;

	struct stat st;

	log_txnidx_path(path, sizeof(path), dir, base);
	pthread_mutex_lock(&t->lock);
	keep = t->n;
	while (keep > 0 && t->v[keep - 1].last_offset >= offset)
		keep--;
	t->n = keep;
	from = keep;
	while (from > 0 && t->v[from - 1].last_offset >= base)
		from--;
	/* the file already holds exactly what stays (its entries are the
	 * memory's, in order): nothing to write */
	if (stat(path, &st) < 0 ? keep == from
	    : (size_t)st.st_size == (keep - from) * KP_TXNIDX_ENTRY) {
		pthread_mutex_unlock(&t->lock);
		return 0;
	}
	if (keep == from) {
		pthread_mutex_unlock(&t->lock);
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	buf = malloc((keep - from) * KP_TXNIDX_ENTRY);
	if (buf == NULL) {
		pthread_mutex_unlock(&t->lock);
		return -ENOMEM;
	}
	for (size_t i = from; i < keep; i++)
		kp_txnidx_put(buf + (i - from) * KP_TXNIDX_ENTRY, &t->v[i]);
	pthread_mutex_unlock(&t->lock);
	rc = log_write_file_replace(path, buf, (keep - from) * KP_TXNIDX_ENTRY, true);
	free(buf);
	return rc;
}

void log_txnidx_drop_below(struct log_txnidx *t, int64_t base)
{
	size_t k = 0;

	pthread_mutex_lock(&t->lock);
	while (k < t->n && t->v[k].last_offset < base)
		k++;
	if (k > 0) {
		memmove(t->v, t->v + k, (t->n - k) * sizeof(*t->v));
		t->n -= k;
	}
	pthread_mutex_unlock(&t->lock);
}

void log_txnidx_clear(struct log_txnidx *t)
{
	pthread_mutex_lock(&t->lock);
	t->n = 0;
	pthread_mutex_unlock(&t->lock);
}

size_t log_txnidx_collect(struct log_txnidx *t, int64_t from, int64_t upper,
			  int (*fn)(void *arg, const struct kp_aborted_txn *e),
			  void *arg)
{
	size_t lo = 0, hi, got = 0;

	pthread_mutex_lock(&t->lock);
	hi = t->n;
	/* the first entry whose marker is at or after from */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid].last_offset < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < t->n; i++) {
		const struct kp_aborted_txn *e = &t->v[i];

		if (e->first_offset < upper) {
			got++;
			if (fn(arg, e) != 0)
				break;
		}
		if (e->lso >= upper)
			break;
	}
	pthread_mutex_unlock(&t->lock);
	return got;
}
