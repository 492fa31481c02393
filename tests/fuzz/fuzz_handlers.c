/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_handlers.c - libFuzzer target for kbroker's request handlers, not
 * only the codec.  The input is a frame body as a broker reads it after
 * the size prefix (request header, then the request; the golden frames
 * captured from real clients are the seeds).  For each input an
 * in-process broker is built from nothing, the way check_broker_api
 * builds one (its own log dir in a temporary directory, partitions
 * golden-0..2 led here after a LeaderAndIsr from the controller, an ACL
 * authorizer with super.users=User:admin, no ZooKeeper), on one network
 * worker that runs on this thread: the frame goes down a socketpair
 * (whatever looks like record data given right checksums, see
 * fix_crcs) into the real read path and dispatcher (req_dispatch), the
 * loop runs a bounded number of turns, what is parked is answered, and
 * everything is freed.  Each input is sent three times to that broker, on a new
 * connection each: an unauthenticated client with no authorizer (Kafka's
 * default), the same client denied by the authorizer, and the super
 * user, for whom every handler runs deep; then whatever landed in the
 * logs is fetched back, down-converted and read_committed.
 *
 * The APIs that need a part of the broker this harness does not build
 * (the ZooKeeper thread, the group and transaction coordinators, the
 * controller channel) are not dispatched: their handlers' decoding is
 * fuzz_request's, their logic the unit tests'.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <zlib.h>

#include "api_quota.h"
#include "authz.h"
#include "broker.h"
#include "broker_config.h"
#include "client_quota.h"
#include "config_layers.h"
#include "fetch_session.h"
#include "kp_crc32c.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_msgs.h"
#include "kp_proto.h"
#include "kp_records.h"
#include "log_dir.h"
#include "net.h"
#include "partition.h"
#include "purgatory.h"
#include "quota.h"
#include "req_dispatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* APIs whose handlers need what is not built here (see above). */
static bool served(int16_t key)
{
	switch (key) {
	case KP_API_PRODUCE:
	case KP_API_FETCH:
	case KP_API_LIST_OFFSETS:
	case KP_API_METADATA:
	case KP_API_LEADER_AND_ISR:
	case KP_API_STOP_REPLICA:
	case KP_API_UPDATE_METADATA:
	case KP_API_API_VERSIONS:
	case KP_API_DELETE_RECORDS:
	case KP_API_OFFSET_FOR_LEADER_EPOCH:
	case KP_API_DESCRIBE_ACLS:
	case KP_API_DESCRIBE_LOG_DIRS:
	case KP_API_DESCRIBE_CLUSTER:
	case KP_API_DESCRIBE_PRODUCERS:
	case KP_API_DESCRIBE_CONFIGS:
	case KP_API_ALTER_REPLICA_LOG_DIRS:
	case KP_API_WRITE_TXN_MARKERS:
	case KP_API_DESCRIBE_CLIENT_QUOTAS:
	case KP_API_CONTROLLED_SHUTDOWN:
	case KP_API_ALTER_ISR:
	case KP_API_UPDATE_FEATURES:
	case KP_API_CREATE_DELEGATION_TOKEN:
	case KP_API_RENEW_DELEGATION_TOKEN:
	case KP_API_EXPIRE_DELEGATION_TOKEN:
	case KP_API_DESCRIBE_DELEGATION_TOKEN:
	case KP_API_TXN_OFFSET_COMMIT:
	case KP_API_VOTE:
	case KP_API_BEGIN_QUORUM_EPOCH:
	case KP_API_END_QUORUM_EPOCH:
	case KP_API_DESCRIBE_QUORUM:
	case KP_API_ENVELOPE:
	case KP_API_FETCH_SNAPSHOT:
	case KP_API_BROKER_REGISTRATION:
	case KP_API_BROKER_HEARTBEAT:
	case KP_API_UNREGISTER_BROKER:
	case KP_API_SASL_HANDSHAKE:
	case KP_API_SASL_AUTHENTICATE:
		return true;
	default:
		/* unknown keys too: the dispatcher refuses them */
		return kp_api_get(key) == NULL;
	}
}

static struct kp_wbuf lai;	/* the controller's LeaderAndIsr frame */
static bool verbose;

static void build_lai(void)
{
	static int32_t one[] = { 1 };
	struct kp_leader_and_isr_req req;
	struct kp_leader_and_isr_req_leader_and_isr_topic_state ts;
	struct kp_leader_and_isr_leader_and_isr_partition_state ps[3];

	kp_struct_init(&kp_leader_and_isr_req_desc, &req);
	kp_struct_init(&kp_leader_and_isr_req_leader_and_isr_topic_state_desc, &ts);
	for (int i = 0; i < 3; i++) {
		kp_struct_init(&kp_leader_and_isr_leader_and_isr_partition_state_desc, &ps[i]);
		ps[i].topic_name = kp_str_c("golden");
		ps[i].partition_index = i;
		ps[i].controller_epoch = 1;
		ps[i].leader_epoch = 1;
		ps[i].leader = 1;
		ps[i].replicas = ps[i].isr = one;
		ps[i].replicas_count = ps[i].isr_count = 1;
	}
	ts.topic_name = kp_str_c("golden");
	ts.partition_states = ps;
	ts.partition_states_count = 3;
	req.controller_id = 1;
	req.controller_epoch = 1;
	req.broker_epoch = -1;
	req.topic_states = &ts;
	req.topic_states_count = 1;
	kp_wbuf_init(&lai);
	if (kp_request_frame(&lai, KP_API_LEADER_AND_ISR, 4, 1, "controller", &req) < 0 ||
	    lai.err)
		abort();
}

/*
 * What the super user's request left in the logs is read back: Fetch v1
 * (down-converted to magic 0), v3 (magic 1) and v11 read_committed (the
 * aborted transactions), from offset 0 of golden-0..2.
 */
static struct kp_wbuf fetches;

static void build_fetches(void)
{
	static const int16_t versions[] = { 1, 3, 11 };
	struct kp_fetch_req req;
	struct kp_fetch_req_fetch_topic ft;
	struct kp_fetch_req_fetch_partition fp[3];

	kp_wbuf_init(&fetches);
	for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
		kp_struct_init(&kp_fetch_req_desc, &req);
		kp_struct_init(&kp_fetch_req_fetch_topic_desc, &ft);
		for (int i = 0; i < 3; i++) {
			kp_struct_init(&kp_fetch_req_fetch_partition_desc, &fp[i]);
			fp[i].partition = i;
			fp[i].fetch_offset = 0;
			fp[i].partition_max_bytes = 1 << 20;
		}
		ft.topic = kp_str_c("golden");
		ft.partitions = fp;
		ft.partitions_count = 3;
		req.replica_id = -1;
		req.max_wait_ms = 0;
		req.min_bytes = 0;
		req.max_bytes = 4 << 20;
		req.isolation_level = versions[v] >= 4 ? 1 : 0;
		req.topics = &ft;
		req.topics_count = 1;
		if (kp_request_frame(&fetches, KP_API_FETCH, versions[v], 2 + (int32_t)v,
				     "reader", &req) < 0 || fetches.err)
			abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* FUZZ_VERBOSE=1: the broker's log, to see how far an input gets */
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	kp_log_set_level(verbose ? KP_LOG_DEBUG : KP_LOG_ERROR);
	build_lai();
	build_fetches();
	return 0;
}

struct world {
	struct broker b;
	struct kp_endpoint ep;
	struct log_dir *ld;
	int plaintext;
	char dir[64];
	int peer;		/* the client's end */
	struct broker_authz *authz;	/* on or off per run */
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void world_open(struct world *w)
{
	struct broker *b = &w->b;
	struct kp_props props;
	char err[256];

	memset(w, 0, sizeof(*w));
	w->peer = -1;
	snprintf(w->dir, sizeof(w->dir), "/dev/shm/fuzz_handlers.XXXXXX");
	if (mkdtemp(w->dir) == NULL || log_dir_open(w->dir, &w->ld) != 0)
		abort();
	b->id = 1;
	producer_ids_init(&b->pids);
	snprintf(b->cluster_id, sizeof(b->cluster_id), "fuzz-cluster");
	snprintf(w->ep.listener, sizeof(w->ep.listener), "PLAINTEXT");
	snprintf(w->ep.host, sizeof(w->ep.host), "127.0.0.1");
	w->ep.port = 9092;
	w->plaintext = KP_SEC_PLAINTEXT;
	b->listeners = b->advertised = &w->ep;
	b->lsn.bind = b->lsn.adv = &w->ep;
	b->lsn.nbind = b->lsn.nadv = 1;
	b->lsn.bind_proto = b->lsn.adv_proto = &w->plaintext;
	b->nlisteners = b->nadvertised = 1;
	b->socket_request_max_bytes = 10 << 20;
	b->request_arena_cap = 100 << 20;
	b->message_max_bytes = 1048588;
	kp_props_init(&props);
	if (kp_props_set(&props, "authorizer.class.name",
			 "kafka.security.authorizer.AclAuthorizer", 0) < 0 ||
	    kp_props_set(&props, "super.users", "User:admin", 0) < 0)
		abort();
	if (kp_config_build(&b->cfg, broker_config_defs, broker_config_ndefs, &props,
			    NULL, NULL, err, sizeof(err)) != 0 ||
	    authz_init(b, err, sizeof(err)) != 0)
		abort();
	kp_props_free(&props);
	b->dirs = &w->ld;
	b->ndirs = 1;
	metadata_cache_init(&b->meta);
	pthread_mutex_init(&b->dirs_lock, NULL);
	partition_table_init(&b->parts);
	b->purg = purgatory_new();
	b->loop = kp_loop_new();
	b->layers = config_layers_new(&b->cfg);
	b->quotas = quota_repl_new();
	b->cquota = cq_new(kp_config_int(&b->cfg, "quota.window.num"),
			   kp_config_int(&b->cfg, "quota.window.size.seconds"),
			   kp_config_long(&b->cfg, "quota.producer.default"),
			   kp_config_long(&b->cfg, "quota.consumer.default"));
	b->reply_hook = quota_on_reply;
	b->throttle_hook = quota_set_throttle_field;
	b->fsessions = fetch_sessions_new(kp_config_int(&b->cfg,
					  "max.incremental.fetch.session.cache.slots"),
					  FETCH_SESSION_EVICTION_MS);
	if (b->purg == NULL || b->loop == NULL || b->layers == NULL || b->quotas == NULL ||
	    b->cquota == NULL || b->fsessions == NULL)
		abort();
	b->net = net_start_local(b, b->loop, req_dispatch);
	if (b->net == NULL)
		abort();
	w->authz = b->authz;
}

/* A new client connection (the last one's end closed). */
static void world_connect(struct world *w, const char *principal)
{
	int sv[2];

	if (w->peer >= 0)
		close(w->peer);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0)
		abort();
	w->peer = sv[1];
	if (net_conn_local(w->b.net, sv[0], "PLAINTEXT", principal) < 0)
		abort();
}

/* Send a frame (size prefix and all) and turn the loop until it is
 * answered and sent, or for a bounded number of turns (a parked request
 * is answered at the close). */
static void world_send(struct world *w, const uint8_t *p, size_t len)
{
	uint8_t junk[65536];
	size_t off = 0, got = 0;

	for (int turn = 0; turn < 64; turn++) {
		int unread = 0;
		ssize_t n;

		if (off < len) {
			n = write(w->peer, p + off, len - off);
			if (n > 0)
				off += (size_t)n;
		}
		kp_loop_run_once(w->b.loop, 0);
		while ((n = read(w->peer, junk, sizeof(junk))) > 0)
			got += (size_t)n;
		if (n == 0 || net_conn_local_pending(w->b.net) < 0)
			break;		/* the broker closed it */
		if (off == len && net_conn_local_pending(w->b.net) == 0 &&
		    ioctl(w->peer, FIONREAD, &unread) == 0 && unread == 0)
			break;
	}
	if (verbose)
		fprintf(stderr, "fuzz_handlers: sent %zu bytes, %zu back\n", len, got);
}

static void world_close(struct world *w)
{
	struct broker *b = &w->b;

	net_stop_local(b->net);
	if (w->peer >= 0)
		close(w->peer);
	b->authz = w->authz;
	/* the loop still holds the purgatory's timers: it goes first */
	kp_loop_free(b->loop);
	purgatory_free(b->purg);
	log_dir_close(w->ld, false);
	partition_table_destroy(&b->parts);
	metadata_cache_destroy(&b->meta);
	authz_destroy(b);
	quota_repl_free(b->quotas);
	cq_free(b->cquota);
	fetch_sessions_free(b->fsessions);
	config_layers_free(b->layers);
	kp_config_free(&b->cfg);
	producer_ids_destroy(&b->pids);
	pthread_mutex_destroy(&b->dirs_lock);
	nftw(w->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Make the checksums right of whatever looks like a record batch (magic 2
 * at +16, a batch length that fits: CRC-32C) or a magic 0/1 message
 * (CRC-32) in the frame, so that mutated Produce requests get past the
 * checksum into validation, the codecs and the log.
 */
static void fix_crcs(uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 17 <= len; i++) {
		uint32_t blen = kp_be32(p + i + 8);
		uint8_t magic = p[i + 16];

		if (blen > len - i - 12)
			continue;
		if (magic == 2 && blen >= 49)
			kp_put_be32(p + i + KP_BATCH_OFF_CRC,
				    kp_crc32c(0, p + i + KP_BATCH_OFF_ATTRIBUTES,
					      blen + 12 - KP_BATCH_OFF_ATTRIBUTES));
		else if (magic < 2 && blen >= 14)
			kp_put_be32(p + i + 12, (uint32_t)crc32(0L, p + i + 16, (uInt)(blen - 4)));
	}
}

/*
 * One broker per input; the frame is sent three times, on a connection
 * each: no authorizer and no principal, the authorizer and no principal,
 * the authorizer and the super user.
 */
static void run(const uint8_t *data, size_t size)
{
	static const struct {
		bool authz;
		const char *principal;
	} modes[] = { { false, "" }, { true, "" }, { true, "admin" } };
	struct world w;
	uint8_t *frame = malloc(size + 4);

	if (frame == NULL)
		return;
	frame[0] = (uint8_t)(size >> 24);
	frame[1] = (uint8_t)(size >> 16);
	frame[2] = (uint8_t)(size >> 8);
	frame[3] = (uint8_t)size;
	memcpy(frame + 4, data, size);
	fix_crcs(frame + 4, size);
	world_open(&w);
	world_connect(&w, "admin");
	world_send(&w, lai.data, lai.len);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		w.b.authz = modes[m].authz ? w.authz : NULL;
		world_connect(&w, modes[m].principal);
		world_send(&w, frame, size + 4);
	}
	world_connect(&w, "admin");
	world_send(&w, fetches.data, fetches.len);
	world_close(&w);
	free(frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int16_t key;

	if (size < 4)
		return 0;
	key = (int16_t)(data[0] << 8 | data[1]);
	if (!served(key))
		return -1;	/* not worth keeping in the corpus */
	run(data, size);
	return 0;
}
