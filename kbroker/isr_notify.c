/* SPDX-License-Identifier: Apache-2.0 */
/*
 * isr_notify.c - batched ISR-change notifications; see isr_notify.h.
 */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "isr_notify.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_zk.h"
#include "kp_zkdata.h"
#include "partition.h"

/* ------------------------------------------------------ the change set */

void isr_changes_init(struct isr_changes *c, int64_t now_ms)
{
	memset(c, 0, sizeof(*c));
	c->last_change_ms = now_ms;
	c->last_propagation_ms = now_ms;
}

static void drop_items(struct isr_changes *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->items[i].topic);
	c->n = 0;
	if (c->slots != NULL)
		memset(c->slots, 0, c->nslots * sizeof(*c->slots));
}

void isr_changes_free(struct isr_changes *c)
{
	drop_items(c);
	free(c->items);
	free(c->slots);
	memset(c, 0, sizeof(*c));
}

static uint32_t tp_hash(const char *topic, int32_t partition)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *s = (const unsigned char *)topic; *s; s++)
		h = (h ^ *s) * 16777619u;
	h = (h ^ (uint32_t)partition) * 16777619u;
	return h;
}

/* The slot holding (topic, partition), or the empty one it would take. */
static size_t find_slot(const struct isr_changes *c, const char *topic,
			int32_t partition)
{
	size_t mask = c->nslots - 1;
	size_t i = tp_hash(topic, partition) & mask;

	for (;;) {
		uint32_t s = c->slots[i];

		if (s == 0)
			return i;
		if (c->items[s - 1].partition == partition &&
		    strcmp(c->items[s - 1].topic, topic) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

/* Keep the table at most half full. */
static int grow_slots(struct isr_changes *c)
{
	size_t ns = c->nslots ? 2 * c->nslots : 64;
	uint32_t *old = c->slots;
	size_t nold = c->nslots;

	if (2 * (c->n + 1) <= c->nslots)
		return 0;
	c->slots = calloc(ns, sizeof(*c->slots));
	if (c->slots == NULL) {
		c->slots = old;
		return -1;
	}
	c->nslots = ns;
	for (size_t i = 0; i < nold; i++)
		if (old[i] != 0) {
			const struct kp_zk_tp *t = &c->items[old[i] - 1];

			c->slots[find_slot(c, t->topic, t->partition)] = old[i];
		}
	free(old);
	return 0;
}

int isr_changes_add(struct isr_changes *c, const char *topic,
		    int32_t partition, int64_t now_ms)
{
	size_t slot;
	char *copy;

	if (grow_slots(c) < 0)
		return -1;
	slot = find_slot(c, topic, partition);
	if (c->slots[slot] != 0) {
		c->last_change_ms = now_ms;
		return 0;
	}
	if (c->n == c->cap) {
		size_t nc = c->cap ? 2 * c->cap : 64;
		struct kp_zk_tp *ni = realloc(c->items, nc * sizeof(*ni));

		if (ni == NULL)
			return -1;
		c->items = ni;
		c->cap = nc;
	}
	if ((copy = strdup(topic)) == NULL)
		return -1;
	memset(&c->items[c->n], 0, sizeof(c->items[c->n]));
	c->items[c->n].topic = copy;
	c->items[c->n].partition = partition;
	c->slots[slot] = (uint32_t)++c->n;
	c->last_change_ms = now_ms;
	return 0;
}

bool isr_changes_due(const struct isr_changes *c, int64_t now_ms)
{
	return c->n > 0 &&
	       (c->last_change_ms + ISR_PROP_LINGER_MS < now_ms ||
		c->last_propagation_ms + ISR_PROP_MAX_DELAY_MS < now_ms);
}

/* A partition's share of a body: {"topic":"..","partition":N}, plus a
 * margin for escapes (topic names have none) and the separator. */
static size_t item_bytes(const struct kp_zk_tp *t)
{
	return strlen(t->topic) + 40;
}

long isr_changes_encode(const struct isr_changes *c, size_t max_bytes,
			char ***out)
{
	char **v = NULL;
	long nv = 0;
	size_t i = 0;

	*out = NULL;
	while (i < c->n) {
		size_t j = i, bytes = 40;	/* {"version":1,"partitions":[]} */
		struct kp_zk_tp_list l;
		char **nvv, *json;

		do
			bytes += item_bytes(&c->items[j++]);
		while (j < c->n && bytes + item_bytes(&c->items[j]) <= max_bytes);
		l.items = &c->items[i];
		l.n = j - i;
		json = kp_zk_tp_list_encode(&l, false);
		nvv = json != NULL ? realloc(v, (size_t)(nv + 1) * sizeof(*v)) : NULL;
		if (nvv == NULL) {
			free(json);
			while (nv > 0)
				free(v[--nv]);
			free(v);
			return -1;
		}
		v = nvv;
		v[nv++] = json;
		i = j;
	}
	*out = v;
	return nv;
}

void isr_changes_clear(struct isr_changes *c, int64_t now_ms)
{
	drop_items(c);
	c->last_propagation_ms = now_ms;
}

/* ------------------------------------------------------- broker side */

struct isr_notify {
	struct isr_changes set;
	struct kp_timer timer;
	int inflight;			/* creates not answered yet */
	bool stopped;
};

struct notice {
	struct broker *b;
	char *json;
};

static void on_created(struct kp_zk_result *res, void *arg)
{
	struct notice *n = arg;
	struct isr_notify *in = n->b->isrn;

	in->inflight--;
	if (res->rc != KP_ZK_OK) {
		struct kp_zk_tp_list l;
		char err[128];

		KP_WARN("cannot announce ISR changes: %s%s", kp_zk_strerror(res->rc),
			in->stopped ? "" : " (trying again)");
		/* its partitions go out with the next propagation (the
		 * controller re-reads the states: a duplicate is harmless) */
		if (!in->stopped &&
		    kp_zk_tp_list_decode(n->json, strlen(n->json), false, &l, err,
					 sizeof(err)) == 0) {
			for (size_t i = 0; i < l.n; i++)
				(void)isr_changes_add(&in->set, l.items[i].topic,
						      l.items[i].partition,
						      in->set.last_change_ms);
			kp_zk_tp_list_free(&l);
		}
	}
	free(n->json);
	free(n);
}

static void propagate(struct broker *b, int64_t now)
{
	struct isr_notify *in = b->isrn;
	char **bodies;
	long nb = isr_changes_encode(&in->set, ISR_PROP_MAX_BYTES, &bodies);

	if (nb < 0) {
		KP_WARN("cannot announce ISR changes: out of memory (trying again)");
		return;
	}
	KP_DEBUG("announcing the ISR changes of %zu partitions in %ld notification(s)",
		 in->set.n, nb);
	isr_changes_clear(&in->set, now);
	for (long i = 0; i < nb; i++) {
		struct notice *n = malloc(sizeof(*n));

		if (n == NULL) {
			KP_WARN("cannot announce ISR changes: out of memory");
			free(bodies[i]);
			continue;
		}
		n->b = b;
		n->json = bodies[i];
		in->inflight++;
		/* the completion runs (posted) whatever happens */
		kp_zk_create(b->zk, "/isr_change_notification/isr_change_", n->json,
			     (int32_t)strlen(n->json), KP_ZK_PERSISTENT_SEQUENTIAL,
			     on_created, n);
	}
	free(bodies);
}

static void on_check(struct kp_loop *loop, void *arg)
{
	struct broker *b = arg;
	int64_t now = kp_now_ms();

	if (isr_changes_due(&b->isrn->set, now))
		propagate(b, now);
	kp_timer_start(loop, &b->isrn->timer, ISR_PROP_CHECK_MS);
}

int isr_notify_start(struct broker *b)
{
	struct isr_notify *in = calloc(1, sizeof(*in));

	if (in == NULL)
		return -1;
	isr_changes_init(&in->set, kp_now_ms());
	kp_timer_init(&in->timer, on_check, b);
	b->isrn = in;
	kp_timer_start(b->loop, &in->timer, ISR_PROP_CHECK_MS);
	return 0;
}

void isr_notify_record(struct broker *b, const struct partition *p)
{
	if (b->isrn == NULL || b->isrn->stopped)
		return;
	if (isr_changes_add(&b->isrn->set, p->topic, p->index, kp_now_ms()) < 0)
		KP_WARN("%s-%d: ISR change not announced (out of memory); the "
			"controller learns it at its next read", p->topic, p->index);
}

void isr_notify_stop(struct broker *b)
{
	if (b->isrn == NULL)
		return;
	kp_timer_stop(b->loop, &b->isrn->timer);
	/* going further than Kafka, which drops them: what changed lately
	 * is told before we go */
	if (b->isrn->set.n > 0)
		propagate(b, kp_now_ms());
	b->isrn->stopped = true;
}

int isr_notify_inflight(const struct broker *b)
{
	return b->isrn != NULL ? b->isrn->inflight : 0;
}

void isr_notify_free(struct broker *b)
{
	/* a completion still to come would find it: left (a leak at exit) */
	if (b->isrn == NULL || b->isrn->inflight > 0)
		return;
	isr_changes_free(&b->isrn->set);
	free(b->isrn);
	b->isrn = NULL;
}
