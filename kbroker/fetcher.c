/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetcher.c - replica fetchers; see fetcher.h.
 *
 * num.replica.fetchers threads, each with its own event loop and its own
 * connection (and fetch session) to every leader it fetches from; a
 * partition always goes to the thread Kafka's AbstractFetcherManager
 * picks, abs(31 * topic.hashCode() + partition) % num.replica.fetchers,
 * so its fetch_slot is only ever touched by that thread.
 *
 * Everything here runs on the fetcher threads except fetcher_follow /
 * fetcher_unfollow, which post commands to them.  Partition structs are
 * never freed while the broker runs, so commands may carry pointers.
 *
 * KIP-227: each source keeps a fetch session with its leader.  The first
 * fetch is full (session epoch 0) and opens it; later ones name only the
 * partitions whose position moved (fetch offset, log start, leader epoch)
 * or that joined, and forget those we stopped fetching, so an idle
 * follower of thousands of partitions sends a few bytes per fetch.  The
 * leader answers only the partitions with news, so answers are matched to
 * partitions by name.  Any doubt (an error, a lost connection, nothing to
 * fetch) goes back to a full fetch, which the leader takes as a new
 * session; a leader that keeps no session (id 0) gets full fetches.  When
 * nothing is left to follow on a leader, the session is closed (a fetch of
 * nothing with epoch -1) before the connection goes, so the leader does
 * not hold it until it is evicted.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "fetcher.h"
#include "kp_client.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_msgs.h"
#include "kp_proto.h"
#include "kp_records.h"
#include "log.h"
#include "log_dir.h"
#include "partition.h"
#include "purgatory.h"
#include "quota.h"

#define RETRY_SOON_MS 50

/* Guards b->fetcher against fetcher_stop() while workers post commands. */
static pthread_mutex_t fetcher_lock = PTHREAD_MUTEX_INITIALIZER;

struct fpart {
	struct fpart *next, **pprev;	/* in its source's list */
	struct source *s;
	struct partition *p;		/* p->fetch_slot is this */
	int32_t epoch;		/* the leader epoch we follow at */
	int64_t offset;		/* next fetch offset */
	bool truncating;	/* ask where our log diverges first */
	int sent;		/* index in the request in flight, or -1 */
	int64_t delay_until;	/* monotonic ms; 0: none */
	bool in_sync;		/* at the leader's high watermark at the last fetch */
	/* KIP-227: in the leader's session, at this position */
	bool in_sess;
	int64_t sess_offset, sess_start;
	int32_t sess_epoch;
};

/* A partition that left the session, to forget in the next fetch. */
struct forgot {
	char *topic;
	int32_t partition;
};

struct source {
	struct source *next;
	struct fetcher *f;
	int32_t id;
	char host[256];
	int port;
	struct kp_conn *conn;
	bool busy;		/* a request is in flight */
	struct fpart *parts;
	struct fpart **sent;	/* the request's partitions, in order */
	int nsent, capsent;
	struct kp_timer timer;	/* reconnect, delayed partitions */
	/* KIP-227 */
	int32_t sess_id;	/* 0: none */
	int32_t sess_epoch;	/* of the next fetch; 0: a full one */
	bool sess_full;		/* the fetch in flight is full */
	struct forgot *forgot;
	int nforgot, capforgot;
};

/* One fetcher thread. */
struct fetcher {
	struct broker *b;
	int index;
	struct kp_loop *loop;
	pthread_t thread;
	struct source *sources;
	struct kp_client_opts opts;
	char client_id[64];
	/* replica.fetch.* keys, read once */
	int32_t backoff_ms;
	int32_t wait_max_ms, min_bytes, response_max_bytes, max_bytes;
};

/* The threads (b->fetcher). */
struct fetchers {
	int n;
	struct fetcher **t;
};

static void kick(struct source *s);

/* ------------------------------------------------------------ helpers */

static void unsend_all(struct source *s)
{
	for (int i = 0; i < s->nsent; i++)
		if (s->sent[i] != NULL)
			s->sent[i]->sent = -1;
	s->nsent = 0;
	s->busy = false;
}

static int add_sent(struct source *s, struct fpart *fp)
{
	if (s->nsent == s->capsent) {
		int nc = s->capsent ? 2 * s->capsent : 64;
		struct fpart **ns = realloc(s->sent, sizeof(*ns) * (size_t)nc);

		if (ns == NULL)
			return -1;
		s->sent = ns;
		s->capsent = nc;
	}
	fp->sent = s->nsent;
	s->sent[s->nsent++] = fp;
	return 0;
}

/* The fpart answered at position i, if it is still the one asked for. */
static struct fpart *answered(struct source *s, int i, kp_str topic, int32_t index)
{
	struct fpart *fp = i < s->nsent ? s->sent[i] : NULL;

	if (fp == NULL || fp->p->index != index ||
	    strlen(fp->p->topic) != (size_t)(topic.len > 0 ? topic.len : 0) ||
	    memcmp(fp->p->topic, topic.ptr, strlen(fp->p->topic)) != 0)
		return NULL;
	return fp;
}

static void forgot_clear(struct source *s)
{
	for (int i = 0; i < s->nforgot; i++)
		free(s->forgot[i].topic);
	s->nforgot = 0;
}

/* The next fetch is a full one: it closes the session named (keep_id)
 * and opens a new one. */
static void sess_reset(struct source *s, bool keep_id)
{
	for (struct fpart *fp = s->parts; fp != NULL; fp = fp->next)
		fp->in_sess = false;
	forgot_clear(s);
	s->sess_epoch = 0;
	if (!keep_id)
		s->sess_id = 0;
}

/* Kafka's JFetchMetadata.nextEpoch. */
static int32_t sess_next_epoch(int32_t e)
{
	return e == INT32_MAX ? 1 : e + 1;
}

/* The fpart of this fetch named topic/index (answers of a session hold
 * only what changed, in the leader's order). */
static struct fpart *answered_by_name(struct source *s, kp_str topic, int32_t index)
{
	struct partition *p;
	struct fpart *fp;

	if (topic.len <= 0)
		return NULL;
	p = partition_find(&s->f->b->parts, topic.ptr, (size_t)topic.len, index);
	fp = p != NULL ? p->fetch_slot : NULL;
	if (fp == NULL || fp->s != s || fp->sent < 0 || fp->sent >= s->nsent ||
	    s->sent[fp->sent] != fp)
		return NULL;
	return fp;
}

static void drop_conn(struct source *s)
{
	struct kp_conn *c = s->conn;

	s->conn = NULL;
	unsend_all(s);
	sess_reset(s, true);
	if (c != NULL)
		kp_conn_free(c);
}

/* Still following p at fp's epoch (caller holds p->lock). */
static bool still_following(const struct fpart *fp)
{
	const struct partition *p = fp->p;

	return !p->leader && p->log != NULL && !p->deleting &&
	       p->leader_epoch == fp->epoch;
}

/* Truncate to offset and continue from the log end (p->lock held). */
static void truncate_at(struct fpart *fp, int64_t offset, const char *why)
{
	struct partition *p = fp->p;
	int64_t leo = log_end_offset(p->log);

	if (offset < leo) {
		KP_INFO("%s-%d: truncating from %" PRId64 " to %" PRId64 " (%s)",
			p->topic, p->index, leo, offset, why);
		if (log_truncate_to(p->log, offset) < 0)
			KP_ERROR("%s-%d: truncation failed", p->topic, p->index);
	}
	leo = log_end_offset(p->log);
	if (atomic_load(&p->hw) > leo)
		atomic_store(&p->hw, leo);
	fp->offset = leo;
}

/* ------------------------------------------------- OffsetForLeaderEpoch */

static void on_epoch_resp(struct kp_conn *c, int err, int16_t api_key,
			  int16_t version, void *resp, void *arg)
{
	struct source *s = arg;
	const struct kp_offset_for_leader_epoch_resp *r = resp;
	int k = 0;

	(void)api_key;
	if (c != s->conn)
		return;
	if (err < 0) {
		KP_WARN("OffsetForLeaderEpoch to broker %d failed: %s", s->id,
			strerror(-err));
		unsend_all(s);
		return;		/* the state callback reconnects */
	}
	for (int32_t i = 0; i < r->topics_count; i++)
		for (int32_t j = 0; j < r->topics[i].partitions_count; j++, k++) {
			const struct kp_offset_for_leader_epoch_resp_epoch_end_offset *e =
				&r->topics[i].partitions[j];
			struct fpart *fp = answered(s, k, r->topics[i].topic, e->partition);
			struct partition *p;

			if (fp == NULL)
				continue;
			p = fp->p;
			pthread_mutex_lock(&p->lock);
			if (!still_following(fp) || !fp->truncating) {
				pthread_mutex_unlock(&p->lock);
				continue;
			}
			if (e->error_code == KP_ERR_FENCED_LEADER_EPOCH ||
			    e->error_code == KP_ERR_UNKNOWN_LEADER_EPOCH ||
			    e->error_code == KP_ERR_NOT_LEADER_OR_FOLLOWER ||
			    e->error_code == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION) {
				fp->delay_until = kp_now_ms() + RETRY_SOON_MS;
			} else if (e->error_code != 0 || e->end_offset < 0) {
				truncate_at(fp, atomic_load(&p->hw), "leader has no end offset");
				fp->truncating = false;
			} else if (version == 0 || e->leader_epoch < 0) {
				truncate_at(fp, e->end_offset, "leader's end offset");
				fp->truncating = false;
			} else {
				int32_t fe;
				int64_t fend;

				log_end_offset_for_epoch(p->log, e->leader_epoch, &fe, &fend);
				if (fe < 0 || fend < 0) {
					truncate_at(fp, atomic_load(&p->hw),
						    "no common epoch");
					fp->truncating = false;
				} else if (fe == e->leader_epoch) {
					truncate_at(fp, e->end_offset < fend ? e->end_offset : fend,
						    "epoch boundary");
					fp->truncating = false;
				} else {
					/* we lack the leader's epoch: cut back to the
					 * end of our older one and ask again */
					truncate_at(fp, fend, "older epoch");
				}
			}
			pthread_mutex_unlock(&p->lock);
		}
	unsend_all(s);
	kick(s);
}

/* Partitions without any epoch truncate to the high watermark at once.
 * Returns how many were put in req. */
static int build_epoch_req(struct source *s, struct kp_offset_for_leader_epoch_req *req,
			   int64_t now)
{
	struct kp_offset_for_leader_epoch_req_offset_for_leader_topic *t;
	struct kp_offset_for_leader_epoch_req_offset_for_leader_partition *pp;
	int n = 0, cap = 0;

	for (struct fpart *fp = s->parts; fp != NULL; fp = fp->next)
		cap += fp->truncating;
	/* one topic entry per partition; both arrays in one allocation */
	t = calloc((size_t)cap + 1, sizeof(*t) + sizeof(*pp));
	if (t == NULL)
		return -1;
	pp = (void *)(t + cap + 1);
	req->topics = t;
	/* the usual case: nobody to ask, no second walk of every partition */
	for (struct fpart *fp = cap > 0 ? s->parts : NULL; fp != NULL; fp = fp->next) {
		struct partition *p = fp->p;
		int32_t latest;

		if (!fp->truncating || fp->delay_until > now)
			continue;
		pthread_mutex_lock(&p->lock);
		if (!still_following(fp)) {
			pthread_mutex_unlock(&p->lock);
			continue;
		}
		latest = log_epoch_latest(&p->log->epochs);
		if (latest < 0) {
			truncate_at(fp, atomic_load(&p->hw), "no leader epochs");
			fp->truncating = false;
			pthread_mutex_unlock(&p->lock);
			continue;
		}
		pthread_mutex_unlock(&p->lock);
		if (add_sent(s, fp) < 0)
			break;
		pp[n].partition = p->index;
		pp[n].current_leader_epoch = fp->epoch;
		pp[n].leader_epoch = latest;
		t[n].topic = kp_str_c(p->topic);
		t[n].partitions = &pp[n];
		t[n].partitions_count = 1;
		n++;
	}
	req->topics_count = n;
	return n;
}

/* --------------------------------------------------------------- Fetch */

/* Whole batches at the front of a fetched range (the leader may cut the
 * last one at the size limit). */
static size_t whole_batches(const uint8_t *d, size_t len)
{
	size_t used = 0, sz;

	while (used < len && kp_batch_size(d + used, len - used, &sz) == KP_BATCH_OK &&
	       sz <= len - used)
		used += sz;
	return used;
}

static bool follower_throttled(struct broker *b, const struct partition *p)
{
	return quota_repl_throttled(b->quotas, false, p->topic, strlen(p->topic),
				    p->index);
}

static void fetched(struct source *s, struct fpart *fp,
		    const struct kp_fetch_resp_partition_data *d)
{
	struct partition *p = fp->p;
	int64_t leo, hw, old_hw;
	bool moved, new_start = false;
	struct log *log;

	pthread_mutex_lock(&p->lock);
	if (!still_following(fp) || fp->truncating) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	switch (d->error_code) {
	case 0:
		break;
	case KP_ERR_OFFSET_OUT_OF_RANGE:
		if (d->log_start_offset >= 0 && fp->offset < d->log_start_offset) {
			KP_INFO("%s-%d: behind the leader's log start %" PRId64
				"; starting there", p->topic, p->index, d->log_start_offset);
			log_truncate_fully_and_start_at(p->log, d->log_start_offset);
			atomic_store(&p->hw, d->log_start_offset);
			fp->offset = d->log_start_offset;
		} else {
			fp->truncating = true;
		}
		pthread_mutex_unlock(&p->lock);
		return;
	case KP_ERR_FENCED_LEADER_EPOCH:
	case KP_ERR_UNKNOWN_LEADER_EPOCH:
	case KP_ERR_NOT_LEADER_OR_FOLLOWER:
	case KP_ERR_UNKNOWN_TOPIC_OR_PARTITION:
		fp->delay_until = kp_now_ms() + RETRY_SOON_MS;
		pthread_mutex_unlock(&p->lock);
		return;
	default:
		KP_WARN("%s-%d: fetch from broker %d: %s", p->topic, p->index, s->id,
			kp_err_name(d->error_code));
		fp->delay_until = kp_now_ms() + s->f->backoff_ms;
		pthread_mutex_unlock(&p->lock);
		return;
	}
	if (d->records.ptr != NULL && d->records.len > 0) {
		size_t len = whole_batches(d->records.ptr, (size_t)d->records.len);
		int rc = 0;

		if (len > 0 && fp->offset == log_end_offset(p->log)) {
			rc = log_append_follower(p->log, d->records.ptr, len, -1, NULL);
			/* the follower quota counts what throttled replicas fetch */
			if (rc == 0 && follower_throttled(s->f->b, p))
				quota_record(&s->f->b->quotas->follower, (int64_t)len,
					     kp_now_ms());
		}
		if (rc == KP_ERR_OFFSET_OUT_OF_RANGE) {
			fp->truncating = true;
		} else if (rc != 0) {
			KP_ERROR("%s-%d: cannot append fetched data: %s", p->topic,
				 p->index, rc > 0 ? kp_err_name((int16_t)rc) : strerror(-rc));
			fp->delay_until = kp_now_ms() + s->f->backoff_ms;
		}
	}
	leo = log_end_offset(p->log);
	fp->offset = leo;
	fp->in_sync = d->high_watermark >= 0 && leo >= d->high_watermark;
	hw = d->high_watermark < leo ? d->high_watermark : leo;
	old_hw = atomic_load(&p->hw);
	if (hw >= 0) {
		log_hw_moved(p->log, hw);
		atomic_store(&p->hw, hw);
	}
	moved = hw > old_hw;
	/* the leader's records deleted (DeleteRecords, retention): ours go
	 * too, and the checkpoint keeps the new start over a restart */
	if (d->log_start_offset > log_start_offset(p->log) && d->log_start_offset <= leo)
		new_start = log_advance_start_offset(p->log, d->log_start_offset) == 0;
	log = p->log;
	pthread_mutex_unlock(&p->lock);
	if (new_start) {
		struct broker *b = s->f->b;
		struct log_dir *ld;

		pthread_mutex_lock(&b->dirs_lock);
		ld = log_dir_holding(b->dirs, b->ndirs, log);
		if (ld != NULL)
			log_dir_checkpoint(ld);
		pthread_mutex_unlock(&b->dirs_lock);
	}
	/* consumers reading from this follower (KIP-392) wait for our HW */
	if (moved)
		purgatory_notify(s->f->b->purg, &p->watchers);
}

static void on_fetch_resp(struct kp_conn *c, int err, int16_t api_key,
			  int16_t version, void *resp, void *arg)
{
	struct source *s = arg;
	const struct kp_fetch_resp *r = resp;
	(void)api_key;
	(void)version;
	if (c != s->conn)
		return;
	if (err < 0) {
		KP_WARN("fetch from broker %d failed: %s", s->id, strerror(-err));
		unsend_all(s);
		sess_reset(s, true);
		return;
	}
	if (r->error_code == KP_ERR_FETCH_SESSION_ID_NOT_FOUND ||
	    r->error_code == KP_ERR_INVALID_FETCH_SESSION_EPOCH) {
		/* as Kafka's FetchSessionHandler: start over with a full
		 * fetch at once (closing the session when it still exists) */
		KP_INFO("fetch session %d with broker %d: %s; fetching in full",
			s->sess_id, s->id, kp_err_name(r->error_code));
		unsend_all(s);
		sess_reset(s, r->error_code == KP_ERR_INVALID_FETCH_SESSION_EPOCH);
		kick(s);
		return;
	}
	if (r->error_code != 0) {
		KP_WARN("fetch from broker %d: %s", s->id, kp_err_name(r->error_code));
		unsend_all(s);
		sess_reset(s, true);
		kp_timer_start(s->f->loop, &s->timer, s->f->backoff_ms);
		return;
	}
	if (s->sess_full) {
		s->sess_id = r->session_id;
		s->sess_epoch = r->session_id != 0 ? 1 : 0;
		if (r->session_id == 0)
			sess_reset(s, false);
	} else if (r->session_id != s->sess_id) {
		/* the leader closed it (it emptied): full next time */
		sess_reset(s, false);
	} else {
		s->sess_epoch = sess_next_epoch(s->sess_epoch);
	}
	for (int32_t i = 0; i < r->responses_count; i++)
		for (int32_t j = 0; j < r->responses[i].partitions_count; j++) {
			const struct kp_fetch_resp_partition_data *d =
				&r->responses[i].partitions[j];
			struct fpart *fp = answered_by_name(s, r->responses[i].topic,
							    d->partition_index);

			if (fp != NULL)
				fetched(s, fp, d);
			else if (!s->sess_full && s->sess_epoch != 0)
				/* as Kafka's FetchSessionHandler: an answer naming
				 * what our session does not hold means the two
				 * views differ; the next fetch is full */
				sess_reset(s, true);
		}
	unsend_all(s);
	kick(s);
}

/* Remember that fp's partition left the session. */
static void forget(struct source *s, const struct fpart *fp)
{
	char *t;

	if (s->nforgot == s->capforgot) {
		int nc = s->capforgot ? 2 * s->capforgot : 16;
		struct forgot *nf = realloc(s->forgot, sizeof(*nf) * (size_t)nc);

		if (nf == NULL)
			goto lost;
		s->forgot = nf;
		s->capforgot = nc;
	}
	t = strdup(fp->p->topic);
	if (t == NULL)
		goto lost;
	s->forgot[s->nforgot].topic = t;
	s->forgot[s->nforgot].partition = fp->p->index;
	s->nforgot++;
	return;
lost:
	/* cannot name it: a full fetch next, which forgets everything */
	s->sess_epoch = 0;
}

/*
 * The next Fetch to s: every partition we can fetch now goes in the
 * session; a full fetch names them all, an incremental one those that
 * joined or moved, and forgets those that left.  Returns how many
 * partitions the session holds (0: nothing to fetch, no request built).
 */
static int build_fetch_req(struct source *s, struct kp_fetch_req *req, int64_t now)
{
	struct fetcher *f = s->f;
	struct kp_fetch_req_fetch_topic *t;
	struct kp_fetch_req_fetch_partition *pp;
	struct kp_fetch_req_forgotten_topic *ft = NULL;
	int32_t *fpn = NULL;
	int n = 0, w = 0, nf = 0, cap = 0;
	bool full;

	for (struct fpart *fp = s->parts; fp != NULL; fp = fp->next)
		cap++;
	/* one topic entry per partition; both arrays in one allocation */
	t = calloc((size_t)cap + 1, sizeof(*t) + sizeof(*pp));
	if (t == NULL)
		return -1;
	pp = (void *)(t + cap + 1);
	kp_struct_init(&kp_fetch_req_desc, req);
	req->replica_id = f->b->id;
	req->max_wait_ms = f->wait_max_ms;
	req->min_bytes = f->min_bytes;
	req->max_bytes = f->response_max_bytes;
	req->isolation_level = 0;
	req->topics = t;
	full = s->sess_epoch == 0;
	for (struct fpart *fp = s->parts; fp != NULL; fp = fp->next) {
		int64_t start;
		bool fetchable = !fp->truncating && fp->delay_until <= now;

		/*
		 * Kafka's shouldFollowerThrottle: a replica behind the leader,
		 * throttled on our side, waits while the follower quota is
		 * exceeded; in-sync replicas are never held back.
		 */
		if (fetchable && !fp->in_sync && follower_throttled(f->b, fp->p) &&
		    quota_exceeded(&f->b->quotas->follower, now)) {
			fp->delay_until = now + QUOTA_SAMPLE_MS;
			fetchable = false;
		}
		start = -1;
		if (fetchable) {
			pthread_mutex_lock(&fp->p->lock);
			/* as Kafka: a replica in an offline log dir fetches no
			 * more, so the leader never takes it back into the ISR */
			fetchable = still_following(fp) && !log_is_offline(fp->p->log);
			if (fetchable)
				start = log_start_offset(fp->p->log);
			pthread_mutex_unlock(&fp->p->lock);
		}
		if (!fetchable) {
			if (fp->in_sess && !full)
				forget(s, fp);
			fp->in_sess = false;
			continue;
		}
		if (add_sent(s, fp) < 0)
			break;
		n++;
		if (!full && fp->in_sess && fp->sess_offset == fp->offset &&
		    fp->sess_start == start && fp->sess_epoch == fp->epoch)
			continue;	/* the leader has it as it is */
		fp->in_sess = true;
		fp->sess_offset = fp->offset;
		fp->sess_start = start;
		fp->sess_epoch = fp->epoch;
		kp_struct_init(&kp_fetch_req_fetch_partition_desc, &pp[w]);
		pp[w].partition = fp->p->index;
		pp[w].current_leader_epoch = fp->epoch;
		pp[w].fetch_offset = fp->offset;
		pp[w].log_start_offset = start;
		pp[w].partition_max_bytes = f->max_bytes;
		t[w].topic = kp_str_c(fp->p->topic);
		t[w].partitions = &pp[w];
		t[w].partitions_count = 1;
		w++;
	}
	req->topics_count = w;
	if (n == 0 || (!full && s->sess_epoch == 0)) {
		/* nothing to fetch (the session is left to close with the
		 * next full fetch), or a forgotten partition we could not
		 * name: start over */
		sess_reset(s, true);
		if (n > 0) {
			free(t);
			unsend_all(s);
			return build_fetch_req(s, req, now);
		}
		return 0;
	}
	if (full) {
		forgot_clear(s);
	} else if (s->nforgot > 0) {
		ft = calloc((size_t)s->nforgot, sizeof(*ft) + sizeof(*fpn));
		if (ft == NULL) {
			free(t);
			unsend_all(s);
			sess_reset(s, true);
			return build_fetch_req(s, req, now);
		}
		fpn = (void *)(ft + s->nforgot);
		for (int i = 0; i < s->nforgot; i++) {
			struct partition *p = partition_find(&f->b->parts, s->forgot[i].topic,
							     strlen(s->forgot[i].topic),
							     s->forgot[i].partition);
			struct fpart *back = p != NULL ? p->fetch_slot : NULL;

			/* left and came back (a new epoch): it is in this
			 * request as an addition, which forgetting would undo */
			if (back != NULL && back->s == s && back->in_sess)
				continue;
			fpn[nf] = s->forgot[i].partition;
			kp_struct_init(&kp_fetch_req_forgotten_topic_desc, &ft[nf]);
			ft[nf].topic = kp_str_c(s->forgot[i].topic);
			ft[nf].partitions = &fpn[nf];
			ft[nf].partitions_count = 1;
			nf++;
		}
	}
	req->forgotten_topics_data = ft;
	req->forgotten_topics_data_count = nf;
	req->session_id = s->sess_id;
	req->session_epoch = s->sess_epoch;
	s->sess_full = full;
	return n;
}

/* ------------------------------------------------------------ sources */

static void on_state(struct kp_conn *c, enum kp_conn_state st, int err, void *arg)
{
	struct source *s = arg;

	if (c != s->conn)
		return;
	if (st == KP_CONN_READY) {
		kick(s);
	} else if (st == KP_CONN_CLOSED) {
		KP_WARN("replica fetcher: connection to broker %d (%s:%d) lost: %s",
			s->id, s->host, s->port, strerror(err < 0 ? -err : EPIPE));
		drop_conn(s);
		kp_timer_start(s->f->loop, &s->timer, s->f->backoff_ms);
	}
}

/* A sessionless Fetch of nothing with our session's id (epoch -1, as
 * KIP-227 closes one); its answer ends the session here too. */
static int close_session(struct source *s)
{
	struct kp_fetch_req req;

	kp_struct_init(&kp_fetch_req_desc, &req);
	req.replica_id = s->f->b->id;
	req.max_wait_ms = 0;
	req.min_bytes = 0;
	req.max_bytes = s->f->response_max_bytes;
	req.session_id = s->sess_id;
	req.session_epoch = -1;
	req.topics_count = 0;
	req.forgotten_topics_data_count = 0;
	forgot_clear(s);
	s->sess_full = true;
	if (kp_conn_request(s->conn, KP_API_FETCH, -1, &req, on_fetch_resp, s) < 0) {
		sess_reset(s, false);
		return -1;
	}
	s->busy = true;
	return 0;
}

static void kick(struct source *s)
{
	struct fetcher *f = s->f;
	int64_t now = kp_now_ms(), next = INT64_MAX;
	int rc = -1;

	if (s->parts == NULL) {
		/* nothing left to follow there: close our session first, so
		 * the leader does not keep it until it is evicted */
		if (s->busy && s->conn != NULL)
			return;		/* the answer comes back here */
		if (s->sess_id != 0 && s->conn != NULL &&
		    kp_conn_state(s->conn) == KP_CONN_READY && close_session(s) == 0)
			return;
		drop_conn(s);
		kp_timer_stop(f->loop, &s->timer);
		return;
	}
	if (s->conn == NULL) {
		if (kp_timer_armed(&s->timer))
			return;	/* backing off */
		s->conn = kp_conn_start(f->loop, s->host, s->port, &f->opts, on_state, s);
		if (s->conn == NULL)
			kp_timer_start(f->loop, &s->timer, f->backoff_ms);
		return;
	}
	if (kp_conn_state(s->conn) != KP_CONN_READY || s->busy)
		return;
	{
		struct kp_offset_for_leader_epoch_req req;
		int n;

		kp_struct_init(&kp_offset_for_leader_epoch_req_desc, &req);
		req.replica_id = f->b->id;
		n = build_epoch_req(s, &req, now);
		if (n > 0) {
			s->busy = true;
			rc = kp_conn_request(s->conn, KP_API_OFFSET_FOR_LEADER_EPOCH, -1,
					     &req, on_epoch_resp, s);
		}
		free(req.topics);
		if (n > 0) {
			if (rc < 0) {
				unsend_all(s);
				kp_timer_start(f->loop, &s->timer, f->backoff_ms);
			}
			return;
		}
		unsend_all(s);
	}
	{
		struct kp_fetch_req req;
		int n = build_fetch_req(s, &req, now);

		if (n > 0) {
			s->busy = true;
			rc = kp_conn_request(s->conn, KP_API_FETCH, -1, &req,
					     on_fetch_resp, s);
		}
		if (n >= 0) {
			free(req.topics);
			free(req.forgotten_topics_data);
		}
		if (n > 0) {
			/* the session no longer holds what was forgotten */
			forgot_clear(s);
			if (rc < 0) {
				unsend_all(s);
				sess_reset(s, true);
				kp_timer_start(f->loop, &s->timer, f->backoff_ms);
			}
			return;
		}
		unsend_all(s);
	}
	/* nothing to ask now: come back for delayed partitions (among
	 * them those the follower quota holds back) */
	for (struct fpart *fp = s->parts; fp != NULL; fp = fp->next)
		if (fp->delay_until > now && fp->delay_until < next)
			next = fp->delay_until;
	if (next != INT64_MAX)
		kp_timer_start(f->loop, &s->timer, next - now);
}

static void on_timer(struct kp_loop *loop, void *arg)
{
	(void)loop;
	kick(arg);
}

static struct source *source_get(struct fetcher *f, int32_t id, const char *host,
				 int port)
{
	struct source *s;

	for (s = f->sources; s != NULL; s = s->next)
		if (s->id == id)
			break;
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return NULL;
		s->f = f;
		s->id = id;
		kp_timer_init(&s->timer, on_timer, s);
		s->next = f->sources;
		f->sources = s;
	}
	if (strcmp(s->host, host) != 0 || s->port != port) {
		/* the broker moved (restarted elsewhere): a new connection */
		drop_conn(s);
		snprintf(s->host, sizeof(s->host), "%s", host);
		s->port = port;
	}
	return s;
}

/* ----------------------------------------------------------- commands */

struct fcmd {
	struct fetcher *f;
	struct partition *p;
	int32_t leader, epoch;
	char host[256];
	int port;
	bool follow;
};

/* Stop fetching p (O(1): thousands of role changes come at once). */
static void remove_part(struct partition *p)
{
	struct fpart *fp = p->fetch_slot;
	struct source *s;

	if (fp == NULL)
		return;
	s = fp->s;
	*fp->pprev = fp->next;
	if (fp->next != NULL)
		fp->next->pprev = fp->pprev;
	if (fp->sent >= 0 && fp->sent < s->nsent)
		s->sent[fp->sent] = NULL;
	if (fp->in_sess)
		forget(s, fp);
	p->fetch_slot = NULL;
	free(fp);
}

static void on_cmd(void *arg)
{
	struct fcmd *cmd = arg;
	struct fetcher *f = cmd->f;
	struct source *s;
	struct fpart *fp;

	remove_part(cmd->p);
	if (cmd->follow && (s = source_get(f, cmd->leader, cmd->host, cmd->port)) != NULL &&
	    (fp = calloc(1, sizeof(*fp))) != NULL) {
		fp->p = cmd->p;
		fp->s = s;
		fp->epoch = cmd->epoch;
		fp->truncating = true;
		fp->sent = -1;
		fp->next = s->parts;
		if (fp->next != NULL)
			fp->next->pprev = &fp->next;
		fp->pprev = &s->parts;
		s->parts = fp;
		cmd->p->fetch_slot = fp;
	}
	for (s = f->sources; s != NULL; s = s->next)
		kick(s);
	free(cmd);
}

int fetcher_index(const char *topic, int32_t partition, int n)
{
	uint32_t h = 0;
	int32_t v;

	/* Java's String.hashCode (topic names are ASCII), then Kafka's
	 * Utils.abs, which maps MIN_VALUE to 0 */
	for (const char *c = topic; *c != '\0'; c++)
		h = 31 * h + (uint8_t)*c;
	v = (int32_t)(31 * h + (uint32_t)partition);
	if (n <= 1)
		return 0;
	return (v == INT32_MIN ? 0 : v < 0 ? -v : v) % n;
}

static void post_cmd(struct broker *b, struct partition *p, bool follow,
		     int32_t leader, int32_t epoch, const char *host, int port)
{
	struct fcmd *cmd = calloc(1, sizeof(*cmd));

	if (cmd == NULL)
		return;
	pthread_mutex_lock(&fetcher_lock);
	if (b->fetcher == NULL) {
		pthread_mutex_unlock(&fetcher_lock);
		free(cmd);
		return;
	}
	cmd->f = b->fetcher->t[fetcher_index(p->topic, p->index, b->fetcher->n)];
	cmd->p = p;
	cmd->follow = follow;
	cmd->leader = leader;
	cmd->epoch = epoch;
	snprintf(cmd->host, sizeof(cmd->host), "%s", host != NULL ? host : "");
	cmd->port = port;
	if (kp_loop_post(cmd->f->loop, on_cmd, cmd) < 0)
		free(cmd);
	pthread_mutex_unlock(&fetcher_lock);
}

void fetcher_follow(struct broker *b, struct partition *p, int32_t leader,
		    int32_t epoch, const char *host, int port)
{
	post_cmd(b, p, true, leader, epoch, host, port);
}

void fetcher_unfollow(struct broker *b, struct partition *p)
{
	post_cmd(b, p, false, -1, -1, NULL, 0);
}

/* ------------------------------------------------------------- thread */

static void *run(void *arg)
{
	struct fetcher *f = arg;

	kp_loop_run(f->loop);
	return NULL;
}

static void thread_free(struct fetcher *f)
{
	if (f == NULL)
		return;
	if (f->loop != NULL)
		kp_loop_free(f->loop);
	free(f);
}

static struct fetcher *thread_new(struct broker *b, int index, char *err, size_t errlen)
{
	struct fetcher *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->loop = kp_loop_new()) == NULL) {
		free(f);
		snprintf(err, errlen, "cannot start the replica fetcher");
		return NULL;
	}
	f->b = b;
	f->index = index;
	f->backoff_ms = kp_config_int(&b->cfg, "replica.fetch.backoff.ms");
	f->wait_max_ms = kp_config_int(&b->cfg, "replica.fetch.wait.max.ms");
	f->min_bytes = kp_config_int(&b->cfg, "replica.fetch.min.bytes");
	f->response_max_bytes = kp_config_int(&b->cfg, "replica.fetch.response.max.bytes");
	f->max_bytes = kp_config_int(&b->cfg, "replica.fetch.max.bytes");
	snprintf(f->client_id, sizeof(f->client_id), "broker-%d-fetcher-%d", b->id, index);
	f->opts.client_id = f->client_id;
	f->opts.request_timeout_ms = kp_config_int(&b->cfg, "replica.socket.timeout.ms");
	f->opts.connect_timeout_ms = f->opts.request_timeout_ms;
	/* the leaders' inter-broker listener: TLS when it is SSL */
	f->opts.tls = b->inter_tls;
	f->opts.tls_verify_host = b->inter_tls_verify_host;
	if (b->inter_sasl_mech != NULL) {
		f->opts.sasl_mechanism = b->inter_sasl_mech;
		f->opts.sasl_username = kp_jaas_get(&b->inter_sasl_jaas, "username");
		f->opts.sasl_password = kp_jaas_get(&b->inter_sasl_jaas, "password");
	}
	if (pthread_create(&f->thread, NULL, run, f) != 0) {
		thread_free(f);
		snprintf(err, errlen, "cannot start a replica fetcher thread");
		return NULL;
	}
	return f;
}

static void on_stop(void *arg);

/* Stop and free the first n threads of fs, and fs. */
static void stop_threads(struct fetchers *fs, int n)
{
	for (int i = 0; i < n; i++)
		/* commands posted before run first: the loop is FIFO */
		kp_loop_post(fs->t[i]->loop, on_stop, fs->t[i]);
	for (int i = 0; i < n; i++) {
		pthread_join(fs->t[i]->thread, NULL);
		thread_free(fs->t[i]);
	}
	free(fs->t);
	free(fs);
}

int fetcher_start(struct broker *b, char *err, size_t errlen)
{
	struct fetchers *fs = calloc(1, sizeof(*fs));
	int n = kp_config_int(&b->cfg, "num.replica.fetchers");

	if (fs == NULL || (fs->t = calloc((size_t)n, sizeof(*fs->t))) == NULL) {
		free(fs);
		snprintf(err, errlen, "cannot start the replica fetchers");
		return -1;
	}
	for (fs->n = 0; fs->n < n; fs->n++) {
		fs->t[fs->n] = thread_new(b, fs->n, err, errlen);
		if (fs->t[fs->n] == NULL) {
			stop_threads(fs, fs->n);
			return -1;
		}
	}
	pthread_mutex_lock(&fetcher_lock);
	b->fetcher = fs;
	pthread_mutex_unlock(&fetcher_lock);
	return 0;
}

static void on_stop(void *arg)
{
	struct fetcher *f = arg;

	while (f->sources != NULL) {
		struct source *s = f->sources;

		f->sources = s->next;
		while (s->parts != NULL) {
			struct fpart *fp = s->parts;

			s->parts = fp->next;
			fp->p->fetch_slot = NULL;
			free(fp);
		}
		s->nsent = 0;
		drop_conn(s);
		kp_timer_stop(f->loop, &s->timer);
		free(s->sent);
		forgot_clear(s);
		free(s->forgot);
		free(s);
	}
	kp_loop_stop(f->loop);
}

void fetcher_stop(struct broker *b)
{
	struct fetchers *fs;

	pthread_mutex_lock(&fetcher_lock);
	fs = b->fetcher;
	b->fetcher = NULL;
	pthread_mutex_unlock(&fetcher_lock);
	if (fs != NULL)
		stop_threads(fs, fs->n);
}
