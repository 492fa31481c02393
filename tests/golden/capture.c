/* SPDX-License-Identifier: Apache-2.0 */
/*
 * capture.c - record the request frames real Kafka clients send.
 *
 * A minimal single-broker responder on 127.0.0.1: it answers ApiVersions
 * (with the version table of tests/golden/versions.h, Kafka 2.8's),
 * Metadata (itself as broker 0, leader of every partition of the requested
 * topics), Produce (success), FindCoordinator (itself) and InitProducerId
 * (producer id 1000, epoch 0), DescribeGroups (each group unknown: Dead);
 * any other request of a known key gets the
 * empty answer of its version (every field at its default: no groups, no
 * offsets, no errors).  It writes the body of every request frame it
 * receives (header included, size prefix excluded) to
 * OUTDIR/NNN-<api key>-v<version>.bin.
 *
 * It exists to produce the golden files under tests/golden/ that
 * check_golden.c decodes; tests/golden/capture.sh drives kcat,
 * confluent-kafka and kafka-python against it.  Not part of the product.
 *
 *   capture PORTFILE OUTDIR PARTITIONS
 * writes the port it listens on to PORTFILE, serves until SIGTERM.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_codec.h"
#include "kp_msgs.h"
#include "kp_proto.h"
#include "versions.h"

#define MAX_CONNS 64

struct conn {
	int fd;
	uint8_t *buf;
	size_t len, cap;
};

static volatile sig_atomic_t stopping;
static const char *outdir;
static int seq;
static int port;
static int npartitions;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void record(const uint8_t *body, size_t len, int16_t key, int16_t ver)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%03d-%d-v%d.bin", outdir, seq++, key,
		 ver);
	f = fopen(path, "wb");
	if (f == NULL) {
		perror(path);
		return;
	}
	fwrite(body, 1, len, f);
	fclose(f);
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void answer_api_versions(struct kp_wbuf *w, const struct kp_req_header *h)
{
	struct kp_api_versions_resp resp;
	struct kp_api_versions_resp_api_version keys[64];
	int16_t ver = h->api_version;
	size_t i, n = 0;

	kp_struct_init(&kp_api_versions_resp_desc, &resp);
	for (i = 0; i < sizeof(golden_versions) / sizeof(golden_versions[0]); i++) {
		kp_struct_init(&kp_api_versions_resp_api_version_desc, &keys[n]);
		keys[n].api_key = golden_versions[i].key;
		keys[n].min_version = golden_versions[i].min;
		keys[n].max_version = golden_versions[i].max;
		n++;
	}
	resp.api_keys = keys;
	resp.api_keys_count = (int32_t)n;
	if (ver > 3) {
		/* As Kafka: answer an unsupported version with a v0 body. */
		resp.error_code = 35;
		ver = 0;
	}
	kp_response_frame(w, KP_API_API_VERSIONS, ver, h->correlation_id, &resp);
}

static void answer_metadata(struct kp_wbuf *w, const struct kp_req_header *h,
			    const struct kp_metadata_req *req,
			    struct kp_arena *a)
{
	struct kp_metadata_resp resp;
	struct kp_metadata_resp_metadata_response_broker broker;
	int32_t i, p;
	static int32_t zero[1] = { 0 };

	kp_struct_init(&kp_metadata_resp_desc, &resp);
	kp_struct_init(&kp_metadata_resp_metadata_response_broker_desc, &broker);
	broker.node_id = 0;
	broker.host = kp_str_c("127.0.0.1");
	broker.port = port;
	resp.brokers = &broker;
	resp.brokers_count = 1;
	resp.cluster_id = kp_str_c("golden-cluster");
	resp.controller_id = 0;
	resp.topics_count = req->topics_count > 0 ? req->topics_count : 0;
	resp.topics = kp_arena_calloc(a, (size_t)resp.topics_count + 1,
				      sizeof(*resp.topics));
	for (i = 0; i < resp.topics_count; i++) {
		struct kp_metadata_resp_metadata_response_topic *t = &resp.topics[i];

		kp_struct_init(&kp_metadata_resp_metadata_response_topic_desc, t);
		t->name = req->topics[i].name;
		t->partitions_count = npartitions;
		t->partitions = kp_arena_calloc(a, (size_t)npartitions,
						sizeof(*t->partitions));
		for (p = 0; p < npartitions; p++) {
			struct kp_metadata_resp_metadata_response_partition *mp =
				&t->partitions[p];

			kp_struct_init(&kp_metadata_resp_metadata_response_partition_desc, mp);
			mp->partition_index = p;
			mp->leader_id = 0;
			mp->leader_epoch = 0;
			mp->replica_nodes = zero;
			mp->replica_nodes_count = 1;
			mp->isr_nodes = zero;
			mp->isr_nodes_count = 1;
		}
	}
	kp_response_frame(w, KP_API_METADATA, h->api_version, h->correlation_id,
			  &resp);
}

static void answer_produce(struct kp_wbuf *w, const struct kp_req_header *h,
			   const struct kp_produce_req *req, struct kp_arena *a)
{
	struct kp_produce_resp resp;
	int32_t i, j;

	if (req->acks == 0)
		return;
	kp_struct_init(&kp_produce_resp_desc, &resp);
	resp.responses_count = req->topic_data_count;
	resp.responses = kp_arena_calloc(a, (size_t)req->topic_data_count + 1,
					 sizeof(*resp.responses));
	for (i = 0; i < req->topic_data_count; i++) {
		const struct kp_produce_req_topic_produce_data *td = &req->topic_data[i];
		struct kp_produce_resp_topic_produce_response *tr = &resp.responses[i];

		kp_struct_init(&kp_produce_resp_topic_produce_response_desc, tr);
		tr->name = td->name;
		tr->partition_responses_count = td->partition_data_count;
		tr->partition_responses = kp_arena_calloc(a,
			(size_t)td->partition_data_count + 1,
			sizeof(*tr->partition_responses));
		for (j = 0; j < td->partition_data_count; j++) {
			struct kp_produce_resp_partition_produce_response *pr =
				&tr->partition_responses[j];

			kp_struct_init(&kp_produce_resp_partition_produce_response_desc, pr);
			pr->index = td->partition_data[j].index;
			pr->base_offset = 0;
		}
	}
	kp_response_frame(w, KP_API_PRODUCE, h->api_version, h->correlation_id,
			  &resp);
}

/* FindCoordinator: ourselves; InitProducerId: a producer id;
 * DescribeGroups: each group asked for, unknown (Dead); the rest: the
 * empty answer of the version. */
static void answer_default(struct kp_wbuf *w, const struct kp_req_header *h,
			   const struct kp_api_desc *api, const void *req,
			   struct kp_arena *a)
{
	void *resp = kp_arena_alloc(a, api->resp->size);

	kp_struct_init(api->resp, resp);
	if (h->api_key == KP_API_FIND_COORDINATOR) {
		struct kp_find_coordinator_resp *fc = resp;

		fc->node_id = 0;
		fc->host = kp_str_c("127.0.0.1");
		fc->port = port;
	} else if (h->api_key == KP_API_INIT_PRODUCER_ID) {
		struct kp_init_producer_id_resp *ip = resp;

		ip->producer_id = 1000;
		ip->producer_epoch = 0;
	} else if (h->api_key == KP_API_DESCRIBE_GROUPS) {
		const struct kp_describe_groups_req *dr = req;
		struct kp_describe_groups_resp *dg = resp;
		int32_t n = dr->groups_count > 0 ? dr->groups_count : 0;

		dg->groups = kp_arena_calloc(a, (size_t)n + 1, sizeof(*dg->groups));
		for (int32_t i = 0; i < n; i++) {
			kp_struct_init(&kp_describe_groups_resp_described_group_desc,
				       &dg->groups[i]);
			dg->groups[i].group_id = dr->groups[i];
			dg->groups[i].group_state = kp_str_c("Dead");
		}
		dg->groups_count = n;
	}
	kp_response_frame(w, h->api_key, h->api_version, h->correlation_id, resp);
}

/* Handle one complete frame; returns -1 to close the connection. */
static int handle(struct conn *c, const uint8_t *body, size_t len)
{
	struct kp_arena a;
	struct kp_reader r;
	struct kp_req_header h;
	struct kp_wbuf w;
	const struct kp_api_desc *api;
	void *req;
	int rc = 0;

	kp_arena_init(&a, 64 << 20);
	kp_wbuf_init(&w);
	kp_reader_init(&r, body, len);
	if (kp_req_header_decode(&r, &a, &h) != 0) {
		rc = -1;
		goto out;
	}
	record(body, len, h.api_key, h.api_version);
	api = kp_api_get(h.api_key);
	if (h.api_key == KP_API_API_VERSIONS) {
		answer_api_versions(&w, &h);
		goto send;
	}
	if (api == NULL || h.api_version > api->max) {
		rc = -1;
		goto out;
	}
	req = kp_arena_alloc(&a, api->req->size);
	if (kp_request_decode(api, h.api_version, &r, &a, req) != 0) {
		fprintf(stderr, "capture: cannot decode %s v%d\n", api->name,
			h.api_version);
		rc = -1;
		goto out;
	}
	if (h.api_key == KP_API_METADATA)
		answer_metadata(&w, &h, req, &a);
	else if (h.api_key == KP_API_PRODUCE)
		answer_produce(&w, &h, req, &a);
	else
		answer_default(&w, &h, api, req, &a);
send:
	if (rc == 0 && w.len > 0 && send_all(c->fd, w.data, w.len) != 0)
		rc = -1;
out:
	kp_wbuf_free(&w);
	kp_arena_free(&a);
	return rc;
}

static int on_readable(struct conn *c)
{
	size_t flen;
	ssize_t n;

	if (c->cap - c->len < 65536) {
		size_t ncap = c->cap ? c->cap * 2 : 131072;
		uint8_t *nb = realloc(c->buf, ncap);

		if (nb == NULL)
			return -1;
		c->buf = nb;
		c->cap = ncap;
	}
	n = read(c->fd, c->buf + c->len, c->cap - c->len);
	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	for (;;) {
		int st = kp_frame_check(c->buf, c->len, 100 << 20, &flen);

		if (st == KP_FRAME_PARTIAL)
			return 0;
		if (st == KP_FRAME_INVALID)
			return -1;
		if (handle(c, c->buf + KP_FRAME_PREFIX, flen - KP_FRAME_PREFIX))
			return -1;
		memmove(c->buf, c->buf + flen, c->len - flen);
		c->len -= flen;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct pollfd pfd[MAX_CONNS + 1];
	struct conn conns[MAX_CONNS];
	int lfd, one = 1, i, nconn = 0;
	FILE *pf;

	if (argc != 4) {
		fprintf(stderr, "usage: capture PORTFILE OUTDIR PARTITIONS\n");
		return 2;
	}
	outdir = argv[2];
	npartitions = atoi(argv[3]);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 16) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl)) {
		perror("capture: listen");
		return 1;
	}
	port = ntohs(sa.sin_port);
	pf = fopen(argv[1], "w");
	if (pf == NULL) {
		perror(argv[1]);
		return 1;
	}
	fprintf(pf, "%d\n", port);
	fclose(pf);
	while (!stopping) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < nconn; i++) {
			pfd[i + 1].fd = conns[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)nconn + 1, 200) < 0)
			continue;
		for (i = nconn - 1; i >= 0; i--) {
			if (!(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (on_readable(&conns[i]) != 0) {
				close(conns[i].fd);
				free(conns[i].buf);
				conns[i] = conns[--nconn];
			}
		}
		if ((pfd[0].revents & POLLIN) && nconn < MAX_CONNS) {
			int fd = accept(lfd, NULL, NULL);

			if (fd >= 0) {
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
					   sizeof(one));
				conns[nconn].fd = fd;
				conns[nconn].buf = NULL;
				conns[nconn].len = conns[nconn].cap = 0;
				nconn++;
			}
		}
	}
	return 0;
}
