/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_zk.c - the ZooKeeper layer against a real ZooKeeper server
 * (Debian's zookeeper package, started by tests/lib/zkserver.c).
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kp_log.h"
#include "kp_loop.h"
#include "kp_zk.h"
#include "zkserver.h"

static struct zkserver zs;

/* ------------------------------------------------ a tiny posted queue */

struct item {
	void (*fn)(void *);
	void *arg;
	struct item *next;
};

static pthread_mutex_t qm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qc = PTHREAD_COND_INITIALIZER;
static struct item *qhead, *qtail;

static void post(void *ctx, void (*fn)(void *), void *arg)
{
	struct item *it = malloc(sizeof(*it));

	(void)ctx;
	it->fn = fn;
	it->arg = arg;
	it->next = NULL;
	pthread_mutex_lock(&qm);
	if (qtail)
		qtail->next = it;
	else
		qhead = it;
	qtail = it;
	pthread_cond_signal(&qc);
	pthread_mutex_unlock(&qm);
}

/* Run posted work until cond() holds or timeout_ms passes. */
static int run_until(int (*cond)(void), int timeout_ms)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000 + 1;
	while (!cond()) {
		struct item *it;

		pthread_mutex_lock(&qm);
		while (qhead == NULL) {
			if (pthread_cond_timedwait(&qc, &qm, &dl) != 0) {
				pthread_mutex_unlock(&qm);
				return cond() ? 0 : -1;
			}
		}
		it = qhead;
		qhead = it->next;
		if (qhead == NULL)
			qtail = NULL;
		pthread_mutex_unlock(&qm);
		it->fn(it->arg);
		free(it);
	}
	return 0;
}

static struct kp_zk *open_zk(const char *connect, bool posted)
{
	struct kp_zk_config cfg = {
		.connect = connect, .session_timeout_ms = 10000,
		.connect_timeout_ms = 30000,
		.post = posted ? post : NULL,
	};
	struct kp_zk *zk = NULL;
	char err[256];

	ck_assert_msg(kp_zk_open(&zk, &cfg, err, sizeof(err)) == 0, "%s", err);
	return zk;
}

static void setup(void)
{
	ck_assert_int_eq(zkserver_start(&zs, 120), 0);
}

static void teardown(void)
{
	zkserver_stop(&zs, 1, 1);
}

START_TEST(create_get_set_delete_with_versions)
{
	struct kp_zk *zk = open_zk(zs.connect, false);
	struct kp_zk_result r;

	ck_assert_int_eq(kp_zk_create_sync(zk, "/a", "one", 3, KP_ZK_PERSISTENT, NULL), KP_ZK_OK);
	ck_assert_int_eq(kp_zk_create_sync(zk, "/a", "x", 1, KP_ZK_PERSISTENT, NULL), KP_ZK_NODEEXISTS);
	/* a sync (the server catching up with the leader) before a read */
	ck_assert_int_eq(kp_zk_sync_sync(zk, "/a"), KP_ZK_OK);
	ck_assert_int_eq(kp_zk_get_sync(zk, "/a", &r), KP_ZK_OK);
	ck_assert_str_eq(r.data, "one");
	ck_assert_int_eq(r.len, 3);
	ck_assert_int_eq(r.stat.version, 0);
	kp_zk_result_free(&r);
	ck_assert_int_eq(kp_zk_set_sync(zk, "/a", "two", 3, 5, NULL), KP_ZK_BADVERSION);
	ck_assert_int_eq(kp_zk_set_sync(zk, "/a", "two", 3, 0, &r), KP_ZK_OK);
	ck_assert_int_eq(r.stat.version, 1);
	kp_zk_result_free(&r);
	ck_assert_int_eq(kp_zk_get_sync(zk, "/missing", &r), KP_ZK_NONODE);
	kp_zk_result_free(&r);
	ck_assert_int_eq(kp_zk_delete_sync(zk, "/a", 0), KP_ZK_BADVERSION);
	ck_assert_int_eq(kp_zk_delete_sync(zk, "/a", 1), KP_ZK_OK);
	ck_assert_int_eq(kp_zk_exists_sync(zk, "/a", NULL), KP_ZK_NONODE);
	/* A node without data reads back as no data. */
	ck_assert_int_eq(kp_zk_create_sync(zk, "/empty", NULL, 0, KP_ZK_PERSISTENT, NULL), KP_ZK_OK);
	ck_assert_int_eq(kp_zk_get_sync(zk, "/empty", &r), KP_ZK_OK);
	ck_assert_int_eq(r.len, 0);
	kp_zk_result_free(&r);
	kp_zk_close(zk);
}
END_TEST

START_TEST(paths_sequential_nodes_and_recursive_delete)
{
	struct kp_zk *zk = open_zk(zs.connect, false);
	struct kp_zk_result r;

	ck_assert_int_eq(kp_zk_ensure_path(zk, "/brokers/topics/t/partitions"), KP_ZK_OK);
	ck_assert_int_eq(kp_zk_ensure_path(zk, "/brokers/topics/t/partitions"), KP_ZK_OK);
	ck_assert_int_eq(kp_zk_create_sync(zk, "/brokers/topics/t/partitions/isr_change_",
					   "{}", 2, KP_ZK_PERSISTENT_SEQUENTIAL, &r), KP_ZK_OK);
	ck_assert_str_eq(r.path, "/brokers/topics/t/partitions/isr_change_0000000000");
	kp_zk_result_free(&r);
	ck_assert_int_eq(kp_zk_create_sync(zk, "/brokers/topics/u", NULL, 0, KP_ZK_PERSISTENT, NULL), KP_ZK_OK);
	ck_assert_int_eq(kp_zk_children_sync(zk, "/brokers/topics", &r), KP_ZK_OK);
	ck_assert_int_eq(r.nchildren, 2);
	ck_assert_str_eq(r.children[0], "t");
	ck_assert_str_eq(r.children[1], "u");
	kp_zk_result_free(&r);
	ck_assert_int_eq(kp_zk_delete_recursive(zk, "/brokers"), KP_ZK_OK);
	ck_assert_int_eq(kp_zk_exists_sync(zk, "/brokers", NULL), KP_ZK_NONODE);
	kp_zk_close(zk);
}
END_TEST

START_TEST(multi_is_all_or_nothing)
{
	struct kp_zk *zk = open_zk(zs.connect, false);
	struct kp_zk_result r;
	struct kp_zk_op ops[2] = {
		{ .type = KP_ZK_OP_CHECK, .path = "/controller_epoch", .version = 3 },
		{ .type = KP_ZK_OP_CREATE, .path = "/fenced", .data = "x", .len = 1 },
	};

	ck_assert_int_eq(kp_zk_create_sync(zk, "/controller_epoch", "0", 1, KP_ZK_PERSISTENT, NULL), KP_ZK_OK);
	/* Wrong epoch version: the create must not happen. */
	ck_assert_int_eq(kp_zk_multi_sync(zk, ops, 2, &r), KP_ZK_BADVERSION);
	ck_assert_int_eq(r.nops, 2);
	ck_assert_int_eq(r.op_rc[0], KP_ZK_BADVERSION);
	kp_zk_result_free(&r);
	ck_assert_int_eq(kp_zk_exists_sync(zk, "/fenced", NULL), KP_ZK_NONODE);
	ops[0].version = 0;
	ck_assert_int_eq(kp_zk_multi_sync(zk, ops, 2, &r), KP_ZK_OK);
	kp_zk_result_free(&r);
	ck_assert_int_eq(kp_zk_exists_sync(zk, "/fenced", NULL), KP_ZK_OK);
	kp_zk_close(zk);
}
END_TEST

static int events, last_event, got_done, done_rc;

static void on_watch(enum kp_zk_event ev, const char *path, void *arg)
{
	(void)path;
	(void)arg;
	events++;
	last_event = ev;
}

static void on_done(struct kp_zk_result *res, void *arg)
{
	(void)arg;
	got_done++;
	done_rc = res->rc;
}

static int one_done(void) { return got_done >= 1; }
static int one_event(void) { return events >= 1; }

START_TEST(watches_and_results_arrive_on_the_owner_thread)
{
	struct kp_zk *zk = open_zk(zs.connect, true);
	struct kp_zk *other = open_zk(zs.connect, false);

	events = got_done = 0;
	ck_assert_int_eq(kp_zk_create_sync(other, "/w", "1", 1, KP_ZK_PERSISTENT, NULL), KP_ZK_OK);
	ck_assert_int_eq(kp_zk_get(zk, "/w", on_watch, NULL, on_done, NULL), KP_ZK_OK);
	ck_assert_int_eq(run_until(one_done, 20000), 0);
	ck_assert_int_eq(done_rc, KP_ZK_OK);
	ck_assert_int_eq(events, 0);
	ck_assert_int_eq(kp_zk_set_sync(other, "/w", "2", 1, -1, NULL), KP_ZK_OK);
	ck_assert_int_eq(run_until(one_event, 20000), 0);
	ck_assert_int_eq(last_event, KP_ZK_EV_CHANGED);

	events = got_done = 0;
	ck_assert_int_eq(kp_zk_children(zk, "/w", on_watch, NULL, on_done, NULL), KP_ZK_OK);
	ck_assert_int_eq(run_until(one_done, 20000), 0);
	ck_assert_int_eq(kp_zk_create_sync(other, "/w/c", NULL, 0, KP_ZK_PERSISTENT, NULL), KP_ZK_OK);
	ck_assert_int_eq(run_until(one_event, 20000), 0);
	ck_assert_int_eq(last_event, KP_ZK_EV_CHILD);
	kp_zk_close(other);
	kp_zk_close(zk);
}
END_TEST

START_TEST(ephemeral_nodes_end_with_their_session)
{
	struct kp_zk *a = open_zk(zs.connect, false);
	struct kp_zk *b = open_zk(zs.connect, false);
	struct kp_zk_result r;

	ck_assert_int_eq(kp_zk_ensure_path(a, "/brokers/ids"), KP_ZK_OK);
	ck_assert_int_eq(kp_zk_create_sync(a, "/brokers/ids/1", "{}", 2, KP_ZK_EPHEMERAL, NULL), KP_ZK_OK);
	ck_assert_int_eq(kp_zk_exists_sync(b, "/brokers/ids/1", &r), KP_ZK_OK);
	ck_assert(r.stat.ephemeral_owner == kp_zk_session_id(a));
	kp_zk_result_free(&r);
	kp_zk_close(a);
	ck_assert_int_eq(kp_zk_exists_sync(b, "/brokers/ids/1", NULL), KP_ZK_NONODE);
	kp_zk_close(b);
}
END_TEST

START_TEST(chroot_is_created_and_used)
{
	char chroot[128];
	struct kp_zk *zk, *root;

	snprintf(chroot, sizeof(chroot), "%s/skald/cluster1", zs.connect);
	zk = open_zk(chroot, false);
	ck_assert_int_eq(kp_zk_create_sync(zk, "/cluster", NULL, 0, KP_ZK_PERSISTENT, NULL), KP_ZK_OK);
	root = open_zk(zs.connect, false);
	ck_assert_int_eq(kp_zk_exists_sync(root, "/skald/cluster1/cluster", NULL), KP_ZK_OK);
	ck_assert_int_eq(kp_zk_exists_sync(root, "/cluster", NULL), KP_ZK_NONODE);
	kp_zk_close(root);
	kp_zk_close(zk);
}
END_TEST

START_TEST(session_survives_a_short_zookeeper_outage)
{
	struct kp_zk *zk = open_zk(zs.connect, false);
	struct kp_zk_result r;
	int64_t sid = kp_zk_session_id(zk);
	int i;

	ck_assert_int_eq(kp_zk_create_sync(zk, "/eph", NULL, 0, KP_ZK_EPHEMERAL, NULL), KP_ZK_OK);
	zkserver_stop(&zs, 1, 0);
	ck_assert_int_eq(zkserver_restart(&zs, 120), 0);
	/* The client reconnects by itself within the session timeout. */
	for (i = 0; i < 300 && !kp_zk_connected(zk); i++)
		usleep(100000);
	ck_assert(kp_zk_connected(zk));
	ck_assert(kp_zk_session_id(zk) == sid);
	ck_assert_int_eq(kp_zk_exists_sync(zk, "/eph", &r), KP_ZK_OK);
	kp_zk_result_free(&r);
	kp_zk_close(zk);
}
END_TEST

START_TEST(unreachable_server_fails_within_the_connect_timeout)
{
	struct kp_zk_config cfg = {
		.connect = "127.0.0.1:1", .session_timeout_ms = 4000,
		.connect_timeout_ms = 1500,
	};
	struct kp_zk *zk = NULL;
	char err[256] = "";

	ck_assert_int_ne(kp_zk_open(&zk, &cfg, err, sizeof(err)), 0);
	ck_assert_ptr_null(zk);
	ck_assert_ptr_nonnull(strstr(err, "cannot connect"));
}
END_TEST


/* ------------------------------------------- the connection lost, not the session */

static struct kp_zk *open_daemon_zk(const char *connect)
{
	struct kp_zk_config cfg = {
		.connect = connect, .session_timeout_ms = 20000,
		.connect_timeout_ms = 30000, .retry_until_connected = true,
	};
	struct kp_zk *zk = NULL;
	char err[256];

	ck_assert_msg(kp_zk_open(&zk, &cfg, err, sizeof(err)) == 0, "%s", err);
	return zk;
}

struct blocked {
	struct kp_zk *zk;
	const char *path;
	int rc;
	volatile int finished;
};

static void *create_blocked(void *arg)
{
	struct blocked *b = arg;

	b->rc = kp_zk_create_sync(b->zk, b->path, "x", 1, KP_ZK_PERSISTENT, NULL);
	b->finished = 1;
	return NULL;
}

static void *get_blocked(void *arg)
{
	struct blocked *b = arg;
	struct kp_zk_result r;

	b->rc = kp_zk_get_sync(b->zk, b->path, &r);
	kp_zk_result_free(&r);
	b->finished = 1;
	return NULL;
}

static int watch_fired;

static void count_watch(enum kp_zk_event ev, const char *path, void *arg)
{
	(void)path;
	(void)arg;
	if (ev == KP_ZK_EV_CREATED)
		watch_fired++;
}

START_TEST(a_lost_call_waits_for_the_connection_and_is_sent_again)
{
	struct kp_zk *zk = open_daemon_zk(zs.connect), *other;
	struct blocked b = { .zk = zk, .path = "/made-after-the-outage" };
	struct kp_zk_result r;
	int64_t sid = kp_zk_session_id(zk);
	pthread_t t;
	int i;

	/* a watch left before the outage is set again by the client on
	 * reconnection (same session) */
	ck_assert_int_eq(kp_zk_read_watch_sync(zk, KP_ZK_READ_EXISTS, "/later",
					       count_watch, NULL, &r), KP_ZK_NONODE);
	kp_zk_result_free(&r);
	zkserver_stop(&zs, 1, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, create_blocked, &b), 0);
	/* a tool's call fails at once; the daemon's waits */
	usleep(1500 * 1000);
	ck_assert_int_eq(b.finished, 0);
	ck_assert_int_eq(zkserver_restart(&zs, 120), 0);
	for (i = 0; i < 600 && !b.finished; i++)
		usleep(100000);
	ck_assert_int_eq(b.finished, 1);
	pthread_join(t, NULL);
	ck_assert_int_eq(b.rc, KP_ZK_OK);
	ck_assert(kp_zk_session_id(zk) == sid);
	other = open_zk(zs.connect, false);
	ck_assert_int_eq(kp_zk_get_sync(other, "/made-after-the-outage", &r), KP_ZK_OK);
	ck_assert_str_eq(r.data, "x");
	kp_zk_result_free(&r);
	watch_fired = 0;
	ck_assert_int_eq(kp_zk_create_sync(other, "/later", NULL, 0, KP_ZK_PERSISTENT, NULL), KP_ZK_OK);
	for (i = 0; i < 300 && watch_fired == 0; i++)
		usleep(100000);
	ck_assert_int_eq(watch_fired, 1);
	kp_zk_close(other);
	kp_zk_close(zk);
}
END_TEST

START_TEST(a_tool_call_fails_with_the_connection)
{
	struct kp_zk *zk = open_zk(zs.connect, false);

	zkserver_stop(&zs, 1, 0);
	ck_assert_int_eq(kp_zk_exists_sync(zk, "/x", NULL), KP_ZK_CONNECTIONLOSS);
	kp_zk_close(zk);
}
END_TEST

/* A multi that fails with the connection was never answered: the C client
 * stamps the connection's code on every op, which would read as the first
 * op (a controller's epoch check) failing on its own. */
START_TEST(a_multi_lost_with_the_connection_has_no_per_op_codes)
{
	struct kp_zk *zk = open_zk(zs.connect, false);
	struct kp_zk_result r;
	struct kp_zk_op ops[2] = {
		{ .type = KP_ZK_OP_CHECK, .path = "/controller_epoch", .version = 0 },
		{ .type = KP_ZK_OP_CREATE, .path = "/fenced", .data = "x", .len = 1 },
	};

	ck_assert_int_eq(kp_zk_create_sync(zk, "/controller_epoch", "0", 1, KP_ZK_PERSISTENT,
					   NULL), KP_ZK_OK);
	zkserver_stop(&zs, 1, 0);
	ck_assert_int_eq(kp_zk_multi_sync(zk, ops, 2, &r), KP_ZK_CONNECTIONLOSS);
	ck_assert_int_eq(r.nops, 0);
	ck_assert_ptr_null(r.op_rc);
	kp_zk_result_free(&r);
	kp_zk_close(zk);
}
END_TEST

START_TEST(a_nowait_write_fails_with_the_connection_in_a_daemon)
{
	struct kp_zk *zk = open_daemon_zk(zs.connect);
	struct kp_zk_result r;

	ck_assert_int_eq(kp_zk_create_sync(zk, "/nowait", "a", 1, KP_ZK_PERSISTENT, NULL),
			 KP_ZK_OK);
	zkserver_stop(&zs, 1, 0);
	/* the server stays away: a waiting call would never return */
	ck_assert_int_eq(kp_zk_set_sync_nowait(zk, "/nowait", "b", 1, 0, &r),
			 KP_ZK_CONNECTIONLOSS);
	kp_zk_result_free(&r);
	ck_assert_int_eq(zkserver_restart(&zs, 120), 0);
	/* a nowait call takes the connection as it is: once it is back
	 * (the first attempt at a slow server may time out) */
	for (int i = 0; i < 600 && !kp_zk_connected(zk); i++)
		usleep(100000);
	ck_assert(kp_zk_connected(zk));
	ck_assert_int_eq(kp_zk_set_sync_nowait(zk, "/nowait", "b", 1, 0, &r), KP_ZK_OK);
	ck_assert_int_eq(r.stat.version, 1);
	kp_zk_result_free(&r);
	kp_zk_close(zk);
}
END_TEST

START_TEST(interrupt_ends_a_wait_for_the_connection)
{
	struct kp_zk *zk = open_daemon_zk(zs.connect);
	struct blocked b = { .zk = zk, .path = "/x" };
	pthread_t t;
	int i;

	zkserver_stop(&zs, 1, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, get_blocked, &b), 0);
	usleep(1000 * 1000);
	ck_assert_int_eq(b.finished, 0);
	kp_zk_interrupt(zk);
	for (i = 0; i < 100 && !b.finished; i++)
		usleep(100000);
	ck_assert_int_eq(b.finished, 1);
	pthread_join(t, NULL);
	ck_assert_int_eq(b.rc, KP_ZK_CLOSING);
	/* and later calls do not wait either */
	ck_assert_int_eq(kp_zk_exists_sync(zk, "/x", NULL), KP_ZK_CLOSING);
	kp_zk_close(zk);
}
END_TEST

/* -------------------------------------------------- the C client's log lines */

static int count_lines(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* Lines of text holding both a and b. */
static int count_lines_with(const char *text, const char *a, const char *b)
{
	int n = 0;

	for (const char *p = text; *p != 0;) {
		const char *nl = strchr(p, '\n'), *end = nl != NULL ? nl : p + strlen(p);
		const char *x = strstr(p, a), *y = strstr(p, b);

		n += x != NULL && x < end && y != NULL && y < end;
		p = nl != NULL ? nl + 1 : end;
	}
	return n;
}

START_TEST(client_log_lines_go_through_kp_log_and_are_rate_limited)
{
	char path[] = "/tmp/check_zk_log_XXXXXX", text[65536];
	int fd = mkstemp(path), i;
	struct kp_zk *zk;
	int64_t t0, secs;
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	unlink(path);
	kp_log_set_level(KP_LOG_INFO);
	kp_log_set_ident("check_zk");
	kp_log_set_fd(fd);
	zk = open_daemon_zk(zs.connect);
	/* the server away for 3 s: the client tries to reconnect several
	 * times a second and logs each attempt */
	t0 = kp_now_ms();
	zkserver_stop(&zs, 1, 0);
	usleep(3000 * 1000);
	ck_assert_int_eq(zkserver_restart(&zs, 120), 0);
	for (i = 0; i < 600 && !kp_zk_connected(zk); i++)
		usleep(100000);
	ck_assert(kp_zk_connected(zk));
	secs = (kp_now_ms() - t0) / 1000;
	/* the summary is written when the session is connected again */
	usleep(200 * 1000);
	kp_zk_close(zk);
	kp_log_set_fd(-1);
	n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	ck_assert_int_gt(n, 0);
	text[n] = 0;
	/* skald's format and levels, none of the client's own */
	ck_assert_msg(strstr(text, "ZOO_ERROR") == NULL && strstr(text, "ZOO_INFO") == NULL,
		      "%s", text);
	ck_assert_msg(count_lines(text, " INFO check_zk: zookeeper client: session establishment "
				  "complete") >= 1, "%s", text);
	/* one refused connection said at once, the others counted when the
	 * session is back */
	ck_assert_msg(count_lines(text, " WARN check_zk: zookeeper client: Socket 127.0.0.1:") >= 1,
		      "%s", text);
	ck_assert_msg(count_lines(text, "Socket 127.0.0.1") -
		      count_lines(text, "more like: Socket 127.0.0.1") ==
		      count_lines(text, " WARN check_zk: zookeeper client: Socket 127.0.0.1:"),
		      "%s", text);
	/* refused several times a second, written at most once per 10 s
	 * of the outage (a slow machine may make it last longer than 3 s) */
	ck_assert_msg(count_lines_with(text, "zookeeper client: Socket 127.0.0.1:",
				       "refused to accept the client") >= 1, "%s", text);
	ck_assert_msg(count_lines_with(text, "zookeeper client: Socket 127.0.0.1:",
				       "refused to accept the client") <= 1 + secs / 10,
		      "%lld s: %s", (long long)secs, text);
	ck_assert_msg(count_lines(text, "more like: Socket 127.0.0.1") >= 1, "%s", text);
	ck_assert_msg(count_lines(text, "ERROR") == 0, "%s", text);
	ck_assert_msg(count_lines(text, "Client environment:") == 0, "%s", text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("zk");
	TCase *tc = tcase_create("real-zookeeper");

	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, create_get_set_delete_with_versions);
	tcase_add_test(tc, paths_sequential_nodes_and_recursive_delete);
	tcase_add_test(tc, multi_is_all_or_nothing);
	tcase_add_test(tc, watches_and_results_arrive_on_the_owner_thread);
	tcase_add_test(tc, ephemeral_nodes_end_with_their_session);
	tcase_add_test(tc, chroot_is_created_and_used);
	tcase_add_test(tc, session_survives_a_short_zookeeper_outage);
	tcase_add_test(tc, unreachable_server_fails_within_the_connect_timeout);
	tcase_add_test(tc, a_lost_call_waits_for_the_connection_and_is_sent_again);
	tcase_add_test(tc, a_tool_call_fails_with_the_connection);
	tcase_add_test(tc, a_multi_lost_with_the_connection_has_no_per_op_codes);
	tcase_add_test(tc, a_nowait_write_fails_with_the_connection_in_a_daemon);
	tcase_add_test(tc, interrupt_ends_a_wait_for_the_connection);
	tcase_add_test(tc, client_log_lines_go_through_kp_log_and_are_rate_limited);
	suite_add_tcase(s, tc);
	return check_run(s);
}
