/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_log.c - the storage engine: checkpoints, the leader-epoch cache,
 * indexes, segments, partition logs and log directories, including crash
 * recovery (torn tails, flipped bytes, lost indexes) and a concurrent
 * reader while appending.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_run.h"
#include "kp_buf.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_records.h"
#include "log.h"
#include "log_checkpoint.h"
#include "log_dir.h"
#include "log_epoch.h"

static char tmpdir[PATH_MAX];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_log.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void rm_rf(const char *path)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
}

static void setup(void)
{
	make_tmpdir();
	kp_log_set_level(KP_LOG_ERROR);
}

static void teardown(void)
{
	rm_rf(tmpdir);
}

static char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *pathf(const char *fmt, ...)
{
	static char buf[4][PATH_MAX];
	static int k;
	char rel[PATH_MAX / 2];
	va_list ap;
	char *out = buf[k++ % 4];

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	ck_assert_int_lt(snprintf(out, PATH_MAX, "%s/%s", tmpdir, rel), PATH_MAX);
	return out;
}

/* A batch of n records of vsize bytes; timestamps ts, ts+1, ... */
static void build_batch(struct kp_wbuf *w, int n, int vsize, int64_t ts,
			enum kp_codec codec)
{
	struct kp_batch_params p;
	struct kp_record_in recs[64];
	static uint8_t val[65536];

	ck_assert_int_le(n, 64);
	memset(val, 'v', sizeof(val));
	kp_batch_params_init(&p);
	p.codec = codec;
	for (int i = 0; i < n; i++) {
		recs[i] = (struct kp_record_in){
			.key = { .ptr = NULL, .len = -1 },
			.value = { .ptr = val, .len = vsize },
			.timestamp = ts + i,
		};
	}
	ck_assert_int_eq(kp_batch_build(w, &p, recs, n), 0);
}

static int append_batch(struct log *log, int n, int vsize, int64_t ts,
			int32_t epoch, struct log_append_info *info)
{
	struct kp_wbuf w;
	int rc;

	kp_wbuf_init(&w);
	build_batch(&w, n, vsize, ts, KP_CODEC_NONE);
	rc = log_append_leader(log, w.data, w.len, epoch, -1, info);
	kp_wbuf_free(&w);
	return rc;
}

static struct log_config small_cfg(int64_t segment_bytes)
{
	struct log_config c;

	log_config_defaults(&c);
	c.segment_bytes = segment_bytes;
	c.index_interval_bytes = 512;
	c.file_delete_delay_ms = 0;
	return c;
}

/*
 * Read [offset, ...) with log_read and check the bytes are whole v2
 * batches with good CRCs; returns the first batch's base and last offsets
 * and the number of whole batches.
 */
static int check_read(struct log *log, int64_t offset, int64_t max_bytes,
		      int64_t max_offset, int64_t *first_base,
		      int64_t *last_offset)
{
	struct log_read_result res;
	uint8_t *buf;
	size_t pos = 0;
	int batches = 0;

	ck_assert_int_eq(log_read(log, offset, max_bytes, max_offset, true, &res), 0);
	if (res.seg == NULL)
		return 0;
	buf = malloc((size_t)res.length);
	ck_assert_int_eq(pread(res.fd, buf, (size_t)res.length, res.position),
			 res.length);
	while (pos < (size_t)res.length) {
		struct kp_batch_header h;
		size_t size;

		if (kp_batch_size(buf + pos, (size_t)res.length - pos, &size) != 0)
			break;	/* a batch cut by max_bytes, as Kafka sends it */
		ck_assert_int_eq(kp_batch_header_parse(buf + pos, size, &h), 0);
		ck_assert_int_eq(kp_batch_verify_crc(buf + pos, size), 0);
		if (batches == 0) {
			*first_base = h.base_offset;
			ck_assert_int_eq(h.base_offset, res.first_offset);
		}
		*last_offset = kp_batch_last_offset(&h);
		ck_assert_int_lt(h.base_offset, max_offset);
		batches++;
		pos += size;
	}
	free(buf);
	log_read_done(&res);
	return batches;
}

/* ------------------------------------------------------- checkpoints */

START_TEST(checkpoints_round_trip_and_reject_malformed_files)
{
	struct log_checkpoint cp, back;
	char *p = pathf("recovery-point-offset-checkpoint");
	FILE *f;

	log_checkpoint_init(&cp);
	log_checkpoint_init(&back);
	ck_assert_int_eq(log_checkpoint_read(p, &back), -ENOENT);
	ck_assert_int_eq(log_checkpoint_put(&cp, "orders", 0, 4812), 0);
	ck_assert_int_eq(log_checkpoint_put(&cp, "orders", 3, 771), 0);
	ck_assert_int_eq(log_checkpoint_put(&cp, "orders", 0, 5000), 0);
	ck_assert_int_eq(log_checkpoint_write(p, &cp), 0);
	ck_assert_int_eq(access(pathf("recovery-point-offset-checkpoint.tmp"), F_OK), -1);
	ck_assert_int_eq(log_checkpoint_read(p, &back), 0);
	ck_assert_int_eq(back.n, 2);
	ck_assert_int_eq(log_checkpoint_get(&back, "orders", 0, -1), 5000);
	ck_assert_int_eq(log_checkpoint_get(&back, "orders", 3, -1), 771);
	ck_assert_int_eq(log_checkpoint_get(&back, "orders", 1, -1), -1);
	/* Kafka's exact text */
	{
		char text[128];
		size_t n;

		f = fopen(p, "r");
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = 0;
		ck_assert_str_eq(text, "0\n2\norders 0 5000\norders 3 771\n");
	}
	f = fopen(p, "w");
	fputs("0\n3\norders 0 1\n", f);		/* count says 3 */
	fclose(f);
	ck_assert_int_eq(log_checkpoint_read(p, &back), -EINVAL);
	f = fopen(p, "w");
	fputs("1\n0\n", f);			/* unknown version */
	fclose(f);
	ck_assert_int_eq(log_checkpoint_read(p, &back), -EINVAL);
	f = fopen(p, "w");
	fputs("0\n1\norders x 1\n", f);
	fclose(f);
	ck_assert_int_eq(log_checkpoint_read(p, &back), -EINVAL);
	log_checkpoint_free(&cp);
	log_checkpoint_free(&back);
}
END_TEST

/* Many entries through the index: every one found after puts, replaces
 * and removes in an order unlike the insertion's (linear probing's
 * deletion moves entries back), equality in any order. */
START_TEST(checkpoint_index_puts_gets_and_removes_at_scale)
{
	struct log_checkpoint cp, other;
	enum { N = 5000 };
	char topic[32];

	log_checkpoint_init(&cp);
	log_checkpoint_init(&other);
	ck_assert_int_eq(log_checkpoint_get(&cp, "t0", 0, -7), -7);
	log_checkpoint_remove(&cp, "t0", 0);	/* nothing there: no harm */
	for (int i = 0; i < N; i++) {
		snprintf(topic, sizeof(topic), "t%d", i % 37);
		ck_assert_int_eq(log_checkpoint_put(&cp, topic, i, i), 0);
	}
	ck_assert_int_eq(cp.n, N);
	for (int i = 0; i < N; i += 3) {	/* replaced, not added */
		snprintf(topic, sizeof(topic), "t%d", i % 37);
		ck_assert_int_eq(log_checkpoint_put(&cp, topic, i, 10 * i), 0);
	}
	ck_assert_int_eq(cp.n, N);
	/* the same entries, the other way round */
	for (int i = N - 1; i >= 0; i--) {
		snprintf(topic, sizeof(topic), "t%d", i % 37);
		ck_assert_int_eq(log_checkpoint_put(&other, topic, i, i % 3 ? i : 10 * i), 0);
	}
	ck_assert(log_checkpoint_equal(&cp, &other));
	ck_assert(log_checkpoint_equal(&other, &cp));
	ck_assert_int_eq(log_checkpoint_put(&other, "t1", 1, 2), 0);
	ck_assert(!log_checkpoint_equal(&cp, &other));	/* an offset differs */
	/* every 7th by a stride that wraps around the insertion order */
	for (int k = 0, i = 0; k < N; k++, i = (i + 7919) % N)
		if (i % 7 == 0) {
			snprintf(topic, sizeof(topic), "t%d", i % 37);
			log_checkpoint_remove(&cp, topic, i);
		}
	ck_assert_int_eq(cp.n, N - (N + 6) / 7);
	for (int i = 0; i < N; i++) {
		snprintf(topic, sizeof(topic), "t%d", i % 37);
		ck_assert_int_eq(log_checkpoint_get(&cp, topic, i, -1),
				 i % 7 == 0 ? -1 : i % 3 ? i : 10 * i);
		/* another topic's partition of the same number is another entry */
		snprintf(topic, sizeof(topic), "u%d", i % 37);
		ck_assert_int_eq(log_checkpoint_get(&cp, topic, i, -1), -1);
	}
	ck_assert(!log_checkpoint_equal(&cp, &other));	/* fewer entries */
	log_checkpoint_free(&cp);
	log_checkpoint_free(&other);
	ck_assert_int_eq(cp.n, 0);
	ck_assert(log_checkpoint_equal(&cp, &other));	/* both empty */
}
END_TEST

/* -------------------------------------------------------- epoch cache */

START_TEST(epoch_cache_follows_kafka_rules)
{
	struct log_epoch_cache c;
	char *p = pathf("leader-epoch-checkpoint");
	int32_t e;
	int64_t o;

	ck_assert_int_eq(log_epoch_open(&c, p), 0);
	ck_assert_int_eq(log_epoch_latest(&c), -1);
	log_epoch_assign(&c, 1, 0);
	log_epoch_assign(&c, 1, 5);	/* same epoch, later: ignored */
	log_epoch_assign(&c, 3, 10);
	log_epoch_assign(&c, 5, 20);
	ck_assert_int_eq(c.n, 3);
	/* the latest epoch ends at the log end */
	log_epoch_end_offset(&c, 5, 30, &e, &o);
	ck_assert_int_eq(e, 5);
	ck_assert_int_eq(o, 30);
	/* an epoch between known ones: the largest <= it, ending where the
	 * next begins */
	log_epoch_end_offset(&c, 4, 30, &e, &o);
	ck_assert_int_eq(e, 3);
	ck_assert_int_eq(o, 20);
	log_epoch_end_offset(&c, 1, 30, &e, &o);
	ck_assert_int_eq(e, 1);
	ck_assert_int_eq(o, 10);
	/* older than everything */
	log_epoch_end_offset(&c, 0, 30, &e, &o);
	ck_assert_int_eq(e, 0);
	ck_assert_int_eq(o, 0);
	/* newer than everything, and -1 */
	log_epoch_end_offset(&c, 7, 30, &e, &o);
	ck_assert_int_eq(e, -1);
	ck_assert_int_eq(o, -1);
	log_epoch_end_offset(&c, -1, 30, &e, &o);
	ck_assert_int_eq(o, -1);
	/* a smaller start for a new epoch drops what it overlaps */
	log_epoch_assign(&c, 6, 15);
	ck_assert_int_eq(c.n, 3);
	ck_assert_int_eq(c.e[2].epoch, 6);
	ck_assert_int_eq(c.e[2].start_offset, 15);
	/* written later, by the writer's round, not at the change */
	ck_assert_int_eq(access(p, F_OK), -1);
	ck_assert_int_eq(log_epoch_pending(), 1);
	ck_assert_int_eq(log_epoch_write_pending(), 1);
	ck_assert_int_eq(log_epoch_pending(), 0);
	ck_assert_int_eq(access(p, F_OK), 0);
	log_epoch_close(&c);
	/* persisted */
	ck_assert_int_eq(log_epoch_open(&c, p), 0);
	ck_assert_int_eq(c.n, 3);
	ck_assert_int_eq(log_epoch_latest(&c), 6);
	log_epoch_truncate_end(&c, 15);
	ck_assert_int_eq(c.n, 2);
	log_epoch_truncate_start(&c, 12);
	ck_assert_int_eq(c.n, 1);
	ck_assert_int_eq(c.e[0].epoch, 3);
	ck_assert_int_eq(c.e[0].start_offset, 12);
	/* a sync writes what is pending itself */
	ck_assert_int_eq(log_epoch_sync(&c), 0);
	ck_assert_int_eq(c.dirty, false);
	ck_assert_int_eq(c.unsynced, false);
	log_epoch_close(&c);
	/* closing drops what is queued */
	ck_assert_int_eq(log_epoch_pending(), 0);
	ck_assert_int_eq(log_epoch_open(&c, p), 0);
	ck_assert_int_eq(c.n, 1);
	ck_assert_int_eq(c.e[0].start_offset, 12);
	log_epoch_close(&c);
}
END_TEST

/* The epochs in the checkpoint file, read with a second cache. */
static int file_epochs(const char *dir, struct log_epoch_entry *out, int max)
{
	struct log_epoch_cache c;
	char p[PATH_MAX];
	int n;

	snprintf(p, sizeof(p), "%s/leader-epoch-checkpoint", dir);
	ck_assert_int_eq(log_epoch_open(&c, p), 0);
	n = c.n;
	ck_assert_int_le(n, max);
	memcpy(out, c.e, (size_t)n * sizeof(*out));
	log_epoch_close(&c);
	return n;
}

#define assert_epochs(c, want, n) assert_epochs_at(__LINE__, c, want, n)
static void assert_epochs_at(int line, const struct log_epoch_cache *c,
			     const struct log_epoch_entry *want, int n)
{
	ck_assert_msg(c->n == n, "line %d: %d epochs, not %d", line, c->n, n);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(c->e[i].epoch, want[i].epoch);
		ck_assert_int_eq(c->e[i].start_offset, want[i].start_offset);
	}
}

START_TEST(epoch_checkpoint_is_deferred_and_written_before_a_flush)
{
	struct log_config cfg = small_cfg(1 << 20);
	struct log_epoch_entry f[8];
	const char *dir = pathf("d-0");
	struct log *log;

	ck_assert_int_eq(log_open(dir, "d", 0, &cfg, -1, -1, false, &log), 0);
	ck_assert_int_eq(append_batch(log, 5, 10, 1, 1, NULL), 0);
	ck_assert_int_eq(log_flush(log, log_end_offset(log)), 0);
	ck_assert_int_eq(file_epochs(dir, f, 8), 1);
	/* become leader at epoch 4 (LeaderAndIsr's assign): memory only */
	ck_assert_int_eq(log_epoch_assign(&log->epochs, 4, log_end_offset(log)), 0);
	ck_assert_int_eq(log_epoch_latest(&log->epochs), 4);
	ck_assert_int_eq(file_epochs(dir, f, 8), 1);
	ck_assert_int_eq(f[0].epoch, 1);
	ck_assert_int_eq(log->epochs.dirty, true);
	/* appends in the epoch leave the file alone too */
	ck_assert_int_eq(append_batch(log, 5, 10, 1, 4, NULL), 0);
	ck_assert_int_eq(file_epochs(dir, f, 8), 1);
	/* a flush writes (and fsyncs) the epochs before the data */
	ck_assert_int_eq(log_flush(log, log_end_offset(log)), 0);
	ck_assert_int_eq(file_epochs(dir, f, 8), 2);
	ck_assert_int_eq(f[1].epoch, 4);
	ck_assert_int_eq(f[1].start_offset, 5);
	ck_assert_int_eq(log->epochs.dirty, false);
	ck_assert_int_eq(log->epochs.unsynced, false);
	/* the writer's round writes without a flush; a later flush fsyncs */
	ck_assert_int_eq(log_epoch_assign(&log->epochs, 6, log_end_offset(log)), 0);
	ck_assert_int_ge(log_epoch_write_pending(), 1);
	ck_assert_int_eq(file_epochs(dir, f, 8), 3);
	ck_assert_int_eq(log->epochs.unsynced, true);
	ck_assert_int_eq(log_flush(log, log_end_offset(log)), 0);
	ck_assert_int_eq(log->epochs.unsynced, false);
	log_close(log, false);
	ck_assert_int_eq(log_epoch_pending(), 0);
}
END_TEST

START_TEST(epochs_lost_in_a_crash_are_rebuilt_from_the_log)
{
	struct log_config cfg = small_cfg(4096);
	const char *dir = pathf("r-0");
	const struct log_epoch_entry want[] = { { 1, 0 }, { 3, 30 }, { 7, 90 } };
	struct log_epoch_entry f[8];
	struct log *log;
	int64_t rp, leo;
	char p[PATH_MAX];
	FILE *fp;

	ck_assert_int_eq(log_open(dir, "r", 0, &cfg, -1, -1, false, &log), 0);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(append_batch(log, 3, 100, 1, 1, NULL), 0);
	ck_assert_int_eq(log_flush(log, log_end_offset(log)), 0);
	rp = log->recovery_point;
	ck_assert_int_eq(rp, 30);
	/* leader moves: epoch 3 then 7, with data, never flushed nor
	 * written (the writer had no round) */
	ck_assert_int_eq(log_epoch_assign(&log->epochs, 3, log_end_offset(log)), 0);
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(append_batch(log, 3, 100, 1, 3, NULL), 0);
	ck_assert_int_eq(log_epoch_assign(&log->epochs, 7, log_end_offset(log)), 0);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(append_batch(log, 3, 100, 1, 7, NULL), 0);
	ck_assert_int_gt(log->nsegs, 2);
	assert_epochs(&log->epochs, want, 3);
	leo = log_end_offset(log);
	ck_assert_int_eq(file_epochs(dir, f, 8), 1);
	/* the crash: nothing more is written */
	log_close(log, false);
	ck_assert_int_eq(file_epochs(dir, f, 8), 1);

	/* unclean restart: recovery from the recovery point assigns them
	 * again */
	ck_assert_int_eq(log_open(dir, "r", 0, &cfg, rp, -1, false, &log), 0);
	ck_assert_int_eq(log_end_offset(log), leo);
	assert_epochs(&log->epochs, want, 3);
	ck_assert_int_eq(log_epoch_sync(&log->epochs), 0);
	ck_assert_int_eq(file_epochs(dir, f, 8), 3);
	log_close(log, false);

	/* a stale file that recovery does not cover (opened as clean): the
	 * last batch's epoch is not its latest, so every header is read */
	snprintf(p, sizeof(p), "%s/leader-epoch-checkpoint", dir);
	fp = fopen(p, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("0\n1\n1 0\n", fp);
	fclose(fp);
	ck_assert_int_eq(log_open(dir, "r", 0, &cfg, leo, -1, true, &log), 0);
	assert_epochs(&log->epochs, want, 3);
	log_close(log, false);

	/* a missing file, and a corrupt one, alike */
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(log_open(dir, "r", 0, &cfg, leo, -1, true, &log), 0);
	assert_epochs(&log->epochs, want, 3);
	ck_assert_int_eq(log_epoch_sync(&log->epochs), 0);
	log_close(log, false);
	ck_assert_int_eq(file_epochs(dir, f, 8), 3);
	fp = fopen(p, "w");
	fputs("0\n2\n1 0\nnonsense\n", fp);
	fclose(fp);
	ck_assert_int_eq(log_open(dir, "r", 0, &cfg, leo, -1, true, &log), 0);
	assert_epochs(&log->epochs, want, 3);
	/* OffsetForLeaderEpoch's answers from the rebuilt cache */
	{
		int32_t e;
		int64_t o;

		log_epoch_end_offset(&log->epochs, 3, leo, &e, &o);
		ck_assert_int_eq(e, 3);
		ck_assert_int_eq(o, 90);
		log_epoch_end_offset(&log->epochs, 5, leo, &e, &o);
		ck_assert_int_eq(e, 3);
		ck_assert_int_eq(o, 90);
		log_epoch_end_offset(&log->epochs, 7, leo, &e, &o);
		ck_assert_int_eq(o, leo);
	}
	/* a log start past the first epoch's start moves it, as before */
	log_close(log, false);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(log_open(dir, "r", 0, &cfg, leo, 45, true, &log), 0);
	ck_assert_int_ge(log_start_offset(log), 30);
	ck_assert_int_eq(log->epochs.e[0].start_offset, log_start_offset(log));
	ck_assert_int_eq(log_epoch_latest(&log->epochs), 7);
	log_close(log, false);
}
END_TEST

struct writer_arg {
	atomic_bool stop;
	atomic_int rounds;
};

static void *writer_rounds(void *arg)
{
	struct writer_arg *w = arg;

	while (!atomic_load(&w->stop)) {
		log_epoch_write_pending();
		atomic_fetch_add(&w->rounds, 1);
	}
	return NULL;
}

START_TEST(epoch_writer_runs_beside_the_owner)
{
	struct log_epoch_cache c, back;
	struct writer_arg w;
	char *p = pathf("leader-epoch-checkpoint");
	pthread_t t;

	atomic_init(&w.stop, false);
	atomic_init(&w.rounds, 0);
	ck_assert_int_eq(log_epoch_open(&c, p), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, writer_rounds, &w), 0);
	/* the writer under way before the owner starts, however busy the
	 * machine (3000 changes can be over before a new thread first runs) */
	while (atomic_load(&w.rounds) == 0)
		sched_yield();
	for (int i = 0; i < 3000; i++) {
		ck_assert_int_eq(log_epoch_assign(&c, i, (int64_t)i * 10), 0);
		if (i % 7 == 6)
			log_epoch_truncate_end(&c, (int64_t)i * 10 - 5);
		if (i % 500 == 499)
			log_epoch_truncate_start(&c, (int64_t)i * 10 - 100);
	}
	atomic_store(&w.stop, true);
	pthread_join(t, NULL);
	/* what the file says after the last sync is what memory says */
	ck_assert_int_eq(log_epoch_sync(&c), 0);
	ck_assert_int_eq(log_epoch_open(&back, p), 0);
	ck_assert_int_eq(back.n, c.n);
	for (int i = 0; i < c.n; i++) {
		ck_assert_int_eq(back.e[i].epoch, c.e[i].epoch);
		ck_assert_int_eq(back.e[i].start_offset, c.e[i].start_offset);
	}
	log_epoch_close(&back);
	log_epoch_close(&c);
	ck_assert_int_eq(log_epoch_pending(), 0);
}
END_TEST

/* ------------------------------------------------------ append / read */

START_TEST(append_assigns_offsets_and_reads_whole_batches)
{
	struct log_config cfg = small_cfg(1 << 20);
	struct log *log;
	struct log_append_info info;
	int64_t fb = -1, lo = -1;

	ck_assert_int_eq(log_open(pathf("t-0"), "t", 0, &cfg, -1, -1, false, &log), 0);
	ck_assert_int_eq(log_end_offset(log), 0);
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(append_batch(log, 1 + i % 5, 100, 1000 + i, 2, &info), 0);
		ck_assert_int_eq(info.last_offset - info.first_offset, i % 5);
	}
	ck_assert_int_eq(log_end_offset(log), 300);
	ck_assert_int_eq(log_read(log, 301, 1 << 20, LOG_NO_LIMIT, true,
				  &(struct log_read_result){ 0 }), KP_ERR_OFFSET_OUT_OF_RANGE);
	/* at the end: empty */
	ck_assert_int_eq(check_read(log, 300, 1 << 20, LOG_NO_LIMIT, &fb, &lo), 0);
	for (int64_t off = 0; off < 300; off += 7) {
		int n = check_read(log, off, 1 << 20, LOG_NO_LIMIT, &fb, &lo);

		ck_assert_int_gt(n, 0);
		ck_assert_int_le(fb, off);	/* the batch holding off */
		ck_assert_int_gt(fb + 5, off);
		ck_assert_int_eq(lo, 299);
	}
	/* the high watermark bounds what is returned */
	ck_assert_int_gt(check_read(log, 0, 1 << 20, 150, &fb, &lo), 0);
	ck_assert_int_lt(lo, 155);
	ck_assert_int_eq(check_read(log, 150, 1 << 20, 150, &fb, &lo), 0);
	/* a tiny byte limit still returns one whole batch */
	ck_assert_int_eq(check_read(log, 0, 10, LOG_NO_LIMIT, &fb, &lo), 1);
	ck_assert_int_eq(log_epoch_latest(&log->epochs), 2);
	log_close(log, true);
}
END_TEST

START_TEST(segments_roll_on_size_index_and_time)
{
	struct log_config cfg = small_cfg(8192);
	struct log *log;
	struct log_append_info info;

	ck_assert_int_eq(log_open(pathf("r-0"), "r", 0, &cfg, -1, -1, false, &log), 0);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(append_batch(log, 2, 500, 1000, 0, &info), 0);
	ck_assert_int_gt(log->nsegs, 5);
	for (int i = 1; i < log->nsegs; i++) {
		ck_assert_int_le(log_segment_size(log->segs[i - 1]), 8192);
		ck_assert_int_eq(log->segs[i]->base_offset,
				 log_segment_next_offset(log->segs[i - 1]));
	}
	/* too large for a segment at all */
	{
		struct kp_wbuf w;

		kp_wbuf_init(&w);
		build_batch(&w, 1, 9000, 1, KP_CODEC_NONE);
		ck_assert_int_eq(log_append_leader(log, w.data, w.len, 0, -1, &info),
				 KP_ERR_RECORD_LIST_TOO_LARGE);
		kp_wbuf_free(&w);
	}
	log_close(log, false);

	/* segment.ms against the first batch's timestamp */
	cfg = small_cfg(1 << 20);
	cfg.segment_ms = 1000;
	ck_assert_int_eq(log_open(pathf("r-1"), "r", 1, &cfg, -1, -1, false, &log), 0);
	ck_assert_int_eq(append_batch(log, 1, 10, 10000, 0, &info), 0);
	ck_assert_int_eq(append_batch(log, 1, 10, 10500, 0, &info), 0);
	ck_assert_int_eq(log->nsegs, 1);
	ck_assert_int_eq(append_batch(log, 1, 10, 11001, 0, &info), 0);
	ck_assert_int_eq(log->nsegs, 2);
	ck_assert_int_eq(log->segs[1]->base_offset, 2);
	log_close(log, false);

	/* a full index rolls: 4 offset entries of 8 bytes */
	cfg = small_cfg(1 << 20);
	cfg.segment_index_bytes = 32;
	cfg.index_interval_bytes = 0;
	ck_assert_int_eq(log_open(pathf("r-2"), "r", 2, &cfg, -1, -1, false, &log), 0);
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(append_batch(log, 1, 10, 1 + i, 0, &info), 0);
	ck_assert_int_gt(log->nsegs, 3);
	for (int64_t off = 0; off < 20; off++) {
		int64_t fb, lo;

		ck_assert_int_gt(check_read(log, off, 1 << 20, LOG_NO_LIMIT, &fb, &lo), 0);
		ck_assert_int_eq(fb, off);
	}
	log_close(log, false);
}
END_TEST

START_TEST(index_lookups_agree_with_a_brute_force_scan)
{
	struct log_config cfg = small_cfg(64 * 1024);
	struct log *log;
	struct log_append_info info;
	int64_t *base_of;	/* batch base offset holding each offset */
	int64_t total;

	ck_assert_int_eq(log_open(pathf("b-0"), "b", 0, &cfg, -1, -1, false, &log), 0);
	srandom(7);
	for (int i = 0; i < 3000; i++)
		ck_assert_int_eq(append_batch(log, 1 + (int)(random() % 8),
					      (int)(random() % 300), 5000 + i * 3, 0,
					      &info), 0);
	total = log_end_offset(log);
	ck_assert_int_gt(log->nsegs, 20);
	base_of = calloc((size_t)total, sizeof(*base_of));
	/* brute force: walk every segment file from the start */
	for (int s = 0; s < log->nsegs; s++) {
		struct log_segment *seg = log->segs[s];
		int64_t pos = 0, size = log_segment_size(seg);

		while (pos < size) {
			uint8_t h[KP_BATCH_HEADER_SIZE];
			struct kp_batch_header bh;

			ck_assert_int_eq(pread(seg->fd, h, sizeof(h), pos), sizeof(h));
			ck_assert_int_eq(kp_batch_header_parse(h, sizeof(h), &bh), 0);
			for (int64_t o = bh.base_offset; o <= kp_batch_last_offset(&bh); o++)
				base_of[o] = bh.base_offset;
			pos += bh.batch_length + KP_LOG_OVERHEAD;
		}
	}
	for (int64_t o = 0; o < total; o++) {
		int64_t fb = -1, lo = -1;

		ck_assert_int_gt(check_read(log, o, 100, LOG_NO_LIMIT, &fb, &lo), 0);
		ck_assert_int_eq(fb, base_of[o]);
	}
	/* and the same after a clean restart, from the reloaded indexes */
	log_close(log, true);
	ck_assert_int_eq(log_open(pathf("b-0"), "b", 0, &cfg, total, -1, true, &log), 0);
	ck_assert_int_eq(log_end_offset(log), total);
	for (int64_t o = 0; o < total; o += 3) {
		int64_t fb = -1, lo = -1;

		ck_assert_int_gt(check_read(log, o, 100, LOG_NO_LIMIT, &fb, &lo), 0);
		ck_assert_int_eq(fb, base_of[o]);
	}
	free(base_of);
	log_close(log, false);
}
END_TEST

START_TEST(timestamps_find_the_first_record_at_or_after)
{
	struct log_config cfg = small_cfg(16 * 1024);
	struct log *log;
	struct log_append_info info;
	int64_t off, ts;

	ck_assert_int_eq(log_open(pathf("ts-0"), "ts", 0, &cfg, -1, -1, false, &log), 0);
	/* batch i holds 4 records with timestamps 1000+10i .. +3 */
	for (int i = 0; i < 400; i++) {
		struct kp_wbuf w;

		kp_wbuf_init(&w);
		build_batch(&w, 4, 50, 1000 + 10 * i, i % 2 ? KP_CODEC_GZIP : KP_CODEC_NONE);
		ck_assert_int_eq(log_append_leader(log, w.data, w.len, 0, -1, &info), 0);
		kp_wbuf_free(&w);
	}
	ck_assert_int_gt(log->nsegs, 2);
	for (int64_t t = 990; t < 1000 + 10 * 400; t += 3) {
		int64_t want = -1;

		/* brute force: the first record (batch i, record k: offset
		 * 4i+k, timestamp 1000+10i+k) at or after t */
		for (int i = 0; i < 400 && want < 0; i++)
			for (int k = 0; k < 4 && want < 0; k++)
				if (1000 + 10 * i + k >= t)
					want = 4 * i + k;
		if (want < 0) {
			ck_assert_int_eq(log_offset_for_timestamp(log, t, &off, &ts), 1);
			continue;
		}
		ck_assert_msg(log_offset_for_timestamp(log, t, &off, &ts) == 0,
			      "timestamp %" PRId64, t);
		ck_assert_int_eq(off, want);
		ck_assert_int_ge(ts, t);
	}
	ck_assert_int_eq(log_offset_for_timestamp(log, 999999, &off, &ts), 1);
	ck_assert_int_eq(log_offset_for_timestamp(log, LOG_TS_LATEST, &off, &ts), 0);
	ck_assert_int_eq(off, 1600);
	ck_assert_int_eq(log_offset_for_timestamp(log, LOG_TS_EARLIEST, &off, &ts), 0);
	ck_assert_int_eq(off, 0);
	log_close(log, false);

	/* LogAppendTime stamps the batch */
	cfg.log_append_time = true;
	ck_assert_int_eq(log_open(pathf("ts-1"), "ts", 1, &cfg, -1, -1, false, &log), 0);
	{
		struct kp_wbuf w;

		kp_wbuf_init(&w);
		build_batch(&w, 3, 10, 5, KP_CODEC_NONE);
		ck_assert_int_eq(log_append_leader(log, w.data, w.len, 0, 777777, &info), 0);
		ck_assert_int_eq(info.log_append_time, 777777);
		ck_assert_int_eq(info.max_timestamp, 777777);
		ck_assert_int_eq(kp_batch_verify_crc(w.data, w.len), 0);
		kp_wbuf_free(&w);
	}
	ck_assert_int_eq(log_offset_for_timestamp(log, 777000, &off, &ts), 0);
	ck_assert_int_eq(off, 0);
	ck_assert_int_eq(ts, 777777);
	log_close(log, false);
}
END_TEST

/*
 * Batches stored as producers sent them, before the leader recomputed
 * their max timestamp: librdkafka's header of 0 over records without one,
 * Sarama's -1 over records with one.  Retention dates the first kind by
 * the file (never 1970), and recovery dates the second by its records, so
 * ListOffsets by time finds them and the time index holds no "none".
 */
static void append_as_sent(struct log *log, int64_t rec_ts, int64_t header_max)
{
	struct kp_wbuf w;

	kp_wbuf_init(&w);
	build_batch(&w, 4, 300, rec_ts, KP_CODEC_GZIP);
	if (rec_ts == KP_NO_TIMESTAMP) {
		/* build_batch counts up from ts: rebuild with -1 each */
		struct kp_batch_params p;
		struct kp_record_in recs[4];
		static const uint8_t v[100];

		w.len = 0;
		kp_batch_params_init(&p);
		for (int i = 0; i < 4; i++)
			recs[i] = (struct kp_record_in){
				.key = KP_BYTES_NULL,
				.value = { .ptr = v, .len = sizeof(v) },
				.timestamp = KP_NO_TIMESTAMP,
			};
		ck_assert_int_eq(kp_batch_build(&w, &p, recs, 4), 0);
	}
	kp_batch_set_max_timestamp(w.data, w.len, header_max, false);
	ck_assert_int_eq(log_append_leader(log, w.data, w.len, 0, -1, NULL), 0);
	kp_wbuf_free(&w);
}

static void assert_no_timeless_entries(const char *path)
{
	FILE *f = fopen(path, "r");
	uint8_t e[12];

	if (f == NULL)
		return;		/* no entries at all */
	while (fread(e, 1, sizeof(e), f) == sizeof(e)) {
		int64_t ts = (int64_t)kp_be64(e);

		ck_assert_msg(ts > 0 || (ts == 0 && kp_be32(e + 8) == 0),
			      "%s holds a time index entry of %" PRId64, path, ts);
	}
	fclose(f);
}

START_TEST(timestampless_batches_never_make_data_look_ancient)
{
	struct log_config cfg = small_cfg(1024);
	int64_t now = kp_wall_ms(), real = now - 3600 * 1000, off, ts, leo;
	struct log *log;

	cfg.retention_ms = 24 * 3600 * 1000LL;
	ck_assert_int_eq(log_open(pathf("nots-0"), "nots", 0, &cfg, -1, -1, false,
				  &log), 0);
	for (int i = 0; i < 20; i++)	/* librdkafka: -1 records, header 0 */
		append_as_sent(log, KP_NO_TIMESTAMP, 0);
	for (int i = 0; i < 20; i++)	/* Sarama: real records, header -1 */
		append_as_sent(log, real + 10 * i, -1);
	leo = log_end_offset(log);
	ck_assert_int_gt(log->nsegs, 3);
	for (int i = 0; i < log->nsegs; i++)
		assert_no_timeless_entries(log->segs[i]->tix.path);
	/* a day's retention deletes nothing written just now */
	ck_assert_int_eq(log_delete_old_segments(log, kp_wall_ms(), leo), 0);
	log_close(log, false);		/* a crash: everything is recovered */
	ck_assert_int_eq(log_open(pathf("nots-0"), "nots", 0, &cfg, 0, -1, false,
				  &log), 0);
	ck_assert_int_eq(log_end_offset(log), leo);
	ck_assert_int_eq(log_delete_old_segments(log, kp_wall_ms(), leo), 0);
	for (int i = 0; i < log->nsegs; i++)
		assert_no_timeless_entries(log->segs[i]->tix.path);
	/* the Sarama records are found by their own timestamps */
	ck_assert_int_eq(log_offset_for_timestamp(log, real + 55, &off, &ts), 0);
	ck_assert_int_eq(off, 80 + 6 * 4);	/* batch 6 of theirs, record 0 */
	ck_assert_int_eq(ts, real + 60);
	ck_assert_int_eq(log_offset_for_timestamp(log, real, &off, &ts), 0);
	ck_assert_int_eq(off, 80);
	log_close(log, true);
	/* a clean restart keeps what recovery found */
	ck_assert_int_eq(log_open(pathf("nots-0"), "nots", 0, &cfg, leo, -1, true,
				  &log), 0);
	ck_assert_int_eq(log_offset_for_timestamp(log, real + 55, &off, &ts), 0);
	ck_assert_int_eq(off, 80 + 6 * 4);
	/* a day later the timestamp-less segments go by their files' age,
	 * the Sarama ones by their records' */
	ck_assert_int_gt(log_delete_old_segments(log, kp_wall_ms() + cfg.retention_ms + 1000,
						 leo), 0);
	ck_assert_int_eq(log_start_offset(log), leo);
	log_close(log, false);
}
END_TEST

/* ---------------------------------------------------------- recovery */

static struct log *fill(const char *name, struct log_config *cfg, int batches)
{
	struct log *log;
	struct log_append_info info;

	ck_assert_int_eq(log_open(pathf("%s", name), "x", 0, cfg, -1, -1, false, &log), 0);
	for (int i = 0; i < batches; i++)
		ck_assert_int_eq(append_batch(log, 3, 200, 100 + i, 1 + i / 50, &info), 0);
	return log;
}

static int64_t file_size(const char *p)
{
	struct stat st;

	ck_assert_int_eq(stat(p, &st), 0);
	return st.st_size;
}

START_TEST(a_torn_tail_is_cut_on_recovery)
{
	struct log_config cfg = small_cfg(1 << 20);
	struct log *log = fill("x-0", &cfg, 100);
	char *seg = pathf("x-0/00000000000000000000.log");
	int64_t size = file_size(seg);
	int64_t fb, lo;

	log_close(log, false);		/* no flush, no marker: a crash */
	ck_assert_int_eq(truncate(seg, size - 100), 0);	/* mid-batch */
	ck_assert_int_eq(log_open(pathf("x-0"), "x", 0, &cfg, 0, -1, false, &log), 0);
	ck_assert_int_eq(log_end_offset(log), 99 * 3);
	ck_assert_int_eq(check_read(log, 0, 1 << 30, LOG_NO_LIMIT, &fb, &lo), 99);
	ck_assert_int_eq(lo, 99 * 3 - 1);
	/* appending continues where the valid data ends */
	ck_assert_int_eq(append_batch(log, 1, 10, 1, 3, NULL), 0);
	ck_assert_int_eq(log_end_offset(log), 99 * 3 + 1);
	log_close(log, false);
}
END_TEST

START_TEST(a_flipped_byte_cuts_the_log_there_and_drops_later_segments)
{
	struct log_config cfg = small_cfg(16 * 1024);
	struct log *log = fill("x-1", &cfg, 300);
	int nsegs = log->nsegs;
	int64_t second_base = log->segs[1]->base_offset;
	char *seg = pathf("x-1/%020" PRId64 ".log", second_base);
	int fd;
	uint8_t b;
	int64_t fb, lo;

	ck_assert_int_gt(nsegs, 3);
	log_close(log, false);
	/* flip a byte in the record data of the second segment's 3rd batch */
	fd = open(seg, O_RDWR);
	ck_assert_int_eq(pread(fd, &b, 1, 2 * 672 + 300), 1);
	b ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &b, 1, 2 * 672 + 300), 1);
	close(fd);
	/* recovery point below the second segment: it is re-checked */
	ck_assert_int_eq(log_open(pathf("x-1"), "x", 0, &cfg, second_base, -1,
				  false, &log), 0);
	ck_assert_int_eq(log->nsegs, 2);
	ck_assert_int_eq(log_end_offset(log), second_base + 2 * 3);
	ck_assert_int_gt(check_read(log, 0, 1 << 30, LOG_NO_LIMIT, &fb, &lo), 0);
	ck_assert_int_eq(check_read(log, second_base, 1 << 30, LOG_NO_LIMIT, &fb, &lo), 2);
	ck_assert_int_eq(lo, second_base + 5);
	/* the epoch cache does not claim offsets that are gone */
	ck_assert_int_le(log->epochs.e[log->epochs.n - 1].start_offset, log_end_offset(log));
	log_close(log, false);
}
END_TEST

START_TEST(missing_or_corrupt_indexes_are_rebuilt)
{
	struct log_config cfg = small_cfg(64 * 1024);
	struct log *log = fill("x-2", &cfg, 400);
	int64_t leo = log_end_offset(log);
	int nsegs = log->nsegs;
	char *ix0 = pathf("x-2/00000000000000000000.index");
	FILE *f;

	ck_assert_int_gt(nsegs, 2);
	log_close(log, true);
	/* clean shutdown, yet the first index is gone and another garbled */
	ck_assert_int_eq(unlink(ix0), 0);
	ck_assert_int_eq(unlink(pathf("x-2/00000000000000000000.timeindex")), 0);
	ck_assert_int_eq(log_open(pathf("x-2"), "x", 0, &cfg, leo, -1, true, &log), 0);
	ck_assert_int_eq(log_index_entries(&log->segs[0]->oix) > 0, 1);
	log_close(log, true);
	f = fopen(ix0, "r+");
	fseek(f, 8, SEEK_SET);
	fputc(0x7f, f);		/* entry 1's relative offset jumps */
	fclose(f);
	ck_assert_int_eq(log_open(pathf("x-2"), "x", 0, &cfg, leo, -1, true, &log), 0);
	ck_assert_int_eq(log_end_offset(log), leo);
	ck_assert_int_eq(log->nsegs, nsegs);
	for (int64_t o = 0; o < leo; o += 5) {
		int64_t fb, lo;

		ck_assert_int_gt(check_read(log, o, 100, LOG_NO_LIMIT, &fb, &lo), 0);
		ck_assert_int_eq(fb, o - o % 3);
	}
	log_close(log, false);
}
END_TEST

/* A new segment's indexes have no files until their first entry (two
 * inodes per new partition, not four); a closed segment always has both. */
START_TEST(index_files_appear_with_their_first_entry)
{
	struct log_config cfg = small_cfg(4096);
	struct log_append_info info;
	struct log *log;
	struct stat st;
	int64_t leo, base;

	ck_assert_int_eq(log_open(pathf("z-0"), "z", 0, &cfg, -1, -1, false, &log), 0);
	ck_assert_int_ne(access(pathf("z-0/00000000000000000000.log"), F_OK), -1);
	ck_assert_int_eq(access(pathf("z-0/00000000000000000000.index"), F_OK), -1);
	ck_assert_int_eq(access(pathf("z-0/00000000000000000000.timeindex"), F_OK), -1);
	/* lookups and truncation on an index without a file */
	{
		int64_t fb, lo;

		ck_assert_int_eq(append_batch(log, 1, 10, 1000, 0, &info), 0);
		ck_assert_int_eq(check_read(log, 0, 1 << 20, LOG_NO_LIMIT, &fb, &lo), 1);
		ck_assert_int_eq(log_truncate_to(log, 0), 0);
		ck_assert_int_eq(log_end_offset(log), 0);
	}
	/* past index.interval.bytes (512): the files appear, preallocated */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(append_batch(log, 2, 200, 2000 + 10 * i, 0, &info), 0);
	ck_assert_int_eq(log->nsegs, 1);
	ck_assert_int_eq(stat(pathf("z-0/00000000000000000000.index"), &st), 0);
	ck_assert_int_eq(st.st_size, cfg.segment_index_bytes);
	/* a roll closes the first segment: its files trimmed to their
	 * entries, the new segment without any */
	while (log->nsegs < 2)
		ck_assert_int_eq(append_batch(log, 2, 200, 3000, 0, &info), 0);
	ck_assert_int_eq(stat(pathf("z-0/00000000000000000000.index"), &st), 0);
	ck_assert_int_eq(st.st_size, 8 * log_index_entries(&log->segs[0]->oix));
	ck_assert_int_eq(stat(pathf("z-0/00000000000000000000.timeindex"), &st), 0);
	ck_assert_int_eq(st.st_size % 12, 0);
	ck_assert_int_gt(st.st_size, 0);
	ck_assert_int_eq(access(pathf("z-0/%020" PRId64 ".index",
				      log->segs[1]->base_offset), F_OK), -1);
	leo = log_end_offset(log);
	base = log->segs[1]->base_offset;
	/* a crash leaves the active segment without index files (closing
	 * creates them: remove them again); it is rebuilt from its batches */
	log_close(log, false);
	ck_assert_int_eq(stat(pathf("z-0/%020" PRId64 ".timeindex", base), &st), 0);
	ck_assert_int_eq(unlink(pathf("z-0/%020" PRId64 ".index", base)), 0);
	ck_assert_int_eq(unlink(pathf("z-0/%020" PRId64 ".timeindex", base)), 0);
	ck_assert_int_eq(log_open(pathf("z-0"), "z", 0, &cfg, 0, -1, false, &log), 0);
	ck_assert_int_eq(log_end_offset(log), leo);
	ck_assert_int_eq(log->nsegs, 2);
	log_close(log, true);
}
END_TEST

/* ----------------------------------------------- truncation, retention */

static int count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)) != NULL) {
		size_t a = strlen(de->d_name), b = strlen(suffix);

		if (a >= b && strcmp(de->d_name + a - b, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

START_TEST(truncation_cuts_back_and_empties)
{
	struct log_config cfg = small_cfg(16 * 1024);
	struct log *log = fill("y-0", &cfg, 200);
	int64_t fb, lo;

	cfg.file_delete_delay_ms = 60000;
	log->cfg.file_delete_delay_ms = 60000;
	ck_assert_int_gt(log->nsegs, 3);
	ck_assert_int_eq(log_truncate_to(log, 301), 0);
	ck_assert_int_eq(log_end_offset(log), 300);	/* the batch holding 301 goes */
	ck_assert_int_eq(check_read(log, 0, 1 << 30, 300, &fb, &lo) > 0, 1);
	ck_assert_int_eq(log_read(log, 301, 100, LOG_NO_LIMIT, true,
				  &(struct log_read_result){ 0 }), KP_ERR_OFFSET_OUT_OF_RANGE);
	ck_assert_int_gt(count_files(pathf("y-0"), ".log.deleted"), 0);
	ck_assert_int_eq(log->nsegs, 1 + (int)(300 / (16 * 1024 / 672 * 3)));
	/* the epoch cache: epochs started at 0 (1), 150 (2), 300 (3), ... */
	ck_assert_int_eq(log_epoch_latest(&log->epochs), 2);
	/* appending after truncation */
	ck_assert_int_eq(append_batch(log, 2, 10, 1, 9, NULL), 0);
	ck_assert_int_eq(log_end_offset(log), 302);
	/* deleted files go when their delay is over */
	log_reap_deleted(log, INT64_MAX, false);
	ck_assert_int_eq(count_files(pathf("y-0"), ".deleted"), 0);
	/* truncate everything and restart at 1000 */
	ck_assert_int_eq(log_truncate_fully_and_start_at(log, 1000), 0);
	ck_assert_int_eq(log_end_offset(log), 1000);
	ck_assert_int_eq(log_start_offset(log), 1000);
	ck_assert_int_eq(log->nsegs, 1);
	ck_assert_int_eq(log_epoch_latest(&log->epochs), -1);
	ck_assert_int_eq(append_batch(log, 2, 10, 1, 9, NULL), 0);
	ck_assert_int_eq(check_read(log, 1000, 1 << 20, LOG_NO_LIMIT, &fb, &lo), 1);
	ck_assert_int_eq(fb, 1000);
	log_close(log, true);
	/* reopens at 1000 */
	ck_assert_int_eq(log_open(pathf("y-0"), "x", 0, &cfg, -1, -1, true, &log), 0);
	ck_assert_int_eq(log_start_offset(log), 1000);
	ck_assert_int_eq(log_end_offset(log), 1002);
	log_close(log, false);
}
END_TEST

START_TEST(retention_and_start_offset_delete_old_segments)
{
	struct log_config cfg = small_cfg(16 * 1024);
	struct log *log = fill("y-1", &cfg, 200);
	int n0 = log->nsegs;
	int64_t leo = log_end_offset(log), total, fb, lo;

	/* nothing at or above the high watermark is deleted */
	log->cfg.retention_bytes = 0;
	ck_assert_int_eq(log_delete_old_segments(log, 0, 0), 0);
	/* by size: keep at most ~2 segments */
	log->cfg.retention_bytes = 2 * 16 * 1024;
	ck_assert_int_gt(log_delete_old_segments(log, 0, leo), 0);
	total = log_size_bytes(log);
	ck_assert_int_le(total, 3 * 16 * 1024);
	ck_assert_int_lt(log->nsegs, n0);
	ck_assert_int_eq(log_start_offset(log), log->segs[0]->base_offset);
	ck_assert_int_eq(log_read(log, 0, 100, LOG_NO_LIMIT, true,
				  &(struct log_read_result){ 0 }), KP_ERR_OFFSET_OUT_OF_RANGE);
	ck_assert_int_gt(check_read(log, log_start_offset(log), 100, LOG_NO_LIMIT, &fb, &lo), 0);
	/* DeleteRecords: the start moves, whole segments below it go */
	log->cfg.retention_bytes = -1;
	ck_assert_int_eq(log_advance_start_offset(log, leo + 1), KP_ERR_OFFSET_OUT_OF_RANGE);
	ck_assert_int_eq(log_advance_start_offset(log, leo - 10), 0);
	ck_assert_int_eq(log_start_offset(log), leo - 10);
	ck_assert_int_eq(log->nsegs, 1);
	ck_assert_int_gt(check_read(log, leo - 10, 100, LOG_NO_LIMIT, &fb, &lo), 0);
	/* by time: every record is older than retention.ms -> all go, and
	 * an empty active segment remains at the log end */
	log->cfg.retention_ms = 1000;
	ck_assert_int_eq(log_delete_old_segments(log, 1000000, leo), 1);
	ck_assert_int_eq(log->nsegs, 1);
	ck_assert_int_eq(log_segment_size(log->segs[0]), 0);
	ck_assert_int_eq(log_start_offset(log), leo);
	ck_assert_int_eq(log_end_offset(log), leo);
	log_close(log, true);
	/* the start offset survives a restart through the new first base */
	ck_assert_int_eq(log_open(pathf("y-1"), "x", 0, &cfg, -1, -1, true, &log), 0);
	ck_assert_int_eq(log_start_offset(log), leo);
	log_close(log, false);
}
END_TEST

START_TEST(follower_appends_keep_offsets)
{
	struct log_config cfg = small_cfg(1 << 20);
	struct log *leader, *follower;
	struct log_read_result res;
	struct log_append_info info;
	uint8_t *buf;

	leader = fill("f-0", &cfg, 50);
	ck_assert_int_eq(log_open(pathf("f-1"), "x", 1, &cfg, -1, -1, false, &follower), 0);
	ck_assert_int_eq(log_read(leader, 0, 1 << 30, LOG_NO_LIMIT, true, &res), 0);
	buf = malloc((size_t)res.length);
	ck_assert_int_eq(pread(res.fd, buf, (size_t)res.length, res.position), res.length);
	ck_assert_int_eq(log_append_follower(follower, buf, (size_t)res.length, -1, &info), 0);
	ck_assert_int_eq(log_end_offset(follower), log_end_offset(leader));
	ck_assert_int_eq(info.first_offset, 0);
	ck_assert_int_eq(log_epoch_latest(&follower->epochs), log_epoch_latest(&leader->epochs));
	/* the same data again is refused: offsets below the log end */
	ck_assert_int_eq(log_append_follower(follower, buf, (size_t)res.length, -1, &info),
			 KP_ERR_OFFSET_OUT_OF_RANGE);
	/* a corrupt copy is refused */
	buf[100] ^= 1;
	ck_assert_int_eq(log_truncate_to(follower, 0), 0);
	ck_assert_int_eq(log_append_follower(follower, buf, (size_t)res.length, -1, &info),
			 KP_ERR_CORRUPT_MESSAGE);
	free(buf);
	log_read_done(&res);
	log_close(leader, false);
	log_close(follower, false);
}
END_TEST

START_TEST(flush_policy_moves_the_recovery_point)
{
	struct log_config cfg = small_cfg(1 << 20);
	struct log *log;

	/* default: left to the page cache */
	ck_assert_int_eq(log_open(pathf("fl-0"), "fl", 0, &cfg, -1, -1, false, &log), 0);
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(append_batch(log, 1, 10, 1, 0, NULL), 0);
	ck_assert_int_eq(log->recovery_point, 0);
	ck_assert_int_eq(log_maybe_flush(log, INT64_MAX / 2), 0);
	ck_assert_int_eq(log->recovery_point, 0);
	log_close(log, false);
	/* flush.messages = 5 */
	cfg.flush_messages = 5;
	ck_assert_int_eq(log_open(pathf("fl-1"), "fl", 1, &cfg, -1, -1, false, &log), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(append_batch(log, 1, 10, 1, 0, NULL), 0);
	ck_assert_int_eq(log->recovery_point, 0);
	ck_assert_int_eq(append_batch(log, 1, 10, 1, 0, NULL), 0);
	ck_assert_int_eq(log->recovery_point, 5);
	ck_assert_int_eq(append_batch(log, 3, 10, 1, 0, NULL), 0);
	ck_assert_int_eq(log->recovery_point, 5);
	log_close(log, false);
	/* flush.ms */
	cfg.flush_messages = LOG_NO_LIMIT;
	cfg.flush_ms = 1000;
	ck_assert_int_eq(log_open(pathf("fl-2"), "fl", 2, &cfg, -1, -1, false, &log), 0);
	ck_assert_int_eq(append_batch(log, 2, 10, 1, 0, NULL), 0);
	ck_assert_int_eq(log_maybe_flush(log, log->last_flush_ms + 10), 0);
	ck_assert_int_eq(log->recovery_point, 0);
	ck_assert_int_eq(log_maybe_flush(log, log->last_flush_ms + 1000), 0);
	ck_assert_int_eq(log->recovery_point, 2);
	log_close(log, false);
}
END_TEST

/*
 * flush.messages: an append is acknowledged only once fsynced.  A failed
 * fsync (here the active segment's descriptor is swapped for /dev/null,
 * whose writes succeed and whose fdatasync fails with EINVAL) is
 * KAFKA_STORAGE_ERROR, and the log goes offline as Kafka takes its log
 * directory offline: later appends and reads fail too.
 */
START_TEST(a_failed_fsync_is_not_acknowledged_and_the_log_goes_offline)
{
	struct log_config cfg = small_cfg(1 << 20);
	struct log *log;
	struct log_read_result rr;
	struct log_segment *seg;
	int null_fd, saved;

	cfg.flush_messages = 1;
	ck_assert_int_eq(log_open(pathf("fs-0"), "fs", 0, &cfg, -1, -1, false, &log), 0);
	ck_assert_int_eq(append_batch(log, 2, 10, 1, 0, NULL), 0);
	ck_assert_int_eq(log->recovery_point, 2);
	seg = log->segs[log->nsegs - 1];
	null_fd = open("/dev/null", O_WRONLY);
	ck_assert_int_ge(null_fd, 0);
	saved = dup(seg->fd);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(null_fd, seg->fd), 0);
	ck_assert_int_eq(append_batch(log, 1, 10, 1, 0, NULL), KP_ERR_KAFKA_STORAGE_ERROR);
	ck_assert_int_eq(log->recovery_point, 2);
	ck_assert(atomic_load(&log->offline));
	/* the disk is back: the log stays offline until a restart */
	ck_assert_int_ge(dup2(saved, seg->fd), 0);
	close(saved);
	close(null_fd);
	ck_assert_int_eq(append_batch(log, 1, 10, 1, 0, NULL), KP_ERR_KAFKA_STORAGE_ERROR);
	ck_assert_int_eq(log_read(log, 0, 1 << 20, INT64_MAX, true, &rr),
			 KP_ERR_KAFKA_STORAGE_ERROR);
	log_close(log, false);
}
END_TEST

START_TEST(rolled_segments_are_flushed_outside_the_lock)
{
	struct log_config cfg = small_cfg(1024);
	struct log_flush_job job;
	struct log *log;
	int64_t active, cut;

	ck_assert_int_eq(log_open(pathf("fr-0"), "fr", 0, &cfg, -1, -1, false, &log), 0);
	/* nothing rolled: nothing to do */
	ck_assert_int_eq(log_flush_rolled_begin(log, &job), 0);
	for (int i = 0; i < 30; i++)
		ck_assert_int_eq(append_batch(log, 1, 100, 1, 0, NULL), 0);
	ck_assert_int_gt(log->nsegs, 3);
	active = log->segs[log->nsegs - 1]->base_offset;
	ck_assert_int_eq(log_flush_rolled_begin(log, &job), log->nsegs - 1);
	/* appends go on meanwhile */
	ck_assert_int_eq(append_batch(log, 1, 100, 1, 0, NULL), 0);
	ck_assert_int_eq(log_flush_job_run(&job), 0);
	log_flush_rolled_end(log, &job, 0);
	ck_assert_int_eq(log->recovery_point, active);
	if (log->segs[log->nsegs - 1]->base_offset == active) {
		ck_assert_int_eq(log_flush_rolled_begin(log, &job), 0);
	} else {	/* that append rolled: one more to flush */
		ck_assert_int_eq(log_flush_rolled_begin(log, &job), 1);
		log_flush_rolled_end(NULL, &job, 0);
	}

	/* a truncation while the fsyncs run: the recovery point stays where
	 * the truncation put it */
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(append_batch(log, 1, 100, 1, 0, NULL), 0);
	ck_assert_int_gt(log_flush_rolled_begin(log, &job), 0);
	cut = active + 1;
	ck_assert_int_eq(log_truncate_to(log, cut), 0);
	ck_assert_int_eq(log_flush_job_run(&job), 0);
	log_flush_rolled_end(log, &job, 0);
	ck_assert_int_eq(log->recovery_point, active);
	ck_assert_int_eq(log_end_offset(log), cut);

	/* a failed fsync moves nothing; a log that went only releases */
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(append_batch(log, 1, 100, 1, 0, NULL), 0);
	ck_assert_int_gt(log_flush_rolled_begin(log, &job), 0);
	log_flush_rolled_end(log, &job, -EIO);
	ck_assert_int_eq(log->recovery_point, active);
	ck_assert_int_gt(log_flush_rolled_begin(log, &job), 0);
	log_flush_rolled_end(NULL, &job, 0);
	ck_assert_int_eq(log->recovery_point, active);
	log_close(log, false);
}
END_TEST

/* The log manager's tick skips its walk while nothing rolled, no segment
 * was deleted and no log was opened (log_maintenance_gen), and walks
 * again while a log waits (log_maintenance_pending). */
START_TEST(the_maintenance_count_moves_on_rolls_deletions_and_opens)
{
	struct log_config cfg = small_cfg(1024);
	struct log_flush_job job;
	struct log *log;
	uint64_t gen = log_maintenance_gen();

	cfg.file_delete_delay_ms = 60000;
	ck_assert_int_eq(log_open(pathf("mc-0"), "mc", 0, &cfg, -1, -1, false, &log), 0);
	ck_assert_uint_gt(log_maintenance_gen(), gen);
	ck_assert(!log_maintenance_pending(log));
	/* appends within the active segment: nothing for the tick */
	gen = log_maintenance_gen();
	ck_assert_int_eq(append_batch(log, 1, 100, 1, 0, NULL), 0);
	ck_assert_uint_eq(log_maintenance_gen(), gen);
	ck_assert(!log_maintenance_pending(log));
	/* a roll: counted, and the log waits until its segments are flushed */
	while (log->nsegs < 3)
		ck_assert_int_eq(append_batch(log, 1, 100, 1, 0, NULL), 0);
	ck_assert_uint_gt(log_maintenance_gen(), gen);
	ck_assert(log_maintenance_pending(log));
	ck_assert_int_gt(log_flush_rolled_begin(log, &job), 0);
	ck_assert_int_eq(log_flush_job_run(&job), 0);
	log_flush_rolled_end(log, &job, 0);
	ck_assert(!log_maintenance_pending(log));
	/* a deleted segment: counted, waits for its files' delay */
	gen = log_maintenance_gen();
	ck_assert_int_eq(log_truncate_to(log, 1), 0);
	ck_assert_uint_gt(log_maintenance_gen(), gen);
	ck_assert(log_maintenance_pending(log));
	log_reap_deleted(log, 0, true);
	ck_assert(!log_maintenance_pending(log));
	log_close(log, false);
}
END_TEST

START_TEST(cleanable_range_and_stale_swaps)
{
	struct log_config cfg = small_cfg(1024);
	struct log_clean_range r;
	struct log_segment *cs;
	struct log *log;
	int64_t b1, b2;

	ck_assert_int_eq(log_open(pathf("cl-0"), "cl", 0, &cfg, -1, -1, false, &log), 0);
	for (int i = 0; i < 30; i++)
		ck_assert_int_eq(append_batch(log, 1, 100, 1, 0, NULL), 0);
	ck_assert_int_gt(log->nsegs, 3);
	b1 = log->segs[1]->base_offset;
	b2 = log->segs[2]->base_offset;
	/* everything closed and below the high watermark, all dirty */
	ck_assert_int_eq(log_clean_range_get(log, log_end_offset(log), 0, true, &r), 0);
	ck_assert_int_eq(r.n, log->nsegs - 1);
	ck_assert_int_eq(r.first_dirty_idx, 0);
	ck_assert(r.end == log->segs[log->nsegs - 1]->base_offset);
	ck_assert(r.clean_bytes == 0 && r.dirty_bytes > 0);
	log_clean_range_release(&r);
	/* the high watermark bounds it; first_dirty splits clean and dirty */
	atomic_store(&log->first_dirty, b1);
	ck_assert_int_eq(log_clean_range_get(log, b2, 0, false, &r), 0);
	ck_assert_int_eq(r.first_dirty_idx, 1);
	ck_assert(r.clean_bytes == log_segment_size(log->segs[0]));
	ck_assert(r.dirty_bytes == log_segment_size(log->segs[1]));
	ck_assert_int_eq(r.n, 0);	/* not taken */
	/* nothing dirty below the high watermark: nothing to take */
	ck_assert_int_eq(log_clean_range_get(log, b1, 0, true, &r), 0);
	ck_assert(r.dirty_bytes == 0 && r.n == 0);

	/* a truncation after the range was taken: the swap is refused */
	ck_assert_int_eq(log_clean_range_get(log, log_end_offset(log), 0, true, &r), 0);
	ck_assert_int_eq(log_segment_create_cleaned(log->dir, 0, cfg.segment_index_bytes,
						    cfg.index_interval_bytes, &cs), 0);
	ck_assert_int_eq(log_segment_set_active(cs, false), 0);
	ck_assert_int_eq(log_truncate_to(log, b2 + 1), 0);
	ck_assert_int_eq(log_replace_segment(log, &r, r.segs[0], cs), -ESTALE);
	ck_assert_int_eq(count_files(log->dir, ".cleaned"), 3);
	log_segment_unlink_files(cs->base_path, ".cleaned");
	log_segment_unref(cs);
	log_clean_range_release(&r);
	/* nor for the active segment */
	ck_assert_int_eq(log_clean_range_get(log, log_end_offset(log), 0, true, &r), 0);
	ck_assert_int_eq(log_segment_create_cleaned(log->dir, b2, cfg.segment_index_bytes,
						    cfg.index_interval_bytes, &cs), 0);
	ck_assert_int_eq(log_replace_segment(log, &r, log->segs[log->nsegs - 1], cs),
			 -ESTALE);
	log_segment_unlink_files(cs->base_path, ".cleaned");
	log_segment_unref(cs);
	log_clean_range_release(&r);
	ck_assert_int_eq(count_files(log->dir, ".cleaned"), 0);
	log_close(log, false);
}
END_TEST

/* -------------------------------------------------------- log dirs */

static void topic_cfg(const char *topic, struct log_config *cfg, void *arg)
{
	(void)arg;
	if (strcmp(topic, "small") == 0)
		cfg->segment_bytes = 4096;
}

START_TEST(log_dirs_lock_checkpoint_and_reload)
{
	struct log_dir *ld, *other;
	struct log *a, *b;
	struct log_config cfg;
	int32_t id;
	char cluster[64];

	ck_assert_int_eq(log_dir_open(pathf("d"), &ld), 0);
	ck_assert(!ld->clean);
	ck_assert_int_eq(log_dir_open(pathf("d"), &other), -EBUSY);
	ck_assert_int_eq(log_dir_read_meta(ld, &id, cluster, sizeof(cluster)), -ENOENT);
	ck_assert_int_eq(log_dir_write_meta(ld, 3, "AbCdEfGhIjKlMnOpQrStUv"), 0);
	ck_assert_int_eq(log_dir_read_meta(ld, &id, cluster, sizeof(cluster)), 0);
	ck_assert_int_eq(id, 3);
	ck_assert_str_eq(cluster, "AbCdEfGhIjKlMnOpQrStUv");
	log_config_defaults(&cfg);
	cfg.segment_bytes = 4096;
	ck_assert_int_eq(log_dir_add(ld, "small", 0, &cfg, &a), 0);
	log_config_defaults(&cfg);
	ck_assert_int_eq(log_dir_add(ld, "my-topic", 12, &cfg, &b), 0);
	for (int i = 0; i < 40; i++) {
		ck_assert_int_eq(append_batch(a, 2, 100, 1 + i, 0, NULL), 0);
		ck_assert_int_eq(append_batch(b, 1, 100, 1 + i, 0, NULL), 0);
	}
	ck_assert_int_eq(log_advance_start_offset(a, 30), 0);
	log_dir_close(ld, true);
	ck_assert_int_eq(access(pathf("d/.kafka_cleanshutdown"), F_OK), 0);
	ck_assert_int_eq(access(pathf("d/recovery-point-offset-checkpoint"), F_OK), 0);

	/* a leftover of a topic deletion is finished off on load */
	ck_assert_int_eq(mkdir(pathf("d/gone-0.0123456789abcdef0123456789abcdef-delete"), 0755), 0);
	ck_assert_int_eq(log_dir_open(pathf("d"), &ld), 0);
	ck_assert(ld->clean);
	ck_assert_int_eq(access(pathf("d/.kafka_cleanshutdown"), F_OK), -1);
	ck_assert_int_eq(log_checkpoint_get(&ld->recovery, "small", 0, -1), 80);
	ck_assert_int_eq(log_checkpoint_get(&ld->starts, "small", 0, -1), 30);
	ck_assert_int_eq(log_dir_load(ld, topic_cfg, NULL, 2), 0);
	ck_assert_int_eq(ld->nlogs, 2);
	a = log_dir_find(ld, "small", 0);
	b = log_dir_find(ld, "my-topic", 12);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(a->cfg.segment_bytes, 4096);
	ck_assert_int_eq(log_end_offset(a), 80);
	ck_assert_int_eq(log_start_offset(a), 30);
	ck_assert_int_eq(log_end_offset(b), 40);
	ck_assert_int_eq(access(pathf("d/gone-0.0123456789abcdef0123456789abcdef-delete"), F_OK), -1);
	/* StopReplica(delete): the directory goes */
	ck_assert_int_eq(log_dir_delete_log(ld, "my-topic", 12), 0);
	ck_assert_int_eq(access(pathf("d/my-topic-12"), F_OK), -1);
	ck_assert_int_eq(ld->nlogs, 1);
	log_dir_close(ld, false);	/* a crash: no marker */
	ck_assert_int_eq(log_dir_open(pathf("d"), &ld), 0);
	ck_assert(!ld->clean);
	ck_assert_int_eq(log_dir_load(ld, NULL, NULL, 1), 0);
	ck_assert_int_eq(log_end_offset(log_dir_find(ld, "small", 0)), 80);
	log_dir_close(ld, true);
}
END_TEST

static void count_offline(struct log_dir *ld, void *arg)
{
	(void)ld;
	(*(int *)arg)++;
}

/* One failed log takes its whole directory offline (Kafka's offline log
 * dir); other directories go on; a moved log start offset checkpointed at
 * once survives a crash. */
START_TEST(a_failed_log_takes_its_dir_offline)
{
	struct log_dir *ld, *ld2;
	struct log *a, *b, *c;
	struct log_config cfg;
	struct log_read_result res;
	int calls = 0;

	ck_assert_int_eq(log_dir_open(pathf("d1"), &ld), 0);
	ck_assert_int_eq(log_dir_open(pathf("d2"), &ld2), 0);
	ld->on_offline = count_offline;
	ld->on_offline_arg = &calls;
	log_config_defaults(&cfg);
	cfg.segment_bytes = 4096;
	ck_assert_int_eq(log_dir_add(ld, "a", 0, &cfg, &a), 0);
	ck_assert_int_eq(log_dir_add(ld, "b", 0, &cfg, &b), 0);
	ck_assert_int_eq(log_dir_add(ld2, "c", 0, &cfg, &c), 0);
	ck_assert_ptr_eq(log_dir_holding((struct log_dir *const[]){ ld, ld2 }, 2, c), ld2);
	for (int i = 0; i < 40; i++) {
		ck_assert_int_eq(append_batch(a, 2, 100, 1 + i, 0, NULL), 0);
		ck_assert_int_eq(append_batch(c, 2, 100, 1 + i, 0, NULL), 0);
	}
	/* DeleteRecords' path: advance, checkpoint, then a crash */
	ck_assert_int_eq(log_advance_start_offset(c, 50), 0);
	ck_assert_int_eq(log_advance_start_offset(c, 81), KP_ERR_OFFSET_OUT_OF_RANGE);
	ck_assert_int_eq(log_first_base(c) <= 50, 1);
	ck_assert_int_eq(log_dir_checkpoint(ld2), 0);
	log_dir_close(ld2, false);
	ck_assert_int_eq(log_dir_open(pathf("d2"), &ld2), 0);
	ck_assert_int_eq(log_dir_load(ld2, NULL, NULL, 1), 0);
	c = log_dir_find(ld2, "c", 0);
	ck_assert_int_eq(log_start_offset(c), 50);
	ck_assert_int_eq(log_read(c, 10, 1 << 20, LOG_NO_LIMIT, true, &res),
			 KP_ERR_OFFSET_OUT_OF_RANGE);

	ck_assert(!log_dir_is_offline(ld));
	log_set_offline(a);
	log_set_offline(a);
	ck_assert(log_dir_is_offline(ld));
	ck_assert_int_eq(calls, 1);
	/* the other log of the dir refuses too; the other dir serves */
	ck_assert(log_is_offline(b));
	ck_assert_int_eq(append_batch(b, 1, 10, 1, 0, NULL), KP_ERR_KAFKA_STORAGE_ERROR);
	ck_assert_int_eq(log_read(b, 0, 1 << 20, LOG_NO_LIMIT, true, &res),
			 KP_ERR_KAFKA_STORAGE_ERROR);
	ck_assert(!log_is_offline(c));
	ck_assert_int_eq(append_batch(c, 1, 10, 1, 0, NULL), 0);
	ck_assert_int_eq(log_dir_checkpoint(ld), -EIO);
	log_dir_close(ld, true);	/* not clean: nothing is written there */
	ck_assert_int_eq(access(pathf("d1/.kafka_cleanshutdown"), F_OK), -1);
	log_dir_close(ld2, true);
}
END_TEST

START_TEST(dir_names_split_at_the_last_dash)
{
	char topic[256], buf[300];
	int32_t p;

	ck_assert_int_eq(log_parse_dir_name("my-topic-12", topic, sizeof(topic), &p), 0);
	ck_assert_str_eq(topic, "my-topic");
	ck_assert_int_eq(p, 12);
	ck_assert_int_eq(log_parse_dir_name("topic", topic, sizeof(topic), &p), -EINVAL);
	ck_assert_int_eq(log_parse_dir_name("topic-", topic, sizeof(topic), &p), -EINVAL);
	ck_assert_int_eq(log_parse_dir_name("topic-x1", topic, sizeof(topic), &p), -EINVAL);
	ck_assert_int_eq(log_parse_dir_name("-3", topic, sizeof(topic), &p), -EINVAL);
	/* Kafka could not have made these topics: not logs */
	ck_assert_int_eq(log_parse_dir_name("a b-0", topic, sizeof(topic), &p), -EINVAL);
	ck_assert_int_eq(log_parse_dir_name("..-0", topic, sizeof(topic), &p), -EINVAL);
	ck_assert_int_eq(log_parse_dir_name("x\ny-0", topic, sizeof(topic), &p), -EINVAL);
	ck_assert_int_eq(log_dir_name(buf, sizeof(buf), "__consumer_offsets", 49), 0);
	ck_assert_str_eq(buf, "__consumer_offsets-49");
}
END_TEST

/* ----------------------------------------------------- concurrency */

struct race {
	struct log *log;
	atomic_bool done;
	atomic_long reads;
	atomic_long bad;
};

static void *reader_main(void *arg)
{
	struct race *r = arg;
	uint8_t *buf = malloc(1 << 20);

	while (!atomic_load(&r->done)) {
		int64_t leo = log_end_offset(r->log);
		int64_t off = leo > 0 ? random() % leo : 0;
		struct log_read_result res;
		size_t pos = 0;

		if (log_read(r->log, off, 1 << 20, LOG_NO_LIMIT, true, &res) != 0) {
			atomic_fetch_add(&r->bad, 1);
			continue;
		}
		if (res.seg != NULL) {
			if (pread(res.fd, buf, (size_t)res.length, res.position) != res.length)
				atomic_fetch_add(&r->bad, 1);
			/* every byte offered is a whole, valid batch */
			while (pos < (size_t)res.length) {
				size_t size;

				if (kp_batch_size(buf + pos, (size_t)res.length - pos, &size) != 0 ||
				    kp_batch_verify_crc(buf + pos, size) != 0) {
					atomic_fetch_add(&r->bad, 1);
					break;
				}
				pos += size;
			}
		}
		log_read_done(&res);
		atomic_fetch_add(&r->reads, 1);
	}
	free(buf);
	return NULL;
}

START_TEST(readers_never_see_a_partial_batch)
{
	struct log_config cfg = small_cfg(256 * 1024);
	struct race r = { 0 };
	pthread_t th[3];

	ck_assert_int_eq(log_open(pathf("c-0"), "c", 0, &cfg, -1, -1, false, &r.log), 0);
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, reader_main, &r);
	/* the readers under way before the appends start, however busy the
	 * machine */
	while (atomic_load(&r.reads) == 0)
		sched_yield();
	for (int i = 0; i < 4000; i++) {
		ck_assert_int_eq(append_batch(r.log, 1 + i % 10, 100 + i % 700, i, 0, NULL), 0);
		if (i % 1000 == 999)
			log_delete_old_segments(r.log, 0, 0);	/* nothing: hw 0 */
	}
	atomic_store(&r.done, true);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(atomic_load(&r.bad), 0);
	log_close(r.log, false);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("storage");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, checkpoints_round_trip_and_reject_malformed_files);
	tcase_add_test(tc, checkpoint_index_puts_gets_and_removes_at_scale);
	tcase_add_test(tc, epoch_cache_follows_kafka_rules);
	tcase_add_test(tc, epoch_checkpoint_is_deferred_and_written_before_a_flush);
	tcase_add_test(tc, epochs_lost_in_a_crash_are_rebuilt_from_the_log);
	tcase_add_test(tc, epoch_writer_runs_beside_the_owner);
	tcase_add_test(tc, append_assigns_offsets_and_reads_whole_batches);
	tcase_add_test(tc, segments_roll_on_size_index_and_time);
	tcase_add_test(tc, index_lookups_agree_with_a_brute_force_scan);
	tcase_add_test(tc, timestamps_find_the_first_record_at_or_after);
	tcase_add_test(tc, timestampless_batches_never_make_data_look_ancient);
	tcase_add_test(tc, a_torn_tail_is_cut_on_recovery);
	tcase_add_test(tc, a_flipped_byte_cuts_the_log_there_and_drops_later_segments);
	tcase_add_test(tc, missing_or_corrupt_indexes_are_rebuilt);
	tcase_add_test(tc, index_files_appear_with_their_first_entry);
	tcase_add_test(tc, truncation_cuts_back_and_empties);
	tcase_add_test(tc, retention_and_start_offset_delete_old_segments);
	tcase_add_test(tc, follower_appends_keep_offsets);
	tcase_add_test(tc, flush_policy_moves_the_recovery_point);
	tcase_add_test(tc, rolled_segments_are_flushed_outside_the_lock);
	tcase_add_test(tc, the_maintenance_count_moves_on_rolls_deletions_and_opens);
	tcase_add_test(tc, cleanable_range_and_stale_swaps);
	tcase_add_test(tc, log_dirs_lock_checkpoint_and_reload);
	tcase_add_test(tc, dir_names_split_at_the_last_dash);
	tcase_add_test(tc, a_failed_log_takes_its_dir_offline);
	tcase_add_test(tc, a_failed_fsync_is_not_acknowledged_and_the_log_goes_offline);
	tcase_add_test(tc, readers_never_see_a_partial_batch);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(log_suite());
}
