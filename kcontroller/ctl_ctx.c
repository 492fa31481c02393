/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_ctx.c - the controller context: lookups and bookkeeping of live
 * brokers, topics and partitions; see ctl_ctx.h.  Event thread only.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kp_listener.h"

#include "channel.h"
#include "ctl_ctx.h"
#include "ctl_event.h"

void ctl_ctx_resign_later(struct controller *c)
{
	if (c->role != CTL_ACTIVE)
		return;
	c->role = CTL_RESIGNING;
	ctl_event_put(c->events, ctl_event_new(CTL_EV_RESIGN));
}

/* ------------------------------------------------------------ brokers */

struct c_broker *ctl_ctx_broker(const struct controller *c, int32_t id)
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

bool ctl_ctx_live(const struct controller *c, int32_t id)
{
	return ctl_ctx_broker(c, id) != NULL;
}

bool ctl_ctx_shutting_down(const struct controller *c, int32_t id)
{
	for (int i = 0; i < c->nshutting_down; i++)
		if (c->shutting_down[i] == id)
			return true;
	return false;
}

bool ctl_ctx_eligible(const struct controller *c, int32_t id)
{
	return ctl_ctx_live(c, id) && !ctl_ctx_shutting_down(c, id);
}

int ctl_ctx_add_shutting_down(struct controller *c, int32_t id)
{
	int32_t *n;

	if (ctl_ctx_shutting_down(c, id))
		return 0;
	n = realloc(c->shutting_down, sizeof(*n) * (size_t)(c->nshutting_down + 1));
	if (n == NULL)
		return -1;
	c->shutting_down = n;
	c->shutting_down[c->nshutting_down++] = id;
	return 0;
}

const struct kp_endpoint *ctl_ctx_endpoint(const struct controller *c,
					   const struct c_broker *b)
{
	/* as Kafka's broker.node(interBrokerListenerName): that listener or
	 * none (never another one, which may speak another protocol); the
	 * broker's registration must give it the protocol we speak */
	for (size_t i = 0; i < b->reg.nprotocols; i++)
		if (strcmp(b->reg.protocol_map[i][0], c->listener) == 0 &&
		    kp_secproto_parse(b->reg.protocol_map[i][1]) != c->inter_proto)
			return NULL;
	return kp_zk_broker_endpoint(&b->reg, c->listener);
}

void ctl_ctx_brokers_free(struct c_broker *l, int n)
{
	for (int i = 0; i < n; i++) {
		chan_free(l[i].chan);
		kp_zk_broker_free(&l[i].reg);
	}
	free(l);
}

void ctl_ctx_set_brokers(struct controller *c, struct c_broker *now, int n)
{
	ctl_ctx_brokers_free(c->brokers, c->nbrokers);
	c->brokers = now;
	c->nbrokers = n;
}

/* ------------------------------------------------------------- topics */

static int topic_index(const struct controller *c, const char *name, bool *found)
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

struct c_topic *ctl_ctx_topic(const struct controller *c, const char *name)
{
	bool found;
	int i = topic_index(c, name, &found);

	return found ? c->topics[i] : NULL;
}

struct c_topic *ctl_ctx_topic_by_id(const struct controller *c, const kp_uuid *id)
{
	char s[23];

	kp_uuid_format(id, s);
	for (int i = 0; i < c->ntopics; i++)
		if (strcmp(c->topics[i]->topic_id, s) == 0)
			return c->topics[i];
	return NULL;
}

struct c_topic *ctl_ctx_topic_new(const char *name, int32_t nparts)
{
	struct c_topic *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->name = strdup(name)) == NULL ||
	    (t->parts = calloc((size_t)(nparts > 0 ? nparts : 0) + 1,
			       sizeof(*t->parts))) == NULL) {
		ctl_ctx_topic_free(t);
		return NULL;
	}
	t->nparts = nparts > 0 ? nparts : 0;
	for (int32_t p = 0; p < t->nparts; p++) {
		t->parts[p].leader = -1;
		t->parts[p].state = CTL_PS_NONEXISTENT;
	}
	return t;
}

void ctl_ctx_topic_free(struct c_topic *t)
{
	if (t == NULL)
		return;
	for (int32_t p = 0; t->parts != NULL && p < t->nparts; p++) {
		kp_replicas_free(&t->parts[p].replicas);
		kp_replicas_free(&t->parts[p].isr);
		kp_replicas_free(&t->parts[p].adding);
		kp_replicas_free(&t->parts[p].removing);
		kp_replicas_free(&t->parts[p].dir_offline);
	}
	free(t->parts);
	free(t->name);
	free(t);
}

int ctl_ctx_topic_insert(struct controller *c, struct c_topic *t)
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

void ctl_ctx_topic_remove(struct controller *c, struct c_topic *t)
{
	bool found;
	int i = topic_index(c, t->name, &found);

	if (!found)
		return;
	memmove(&c->topics[i], &c->topics[i + 1],
		sizeof(*c->topics) * (size_t)(c->ntopics - i - 1));
	c->ntopics--;
	ctl_ctx_topic_free(t);
}

void ctl_ctx_clear(struct controller *c)
{
	ctl_ctx_brokers_free(c->brokers, c->nbrokers);
	c->brokers = NULL;
	c->nbrokers = 0;
	for (int i = 0; i < c->ntopics; i++)
		ctl_ctx_topic_free(c->topics[i]);
	free(c->topics);
	c->topics = NULL;
	c->ntopics = 0;
	c->nshutting_down = 0;
}

/* ------------------------------------------------------- replica lists */

bool ctl_ctx_in_list(const struct kp_replicas *l, int32_t id)
{
	for (int32_t i = 0; i < l->n; i++)
		if (l->ids[i] == id)
			return true;
	return false;
}

void ctl_ctx_list_set(struct kp_replicas *dst, const int32_t *ids, int32_t n)
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

bool ctl_ctx_reassigning(const struct c_part *cp)
{
	return cp->adding.n > 0 || cp->removing.n > 0;
}
