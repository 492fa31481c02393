/* SPDX-License-Identifier: Apache-2.0 */
/*
 * purgatory.h - delayed operations: work that waits for something to
 * happen before it can be answered, in one place (Kafka's
 * DelayedOperationPurgatory).
 *
 * A delayed operation (struct delayed_op, embedded in its owner: a parked
 * request's state, usually in the request's arena) has a type - a
 * try_complete (can it finish now?) and an on_complete (it finished, for
 * one of three reasons: answer) - the keys it watches and an optional
 * timeout.  A key (struct purgatory_key) is embedded in what is waited on:
 * each partition (new data, a new high watermark, a role change), the
 * metadata cache (an UpdateMetadata).  Whoever changes what a key stands
 * for calls purgatory_notify(key).  Acks=all produces, long-poll fetches,
 * admin requests waiting for the controller's metadata, requests forwarded
 * to the controller and requests whose ZooKeeper work runs on the
 * ZooKeeper thread (zk_thread.c) are delayed operations; quota throttling,
 * transaction markers and DeleteRecords are meant to be.
 *
 * Homes: every operation belongs to one home, a thread running a kp_loop
 * (a network worker).  try_complete and on_complete always run on that
 * thread, so a request is parked, checked and answered on the worker that
 * read it: no request crosses threads.  A key remembers which homes have
 * watched it (bit id % 64 of a mask) and counts its notifications
 * (seq).  purgatory_notify bumps the count and posts one wake-up to each
 * such home, coalesced (at most one queued per home) and embedded (no
 * allocation); it takes no lock, so it may be called from any thread
 * under any lock.  The woken home tries only its operations that watch a
 * key whose count moved.  A home's bit stays set once a key was watched
 * there (a later notification then costs that home a wake-up and a look
 * at its list).
 *
 * Exactly once: an operation ends once, by whichever comes first of
 * try_complete succeeding, purgatory_complete (from its home, or from
 * another thread with purgatory_complete_from), its timer
 * (PURGATORY_EXPIRED) or purgatory_drain (PURGATORY_DRAINED, shutdown):
 * an atomic claim decides, and on_complete runs once, on the home's
 * thread, with the operation unlisted and its timer stopped.
 *
 * Memory: an operation whose type has no release callback is its owner's
 * to free in on_complete (a request's arena); the purgatory does not touch
 * it afterwards.  An operation handed to another thread (which will call
 * purgatory_complete_from on it) must have a release callback and be held
 * (purgatory_hold, on its home, before it is handed over); release runs
 * once nobody holds it any more and on_complete has run, on whichever
 * thread that is.  A held operation is not drained: its holder ends it.
 *
 * Listeners: a key of a kind other than PURGATORY_KEY_PLAIN also calls the
 * listener registered for its kind at every notification, on the
 * notifying thread (it must only post): the group coordinator hears so of
 * its __consumer_offsets partitions, whose writes it waits for itself.
 *
 * Plugging in: a quota's throttle (Kafka's ThrottledChannel) is an
 * operation with no key and only a timer, whose expiry sends the
 * response; DeleteRecords (DelayedDeleteRecords) watches its partitions'
 * keys, notified when a follower's log start offset moves, as acks=all
 * watches them for the high watermark; transaction markers wait for
 * appends on other partitions, maybe other threads: held operations
 * ended with purgatory_complete_from; the transaction coordinator's own
 * log partitions get a key kind and a listener, as the group
 * coordinator's do.
 */
#ifndef PURGATORY_H
#define PURGATORY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kp_loop.h"

/* What a key stands for, as far as listeners care. */
enum purgatory_key_kind {
	PURGATORY_KEY_PLAIN = 0,
	PURGATORY_KEY_GROUP_LOG,	/* a __consumer_offsets partition */
	PURGATORY_KEY_TXN_LOG,		/* a __transaction_state partition */
	PURGATORY_KEY_KINDS
};

/* Embedded in what is waited on; purgatory_key_init() before use. */
struct purgatory_key {
	_Atomic uint64_t homes;		/* bit id % 64: a home watched it */
	_Atomic uint64_t seq;		/* notifications so far */
	enum purgatory_key_kind kind;
};

/* Why an operation ended. */
enum purgatory_end {
	PURGATORY_COMPLETED,		/* try_complete, or purgatory_complete */
	PURGATORY_EXPIRED,		/* its timeout passed */
	PURGATORY_DRAINED,		/* purgatory_drain (shutdown) */
};

struct delayed_op;

struct delayed_op_type {
	const char *name;
	/* On the home's thread: true when op can be answered now (it then
	 * ends as PURGATORY_COMPLETED).  NULL: only purgatory_complete, the
	 * timer or the drain end it. */
	bool (*try_complete)(struct delayed_op *op);
	/* On the home's thread, exactly once. */
	void (*on_complete)(struct delayed_op *op, enum purgatory_end end);
	/* NULL: op's memory is on_complete's.  Else: called once op has
	 * ended and is no longer held, on any thread (it only frees). */
	void (*release)(struct delayed_op *op);
};

/* One key an operation watches, and the count it last saw. */
struct purgatory_watch {
	struct purgatory_key *key;
	uint64_t seen;
};

/* The purgatory's part of an operation: set by purgatory_watch(). */
struct delayed_op {
	const struct delayed_op_type *type;
	struct purgatory_home *home;
	struct delayed_op *prev, *next;	/* the home's list */
	struct purgatory_watch *watches;
	int nwatches;
	bool listed;
	enum purgatory_end end;
	_Atomic int state;
	_Atomic int refs;
	struct kp_timer timer;
	struct kp_loop_call done_call;	/* purgatory_complete_from's post */
};

struct purgatory;
struct purgatory_home;

/* Up to this many homes; ids beyond 63 share the key bits of id % 64. */
#define PURGATORY_MAX_HOMES 1024

struct purgatory *purgatory_new(void);
/* After every home's loop has stopped. */
void purgatory_free(struct purgatory *pg);
/*
 * A home on loop (before its thread runs anything that watches, and
 * before any thread notifies on its behalf): NULL when out of memory or
 * homes.  The purgatory owns it.
 */
struct purgatory_home *purgatory_home_new(struct purgatory *pg, struct kp_loop *loop);
/* Operations parked on h (h's thread). */
int purgatory_home_count(const struct purgatory_home *h);

void purgatory_key_init(struct purgatory_key *k, enum purgatory_key_kind kind);
/* fn(arg) at every notification of a key of kind (set before notifying
 * starts; kind is not PURGATORY_KEY_PLAIN).  One listener per kind. */
void purgatory_listen(struct purgatory *pg, enum purgatory_key_kind kind,
		      void (*fn)(void *arg), void *arg);

/*
 * On h's thread: park op, of type t, watching watches[n] (keys set by the
 * caller, in memory that lives as long as op), ending at timeout_ms (< 0:
 * never by time).  The caller found op not completable; a change between
 * that check and the watch would have notified nobody, so op is tried once
 * more here.  Returns true when that ended it (on_complete has run).
 */
bool purgatory_watch(struct purgatory_home *h, struct delayed_op *op,
		     const struct delayed_op_type *t, struct purgatory_watch *watches,
		     int n, int64_t timeout_ms);
/*
 * The same, for a caller that read each key's count before its check
 * (purgatory_watch_init, before reading what the check reads): op is
 * tried once more only when a key moved since, as no change can have
 * come between unnoticed otherwise.  A fetch naming a follower's 3,000
 * partitions is not checked twice in a row for nothing.
 */
bool purgatory_watch_since(struct purgatory_home *h, struct delayed_op *op,
			   const struct delayed_op_type *t, struct purgatory_watch *watches,
			   int n, int64_t timeout_ms);
/* w watches key, its count read now (for purgatory_watch_since). */
void purgatory_watch_init(struct purgatory_watch *w, struct purgatory_key *key);
/* Any thread, any lock: what key stands for changed. */
void purgatory_notify(struct purgatory *pg, struct purgatory_key *key);
/* On op's home: end op now (on_complete runs before this returns) unless
 * it already ended.  True when this call ended it. */
bool purgatory_complete(struct delayed_op *op);
/* Any thread, holding op: end op (on_complete runs on its home, later)
 * unless it already ended.  True when this call ended it. */
bool purgatory_complete_from(struct delayed_op *op);
/* On op's home, before op goes to another thread (op's type has release). */
void purgatory_hold(struct delayed_op *op);
/* Any thread: drop a hold. */
void purgatory_release(struct delayed_op *op);
/* On h's thread: end every operation parked on h that nobody holds
 * (PURGATORY_DRAINED). */
void purgatory_drain(struct purgatory_home *h);

#endif /* PURGATORY_H */
