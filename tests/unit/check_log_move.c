/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_log_move.c - a replica moving between two log dirs of a broker
 * (log_move.c) with the real log code: the copy while a thread appends,
 * the swap (every record there once, epochs kept, the old dir gone), the
 * broker's errors, and what a start finds after a crash (a partial
 * future copy dropped and the move asked again, a whole one whose
 * current log was renamed away taken as the log); and the high-watermark
 * checkpoint, written only when what it says changed.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"
#include "check_run.h"
#include "kp_buf.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_records.h"
#include "log.h"
#include "log_dir.h"
#include "log_epoch.h"
#include "log_move.h"
#include "partition.h"
#include "quota.h"
#include "replica.h"

static char tmpdir[PATH_MAX];
static char dir0[PATH_MAX + 8], dir1[PATH_MAX + 8];
static struct broker b;

static void rm_rf(const char *path)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
}

static bool exists(const char *dir, const char *name)
{
	char p[2 * PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

/* Entries of dir ending with suffix. */
static int count_suffix(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name), s = strlen(suffix);

		n += l > s && strcmp(de->d_name + l - s, suffix) == 0;
	}
	closedir(d);
	return n;
}

static struct log_config small_cfg(void)
{
	struct log_config c;

	log_config_defaults(&c);
	c.segment_bytes = 8192;
	c.index_interval_bytes = 512;
	c.file_delete_delay_ms = 0;
	return c;
}

/* Open both dirs (loading what is in them) as the broker's. */
static void open_dirs(void)
{
	ck_assert_int_eq(log_dir_open(dir0, &b.dirs[0]), 0);
	ck_assert_int_eq(log_dir_open(dir1, &b.dirs[1]), 0);
	ck_assert_int_eq(log_dir_load(b.dirs[0], NULL, NULL, 1), 0);
	ck_assert_int_eq(log_dir_load(b.dirs[1], NULL, NULL, 1), 0);
	b.ndirs = 2;
}

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_log_move.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(dir0, sizeof(dir0), "%s/d0", tmpdir);
	snprintf(dir1, sizeof(dir1), "%s/d1", tmpdir);
	kp_log_set_level(KP_LOG_ERROR);
	memset(&b, 0, sizeof(b));
	pthread_mutex_init(&b.dirs_lock, NULL);
	partition_table_init(&b.parts);
	metadata_cache_init(&b.meta);
	b.dirs = calloc(2, sizeof(*b.dirs));
	ck_assert_ptr_nonnull(b.dirs);
	open_dirs();
}

static void close_all(void)
{
	long n;
	struct partition **v = NULL;
	size_t cap = 0;

	log_move_stop(&b);
	/* the partitions' logs belong to the dirs */
	n = partition_list(&b.parts, &v, &cap);
	for (long i = 0; i < n; i++)
		v[i]->log = NULL;
	free(v);
	for (int i = 0; i < b.ndirs; i++)
		log_dir_close(b.dirs[i], true);
	b.ndirs = 0;
}

static void teardown(void)
{
	if (b.ndirs > 0)
		close_all();
	partition_table_destroy(&b.parts);
	free(b.dirs);
	rm_rf(tmpdir);
}

static int append(struct log *log, int n, int32_t epoch)
{
	struct kp_batch_params p;
	struct kp_record_in recs[16];
	static uint8_t val[200];
	struct kp_wbuf w;
	int rc;

	memset(val, 'v', sizeof(val));
	kp_batch_params_init(&p);
	for (int i = 0; i < n; i++)
		recs[i] = (struct kp_record_in){
			.key = { .ptr = NULL, .len = -1 },
			.value = { .ptr = val, .len = (int32_t)sizeof(val) },
			.timestamp = 1000 + i,
		};
	kp_wbuf_init(&w);
	ck_assert_int_eq(kp_batch_build(&w, &p, recs, n), 0);
	rc = log_append_leader(log, w.data, w.len, epoch, -1, NULL);
	kp_wbuf_free(&w);
	return rc;
}

/* Records in log from its start, batch by batch (every offset once, in
 * order). */
static int64_t count_records(struct log *log)
{
	int64_t off = log_start_offset(log), n = 0;

	while (off < log_end_offset(log)) {
		struct log_read_result res;
		uint8_t *buf;
		size_t pos = 0;

		ck_assert_int_eq(log_read(log, off, 1 << 20, LOG_NO_LIMIT, true, &res), 0);
		ck_assert_ptr_nonnull(res.seg);
		buf = malloc((size_t)res.length);
		ck_assert_int_eq(pread(res.fd, buf, (size_t)res.length, res.position),
				 res.length);
		while (pos < (size_t)res.length) {
			struct kp_batch_header h;
			size_t size;

			if (kp_batch_size(buf + pos, (size_t)res.length - pos, &size) != 0)
				break;
			ck_assert_int_eq(kp_batch_header_parse(buf + pos, size, &h), 0);
			ck_assert_int_eq(kp_batch_verify_crc(buf + pos, size), 0);
			ck_assert_int_eq(h.base_offset, off);
			n += kp_batch_last_offset(&h) - h.base_offset + 1;
			off = kp_batch_last_offset(&h) + 1;
			pos += size;
		}
		free(buf);
		log_read_done(&res);
	}
	return n;
}

static struct partition *host(const char *topic, int32_t index, struct log_dir *ld)
{
	struct log_config cfg = small_cfg();
	struct partition *p = partition_get_or_add(&b.parts, topic, strlen(topic), index);

	ck_assert_ptr_nonnull(p);
	p->broker = &b;
	p->leader = true;
	pthread_mutex_lock(&b.dirs_lock);
	ck_assert_int_eq(log_dir_add(ld, topic, index, &cfg, &p->log), 0);
	pthread_mutex_unlock(&b.dirs_lock);
	return p;
}

static struct log_dir *dir_of(struct partition *p)
{
	struct log_dir *ld;

	pthread_mutex_lock(&p->lock);
	pthread_mutex_lock(&b.dirs_lock);
	ld = log_dir_holding(b.dirs, b.ndirs, p->log);
	pthread_mutex_unlock(&b.dirs_lock);
	pthread_mutex_unlock(&p->lock);
	return ld;
}

static bool wait_dir(struct partition *p, struct log_dir *want)
{
	for (int i = 0; i < 3000; i++) {
		if (dir_of(p) == want)
			return true;
		usleep(10 * 1000);
	}
	return false;
}

struct appender {
	struct partition *p;
	atomic_bool stop;
	int64_t records;
};

/* A producer: batches of 5 under the partition's lock, epoch 7. */
static void *appending(void *arg)
{
	struct appender *a = arg;

	while (!atomic_load(&a->stop)) {
		pthread_mutex_lock(&a->p->lock);
		ck_assert_int_eq(append(a->p->log, 5, 7), 0);
		atomic_store(&a->p->hw, log_end_offset(a->p->log));
		pthread_mutex_unlock(&a->p->lock);
		a->records += 5;
		usleep(200);
	}
	return NULL;
}

START_TEST(whole_batches_only)
{
	struct kp_wbuf w;
	struct kp_batch_params p;
	struct kp_record_in r = { .key = { NULL, -1 }, .value = { (const uint8_t *)"x", 1 } };
	size_t one;

	kp_wbuf_init(&w);
	kp_batch_params_init(&p);
	ck_assert_int_eq(kp_batch_build(&w, &p, &r, 1), 0);
	one = w.len;
	ck_assert_int_eq(kp_batch_build(&w, &p, &r, 1), 0);
	ck_assert_uint_eq(log_move_whole_batches(w.data, w.len), w.len);
	ck_assert_uint_eq(log_move_whole_batches(w.data, w.len - 1), one);
	ck_assert_uint_eq(log_move_whole_batches(w.data, one + 11), one);
	ck_assert_uint_eq(log_move_whole_batches(w.data, 11), 0);
	ck_assert_uint_eq(log_move_whole_batches(w.data, 0), 0);
	kp_wbuf_free(&w);
}
END_TEST

START_TEST(a_replica_moves_while_appends_go_on)
{
	struct partition *p = host("t", 0, b.dirs[0]);
	struct appender a = { .p = p };
	pthread_t th;
	char err[128];
	int32_t e;
	int64_t end, before = 0;

	for (int i = 0; i < 200; i++, before += 10)
		ck_assert_int_eq(append(p->log, 10, i < 100 ? 3 : 5), 0);
	atomic_store(&p->hw, log_end_offset(p->log));
	ck_assert_int_gt(p->log->nsegs, 10);
	ck_assert_int_eq(log_move_start(&b, err, sizeof(err)), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, appending, &a), 0);
	ck_assert_int_eq(log_move_request(&b, kp_str_c(dir1), kp_str_c("t"), 0), 0);
	ck_assert_msg(wait_dir(p, b.dirs[1]), "t-0 never reached %s", dir1);
	usleep(20 * 1000);	/* appends to the new log too */
	atomic_store(&a.stop, true);
	pthread_join(th, NULL);
	/* every record there once, in order, epochs kept */
	ck_assert_int_eq(log_end_offset(p->log), before + a.records);
	ck_assert_int_eq(count_records(p->log), before + a.records);
	ck_assert_int_eq(log_epoch_latest(&p->log->epochs), 7);
	log_end_offset_for_epoch(p->log, 3, &e, &end);
	ck_assert_int_eq(e, 3);
	ck_assert_int_eq(end, 1000);
	log_end_offset_for_epoch(p->log, 5, &e, &end);
	ck_assert_int_eq(end, 2000);
	ck_assert(exists(dir1, "t-0"));
	ck_assert(!exists(dir0, "t-0"));
	ck_assert_int_eq(count_suffix(dir1, "-future"), 0);
	/* asked again for where it is: nothing to do */
	ck_assert_int_eq(log_move_request(&b, kp_str_c(dir1), kp_str_c("t"), 0), 0);
	log_move_stop(&b);	/* removes the old log's "-delete" dir */
	ck_assert_int_eq(count_suffix(dir0, "-delete"), 0);
	/* a restart finds it in its new dir, whole */
	close_all();
	open_dirs();
	ck_assert_ptr_null(log_dir_find(b.dirs[0], "t", 0));
	ck_assert_ptr_nonnull(log_dir_find(b.dirs[1], "t", 0));
	ck_assert_int_eq(count_records(log_dir_find(b.dirs[1], "t", 0)), before + a.records);
}
END_TEST

/* Under replica.alter.log.dirs.io.max.bytes.per.second a move keeps to
 * its rate from its first step: a log smaller than a copy chunk is not
 * copied and swapped at once; lifting the limit lets it finish. */
START_TEST(a_throttled_move_keeps_to_its_rate)
{
	struct partition *p = host("t", 0, b.dirs[0]);
	char err[128];

	for (int i = 0; i < 100; i++)	/* ~210 KB, ~13 s at 16 KB/s */
		ck_assert_int_eq(append(p->log, 10, 3), 0);
	atomic_store(&p->hw, log_end_offset(p->log));
	ck_assert_int_eq(log_move_start(&b, err, sizeof(err)), 0);
	log_move_set_rate(&b, 16384);
	ck_assert_int_eq(log_move_request(&b, kp_str_c(dir1), kp_str_c("t"), 0), 0);
	usleep(500 * 1000);
	ck_assert_ptr_eq(dir_of(p), b.dirs[0]);
	ck_assert_int_eq(count_suffix(dir1, "-future"), 1);
	log_move_set_rate(&b, QUOTA_UNLIMITED);
	ck_assert_msg(wait_dir(p, b.dirs[1]), "t-0 never reached %s", dir1);
	ck_assert_int_eq(count_records(p->log), 1000);
}
END_TEST

START_TEST(the_brokers_errors)
{
	struct partition *p = host("t", 0, b.dirs[0]);
	char err[128];

	(void)p;
	ck_assert_int_eq(log_move_start(&b, err, sizeof(err)), 0);
	ck_assert_int_eq(log_move_request(&b, kp_str_c("/nowhere"), kp_str_c("t"), 0),
			 KP_ERR_LOG_DIR_NOT_FOUND);
	/* not hosted, not in the metadata */
	ck_assert_int_eq(log_move_request(&b, kp_str_c(dir1), kp_str_c("u"), 0),
			 KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	/* but remembered: its log would be created there */
	pthread_mutex_lock(&b.dirs_lock);
	ck_assert_ptr_eq(log_move_wished_dir(&b, "u", 0), b.dirs[1]);
	ck_assert_ptr_null(log_move_wished_dir(&b, "u", 1));
	pthread_mutex_unlock(&b.dirs_lock);
	atomic_store(&b.dirs[1]->offline, true);
	ck_assert_int_eq(log_move_request(&b, kp_str_c(dir1), kp_str_c("t"), 0),
			 KP_ERR_KAFKA_STORAGE_ERROR);
	atomic_store(&b.dirs[1]->offline, false);
}
END_TEST

/* cp -a of a partition dir under another name. */
static void copy_dir(const char *from, const char *to)
{
	char cmd[3 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", from, to);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(a_start_resumes_or_finishes_a_move)
{
	struct partition *p0 = host("t", 0, b.dirs[0]), *p1 = host("t", 1, b.dirs[0]);
	char from[2 * PATH_MAX], to[2 * PATH_MAX], err[128];
	struct log *log;

	for (int i = 0; i < 50; i++) {
		ck_assert_int_eq(append(p0->log, 10, 2), 0);
		ck_assert_int_eq(append(p1->log, 10, 2), 0);
	}
	close_all();
	/* t-0: a copy under way beside its current log */
	snprintf(from, sizeof(from), "%s/t-0", dir0);
	snprintf(to, sizeof(to), "%s/t-0.%s-future", dir1, "0123456789abcdef0123456789abcdef");
	copy_dir(from, to);
	/* t-1: the whole copy, the current log already renamed away */
	snprintf(from, sizeof(from), "%s/t-1", dir0);
	snprintf(to, sizeof(to), "%s/t-1.%s-future", dir1, "fedcba9876543210fedcba9876543210");
	copy_dir(from, to);
	snprintf(to, sizeof(to), "%s/t-1.%s-delete", dir0, "00000000000000000000000000000000");
	ck_assert_int_eq(rename(from, to), 0);
	open_dirs();
	ck_assert_int_eq(log_move_start(&b, err, sizeof(err)), 0);
	ck_assert_int_eq(count_suffix(dir1, "-future"), 0);
	ck_assert_int_eq(count_suffix(dir0, "-delete"), 0);
	/* t-0 stays where it was, and is to move again */
	ck_assert_ptr_nonnull(log_dir_find(b.dirs[0], "t", 0));
	ck_assert_ptr_null(log_dir_find(b.dirs[1], "t", 0));
	pthread_mutex_lock(&b.dirs_lock);
	ck_assert_ptr_eq(log_move_wished_dir(&b, "t", 0), b.dirs[1]);
	pthread_mutex_unlock(&b.dirs_lock);
	/* t-1 is the copy */
	log = log_dir_find(b.dirs[1], "t", 1);
	ck_assert_ptr_nonnull(log);
	ck_assert_int_eq(log_end_offset(log), 500);
	ck_assert_int_eq(count_records(log), 500);
	/* once t-0 is hosted again, the move is done */
	pthread_mutex_lock(&p0->lock);
	p0->log = log_dir_find(b.dirs[0], "t", 0);
	pthread_mutex_unlock(&p0->lock);
	pthread_mutex_lock(&p1->lock);
	p1->log = log;
	pthread_mutex_unlock(&p1->lock);
	ck_assert_msg(wait_dir(p0, b.dirs[1]), "t-0 never moved after the start");
	ck_assert_int_eq(count_records(p0->log), 500);
}
END_TEST

/* What replication-offset-checkpoint in dir says for topic-index, or -1
 * (-2: the file does not read). */
static int64_t hw_file(const char *dir, const char *topic, int32_t index, int *n)
{
	struct log_checkpoint cp;
	char p[2 * PATH_MAX];
	int64_t v;

	snprintf(p, sizeof(p), "%s/replication-offset-checkpoint", dir);
	log_checkpoint_init(&cp);
	if (log_checkpoint_read(p, &cp) < 0)
		return -2;
	v = log_checkpoint_get(&cp, topic, index, -1);
	*n = cp.n;
	log_checkpoint_free(&cp);
	return v;
}

static void spoil_hw_file(const char *dir)
{
	char p[2 * PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/replication-offset-checkpoint", dir);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs("not a checkpoint\n", f);
	fclose(f);
}

/* The high-watermark checkpoint of an idle broker is not written again
 * while it says the same; a moved high watermark or a log gone writes it.
 * (The file is spoiled behind the broker's back to see whether it was.) */
START_TEST(the_hw_checkpoint_is_written_only_when_it_changes)
{
	struct partition *p0 = host("hw", 0, b.dirs[0]);
	struct partition *p1 = host("hw", 1, b.dirs[0]);
	int n = 0;

	atomic_store(&p0->hw, 5);
	atomic_store(&p1->hw, 7);
	replica_checkpoint_hw(&b);
	ck_assert_int_eq(hw_file(dir0, "hw", 0, &n), 5);
	ck_assert_int_eq(hw_file(dir0, "hw", 1, &n), 7);
	ck_assert_int_eq(n, 2);
	/* unchanged: not written */
	spoil_hw_file(dir0);
	replica_checkpoint_hw(&b);
	ck_assert_int_eq(hw_file(dir0, "hw", 0, &n), -2);
	/* one high watermark moved: written whole */
	atomic_store(&p0->hw, 9);
	replica_checkpoint_hw(&b);
	ck_assert_int_eq(hw_file(dir0, "hw", 0, &n), 9);
	ck_assert_int_eq(hw_file(dir0, "hw", 1, &n), 7);
	/* a log deleted: the file must lose its line, though what is left
	 * is what the broker last remembered */
	pthread_mutex_lock(&p1->lock);
	p1->log = NULL;
	pthread_mutex_unlock(&p1->lock);
	pthread_mutex_lock(&b.dirs_lock);
	ck_assert_int_eq(log_dir_delete_log(b.dirs[0], "hw", 1), 0);
	pthread_mutex_unlock(&b.dirs_lock);
	spoil_hw_file(dir0);
	replica_checkpoint_hw(&b);
	ck_assert_int_eq(hw_file(dir0, "hw", 0, &n), 9);
	ck_assert_int_eq(hw_file(dir0, "hw", 1, &n), -1);
	ck_assert_int_eq(n, 1);
}
END_TEST

static Suite *log_move_suite(void)
{
	Suite *s = suite_create("log_move");
	TCase *tc = tcase_create("move");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, whole_batches_only);
	tcase_add_test(tc, a_replica_moves_while_appends_go_on);
	tcase_add_test(tc, a_throttled_move_keeps_to_its_rate);
	tcase_add_test(tc, the_brokers_errors);
	tcase_add_test(tc, a_start_resumes_or_finishes_a_move);
	tcase_add_test(tc, the_hw_checkpoint_is_written_only_when_it_changes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(log_move_suite());
}
