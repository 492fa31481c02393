/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_zk.c - the controller's ZooKeeper reads and writes; see ctl_zk.h.
 *
 * Fencing: every ZooKeeper write that decides leadership is a multi whose
 * first op checks the data version of /controller_epoch we got when
 * elected; a failed check means another controller exists, and we resign
 * (a Resign event).  Partition state writes are also conditional on the
 * state znode's version (re-read and decided again on a conflict).
 *
 * Scale: what an event changes for many partitions is written with
 * kp_zk_batch_sync: fenced multis of up to MULTI_GROUP state writes (new
 * partitions' parent znodes likewise), all sent before any answer is
 * awaited.  Event thread only.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl_ctx.h"
#include "ctl_event.h"
#include "ctl_zk.h"
#include "kp_log.h"
#include "kp_zkdata.h"

/* ------------------------------------------------------------- watches */

/*
 * A watch fired (on the loop's thread, where ZooKeeper delivers watches):
 * it becomes the event of its znode (Kafka's ZNodeChangeHandlers), and
 * nothing else happens here.
 */
static void on_watch(enum kp_zk_event ev, const char *path, void *arg)
{
	static const struct {
		const char *path;
		enum ctl_event_type type;
	} znodes[] = {
		{ "/controller", CTL_EV_CONTROLLER_CHANGE },
		{ "/brokers/ids", CTL_EV_BROKER_CHANGE },
		{ "/brokers/topics", CTL_EV_TOPIC_CHANGE },
		{ "/admin/delete_topics", CTL_EV_TOPIC_DELETION },
		{ "/isr_change_notification", CTL_EV_ISR_CHANGE },
		{ "/log_dir_event_notification", CTL_EV_LOG_DIR_EVENT },
		{ "/admin/reassign_partitions", CTL_EV_REASSIGN_ZNODE },
		{ "/admin/preferred_replica_election", CTL_EV_PREFERRED_ZNODE },
	};
	struct controller *c = arg;
	struct ctl_event *e;

	if (ev == KP_ZK_EV_NOT_WATCHING)
		return;
	for (size_t i = 0; i < sizeof(znodes) / sizeof(znodes[0]); i++)
		if (strcmp(path, znodes[i].path) == 0) {
			ctl_event_put(c->events, ctl_event_new(znodes[i].type));
			return;
		}
	/* a topic znode's data: partitions were added */
	if (strncmp(path, "/brokers/topics/", 16) != 0 ||
	    strchr(path + 16, '/') != NULL || ev != KP_ZK_EV_CHANGED)
		return;
	e = ctl_event_new(CTL_EV_PARTITION_MODIFICATION);
	if (e != NULL && (e->u.topic.name = strdup(path + 16)) == NULL) {
		free(e);
		e = NULL;
	}
	if (e == NULL)
		KP_ERROR("%s changed: event lost (out of memory)", path);
	ctl_event_put(c->events, e);
}

int ctl_zk_read(struct controller *c, enum kp_zk_read what, const char *path,
		   bool watch, struct kp_zk_result *res)
{
	return kp_zk_read_watch_sync(c->zk, what, path, watch ? on_watch : NULL,
				     watch ? c : NULL, res);
}

/* A fenced multi's result: did its first op, the /controller_epoch
 * check, fail (another controller took over)?  Only the server's answer
 * says so: a version that moved, or no such znode.  A multi lost with the
 * connection or the session has no per-op codes; the session's expiry is
 * handled on its own. */
static bool fence_failed(const struct kp_zk_result *r)
{
	return r->rc != KP_ZK_OK && r->nops > 0 &&
	       (r->op_rc[0] == KP_ZK_BADVERSION || r->op_rc[0] == KP_ZK_NONODE);
}

/*
 * A controller-fenced multi: check(/controller_epoch, our version) first.
 * Returns 0, MOVED (a Resign is queued) when the check fails, or the
 * failing op's code, with per-op codes in res.
 */
int ctl_zk_fenced(struct controller *c, const struct kp_zk_op *ops, int n,
		  struct kp_zk_result *res)
{
	struct kp_zk_op *all;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!ctl_ctx_active(c))
		return MOVED;	/* fenced already: a Resign is queued */
	all = calloc((size_t)n + 1, sizeof(*all));
	if (all == NULL)
		return -1;
	all[0] = (struct kp_zk_op){ .type = KP_ZK_OP_CHECK, .path = "/controller_epoch",
				    .version = c->epoch_zkv };
	memcpy(&all[1], ops, sizeof(*ops) * (size_t)n);
	rc = kp_zk_multi_sync(c->zk, all, n + 1, res);
	free(all);
	if (fence_failed(res)) {
		if (ctl_ctx_active(c))
			KP_WARN("controller epoch %d is no longer current (%s): resigning",
				c->epoch, kp_zk_strerror(res->op_rc[0]));
		ctl_ctx_resign_later(c);
		return MOVED;
	}
	return rc;
}

/* ------------------------------------------------------ partition states */

void ctl_zk_state_path(char *buf, size_t n, const char *topic, int32_t p)
{
	snprintf(buf, n, "/brokers/topics/%s/partitions/%d/state", topic, p);
}

/* A state znode read (res) into the context: 0, MOVED or -1. */
static int apply_state(struct controller *c, struct c_topic *t, int32_t p,
		       const struct kp_zk_result *res)
{
	struct c_part *cp = &t->parts[p];
	struct kp_zk_partition_state s;
	char path[512], err[256];

	ctl_zk_state_path(path, sizeof(path), t->name, p);
	if (res->rc == KP_ZK_NONODE) {
		cp->has_state = false;
		return 0;
	}
	if (res->rc != KP_ZK_OK || res->data == NULL ||
	    kp_zk_partition_state_decode(res->data, (size_t)res->len, &s, err,
					 sizeof(err)) < 0) {
		KP_ERROR("reading %s: %s", path, res->rc != KP_ZK_OK
			 ? kp_zk_strerror(res->rc) : res->data == NULL ? "no data" : err);
		return -1;
	}
	cp->has_state = true;
	cp->leader = s.leader;
	cp->leader_epoch = s.leader_epoch;
	cp->ctl_epoch = s.controller_epoch;
	cp->zk_version = res->stat.version;
	ctl_ctx_list_set(&cp->isr, s.isr.ids, s.isr.n);
	kp_zk_partition_state_free(&s);
	if (cp->ctl_epoch > c->epoch) {
		if (ctl_ctx_active(c))
			KP_WARN("%s was written by controller epoch %d > ours (%d): "
				"resigning", path, cp->ctl_epoch, c->epoch);
		ctl_ctx_resign_later(c);
		return MOVED;
	}
	return 0;
}

int ctl_zk_read_state(struct controller *c, struct c_topic *t, int32_t p)
{
	struct kp_zk_result res;
	char path[512];
	int rc;

	ctl_zk_state_path(path, sizeof(path), t->name, p);
	kp_zk_get_sync(c->zk, path, &res);
	rc = apply_state(c, t, p, &res);
	kp_zk_result_free(&res);
	return rc;
}

/* The states of partitions ps[i] of ts[i], i < n, in one pipelined
 * batch: 0 or MOVED. */
int ctl_zk_read_some_states(struct controller *c, struct c_topic **ts,
			    const int32_t *ps, int n)
{
	struct kp_zk_batch_item *it = calloc((size_t)n + 1, sizeof(*it));
	char **paths = calloc((size_t)n + 1, sizeof(*paths));
	int rc = 0;

	if (it == NULL || paths == NULL) {
		free(it);
		free(paths);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char buf[512];

		ctl_zk_state_path(buf, sizeof(buf), ts[i]->name, ps[i]);
		paths[i] = strdup(buf);
		it[i] = (struct kp_zk_batch_item){ .kind = KP_ZK_BATCH_GET,
						   .path = paths[i] ? paths[i] : "/" };
	}
	kp_zk_batch_sync(c->zk, it, n);
	for (int i = 0; i < n; i++)
		if (rc != MOVED && apply_state(c, ts[i], ps[i], &it[i].res) == MOVED)
			rc = MOVED;
	for (int i = 0; i < n; i++) {
		kp_zk_result_free(&it[i].res);
		free(paths[i]);
	}
	free(it);
	free(paths);
	return rc;
}

/* Every partition state of topics[0..n) in one pipelined batch: 0 or
 * MOVED. */
int ctl_zk_read_states(struct controller *c, struct c_topic **topics, int n)
{
	struct c_topic **ts;
	int32_t *ps;
	size_t total = 0, k = 0;
	int rc;

	for (int i = 0; i < n; i++)
		total += (size_t)topics[i]->nparts;
	if (total > INT_MAX)
		return -1;
	ts = calloc(total + 1, sizeof(*ts));
	ps = calloc(total + 1, sizeof(*ps));
	if (ts == NULL || ps == NULL) {
		free(ts);
		free(ps);
		return -1;
	}
	for (int i = 0; i < n; i++)
		for (int32_t p = 0; p < topics[i]->nparts; p++, k++) {
			ts[k] = topics[i];
			ps[k] = p;
		}
	rc = ctl_zk_read_some_states(c, ts, ps, (int)total);
	free(ts);
	free(ps);
	return rc;
}

/* The context after a successful state write. */
static void state_written(struct controller *c, struct c_topic *t, int32_t p,
			  int32_t leader, int32_t leader_epoch, const int32_t *isr,
			  int32_t nisr)
{
	struct c_part *cp = &t->parts[p];

	cp->zk_version = cp->has_state ? cp->zk_version + 1 : 0;
	cp->has_state = true;
	cp->leader = leader;
	cp->leader_epoch = leader_epoch;
	cp->ctl_epoch = c->epoch;
	ctl_ctx_list_set(&cp->isr, isr, nisr);
}

/*
 * Write leader/ISR with leader epoch +1 (or 0 when creating), fenced and
 * conditional on the znode version.  0; -EAGAIN after a conflict (the
 * context is re-read: decide again); MOVED; -1.
 */
int ctl_zk_write_state(struct controller *c, struct c_topic *t, int32_t p,
		       int32_t leader, const int32_t *isr, int32_t nisr)
{
	struct c_part *cp = &t->parts[p];
	struct kp_zk_partition_state s;
	struct kp_zk_result res;
	struct kp_zk_op op;
	char path[512], *json;
	int rc;

	s.controller_epoch = c->epoch;
	s.leader = leader;
	s.leader_epoch = cp->has_state ? cp->leader_epoch + 1 : 0;
	s.isr.ids = (int32_t *)isr;
	s.isr.n = nisr;
	json = kp_zk_partition_state_encode(&s);
	if (json == NULL)
		return -1;
	ctl_zk_state_path(path, sizeof(path), t->name, p);
	if (!cp->has_state) {
		char parent[512];

		snprintf(parent, sizeof(parent), "/brokers/topics/%s/partitions/%d",
			 t->name, p);
		kp_zk_ensure_path(c->zk, parent);
		op = (struct kp_zk_op){ .type = KP_ZK_OP_CREATE, .path = path,
					.data = json, .len = (int32_t)strlen(json),
					.mode = KP_ZK_PERSISTENT };
	} else {
		op = (struct kp_zk_op){ .type = KP_ZK_OP_SET, .path = path,
					.data = json, .len = (int32_t)strlen(json),
					.version = cp->zk_version };
	}
	rc = ctl_zk_fenced(c, &op, 1, &res);
	free(json);
	if (rc == MOVED) {
		kp_zk_result_free(&res);
		return MOVED;
	}
	if (rc == KP_ZK_BADVERSION || rc == KP_ZK_NODEEXISTS || rc == KP_ZK_NONODE) {
		kp_zk_result_free(&res);
		rc = ctl_zk_read_state(c, t, p);
		return rc == MOVED ? MOVED : -EAGAIN;
	}
	kp_zk_result_free(&res);
	if (rc != KP_ZK_OK) {
		KP_ERROR("writing %s: %s", path, kp_zk_strerror(rc));
		return -1;
	}
	state_written(c, t, p, leader, s.leader_epoch, isr, nisr);
	return 0;
}

/* Pipelined batches stay below what one ZooKeeper connection queues
 * comfortably. */
#define WRITE_WINDOW 4096
/* Partitions per multi: ZooKeeper logs (and fsyncs) transactions, not
 * operations, so 10,000 new partitions are 100 transactions, not 10,000.
 * A multi fails as a whole: its members are then retried one by one. */
#define MULTI_GROUP 100

/* Create paths (empty persistent znodes) in multis of MULTI_GROUP; the
 * members of a multi that failed (one of them existed) one by one.  An
 * existing znode is fine. */
static void create_grouped(struct controller *c, char **paths, int n)
{
	int ngroups = (n + MULTI_GROUP - 1) / MULTI_GROUP, nretry = 0;
	struct kp_zk_batch_item *it = calloc((size_t)(n > ngroups ? n : ngroups) + 1,
					     sizeof(*it));
	struct kp_zk_op *ops = calloc((size_t)n + 1, sizeof(*ops));
	char **retry = calloc((size_t)n + 1, sizeof(*retry));

	if (it == NULL || ops == NULL || retry == NULL)
		goto out;
	for (int i = 0; i < n; i++)
		ops[i] = (struct kp_zk_op){ .type = KP_ZK_OP_CREATE, .path = paths[i],
					    .mode = KP_ZK_PERSISTENT };
	for (int g = 0; g < ngroups; g++) {
		int first = g * MULTI_GROUP;

		it[g] = (struct kp_zk_batch_item){ .kind = KP_ZK_BATCH_MULTI,
						   .ops = &ops[first],
						   .nops = n - first < MULTI_GROUP
							   ? n - first : MULTI_GROUP };
	}
	kp_zk_batch_sync(c->zk, it, ngroups);
	for (int g = 0; g < ngroups; g++) {
		if (it[g].res.rc != KP_ZK_OK)
			for (int k = 0; k < it[g].nops; k++)
				retry[nretry++] = paths[g * MULTI_GROUP + k];
		kp_zk_result_free(&it[g].res);
	}
	if (nretry == 0)
		goto out;
	memset(it, 0, sizeof(*it) * (size_t)nretry);
	for (int i = 0; i < nretry; i++)
		it[i] = (struct kp_zk_batch_item){ .kind = KP_ZK_BATCH_CREATE,
						   .path = retry[i] };
	kp_zk_batch_sync(c->zk, it, nretry);
	for (int i = 0; i < nretry; i++)
		kp_zk_result_free(&it[i].res);
out:
	free(it);
	free(ops);
	free(retry);
}

/* Parents of new partitions' state znodes, in two rounds (existing ones
 * are fine). */
static void ensure_parents(struct controller *c, struct ctl_zk_write *w, int n)
{
	char **paths = calloc((size_t)n + 1, sizeof(*paths));
	int m = 0;

	if (paths == NULL)
		return;
	for (int round = 0; round < 2; round++) {
		m = 0;
		for (int i = 0; i < n; i++) {
			char buf[512];

			if (w[i].t->parts[w[i].p].has_state)
				continue;
			if (round == 0) {
				/* once per topic: consecutive items share it */
				if (i > 0 && w[i - 1].t == w[i].t && m > 0)
					continue;
				snprintf(buf, sizeof(buf), "/brokers/topics/%s/partitions",
					 w[i].t->name);
			} else {
				snprintf(buf, sizeof(buf), "/brokers/topics/%s/partitions/%d",
					 w[i].t->name, w[i].p);
			}
			paths[m] = strdup(buf);
			if (paths[m] == NULL)
				break;
			m++;
		}
		create_grouped(c, paths, m);
		for (int i = 0; i < m; i++) {
			free(paths[i]);
			paths[i] = NULL;
		}
	}
	free(paths);
}

/*
 * One round of state writes: multis of up to group partitions, each
 * [check /controller_epoch, write state, ...].  A member's rc: 0
 * written, -EAGAIN its znode changed (a one-partition multi), -2 its
 * multi failed for another member (retry alone), -1 an error.  Returns
 * MOVED when the controller epoch check failed.
 */
static int write_round(struct controller *c, struct ctl_zk_write *w, const int *idx,
		       int n, int group, char **json, char **paths, int32_t *epochs)
{
	int ngroups = (n + group - 1) / group;
	struct kp_zk_batch_item *it = calloc((size_t)ngroups + 1, sizeof(*it));
	struct kp_zk_op *ops = calloc((size_t)(n + ngroups) + 1, sizeof(*ops));
	bool moved = false;
	int o = 0;

	if (it == NULL || ops == NULL) {
		free(it);
		free(ops);
		return 0;	/* every rc stays -1 */
	}
	for (int g = 0; g < ngroups; g++) {
		int first = g * group, cnt = n - first < group ? n - first : group;

		it[g] = (struct kp_zk_batch_item){ .kind = KP_ZK_BATCH_MULTI,
						   .ops = &ops[o], .nops = cnt + 1 };
		ops[o++] = (struct kp_zk_op){ .type = KP_ZK_OP_CHECK,
					      .path = "/controller_epoch",
					      .version = c->epoch_zkv };
		for (int k = 0; k < cnt; k++) {
			int i = idx[first + k];
			struct c_part *cp = &w[i].t->parts[w[i].p];

			if (cp->has_state)
				ops[o++] = (struct kp_zk_op){
					.type = KP_ZK_OP_SET, .path = paths[i], .data = json[i],
					.len = (int32_t)strlen(json[i]),
					.version = w[i].isr_only ? w[i].version
								 : cp->zk_version };
			else
				ops[o++] = (struct kp_zk_op){
					.type = KP_ZK_OP_CREATE, .path = paths[i], .data = json[i],
					.len = (int32_t)strlen(json[i]),
					.mode = KP_ZK_PERSISTENT };
		}
	}
	kp_zk_batch_sync(c->zk, it, ngroups);
	for (int g = 0; g < ngroups; g++) {
		struct kp_zk_result *r = &it[g].res;
		int first = g * group, cnt = it[g].nops - 1;

		for (int k = 0; k < cnt; k++) {
			int i = idx[first + k];

			if (r->rc == KP_ZK_OK) {
				state_written(c, w[i].t, w[i].p, w[i].leader, epochs[i],
					      w[i].isr, w[i].nisr);
				if (w[i].isr_only)
					w[i].t->parts[w[i].p].zk_version = w[i].version + 1;
				w[i].rc = 0;
			} else if (fence_failed(r)) {
				moved = true;
			} else if (cnt > 1) {
				w[i].rc = -2;
			} else if (r->rc == KP_ZK_BADVERSION || r->rc == KP_ZK_NODEEXISTS ||
				   r->rc == KP_ZK_NONODE) {
				w[i].rc = -EAGAIN;
			} else {
				KP_ERROR("writing %s: %s", paths[i], kp_zk_strerror(r->rc));
			}
		}
		kp_zk_result_free(r);
	}
	free(it);
	free(ops);
	return moved ? MOVED : 0;
}

/*
 * Write the decided states of w[0..n) (fenced by the controller epoch),
 * pipelined and MULTI_GROUP partitions per multi.  Written ones update
 * the context; an item whose znode changed under us gets rc -EAGAIN and
 * its state re-read.  MOVED when another controller took over (we
 * resigned).
 */
static int write_states(struct controller *c, struct ctl_zk_write *w, int n)
{
	char **json, **paths;
	int32_t *epochs;
	int *idx, nretry = 0;
	bool moved = false;

	if (!ctl_ctx_active(c))
		return MOVED;
	if (n > WRITE_WINDOW) {
		for (int off = 0; off < n; off += WRITE_WINDOW)
			if (write_states(c, w + off, n - off < WRITE_WINDOW
					     ? n - off : WRITE_WINDOW) == MOVED)
				return MOVED;
		return 0;
	}
	for (int i = 0; i < n; i++)
		w[i].rc = -1;
	json = calloc((size_t)n + 1, sizeof(*json));
	paths = calloc((size_t)n + 1, sizeof(*paths));
	epochs = calloc((size_t)n + 1, sizeof(*epochs));
	idx = calloc((size_t)n + 1, sizeof(*idx));
	if (idx == NULL || json == NULL || paths == NULL || epochs == NULL)
		goto out;
	ensure_parents(c, w, n);
	for (int i = 0; i < n; i++) {
		struct c_part *cp = &w[i].t->parts[w[i].p];
		struct kp_zk_partition_state st;
		char buf[512];

		st.controller_epoch = c->epoch;
		st.leader = w[i].leader;
		st.leader_epoch = epochs[i] = w[i].isr_only ? w[i].epoch
					      : cp->has_state ? cp->leader_epoch + 1 : 0;
		st.isr.ids = w[i].isr;
		st.isr.n = w[i].nisr;
		json[i] = kp_zk_partition_state_encode(&st);
		ctl_zk_state_path(buf, sizeof(buf), w[i].t->name, w[i].p);
		paths[i] = strdup(buf);
		if (json[i] == NULL || paths[i] == NULL)
			goto out;
		idx[i] = i;
	}
	moved = write_round(c, w, idx, n, MULTI_GROUP, json, paths, epochs) == MOVED;
	for (int i = 0; i < n && !moved; i++)
		if (w[i].rc == -2)
			idx[nretry++] = i;
	if (nretry > 0)
		moved = write_round(c, w, idx, nretry, 1, json, paths, epochs) == MOVED;
	if (moved) {
		if (ctl_ctx_active(c))
			KP_WARN("controller epoch %d is no longer current: resigning",
				c->epoch);
		ctl_ctx_resign_later(c);
	} else {
		/* conflicts: someone else wrote; the context learns what */
		for (int i = 0; i < n && ctl_ctx_active(c); i++)
			if (w[i].rc == -EAGAIN && ctl_zk_read_state(c, w[i].t, w[i].p) == MOVED)
				moved = true;
	}
out:
	for (int i = 0; json != NULL && i < n; i++)
		free(json[i]);
	for (int i = 0; paths != NULL && i < n; i++)
		free(paths[i]);
	free(json);
	free(paths);
	free(epochs);
	free(idx);
	return moved ? MOVED : 0;
}

/* Room for n more writes with up to nids ISR members in all. */
static int writes_reserve(struct ctl_zk_writes *d, int n, size_t nids)
{
	if (d->n + n > d->cap) {
		int nc = d->cap ? d->cap : 256;
		struct ctl_zk_write *nw;

		while (nc < d->n + n)
			nc *= 2;
		nw = realloc(d->w, sizeof(*nw) * (size_t)nc);
		if (nw == NULL)
			return -1;
		d->w = nw;
		d->cap = nc;
	}
	if (d->nids + nids > d->capids) {
		size_t nc = d->capids ? d->capids : 1024;
		int32_t *ni;

		while (nc < d->nids + nids)
			nc *= 2;
		ni = realloc(d->ids, sizeof(*ni) * nc);
		if (ni == NULL)
			return -1;
		/* w[].isr are offsets into ids until ctl_zk_writes_run */
		d->ids = ni;
		d->capids = nc;
	}
	return 0;
}

int ctl_zk_writes_add(struct ctl_zk_writes *d, struct c_topic *t, int32_t p,
		      int32_t leader, const int32_t *isr, int32_t nisr)
{
	struct ctl_zk_write *w;

	if (writes_reserve(d, 1, (size_t)nisr) < 0)
		return -1;
	w = &d->w[d->n++];
	if (nisr > 0)
		memcpy(d->ids + d->nids, isr, sizeof(*isr) * (size_t)nisr);
	*w = (struct ctl_zk_write){ t, p, leader, (int32_t *)(uintptr_t)d->nids, nisr,
				    -1 };
	d->nids += (size_t)nisr;
	return 0;
}

int ctl_zk_writes_add_isr(struct ctl_zk_writes *d, struct c_topic *t, int32_t p,
			  int32_t leader, int32_t epoch, int32_t version,
			  const int32_t *isr, int32_t nisr)
{
	struct ctl_zk_write *w;

	if (!t->parts[p].has_state || ctl_zk_writes_add(d, t, p, leader, isr, nisr) < 0)
		return -1;
	w = &d->w[d->n - 1];
	w->isr_only = true;
	w->epoch = epoch;
	w->version = version;
	return 0;
}

int ctl_zk_writes_run(struct controller *c, struct ctl_zk_writes *d)
{
	/* the ISR storage stopped moving: offsets become pointers */
	for (int i = 0; i < d->n; i++)
		d->w[i].isr = d->ids + (size_t)(uintptr_t)d->w[i].isr;
	return d->n > 0 ? write_states(c, d->w, d->n) : 0;
}

void ctl_zk_writes_free(struct ctl_zk_writes *d)
{
	free(d->w);
	free(d->ids);
	memset(d, 0, sizeof(*d));
}

/* ---------------------------------------------------------------- topics */

/* A topic from its znode's read (res); NULL when unreadable. */
static struct c_topic *topic_from(const char *name, const struct kp_zk_result *res)
{
	struct kp_zk_topic zt;
	struct c_topic *t;
	char err[256];

	if (res->rc != KP_ZK_OK || res->data == NULL ||
	    kp_zk_topic_decode(res->data, (size_t)res->len, &zt, err, sizeof(err)) < 0) {
		if (res->rc != KP_ZK_NONODE)
			KP_ERROR("reading /brokers/topics/%s: %s", name, res->rc != KP_ZK_OK
				 ? kp_zk_strerror(res->rc)
				 : res->data == NULL ? "no data" : err);
		return NULL;
	}
	t = ctl_ctx_topic_new(name, zt.npartitions);
	if (t == NULL) {
		kp_zk_topic_free(&zt);
		return NULL;
	}
	memcpy(t->topic_id, zt.topic_id, sizeof(t->topic_id));
	for (int32_t p = 0; p < t->nparts; p++) {
		struct c_part *cp = &t->parts[p];

		cp->replicas = zt.parts[p];
		zt.parts[p] = (struct kp_replicas){ NULL, 0 };
		/* a reassignment in progress (reassign.c resumes it) */
		if (zt.adding != NULL && zt.adding[p].n > 0)
			ctl_ctx_list_set(&cp->adding, zt.adding[p].ids, zt.adding[p].n);
		if (zt.removing != NULL && zt.removing[p].n > 0)
			ctl_ctx_list_set(&cp->removing, zt.removing[p].ids,
					 zt.removing[p].n);
	}
	kp_zk_topic_free(&zt);
	return t;
}

/*
 * Kafka 2.8's controller gives a topic znode that has no topic id one (a
 * topic made by an older tool), written back fenced and conditional on the
 * version read, so LeaderAndIsr v5, UpdateMetadata v7 and Metadata v10+
 * carry the same id everywhere.  A failed write leaves the topic without
 * one; the znode's next read tries again.
 */
static void ensure_topic_id(struct controller *c, struct c_topic *t,
			    const char *name, const char *known,
			    const struct kp_zk_result *res)
{
	struct kp_zk_topic zt;
	struct kp_zk_result wr;
	struct kp_zk_op op;
	char err[256], path[512];
	char *json;
	int rc;

	if (t == NULL || t->topic_id[0] != '\0' || !ctl_ctx_active(c) ||
	    kp_zk_topic_decode(res->data, (size_t)res->len, &zt, err, sizeof(err)) < 0)
		return;
	/* the id we already use for it, if its znode lost it */
	if (known != NULL && known[0] != '\0')
		snprintf(zt.topic_id, sizeof(zt.topic_id), "%s", known);
	else
		kp_cluster_id_generate(zt.topic_id);
	zt.version = 3;
	json = kp_zk_topic_encode(&zt);
	if (json == NULL) {
		kp_zk_topic_free(&zt);
		return;
	}
	snprintf(path, sizeof(path), "/brokers/topics/%s", name);
	op = (struct kp_zk_op){ .type = KP_ZK_OP_SET, .path = path, .data = json,
				.len = (int32_t)strlen(json), .version = res->stat.version };
	rc = ctl_zk_fenced(c, &op, 1, &wr);
	kp_zk_result_free(&wr);
	free(json);
	if (rc == 0) {
		memcpy(t->topic_id, zt.topic_id, sizeof(t->topic_id));
		KP_INFO("topic %s had no topic id: assigned %s", name, t->topic_id);
	} else if (rc != MOVED) {
		KP_WARN("cannot give topic %s a topic id: %s", name, kp_zk_strerror(rc));
	}
	kp_zk_topic_free(&zt);
}

struct c_topic *ctl_zk_load_topic(struct controller *c, const char *name,
				  const char *known_id)
{
	struct kp_zk_result res;
	struct c_topic *t;
	char path[512];

	snprintf(path, sizeof(path), "/brokers/topics/%s", name);
	ctl_zk_read(c, KP_ZK_READ_DATA, path, true, &res);
	t = topic_from(name, &res);
	ensure_topic_id(c, t, name, known_id, &res);
	kp_zk_result_free(&res);
	return t;
}

/*
 * Topic znodes of names[0..n) (with data watches) in one pipelined batch;
 * out[i] NULL for the unreadable ones.  -1 when out of memory.
 */
int ctl_zk_load_topics(struct controller *c, char **names, int n,
		       struct c_topic **out)
{
	struct kp_zk_batch_item *it = calloc((size_t)n + 1, sizeof(*it));
	char **paths = calloc((size_t)n + 1, sizeof(*paths));

	if (it == NULL || paths == NULL) {
		free(it);
		free(paths);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char buf[512];

		snprintf(buf, sizeof(buf), "/brokers/topics/%s", names[i]);
		paths[i] = strdup(buf);
		it[i] = (struct kp_zk_batch_item){ .kind = KP_ZK_BATCH_GET,
						   .path = paths[i] ? paths[i] : "/",
						   .watch = on_watch, .watch_arg = c };
	}
	kp_zk_batch_sync(c->zk, it, n);
	for (int i = 0; i < n; i++) {
		out[i] = topic_from(names[i], &it[i].res);
		ensure_topic_id(c, out[i], names[i], NULL, &it[i].res);
		kp_zk_result_free(&it[i].res);
		free(paths[i]);
	}
	free(it);
	free(paths);
	return 0;
}

/*
 * Replace partition p's assignment in the topic znode (read fresh, so a
 * topic id or partitions added meanwhile are kept), fenced and
 * conditional on the version read.  0, MOVED or -1.
 */
int ctl_zk_write_assignment(struct controller *c, struct c_topic *t, int32_t p,
			    const struct kp_replicas *rs, const struct kp_replicas *adding,
			    const struct kp_replicas *removing)
{
	char path[512], err[256];

	snprintf(path, sizeof(path), "/brokers/topics/%s", t->name);
	for (int attempt = 0; attempt < 3; attempt++) {
		struct kp_zk_result res;
		struct kp_zk_topic zt;
		struct kp_zk_op op;
		char *json = NULL;
		int32_t version;
		int rc = kp_zk_get_sync(c->zk, path, &res);

		if (rc != KP_ZK_OK || res.data == NULL ||
		    kp_zk_topic_decode(res.data, (size_t)res.len, &zt, err, sizeof(err)) < 0) {
			KP_ERROR("reading %s: %s", path, rc != KP_ZK_OK ? kp_zk_strerror(rc)
					: res.data == NULL ? "no data" : err);
			kp_zk_result_free(&res);
			return -1;
		}
		version = res.stat.version;
		kp_zk_result_free(&res);
		if (p >= zt.npartitions) {
			kp_zk_topic_free(&zt);
			return -1;
		}
		if (zt.adding == NULL)
			zt.adding = calloc((size_t)zt.npartitions, sizeof(*zt.adding));
		if (zt.removing == NULL)
			zt.removing = calloc((size_t)zt.npartitions, sizeof(*zt.removing));
		if (zt.adding != NULL && zt.removing != NULL) {
			ctl_ctx_list_set(&zt.parts[p], rs->ids, rs->n);
			ctl_ctx_list_set(&zt.adding[p], adding->ids, adding->n);
			ctl_ctx_list_set(&zt.removing[p], removing->ids, removing->n);
			json = kp_zk_topic_encode(&zt);
		}
		kp_zk_topic_free(&zt);
		if (json == NULL)
			return -1;
		op = (struct kp_zk_op){ .type = KP_ZK_OP_SET, .path = path, .data = json,
					.len = (int32_t)strlen(json), .version = version };
		rc = ctl_zk_fenced(c, &op, 1, &res);
		kp_zk_result_free(&res);
		free(json);
		if (rc == MOVED)
			return MOVED;
		if (rc == KP_ZK_BADVERSION)
			continue;	/* partitions were added meanwhile */
		if (rc != KP_ZK_OK) {
			KP_ERROR("writing %s: %s", path, kp_zk_strerror(rc));
			return -1;
		}
		return 0;
	}
	return -1;
}

int ctl_zk_delete_topic(struct controller *c, const struct c_topic *t)
{
	struct kp_zk_result res;
	struct kp_zk_op *ops;
	char **paths;
	int n = 0, cap = 2 * t->nparts + 8, rc = -1;

	ops = calloc((size_t)cap, sizeof(*ops));
	paths = calloc((size_t)cap, sizeof(*paths));
	if (ops == NULL || paths == NULL)
		goto out;
	/* the tree under the topic, leaves first: those that exist */
	for (int32_t p = 0; p < t->nparts; p++) {
		char buf[512];

		ctl_zk_state_path(buf, sizeof(buf), t->name, p);
		if (kp_zk_exists_sync(c->zk, buf, NULL) == KP_ZK_OK)
			paths[n++] = strdup(buf);
		snprintf(buf, sizeof(buf), "/brokers/topics/%s/partitions/%d", t->name, p);
		if (kp_zk_exists_sync(c->zk, buf, NULL) == KP_ZK_OK)
			paths[n++] = strdup(buf);
	}
	{
		char buf[512];
		const char *dirs[] = { "/brokers/topics", "/brokers/topics",
				       "/config/topics", "/admin/delete_topics" };

		for (size_t i = 0; i < 4; i++) {
			snprintf(buf, sizeof(buf), "%s/%s%s", dirs[i], t->name,
				 i == 0 ? "/partitions" : "");
			if (kp_zk_exists_sync(c->zk, buf, NULL) == KP_ZK_OK)
				paths[n++] = strdup(buf);
		}
	}
	for (int i = 0; i < n; i++)
		ops[i] = (struct kp_zk_op){ .type = KP_ZK_OP_DELETE, .path = paths[i],
					    .version = -1 };
	rc = ctl_zk_fenced(c, ops, n, &res);
	kp_zk_result_free(&res);
out:
	for (int i = 0; paths != NULL && i < n; i++)
		free(paths[i]);
	free(paths);
	free(ops);
	return rc;
}

bool ctl_zk_unclean_allowed(struct controller *c, const char *topic)
{
	struct kp_zk_entity_config cfg;
	struct kp_zk_result res;
	char path[512], err[256];
	bool allowed = kp_config_bool(&c->cfg, "unclean.leader.election.enable");

	snprintf(path, sizeof(path), "/config/topics/%s", topic);
	if (kp_zk_get_sync(c->zk, path, &res) == KP_ZK_OK && res.data != NULL &&
	    kp_zk_config_decode(res.data, (size_t)res.len, &cfg, err, sizeof(err)) == 0) {
		const char *v = kp_zk_config_get(&cfg, "unclean.leader.election.enable");

		if (v != NULL)
			allowed = strcasecmp(v, "true") == 0;
		kp_zk_config_free(&cfg);
	}
	kp_zk_result_free(&res);
	return allowed;
}

/* --------------------------------------------------------------- brokers */

static int read_broker(struct controller *c, int32_t id, struct c_broker *out)
{
	struct kp_zk_result res;
	char path[64], err[256];
	int rc;

	snprintf(path, sizeof(path), "/brokers/ids/%d", id);
	rc = kp_zk_get_sync(c->zk, path, &res);
	if (rc != KP_ZK_OK || res.data == NULL ||
	    kp_zk_broker_decode(res.data, (size_t)res.len, &out->reg, err,
				sizeof(err)) < 0) {
		if (rc != KP_ZK_NONODE)
			KP_ERROR("reading %s: %s", path, rc != KP_ZK_OK ? kp_zk_strerror(rc)
					: res.data == NULL ? "no data" : err);
		kp_zk_result_free(&res);
		return -1;
	}
	out->reg.id = id;
	out->id = id;
	out->epoch = res.stat.czxid;
	out->chan = NULL;
	kp_zk_result_free(&res);
	return 0;
}

static int cmp_broker(const void *a, const void *b)
{
	const struct c_broker *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* The current registrations (children watched), sorted by id. */
int ctl_zk_read_brokers(struct controller *c, struct c_broker **out, int *n)
{
	struct kp_zk_result res;
	struct c_broker *l;
	int rc = ctl_zk_read(c, KP_ZK_READ_CHILDREN, "/brokers/ids", true, &res);

	*out = NULL;
	*n = 0;
	if (rc != KP_ZK_OK) {
		KP_ERROR("reading /brokers/ids: %s", kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return -1;
	}
	l = calloc((size_t)res.nchildren + 1, sizeof(*l));
	if (l == NULL) {
		kp_zk_result_free(&res);
		return -1;
	}
	for (int32_t i = 0; i < res.nchildren; i++) {
		char *end;
		long id = strtol(res.children[i], &end, 10);

		if (*end != 0 || id < 0 || id > INT32_MAX)
			continue;
		if (id == c->id)
			KP_ERROR("broker %ld registered with this controller's id: "
				 "controller.id must differ from every broker.id", id);
		if (read_broker(c, (int32_t)id, &l[*n]) == 0)
			(*n)++;
	}
	kp_zk_result_free(&res);
	qsort(l, (size_t)*n, sizeof(*l), cmp_broker);
	*out = l;
	return 0;
}
