/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_txn.c - transactions on the partition side: the aborted
 * transactions index entries (Kafka's .txnindex format) and markers
 * (kp_txn.c), the producer state's open and unreplicated transactions and
 * the last stable offset they give, the index appended at aborts,
 * collected for fetches, rebuilt from the log on recovery, cut by
 * truncation and dropped with segments.
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
#include "kp_records.h"
#include "kp_txn.h"
#include "log.h"
#include "log_txnindex.h"
#include "producer_state.h"

static char tmpdir[PATH_MAX];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_txn.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	kp_log_set_level(KP_LOG_ERROR);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(index_entries_and_markers_round_trip)
{
	struct kp_aborted_txn e = { 0x0102030405060708LL, 17, 42, 43 }, g;
	uint8_t buf[KP_TXNIDX_ENTRY];
	struct kp_wbuf w;
	struct kp_batch_header h;
	int type;
	int32_t ce;
	int64_t ts;

	ck_assert_int_eq(KP_TXNIDX_ENTRY, 34);
	kp_txnidx_put(buf, &e);
	/* version 0, then big-endian fields */
	ck_assert_int_eq(buf[0], 0);
	ck_assert_int_eq(buf[1], 0);
	ck_assert_int_eq(buf[2], 0x01);
	ck_assert_int_eq(buf[9], 0x08);
	ck_assert_int_eq(buf[17], 17);
	ck_assert_int_eq(buf[25], 42);
	ck_assert_int_eq(buf[33], 43);
	ck_assert_int_eq(kp_txnidx_get(buf, &g), 0);
	ck_assert(memcmp(&e, &g, sizeof(e)) == 0);
	buf[1] = 1;
	ck_assert_int_eq(kp_txnidx_get(buf, &g), -1);

	kp_wbuf_init(&w);
	ck_assert_int_eq(kp_txn_marker_build(&w, 77, 3, KP_CONTROL_ABORT, 9, 12345), 0);
	ck_assert_int_eq(kp_batch_header_parse(w.data, w.len, &h), KP_BATCH_OK);
	ck_assert_int_eq(h.attributes & (KP_ATTR_CONTROL | KP_ATTR_TRANSACTIONAL),
			 KP_ATTR_CONTROL | KP_ATTR_TRANSACTIONAL);
	ck_assert_int_eq(h.producer_id, 77);
	ck_assert_int_eq(h.producer_epoch, 3);
	ck_assert_int_eq(h.base_sequence, -1);
	ck_assert_int_eq(h.record_count, 1);
	ck_assert_int_eq(kp_batch_verify_crc(w.data, w.len), KP_BATCH_OK);
	ck_assert_int_eq(kp_txn_marker_parse(w.data, w.len, &type, &ce, &ts), 1);
	ck_assert_int_eq(type, KP_CONTROL_ABORT);
	ck_assert_int_eq(ce, 9);
	ck_assert_int_eq(ts, 12345);
	/* cut short: malformed, never read past the end */
	ck_assert_int_eq(kp_txn_marker_parse(w.data, w.len - 3, &type, &ce, &ts), -1);
	ck_assert_int_eq(kp_txn_marker_parse(w.data, 20, &type, &ce, &ts), -1);
	kp_wbuf_free(&w);
}
END_TEST

/* ------------------------------------------------------------ the log */

static int produce(struct log *log, int64_t pid, int16_t epoch, int32_t seq,
		   int n, bool txn, struct log_append_info *info)
{
	struct kp_batch_params p;
	struct kp_record_in recs[16];
	struct kp_wbuf w;
	int rc;

	kp_batch_params_init(&p);
	p.producer_id = pid;
	p.producer_epoch = epoch;
	p.base_sequence = seq;
	p.transactional = txn;
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

struct got {
	struct kp_aborted_txn v[16];
	int n;
};

static int collect_one(void *arg, const struct kp_aborted_txn *e)
{
	struct got *g = arg;

	ck_assert_int_lt(g->n, 16);
	g->v[g->n++] = *e;
	return 0;
}

static int collect(struct log *log, int64_t from, int64_t upper, struct got *g)
{
	g->n = 0;
	log_txnidx_collect(&log->aborted, from, upper, collect_one, g);
	return g->n;
}

static int64_t marker(struct log *log, int64_t pid, int16_t epoch, int32_t ce,
		      bool commit)
{
	struct log_append_info ai;

	ck_assert_int_eq(log_append_marker(log, pid, epoch, ce, commit, 0, &ai), 0);
	ck_assert_int_eq(ai.first_offset, ai.last_offset);
	return ai.last_offset;
}

START_TEST(last_stable_offset_and_aborts)
{
	struct log *log = open_log("t-0", 1 << 20, false);
	struct log_append_info ai;
	struct log_append_info none;
	struct got g;

	ck_assert_int_eq(log_lso(log, 0), 0);
	ck_assert_int_eq(produce(log, 1, 0, 0, 3, true, &ai), 0);	/* 0-2 */
	ck_assert_int_eq(produce(log, 2, 0, 0, 2, true, &ai), 0);	/* 3-4 */
	ck_assert_int_eq(produce(log, -1, -1, -1, 1, false, &ai), 0);	/* 5 */
	/* a plain write inside an open transaction */
	ck_assert_int_eq(produce(log, 1, 0, 3, 1, false, &none), KP_ERR_INVALID_TXN_STATE);
	ck_assert_int_eq(log_lso(log, 6), 0);
	ck_assert_int_eq(log_lso(log, 0), 0);
	/* commit 1: stable only once the high watermark passes the marker */
	ck_assert_int_eq(marker(log, 1, 0, 5, true), 6);
	ck_assert_int_eq(log_lso(log, 7), 0);
	log_hw_moved(log, 6);
	ck_assert_int_eq(log_lso(log, 7), 0);
	log_hw_moved(log, 7);
	ck_assert_int_eq(log_lso(log, 7), 3);
	/* fenced markers write nothing */
	ck_assert_int_eq(log_append_marker(log, 1, 0, 4, true, 0, &none),
			 KP_ERR_TRANSACTION_COORDINATOR_FENCED);
	ck_assert_int_eq(produce(log, 1, 1, 0, 1, true, &ai), 0);	/* 7, epoch 1 */
	ck_assert_int_eq(log_append_marker(log, 1, 0, 5, true, 0, &none),
			 KP_ERR_INVALID_PRODUCER_EPOCH);
	ck_assert_int_eq(log_end_offset(log), 8);
	/* abort 2 while 1's second transaction (from 7) is open: the entry's
	 * last stable offset is 7 */
	ck_assert_int_eq(marker(log, 2, 0, 5, false), 8);
	ck_assert_int_eq(collect(log, 0, 9, &g), 1);
	ck_assert_int_eq(g.v[0].pid, 2);
	ck_assert_int_eq(g.v[0].first_offset, 3);
	ck_assert_int_eq(g.v[0].last_offset, 8);
	ck_assert_int_eq(g.v[0].lso, 7);
	log_hw_moved(log, 9);
	ck_assert_int_eq(log_lso(log, 9), 7);
	ck_assert_int_eq(marker(log, 1, 1, 5, true), 9);
	log_hw_moved(log, 10);
	ck_assert_int_eq(log_lso(log, 10), 10);
	/* a marker with no transaction open is written, and changes nothing */
	ck_assert_int_eq(marker(log, 3, 0, 1, false), 10);
	ck_assert_int_eq(collect(log, 0, 100, &g), 1);
	/* Kafka's collectAbortedTxns bounds */
	ck_assert_int_eq(collect(log, 8, 100, &g), 1);	/* the marker itself */
	ck_assert_int_eq(collect(log, 9, 100, &g), 0);	/* past it */
	ck_assert_int_eq(collect(log, 0, 3, &g), 0);	/* before its data */
	ck_assert_int_eq(collect(log, 0, 4, &g), 1);
	log_close(log, false);
}
END_TEST

static off_t file_size(const char *dir, int64_t base)
{
	char p[PATH_MAX];
	struct stat st;

	log_txnidx_path(p, sizeof(p), dir, base);
	return stat(p, &st) < 0 ? -1 : st.st_size;
}

/* Aborted transactions spread over segments, one left open at the end. */
static void write_history(struct log *log, int64_t *open_first)
{
	struct log_append_info ai;

	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(produce(log, 10 + i, 0, 0, 2, true, &ai), 0);
		marker(log, 10 + i, 0, 1, i % 2 == 1);	/* even ones abort */
	}
	ck_assert_int_eq(produce(log, 99, 0, 0, 2, true, &ai), 0);
	*open_first = ai.first_offset;
}

START_TEST(recovery_rebuilds_the_index)
{
	struct log *log = open_log("r-0", 300, false);
	struct got before, after;
	int64_t open_first, leo;
	char dir[PATH_MAX];

	write_history(log, &open_first);
	ck_assert_int_gt(log->nsegs, 2);
	ck_assert_int_eq(collect(log, 0, INT64_MAX, &before), 4);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(before.v[i].pid, 10 + 2 * i);
		ck_assert_int_eq(before.v[i].first_offset, 6 * i);
		ck_assert_int_eq(before.v[i].last_offset, 6 * i + 2);
	}
	/* the completed ones are stable once replicated */
	ck_assert_int_le(atomic_load(&log->first_unstable), open_first);
	log_hw_moved(log, log_end_offset(log));
	ck_assert_int_eq(atomic_load(&log->first_unstable), open_first);
	leo = log_end_offset(log);
	snprintf(dir, sizeof(dir), "%s", log->dir);
	/* each entry is in the file of the segment holding its marker */
	{
		off_t total = 0;

		for (int i = 0; i < log->nsegs; i++)
			if (file_size(dir, log->segs[i]->base_offset) > 0)
				total += file_size(dir, log->segs[i]->base_offset);
		ck_assert_int_eq(total, 4 * KP_TXNIDX_ENTRY);
	}
	ck_assert_int_eq(log_snapshot_producers(log), 0);
	log_close(log, true);

	/* clean: the files and the snapshot (which keeps the open one) */
	log = open_log("r-0", 300, true);
	ck_assert_int_eq(collect(log, 0, INT64_MAX, &after), 4);
	ck_assert(memcmp(before.v, after.v, 4 * sizeof(before.v[0])) == 0);
	/* the completed ones are stable once replicated */
	ck_assert_int_le(atomic_load(&log->first_unstable), open_first);
	log_hw_moved(log, log_end_offset(log));
	ck_assert_int_eq(atomic_load(&log->first_unstable), open_first);
	log_close(log, false);

	/* unclean, the index files gone: rebuilt from the log */
	{
		char cmd[2 * PATH_MAX + 64];

		snprintf(cmd, sizeof(cmd), "rm -f '%s'/*.txnindex '%s'/*.snapshot", dir, dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	log = open_log("r-0", 300, false);
	ck_assert_int_eq(log_end_offset(log), leo);
	ck_assert_int_eq(collect(log, 0, INT64_MAX, &after), 4);
	ck_assert(memcmp(before.v, after.v, 4 * sizeof(before.v[0])) == 0);
	/* the completed ones are stable once replicated */
	ck_assert_int_le(atomic_load(&log->first_unstable), open_first);
	log_hw_moved(log, log_end_offset(log));
	ck_assert_int_eq(atomic_load(&log->first_unstable), open_first);
	{
		off_t total = 0;

		for (int i = 0; i < log->nsegs; i++)
			if (file_size(dir, log->segs[i]->base_offset) > 0)
				total += file_size(dir, log->segs[i]->base_offset);
		ck_assert_int_eq(total, 4 * KP_TXNIDX_ENTRY);
	}
	log_close(log, false);
	/* unclean again with the files there: no entry twice */
	log = open_log("r-0", 300, false);
	ck_assert_int_eq(collect(log, 0, INT64_MAX, &after), 4);
	ck_assert(memcmp(before.v, after.v, 4 * sizeof(before.v[0])) == 0);
	log_close(log, false);
}
END_TEST

START_TEST(truncation_and_retention_cut_the_index)
{
	struct log *log = open_log("c-0", 300, false);
	struct got g;
	int64_t open_first;

	write_history(log, &open_first);
	/* cut just before the last abort marker (offset 20): its entry goes,
	 * its transaction (from 18) is open again */
	ck_assert_int_eq(log_truncate_to(log, 20), 0);
	ck_assert_int_eq(collect(log, 0, INT64_MAX, &g), 3);
	ck_assert_int_eq(g.v[2].last_offset, 14);
	log_hw_moved(log, log_end_offset(log));
	ck_assert_int_eq(atomic_load(&log->first_unstable), 18);
	log_close(log, false);
	log = open_log("c-0", 300, false);
	ck_assert_int_eq(collect(log, 0, INT64_MAX, &g), 3);
	log_hw_moved(log, log_end_offset(log));
	ck_assert_int_eq(atomic_load(&log->first_unstable), 18);
	/* the head deleted: the entries of its segments go with them */
	{
		int64_t start = log->segs[2]->base_offset;
		int expect = 0;

		for (int i = 0; i < 3; i++)
			if (g.v[i].last_offset >= start)
				expect++;
		ck_assert_int_eq(log_advance_start_offset(log, start), 0);
		ck_assert_int_eq(collect(log, 0, INT64_MAX, &g), expect);
		ck_assert_int_eq(file_size(log->dir, 0), -1);
	}
	/* emptied */
	ck_assert_int_eq(log_truncate_fully_and_start_at(log, 100), 0);
	ck_assert_int_eq(collect(log, 0, INT64_MAX, &g), 0);
	ck_assert_int_eq(atomic_load(&log->first_unstable), INT64_MAX);
	log_close(log, false);
}
END_TEST

static Suite *txn_suite(void)
{
	Suite *s = suite_create("txn");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, index_entries_and_markers_round_trip);
	tcase_add_test(tc, last_stable_offset_and_aborts);
	tcase_add_test(tc, recovery_rebuilds_the_index);
	tcase_add_test(tc, truncation_and_retention_cut_the_index);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(txn_suite());
}
