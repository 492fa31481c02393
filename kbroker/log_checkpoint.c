/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_checkpoint.c - checkpoint files; see log_checkpoint.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log_checkpoint.h"

void log_checkpoint_init(struct log_checkpoint *cp)
{
	memset(cp, 0, sizeof(*cp));
}

void log_checkpoint_free(struct log_checkpoint *cp)
{
	for (int i = 0; i < cp->n; i++)
		free(cp->items[i].topic);
	free(cp->items);
	free(cp->slots);
	memset(cp, 0, sizeof(*cp));
}

static uint32_t tp_hash(const char *topic, int32_t partition)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (const unsigned char *c = (const unsigned char *)topic; *c; c++) {
		h ^= *c;
		h *= 16777619u;
	}
	h ^= (uint32_t)partition;
	h *= 16777619u;
	return h;
}

/* The slot holding the entry, or the empty slot where it would go. */
static uint32_t probe(const struct log_checkpoint *cp, const char *topic,
		      int32_t partition, uint32_t h)
{
	uint32_t mask = cp->nslots - 1, s = h & mask;

	while (cp->slots[s] != 0) {
		const struct log_tp_offset *it = &cp->items[cp->slots[s] - 1];

		if (it->hash == h && it->partition == partition &&
		    strcmp(it->topic, topic) == 0)
			break;
		s = (s + 1) & mask;
	}
	return s;
}

static int find(const struct log_checkpoint *cp, const char *topic,
		int32_t partition)
{
	uint32_t s;

	if (cp->nslots == 0)
		return -1;
	s = probe(cp, topic, partition, tp_hash(topic, partition));
	return cp->slots[s] != 0 ? (int)cp->slots[s] - 1 : -1;
}

/* Room in the index for one more entry (kept at most half full). */
static int index_reserve(struct log_checkpoint *cp)
{
	uint32_t n, *ns;

	if ((uint64_t)(cp->n + 1) * 2 <= cp->nslots)
		return 0;
	n = cp->nslots ? cp->nslots * 2 : 32;
	if (n == 0 || (ns = calloc(n, sizeof(*ns))) == NULL)
		return -ENOMEM;
	free(cp->slots);
	cp->slots = ns;
	cp->nslots = n;
	for (int i = 0; i < cp->n; i++) {
		uint32_t s = cp->items[i].hash & (n - 1);

		while (ns[s] != 0)
			s = (s + 1) & (n - 1);
		ns[s] = (uint32_t)i + 1;
	}
	return 0;
}

int64_t log_checkpoint_get(const struct log_checkpoint *cp, const char *topic,
			   int32_t partition, int64_t def)
{
	int i = find(cp, topic, partition);

	return i < 0 ? def : cp->items[i].offset;
}

int log_checkpoint_put(struct log_checkpoint *cp, const char *topic,
		       int32_t partition, int64_t offset)
{
	uint32_t h = tp_hash(topic, partition), s;
	char *t;

	if (index_reserve(cp) < 0)
		return -ENOMEM;
	s = probe(cp, topic, partition, h);
	if (cp->slots[s] != 0) {
		cp->items[cp->slots[s] - 1].offset = offset;
		return 0;
	}
	if (cp->n == cp->cap) {
		int ncap = cp->cap ? cp->cap * 2 : 16;
		struct log_tp_offset *ni = realloc(cp->items, (size_t)ncap * sizeof(*ni));

		if (ni == NULL)
			return -ENOMEM;
		cp->items = ni;
		cp->cap = ncap;
	}
	t = strdup(topic);
	if (t == NULL)
		return -ENOMEM;
	cp->items[cp->n] = (struct log_tp_offset){ t, partition, offset, h };
	cp->slots[s] = (uint32_t)++cp->n;
	return 0;
}

/* Empty slot s, shifting back the entries of its probe run that may
 * not stay behind a hole (deletion under linear probing). */
static void slot_clear(struct log_checkpoint *cp, uint32_t s)
{
	uint32_t mask = cp->nslots - 1, j = s;

	for (;;) {
		uint32_t home;

		j = (j + 1) & mask;
		if (cp->slots[j] == 0)
			break;
		home = cp->items[cp->slots[j] - 1].hash & mask;
		/* the entry at j may fill s unless its home lies in (s, j] */
		if (((j - home) & mask) >= ((j - s) & mask)) {
			cp->slots[s] = cp->slots[j];
			s = j;
		}
	}
	cp->slots[s] = 0;
}

void log_checkpoint_remove(struct log_checkpoint *cp, const char *topic,
			   int32_t partition)
{
	int i = find(cp, topic, partition), last;
	const struct log_tp_offset *it;

	if (i < 0)
		return;
	slot_clear(cp, probe(cp, topic, partition, cp->items[i].hash));
	free(cp->items[i].topic);
	last = --cp->n;
	if (i == last)
		return;
	/* the last entry moves into the hole: its slot follows */
	it = &cp->items[last];
	cp->slots[probe(cp, it->topic, it->partition, it->hash)] = (uint32_t)i + 1;
	cp->items[i] = cp->items[last];
}

bool log_checkpoint_equal(const struct log_checkpoint *a,
			  const struct log_checkpoint *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++) {
		const struct log_tp_offset *x = &a->items[i];
		int j = find(b, x->topic, x->partition);

		if (j < 0 || b->items[j].offset != x->offset)
			return false;
	}
	return true;
}

int log_checkpoint_read(const char *path, struct log_checkpoint *cp)
{
	FILE *f = fopen(path, "re");
	char line[512];
	long version = -1, count = -1;
	int rc = 0, seen = 0;

	log_checkpoint_free(cp);
	if (f == NULL)
		return -errno;
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "%ld", &version) != 1 || version != 0 ||
	    fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "%ld", &count) != 1 || count < 0 || count > INT32_MAX) {
		rc = -EINVAL;
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char topic[256];
		int32_t part;
		int64_t off;
		char extra;

		if (line[0] == '\n')
			continue;
		if (sscanf(line, "%255s %" SCNd32 " %" SCNd64 " %c", topic, &part,
			   &off, &extra) != 3 || part < 0) {
			rc = -EINVAL;
			goto out;
		}
		rc = log_checkpoint_put(cp, topic, part, off);
		if (rc < 0)
			goto out;
		seen++;
	}
	if (seen != count)
		rc = -EINVAL;
out:
	fclose(f);
	if (rc < 0)
		log_checkpoint_free(cp);
	return rc;
}

int log_checkpoint_write(const char *path, const struct log_checkpoint *cp)
{
	size_t cap = 64 + (size_t)cp->n * 300, len = 0;
	char *buf = malloc(cap);
	int rc;

	if (buf == NULL)
		return -ENOMEM;
	len += (size_t)snprintf(buf, cap, "0\n%d\n", cp->n);
	for (int i = 0; i < cp->n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s %" PRId32 " %" PRId64 "\n",
					cp->items[i].topic, cp->items[i].partition,
					cp->items[i].offset);
	rc = log_write_file_atomic(path, buf, len);
	free(buf);
	return rc;
}

int log_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int log_write_file_atomic(const char *path, const void *data, size_t len)
{
	return log_write_file_replace(path, data, len, true);
}

int log_write_file_replace(const char *path, const void *data, size_t len, bool sync)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, rc = 0;
	size_t off = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, (const char *)data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (rc == 0 && sync && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	if (!sync)
		return 0;
	snprintf(dir, sizeof(dir), "%s", path);
	return log_fsync_dir(dirname(dir));
}

int log_fsync_file(const char *path)
{
	char dir[PATH_MAX];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc < 0)
		return rc;
	snprintf(dir, sizeof(dir), "%s", path);
	return log_fsync_dir(dirname(dir));
}
