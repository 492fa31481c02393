/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_index.c - offset and time indexes; see log_index.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kp_buf.h"
#include "log_index.h"

static const uint8_t *entry(const struct log_index *ix, int32_t i)
{
	return ix->map + (size_t)i * (size_t)ix->entry_size;
}

static bool all_zero(const uint8_t *p, int n)
{
	for (int i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Count the valid prefix; *bad when an entry breaks the rules. */
static int32_t valid_prefix(const struct log_index *ix, int32_t n,
			    int64_t log_size, bool *bad)
{
	int64_t prev_a = -1, prev_b = -1;

	for (int32_t i = 0; i < n; i++) {
		const uint8_t *p = entry(ix, i);

		if (all_zero(p, ix->entry_size))
			return i;
		if (ix->entry_size == LOG_OINDEX_ENTRY) {
			int64_t rel = (int32_t)kp_be32(p), pos = (int32_t)kp_be32(p + 4);

			if (rel <= prev_a || pos <= prev_b || pos >= log_size) {
				*bad = true;
				return i;
			}
			prev_a = rel;
			prev_b = pos;
		} else {
			int64_t ts = (int64_t)kp_be64(p), rel = (int32_t)kp_be32(p + 8);

			if (ts <= prev_a || rel < prev_b || rel < 0) {
				*bad = true;
				return i;
			}
			prev_a = ts;
			prev_b = rel;
		}
	}
	return n;
}

/* Map the file at path (created if missing) over map_len bytes. */
static int map_file(struct log_index *ix, struct stat *st)
{
	/* The descriptor is needed only to map the file: a broker holds
	 * one descriptor per segment (its .log), not three, so 10,000
	 * partitions fit a 20,000 open files limit.  Resizing goes by
	 * path. */
	int fd = open(ix->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644), e;
	uint8_t *map;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		e = -errno;
		close(fd);
		return e;
	}
	if (st->st_size / ix->entry_size > ix->max_entries)
		ix->max_entries = (int32_t)(st->st_size / ix->entry_size);
	ix->map_len = (size_t)ix->max_entries * (size_t)ix->entry_size;
	map = mmap(NULL, ix->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	e = map == MAP_FAILED ? -errno : 0;
	close(fd);
	if (e < 0)
		return e;
	/* Entries are written one page at a time; without this a fault in
	 * the sparse preallocated file reads ahead (allocating and zeroing)
	 * megabytes of holes. */
	madvise(map, ix->map_len, MADV_RANDOM);
	ix->map = map;
	return 0;
}

/* The file of an index created lazily, at its first entry. */
static int materialize(struct log_index *ix)
{
	struct stat st;
	int rc;

	if (ix->map != NULL)
		return 0;
	rc = map_file(ix, &st);
	/* at its full length while it takes entries; closing it trims it */
	if (rc == 0 && truncate(ix->path, (off_t)ix->map_len) < 0) {
		rc = -errno;
		munmap(ix->map, ix->map_len);
		ix->map = NULL;
	}
	return rc;
}

int log_index_open(struct log_index *ix, const char *path, int entry_size,
		   int64_t base_offset, int32_t max_bytes, bool active,
		   int64_t log_size, bool *rebuild)
{
	struct stat st;
	bool bad = false;
	int rc;

	memset(ix, 0, sizeof(*ix));
	ix->entry_size = entry_size;
	ix->base_offset = base_offset;
	ix->path = strdup(path);
	if (ix->path == NULL)
		return -ENOMEM;
	ix->max_entries = max_bytes / entry_size;
	if (ix->max_entries < 2)
		ix->max_entries = 2;
	ix->map_len = (size_t)ix->max_entries * (size_t)entry_size;
	/* As Kafka's lazy indexes: a segment without its files (a new one)
	 * gets them with its first entry or when it is closed.  Creating a
	 * partition costs two inodes, not four. */
	if (stat(path, &st) < 0 && errno == ENOENT) {
		ix->active = active;
		return 0;
	}
	rc = map_file(ix, &st);
	if (rc < 0) {
		log_index_close(ix);
		return rc;
	}
	if (st.st_size % entry_size != 0)
		bad = true;	/* Kafka's sanity check: a whole number of entries */
	atomic_store(&ix->entries, valid_prefix(ix, (int32_t)(st.st_size / entry_size),
						log_size, &bad));
	if (bad)
		*rebuild = true;
	rc = log_index_set_active(ix, active);
	if (rc < 0)
		log_index_close(ix);
	return rc;
}

void log_index_close(struct log_index *ix)
{
	if (ix->map != NULL)
		munmap(ix->map, ix->map_len);
	free(ix->path);
	memset(ix, 0, sizeof(*ix));
}

int log_index_set_active(struct log_index *ix, bool active)
{
	off_t len = active ? (off_t)ix->map_len
			   : (off_t)log_index_entries(ix) * ix->entry_size;

	if (ix->map == NULL) {
		/* not created yet: a closed segment gets its (empty) file */
		if (!active) {
			int fd = open(ix->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

			if (fd < 0)
				return -errno;
			close(fd);
		}
	} else if (truncate(ix->path, len) < 0) {
		return -errno;
	}
	ix->active = active;
	return 0;
}

int log_index_reset(struct log_index *ix)
{
	atomic_store_explicit(&ix->entries, 0, memory_order_release);
	if (ix->map == NULL)
		return 0;
	/* Cutting the file to nothing and growing it again turns every
	 * page into a hole: stale entries vanish without touching (or
	 * allocating) the 10 MiB a memset would. */
	if (truncate(ix->path, 0) < 0)
		return -errno;
	return log_index_set_active(ix, ix->active);
}

int log_index_flush(struct log_index *ix)
{
	size_t len = (size_t)log_index_entries(ix) * (size_t)ix->entry_size;

	if (len > 0 && msync(ix->map, len, MS_SYNC) < 0)
		return -errno;
	return 0;
}

int log_index_rename(struct log_index *ix, const char *path)
{
	char *np = strdup(path);

	if (np == NULL)
		return -ENOMEM;
	/* an index not created yet has no file to rename */
	if (rename(ix->path, path) < 0 && !(errno == ENOENT && ix->map == NULL)) {
		int e = -errno;

		free(np);
		return e;
	}
	free(ix->path);
	ix->path = np;
	return 0;
}

bool log_index_full(const struct log_index *ix)
{
	int32_t limit = ix->entry_size == LOG_TINDEX_ENTRY ? ix->max_entries - 1
							   : ix->max_entries;

	return log_index_entries(ix) >= limit;
}

/*
 * Both kinds in one: an entry's sort key (offset index: the offset; time
 * index: the timestamp) and the offset it names.
 */
static int64_t entry_key(const struct log_index *ix, int32_t i)
{
	const uint8_t *p = entry(ix, i);

	return ix->entry_size == LOG_OINDEX_ENTRY
		? ix->base_offset + (int32_t)kp_be32(p) : (int64_t)kp_be64(p);
}

static int64_t entry_offset(const struct log_index *ix, int32_t i)
{
	const uint8_t *p = entry(ix, i);

	return ix->base_offset + (int32_t)kp_be32(ix->entry_size == LOG_OINDEX_ENTRY
						  ? p : p + 8);
}

/* The last entry whose key is <= target, or -1. */
static int32_t floor_entry(const struct log_index *ix, int64_t target)
{
	int32_t lo = 0, hi = log_index_entries(ix) - 1, found = -1;

	while (lo <= hi) {
		int32_t mid = lo + (hi - lo) / 2;

		if (entry_key(ix, mid) <= target) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found;
}

void log_index_truncate(struct log_index *ix, int64_t target)
{
	int32_t n = log_index_entries(ix);

	while (n > 0 && entry_offset(ix, n - 1) >= target)
		n--;
	if (n == log_index_entries(ix))
		return;
	memset(ix->map + (size_t)n * (size_t)ix->entry_size, 0,
	       (size_t)(log_index_entries(ix) - n) * (size_t)ix->entry_size);
	atomic_store_explicit(&ix->entries, n, memory_order_release);
}

/* ------------------------------------------------------- offset index */

static int64_t o_pos(const struct log_index *ix, int32_t i)
{
	return (int32_t)kp_be32(entry(ix, i) + 4);
}

int log_oindex_append(struct log_index *ix, int64_t offset, int64_t position)
{
	int32_t n = log_index_entries(ix);
	uint8_t *p;

	if (n >= ix->max_entries || offset - ix->base_offset > INT32_MAX ||
	    position > INT32_MAX)
		return -1;
	if (n > 0 && (offset <= entry_offset(ix, n - 1) || position <= o_pos(ix, n - 1)))
		return -1;
	if (materialize(ix) < 0)
		return -1;
	p = ix->map + (size_t)n * LOG_OINDEX_ENTRY;
	kp_put_be32(p, (uint32_t)(offset - ix->base_offset));
	kp_put_be32(p + 4, (uint32_t)position);
	atomic_store_explicit(&ix->entries, n + 1, memory_order_release);
	return 0;
}

void log_oindex_lookup(const struct log_index *ix, int64_t target,
		       int64_t *offset, int64_t *position)
{
	int32_t found = floor_entry(ix, target);

	*offset = found < 0 ? ix->base_offset : entry_offset(ix, found);
	*position = found < 0 ? 0 : o_pos(ix, found);
}

bool log_oindex_last(const struct log_index *ix, int64_t *offset,
		     int64_t *position)
{
	int32_t n = log_index_entries(ix);

	if (n == 0)
		return false;
	*offset = entry_offset(ix, n - 1);
	*position = o_pos(ix, n - 1);
	return true;
}

/* --------------------------------------------------------- time index */

int log_tindex_append(struct log_index *ix, int64_t timestamp, int64_t offset)
{
	int32_t n = log_index_entries(ix);
	uint8_t *p;

	if (n >= ix->max_entries || offset - ix->base_offset > INT32_MAX ||
	    offset < ix->base_offset)
		return -1;
	if (n > 0 && (timestamp <= entry_key(ix, n - 1) || offset < entry_offset(ix, n - 1)))
		return -1;
	if (materialize(ix) < 0)
		return -1;
	p = ix->map + (size_t)n * LOG_TINDEX_ENTRY;
	kp_put_be64(p, (uint64_t)timestamp);
	kp_put_be32(p + 8, (uint32_t)(offset - ix->base_offset));
	atomic_store_explicit(&ix->entries, n + 1, memory_order_release);
	return 0;
}

void log_tindex_lookup(const struct log_index *ix, int64_t target,
		       int64_t *timestamp, int64_t *offset)
{
	int32_t found = floor_entry(ix, target);

	*timestamp = found < 0 ? -1 : entry_key(ix, found);
	*offset = found < 0 ? ix->base_offset : entry_offset(ix, found);
}

bool log_tindex_last(const struct log_index *ix, int64_t *timestamp,
		     int64_t *offset)
{
	int32_t n = log_index_entries(ix);

	if (n == 0)
		return false;
	*timestamp = entry_key(ix, n - 1);
	*offset = entry_offset(ix, n - 1);
	return true;
}
