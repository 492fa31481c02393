/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_table.c - the coordinator's groups, their members, member ids
 * handed out, protocols and committed offsets (see group_table.h).
 */
#include "group_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "kp_errors.h"
#include "kp_groupmeta.h"
#include "kp_loop.h"

/* FNV-1a */
static uint32_t hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/* ------------------------------------------------------------ the table */

static int table_grow(struct group_table *t)
{
	uint32_t n = t->nbuckets ? t->nbuckets * 2 : 64;
	struct group **nb = calloc(n, sizeof(*nb));

	if (nb == NULL)
		return -1;
	for (uint32_t i = 0; i < t->nbuckets; i++)
		for (struct group *g = t->buckets[i], *next; g; g = next) {
			next = g->next;
			g->next = nb[g->hash & (n - 1)];
			nb[g->hash & (n - 1)] = g;
		}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = n;
	return 0;
}

int group_table_init(struct group_table *t)
{
	t->buckets = NULL;
	t->nbuckets = t->ngroups = 0;
	return table_grow(t);
}

struct group *group_table_find(const struct group_table *t, kp_str id)
{
	uint32_t h;

	if (id.len < 0 || t->nbuckets == 0)
		return NULL;
	h = hash_bytes(id.ptr, (size_t)id.len);
	for (struct group *g = t->buckets[h & (t->nbuckets - 1)]; g; g = g->next)
		if (g->hash == h && kp_str_eqc(id, g->id))
			return g;
	return NULL;
}

int group_table_link(struct group_table *t, struct group *g)
{
	if (t->ngroups >= t->nbuckets && table_grow(t) < 0)
		return -1;
	g->next = t->buckets[g->hash & (t->nbuckets - 1)];
	t->buckets[g->hash & (t->nbuckets - 1)] = g;
	t->ngroups++;
	return 0;
}

struct group *group_table_add(struct group_table *t, kp_str id, int32_t opart)
{
	struct group *g;

	if (id.len < 0)
		return NULL;
	g = calloc(1, sizeof(*g));
	if (g == NULL || (g->id = kp_str_dup(id)) == NULL) {
		free(g);
		return NULL;
	}
	g->hash = hash_bytes(id.ptr, (size_t)id.len);
	g->opart = opart;
	group_fsm_init(&g->fsm, GROUP_EMPTY, kp_wall_ms());
	if (group_table_link(t, g) < 0) {
		group_free(g);
		return NULL;
	}
	return g;
}

void group_table_unlink(struct group_table *t, struct group *g)
{
	struct group **pp;

	if (t->nbuckets == 0)
		return;
	pp = &t->buckets[g->hash & (t->nbuckets - 1)];
	while (*pp != NULL && *pp != g)
		pp = &(*pp)->next;
	if (*pp == g) {
		*pp = g->next;
		t->ngroups--;
	}
	g->next = NULL;
}

void group_table_free(struct group_table *t)
{
	for (uint32_t i = 0; i < t->nbuckets; i++)
		while (t->buckets[i] != NULL) {
			struct group *g = t->buckets[i];

			t->buckets[i] = g->next;
			group_free(g);
		}
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = t->ngroups = 0;
}

void group_free(struct group *g)
{
	group_free_members(g, KP_ERR_NOT_COORDINATOR);
	for (uint32_t i = 0; i < g->onbuckets; i++)
		for (struct group_offset *o = g->obuckets[i], *next; o; o = next) {
			next = o->next;
			group_offset_free(o);
		}
	free(g->obuckets);
	while (g->txn_offsets != NULL) {
		struct group_txn_offset *t = g->txn_offsets;

		g->txn_offsets = t->next;
		group_offset_free(t->o);
		free(t);
	}
	free(g->id);
	free(g->protocol_type);
	free(g->protocol);
	free(g->leader);
	free(g);
}

void group_remove(struct group_table *t, struct group_thread *th, struct group *g)
{
	group_table_unlink(t, g);
	group_deadline_cancel(th, &g->wake);
	g->removed = true;
	group_fsm_to(&g->fsm, g->id, GROUP_DEAD);
	group_free_members(g, KP_ERR_NOT_COORDINATOR);
	if (g->nwrites == 0)
		group_free(g);
}

void group_unref(struct group *g)
{
	if (--g->nwrites == 0 && g->removed)
		group_free(g);
}

/* ------------------------------------------------------------ members */

void group_parked_reply(struct group_parked *p, const struct group_reply *rep)
{
	void *req = p->req;

	if (req == NULL)
		return;
	p->req = NULL;
	p->reply(req, rep);
}

void group_parked_error(struct group_parked *p, int16_t err, const char *member_id)
{
	struct group_reply rep = { .err = err, .member_id = member_id };

	group_parked_reply(p, &rep);
}

static void free_protocols(struct group_protocol *ps, int32_t n)
{
	for (int32_t i = 0; i < n; i++) {
		free(ps[i].name);
		free(ps[i].meta);
	}
	free(ps);
}

void group_member_free(struct group_member *m)
{
	free(m->id);
	free(m->instance_id);
	free(m->client_id);
	free(m->client_host);
	free_protocols(m->protocols, m->nprotocols);
	free(m->assignment);
	free(m);
}

struct group_member *group_member_find(const struct group *g, kp_str id)
{
	for (struct group_member *m = g->members; m; m = m->next)
		if (kp_str_eqc(id, m->id))
			return m;
	return NULL;
}

struct group_member *group_member_by_instance(const struct group *g, kp_str inst)
{
	if (inst.len < 0)
		return NULL;
	for (struct group_member *m = g->members; m; m = m->next)
		if (m->instance_id != NULL && kp_str_eqc(inst, m->instance_id))
			return m;
	return NULL;
}

bool group_is_leader(const struct group *g, const struct group_member *m)
{
	return g->leader != NULL && strcmp(g->leader, m->id) == 0;
}

void group_set_leader(struct group *g, const char *id)
{
	free(g->leader);
	g->leader = id != NULL ? strdup(id) : NULL;
}

void group_member_append(struct group *g, struct group_member *m)
{
	struct group_member **pp = &g->members;

	while (*pp != NULL)
		pp = &(*pp)->next;
	m->next = NULL;
	*pp = m;
	g->nmembers++;
	if (g->leader == NULL)
		group_set_leader(g, m->id);
}

void group_member_unlink(struct group *g, struct group_member *m)
{
	struct group_member **pp = &g->members;

	while (*pp != NULL && *pp != m)
		pp = &(*pp)->next;
	if (*pp == NULL)
		return;
	*pp = m->next;
	g->nmembers--;
	group_parked_error(&m->join, KP_ERR_UNKNOWN_MEMBER_ID, m->id);
	group_parked_error(&m->sync, KP_ERR_UNKNOWN_MEMBER_ID, m->id);
	if (group_is_leader(g, m))
		group_set_leader(g, g->members != NULL ? g->members->id : NULL);
	group_member_free(m);
}

void group_free_members(struct group *g, int16_t err)
{
	while (g->members != NULL) {
		struct group_member *m = g->members;

		g->members = m->next;
		group_parked_error(&m->join, err, m->id);
		group_parked_error(&m->sync, err, m->id);
		group_member_free(m);
	}
	g->nmembers = 0;
	while (g->pending != NULL) {
		struct group_pending *p = g->pending;

		g->pending = p->next;
		free(p->id);
		free(p);
	}
}

char *group_member_id_new(const char *prefix)
{
	uint8_t u[16];
	char *id;
	size_t n = strlen(prefix) + 1 + 36 + 1;

	if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u)) {
		for (size_t i = 0; i < sizeof(u); i++)
			u[i] = (uint8_t)rand();
	}
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	id = malloc(n);
	if (id == NULL)
		return NULL;
	snprintf(id, n, "%s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", prefix, u[0], u[1], u[2], u[3], u[4],
		 u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
		 u[15]);
	return id;
}

char *group_client_host(const char *peer)
{
	const char *colon = strrchr(peer, ':');
	size_t n = colon != NULL ? (size_t)(colon - peer) : strlen(peer);
	char *h = malloc(n + 2);

	if (h != NULL) {
		h[0] = '/';
		memcpy(h + 1, peer, n);
		h[n + 1] = 0;
	}
	return h;
}

/* ---------------------------------------------------- member ids handed out */

int group_pending_add(struct group *g, char *id, int64_t deadline)
{
	struct group_pending *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		free(id);
		return -1;
	}
	p->id = id;
	p->deadline = deadline;
	p->next = g->pending;
	g->pending = p;
	return 0;
}

static struct group_pending **pending_find(struct group *g, kp_str id)
{
	for (struct group_pending **pp = &g->pending; *pp; pp = &(*pp)->next)
		if (kp_str_eqc(id, (*pp)->id))
			return pp;
	return NULL;
}

bool group_pending_has(const struct group *g, kp_str id)
{
	for (const struct group_pending *p = g->pending; p; p = p->next)
		if (kp_str_eqc(id, p->id))
			return true;
	return false;
}

char *group_pending_take(struct group *g, kp_str id)
{
	struct group_pending **pp = pending_find(g, id), *p;
	char *taken;

	if (pp == NULL)
		return NULL;
	p = *pp;
	*pp = p->next;
	taken = p->id;
	free(p);
	return taken;
}

int32_t group_pending_expire(struct group *g, int64_t now)
{
	int32_t n = 0;

	for (struct group_pending **pp = &g->pending; *pp;) {
		struct group_pending *p = *pp;

		if (now < p->deadline) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		free(p->id);
		free(p);
		n++;
	}
	return n;
}

/* ------------------------------------------------------------ protocols */

const struct group_protocol *group_member_protocol(const struct group_member *m,
						   const char *name)
{
	for (int32_t i = 0; name != NULL && i < m->nprotocols; i++)
		if (strcmp(m->protocols[i].name, name) == 0)
			return &m->protocols[i];
	return NULL;
}

static bool member_has(const struct group_member *m, kp_str name)
{
	for (int32_t i = 0; i < m->nprotocols; i++)
		if (kp_str_eqc(name, m->protocols[i].name))
			return true;
	return false;
}

/* Does every member support the protocol called name? */
static bool all_support(const struct group *g, kp_str name)
{
	for (const struct group_member *m = g->members; m; m = m->next)
		if (!member_has(m, name))
			return false;
	return true;
}

bool group_member_same_protocols(const struct group_member *m,
				 const struct group_protocol_ref *ps, int32_t n)
{
	if (m->nprotocols != n)
		return false;
	for (int32_t i = 0; i < n; i++) {
		const struct group_protocol *have = &m->protocols[i];

		if (!kp_str_eqc(ps[i].name, have->name) || ps[i].meta.len != have->len ||
		    (have->len > 0 &&
		     memcmp(ps[i].meta.ptr, have->meta, (size_t)have->len) != 0))
			return false;
	}
	return true;
}

int group_member_set_protocols(struct group_member *m,
			       const struct group_protocol_ref *ps, int32_t n)
{
	struct group_protocol *np = calloc((size_t)(n > 0 ? n : 0) + 1, sizeof(*np));

	if (np == NULL)
		return -1;
	for (int32_t i = 0; i < n; i++) {
		np[i].name = kp_str_dup(ps[i].name);
		np[i].len = ps[i].meta.len > 0 ? ps[i].meta.len : 0;
		np[i].meta = malloc((size_t)np[i].len + 1);
		if (np[i].name == NULL || np[i].meta == NULL) {
			free_protocols(np, i + 1);
			return -1;
		}
		if (np[i].len > 0)
			memcpy(np[i].meta, ps[i].meta.ptr, (size_t)np[i].len);
	}
	free_protocols(m->protocols, m->nprotocols);
	m->protocols = np;
	m->nprotocols = n > 0 ? n : 0;
	return 0;
}

bool group_supports_protocols(const struct group *g, kp_str protocol_type,
			      const struct group_protocol_ref *ps, int32_t n)
{
	if (n <= 0 || protocol_type.len <= 0)
		return false;
	if (g->nmembers == 0)
		return true;
	if (g->protocol_type == NULL || !kp_str_eqc(protocol_type, g->protocol_type))
		return false;
	/* some protocol of the newcomer every member already supports */
	for (int32_t i = 0; i < n; i++)
		if (ps[i].name.len >= 0 && all_support(g, ps[i].name))
			return true;
	return false;
}

const char *group_select_protocol(const struct group *g)
{
	const struct group_member *first = g->members;
	const char *best = NULL;
	int32_t best_votes = -1;

	if (first == NULL)
		return NULL;
	for (int32_t i = 0; i < first->nprotocols; i++) {
		const char *cand = first->protocols[i].name;
		int32_t votes = 0;

		if (!all_support(g, kp_str_c(cand)))
			continue;
		for (const struct group_member *m = g->members; m; m = m->next)
			for (int32_t j = 0; j < m->nprotocols; j++)
				if (all_support(g, kp_str_c(m->protocols[j].name))) {
					if (strcmp(m->protocols[j].name, cand) == 0)
						votes++;
					break;
				}
		if (votes > best_votes) {
			best = cand;
			best_votes = votes;
		}
	}
	return best;
}

bool group_subscribes(const struct group *g, kp_str topic)
{
	for (const struct group_member *m = g->members; m; m = m->next) {
		const struct group_protocol *p = group_member_protocol(m, g->protocol);

		if (p != NULL && kp_consumer_subscribes((kp_bytes){ p->meta, p->len }, topic))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------ offsets */

static uint32_t offset_hash(const char *topic, size_t tlen, int32_t partition)
{
	return hash_bytes(topic, tlen) * 31u + (uint32_t)partition;
}

struct group_offset *group_offset_find(const struct group *g, const char *topic,
				       size_t tlen, int32_t partition)
{
	uint32_t h = offset_hash(topic, tlen, partition);

	if (g->onbuckets == 0)
		return NULL;
	for (struct group_offset *o = g->obuckets[h & (g->onbuckets - 1)]; o; o = o->next)
		if (o->hash == h && o->partition == partition &&
		    strlen(o->topic) == tlen && memcmp(o->topic, topic, tlen) == 0)
			return o;
	return NULL;
}

void group_offset_free(struct group_offset *o)
{
	if (o == NULL)
		return;
	free(o->topic);
	free(o->metadata);
	free(o);
}

static int offsets_grow(struct group *g)
{
	uint32_t n = g->onbuckets ? g->onbuckets * 2 : 16;
	struct group_offset **nb = calloc(n, sizeof(*nb));

	if (nb == NULL)
		return -1;
	for (uint32_t i = 0; i < g->onbuckets; i++)
		for (struct group_offset *o = g->obuckets[i], *next; o; o = next) {
			next = o->next;
			o->next = nb[o->hash & (n - 1)];
			nb[o->hash & (n - 1)] = o;
		}
	free(g->obuckets);
	g->obuckets = nb;
	g->onbuckets = n;
	return 0;
}

void group_offset_put(struct group *g, struct group_offset *o)
{
	struct group_offset *old = group_offset_find(g, o->topic, strlen(o->topic),
						     o->partition);

	if (old != NULL) {
		o->prev_offset = old->offset;
		o->prev_ts = old->commit_ts;
		group_offset_del(g, old);
	}
	if (g->noffsets >= g->onbuckets && offsets_grow(g) < 0) {
		group_offset_free(o);
		return;
	}
	o->hash = offset_hash(o->topic, strlen(o->topic), o->partition);
	o->next = g->obuckets[o->hash & (g->onbuckets - 1)];
	g->obuckets[o->hash & (g->onbuckets - 1)] = o;
	g->noffsets++;
}

void group_offset_del(struct group *g, struct group_offset *o)
{
	struct group_offset **pp = &g->obuckets[o->hash & (g->onbuckets - 1)];

	while (*pp != NULL && *pp != o)
		pp = &(*pp)->next;
	if (*pp == o) {
		*pp = o->next;
		g->noffsets--;
	}
	group_offset_free(o);
}
