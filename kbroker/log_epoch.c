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

static int persist(struct log_epoch_cache *c)
{
	char *buf;
	size_t cap = 32 + (size_t)c->n * 40, len;
	int rc;

	if (c->path == NULL)
		return 0;
	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	len = (size_t)snprintf(buf, cap, "0\n%d\n", c->n);
	for (int i = 0; i < c->n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%" PRId32 " %" PRId64 "\n",
					c->e[i].epoch, c->e[i].start_offset);
	rc = log_write_file_replace(c->path, buf, len, false);
	free(buf);
	if (rc < 0)
		KP_ERROR("writing %s: %s", c->path, strerror(-rc));
	else
		c->unsynced = true;
	return rc;
}

int log_epoch_sync(struct log_epoch_cache *c)
{
	int rc;

	if (c->path == NULL || !c->unsynced)
		return 0;
	rc = log_fsync_file(c->path);
	if (rc == 0)
		c->unsynced = false;
	return rc;
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
	while (c->n > 0 && (c->e[c->n - 1].epoch >= epoch ||
			    c->e[c->n - 1].start_offset >= start_offset))
		c->n--;
	rc = push(c, epoch, start_offset);
	return rc < 0 ? rc : persist(c);
}

int log_epoch_truncate_end(struct log_epoch_cache *c, int64_t offset)
{
	int n = c->n;

	while (c->n > 0 && c->e[c->n - 1].start_offset >= offset)
		c->n--;
	return n == c->n ? 0 : persist(c);
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
	c->e[drop - 1].start_offset = offset;
	memmove(c->e, c->e + drop - 1, (size_t)(c->n - drop + 1) * sizeof(*c->e));
	c->n -= drop - 1;
	return persist(c);
}

int log_epoch_clear(struct log_epoch_cache *c)
{
	c->n = 0;
	return persist(c);
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
