/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_cleaner.c - compaction of cleanup.policy=compact logs (see
 * log_cleaner.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bg_thread.h"
#include "broker.h"
#include "kp_buf.h"
#include "kp_log.h"
#include "kp_records.h"
#include "log.h"
#include "log_cleaner.h"
#include "log_dir.h"
#include "log_segment.h"

#define MAX_DECOMPRESSED (256u << 20)
#define IO_CHUNK (1u << 20)
#define OUT_FLUSH (1u << 20)
/* a log whose cleaning failed is left alone this long */
#define FAILED_PAUSE_MS (10 * 60 * 1000)

/* ------------------------------------------------------------ key map */

/* Every key of the dirty part and its latest offset.  Open addressing;
 * keys kept whole (no hash-only matches: a collision must never drop a
 * record). */
struct km_entry {
	uint64_t hash;		/* 0: empty slot */
	int64_t offset;
	size_t key_off;
	int32_t key_len;
};

struct keymap {
	struct km_entry *t;
	size_t cap, n;
	struct kp_wbuf keys;
};

static uint64_t key_hash(const uint8_t *p, int32_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int32_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h | 1;		/* never 0 */
}

static size_t km_bytes(const struct keymap *m)
{
	return m->cap * sizeof(*m->t) + m->keys.len;
}

static void km_reset(struct keymap *m)
{
	if (m->t != NULL)
		memset(m->t, 0, m->cap * sizeof(*m->t));
	m->n = 0;
	kp_wbuf_reset(&m->keys);
}

static void km_free(struct keymap *m)
{
	free(m->t);
	kp_wbuf_free(&m->keys);
	memset(m, 0, sizeof(*m));
}

static struct km_entry *km_slot(struct keymap *m, uint64_t h, const uint8_t *key,
				int32_t len)
{
	size_t i = (size_t)h & (m->cap - 1);

	for (;;) {
		struct km_entry *e = &m->t[i];

		if (e->hash == 0 ||
		    (e->hash == h && e->key_len == len &&
		     (len == 0 || memcmp(m->keys.data + e->key_off, key, (size_t)len) == 0)))
			return e;
		i = (i + 1) & (m->cap - 1);
	}
}

static int km_grow(struct keymap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 1u << 14;
	struct km_entry *old = m->t, *nt = calloc(ncap, sizeof(*nt));
	size_t ocap = m->cap;

	if (nt == NULL)
		return -ENOMEM;
	m->t = nt;
	m->cap = ncap;
	for (size_t i = 0; i < ocap; i++) {
		size_t j;

		if (old[i].hash == 0)
			continue;
		j = (size_t)old[i].hash & (ncap - 1);
		while (nt[j].hash != 0)
			j = (j + 1) & (ncap - 1);
		nt[j] = old[i];
	}
	free(old);
	return 0;
}

static int km_put(struct keymap *m, const uint8_t *key, int32_t len, int64_t offset)
{
	uint64_t h = key_hash(key, len);
	struct km_entry *e;

	if ((m->n + 1) * 10 > m->cap * 7 && km_grow(m) < 0)
		return -ENOMEM;
	e = km_slot(m, h, key, len);
	if (e->hash == 0) {
		e->hash = h;
		e->key_len = len;
		e->key_off = m->keys.len;
		kp_write_raw(&m->keys, key, (size_t)len);
		if (m->keys.err)
			return -ENOMEM;
		m->n++;
	}
	e->offset = offset;
	return 0;
}

static int64_t km_get(struct keymap *m, const uint8_t *key, int32_t len)
{
	struct km_entry *e;

	if (m->cap == 0)
		return -1;
	e = km_slot(m, key_hash(key, len), key, len);
	return e->hash != 0 ? e->offset : -1;
}

/* ------------------------------------------------------------ the thread */

struct log_cleaner {
	struct broker *b;
	struct bg_thread bg;
	int64_t backoff_ms;		/* log.cleaner.backoff.ms */
	size_t map_cap;			/* log.cleaner.dedupe.buffer.size */
	struct keymap map;
	struct kp_wbuf in, out, scratch;
	struct partition **parts;	/* this round's (reused) */
	size_t capparts;
};

/* What one cleaning works on, copied under the partition's lock. */
struct job {
	struct partition *p;
	struct log *log;		/* compared, never used unlocked */
	struct log_clean_range r;
	char *dir;
	struct log_config cfg;
	/* stats */
	int64_t bytes_in, bytes_out, records_in, records_out;
	int segments;
};

typedef int (*batch_fn)(struct log_cleaner *c, const uint8_t *batch, size_t len,
			void *arg);

/*
 * Walk the whole batches of a closed segment, reading it in chunks, until
 * fn returns non-zero (returned).  0, -errno, -EINVAL for bytes that are
 * no batch, -ESTALE when the file ends early (truncated under us).
 */
static int each_batch(struct log_cleaner *c, struct log_segment *seg, batch_fn fn,
		      void *arg)
{
	int64_t size = log_segment_size(seg), pos = 0;

	while (pos < size && !bg_thread_stopping(&c->bg)) {
		size_t want = IO_CHUNK, have, off = 0;
		ssize_t got;

		if ((int64_t)want > size - pos)
			want = (size_t)(size - pos);
		kp_wbuf_reset(&c->in);
		if (kp_wbuf_reserve(&c->in, want) == NULL)
			return -ENOMEM;
		got = pread(seg->fd, c->in.data, want, pos);
		if (got < 0)
			return -errno;
		if (got == 0)
			return -ESTALE;	/* cut meanwhile: never a partial copy */
		have = (size_t)got;
		while (off < have) {
			size_t bsize = 0;
			int rc = kp_batch_size(c->in.data + off, have - off, &bsize);

			if (rc == KP_BATCH_SHORT && off == 0 && bsize > have &&
			    (int64_t)bsize <= size - pos) {
				/* one batch larger than the chunk */
				kp_wbuf_reset(&c->in);
				if (kp_wbuf_reserve(&c->in, bsize) == NULL)
					return -ENOMEM;
				got = pread(seg->fd, c->in.data, bsize, pos);
				if (got < 0)
					return -errno;
				if ((size_t)got < bsize)
					return -ESTALE;
				have = bsize;
				continue;
			}
			if (rc == KP_BATCH_SHORT)
				break;	/* the rest comes with the next chunk */
			if (rc != KP_BATCH_OK)
				return -EINVAL;
			rc = fn(c, c->in.data + off, bsize, arg);
			if (rc != 0)
				return rc;	/* an error, or fn's "enough" */
			off += bsize;
		}
		if (off == 0)
			return -EINVAL;
		pos += (int64_t)off;
	}
	return bg_thread_stopping(&c->bg) ? -ECANCELED : 0;
}

static bool is_control(const uint8_t *batch, size_t len)
{
	struct kp_batch_header h;

	return kp_batch_header_parse(batch, len, &h) == KP_BATCH_OK &&
	       (h.attributes & KP_ATTR_CONTROL);
}

/* Map building: every keyed record of the dirty part. */
static int map_batch(struct log_cleaner *c, const uint8_t *batch, size_t len, void *arg)
{
	struct kp_record_iter it;
	struct kp_record rec;
	int rc;

	(void)arg;
	if (len > KP_BATCH_OFF_MAGIC && batch[KP_BATCH_OFF_MAGIC] != 2)
		return -ENOTSUP;	/* legacy message sets are not cleaned */
	if (is_control(batch, len))
		return 0;
	if (kp_record_iter_init(&it, batch, len, &c->scratch, MAX_DECOMPRESSED) != 0)
		return -EINVAL;
	while ((rc = kp_record_iter_next(&it, &rec)) == 1)
		if (rec.key.len >= 0 &&
		    km_put(&c->map, rec.key.ptr, rec.key.len, rec.offset) < 0)
			return -ENOMEM;
	return rc < 0 ? -EINVAL : 0;
}

/*
 * Map the dirty segments [first, n) of the job; when the map outgrows its
 * budget, the job shrinks to the segments that fit (at least one).
 * Returns 0 or -errno.
 */
static int build_map(struct log_cleaner *c, struct job *j)
{
	int first = j->r.first_dirty_idx;

	km_reset(&c->map);
	for (int i = first; i < j->r.n; i++) {
		int rc = each_batch(c, j->r.segs[i], map_batch, NULL);

		if (rc < 0)
			return rc;
		if (km_bytes(&c->map) > c->map_cap && i > first) {
			/* clean up to segment i (exclusive) this round */
			j->r.end = j->r.segs[i]->base_offset;
			for (int k = i; k < j->r.n; k++)
				log_segment_unref(j->r.segs[k]);
			j->r.n = i;
			km_reset(&c->map);
			for (int k = first; k < i; k++) {
				rc = each_batch(c, j->r.segs[k], map_batch, NULL);
				if (rc < 0)
					return rc;
			}
			break;
		}
	}
	return 0;
}

/* Filtering one segment. */
struct filter {
	struct log_cleaner *c;
	struct job *j;
	struct log_segment *out;
	bool retain_deletes;
	int32_t seen;
};

static bool keep_record(const struct kp_record *rec, void *arg)
{
	struct filter *f = arg;
	int64_t latest;

	f->seen++;
	if (rec->key.len < 0)
		return false;		/* a compacted log has no keyless records */
	latest = km_get(&f->c->map, rec->key.ptr, rec->key.len);
	if (latest >= 0 && rec->offset < latest)
		return false;		/* a later record has the key */
	return f->retain_deletes || rec->value.len >= 0;
}

/* The pre-pass: would this batch lose a record? (stops the walk with 1) */
static int drops_batch(struct log_cleaner *c, const uint8_t *batch, size_t len,
		       void *arg)
{
	struct filter *f = arg;
	struct kp_record_iter it;
	struct kp_record rec;
	int rc;

	if (len > KP_BATCH_OFF_MAGIC && batch[KP_BATCH_OFF_MAGIC] != 2)
		return -ENOTSUP;
	if (is_control(batch, len))
		return 0;
	if (kp_record_iter_init(&it, batch, len, &c->scratch, MAX_DECOMPRESSED) != 0)
		return -EINVAL;
	while ((rc = kp_record_iter_next(&it, &rec)) == 1)
		if (!keep_record(&rec, f))
			return 1;
	return rc < 0 ? -EINVAL : 0;
}

static int flush_out(struct filter *f)
{
	struct log_cleaner *c = f->c;
	int rc = log_write_batches(f->out, c->out.data, c->out.len);

	kp_wbuf_reset(&c->out);
	return rc;
}

static int filter_batch(struct log_cleaner *c, const uint8_t *batch, size_t len, void *arg)
{
	struct filter *f = arg;
	struct kp_batch_header h;
	size_t at = c->out.len;
	int rc;

	if (len > KP_BATCH_OFF_MAGIC && batch[KP_BATCH_OFF_MAGIC] != 2)
		return -ENOTSUP;	/* legacy message sets are not cleaned */
	if (kp_batch_header_parse(batch, len, &h) != KP_BATCH_OK)
		return -EINVAL;
	f->seen = 0;
	if (h.attributes & KP_ATTR_CONTROL) {
		/* transaction markers stay as they are */
		kp_write_raw(&c->out, batch, len);
		rc = c->out.err ? -1 : (h.record_count > 0 ? h.record_count : 1);
		f->seen = rc;
	} else {
		rc = kp_batch_filter(batch, len, &c->scratch, MAX_DECOMPRESSED,
				     keep_record, f, &c->out);
	}
	if (rc < 0)
		return -EINVAL;
	f->j->records_in += f->seen;
	f->j->records_out += rc;
	f->j->bytes_in += (int64_t)len;
	f->j->bytes_out += (int64_t)(c->out.len - at);
	return c->out.len >= OUT_FLUSH ? flush_out(f) : 0;
}

static int64_t seg_mtime(struct log_segment *seg, struct timespec *ts)
{
	struct stat st;

	if (fstat(seg->fd, &st) < 0)
		return 0;
	if (ts != NULL)
		*ts = st.st_mtim;
	return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* Rewrite segment i of the job and swap it in.  0, or -errno (the job
 * stops: -ESTALE when the log changed under us). */
static int clean_segment(struct log_cleaner *c, struct job *j, int i, int64_t horizon)
{
	struct log_segment *old = j->r.segs[i], *cs = NULL;
	struct filter f = { .c = c, .j = j };
	struct timespec mt[2];
	struct partition *p = j->p;
	int rc;

	f.retain_deletes = seg_mtime(old, &mt[1]) > horizon;
	mt[0] = mt[1];
	/* a segment that would lose nothing is left as it is */
	rc = each_batch(c, old, drops_batch, &f);
	if (rc <= 0)
		return rc;
	rc = log_segment_create_cleaned(j->dir, old->base_offset,
					j->cfg.segment_index_bytes,
					j->cfg.index_interval_bytes, &cs);
	if (rc < 0)
		return rc;
	f.out = cs;
	kp_wbuf_reset(&c->out);
	rc = each_batch(c, old, filter_batch, &f);
	if (rc == 0)
		rc = flush_out(&f);
	if (rc == 0)
		rc = log_segment_set_active(cs, false);
	if (rc == 0)
		rc = log_segment_flush(cs);
	/* the segment keeps its age (retention.ms, the tombstone horizon) */
	if (rc == 0 && futimens(cs->fd, mt) < 0)
		rc = -errno;
	if (rc == 0) {
		pthread_mutex_lock(&p->lock);
		rc = p->log == j->log && !p->deleting
			? log_replace_segment(j->log, &j->r, old, cs) : -ESTALE;
		pthread_mutex_unlock(&p->lock);
	}
	if (rc < 0) {
		log_segment_unlink_files(cs->base_path, ".cleaned");
		log_segment_unref(cs);
		return rc;
	}
	j->segments++;
	return 0;
}

static void write_checkpoint(struct broker *b, struct job *j)
{
	pthread_mutex_lock(&b->dirs_lock);
	for (int d = 0; d < b->ndirs; d++)
		if (log_dir_find(b->dirs[d], j->p->topic, j->p->index) == j->log) {
			log_dir_write_cleaned(b->dirs[d]);
			break;
		}
	pthread_mutex_unlock(&b->dirs_lock);
}

static void run_job(struct log_cleaner *c, struct job *j)
{
	int64_t t0 = kp_now_ms(), horizon = INT64_MIN, start_dirty;
	int rc;

	start_dirty = j->r.first_dirty_idx < j->r.n
		? j->r.segs[j->r.first_dirty_idx]->base_offset : j->r.end;
	rc = build_map(c, j);
	/* tombstones go from segments last modified delete.retention.ms
	 * before the newest segment that was already clean */
	if (rc == 0 && j->r.first_dirty_idx > 0)
		horizon = seg_mtime(j->r.segs[j->r.first_dirty_idx - 1], NULL) -
			  j->cfg.delete_retention_ms;
	for (int i = 0; rc == 0 && i < j->r.n; i++)
		rc = clean_segment(c, j, i, horizon);
	if (rc < 0) {
		if (rc == -ESTALE || rc == -ECANCELED)
			return;		/* the log changed, or we stop */
		if (rc == -ENOTSUP)
			KP_WARN("%s: not cleaned: it holds legacy message sets", j->dir);
		else
			KP_ERROR("%s: cleaning failed: %s; next try in %d minutes",
				 j->dir, strerror(-rc), FAILED_PAUSE_MS / 60000);
		pthread_mutex_lock(&j->p->lock);
		if (j->p->log == j->log)
			j->log->cleaner_skip_until = kp_now_ms() + FAILED_PAUSE_MS;
		pthread_mutex_unlock(&j->p->lock);
		return;
	}
	pthread_mutex_lock(&j->p->lock);
	if (j->p->log == j->log)
		atomic_store(&j->log->first_dirty, j->r.end);
	pthread_mutex_unlock(&j->p->lock);
	write_checkpoint(c->b, j);
	KP_INFO("%s: cleaned offsets %" PRId64 "..%" PRId64 " (dirty from %" PRId64
		"), %d segment(s): %" PRId64 " -> %" PRId64 " bytes, %" PRId64
		" -> %" PRId64 " records, %zu keys, %" PRId64 " ms",
		j->dir, j->r.segs[0]->base_offset, j->r.end, start_dirty,
		j->segments, j->bytes_in, j->bytes_out, j->records_in,
		j->records_out, c->map.n, kp_now_ms() - t0);
}


/* Clean the dirtiest log that is due; false when none is. */
static bool clean_dirtiest(struct log_cleaner *c)
{
	struct partition *best = NULL;
	struct log *best_log = NULL;
	double best_ratio = -1;
	int64_t now = kp_wall_ms(), mono = kp_now_ms();
	struct job j;
	bool ok = false;

	long nparts = partition_list(&c->b->parts, &c->parts, &c->capparts);

	for (long i = 0; i < nparts && !bg_thread_stopping(&c->bg); i++) {
		struct partition *p = c->parts[i];
		struct log_clean_range r;

		pthread_mutex_lock(&p->lock);
		if (p->log != NULL && !p->deleting && p->log->cfg.compact_policy &&
		    p->log->cleaner_skip_until <= mono &&
		    log_clean_range_get(p->log, log_lso(p->log, atomic_load(&p->hw)), now, false,
					&r) == 0 &&
		    r.dirty_bytes > 0) {
			double ratio = (double)r.dirty_bytes /
				       (double)(r.dirty_bytes + r.clean_bytes);

			if ((ratio >= p->log->cfg.min_cleanable_ratio || r.overdue) &&
			    (r.overdue ? ratio + 1 : ratio) > best_ratio) {
				best = p;
				best_log = p->log;
				best_ratio = r.overdue ? ratio + 1 : ratio;
			}
		}
		pthread_mutex_unlock(&p->lock);
	}
	if (best == NULL)
		return false;
	memset(&j, 0, sizeof(j));
	j.p = best;
	pthread_mutex_lock(&best->lock);
	if (best->log == best_log && !best->deleting &&
	    log_clean_range_get(best_log, log_lso(best_log, atomic_load(&best->hw)), now,
				true, &j.r) == 0 &&
	    j.r.n > 0) {
		j.log = best_log;
		j.cfg = best_log->cfg;
		j.dir = strdup(best_log->dir);
		ok = j.dir != NULL;
	}
	pthread_mutex_unlock(&best->lock);
	if (ok)
		run_job(c, &j);
	log_clean_range_release(&j.r);
	free(j.dir);
	return ok;
}

static void *run(void *arg)
{
	struct log_cleaner *c = arg;

	while (!bg_thread_stopping(&c->bg))
		if (!clean_dirtiest(c))
			bg_thread_sleep(&c->bg, c->backoff_ms);
	return NULL;
}

int log_cleaner_start(struct broker *b, char *err, size_t n)
{
	struct log_cleaner *c;
	int rc;

	if (!kp_config_bool(&b->cfg, "log.cleaner.enable"))
		return 0;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, n, "out of memory");
		return -1;
	}
	c->b = b;
	c->backoff_ms = kp_config_long(&b->cfg, "log.cleaner.backoff.ms");
	if (c->backoff_ms > 3600 * 1000)
		c->backoff_ms = 3600 * 1000;
	c->map_cap = (size_t)kp_config_long(&b->cfg, "log.cleaner.dedupe.buffer.size");
	kp_wbuf_init(&c->in);
	kp_wbuf_init(&c->out);
	kp_wbuf_init(&c->scratch);
	kp_wbuf_init(&c->map.keys);
	rc = bg_thread_start(&c->bg, "log-cleaner", run, c);
	if (rc != 0) {
		snprintf(err, n, "cannot start the log cleaner: %s", strerror(rc));
		kp_wbuf_free(&c->in);
		kp_wbuf_free(&c->out);
		kp_wbuf_free(&c->scratch);
		kp_wbuf_free(&c->map.keys);
		free(c);
		return -1;
	}
	b->cleaner = c;
	return 0;
}

void log_cleaner_stop(struct broker *b)
{
	struct log_cleaner *c = b->cleaner;

	if (c == NULL)
		return;
	bg_thread_stop(&c->bg);
	km_free(&c->map);
	kp_wbuf_free(&c->in);
	kp_wbuf_free(&c->out);
	kp_wbuf_free(&c->scratch);
	free(c->parts);
	free(c);
	b->cleaner = NULL;
}
