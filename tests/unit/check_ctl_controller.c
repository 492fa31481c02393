/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_ctl_controller.c - the controller's events end to end against a
 * real ZooKeeper (tests/lib/zkserver.c), in process: its event thread,
 * the main loop delivering watches, brokers that are only registrations
 * (their channels never connect; nothing here needs them to).
 *
 * Proves: a new topic's partitions get leaders (New -> Online); an admin
 * request is an event answered on its done callback; a fenced write does
 * not resign from inside the event that made it - the event finishes, a
 * Resign event follows; events after the resignation are dropped, and an
 * admin request then gets NOT_CONTROLLER.  A controlled shutdown moves
 * leaderships before it takes the broker out of the ISRs it follows in.
 * AlterIsr writes ISRs keeping the leader epoch and refuses as Kafka.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller.h"
#include "controller_config.h"
#include "ctl_ctx.h"
#include "ctl_event.h"
#include "kp_arena.h"
#include "kp_codec.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_msgs.h"
#include "kp_zk.h"
#include "kp_zkdata.h"
#include "zkserver.h"

#define WAIT_MS 60000		/* generous: the machine may be busy */

static struct zkserver zs;
static struct kp_zk *admin;	/* the test's own session: brokers, topics */
static struct controller c;
static pthread_t loop_thread;
static FILE *logf_;

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A short pause between two looks at a condition (never a wait for a
 * result by itself). */
static void pause_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* Everything the controller logged so far (static buffer). */
static const char *log_text(void)
{
	static char buf[1 << 20];
	size_t n;

	n = (size_t)pread(fileno(logf_), buf, sizeof(buf) - 1, 0);
	buf[n > 0 && n < sizeof(buf) ? n : 0] = '\0';
	return buf;
}

static bool wait_log(const char *needle)
{
	int64_t end = mono_ms() + WAIT_MS;

	while (strstr(log_text(), needle) == NULL) {
		if (mono_ms() > end)
			return false;
		pause_ms(20);
	}
	return true;
}

/* Where needle first is in the log (-1: absent). */
static long log_at(const char *needle)
{
	const char *t = log_text(), *at = strstr(t, needle);

	return at != NULL ? at - t : -1;
}

/* How many times needle is in the log. */
static int count_log(const char *needle)
{
	const char *t = log_text();
	int n = 0;

	while ((t = strstr(t, needle)) != NULL) {
		n++;
		t += strlen(needle);
	}
	return n;
}

static void *run_loop(void *arg)
{
	kp_loop_run(arg);
	return NULL;
}

static void create(const char *path, const char *data, enum kp_zk_mode mode)
{
	ck_assert_int_eq(kp_zk_create_sync(admin, path, data, data ? (int32_t)strlen(data) : 0,
					   mode, NULL), KP_ZK_OK);
}

static void register_broker(int32_t id)
{
	static const char reg[] =
		"{\"version\":5,\"host\":\"127.0.0.1\",\"port\":1,\"jmx_port\":-1,"
		"\"timestamp\":\"0\",\"endpoints\":[\"PLAINTEXT://127.0.0.1:1\"],"
		"\"listener_security_protocol_map\":{\"PLAINTEXT\":\"PLAINTEXT\"},"
		"\"features\":{}}";
	char path[64];

	snprintf(path, sizeof(path), "/brokers/ids/%d", id);
	create(path, reg, KP_ZK_EPHEMERAL);
}

/* A topic znode (with an id, so the controller writes nothing back). */
static void create_topic(const char *name, const char *partitions)
{
	char path[128], json[512];

	snprintf(path, sizeof(path), "/brokers/topics/%s", name);
	snprintf(json, sizeof(json), "{\"version\":3,\"topic_id\":\"AAAAAAAAAAAAAAAAAAAAAA\","
		 "\"partitions\":%s,\"adding_replicas\":{},\"removing_replicas\":{}}",
		 partitions);
	create(path, json, KP_ZK_PERSISTENT);
}

/* The state znode of topic-p, decoded; false while it does not exist. */
static bool read_state(const char *topic, int32_t p, struct kp_zk_partition_state *s)
{
	struct kp_zk_result res;
	char path[128], err[128];
	bool ok;

	snprintf(path, sizeof(path), "/brokers/topics/%s/partitions/%d/state", topic, p);
	ok = kp_zk_get_sync(admin, path, &res) == KP_ZK_OK && res.data != NULL &&
	     kp_zk_partition_state_decode(res.data, (size_t)res.len, s, err,
					  sizeof(err)) == 0;
	kp_zk_result_free(&res);
	return ok;
}

/* Wait until topic-p's state has this leader and ISR. */
static bool wait_state(const char *topic, int32_t p, int32_t leader,
		       const int32_t *isr, int32_t nisr)
{
	int64_t end = mono_ms() + WAIT_MS;

	for (;;) {
		struct kp_zk_partition_state s;

		if (read_state(topic, p, &s)) {
			bool same = s.leader == leader && s.isr.n == nisr &&
				    memcmp(s.isr.ids, isr, sizeof(*isr) * (size_t)nisr) == 0;

			kp_zk_partition_state_free(&s);
			if (same)
				return true;
		}
		if (mono_ms() > end)
			return false;
		pause_ms(20);
	}
}

/* ------------------------------------------------- an admin request */

/* A request's answer, awaited: which thread gave it, and when. */
struct awaited {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	pthread_t thread;
};

static void awaited_init(struct awaited *w)
{
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->done = false;
}

static void awaited_done(struct awaited *w)
{
	pthread_mutex_lock(&w->mu);
	w->done = true;
	w->thread = pthread_self();
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Until it is answered (WAIT_MS at most), on another thread than ours. */
static void awaited_wait(struct awaited *w)
{
	pthread_mutex_lock(&w->mu);
	while (!w->done) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += WAIT_MS / 1000;
		ck_assert_int_eq(pthread_cond_timedwait(&w->cv, &w->mu, &ts), 0);
	}
	pthread_mutex_unlock(&w->mu);
	/* answered on the event thread, not this one */
	ck_assert(!pthread_equal(w->thread, pthread_self()));
}

static void awaited_free(struct awaited *w)
{
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
}

struct answer {
	struct ctl_request r;
	struct kp_arena arena;
	struct kp_controlled_shutdown_req req;
	struct kp_controlled_shutdown_resp resp;
	struct awaited w;
};

static void answered(struct ctl_request *r)
{
	awaited_done(&((struct answer *)r)->w);
}

/* ControlledShutdown of broker id through the controller's queue; the
 * answer's error code (a->resp holds the rest). */
static int16_t controlled_shutdown_v(struct answer *a, int32_t id, int16_t version,
				     int64_t epoch)
{
	memset(a, 0, sizeof(*a));
	kp_arena_init(&a->arena, 0);
	awaited_init(&a->w);
	kp_struct_init(&kp_controlled_shutdown_req_desc, &a->req);
	a->req.broker_id = id;
	a->req.broker_epoch = epoch;
	kp_struct_init(&kp_controlled_shutdown_resp_desc, &a->resp);
	a->r = (struct ctl_request){ .api_key = KP_API_CONTROLLED_SHUTDOWN,
				     .api_version = version, .req = &a->req, .resp = &a->resp,
				     .arena = &a->arena, .done = answered };
	controller_request(&c, &a->r);
	awaited_wait(&a->w);
	return a->resp.error_code;
}

/* A broker's epoch: the czxid of its registration. */
static int64_t broker_epoch(int32_t id)
{
	struct kp_zk_result res;
	char path[64];
	int64_t epoch;

	snprintf(path, sizeof(path), "/brokers/ids/%d", id);
	ck_assert_int_eq(kp_zk_exists_sync(admin, path, &res), KP_ZK_OK);
	ck_assert(res.has_stat);
	epoch = res.stat.czxid;
	kp_zk_result_free(&res);
	return epoch;
}

/* ControlledShutdown v3 from broker id with its current epoch. */
static int16_t controlled_shutdown(struct answer *a, int32_t id)
{
	return controlled_shutdown_v(a, id, 3, broker_epoch(id));
}

static void answer_free(struct answer *a)
{
	kp_arena_free(&a->arena);
	awaited_free(&a->w);
}

/* ------------------------------------------------------ set-up, down */

static void setup(void)
{
	struct kp_props props;
	struct kp_zk_config zc;
	char err[256];

	ck_assert_int_eq(zkserver_start(&zs, 120), 0);
	{
		struct kp_zk_config ac = { .connect = zs.connect, .session_timeout_ms = 30000,
					   .connect_timeout_ms = 30000, .quiet = true };

		ck_assert_msg(kp_zk_open(&admin, &ac, err, sizeof(err)) == 0, "%s", err);
	}
	ck_assert_int_eq(kp_zk_ensure_path(admin, "/brokers/ids"), KP_ZK_OK);
	ck_assert_int_eq(kp_zk_ensure_path(admin, "/brokers/topics"), KP_ZK_OK);

	logf_ = tmpfile();
	ck_assert_ptr_nonnull(logf_);
	kp_log_set_fd(fileno(logf_));
	kp_log_set_level(KP_LOG_TRACE);		/* "event X" as each is taken */

	memset(&c, 0, sizeof(c));
	kp_props_init(&props);
	kp_props_set(&props, "controller.id", "101", 0);
	kp_props_set(&props, "zookeeper.connect", zs.connect, 0);
	kp_props_set(&props, "zookeeper.session.timeout.ms", "30000", 0);
	kp_props_set(&props, "auto.leader.rebalance.enable", "false", 0);
	ck_assert_msg(kp_config_build(&c.cfg, controller_config_defs,
				      controller_config_ndefs, &props, NULL, NULL,
				      err, sizeof(err)) == 0, "%s", err);
	kp_props_free(&props);
	c.id = 101;
	c.listener = "PLAINTEXT";
	c.socket_timeout_ms = 1000;
	snprintf(c.ep.listener, sizeof(c.ep.listener), "PLAINTEXT");
	snprintf(c.ep.host, sizeof(c.ep.host), "127.0.0.1");
	c.ep.port = 1;
	c.loop = kp_loop_new();
	ck_assert_ptr_nonnull(c.loop);
	ck_assert_int_eq(controller_init(&c), 0);
	ck_assert_int_eq(kp_zk_config_from(&zc, &c.cfg, c.loop, err, sizeof(err)), 0);
	ck_assert_msg(kp_zk_open(&c.zk, &zc, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(pthread_create(&loop_thread, NULL, run_loop, c.loop), 0);
}

static void teardown(void)
{
	kp_loop_stop(c.loop);
	pthread_join(loop_thread, NULL);
	controller_stop(&c);
	for (int i = 0; i < 3; i++)
		kp_loop_run_once(c.loop, 0);
	kp_zk_close(c.zk);
	controller_free(&c);
	kp_loop_free(c.loop);
	kp_config_free(&c.cfg);
	kp_zk_close(admin);
	kp_log_set_fd(-1);
	kp_log_set_level(KP_LOG_INFO);
	fclose(logf_);
	zkserver_stop(&zs, 1, 1);
}

/* --------------------------------------------------------------- tests */

START_TEST(events_elect_leaders_and_a_fenced_write_resigns_after_its_event)
{
	static const int32_t isr12[] = { 1, 2 }, isr21[] = { 2, 1 }, isr2[] = { 2 };
	struct kp_zk_partition_state s;
	struct answer a;

	register_broker(1);
	register_broker(2);
	ck_assert_int_eq(controller_start(&c), 0);
	/* returns once the Startup event was processed: we are in charge */
	ck_assert_int_ge(log_at("in charge: 0 topics, 0 partitions, 2 brokers"), 0);

	/* TopicChange: NewPartition -> OnlinePartition, first live replica
	 * leads, the live replicas are the ISR */
	create_topic("a", "{\"0\":[1,2],\"1\":[2,1]}");
	ck_assert(wait_state("a", 0, 1, isr12, 2));
	ck_assert(wait_state("a", 1, 2, isr21, 2));
	ck_assert(wait_log("partition a-1: NewPartition -> OnlinePartition"));

	/* KIP-380: v2+ names the broker's epoch; -1 or an older one is
	 * refused and nothing moves (Kafka 2.8 lets -1 through) */
	ck_assert_int_eq(controlled_shutdown_v(&a, 1, 3, -1), KP_ERR_STALE_BROKER_EPOCH);
	answer_free(&a);
	ck_assert_int_eq(controlled_shutdown_v(&a, 1, 2, broker_epoch(1) - 1),
			 KP_ERR_STALE_BROKER_EPOCH);
	answer_free(&a);
	ck_assert(wait_state("a", 0, 1, isr12, 2));
	ck_assert(wait_state("a", 1, 2, isr21, 2));

	/* an admin request is an event: ControlledShutdown moves broker 1's
	 * leadership to 2 and takes 1 out of the ISRs */
	ck_assert_int_eq(controlled_shutdown(&a, 1), 0);
	ck_assert_int_eq(a.resp.remaining_partitions_count, 0);
	answer_free(&a);
	ck_assert(wait_state("a", 0, 2, isr2, 1));
	ck_assert(wait_state("a", 1, 2, isr2, 1));
	ck_assert_int_ge(log_at("partition a-0: OnlinePartition -> OnlinePartition"), 0);

	/* another controller's epoch: the next write is fenced */
	ck_assert_int_eq(kp_zk_set_sync(admin, "/controller_epoch", "5", 1, -1, NULL),
			 KP_ZK_OK);
	create_topic("b", "{\"0\":[2]}");
	ck_assert(wait_log("resigning as controller (epoch 1)"));
	/* the event that met the fence ran to its end first, then came the
	 * Resign event */
	ck_assert_int_ge(log_at("new topic b with 1 partitions"), 0);
	ck_assert_int_lt(log_at("new topic b with 1 partitions"),
			 log_at("controller epoch 1 is no longer current"));
	ck_assert_int_lt(log_at("controller epoch 1 is no longer current"),
			 log_at("event Resign"));
	ck_assert_int_lt(log_at("event Resign"), log_at("resigning as controller"));
	ck_assert(!read_state("b", 0, &s));

	/* after the resignation: events are dropped, requests refused */
	create_topic("c", "{\"0\":[2]}");
	ck_assert(wait_log("TopicChange: not the active controller; dropped"));
	ck_assert(!read_state("c", 0, &s));
	ck_assert_int_eq(controlled_shutdown(&a, 2), KP_ERR_NOT_CONTROLLER);
	answer_free(&a);
}
END_TEST

/* A leader's ISR write: topic-p's state with this ISR, everything else
 * as the controller left it. */
static void leader_sets_isr(const char *topic, int32_t p, const int32_t *isr, int32_t n)
{
	struct kp_zk_partition_state s;
	char path[128], *json;

	ck_assert(read_state(topic, p, &s));
	free(s.isr.ids);
	s.isr.ids = malloc(sizeof(*isr) * (size_t)n);
	ck_assert_ptr_nonnull(s.isr.ids);
	memcpy(s.isr.ids, isr, sizeof(*isr) * (size_t)n);
	s.isr.n = n;
	json = kp_zk_partition_state_encode(&s);
	ck_assert_ptr_nonnull(json);
	snprintf(path, sizeof(path), "/brokers/topics/%s/partitions/%d/state", topic, p);
	ck_assert_int_eq(kp_zk_set_sync(admin, path, json, (int32_t)strlen(json), -1, NULL),
			 KP_ZK_OK);
	free(json);
	kp_zk_partition_state_free(&s);
}

static char *tp_list(const char *t1, int32_t p1, const char *t2, int32_t p2)
{
	struct kp_zk_tp tps[2] = { { .topic = (char *)t1, .partition = p1 },
				   { .topic = (char *)t2, .partition = p2 } };
	struct kp_zk_tp_list l = { tps, 2 };
	char *json = kp_zk_tp_list_encode(&l, false);

	ck_assert_ptr_nonnull(json);
	return json;
}

static int32_t children(const char *path)
{
	struct kp_zk_result res;
	int32_t n;

	ck_assert_int_eq(kp_zk_children_sync(admin, path, &res), KP_ZK_OK);
	n = res.nchildren;
	kp_zk_result_free(&res);
	return n;
}

/* The ISR in the controller's context (read once its event is over). */
static bool ctx_isr_is(const char *topic, int32_t p, const int32_t *isr, int32_t n)
{
	const struct c_topic *t = ctl_ctx_topic(&c, topic);

	return t != NULL && p < t->nparts && t->parts[p].isr.n == n &&
	       memcmp(t->parts[p].isr.ids, isr, sizeof(*isr) * (size_t)n) == 0;
}

/*
 * Kafka's IsrChangeNotification, read in batches: several notifications
 * at once (one naming a partition another names too, one an unknown
 * topic, one not JSON) update the context from the state znodes, each
 * partition once, and are all deleted.
 */
START_TEST(isr_change_notifications_are_read_and_deleted_in_batches)
{
	static const int32_t isr12[] = { 1, 2 }, isr1[] = { 1 }, isr2[] = { 2 };
	char *a, *b;
	struct kp_zk_op ops[3];
	struct kp_zk_result res;
	int64_t end;
	int before;

	register_broker(1);
	register_broker(2);
	create("/isr_change_notification", NULL, KP_ZK_PERSISTENT);
	ck_assert_int_eq(controller_start(&c), 0);
	create_topic("i", "{\"0\":[1,2],\"1\":[2,1],\"2\":[1,2]}");
	ck_assert(wait_state("i", 0, 1, isr12, 2));
	ck_assert(wait_state("i", 1, 2, (const int32_t[]){ 2, 1 }, 2));
	ck_assert(wait_state("i", 2, 1, isr12, 2));
	/* the takeover's own look at the notifications is an event too */
	before = count_log("event IsrChangeNotification");

	/* the leaders shrink two ISRs and announce it */
	leader_sets_isr("i", 0, isr1, 1);
	leader_sets_isr("i", 1, isr2, 1);
	a = tp_list("i", 0, "i", 1);
	b = tp_list("i", 1, "nope", 0);
	ops[0] = (struct kp_zk_op){ .type = KP_ZK_OP_CREATE,
				    .path = "/isr_change_notification/isr_change_", .data = a,
				    .len = (int32_t)strlen(a), .mode = KP_ZK_PERSISTENT_SEQUENTIAL };
	ops[1] = ops[0];
	ops[1].data = b;
	ops[1].len = (int32_t)strlen(b);
	ops[2] = ops[0];
	ops[2].data = "not json";
	ops[2].len = 8;
	ck_assert_int_eq(kp_zk_multi_sync(admin, ops, 3, &res), KP_ZK_OK);
	kp_zk_result_free(&res);
	free(a);
	free(b);

	ck_assert(wait_log("ISR change notifications: 3 read, 2 partition(s) updated"));
	end = mono_ms() + WAIT_MS;
	while (children("/isr_change_notification") > 0) {
		ck_assert_msg(mono_ms() < end, "the notifications are still there");
		pause_ms(20);
	}
	/* the event that deleted them is over once the next one starts (the
	 * deletions fire the child watch it left; events run one at a time) */
	while (count_log("event IsrChangeNotification") < before + 2) {
		ck_assert_msg(mono_ms() < end, "no event after the deletions");
		pause_ms(20);
	}
	ck_assert(ctx_isr_is("i", 0, isr1, 1));
	ck_assert(ctx_isr_is("i", 1, isr2, 1));
	ck_assert(ctx_isr_is("i", 2, isr12, 2));
}
END_TEST

/*
 * Kafka's onControllerFailover: the ISR change notifications left from
 * before are deleted unread, and the states the new controller reads
 * hold what they announced.
 */
START_TEST(failover_drops_pending_isr_change_notifications)
{
	static const int32_t isr1[] = { 1 };
	char *a;

	register_broker(1);
	register_broker(2);
	create("/isr_change_notification", NULL, KP_ZK_PERSISTENT);
	create_topic("f", "{\"0\":[1,2]}");
	create("/brokers/topics/f/partitions", NULL, KP_ZK_PERSISTENT);
	create("/brokers/topics/f/partitions/0", NULL, KP_ZK_PERSISTENT);
	create("/brokers/topics/f/partitions/0/state",
	       "{\"controller_epoch\":0,\"leader\":1,\"version\":1,\"leader_epoch\":0,"
	       "\"isr\":[1]}", KP_ZK_PERSISTENT);
	a = tp_list("f", 0, "f", 0);
	create("/isr_change_notification/isr_change_", a, KP_ZK_PERSISTENT_SEQUENTIAL);
	create("/isr_change_notification/isr_change_", a, KP_ZK_PERSISTENT_SEQUENTIAL);
	free(a);
	ck_assert_int_eq(children("/isr_change_notification"), 2);

	ck_assert_int_eq(controller_start(&c), 0);
	ck_assert_int_ge(log_at("in charge: 1 topics, 1 partitions, 2 brokers"), 0);
	ck_assert_int_ge(log_at("deleted 2 pending ISR change notification(s)"), 0);
	ck_assert_int_lt(log_at("deleted 2 pending ISR change notification(s)"),
			 log_at("in charge:"));
	ck_assert_int_eq(children("/isr_change_notification"), 0);
	ck_assert(ctx_isr_is("f", 0, isr1, 1));
}
END_TEST

/*
 * A controller takes over a cluster whose broker 2 died meanwhile (its
 * registration is gone).  d-0, led by 2, gets broker 1 as leader; 2
 * leaves d-1's ISR; d-2 stays as it was.  Broker 1 learns the new leader
 * first, alone, and then the rest in one LeaderAndIsr: no entry names the
 * dead leader (Kafka sends the states as read first, then the elections'
 * changes), and no partition goes twice.  The ISR change notifications
 * that came during the takeover are an event of their own, after it.
 */
START_TEST(takeover_elects_before_its_one_leader_and_isr)
{
	static const int32_t isr1[] = { 1 };
	long charge, first, second;

	register_broker(1);
	create("/isr_change_notification", NULL, KP_ZK_PERSISTENT);
	create_topic("d", "{\"0\":[2,1],\"1\":[1,2],\"2\":[1,2]}");
	create("/brokers/topics/d/partitions", NULL, KP_ZK_PERSISTENT);
	create("/brokers/topics/d/partitions/0", NULL, KP_ZK_PERSISTENT);
	create("/brokers/topics/d/partitions/0/state",
	       "{\"controller_epoch\":0,\"leader\":2,\"version\":1,\"leader_epoch\":3,"
	       "\"isr\":[2,1]}", KP_ZK_PERSISTENT);
	create("/brokers/topics/d/partitions/1", NULL, KP_ZK_PERSISTENT);
	create("/brokers/topics/d/partitions/1/state",
	       "{\"controller_epoch\":0,\"leader\":1,\"version\":1,\"leader_epoch\":5,"
	       "\"isr\":[1,2]}", KP_ZK_PERSISTENT);
	create("/brokers/topics/d/partitions/2", NULL, KP_ZK_PERSISTENT);
	create("/brokers/topics/d/partitions/2/state",
	       "{\"controller_epoch\":0,\"leader\":1,\"version\":1,\"leader_epoch\":7,"
	       "\"isr\":[1]}", KP_ZK_PERSISTENT);

	ck_assert_int_eq(controller_start(&c), 0);
	charge = log_at("in charge: 1 topics, 3 partitions, 1 brokers");
	ck_assert_int_ge(charge, 0);
	ck_assert(wait_state("d", 0, 1, isr1, 1));
	ck_assert(wait_state("d", 1, 1, isr1, 1));
	ck_assert(wait_state("d", 2, 1, isr1, 1));
	ck_assert_int_ge(log_at("2 partition state(s) changed (0 offline, 1 new leaders"), 0);
	ck_assert_int_eq(count_log("LeaderAndIsr to broker 1:"), 2);
	first = log_at("LeaderAndIsr to broker 1: 1 partition(s), 1 leading");
	second = log_at("LeaderAndIsr to broker 1: 2 partition(s), 2 leading");
	ck_assert_int_ge(first, 0);
	ck_assert_int_gt(second, first);
	ck_assert_int_lt(second, charge);
	ck_assert_int_eq(count_log("LeaderAndIsr to broker 2"), 0);
	/* the pending notifications' event follows the takeover's */
	ck_assert(wait_log("event IsrChangeNotification"));
	ck_assert_int_gt(log_at("event IsrChangeNotification"), charge);
}
END_TEST

/* ------------------------------------------------------------ AlterIsr */

struct alter {
	struct ctl_request r;
	struct kp_arena arena;
	struct kp_alter_isr_req req;
	struct kp_alter_isr_req_topic_data topic;
	struct kp_alter_isr_req_partition_data part;
	struct kp_alter_isr_resp resp;
	struct awaited w;
};

static void alter_answered(struct ctl_request *r)
{
	awaited_done(&((struct alter *)r)->w);
}

/* AlterIsr from leader 1 for topic-p; the top-level error, and the
 * partition's answer in *out (error_code -1 when there is none). */
static int16_t alter_isr_e(struct alter *a, int64_t bepoch, const char *topic, int32_t p,
			   int32_t leader_epoch, const int32_t *isr, int32_t nisr,
			   int32_t version, struct kp_alter_isr_resp_partition_data *out)
{
	memset(a, 0, sizeof(*a));
	kp_arena_init(&a->arena, 0);
	awaited_init(&a->w);
	kp_struct_init(&kp_alter_isr_req_desc, &a->req);
	kp_struct_init(&kp_alter_isr_req_topic_data_desc, &a->topic);
	kp_struct_init(&kp_alter_isr_req_partition_data_desc, &a->part);
	a->part.partition_index = p;
	a->part.leader_epoch = leader_epoch;
	a->part.new_isr = (int32_t *)isr;
	a->part.new_isr_count = nisr;
	a->part.current_isr_version = version;
	a->topic.name = kp_str_c(topic);
	a->topic.partitions = &a->part;
	a->topic.partitions_count = 1;
	a->req.broker_id = 1;
	a->req.broker_epoch = bepoch;
	a->req.topics = &a->topic;
	a->req.topics_count = 1;
	kp_struct_init(&kp_alter_isr_resp_desc, &a->resp);
	a->r = (struct ctl_request){ .api_key = KP_API_ALTER_ISR, .api_version = 0,
				     .req = &a->req, .resp = &a->resp,
				     .arena = &a->arena, .done = alter_answered };
	controller_request(&c, &a->r);
	awaited_wait(&a->w);
	awaited_free(&a->w);
	out->error_code = -1;
	if (a->resp.topics_count == 1 && a->resp.topics[0].partitions_count == 1)
		*out = a->resp.topics[0].partitions[0];
	return a->resp.error_code;
}

/* AlterIsr from leader 1 with its registration's epoch. */
static int16_t alter_isr(struct alter *a, const char *topic, int32_t p, int32_t leader_epoch,
			 const int32_t *isr, int32_t nisr, int32_t version,
			 struct kp_alter_isr_resp_partition_data *out)
{
	return alter_isr_e(a, broker_epoch(1), topic, p, leader_epoch, isr, nisr, version, out);
}

/* The version of topic-p's state znode. */
static int32_t state_version(const char *topic, int32_t p)
{
	struct kp_zk_result res;
	char path[128];
	int32_t v;

	snprintf(path, sizeof(path), "/brokers/topics/%s/partitions/%d/state", topic, p);
	ck_assert_int_eq(kp_zk_exists_sync(admin, path, &res), KP_ZK_OK);
	v = res.stat.version;
	kp_zk_result_free(&res);
	return v;
}

/* The leader epoch in topic-p's state znode. */
static int32_t state_leader_epoch(const char *topic, int32_t p)
{
	struct kp_zk_partition_state s;
	int32_t e;

	ck_assert(read_state(topic, p, &s));
	e = s.leader_epoch;
	kp_zk_partition_state_free(&s);
	return e;
}

START_TEST(alter_isr_writes_keeping_the_epoch_and_refuses_as_kafka)
{
	static const int32_t isr123[] = { 1, 2, 3 }, isr12[] = { 1, 2 }, dup[] = { 1, 1 };
	struct kp_alter_isr_resp_partition_data q;
	struct kp_zk_partition_state s;
	struct alter a;
	int32_t v0, epoch;

	register_broker(1);
	register_broker(2);
	register_broker(3);
	ck_assert_int_eq(controller_start(&c), 0);
	create_topic("t", "{\"0\":[1,2,3]}");
	ck_assert(wait_state("t", 0, 1, isr123, 3));
	epoch = state_leader_epoch("t", 0);
	v0 = state_version("t", 0);

	/* the leader's shrink: written at the version it named, the leader
	 * epoch kept; the answer is the new state */
	ck_assert_int_eq(alter_isr(&a, "t", 0, epoch, isr12, 2, v0, &q), 0);
	ck_assert_int_eq(q.error_code, 0);
	ck_assert_int_eq(q.leader_id, 1);
	ck_assert_int_eq(q.leader_epoch, epoch);
	ck_assert_int_eq(q.isr_count, 2);
	ck_assert_int_eq(q.current_isr_version, v0 + 1);
	kp_arena_free(&a.arena);
	ck_assert(wait_state("t", 0, 1, isr12, 2));
	ck_assert_int_eq(state_version("t", 0), v0 + 1);
	ck_assert(read_state("t", 0, &s));
	ck_assert_int_eq(s.leader_epoch, epoch);
	ck_assert_int_eq(s.controller_epoch, 1);
	kp_zk_partition_state_free(&s);
	ck_assert(wait_log("AlterIsr from broker 1: 1 ISR(s) written"));

	/* what it already is: answered, nothing written */
	ck_assert_int_eq(alter_isr(&a, "t", 0, epoch, isr12, 2, v0 + 1, &q), 0);
	ck_assert_int_eq(q.error_code, 0);
	ck_assert_int_eq(q.current_isr_version, v0 + 1);
	kp_arena_free(&a.arena);
	ck_assert_int_eq(state_version("t", 0), v0 + 1);

	/* an older version, an older epoch, an unknown partition, a broker
	 * epoch that is not the registration's, a list naming a replica
	 * twice */
	ck_assert_int_eq(alter_isr(&a, "t", 0, epoch, isr123, 3, v0, &q), 0);
	ck_assert_int_eq(q.error_code, KP_ERR_INVALID_UPDATE_VERSION);
	kp_arena_free(&a.arena);
	ck_assert_int_eq(alter_isr(&a, "t", 0, epoch - 1, isr123, 3, v0 + 1, &q), 0);
	ck_assert_int_eq(q.error_code, KP_ERR_FENCED_LEADER_EPOCH);
	kp_arena_free(&a.arena);
	ck_assert_int_eq(alter_isr(&a, "t", 7, epoch, isr123, 3, v0 + 1, &q), 0);
	ck_assert_int_eq(q.error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	kp_arena_free(&a.arena);
	ck_assert_int_eq(alter_isr(&a, "nope", 0, epoch, isr123, 3, v0 + 1, &q), 0);
	ck_assert_int_eq(q.error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	kp_arena_free(&a.arena);
	ck_assert_int_eq(alter_isr(&a, "t", 0, epoch, dup, 2, v0 + 1, &q), 0);
	ck_assert_int_eq(q.error_code, KP_ERR_INVALID_REQUEST);
	kp_arena_free(&a.arena);
	ck_assert_int_eq(state_version("t", 0), v0 + 1);

	/* the context holds the written ISR: the expansion back goes at
	 * the new version */
	ck_assert_int_eq(alter_isr(&a, "t", 0, epoch, isr123, 3, v0 + 1, &q), 0);
	ck_assert_int_eq(q.error_code, 0);
	ck_assert_int_eq(q.current_isr_version, v0 + 2);
	kp_arena_free(&a.arena);
	ck_assert(wait_state("t", 0, 1, isr123, 3));
}
END_TEST

START_TEST(alter_isr_from_a_stale_broker_epoch_or_to_a_standby)
{
	static const int32_t isr1[] = { 1 };
	struct kp_alter_isr_resp_partition_data q;
	struct alter a;

	register_broker(1);
	ck_assert_int_eq(controller_start(&c), 0);
	create_topic("t", "{\"0\":[1]}");
	ck_assert(wait_state("t", 0, 1, isr1, 1));
	/* not the epoch of broker 1's registration: nothing answered per
	 * partition */
	ck_assert_int_eq(alter_isr_e(&a, broker_epoch(1) + 1, "t", 0, 0, isr1, 1, 0, &q),
			 KP_ERR_STALE_BROKER_EPOCH);
	ck_assert_int_eq(q.error_code, -1);
	kp_arena_free(&a.arena);
	ck_assert_int_eq(alter_isr_e(&a, -1, "t", 0, 0, isr1, 1, 0, &q),
			 KP_ERR_STALE_BROKER_EPOCH);
	kp_arena_free(&a.arena);
	ck_assert_int_eq(alter_isr(&a, "t", 0, 0, isr1, 1, 0, &q), 0);
	ck_assert_int_eq(q.error_code, 0);
	kp_arena_free(&a.arena);
	/* a resigned controller answers NOT_CONTROLLER */
	ck_assert_int_eq(kp_zk_set_sync(admin, "/controller_epoch", "5", 1, -1, NULL),
			 KP_ZK_OK);
	create_topic("b", "{\"0\":[1]}");
	ck_assert(wait_log("resigning as controller (epoch 1)"));
	ck_assert_int_eq(alter_isr(&a, "t", 0, 0, isr1, 1, 0, &q), KP_ERR_NOT_CONTROLLER);
	kp_arena_free(&a.arena);
}
END_TEST

/*
 * A write lost with ZooKeeper is no fence.  The C client fails a multi
 * whose connection went by stamping the loss on every op, the epoch check
 * included; read as the check failing, the controller resigned while it
 * was still in charge (and before its session's expiry, when that was
 * the cause, was handled: a controller SIGSTOPped past its session and
 * resumed under AlterIsr traffic resigned first, then met the expiry as a
 * standby).
 */
START_TEST(a_write_lost_with_zookeeper_is_no_fence)
{
	static const int32_t isr12[] = { 1, 2 }, isr1[] = { 1 };
	struct kp_alter_isr_resp_partition_data q;
	struct alter a;
	int32_t epoch, v0;
	int64_t be;

	register_broker(1);
	register_broker(2);
	ck_assert_int_eq(controller_start(&c), 0);
	create_topic("t", "{\"0\":[1,2]}");
	ck_assert(wait_state("t", 0, 1, isr12, 2));
	epoch = state_leader_epoch("t", 0);
	v0 = state_version("t", 0);
	be = broker_epoch(1);
	zkserver_stop(&zs, 1, 0);
	/* its waits for the connection end at once, the write with them */
	kp_zk_interrupt(c.zk);
	ck_assert_int_eq(alter_isr_e(&a, be, "t", 0, epoch, isr1, 1, v0, &q), 0);
	ck_assert_int_ne(q.error_code, 0);
	kp_arena_free(&a.arena);
	ck_assert_int_lt(log_at("is no longer current"), 0);
	ck_assert_int_eq(c.role, CTL_ACTIVE);
	ck_assert_int_eq(zkserver_restart(&zs, 120), 0);
}
END_TEST

/* The zxid of the last write of topic-p's state znode. */
static int64_t state_mzxid(const char *topic, int32_t p)
{
	struct kp_zk_result res;
	char path[128];
	int64_t z;

	snprintf(path, sizeof(path), "/brokers/topics/%s/partitions/%d/state", topic, p);
	ck_assert_int_eq(kp_zk_exists_sync(admin, path, &res), KP_ZK_OK);
	ck_assert(res.has_stat);
	z = res.stat.mzxid;
	kp_zk_result_free(&res);
	return z;
}

/*
 * Controlled shutdown in Kafka's order: the leaderships of the broker
 * move first, written (and sent) before it leaves the ISRs of the
 * partitions it follows, so the new leaders do not wait for the ISR
 * writes.  A partition without it is not touched; it leaves every ISR,
 * leads nothing; the answer lists nothing left.
 */
START_TEST(controlled_shutdown_moves_leaders_before_it_leaves_isrs)
{
	static const int32_t isr213[] = { 2, 1, 3 }, isr123[] = { 1, 2, 3 },
			     isr312[] = { 3, 1, 2 }, isr132[] = { 1, 3, 2 },
			     isr23[] = { 2, 3 }, isr32[] = { 3, 2 };
	int64_t before4, moved, left;
	struct answer a;

	register_broker(1);
	register_broker(2);
	register_broker(3);
	ck_assert_int_eq(controller_start(&c), 0);
	/* followers of 1 come first in the topic: one pass over it would
	 * write them before (or with) the leaderships */
	create_topic("s", "{\"0\":[2,1,3],\"1\":[1,2,3],\"2\":[3,1,2],"
		     "\"3\":[1,3,2],\"4\":[2,3]}");
	ck_assert(wait_state("s", 0, 2, isr213, 3));
	ck_assert(wait_state("s", 1, 1, isr123, 3));
	ck_assert(wait_state("s", 2, 3, isr312, 3));
	ck_assert(wait_state("s", 3, 1, isr132, 3));
	ck_assert(wait_state("s", 4, 2, isr23, 2));
	before4 = state_mzxid("s", 4);

	ck_assert_int_eq(controlled_shutdown(&a, 1), 0);
	ck_assert_int_eq(a.resp.remaining_partitions_count, 0);
	answer_free(&a);
	ck_assert(wait_state("s", 0, 2, isr23, 2));
	ck_assert(wait_state("s", 1, 2, isr23, 2));
	ck_assert(wait_state("s", 2, 3, isr32, 2));
	ck_assert(wait_state("s", 3, 3, isr32, 2));
	ck_assert(wait_state("s", 4, 2, isr23, 2));
	ck_assert_int_eq(state_mzxid("s", 4), before4);
	/* the leaderships were written in transactions of their own, before
	 * the ISR-only changes */
	moved = state_mzxid("s", 1) > state_mzxid("s", 3) ? state_mzxid("s", 1)
							    : state_mzxid("s", 3);
	left = state_mzxid("s", 0) < state_mzxid("s", 2) ? state_mzxid("s", 0)
							 : state_mzxid("s", 2);
	ck_assert_int_lt(moved, left);
	ck_assert_int_ge(log_at("controlled shutdown of broker 1: 2 leadership(s) moved in "),
			 0);
	ck_assert_int_ge(log_at(" writing ZooKeeper), then out of 2 ISR(s) in "), 0);
	ck_assert_int_ge(log_at("partition s-1: OnlinePartition -> OnlinePartition"), 0);
	ck_assert_int_ge(log_at("partition s-3: OnlinePartition -> OnlinePartition"), 0);
	ck_assert_int_lt(log_at("partition s-0: OnlinePartition -> OnlinePartition"), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ctl_controller");
	TCase *tc = tcase_create("events");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, events_elect_leaders_and_a_fenced_write_resigns_after_its_event);
	tcase_add_test(tc, isr_change_notifications_are_read_and_deleted_in_batches);
	tcase_add_test(tc, failover_drops_pending_isr_change_notifications);
	tcase_add_test(tc, alter_isr_writes_keeping_the_epoch_and_refuses_as_kafka);
	tcase_add_test(tc, alter_isr_from_a_stale_broker_epoch_or_to_a_standby);
	tcase_add_test(tc, a_write_lost_with_zookeeper_is_no_fence);
	tcase_add_test(tc, controlled_shutdown_moves_leaders_before_it_leaves_isrs);
	tcase_add_test(tc, takeover_elects_before_its_one_leader_and_isr);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
