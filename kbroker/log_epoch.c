/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_epoch.c - the leader-epoch cache; see log_epoch.h.  Semantics follow
 * Kafka 2.8's LeaderEpochFileCache.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_log.h"
#include "log_checkpoint.h"
#include "log_epoch.h"

/*
 * The writer queue: dirty caches in the order they changed.  Its lock is
 * taken inside a cache's mu (queue()) and never the other way round.
 */
static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cv = PTHREAD_COND_INITIALIZER;	/* a write ended */
static struct log_epoch_cache *q_head, *q_tail;
static int q_len;

/* Called with c->mu held. */
static void queue(struct log_epoch_cache *c)
{
	c->dirty = true;
	if (c->path == NULL)
		return;
	pthread_mutex_lock(&q_mu);
	if (!c->queued) {
		c->queued = true;
		c->qnext = NULL;
		if (q_tail != NULL)
			q_tail->qnext = c;
		else
			q_head = c;
		q_tail = c;
		q_len++;
	}
	pthread_mutex_unlock(&q_mu);
}

static void unqueue_locked(struct log_epoch_cache *c)
{
	struct log_epoch_cache **pp = &q_head, *prev = NULL;

	if (!c->queued)
		return;
	while (*pp != NULL && *pp != c) {
		prev = *pp;
		pp = &(*pp)->qnext;
	}
	if (*pp == c) {
		*pp = c->qnext;
		if (q_tail == c)
			q_tail = prev;
		q_len--;
	}
	c->queued = false;
	c->qnext = NULL;
}

/*
 * Write the file if the cache is dirty: the entries are copied under mu,
 * written outside it (the owner goes on changing the cache meanwhile and
 * marks it dirty again), in order under io.  1 when written, 0 when there
 * was nothing to write, or -errno (the cache stays dirty).
 */
static int write_file(struct log_epoch_cache *c, bool sync)
{
	char *buf = NULL;
	size_t cap, len = 0;
	int rc = 0;

	if (c->path == NULL)
		return 0;
	pthread_mutex_lock(&c->io);
	pthread_mutex_lock(&c->mu);
	if (c->dirty) {
		cap = 32 + (size_t)c->n * 40;
		buf = malloc(cap);
		if (buf == NULL) {
			rc = -ENOMEM;
		} else {
			len = (size_t)snprintf(buf, cap, "0\n%d\n", c->n);
			for (int i = 0; i < c->n; i++)
				len += (size_t)snprintf(buf + len, cap - len,
							"%" PRId32 " %" PRId64 "\n",
							c->e[i].epoch, c->e[i].start_offset);
			c->dirty = false;
		}
	}
	pthread_mutex_unlock(&c->mu);
	if (buf != NULL) {
		rc = log_write_file_replace(c->path, buf, len, sync);
		free(buf);
		if (rc < 0) {
			KP_ERROR("writing %s: %s", c->path, strerror(-rc));
			pthread_mutex_lock(&c->mu);
			c->dirty = true;	/* the next sync tries again */
			pthread_mutex_unlock(&c->mu);
		} else {
			/* written without fsync: the next sync fsyncs it */
			c->unsynced = !sync;
			rc = 1;
		}
	}
	pthread_mutex_unlock(&c->io);
	return rc;
}

int log_epoch_write(struct log_epoch_cache *c)
{
	int rc = write_file(c, false);

	return rc < 0 ? rc : 0;
}

int log_epoch_sync(struct log_epoch_cache *c)
{
	int rc;

	if (c->path == NULL)
		return 0;
	rc = write_file(c, true);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	pthread_mutex_lock(&c->io);
	if (c->unsynced) {
		rc = log_fsync_file(c->path);
		if (rc == 0)
			c->unsynced = false;
	}
	pthread_mutex_unlock(&c->io);
	return rc;
}

int log_epoch_write_pending(void)
{
	int written = 0;

	pthread_mutex_lock(&q_mu);
	while (q_head != NULL) {
		struct log_epoch_cache *c = q_head;

		unqueue_locked(c);
		c->writing = true;
		pthread_mutex_unlock(&q_mu);
		if (write_file(c, false) > 0)
			written++;
		pthread_mutex_lock(&q_mu);
		c->writing = false;
		pthread_cond_broadcast(&q_cv);
	}
	pthread_mutex_unlock(&q_mu);
	return written;
}

int log_epoch_pending(void)
{
	int n;

	pthread_mutex_lock(&q_mu);
	n = q_len;
	pthread_mutex_unlock(&q_mu);
	return n;
}

static int push(struct log_epoch_cache *c, int32_t epoch, int64_t off)
{
	if (c->n == c->cap) {
		int ncap = c->cap ? c->cap * 2 : 8;
		struct log_epoch_entry *ne = realloc(c->e, (size_t)ncap * sizeof(*ne));

		if (ne == NULL)
			return -ENOMEM;
		c->e = ne;
		c->cap = ncap;
	}
	c->e[c->n++] = (struct log_epoch_entry){ epoch, off };
	return 0;
}

int log_epoch_open(struct log_epoch_cache *c, const char *path)
{
	FILE *f;
	char line[128];
	long version, count;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->io, NULL);
	c->locks = true;
	if (path != NULL && (c->path = strdup(path)) == NULL)
		return -ENOMEM;
	if (path == NULL || (f = fopen(path, "re")) == NULL)
		return path == NULL || errno == ENOENT ? 0 : -errno;
	if (fgets(line, sizeof(line), f) == NULL || sscanf(line, "%ld", &version) != 1 ||
	    version != 0 || fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "%ld", &count) != 1 || count < 0)
		rc = -EINVAL;
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		int32_t ep;
		int64_t off;

		if (sscanf(line, "%" SCNd32 " %" SCNd64, &ep, &off) != 2 || ep < 0 ||
		    off < 0 || (c->n > 0 && (ep <= c->e[c->n - 1].epoch ||
					     off < c->e[c->n - 1].start_offset)))
			rc = -EINVAL;
		else
			rc = push(c, ep, off);
	}
	if (rc == 0 && c->n != count)
		rc = -EINVAL;
	fclose(f);
	if (rc == -EINVAL) {
		/* as Kafka would fail; we rebuild from the log instead: the
		 * batches carry their epochs */
		KP_WARN("%s is corrupt; the cache is rebuilt from the log", path);
		c->n = 0;
	}
	return rc;
}

void log_epoch_close(struct log_epoch_cache *c)
{
	pthread_mutex_lock(&q_mu);
	unqueue_locked(c);
	while (c->writing)
		pthread_cond_wait(&q_cv, &q_mu);
	pthread_mutex_unlock(&q_mu);
	if (c->locks) {
		pthread_mutex_destroy(&c->mu);
		pthread_mutex_destroy(&c->io);
	}
	free(c->e);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

int32_t log_epoch_latest(const struct log_epoch_cache *c)
{
	return c->n ? c->e[c->n - 1].epoch : -1;
}

int log_epoch_assign(struct log_epoch_cache *c, int32_t epoch,
		     int64_t start_offset)
{
	int rc;

	if (epoch < 0)
		return 0;
	if (c->n > 0 && c->e[c->n - 1].epoch == epoch &&
	    start_offset >= c->e[c->n - 1].start_offset)
		return 0;
	pthread_mutex_lock(&c->mu);
	while (c->n > 0 && (c->e[c->n - 1].epoch >= epoch ||
			    c->e[c->n - 1].start_offset >= start_offset))
		c->n--;
	rc = push(c, epoch, start_offset);
	queue(c);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int log_epoch_truncate_end(struct log_epoch_cache *c, int64_t offset)
{
	int n = c->n;

	if (n == 0 || c->e[n - 1].start_offset < offset)
		return 0;
	pthread_mutex_lock(&c->mu);
	while (c->n > 0 && c->e[c->n - 1].start_offset >= offset)
		c->n--;
	queue(c);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

int log_epoch_truncate_start(struct log_epoch_cache *c, int64_t offset)
{
	int drop = 0;

	while (drop < c->n && c->e[drop].start_offset <= offset)
		drop++;
	if (drop == 0)
		return 0;
	/* the last dropped epoch still covers [offset, next start) */
	if (drop == 1 && c->e[0].start_offset == offset)
		return 0;
	pthread_mutex_lock(&c->mu);
	c->e[drop - 1].start_offset = offset;
	memmove(c->e, c->e + drop - 1, (size_t)(c->n - drop + 1) * sizeof(*c->e));
	c->n -= drop - 1;
	queue(c);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

int log_epoch_clear(struct log_epoch_cache *c)
{
	pthread_mutex_lock(&c->mu);
	c->n = 0;
	queue(c);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

void log_epoch_end_offset(const struct log_epoch_cache *c, int32_t epoch,
			  int64_t log_end_offset, int32_t *epoch_out,
			  int64_t *end_offset)
{
	int i;

	*epoch_out = -1;
	*end_offset = -1;
	if (epoch < 0 || c->n == 0)
		return;
	if (epoch == c->e[c->n - 1].epoch) {
		*epoch_out = epoch;
		*end_offset = log_end_offset;
		return;
	}
	/* first entry with a larger epoch */
	for (i = 0; i < c->n && c->e[i].epoch <= epoch; i++)
		;
	if (i == c->n)
		return;		/* nothing newer known: undefined */
	*end_offset = c->e[i].start_offset;
	*epoch_out = i == 0 ? epoch : c->e[i - 1].epoch;
}
