/*
 * controller.c - election, the controller context, and the state changes
 * Kafka 2.8's controller (KafkaController) makes in ZooKeeper mode:
 * new topics and partitions get leaders, brokers that start get the
 * metadata and their replicas' roles, brokers that die lose leadership,
 * deleted topics are stopped on every replica and then removed.
 *
 * Fencing: every ZooKeeper write that decides leadership is a multi whose
 * first op checks the data version of /controller_epoch we got when
 * elected; a failed check means another controller exists, and we resign.
 * Partition state writes are also conditional on the state znode's
 * version (re-read and retried once on a conflict).
 *
 * A new partition's ISR is its live replicas; afterwards leaders shrink
 * and expand ISRs themselves and tell us through /isr_change_notification.
 * Elections pick the first live in-sync replica in assignment order (an
 * out-of-sync one only with unclean.leader.election.enable); brokers in a
 * controlled shutdown are never picked.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channel.h"
#include "controller.h"
#include "ctl_event.h"
#include "ctl_int.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "kp_notify.h"
#include "kp_zk.h"
#include "kp_zkdata.h"

static void on_watch(enum kp_zk_event ev, const char *path, void *arg);
static void state_written(struct controller *c, struct c_topic *t, int32_t p,
			  int32_t leader, int32_t leader_epoch, const int32_t *isr,
			  int32_t nisr);
static void online_state_change(struct controller *c);
static void try_delete(struct controller *c, struct c_topic *t);

/* ------------------------------------------------------------ context */

struct c_broker *ctl_broker_find(struct controller *c, int32_t id)
{
	int lo = 0, hi = c->nbrokers - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (c->brokers[mid].id == id)
			return &c->brokers[mid];
		if (c->brokers[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

bool ctl_live(struct controller *c, int32_t id)
{
	return ctl_broker_find(c, id) != NULL;
}

static bool shutting_down(struct controller *c, int32_t id)
{
	for (int i = 0; i < c->nshutting_down; i++)
		if (c->shutting_down[i] == id)
			return true;
	return false;
}

/* May lead or join a new ISR: alive and not in a controlled shutdown
 * (Kafka's liveBrokerIds leave shutting-down brokers out too). */
bool ctl_eligible(struct controller *c, int32_t id)
{
	return ctl_live(c, id) && !shutting_down(c, id);
}

bool ctl_in_list(const struct kp_replicas *l, int32_t id)
{
	for (int32_t i = 0; i < l->n; i++)
		if (l->ids[i] == id)
			return true;
	return false;
}

static int topic_index(struct controller *c, const char *name, bool *found)
{
	int lo = 0, hi = c->ntopics - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2, cmp = strcmp(c->topics[mid]->name, name);

		if (cmp == 0) {
			*found = true;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	*found = false;
	return lo;
}

struct c_topic *ctl_topic_find(struct controller *c, const char *name)
{
	bool found;
	int i = topic_index(c, name, &found);

	return found ? c->topics[i] : NULL;
}

static void topic_free(struct c_topic *t)
{
	if (t == NULL)
		return;
	for (int32_t p = 0; p < t->nparts; p++) {
		kp_replicas_free(&t->parts[p].replicas);
		kp_replicas_free(&t->parts[p].isr);
		kp_replicas_free(&t->parts[p].adding);
		kp_replicas_free(&t->parts[p].removing);
	}
	free(t->parts);
	free(t->name);
	free(t);
}

static int topic_insert(struct controller *c, struct c_topic *t)
{
	bool found;
	int i = topic_index(c, t->name, &found);
	struct c_topic **nt;

	if (found)
		return -EEXIST;
	nt = realloc(c->topics, sizeof(*nt) * (size_t)(c->ntopics + 1));
	if (nt == NULL)
		return -ENOMEM;
	c->topics = nt;
	memmove(&c->topics[i + 1], &c->topics[i],
		sizeof(*nt) * (size_t)(c->ntopics - i));
	c->topics[i] = t;
	c->ntopics++;
	return 0;
}

static void topic_remove(struct controller *c, struct c_topic *t)
{
	bool found;
	int i = topic_index(c, t->name, &found);

	if (!found)
		return;
	memmove(&c->topics[i], &c->topics[i + 1],
		sizeof(*c->topics) * (size_t)(c->ntopics - i - 1));
	c->ntopics--;
	topic_free(t);
}

void ctl_replicas_set(struct kp_replicas *dst, const int32_t *ids, int32_t n)
{
	int32_t *d = malloc(sizeof(*d) * (size_t)(n > 0 ? n : 1));

	if (d == NULL)
		return;		/* keeps the old list */
	if (n > 0)
		memcpy(d, ids, sizeof(*d) * (size_t)n);
	free(dst->ids);
	dst->ids = d;
	dst->n = n;
}

static void brokers_clear(struct controller *c)
{
	for (int i = 0; i < c->nbrokers; i++) {
		chan_free(c->brokers[i].chan);
		kp_zk_broker_free(&c->brokers[i].reg);
	}
	free(c->brokers);
	c->brokers = NULL;
	c->nbrokers = 0;
}

static void context_clear(struct controller *c)
{
	brokers_clear(c);
	for (int i = 0; i < c->ntopics; i++)
		topic_free(c->topics[i]);
	free(c->topics);
	c->topics = NULL;
	c->ntopics = 0;
	c->batch.nlai = c->batch.num = c->batch.nstop = c->batch.num_only = 0;
	c->batch.um_brokers = false;
	c->nshutting_down = 0;
}

/* The endpoint the controller (and followers) reach a broker at. */
static const struct kp_endpoint *broker_endpoint(struct controller *c,
						 const struct c_broker *b)
{
	const struct kp_endpoint *ep = kp_zk_broker_endpoint(&b->reg, c->listener);

	if (ep == NULL && b->reg.nendpoints > 0)
		ep = &b->reg.endpoints[0];
	return ep;
}

/* ----------------------------------------------------------- ZooKeeper */

int ctl_zk_read(struct controller *c, enum kp_zk_read what, const char *path,
		   bool watch, struct kp_zk_result *res)
{
	return kp_zk_read_watch_sync(c->zk, what, path, watch ? on_watch : NULL,
				     watch ? c : NULL, res);
}

/* A fenced multi's result: did its first op, the /controller_epoch
 * check, fail (another controller took over)? */
static bool fence_failed(const struct kp_zk_result *r)
{
	return r->rc != KP_ZK_OK && r->nops > 0 && r->op_rc[0] != KP_ZK_OK &&
	       r->op_rc[0] != -2 /* ZRUNTIMEINCONSISTENCY */;
}

/*
 * A controller-fenced multi: check(/controller_epoch, our version) first.
 * Returns 0, MOVED (and resigns) when the check fails, or the failing
 * op's code, with per-op codes in res.
 */
int ctl_fenced(struct controller *c, const struct kp_zk_op *ops, int n,
		  struct kp_zk_result *res)
{
	struct kp_zk_op *all;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!ctl_active(c))
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
		if (ctl_active(c))
			KP_WARN("controller epoch %d is no longer current (%s): resigning",
				c->epoch, kp_zk_strerror(res->op_rc[0]));
		ctl_resign_later(c);
		return MOVED;
	}
	return rc;
}

static void state_path(char *buf, size_t n, const char *topic, int32_t p)
{
	snprintf(buf, n, "/brokers/topics/%s/partitions/%d/state", topic, p);
}

/* Re-read a partition's state znode into the context.  0, or MOVED when
 * it was written by a newer controller. */
/* A state znode read (res) into the context: 0, MOVED or -1. */
static int apply_state(struct controller *c, struct c_topic *t, int32_t p,
		       const struct kp_zk_result *res)
{
	struct c_part *cp = &t->parts[p];
	struct kp_zk_partition_state s;
	char path[512], err[256];

	state_path(path, sizeof(path), t->name, p);
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
	ctl_replicas_set(&cp->isr, s.isr.ids, s.isr.n);
	kp_zk_partition_state_free(&s);
	if (cp->ctl_epoch > c->epoch) {
		if (ctl_active(c))
			KP_WARN("%s was written by controller epoch %d > ours (%d): "
				"resigning", path, cp->ctl_epoch, c->epoch);
		ctl_resign_later(c);
		return MOVED;
	}
	return 0;
}

int ctl_read_state(struct controller *c, struct c_topic *t, int32_t p)
{
	struct kp_zk_result res;
	char path[512];
	int rc;

	state_path(path, sizeof(path), t->name, p);
	kp_zk_get_sync(c->zk, path, &res);
	rc = apply_state(c, t, p, &res);
	kp_zk_result_free(&res);
	return rc;
}

/* Every partition state of topics[0..n) in one pipelined batch: 0 or
 * MOVED. */
static int read_states(struct controller *c, struct c_topic **topics, int n)
{
	struct kp_zk_batch_item *it;
	char **paths;
	size_t total = 0, k = 0;
	int rc = 0;

	for (int i = 0; i < n; i++)
		total += (size_t)topics[i]->nparts;
	it = calloc(total + 1, sizeof(*it));
	paths = calloc(total + 1, sizeof(*paths));
	if (it == NULL || paths == NULL) {
		free(it);
		free(paths);
		return -1;
	}
	for (int i = 0; i < n; i++)
		for (int32_t p = 0; p < topics[i]->nparts; p++) {
			char buf[512];

			state_path(buf, sizeof(buf), topics[i]->name, p);
			paths[k] = strdup(buf);
			it[k] = (struct kp_zk_batch_item){ .kind = KP_ZK_BATCH_GET,
							   .path = paths[k] ? paths[k] : "/" };
			k++;
		}
	kp_zk_batch_sync(c->zk, it, (int)total);
	k = 0;
	for (int i = 0; i < n; i++)
		for (int32_t p = 0; p < topics[i]->nparts; p++, k++)
			if (rc != MOVED && apply_state(c, topics[i], p, &it[k].res) == MOVED)
				rc = MOVED;
	for (size_t j = 0; j < total; j++) {
		kp_zk_result_free(&it[j].res);
		free(paths[j]);
	}
	free(it);
	free(paths);
	return rc;
}

/*
 * Write leader/ISR with leader epoch +1 (or 0 when creating), fenced and
 * conditional on the znode version.  0; -EAGAIN after a conflict (the
 * context is re-read: decide again); MOVED; -1.
 */
int ctl_write_state(struct controller *c, struct c_topic *t, int32_t p,
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
	state_path(path, sizeof(path), t->name, p);
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
	rc = ctl_fenced(c, &op, 1, &res);
	free(json);
	if (rc == MOVED) {
		kp_zk_result_free(&res);
		return MOVED;
	}
	if (rc == KP_ZK_BADVERSION || rc == KP_ZK_NODEEXISTS || rc == KP_ZK_NONODE) {
		kp_zk_result_free(&res);
		rc = ctl_read_state(c, t, p);
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
	ctl_replicas_set(&cp->isr, isr, nisr);
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
static void ensure_parents(struct controller *c, struct state_write *w, int n)
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
static int write_round(struct controller *c, struct state_write *w, const int *idx,
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
					.version = cp->zk_version };
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
int ctl_write_states(struct controller *c, struct state_write *w, int n)
{
	char **json, **paths;
	int32_t *epochs;
	int *idx, nretry = 0;
	bool moved = false;

	if (!ctl_active(c))
		return MOVED;
	if (n > WRITE_WINDOW) {
		for (int off = 0; off < n; off += WRITE_WINDOW)
			if (ctl_write_states(c, w + off, n - off < WRITE_WINDOW
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
		st.leader_epoch = epochs[i] = cp->has_state ? cp->leader_epoch + 1 : 0;
		st.isr.ids = w[i].isr;
		st.isr.n = w[i].nisr;
		json[i] = kp_zk_partition_state_encode(&st);
		state_path(buf, sizeof(buf), w[i].t->name, w[i].p);
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
		if (ctl_active(c))
			KP_WARN("controller epoch %d is no longer current: resigning",
				c->epoch);
		ctl_resign_later(c);
	} else {
		/* conflicts: someone else wrote; the context learns what */
		for (int i = 0; i < n && ctl_active(c); i++)
			if (w[i].rc == -EAGAIN && ctl_read_state(c, w[i].t, w[i].p) == MOVED)
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

/* ------------------------------------------------------------- batches */

#define GROW(arr, n, cap) do {							\
		if ((n) == (cap)) {						\
			int nc_ = (cap) ? 2 * (cap) : 64;			\
			void *na_ = realloc((arr), sizeof(*(arr)) * (size_t)nc_); \
			if (na_ == NULL)					\
				return;						\
			(arr) = na_;						\
			(cap) = nc_;						\
		}								\
	} while (0)

void ctl_batch_um(struct controller *c, struct c_topic *t, int32_t p)
{
	struct batch *b = &c->batch;

	/* once per flush: LeaderAndIsr to each replica asks for it too */
	if (b->gen == 0)
		b->gen = 1;
	if (t->parts[p].um_gen == b->gen)
		return;
	t->parts[p].um_gen = b->gen;
	GROW(b->um, b->num, b->cap_um);
	b->um[b->num].t = t;
	b->um[b->num].p = p;
	b->num++;
}

/* LeaderAndIsr with the partition's current state to one replica (plus
 * UpdateMetadata of it to everyone, as Kafka's batch does). */
void ctl_batch_lai(struct controller *c, int32_t broker, struct c_topic *t,
		      int32_t p, bool is_new)
{
	struct batch *b = &c->batch;

	if (!ctl_live(c, broker))
		return;
	GROW(b->lai, b->nlai, b->cap_lai);
	b->lai[b->nlai++] = (struct batch_lai){ broker, t, p, is_new };
	ctl_batch_um(c, t, p);
}

/* To every live replica. */
void ctl_batch_lai_replicas(struct controller *c, struct c_topic *t, int32_t p,
			       bool is_new)
{
	const struct kp_replicas *r = &t->parts[p].replicas;

	for (int32_t i = 0; i < r->n; i++)
		ctl_batch_lai(c, r->ids[i], t, p, is_new);
}

void ctl_batch_stop(struct controller *c, int32_t broker, struct c_topic *t,
		    int32_t p, int32_t leader_epoch)
{
	struct batch *b = &c->batch;

	GROW(b->stop, b->nstop, b->cap_stop);
	b->stop[b->nstop++] = (struct batch_stop){ broker, t, p, leader_epoch };
}

static int16_t protocol_code(const struct kp_zk_broker *reg, const char *listener)
{
	static const char *const names[] = { "PLAINTEXT", "SSL", "SASL_PLAINTEXT",
					     "SASL_SSL" };
	const char *proto = listener;

	for (size_t i = 0; i < reg->nprotocols; i++)
		if (strcmp(reg->protocol_map[i][0], listener) == 0)
			proto = reg->protocol_map[i][1];
	for (int16_t i = 0; i < 4; i++)
		if (strcmp(names[i], proto) == 0)
			return i;
	return 0;
}

/*
 * A string for a queued request, copied into its arena: a request may wait
 * in a channel (retries, a broker not yet connected) while the broker
 * registration or the topic it names is replaced or freed.
 */
static kp_str req_str(struct kp_arena *a, const char *s)
{
	char *d;

	if (s == NULL)
		return KP_STR_NULL;
	d = kp_arena_strndup(a, s, strlen(s));
	return d != NULL ? (kp_str){ d, (int32_t)strlen(d) } : KP_STR_NULL;
}

/* A topic name for a partition entry: consecutive entries of one topic
 * share one copy (prev, the entry before), which the grouping by topic
 * relies on (it compares pointers). */
static kp_str req_topic(struct kp_arena *a, const kp_str *prev, const char *name)
{
	if (prev != NULL && prev->ptr != NULL && kp_str_eqc(*prev, name))
		return *prev;
	return req_str(a, name);
}

static struct kp_update_metadata_req_update_metadata_broker *
live_brokers(struct controller *c, struct kp_arena *a)
{
	struct kp_update_metadata_req_update_metadata_broker *lb;

	lb = kp_arena_calloc(a, (size_t)c->nbrokers + 1, sizeof(*lb));
	if (lb == NULL)
		return NULL;
	for (int i = 0; i < c->nbrokers; i++) {
		const struct c_broker *cb = &c->brokers[i];
		const struct kp_endpoint *plain = kp_zk_broker_endpoint(&cb->reg, "PLAINTEXT");
		struct kp_update_metadata_req_update_metadata_endpoint *eps;

		kp_struct_init(&kp_update_metadata_req_update_metadata_broker_desc, &lb[i]);
		lb[i].id = cb->id;
		if (plain == NULL && cb->reg.nendpoints > 0)
			plain = &cb->reg.endpoints[0];
		lb[i].v0_host = req_str(a, plain != NULL ? plain->host : "");
		lb[i].v0_port = plain != NULL ? plain->port : -1;
		eps = kp_arena_calloc(a, cb->reg.nendpoints + 1, sizeof(*eps));
		if (eps == NULL)
			return NULL;
		for (size_t j = 0; j < cb->reg.nendpoints; j++) {
			kp_struct_init(&kp_update_metadata_req_update_metadata_endpoint_desc,
				       &eps[j]);
			eps[j].port = cb->reg.endpoints[j].port;
			eps[j].host = req_str(a, cb->reg.endpoints[j].host);
			eps[j].listener = req_str(a, cb->reg.endpoints[j].listener);
			eps[j].security_protocol =
				protocol_code(&cb->reg, cb->reg.endpoints[j].listener);
		}
		lb[i].endpoints = eps;
		lb[i].endpoints_count = (int32_t)cb->reg.nendpoints;
		lb[i].rack = req_str(a, cb->reg.rack);
	}
	return lb;
}

static int32_t *arena_ids(struct kp_arena *a, const struct kp_replicas *r)
{
	int32_t *d = kp_arena_alloc(a, sizeof(*d) * (size_t)(r->n > 0 ? r->n : 1));

	if (d != NULL && r->n > 0)
		memcpy(d, r->ids, sizeof(*d) * (size_t)r->n);
	return d;
}

/* A topic's id as LeaderAndIsr v5 and UpdateMetadata v7 carry it (zero
 * for a topic znode without one). */
static kp_uuid topic_uuid(const struct c_topic *t)
{
	kp_uuid u;

	memset(&u, 0, sizeof(u));
	if (t->topic_id[0] != '\0' && kp_uuid_parse(t->topic_id, &u) < 0)
		memset(&u, 0, sizeof(u));
	return u;
}

/* The name of the topic with this id, for LeaderAndIsr v5 answers. */
static const char *topic_name_of(struct controller *c, const kp_uuid *id)
{
	char s[23];

	kp_uuid_format(id, s);
	for (int i = 0; i < c->ntopics; i++)
		if (strcmp(c->topics[i]->topic_id, s) == 0)
			return c->topics[i]->name;
	return "?";
}

/* One partition's error in a LeaderAndIsr answer into e[0..*ne): one
 * entry per error code, with a count and its first partition. */
static void lai_error_add(struct ctl_lai_error *e, int32_t *ne, int16_t code,
			  const kp_str *name, const kp_uuid *id, int32_t partition)
{
	int32_t k;

	if (code == 0)
		return;
	for (k = 0; k < *ne && e[k].code != code; k++)
		;
	if (k < *ne) {
		e[k].count++;
		return;
	}
	e[k] = (struct ctl_lai_error){ .code = code, .count = 1,
				       .partition = partition };
	if (name != NULL)
		e[k].topic = strndup(name->ptr != NULL ? name->ptr : "",
				     name->len > 0 ? (size_t)name->len : 0);
	else
		e[k].topic_id = *id;
	(*ne)++;
}

/*
 * A LeaderAndIsr answer, on the loop's thread: its errors, summed up per
 * error code, become an event (topic ids are named on the event thread).
 */
static void on_lai_resp(int32_t broker, int16_t api_key, void *resp, void *arg)
{
	const struct kp_leader_and_isr_resp *r = resp;
	struct controller *c = arg;
	struct ctl_event *ev;
	struct ctl_lai_error *e;
	int32_t ne = 0, cap;

	(void)api_key;
	if (r == NULL)
		return;
	/* v0-4 list partition errors by name, v5 grouped by topic id */
	cap = r->partition_errors_count > 0 ? r->partition_errors_count : 0;
	for (int32_t i = 0; i < r->topics_count; i++)
		if (r->topics[i].partition_errors_count > 0)
			cap += r->topics[i].partition_errors_count;
	ev = ctl_event_new(CTL_EV_LAI_RESPONSE);
	e = calloc((size_t)cap + 1, sizeof(*e));
	if (ev == NULL || e == NULL) {
		free(ev);
		free(e);
		return;
	}
	ev->u.lai.broker = broker;
	ev->u.lai.error = r->error_code;
	ev->u.lai.errors = e;
	for (int32_t i = 0; r->error_code == 0 && i < r->partition_errors_count; i++)
		lai_error_add(e, &ne, r->partition_errors[i].error_code,
			      &r->partition_errors[i].topic_name, NULL,
			      r->partition_errors[i].partition_index);
	for (int32_t i = 0; r->error_code == 0 && i < r->topics_count; i++)
		for (int32_t j = 0; j < r->topics[i].partition_errors_count; j++)
			lai_error_add(e, &ne, r->topics[i].partition_errors[j].error_code,
				      NULL, &r->topics[i].topic_id,
				      r->topics[i].partition_errors[j].partition_index);
	ev->u.lai.nerrors = ne;
	if (r->error_code == 0 && ne == 0) {
		ctl_event_free(ev);	/* nothing to say */
		return;
	}
	ctl_event_put(c->events, ev);
}

/* One line per error code, not per partition: after a controller
 * failover every partition a broker already has at that epoch answers
 * STALE_CONTROLLER_EPOCH, as in Kafka. */
static void lai_response(struct controller *c, const struct ctl_event *ev)
{
	int32_t broker = ev->u.lai.broker;

	if (ev->u.lai.error != 0) {
		KP_WARN("LeaderAndIsr to broker %d: error %d", broker, ev->u.lai.error);
		return;
	}
	for (int32_t i = 0; i < ev->u.lai.nerrors; i++) {
		const struct ctl_lai_error *e = &ev->u.lai.errors[i];
		const char *topic = e->topic != NULL ? e->topic
				    : topic_name_of(c, &e->topic_id);

		if (e->code == KP_ERR_STALE_CONTROLLER_EPOCH)
			KP_INFO("LeaderAndIsr to broker %d: %d partition(s) already at "
				"that leader epoch (e.g. %s-%d)", broker, e->count,
				topic, e->partition);
		else
			KP_WARN("LeaderAndIsr to broker %d: %s for %d partition(s) "
				"(e.g. %s-%d)", broker, kp_err_name(e->code), e->count,
				topic, e->partition);
	}
}

static void send_lai(struct controller *c, struct c_broker *cb)
{
	struct batch *b = &c->batch;
	struct chan_req *q;
	struct kp_leader_and_isr_req *req;
	struct kp_leader_and_isr_leader_and_isr_partition_state *ps;
	struct kp_leader_and_isr_req_leader_and_isr_topic_state *ts;
	struct kp_leader_and_isr_req_leader_and_isr_live_leader *ll;
	int n = 0, nt = 0, nl = 0;

	for (int i = 0; i < b->nlai; i++)
		n += b->lai[i].broker == cb->id;
	if (n == 0 || cb->chan == NULL)
		return;
	q = chan_req_new(KP_API_LEADER_AND_ISR);
	if (q == NULL)
		return;
	req = kp_arena_calloc(&q->arena, 1, sizeof(*req));
	ps = kp_arena_calloc(&q->arena, (size_t)n, sizeof(*ps));
	ts = kp_arena_calloc(&q->arena, (size_t)n, sizeof(*ts));
	ll = kp_arena_calloc(&q->arena, (size_t)c->nbrokers + 1, sizeof(*ll));
	if (req == NULL || ps == NULL || ts == NULL || ll == NULL) {
		chan_req_free(q);
		return;
	}
	kp_struct_init(&kp_leader_and_isr_req_desc, req);
	req->controller_id = c->id;
	req->controller_epoch = c->epoch;
	req->broker_epoch = cb->epoch;
	n = 0;
	for (int i = 0; i < b->nlai; i++) {
		const struct batch_lai *e = &b->lai[i];
		const struct c_part *cp;
		struct kp_leader_and_isr_leader_and_isr_partition_state *s = &ps[n];

		if (e->broker != cb->id)
			continue;
		cp = &e->t->parts[e->p];
		kp_struct_init(&kp_leader_and_isr_leader_and_isr_partition_state_desc, s);
		s->topic_name = req_topic(&q->arena, n > 0 ? &ps[n - 1].topic_name : NULL,
					  e->t->name);
		s->partition_index = e->p;
		s->controller_epoch = cp->ctl_epoch;
		s->leader = cp->leader;
		s->leader_epoch = cp->leader_epoch;
		s->isr = arena_ids(&q->arena, &cp->isr);
		s->isr_count = cp->isr.n;
		s->zk_version = cp->zk_version;
		s->replicas = arena_ids(&q->arena, &cp->replicas);
		s->replicas_count = cp->replicas.n;
		s->adding_replicas = arena_ids(&q->arena, &cp->adding);
		s->adding_replicas_count = cp->adding.n;
		s->removing_replicas = arena_ids(&q->arena, &cp->removing);
		s->removing_replicas_count = cp->removing.n;
		s->is_new = e->is_new;
		/* v2+: grouped by topic (consecutive entries of one topic) */
		if (nt == 0 || ts[nt - 1].topic_name.ptr != s->topic_name.ptr) {
			kp_struct_init(&kp_leader_and_isr_req_leader_and_isr_topic_state_desc,
				       &ts[nt]);
			ts[nt].topic_name = s->topic_name;
			ts[nt].topic_id = topic_uuid(e->t);	/* v5+ */
			ts[nt].partition_states = s;
			ts[nt].partition_states_count = 0;
			nt++;
		}
		ts[nt - 1].partition_states_count++;
		/* the leaders it names, once each */
		if (cp->leader >= 0) {
			struct c_broker *lb = ctl_broker_find(c, cp->leader);
			bool seen = false;

			for (int j = 0; j < nl; j++)
				seen |= ll[j].broker_id == cp->leader;
			if (lb != NULL && !seen && broker_endpoint(c, lb) != NULL) {
				kp_struct_init(&kp_leader_and_isr_req_leader_and_isr_live_leader_desc,
					       &ll[nl]);
				ll[nl].broker_id = lb->id;
				ll[nl].host_name = req_str(&q->arena, broker_endpoint(c, lb)->host);
				ll[nl].port = broker_endpoint(c, lb)->port;
				nl++;
			}
		}
		n++;
	}
	req->ungrouped_partition_states = ps;
	req->ungrouped_partition_states_count = n;
	req->topic_states = ts;
	req->topic_states_count = nt;
	req->live_leaders = ll;
	req->live_leaders_count = nl;
	q->req = req;
	q->done = on_lai_resp;
	q->arg = c;
	chan_send(cb->chan, q);
}

static void send_um(struct controller *c, struct c_broker *cb)
{
	struct batch *b = &c->batch;
	struct chan_req *q = chan_req_new(KP_API_UPDATE_METADATA);
	struct kp_update_metadata_req *req;
	struct kp_update_metadata_update_metadata_partition_state *ps;
	struct kp_update_metadata_req_update_metadata_topic_state *ts;
	int n = 0, nt = 0;

	if (q == NULL || cb->chan == NULL) {
		chan_req_free(q);
		return;
	}
	req = kp_arena_calloc(&q->arena, 1, sizeof(*req));
	ps = kp_arena_calloc(&q->arena, (size_t)b->num + 1, sizeof(*ps));
	ts = kp_arena_calloc(&q->arena, (size_t)b->num + 1, sizeof(*ts));
	if (req == NULL || ps == NULL || ts == NULL) {
		chan_req_free(q);
		return;
	}
	kp_struct_init(&kp_update_metadata_req_desc, req);
	req->controller_id = c->id;
	req->controller_epoch = c->epoch;
	req->broker_epoch = cb->epoch;
	for (int i = 0; i < b->num; i++) {
		struct c_topic *t = b->um[i].t;
		const struct c_part *cp = &t->parts[b->um[i].p];
		struct kp_update_metadata_update_metadata_partition_state *s = &ps[n];
		int32_t *off;
		int32_t noff = 0;

		if (!cp->has_state && !t->deleting)
			continue;
		kp_struct_init(&kp_update_metadata_update_metadata_partition_state_desc, s);
		s->topic_name = req_topic(&q->arena, n > 0 ? &ps[n - 1].topic_name : NULL,
					  t->name);
		s->partition_index = b->um[i].p;
		s->controller_epoch = cp->ctl_epoch;
		s->leader = t->deleting ? LEADER_DURING_DELETE : cp->leader;
		s->leader_epoch = cp->leader_epoch;
		s->isr = arena_ids(&q->arena, &cp->isr);
		s->isr_count = cp->isr.n;
		s->zk_version = cp->zk_version;
		s->replicas = arena_ids(&q->arena, &cp->replicas);
		s->replicas_count = cp->replicas.n;
		off = kp_arena_calloc(&q->arena, (size_t)cp->replicas.n + 1, sizeof(*off));
		for (int32_t j = 0; off != NULL && j < cp->replicas.n; j++)
			if (!ctl_live(c, cp->replicas.ids[j]))
				off[noff++] = cp->replicas.ids[j];
		s->offline_replicas = off;
		s->offline_replicas_count = noff;
		if (nt == 0 || ts[nt - 1].topic_name.ptr != s->topic_name.ptr) {
			kp_struct_init(&kp_update_metadata_req_update_metadata_topic_state_desc,
				       &ts[nt]);
			ts[nt].topic_name = s->topic_name;
			ts[nt].topic_id = topic_uuid(t);	/* v7+ */
			ts[nt].partition_states = s;
			ts[nt].partition_states_count = 0;
			nt++;
		}
		ts[nt - 1].partition_states_count++;
		n++;
	}
	req->ungrouped_partition_states = ps;
	req->ungrouped_partition_states_count = n;
	req->topic_states = ts;
	req->topic_states_count = nt;
	req->live_brokers = live_brokers(c, &q->arena);
	req->live_brokers_count = c->nbrokers;
	if (req->live_brokers == NULL) {
		chan_req_free(q);
		return;
	}
	q->req = req;
	chan_send(cb->chan, q);
}

struct stop_ctx {
	struct controller *c;
	char *topic;
	int32_t epoch;			/* the controller epoch at sending */
	bool deleting;			/* counted in the topic's pending_stops */
};

/* A StopReplica answer (or its loss), on the loop's thread: an event. */
static void on_stop_resp(int32_t broker, int16_t api_key, void *resp, void *arg)
{
	const struct kp_stop_replica_resp *r = resp;
	struct stop_ctx *sc = arg;
	struct ctl_event *ev = ctl_event_new(CTL_EV_STOP_RESPONSE);
	bool failed = r == NULL || r->error_code != 0;

	(void)api_key;
	for (int32_t i = 0; r != NULL && i < r->partition_errors_count; i++)
		failed |= r->partition_errors[i].error_code != 0;
	if (ev == NULL || (ev->u.stop.topic = strdup(sc->topic)) == NULL) {
		free(ev);
		KP_ERROR("StopReplica of %s to broker %d: answer lost (out of memory)",
			 sc->topic, broker);
		return;
	}
	ev->u.stop.broker = broker;
	ev->u.stop.epoch = sc->epoch;
	ev->u.stop.deleting = sc->deleting;
	ev->u.stop.failed = failed;
	ctl_event_put(sc->c->events, ev);
}

static void stop_response(struct controller *c, const struct ctl_event *ev)
{
	struct c_topic *t;

	if (!ev->u.stop.deleting) {
		/* a replica reassigned away: a broker that missed it keeps a
		 * stray log, as in Kafka; nothing waits for it */
		if (ev->u.stop.failed)
			KP_WARN("StopReplica of a reassigned-away replica of %s on "
				"broker %d failed", ev->u.stop.topic, ev->u.stop.broker);
		return;
	}
	/* counted in this term's deletion only */
	if (!ctl_active(c) || ev->u.stop.epoch != c->epoch ||
	    (t = ctl_topic_find(c, ev->u.stop.topic)) == NULL || !t->deleting)
		return;
	if (ev->u.stop.failed) {
		KP_WARN("StopReplica of %s to broker %d failed; will retry", t->name,
			ev->u.stop.broker);
		t->stop_failed = true;
	}
	if (--t->pending_stops == 0)
		try_delete(c, t);
}

static void send_stop(struct controller *c, struct c_broker *cb)
{
	struct batch *b = &c->batch;
	struct chan_req *q;
	struct kp_stop_replica_req *req;
	struct kp_stop_replica_req_stop_replica_partition_v0 *v0;
	struct kp_stop_replica_req_stop_replica_topic_v1 *v1;
	struct kp_stop_replica_req_stop_replica_topic_state *v3;
	struct kp_stop_replica_req_stop_replica_partition_state *ps;
	struct stop_ctx *sc;
	int n = 0;

	/* one request per topic, so its answer settles that topic (and
	 * deletion and reassignment stops apart: only the former count) */
	for (int i = 0; i < b->nstop; i++) {
		struct c_topic *t = b->stop[i].t;
		bool del = b->stop[i].leader_epoch == EPOCH_DURING_DELETE;
		int32_t *idx;

		if (b->stop[i].broker != cb->id || b->stop[i].p < 0)
			continue;
		n = 0;
		for (int j = i; j < b->nstop; j++)
			n += b->stop[j].broker == cb->id && b->stop[j].t == t &&
			     b->stop[j].p >= 0 &&
			     (b->stop[j].leader_epoch == EPOCH_DURING_DELETE) == del;
		q = chan_req_new(KP_API_STOP_REPLICA);
		if (q == NULL)
			return;
		req = kp_arena_calloc(&q->arena, 1, sizeof(*req));
		v0 = kp_arena_calloc(&q->arena, (size_t)n, sizeof(*v0));
		v1 = kp_arena_calloc(&q->arena, 1, sizeof(*v1));
		v3 = kp_arena_calloc(&q->arena, 1, sizeof(*v3));
		ps = kp_arena_calloc(&q->arena, (size_t)n, sizeof(*ps));
		idx = kp_arena_calloc(&q->arena, (size_t)n, sizeof(*idx));
		sc = kp_arena_calloc(&q->arena, 1, sizeof(*sc));
		if (req == NULL || v0 == NULL || v1 == NULL || v3 == NULL || ps == NULL ||
		    idx == NULL || sc == NULL || (sc->topic = kp_arena_strndup(&q->arena,
						t->name, strlen(t->name))) == NULL) {
			chan_req_free(q);
			return;
		}
		sc->c = c;
		sc->epoch = c->epoch;
		sc->deleting = del;
		kp_struct_init(&kp_stop_replica_req_desc, req);
		req->controller_id = c->id;
		req->controller_epoch = c->epoch;
		req->broker_epoch = cb->epoch;
		req->delete_partitions = true;
		n = 0;
		for (int j = i; j < b->nstop; j++) {
			if (b->stop[j].broker != cb->id || b->stop[j].t != t ||
			    b->stop[j].p < 0 ||
			    (b->stop[j].leader_epoch == EPOCH_DURING_DELETE) != del)
				continue;
			kp_struct_init(&kp_stop_replica_req_stop_replica_partition_v0_desc, &v0[n]);
			v0[n].topic_name = kp_str_c(sc->topic);
			v0[n].partition_index = b->stop[j].p;
			kp_struct_init(&kp_stop_replica_req_stop_replica_partition_state_desc,
				       &ps[n]);
			ps[n].partition_index = b->stop[j].p;
			ps[n].leader_epoch = b->stop[j].leader_epoch;
			ps[n].delete_partition = true;
			idx[n] = b->stop[j].p;
			b->stop[j].p = -1;	/* consumed */
			n++;
		}
		kp_struct_init(&kp_stop_replica_req_stop_replica_topic_v1_desc, v1);
		v1->name = kp_str_c(sc->topic);
		v1->partition_indexes = idx;
		v1->partition_indexes_count = n;
		kp_struct_init(&kp_stop_replica_req_stop_replica_topic_state_desc, v3);
		v3->topic_name = kp_str_c(sc->topic);
		v3->partition_states = ps;
		v3->partition_states_count = n;
		req->ungrouped_partitions = v0;
		req->ungrouped_partitions_count = n;
		req->topics = v1;
		req->topics_count = 1;
		req->topic_states = v3;
		req->topic_states_count = 1;
		q->req = req;
		q->done = on_stop_resp;
		q->arg = sc;
		if (del)
			t->pending_stops++;
		chan_send(cb->chan, q);
	}
}

/* Send what the batch gathered: LeaderAndIsr, UpdateMetadata, StopReplica. */
void ctl_batch_flush(struct controller *c)
{
	struct batch *b = &c->batch;

	if (!ctl_active(c)) {
		b->nlai = b->num = b->nstop = b->num_only = 0;
		b->um_brokers = false;
		b->gen = b->gen + 1 ? b->gen + 1 : 1;
		return;
	}
	for (int i = 0; i < c->nbrokers; i++)
		send_lai(c, &c->brokers[i]);
	if (b->num > 0 || b->um_brokers) {
		for (int i = 0; i < c->nbrokers; i++) {
			bool target = b->num_only == 0;

			for (int j = 0; j < b->num_only; j++)
				target |= b->um_only[j] == c->brokers[i].id;
			if (target)
				send_um(c, &c->brokers[i]);
		}
	}
	for (int i = 0; i < c->nbrokers; i++)
		send_stop(c, &c->brokers[i]);
	b->nlai = b->num = b->nstop = b->num_only = 0;
	b->um_brokers = false;
	b->gen = b->gen + 1 ? b->gen + 1 : 1;
}

/* ----------------------------------------------------------- elections */

static bool unclean_allowed(struct controller *c, const char *topic)
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

/*
 * OfflinePartition -> OnlinePartition with Kafka's offline strategy: the
 * first replica in assignment order that is alive and in the ISR leads;
 * ISR := ISR minus dead brokers.  1 when elected, 0 when no candidate,
 * or an error.
 */
static int elect_offline(struct controller *c, struct c_topic *t, int32_t p)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		struct c_part *cp = &t->parts[p];
		int32_t leader = -1, *isr = calloc((size_t)cp->isr.n + 1, sizeof(*isr));
		int32_t nisr = 0;
		int rc;

		if (isr == NULL)
			return -1;

		for (int32_t i = 0; i < cp->replicas.n && leader < 0; i++)
			if (ctl_eligible(c, cp->replicas.ids[i]) &&
			    ctl_in_list(&cp->isr, cp->replicas.ids[i]))
				leader = cp->replicas.ids[i];
		if (leader >= 0) {
			for (int32_t i = 0; i < cp->isr.n; i++)
				if (ctl_eligible(c, cp->isr.ids[i]))
					isr[nisr++] = cp->isr.ids[i];
		} else if (unclean_allowed(c, t->name)) {
			for (int32_t i = 0; i < cp->replicas.n && leader < 0; i++)
				if (ctl_eligible(c, cp->replicas.ids[i]))
					leader = cp->replicas.ids[i];
			if (leader >= 0) {
				KP_WARN("%s-%d: unclean election of broker %d (data may be lost)",
					t->name, p, leader);
				isr[nisr++] = leader;
			}
		}
		if (leader < 0) {
			free(isr);
			return 0;
		}
		rc = ctl_write_state(c, t, p, leader, isr, nisr);
		free(isr);
		if (rc == -EAGAIN) {
			if (t->parts[p].leader >= 0 && ctl_live(c, t->parts[p].leader))
				return 1;	/* someone else already did */
			continue;
		}
		if (rc < 0)
			return rc;
		KP_INFO("%s-%d: leader %d, epoch %d", t->name, p, leader,
			t->parts[p].leader_epoch);
		ctl_batch_lai_replicas(c, t, p, false);
		return 1;
	}
	return -1;
}

/*
 * Replicas on dead brokers go offline: partitions they led get a new
 * leader or none (leader -1); they leave ISRs (an ISR is never emptied).
 */
/* One partition of replicas_offline(); -EAGAIN when the znode changed
 * under us (the context was re-read: decide again). */
static int replica_offline_one(struct controller *c, struct c_topic *t, int32_t p)
{
	struct c_part *cp = &t->parts[p];
	int32_t *isr, nisr = 0;
	bool leader_dead, isr_dead = false;
	int rc;

	if (!cp->has_state)
		return 0;
	isr = calloc((size_t)cp->isr.n + 1, sizeof(*isr));
	if (isr == NULL)
		return -1;
	leader_dead = cp->leader >= 0 && !ctl_live(c, cp->leader);
	for (int32_t j = 0; j < cp->isr.n; j++)
		if (ctl_live(c, cp->isr.ids[j]))
			isr[nisr++] = cp->isr.ids[j];
		else
			isr_dead = true;
	if ((!leader_dead && !isr_dead) ||
	    (leader_dead && elect_offline(c, t, p) != 0) ||
	    (nisr == 0 && cp->leader < 0)) {	/* already offline */
		free(isr);
		return 0;
	}
	if (nisr == 0) {
		memcpy(isr, cp->isr.ids, sizeof(*isr) * (size_t)cp->isr.n);
		nisr = cp->isr.n;
	}
	rc = ctl_write_state(c, t, p, leader_dead ? -1 : cp->leader, isr, nisr);
	free(isr);
	if (rc == 0) {
		if (leader_dead)
			KP_WARN("%s-%d: leader gone and no in-sync replica "
				"alive: offline", t->name, p);
		ctl_batch_lai_replicas(c, t, p, false);
		ctl_batch_um(c, t, p);
	}
	return rc;
}

/* ------------------------------------------ batched state transitions */

/*
 * The transitions an event causes for many partitions at once (a broker
 * dies, a topic of 10,000 partitions appears, a new controller takes
 * over) are decided for all of them first, written in one pipelined
 * batch (ctl_write_states), and announced in one LeaderAndIsr and one
 * UpdateMetadata per broker.  A partition whose znode changed under us
 * goes through the one-partition path, which re-reads and decides again.
 */
struct decisions {
	struct state_write *w;
	int n, cap;
	int32_t *ids;			/* ISR storage for all of them */
	size_t nids, capids;
};

static void decisions_free(struct decisions *d)
{
	free(d->w);
	free(d->ids);
}

/* Room for n more decisions with up to nids ISR members in all. */
static int decisions_reserve(struct decisions *d, int n, size_t nids)
{
	if (d->n + n > d->cap) {
		int nc = d->cap ? d->cap : 256;
		struct state_write *nw;

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
		/* w[].isr point into ids: fixed up in decisions_fix() */
		d->ids = ni;
		d->capids = nc;
	}
	return 0;
}

/* The ISR pointers, stored as offsets until the storage stops moving. */
static void decisions_fix(struct decisions *d)
{
	for (int i = 0; i < d->n; i++)
		d->w[i].isr = d->ids + (size_t)(uintptr_t)d->w[i].isr;
}

static void decide(struct decisions *d, struct c_topic *t, int32_t p, int32_t leader,
		   const int32_t *isr, int32_t nisr)
{
	struct state_write *w = &d->w[d->n++];

	memcpy(d->ids + d->nids, isr, sizeof(*isr) * (size_t)nisr);
	*w = (struct state_write){ t, p, leader, (int32_t *)(uintptr_t)d->nids, nisr, -1 };
	d->nids += (size_t)nisr;
}

/* NewPartition -> OnlinePartition for t's partitions [from, to) without
 * a state: the live replicas form the ISR, the first one leads.  Decided
 * into d; init_apply() writes them. */
static void init_collect(struct controller *c, struct decisions *dp,
			 struct c_topic *t, int32_t from, int32_t to)
{
	struct decisions d = *dp;
	int32_t *isr = NULL;

	for (int32_t p = from; p < to && ctl_active(c); p++) {
		struct c_part *cp = &t->parts[p];
		int32_t nisr = 0;

		if (cp->has_state)
			continue;
		free(isr);
		isr = calloc((size_t)cp->replicas.n + 1, sizeof(*isr));
		if (isr == NULL ||
		    decisions_reserve(&d, 1, (size_t)cp->replicas.n) < 0)
			break;
		for (int32_t i = 0; i < cp->replicas.n; i++)
			if (ctl_eligible(c, cp->replicas.ids[i]))
				isr[nisr++] = cp->replicas.ids[i];
		if (nisr == 0) {
			KP_WARN("%s-%d: no replica is alive; it stays without a leader",
				t->name, p);
			continue;
		}
		decide(&d, t, p, isr[0], isr, nisr);
	}
	free(isr);
	*dp = d;
}

static void init_apply(struct controller *c, struct decisions *d)
{
	decisions_fix(d);
	if (d->n > 0 && ctl_write_states(c, d->w, d->n) != MOVED)
		for (int i = 0; i < d->n; i++)
			if (d->w[i].rc == 0)
				ctl_batch_lai_replicas(c, d->w[i].t, d->w[i].p, true);
	/* -EAGAIN: someone made it meanwhile: it is online */
	decisions_free(d);
}

/*
 * Every partition with a dead leader, no leader, or dead ISR members:
 * the first live in-sync replica (assignment order) leads, the ISR keeps
 * its live members (never emptied); without an in-sync candidate the
 * partition goes offline (leader -1), and an unclean election is tried
 * one by one where the topic allows it.
 */
/* offline partitions named one by one in a round; the rest are counted */
#define OFFLINE_NAMED 20

static void offline_pass(struct controller *c)
{
	struct decisions d = { 0 };
	struct { struct c_topic *t; int32_t p; } *retry = NULL;
	int nretry = 0, capretry = 0, warned = 0;
	int32_t *isr = NULL;
	size_t capisr = 0;

	for (int i = 0; ctl_active(c) && i < c->ntopics; i++) {
		struct c_topic *t = c->topics[i];

		if (t->deleting)
			continue;
		for (int32_t p = 0; p < t->nparts; p++) {
			struct c_part *cp = &t->parts[p];
			bool leader_ok = cp->leader >= 0 && ctl_live(c, cp->leader);
			bool isr_dead = false, same;
			int32_t leader = -1, nisr = 0;

			if (!cp->has_state)
				continue;
			for (int32_t j = 0; j < cp->isr.n; j++)
				isr_dead |= !ctl_live(c, cp->isr.ids[j]);
			if (leader_ok && !isr_dead)
				continue;
			if (capisr < (size_t)cp->isr.n + 1) {
				free(isr);
				capisr = (size_t)cp->isr.n + 16;
				isr = calloc(capisr, sizeof(*isr));
				if (isr == NULL)
					goto out;
			}
			if (leader_ok) {
				leader = cp->leader;
			} else {
				for (int32_t j = 0; j < cp->replicas.n && leader < 0; j++)
					if (ctl_eligible(c, cp->replicas.ids[j]) &&
					    ctl_in_list(&cp->isr, cp->replicas.ids[j]))
						leader = cp->replicas.ids[j];
			}
			for (int32_t j = 0; j < cp->isr.n; j++)
				if (leader >= 0 && !leader_ok ? ctl_eligible(c, cp->isr.ids[j])
				    : ctl_live(c, cp->isr.ids[j]))
					isr[nisr++] = cp->isr.ids[j];
			if (nisr == 0) {	/* never empty an ISR */
				memcpy(isr, cp->isr.ids, sizeof(*isr) * (size_t)cp->isr.n);
				nisr = cp->isr.n;
			}
			if (leader < 0) {
				/* no clean candidate: unclean one by one, later */
				if (nretry == capretry) {
					int nc = capretry ? 2 * capretry : 64;
					void *nr = realloc(retry, sizeof(*retry) * (size_t)nc);

					if (nr == NULL)
						goto out;
					retry = nr;
					capretry = nc;
				}
				retry[nretry].t = t;
				retry[nretry++].p = p;
			}
			same = leader == cp->leader && nisr == cp->isr.n &&
			       memcmp(isr, cp->isr.ids, sizeof(*isr) * (size_t)nisr) == 0;
			if (same)
				continue;	/* already offline, ISR as it was */
			if (decisions_reserve(&d, 1, (size_t)nisr) < 0)
				goto out;
			decide(&d, t, p, leader, isr, nisr);
		}
	}
	decisions_fix(&d);
	if (d.n > 0 && ctl_write_states(c, d.w, d.n) == MOVED)
		goto out;
	for (int i = 0; i < d.n && ctl_active(c); i++) {
		struct state_write *w = &d.w[i];
		int rc = w->rc;

		for (int attempt = 0; rc == -EAGAIN && attempt < 3; attempt++)
			rc = replica_offline_one(c, w->t, w->p);
		if (rc == MOVED)
			goto out;
		if (w->rc == 0) {
			/* named up to a point: a whole cluster stopping would
			 * otherwise write a line per partition */
			if (w->leader < 0 && ++warned <= OFFLINE_NAMED)
				KP_WARN("%s-%d: leader gone and no in-sync replica alive: "
					"offline", w->t->name, w->p);
			ctl_batch_lai_replicas(c, w->t, w->p, false);
			ctl_batch_um(c, w->t, w->p);
		}
	}
	for (int i = 0; i < nretry && ctl_active(c); i++)
		if (retry[i].t->parts[retry[i].p].leader < 0)
			elect_offline(c, retry[i].t, retry[i].p);
	{
		int changed = 0, offline = 0;

		for (int i = 0; i < d.n; i++) {
			changed += d.w[i].rc == 0;
			offline += d.w[i].rc == 0 && d.w[i].leader < 0;
		}
		if (warned > OFFLINE_NAMED)
			KP_WARN("... and %d more partitions offline", warned - OFFLINE_NAMED);
		if (d.n > 0)
			KP_INFO("%d partition state(s) changed (%d offline)", changed,
				offline);
	}
out:
	free(isr);
	free(retry);
	decisions_free(&d);
}

/* Give every New or Offline partition a leader if one can be had; dead
 * replicas leave ISRs. */
static void online_state_change(struct controller *c)
{
	struct decisions d = { 0 };

	for (int i = 0; ctl_active(c) && i < c->ntopics; i++)
		if (!c->topics[i]->deleting)
			init_collect(c, &d, c->topics[i], 0, c->topics[i]->nparts);
	init_apply(c, &d);
	offline_pass(c);
}

/* ------------------------------------------------- controlled shutdown */

/* Leadership of p off the shutting-down broker id, to the first eligible
 * in-sync replica; id leaves the ISR.  0 moved, 1 nobody to take it. */
static int move_leader(struct controller *c, struct c_topic *t, int32_t p, int32_t id)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		struct c_part *cp = &t->parts[p];
		int32_t leader = -1, *isr, nisr = 0;
		int rc;

		if (cp->leader != id)
			return 0;	/* someone else moved it */
		for (int32_t i = 0; i < cp->replicas.n && leader < 0; i++)
			if (ctl_eligible(c, cp->replicas.ids[i]) &&
			    ctl_in_list(&cp->isr, cp->replicas.ids[i]))
				leader = cp->replicas.ids[i];
		if (leader < 0)
			return 1;
		isr = calloc((size_t)cp->isr.n + 1, sizeof(*isr));
		if (isr == NULL)
			return -1;
		for (int32_t i = 0; i < cp->isr.n; i++)
			if (!shutting_down(c, cp->isr.ids[i]))
				isr[nisr++] = cp->isr.ids[i];
		rc = ctl_write_state(c, t, p, leader, isr, nisr);
		free(isr);
		if (rc == -EAGAIN)
			continue;
		if (rc < 0)
			return rc;
		KP_INFO("%s-%d: leadership moved from %d to %d (epoch %d)", t->name, p,
			id, leader, cp->leader_epoch);
		ctl_batch_lai_replicas(c, t, p, false);
		return 0;
	}
	return -1;
}

/* id leaves p's ISR (never emptying it). */
static int leave_isr(struct controller *c, struct c_topic *t, int32_t p, int32_t id)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		struct c_part *cp = &t->parts[p];
		int32_t *isr, nisr = 0;
		int rc;

		if (cp->leader == id || !ctl_in_list(&cp->isr, id) || cp->isr.n <= 1)
			return 0;
		isr = calloc((size_t)cp->isr.n + 1, sizeof(*isr));
		if (isr == NULL)
			return -1;
		for (int32_t i = 0; i < cp->isr.n; i++)
			if (cp->isr.ids[i] != id)
				isr[nisr++] = cp->isr.ids[i];
		rc = ctl_write_state(c, t, p, cp->leader, isr, nisr);
		free(isr);
		if (rc == -EAGAIN)
			continue;
		if (rc < 0)
			return rc;
		ctl_batch_lai_replicas(c, t, p, false);
		return 0;
	}
	return -1;
}

/*
 * Every partition of broker id at once: those it leads go to their first
 * eligible in-sync replica, and it leaves the ISRs of the others (each
 * ISR loses the brokers shutting down, never emptied).  Decided for all,
 * written in one pipelined batch; a conflict goes the one-by-one way.
 */
static void shutdown_moves(struct controller *c, int32_t id)
{
	struct decisions d = { 0 };
	int32_t *isr = NULL;
	size_t capisr = 0;

	for (int i = 0; ctl_active(c) && i < c->ntopics; i++) {
		struct c_topic *t = c->topics[i];

		if (t->deleting)
			continue;
		for (int32_t p = 0; p < t->nparts; p++) {
			struct c_part *cp = &t->parts[p];
			int32_t leader = -1, nisr = 0;

			if (!cp->has_state || !ctl_in_list(&cp->replicas, id))
				continue;
			if (cp->leader == id && cp->replicas.n > 1) {
				for (int32_t j = 0; j < cp->replicas.n && leader < 0; j++)
					if (ctl_eligible(c, cp->replicas.ids[j]) &&
					    ctl_in_list(&cp->isr, cp->replicas.ids[j]))
						leader = cp->replicas.ids[j];
				if (leader < 0)
					continue;	/* nobody to take it */
			} else if (cp->leader != id && ctl_in_list(&cp->isr, id) &&
				   cp->isr.n > 1) {
				leader = cp->leader;
			} else {
				continue;
			}
			if (capisr < (size_t)cp->isr.n + 1) {
				free(isr);
				capisr = (size_t)cp->isr.n + 16;
				isr = calloc(capisr, sizeof(*isr));
				if (isr == NULL)
					goto out;
			}
			for (int32_t j = 0; j < cp->isr.n; j++)
				if (!shutting_down(c, cp->isr.ids[j]))
					isr[nisr++] = cp->isr.ids[j];
			if (nisr == 0)
				continue;
			if (decisions_reserve(&d, 1, (size_t)nisr) < 0)
				goto out;
			decide(&d, t, p, leader, isr, nisr);
		}
	}
	decisions_fix(&d);
	if (d.n > 0 && ctl_write_states(c, d.w, d.n) == MOVED)
		goto out;
	for (int i = 0; i < d.n && ctl_active(c); i++) {
		struct state_write *w = &d.w[i];

		if (w->rc == 0)
			ctl_batch_lai_replicas(c, w->t, w->p, false);
		else if (w->rc == -EAGAIN && w->t->parts[w->p].leader == id)
			move_leader(c, w->t, w->p, id);
		else if (w->rc == -EAGAIN)
			leave_isr(c, w->t, w->p, id);
	}
out:
	free(isr);
	decisions_free(&d);
}

static bool movable(struct controller *c, const struct c_part *cp, int32_t id)
{
	if (cp->leader != id)
		return false;
	for (int32_t i = 0; i < cp->replicas.n; i++)
		if (cp->replicas.ids[i] != id && ctl_eligible(c, cp->replicas.ids[i]))
			return true;
	return false;
}

void controller_controlled_shutdown(struct controller *c, int32_t id,
				    int64_t broker_epoch,
				    struct kp_controlled_shutdown_resp *resp,
				    struct kp_arena *a)
{
	struct c_broker *cb = ctl_active(c) ? ctl_broker_find(c, id) : NULL;
	struct kp_controlled_shutdown_resp_remaining_partition *rem;
	int32_t nrem = 0, cap = 0;

	if (!ctl_active(c)) {
		resp->error_code = KP_ERR_NOT_CONTROLLER;
		return;
	}
	if (cb == NULL) {
		resp->error_code = KP_ERR_BROKER_NOT_AVAILABLE;
		return;
	}
	if (broker_epoch >= 0 && broker_epoch != cb->epoch) {
		resp->error_code = KP_ERR_STALE_BROKER_EPOCH;
		return;
	}
	if (!shutting_down(c, id)) {
		int32_t *n = realloc(c->shutting_down,
				     sizeof(*n) * (size_t)(c->nshutting_down + 1));

		if (n == NULL) {
			resp->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
			return;
		}
		c->shutting_down = n;
		c->shutting_down[c->nshutting_down++] = id;
	}
	KP_INFO("broker %d asks for a controlled shutdown", id);
	shutdown_moves(c, id);
	ctl_batch_flush(c);
	if (!ctl_active(c)) {
		resp->error_code = KP_ERR_NOT_CONTROLLER;
		return;
	}
	/* still led, and movable later (another replica alive): a partition
	 * whose other replicas are all down goes offline whatever the broker
	 * waits for, so it is not listed (Kafka lists it, and the broker
	 * retries in vain) */
	for (int i = 0; i < c->ntopics; i++)
		for (int32_t p = 0; p < c->topics[i]->nparts; p++)
			cap += movable(c, &c->topics[i]->parts[p], id);
	rem = kp_arena_calloc(a, (size_t)cap + 1, sizeof(*rem));
	if (rem == NULL) {
		resp->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	for (int i = 0; i < c->ntopics; i++)
		for (int32_t p = 0; p < c->topics[i]->nparts; p++) {
			struct c_part *cp = &c->topics[i]->parts[p];

			if (!movable(c, cp, id))
				continue;
			rem[nrem].topic_name = kp_str_c(c->topics[i]->name);
			rem[nrem].partition_index = p;
			nrem++;
		}
	resp->remaining_partitions = rem;
	resp->remaining_partitions_count = nrem;
	KP_INFO("controlled shutdown of broker %d: %d partition(s) still led by it",
		id, nrem);
}

/* ------------------------------------------------ ISR change notices */

/* Leaders changed ISRs: re-read those states, tell every broker. */
static void isr_change(struct controller *c)
{
	struct kp_zk_result res;
	int rc = ctl_zk_read(c, KP_ZK_READ_CHILDREN, "/isr_change_notification", true, &res);

	for (int32_t i = 0; rc == KP_ZK_OK && ctl_active(c) && i < res.nchildren; i++) {
		struct kp_zk_result data;
		struct kp_zk_tp_list l;
		char path[512], err[256];

		snprintf(path, sizeof(path), "/isr_change_notification/%s", res.children[i]);
		if (kp_zk_get_sync(c->zk, path, &data) == KP_ZK_OK && data.data != NULL &&
		    kp_zk_tp_list_decode(data.data, (size_t)data.len, false, &l, err,
					 sizeof(err)) == 0) {
			for (size_t j = 0; j < l.n; j++) {
				struct c_topic *t = ctl_topic_find(c, l.items[j].topic);
				int32_t p = l.items[j].partition;

				if (t == NULL || t->deleting || p < 0 || p >= t->nparts)
					continue;
				if (ctl_read_state(c, t, p) == MOVED)
					break;
				ctl_batch_um(c, t, p);
				ctl_reassign_check(c, t, p);
			}
			kp_zk_tp_list_free(&l);
		}
		kp_zk_result_free(&data);
		kp_zk_delete_sync(c->zk, path, -1);
	}
	kp_zk_result_free(&res);
	ctl_batch_flush(c);
}

/* ------------------------------------------------------------- topics */

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
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->name = strdup(name)) == NULL ||
	    (t->parts = calloc((size_t)zt.npartitions + 1, sizeof(*t->parts))) == NULL) {
		topic_free(t);
		kp_zk_topic_free(&zt);
		return NULL;
	}
	memcpy(t->topic_id, zt.topic_id, sizeof(t->topic_id));
	t->nparts = zt.npartitions;
	for (int32_t p = 0; p < zt.npartitions; p++) {
		t->parts[p].replicas = zt.parts[p];
		zt.parts[p] = (struct kp_replicas){ NULL, 0 };
		t->parts[p].leader = -1;
	}
	ctl_reassign_load(t, &zt);
	kp_zk_topic_free(&zt);
	return t;
}

/* Read /brokers/topics/<name> (with a data watch) into a new topic. */
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

	if (t == NULL || t->topic_id[0] != '\0' || !ctl_active(c) ||
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
	rc = ctl_fenced(c, &op, 1, &wr);
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

static struct c_topic *load_topic(struct controller *c, const char *name,
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
static int load_topics(struct controller *c, char **names, int n,
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

/* A topic znode changed: partitions were added. */
static void partition_modification(struct controller *c, const char *name)
{
	struct c_topic *t = ctl_topic_find(c, name), *nt;
	struct c_part *np;
	int32_t old;

	if (t == NULL)
		return;
	nt = load_topic(c, name, t->topic_id);	/* re-arms the watch */
	if (nt == NULL)
		return;
	if (t->topic_id[0] == '\0')
		memcpy(t->topic_id, nt->topic_id, sizeof(t->topic_id));
	if (nt->nparts <= t->nparts || t->deleting) {
		topic_free(nt);
		return;
	}
	np = realloc(t->parts, sizeof(*np) * (size_t)nt->nparts);
	if (np == NULL) {
		topic_free(nt);
		return;
	}
	t->parts = np;
	old = t->nparts;
	for (int32_t p = old; p < nt->nparts; p++) {
		t->parts[p] = nt->parts[p];
		nt->parts[p] = (struct c_part){ .leader = -1 };
	}
	t->nparts = nt->nparts;
	topic_free(nt);
	KP_INFO("topic %s: partitions %d..%d added", name, old, t->nparts - 1);
	{
		struct decisions d = { 0 };

		init_collect(c, &d, t, old, t->nparts);
		init_apply(c, &d);
	}
	ctl_batch_flush(c);
}

static void topic_change(struct controller *c)
{
	struct decisions d = { 0 };
	struct kp_zk_result res;
	int rc = ctl_zk_read(c, KP_ZK_READ_CHILDREN, "/brokers/topics", true, &res);

	if (rc != KP_ZK_OK) {
		KP_ERROR("reading /brokers/topics: %s", kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return;
	}
	/* gone: forget (children are sorted, like our table) */
	for (int i = c->ntopics - 1; i >= 0; i--) {
		bool present = false;

		for (int32_t j = 0; j < res.nchildren && !present; j++)
			present = strcmp(res.children[j], c->topics[i]->name) == 0;
		if (!present)
			topic_remove(c, c->topics[i]);
	}
	{
		char **fresh = calloc((size_t)res.nchildren + 1, sizeof(*fresh));
		struct c_topic **ts = calloc((size_t)res.nchildren + 1, sizeof(*ts));
		int n = 0;

		for (int32_t j = 0; fresh != NULL && j < res.nchildren; j++)
			if (ctl_topic_find(c, res.children[j]) == NULL)
				fresh[n++] = res.children[j];
		if (fresh != NULL && ts != NULL && n > 0 && load_topics(c, fresh, n, ts) == 0)
			for (int j = 0; j < n && ctl_active(c); j++) {
				struct c_topic *t = ts[j];

				if (t == NULL || topic_insert(c, t) < 0) {
					topic_free(t);
					continue;
				}
				KP_INFO("new topic %s with %d partitions", t->name, t->nparts);
				init_collect(c, &d, t, 0, t->nparts);
			}
		free(fresh);
		free(ts);
	}
	kp_zk_result_free(&res);
	init_apply(c, &d);
	ctl_batch_flush(c);
}

/* ----------------------------------------------------------- deletion */

/* Every replica stopped and deleted: remove the topic from ZooKeeper. */
static void finish_delete(struct controller *c, struct c_topic *t)
{
	struct kp_zk_result res;
	struct kp_zk_op *ops;
	char **paths;
	int n = 0, cap = 2 * t->nparts + 8, rc;

	ops = calloc((size_t)cap, sizeof(*ops));
	paths = calloc((size_t)cap, sizeof(*paths));
	if (ops == NULL || paths == NULL)
		goto out;
	/* the tree under the topic, leaves first: those that exist */
	for (int32_t p = 0; p < t->nparts; p++) {
		char buf[512];

		state_path(buf, sizeof(buf), t->name, p);
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
	rc = ctl_fenced(c, ops, n, &res);
	kp_zk_result_free(&res);
	if (rc == MOVED)
		goto out;
	if (rc != KP_ZK_OK) {
		KP_ERROR("deleting topic %s from ZooKeeper: %s", t->name,
			 kp_zk_strerror(rc));
		goto out;
	}
	KP_INFO("deleted topic %s", t->name);
	topic_remove(c, t);
out:
	for (int i = 0; paths != NULL && i < n; i++)
		free(paths[i]);
	free(paths);
	free(ops);
}

/* Start (or retry) deleting t: every replica must be alive to stop. */
static void start_delete(struct controller *c, struct c_topic *t)
{
	bool all_live = true;

	if (t->pending_stops > 0)
		return;
	for (int32_t p = 0; p < t->nparts; p++)
		for (int32_t i = 0; i < t->parts[p].replicas.n; i++)
			all_live &= ctl_live(c, t->parts[p].replicas.ids[i]);
	/* brokers drop it from their metadata now (leader -2) */
	for (int32_t p = 0; p < t->nparts; p++)
		ctl_batch_um(c, t, p);
	if (!all_live) {
		KP_INFO("deleting topic %s waits for its offline replicas", t->name);
		ctl_batch_flush(c);
		return;
	}
	t->stop_failed = false;
	for (int32_t p = 0; p < t->nparts; p++)
		for (int32_t i = 0; i < t->parts[p].replicas.n; i++)
			ctl_batch_stop(c, t->parts[p].replicas.ids[i], t, p,
				       EPOCH_DURING_DELETE);
	ctl_batch_flush(c);
	if (t->pending_stops == 0)
		finish_delete(c, t);	/* nothing to stop */
}

static void try_delete(struct controller *c, struct c_topic *t)
{
	if (t->stop_failed) {
		t->stop_failed = false;
		return;		/* retried when a broker comes back */
	}
	finish_delete(c, t);
}

/* Deletions that wait for replicas to come back (or stopped failing):
 * start them again. */
static void deletion_resume(struct controller *c)
{
	for (int i = c->ntopics - 1; i >= 0 && ctl_active(c); i--)
		if (i < c->ntopics && c->topics[i]->deleting)
			start_delete(c, c->topics[i]);
}

static void deletion_change(struct controller *c)
{
	struct kp_zk_result res;
	int rc = ctl_zk_read(c, KP_ZK_READ_CHILDREN, "/admin/delete_topics", true, &res);

	if (rc != KP_ZK_OK) {
		kp_zk_result_free(&res);
		return;
	}
	for (int32_t i = 0; i < res.nchildren && ctl_active(c); i++) {
		struct c_topic *t = ctl_topic_find(c, res.children[i]);
		char path[512];

		if (t == NULL || !kp_config_bool(&c->cfg, "delete.topic.enable")) {
			struct kp_zk_op op;
			struct kp_zk_result r2;

			/* nothing to delete, or deletion is disabled: drop it */
			if (t != NULL)
				KP_WARN("delete.topic.enable is false: not deleting %s",
					res.children[i]);
			snprintf(path, sizeof(path), "/admin/delete_topics/%s",
				 res.children[i]);
			op = (struct kp_zk_op){ .type = KP_ZK_OP_DELETE, .path = path,
						.version = -1 };
			ctl_fenced(c, &op, 1, &r2);
			kp_zk_result_free(&r2);
			continue;
		}
		if (!t->deleting) {
			KP_INFO("deleting topic %s", t->name);
			t->deleting = true;
			start_delete(c, t);
		}
	}
	kp_zk_result_free(&res);
}

/* ------------------------------------------------------------ brokers */

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

static void open_channel(struct controller *c, struct c_broker *b)
{
	const struct kp_endpoint *ep = broker_endpoint(c, b);

	if (ep == NULL) {
		KP_ERROR("broker %d registers no endpoint", b->id);
		return;
	}
	b->chan = chan_new(c->loop, b->id, ep->host, ep->port, c->socket_timeout_ms);
}

static int cmp_broker(const void *a, const void *b)
{
	const struct c_broker *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* The current registrations (children watched), sorted by id. */
static int read_brokers(struct controller *c, struct c_broker **out, int *n)
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

/* Brokers that started: metadata, their replicas' roles, elections. */
static void on_broker_startup(struct controller *c, const int32_t *ids, int n)
{
	/* everyone learns the broker list; the new ones every partition */
	c->batch.um_brokers = true;
	ctl_batch_flush(c);
	for (int i = 0; i < c->ntopics; i++)
		for (int32_t p = 0; p < c->topics[i]->nparts; p++)
			if (c->topics[i]->parts[p].has_state)
				ctl_batch_um(c, c->topics[i], p);
	c->batch.um_only = (int32_t *)ids;
	c->batch.num_only = n;
	c->batch.um_brokers = true;
	ctl_batch_flush(c);
	for (int i = 0; i < c->ntopics; i++) {
		struct c_topic *t = c->topics[i];

		if (t->deleting)
			continue;
		for (int32_t p = 0; p < t->nparts; p++) {
			if (!t->parts[p].has_state)
				continue;
			for (int j = 0; j < n; j++)
				if (ctl_in_list(&t->parts[p].replicas, ids[j]))
					ctl_batch_lai(c, ids[j], t, p, false);
		}
	}
	online_state_change(c);
	ctl_batch_flush(c);
	/* deletions waiting for these brokers: an event of their own */
	for (int i = 0; i < c->ntopics; i++)
		if (c->topics[i]->deleting) {
			ctl_event_put(c->events, ctl_event_new(CTL_EV_TOPIC_DELETION_RETRY));
			break;
		}
}

static void broker_change(struct controller *c)
{
	struct c_broker *now, *old = c->brokers;
	int nnow, nold = c->nbrokers, nnew = 0, ndead = 0;
	int32_t *started;

	if (read_brokers(c, &now, &nnow) < 0)
		return;
	started = calloc((size_t)nnow + 1, sizeof(*started));
	if (started == NULL) {
		for (int i = 0; i < nnow; i++)
			kp_zk_broker_free(&now[i].reg);
		free(now);
		return;
	}
	/* carry channels over for brokers still registered with the same
	 * epoch; a new epoch is a bounce: a new channel */
	for (int i = 0; i < nnow; i++) {
		struct c_broker *o = NULL;

		for (int j = 0; j < nold; j++)
			if (old[j].id == now[i].id)
				o = &old[j];
		if (o != NULL && o->epoch == now[i].epoch) {
			now[i].chan = o->chan;
			o->chan = NULL;
		} else {
			if (o != NULL)
				KP_INFO("broker %d re-registered", now[i].id);
			else
				KP_INFO("broker %d is up", now[i].id);
			started[nnew++] = now[i].id;
		}
	}
	for (int j = 0; j < nold; j++) {
		bool still = false;

		for (int i = 0; i < nnow; i++)
			still |= now[i].id == old[j].id && now[i].epoch == old[j].epoch;
		if (!still) {
			ndead++;
			KP_INFO("broker %d is down", old[j].id);
		}
		chan_free(old[j].chan);
		kp_zk_broker_free(&old[j].reg);
	}
	free(old);
	c->brokers = now;
	c->nbrokers = nnow;
	/* a broker that went (or came back) is no longer shutting down */
	for (int i = 0; i < c->nshutting_down; ) {
		struct c_broker *b = ctl_broker_find(c, c->shutting_down[i]);
		bool restarted = false;

		for (int j = 0; j < nnew; j++)
			restarted |= started[j] == c->shutting_down[i];
		if (b == NULL || restarted)
			c->shutting_down[i] = c->shutting_down[--c->nshutting_down];
		else
			i++;
	}
	for (int i = 0; i < nnow; i++)
		if (now[i].chan == NULL)
			open_channel(c, &now[i]);
	if (ndead > 0) {
		online_state_change(c);
		c->batch.um_brokers = true;	/* everyone learns of the deaths */
		ctl_batch_flush(c);
	}
	if (nnew > 0 && ctl_active(c))
		on_broker_startup(c, started, nnew);
	free(started);
}

/* ----------------------------------------------------------- election */

static int64_t now_ms(void);

static void become_active(struct controller *c)
{
	struct kp_zk_result res;
	int64_t started = now_ms();
	int rc;

	KP_INFO("active controller, epoch %d", c->epoch);
	context_clear(c);
	/* a child watch needs its parent: brokers make these too */
	kp_zk_ensure_path(c->zk, "/brokers/ids");
	kp_zk_ensure_path(c->zk, "/brokers/topics");
	kp_zk_ensure_path(c->zk, "/admin/delete_topics");
	kp_zk_ensure_path(c->zk, "/isr_change_notification");
	/* watches before reading, so nothing is missed */
	if (read_brokers(c, &c->brokers, &c->nbrokers) < 0)
		goto fail;
	rc = ctl_zk_read(c, KP_ZK_READ_CHILDREN, "/brokers/topics", true, &res);
	if (rc != KP_ZK_OK && rc != KP_ZK_NONODE) {
		kp_zk_result_free(&res);
		goto fail;
	}
	if (rc == KP_ZK_OK && res.nchildren > 0) {
		struct c_topic **ts = calloc((size_t)res.nchildren, sizeof(*ts));

		if (ts == NULL || load_topics(c, res.children, res.nchildren, ts) < 0) {
			free(ts);
			kp_zk_result_free(&res);
			goto fail;
		}
		for (int32_t i = 0; i < res.nchildren; i++)
			if (ts[i] != NULL && topic_insert(c, ts[i]) < 0) {
				topic_free(ts[i]);
				ts[i] = NULL;
			}
		free(ts);
	}
	kp_zk_result_free(&res);
	if (read_states(c, c->topics, c->ntopics) == MOVED)
		return;
	for (int i = 0; i < c->nbrokers; i++)
		open_channel(c, &c->brokers[i]);
	/* brokers must know the live brokers before they act on roles */
	c->batch.um_brokers = true;
	ctl_batch_flush(c);
	/* every replica learns its role; every broker every partition */
	for (int i = 0; i < c->ntopics; i++)
		for (int32_t p = 0; p < c->topics[i]->nparts; p++)
			if (c->topics[i]->parts[p].has_state && !c->topics[i]->deleting)
				ctl_batch_lai_replicas(c, c->topics[i], p, false);
	ctl_batch_flush(c);
	online_state_change(c);
	ctl_batch_flush(c);
	deletion_change(c);
	isr_change(c);
	ctl_reassign_resume(c);
	ctl_reassign_znode(c);
	ctl_preferred_znode(c);
	ctl_rebalance_schedule(c);
	if (ctl_active(c)) {
		int64_t nparts = 0;

		for (int i = 0; i < c->ntopics; i++)
			nparts += c->topics[i]->nparts;
		KP_INFO("in charge: %d topics, %" PRId64 " partitions, %d brokers "
			"(%" PRId64 " ms after winning the election)", c->ntopics, nparts,
			c->nbrokers, now_ms() - started);
	}
	return;
fail:
	KP_ERROR("cannot read the cluster state from ZooKeeper: resigning");
	ctl_resign_later(c);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Kafka's election: bump /controller_epoch and create /controller at once. */
static void elect(struct controller *c)
{
	struct kp_zk_result res;
	struct kp_zk_op ops[2];
	char epoch_buf[16], *json;
	int32_t epoch = 0, version;
	int rc = kp_zk_get_sync(c->zk, "/controller_epoch", &res);

	if (rc == KP_ZK_NONODE) {
		kp_zk_result_free(&res);
		rc = kp_zk_create_sync(c->zk, "/controller_epoch", "0", 1,
				       KP_ZK_PERSISTENT, NULL);
		if (rc != KP_ZK_OK && rc != KP_ZK_NODEEXISTS) {
			KP_ERROR("creating /controller_epoch: %s", kp_zk_strerror(rc));
			return;
		}
		rc = kp_zk_get_sync(c->zk, "/controller_epoch", &res);
	}
	if (rc != KP_ZK_OK) {
		KP_ERROR("reading /controller_epoch: %s", kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return;
	}
	if (res.data != NULL)
		epoch = (int32_t)strtol(res.data, NULL, 10);
	version = res.stat.version;
	kp_zk_result_free(&res);
	json = kp_zk_controller_encode(c->id, now_ms(), &c->ep);
	snprintf(epoch_buf, sizeof(epoch_buf), "%d", epoch + 1);
	ops[0] = (struct kp_zk_op){ .type = KP_ZK_OP_CREATE, .path = "/controller",
				    .data = json, .len = json ? (int32_t)strlen(json) : 0,
				    .mode = KP_ZK_EPHEMERAL };
	ops[1] = (struct kp_zk_op){ .type = KP_ZK_OP_SET, .path = "/controller_epoch",
				    .data = epoch_buf, .len = (int32_t)strlen(epoch_buf),
				    .version = version };
	rc = json != NULL ? kp_zk_multi_sync(c->zk, ops, 2, &res) : -1;
	free(json);
	kp_zk_result_free(&res);
	if (rc != KP_ZK_OK) {
		if (rc != KP_ZK_NODEEXISTS && rc != KP_ZK_BADVERSION)
			KP_WARN("controller election: %s", kp_zk_strerror(rc));
		return;		/* someone else won; the watch tells us more */
	}
	c->role = CTL_ACTIVE;
	c->epoch = epoch + 1;
	c->epoch_zkv = version + 1;
	become_active(c);
}

/* /controller changed: resign if it is no longer us, elect if it is gone. */
static void check_controller(struct controller *c)
{
	struct kp_zk_result res;
	int32_t id = -1;
	char err[128];
	int rc;

	rc = ctl_zk_read(c, KP_ZK_READ_EXISTS, "/controller", true, &res);
	kp_zk_result_free(&res);
	if (rc == KP_ZK_NONODE) {
		if (ctl_active(c))
			controller_resign(c);
		elect(c);
		return;
	}
	if (rc != KP_ZK_OK) {
		KP_WARN("watching /controller: %s", kp_zk_strerror(rc));
		return;
	}
	rc = kp_zk_get_sync(c->zk, "/controller", &res);
	if (rc == KP_ZK_OK && res.data != NULL &&
	    kp_zk_controller_decode(res.data, (size_t)res.len, &id, err, sizeof(err)) == 0) {
		if (ctl_active(c) && id != c->id)
			controller_resign(c);
		else if (!ctl_active(c))
			KP_INFO("standing by; the active controller is %d", id);
	}
	kp_zk_result_free(&res);
}

/* --------------------------------------------------------------- events */

/*
 * A watch fired (on the loop's thread, where ZooKeeper delivers watches):
 * it becomes the event of its znode.  Nothing else happens here.
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
	if (e != NULL && (e->u.modification.topic = strdup(path + 16)) == NULL) {
		free(e);
		e = NULL;
	}
	if (e == NULL)
		KP_ERROR("%s changed: event lost (out of memory)", path);
	ctl_event_put(c->events, e);
}

void ctl_resign_later(struct controller *c)
{
	if (c->role != CTL_ACTIVE)
		return;
	c->role = CTL_RESIGNING;
	ctl_event_put(c->events, ctl_event_new(CTL_EV_RESIGN));
}

/* The session expired: resign, then a new session, and stand again. */
static void expire(struct controller *c)
{
	char err[256];

	controller_resign(c);
	if (kp_zk_reconnect(c->zk, err, sizeof(err)) != 0) {
		KP_ERROR("reconnecting to ZooKeeper: %s", err);
		kp_notifyf("STATUS=not reconnected after a session expiry: %s", err);
		return;
	}
	check_controller(c);
	kp_notifyf("STATUS=controller %d, in the election", c->id);
}

/* An admin request, answered in full (refused when not active). */
static void request(struct controller *c, struct ctl_request *r)
{
	switch (r->api_key) {
	case KP_API_CONTROLLED_SHUTDOWN: {
		const struct kp_controlled_shutdown_req *req = r->req;

		controller_controlled_shutdown(c, req->broker_id, req->broker_epoch,
					       r->resp, r->arena);
		break;
	}
	case KP_API_ELECT_LEADERS:
		controller_elect_leaders(c, r->api_version, r->req, r->resp, r->arena);
		break;
	case KP_API_ALTER_PARTITION_REASSIGNMENTS:
		controller_alter_reassignments(c, r->req, r->resp, r->arena);
		break;
	case KP_API_LIST_PARTITION_REASSIGNMENTS:
		controller_list_reassignments(c, r->req, r->resp, r->arena);
		break;
	default:
		break;
	}
	r->done(r);
}

/* The event thread's work: one event, to its end. */
static void process(struct ctl_event *ev, void *arg)
{
	struct controller *c = arg;

	switch (ev->type) {
	case CTL_EV_STARTUP:
	case CTL_EV_CONTROLLER_CHANGE:
		check_controller(c);
		return;
	case CTL_EV_EXPIRE:
		expire(c);
		return;
	case CTL_EV_RESIGN:
		controller_resign(c);
		return;
	case CTL_EV_REQUEST:
		request(c, ev->u.request);
		return;
	case CTL_EV_LAI_RESPONSE:
		lai_response(c, ev);
		return;
	case CTL_EV_STOP_RESPONSE:
		stop_response(c, ev);
		return;
	default:
		break;
	}
	/* the rest is the active controller's */
	if (!ctl_active(c)) {
		KP_DEBUG("%s: not the active controller; ignored",
			 ctl_event_name(ev->type));
		return;
	}
	switch (ev->type) {
	case CTL_EV_BROKER_CHANGE:
		broker_change(c);
		break;
	case CTL_EV_TOPIC_CHANGE:
		topic_change(c);
		break;
	case CTL_EV_PARTITION_MODIFICATION:
		partition_modification(c, ev->u.modification.topic);
		break;
	case CTL_EV_TOPIC_DELETION:
		deletion_change(c);
		break;
	case CTL_EV_TOPIC_DELETION_RETRY:
		deletion_resume(c);
		break;
	case CTL_EV_ISR_CHANGE:
		isr_change(c);
		break;
	case CTL_EV_REASSIGN_ZNODE:
		ctl_reassign_znode(c);
		break;
	case CTL_EV_PREFERRED_ZNODE:
		ctl_preferred_znode(c);
		break;
	case CTL_EV_AUTO_REBALANCE:
		ctl_rebalance_run(c);
		break;
	default:
		break;
	}
}

/* Refuse an admin request from its own fields alone: preempting runs on
 * whichever thread cleared the queue, away from the context. */
static void refuse(struct ctl_request *r, int16_t err)
{
	switch (r->api_key) {
	case KP_API_CONTROLLED_SHUTDOWN:
		((struct kp_controlled_shutdown_resp *)r->resp)->error_code = err;
		break;
	case KP_API_ELECT_LEADERS:
		ctl_elect_leaders_refuse(r->api_version, r->req, r->resp, r->arena, err);
		break;
	case KP_API_ALTER_PARTITION_REASSIGNMENTS:
		((struct kp_alter_partition_reassignments_resp *)r->resp)->error_code = err;
		break;
	case KP_API_LIST_PARTITION_REASSIGNMENTS:
		((struct kp_list_partition_reassignments_resp *)r->resp)->error_code = err;
		break;
	default:
		break;
	}
	r->done(r);
}

/* An event dropped unprocessed: only a request needs an answer. */
static void preempt(struct ctl_event *ev, void *arg)
{
	(void)arg;
	if (ev->type == CTL_EV_REQUEST)
		refuse(ev->u.request, KP_ERR_NOT_CONTROLLER);
}

int controller_init(struct controller *c)
{
	c->events = ctl_event_queue_new(process, preempt, c);
	return c->events != NULL ? 0 : -1;
}

int controller_start(struct controller *c)
{
	if (ctl_event_start(c->events) < 0)
		return -1;
	ctl_event_put_wait(c->events, ctl_event_new(CTL_EV_STARTUP));
	return 0;
}

void controller_stop(struct controller *c)
{
	if (c->events != NULL)
		ctl_event_stop(c->events);
	controller_resign(c);
}

void controller_free(struct controller *c)
{
	ctl_event_queue_free(c->events);
	c->events = NULL;
	free(c->shutting_down);
	free(c->batch.lai);
	free(c->batch.um);
	free(c->batch.stop);
}

void controller_request(struct controller *c, struct ctl_request *r)
{
	struct ctl_event *ev = ctl_event_new(CTL_EV_REQUEST);

	if (ev == NULL) {
		refuse(r, KP_ERR_UNKNOWN_SERVER_ERROR);
		return;
	}
	ev->u.request = r;
	ctl_event_put(c->events, ev);
}

void controller_resign(struct controller *c)
{
	if (c->role == CTL_STANDBY)
		return;
	KP_INFO("resigning as controller (epoch %d)", c->epoch);
	c->role = CTL_STANDBY;
	if (c->events != NULL)
		ctl_event_unschedule(c->events, CTL_EV_AUTO_REBALANCE);
	context_clear(c);
}

void controller_session_expired(struct controller *c)
{
	ctl_event_clear_and_put(c->events, ctl_event_new(CTL_EV_EXPIRE));
}
