/* SPDX-License-Identifier: Apache-2.0 */
/*
 * purgatory.c - delayed operations; see purgatory.h.
 *
 * Each home keeps its parked operations in a list that only its thread
 * touches.  An operation's state goes WAITING -> ENDING (the one claim
 * that decides how it ends, by compare-and-swap: try_complete, a
 * completion from any thread, the timer, the drain) -> DONE (on_complete
 * ran).  A walk of the list (a wake-up, the drain) keeps its next element
 * in the home, so an on_complete that ends or adds other operations does
 * not pull the list from under it.
 */
#include <assert.h>
#include <stdlib.h>

#include "kp_log.h"
#include "purgatory.h"

enum { OP_WAITING, OP_ENDING, OP_DONE };

struct purgatory_home {
	struct purgatory *pg;
	struct kp_loop *loop;
	int id;
	struct delayed_op *ops;		/* parked here (home thread) */
	struct delayed_op *walk_next;	/* the walk in progress, if any */
	int nops;
	atomic_bool wake_pending;	/* wake_call is queued */
	struct kp_loop_call wake_call;
};

struct purgatory {
	_Atomic(struct purgatory_home *) homes[PURGATORY_MAX_HOMES];
	_Atomic int nhomes;
	struct {
		void (*fn)(void *arg);
		void *arg;
	} listeners[PURGATORY_KEY_KINDS];
};

static void home_wake(void *arg);

struct purgatory *purgatory_new(void)
{
	return calloc(1, sizeof(struct purgatory));
}

void purgatory_free(struct purgatory *pg)
{
	if (pg == NULL)
		return;
	for (int i = 0; i < atomic_load(&pg->nhomes); i++)
		free(atomic_load(&pg->homes[i]));
	free(pg);
}

struct purgatory_home *purgatory_home_new(struct purgatory *pg, struct kp_loop *loop)
{
	int id = atomic_load(&pg->nhomes);
	struct purgatory_home *h;

	if (id >= PURGATORY_MAX_HOMES || (h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->pg = pg;
	h->loop = loop;
	h->id = id;
	kp_loop_call_init(&h->wake_call, home_wake, h);
	atomic_store(&pg->homes[id], h);
	atomic_store(&pg->nhomes, id + 1);
	return h;
}

int purgatory_home_count(const struct purgatory_home *h)
{
	/* also read by a metrics scrape on another thread */
	return __atomic_load_n(&h->nops, __ATOMIC_RELAXED);
}

void purgatory_key_init(struct purgatory_key *k, enum purgatory_key_kind kind)
{
	atomic_init(&k->homes, 0);
	atomic_init(&k->seq, 0);
	k->kind = kind;
}

void purgatory_listen(struct purgatory *pg, enum purgatory_key_kind kind,
		      void (*fn)(void *arg), void *arg)
{
	if (kind <= PURGATORY_KEY_PLAIN || kind >= PURGATORY_KEY_KINDS)
		return;
	pg->listeners[kind].fn = fn;
	pg->listeners[kind].arg = arg;
}

/* ------------------------------------------------------------ the list */

static void unlist(struct purgatory_home *h, struct delayed_op *op)
{
	if (!op->listed)
		return;
	if (h->walk_next == op)
		h->walk_next = op->next;
	if (op->prev != NULL)
		op->prev->next = op->next;
	else
		h->ops = op->next;
	if (op->next != NULL)
		op->next->prev = op->prev;
	op->prev = op->next = NULL;
	op->listed = false;
	h->nops--;
}

/* The one decision of how op ends: true for the caller that made it. */
static bool claim(struct delayed_op *op, enum purgatory_end end)
{
	int expect = OP_WAITING;

	if (!atomic_compare_exchange_strong(&op->state, &expect, OP_ENDING))
		return false;
	op->end = end;
	return true;
}

static void drop(struct delayed_op *op)
{
	if (atomic_fetch_sub(&op->refs, 1) == 1)
		op->type->release(op);
}

/* On the home's thread, after a successful claim. */
static void finish(struct delayed_op *op)
{
	struct purgatory_home *h = op->home;
	const struct delayed_op_type *t = op->type;
	bool counted = t->release != NULL;

	unlist(h, op);
	kp_timer_stop(h->loop, &op->timer);
	atomic_store(&op->state, OP_DONE);
	t->on_complete(op, op->end);
	/* without a release callback op may be gone now */
	if (counted)
		drop(op);
}

static void on_expire(struct kp_loop *loop, void *arg)
{
	struct delayed_op *op = arg;

	(void)loop;
	/* lost: a completion from another thread is on its way */
	if (claim(op, PURGATORY_EXPIRED))
		finish(op);
}

static void on_completed_from(void *arg)
{
	finish(arg);
}

/* ----------------------------------------------------------- watching */

/* Did a key of op move since op last looked?  Remembers the counts. */
static bool moved(struct delayed_op *op)
{
	bool any = false;

	for (int i = 0; i < op->nwatches; i++) {
		struct purgatory_watch *w = &op->watches[i];
		uint64_t s = atomic_load(&w->key->seq);

		if (s != w->seen) {
			w->seen = s;
			any = true;
		}
	}
	return any;
}

static bool try_now(struct delayed_op *op)
{
	if (op->type->try_complete == NULL || !op->type->try_complete(op) ||
	    !claim(op, PURGATORY_COMPLETED))
		return false;
	finish(op);
	return true;
}

static bool watch(struct purgatory_home *h, struct delayed_op *op,
		  const struct delayed_op_type *t, struct purgatory_watch *watches,
		  int n, int64_t timeout_ms, bool seen)
{
	uint64_t bit = 1ull << (h->id % 64);

	op->type = t;
	op->home = h;
	op->watches = watches;
	op->nwatches = n;
	op->end = PURGATORY_COMPLETED;
	atomic_init(&op->state, OP_WAITING);
	atomic_init(&op->refs, 1);
	kp_timer_init(&op->timer, on_expire, op);
	kp_loop_call_init(&op->done_call, on_completed_from, op);
	/* the bit before the count: a notification after this either sees
	 * the bit, or came before the count we read (and try_now sees it) */
	for (int i = 0; i < n; i++) {
		if (!(atomic_load(&watches[i].key->homes) & bit))
			atomic_fetch_or(&watches[i].key->homes, bit);
		if (!seen)
			watches[i].seen = atomic_load(&watches[i].key->seq);
	}
	op->prev = NULL;
	op->next = h->ops;
	if (op->next != NULL)
		op->next->prev = op;
	h->ops = op;
	op->listed = true;
	h->nops++;
	if (timeout_ms >= 0)
		kp_timer_start(h->loop, &op->timer, timeout_ms);
	/* with counts read before the caller's check (and the bits set
	 * before they are read again): a notification since is seen here,
	 * a later one sees the bits */
	if (seen && !moved(op))
		return false;
	return try_now(op);
}

bool purgatory_watch(struct purgatory_home *h, struct delayed_op *op,
		     const struct delayed_op_type *t, struct purgatory_watch *watches,
		     int n, int64_t timeout_ms)
{
	return watch(h, op, t, watches, n, timeout_ms, false);
}

bool purgatory_watch_since(struct purgatory_home *h, struct delayed_op *op,
			   const struct delayed_op_type *t, struct purgatory_watch *watches,
			   int n, int64_t timeout_ms)
{
	return watch(h, op, t, watches, n, timeout_ms, true);
}

void purgatory_watch_init(struct purgatory_watch *w, struct purgatory_key *key)
{
	w->key = key;
	w->seen = atomic_load(&key->seq);
}

static void wake(struct purgatory_home *h)
{
	if (!atomic_exchange(&h->wake_pending, true))
		kp_loop_post_call(h->loop, &h->wake_call);
}

void purgatory_notify(struct purgatory *pg, struct purgatory_key *key)
{
	uint64_t homes;
	int n;

	/* the count first, then the homes: see purgatory_watch */
	atomic_fetch_add(&key->seq, 1);
	if (key->kind != PURGATORY_KEY_PLAIN && pg->listeners[key->kind].fn != NULL)
		pg->listeners[key->kind].fn(pg->listeners[key->kind].arg);
	homes = atomic_load(&key->homes);
	if (homes == 0)
		return;
	n = atomic_load(&pg->nhomes);
	for (int bit = 0; bit < 64 && bit < n; bit++) {
		if (!(homes & (1ull << bit)))
			continue;
		for (int i = bit; i < n; i += 64)
			wake(atomic_load(&pg->homes[i]));
	}
}

/* Posted by purgatory_notify: try what watches a key that moved. */
static void home_wake(void *arg)
{
	struct purgatory_home *h = arg;

	/* first: a notification from now on posts again */
	atomic_store(&h->wake_pending, false);
	for (struct delayed_op *op = h->ops; op != NULL; op = h->walk_next) {
		h->walk_next = op->next;
		if (atomic_load(&op->state) == OP_WAITING && moved(op))
			try_now(op);
	}
	h->walk_next = NULL;
}

/* --------------------------------------------------------- completion */

bool purgatory_complete(struct delayed_op *op)
{
	if (!claim(op, PURGATORY_COMPLETED))
		return false;
	finish(op);
	return true;
}

bool purgatory_complete_from(struct delayed_op *op)
{
	if (!claim(op, PURGATORY_COMPLETED))
		return false;
	kp_loop_post_call(op->home->loop, &op->done_call);
	return true;
}

void purgatory_hold(struct delayed_op *op)
{
	assert(op->type->release != NULL);
	atomic_fetch_add(&op->refs, 1);
}

void purgatory_release(struct delayed_op *op)
{
	drop(op);
}

void purgatory_drain(struct purgatory_home *h)
{
	for (struct delayed_op *op = h->ops; op != NULL; op = h->walk_next) {
		h->walk_next = op->next;
		if (atomic_load(&op->refs) > 1) {
			KP_WARN("%s: still held by another thread at shutdown",
				op->type->name);
			continue;
		}
		if (claim(op, PURGATORY_DRAINED))
			finish(op);
	}
	h->walk_next = NULL;
}
