/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_segment.c - one segment: append, find, recover, truncate; see
 * log_segment.h.
 *
 * Recovery reads the file sequentially in large chunks and checks each
 * batch's length and CRC-32C there (no per-record work), so it runs at
 * the speed of the page cache and the CRC: see bench/bench_log.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kp_buf.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_records.h"
#include "log_epoch.h"
#include "log_segment.h"

#define SCAN_CHUNK (1 << 20)
/* The header fields a scan needs: base offset .. last offset delta. */
#define HDR_NEED (KP_BATCH_OFF_LAST_OFFSET_DELTA + 4)
/* Bound on a compressed batch's records when a scan must read them. */
#define MAX_DECOMPRESSED (64u << 20)

void log_segment_base_path(char *buf, size_t n, const char *dir, int64_t base)
{
	snprintf(buf, n, "%s/%020" PRId64, dir, base);
}

static void path_of(char *buf, size_t n, const char *base_path,
		    const char *ext, const char *suffix)
{
	snprintf(buf, n, "%s%s%s", base_path, ext, suffix);
}

/* The files are <dir>/<base>.log<suffix> and its indexes likewise. */
static int open_segment(const char *dir, int64_t base, const char *suffix,
			int32_t index_bytes, int32_t index_interval, bool create,
			bool active, struct log_segment **out, bool *rebuild)
{
	struct log_segment *seg = calloc(1, sizeof(*seg));
	char bp[PATH_MAX], p[PATH_MAX + 16];
	struct stat st;
	int rc;

	if (seg == NULL)
		return -ENOMEM;
	seg->fd = -1;
	seg->base_offset = base;
	seg->index_interval = index_interval;
	seg->max_ts = -1;
	seg->max_ts_offset = base;
	seg->first_batch_ts = -1;
	seg->created_ms = kp_wall_ms();
	seg->active = active;
	atomic_init(&seg->refs, 1);
	atomic_init(&seg->next_offset, base);
	log_segment_base_path(bp, sizeof(bp), dir, base);
	seg->base_path = strdup(bp);
	if (seg->base_path == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	path_of(p, sizeof(p), bp, ".log", suffix);
	seg->fd = open(p, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
	if (seg->fd < 0 || fstat(seg->fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	atomic_init(&seg->size, st.st_size);
	path_of(p, sizeof(p), bp, ".index", suffix);
	if (!create && access(p, F_OK) != 0)
		*rebuild = true;	/* missing index: rebuilt from the log */
	rc = log_index_open(&seg->oix, p, LOG_OINDEX_ENTRY, base, index_bytes,
			    active, st.st_size, rebuild);
	if (rc < 0)
		goto fail;
	path_of(p, sizeof(p), bp, ".timeindex", suffix);
	if (!create && access(p, F_OK) != 0)
		*rebuild = true;
	rc = log_index_open(&seg->tix, p, LOG_TINDEX_ENTRY, base, index_bytes,
			    active, st.st_size, rebuild);
	if (rc < 0)
		goto fail;
	*out = seg;
	return 0;
fail:
	log_segment_unref(seg);
	return rc;
}

int log_segment_open(const char *dir, int64_t base, int32_t index_bytes,
		     int32_t index_interval, bool create, bool active,
		     struct log_segment **out, bool *rebuild)
{
	return open_segment(dir, base, "", index_bytes, index_interval, create,
			    active, out, rebuild);
}

int log_segment_create_cleaned(const char *dir, int64_t base, int32_t index_bytes,
			       int32_t index_interval, struct log_segment **out)
{
	char bp[PATH_MAX];
	bool rebuild = false;

	log_segment_base_path(bp, sizeof(bp), dir, base);
	log_segment_unlink_files(bp, ".cleaned");	/* an interrupted try */
	return open_segment(dir, base, ".cleaned", index_bytes, index_interval,
			    true, true, out, &rebuild);
}

int log_segment_swap_in(struct log_segment *cleaned)
{
	char from[PATH_MAX + 32], to[PATH_MAX + 32];
	int rc;

	/* the old indexes first: a crash from here on leaves an index
	 * missing, which the next start rebuilds from whichever .log is in
	 * place (both hold the same data that counts) */
	path_of(to, sizeof(to), cleaned->base_path, ".index", "");
	if (unlink(to) < 0 && errno != ENOENT)
		return -errno;
	path_of(to, sizeof(to), cleaned->base_path, ".timeindex", "");
	if (unlink(to) < 0 && errno != ENOENT)
		return -errno;
	path_of(from, sizeof(from), cleaned->base_path, ".log", ".cleaned");
	path_of(to, sizeof(to), cleaned->base_path, ".log", "");
	if (rename(from, to) < 0)
		return -errno;
	/* the new .log is in place: from here on it is the segment, whatever
	 * happens to the indexes (a missing one is rebuilt at the next start,
	 * a stray .cleaned one removed) */
	path_of(to, sizeof(to), cleaned->base_path, ".index", "");
	rc = log_index_rename(&cleaned->oix, to);
	if (rc == 0) {
		path_of(to, sizeof(to), cleaned->base_path, ".timeindex", "");
		rc = log_index_rename(&cleaned->tix, to);
	}
	if (rc < 0)
		KP_WARN("%s: naming a cleaned index: %s; it is rebuilt at the next "
			"start", cleaned->base_path, strerror(-rc));
	return 0;
}

void log_segment_ref(struct log_segment *seg)
{
	atomic_fetch_add_explicit(&seg->refs, 1, memory_order_relaxed);
}

void log_segment_unref(struct log_segment *seg)
{
	if (seg == NULL ||
	    atomic_fetch_sub_explicit(&seg->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (seg->fd >= 0)
		close(seg->fd);
	if (seg->oix.path != NULL)
		log_index_close(&seg->oix);
	if (seg->tix.path != NULL)
		log_index_close(&seg->tix);
	free(seg->base_path);
	free(seg);
}

/* ------------------------------------------------------------ writing */

static int pwrite_all(int fd, const uint8_t *p, size_t len, int64_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/*
 * Account one batch at file position pos: timestamps, and an index entry
 * when more than index.interval.bytes were written since the last one
 * (checked before adding this batch, as Kafka does).
 */
static void index_batch(struct log_segment *seg, int64_t pos, int64_t size,
			int64_t last_offset, int64_t max_ts)
{
	if (seg->first_batch_ts < 0 && pos == 0)
		seg->first_batch_ts = max_ts;
	if (max_ts > seg->max_ts) {
		seg->max_ts = max_ts;
		seg->max_ts_offset = last_offset;
	}
	if (seg->bytes_since_index > seg->index_interval) {
		int64_t last_ts, last_off;

		log_oindex_append(&seg->oix, last_offset, pos);
		/* as Kafka's maybeAppend, which never writes "no timestamp" */
		if (log_ts_known(seg->max_ts) &&
		    (!log_tindex_last(&seg->tix, &last_ts, &last_off) ||
		     seg->max_ts > last_ts))
			log_tindex_append(&seg->tix, seg->max_ts, seg->max_ts_offset);
		seg->bytes_since_index = 0;
	}
	seg->bytes_since_index += size;
}

int log_segment_append(struct log_segment *seg, const uint8_t *data,
		       size_t len, const struct log_batch_meta *metas,
		       int nmetas)
{
	int64_t start = log_segment_size(seg);
	int rc = pwrite_all(seg->fd, data, len, start);

	if (rc < 0) {
		/* cut what may have landed, so the file matches the size */
		if (ftruncate(seg->fd, start) < 0)
			KP_ERROR("%s.log: cannot undo a failed append: %s",
				 seg->base_path, strerror(errno));
		return rc;
	}
	for (int i = 0; i < nmetas; i++)
		index_batch(seg, start + (int64_t)metas[i].pos,
			    (int64_t)metas[i].size, metas[i].last_offset,
			    metas[i].max_timestamp);
	atomic_store_explicit(&seg->next_offset, metas[nmetas - 1].last_offset + 1,
			      memory_order_release);
	atomic_store_explicit(&seg->size, start + (int64_t)len,
			      memory_order_release);
	return 0;
}

/* ------------------------------------------------------------ reading */

static int pread_all(int fd, uint8_t *p, size_t len, int64_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Read the batch header fields at pos; size bounded by end. */
static int header_at(const struct log_segment *seg, int64_t pos, int64_t end,
		     struct log_seg_pos *out)
{
	uint8_t h[HDR_NEED];
	int64_t size;
	int rc;

	if (end - pos < HDR_NEED)
		return 1;
	rc = pread_all(seg->fd, h, sizeof(h), pos);
	if (rc < 0)
		return rc;
	size = (int64_t)(int32_t)kp_be32(h + KP_BATCH_OFF_LENGTH) + KP_LOG_OVERHEAD;
	if (size < KP_BATCH_HEADER_SIZE || pos + size > end)
		return 1;
	out->position = pos;
	out->size = size;
	out->base_offset = (int64_t)kp_be64(h);
	out->last_offset = out->base_offset +
		(int32_t)kp_be32(h + KP_BATCH_OFF_LAST_OFFSET_DELTA);
	out->leader_epoch = h[KP_BATCH_OFF_MAGIC] >= 2
		? (int32_t)kp_be32(h + KP_BATCH_OFF_LEADER_EPOCH) : -1;
	return 0;
}

int log_segment_scan_epochs(const struct log_segment *seg,
			    struct log_epoch_cache *epochs)
{
	int64_t end = log_segment_size(seg), pos = 0;
	struct log_seg_pos bp;

	while (pos < end) {
		int rc = header_at(seg, pos, end, &bp);

		if (rc < 0)
			return rc;
		if (rc > 0)
			break;		/* recovery cut torn tails already */
		if (bp.leader_epoch >= 0) {
			rc = log_epoch_assign(epochs, bp.leader_epoch, bp.base_offset);
			if (rc < 0)
				return rc;
		}
		pos += bp.size;
	}
	return 0;
}

int log_segment_last_batch(const struct log_segment *seg, struct log_seg_pos *out)
{
	int64_t next = log_segment_next_offset(seg), end = log_segment_size(seg);
	int64_t pos;
	int rc;

	if (next <= seg->base_offset || end == 0)
		return 1;
	rc = log_segment_find(seg, next - 1, out);
	if (rc != 0)
		return rc;
	/* a batch may end past next - 1 only if it is the last one; walk on
	 * to the end to be sure */
	for (pos = out->position + out->size; pos < end; pos += out->size)
		if ((rc = header_at(seg, pos, end, out)) != 0)
			return rc < 0 ? rc : 0;
	return 0;
}

int log_segment_find(const struct log_segment *seg, int64_t target,
		     struct log_seg_pos *out)
{
	int64_t end = log_segment_size(seg);
	int64_t ioff, pos;

	log_oindex_lookup(&seg->oix, target, &ioff, &pos);
	while (pos < end) {
		int rc = header_at(seg, pos, end, out);

		if (rc != 0)
			return rc;
		if (out->last_offset >= target)
			return 0;
		pos += out->size;
	}
	return 1;
}

int log_segment_find_timestamp(const struct log_segment *seg, int64_t ts,
			       int64_t *offset, int64_t *timestamp)
{
	int64_t end = log_segment_size(seg);
	int64_t its, ioff, pos, dummy;
	struct log_seg_pos bp;
	struct kp_wbuf scratch;
	uint8_t *buf = NULL;
	size_t cap = 0;
	int rc = 1;

	if (seg->max_ts < ts)
		return 1;
	log_tindex_lookup(&seg->tix, ts, &its, &ioff);
	log_oindex_lookup(&seg->oix, ioff, &dummy, &pos);
	kp_wbuf_init(&scratch);
	while (pos < end && rc == 1) {
		struct kp_record_iter it;
		struct kp_record rec;
		int64_t bmax;

		rc = header_at(seg, pos, end, &bp);
		if (rc != 0)
			break;
		rc = 1;
		if ((size_t)bp.size > cap) {
			uint8_t *nb = realloc(buf, (size_t)bp.size);

			if (nb == NULL) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
			cap = (size_t)bp.size;
		}
		if (pread_all(seg->fd, buf, (size_t)bp.size, pos) < 0) {
			rc = -EIO;
			break;
		}
		pos += bp.size;
		bmax = (int64_t)kp_be64(buf + KP_BATCH_OFF_MAX_TIMESTAMP);
		/* a header without a timestamp may sit over records with
		 * one (written before the leader recomputed it): read them */
		if (bmax < ts && !kp_batch_max_timestamp_suspect(buf))
			continue;
		if (kp_record_iter_init(&it, buf, (size_t)bp.size, &scratch,
					MAX_DECOMPRESSED) != 0)
			continue;	/* recovery checked it; skip if odd */
		while (kp_record_iter_next(&it, &rec) == 1) {
			if (rec.timestamp >= ts) {
				*offset = rec.offset;
				*timestamp = rec.timestamp;
				rc = 0;
				break;
			}
		}
	}
	kp_wbuf_free(&scratch);
	free(buf);
	return rc;
}

/* ----------------------------------------------------------- recovery */

int64_t log_segment_recover(struct log_segment *seg,
			    struct log_epoch_cache *epochs)
{
	int64_t file_size = log_segment_size(seg);
	int64_t pos = 0, next = seg->base_offset, cut;
	size_t cap = SCAN_CHUNK, have = 0;
	int64_t buf_at = 0;	/* file position of buf[0] */
	uint8_t *buf = malloc(cap);
	const char *why = "";
	struct kp_wbuf scratch;

	if (buf == NULL)
		return -ENOMEM;
	kp_wbuf_init(&scratch);
	if (!seg->oix.active) {
		log_index_set_active(&seg->oix, true);
		log_index_set_active(&seg->tix, true);
	}
	if (log_index_reset(&seg->oix) < 0 || log_index_reset(&seg->tix) < 0) {
		int e = -errno;

		free(buf);
		kp_wbuf_free(&scratch);
		return e;
	}
	seg->max_ts = -1;
	seg->max_ts_offset = seg->base_offset;
	seg->first_batch_ts = -1;
	seg->bytes_since_index = 0;
	while (pos < file_size) {
		size_t off = (size_t)(pos - buf_at), size;
		struct kp_batch_header h;
		int rc;

		/* make sure the header, then the whole batch, is buffered */
		if (have - off < KP_BATCH_HEADER_SIZE ||
		    (kp_batch_size(buf + off, have - off, &size) == KP_BATCH_SHORT &&
		     have - off < size)) {
			size_t want = KP_BATCH_HEADER_SIZE;

			memmove(buf, buf + off, have - off);
			have -= off;
			buf_at = pos;
			off = 0;
			if (have >= KP_LOG_OVERHEAD) {
				int32_t blen = (int32_t)kp_be32(buf + KP_BATCH_OFF_LENGTH);

				/* a length past the end of the file is a torn
				 * or corrupt tail: never allocate for it */
				if (blen < 0 || pos + blen + KP_LOG_OVERHEAD > file_size) {
					why = "batch length beyond the end of the file";
					break;
				}
				want = (size_t)blen + KP_LOG_OVERHEAD;
			}
			if (want > cap) {
				uint8_t *nb = realloc(buf, want);

				if (nb == NULL) {
					free(buf);
					kp_wbuf_free(&scratch);
					return -ENOMEM;
				}
				buf = nb;
				cap = want;
			}
			while (have < cap && buf_at + (int64_t)have < file_size) {
				ssize_t n = pread(seg->fd, buf + have, cap - have,
						  buf_at + (int64_t)have);

				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0) {
					int e = -errno;

					free(buf);
					kp_wbuf_free(&scratch);
					return e;
				}
				if (n == 0)
					break;
				have += (size_t)n;
			}
		}
		rc = kp_batch_size(buf + off, have - off, &size);
		if (rc == KP_BATCH_SHORT) {
			why = "torn batch at the end";
			break;
		}
		if (rc != KP_BATCH_OK || kp_batch_header_parse(buf + off, size, &h) != 0) {
			why = "malformed batch header";
			break;
		}
		if (kp_batch_verify_crc(buf + off, size) != KP_BATCH_OK) {
			why = "CRC mismatch";
			break;
		}
		if (h.base_offset < next || h.last_offset_delta < 0 ||
		    kp_batch_last_offset(&h) - seg->base_offset > INT32_MAX) {
			why = "offsets out of order";
			break;
		}
		index_batch(seg, pos, (int64_t)size, kp_batch_last_offset(&h),
			    kp_batch_stored_max_timestamp(buf + off, size, &scratch,
							  MAX_DECOMPRESSED));
		if (epochs != NULL && h.partition_leader_epoch >= 0)
			log_epoch_assign(epochs, h.partition_leader_epoch,
					 h.base_offset);
		next = kp_batch_last_offset(&h) + 1;
		pos += (int64_t)size;
	}
	free(buf);
	kp_wbuf_free(&scratch);
	cut = file_size - pos;
	if (cut > 0) {
		KP_WARN("%s.log: %s at position %" PRId64 "; cutting %" PRId64
			" bytes", seg->base_path, why, pos, cut);
		if (ftruncate(seg->fd, pos) < 0)
			return -errno;
	}
	atomic_store_explicit(&seg->next_offset, next, memory_order_release);
	atomic_store_explicit(&seg->size, pos, memory_order_release);
	if (!seg->active)
		log_segment_set_active(seg, false);
	return cut;
}

/* kp_batch_stored_max_timestamp() of the whole batch at bp. */
static int read_batch_max_ts(const struct log_segment *seg,
			     const struct log_seg_pos *bp,
			     struct kp_wbuf *scratch, int64_t *ts)
{
	uint8_t *b = malloc((size_t)bp->size);
	int rc = b == NULL ? -ENOMEM
			   : pread_all(seg->fd, b, (size_t)bp->size, bp->position);

	if (rc == 0)
		*ts = kp_batch_stored_max_timestamp(b, (size_t)bp->size, scratch,
						    MAX_DECOMPRESSED);
	free(b);
	return rc < 0 ? -EIO : 0;
}

int log_segment_load_tail(struct log_segment *seg)
{
	int64_t end = log_segment_size(seg);
	int64_t ioff, pos = 0, tts, toff;
	struct log_seg_pos bp;
	struct kp_wbuf scratch;
	int rc;

	if (log_tindex_last(&seg->tix, &tts, &toff)) {
		seg->max_ts = tts;
		seg->max_ts_offset = toff;
	}
	if (log_oindex_last(&seg->oix, &ioff, &pos))
		seg->bytes_since_index = 0;
	if (end > 0) {
		uint8_t h[KP_BATCH_HEADER_SIZE];

		rc = pread_all(seg->fd, h, sizeof(h), 0);
		if (rc < 0)
			return rc == -ENODATA ? 1 : rc;
		seg->first_batch_ts = (int64_t)kp_be64(h + KP_BATCH_OFF_MAX_TIMESTAMP);
	}
	kp_wbuf_init(&scratch);
	for (rc = 0; pos < end && rc == 0; pos += bp.size) {
		uint8_t h[KP_BATCH_OFF_PRODUCER_ID];
		int64_t ts;

		rc = header_at(seg, pos, end, &bp);
		if (rc != 0)
			break;	/* a tail that does not parse: recover */
		if (pread_all(seg->fd, h, sizeof(h), pos) < 0) {
			rc = -EIO;
			break;
		}
		ts = (int64_t)kp_be64(h + KP_BATCH_OFF_MAX_TIMESTAMP);
		if (kp_batch_max_timestamp_suspect(h))
			rc = read_batch_max_ts(seg, &bp, &scratch, &ts);
		if (ts > seg->max_ts) {
			seg->max_ts = ts;
			seg->max_ts_offset = bp.last_offset;
		}
		seg->bytes_since_index += bp.size;
		atomic_store_explicit(&seg->next_offset, bp.last_offset + 1,
				      memory_order_release);
	}
	kp_wbuf_free(&scratch);
	return rc;
}

/* --------------------------------------------------------- truncation */

int64_t log_segment_truncate_to(struct log_segment *seg, int64_t offset)
{
	struct log_seg_pos bp;
	int64_t size = log_segment_size(seg), cut;
	int rc = log_segment_find(seg, offset, &bp);

	if (rc != 0)
		return rc < 0 ? rc : 0;
	cut = size - bp.position;
	log_index_truncate(&seg->oix, offset);
	log_index_truncate(&seg->tix, offset);
	/* publish the smaller size before the bytes go */
	atomic_store_explicit(&seg->size, bp.position, memory_order_release);
	atomic_store_explicit(&seg->next_offset, bp.base_offset,
			      memory_order_release);
	if (ftruncate(seg->fd, bp.position) < 0)
		return -errno;
	seg->max_ts = -1;
	seg->max_ts_offset = seg->base_offset;
	seg->bytes_since_index = 0;
	if (bp.position == 0)
		seg->first_batch_ts = -1;
	rc = log_segment_load_tail(seg);
	if (bp.position == 0)
		atomic_store_explicit(&seg->next_offset, seg->base_offset,
				      memory_order_release);
	return rc < 0 ? rc : cut;
}

int log_segment_flush(struct log_segment *seg)
{
	int rc = 0;

	if (fdatasync(seg->fd) < 0)
		rc = -errno;
	if (rc == 0)
		rc = log_index_flush(&seg->oix);
	if (rc == 0)
		rc = log_index_flush(&seg->tix);
	return rc;
}

int log_segment_set_active(struct log_segment *seg, bool active)
{
	int rc;

	if (!active) {
		int64_t last_ts, last_off;

		/* the final time entry uses the slot kept for it, so the
		 * segment's largest timestamp survives a restart */
		if (log_ts_known(seg->max_ts) &&
		    (!log_tindex_last(&seg->tix, &last_ts, &last_off) ||
		     seg->max_ts > last_ts))
			log_tindex_append(&seg->tix, seg->max_ts, seg->max_ts_offset);
	}
	rc = log_index_set_active(&seg->oix, active);
	if (rc == 0)
		rc = log_index_set_active(&seg->tix, active);
	seg->active = active;
	return rc;
}

int log_segment_mark_deleted(struct log_segment *seg)
{
	char from[PATH_MAX + 32], to[PATH_MAX + 32];

	path_of(from, sizeof(from), seg->base_path, ".log", "");
	path_of(to, sizeof(to), seg->base_path, ".log", ".deleted");
	if (rename(from, to) < 0)
		return -errno;
	path_of(to, sizeof(to), seg->base_path, ".index", ".deleted");
	log_index_rename(&seg->oix, to);
	path_of(to, sizeof(to), seg->base_path, ".timeindex", ".deleted");
	log_index_rename(&seg->tix, to);
	return 0;
}

void log_segment_unlink_files(const char *base_path, const char *suffix)
{
	static const char *const exts[] = { ".log", ".index", ".timeindex" };
	char p[PATH_MAX + 32];

	for (size_t i = 0; i < 3; i++) {
		path_of(p, sizeof(p), base_path, exts[i], suffix);
		if (unlink(p) < 0 && errno != ENOENT)
			KP_WARN("removing %s: %s", p, strerror(errno));
	}
}
