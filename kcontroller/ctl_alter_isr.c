/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_alter_isr.c - AlterIsr on the event thread; see ctl_alter_isr.h.
 *
 * A leader sends the ISR it wants with the leader epoch and the state
 * znode version it knows.  An older epoch is fenced; a proposal equal to
 * the context's state (leader, epoch and ISR in order) is answered with
 * that state and its version; the rest are written together (fenced
 * multis, ctl_zk_writes_add_isr), each conditional on the version the
 * leader named, keeping the leader epoch.  The context then holds the new
 * ISRs, and every live broker gets them at once in UpdateMetadata: no
 * isr_change_notification round, and no 5 s batching.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "ctl_alter_isr.h"
#include "ctl_batch.h"
#include "ctl_ctx.h"
#include "ctl_event.h"
#include "ctl_zk.h"
#include "kp_arena.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "reassign.h"

/* The topic a request names, or NULL. */
static struct c_topic *named_topic(struct controller *c, kp_str name)
{
	char buf[256];

	if (name.ptr == NULL || name.len <= 0 || (size_t)name.len >= sizeof(buf))
		return NULL;
	memcpy(buf, name.ptr, (size_t)name.len);
	buf[name.len] = '\0';
	return ctl_ctx_topic(c, buf);
}

/* An answer with the context's state of t/p. */
static void answer_state(struct kp_alter_isr_resp_partition_data *out,
			 const struct c_part *cp, struct kp_arena *a)
{
	out->error_code = KP_ERR_NONE;
	out->leader_id = cp->leader;
	out->leader_epoch = cp->leader_epoch;
	out->current_isr_version = cp->zk_version;
	out->isr = kp_arena_calloc(a, (size_t)cp->isr.n + 1, sizeof(int32_t));
	if (out->isr == NULL) {
		out->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
		out->isr_count = 0;
		return;
	}
	if (cp->isr.n > 0)
		memcpy(out->isr, cp->isr.ids, sizeof(int32_t) * (size_t)cp->isr.n);
	out->isr_count = cp->isr.n;
}

static bool same_order(const struct kp_replicas *l, const int32_t *ids, int32_t n)
{
	if (l->n != n)
		return false;
	for (int32_t i = 0; i < n; i++)
		if (l->ids[i] != ids[i])
			return false;
	return true;
}

/* A proposal naming a replica twice, or none, is not an ISR. */
static bool isr_valid(const int32_t *ids, int32_t n)
{
	if (n <= 0 || ids == NULL)
		return false;
	for (int32_t i = 0; i < n; i++)
		for (int32_t j = i + 1; j < n; j++)
			if (ids[i] == ids[j])
				return false;
	return true;
}

/* Where a write's answer goes. */
struct pending {
	struct kp_alter_isr_resp_partition_data *out;
	struct c_topic *t;
	int32_t p;
	bool ok;			/* written (the answer is gone after done) */
};

void ctl_alter_isr(struct controller *c, struct ctl_request *r)
{
	const struct kp_alter_isr_req *req = r->req;
	struct kp_alter_isr_resp *resp = r->resp;
	struct kp_arena *a = r->arena;
	struct ctl_zk_writes d = { 0 };
	struct pending *pend = NULL;
	struct c_broker *cb;
	int32_t total = 0, npend = 0, written = 0, refused = 0, same = 0;
	bool moved = false;

	if (!ctl_ctx_active(c)) {
		resp->error_code = KP_ERR_NOT_CONTROLLER;
		r->done(r);
		return;
	}
	cb = ctl_ctx_broker(c, req->broker_id);
	if (cb == NULL || cb->epoch != req->broker_epoch) {
		KP_INFO("AlterIsr from broker %d with epoch %" PRId64 " ignored: %s",
			req->broker_id, req->broker_epoch,
			cb == NULL ? "not a live broker" : "stale broker epoch");
		resp->error_code = KP_ERR_STALE_BROKER_EPOCH;
		r->done(r);
		return;
	}
	for (int32_t i = 0; i < req->topics_count; i++)
		total += req->topics[i].partitions_count > 0 ? req->topics[i].partitions_count : 0;
	resp->topics = kp_arena_calloc(a, (size_t)req->topics_count + 1, sizeof(*resp->topics));
	pend = calloc((size_t)total + 1, sizeof(*pend));
	if (resp->topics == NULL || pend == NULL) {
		resp->topics = NULL;
		resp->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
		free(pend);
		r->done(r);
		return;
	}
	resp->topics_count = req->topics_count > 0 ? req->topics_count : 0;
	for (int32_t i = 0; i < resp->topics_count; i++) {
		const struct kp_alter_isr_req_topic_data *rt = &req->topics[i];
		struct kp_alter_isr_resp_topic_data *ot = &resp->topics[i];
		struct c_topic *t = named_topic(c, rt->name);
		int32_t np = rt->partitions_count > 0 ? rt->partitions_count : 0;

		ot->name = rt->name;
		ot->partitions = kp_arena_calloc(a, (size_t)np + 1, sizeof(*ot->partitions));
		if (ot->partitions == NULL) {
			resp->topics_count = i;
			resp->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
			break;
		}
		ot->partitions_count = np;
		for (int32_t k = 0; k < np; k++) {
			const struct kp_alter_isr_req_partition_data *rp = &rt->partitions[k];
			struct kp_alter_isr_resp_partition_data *out = &ot->partitions[k];
			struct c_part *cp;

			kp_struct_init(&kp_alter_isr_resp_partition_data_desc, out);
			out->partition_index = rp->partition_index;
			out->leader_id = -1;
			out->leader_epoch = -1;
			out->isr_count = 0;
			if (t == NULL || rp->partition_index < 0 ||
			    rp->partition_index >= t->nparts ||
			    !t->parts[rp->partition_index].has_state) {
				out->error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				refused++;
				continue;
			}
			cp = &t->parts[rp->partition_index];
			if (rp->leader_epoch < cp->leader_epoch) {
				out->error_code = KP_ERR_FENCED_LEADER_EPOCH;
				refused++;
				continue;
			}
			if (cp->leader == req->broker_id && cp->leader_epoch == rp->leader_epoch &&
			    same_order(&cp->isr, rp->new_isr, rp->new_isr_count)) {
				answer_state(out, cp, a);
				same++;
				continue;
			}
			/* Kafka writes whatever it is given; an empty or
			 * repeating list would make a partition without an
			 * electable replica or count one twice */
			if (!isr_valid(rp->new_isr, rp->new_isr_count)) {
				out->error_code = KP_ERR_INVALID_REQUEST;
				refused++;
				continue;
			}
			if (ctl_zk_writes_add_isr(&d, t, rp->partition_index, req->broker_id,
						  rp->leader_epoch, rp->current_isr_version,
						  rp->new_isr, rp->new_isr_count) < 0) {
				out->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
				continue;
			}
			pend[npend++] = (struct pending){ out, t, rp->partition_index };
		}
	}
	if (npend > 0 && ctl_zk_writes_run(c, &d) == MOVED)
		moved = true;
	for (int32_t i = 0; i < npend; i++) {
		const struct ctl_zk_write *w = &d.w[i];

		if (moved)
			pend[i].out->error_code = KP_ERR_NOT_CONTROLLER;
		else if (w->rc == 0) {
			answer_state(pend[i].out, &pend[i].t->parts[pend[i].p], a);
			pend[i].ok = true;
			written++;
		} else if (w->rc == -EAGAIN) {
			pend[i].out->error_code = KP_ERR_INVALID_UPDATE_VERSION;
			refused++;
		} else {
			pend[i].out->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
		}
	}
	ctl_zk_writes_free(&d);
	if (moved) {
		/* another controller took over: the broker asks it again */
		resp->error_code = KP_ERR_NOT_CONTROLLER;
		free(pend);
		r->done(r);
		return;
	}
	/* every partition named, written or not, to every live broker (the
	 * leader learns the truth of a refused one too) */
	for (int32_t i = 0; i < req->topics_count; i++) {
		struct c_topic *t = named_topic(c, req->topics[i].name);

		for (int32_t k = 0; t != NULL && k < req->topics[i].partitions_count; k++) {
			int32_t p = req->topics[i].partitions[k].partition_index;

			if (p >= 0 && p < t->nparts && t->parts[p].has_state)
				ctl_batch_um(c, t, p);
		}
	}
	ctl_batch_flush(c);
	if (written > 0 || refused > 0)
		KP_INFO("AlterIsr from broker %d: %d ISR(s) written, %d refused, %d "
			"already so", req->broker_id, written, refused, same);
	r->done(r);
	/* after the answer, as Kafka: an ISR that now holds every target
	 * replica can finish its reassignment */
	for (int32_t i = 0; i < npend && ctl_ctx_active(c); i++)
		if (pend[i].ok && ctl_ctx_reassigning(&pend[i].t->parts[pend[i].p]))
			reassign_isr_change(c, pend[i].t->name, pend[i].p);
	free(pend);
}
