/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_manager.c - retention, flushes of rolled segments, flush.ms,
 * removal of .deleted files and the offset checkpoints, on one thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bg_thread.h"
#include "broker.h"
#include "kp_log.h"
#include "log.h"
#include "log_dir.h"
#include "log_manager.h"

/* Kafka's InitialTaskDelayMs: the first retention round waits this much */
#define INITIAL_DELAY_MS 30000
/* rolled segments are flushed and .deleted files removed this soon */
#define TICK_MS 1000
/* Kafka 2.8's producer.id.expiration.check.interval.ms (an internal key):
 * idle producer ids (transactional.id.expiration.ms) are forgotten on
 * rounds this far apart */
#define PRODUCER_EXPIRY_CHECK_MS 600000

struct log_manager {
	struct broker *b;
	struct bg_thread bg;
	int64_t retention_ms;		/* log.retention.check.interval.ms */
	int64_t flush_ms;		/* log.flush.scheduler.interval.ms */
	int64_t recovery_cp_ms;		/* log.flush.offset.checkpoint.interval.ms */
	int64_t start_cp_ms;		/* log.flush.start.offset.checkpoint.interval.ms */
	/* this round's partitions (reused) */
	struct partition **parts;
	size_t cap;
	/* the tick's walk is skipped while log_maintenance_gen() stays at
	 * walked_gen and no log was left waiting (log.h) */
	uint64_t walked_gen;
	bool waiting;
};

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}


/*
 * The fsync of what rolled happens without the partition's lock: the
 * segments are referenced, and the recovery point only moves when the
 * partition still holds the same log, untruncated.
 */
static void flush_rolled(struct partition *p)
{
	struct log_flush_job job;
	struct log *log;
	int rc;

	pthread_mutex_lock(&p->lock);
	log = p->deleting ? NULL : p->log;
	rc = log != NULL ? log_flush_rolled_begin(log, &job) : 0;
	pthread_mutex_unlock(&p->lock);
	if (rc <= 0) {
		if (rc < 0)
			KP_WARN("%s-%d: flushing rolled segments: %s", p->topic,
				p->index, strerror(-rc));
		return;
	}
	rc = log_flush_job_run(&job);
	pthread_mutex_lock(&p->lock);
	log_flush_rolled_end(p->log == log && !p->deleting ? log : NULL, &job, rc);
	pthread_mutex_unlock(&p->lock);
}

/* Returns whether a log still waits for the tick. */
static bool round_partitions(struct log_manager *m, bool retention, bool flush,
			     bool expire)
{
	int64_t now = kp_now_ms(), wall = kp_wall_ms();
	long n = partition_list(&m->b->parts, &m->parts, &m->cap);
	bool waiting = n < 0;	/* no list: try again */

	for (long i = 0; i < n; i++) {
		struct partition *p = m->parts[i];

		flush_rolled(p);
		pthread_mutex_lock(&p->lock);
		if (p->log != NULL && !p->deleting) {
			if (retention)
				log_delete_old_segments(p->log, wall, atomic_load(&p->hw));
			if (flush && log_maybe_flush(p->log, now) < 0)
				KP_WARN("%s-%d: flush.ms flush failed", p->topic, p->index);
			log_reap_deleted(p->log, now, false);
			if (expire) {
				size_t n_gone = log_expire_producers(p->log, wall);

				if (n_gone > 0)
					KP_INFO("%s-%d: %zu idle producer id(s) expired",
						p->topic, p->index, n_gone);
			}
			waiting |= log_maintenance_pending(p->log);
		}
		pthread_mutex_unlock(&p->lock);
	}
	return waiting;
}

static void checkpoint_dirs(struct broker *b)
{
	pthread_mutex_lock(&b->dirs_lock);
	for (int d = 0; d < b->ndirs; d++)
		log_dir_checkpoint(b->dirs[d]);	/* logs its own errors */
	pthread_mutex_unlock(&b->dirs_lock);
}

static void *run(void *arg)
{
	struct log_manager *m = arg;
	int64_t now = kp_now_ms();
	int64_t next_retention = now + min64(INITIAL_DELAY_MS, m->retention_ms);
	int64_t next_flush = now + min64(INITIAL_DELAY_MS, m->flush_ms);
	int64_t cp_every = min64(m->recovery_cp_ms, m->start_cp_ms);
	int64_t next_cp = now + cp_every;
	int64_t next_expiry = now + PRODUCER_EXPIRY_CHECK_MS;

	while (bg_thread_sleep(&m->bg, min64(TICK_MS, min64(next_retention,
							     min64(next_flush, next_cp)) - now))) {
		bool retention, flush, expire;

		uint64_t gen = log_maintenance_gen();

		now = kp_now_ms();
		retention = now >= next_retention;
		flush = now >= next_flush;
		expire = now >= next_expiry;
		/* an idle broker's logs neither roll nor delete: the tick has
		 * nothing to do for 10,000 of them */
		if (retention || flush || expire || m->waiting || gen != m->walked_gen) {
			m->walked_gen = gen;
			m->waiting = round_partitions(m, retention, flush, expire);
		}
		if (expire)
			next_expiry = now + PRODUCER_EXPIRY_CHECK_MS;
		if (retention)
			next_retention = now + m->retention_ms;
		if (flush)
			next_flush = now + m->flush_ms;
		if (cp_every > 0 && now >= next_cp) {
			checkpoint_dirs(m->b);
			next_cp = now + cp_every;
		}
		now = kp_now_ms();
	}
	return NULL;
}

int log_manager_start(struct broker *b, char *err, size_t n)
{
	struct log_manager *m = calloc(1, sizeof(*m));
	int rc;

	if (m == NULL) {
		snprintf(err, n, "out of memory");
		return -1;
	}
	m->b = b;
	m->waiting = true;	/* the first tick walks */
	m->retention_ms = kp_config_long(&b->cfg, "log.retention.check.interval.ms");
	m->flush_ms = kp_config_long(&b->cfg, "log.flush.scheduler.interval.ms");
	m->recovery_cp_ms = kp_config_int(&b->cfg, "log.flush.offset.checkpoint.interval.ms");
	m->start_cp_ms = kp_config_int(&b->cfg,
					"log.flush.start.offset.checkpoint.interval.ms");
	/* 0 turns a checkpoint off, as far as this thread is concerned */
	if (m->recovery_cp_ms <= 0)
		m->recovery_cp_ms = INT64_MAX / 4;
	if (m->start_cp_ms <= 0)
		m->start_cp_ms = INT64_MAX / 4;
	if (m->flush_ms <= 0 || m->flush_ms > INT64_MAX / 4)
		m->flush_ms = INT64_MAX / 4;
	if (m->retention_ms > INT64_MAX / 4)
		m->retention_ms = INT64_MAX / 4;
	rc = bg_thread_start(&m->bg, "log-manager", run, m);
	if (rc != 0) {
		snprintf(err, n, "cannot start the log manager: %s", strerror(rc));
		free(m);
		return -1;
	}
	b->logman = m;
	return 0;
}

void log_manager_stop(struct broker *b)
{
	struct log_manager *m = b->logman;

	if (m == NULL)
		return;
	bg_thread_stop(&m->bg);
	free(m->parts);
	free(m);
	b->logman = NULL;
}
