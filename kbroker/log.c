/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.c - a partition's commit log; see log.h for the concurrency
 * contract.  Append and roll follow Kafka 2.8's Log.append / maybeRoll,
 * recovery Log.loadSegments / recoverLog, retention deleteOldSegments.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kp_errors.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_topic_config.h"
#include "kp_records.h"
#include "kp_txn.h"
#include "kp_zkdata.h"
#include "log.h"
#include "log_checkpoint.h"

#define DAY_MS (24LL * 3600 * 1000)

void log_config_defaults(struct log_config *cfg)
{
	*cfg = (struct log_config){
		.segment_bytes = 1073741824,
		.segment_ms = 7 * DAY_MS,
		.segment_jitter_ms = 0,
		.segment_index_bytes = 10485760,
		.index_interval_bytes = 4096,
		.flush_messages = LOG_NO_LIMIT,
		.flush_ms = LOG_NO_LIMIT,
		.retention_ms = 7 * DAY_MS,
		.retention_bytes = -1,
		.file_delete_delay_ms = 60000,
		.log_append_time = false,
		.timestamp_diff_max_ms = LOG_NO_LIMIT,
		.downconversion = true,
		.delete_policy = true,
		.compact_policy = false,
		.delete_retention_ms = DAY_MS,
		.min_cleanable_ratio = 0.5,
		.min_compaction_lag_ms = 0,
		.max_compaction_lag_ms = LOG_NO_LIMIT,
		.producer_expiration_ms = 7 * DAY_MS,
	};
}

int log_dir_name(char *buf, size_t n, const char *topic, int32_t partition)
{
	int len = snprintf(buf, n, "%s-%" PRId32, topic, partition);

	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

int log_parse_dir_name(const char *name, char *topic, size_t n,
		       int32_t *partition)
{
	const char *dash = strrchr(name, '-');
	char *end;
	long p;

	/* a directory whose topic Kafka could not have (a space, "..") is
	 * not a log: its name would corrupt the checkpoint files */
	if (dash == NULL || dash == name || dash[1] == 0 ||
	    (size_t)(dash - name) >= n ||
	    !kp_topic_name_legal(name, (size_t)(dash - name)))
		return -EINVAL;
	errno = 0;
	p = strtol(dash + 1, &end, 10);
	if (*end != 0 || errno != 0 || p < 0 || p > INT32_MAX ||
	    !(dash[1] >= '0' && dash[1] <= '9'))
		return -EINVAL;
	memcpy(topic, name, (size_t)(dash - name));
	topic[dash - name] = 0;
	*partition = (int32_t)p;
	return 0;
}

/* ------------------------------------------------------ segment list */

static struct log_segment *active_seg(const struct log *log)
{
	return log->segs[log->nsegs - 1];
}

static int segs_push(struct log *log, struct log_segment *seg)
{
	pthread_mutex_lock(&log->lock);
	if (log->nsegs == log->capsegs) {
		int ncap = log->capsegs ? log->capsegs * 2 : 8;
		struct log_segment **ns = realloc(log->segs, (size_t)ncap * sizeof(*ns));

		if (ns == NULL) {
			pthread_mutex_unlock(&log->lock);
			return -ENOMEM;
		}
		log->segs = ns;
		log->capsegs = ncap;
	}
	log->segs[log->nsegs++] = seg;
	pthread_mutex_unlock(&log->lock);
	return 0;
}

/* Index of the last segment with base <= offset (0 if none).  Lock held
 * or appender thread. */
static int seg_floor(const struct log *log, int64_t offset)
{
	int lo = 0, hi = log->nsegs - 1, found = 0;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (log->segs[mid]->base_offset <= offset) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found;
}

/* log_maintenance_gen (log.h) */
static _Atomic uint64_t maintenance_gen;

static void maintenance_bump(void)
{
	atomic_fetch_add_explicit(&maintenance_gen, 1, memory_order_release);
}

uint64_t log_maintenance_gen(void)
{
	return atomic_load_explicit(&maintenance_gen, memory_order_acquire);
}

bool log_maintenance_pending(struct log *log)
{
	return log->doomed != NULL ||
	       (log->nsegs > 1 && active_seg(log)->base_offset > log->recovery_point);
}

/* Rename a segment's files .deleted and schedule their removal. */
static void doom_segment(struct log *log, struct log_segment *seg)
{
	struct log_doomed *d = malloc(sizeof(*d));
	int rc = log_segment_mark_deleted(seg);

	if (rc < 0)
		KP_ERROR("%s: renaming for deletion: %s", seg->base_path,
			 strerror(-rc));
	if (d == NULL || (d->base_path = strdup(seg->base_path)) == NULL) {
		free(d);
		log_segment_unlink_files(seg->base_path, ".deleted");
	} else {
		d->due_ms = kp_now_ms() + log->cfg.file_delete_delay_ms;
		d->next = log->doomed;
		log->doomed = d;
		maintenance_bump();
	}
	log_segment_unref(seg);
}

/* Remove segs[from, to) from the list (under the lock) and doom them. */
static void drop_segments(struct log *log, int from, int to)
{
	struct log_segment **gone;
	int n = to - from;

	if (n <= 0)
		return;
	gone = malloc((size_t)n * sizeof(*gone));
	pthread_mutex_lock(&log->lock);
	for (int i = 0; i < n; i++) {
		if (gone != NULL)
			gone[i] = log->segs[from + i];
	}
	memmove(log->segs + from, log->segs + to,
		(size_t)(log->nsegs - to) * sizeof(*log->segs));
	log->nsegs -= n;
	pthread_mutex_unlock(&log->lock);
	/* readers holding references keep the descriptors until done; the
	 * producer snapshot at a segment's base goes with it (Kafka's
	 * deleteSegmentFiles) */
	for (int i = 0; gone != NULL && i < n; i++) {
		char sp[PATH_MAX];

		pstate_snapshot_path(sp, sizeof(sp), log->dir, gone[i]->base_offset);
		if (unlink(sp) < 0 && errno != ENOENT)
			KP_WARN("%s: %s", sp, strerror(errno));
		/* its aborted transactions index too (readers use memory) */
		log_txnidx_path(sp, sizeof(sp), log->dir, gone[i]->base_offset);
		if (unlink(sp) < 0 && errno != ENOENT)
			KP_WARN("%s: %s", sp, strerror(errno));
		doom_segment(log, gone[i]);
	}
	free(gone);
	/* entries of segments gone from the head go with them; a tail cut
	 * is the truncation's to handle (log_txnidx_truncate) */
	if (log->nsegs == 0)
		log_txnidx_clear(&log->aborted);
	else if (from == 0)
		log_txnidx_drop_below(&log->aborted, log->segs[0]->base_offset);
}

static int new_segment(struct log *log, int64_t base)
{
	struct log_segment *seg;
	bool rebuild = false;
	int rc;

	/* a stale file at this base (a previous life of the log) goes */
	{
		char bp[PATH_MAX];

		log_segment_base_path(bp, sizeof(bp), log->dir, base);
		log_segment_unlink_files(bp, "");
	}
	rc = log_segment_open(log->dir, base, log->cfg.segment_index_bytes,
			      log->cfg.index_interval_bytes, true, true, &seg,
			      &rebuild);
	if (rc < 0)
		return rc;
	if (log->cfg.segment_jitter_ms > 0) {
		int64_t lim = log->cfg.segment_jitter_ms < log->cfg.segment_ms
			? log->cfg.segment_jitter_ms : log->cfg.segment_ms;

		seg->roll_jitter_ms = lim > 0 ? (int64_t)(random() % lim) : 0;
	}
	rc = segs_push(log, seg);
	if (rc < 0)
		log_segment_unref(seg);
	return rc;
}

static void take_snapshot(struct log *log, bool sync)
{
	int rc = pstate_take_snapshot(&log->producers, log->dir, sync);

	if (rc < 0)
		KP_WARN("%s: writing the producer snapshot at %" PRId64 ": %s",
			log->dir, log->producers.map_end, strerror(-rc));
}

static int roll(struct log *log, int64_t base)
{
	struct log_segment *old = log->nsegs ? active_seg(log) : NULL;
	int rc;

	if (old != NULL) {
		rc = log_segment_set_active(old, false);
		if (rc < 0)
			return rc;
	}
	rc = new_segment(log, base);
	if (rc < 0 && old != NULL)
		log_segment_set_active(old, true);
	if (rc == 0) {
		KP_DEBUG("%s: rolled new segment at %" PRId64, log->dir, base);
		/* as Kafka's roll: the producer state as of the new base */
		if (base > log->producers.map_end)
			log->producers.map_end = base;
		take_snapshot(log, true);
		maintenance_bump();
	}
	return rc;
}

int log_roll(struct log *log, int64_t now_wall_ms)
{
	(void)now_wall_ms;
	if (log_segment_size(active_seg(log)) == 0)
		return 0;
	return roll(log, log_end_offset(log));
}

/* Kafka's shouldRoll, for incoming bytes whose max timestamp is max_ts. */
static bool should_roll(const struct log *log, int64_t len, int64_t max_ts,
			int64_t last_offset, int64_t now_wall_ms)
{
	const struct log_segment *seg = active_seg(log);
	int64_t size = log_segment_size(seg);

	if (size > log->cfg.segment_bytes - len)
		return true;
	if (size > 0) {
		bool by_ts = log_ts_known(seg->first_batch_ts);
		int64_t start = by_ts ? seg->first_batch_ts : seg->created_ms;
		int64_t basis = by_ts ? max_ts : now_wall_ms;

		if (basis - start > log->cfg.segment_ms - seg->roll_jitter_ms)
			return true;
	}
	if (log_index_full(&seg->oix) || log_index_full(&seg->tix))
		return true;
	return last_offset - seg->base_offset > INT32_MAX;
}

/* ------------------------------------------------------------ open */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Parse "<20 digits>.<ext>" */
static bool segment_file(const char *name, int64_t *base, const char **ext)
{
	char *end;

	if (strlen(name) < 21 || name[20] != '.')
		return false;
	for (int i = 0; i < 20; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	*base = strtoll(name, &end, 10);
	*ext = name + 20;
	return end == name + 20;
}

/*
 * Clean the directory as Kafka does at load and collect the .log bases:
 * leftovers of deletion, cleaning and atomic writes go; an index without
 * its .log goes.
 */
static int scan_dir(struct log *log, int64_t **bases, int *nbases)
{
	DIR *d = opendir(log->dir);
	struct dirent *de;
	int n = 0, cap = 0, rc = 0;
	int64_t *b = NULL;
	char p[PATH_MAX];

	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		const char *ext;
		int64_t base;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", log->dir, de->d_name);
		if (ends_with(de->d_name, ".deleted") || ends_with(de->d_name, ".cleaned") ||
		    ends_with(de->d_name, ".swap") || ends_with(de->d_name, ".tmp")) {
			/* an interrupted cleaning's output (we write no
			 * .swap files; Kafka's are stale here too) */
			if (!ends_with(de->d_name, ".deleted"))
				KP_WARN("%s: removing stale %s", log->dir, de->d_name);
			unlink(p);
			continue;
		}
		if (!segment_file(de->d_name, &base, &ext))
			continue;
		if (strcmp(ext, ".log") == 0) {
			if (n == cap) {
				int64_t *nb;

				cap = cap ? cap * 2 : 16;
				nb = realloc(b, (size_t)cap * sizeof(*b));
				if (nb == NULL) {
					rc = -ENOMEM;
					break;
				}
				b = nb;
			}
			b[n++] = base;
		} else if (strcmp(ext, ".index") == 0 || strcmp(ext, ".timeindex") == 0 ||
			   strcmp(ext, ".txnindex") == 0) {
			char lp[PATH_MAX + 8];
			struct stat st;

			snprintf(lp, sizeof(lp), "%.*s.log", (int)(strlen(p) - strlen(ext)), p);
			if (stat(lp, &st) < 0)
				unlink(p);
		}
	}
	closedir(d);
	if (rc < 0) {
		free(b);
		return rc;
	}
	if (n > 1)
		qsort(b, (size_t)n, sizeof(*b), cmp_i64);
	*bases = b;
	*nbases = n;
	return 0;
}

static int load_segments(struct log *log, int64_t recovery_point, bool clean,
			 int64_t *recovered_from)
{
	int64_t *bases = NULL;
	int nbases = 0, rc, first_recover;
	bool *rebuild;

	rc = scan_dir(log, &bases, &nbases);
	if (rc < 0)
		return rc;
	rebuild = calloc((size_t)nbases + 1, sizeof(*rebuild));
	if (rebuild == NULL) {
		free(bases);
		return -ENOMEM;
	}
	for (int i = 0; i < nbases && rc == 0; i++) {
		struct log_segment *seg;

		rc = log_segment_open(log->dir, bases[i], log->cfg.segment_index_bytes,
				      log->cfg.index_interval_bytes, false,
				      i == nbases - 1, &seg, &rebuild[i]);
		if (rc == 0 && (rc = segs_push(log, seg)) < 0)
			log_segment_unref(seg);
	}
	free(bases);
	if (rc < 0) {
		free(rebuild);
		return rc;
	}
	/* unclean: recover from the segment holding the recovery point */
	first_recover = clean ? log->nsegs
			      : (recovery_point < 0 ? 0 : seg_floor(log, recovery_point));
	for (int i = 0; i < log->nsegs; i++) {
		struct log_segment *seg = log->segs[i];
		int64_t cut = 0;

		if (i >= first_recover || rebuild[i]) {
			/* its aborted transactions index is rebuilt too */
			if (seg->base_offset < *recovered_from)
				*recovered_from = seg->base_offset;
			if (rebuild[i] && i < first_recover)
				KP_WARN("%s: index of segment %" PRId64
					" missing or corrupt; rebuilding",
					log->dir, seg->base_offset);
			cut = log_segment_recover(seg, &log->epochs);
		} else {
			int t = log_segment_load_tail(seg);

			if (t == 1) {
				cut = log_segment_recover(seg, &log->epochs);
				if (seg->base_offset < *recovered_from)
					*recovered_from = seg->base_offset;
			}
			else if (t < 0)
				cut = t;
		}
		if (cut < 0) {
			free(rebuild);
			return (int)cut;
		}
		if (cut > 0 && i < log->nsegs - 1) {
			/* a cut segment ends the log: later ones are lost */
			KP_WARN("%s: dropping %d segment(s) after the cut",
				log->dir, log->nsegs - 1 - i);
			drop_segments(log, i + 1, log->nsegs);
			log_segment_set_active(seg, true);
		}
	}
	free(rebuild);
	return 0;
}

/* ------------------------------------------------- producer state */

static void update_first_unstable(struct log *log)
{
	atomic_store(&log->first_unstable, pstate_first_unstable(&log->producers));
}

/*
 * One appended or replayed batch with a producer in the producer state
 * (Kafka's ProducerAppendInfo): a data batch records its sequences and
 * opens a transaction when transactional; a marker (batch[0, len), the
 * whole control batch) ends one, and an aborted one goes to the index
 * when index is set (Kafka's updateTxnIndex).  0 or -ENOMEM.
 */
static int producer_batch(struct log *log, const struct log_batch_meta *m,
			  const uint8_t *batch, size_t len, bool index)
{
	struct pstate_txn done;
	int type, rc;
	int32_t coord_epoch;
	int64_t ts, lso = -1;

	if (m->producer_id < 0)
		return 0;
	if (!(m->attributes & KP_ATTR_CONTROL)) {
		if (pstate_update(&log->producers, m->producer_id, m->producer_epoch,
				  m->base_sequence, m->base_offset, m->last_offset,
				  m->max_timestamp) < 0)
			return -ENOMEM;
		if ((m->attributes & KP_ATTR_TRANSACTIONAL) &&
		    pstate_begin_txn(&log->producers, m->producer_id, m->base_offset) < 0)
			return -ENOMEM;
		return 0;
	}
	rc = kp_txn_marker_parse(batch, len, &type, &coord_epoch, &ts);
	if (rc < 0)
		KP_WARN("%s: unreadable control batch at offset %" PRId64, log->dir,
			m->base_offset);
	if (rc <= 0)
		return 0;
	if (type == KP_CONTROL_ABORT)
		lso = pstate_abort_lso(&log->producers, m->producer_id, m->base_offset);
	rc = pstate_end_txn(&log->producers, m->producer_id, m->producer_epoch,
			    coord_epoch, m->base_offset, ts, type == KP_CONTROL_ABORT,
			    &done);
	if (rc < 0)
		return rc;
	if (rc == 1 && done.aborted && index) {
		struct kp_aborted_txn e = { done.pid, done.first, done.last, lso };
		int64_t base = log->segs[seg_floor(log, done.last)]->base_offset;

		rc = log_txnidx_append(&log->aborted, log->dir, base, &e);
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0)
			KP_ERROR("%s: writing the aborted transactions index: %s",
				 log->dir, strerror(-rc));
	}
	return 0;
}

#define CONTROL_MAX_BYTES 4096

/* Batches' producer fields from the segments, offsets [from, to); the
 * aborts whose markers are at or after index_from go to the index. */
static int replay_producers(struct log *log, int64_t from, int64_t to,
			    int64_t index_from)
{
	uint8_t hdr[KP_BATCH_HEADER_SIZE], ctl[CONTROL_MAX_BYTES];

	for (int i = seg_floor(log, from); i < log->nsegs; i++) {
		struct log_segment *seg = log->segs[i];
		int64_t pos = 0, size = log_segment_size(seg);

		if (seg->base_offset >= to)
			break;
		if (seg->base_offset < from) {
			struct log_seg_pos sp;
			int r = log_segment_find(seg, from, &sp);

			if (r == 1)
				continue;
			if (r < 0)
				return r;
			pos = sp.position;
		}
		while (pos + KP_BATCH_HEADER_SIZE <= size) {
			struct kp_batch_header h;
			struct log_batch_meta m;
			size_t blen;
			const uint8_t *batch = NULL;
			int64_t last;

			if (pread(seg->fd, hdr, sizeof(hdr), pos) != (ssize_t)sizeof(hdr))
				return -EIO;
			/* magic 0/1 messages (a Kafka log from before 0.11) carry
			 * no producer: offset and size lie where a batch's do */
			if (hdr[KP_BATCH_OFF_MAGIC] < 2) {
				int32_t msize = (int32_t)kp_be32(hdr + KP_BATCH_OFF_LENGTH);

				if (msize <= 0)
					return -EBADMSG;
				pos += (int64_t)msize + 12;
				continue;
			}
			if (kp_batch_header_parse(hdr, sizeof(hdr), &h) != KP_BATCH_OK)
				return -EBADMSG;
			if (h.base_offset >= to)
				break;
			last = kp_batch_last_offset(&h);
			blen = (size_t)h.batch_length + 12;
			if (last >= from && h.producer_id >= 0 &&
			    (h.attributes & KP_ATTR_CONTROL) && blen <= sizeof(ctl)) {
				if (pread(seg->fd, ctl, blen, pos) != (ssize_t)blen)
					return -EIO;
				batch = ctl;
			}
			m = (struct log_batch_meta){
				.base_offset = h.base_offset, .last_offset = last,
				.max_timestamp = h.max_timestamp,
				.producer_id = h.producer_id,
				.producer_epoch = h.producer_epoch,
				.base_sequence = h.base_sequence,
				.attributes = h.attributes,
			};
			if (last >= from && h.producer_id >= 0 &&
			    (!(h.attributes & KP_ATTR_CONTROL) || batch != NULL) &&
			    producer_batch(log, &m, batch, blen,
					   h.base_offset >= index_from) < 0)
				return -ENOMEM;
			pos += (int64_t)blen;
		}
	}
	return 0;
}

/*
 * Kafka's truncateAndReload and loadProducerState: snapshots past the log
 * end or at or below the log start go; the latest one left at or below
 * index_from that reads (a corrupt one is logged, deleted, and the next
 * older one tried) gives the state at its offset; the log from there to
 * the end is replayed, the aborts from index_from on written to the
 * aborted transactions index (recovery: the index below index_from is
 * the files'; else index_from is the log end).
 */
static int load_producers(struct log *log, int64_t index_from)
{
	int64_t start = log_start_offset(log), leo = log_end_offset(log), from = start;
	int64_t *offs;
	char sp[PATH_MAX], err[256];
	int n, rc;

	pstate_clear(&log->producers);
	rc = pstate_list_snapshots(log->dir, &offs, &n);
	if (rc < 0)
		return rc;
	for (int i = 0; i < n; i++) {
		if (offs[i] <= leo && offs[i] > start)
			continue;
		pstate_snapshot_path(sp, sizeof(sp), log->dir, offs[i]);
		unlink(sp);
		offs[i] = -1;
	}
	for (int i = n - 1; i >= 0; i--) {
		if (offs[i] < 0 || offs[i] > index_from)
			continue;
		pstate_snapshot_path(sp, sizeof(sp), log->dir, offs[i]);
		rc = pstate_load_snapshot(&log->producers, sp, kp_wall_ms(),
					  log->cfg.producer_expiration_ms, err, sizeof(err));
		if (rc == 0) {
			from = offs[i];
			KP_DEBUG("%s: producer state from %s: %zu producer(s)", log->dir,
				 sp, log->producers.count);
			break;
		}
		if (rc == -ENOMEM) {
			free(offs);
			return rc;
		}
		KP_WARN("%s: failed to load producer snapshot %s: %s; deleting it, "
			"the state is rebuilt from the log", log->dir, sp, err);
		unlink(sp);
	}
	free(offs);
	log->producers.last_snap = from;
	rc = replay_producers(log, from, leo, index_from);
	log->producers.map_end = leo;
	update_first_unstable(log);
	if (rc < 0) {
		KP_ERROR("%s: rebuilding the producer state from offset %" PRId64 ": %s",
			 log->dir, from, strerror(-rc));
		return rc;
	}
	return 0;
}

void log_hw_moved(struct log *log, int64_t hw)
{
	if (log->producers.nunrepl == 0)
		return;
	pstate_hw_moved(&log->producers, hw);
	update_first_unstable(log);
}

size_t log_expire_producers(struct log *log, int64_t now_wall_ms)
{
	return pstate_expire(&log->producers, now_wall_ms, log->cfg.producer_expiration_ms);
}

int log_snapshot_producers(struct log *log)
{
	return pstate_take_snapshot(&log->producers, log->dir, false);
}

#define PARTITION_METADATA "partition.metadata"

static bool uuid_is_zero(const kp_uuid *u)
{
	static const kp_uuid zero;

	return memcmp(u, &zero, sizeof(zero)) == 0;
}

/* The topic id of partition.metadata, if the file is there and valid. */
static void read_partition_metadata(struct log *log)
{
	char p[PATH_MAX], buf[256], id[64];
	FILE *f;
	size_t n;
	int version;

	snprintf(p, sizeof(p), "%s/" PARTITION_METADATA, log->dir);
	f = fopen(p, "re");
	if (f == NULL)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (sscanf(buf, "version: %d\ntopic_id: %63s", &version, id) != 2 ||
	    version != 0 || kp_uuid_parse(id, &log->topic_id) < 0 ||
	    uuid_is_zero(&log->topic_id)) {
		memset(&log->topic_id, 0, sizeof(log->topic_id));
		KP_WARN("%s: ignoring a malformed " PARTITION_METADATA, log->dir);
	}
}

int log_assign_topic_id(struct log *log, const kp_uuid *id)
{
	char p[PATH_MAX], text[64], s[23];
	int n, rc;

	if (!uuid_is_zero(&log->topic_id))
		return memcmp(&log->topic_id, id, sizeof(*id)) == 0 ? 0 : -EEXIST;
	kp_uuid_format(id, s);
	n = snprintf(text, sizeof(text), "version: 0\ntopic_id: %s", s);
	snprintf(p, sizeof(p), "%s/" PARTITION_METADATA, log->dir);
	rc = log_write_file_atomic(p, text, (size_t)n);
	if (rc < 0)
		return rc;
	log->topic_id = *id;
	return 0;
}

/*
 * The index files of every segment, entries below end (an unclean
 * shutdown's recovery rebuilds the rest from the log): the files of the
 * segments at and after end are cut to what stays.  0 or -ENOMEM.
 */
static int load_txnindex(struct log *log, int64_t end)
{
	int64_t *bases = malloc((size_t)log->nsegs * sizeof(*bases) + 1);
	int rc, k;

	if (bases == NULL)
		return -ENOMEM;
	for (int i = 0; i < log->nsegs; i++)
		bases[i] = log->segs[i]->base_offset;
	rc = log_txnidx_load(&log->aborted, log->dir, bases, log->nsegs,
			     log_end_offset(log));
	free(bases);
	if (rc < 0)
		return rc;
	k = seg_floor(log, end);
	for (int i = log->nsegs - 1; i > k; i--) {
		char p[PATH_MAX];

		log_txnidx_path(p, sizeof(p), log->dir, log->segs[i]->base_offset);
		unlink(p);
	}
	rc = log_txnidx_truncate(&log->aborted, log->dir, log->segs[k]->base_offset,
				 end);
	if (rc < 0 && rc != -ENOMEM)
		KP_WARN("%s: cutting the aborted transactions index at %" PRId64 ": %s",
			log->dir, end, strerror(-rc));
	return rc == -ENOMEM ? rc : 0;
}

/*
 * The epoch cache against the log (log_epoch.h): its latest entry must be
 * the epoch of the log's last batch, starting at or before it.  A
 * checkpoint that was not written before a crash (written later than the
 * change, batched) and whose epochs recovery did not see again (they are
 * below the recovery point, which a flush never moves before it writes
 * them: a lost or damaged file) is rebuilt from every batch header, as
 * recovery does for the segments it walks.  0 or -errno.
 */
static int check_epochs(struct log *log, int64_t start_offset, bool rebuild)
{
	const struct log_epoch_cache *c = &log->epochs;
	struct log_seg_pos last;
	int rc = 1;

	for (int i = log->nsegs - 1; i >= 0 && rc == 1; i--)
		rc = log_segment_last_batch(log->segs[i], &last);
	if (rc < 0)
		return rc;
	if (rc == 1 || last.leader_epoch < 0)
		return 0;
	if (rebuild)
		KP_WARN("%s: leader-epoch-checkpoint missing or corrupt: rebuilding "
			"it from the log", log->dir);
	else if (c->n > 0 && c->e[c->n - 1].epoch == last.leader_epoch &&
		 c->e[c->n - 1].start_offset <= last.base_offset)
		return 0;
	else
		KP_WARN("%s: leader-epoch-checkpoint ends at epoch %d, the log's "
			"last batch has %d: rebuilding it from the log", log->dir,
			log_epoch_latest(c), last.leader_epoch);
	log_epoch_clear(&log->epochs);
	for (int i = 0; i < log->nsegs; i++) {
		rc = log_segment_scan_epochs(log->segs[i], &log->epochs);
		if (rc < 0)
			return rc;
	}
	log_epoch_truncate_start(&log->epochs, start_offset);
	return 0;
}

int log_open(const char *dir, const char *topic, int32_t partition,
	     const struct log_config *cfg, int64_t recovery_point,
	     int64_t start_offset, bool clean, struct log **out)
{
	/* aligned as the struct asks (its fetch fields, log.h) */
	struct log *log = aligned_alloc(_Alignof(struct log), sizeof(*log));
	char p[PATH_MAX];
	int64_t leo, first_base, recovered_from = INT64_MAX;
	bool rebuild_epochs;
	int rc;

	if (log == NULL)
		return -ENOMEM;
	memset(log, 0, sizeof(*log));
	pthread_mutex_init(&log->lock, NULL);
	pstate_init(&log->producers);
	log_txnidx_init(&log->aborted);
	atomic_init(&log->first_unstable, INT64_MAX);
	log->cfg = *cfg;
	log->partition = partition;
	log->dir = strdup(dir);
	log->topic = strdup(topic);
	if (log->dir == NULL || log->topic == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		goto fail;
	}
	snprintf(p, sizeof(p), "%s/leader-epoch-checkpoint", dir);
	/* missing or corrupt: rebuilt from every batch (check_epochs) */
	rebuild_epochs = access(p, F_OK) < 0;
	rc = log_epoch_open(&log->epochs, p);
	if (rc < 0 && rc != -EINVAL)
		goto fail;
	if (rc == -EINVAL)
		rebuild_epochs = true;
	rc = load_segments(log, recovery_point, clean, &recovered_from);
	if (rc < 0)
		goto fail;
	read_partition_metadata(log);
	if (log->nsegs == 0) {
		rc = new_segment(log, start_offset > 0 ? start_offset : 0);
		if (rc < 0)
			goto fail;
	}
	leo = log_segment_next_offset(active_seg(log));
	first_base = log->segs[0]->base_offset;
	if (start_offset < first_base)
		start_offset = first_base;
	atomic_init(&log->leo, leo);
	atomic_init(&log->start_offset, start_offset);
	if (leo < start_offset) {
		/* as Kafka: the log start is past everything we have */
		rc = log_truncate_fully_and_start_at(log, start_offset);
		if (rc < 0)
			goto fail;
		leo = start_offset;
	}
	log_epoch_truncate_end(&log->epochs, leo);
	log_epoch_truncate_start(&log->epochs, start_offset);
	rc = check_epochs(log, start_offset, rebuild_epochs);
	if (rc < 0)
		goto fail;
	/* the aborted transactions index: the files' below what recovery
	 * rebuilt, the rest from the log as the producer state is replayed */
	if (recovered_from > leo)
		recovered_from = leo;
	rc = load_txnindex(log, recovered_from);
	if (rc == -ENOMEM)
		goto fail;
	/* a log whose batches cannot all be read for it still opens, with
	 * the producer state it got (recovery cut torn tails already) */
	rc = load_producers(log, recovered_from);
	/* the state itself as Kafka's loadProducerState has it: from the
	 * latest snapshot (which keeps each producer's last batch only) */
	if (rc != -ENOMEM && recovered_from < leo)
		rc = load_producers(log, leo);
	if (rc == -ENOMEM)
		goto fail;
	log->recovery_point = clean ? leo
		: (recovery_point < 0 ? 0 : (recovery_point > leo ? leo : recovery_point));
	log->last_flush_ms = kp_now_ms();
	maintenance_bump();
	*out = log;
	return 0;
fail:
	log_close(log, false);
	return rc;
}

void log_close(struct log *log, bool flush)
{
	if (log == NULL)
		return;
	if (flush && log->nsegs > 0)
		log_flush(log, log_end_offset(log));
	if (log->nsegs > 0)
		log_segment_set_active(active_seg(log), false);
	for (int i = 0; i < log->nsegs; i++)
		log_segment_unref(log->segs[i]);
	log_reap_deleted(log, 0, true);
	log_epoch_close(&log->epochs);
	pstate_free(&log->producers);
	log_txnidx_free(&log->aborted);
	pthread_mutex_destroy(&log->lock);
	free(log->segs);
	free(log->dir);
	free(log->topic);
	free(log);
}

int64_t log_size_bytes(struct log *log)
{
	int64_t total = 0;

	pthread_mutex_lock(&log->lock);
	for (int i = 0; i < log->nsegs; i++)
		total += log_segment_size(log->segs[i]);
	pthread_mutex_unlock(&log->lock);
	return total;
}

/* ------------------------------------------------------------ append */

#define META_STACK 32

/*
 * Walk the batches of data: sizes, headers, CRCs (for the follower path),
 * into metas.  Returns the count or a negative Kafka-ish failure.
 */
static int parse_batches(const uint8_t *data, size_t len, bool check_crc,
			 struct log_batch_meta **metas, struct log_batch_meta *stack)
{
	struct log_batch_meta *m = stack;
	int n = 0, cap = META_STACK;
	size_t pos = 0;

	while (pos < len) {
		struct kp_batch_header h;
		size_t size;

		if (kp_batch_size(data + pos, len - pos, &size) != KP_BATCH_OK ||
		    kp_batch_header_parse(data + pos, size, &h) != 0 ||
		    h.last_offset_delta < 0 ||
		    (check_crc && kp_batch_verify_crc(data + pos, size) != KP_BATCH_OK))
			goto corrupt;
		if (n == cap) {
			struct log_batch_meta *nm;

			cap *= 2;
			nm = m == stack ? malloc((size_t)cap * sizeof(*nm))
					: realloc(m, (size_t)cap * sizeof(*nm));
			if (nm == NULL)
				goto corrupt;
			if (m == stack)
				memcpy(nm, stack, sizeof(*stack) * META_STACK);
			m = nm;
		}
		m[n++] = (struct log_batch_meta){
			.pos = pos, .size = size, .base_offset = h.base_offset,
			.last_offset = kp_batch_last_offset(&h),
			.max_timestamp = h.max_timestamp,
			.leader_epoch = h.partition_leader_epoch,
			.producer_id = h.producer_id,
			.producer_epoch = h.producer_epoch,
			.base_sequence = h.base_sequence,
			.attributes = h.attributes,
		};
		pos += size;
	}
	*metas = m;
	return n;
corrupt:
	if (m != stack)
		free(m);
	return -1;
}

void log_set_offline(struct log *log)
{
	if (atomic_exchange(&log->offline, true))
		return;
	KP_ERROR("%s: offline after a storage error: no more appends or "
		 "reads (KAFKA_STORAGE_ERROR) until the broker restarts",
		 log->dir);
	if (log->dir_failed != NULL)
		log->dir_failed(log->dir_failed_arg);
}

static int do_append(struct log *log, const uint8_t *data, size_t len,
		     struct log_batch_meta *m, int n, int64_t now_wall_ms,
		     struct log_append_info *info)
{
	int64_t max_ts = -1;
	int rc;

	if (log_is_offline(log))
		return KP_ERR_KAFKA_STORAGE_ERROR;
	for (int i = 0; i < n; i++)
		if (m[i].max_timestamp > max_ts)
			max_ts = m[i].max_timestamp;
	if ((int64_t)len > log->cfg.segment_bytes)
		return KP_ERR_RECORD_LIST_TOO_LARGE;
	if (should_roll(log, (int64_t)len, max_ts, m[n - 1].last_offset, now_wall_ms)) {
		int64_t base = m[0].base_offset > log_end_offset(log)
			? m[0].base_offset : log_end_offset(log);

		rc = roll(log, base);
		if (rc < 0) {
			KP_ERROR("%s: rolling a segment: %s", log->dir, strerror(-rc));
			log_set_offline(log);
			return KP_ERR_KAFKA_STORAGE_ERROR;
		}
	}
	for (int i = 0; i < n; i++)
		if (m[i].leader_epoch >= 0 &&
		    m[i].leader_epoch != log_epoch_latest(&log->epochs))
			log_epoch_assign(&log->epochs, m[i].leader_epoch,
					 m[i].base_offset);
	rc = log_segment_append(active_seg(log), data, len, m, n);
	if (rc < 0) {
		KP_ERROR("%s: append: %s", log->dir, strerror(-rc));
		log_set_offline(log);
		return KP_ERR_KAFKA_STORAGE_ERROR;
	}
	atomic_store_explicit(&log->leo, m[n - 1].last_offset + 1,
			      memory_order_release);
	for (int i = 0; i < n; i++)
		if (m[i].producer_id >= 0 &&
		    producer_batch(log, &m[i], data + m[i].pos, m[i].size, true) < 0)
			KP_WARN("%s: out of memory for producer %" PRId64 "'s state",
				log->dir, m[i].producer_id);
	log->producers.map_end = m[n - 1].last_offset + 1;
	update_first_unstable(log);
	if (info != NULL) {
		info->first_offset = m[0].base_offset;
		info->last_offset = m[n - 1].last_offset;
		info->max_timestamp = max_ts;
		info->batches = n;
		info->bytes = (int64_t)len;
	}
	/* flush.messages: the append is acknowledged only once it is on
	 * disk; a failed fsync is not (and the log went offline) */
	if (log_end_offset(log) - log->recovery_point >= log->cfg.flush_messages &&
	    log_flush(log, log_end_offset(log)) < 0)
		return KP_ERR_KAFKA_STORAGE_ERROR;
	return 0;
}

static int leader_append(struct log *log, uint8_t *data, size_t len,
			 int32_t leader_epoch, int64_t now_ms,
			 struct log_append_info *info, bool coordinator);

int log_append_leader(struct log *log, uint8_t *data, size_t len,
		      int32_t leader_epoch, int64_t now_ms,
		      struct log_append_info *info)
{
	return leader_append(log, data, len, leader_epoch, now_ms, info, false);
}

int log_append_coordinator(struct log *log, uint8_t *data, size_t len,
			   int32_t leader_epoch, struct log_append_info *info)
{
	return leader_append(log, data, len, leader_epoch, -1, info, true);
}

static int leader_append(struct log *log, uint8_t *data, size_t len,
			 int32_t leader_epoch, int64_t now_ms,
			 struct log_append_info *info, bool coordinator)
{
	struct log_batch_meta stack[META_STACK], *m;
	int64_t next = log_end_offset(log);
	int n, rc;

	if (len == 0)
		return KP_ERR_CORRUPT_MESSAGE;
	n = parse_batches(data, len, false, &m, stack);
	if (n <= 0)
		return KP_ERR_CORRUPT_MESSAGE;
	if (now_ms < 0)
		now_ms = kp_wall_ms();
	/* a client's batch (Produce v3+ carries exactly one) against its
	 * producer's state: Log.analyzeAndValidateProducerState */
	if (n == 1 && m[0].producer_id >= 0 && (m[0].attributes & KP_ATTR_CONTROL)) {
		/* a coordinator's marker (log_append_marker) */
		int type;
		int32_t coord_epoch;
		int64_t ts;

		rc = kp_txn_marker_parse(data, len, &type, &coord_epoch, &ts) == 1
			? pstate_check_marker(&log->producers, m[0].producer_id,
					      m[0].producer_epoch, coord_epoch)
			: KP_ERR_CORRUPT_MESSAGE;
		if (rc != 0) {
			if (m != stack)
				free(m);
			return rc;
		}
	} else if (coordinator) {
		/* Kafka's origin Coordinator: the epoch is checked, the
		 * sequence is not (the coordinator writes sequence 0) */
		const struct pstate_entry *e = n == 1 && m[0].producer_id >= 0
			? pstate_find(&log->producers, m[0].producer_id) : NULL;

		rc = n != 1 || m[0].producer_id < 0 ? KP_ERR_CORRUPT_MESSAGE
			: e != NULL && m[0].producer_epoch < e->epoch
			? KP_ERR_INVALID_PRODUCER_EPOCH : 0;
		if (rc != 0) {
			if (m != stack)
				free(m);
			return rc;
		}
	} else if (n == 1 && m[0].producer_id >= 0) {
		struct pstate_dup dup;
		bool is_dup;
		int32_t last_seq = pstate_seq_add(m[0].base_sequence,
						  (int32_t)(m[0].last_offset - m[0].base_offset));

		rc = pstate_check(&log->producers, m[0].producer_id, m[0].producer_epoch,
				  m[0].base_sequence, last_seq, &is_dup, &dup);
		/* Kafka's appendDataBatch: no plain write inside a transaction */
		if (rc == 0 && !is_dup)
			rc = pstate_check_txn(&log->producers, m[0].producer_id,
					      (m[0].attributes & KP_ATTR_TRANSACTIONAL) != 0);
		if (rc == 0 && is_dup) {
			KP_DEBUG("%s: producer %" PRId64 " resent sequences %" PRId32
				 "-%" PRId32 ", written at %" PRId64, log->dir,
				 m[0].producer_id, m[0].base_sequence, last_seq,
				 dup.first_offset);
			if (info != NULL) {
				memset(info, 0, sizeof(*info));
				info->first_offset = dup.first_offset;
				info->last_offset = dup.last_offset;
				info->max_timestamp = dup.timestamp;
				info->log_append_time = log->cfg.log_append_time ? dup.timestamp : -1;
				info->duplicate = true;
			}
		}
		if (rc != 0 || is_dup) {
			if (m != stack)
				free(m);
			return rc;
		}
	}
	for (int i = 0; i < n; i++) {
		uint8_t *b = data + m[i].pos;
		int64_t delta = m[i].last_offset - m[i].base_offset;

		/* base offset and epoch lie outside the CRC's range */
		kp_batch_set_base_offset(b, next);
		kp_batch_set_leader_epoch(b, leader_epoch);
		if (log->cfg.log_append_time) {
			kp_batch_set_max_timestamp(b, m[i].size, now_ms, true);
			m[i].max_timestamp = now_ms;
		}
		m[i].base_offset = next;
		m[i].last_offset = next + delta;
		m[i].leader_epoch = leader_epoch;
		next += delta + 1;
	}
	rc = do_append(log, data, len, m, n, now_ms, info);
	if (info != NULL) {
		info->log_append_time = log->cfg.log_append_time ? now_ms : -1;
		info->duplicate = false;
	}
	if (m != stack)
		free(m);
	return rc;
}

int log_append_marker(struct log *log, int64_t pid, int16_t epoch,
		      int32_t coord_epoch, bool commit, int32_t leader_epoch,
		      struct log_append_info *info)
{
	struct kp_wbuf w;
	int64_t now = kp_wall_ms();
	int rc;

	memset(&w, 0, sizeof(w));
	if (kp_txn_marker_build(&w, pid, epoch, commit ? KP_CONTROL_COMMIT
				: KP_CONTROL_ABORT, coord_epoch, now) < 0 || w.err) {
		kp_wbuf_free(&w);
		return -ENOMEM;
	}
	rc = log_append_leader(log, w.data, w.len, leader_epoch, now, info);
	kp_wbuf_free(&w);
	return rc;
}

int log_write_batches(struct log_segment *seg, const uint8_t *data, size_t len)
{
	struct log_batch_meta stack[META_STACK], *m;
	int n, rc;

	if (len == 0)
		return 0;
	n = parse_batches(data, len, false, &m, stack);
	if (n <= 0)
		return -EINVAL;
	rc = log_segment_append(seg, data, len, m, n);
	if (m != stack)
		free(m);
	return rc;
}

int log_append_follower(struct log *log, const uint8_t *data, size_t len,
			int64_t now_ms, struct log_append_info *info)
{
	struct log_batch_meta stack[META_STACK], *m;
	int64_t next = log_end_offset(log);
	int n, rc = 0;

	if (len == 0)
		return KP_ERR_CORRUPT_MESSAGE;
	n = parse_batches(data, len, true, &m, stack);
	if (n <= 0)
		return KP_ERR_CORRUPT_MESSAGE;
	for (int i = 0; i < n && rc == 0; i++) {
		if (m[i].base_offset < next)
			rc = KP_ERR_OFFSET_OUT_OF_RANGE;
		next = m[i].last_offset + 1;
	}
	if (rc == 0)
		rc = do_append(log, data, len, m, n, now_ms < 0 ? kp_wall_ms() : now_ms,
			       info);
	if (info != NULL) {
		info->log_append_time = -1;
		info->duplicate = false;
	}
	if (m != stack)
		free(m);
	return rc;
}

/* ------------------------------------------------------------- read */

void log_read_done(struct log_read_result *res)
{
	if (res->seg != NULL)
		log_segment_unref(res->seg);
	res->seg = NULL;
	res->length = 0;
}

int log_read(struct log *log, int64_t offset, int64_t max_bytes,
	     int64_t max_offset, bool min_one_batch,
	     struct log_read_result *res)
{
	int64_t leo = log_end_offset(log), start = log_start_offset(log);
	int i;

	memset(res, 0, sizeof(*res));
	res->fd = -1;
	res->log_end_offset = leo;
	res->log_start_offset = start;
	if (log_is_offline(log))
		return KP_ERR_KAFKA_STORAGE_ERROR;
	if (offset < start || offset > leo)
		return KP_ERR_OFFSET_OUT_OF_RANGE;
	if (offset == leo || offset >= max_offset)
		return 0;
	pthread_mutex_lock(&log->lock);
	i = seg_floor(log, offset);
	for (; i < log->nsegs; i++) {
		struct log_segment *seg = log->segs[i];
		struct log_seg_pos bp, mp;
		int64_t end, len;
		int rc;

		log_segment_ref(seg);
		pthread_mutex_unlock(&log->lock);
		rc = log_segment_find(seg, offset, &bp);
		if (rc < 0) {
			log_segment_unref(seg);
			return KP_ERR_KAFKA_STORAGE_ERROR;
		}
		if (rc == 1) {		/* nothing at or after offset here */
			log_segment_unref(seg);
			pthread_mutex_lock(&log->lock);
			continue;
		}
		if (bp.base_offset >= max_offset) {
			log_segment_unref(seg);
			return 0;
		}
		end = log_segment_size(seg);
		if (max_offset != LOG_NO_LIMIT &&
		    log_segment_find(seg, max_offset, &mp) == 0 && mp.position < end)
			end = mp.position;
		len = end - bp.position;
		if (len > (min_one_batch && bp.size > max_bytes ? bp.size : max_bytes))
			len = min_one_batch && bp.size > max_bytes ? bp.size : max_bytes;
		if (len <= 0) {
			log_segment_unref(seg);
			return 0;
		}
		res->seg = seg;
		res->fd = seg->fd;
		res->position = bp.position;
		res->length = len;
		res->first_offset = bp.base_offset;
		return 0;
	}
	pthread_mutex_unlock(&log->lock);
	return 0;
}

int log_offset_for_timestamp(struct log *log, int64_t ts, int64_t *offset,
			     int64_t *timestamp)
{
	if (ts == LOG_TS_EARLIEST || ts == LOG_TS_LATEST) {
		*offset = ts == LOG_TS_EARLIEST ? log_start_offset(log)
						: log_end_offset(log);
		*timestamp = -1;
		return 0;
	}
	pthread_mutex_lock(&log->lock);
	for (int i = 0; i < log->nsegs; i++) {
		struct log_segment *seg = log->segs[i];
		int rc;

		if (seg->max_ts < ts)
			continue;
		log_segment_ref(seg);
		pthread_mutex_unlock(&log->lock);
		rc = log_segment_find_timestamp(seg, ts, offset, timestamp);
		log_segment_unref(seg);
		if (rc <= 0) {
			if (rc == 0 && *offset < log_start_offset(log))
				*offset = log_start_offset(log);
			return rc;
		}
		pthread_mutex_lock(&log->lock);
	}
	pthread_mutex_unlock(&log->lock);
	return 1;
}

/* ------------------------------------------------------------ flush */

int log_flush(struct log *log, int64_t offset)
{
	int rc = 0;

	if (offset > log_end_offset(log))
		offset = log_end_offset(log);
	/* the epochs of what becomes durable first */
	rc = log_epoch_sync(&log->epochs);
	if (rc < 0) {
		KP_ERROR("%s: leader-epoch-checkpoint: %s", log->dir, strerror(-rc));
		log_set_offline(log);
		return rc;
	}
	if (offset <= log->recovery_point)
		return 0;
	for (int i = seg_floor(log, log->recovery_point); i < log->nsegs; i++) {
		struct log_segment *seg = log->segs[i];

		if (seg->base_offset >= offset)
			break;
		rc = log_segment_flush(seg);
		if (rc < 0) {
			/* after a failed fsync the page cache may have dropped
			 * the dirty pages: what was written is unknown */
			KP_ERROR("%s: flush: %s", log->dir, strerror(-rc));
			log_set_offline(log);
			return rc;
		}
	}
	log->recovery_point = offset;
	log->last_flush_ms = kp_now_ms();
	return 0;
}

void log_mark_flushed(struct log *log)
{
	log->epochs.unsynced = false;
	log->recovery_point = log_end_offset(log);
	log->last_flush_ms = kp_now_ms();
}

int log_maybe_flush(struct log *log, int64_t now_ms)
{
	if (log->cfg.flush_ms == LOG_NO_LIMIT ||
	    now_ms - log->last_flush_ms < log->cfg.flush_ms)
		return 0;
	log->last_flush_ms = now_ms;
	return log_flush(log, log_end_offset(log));
}

int log_flush_rolled_begin(struct log *log, struct log_flush_job *job)
{
	int64_t target = active_seg(log)->base_offset;
	int from, to;

	memset(job, 0, sizeof(*job));
	if (target <= log->recovery_point)
		return 0;
	from = seg_floor(log, log->recovery_point);
	to = log->nsegs - 1;
	if (to <= from)
		return 0;
	job->segs = malloc((size_t)(to - from) * sizeof(*job->segs));
	if (job->segs == NULL)
		return -ENOMEM;
	for (int i = from; i < to; i++) {
		log_segment_ref(log->segs[i]);
		job->segs[job->n++] = log->segs[i];
	}
	job->offset = target;
	job->truncations = log->truncations;
	return job->n;
}

int log_flush_job_run(struct log_flush_job *job)
{
	for (int i = 0; i < job->n; i++) {
		int rc = log_segment_flush(job->segs[i]);

		if (rc < 0)
			return rc;
	}
	return 0;
}

void log_flush_rolled_end(struct log *log, struct log_flush_job *job, int rc)
{
	if (log != NULL && rc < 0)
		KP_ERROR("%s: flushing rolled segments: %s", log->dir, strerror(-rc));
	if (log != NULL && rc == 0 && log->truncations == job->truncations &&
	    job->offset > log->recovery_point && job->offset <= log_end_offset(log)) {
		/* the epochs of what becomes durable first */
		rc = log_epoch_sync(&log->epochs);
		if (rc < 0)
			KP_ERROR("%s: leader-epoch-checkpoint: %s", log->dir,
				 strerror(-rc));
		else
			log->recovery_point = job->offset;
	}
	for (int i = 0; i < job->n; i++)
		log_segment_unref(job->segs[i]);
	free(job->segs);
	memset(job, 0, sizeof(*job));
}

int64_t log_first_base(struct log *log)
{
	int64_t base;

	pthread_mutex_lock(&log->lock);
	base = log->segs[0]->base_offset;
	pthread_mutex_unlock(&log->lock);
	return base;
}

/* ------------------------------------------------------------ cleaning */

static int64_t seg_largest_ts(const struct log_segment *seg);

/*
 * Segments [0, k) may be cleaned: whole segments below the active one,
 * ending at or below the high watermark, none newer than
 * min.compaction.lag.ms.
 */
static int cleanable_prefix(struct log *log, int64_t hw, int64_t now_wall)
{
	int k = 0;

	while (k < log->nsegs - 1 && log->segs[k + 1]->base_offset <= hw &&
	       (log->cfg.min_compaction_lag_ms <= 0 ||
		now_wall - seg_largest_ts(log->segs[k]) >= log->cfg.min_compaction_lag_ms))
		k++;
	return k;
}

int log_clean_range_get(struct log *log, int64_t hw, int64_t now_wall,
			bool take, struct log_clean_range *r)
{
	int k = cleanable_prefix(log, hw, now_wall);
	int64_t first_dirty = atomic_load(&log->first_dirty);

	memset(r, 0, sizeof(*r));
	if (first_dirty < log_start_offset(log))
		first_dirty = log_start_offset(log);
	r->first_dirty_idx = k;
	for (int i = 0; i < k; i++) {
		int64_t size = log_segment_size(log->segs[i]);

		/* a segment holding anything at or past first_dirty is dirty */
		if (log->segs[i + 1]->base_offset > first_dirty) {
			if (r->first_dirty_idx == k) {
				r->first_dirty_idx = i;
				if (log->cfg.max_compaction_lag_ms != LOG_NO_LIMIT &&
				    now_wall - seg_largest_ts(log->segs[i]) >
				    log->cfg.max_compaction_lag_ms)
					r->overdue = true;
			}
			r->dirty_bytes += size;
		} else {
			r->clean_bytes += size;
		}
	}
	if (r->dirty_bytes == 0 || !take)
		return 0;
	r->segs = malloc((size_t)k * sizeof(*r->segs));
	if (r->segs == NULL)
		return -ENOMEM;
	for (int i = 0; i < k; i++) {
		log_segment_ref(log->segs[i]);
		r->segs[i] = log->segs[i];
	}
	r->n = k;
	r->end = log->segs[k]->base_offset;
	r->truncations = log->truncations;
	return 0;
}

void log_clean_range_release(struct log_clean_range *r)
{
	for (int i = 0; i < r->n; i++)
		log_segment_unref(r->segs[i]);
	free(r->segs);
	memset(r, 0, sizeof(*r));
}

int log_replace_segment(struct log *log, const struct log_clean_range *r,
			struct log_segment *old, struct log_segment *cleaned)
{
	int i, rc;

	if (log->truncations != r->truncations)
		return -ESTALE;
	i = seg_floor(log, old->base_offset);
	if (log->segs[i] != old || i == log->nsegs - 1)
		return -ESTALE;		/* deleted or rolled over meanwhile */
	rc = log_segment_swap_in(cleaned);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&log->lock);
	log->segs[i] = cleaned;
	pthread_mutex_unlock(&log->lock);
	log_segment_unref(old);		/* the list's reference */
	return 0;
}

/* -------------------------------------------------------- truncation */

int log_truncate_to(struct log *log, int64_t offset)
{
	int i;
	int64_t cut, leo;

	if (offset < 0)
		return -EINVAL;
	if (offset >= log_end_offset(log)) {
		log_epoch_truncate_end(&log->epochs, log_end_offset(log));
		return 0;
	}
	if (offset < log->segs[0]->base_offset)
		return log_truncate_fully_and_start_at(log, offset);
	log->truncations++;
	i = seg_floor(log, offset);
	/* segments entirely after offset go */
	if (i + 1 < log->nsegs) {
		drop_segments(log, i + 1, log->nsegs);
		log_segment_set_active(log->segs[i], true);
	}
	cut = log_segment_truncate_to(log->segs[i], offset);
	if (cut < 0) {
		KP_ERROR("%s: truncate to %" PRId64 ": %s", log->dir, offset,
			 strerror((int)-cut));
		return (int)cut;
	}
	leo = log_segment_next_offset(log->segs[i]);
	atomic_store_explicit(&log->leo, leo, memory_order_release);
	if (log_start_offset(log) > leo)
		atomic_store_explicit(&log->start_offset, leo, memory_order_release);
	if (log->recovery_point > leo)
		log->recovery_point = leo;
	log_epoch_truncate_end(&log->epochs, leo);
	KP_INFO("%s: truncated to offset %" PRId64, log->dir, leo);
	/* as Kafka: the aborted transactions and the producer state as of
	 * the new end */
	if (log_txnidx_truncate(&log->aborted, log->dir, log->segs[i]->base_offset,
				leo) < 0)
		KP_WARN("%s: cutting the aborted transactions index failed", log->dir);
	if (load_producers(log, leo) < 0)
		KP_WARN("%s: producer state incomplete after the truncation", log->dir);
	return 0;
}

int log_truncate_fully_and_start_at(struct log *log, int64_t offset)
{
	int rc;

	log->truncations++;
	/* readers check offsets against these before looking for segments */
	atomic_store_explicit(&log->leo, offset, memory_order_release);
	atomic_store_explicit(&log->start_offset, offset, memory_order_release);
	/* the old segments go first: one of them may sit at this base */
	drop_segments(log, 0, log->nsegs);
	rc = new_segment(log, offset);
	if (rc < 0)
		return rc;
	atomic_store_explicit(&log->start_offset, offset, memory_order_release);
	log->recovery_point = offset;
	log_epoch_clear(&log->epochs);
	/* Kafka's truncateFullyAndStartAt: no state, no snapshots */
	{
		int64_t *offs;
		int n;

		pstate_clear(&log->producers);
		if (pstate_list_snapshots(log->dir, &offs, &n) == 0) {
			for (int i = 0; i < n; i++) {
				char sp[PATH_MAX];

				pstate_snapshot_path(sp, sizeof(sp), log->dir, offs[i]);
				unlink(sp);
			}
			free(offs);
		}
		log->producers.last_snap = 0;
		log->producers.map_end = offset;
		update_first_unstable(log);
	}
	KP_INFO("%s: emptied; the log now starts at %" PRId64, log->dir, offset);
	return 0;
}

int log_advance_start_offset(struct log *log, int64_t offset)
{
	int drop = 0;

	if (offset > log_end_offset(log))
		return KP_ERR_OFFSET_OUT_OF_RANGE;
	if (offset <= log_start_offset(log))
		return 0;
	atomic_store_explicit(&log->start_offset, offset, memory_order_release);
	log_epoch_truncate_start(&log->epochs, offset);
	if (log->producers.map_end < offset)
		log->producers.map_end = offset;
	/* whole segments below the new start go (never the active one) */
	while (drop + 1 < log->nsegs && log->segs[drop + 1]->base_offset <= offset)
		drop++;
	drop_segments(log, 0, drop);
	return 0;
}

/* ---------------------------------------------------------- retention */

static int64_t seg_largest_ts(const struct log_segment *seg)
{
	struct stat st;

	if (log_ts_known(seg->max_ts))
		return seg->max_ts;
	/* as Kafka: no timestamps, so the file's modification time (and
	 * when even that cannot be read, the data is taken as new) */
	if (fstat(seg->fd, &st) < 0)
		return INT64_MAX;
	return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* Segments [0, k) all pass pred; k is returned. */
static int deletable_prefix(struct log *log, int64_t hw, int64_t now,
			    int which)
{
	int64_t total = 0;
	int k = 0;

	for (int i = 0; i < log->nsegs; i++)
		total += log_segment_size(log->segs[i]);
	for (; k < log->nsegs; k++) {
		struct log_segment *seg = log->segs[k];
		bool last = k == log->nsegs - 1;
		int64_t upper = last ? log_end_offset(log)
				     : log->segs[k + 1]->base_offset;
		bool ok;

		if (upper > hw || (last && log_segment_size(seg) == 0))
			break;
		switch (which) {
		case 0:
			ok = now - seg_largest_ts(seg) > log->cfg.retention_ms;
			break;
		case 1:
			ok = total - log_segment_size(seg) >= log->cfg.retention_bytes;
			break;
		default:
			ok = upper <= log_start_offset(log);
			break;
		}
		if (!ok)
			break;
		total -= log_segment_size(seg);
	}
	return k;
}

static int delete_prefix(struct log *log, int k, const char *why)
{
	int64_t start;

	if (k == 0)
		return 0;
	if (k == log->nsegs) {
		/* keep an (empty) active segment */
		if (roll(log, log_end_offset(log)) < 0)
			k--;
	}
	KP_INFO("%s: deleting %d segment(s) by %s", log->dir, k, why);
	drop_segments(log, 0, k);
	start = log->segs[0]->base_offset;
	if (start > log_start_offset(log)) {
		atomic_store_explicit(&log->start_offset, start, memory_order_release);
		log_epoch_truncate_start(&log->epochs, start);
	}
	return k;
}

int log_delete_old_segments(struct log *log, int64_t now_wall_ms,
			    int64_t high_watermark)
{
	int n = 0;

	if (log->cfg.delete_policy && log->cfg.retention_ms >= 0)
		n += delete_prefix(log, deletable_prefix(log, high_watermark,
							 now_wall_ms, 0),
				   "retention.ms");
	if (log->cfg.delete_policy && log->cfg.retention_bytes >= 0)
		n += delete_prefix(log, deletable_prefix(log, high_watermark,
							 now_wall_ms, 1),
				   "retention.bytes");
	n += delete_prefix(log, deletable_prefix(log, high_watermark, now_wall_ms, 2),
			   "log start offset");
	return n;
}

void log_reap_deleted(struct log *log, int64_t now_ms, bool all)
{
	struct log_doomed **pp = &log->doomed;

	while (*pp != NULL) {
		struct log_doomed *d = *pp;

		if (all || d->due_ms <= now_ms) {
			log_segment_unlink_files(d->base_path, ".deleted");
			*pp = d->next;
			free(d->base_path);
			free(d);
		} else {
			pp = &d->next;
		}
	}
}

void log_end_offset_for_epoch(struct log *log, int32_t epoch,
			      int32_t *epoch_out, int64_t *end_offset)
{
	log_epoch_end_offset(&log->epochs, epoch, log_end_offset(log),
			     epoch_out, end_offset);
}
