/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_group_txn.c - transactional offset commits (TxnOffsetCommit): a
 * group's pending offsets (kbroker/group_txn.c) installed by their
 * transaction's COMMIT marker, dropped by ABORT, only those written
 * before the marker, never over a committed offset written later; and the
 * coordinator's transactional batch in the log (log_append_coordinator):
 * the producer's epoch is checked, its sequence is not, and it opens a
 * transaction that the marker ends.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_run.h"
#include "group_table.h"
#include "group_txn.h"
#include "kp_buf.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_records.h"
#include "log.h"

static struct group_table table;
static struct group *g;
static char tmpdir[PATH_MAX];

static void setup(void)
{
	kp_log_set_level(KP_LOG_ERROR);
	ck_assert_int_eq(group_table_init(&table), 0);
	g = group_table_add(&table, kp_str_c("ctp"), 3);
	ck_assert_ptr_nonnull(g);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_group_txn.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	group_table_free(&table);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct group_offset *offset(const char *topic, int32_t part, int64_t off)
{
	struct group_offset *o = calloc(1, sizeof(*o));

	ck_assert_ptr_nonnull(o);
	o->topic = strdup(topic);
	o->metadata = strdup("");
	o->partition = part;
	o->offset = off;
	o->leader_epoch = -1;
	o->expire_ts = -1;
	return o;
}

/* The committed offset of topic-part, -1 when none. */
static int64_t committed(const char *topic, int32_t part)
{
	const struct group_offset *o = group_offset_find(g, topic, strlen(topic), part);

	return o != NULL ? o->offset : -1;
}

static bool pending(const char *topic, int32_t part)
{
	return group_txn_pending_for(g, topic, strlen(topic), part);
}

START_TEST(commit_installs_abort_drops)
{
	ck_assert_int_eq(group_txn_add(g, 7, offset("in", 0, 100), 10), 0);
	ck_assert_int_eq(group_txn_add(g, 7, offset("in", 1, 200), 10), 0);
	ck_assert_int_eq(group_txn_add(g, 8, offset("in", 2, 300), 11), 0);
	ck_assert_int_eq(group_txn_count(g), 3);
	/* pending: not committed yet */
	ck_assert(pending("in", 0) && pending("in", 1) && pending("in", 2));
	ck_assert(!pending("in", 3) && !pending("i", 0) && !pending("inn", 0));
	ck_assert_int_eq(committed("in", 0), -1);
	/* producer 7 commits: its two, not 8's */
	ck_assert_int_eq(group_txn_complete(g, 7, true, 12), 2);
	ck_assert_int_eq(committed("in", 0), 100);
	ck_assert_int_eq(committed("in", 1), 200);
	ck_assert_int_eq(committed("in", 2), -1);
	ck_assert(!pending("in", 0) && pending("in", 2));
	/* producer 8 aborts: dropped, nothing committed */
	ck_assert_int_eq(group_txn_complete(g, 8, false, 13), 1);
	ck_assert_int_eq(committed("in", 2), -1);
	ck_assert_int_eq(group_txn_count(g), 0);
	/* a marker of a producer with nothing pending ends nothing */
	ck_assert_int_eq(group_txn_complete(g, 9, true, 14), 0);
	ck_assert_uint_eq(g->noffsets, 2);
}
END_TEST

START_TEST(a_marker_ends_only_what_was_written_before_it)
{
	/* transaction 1 of producer 7 wrote at 10, its marker is at 12; its
	 * transaction 2 wrote at 14 before the coordinator heard of 12 */
	ck_assert_int_eq(group_txn_add(g, 7, offset("in", 0, 100), 10), 0);
	ck_assert_int_eq(group_txn_add(g, 7, offset("in", 0, 150), 14), 0);
	ck_assert_int_eq(group_txn_complete(g, 7, true, 12), 1);
	ck_assert_int_eq(committed("in", 0), 100);
	ck_assert(pending("in", 0));
	/* the same marker heard again (a load replaying it): nothing */
	ck_assert_int_eq(group_txn_complete(g, 7, true, 12), 0);
	ck_assert_int_eq(committed("in", 0), 100);
	ck_assert_int_eq(group_txn_complete(g, 7, false, 16), 1);
	ck_assert_int_eq(committed("in", 0), 100);
	ck_assert(!pending("in", 0));
}
END_TEST

START_TEST(a_later_plain_commit_is_not_overwritten)
{
	struct group_offset *o = offset("in", 0, 500);

	/* pending at 15; a plain OffsetCommit written at 20; marker at 25 */
	ck_assert_int_eq(group_txn_add(g, 7, offset("in", 0, 400), 15), 0);
	o->log_offset = 20;
	group_offset_put(g, o);
	ck_assert_int_eq(group_txn_complete(g, 7, true, 25), 1);
	ck_assert_int_eq(committed("in", 0), 500);
	/* one written after the plain commit replaces it */
	ck_assert_int_eq(group_txn_add(g, 7, offset("in", 0, 600), 30), 0);
	ck_assert_int_eq(group_txn_complete(g, 7, true, 31), 1);
	ck_assert_int_eq(committed("in", 0), 600);
	/* several of one transaction for one partition: the last wins */
	ck_assert_int_eq(group_txn_add(g, 7, offset("in", 0, 700), 40), 0);
	ck_assert_int_eq(group_txn_add(g, 7, offset("in", 0, 710), 41), 0);
	ck_assert_int_eq(group_txn_complete(g, 7, true, 42), 2);
	ck_assert_int_eq(committed("in", 0), 710);
}
END_TEST

START_TEST(a_failed_append_is_no_longer_pending)
{
	ck_assert_int_eq(group_txn_add(g, 7, offset("in", 0, 100), 10), 0);
	ck_assert_int_eq(group_txn_add(g, 7, offset("in", 1, 100), 11), 0);
	ck_assert_int_eq(group_txn_add(g, 8, offset("in", 0, 100), 11), 0);
	group_txn_fail(g, 7, 11);
	ck_assert(pending("in", 0) && !pending("in", 1));
	ck_assert_int_eq(group_txn_count(g), 2);
	ck_assert_int_eq(group_txn_complete(g, 7, true, 12), 1);
	ck_assert_int_eq(committed("in", 1), -1);
	/* what is left pending is freed with the group (teardown) */
}
END_TEST

/* ------------------------------------------------------------ the log */

static int coord_batch(struct log *log, int64_t pid, int16_t epoch,
		       struct log_append_info *ai, bool client)
{
	struct kp_batch_params p;
	struct kp_record_in rec = {
		.key = { (const uint8_t *)"k", 1 },
		.value = { (const uint8_t *)"v", 1 },
		.timestamp = kp_wall_ms(),
	};
	struct kp_wbuf w;
	int rc;

	kp_batch_params_init(&p);
	p.producer_id = pid;
	p.producer_epoch = epoch;
	p.base_sequence = 0;
	p.transactional = true;
	kp_wbuf_init(&w);
	ck_assert_int_eq(kp_batch_build(&w, &p, &rec, 1), 0);
	rc = client ? log_append_leader(log, w.data, w.len, 0, -1, ai)
		    : log_append_coordinator(log, w.data, w.len, 0, ai);
	kp_wbuf_free(&w);
	return rc;
}

START_TEST(the_coordinators_batch_checks_the_epoch_not_the_sequence)
{
	struct log_config cfg;
	struct log_append_info ai;
	struct log *log;
	char dir[PATH_MAX + 32];
	int64_t first;

	log_config_defaults(&cfg);
	snprintf(dir, sizeof(dir), "%s/__consumer_offsets-3", tmpdir);
	ck_assert_int_eq(log_open(dir, "__consumer_offsets", 3, &cfg, -1, -1, true, &log), 0);
	ck_assert_int_eq(coord_batch(log, 5, 1, &ai, false), 0);
	first = ai.first_offset;
	ck_assert_int_eq(first, 0);
	/* the same sequence again is no duplicate: appended */
	ck_assert_int_eq(coord_batch(log, 5, 1, &ai, false), 0);
	ck_assert(!ai.duplicate);
	ck_assert_int_eq(ai.first_offset, 1);
	/* a client's batch would be one (same epoch, same sequences) */
	ck_assert_int_eq(coord_batch(log, 5, 1, &ai, true), 0);
	ck_assert(ai.duplicate);
	ck_assert_int_eq(log_end_offset(log), 2);
	/* an older epoch is fenced */
	ck_assert_int_eq(coord_batch(log, 5, 0, &ai, false), KP_ERR_INVALID_PRODUCER_EPOCH);
	ck_assert_int_eq(log_end_offset(log), 2);
	/* the batch opened a transaction: the last stable offset stays at
	 * its first offset until the marker and the high watermark pass */
	ck_assert_int_eq(atomic_load(&log->first_unstable), first);
	ck_assert_int_eq(log_append_marker(log, 5, 1, 0, true, 0, &ai), 0);
	log_hw_moved(log, log_end_offset(log));
	ck_assert_int_eq(atomic_load(&log->first_unstable), INT64_MAX);
	log_close(log, false);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("group_txn");
	TCase *pend = tcase_create("pending");
	TCase *lg = tcase_create("log");

	tcase_add_checked_fixture(pend, setup, teardown);
	tcase_add_test(pend, commit_installs_abort_drops);
	tcase_add_test(pend, a_marker_ends_only_what_was_written_before_it);
	tcase_add_test(pend, a_later_plain_commit_is_not_overwritten);
	tcase_add_test(pend, a_failed_append_is_no_longer_pending);
	suite_add_tcase(s, pend);
	tcase_add_checked_fixture(lg, setup, teardown);
	tcase_add_test(lg, the_coordinators_batch_checks_the_epoch_not_the_sequence);
	suite_add_tcase(s, lg);
	return check_run(s);
}
