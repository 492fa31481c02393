/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch_session.c - KIP-227 fetch sessions; see fetch_session.h.
 *
 * A session is an array of partitions in fetch order with a chained hash
 * over (topic, partition) by index, rebuilt whenever the array changes
 * shape (a partition added or forgotten, the order rotated).  Those are
 * O(partitions) but happen only when something changed; an idle
 * follower's fetch costs one pass over its partitions to expand the
 * request and one lookup per partition to trim the answer.
 *
 * The order rotates as Kafka's: a partition that returned records moves
 * to the end, so a response size limit cannot starve the partitions
 * behind a busy one.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "fetch_session.h"

struct fs_part {
	char *topic;		/* NUL-terminated, own */
	int32_t tlen;
	int32_t partition;
	uint32_t hash;
	int32_t chain;		/* next index in the bucket, or -1 */
	/* the fetcher's position */
	int64_t fetch_offset;
	int64_t log_start;
	int32_t leader_epoch;
	int32_t last_fetched_epoch;
	int32_t max_bytes;
	/* what the fetcher last heard from us (-1: nothing yet) */
	int64_t hw;
	int64_t lso;
	int64_t start;
	void *obj;		/* the caller's object for it, or NULL */
	/* nothing to tell while the partition's snapshot stays snap
	 * (fetch_session.h: enum fetch_mark) */
	bool quiet;
	struct fetch_snap snap;
};

struct fetch_session {
	struct fetch_session *next;
	int32_t id;
	int32_t epoch;		/* the epoch the next request must carry */
	int32_t owner;		/* the replica id that opened it (-1: a consumer) */
	bool privileged;
	int64_t created_ms, used_ms;
	struct fs_part *parts;
	int32_t n, cap;
	uint64_t shape;		/* +1 whenever parts[] is added to, cut or reordered */
	int32_t *buckets;	/* heads, -1 when empty */
	int32_t nbuckets;	/* a power of two */
};

struct fetch_sessions {
	pthread_mutex_t lock;
	struct fetch_session *head;
	int32_t count, max_slots;
	int64_t eviction_ms;
	int64_t partitions;	/* in every session */
	int64_t evictions;
	uint32_t rng;
};

/* ---------------------------------------------------------- a session */

static uint32_t part_hash(const char *t, size_t len, int32_t partition)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)t[i]) * 16777619u;
	return (h ^ (uint32_t)partition) * 16777619u;
}

static int rehash(struct fetch_session *s)
{
	int32_t want = 16;

	while (want < s->n * 2)
		want *= 2;
	if (want != s->nbuckets) {
		int32_t *nb = realloc(s->buckets, sizeof(*nb) * (size_t)want);

		if (nb == NULL)
			return -1;
		s->buckets = nb;
		s->nbuckets = want;
	}
	for (int32_t i = 0; i < s->nbuckets; i++)
		s->buckets[i] = -1;
	for (int32_t i = 0; i < s->n; i++) {
		uint32_t b = s->parts[i].hash & (uint32_t)(s->nbuckets - 1);

		s->parts[i].chain = s->buckets[b];
		s->buckets[b] = i;
	}
	return 0;
}

static int32_t find(const struct fetch_session *s, kp_str topic, int32_t partition)
{
	size_t len = topic.len > 0 ? (size_t)topic.len : 0;
	uint32_t h;

	if (s->nbuckets == 0)
		return -1;
	h = part_hash(topic.ptr, len, partition);
	for (int32_t i = s->buckets[h & (uint32_t)(s->nbuckets - 1)]; i >= 0;
	     i = s->parts[i].chain) {
		const struct fs_part *p = &s->parts[i];

		if (p->hash == h && p->partition == partition &&
		    (size_t)p->tlen == len && memcmp(p->topic, topic.ptr, len) == 0)
			return i;
	}
	return -1;
}

static void set_position(struct fs_part *p, const struct kp_fetch_req_fetch_partition *fp)
{
	p->fetch_offset = fp->fetch_offset;
	p->log_start = fp->log_start_offset;
	p->leader_epoch = fp->current_leader_epoch;
	p->last_fetched_epoch = fp->last_fetched_epoch;
	p->max_bytes = fp->partition_max_bytes;
	/* a new position: its answer must be looked at */
	p->quiet = false;
}

/* Append a partition (the hash is rebuilt by the caller). */
static int add_part(struct fetch_session *s, kp_str topic,
		    const struct kp_fetch_req_fetch_partition *fp)
{
	size_t len = topic.len > 0 ? (size_t)topic.len : 0;
	struct fs_part *p;

	if (s->n == s->cap) {
		int32_t nc = s->cap ? s->cap * 2 : 8;
		struct fs_part *np = realloc(s->parts, sizeof(*np) * (size_t)nc);

		if (np == NULL)
			return -1;
		s->parts = np;
		s->cap = nc;
	}
	p = &s->parts[s->n];
	memset(p, 0, sizeof(*p));
	p->topic = malloc(len + 1);
	if (p->topic == NULL)
		return -1;
	memcpy(p->topic, topic.ptr, len);
	p->topic[len] = '\0';
	p->tlen = (int32_t)len;
	p->partition = fp->partition;
	p->hash = part_hash(p->topic, len, fp->partition);
	p->hw = p->lso = p->start = -1;
	set_position(p, fp);
	s->n++;
	return 0;
}

static void session_free(struct fetch_session *s)
{
	for (int32_t i = 0; i < s->n; i++)
		free(s->parts[i].topic);
	free(s->parts);
	free(s->buckets);
	free(s);
}

/* Kafka's JFetchMetadata.nextEpoch. */
static int32_t next_epoch(int32_t e)
{
	return e == INT32_MAX ? 1 : e + 1;
}

/* ------------------------------------------------------------ the cache */

struct fetch_sessions *fetch_sessions_new(int32_t max_slots, int64_t eviction_ms)
{
	struct fetch_sessions *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->max_slots = max_slots;
	c->eviction_ms = eviction_ms;
	/* session ids must not repeat across restarts of the broker: a
	 * fetcher of the last process may still name one */
	if (getrandom(&c->rng, sizeof(c->rng), 0) != (ssize_t)sizeof(c->rng))
		c->rng = (uint32_t)time(NULL) ^ (uint32_t)(uintptr_t)c;
	if (c->rng == 0)
		c->rng = 0x9e3779b9u;
	return c;
}

void fetch_sessions_free(struct fetch_sessions *c)
{
	if (c == NULL)
		return;
	while (c->head != NULL) {
		struct fetch_session *s = c->head;

		c->head = s->next;
		session_free(s);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void fetch_sessions_stats(struct fetch_sessions *c, int64_t *sessions,
			  int64_t *partitions, int64_t *evictions)
{
	pthread_mutex_lock(&c->lock);
	*sessions = c->count;
	*partitions = c->partitions;
	*evictions = c->evictions;
	pthread_mutex_unlock(&c->lock);
}

static struct fetch_session *lookup(struct fetch_sessions *c, int32_t id)
{
	for (struct fetch_session *s = c->head; s != NULL; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static void unlink_session(struct fetch_sessions *c, struct fetch_session *s)
{
	for (struct fetch_session **pp = &c->head; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			c->count--;
			c->partitions -= s->n;
			session_free(s);
			return;
		}
}

/* Kafka's EvictableKey order: privileged last, then size, then id. */
static int value_cmp(bool pa, int32_t na, int32_t ida, bool pb, int32_t nb, int32_t idb)
{
	if (pa != pb)
		return pa ? 1 : -1;
	if (na != nb)
		return na < nb ? -1 : 1;
	return ida < idb ? -1 : ida > idb;
}

/*
 * Kafka's FetchSessionCache.tryEvict: the session used least recently, if
 * unused for eviction_ms; else the least valuable session the newcomer
 * may take (any one older than eviction_ms; for a follower, any
 * consumer's too), if the newcomer is worth more.
 */
static bool try_evict(struct fetch_sessions *c, bool privileged, int32_t size, int64_t now)
{
	struct fetch_session *stale = NULL, *cheap = NULL;

	for (struct fetch_session *s = c->head; s != NULL; s = s->next) {
		bool evictable = now - s->created_ms > c->eviction_ms ||
				 (privileged && !s->privileged);

		if (stale == NULL || s->used_ms < stale->used_ms)
			stale = s;
		if (evictable && (cheap == NULL ||
				  value_cmp(s->privileged, s->n, s->id, cheap->privileged,
					    cheap->n, cheap->id) < 0))
			cheap = s;
	}
	if (stale != NULL && stale->used_ms < now - c->eviction_ms) {
		unlink_session(c, stale);
		c->evictions++;
		return true;
	}
	/* the newcomer's key has id 0: it loses a tie on size */
	if (cheap == NULL ||
	    value_cmp(privileged, size, 0, cheap->privileged, cheap->n, cheap->id) < 0)
		return false;
	unlink_session(c, cheap);
	c->evictions++;
	return true;
}

static int32_t new_id(struct fetch_sessions *c)
{
	for (;;) {
		int32_t id;

		/* xorshift32: ids need to be distinct, not secret */
		c->rng ^= c->rng << 13;
		c->rng ^= c->rng >> 17;
		c->rng ^= c->rng << 5;
		id = (int32_t)(c->rng & 0x7fffffff);
		if (id != 0 && lookup(c, id) == NULL)
			return id;
	}
}

/* -------------------------------------------------------------- begin */

static bool same_topic(const struct fs_part *a, const struct fs_part *b)
{
	return a->tlen == b->tlen && memcmp(a->topic, b->topic, (size_t)a->tlen) == 0;
}

/* Expand req to every partition of s, grouped by topic run, in arena,
 * with what x keeps for each. */
static int expand(const struct fetch_session *s, struct kp_arena *arena,
		  struct kp_fetch_req *req, struct fetch_sess_ctx *x)
{
	struct kp_fetch_req_fetch_topic *t;
	struct kp_fetch_req_fetch_partition *pp;
	int32_t nt = 0;

	for (int32_t i = 0; i < s->n; i++)
		nt += i == 0 || !same_topic(&s->parts[i], &s->parts[i - 1]);
	t = kp_arena_calloc(arena, (size_t)nt + 1, sizeof(*t));
	pp = kp_arena_calloc(arena, (size_t)s->n + 1, sizeof(*pp));
	x->objs = kp_arena_alloc(arena, sizeof(*x->objs) * ((size_t)s->n + 1));
	x->marks = kp_arena_alloc(arena, (size_t)s->n + 1);
	x->snaps = kp_arena_alloc(arena, sizeof(*x->snaps) * ((size_t)s->n + 1));
	if (t == NULL || pp == NULL || x->objs == NULL || x->marks == NULL || x->snaps == NULL)
		return -1;
	x->n = s->n;
	x->shape = s->shape;
	nt = -1;
	for (int32_t i = 0; i < s->n; i++) {
		const struct fs_part *p = &s->parts[i];

		if (nt < 0 || (size_t)t[nt].topic.len != (size_t)p->tlen ||
		    memcmp(t[nt].topic.ptr, p->topic, (size_t)p->tlen) != 0) {
			char *name = kp_arena_strndup(arena, p->topic, (size_t)p->tlen);

			if (name == NULL)
				return -1;
			nt++;
			t[nt].topic = (kp_str){ name, p->tlen };
			t[nt].partitions = &pp[i];
		}
		t[nt].partitions_count++;
		pp[i].partition = p->partition;
		pp[i].current_leader_epoch = p->leader_epoch;
		pp[i].fetch_offset = p->fetch_offset;
		pp[i].last_fetched_epoch = p->last_fetched_epoch;
		pp[i].log_start_offset = p->log_start;
		pp[i].partition_max_bytes = p->max_bytes;
		x->objs[i] = p->obj;
		x->marks[i] = p->quiet ? FETCH_QUIET : FETCH_EVAL;
		x->snaps[i] = p->snap;
	}
	req->topics = t;
	req->topics_count = nt + 1;
	return 0;
}

/* Put part i in the hash; the whole hash is rebuilt when it gets full. */
static int index_add(struct fetch_session *s, int32_t i)
{
	uint32_t b;

	if (s->n * 2 > s->nbuckets)
		return rehash(s);
	b = s->parts[i].hash & (uint32_t)(s->nbuckets - 1);
	s->parts[i].chain = s->buckets[b];
	s->buckets[b] = i;
	return 0;
}

/* Kafka's FetchSession.update: add or move what req names, then drop the
 * forgotten.  -1 when out of memory (the session is then unusable). */
static int update(struct fetch_sessions *c, struct fetch_session *s,
		  const struct kp_fetch_req *req)
{
	int32_t before = s->n;
	bool forgot = false;

	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_fetch_req_fetch_topic *t = &req->topics[i];

		for (int32_t j = 0; j < t->partitions_count; j++) {
			const struct kp_fetch_req_fetch_partition *fp = &t->partitions[j];
			int32_t k = find(s, t->topic, fp->partition);

			if (k >= 0) {
				set_position(&s->parts[k], fp);
				continue;
			}
			s->shape++;
			if (add_part(s, t->topic, fp) < 0 || index_add(s, s->n - 1) < 0)
				return -1;
		}
	}
	for (int32_t i = 0; i < req->forgotten_topics_data_count; i++) {
		const struct kp_fetch_req_forgotten_topic *t = &req->forgotten_topics_data[i];

		for (int32_t j = 0; j < t->partitions_count; j++) {
			int32_t k = find(s, t->topic, t->partitions[j]);

			if (k < 0 || s->parts[k].topic == NULL)
				continue;
			/* marked (the hash still finds the others); compacted below */
			free(s->parts[k].topic);
			s->parts[k].topic = NULL;
			s->parts[k].tlen = -1;
			forgot = true;
		}
	}
	if (forgot) {
		int32_t w = 0;

		s->shape++;
		for (int32_t i = 0; i < s->n; i++)
			if (s->parts[i].topic != NULL)
				s->parts[w++] = s->parts[i];
		s->n = w;
		if (rehash(s) < 0)
			return -1;
	}
	c->partitions += s->n - before;
	return 0;
}

kp_err_t fetch_session_begin(struct fetch_sessions *c, struct kp_arena *arena,
			     struct kp_fetch_req *req, int64_t now_ms,
			     struct fetch_sess_ctx **ctx)
{
	struct fetch_sess_ctx *x;
	struct fetch_session *s;
	kp_err_t err = 0;

	*ctx = NULL;
	if (c == NULL)
		return 0;
	/* a full fetch: epoch 0 or -1 (Kafka's isFull) */
	if (req->session_epoch <= 0) {
		if (req->session_id != 0) {
			pthread_mutex_lock(&c->lock);
			s = lookup(c, req->session_id);
			if (s != NULL && s->owner == req->replica_id)
				unlink_session(c, s);
			pthread_mutex_unlock(&c->lock);
		}
		if (req->session_epoch < 0 || c->max_slots <= 0)
			return 0;
		x = kp_arena_calloc(arena, 1, sizeof(*x));
		if (x == NULL)
			return 0;	/* answered without a session */
		x->create = true;
		x->privileged = req->replica_id >= 0;
		*ctx = x;
		return 0;
	}
	pthread_mutex_lock(&c->lock);
	s = lookup(c, req->session_id);
	/* beyond Kafka: a session is only its opener's (a follower must
	 * never move its state with another fetcher's positions) */
	if (s == NULL || s->owner != req->replica_id) {
		err = KP_ERR_FETCH_SESSION_ID_NOT_FOUND;
	} else if (s->epoch != req->session_epoch) {
		err = KP_ERR_INVALID_FETCH_SESSION_EPOCH;
	} else if (update(c, s, req) < 0) {
		/* out of memory: the session cannot be trusted any more */
		unlink_session(c, s);
		err = KP_ERR_FETCH_SESSION_ID_NOT_FOUND;
	} else if (s->n == 0) {
		/* as Kafka: an emptied session is closed, the fetch is
		 * sessionless (and empty) */
		unlink_session(c, s);
	} else if ((x = kp_arena_calloc(arena, 1, sizeof(*x))) == NULL ||
		   expand(s, arena, req, x) < 0) {
		err = KP_ERR_FETCH_SESSION_ID_NOT_FOUND;
	} else {
		s->used_ms = now_ms;
		s->epoch = next_epoch(s->epoch);
		x->epoch = s->epoch;
		x->id = s->id;
		x->incremental = true;
		x->privileged = s->privileged;
		*ctx = x;
	}
	pthread_mutex_unlock(&c->lock);
	return err;
}

/* ------------------------------------------------------------- finish */

/* Kafka's CachedPartition.maybeUpdateResponseData (and the last stable
 * offset, which read_committed fetchers need as much). */
static bool must_respond(struct fs_part *p, const struct kp_fetch_resp_partition_data *d)
{
	bool must = d->records.len > 0 || d->preferred_read_replica >= 0 ||
		    d->diverging_epoch.epoch >= 0;

	if (p->hw != d->high_watermark) {
		must = true;
		p->hw = d->high_watermark;
	}
	if (p->lso != d->last_stable_offset) {
		must = true;
		p->lso = d->last_stable_offset;
	}
	if (p->start != d->log_start_offset) {
		must = true;
		p->start = d->log_start_offset;
	}
	if (d->error_code != 0) {
		/* sent again once the error is gone */
		p->hw = -1;
		must = true;
	}
	return must;
}

static void create(struct fetch_sessions *c, const struct fetch_sess_ctx *ctx,
		   const struct kp_fetch_req *req, struct kp_fetch_resp *resp,
		   int64_t now)
{
	struct fetch_session *s;
	int32_t size = 0;

	for (int32_t i = 0; i < req->topics_count; i++)
		size += req->topics[i].partitions_count > 0 ? req->topics[i].partitions_count : 0;
	pthread_mutex_lock(&c->lock);
	if (c->count >= c->max_slots && !try_evict(c, ctx->privileged, size, now))
		goto out;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto out;
	s->privileged = ctx->privileged;
	s->owner = req->replica_id >= 0 ? req->replica_id : -1;
	s->created_ms = s->used_ms = now;
	s->epoch = 1;
	for (int32_t i = 0; i < req->topics_count; i++)
		for (int32_t j = 0; j < req->topics[i].partitions_count; j++)
			if (add_part(s, req->topics[i].topic, &req->topics[i].partitions[j]) < 0) {
				session_free(s);
				goto out;
			}
	if (rehash(s) < 0) {
		session_free(s);
		goto out;
	}
	/* what this answer tells the fetcher, by (topic, partition) */
	for (int32_t i = 0; i < resp->responses_count; i++) {
		struct kp_fetch_resp_fetchable_topic_response *tr = &resp->responses[i];

		for (int32_t j = 0; j < tr->partitions_count; j++) {
			int32_t k = find(s, tr->topic, tr->partitions[j].partition_index);

			if (k >= 0)
				(void)must_respond(&s->parts[k], &tr->partitions[j]);
		}
	}
	s->id = new_id(c);
	s->next = c->head;
	c->head = s;
	c->count++;
	c->partitions += s->n;
	resp->session_id = s->id;
out:
	pthread_mutex_unlock(&c->lock);
}

/* Move the partitions that returned records to the end (stable). */
static void rotate(struct fetch_session *s, const bool *moved, int32_t nmoved)
{
	struct fs_part *tmp;
	int32_t w = 0, m;

	if (nmoved == 0 || nmoved == s->n)
		return;
	tmp = malloc(sizeof(*tmp) * (size_t)nmoved);
	if (tmp == NULL)
		return;		/* fairness only: skip */
	m = 0;
	for (int32_t i = 0; i < s->n; i++) {
		if (moved[i])
			tmp[m++] = s->parts[i];
		else
			s->parts[w++] = s->parts[i];
	}
	memcpy(&s->parts[w], tmp, sizeof(*tmp) * (size_t)nmoved);
	free(tmp);
	s->shape++;
	(void)rehash(s);	/* same size: no allocation */
}

/*
 * Partition k of the expanded request in s: at index k while the session
 * kept its shape since ctx expanded it (the usual case), else by name
 * (another fetch of the session changed it meanwhile), -1 if gone.
 */
static int32_t entry_of(const struct fetch_session *s, const struct fetch_sess_ctx *ctx,
			int32_t k, kp_str topic, int32_t partition)
{
	if (k < ctx->n && ctx->shape == s->shape && s->n == ctx->n)
		return k;
	return find(s, topic, partition);
}

static void trim(struct fetch_sessions *c, const struct fetch_sess_ctx *ctx,
		 struct kp_fetch_resp *resp)
{
	struct fetch_session *s;
	bool *moved = NULL, latest;
	int32_t nmoved = 0, nt = 0, k = 0;

	pthread_mutex_lock(&c->lock);
	s = lookup(c, ctx->id);
	if (s != NULL)
		moved = calloc((size_t)s->n + 1, sizeof(*moved));
	/* another fetch of the session began since ours (a client sending
	 * ahead): positions may have moved, so nothing becomes quiet */
	latest = s != NULL && s->epoch == ctx->epoch;
	for (int32_t i = 0; i < resp->responses_count; i++) {
		struct kp_fetch_resp_fetchable_topic_response *tr = &resp->responses[i];
		int32_t np = 0;

		for (int32_t j = 0; j < tr->partitions_count; j++, k++) {
			struct kp_fetch_resp_partition_data *d = &tr->partitions[j];
			uint8_t mark = k < ctx->n ? ctx->marks[k] : FETCH_EVAL;
			int32_t e;

			/* not looked at: nothing changed since it was quiet */
			if (mark == FETCH_SKIPPED)
				continue;
			e = s != NULL ? entry_of(s, ctx, k, tr->topic, d->partition_index) : -1;
			if (e >= 0 && k < ctx->n) {
				struct fs_part *p = &s->parts[e];

				if (p->obj == NULL)
					p->obj = ctx->objs[k];
				p->quiet = latest && mark == FETCH_SETTLED;
				if (p->quiet)
					p->snap = ctx->snaps[k];
			}
			/* a session evicted meanwhile: everything goes, which
			 * an incremental answer may always do */
			if (e >= 0 && !must_respond(&s->parts[e], d))
				continue;
			if (e >= 0 && d->records.len > 0 && moved != NULL && !moved[e]) {
				moved[e] = true;
				nmoved++;
			}
			if (np != j)
				tr->partitions[np] = *d;
			np++;
		}
		tr->partitions_count = np;
		if (np == 0)
			continue;
		if (nt != i)
			resp->responses[nt] = *tr;
		nt++;
	}
	resp->responses_count = nt;
	if (s != NULL && moved != NULL)
		rotate(s, moved, nmoved);
	free(moved);
	pthread_mutex_unlock(&c->lock);
	resp->session_id = ctx->id;
}

void fetch_session_finish(struct fetch_sessions *c, const struct fetch_sess_ctx *ctx,
			  const struct kp_fetch_req *req, struct kp_fetch_resp *resp,
			  int64_t now_ms)
{
	if (c == NULL || ctx == NULL)
		return;
	if (ctx->create)
		create(c, ctx, req, resp, now_ms);
	else if (ctx->incremental)
		trim(c, ctx, resp);
}
