/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_log_load.c - loading a log dir of many logs at start (log_dir.c):
 * several threads load every log with what it held, after a clean stop
 * and after a crash; a topic's settings are asked for once per topic
 * (they come from ZooKeeper, a round trip each), and each of its logs
 * gets them; what is not a <topic>-<partition> directory is left alone.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kp_buf.h"
#include "kp_log.h"
#include "kp_records.h"
#include "log.h"
#include "log_dir.h"

#define TOPICS 3
#define PARTS 40

static const char *const topics[TOPICS] = { "alpha", "beta", "gamma.x" };
static char tmpdir[PATH_MAX];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_log_load.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	kp_log_set_level(KP_LOG_ERROR);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* n one-record batches appended to log. */
static void append(struct log *log, int n)
{
	static uint8_t val[32];

	for (int i = 0; i < n; i++) {
		struct kp_batch_params bp;
		struct kp_record_in r = { .key = { .ptr = NULL, .len = -1 },
					  .value = { .ptr = val, .len = sizeof(val) },
					  .timestamp = 1000 + i };
		struct kp_wbuf w;

		kp_wbuf_init(&w);
		kp_batch_params_init(&bp);
		ck_assert_int_eq(kp_batch_build(&w, &bp, &r, 1), 0);
		ck_assert_int_eq(log_append_leader(log, w.data, w.len, 0, -1, NULL), 0);
		kp_wbuf_free(&w);
	}
}

/* Records in partition p of topic t: different for every log. */
static int records_of(int t, int p)
{
	return 1 + (t * PARTS + p) % 7;
}

struct cfg_calls {
	int calls[TOPICS];
	int other;
};

/* The settings of a topic: its index in segment.bytes, counted. */
static void topic_cfg(const char *topic, struct log_config *cfg, void *arg)
{
	struct cfg_calls *cc = arg;

	for (int t = 0; t < TOPICS; t++)
		if (strcmp(topic, topics[t]) == 0) {
			cc->calls[t]++;
			cfg->segment_bytes = 1024 * 1024 * (t + 1);
			return;
		}
	cc->other++;
}

static void check_loaded(struct log_dir *ld)
{
	ck_assert_int_eq(ld->nlogs, TOPICS * PARTS);
	for (int t = 0; t < TOPICS; t++)
		for (int p = 0; p < PARTS; p++) {
			struct log *log = log_dir_find(ld, topics[t], p);

			ck_assert_msg(log != NULL, "%s-%d not loaded", topics[t], p);
			ck_assert_int_eq(log_end_offset(log), records_of(t, p));
		}
}

START_TEST(many_logs_load_in_parallel_with_one_settings_read_per_topic)
{
	struct cfg_calls cc;
	struct log_dir *ld;
	char path[PATH_MAX + 16];
	FILE *f;

	ck_assert_int_eq(log_dir_open(tmpdir, &ld), 0);
	for (int t = 0; t < TOPICS; t++)
		for (int p = 0; p < PARTS; p++) {
			struct log_config cfg;
			struct log *log;

			log_config_defaults(&cfg);
			ck_assert_int_eq(log_dir_add(ld, topics[t], p, &cfg, &log), 0);
			append(log, records_of(t, p));
		}
	log_dir_close(ld, true);
	/* neither a log nor a directory: left alone */
	snprintf(path, sizeof(path), "%s/stray-0", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);

	/* a clean stop: several threads, each topic's settings asked once */
	memset(&cc, 0, sizeof(cc));
	ck_assert_int_eq(log_dir_open(tmpdir, &ld), 0);
	ck_assert(ld->clean);
	ck_assert_int_eq(log_dir_load(ld, topic_cfg, &cc, 8), 0);
	check_loaded(ld);
	for (int t = 0; t < TOPICS; t++) {
		ck_assert_int_eq(cc.calls[t], 1);
		for (int p = 0; p < PARTS; p++)
			ck_assert_int_eq(log_dir_find(ld, topics[t], p)->cfg.segment_bytes,
					 1024 * 1024 * (t + 1));
	}
	ck_assert_int_eq(cc.other, 0);
	ck_assert_int_eq(access(path, F_OK), 0);
	/* more records, then a crash: recovered by several threads too */
	append(log_dir_find(ld, topics[1], 3), 2);
	log_dir_close(ld, false);

	memset(&cc, 0, sizeof(cc));
	ck_assert_int_eq(log_dir_open(tmpdir, &ld), 0);
	ck_assert(!ld->clean);
	ck_assert_int_eq(log_dir_load(ld, topic_cfg, &cc, 4), 0);
	ck_assert_int_eq(ld->nlogs, TOPICS * PARTS);
	ck_assert_int_eq(log_end_offset(log_dir_find(ld, topics[1], 3)),
			 records_of(1, 3) + 2);
	for (int t = 0; t < TOPICS; t++)
		ck_assert_int_eq(cc.calls[t], 1);
	log_dir_close(ld, true);

	/* one thread loads the same */
	ck_assert_int_eq(log_dir_open(tmpdir, &ld), 0);
	ck_assert_int_eq(log_dir_load(ld, NULL, NULL, 1), 0);
	ck_assert_int_eq(ld->nlogs, TOPICS * PARTS);
	ck_assert_int_eq(log_end_offset(log_dir_find(ld, topics[2], PARTS - 1)),
			 records_of(2, PARTS - 1));
	log_dir_close(ld, true);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log_load");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, many_logs_load_in_parallel_with_one_settings_read_per_topic);
	suite_add_tcase(s, tc);
	return check_run(s);
}
