/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_broker_api.c - kbroker's request handlers over real sockets: an
 * in-process broker (network workers, partitions, log dir; no ZooKeeper)
 * driven with libkproto's client the way the controller and producers
 * drive it.  The full daemon with real clients is tested in
 * tests/integration.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "authz.h"
#include "broker.h"
#include "broker_config.h"
#include "fetch_session.h"
#include "check_run.h"
#include "kp_client.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_msgs.h"
#include "kp_records.h"
#include "kp_zkdata.h"
#include "log.h"
#include "log_dir.h"
#include "net.h"
#include "partition.h"
#include "purgatory.h"
#include "replica.h"
#include "req_dispatch.h"

static struct broker b;
static struct kp_endpoint listener;
static int plaintext = KP_SEC_PLAINTEXT;
static char dir[64];
static pthread_t main_thread;
static struct log_dir *ld;
static struct kp_conn *conn;
static struct kp_arena arena;

static void *main_loop(void *arg)
{
	kp_loop_run(arg);
	return NULL;
}

static void setup(void)
{
	char err[256];
	int e = 0;

	kp_log_set_level(KP_LOG_ERROR);
	memset(&b, 0, sizeof(b));
	snprintf(dir, sizeof(dir), "/tmp/check_broker.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(log_dir_open(dir, &ld), 0);
	b.id = 1;
	producer_ids_init(&b.pids);
	snprintf(b.cluster_id, sizeof(b.cluster_id), "test-cluster");
	snprintf(listener.listener, sizeof(listener.listener), "PLAINTEXT");
	snprintf(listener.host, sizeof(listener.host), "127.0.0.1");
	listener.port = 0;
	b.listeners = b.advertised = &listener;
	b.lsn.bind = b.lsn.adv = &listener;
	b.lsn.nbind = b.lsn.nadv = 1;
	b.lsn.bind_proto = b.lsn.adv_proto = &plaintext;
	b.nlisteners = b.nadvertised = 1;
	b.listen_backlog = 16;
	b.socket_request_max_bytes = 10 << 20;
	b.request_arena_cap = 100 << 20;
	b.message_max_bytes = 1048588;
	{
		struct kp_props none;

		kp_props_init(&none);
		ck_assert_int_eq(kp_config_build(&b.cfg, broker_config_defs,
						 broker_config_ndefs, &none, NULL, NULL,
						 err, sizeof(err)), 0);
	}
	b.dirs = &ld;
	b.ndirs = 1;
	metadata_cache_init(&b.meta);
	pthread_mutex_init(&b.dirs_lock, NULL);
	partition_table_init(&b.parts);
	b.purg = purgatory_new();
	b.loop = kp_loop_new();
	b.net = net_start(&b, b.loop, 2, req_dispatch, err, sizeof(err));
	ck_assert_ptr_nonnull(b.net);
	listener.port = net_listener_port(b.net, 0);
	pthread_create(&main_thread, NULL, main_loop, b.loop);
	conn = kp_conn_open("127.0.0.1", listener.port,
			    &(struct kp_client_opts){ .request_timeout_ms = 20000 }, &e);
	ck_assert_ptr_nonnull(conn);
	kp_arena_init(&arena, 0);
}

static void teardown(void)
{
	char cmd[128];

	kp_arena_free(&arena);
	kp_conn_free(conn);
	kp_loop_stop(b.loop);
	pthread_join(main_thread, NULL);
	net_stop(b.net);
	purgatory_free(b.purg);
	log_dir_close(ld, true);
	kp_loop_free(b.loop);
	partition_table_destroy(&b.parts);
	metadata_cache_destroy(&b.meta);
	kp_config_free(&b.cfg);
	producer_ids_destroy(&b.pids);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static int32_t replicas_1[] = { 1 }, replicas_12[] = { 1, 2 }, replicas_2[] = { 2 };

/* LeaderAndIsr v4 for topic t: p0 led by us, p1 by broker 2, p2 not ours. */
static void leader_and_isr(int32_t cepoch, int32_t lepoch, int16_t *errs)
{
	struct kp_leader_and_isr_req req;
	struct kp_leader_and_isr_req_leader_and_isr_topic_state ts;
	struct kp_leader_and_isr_leader_and_isr_partition_state ps[3];
	struct kp_leader_and_isr_resp resp;

	kp_struct_init(&kp_leader_and_isr_req_desc, &req);
	kp_struct_init(&kp_leader_and_isr_req_leader_and_isr_topic_state_desc, &ts);
	for (int i = 0; i < 3; i++) {
		kp_struct_init(&kp_leader_and_isr_leader_and_isr_partition_state_desc, &ps[i]);
		ps[i].partition_index = i;
		ps[i].controller_epoch = cepoch;
		ps[i].leader_epoch = lepoch;
	}
	ps[0].leader = 1;
	ps[0].replicas = ps[0].isr = replicas_1;
	ps[0].replicas_count = ps[0].isr_count = 1;
	ps[1].leader = 2;
	ps[1].replicas = ps[1].isr = replicas_12;
	ps[1].replicas_count = ps[1].isr_count = 2;
	ps[2].leader = 2;
	ps[2].replicas = ps[2].isr = replicas_2;
	ps[2].replicas_count = ps[2].isr_count = 1;
	ts.topic_name = kp_str_c("t");
	ts.partition_states = ps;
	ts.partition_states_count = 3;
	req.controller_id = 100;
	req.controller_epoch = cepoch;
	req.topic_states = &ts;
	req.topic_states_count = 1;
	req.live_leaders_count = 0;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_LEADER_AND_ISR, 4, &req, &resp, &arena), 0);
	if (resp.error_code) {
		errs[0] = errs[1] = errs[2] = resp.error_code;
		return;
	}
	ck_assert_int_eq(resp.partition_errors_count, 3);
	for (int i = 0; i < 3; i++)
		errs[i] = resp.partition_errors[i].error_code;
}

/* Produce raw record bytes to t-p; returns the partition error. */
static int16_t produce(int16_t version, int16_t acks, int32_t p,
		       const uint8_t *records, int32_t len, int64_t *base)
{
	struct kp_produce_req req;
	struct kp_produce_req_topic_produce_data td;
	struct kp_produce_req_partition_produce_data pd;
	struct kp_produce_resp resp;
	int rc;

	kp_struct_init(&kp_produce_req_desc, &req);
	kp_struct_init(&kp_produce_req_topic_produce_data_desc, &td);
	kp_struct_init(&kp_produce_req_partition_produce_data_desc, &pd);
	pd.index = p;
	pd.records = (kp_records){ .ptr = records, .len = len };
	td.name = kp_str_c("t");
	td.partition_data = &pd;
	td.partition_data_count = 1;
	req.acks = acks;
	req.timeout_ms = 10000;
	req.topic_data = &td;
	req.topic_data_count = 1;
	rc = kp_conn_call(conn, KP_API_PRODUCE, version, &req, &resp, &arena);
	ck_assert_int_eq(rc, 0);
	if (acks == 0)
		return 0;
	ck_assert_int_eq(resp.responses_count, 1);
	ck_assert_int_eq(resp.responses[0].partition_responses_count, 1);
	if (base != NULL)
		*base = resp.responses[0].partition_responses[0].base_offset;
	return resp.responses[0].partition_responses[0].error_code;
}

static void batch(struct kp_wbuf *w, int n, enum kp_codec codec)
{
	struct kp_batch_params p;
	struct kp_record_in recs[16];

	kp_batch_params_init(&p);
	p.codec = codec;
	for (int i = 0; i < n; i++)
		recs[i] = (struct kp_record_in){
			.key = { .ptr = (const uint8_t *)"k", .len = 1 },
			.value = { .ptr = (const uint8_t *)"value", .len = 5 },
			.timestamp = 1000 + i,
		};
	kp_wbuf_init(w);
	ck_assert_int_eq(kp_batch_build(w, &p, recs, n), 0);
}

START_TEST(leader_and_isr_assigns_roles_and_fences_stale_epochs)
{
	int16_t e[3];
	struct partition *p;

	leader_and_isr(5, 3, e);
	ck_assert_int_eq(e[0], 0);
	ck_assert_int_eq(e[1], 0);
	ck_assert_int_eq(e[2], KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	p = partition_find(&b.parts, "t", 1, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert(p->leader);
	ck_assert_int_eq(p->leader_epoch, 3);
	ck_assert_int_eq(access("/dev/null", F_OK), 0);
	ck_assert_ptr_nonnull(log_dir_find(ld, "t", 0));
	ck_assert(!partition_find(&b.parts, "t", 1, 1)->leader);
	/* an older controller is fenced */
	leader_and_isr(4, 9, e);
	ck_assert_int_eq(e[0], KP_ERR_STALE_CONTROLLER_EPOCH);
	/* the same leader epoch again is stale per partition */
	leader_and_isr(5, 3, e);
	ck_assert_int_eq(e[0], KP_ERR_STALE_CONTROLLER_EPOCH);
	leader_and_isr(6, 4, e);
	ck_assert_int_eq(e[0], 0);
	ck_assert_int_eq(p->leader_epoch, 4);
}
END_TEST

/*
 * Kafka's "maximal ISR": a follower being added to the ISR (its
 * ZooKeeper write in flight) already holds the high watermark back.
 * Otherwise a write could be acknowledged by the old ISR alone while the
 * controller learns an ISR with the joining replica in it, elects that
 * replica, and the write is gone.
 */
/* p: the leader of topic-0 (a log in dir) with these replicas and ISR,
 * its followers' states made by replica_become_leader. */
static void leader_open(struct partition *p, const char *topic, int32_t *rs, int32_t nrs,
			int32_t *isr, int32_t nisr)
{
	struct log_config cfg;
	char path[128];

	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	log_config_defaults(&cfg);
	snprintf(path, sizeof(path), "%s/%s-0", dir, topic);
	ck_assert_int_eq(log_open(path, topic, 0, &cfg, -1, -1, false, &p->log), 0);
	p->topic = (char *)topic;
	p->replicas = rs;
	p->nreplicas = nrs;
	p->isr = isr;
	p->nisr = nisr;
	p->leader = true;
	replica_become_leader(&b, p, false);
}

static void leader_close(struct partition *p)
{
	free(p->followers);
	log_close(p->log, false);
	pthread_mutex_destroy(&p->lock);
}

START_TEST(a_joining_replica_holds_the_high_watermark)
{
	static int32_t rs[] = { 1, 2, 3 }, isr[] = { 1, 2 };
	struct partition p;
	struct log_append_info ai;
	struct replica_state *f3 = NULL;
	struct kp_wbuf w;

	leader_open(&p, "j", rs, 3, isr, 2);
	ck_assert_int_eq(p.nfollowers, 2);
	for (int i = 0; i < p.nfollowers; i++)
		if (p.followers[i].id == 3)
			f3 = &p.followers[i];
	ck_assert_ptr_nonnull(f3);
	batch(&w, 4, KP_CODEC_NONE);
	ck_assert_int_eq(log_append_leader(p.log, w.data, w.len, 0, -1, &ai), 0);
	kp_wbuf_free(&w);
	replica_follower_fetch(&b, &p, 2, 4, 0, kp_now_ms());
	ck_assert_int_eq(atomic_load(&p.hw), 4);
	/* 3 caught up to the high watermark and is joining */
	f3->leo = 4;
	f3->joining = true;
	batch(&w, 6, KP_CODEC_NONE);
	ck_assert_int_eq(log_append_leader(p.log, w.data, w.len, 0, -1, &ai), 0);
	kp_wbuf_free(&w);
	replica_follower_fetch(&b, &p, 2, 10, 0, kp_now_ms());
	ck_assert_int_eq(atomic_load(&p.hw), 4);	/* 2 alone is not enough */
	f3->leo = 7;
	ck_assert(replica_update_hw(&b, &p));
	ck_assert_int_eq(atomic_load(&p.hw), 7);
	/* a LeaderAndIsr (the controller's ISR) ends the attempt */
	replica_become_leader(&b, &p, true);
	for (int i = 0; i < p.nfollowers; i++)
		ck_assert(!p.followers[i].joining);
	ck_assert_int_eq(atomic_load(&p.hw), 10);
	leader_close(&p);
}
END_TEST

/*
 * A follower fetching at our log end again, having told us nothing new,
 * moves only its fetch times (replica_follower_fetch's idle case); what
 * it tells us otherwise (its log start, a fetch behind a new append)
 * still counts as in Kafka's updateFollowerFetchState.
 */
START_TEST(a_caught_up_follower_moves_only_its_fetch_times)
{
	static int32_t rs[] = { 1, 2 }, isr[] = { 1, 2 };
	struct partition p;
	struct log_append_info ai;
	struct replica_state *f;
	struct kp_wbuf w;

	leader_open(&p, "c", rs, 2, isr, 2);
	ck_assert_int_eq(p.nfollowers, 1);
	f = &p.followers[0];
	batch(&w, 4, KP_CODEC_NONE);
	ck_assert_int_eq(log_append_leader(p.log, w.data, w.len, 0, -1, &ai), 0);
	replica_follower_fetch(&b, &p, 2, 4, 0, 1000);
	ck_assert_int_eq(atomic_load(&p.hw), 4);
	ck_assert_int_eq(f->last_caught_up_ms, 1000);
	replica_follower_fetch(&b, &p, 2, 4, 0, 2000);
	ck_assert_int_eq(f->last_caught_up_ms, 2000);
	ck_assert_int_eq(f->last_fetch_ms, 2000);
	ck_assert_int_eq(f->leo, 4);
	/* its log start moved: taken */
	replica_follower_fetch(&b, &p, 2, 4, 1, 2500);
	ck_assert_int_eq(f->log_start, 1);
	ck_assert_int_eq(f->last_caught_up_ms, 2500);
	/* behind a new append: caught up when it last fetched at our end */
	ck_assert_int_eq(log_append_leader(p.log, w.data, w.len, 0, -1, &ai), 0);
	kp_wbuf_free(&w);
	replica_follower_fetch(&b, &p, 2, 4, 1, 3000);
	ck_assert_int_eq(f->last_caught_up_ms, 2500);
	ck_assert_int_eq(f->last_fetch_leader_leo, 8);
	ck_assert_int_eq(atomic_load(&p.hw), 4);
	replica_follower_fetch(&b, &p, 2, 8, 1, 4000);
	ck_assert_int_eq(atomic_load(&p.hw), 8);
	ck_assert_int_eq(f->last_caught_up_ms, 4000);
	leader_close(&p);
}
END_TEST

/*
 * KIP-392 with Kafka's RackAwareReplicaSelector: a consumer in another
 * rack is sent to the live replica of its rack that holds the offset,
 * the one with the largest log end first, then the most recently caught
 * up; none when the client names no rack, shares ours, or no replica of
 * its rack can serve.
 */
START_TEST(rack_aware_selector_picks_kafkas_replica)
{
	static int32_t rs[] = { 1, 2, 3, 4 }, isr[] = { 1, 2, 3, 4 };
	struct md_view *v = md_view_new();
	struct partition p;
	struct replica_state *f[5] = { NULL };
	char *saved = b.rack;

	memset(&p, 0, sizeof(p));
	pthread_mutex_init(&p.lock, NULL);
	p.replicas = rs;
	p.nreplicas = 4;
	p.isr = isr;
	p.nisr = 4;
	p.leader = true;
	b.rack = "A";
	v->brokers = calloc(3, sizeof(*v->brokers));
	v->nbrokers = 3;
	v->brokers[0] = (struct md_broker){ .id = 2, .rack = strdup("B") };
	v->brokers[1] = (struct md_broker){ .id = 3, .rack = strdup("B") };
	v->brokers[2] = (struct md_broker){ .id = 4, .rack = strdup("C") };
	md_view_seal(v);
	p.followers = calloc(3, sizeof(*p.followers));
	p.nfollowers = 3;
	for (int i = 0; i < 3; i++) {
		f[i + 2] = &p.followers[i];
		p.followers[i] = (struct replica_state){ .id = i + 2, .leo = -1, .log_start = -1 };
	}
	f[2]->leo = 10;
	f[3]->leo = 8;
	f[4]->leo = 10;
	ck_assert_int_eq(replica_preferred_read(&b, &p, "B", 1, 5, v), 2);
	ck_assert_int_eq(replica_preferred_read(&b, &p, "B", 1, 9, v), 2);
	ck_assert_int_eq(replica_preferred_read(&b, &p, "B", 1, 11, v), -1);
	ck_assert_int_eq(replica_preferred_read(&b, &p, "C", 1, 10, v), 4);
	ck_assert_int_eq(replica_preferred_read(&b, &p, "A", 1, 5, v), -1);
	ck_assert_int_eq(replica_preferred_read(&b, &p, "", 0, 5, v), -1);
	ck_assert_int_eq(replica_preferred_read(&b, &p, "BB", 2, 5, v), -1);
	/* equal log ends: the one caught up most recently */
	f[3]->leo = 10;
	f[3]->last_caught_up_ms = 1000;
	f[2]->last_caught_up_ms = 500;
	ck_assert_int_eq(replica_preferred_read(&b, &p, "B", 1, 5, v), 3);
	/* a replica whose log starts after the offset cannot serve it */
	f[3]->log_start = 6;
	ck_assert_int_eq(replica_preferred_read(&b, &p, "B", 1, 5, v), 2);
	ck_assert_int_eq(replica_preferred_read(&b, &p, "B", 1, 7, v), 3);
	/* not in the metadata (not alive): never chosen */
	v->brokers[0].id = 9;
	md_view_seal(v);
	ck_assert_int_eq(replica_preferred_read(&b, &p, "B", 1, 5, v), -1);
	/* only a leader sends consumers elsewhere */
	p.leader = false;
	ck_assert_int_eq(replica_preferred_read(&b, &p, "B", 1, 7, v), -1);
	b.rack = saved;
	free(p.followers);
	md_view_unref(v);
	pthread_mutex_destroy(&p.lock);
}
END_TEST

START_TEST(produce_appends_to_led_partitions_with_kafka_errors)
{
	int16_t e[3];
	struct kp_wbuf w1, w5, two, z;
	int64_t base = -1;
	struct partition *p;

	leader_and_isr(1, 1, e);
	batch(&w1, 1, KP_CODEC_NONE);
	batch(&w5, 5, KP_CODEC_GZIP);
	ck_assert_int_eq(produce(7, 1, 0, w1.data, (int32_t)w1.len, &base), 0);
	ck_assert_int_eq(base, 0);
	ck_assert_int_eq(produce(3, -1, 0, w5.data, (int32_t)w5.len, &base), 0);
	ck_assert_int_eq(base, 1);
	ck_assert_int_eq(produce(8, 1, 0, w1.data, (int32_t)w1.len, &base), 0);
	ck_assert_int_eq(base, 6);
	/* acks=0: no answer; the next call still lines up */
	ck_assert_int_eq(produce(7, 0, 0, w1.data, (int32_t)w1.len, NULL), 0);
	ck_assert_int_eq(produce(7, 1, 0, w1.data, (int32_t)w1.len, &base), 0);
	ck_assert_int_eq(base, 8);
	p = partition_find(&b.parts, "t", 1, 0);
	ck_assert_int_eq(log_end_offset(p->log), 9);
	ck_assert_int_eq(atomic_load(&p->hw), 9);
	ck_assert_int_eq(log_epoch_latest(&p->log->epochs), 1);
	/* errors */
	ck_assert_int_eq(produce(7, 1, 1, w1.data, (int32_t)w1.len, NULL),
			 KP_ERR_NOT_LEADER_OR_FOLLOWER);
	ck_assert_int_eq(produce(7, 1, 2, w1.data, (int32_t)w1.len, NULL),
			 KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(produce(7, 2, 0, w1.data, (int32_t)w1.len, NULL),
			 KP_ERR_INVALID_REQUIRED_ACKS);
	kp_wbuf_init(&two);
	kp_write_raw(&two, w1.data, w1.len);
	kp_write_raw(&two, w1.data, w1.len);
	ck_assert_int_eq(produce(7, 1, 0, two.data, (int32_t)two.len, NULL),
			 KP_ERR_INVALID_RECORD);
	two.data[40] ^= 1;	/* a byte under the CRC */
	ck_assert_int_eq(produce(7, 1, 0, two.data, (int32_t)w1.len, NULL),
			 KP_ERR_CORRUPT_MESSAGE);
	batch(&z, 2, KP_CODEC_ZSTD);
	ck_assert_int_eq(produce(6, 1, 0, z.data, (int32_t)z.len, NULL),
			 KP_ERR_UNSUPPORTED_COMPRESSION_TYPE);
	ck_assert_int_eq(produce(7, 1, 0, z.data, (int32_t)z.len, &base), 0);
	ck_assert_int_eq(base, 9);
	/* the topic's max.message.bytes (from message.max.bytes here) */
	partition_find(&b.parts, "t", 1, 0)->max_message_bytes = 10;
	ck_assert_int_eq(produce(7, 1, 0, w1.data, (int32_t)w1.len, NULL),
			 KP_ERR_MESSAGE_TOO_LARGE);
	partition_find(&b.parts, "t", 1, 0)->max_message_bytes = 1048588;
	/* nothing failed was appended */
	ck_assert_int_eq(log_end_offset(p->log), 11);
	kp_wbuf_free(&w1);
	kp_wbuf_free(&w5);
	kp_wbuf_free(&two);
	kp_wbuf_free(&z);
}
END_TEST

enum { PIPELINED = 60000 };	/* ~20 MB of answers: more than buffers hold */
static uint8_t pipelined[PIPELINED * 15];

static void *write_all(void *arg)
{
	int fd = *(int *)arg;
	size_t off = 0;

	while (off < sizeof(pipelined)) {
		ssize_t n = write(fd, pipelined + off, sizeof(pipelined) - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	return NULL;
}

/* A client pipelining far more requests than queued.max.requests (4
 * here) and reading its answers late: the connection pauses once that
 * many answers wait to be sent, resumes as they go, and every request is
 * answered, in order. */
START_TEST(pipelined_requests_past_the_cap_are_all_answered_in_order)
{
	enum { N = PIPELINED };
	uint8_t *out = pipelined;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	uint8_t *in = NULL;
	size_t inlen = 0, incap = 0, off = 0;
	int32_t next = 0;
	pthread_t writer;
	int fd, small = 4096;

	for (int i = 0; i < net_nworkers(b.net); i++)
		net_worker_at(b.net, i)->max_pending = 4;
	for (int i = 0; i < N; i++) {
		uint8_t *f = out + i * 15;

		kp_put_be32(f, 11);
		kp_put_be16(f + 4, KP_API_API_VERSIONS);
		kp_put_be16(f + 6, 0);
		kp_put_be32(f + 8, (uint32_t)i);
		kp_put_be16(f + 12, 1);
		f[14] = 't';
	}
	sa.sin_port = htons((uint16_t)listener.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	/* a small receive buffer: answers back up into the broker */
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(pthread_create(&writer, NULL, write_all, &fd), 0);
	usleep(200 * 1000);	/* read late */
	while (next < N) {
		ssize_t n;

		if (incap - inlen < 65536) {
			incap = incap ? incap * 2 : 1 << 20;
			in = realloc(in, incap);
			ck_assert_ptr_nonnull(in);
		}
		n = read(fd, in + inlen, incap - inlen);
		ck_assert_int_gt(n, 0);
		inlen += (size_t)n;
		while (inlen - off >= 8 && inlen - off >= 4 + kp_be32(in + off)) {
			ck_assert_int_eq((int32_t)kp_be32(in + off + 4), next);
			next++;
			off += 4 + kp_be32(in + off);
		}
	}
	ck_assert_uint_eq(off, inlen);
	pthread_join(writer, NULL);
	close(fd);
	free(in);
	for (int i = 0; i < net_nworkers(b.net); i++)
		net_worker_at(b.net, i)->max_pending = 500;
}
END_TEST

START_TEST(update_metadata_feeds_metadata_answers)
{
	struct kp_update_metadata_req um;
	struct kp_update_metadata_req_update_metadata_topic_state ts;
	struct kp_update_metadata_update_metadata_partition_state ps[2];
	struct kp_update_metadata_req_update_metadata_broker lb[2];
	struct kp_update_metadata_req_update_metadata_endpoint ep[2];
	struct kp_update_metadata_resp umr;
	struct kp_metadata_req mreq;
	struct kp_metadata_resp mresp;
	struct kp_metadata_req_metadata_request_topic want[2];

	kp_struct_init(&kp_update_metadata_req_desc, &um);
	kp_struct_init(&kp_update_metadata_req_update_metadata_topic_state_desc, &ts);
	for (int i = 0; i < 2; i++) {
		kp_struct_init(&kp_update_metadata_update_metadata_partition_state_desc, &ps[i]);
		ps[i].partition_index = i;
		ps[i].leader = 2;
		ps[i].leader_epoch = 7;
		ps[i].replicas = ps[i].isr = replicas_12;
		ps[i].replicas_count = ps[i].isr_count = 2;
		ps[i].offline_replicas_count = 0;
		kp_struct_init(&kp_update_metadata_req_update_metadata_broker_desc, &lb[i]);
		kp_struct_init(&kp_update_metadata_req_update_metadata_endpoint_desc, &ep[i]);
		lb[i].id = i + 1;
		ep[i].host = kp_str_c("127.0.0.1");
		ep[i].port = 9000 + i;
		ep[i].listener = kp_str_c("PLAINTEXT");
		lb[i].endpoints = &ep[i];
		lb[i].endpoints_count = 1;
	}
	ts.topic_name = kp_str_c("t");
	ts.partition_states = ps;
	ts.partition_states_count = 2;
	um.controller_id = 100;
	um.controller_epoch = 3;
	um.topic_states = &ts;
	um.topic_states_count = 1;
	um.live_brokers = lb;
	um.live_brokers_count = 2;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_UPDATE_METADATA, 5, &um, &umr, &arena), 0);
	ck_assert_int_eq(umr.error_code, 0);
	kp_struct_init(&kp_metadata_req_desc, &mreq);
	kp_struct_init(&kp_metadata_req_metadata_request_topic_desc, &want[0]);
	kp_struct_init(&kp_metadata_req_metadata_request_topic_desc, &want[1]);
	want[0].name = kp_str_c("t");
	want[1].name = kp_str_c("nope");
	mreq.topics = want;
	mreq.topics_count = 2;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_METADATA, 8, &mreq, &mresp, &arena), 0);
	ck_assert_int_eq(mresp.brokers_count, 2);
	ck_assert_int_eq(mresp.controller_id, 1);
	ck_assert_int_eq(mresp.topics_count, 2);
	ck_assert_int_eq(mresp.topics[0].error_code, 0);
	ck_assert_int_eq(mresp.topics[0].partitions_count, 2);
	ck_assert_int_eq(mresp.topics[0].partitions[1].leader_id, 2);
	ck_assert_int_eq(mresp.topics[0].partitions[1].leader_epoch, 7);
	ck_assert_int_eq(mresp.topics[1].error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(mresp.topics[0].partitions[0].leader_id, 2);
	/* a replica's LeaderAndIsr of a newer epoch answers for it until the
	 * controller's UpdateMetadata of the same change lands: we lead p0
	 * now, p1 stays broker 2's */
	{
		int16_t errs[3];

		leader_and_isr(3, 8, errs);
		ck_assert_int_eq(errs[0], 0);
		ck_assert_int_eq(errs[1], 0);
	}
	ck_assert_int_eq(kp_conn_call(conn, KP_API_METADATA, 8, &mreq, &mresp, &arena), 0);
	ck_assert_int_eq(mresp.topics[0].partitions[0].leader_id, 1);
	ck_assert_int_eq(mresp.topics[0].partitions[0].leader_epoch, 8);
	ck_assert_int_eq(mresp.topics[0].partitions[0].isr_nodes_count, 1);
	ck_assert_int_eq(mresp.topics[0].partitions[1].leader_id, 2);
	ck_assert_int_eq(mresp.topics[0].partitions[1].leader_epoch, 8);
	/* the controller's own view, once there, is what is answered */
	ps[0].leader = 1;
	ps[0].leader_epoch = ps[1].leader_epoch = 9;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_UPDATE_METADATA, 5, &um, &umr, &arena), 0);
	ck_assert_int_eq(kp_conn_call(conn, KP_API_METADATA, 8, &mreq, &mresp, &arena), 0);
	ck_assert_int_eq(mresp.topics[0].partitions[0].leader_epoch, 9);
	ck_assert_int_eq(mresp.topics[0].partitions[0].isr_nodes_count, 2);
	/* deletion: leader -2 removes the partition; stale epochs refused */
	ps[0].leader = ps[1].leader = -2;
	um.controller_epoch = 2;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_UPDATE_METADATA, 5, &um, &umr, &arena), 0);
	ck_assert_int_eq(umr.error_code, KP_ERR_STALE_CONTROLLER_EPOCH);
	um.controller_epoch = 3;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_UPDATE_METADATA, 5, &um, &umr, &arena), 0);
	mreq.topics_count = -1;		/* all topics */
	ck_assert_int_eq(kp_conn_call(conn, KP_API_METADATA, 8, &mreq, &mresp, &arena), 0);
	ck_assert_int_eq(mresp.topics_count, 0);
}
END_TEST

/* ListOffsets v<version> for t-p at ts; returns the error, sets off/ets. */
static int16_t list_offsets(int16_t version, int32_t p, int64_t ts,
			    int32_t cur_epoch, int64_t *off, int64_t *ets)
{
	struct kp_list_offsets_req req;
	struct kp_list_offsets_req_list_offsets_topic t;
	struct kp_list_offsets_req_list_offsets_partition pp;
	struct kp_list_offsets_resp resp;

	kp_struct_init(&kp_list_offsets_req_desc, &req);
	kp_struct_init(&kp_list_offsets_req_list_offsets_topic_desc, &t);
	kp_struct_init(&kp_list_offsets_req_list_offsets_partition_desc, &pp);
	pp.partition_index = p;
	pp.timestamp = ts;
	pp.current_leader_epoch = cur_epoch;
	t.name = kp_str_c("t");
	t.partitions = &pp;
	t.partitions_count = 1;
	req.replica_id = -1;
	req.topics = &t;
	req.topics_count = 1;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_LIST_OFFSETS, version, &req, &resp,
				      &arena), 0);
	if (version == 0)
		*off = resp.topics[0].partitions[0].old_style_offsets_count > 0
			? resp.topics[0].partitions[0].old_style_offsets[0] : -99;
	else
		*off = resp.topics[0].partitions[0].offset;
	if (ets != NULL)
		*ets = resp.topics[0].partitions[0].timestamp;
	return resp.topics[0].partitions[0].error_code;
}

START_TEST(list_offsets_finds_earliest_latest_and_by_timestamp)
{
	int16_t e[3];
	struct kp_wbuf w;
	int64_t off, ts;

	leader_and_isr(1, 2, e);
	for (int i = 0; i < 4; i++) {
		batch(&w, 5, KP_CODEC_NONE);	/* timestamps 1000..1004 */
		ck_assert_int_eq(produce(7, 1, 0, w.data, (int32_t)w.len, NULL), 0);
		kp_wbuf_free(&w);
	}
	ck_assert_int_eq(list_offsets(2, 0, -1, -1, &off, NULL), 0);
	ck_assert_int_eq(off, 20);
	ck_assert_int_eq(list_offsets(1, 0, -2, -1, &off, NULL), 0);
	ck_assert_int_eq(off, 0);
	ck_assert_int_eq(list_offsets(5, 0, 1003, -1, &off, &ts), 0);
	ck_assert_int_eq(off, 3);	/* the first record at or after 1003 */
	ck_assert_int_eq(ts, 1003);
	ck_assert_int_eq(list_offsets(5, 0, 5000, -1, &off, &ts), 0);
	ck_assert_int_eq(off, -1);
	ck_assert_int_eq(ts, -1);
	ck_assert_int_eq(list_offsets(0, 0, -1, -1, &off, NULL), 0);
	ck_assert_int_eq(off, 20);
	ck_assert_int_eq(list_offsets(4, 0, -1, 1, &off, NULL), KP_ERR_FENCED_LEADER_EPOCH);
	ck_assert_int_eq(list_offsets(4, 0, -1, 9, &off, NULL), KP_ERR_UNKNOWN_LEADER_EPOCH);
	ck_assert_int_eq(list_offsets(4, 0, -1, 2, &off, NULL), 0);
	ck_assert_int_eq(list_offsets(4, 1, -1, -1, &off, NULL), KP_ERR_NOT_LEADER_OR_FOLLOWER);
	ck_assert_int_eq(list_offsets(4, 7, -1, -1, &off, NULL),
			 KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
}
END_TEST

static void fetch_req(struct kp_fetch_req *req, struct kp_fetch_req_fetch_topic *t,
		      struct kp_fetch_req_fetch_partition *fp, int32_t p,
		      int64_t offset, int32_t max_wait, int32_t pmax)
{
	kp_struct_init(&kp_fetch_req_desc, req);
	kp_struct_init(&kp_fetch_req_fetch_topic_desc, t);
	kp_struct_init(&kp_fetch_req_fetch_partition_desc, fp);
	fp->partition = p;
	fp->fetch_offset = offset;
	fp->partition_max_bytes = pmax;
	t->topic = kp_str_c("t");
	t->partitions = fp;
	t->partitions_count = 1;
	req->replica_id = -1;
	req->max_wait_ms = max_wait;
	req->min_bytes = 1;
	req->max_bytes = 50 << 20;
	req->topics = t;
	req->topics_count = 1;
	req->forgotten_topics_data_count = 0;
}

/* Count whole batches in fetched records, with the first and last offsets. */
static int batches_in(kp_records rec, int64_t *first, int64_t *last)
{
	size_t pos = 0, size;
	int n = 0;

	while (rec.len > 0 && pos < (size_t)rec.len &&
	       kp_batch_size(rec.ptr + pos, (size_t)rec.len - pos, &size) == 0) {
		struct kp_batch_header h;

		ck_assert_int_eq(kp_batch_header_parse(rec.ptr + pos, size, &h), 0);
		ck_assert_int_eq(kp_batch_verify_crc(rec.ptr + pos, size), 0);
		if (n++ == 0)
			*first = h.base_offset;
		*last = kp_batch_last_offset(&h);
		pos += size;
	}
	return n;
}

START_TEST(fetch_serves_ranges_and_long_polls)
{
	int16_t e[3];
	struct kp_wbuf w;
	struct kp_fetch_req req;
	struct kp_fetch_req_fetch_topic t;
	struct kp_fetch_req_fetch_partition fp;
	struct kp_fetch_resp resp;
	struct kp_metadata_req mreq;
	struct kp_metadata_resp mresp;
	struct kp_fetch_resp_partition_data *pd;
	int64_t first = -1, last = -1, t0;
	struct kp_conn *other;
	int err = 0;
	int16_t key;

	leader_and_isr(1, 1, e);
	batch(&w, 3, KP_CODEC_NONE);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(produce(7, 1, 0, w.data, (int32_t)w.len, NULL), 0);
	/* everything from 0, no waiting */
	fetch_req(&req, &t, &fp, 0, 0, 0, 1 << 20);
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 11, &req, &resp, &arena), 0);
	pd = &resp.responses[0].partitions[0];
	ck_assert_int_eq(pd->error_code, 0);
	ck_assert_int_eq(pd->high_watermark, 12);
	ck_assert_int_eq(pd->log_start_offset, 0);
	ck_assert_int_eq(pd->preferred_read_replica, -1);
	ck_assert_int_eq(batches_in(pd->records, &first, &last), 4);
	ck_assert_int_eq(first, 0);
	ck_assert_int_eq(last, 11);
	/* from the middle of a batch: that batch comes whole */
	fetch_req(&req, &t, &fp, 0, 4, 0, 1 << 20);
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 4, &req, &resp, &arena), 0);
	ck_assert_int_eq(batches_in(resp.responses[0].partitions[0].records, &first, &last), 3);
	ck_assert_int_eq(first, 3);
	/* a tiny partition limit still yields one whole batch (KIP-74) */
	fetch_req(&req, &t, &fp, 0, 0, 0, 10);
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 11, &req, &resp, &arena), 0);
	ck_assert_int_eq(batches_in(resp.responses[0].partitions[0].records, &first, &last), 1);
	/* errors */
	fetch_req(&req, &t, &fp, 0, 13, 0, 1 << 20);
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 11, &req, &resp, &arena), 0);
	ck_assert_int_eq(resp.responses[0].partitions[0].error_code, KP_ERR_OFFSET_OUT_OF_RANGE);
	/* a follower serves consumers from v11 only (KIP-392) */
	fetch_req(&req, &t, &fp, 1, 0, 0, 1 << 20);
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 10, &req, &resp, &arena), 0);
	ck_assert_int_eq(resp.responses[0].partitions[0].error_code,
			 KP_ERR_NOT_LEADER_OR_FOLLOWER);
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 11, &req, &resp, &arena), 0);
	ck_assert_int_eq(resp.responses[0].partitions[0].error_code, 0);
	/* nothing new: the wait runs out, the answer is empty */
	fetch_req(&req, &t, &fp, 0, 12, 300, 1 << 20);
	t0 = kp_now_ms();
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 11, &req, &resp, &arena), 0);
	ck_assert_int_ge(kp_now_ms() - t0, 250);
	ck_assert_int_eq(resp.responses[0].partitions[0].records.len, 0);
	/* a parked fetch wakes on a produce from another connection, and a
	 * request pipelined behind it is answered after it */
	fetch_req(&req, &t, &fp, 0, 12, 30000, 1 << 20);
	ck_assert_int_eq(kp_conn_send(conn, KP_API_FETCH, 11, &req), 0);
	kp_struct_init(&kp_metadata_req_desc, &mreq);
	mreq.topics_count = -1;
	ck_assert_int_eq(kp_conn_send(conn, KP_API_METADATA, 8, &mreq), 0);
	other = kp_conn_open("127.0.0.1", listener.port, NULL, &err);
	ck_assert_ptr_nonnull(other);
	{
		struct kp_conn *saved = conn;

		conn = other;
		t0 = kp_now_ms();
		ck_assert_int_eq(produce(7, 1, 0, w.data, (int32_t)w.len, NULL), 0);
		conn = saved;
	}
	ck_assert_int_eq(kp_conn_recv(conn, &key, NULL, &resp, &arena), 0);
	ck_assert_int_eq(key, KP_API_FETCH);
	ck_assert_int_lt(kp_now_ms() - t0, 20000);	/* woken, not timed out */
	ck_assert_int_eq(batches_in(resp.responses[0].partitions[0].records, &first, &last), 1);
	ck_assert_int_eq(first, 12);
	ck_assert_int_eq(kp_conn_recv(conn, &key, NULL, &mresp, &arena), 0);
	ck_assert_int_eq(key, KP_API_METADATA);
	kp_conn_free(other);
	/* a fetch still parked when the broker stops is answered (teardown) */
	fetch_req(&req, &t, &fp, 0, 15, 60000, 1 << 20);
	ck_assert_int_eq(kp_conn_send(conn, KP_API_FETCH, 11, &req), 0);
	kp_wbuf_free(&w);
}
END_TEST


/*
 * What a ZooKeeper-mode Kafka 2.8 broker lists in ApiVersions (the keys
 * whose message definitions name the zkBroker listener), from Kafka
 * 2.8.2's message definitions.  Written out here on purpose: the broker's
 * table must match it, not be derived from the same source.
 */
static const struct { int16_t key, min, max; } kafka28[] = {
	{ 0, 0, 9 }, { 1, 0, 12 }, { 2, 0, 6 }, { 3, 0, 11 }, { 4, 0, 5 },
	{ 5, 0, 3 }, { 6, 0, 7 }, { 7, 0, 3 }, { 8, 0, 8 }, { 9, 0, 7 },
	{ 10, 0, 3 }, { 11, 0, 7 }, { 12, 0, 4 }, { 13, 0, 4 }, { 14, 0, 5 },
	{ 15, 0, 5 }, { 16, 0, 4 }, { 17, 0, 1 }, { 18, 0, 3 }, { 19, 0, 7 },
	{ 20, 0, 6 }, { 21, 0, 2 }, { 22, 0, 4 }, { 23, 0, 4 }, { 24, 0, 3 },
	{ 25, 0, 3 }, { 26, 0, 3 }, { 27, 0, 1 }, { 28, 0, 3 }, { 29, 0, 2 },
	{ 30, 0, 2 }, { 31, 0, 2 }, { 32, 0, 4 }, { 33, 0, 2 }, { 34, 0, 2 },
	{ 35, 0, 2 }, { 36, 0, 2 }, { 37, 0, 3 }, { 38, 0, 2 }, { 39, 0, 2 },
	{ 40, 0, 2 }, { 41, 0, 2 }, { 42, 0, 2 }, { 43, 0, 2 }, { 44, 0, 1 },
	{ 45, 0, 0 }, { 46, 0, 0 }, { 47, 0, 0 }, { 48, 0, 1 }, { 49, 0, 1 },
	{ 50, 0, 0 }, { 51, 0, 0 }, { 56, 0, 0 }, { 57, 0, 0 }, { 60, 0, 0 },
	{ 61, 0, 0 },
};
#define NKAFKA28 ((int)(sizeof(kafka28) / sizeof(kafka28[0])))

/* Kafka has them, skald does not advertise them until they are built:
 * TxnOffsetCommit, DescribeProducers. */
static bool not_built(int16_t key)
{
	static const int16_t keys[] = { 61 };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i] == key)
			return true;
	return false;
}

static void api_versions(struct kp_api_versions_resp *resp)
{
	struct kp_api_versions_req req;

	kp_struct_init(&kp_api_versions_req_desc, &req);
	req.client_software_name = kp_str_c("check");
	req.client_software_version = kp_str_c("1");
	ck_assert_int_eq(kp_conn_call(conn, KP_API_API_VERSIONS, 3, &req, resp, &arena), 0);
	ck_assert_int_eq(resp->error_code, 0);
}

/* One run per API key of Kafka 2.8's table. */
START_TEST(advertised_range_is_kafka_28s)
{
	struct kp_api_versions_resp resp;
	int16_t key = kafka28[_i].key;
	int found = -1;

	api_versions(&resp);
	for (int32_t j = 0; j < resp.api_keys_count; j++)
		if (resp.api_keys[j].api_key == key)
			found = j;
	if (not_built(key)) {
		ck_assert_msg(found < 0, "key %d advertised before it is built", key);
		return;
	}
	ck_assert_msg(found >= 0, "key %d not advertised", key);
	ck_assert_msg(resp.api_keys[found].max_version == kafka28[_i].max,
		      "key %d: max %d, Kafka 2.8 has %d", key,
		      resp.api_keys[found].max_version, kafka28[_i].max);
	ck_assert_int_eq(resp.api_keys[found].min_version, kafka28[_i].min);
}
END_TEST

START_TEST(nothing_is_advertised_that_kafka_28_does_not_list)
{
	struct kp_api_versions_resp resp;

	api_versions(&resp);
	ck_assert_int_eq(resp.api_keys_count, NKAFKA28 - 1);
	for (int32_t j = 0; j < resp.api_keys_count; j++) {
		bool known = false;

		for (int i = 0; i < NKAFKA28; i++)
			known |= kafka28[i].key == resp.api_keys[j].api_key;
		ck_assert_msg(known, "key %d advertised", resp.api_keys[j].api_key);
		/* in key order, as Kafka lists them */
		if (j > 0)
			ck_assert_int_lt(resp.api_keys[j - 1].api_key, resp.api_keys[j].api_key);
	}
}
END_TEST

/* A request with two elements in every array (recursively), so each
 * per-item error slot of the answer exists. */
static void fill_request(const struct kp_struct_desc *d, int16_t v, void *obj, int depth)
{
	kp_struct_init(d, obj);
	for (uint16_t i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];
		uint8_t *p = (uint8_t *)obj + f->off;

		if (v < f->vmin || v > f->vmax)
			continue;
		if (f->type == KP_FT_STRING && !f->array) {
			*(kp_str *)p = kp_str_c(depth == 0 ? "x" : "user");
			continue;
		}
		if (!f->array || depth > 3)
			continue;
		{
			size_t sz = f->type == KP_FT_STRUCT ? f->sub->size
				  : f->type == KP_FT_STRING ? sizeof(kp_str)
				  : f->type == KP_FT_INT32 ? sizeof(int32_t) : 0;
			uint8_t *e;

			if (sz == 0)
				continue;
			e = kp_arena_calloc(&arena, 2, sz);
			ck_assert_ptr_nonnull(e);
			for (int k = 0; k < 2; k++) {
				if (f->type == KP_FT_STRUCT)
					fill_request(f->sub, v, e + (size_t)k * sz, depth + 1);
				else if (f->type == KP_FT_STRING)
					((kp_str *)e)[k] = kp_str_c(k ? "b" : "a");
				else
					((int32_t *)e)[k] = k;
			}
			*(void **)p = e;
			*(int32_t *)((uint8_t *)obj + f->cnt_off) = 2;
		}
	}
}

/* Every error_code in a decoded answer: how many, how many equal want. */
static void count_errors(const struct kp_struct_desc *d, int16_t v, const void *obj,
			 int16_t want, int *n, int *match)
{
	for (uint16_t i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];
		const uint8_t *p = (const uint8_t *)obj + f->off;

		if (v < f->vmin || v > f->vmax)
			continue;
		if (f->type == KP_FT_INT16 && !f->array && strcmp(f->name, "error_code") == 0) {
			(*n)++;
			*match += *(const int16_t *)p == want;
		} else if (f->type == KP_FT_STRUCT && f->array) {
			int32_t cnt = *(const int32_t *)((const uint8_t *)obj + f->cnt_off);
			const uint8_t *e = *(const uint8_t *const *)p;

			for (int32_t k = 0; k < cnt; k++)
				count_errors(f->sub, v, e + (size_t)k * f->sub->size, want, n,
					     match);
		}
	}
}

/*
 * The keys kbroker answers only with an error, at every version Kafka 2.8
 * has: each answer decodes at its version, every error slot holds the
 * error Kafka (or, for what is not built, UNSUPPORTED_VERSION) gives, and
 * the connection stays usable.
 */
/* InitProducerId without a transactional id: ids from the broker's block,
 * epoch 0; a used-up block with no ZooKeeper to claim the next one is a
 * retriable COORDINATOR_NOT_AVAILABLE; an empty transactional id is
 * INVALID_REQUEST. */
START_TEST(init_producer_id_hands_out_the_block)
{
	struct kp_init_producer_id_req req;
	struct kp_init_producer_id_resp resp;
	static const int64_t want[] = { 5000, 5001, -1, -1, -1 };

	pthread_mutex_lock(&b.pids.lock);
	b.pids.next = 5000;
	b.pids.limit = 5002;
	pthread_mutex_unlock(&b.pids.lock);
	for (int16_t v = 0; v <= 4; v++) {
		kp_struct_init(&kp_init_producer_id_req_desc, &req);
		req.transactional_id = KP_STR_NULL;
		req.transaction_timeout_ms = 60000;
		ck_assert_int_eq(kp_conn_call(conn, KP_API_INIT_PRODUCER_ID, v, &req, &resp,
					      &arena), 0);
		ck_assert_int_eq(resp.producer_id, want[v]);
		ck_assert_int_eq(resp.producer_epoch, want[v] < 0 ? -1 : 0);
		ck_assert_int_eq(resp.error_code, want[v] < 0 ? KP_ERR_COORDINATOR_NOT_AVAILABLE
							      : KP_ERR_NONE);
	}
	kp_struct_init(&kp_init_producer_id_req_desc, &req);
	req.transactional_id = kp_str_c("");
	ck_assert_int_eq(kp_conn_call(conn, KP_API_INIT_PRODUCER_ID, 4, &req, &resp, &arena), 0);
	ck_assert_int_eq(resp.error_code, KP_ERR_INVALID_REQUEST);
}
END_TEST

START_TEST(refused_keys_answer_kafkas_errors_at_every_version)
{
	static const struct { int16_t key, err; } cases[] = {
		{ KP_API_CONTROLLED_SHUTDOWN, KP_ERR_NOT_CONTROLLER },
		{ KP_API_SASL_HANDSHAKE, KP_ERR_ILLEGAL_SASL_STATE },
		{ KP_API_SASL_AUTHENTICATE, KP_ERR_ILLEGAL_SASL_STATE },
		{ KP_API_DESCRIBE_ACLS, KP_ERR_SECURITY_DISABLED },
		{ KP_API_CREATE_ACLS, KP_ERR_SECURITY_DISABLED },
		{ KP_API_DELETE_ACLS, KP_ERR_SECURITY_DISABLED },
		{ KP_API_CREATE_DELEGATION_TOKEN, KP_ERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED },
		{ KP_API_RENEW_DELEGATION_TOKEN, KP_ERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED },
		{ KP_API_EXPIRE_DELEGATION_TOKEN, KP_ERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED },
		{ KP_API_DESCRIBE_DELEGATION_TOKEN, KP_ERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED },
		{ KP_API_ALTER_ISR, KP_ERR_NOT_CONTROLLER },
		{ KP_API_UPDATE_FEATURES, KP_ERR_INVALID_REQUEST },
		/* a transactional id: this broker is not its coordinator */
		{ KP_API_INIT_PRODUCER_ID, KP_ERR_NOT_COORDINATOR },
		{ KP_API_ADD_OFFSETS_TO_TXN, KP_ERR_NOT_COORDINATOR },
		{ KP_API_END_TXN, KP_ERR_NOT_COORDINATOR },
		{ KP_API_WRITE_TXN_MARKERS, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION },
		/* a group this broker does not coordinate */
		{ KP_API_TXN_OFFSET_COMMIT, KP_ERR_NOT_COORDINATOR },
		/* the filler path is no log dir of the broker */
		{ KP_API_ALTER_REPLICA_LOG_DIRS, KP_ERR_LOG_DIR_NOT_FOUND },
		{ KP_API_DESCRIBE_PRODUCERS, KP_ERR_UNSUPPORTED_VERSION },
		{ KP_API_VOTE, KP_ERR_UNSUPPORTED_VERSION },
		{ KP_API_BEGIN_QUORUM_EPOCH, KP_ERR_UNSUPPORTED_VERSION },
		{ KP_API_END_QUORUM_EPOCH, KP_ERR_UNSUPPORTED_VERSION },
		{ KP_API_DESCRIBE_QUORUM, KP_ERR_UNSUPPORTED_VERSION },
		{ KP_API_ENVELOPE, KP_ERR_UNSUPPORTED_VERSION },
		{ KP_API_FETCH_SNAPSHOT, KP_ERR_UNSUPPORTED_VERSION },
		{ KP_API_BROKER_REGISTRATION, KP_ERR_UNSUPPORTED_VERSION },
		{ KP_API_BROKER_HEARTBEAT, KP_ERR_UNSUPPORTED_VERSION },
		{ KP_API_UNREGISTER_BROKER, KP_ERR_UNSUPPORTED_VERSION },
	};
	int answered = 0;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct kp_api_desc *api = kp_api_get(cases[c].key);

		ck_assert_ptr_nonnull(api);
		for (int16_t v = api->min; v <= api->max; v++) {
			void *req = kp_arena_alloc(&arena, api->req->size);
			void *resp = kp_arena_alloc(&arena, api->resp->size);
			int n = 0, match = 0;

			fill_request(api->req, v, req, 0);
			ck_assert_msg(kp_conn_call(conn, cases[c].key, v, req, resp, &arena) == 0,
				      "%s v%d: no answer", api->name, v);
			count_errors(api->resp, v, resp, cases[c].err, &n, &match);
			ck_assert_msg(n > 0 && n == match, "%s v%d: %d of %d errors are %d",
				      api->name, v, match, n, cases[c].err);
			answered++;
		}
	}
	ck_assert_int_eq(answered, 64);	/* these keys have 64 versions in Kafka 2.8 */
	/* still the same connection */
	{
		struct kp_api_versions_resp resp;

		api_versions(&resp);
	}
}
END_TEST

static const kp_uuid topic_t_id = { { 0x6a, 0x1f, 0x33, 0x09, 0x9e, 0x51, 0x4c, 0x2b,
				      0x8d, 0x02, 0x71, 0x5e, 0xc4, 0x10, 0x07, 0x99 } };

/* UpdateMetadata v7 for topic t (2 partitions, leaders 1 and 2) with id. */
static void update_metadata_v7(const kp_uuid *id)
{
	struct kp_update_metadata_req um;
	struct kp_update_metadata_req_update_metadata_topic_state ts;
	struct kp_update_metadata_update_metadata_partition_state ps[2];
	struct kp_update_metadata_req_update_metadata_broker lb[2];
	struct kp_update_metadata_req_update_metadata_endpoint ep[2];
	struct kp_update_metadata_resp umr;

	kp_struct_init(&kp_update_metadata_req_desc, &um);
	kp_struct_init(&kp_update_metadata_req_update_metadata_topic_state_desc, &ts);
	for (int i = 0; i < 2; i++) {
		kp_struct_init(&kp_update_metadata_update_metadata_partition_state_desc, &ps[i]);
		ps[i].partition_index = i;
		ps[i].leader = 2;
		ps[i].leader_epoch = 7;
		ps[i].replicas = ps[i].isr = replicas_12;
		ps[i].replicas_count = ps[i].isr_count = 2;
		kp_struct_init(&kp_update_metadata_req_update_metadata_broker_desc, &lb[i]);
		kp_struct_init(&kp_update_metadata_req_update_metadata_endpoint_desc, &ep[i]);
		lb[i].id = i + 1;
		lb[i].rack = kp_str_c(i == 0 ? "r1" : NULL);
		ep[i].host = kp_str_c("127.0.0.1");
		ep[i].port = 9000 + i;
		ep[i].listener = kp_str_c("PLAINTEXT");
		lb[i].endpoints = &ep[i];
		lb[i].endpoints_count = 1;
	}
	ts.topic_name = kp_str_c("t");
	ts.topic_id = *id;
	ts.partition_states = ps;
	ts.partition_states_count = 2;
	um.controller_id = 100;
	um.controller_epoch = 3;
	um.topic_states = &ts;
	um.topic_states_count = 1;
	um.live_brokers = lb;
	um.live_brokers_count = 2;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_UPDATE_METADATA, 7, &um, &umr, &arena), 0);
	ck_assert_int_eq(umr.error_code, 0);
}

/*
 * Metadata v9-11 and DescribeCluster: topic ids from UpdateMetadata v7,
 * authorized operations as Kafka without an authorizer gives them (every
 * operation of the resource type), requests naming topics by id refused.
 */
START_TEST(metadata_gives_topic_ids_and_authorized_operations)
{
	struct kp_metadata_req mreq;
	struct kp_metadata_resp mresp;
	struct kp_metadata_req_metadata_request_topic want[2];
	struct kp_describe_cluster_req dreq;
	struct kp_describe_cluster_resp dresp;
	static const kp_uuid zero;

	update_metadata_v7(&topic_t_id);
	kp_struct_init(&kp_metadata_req_desc, &mreq);
	kp_struct_init(&kp_metadata_req_metadata_request_topic_desc, &want[0]);
	kp_struct_init(&kp_metadata_req_metadata_request_topic_desc, &want[1]);
	want[0].name = kp_str_c("t");
	want[1].name = kp_str_c("nope");
	mreq.topics = want;
	mreq.topics_count = 2;
	mreq.allow_auto_topic_creation = false;
	for (int16_t v = 9; v <= 11; v++) {
		mreq.include_cluster_authorized_operations = true;
		mreq.include_topic_authorized_operations = v != 9;
		ck_assert_int_eq(kp_conn_call(conn, KP_API_METADATA, v, &mreq, &mresp, &arena), 0);
		ck_assert_int_eq(mresp.topics_count, 2);
		ck_assert_int_eq(mresp.topics[0].error_code, 0);
		ck_assert_mem_eq(&mresp.topics[0].topic_id, v >= 10 ? &topic_t_id : &zero, 16);
		ck_assert_mem_eq(&mresp.topics[1].topic_id, &zero, 16);
		/* READ WRITE CREATE DELETE ALTER DESCRIBE DESCRIBE_CONFIGS
		 * ALTER_CONFIGS: bits 3-8, 10, 11 */
		ck_assert_int_eq(mresp.topics[0].topic_authorized_operations,
				 v != 9 ? 0xdf8 : INT32_MIN);
		ck_assert_int_eq(mresp.topics[1].error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
		/* CREATE ALTER DESCRIBE CLUSTER_ACTION DESCRIBE_CONFIGS
		 * ALTER_CONFIGS IDEMPOTENT_WRITE: bits 5, 7-12 (v8-10 only) */
		ck_assert_int_eq(mresp.cluster_authorized_operations,
				 v <= 10 ? 0x1fa0 : INT32_MIN);
		ck_assert(kp_str_eqc(mresp.cluster_id, "test-cluster"));
		ck_assert_int_eq(mresp.controller_id, 1);
	}
	/* Kafka 2.8 looks topics up by name only */
	want[1].topic_id = topic_t_id;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_METADATA, 10, &mreq, &mresp, &arena), 0);
	ck_assert_int_eq(mresp.topics_count, 2);
	ck_assert_int_eq(mresp.topics[0].error_code, KP_ERR_INVALID_REQUEST);
	ck_assert_int_eq(mresp.topics[1].error_code, KP_ERR_INVALID_REQUEST);
	ck_assert_int_eq(mresp.brokers_count, 0);
	want[1].topic_id = zero;
	want[1].name = KP_STR_NULL;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_METADATA, 11, &mreq, &mresp, &arena), 0);
	ck_assert_int_eq(mresp.topics[1].error_code, KP_ERR_INVALID_REQUEST);
	ck_assert(kp_str_eqc(mresp.topics[1].name, ""));
	/* an older UpdateMetadata keeps the id */
	update_metadata_v7(&zero);
	mreq.topics_count = -1;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_METADATA, 11, &mreq, &mresp, &arena), 0);
	ck_assert_int_eq(mresp.topics_count, 1);
	ck_assert_mem_eq(&mresp.topics[0].topic_id, &topic_t_id, 16);

	kp_struct_init(&kp_describe_cluster_req_desc, &dreq);
	ck_assert_int_eq(kp_conn_call(conn, KP_API_DESCRIBE_CLUSTER, 0, &dreq, &dresp, &arena), 0);
	ck_assert_int_eq(dresp.error_code, 0);
	ck_assert(kp_str_eqc(dresp.cluster_id, "test-cluster"));
	ck_assert_int_eq(dresp.controller_id, 1);
	ck_assert_int_eq(dresp.cluster_authorized_operations, INT32_MIN);
	ck_assert_int_eq(dresp.brokers_count, 2);
	ck_assert_int_eq(dresp.brokers[0].broker_id, 1);
	ck_assert_int_eq(dresp.brokers[1].port, 9001);
	ck_assert(kp_str_eqc(dresp.brokers[0].rack, "r1"));
	ck_assert_int_lt(dresp.brokers[1].rack.len, 0);
	dreq.include_cluster_authorized_operations = true;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_DESCRIBE_CLUSTER, 0, &dreq, &dresp, &arena), 0);
	ck_assert_int_eq(dresp.cluster_authorized_operations, 0x1fa0);
}
END_TEST

/* LeaderAndIsr v5 for topic t partition 0 (us, leader) with a topic id. */
static int16_t leader_and_isr_v5(int32_t lepoch, const kp_uuid *id)
{
	struct kp_leader_and_isr_req req;
	struct kp_leader_and_isr_req_leader_and_isr_topic_state ts;
	struct kp_leader_and_isr_leader_and_isr_partition_state ps;
	struct kp_leader_and_isr_resp resp;

	kp_struct_init(&kp_leader_and_isr_req_desc, &req);
	kp_struct_init(&kp_leader_and_isr_req_leader_and_isr_topic_state_desc, &ts);
	kp_struct_init(&kp_leader_and_isr_leader_and_isr_partition_state_desc, &ps);
	ps.partition_index = 0;
	ps.controller_epoch = 1;
	ps.leader = 1;
	ps.leader_epoch = lepoch;
	ps.replicas = ps.isr = replicas_1;
	ps.replicas_count = ps.isr_count = 1;
	ts.topic_name = kp_str_c("t");
	ts.topic_id = *id;
	ts.partition_states = &ps;
	ts.partition_states_count = 1;
	req.controller_id = 100;
	req.controller_epoch = 1;
	req.topic_states = &ts;
	req.topic_states_count = 1;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_LEADER_AND_ISR, 5, &req, &resp, &arena), 0);
	ck_assert_int_eq(resp.error_code, 0);
	/* v5 answers per topic id */
	ck_assert_int_eq(resp.partition_errors_count, 0);
	ck_assert_int_eq(resp.topics_count, 1);
	ck_assert_mem_eq(&resp.topics[0].topic_id, id, 16);
	ck_assert_int_eq(resp.topics[0].partition_errors_count, 1);
	ck_assert_int_eq(resp.topics[0].partition_errors[0].partition_index, 0);
	return resp.topics[0].partition_errors[0].error_code;
}

/* The topic id of LeaderAndIsr v5 is the log's (partition.metadata, as
 * Kafka 2.8 writes it); a log of another topic id is refused. */
/* Give User:ANONYMOUS op on a literal resource (the authorizer's store). */
static void allow_anonymous(int rtype, const char *name, int op)
{
	struct kp_acl_res res = { (uint8_t)rtype, KP_ACL_PT_LITERAL, name };
	struct kp_acl_entry *e = calloc(1, sizeof(*e));

	ck_assert_ptr_nonnull(e);
	e->principal = strdup("User:ANONYMOUS");
	e->host = strdup("*");
	e->op = (uint8_t)op;
	e->perm = KP_ACL_PERM_ALLOW;
	ck_assert_int_eq(kp_acl_store_set(authz_get(&b)->store, &res, e, 1, 0), 0);
}

/*
 * With an authorizer, as Kafka 2.8's KafkaApis: DeleteRecords needs
 * Delete on each topic; the transaction APIs Write on the transactional
 * id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, for every partition of
 * AddPartitionsToTxn), AddOffsetsToTxn Read on the group, and
 * AddPartitionsToTxn Write on each topic (TOPIC_AUTHORIZATION_FAILED,
 * internal topics always; the others OPERATION_NOT_ATTEMPTED).
 */
START_TEST(delete_records_and_transactions_are_authorized)
{
	struct kp_config saved = b.cfg, cfg;
	struct kp_props props;
	char err[256];
	int16_t e[3];
	struct kp_delete_records_req dreq;
	struct kp_delete_records_req_delete_records_topic dt;
	struct kp_delete_records_req_delete_records_partition dp;
	struct kp_delete_records_resp dresp;
	struct kp_add_partitions_to_txn_req areq;
	struct kp_add_partitions_to_txn_req_add_partitions_to_txn_topic at[2];
	struct kp_add_partitions_to_txn_resp aresp;
	struct kp_add_offsets_to_txn_req oreq;
	struct kp_add_offsets_to_txn_resp oresp;
	struct kp_end_txn_req ereq;
	struct kp_end_txn_resp eresp;
	int32_t p0[] = { 0 };

	leader_and_isr(1, 1, e);
	update_metadata_v7(&topic_t_id);
	kp_props_init(&props);
	ck_assert_int_eq(kp_props_set(&props, "authorizer.class.name", "acl", 0), 0);
	ck_assert_int_eq(kp_config_build(&cfg, broker_config_defs, broker_config_ndefs, &props,
					 NULL, NULL, err, sizeof(err)), 0);
	kp_props_free(&props);
	b.cfg = cfg;
	ck_assert_int_eq(authz_init(&b, err, sizeof(err)), 0);
	b.cfg = saved;
	kp_config_free(&cfg);

	kp_struct_init(&kp_delete_records_req_desc, &dreq);
	kp_struct_init(&kp_delete_records_req_delete_records_topic_desc, &dt);
	kp_struct_init(&kp_delete_records_req_delete_records_partition_desc, &dp);
	dp.partition_index = 0;
	dp.offset = 0;
	dt.name = kp_str_c("t");
	dt.partitions = &dp;
	dt.partitions_count = 1;
	dreq.topics = &dt;
	dreq.topics_count = 1;
	dreq.timeout_ms = 1000;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_DELETE_RECORDS, 1, &dreq, &dresp, &arena), 0);
	ck_assert_int_eq(dresp.topics[0].partitions[0].error_code,
			 KP_ERR_TOPIC_AUTHORIZATION_FAILED);
	ck_assert_int_eq(dresp.topics[0].partitions[0].low_watermark, -1);
	allow_anonymous(KP_ACL_RT_TOPIC, "t", KP_ACL_OP_DELETE);
	ck_assert_int_eq(kp_conn_call(conn, KP_API_DELETE_RECORDS, 1, &dreq, &dresp, &arena), 0);
	ck_assert_int_eq(dresp.topics[0].partitions[0].error_code, 0);
	ck_assert_int_eq(dresp.topics[0].partitions[0].low_watermark, 0);

	kp_struct_init(&kp_add_partitions_to_txn_req_desc, &areq);
	for (int i = 0; i < 2; i++) {
		kp_struct_init(&kp_add_partitions_to_txn_req_add_partitions_to_txn_topic_desc,
			       &at[i]);
		at[i].partitions = p0;
		at[i].partitions_count = 1;
	}
	at[0].name = kp_str_c("t");
	at[1].name = kp_str_c("__consumer_offsets");
	areq.transactional_id = kp_str_c("tx");
	areq.producer_id = 1;
	areq.producer_epoch = 0;
	areq.topics = at;
	areq.topics_count = 1;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_ADD_PARTITIONS_TO_TXN, 1, &areq, &aresp,
				      &arena), 0);
	ck_assert_int_eq(aresp.results_count, 1);
	ck_assert_int_eq(aresp.results[0].results[0].error_code,
			 KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
	kp_struct_init(&kp_end_txn_req_desc, &ereq);
	ereq.transactional_id = kp_str_c("tx");
	ck_assert_int_eq(kp_conn_call(conn, KP_API_END_TXN, 1, &ereq, &eresp, &arena), 0);
	ck_assert_int_eq(eresp.error_code, KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
	kp_struct_init(&kp_add_offsets_to_txn_req_desc, &oreq);
	oreq.transactional_id = kp_str_c("tx");
	oreq.group_id = kp_str_c("g");
	ck_assert_int_eq(kp_conn_call(conn, KP_API_ADD_OFFSETS_TO_TXN, 1, &oreq, &oresp,
				      &arena), 0);
	ck_assert_int_eq(oresp.error_code, KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);

	allow_anonymous(KP_ACL_RT_TXN_ID, "tx", KP_ACL_OP_WRITE);
	ck_assert_int_eq(kp_conn_call(conn, KP_API_ADD_OFFSETS_TO_TXN, 1, &oreq, &oresp,
				      &arena), 0);
	ck_assert_int_eq(oresp.error_code, KP_ERR_GROUP_AUTHORIZATION_FAILED);
	/* no Write on t; the internal topic is never allowed */
	areq.topics_count = 2;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_ADD_PARTITIONS_TO_TXN, 1, &areq, &aresp,
				      &arena), 0);
	ck_assert_int_eq(aresp.results_count, 2);
	ck_assert_int_eq(aresp.results[0].results[0].error_code,
			 KP_ERR_TOPIC_AUTHORIZATION_FAILED);
	ck_assert_int_eq(aresp.results[1].results[0].error_code,
			 KP_ERR_TOPIC_AUTHORIZATION_FAILED);
	allow_anonymous(KP_ACL_RT_TOPIC, "t", KP_ACL_OP_WRITE);
	allow_anonymous(KP_ACL_RT_TOPIC, "__consumer_offsets", KP_ACL_OP_WRITE);
	ck_assert_int_eq(kp_conn_call(conn, KP_API_ADD_PARTITIONS_TO_TXN, 1, &areq, &aresp,
				      &arena), 0);
	ck_assert_int_eq(aresp.results[0].results[0].error_code,
			 KP_ERR_OPERATION_NOT_ATTEMPTED);
	ck_assert_int_eq(aresp.results[1].results[0].error_code,
			 KP_ERR_TOPIC_AUTHORIZATION_FAILED);
	authz_destroy(&b);
}
END_TEST

START_TEST(leader_and_isr_v5_keeps_the_topic_id_with_the_log)
{
	static const kp_uuid other = { { 1, 2, 3, 4, 5, 6, 0x47, 8, 0x89, 10, 11, 12,
					 13, 14, 15, 16 } };
	char path[256], text[128], id[23];
	FILE *f;
	size_t n;
	struct partition *p;

	ck_assert_int_eq(leader_and_isr_v5(1, &topic_t_id), 0);
	p = partition_find(&b.parts, "t", 1, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_mem_eq(&p->log->topic_id, &topic_t_id, 16);
	snprintf(path, sizeof(path), "%s/t-0/partition.metadata", dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	kp_uuid_format(&topic_t_id, id);
	ck_assert_int_eq(strncmp(text, "version: 0\ntopic_id: ", 21), 0);
	ck_assert_str_eq(text + 21, id);
	/* the same id again is fine, another is not this log's topic */
	ck_assert_int_eq(leader_and_isr_v5(2, &topic_t_id), 0);
	ck_assert_int_eq(leader_and_isr_v5(3, &other), KP_ERR_INCONSISTENT_TOPIC_ID);
	ck_assert_int_eq(p->leader_epoch, 2);
	/* the id survives a reopen of the log */
	{
		struct log *l;
		struct log_config cfg;
		char ldir[256];

		log_config_defaults(&cfg);
		snprintf(ldir, sizeof(ldir), "%s/t-0", dir);
		ck_assert_int_eq(log_open(ldir, "t", 0, &cfg, -1, -1, false, &l), 0);
		ck_assert_mem_eq(&l->topic_id, &topic_t_id, 16);
		log_close(l, false);
	}
}
END_TEST

/*
 * Fetch v12 (KIP-595): a fetcher whose last fetched epoch ends before its
 * fetch offset in our log gets no data but the epoch and end offset to
 * truncate to; one that agrees gets data; an epoch we never had and that
 * is newer than ours is out of range.
 */
START_TEST(fetch_v12_reports_a_diverging_epoch)
{
	int16_t e[3];
	struct kp_wbuf w;
	struct kp_fetch_req req;
	struct kp_fetch_req_fetch_topic t;
	struct kp_fetch_req_fetch_partition fp;
	struct kp_fetch_resp resp;
	struct kp_fetch_resp_partition_data *pd;
	int64_t first, last;

	leader_and_isr(1, 1, e);
	batch(&w, 3, KP_CODEC_NONE);
	ck_assert_int_eq(produce(9, 1, 0, w.data, (int32_t)w.len, NULL), 0);	/* 0-2 */
	leader_and_isr(2, 3, e);
	ck_assert_int_eq(produce(9, 1, 0, w.data, (int32_t)w.len, NULL), 0);	/* 3-5 */
	/* epoch 1 ended at 3: a fetcher at 5 that last saw epoch 1 diverged */
	fetch_req(&req, &t, &fp, 0, 5, 0, 1 << 20);
	fp.last_fetched_epoch = 1;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 12, &req, &resp, &arena), 0);
	pd = &resp.responses[0].partitions[0];
	ck_assert_int_eq(pd->error_code, 0);
	ck_assert_int_eq(pd->diverging_epoch.epoch, 1);
	ck_assert_int_eq(pd->diverging_epoch.end_offset, 3);
	ck_assert_int_eq(pd->records.len, 0);
	ck_assert_int_eq(pd->high_watermark, 6);
	/* at 3 with epoch 1 it agrees: data, no divergence */
	fp.fetch_offset = 3;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 12, &req, &resp, &arena), 0);
	pd = &resp.responses[0].partitions[0];
	ck_assert_int_eq(pd->diverging_epoch.epoch, -1);
	ck_assert_int_eq(pd->diverging_epoch.end_offset, -1);
	ck_assert_int_eq(batches_in(pd->records, &first, &last), 1);
	ck_assert_int_eq(first, 3);
	/* epoch 2 never led here: it ends where epoch 3 begins, before 5 */
	fp.fetch_offset = 5;
	fp.last_fetched_epoch = 2;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 12, &req, &resp, &arena), 0);
	pd = &resp.responses[0].partitions[0];
	ck_assert_int_eq(pd->diverging_epoch.epoch, 1);
	ck_assert_int_eq(pd->diverging_epoch.end_offset, 3);
	/* a follower that diverged past our log end learns where to cut,
	 * not that its offset is out of range */
	fp.fetch_offset = 9;
	fp.last_fetched_epoch = 1;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 12, &req, &resp, &arena), 0);
	pd = &resp.responses[0].partitions[0];
	ck_assert_int_eq(pd->error_code, 0);
	ck_assert_int_eq(pd->diverging_epoch.epoch, 1);
	ck_assert_int_eq(pd->diverging_epoch.end_offset, 3);
	fp.fetch_offset = 5;
	/* newer than any epoch we have */
	fp.last_fetched_epoch = 9;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 12, &req, &resp, &arena), 0);
	ck_assert_int_eq(resp.responses[0].partitions[0].error_code,
			 KP_ERR_OFFSET_OUT_OF_RANGE);
	/* older versions do not check: v11 has no last fetched epoch */
	fp.last_fetched_epoch = 1;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 11, &req, &resp, &arena), 0);
	ck_assert_int_eq(resp.responses[0].partitions[0].error_code, 0);
	ck_assert_int_eq(batches_in(resp.responses[0].partitions[0].records, &first,
				    &last), 1);
	ck_assert_int_eq(first, 3);
	kp_wbuf_free(&w);
}
END_TEST

/* ------------------------------------------------------ hostile requests */

/* LeaderAndIsr v4 making us the only replica and leader of name-0. */
static int16_t lai_named(kp_str name, int32_t cepoch)
{
	struct kp_leader_and_isr_req req;
	struct kp_leader_and_isr_req_leader_and_isr_topic_state ts;
	struct kp_leader_and_isr_leader_and_isr_partition_state ps;
	struct kp_leader_and_isr_resp resp;

	kp_struct_init(&kp_leader_and_isr_req_desc, &req);
	kp_struct_init(&kp_leader_and_isr_req_leader_and_isr_topic_state_desc, &ts);
	kp_struct_init(&kp_leader_and_isr_leader_and_isr_partition_state_desc, &ps);
	ps.controller_epoch = cepoch;
	ps.leader = 1;
	ps.leader_epoch = 1;
	ps.replicas = ps.isr = replicas_1;
	ps.replicas_count = ps.isr_count = 1;
	ts.topic_name = name;
	ts.partition_states = &ps;
	ts.partition_states_count = 1;
	req.controller_id = 100;
	req.controller_epoch = cepoch;
	req.topic_states = &ts;
	req.topic_states_count = 1;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_LEADER_AND_ISR, 4, &req, &resp, &arena), 0);
	if (resp.error_code != 0)
		return resp.error_code;
	ck_assert_int_eq(resp.partition_errors_count, 1);
	return resp.partition_errors[0].error_code;
}

/* StopReplica v1 (delete_partitions) of name-0. */
static int16_t stop_named(kp_str name, int32_t cepoch)
{
	struct kp_stop_replica_req req;
	struct kp_stop_replica_req_stop_replica_topic_v1 t;
	struct kp_stop_replica_resp resp;
	int32_t zero = 0;

	kp_struct_init(&kp_stop_replica_req_desc, &req);
	kp_struct_init(&kp_stop_replica_req_stop_replica_topic_v1_desc, &t);
	t.name = name;
	t.partition_indexes = &zero;
	t.partition_indexes_count = 1;
	req.controller_id = 100;
	req.controller_epoch = cepoch;
	req.delete_partitions = true;
	req.topics = &t;
	req.topics_count = 1;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_STOP_REPLICA, 1, &req, &resp, &arena), 0);
	if (resp.error_code != 0)
		return resp.error_code;
	ck_assert_int_eq(resp.partition_errors_count, 1);
	return resp.partition_errors[0].error_code;
}

/* The entries of dir, sorted, joined by '/'. */
static void listing(const char *path, char *out, size_t n)
{
	char cmd[256];
	FILE *f;
	size_t len;

	snprintf(cmd, sizeof(cmd), "ls -A1 %s | tr '\\n' /", path);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	len = fread(out, 1, n - 1, f);
	out[len] = 0;
	pclose(f);
}

/*
 * A topic name from LeaderAndIsr or StopReplica becomes a directory's
 * name: "../x" made a log outside log.dirs, and StopReplica deleted what
 * it named.  Kafka's Topic.validate rule is applied per partition
 * (INVALID_TOPIC_EXCEPTION) and nothing touches the file system.
 */
START_TEST(illegal_topic_names_never_reach_the_file_system)
{
	static const char *bad[] = { "../escape", "a b", "x\ny", ".", "..", "", "a/b" };
	char parent[128], victim[256], before[4096], after[4096], name[300];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	ck_assert_ptr_nonnull(slash);
	*slash = 0;
	/* a directory next to the log dir that looks like a log */
	snprintf(victim, sizeof(victim), "%s/%s-victim-0", parent, slash + 1);
	ck_assert_int_eq(mkdir(victim, 0700), 0);
	listing(dir, before, sizeof(before));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(lai_named(kp_str_c(bad[i]), 1),
				 KP_ERR_INVALID_TOPIC_EXCEPTION);
		ck_assert_int_eq(stop_named(kp_str_c(bad[i]), 1),
				 KP_ERR_INVALID_TOPIC_EXCEPTION);
	}
	/* 250 characters: one too many */
	memset(name, 'a', 250);
	ck_assert_int_eq(lai_named((kp_str){ name, 250 }, 1), KP_ERR_INVALID_TOPIC_EXCEPTION);
	ck_assert_int_eq(lai_named((kp_str){ name, 249 }, 1), 0);
	snprintf(name, sizeof(name), "../%s-victim", slash + 1);
	ck_assert_int_eq(lai_named(kp_str_c(name), 1), KP_ERR_INVALID_TOPIC_EXCEPTION);
	ck_assert_int_eq(stop_named(kp_str_c(name), 1), KP_ERR_INVALID_TOPIC_EXCEPTION);
	ck_assert_int_eq(access(victim, F_OK), 0);
	snprintf(name, sizeof(name), "%s/escape-0", parent);
	ck_assert_int_ne(access(name, F_OK), 0);
	listing(dir, after, sizeof(after));
	/* only the legal 249-character topic's log came */
	ck_assert_int_eq(strlen(after), strlen(before) + 252);
	ck_assert_ptr_null(partition_find(&b.parts, "../escape", 9, 0));
	ck_assert_int_eq(rmdir(victim), 0);
}
END_TEST

/*
 * Kafka's updateFollowerFetchState: a Fetch whose replica_id is not
 * another replica of the partition moves nothing (follower state, high
 * watermark, ISR) and gets no records - not the log past the high
 * watermark a follower may read.
 */
START_TEST(a_spoofed_replica_fetch_reads_nothing_and_moves_nothing)
{
	struct kp_leader_and_isr_req lreq;
	struct kp_leader_and_isr_req_leader_and_isr_topic_state ts;
	struct kp_leader_and_isr_leader_and_isr_partition_state ps;
	struct kp_leader_and_isr_resp lresp;
	struct kp_fetch_req req;
	struct kp_fetch_req_fetch_topic t;
	struct kp_fetch_req_fetch_partition fp;
	struct kp_fetch_resp resp;
	struct partition *p;
	struct kp_wbuf w;
	int64_t base = -1, first = -1, last = -1;
	static const int32_t spoofs[] = { 7, 1 };	/* unknown, and us */

	kp_struct_init(&kp_leader_and_isr_req_desc, &lreq);
	kp_struct_init(&kp_leader_and_isr_req_leader_and_isr_topic_state_desc, &ts);
	kp_struct_init(&kp_leader_and_isr_leader_and_isr_partition_state_desc, &ps);
	ps.controller_epoch = 1;
	ps.leader = 1;
	ps.leader_epoch = 1;
	ps.replicas = ps.isr = replicas_12;
	ps.replicas_count = ps.isr_count = 2;
	ts.topic_name = kp_str_c("t");
	ts.partition_states = &ps;
	ts.partition_states_count = 1;
	lreq.controller_id = 100;
	lreq.controller_epoch = 1;
	lreq.topic_states = &ts;
	lreq.topic_states_count = 1;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_LEADER_AND_ISR, 4, &lreq, &lresp,
				      &arena), 0);
	ck_assert_int_eq(lresp.partition_errors[0].error_code, 0);
	batch(&w, 3, KP_CODEC_NONE);
	ck_assert_int_eq(produce(8, 1, 0, w.data, (int32_t)w.len, &base), 0);
	kp_wbuf_free(&w);
	p = partition_find(&b.parts, "t", 1, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(log_end_offset(p->log), 3);
	ck_assert_int_eq(atomic_load(&p->hw), 0);	/* 2 has nothing yet */
	for (size_t i = 0; i < sizeof(spoofs) / sizeof(spoofs[0]); i++) {
		fetch_req(&req, &t, &fp, 0, 0, 0, 1 << 20);
		req.replica_id = spoofs[i];
		ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 11, &req, &resp, &arena), 0);
		ck_assert_int_eq(resp.responses[0].partitions[0].error_code, 0);
		ck_assert_int_eq(batches_in(resp.responses[0].partitions[0].records,
					    &first, &last), 0);
		ck_assert_int_eq(resp.responses[0].partitions[0].high_watermark, 0);
		/* at our log end: a real follower there would move the HW */
		fetch_req(&req, &t, &fp, 0, 3, 0, 1 << 20);
		req.replica_id = spoofs[i];
		ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 11, &req, &resp, &arena), 0);
		ck_assert_int_eq(atomic_load(&p->hw), 0);
	}
	/* the real follower 2 reads past the high watermark and moves it */
	fetch_req(&req, &t, &fp, 0, 0, 0, 1 << 20);
	req.replica_id = 2;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 11, &req, &resp, &arena), 0);
	ck_assert_int_eq(batches_in(resp.responses[0].partitions[0].records,
				    &first, &last), 1);
	fetch_req(&req, &t, &fp, 0, 3, 0, 1 << 20);
	req.replica_id = 2;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 11, &req, &resp, &arena), 0);
	ck_assert_int_eq(atomic_load(&p->hw), 3);
}
END_TEST

/*
 * A batch whose records inflate to megabytes grows the worker's
 * decompression scratch while it is validated; the worker gives it back
 * after the request instead of keeping it for good.
 */
/* A consumer's Fetch v12 in session id at epoch, max_wait 0; it names t-0
 * at offset when offset >= 0 (moved), nothing else.  The partitions of
 * the answer. */
static int32_t sess_fetch(int32_t id, int32_t epoch, int64_t offset,
			  struct kp_fetch_resp *resp)
{
	struct kp_fetch_req req;
	struct kp_fetch_req_fetch_topic t;
	struct kp_fetch_req_fetch_partition fp;
	int32_t n = 0;

	fetch_req(&req, &t, &fp, 0, offset, 0, 1 << 20);
	req.session_id = id;
	req.session_epoch = epoch;
	if (offset < 0)
		req.topics_count = 0;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 12, &req, resp, &arena), 0);
	ck_assert_int_eq(resp->error_code, 0);
	ck_assert_int_eq(resp->session_id, id);
	for (int32_t i = 0; i < resp->responses_count; i++)
		n += resp->responses[i].partitions_count;
	return n;
}

/*
 * KIP-227 with partitions skipped while quiet (api_fetch.c): an idle
 * session's fetch answers nothing, and still answers each partition
 * whose answer moved: a log start moved without any notification (as
 * retention moves it), records at the session's position, a partition
 * deleted under its cached object.
 */
START_TEST(an_idle_session_answers_only_what_moved)
{
	int16_t e[3];
	struct kp_wbuf w;
	struct kp_fetch_req req;
	struct kp_fetch_req_fetch_topic t;
	struct kp_fetch_req_fetch_partition fp[2];
	struct kp_fetch_resp resp;
	struct kp_fetch_resp_partition_data *pd;
	struct partition *p0;
	int64_t first = -1, last = -1;
	int32_t id, epoch = 1;

	b.fsessions = fetch_sessions_new(10, FETCH_SESSION_EVICTION_MS);
	ck_assert_ptr_nonnull(b.fsessions);
	leader_and_isr(1, 1, e);	/* t-0 ours alone, t-1 a follower's */
	batch(&w, 3, KP_CODEC_NONE);
	ck_assert_int_eq(produce(7, 1, 0, w.data, (int32_t)w.len, NULL), 0);
	p0 = partition_find(&b.parts, "t", 1, 0);
	ck_assert_ptr_nonnull(p0);
	/* a full fetch opens the session: t-0 at its end, t-1 (read from
	 * the follower, KIP-392) at 0 */
	fetch_req(&req, &t, &fp[0], 0, 3, 0, 1 << 20);
	kp_struct_init(&kp_fetch_req_fetch_partition_desc, &fp[1]);
	fp[1].partition = 1;
	fp[1].fetch_offset = 0;
	fp[1].partition_max_bytes = 1 << 20;
	t.partitions_count = 2;
	req.session_id = 0;
	req.session_epoch = 0;
	ck_assert_int_eq(kp_conn_call(conn, KP_API_FETCH, 12, &req, &resp, &arena), 0);
	id = resp.session_id;
	ck_assert_int_ne(id, 0);
	/* nothing moves: nothing to say, the second time without a look */
	ck_assert_int_eq(sess_fetch(id, epoch++, -1, &resp), 0);
	ck_assert_int_eq(sess_fetch(id, epoch++, -1, &resp), 0);
	ck_assert_int_eq(sess_fetch(id, epoch++, -1, &resp), 0);
	/* the log start moves and nobody is told */
	pthread_mutex_lock(&p0->lock);
	ck_assert_int_eq(log_advance_start_offset(p0->log, 2), 0);
	pthread_mutex_unlock(&p0->lock);
	ck_assert_int_eq(sess_fetch(id, epoch++, -1, &resp), 1);
	pd = &resp.responses[0].partitions[0];
	ck_assert_int_eq(pd->partition_index, 0);
	ck_assert_int_eq(pd->log_start_offset, 2);
	ck_assert_int_eq(pd->high_watermark, 3);
	ck_assert_int_eq(sess_fetch(id, epoch++, -1, &resp), 0);
	/* records at the session's position, answered until it moves */
	ck_assert_int_eq(produce(7, 1, 0, w.data, (int32_t)w.len, NULL), 0);
	kp_wbuf_free(&w);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(sess_fetch(id, epoch++, -1, &resp), 1);
		pd = &resp.responses[0].partitions[0];
		ck_assert_int_eq(pd->high_watermark, 6);
		ck_assert_int_eq(batches_in(pd->records, &first, &last), 1);
		ck_assert_int_eq(first, 3);
	}
	ck_assert_int_eq(sess_fetch(id, epoch++, 6, &resp), 0);
	ck_assert_int_eq(sess_fetch(id, epoch++, -1, &resp), 0);
	/* deleted (StopReplica): the session's object for it answers the
	 * error, not what it was */
	ck_assert_int_eq(stop_named(kp_str_c("t"), 1), 0);
	for (int i = 0; i < 200 && p0->log != NULL; i++)
		usleep(10000);
	ck_assert_ptr_null(p0->log);
	ck_assert_int_eq(sess_fetch(id, epoch++, -1, &resp), 1);
	pd = &resp.responses[0].partitions[0];
	ck_assert_int_eq(pd->partition_index, 0);
	ck_assert_int_eq(pd->error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(sess_fetch(id, epoch++, -1, &resp), 1);
	fetch_sessions_free(b.fsessions);
	b.fsessions = NULL;
}
END_TEST

START_TEST(decompression_scratch_shrinks_after_a_large_batch)
{
	int16_t e[3];
	struct kp_batch_params bp;
	struct kp_record_in rec;
	struct kp_wbuf w;
	uint8_t *big = calloc(1, 6 << 20);
	int64_t base = -1;

	ck_assert_ptr_nonnull(big);
	leader_and_isr(1, 1, e);
	ck_assert_int_eq(e[0], 0);
	kp_batch_params_init(&bp);
	bp.codec = KP_CODEC_GZIP;
	rec = (struct kp_record_in){ .value = { .ptr = big, .len = 6 << 20 },
				     .timestamp = 1000 };
	kp_wbuf_init(&w);
	ck_assert_int_eq(kp_batch_build(&w, &bp, &rec, 1), 0);
	ck_assert_uint_lt(w.len, 1 << 20);	/* zeros compress */
	ck_assert_int_eq(produce(8, 1, 0, w.data, (int32_t)w.len, &base), 0);
	kp_wbuf_free(&w);
	free(big);
	for (int i = 0; i < net_nworkers(b.net); i++)
		ck_assert_uint_le(net_worker_at(b.net, i)->scratch.cap, 4u << 20);
}
END_TEST

static Suite *broker_suite(void)
{
	Suite *s = suite_create("broker_api");
	TCase *tc = tcase_create("api");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, leader_and_isr_assigns_roles_and_fences_stale_epochs);
	tcase_add_test(tc, pipelined_requests_past_the_cap_are_all_answered_in_order);
	tcase_add_test(tc, produce_appends_to_led_partitions_with_kafka_errors);
	tcase_add_test(tc, a_joining_replica_holds_the_high_watermark);
	tcase_add_test(tc, a_caught_up_follower_moves_only_its_fetch_times);
	tcase_add_test(tc, rack_aware_selector_picks_kafkas_replica);
	tcase_add_test(tc, update_metadata_feeds_metadata_answers);
	tcase_add_test(tc, list_offsets_finds_earliest_latest_and_by_timestamp);
	tcase_add_test(tc, fetch_serves_ranges_and_long_polls);
	tcase_add_loop_test(tc, advertised_range_is_kafka_28s, 0, NKAFKA28);
	tcase_add_test(tc, nothing_is_advertised_that_kafka_28_does_not_list);
	tcase_add_test(tc, refused_keys_answer_kafkas_errors_at_every_version);
	tcase_add_test(tc, init_producer_id_hands_out_the_block);
	tcase_add_test(tc, metadata_gives_topic_ids_and_authorized_operations);
	tcase_add_test(tc, delete_records_and_transactions_are_authorized);
	tcase_add_test(tc, leader_and_isr_v5_keeps_the_topic_id_with_the_log);
	tcase_add_test(tc, fetch_v12_reports_a_diverging_epoch);
	tcase_add_test(tc, illegal_topic_names_never_reach_the_file_system);
	tcase_add_test(tc, a_spoofed_replica_fetch_reads_nothing_and_moves_nothing);
	tcase_add_test(tc, decompression_scratch_shrinks_after_a_large_batch);
	tcase_add_test(tc, an_idle_session_answers_only_what_moved);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(broker_suite());
}
