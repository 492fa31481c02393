/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_fetch.c - positions, start offsets and fetch rounds for the tools'
 * consumers.  See tool_fetch.h.
 */
#include "config.h"

#include "tool_fetch.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_errors.h"

void tool_fetcher_init(struct tool_fetcher *f, struct tool_cluster *cl,
		       const char *topic)
{
	memset(f, 0, sizeof(*f));
	f->cl = cl;
	f->topic = topic;
	f->wait_ms = 500;
	f->partition_max_bytes = 1048576;
	kp_wbuf_init(&f->scratch);
}

void tool_fetcher_free(struct tool_fetcher *f)
{
	free(f->parts);
	kp_wbuf_free(&f->scratch);
}

void tool_fetcher_assign(struct tool_fetcher *f, const int32_t *ids, int n)
{
	free(f->parts);
	f->parts = calloc((size_t)n + 1, sizeof(*f->parts));
	if (f->parts == NULL)
		tool_die("out of memory");
	for (int i = 0; i < n; i++)
		f->parts[i] = (struct tool_fpart){ ids[i], -1, -1 };
	f->nparts = n;
}

void tool_fetcher_resolve(struct tool_fetcher *f)
{
	struct tool_tp *tps = calloc((size_t)f->nparts + 1, sizeof(*tps));
	int n = 0;

	if (tps == NULL)
		tool_die("out of memory");
	for (int i = 0; i < f->nparts; i++) {
		if (f->parts[i].pos >= 0)
			continue;
		if (f->parts[i].committed >= 0) {
			f->parts[i].pos = f->parts[i].committed;
			continue;
		}
		tps[n++] = (struct tool_tp){ f->topic, f->parts[i].id,
					     f->from_beginning ? -2 : -1, -1, 0 };
	}
	tool_list_offsets(f->cl, tps, n, f->isolation);
	for (int k = 0; k < n; k++) {
		if (tps[k].err != 0)
			tool_die("%s-%" PRId32 ": start offset: %s", f->topic,
				 tps[k].partition, tool_err(tps[k].err));
		tool_fetcher_part(f, tps[k].partition)->pos = tps[k].offset;
	}
	free(tps);
}

struct tool_fpart *tool_fetcher_part(struct tool_fetcher *f, int32_t id)
{
	for (int i = 0; i < f->nparts; i++)
		if (f->parts[i].id == id)
			return &f->parts[i];
	return NULL;
}

/*
 * Deliver the records of one partition's fetched data.  Returns -1 on a
 * malformed batch, 0 when the callback stopped, 1 otherwise; *got counts
 * the records delivered.
 */
static int consume_records(struct tool_fetcher *f, struct tool_fpart *pt,
			   kp_records recs, int64_t *got)
{
	const uint8_t *p = recs.ptr;
	size_t left = recs.len > 0 ? (size_t)recs.len : 0;

	while (left > 0) {
		struct kp_record_iter it;
		struct kp_record r;
		size_t size;
		int rc = kp_batch_size(p, left, &size);

		if (rc == KP_BATCH_SHORT)
			break;	/* a partial batch at the end of a fetch */
		if (rc != 0 || size < 17)
			return -1;
		if (p[16] != 2) {
			tool_warn("%s-%" PRId32 ": message format v%d is not "
				  "read by this tool", f->topic, pt->id, p[16]);
			return -1;
		}
		if (kp_record_iter_init(&it, p, size, &f->scratch, 64 << 20) != 0)
			return -1;
		f->bytes += (int64_t)size;
		if (!(it.h.attributes & KP_ATTR_CONTROL)) {
			while ((rc = kp_record_iter_next(&it, &r)) == 1) {
				if (r.offset < pt->pos)
					continue;
				if (!f->on_record(f->arg, pt->id, &r,
						  it.h.attributes &
						  KP_ATTR_LOG_APPEND_TIME))
					return 0;
				pt->pos = r.offset + 1;
				(*got)++;
			}
			if (rc < 0)
				return -1;
		}
		/* Past the batch, also past offsets compaction removed. */
		pt->pos = kp_batch_last_offset(&it.h) + 1;
		p += size;
		left -= size;
	}
	return 1;
}

bool tool_fetcher_round(struct tool_fetcher *f)
{
	int64_t delivered = 0;
	bool stopped = false;
	int rc;
	int32_t *leaders = calloc((size_t)f->nparts + 1, sizeof(*leaders));
	int nl = 0;
	bool got = false, refresh = false;
	struct kp_arena a;

	if (leaders == NULL)
		tool_die("out of memory");
	kp_arena_init(&a, 0);
	for (int i = 0; i < f->nparts; i++) {
		int32_t l = tool_md_leader(f->cl, f->topic, f->parts[i].id);
		bool seen = false;

		if (l < 0) {
			refresh = true;
			continue;
		}
		for (int k = 0; k < nl; k++)
			seen |= leaders[k] == l;
		if (!seen)
			leaders[nl++] = l;
	}
	for (int k = 0; k < nl; k++) {
		struct kp_fetch_req req;
		struct kp_fetch_req_fetch_topic t;
		struct kp_fetch_req_fetch_partition *fp;
		struct kp_conn *c = tool_broker_conn(f->cl, leaders[k]);
		int n = 0;

		if (c == NULL) {
			leaders[k] = -1;
			refresh = true;
			continue;
		}
		fp = kp_arena_calloc(&a, (size_t)f->nparts, sizeof(*fp));
		if (fp == NULL)
			tool_die("out of memory");
		for (int i = 0; i < f->nparts; i++) {
			if (tool_md_leader(f->cl, f->topic,
					   f->parts[i].id) != leaders[k])
				continue;
			kp_struct_init(&kp_fetch_req_fetch_partition_desc, &fp[n]);
			fp[n].partition = f->parts[i].id;
			fp[n].current_leader_epoch = -1;
			fp[n].fetch_offset = f->parts[i].pos;
			fp[n].last_fetched_epoch = -1;
			fp[n].log_start_offset = -1;
			fp[n].partition_max_bytes = f->partition_max_bytes;
			n++;
		}
		kp_struct_init(&kp_fetch_req_desc, &req);
		kp_struct_init(&kp_fetch_req_fetch_topic_desc, &t);
		t.topic = kp_str_c(f->topic);
		t.partitions = fp;
		t.partitions_count = n;
		req.replica_id = -1;
		req.max_wait_ms = f->wait_ms;
		req.min_bytes = 1;
		req.max_bytes = 52428800;
		req.isolation_level = f->isolation;
		req.session_id = 0;
		req.session_epoch = -1;
		req.topics = &t;
		req.topics_count = 1;
		req.forgotten_topics_data = NULL;
		req.forgotten_topics_data_count = 0;
		req.rack_id = kp_str_c("");
		if (kp_conn_send(c, KP_API_FETCH, -1, &req) != 0) {
			tool_broker_drop(f->cl, leaders[k]);
			leaders[k] = -1;
			refresh = true;
		}
	}
	for (int k = 0; k < nl; k++) {
		struct kp_fetch_resp resp;
		struct kp_conn *c;
		int16_t key, ver;

		if (leaders[k] < 0)
			continue;
		c = tool_broker_conn(f->cl, leaders[k]);
		if (c == NULL || kp_conn_recv(c, &key, &ver, &resp, &a) != 0) {
			tool_broker_drop(f->cl, leaders[k]);
			refresh = true;
			continue;
		}
		for (int ti = 0; ti < resp.responses_count; ti++) {
			for (int q = 0; q < resp.responses[ti].partitions_count; q++) {
				const struct kp_fetch_resp_partition_data *pd =
					&resp.responses[ti].partitions[q];
				struct tool_fpart *pt = tool_fetcher_part(f, pd->partition_index);
				int64_t before;

				if (pt == NULL)
					continue;
				if (pd->error_code == KP_ERR_OFFSET_OUT_OF_RANGE) {
					tool_warn("%s-%" PRId32 ": offset %" PRId64
						  " out of range, resetting",
						  f->topic, pt->id, pt->pos);
					pt->pos = -1;
					pt->committed = -1;
					continue;
				}
				if (pd->error_code != 0) {
					refresh = true;
					continue;
				}
				if (stopped)
					continue;
				before = delivered;
				rc = consume_records(f, pt, pd->records, &delivered);
				stopped = rc == 0;
				if (rc < 0)
					tool_die("%s-%" PRId32 ": malformed records "
						 "at offset %" PRId64, f->topic,
						 pt->id, pt->pos);
				got |= delivered > before;
			}
		}
	}
	kp_arena_free(&a);
	free(leaders);
	if (refresh) {
		usleep(100 * 1000);
		tool_metadata(f->cl, NULL, 0, true);
	}
	/* Partitions reset after OFFSET_OUT_OF_RANGE. */
	for (int i = 0; i < f->nparts; i++)
		if (f->parts[i].pos < 0) {
			tool_fetcher_resolve(f);
			break;
		}
	return got;
}
