/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_producer_state.c - idempotent producers' state (producer_state.c)
 * and the log's use of it: the five-batch duplicate window, sequence gaps,
 * epochs, the wrap at INT32_MAX, follower appends, snapshots written at
 * rolls and at a clean close and read back, a corrupt snapshot refused
 * with its reason and the state rebuilt from the log, snapshots deleted
 * with their segments, truncation and expiry.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "kp_pidsnap.h"
#include "kp_records.h"
#include "log.h"
#include "producer_state.h"

static char tmpdir[PATH_MAX];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_pstate.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	kp_log_set_level(KP_LOG_ERROR);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ------------------------------------------------ the state on its own */

START_TEST(sequence_arithmetic_wraps_at_int32_max)
{
	ck_assert_int_eq(pstate_seq_add(5, 3), 8);
	ck_assert_int_eq(pstate_seq_add(INT32_MAX, 1), 0);
	ck_assert_int_eq(pstate_seq_add(INT32_MAX - 1, 3), 1);
	ck_assert_int_eq(pstate_seq_sub(1, 3), INT32_MAX - 1);
	ck_assert_int_eq(pstate_seq_sub(8, 3), 5);
}
END_TEST

/* The state after batches of 10 records at sequences 0, 10, ... */
static void feed(struct pstate *ps, int64_t pid, int16_t epoch, int nbatches)
{
	for (int i = 0; i < nbatches; i++)
		ck_assert_int_eq(pstate_update(ps, pid, epoch, i * 10, 100 * i, 100 * i + 9,
					       1000 + i), 0);
}

START_TEST(duplicates_within_the_last_five_batches)
{
	struct pstate ps;
	struct pstate_dup dup;
	bool is_dup;

	pstate_init(&ps);
	feed(&ps, 7, 0, 7);	/* batches 0..6; 2..6 retained */
	for (int i = 2; i < 7; i++) {
		ck_assert_int_eq(pstate_check(&ps, 7, 0, i * 10, i * 10 + 9, &is_dup, &dup), 0);
		ck_assert(is_dup);
		ck_assert_int_eq(dup.first_offset, 100 * i);
		ck_assert_int_eq(dup.last_offset, 100 * i + 9);
	}
	/* older than the window: neither a duplicate nor in sequence */
	ck_assert_int_eq(pstate_check(&ps, 7, 0, 10, 19, &is_dup, &dup),
			 KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	ck_assert(!is_dup);
	/* a range that overlaps but is not one of the batches */
	ck_assert_int_eq(pstate_check(&ps, 7, 0, 60, 65, &is_dup, &dup),
			 KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	/* the next one */
	ck_assert_int_eq(pstate_check(&ps, 7, 0, 70, 79, &is_dup, &dup), 0);
	ck_assert(!is_dup);
	/* another epoch never matches a duplicate */
	ck_assert_int_eq(pstate_check(&ps, 7, 1, 60, 69, &is_dup, &dup),
			 KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	ck_assert(!is_dup);
	pstate_free(&ps);
}
END_TEST

START_TEST(gaps_epochs_and_unknown_producers)
{
	struct pstate ps;
	struct pstate_dup dup;
	bool is_dup;

	pstate_init(&ps);
	/* unknown producer: any sequence (Kafka 2.8 accepts it) */
	ck_assert_int_eq(pstate_check(&ps, 9, 0, 55, 60, &is_dup, &dup), 0);
	ck_assert_int_eq(pstate_check(&ps, 9, 0, 0, 0, &is_dup, &dup), 0);
	feed(&ps, 9, 3, 2);	/* epoch 3, last sequence 19 */
	ck_assert_int_eq(pstate_check(&ps, 9, 3, 21, 25, &is_dup, &dup),
			 KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	ck_assert_int_eq(pstate_check(&ps, 9, 3, 20, 25, &is_dup, &dup), 0);
	/* an older epoch is fenced, a newer one must start at 0 */
	ck_assert_int_eq(pstate_check(&ps, 9, 2, 20, 25, &is_dup, &dup),
			 KP_ERR_INVALID_PRODUCER_EPOCH);
	ck_assert_int_eq(pstate_check(&ps, 9, 4, 5, 9, &is_dup, &dup),
			 KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	ck_assert_int_eq(pstate_check(&ps, 9, 4, 0, 9, &is_dup, &dup), 0);
	/* a new epoch clears the batches */
	ck_assert_int_eq(pstate_update(&ps, 9, 4, 0, 500, 509, 2000), 0);
	ck_assert_int_eq(pstate_find(&ps, 9)->nb, 1);
	ck_assert_int_eq(pstate_last_seq(pstate_find(&ps, 9)), 9);
	/* a follower records an older epoch as it comes (replication) */
	ck_assert_int_eq(pstate_update(&ps, 9, 3, 20, 510, 515, 2001), 0);
	ck_assert_int_eq(pstate_find(&ps, 9)->epoch, 3);
	pstate_free(&ps);
}
END_TEST

START_TEST(sequences_wrap_around)
{
	struct pstate ps;
	struct pstate_dup dup;
	bool is_dup;

	pstate_init(&ps);
	/* 5 records ending exactly at INT32_MAX */
	ck_assert_int_eq(pstate_update(&ps, 1, 0, INT32_MAX - 4, 0, 4, 1), 0);
	ck_assert_int_eq(pstate_last_seq(pstate_find(&ps, 1)), INT32_MAX);
	ck_assert_int_eq(pstate_check(&ps, 1, 0, 0, 9, &is_dup, &dup), 0);
	ck_assert_int_eq(pstate_check(&ps, 1, 0, 1, 9, &is_dup, &dup),
			 KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	/* a batch across the wrap: its last sequence is 2 */
	ck_assert_int_eq(pstate_update(&ps, 2, 0, INT32_MAX - 2, 10, 15, 1), 0);
	ck_assert_int_eq(pstate_last_seq(pstate_find(&ps, 2)), 2);
	ck_assert_int_eq(pstate_check(&ps, 2, 0, INT32_MAX - 2, 2, &is_dup, &dup), 0);
	ck_assert(is_dup);
	ck_assert_int_eq(dup.first_offset, 10);
	ck_assert_int_eq(pstate_check(&ps, 2, 0, 3, 4, &is_dup, &dup), 0);
	ck_assert(!is_dup);
	pstate_free(&ps);
}
END_TEST

START_TEST(expiry_forgets_idle_producers)
{
	struct pstate ps;

	pstate_init(&ps);
	ck_assert_int_eq(pstate_update(&ps, 1, 0, 0, 0, 0, 1000), 0);
	ck_assert_int_eq(pstate_update(&ps, 2, 0, 0, 1, 1, 5000), 0);
	ck_assert_uint_eq(pstate_expire(&ps, 5999, 5000), 0);	/* 4999 old: stays */
	ck_assert_uint_eq(pstate_expire(&ps, 6000, 5000), 1);
	ck_assert_ptr_null(pstate_find(&ps, 1));
	ck_assert_ptr_nonnull(pstate_find(&ps, 2));
	ck_assert_uint_eq(ps.count, 1);
	pstate_free(&ps);
}
END_TEST

static int count_entries(void *arg, const struct kp_pidsnap_entry *e)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

START_TEST(snapshot_round_trip_and_corruption)
{
	struct pstate ps, back;
	uint8_t *buf;
	size_t len;
	char path[PATH_MAX], err[256];
	int n = 0, fd;

	pstate_init(&ps);
	pstate_init(&back);
	for (int64_t pid = 0; pid < 100; pid++)
		feed(&ps, pid * 1000, (int16_t)(pid % 7), 3);
	ck_assert_int_eq(pstate_snapshot_encode(&ps, &buf, &len), 0);
	ck_assert_uint_eq(len, kp_pidsnap_size(100));
	/* Kafka's layout: version 1, then the CRC-32C of what follows */
	ck_assert_int_eq(buf[0], 0);
	ck_assert_int_eq(buf[1], 1);
	ck_assert_int_eq(kp_pidsnap_decode(buf, len, count_entries, &n, err,
						sizeof(err)), 0);
	ck_assert_int_eq(n, 100);
	free(buf);

	ps.map_end = 300;
	ck_assert_int_eq(pstate_take_snapshot(&ps, tmpdir, true), 0);
	pstate_snapshot_path(path, sizeof(path), tmpdir, 300);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(pstate_load_snapshot(&back, path, 2000, 1000000, err,
					      sizeof(err)), 0);
	ck_assert_uint_eq(back.count, 100);
	for (int64_t pid = 0; pid < 100; pid++) {
		struct pstate_entry *e = pstate_find(&back, pid * 1000);

		ck_assert_ptr_nonnull(e);
		ck_assert_int_eq(e->epoch, pid % 7);
		ck_assert_int_eq(e->nb, 1);	/* a snapshot keeps the last batch */
		ck_assert_int_eq(pstate_last_seq(e), 29);
		ck_assert_int_eq(e->b[e->head].last_offset, 209);
		ck_assert_int_eq(e->b[e->head].offset_delta, 9);
		ck_assert_int_eq(e->last_ts, 1002);
	}
	/* expired entries are not loaded */
	ck_assert_int_eq(pstate_load_snapshot(&back, path, 1002 + 500, 500, err,
					      sizeof(err)), 0);
	ck_assert_uint_eq(back.count, 0);

	/* a flipped byte: refused, with the reason */
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "\x55", 1, 40), 1);
	close(fd);
	ck_assert_int_eq(pstate_load_snapshot(&back, path, 2000, 1000000, err,
					      sizeof(err)), -EBADMSG);
	ck_assert_msg(strstr(err, "CRC") != NULL, "%s", err);
	ck_assert_uint_eq(back.count, 0);
	/* truncated, another version */
	ck_assert_int_eq(truncate(path, 8), 0);
	ck_assert_int_eq(pstate_load_snapshot(&back, path, 2000, 1000000, err,
					      sizeof(err)), -EBADMSG);
	{
		static const uint8_t v2[10] = { 0, 2 };

		ck_assert_int_eq(kp_pidsnap_decode(v2, sizeof(v2), count_entries, &n,
							err, sizeof(err)), -EBADMSG);
		ck_assert_msg(strstr(err, "version") != NULL, "%s", err);
	}
	pstate_free(&ps);
	pstate_free(&back);
}
END_TEST

/* ----------------------------------------------------- through the log */

/* One batch of n records from producer pid at epoch/seq. */
static int produce(struct log *log, int64_t pid, int16_t epoch, int32_t seq, int n,
		   struct log_append_info *info)
{
	struct kp_batch_params p;
	struct kp_record_in recs[16];
	struct kp_wbuf w;
	int rc;

	kp_batch_params_init(&p);
	p.producer_id = pid;
	p.producer_epoch = epoch;
	p.base_sequence = seq;
	for (int i = 0; i < n; i++)
		recs[i] = (struct kp_record_in){
			.key = { .ptr = NULL, .len = -1 },
			.value = { .ptr = (const uint8_t *)"value", .len = 5 },
			.timestamp = kp_wall_ms(),
		};
	kp_wbuf_init(&w);
	ck_assert_int_eq(kp_batch_build(&w, &p, recs, n), 0);
	rc = log_append_leader(log, w.data, w.len, 0, -1, info);
	kp_wbuf_free(&w);
	return rc;
}

static struct log *open_log(const char *name, int64_t segment_bytes, bool clean)
{
	struct log_config cfg;
	struct log *log;
	char dir[PATH_MAX + 64];

	log_config_defaults(&cfg);
	cfg.segment_bytes = segment_bytes;
	cfg.file_delete_delay_ms = 0;
	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
	ck_assert_int_eq(log_open(dir, "t", 0, &cfg, -1, -1, clean, &log), 0);
	return log;
}

static int count_snapshots(const struct log *log)
{
	int64_t *offs;
	int n;

	ck_assert_int_eq(pstate_list_snapshots(log->dir, &offs, &n), 0);
	free(offs);
	return n;
}

START_TEST(log_deduplicates_and_refuses)
{
	struct log *log = open_log("t-0", 1 << 20, false);
	struct log_append_info ai;

	ck_assert_int_eq(produce(log, 42, 0, 0, 3, &ai), 0);
	ck_assert(!ai.duplicate);
	ck_assert_int_eq(produce(log, 42, 0, 3, 2, &ai), 0);
	ck_assert_int_eq(ai.first_offset, 3);
	/* the first one again: not written, its offsets answered */
	ck_assert_int_eq(produce(log, 42, 0, 0, 3, &ai), 0);
	ck_assert(ai.duplicate);
	ck_assert_int_eq(ai.first_offset, 0);
	ck_assert_int_eq(ai.last_offset, 2);
	ck_assert_int_eq(log_end_offset(log), 5);
	ck_assert_int_eq(produce(log, 42, 0, 9, 1, &ai), KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	ck_assert_int_eq(produce(log, 42, 1, 0, 1, &ai), 0);	/* a new epoch */
	ck_assert_int_eq(produce(log, 42, 0, 5, 1, &ai), KP_ERR_INVALID_PRODUCER_EPOCH);
	ck_assert_int_eq(log_end_offset(log), 6);
	/* without a producer id nothing is checked */
	ck_assert_int_eq(produce(log, -1, -1, -1, 1, &ai), 0);
	ck_assert_int_eq(produce(log, -1, -1, -1, 1, &ai), 0);
	ck_assert_int_eq(log_end_offset(log), 8);
	log_close(log, false);
}
END_TEST

START_TEST(followers_record_what_they_replicate)
{
	struct log *leader = open_log("l-0", 1 << 20, false);
	struct log *follower = open_log("f-0", 1 << 20, false);
	struct log_read_result res;
	struct log_append_info ai;
	uint8_t *buf;
	size_t len;

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(produce(leader, 5, 0, i * 2, 2, &ai), 0);
	ck_assert_int_eq(log_read(leader, 0, 1 << 20, LOG_NO_LIMIT, true, &res), 0);
	len = (size_t)res.length;
	ck_assert_uint_gt(len, 0);
	buf = malloc(len);
	ck_assert_int_eq(pread(res.fd, buf, len, res.position), (ssize_t)len);
	log_read_done(&res);
	ck_assert_int_eq(log_append_follower(follower, buf, len, -1, &ai), 0);
	free(buf);
	/* the follower, made leader, knows the producer */
	ck_assert_int_eq(produce(follower, 5, 0, 4, 2, &ai), 0);
	ck_assert(ai.duplicate);
	ck_assert_int_eq(ai.first_offset, 4);
	ck_assert_int_eq(produce(follower, 5, 0, 9, 1, &ai),
			 KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	ck_assert_int_eq(produce(follower, 5, 0, 8, 1, &ai), 0);
	ck_assert(!ai.duplicate);
	ck_assert_int_eq(ai.first_offset, 8);
	log_close(leader, false);
	log_close(follower, false);
}
END_TEST

START_TEST(snapshots_at_rolls_and_close_survive_a_restart)
{
	struct log *log = open_log("s-0", 600, false);
	struct log_append_info ai;
	int32_t seq = 0;

	/* batches of ~100 bytes: segments roll every few */
	for (int i = 0; i < 30; i++, seq += 2)
		ck_assert_int_eq(produce(log, 77, 0, seq, 2, &ai), 0);
	ck_assert_int_gt(log->nsegs, 3);
	ck_assert_int_ge(count_snapshots(log), log->nsegs - 1);
	ck_assert_int_eq(log_snapshot_producers(log), 0);	/* clean close */
	log_close(log, true);

	log = open_log("s-0", 600, true);
	/* the last batch is known: a resend is a duplicate */
	ck_assert_int_eq(produce(log, 77, 0, seq - 2, 2, &ai), 0);
	ck_assert(ai.duplicate);
	ck_assert_int_eq(produce(log, 77, 0, seq + 1, 1, &ai),
			 KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	ck_assert_int_eq(produce(log, 77, 0, seq, 1, &ai), 0);
	seq++;
	log_close(log, false);	/* unclean: the tail after the snapshot replays */

	log = open_log("s-0", 600, false);
	ck_assert_int_eq(produce(log, 77, 0, seq - 1, 1, &ai), 0);
	ck_assert(ai.duplicate);
	/* the snapshot's last batch, then the one replayed after it */
	ck_assert_int_eq(produce(log, 77, 0, seq - 3, 2, &ai), 0);
	ck_assert(ai.duplicate);
	/* a batch before the snapshot's last: Kafka's snapshots keep one */
	ck_assert_int_eq(produce(log, 77, 0, seq - 5, 2, &ai),
			 KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	/* no snapshots at all: the whole log replayed, five batches known */
	{
		int64_t *offs;
		int n;
		char sp[PATH_MAX];

		ck_assert_int_eq(pstate_list_snapshots(log->dir, &offs, &n), 0);
		for (int i = 0; i < n; i++) {
			pstate_snapshot_path(sp, sizeof(sp), log->dir, offs[i]);
			ck_assert_int_eq(unlink(sp), 0);
		}
		free(offs);
	}
	log_close(log, false);
	log = open_log("s-0", 600, false);
	ck_assert_int_eq(produce(log, 77, 0, seq - 5, 2, &ai), 0);
	ck_assert(ai.duplicate);
	ck_assert_int_eq(produce(log, 77, 0, seq - 9, 2, &ai), 0);
	ck_assert(ai.duplicate);
	log_close(log, false);
}
END_TEST

START_TEST(a_corrupt_snapshot_is_rebuilt_from_the_log)
{
	struct log *log = open_log("c-0", 1 << 20, false);
	struct log_append_info ai;
	char path[PATH_MAX];
	int64_t leo;
	int fd;

	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(produce(log, 3, 0, i, 1, &ai), 0);
	leo = log_end_offset(log);
	ck_assert_int_eq(log_snapshot_producers(log), 0);
	pstate_snapshot_path(path, sizeof(path), log->dir, leo);
	log_close(log, true);
	fd = open(path, O_RDWR);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(pwrite(fd, "\xff\xff", 2, 12), 2);
	close(fd);

	log = open_log("c-0", 1 << 20, true);
	/* deleted, and the state came from the log instead */
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_eq(produce(log, 3, 0, 9, 1, &ai), 0);
	ck_assert(ai.duplicate);
	ck_assert_int_eq(ai.first_offset, 9);
	ck_assert_int_eq(produce(log, 3, 0, 11, 1, &ai), KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	log_close(log, false);
}
END_TEST

START_TEST(retention_truncation_and_expiry)
{
	struct log *log = open_log("r-0", 600, false);
	struct log_append_info ai;
	int before;

	for (int i = 0; i < 30; i++)
		ck_assert_int_eq(produce(log, 8, 0, i, 1, &ai), 0);
	before = count_snapshots(log);
	ck_assert_int_gt(before, 2);
	/* the segments below a new log start go with their snapshots */
	ck_assert_int_eq(log_advance_start_offset(log, log->segs[2]->base_offset), 0);
	ck_assert_int_lt(count_snapshots(log), before);
	/* truncation: the state as of the new end */
	ck_assert_int_eq(log_truncate_to(log, 20), 0);
	ck_assert_int_eq(log_end_offset(log), 20);
	ck_assert_int_eq(produce(log, 8, 0, 19, 1, &ai), 0);
	ck_assert(ai.duplicate);
	ck_assert_int_eq(produce(log, 8, 0, 20, 1, &ai), 0);
	ck_assert(!ai.duplicate);
	ck_assert_int_eq(ai.first_offset, 20);
	/* idle past transactional.id.expiration.ms: forgotten */
	ck_assert_uint_eq(log_expire_producers(log, kp_wall_ms()), 0);
	log->cfg.producer_expiration_ms = 1;
	ck_assert_uint_eq(log_expire_producers(log, kp_wall_ms() + 10), 1);
	ck_assert_int_eq(produce(log, 8, 0, 500, 1, &ai), 0);	/* unknown: accepted */
	/* emptied: no state, no snapshots */
	ck_assert_int_eq(log_truncate_fully_and_start_at(log, 1000), 0);
	ck_assert_int_eq(count_snapshots(log), 0);
	ck_assert_uint_eq(log->producers.count, 0);
	log_close(log, false);
}
END_TEST

static Suite *pstate_suite(void)
{
	Suite *s = suite_create("producer_state");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, sequence_arithmetic_wraps_at_int32_max);
	tcase_add_test(tc, duplicates_within_the_last_five_batches);
	tcase_add_test(tc, gaps_epochs_and_unknown_producers);
	tcase_add_test(tc, sequences_wrap_around);
	tcase_add_test(tc, expiry_forgets_idle_producers);
	tcase_add_test(tc, snapshot_round_trip_and_corruption);
	tcase_add_test(tc, log_deduplicates_and_refuses);
	tcase_add_test(tc, followers_record_what_they_replicate);
	tcase_add_test(tc, snapshots_at_rolls_and_close_survive_a_restart);
	tcase_add_test(tc, a_corrupt_snapshot_is_rebuilt_from_the_log);
	tcase_add_test(tc, retention_truncation_and_expiry);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(pstate_suite());
}
