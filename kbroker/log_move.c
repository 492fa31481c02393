/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_move.c - replicas moving between this broker's log dirs; see
 * log_move.h.
 *
 * Locks: a partition's lock, then b->dirs_lock, then the table's mu (the
 * order LeaderAndIsr takes them in when it asks for a wished dir).  The
 * mover thread is the only one that creates, fills, closes or removes a
 * future log and the only one that removes a move; handlers add moves and
 * change their destination under mu; DescribeLogDirs reads the futures
 * under mu.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bg_thread.h"
#include "broker.h"
#include "config_layers.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "log.h"
#include "log_checkpoint.h"
#include "log_dir.h"
#include "log_move.h"
#include "metadata_cache.h"
#include "partition.h"
#include "quota.h"
#include "replica.h"

/* bytes copied per read; the last catch-up under the partition's lock
 * starts once a read returns less than half of it */
#define CHUNK (1 << 20)
/* chunks per move and round before the other moves get a turn */
#define CHUNKS_PER_ROUND 32
#define IDLE_MS 500
#define THROTTLED_MS 50
/* Kafka's dynamic broker key of the copies' disk rate */
#define RATE_KEY "replica.alter.log.dirs.io.max.bytes.per.second"
/* a replaced log stays open at least this long (handlers that saw it) */
#define RETIRE_MIN_MS 10000
#define FUTURE_SUFFIX "-future"
#define HEX_LEN 32
/* Kafka's limit on a future log's directory name (KAFKA-4893) */
#define MAX_DIR_NAME 255
/* copies that failed (read or append errors) before the move is given up */
#define MAX_FAILURES 5

struct move {
	struct move *next;
	char *topic;
	int32_t partition;
	struct log_dir *dest;		/* mu */
	/* the copy under way (future: also mu for DescribeLogDirs) */
	struct log *future;
	struct log_dir *future_dir;
	char future_name[MAX_DIR_NAME + 1];
	struct log *src;		/* the log it copies */
	uint64_t truncations;		/* src's when the copy started */
	bool restart;			/* next read from src's log start */
	bool near_end;			/* the last read was short */
	bool done;			/* to be removed */
	int failures;			/* copies dropped after an error */
};

/* A replaced log waiting to be closed and its dir removed. */
struct retired {
	struct retired *next;
	struct log *log;
	char *path;
	int64_t due_ms;			/* monotonic */
};

struct log_moves {
	struct broker *b;
	struct bg_thread bg;
	pthread_mutex_t mu;
	struct move *list;
	struct retired *retired;	/* the mover's */
	uint8_t *buf;			/* CHUNK bytes */
	/* RATE_KEY: the copies' bytes (the last catch-up under the
	 * partition's lock is not held back) */
	struct quota io;
	bool throttled;			/* the mover's: waiting for io */
};

static struct log_moves *moves_of(struct broker *b)
{
	return b->moves;
}

static int dir_name(char *buf, size_t n, const char *topic, int32_t partition)
{
	return log_dir_name(buf, n, topic, partition);
}

/* ------------------------------------------------------------ batches */

size_t log_move_whole_batches(const uint8_t *buf, size_t len)
{
	size_t pos = 0;

	/* v2 (and v0/v1) framing: base offset (8), length (4), then length
	 * bytes */
	while (len - pos >= 12) {
		uint32_t blen = (uint32_t)buf[pos + 8] << 24 | (uint32_t)buf[pos + 9] << 16 |
				(uint32_t)buf[pos + 10] << 8 | buf[pos + 11];

		if (blen > len - pos - 12)
			break;
		pos += 12 + blen;
	}
	return pos;
}

/* ------------------------------------------------------------- table */

static struct move *find_move(struct log_moves *m, const char *topic,
			      int32_t partition)
{
	for (struct move *mv = m->list; mv != NULL; mv = mv->next)
		if (mv->partition == partition && strcmp(mv->topic, topic) == 0)
			return mv;
	return NULL;
}

/* mu held: ask for topic/partition in dest (a new move or a new
 * destination).  -ENOMEM. */
static int wish(struct log_moves *m, const char *topic, int32_t partition,
		struct log_dir *dest)
{
	struct move *mv = find_move(m, topic, partition);

	if (mv != NULL) {
		mv->dest = dest;
		mv->done = false;
		mv->failures = 0;
		return 0;
	}
	mv = calloc(1, sizeof(*mv));
	if (mv == NULL || (mv->topic = strdup(topic)) == NULL) {
		free(mv);
		return -ENOMEM;
	}
	mv->partition = partition;
	mv->dest = dest;
	mv->next = m->list;
	m->list = mv;
	return 0;
}

struct log_dir *log_move_wished_dir(struct broker *b, const char *topic,
				    int32_t partition)
{
	struct log_moves *m = moves_of(b);
	struct log_dir *ld = NULL;
	struct move *mv;

	if (m == NULL)
		return NULL;
	pthread_mutex_lock(&m->mu);
	mv = find_move(m, topic, partition);
	if (mv != NULL && !log_dir_is_offline(mv->dest))
		ld = mv->dest;
	pthread_mutex_unlock(&m->mu);
	return ld;
}

void log_move_futures(struct broker *b, const struct log_dir *ld,
		      void (*fn)(const char *topic, int32_t partition,
				 int64_t size, int64_t lag, void *arg),
		      void *arg)
{
	struct log_moves *m = moves_of(b);

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	for (struct move *mv = m->list; mv != NULL; mv = mv->next) {
		struct partition *p;
		int64_t lag = 0;

		if (mv->future == NULL || mv->future_dir != ld)
			continue;
		/* Kafka's getLogEndOffsetLag for a future log: the current
		 * log's end minus the future's (a handler may use p->log
		 * without its lock: a replaced log stays open a while) */
		p = partition_find(&b->parts, mv->topic, strlen(mv->topic),
				   mv->partition);
		if (p != NULL && p->log != NULL)
			lag = log_end_offset(p->log) - log_end_offset(mv->future);
		fn(mv->topic, mv->partition, log_size_bytes(mv->future),
		   lag > 0 ? lag : 0, arg);
	}
	pthread_mutex_unlock(&m->mu);
}

/* ----------------------------------------------------------- request */

static struct log_dir *dir_by_path(struct broker *b, kp_str path)
{
	char want[PATH_MAX], have[PATH_MAX], *w;

	for (int i = 0; i < b->ndirs; i++)
		if ((size_t)path.len == strlen(b->dirs[i]->path) &&
		    memcmp(path.ptr, b->dirs[i]->path, (size_t)path.len) == 0)
			return b->dirs[i];
	/* Kafka compares absolute paths */
	if (path.len <= 0 || (size_t)path.len >= sizeof(want))
		return NULL;
	memcpy(want, path.ptr, (size_t)path.len);
	want[path.len] = 0;
	w = realpath(want, NULL);
	if (w == NULL)
		return NULL;
	for (int i = 0; i < b->ndirs; i++)
		if (realpath(b->dirs[i]->path, have) != NULL && strcmp(have, w) == 0) {
			free(w);
			return b->dirs[i];
		}
	free(w);
	return NULL;
}

static bool known_partition(struct broker *b, const char *topic, int32_t index)
{
	struct md_view *v = metadata_cache_get(&b->meta);
	const struct md_topic *t;
	bool yes;

	if (v == NULL)
		return false;
	t = md_view_topic(v, topic, strlen(topic));
	yes = t != NULL && index >= 0 && index < t->nparts;
	md_view_unref(v);
	return yes;
}

kp_err_t log_move_request(struct broker *b, kp_str dirpath, kp_str topic_s,
			  int32_t partition)
{
	struct log_moves *m = moves_of(b);
	char topic[256], name[MAX_DIR_NAME + 64];
	struct log_dir *dest, *cur = NULL;
	struct partition *p;
	bool hosted = false, some_offline = false, log_offline = false;
	int len, rc;

	if (topic_s.len <= 0 || (size_t)topic_s.len >= sizeof(topic) ||
	    memchr(topic_s.ptr, 0, (size_t)topic_s.len) != NULL)
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	memcpy(topic, topic_s.ptr, (size_t)topic_s.len);
	topic[topic_s.len] = 0;
	/* Kafka: the future dir's name must fit in 255 bytes */
	len = snprintf(name, sizeof(name), "%s-%" PRId32 ".%0*d%s", topic,
		       partition, HEX_LEN, 0, FUTURE_SUFFIX);
	if (len < 0 || len > MAX_DIR_NAME || partition < 0)
		return len > MAX_DIR_NAME ? KP_ERR_INVALID_TOPIC_EXCEPTION
					  : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	p = partition_find(&b->parts, topic, strlen(topic), partition);
	if (p != NULL)
		pthread_mutex_lock(&p->lock);
	pthread_mutex_lock(&b->dirs_lock);
	dest = dir_by_path(b, dirpath);
	for (int i = 0; i < b->ndirs; i++)
		some_offline |= log_dir_is_offline(b->dirs[i]);
	if (p != NULL && p->log != NULL && !p->deleting) {
		hosted = true;
		log_offline = log_is_offline(p->log);
		cur = log_dir_holding(b->dirs, b->ndirs, p->log);
	}
	if (dest == NULL) {
		rc = KP_ERR_LOG_DIR_NOT_FOUND;
	} else if (log_dir_is_offline(dest) || log_offline) {
		rc = KP_ERR_KAFKA_STORAGE_ERROR;
	} else if (m == NULL) {
		rc = KP_ERR_UNKNOWN_SERVER_ERROR;	/* not started */
	} else {
		/* remembered also for a partition not hosted yet: its log
		 * is then created there */
		pthread_mutex_lock(&m->mu);
		rc = wish(m, topic, partition, dest) < 0 ? KP_ERR_UNKNOWN_SERVER_ERROR : 0;
		pthread_mutex_unlock(&m->mu);
		if (rc == 0 && !hosted)
			rc = known_partition(b, topic, partition)
				? KP_ERR_REPLICA_NOT_AVAILABLE
				: KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		/* Kafka creates no future log while a dir is offline */
		else if (rc == 0 && cur != dest && some_offline)
			rc = KP_ERR_KAFKA_STORAGE_ERROR;
	}
	pthread_mutex_unlock(&b->dirs_lock);
	if (p != NULL)
		pthread_mutex_unlock(&p->lock);
	if (rc == 0 && cur != dest) {
		KP_INFO("%s-%" PRId32 ": moving to log dir %s", topic, partition,
			dest->path);
		pthread_mutex_lock(&m->bg.mu);
		pthread_cond_signal(&m->bg.cv);
		pthread_mutex_unlock(&m->bg.mu);
	}
	return (kp_err_t)rc;
}

/* ------------------------------------------------------------- mover */

static void retire(struct log_moves *m, struct log *log, char *path)
{
	struct retired *r = calloc(1, sizeof(*r));
	int64_t delay = log->cfg.file_delete_delay_ms;

	if (r == NULL) {	/* kept open: removed at the next start */
		free(path);
		return;
	}
	r->log = log;
	r->path = path;
	r->due_ms = kp_now_ms() + (delay > RETIRE_MIN_MS ? delay : RETIRE_MIN_MS);
	r->next = m->retired;
	m->retired = r;
}

static void reap(struct log_moves *m, bool all)
{
	int64_t now = kp_now_ms();

	for (struct retired **pp = &m->retired; *pp != NULL; ) {
		struct retired *r = *pp;

		if (!all && r->due_ms > now) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		log_close(r->log, false);
		log_dir_remove_tree(r->path);
		free(r->path);
		free(r);
	}
}

/* Close and remove mv's future log (the copy restarts, or the move
 * ends). */
static void drop_future(struct log_moves *m, struct move *mv, const char *why)
{
	struct log *f = mv->future;
	char path[PATH_MAX];

	if (f == NULL)
		return;
	KP_INFO("%s-%" PRId32 ": discarding the future log in %s (%s)", mv->topic,
		mv->partition, mv->future_dir->path, why);
	pthread_mutex_lock(&m->mu);
	mv->future = NULL;
	pthread_mutex_unlock(&m->mu);
	snprintf(path, sizeof(path), "%s", f->dir);
	log_close(f, false);
	log_dir_remove_tree(path);
	mv->future_dir = NULL;
	mv->src = NULL;
}

/* The move to dest is over (done, or given up: why); a handler may have
 * asked for another dest meanwhile, then it goes on. */
static void end_move(struct log_moves *m, struct move *mv, struct log_dir *dest,
		     const char *why)
{
	if (why != NULL)
		KP_WARN("%s-%" PRId32 ": moving to another log dir stopped: %s",
			mv->topic, mv->partition, why);
	drop_future(m, mv, why != NULL ? why : "done");
	pthread_mutex_lock(&m->mu);
	if (mv->dest == dest)
		mv->done = true;
	pthread_mutex_unlock(&m->mu);
}

/* Open an empty future log of src in dest (no lock held). */
static int open_future(struct log_moves *m, struct move *mv,
		       struct log_dir *dest, const struct log_config *cfg)
{
	char hex[HEX_LEN + 1];
	struct log *f;
	int rc;

	log_dir_random_hex(hex);
	snprintf(mv->future_name, sizeof(mv->future_name), "%s-%" PRId32 ".%s%s",
		 mv->topic, mv->partition, hex, FUTURE_SUFFIX);
	rc = log_dir_open_log(dest, mv->future_name, mv->topic, mv->partition,
			      cfg, -1, -1, false, &f);
	if (rc < 0) {
		KP_ERROR("%s/%s: %s", dest->path, mv->future_name, strerror(-rc));
		return rc;
	}
	mv->future_dir = dest;
	pthread_mutex_lock(&m->mu);	/* DescribeLogDirs sees it */
	mv->future = f;
	pthread_mutex_unlock(&m->mu);
	mv->restart = true;
	mv->near_end = false;
	return 0;
}

/*
 * The bytes one copy step reads: a chunk, or under a rate limit a tenth
 * of a second's worth (at least a page), so a throttled move keeps to its
 * rate from the start instead of copying a small log in one step of a
 * whole chunk before the quota is ever looked at.
 */
static size_t step_bytes(struct log_moves *m)
{
	int64_t lim = atomic_load(&m->io.limit);

	if (lim == QUOTA_UNLIMITED || lim / 10 >= CHUNK)
		return CHUNK;
	return lim / 10 < 4096 ? 4096 : (size_t)(lim / 10);
}

/*
 * Copy one chunk from src (held under p->lock by the caller, who passes
 * it in locked; unlocked on return when unlock) into the future log.
 * 1 copied, 0 nothing to copy, <0 error (the copy restarts or ends).
 */
static int copy_chunk(struct log_moves *m, struct move *mv, struct partition *p,
		      struct log *src, bool unlock)
{
	struct log_read_result res;
	int64_t from = mv->restart ? log_start_offset(src) : log_end_offset(mv->future);
	size_t max = step_bytes(m), got, whole;
	ssize_t n;
	int rc;

	rc = log_read(src, from, (int32_t)max, LOG_NO_LIMIT, true, &res);
	if (unlock)
		pthread_mutex_unlock(&p->lock);
	if (rc == KP_ERR_OFFSET_OUT_OF_RANGE && !mv->restart) {
		/* the log start moved past the copy */
		mv->restart = true;
		return 1;
	}
	if (rc != 0)
		return -EIO;
	if (res.seg == NULL)
		return 0;
	got = (size_t)res.length > max ? max : (size_t)res.length;
	if ((size_t)res.length > max) {
		/* one batch larger than a step: read it whole */
		uint8_t *nb = realloc(m->buf, (size_t)res.length);

		if (nb == NULL) {
			log_read_done(&res);
			return -ENOMEM;
		}
		m->buf = nb;
		got = (size_t)res.length;
	}
	n = pread(res.fd, m->buf, got, res.position);
	log_read_done(&res);
	if (n < 0 || (size_t)n != got)
		return -EIO;
	whole = log_move_whole_batches(m->buf, got);
	if (whole == 0)
		return -EIO;
	mv->near_end = got < max / 2;
	quota_record(&m->io, (int64_t)whole, kp_now_ms());
	if (mv->restart) {
		/* an empty future log at that offset already needs nothing */
		if (log_end_offset(mv->future) != res.first_offset ||
		    log_start_offset(mv->future) != res.first_offset)
			rc = log_truncate_fully_and_start_at(mv->future, res.first_offset);
		if (rc < 0)
			return rc;
		mv->restart = false;
	}
	rc = log_append_follower(mv->future, m->buf, whole, -1, NULL);
	return rc == 0 ? 1 : -EIO;
}

/*
 * The future log replaces src in p (p->lock held, src == p->log and
 * caught up).  0, or <0 with everything as it was.
 */
static int swap(struct log_moves *m, struct move *mv, struct partition *p,
		struct log *src, struct log_dir *cur)
{
	struct broker *b = m->b;
	struct log *f = mv->future, *nl = NULL;
	struct log_config cfg = src->cfg;
	char name[300], from[PATH_MAX], doomed[PATH_MAX + 64], to[PATH_MAX];
	char hex[HEX_LEN + 1];
	int64_t start = log_start_offset(src), leo = log_end_offset(src);
	int64_t first_dirty = atomic_load(&src->first_dirty);
	kp_uuid zero;
	int rc;

	if (start > log_start_offset(f) && (rc = log_advance_start_offset(f, start)) != 0)
		return rc > 0 ? -EIO : rc;
	log_hw_moved(f, atomic_load(&p->hw));
	memset(&zero, 0, sizeof(zero));
	if (memcmp(&src->topic_id, &zero, sizeof(zero)) != 0 &&
	    log_assign_topic_id(f, &src->topic_id) < 0)
		return -EIO;
	rc = log_snapshot_producers(f);
	if (rc == 0)
		rc = log_flush(f, log_end_offset(f));
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&m->mu);
	mv->future = NULL;
	pthread_mutex_unlock(&m->mu);
	snprintf(from, sizeof(from), "%s", f->dir);
	start = log_start_offset(f);
	log_close(f, true);
	dir_name(name, sizeof(name), mv->topic, mv->partition);
	snprintf(to, sizeof(to), "%s/%s", mv->future_dir->path, name);
	log_dir_random_hex(hex);
	snprintf(doomed, sizeof(doomed), "%s.%s-delete", src->dir, hex);

	pthread_mutex_lock(&b->dirs_lock);
	/* the order a crash can cut anywhere: the future log is whole on
	 * disk; the current one goes; the future takes its name */
	if (rename(src->dir, doomed) < 0) {
		rc = -errno;
		pthread_mutex_unlock(&b->dirs_lock);
		log_dir_remove_tree(from);
		return rc;
	}
	log_fsync_dir(cur->path);
	if (rename(from, to) < 0 ||
	    log_dir_open_log(mv->future_dir, name, mv->topic, mv->partition, &cfg,
			     leo, start, true, &nl) < 0 ||
	    log_dir_adopt(mv->future_dir, nl) < 0) {
		rc = -EIO;
		KP_ERROR("%s-%" PRId32 ": cannot open the moved log in %s; keeping "
			 "the current one", mv->topic, mv->partition, mv->future_dir->path);
		if (nl != NULL)
			log_close(nl, false);
		if (rename(to, from) == 0 || errno == ENOENT)
			log_dir_remove_tree(from);
		if (rename(doomed, src->dir) < 0)
			KP_ERROR("%s: cannot rename it back to %s: %s", doomed, src->dir,
				 strerror(errno));
		log_fsync_dir(cur->path);
		pthread_mutex_unlock(&b->dirs_lock);
		return rc;
	}
	log_fsync_dir(mv->future_dir->path);
	atomic_store(&nl->first_dirty, first_dirty);
	/* transactions the high watermark passed are stable in it too */
	log_hw_moved(nl, atomic_load(&p->hw));
	log_dir_forget(cur, src);
	p->log = nl;
	pthread_mutex_unlock(&b->dirs_lock);
	retire(m, src, strdup(doomed));
	KP_INFO("%s-%" PRId32 ": moved from %s to %s (offsets %" PRId64 " to %" PRId64
		")", mv->topic, mv->partition, cur->path, mv->future_dir->path, start,
		leo);
	return 0;
}

/* After a swap: both dirs' checkpoints name the log where it is now. */
static void checkpoint_dirs(struct broker *b, struct log_dir *a, struct log_dir *c)
{
	replica_checkpoint_hw(b);
	pthread_mutex_lock(&b->dirs_lock);
	log_dir_checkpoint(a);
	log_dir_checkpoint(c);
	pthread_mutex_unlock(&b->dirs_lock);
}

/* A copy failed with rc: dropped, and tried again unless it failed too
 * often. */
static bool failed(struct log_moves *m, struct move *mv, struct log_dir *dest, int rc)
{
	if (++mv->failures >= MAX_FAILURES) {
		end_move(m, mv, dest, strerror(-rc));
		return false;
	}
	drop_future(m, mv, strerror(-rc));
	return true;
}

/* Work on one move: true when there is more to do at once. */
static bool step(struct log_moves *m, struct move *mv)
{
	struct broker *b = m->b;
	struct partition *p;
	struct log_dir *dest, *cur;
	struct log *src;
	struct log_config cfg;
	int rc;

	pthread_mutex_lock(&m->mu);
	dest = mv->dest;
	pthread_mutex_unlock(&m->mu);
	if (mv->future != NULL && mv->future_dir != dest)
		drop_future(m, mv, "another destination was asked for");
	p = partition_find(&b->parts, mv->topic, strlen(mv->topic), mv->partition);
	if (p == NULL)
		return false;		/* a wish until the partition comes */
	pthread_mutex_lock(&p->lock);
	src = p->deleting ? NULL : p->log;
	if (src == NULL) {
		pthread_mutex_unlock(&p->lock);
		drop_future(m, mv, "the replica is gone");
		return false;
	}
	pthread_mutex_lock(&b->dirs_lock);
	cur = log_dir_holding(b->dirs, b->ndirs, src);
	pthread_mutex_unlock(&b->dirs_lock);
	if (cur == dest) {
		pthread_mutex_unlock(&p->lock);
		end_move(m, mv, dest, NULL);
		return false;
	}
	if (cur == NULL || log_is_offline(src) || log_dir_is_offline(dest)) {
		pthread_mutex_unlock(&p->lock);
		end_move(m, mv, dest, "a log dir is offline");
		return false;
	}
	if (mv->future != NULL &&
	    (mv->src != src || src->truncations != mv->truncations)) {
		pthread_mutex_unlock(&p->lock);
		drop_future(m, mv, "the current log was truncated or replaced");
		return true;
	}
	if (mv->future == NULL) {
		cfg = src->cfg;
		mv->src = src;
		mv->truncations = src->truncations;
		pthread_mutex_unlock(&p->lock);
		if (open_future(m, mv, dest, &cfg) < 0) {
			end_move(m, mv, dest, "cannot create the future log");
			return false;
		}
		return true;
	}
	if (mv->near_end && !mv->restart) {
		/* the rest under the lock: appends wait for this much */
		rc = 1;
		while (rc > 0 && !mv->restart &&
		       log_end_offset(mv->future) < log_end_offset(src))
			rc = copy_chunk(m, mv, p, src, false);
		if (rc == 0 && log_end_offset(mv->future) < log_end_offset(src))
			rc = -EIO;	/* nothing to read below the end: copy again */
		if (rc < 0) {
			pthread_mutex_unlock(&p->lock);
			return failed(m, mv, dest, rc);
		}
		if (!mv->restart && log_end_offset(mv->future) >= log_end_offset(src)) {
			struct log_dir *from = cur, *to = mv->future_dir;

			rc = swap(m, mv, p, src, cur);
			pthread_mutex_unlock(&p->lock);
			if (rc < 0) {
				end_move(m, mv, dest, "the swap failed");
				return false;
			}
			if (b->purg != NULL)
				purgatory_notify(b->purg, &p->watchers);
			checkpoint_dirs(b, from, to);
			mv->future_dir = NULL;
			mv->src = NULL;
			end_move(m, mv, dest, NULL);
			return false;
		}
		pthread_mutex_unlock(&p->lock);
		return true;
	}
	if (quota_exceeded(&m->io, kp_now_ms())) {
		pthread_mutex_unlock(&p->lock);
		m->throttled = true;
		return false;
	}
	rc = copy_chunk(m, mv, p, src, true);
	if (rc < 0)
		return failed(m, mv, dest, rc);
	if (rc == 0)
		mv->near_end = true;
	return true;
}

static void remove_done(struct log_moves *m)
{
	pthread_mutex_lock(&m->mu);
	for (struct move **pp = &m->list; *pp != NULL; ) {
		struct move *mv = *pp;

		if (mv->done && mv->future == NULL) {
			*pp = mv->next;
			free(mv->topic);
			free(mv);
		} else {
			pp = &mv->next;
		}
	}
	pthread_mutex_unlock(&m->mu);
}

static void *mover(void *arg)
{
	struct log_moves *m = arg;

	while (!bg_thread_stopping(&m->bg)) {
		bool busy = false;
		struct move *mv;

		pthread_mutex_lock(&m->mu);
		mv = m->list;
		pthread_mutex_unlock(&m->mu);
		/* entries are only removed here; new ones go at the head */
		for (; mv != NULL && !bg_thread_stopping(&m->bg); mv = mv->next) {
			for (int i = 0; i < CHUNKS_PER_ROUND && !mv->done; i++) {
				bool more = step(m, mv);

				busy |= more;
				if (!more)
					break;
			}
		}
		remove_done(m);
		reap(m, false);
		if (!busy)
			bg_thread_sleep(&m->bg, m->throttled ? THROTTLED_MS : IDLE_MS);
		m->throttled = false;
	}
	return NULL;
}

/* ---------------------------------------------------------- recovery */

/* "<topic>-<partition>.<32 hex>-future": the topic and partition. */
static bool parse_future(const char *name, char *topic, size_t n, int32_t *partition)
{
	size_t len = strlen(name), sl = strlen(FUTURE_SUFFIX);
	char base[300];

	if (len <= sl + HEX_LEN + 1 || len - sl - HEX_LEN - 1 >= sizeof(base) ||
	    strcmp(name + len - sl, FUTURE_SUFFIX) != 0 ||
	    name[len - sl - HEX_LEN - 1] != '.')
		return false;
	memcpy(base, name, len - sl - HEX_LEN - 1);
	base[len - sl - HEX_LEN - 1] = 0;
	return log_parse_dir_name(base, topic, n, partition) == 0;
}

static struct log *find_log(struct broker *b, const char *topic, int32_t partition)
{
	for (int i = 0; i < b->ndirs; i++) {
		struct log *log = log_dir_find(b->dirs[i], topic, partition);

		if (log != NULL)
			return log;
	}
	return NULL;
}

/* One "-future" dir found at start. */
static void recover_one(struct log_moves *m, struct log_dir *ld, const char *entry)
{
	struct broker *b = m->b;
	char topic[256], name[300], from[PATH_MAX], to[PATH_MAX];
	int32_t partition;
	struct log_config cfg;
	struct log *log;
	int64_t start = -1;
	int rc;

	snprintf(from, sizeof(from), "%s/%s", ld->path, entry);
	if (!parse_future(entry, topic, sizeof(topic), &partition)) {
		KP_WARN("%s: ignoring %s (not <topic>-<partition>.<id>-future)",
			ld->path, entry);
		return;
	}
	if (find_log(b, topic, partition) != NULL) {
		/* the current log is intact: copy again once it is hosted */
		KP_INFO("%s: the move of %s-%" PRId32 " here was not finished; "
			"starting it again", ld->path, topic, partition);
		log_dir_remove_tree(from);
		pthread_mutex_lock(&m->mu);
		if (wish(m, topic, partition, ld) < 0)
			KP_ERROR("%s-%" PRId32 ": out of memory", topic, partition);
		pthread_mutex_unlock(&m->mu);
		return;
	}
	/* the current log was already renamed away: the future is whole */
	dir_name(name, sizeof(name), topic, partition);
	snprintf(to, sizeof(to), "%s/%s", ld->path, name);
	KP_INFO("%s: finishing the move of %s-%" PRId32 " here", ld->path, topic,
		partition);
	if (rename(from, to) < 0) {
		KP_ERROR("%s: cannot rename it to %s: %s", from, to, strerror(errno));
		return;
	}
	log_fsync_dir(ld->path);
	for (int i = 0; i < b->ndirs && start < 0; i++)
		start = log_checkpoint_get(&b->dirs[i]->starts, topic, partition, -1);
	log_config_defaults(&cfg);	/* LeaderAndIsr gives the topic's */
	rc = log_dir_open_log(ld, name, topic, partition, &cfg, -1, start, false, &log);
	if (rc == 0 && (rc = log_dir_adopt(ld, log)) < 0)
		log_close(log, false);
	if (rc < 0)
		KP_ERROR("%s: cannot open %s: %s", ld->path, name, strerror(-rc));
}

static void recover(struct log_moves *m)
{
	struct broker *b = m->b;

	for (int i = 0; i < b->ndirs; i++) {
		struct log_dir *ld = b->dirs[i];
		DIR *d;
		struct dirent *de;
		char **names = NULL;
		size_t n = 0;

		if (log_dir_is_offline(ld) || (d = opendir(ld->path)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			size_t len = strlen(de->d_name), sl = strlen(FUTURE_SUFFIX);
			char **nn;

			if (len <= sl || strcmp(de->d_name + len - sl, FUTURE_SUFFIX) != 0)
				continue;
			nn = realloc(names, (n + 1) * sizeof(*nn));
			if (nn == NULL)
				break;
			names = nn;
			if ((names[n] = strdup(de->d_name)) != NULL)
				n++;
		}
		closedir(d);
		for (size_t k = 0; k < n; k++) {
			recover_one(m, ld, names[k]);
			free(names[k]);
		}
		free(names);
	}
}

int log_move_start(struct broker *b, char *err, size_t n)
{
	struct log_moves *m = calloc(1, sizeof(*m));
	int rc;

	if (m == NULL || (m->buf = malloc(CHUNK)) == NULL) {
		free(m);
		snprintf(err, n, "out of memory");
		return -1;
	}
	m->b = b;
	pthread_mutex_init(&m->mu, NULL);
	quota_init(&m->io);
	if (b->layers != NULL)
		quota_set_limit(&m->io, config_layers_long(b->layers, RATE_KEY));
	b->moves = m;
	recover(m);
	rc = bg_thread_start(&m->bg, "log-mover", mover, m);
	if (rc != 0) {
		snprintf(err, n, "cannot start the log mover: %s", strerror(rc));
		b->moves = NULL;
		quota_destroy(&m->io);
		free(m->buf);
		free(m);
		return -1;
	}
	return 0;
}

void log_move_stop(struct broker *b)
{
	struct log_moves *m = moves_of(b);

	if (m == NULL)
		return;
	bg_thread_stop(&m->bg);
	b->moves = NULL;
	while (m->list != NULL) {
		struct move *mv = m->list;

		m->list = mv->next;
		if (mv->future != NULL) {
			/* left on disk: the next start copies again */
			log_close(mv->future, true);
		}
		free(mv->topic);
		free(mv);
	}
	reap(m, true);
	pthread_mutex_destroy(&m->mu);
	quota_destroy(&m->io);
	free(m->buf);
	free(m);
}

void log_move_set_rate(struct broker *b, int64_t bytes_per_sec)
{
	struct log_moves *m = moves_of(b);

	if (m != NULL)
		quota_set_limit(&m->io, bytes_per_sec);
}
