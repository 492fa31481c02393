/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_produce.c - the tools' producer: per-partition buffers, one batch
 * per partition, one Produce per leader, retries.  See tool_produce.h.
 */
#include "config.h"

#include "tool_produce.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kp_errors.h"

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const struct kp_metadata_resp_metadata_response_topic *
learn_topic(struct tool_producer *p)
{
	const char *one[1] = { p->topic };
	const struct kp_metadata_resp_metadata_response_topic *t;

	tool_metadata(p->cl, one, 1, false);
	t = tool_md_topic(p->cl, p->topic);
	if (t == NULL || t->error_code == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION)
		tool_die("topic '%s' does not exist", p->topic);
	return t;
}

void tool_producer_init(struct tool_producer *p, struct tool_cluster *cl,
			const char *topic)
{
	const struct kp_metadata_resp_metadata_response_topic *t;
	int64_t deadline = tool_mono_ms() + cl->timeout_ms;

	memset(p, 0, sizeof(*p));
	p->cl = cl;
	p->topic = topic;
	p->acks = -1;
	p->codec = KP_CODEC_NONE;
	p->retries = 5;
	p->retry_backoff_ms = 100;
	p->request_timeout_ms = 30000;
	p->max_batch_bytes = 900 * 1024;
	/* A topic just created may not have its partitions yet. */
	for (;;) {
		t = learn_topic(p);
		if (t->error_code == 0 && t->partitions_count > 0)
			break;
		if (tool_mono_ms() >= deadline)
			tool_die("topic '%s': %s", topic, tool_err(t->error_code));
		usleep(200 * 1000);
	}
	p->nparts = t->partitions_count;
	p->parts = calloc((size_t)p->nparts, sizeof(*p->parts));
	if (p->parts == NULL)
		tool_die("out of memory");
	for (int32_t i = 0; i < p->nparts; i++)
		kp_wbuf_init(&p->parts[i].data);
	kp_wbuf_init(&p->scratch);
	p->sticky = (int32_t)(mono_us() % p->nparts);
}

void tool_producer_free(struct tool_producer *p)
{
	for (int32_t i = 0; i < p->nparts; i++) {
		kp_wbuf_free(&p->parts[i].data);
		free(p->parts[i].recs);
	}
	free(p->parts);
	kp_wbuf_free(&p->scratch);
}

int64_t tool_producer_pending(const struct tool_producer *p)
{
	int64_t n = 0;

	for (int32_t i = 0; i < p->nparts; i++)
		n += p->parts[i].n;
	return n;
}

int32_t tool_producer_add(struct tool_producer *p, int32_t partition,
			  const void *key, int32_t klen, const void *value,
			  int32_t vlen, int64_t ts)
{
	struct tool_ppart *pp;
	struct tool_prec *r;

	if (partition < 0)
		partition = klen >= 0 ? tool_key_partition(key, (size_t)klen,
							   p->nparts) :
			    p->sticky;
	if (partition >= p->nparts)
		tool_die("topic '%s' has no partition %" PRId32, p->topic,
			 partition);
	pp = &p->parts[partition];
	/* Keep one batch under the broker's message size limit. */
	if (pp->n > 0 && pp->data.len + (size_t)(klen > 0 ? klen : 0) +
			 (size_t)(vlen > 0 ? vlen : 0) > p->max_batch_bytes)
		tool_producer_flush(p);
	if (pp->n == pp->cap) {
		pp->cap = pp->cap ? 2 * pp->cap : 64;
		pp->recs = realloc(pp->recs, (size_t)pp->cap * sizeof(*pp->recs));
		if (pp->recs == NULL)
			tool_die("out of memory");
	}
	r = &pp->recs[pp->n++];
	r->klen = klen;
	r->vlen = vlen;
	r->koff = pp->data.len;
	if (klen > 0)
		kp_write_raw(&pp->data, key, (size_t)klen);
	r->voff = pp->data.len;
	if (vlen > 0)
		kp_write_raw(&pp->data, value, (size_t)vlen);
	if (pp->data.err)
		tool_die("out of memory");
	r->ts = ts >= 0 ? ts : tool_now_ms();
	r->t_enq_us = mono_us();
	p->buffered += (size_t)(klen > 0 ? klen : 0) + (size_t)(vlen > 0 ? vlen : 0);
	return partition;
}

static void finish(struct tool_producer *p, int32_t partition, int16_t err,
		   int64_t base_offset)
{
	struct tool_ppart *pp = &p->parts[partition];

	if (err == 0)
		p->acked += pp->n;
	else
		p->failed += pp->n;
	if (p->on_ack != NULL)
		p->on_ack(p->ack_arg, partition, pp->recs, pp->n, err,
			  base_offset);
	pp->n = 0;
	pp->tries = 0;
	kp_wbuf_reset(&pp->data);
}

/* A retriable failure of one partition's batch: retry or give up. */
static void retry_or_fail(struct tool_producer *p, int32_t partition,
			  int16_t err)
{
	struct tool_ppart *pp = &p->parts[partition];

	if (++pp->tries > p->retries) {
		tool_warn("%s-%" PRId32 ": %" PRId32 " records not written: %s",
			  p->topic, partition, pp->n, tool_err(err));
		finish(p, partition, err, -1);
	}
}

/* Build one batch per waiting partition led by leader into one request. */
static int send_to(struct tool_producer *p, int32_t leader, struct kp_conn *c,
		   struct kp_arena *a, int32_t *sent, int *nsent)
{
	struct kp_produce_req req;
	struct kp_produce_req_topic_produce_data td;
	struct kp_produce_req_partition_produce_data *pd;
	int n = 0;

	pd = kp_arena_calloc(a, (size_t)p->nparts, sizeof(*pd));
	if (pd == NULL)
		tool_die("out of memory");
	for (int32_t i = 0; i < p->nparts; i++) {
		struct tool_ppart *pp = &p->parts[i];
		struct kp_record_in *in;
		struct kp_batch_params bp;
		struct kp_wbuf w;
		uint8_t *copy;

		if (pp->n == 0 || tool_md_leader(p->cl, p->topic, i) != leader)
			continue;
		in = calloc((size_t)pp->n, sizeof(*in));
		if (in == NULL)
			tool_die("out of memory");
		for (int32_t k = 0; k < pp->n; k++) {
			const struct tool_prec *r = &pp->recs[k];

			in[k].key = r->klen < 0 ? KP_BYTES_NULL :
				    (kp_bytes){ pp->data.data + r->koff, r->klen };
			in[k].value = r->vlen < 0 ? KP_BYTES_NULL :
				      (kp_bytes){ pp->data.data + r->voff, r->vlen };
			in[k].timestamp = r->ts;
		}
		kp_batch_params_init(&bp);
		bp.codec = (enum kp_codec)p->codec;
		kp_wbuf_init(&w);
		if (kp_batch_build(&w, &bp, in, pp->n) != 0 || w.err)
			tool_die("cannot build a record batch");
		free(in);
		copy = kp_arena_alloc(a, w.len);
		if (copy == NULL)
			tool_die("out of memory");
		memcpy(copy, w.data, w.len);
		pd[n].index = i;
		pd[n].records = (kp_records){ copy, (int32_t)w.len, NULL };
		kp_wbuf_free(&w);
		sent[(*nsent)++] = i;
		n++;
	}
	if (n == 0)
		return 0;
	kp_struct_init(&kp_produce_req_desc, &req);
	memset(&td, 0, sizeof(td));
	td.name = kp_str_c(p->topic);
	td.partition_data = pd;
	td.partition_data_count = n;
	req.transactional_id = KP_STR_NULL;
	req.acks = p->acks;
	req.timeout_ms = p->request_timeout_ms;
	req.topic_data = &td;
	req.topic_data_count = 1;
	return kp_conn_send(c, KP_API_PRODUCE, -1, &req);
}

int64_t tool_producer_flush(struct tool_producer *p)
{
	int64_t failed0 = p->failed;
	int32_t *sent = calloc((size_t)p->nparts + 1, sizeof(*sent));
	int32_t *leaders = calloc((size_t)p->nparts + 1, sizeof(*leaders));
	int *tries0 = calloc((size_t)p->nparts + 1, sizeof(*tries0));

	if (sent == NULL || leaders == NULL || tries0 == NULL)
		tool_die("out of memory");
	while (tool_producer_pending(p) > 0) {
		struct kp_arena a;
		int nleaders = 0, nsent = 0;
		bool retry = false;

		kp_arena_init(&a, 0);
		for (int32_t i = 0; i < p->nparts; i++)
			tries0[i] = p->parts[i].tries;
		/* Send to every leader first, then collect the answers. */
		for (int32_t i = 0; i < p->nparts; i++) {
			int32_t l;
			bool seen = false;

			if (p->parts[i].n == 0)
				continue;
			l = tool_md_leader(p->cl, p->topic, i);
			if (l < 0) {
				retry_or_fail(p, i, KP_ERR_LEADER_NOT_AVAILABLE);
				retry = true;
				continue;
			}
			for (int k = 0; k < nleaders; k++)
				seen |= leaders[k] == l;
			if (!seen)
				leaders[nleaders++] = l;
		}
		for (int k = 0; k < nleaders; k++) {
			struct kp_conn *c = tool_broker_conn(p->cl, leaders[k]);
			int first = nsent, rc;

			rc = c != NULL ? send_to(p, leaders[k], c, &a, sent,
						  &nsent) : -ENOTCONN;
			if (rc != 0) {
				/* The partitions of this leader retry. */
				for (int32_t i = 0; i < p->nparts; i++)
					if (p->parts[i].n > 0 &&
					    tool_md_leader(p->cl, p->topic,
							   i) == leaders[k])
						retry_or_fail(p, i,
							      KP_ERR_NETWORK_EXCEPTION);
				nsent = first;
				tool_broker_drop(p->cl, leaders[k]);
				leaders[k] = -1;
				retry = true;
			}
		}
		for (int k = 0; k < nleaders; k++) {
			struct kp_produce_resp resp;
			struct kp_conn *c;
			int16_t key, ver;
			int rc;

			if (leaders[k] < 0 || p->acks == 0)
				continue;
			c = tool_broker_conn(p->cl, leaders[k]);
			rc = c != NULL ? kp_conn_recv(c, &key, &ver, &resp, &a) :
			     -ENOTCONN;
			if (rc != 0) {
				for (int s = 0; s < nsent; s++)
					if (tool_md_leader(p->cl, p->topic,
							   sent[s]) == leaders[k] &&
					    p->parts[sent[s]].n > 0)
						retry_or_fail(p, sent[s],
							      KP_ERR_NETWORK_EXCEPTION);
				tool_broker_drop(p->cl, leaders[k]);
				retry = true;
				continue;
			}
			for (int t = 0; t < resp.responses_count; t++) {
				const struct kp_produce_resp_topic_produce_response *tr =
					&resp.responses[t];

				for (int q = 0; q < tr->partition_responses_count; q++) {
					const struct kp_produce_resp_partition_produce_response *pr =
						&tr->partition_responses[q];
					int32_t i = pr->index;

					if (i < 0 || i >= p->nparts ||
					    p->parts[i].n == 0)
						continue;
					if (pr->error_code == 0) {
						finish(p, i, 0, pr->base_offset);
					} else if (kp_err_retriable(pr->error_code)) {
						retry_or_fail(p, i, pr->error_code);
						retry = true;
					} else {
						tool_warn("%s-%" PRId32 ": %" PRId32
							  " records not written: %s",
							  p->topic, i, p->parts[i].n,
							  tool_err(pr->error_code));
						finish(p, i, pr->error_code, -1);
					}
				}
			}
		}
		/* acks=0: no answer comes; sent is as good as done.  A batch
		 * the answer left out counts as a failed try. */
		for (int s = 0; s < nsent; s++) {
			if (p->acks == 0)
				finish(p, sent[s], 0, -1);
			else if (p->parts[sent[s]].n > 0 &&
				 p->parts[sent[s]].tries == tries0[sent[s]]) {
				retry_or_fail(p, sent[s],
					      KP_ERR_UNKNOWN_SERVER_ERROR);
				retry = true;
			}
		}
		kp_arena_free(&a);
		nsent = 0;
		if (retry && tool_producer_pending(p) > 0) {
			usleep((useconds_t)p->retry_backoff_ms * 1000);
			learn_topic(p);
		}
	}
	p->buffered = 0;
	/* The next records without a key go to the next partition. */
	p->sticky = (p->sticky + 1) % p->nparts;
	free(sent);
	free(leaders);
	free(tries0);
	return p->failed - failed0;
}
