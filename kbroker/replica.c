/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replica.c - the leader's side of replication; see replica.h.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alter_isr.h"
#include "broker.h"
#include "isr_notify.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_msgs.h"
#include "kp_zk.h"
#include "kp_zkdata.h"
#include "log.h"
#include "log_dir.h"
#include "partition.h"
#include "purgatory.h"
#include "kp_topic_config.h"
#include "replica.h"

static struct replica_state *follower(struct partition *p, int32_t id)
{
	for (int32_t i = 0; i < p->nfollowers; i++)
		if (p->followers[i].id == id)
			return &p->followers[i];
	return NULL;
}

void replica_become_leader(struct broker *b, struct partition *p, bool was_leader)
{
	struct replica_state *old = p->followers;
	int32_t nold = p->nfollowers, n = 0;
	int64_t now = kp_now_ms();

	p->broker = b;
	p->followers = calloc((size_t)p->nreplicas + 1, sizeof(*p->followers));
	for (int32_t i = 0; p->followers != NULL && i < p->nreplicas; i++) {
		struct replica_state *f = &p->followers[n];
		bool kept = false;

		if (p->replicas[i] == b->id)
			continue;
		/* still leading (a new epoch or ISR from the controller): what
		 * we know of the followers stays true */
		for (int32_t j = 0; was_leader && j < nold && !kept; j++)
			if (old[j].id == p->replicas[i]) {
				*f = old[j];
				kept = true;
			}
		if (kept) {
			n++;
			continue;
		}
		f->id = p->replicas[i];
		f->leo = -1;
		f->log_start = -1;
		/* ISR members get the benefit of the doubt for one lag period */
		f->last_caught_up_ms = partition_in_isr(p, f->id) ? now : 0;
		f->last_fetch_leader_leo = -1;
		f->last_fetch_ms = 0;
		n++;
	}
	/* the controller's ISR is the truth now: an expansion we were
	 * writing failed (the znode version moved) */
	for (int32_t i = 0; p->followers != NULL && i < n; i++)
		p->followers[i].joining = false;
	free(old);
	p->nfollowers = p->followers != NULL ? n : 0;
	p->epoch_start_offset = log_end_offset(p->log);
	/* p->isr_changing stays: a write still in flight ends it, and its
	 * answer is not adopted (the leadership or the znode version moved)
	 * unless it is still ours */
	replica_update_hw(b, p);
}

bool replica_update_hw(struct broker *b, struct partition *p)
{
	int64_t hw = log_end_offset(p->log);

	for (int32_t i = 0; i < p->nisr; i++) {
		struct replica_state *f;

		if (p->isr[i] == b->id)
			continue;
		f = follower(p, p->isr[i]);
		if (f == NULL || f->leo < 0)
			return false;	/* not heard from yet: no progress */
		if (f->leo < hw)
			hw = f->leo;
	}
	/* the ISR plus the replicas joining it (Kafka's maximal ISR): once
	 * the controller may elect a joining replica, it has every
	 * acknowledged write */
	for (int32_t i = 0; i < p->nfollowers; i++) {
		const struct replica_state *f = &p->followers[i];

		if (f->joining && f->leo < hw)
			hw = f->leo;
	}
	/* transactions whose markers it passes are stable first (also when
	 * it stays: a reloaded producer state may hold some below it) */
	if (hw <= atomic_load(&p->hw)) {
		log_hw_moved(p->log, atomic_load(&p->hw));
		return false;
	}
	log_hw_moved(p->log, hw);
	atomic_store(&p->hw, hw);
	return true;
}

/* ------------------------------------------------------ ISR changes */

/* Followers that should leave (lagging) or join (caught up). */
static int32_t desired_isr(struct broker *b, struct partition *p, int32_t *out)
{
	int64_t now = kp_now_ms(), hw = atomic_load(&p->hw);
	int64_t lag = b->replica_lag_ms;
	int64_t leo = log_end_offset(p->log);
	int32_t n = 0;

	for (int32_t i = 0; i < p->nisr; i++) {
		struct replica_state *f = follower(p, p->isr[i]);

		if (p->isr[i] != b->id && f != NULL && f->leo < leo &&
		    now - f->last_caught_up_ms > lag)
			continue;	/* out of sync */
		out[n++] = p->isr[i];
	}
	for (int32_t i = 0; i < p->nfollowers; i++) {
		struct replica_state *f = &p->followers[i];

		if (!partition_in_isr(p, f->id) && f->leo >= hw &&
		    f->leo >= p->epoch_start_offset && now - f->last_caught_up_ms <= lag)
			out[n++] = f->id;
	}
	return n;
}

static bool same_set(const int32_t *a, int32_t na, const int32_t *b, int32_t nb)
{
	if (na != nb)
		return false;
	for (int32_t i = 0; i < na; i++) {
		bool found = false;

		for (int32_t j = 0; j < nb && !found; j++)
			found = a[i] == b[j];
		if (!found)
			return false;
	}
	return true;
}

/*
 * One ISR write in flight (at most one per partition: p->isr_changing
 * stays set until its last completion).  The znode write and, after a
 * BADVERSION, the read that checks whether the node already holds our
 * proposal are asynchronous: their completions are posted to the main
 * loop, which never waits for ZooKeeper.
 */
struct isr_write {
	struct broker *b;
	struct partition *p;
	struct kp_zk_partition_state s;	/* what we write; s.isr.ids owned */
	int32_t zkv;			/* the version it is conditional on */
	uint32_t lead_gen;
	struct alter_isr_item item;	/* asked of the controller (b->alter_isr) */
	kp_err_t refused;		/* ... which refused it so */
	char path[512];
};

static void isr_write_free(struct isr_write *w)
{
	free(w->s.isr.ids);
	free(w);
}

/*
 * The answer for w: rc KP_ZK_OK with the znode's new stat in res, or why
 * not.  Adopt the proposal when we still lead p as when we wrote it (same
 * leadership, epoch and znode version: a LeaderAndIsr meanwhile made the
 * controller's ISR the truth, as Kafka ignores an out-of-date answer),
 * then end the write.
 */
static void isr_write_done(struct isr_write *w, int rc, const struct kp_zk_result *res)
{
	struct broker *b = w->b;
	struct partition *p = w->p;
	bool changed = false, moved = false;

	b->isr_inflight--;
	pthread_mutex_lock(&p->lock);
	if (rc == KP_ZK_OK && res->has_stat && p->leader && p->log != NULL &&
	    p->lead_gen == w->lead_gen && p->leader_epoch == w->s.leader_epoch &&
	    p->zk_version == w->zkv) {
		char list[256];
		size_t off = 0;

		if (w->s.isr.n < p->nisr)
			kp_mctr_add(&b->metrics.isr_shrinks, 1);
		else if (w->s.isr.n > p->nisr)
			kp_mctr_add(&b->metrics.isr_expands, 1);
		free(p->isr);
		p->isr = w->s.isr.ids;
		p->nisr = w->s.isr.n;
		w->s.isr.ids = NULL;
		p->zk_version = res->stat.version;
		moved = replica_update_hw(b, p);
		changed = true;
		for (int32_t i = 0; i < p->nisr && off < sizeof(list) - 12; i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%d",
						i ? "," : "", p->isr[i]);
		list[off] = 0;
		KP_INFO("%s-%d: ISR now [%s] (zk version %d)", p->topic, p->index,
			list, p->zk_version);
	} else if (rc == KP_ZK_OK) {
		KP_INFO("%s-%d: ISR written at zk version %d, but a LeaderAndIsr "
			"came meanwhile; keeping its state", p->topic, p->index, w->zkv);
	} else if (w->refused != KP_ERR_NONE) {
		KP_INFO("%s-%d: ISR change not made (AlterIsr: %s)", p->topic,
			p->index, kp_err_name(w->refused));
	} else if (rc == KP_ZK_BADVERSION) {
		KP_INFO("%s-%d: cached zk version %d is stale; skipping the ISR "
			"change until the controller's update", p->topic, p->index, w->zkv);
	} else {
		/* the connection was lost (the write may have been applied:
		 * the next check's write then meets BADVERSION and finds it) */
		KP_WARN("%s-%d: cannot write the ISR: %s", p->topic, p->index,
			kp_zk_strerror(rc));
	}
	/* joined, or not (the next fetch tries again) */
	for (int32_t i = 0; p->followers != NULL && i < p->nfollowers; i++)
		p->followers[i].joining = false;
	p->isr_changing = false;
	pthread_mutex_unlock(&p->lock);
	if (moved)
		purgatory_notify(b->purg, &p->watchers);
	/* through AlterIsr the controller told every broker already */
	if (changed && !b->alter_isr)
		isr_notify_record(b, p);
	isr_write_free(w);
}

/*
 * The controller's answer to w's AlterIsr: its state adopted as a
 * written znode would be (the ISR it holds, at its version), under the
 * same conditions; INVALID_UPDATE_VERSION is the znode's BADVERSION.
 */
static void on_alter_isr(struct alter_isr_item *it, kp_err_t err,
			 const struct kp_alter_isr_resp_partition_data *st)
{
	struct isr_write *w = (struct isr_write *)((char *)it -
						    offsetof(struct isr_write, item));
	struct kp_zk_result res = { .rc = KP_ZK_OK };

	if (err == KP_ERR_NONE && st != NULL && st->leader_epoch == w->s.leader_epoch &&
	    st->leader_id == w->s.leader && st->isr_count > 0) {
		int32_t *isr = malloc(sizeof(*isr) * (size_t)st->isr_count);

		if (isr != NULL) {
			memcpy(isr, st->isr, sizeof(*isr) * (size_t)st->isr_count);
			free(w->s.isr.ids);
			w->s.isr.ids = isr;
			w->s.isr.n = st->isr_count;
			res.has_stat = true;
			res.stat.version = st->current_isr_version;
			isr_write_done(w, KP_ZK_OK, &res);
			return;
		}
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
	} else if (err == KP_ERR_NONE) {
		/* the controller holds another leader or epoch: a LeaderAndIsr
		 * is on its way */
		err = KP_ERR_FENCED_LEADER_EPOCH;
	}
	if (err == KP_ERR_INVALID_UPDATE_VERSION) {
		res.rc = KP_ZK_BADVERSION;
		isr_write_done(w, KP_ZK_BADVERSION, &res);
		return;
	}
	if (err == KP_ERR_NOT_LEADER_OR_FOLLOWER) {
		/* our leadership moved before it went: "came meanwhile" */
		isr_write_done(w, KP_ZK_OK, &res);
		return;
	}
	w->refused = err;
	res.rc = KP_ZK_NONODE;
	isr_write_done(w, KP_ZK_NONODE, &res);
}

/*
 * A conditional ISR write met another version: was it our own write,
 * applied before an answer lost with the connection (a write sent again
 * at a later check)?  Then the node holds exactly what we wrote: taken as
 * written, with its stat, as Kafka's conditional update checks the data
 * on a version mismatch.  Else BADVERSION (the controller changed it).
 */
static void on_isr_check(struct kp_zk_result *res, void *arg)
{
	struct isr_write *w = arg;
	struct kp_zk_partition_state got;
	char err[128];
	int rc = KP_ZK_BADVERSION;

	if (res->rc == KP_ZK_OK && res->data != NULL &&
	    kp_zk_partition_state_decode(res->data, (size_t)res->len, &got, err,
					 sizeof(err)) == 0) {
		if (got.controller_epoch == w->s.controller_epoch &&
		    got.leader == w->s.leader && got.leader_epoch == w->s.leader_epoch &&
		    same_set(got.isr.ids, got.isr.n, w->s.isr.ids, w->s.isr.n))
			rc = KP_ZK_OK;
		kp_zk_partition_state_free(&got);
	}
	isr_write_done(w, rc, res);
}

static void on_isr_set(struct kp_zk_result *res, void *arg)
{
	struct isr_write *w = arg;

	if (res->rc != KP_ZK_BADVERSION) {
		isr_write_done(w, res->rc, res);
		return;
	}
	/* on_isr_check ends it (its completion runs whatever happens, but
	 * for a request kp_zk could not even allocate) */
	if (kp_zk_get(w->b->zk, w->path, NULL, NULL, on_isr_check, w) == KP_ZK_NOT_QUEUED)
		isr_write_done(w, KP_ZK_BADVERSION, res);
}

/*
 * Start bringing p's ISR in ZooKeeper to what the followers' state says
 * (main loop; p->isr_changing set by the caller).  Until the write is
 * acknowledged the ISR that counts for the high watermark (and acks=all)
 * is the larger one: the old ISR during a shrink, the ISR plus the
 * joining replicas during an expansion (Kafka's maximal ISR).
 */
static void isr_update(struct broker *b, struct partition *p)
{
	struct isr_write *w;
	int32_t *isr, nisr;
	char *json;

	pthread_mutex_lock(&p->lock);
	if (!p->leader || p->log == NULL) {
		p->isr_changing = false;
		pthread_mutex_unlock(&p->lock);
		return;
	}
	w = calloc(1, sizeof(*w));
	isr = calloc((size_t)(p->nisr + p->nfollowers) + 1, sizeof(*isr));
	nisr = isr != NULL ? desired_isr(b, p, isr) : 0;
	if (w == NULL || isr == NULL || same_set(isr, nisr, p->isr, p->nisr)) {
		p->isr_changing = false;
		pthread_mutex_unlock(&p->lock);
		free(isr);
		free(w);
		return;
	}
	w->b = b;
	w->p = p;
	w->s.controller_epoch = p->controller_epoch;
	w->s.leader = b->id;
	w->s.leader_epoch = p->leader_epoch;
	w->s.isr.ids = isr;
	w->s.isr.n = nisr;
	w->zkv = p->zk_version;
	w->lead_gen = p->lead_gen;
	snprintf(w->path, sizeof(w->path), "/brokers/topics/%s/partitions/%d/state",
		 p->topic, p->index);
	/* from now on the high watermark waits for the joining replicas too
	 * (desired_isr took them at or past it, under this lock) */
	for (int32_t i = 0; i < nisr; i++) {
		struct replica_state *f = follower(p, isr[i]);

		if (f != NULL && !partition_in_isr(p, isr[i]))
			f->joining = true;
	}
	pthread_mutex_unlock(&p->lock);

	b->isr_inflight++;
	if (b->alter_isr) {
		w->item = (struct alter_isr_item){ .p = p, .lead_gen = w->lead_gen,
						   .leader_epoch = w->s.leader_epoch,
						   .version = w->zkv, .isr = w->s.isr.ids,
						   .nisr = w->s.isr.n, .done = on_alter_isr };
		alter_isr_submit(b, &w->item);
		return;
	}
	json = kp_zk_partition_state_encode(&w->s);
	if (json == NULL) {
		struct kp_zk_result none = { .rc = KP_ZK_NONODE };

		isr_write_done(w, KP_ZK_NONODE, &none);
		return;
	}
	/* the completion runs (posted) whatever happens, a failure to send
	 * included, but when kp_zk could not allocate the request */
	if (kp_zk_set(b->zk, w->path, json, (int32_t)strlen(json), w->zkv,
		      on_isr_set, w) == KP_ZK_NOT_QUEUED) {
		struct kp_zk_result none = { .rc = KP_ZK_NOT_QUEUED };

		isr_write_done(w, KP_ZK_NOT_QUEUED, &none);
	}
	free(json);
}

/* Posted to the main loop; p->isr_changing makes it one at a time (and
 * nothing is allocated, so a post the stopped loop never runs leaks
 * nothing). */
static void on_expand(void *arg)
{
	struct partition *p = arg;

	isr_update(p->broker, p);
}

static bool same_rack(const char *a, const char *b, size_t blen)
{
	return a != NULL && strlen(a) == blen && memcmp(a, b, blen) == 0;
}

int32_t replica_preferred_read(struct broker *b, struct partition *p,
			       const char *client_rack, size_t rack_len,
			       int64_t fetch_offset, const struct md_view *v)
{
	const struct replica_state *best = NULL;

	/* as Kafka: no rack, or the leader is in it, means the leader */
	if (rack_len == 0 || same_rack(b->rack, client_rack, rack_len))
		return -1;
	pthread_mutex_lock(&p->lock);
	for (int32_t i = 0; p->leader && i < p->nfollowers; i++) {
		const struct replica_state *f = &p->followers[i];
		const struct md_broker *mb = md_view_broker(v, f->id);

		/* alive (in the metadata), in the client's rack, and holding
		 * the offset asked for, in sync or not */
		if (mb == NULL || !same_rack(mb->rack, client_rack, rack_len) ||
		    f->leo < fetch_offset || f->log_start > fetch_offset)
			continue;
		if (best == NULL || f->leo > best->leo ||
		    (f->leo == best->leo && f->last_caught_up_ms > best->last_caught_up_ms))
			best = f;
	}
	pthread_mutex_unlock(&p->lock);
	return best != NULL ? best->id : -1;
}

bool replica_is_follower(struct partition *p, int32_t id)
{
	bool yes;

	pthread_mutex_lock(&p->lock);
	yes = p->leader && id >= 0 && follower(p, id) != NULL;
	pthread_mutex_unlock(&p->lock);
	return yes;
}

void replica_follower_fetch(struct broker *b, struct partition *p, int32_t id,
			    int64_t offset, int64_t log_start, int64_t now)
{
	struct replica_state *f;
	bool moved, expand = false, start_moved;
	int64_t leo;

	pthread_mutex_lock(&p->lock);
	if (!p->leader || p->log == NULL || (f = follower(p, id)) == NULL ||
	    offset > (leo = log_end_offset(p->log)) || offset < 0) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	/*
	 * The idle case, a follower caught up that fetched at our log end
	 * last time too: only its fetch times move (as Kafka's
	 * updateFollowerFetchState: at the log end, caught up now), and
	 * the high watermark, which depends on nothing else it told us,
	 * stays as the last change computed it.
	 */
	if (offset == leo && f->leo == offset && f->last_fetch_leader_leo == leo &&
	    f->log_start == log_start && partition_in_isr(p, id)) {
		f->last_caught_up_ms = now;
		f->last_fetch_ms = now;
		pthread_mutex_unlock(&p->lock);
		return;
	}
	if (offset >= leo)
		f->last_caught_up_ms = now;
	else if (f->last_fetch_leader_leo >= 0 && offset >= f->last_fetch_leader_leo &&
		 f->last_fetch_ms > f->last_caught_up_ms)
		f->last_caught_up_ms = f->last_fetch_ms;
	f->last_fetch_leader_leo = leo;
	f->last_fetch_ms = now;
	f->leo = offset;
	/* a follower's log start moving is what a parked DeleteRecords
	 * waits for (api_log_admin.c) */
	start_moved = f->log_start != log_start;
	f->log_start = log_start;
	if (!p->isr_changing && !partition_in_isr(p, id) &&
	    offset >= atomic_load(&p->hw) && offset >= p->epoch_start_offset) {
		p->isr_changing = true;
		expand = true;
	}
	moved = replica_update_hw(b, p);
	pthread_mutex_unlock(&p->lock);
	if (moved || start_moved)
		purgatory_notify(b->purg, &p->watchers);
	if (expand && kp_loop_post(b->loop, on_expand, p) < 0) {
		pthread_mutex_lock(&p->lock);
		p->isr_changing = false;	/* the next fetch tries again */
		pthread_mutex_unlock(&p->lock);
	}
}

/* ------------------------------------------------------- ISR expiry */

struct expiry {
	struct broker *b;
	struct partition **due;
	size_t n, cap;
};

static void collect_lagging(struct partition *p, void *arg)
{
	struct expiry *x = arg;
	int64_t now = kp_now_ms();
	int64_t lag = x->b->replica_lag_ms;
	bool lagging = false;

	pthread_mutex_lock(&p->lock);
	if (p->leader && p->log != NULL && !p->isr_changing && p->nisr > 1) {
		int64_t leo = log_end_offset(p->log);

		for (int32_t i = 0; i < p->nisr && !lagging; i++) {
			struct replica_state *f = follower(p, p->isr[i]);

			lagging = f != NULL && f->leo < leo &&
				  now - f->last_caught_up_ms > lag;
		}
	}
	if (lagging) {
		if (x->n == x->cap) {
			size_t nc = x->cap ? 2 * x->cap : 64;
			struct partition **nd = realloc(x->due, nc * sizeof(*nd));

			if (nd == NULL)
				lagging = false;
			else {
				x->due = nd;
				x->cap = nc;
			}
		}
		if (lagging) {
			p->isr_changing = true;
			x->due[x->n++] = p;
		}
	}
	pthread_mutex_unlock(&p->lock);
}

static void on_isr_expiry(struct kp_loop *loop, void *arg)
{
	struct broker *b = arg;
	struct expiry x = { .b = b };

	partition_foreach(&b->parts, collect_lagging, &x);
	/* every write goes out at once (pipelined); each partition's
	 * change is announced with the next propagation (isr_notify.c) */
	for (size_t i = 0; i < x.n; i++)
		isr_update(b, x.due[i]);
	free(x.due);
	kp_timer_start(loop, &b->isr_timer,
		       b->replica_lag_ms / 2);
}

/* -------------------------------------------------- HW checkpoints */

/* Each log's high watermark as the checkpoint would have it (the
 * partition's, or the one remembered for a log no partition holds now);
 * -1: none. */
static int64_t checkpoint_hw_of(struct broker *b, struct log_dir *ld, struct log *log)
{
	struct partition *p = partition_find(&b->parts, log->topic, strlen(log->topic),
					     log->partition);

	return p != NULL && p->log == log ? atomic_load(&p->hw)
		: log_checkpoint_get(&ld->hw, log->topic, log->partition, -1);
}

/* The file already says what a checkpoint of ld would: nothing to build. */
static bool checkpoint_hw_current(struct broker *b, struct log_dir *ld)
{
	int n = 0;

	if (!ld->hw_on_disk)
		return false;
	for (int i = 0; i < ld->nlogs; i++) {
		struct log *log = ld->logs[i];
		int64_t hw = checkpoint_hw_of(b, ld, log);

		if (hw < 0)
			continue;
		if (log_checkpoint_get(&ld->hw, log->topic, log->partition, -1) != hw)
			return false;
		n++;
	}
	return n == ld->hw.n;
}

void replica_checkpoint_hw(struct broker *b)
{
	pthread_mutex_lock(&b->dirs_lock);
	for (int d = 0; d < b->ndirs; d++) {
		struct log_dir *ld = b->dirs[d];
		struct log_checkpoint cp;

		/* an idle broker's high watermarks do not move: the file
		 * already says the same (Kafka rewrites it; the content is
		 * what counts) */
		if (checkpoint_hw_current(b, ld))
			continue;
		log_checkpoint_init(&cp);
		for (int i = 0; i < ld->nlogs; i++) {
			struct log *log = ld->logs[i];
			int64_t hw = checkpoint_hw_of(b, ld, log);

			if (hw >= 0)
				log_checkpoint_put(&cp, log->topic, log->partition, hw);
		}
		ld->hw_on_disk = log_dir_write_hw(ld, &cp) == 0;
		if (!ld->hw_on_disk)
			KP_WARN("cannot write %s/replication-offset-checkpoint", ld->path);
		log_checkpoint_free(&ld->hw);
		ld->hw = cp;
	}
	pthread_mutex_unlock(&b->dirs_lock);
}

int64_t replica_initial_hw(struct broker *b, const char *topic, int32_t index)
{
	int64_t hw = -1;

	for (int d = 0; d < b->ndirs && hw < 0; d++)
		hw = log_checkpoint_get(&b->dirs[d]->hw, topic, index, -1);
	return hw > 0 ? hw : 0;
}

static void on_hw_timer(struct kp_loop *loop, void *arg)
{
	struct broker *b = arg;

	replica_checkpoint_hw(b);
	kp_timer_start(loop, &b->hw_timer, b->hw_checkpoint_ms);
}

int replica_start(struct broker *b)
{
	b->replica_lag_ms = kp_config_long(&b->cfg, "replica.lag.time.max.ms");
	b->hw_checkpoint_ms = kp_config_long(&b->cfg,
					     "replica.high.watermark.checkpoint.interval.ms");
	/* Kafka 2.8 asks the controller from 2.7-IV2 on (KIP-497) */
	b->alter_isr = kp_api_version_at_least(kp_config_str(&b->cfg,
					       "inter.broker.protocol.version"),
					       "2.7-IV2") == 1;
	if (b->alter_isr && alter_isr_start(b) < 0)
		return -1;
	if (isr_notify_start(b) < 0)
		return -1;
	kp_timer_init(&b->isr_timer, on_isr_expiry, b);
	kp_timer_init(&b->hw_timer, on_hw_timer, b);
	kp_timer_start(b->loop, &b->isr_timer,
		       b->replica_lag_ms / 2);
	kp_timer_start(b->loop, &b->hw_timer, b->hw_checkpoint_ms);
	return 0;
}

/* How long the stopping broker waits for its ISR writes and notices. */
#define STOP_DRAIN_MS 5000

void replica_stop(struct broker *b)
{
	int64_t until = kp_now_ms() + STOP_DRAIN_MS;

	kp_timer_stop(b->loop, &b->isr_timer);
	kp_timer_stop(b->loop, &b->hw_timer);
	isr_notify_stop(b);
	/* their completions are posted to the main loop, which stopped:
	 * run it a little more for them (a ZooKeeper that does not answer
	 * within the bound leaves them, and their memory, behind) */
	while ((b->isr_inflight > 0 || isr_notify_inflight(b) > 0) &&
	       kp_now_ms() < until)
		kp_loop_run_once(b->loop, 100);
	/* proposals the controller did not answer end now (their writes
	 * are counted above) */
	alter_isr_stop(b);
	if (b->isr_inflight > 0 || isr_notify_inflight(b) > 0)
		KP_WARN("stopping with %d ISR write(s) and %d ISR notice(s) unanswered",
			b->isr_inflight, isr_notify_inflight(b));
	isr_notify_free(b);
}
