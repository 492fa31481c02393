/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_txn.c - a group's pending transactional offsets (see
 * group_txn.h).  A short list per group, oldest first: a transaction
 * commits offsets for a handful of partitions, and few transactions of a
 * group are open at once.
 */
#include "group_txn.h"

#include <stdlib.h>
#include <string.h>

int group_txn_add(struct group *g, int64_t pid, struct group_offset *o,
		  int64_t batch_offset)
{
	struct group_txn_offset *t = calloc(1, sizeof(*t)), **tail = &g->txn_offsets;

	if (t == NULL) {
		group_offset_free(o);
		return -1;
	}
	t->pid = pid;
	t->batch_offset = batch_offset;
	t->o = o;
	o->next = NULL;
	o->log_offset = batch_offset;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = t;
	return 0;
}

void group_txn_fail(struct group *g, int64_t pid, int64_t batch_offset)
{
	for (struct group_txn_offset **pp = &g->txn_offsets; *pp != NULL; ) {
		struct group_txn_offset *t = *pp;

		if (t->pid != pid || t->batch_offset != batch_offset) {
			pp = &t->next;
			continue;
		}
		*pp = t->next;
		group_offset_free(t->o);
		free(t);
	}
}

int32_t group_txn_complete(struct group *g, int64_t pid, bool commit,
			   int64_t marker_offset)
{
	int32_t n = 0;

	for (struct group_txn_offset **pp = &g->txn_offsets; *pp != NULL; ) {
		struct group_txn_offset *t = *pp;
		struct group_offset *cur;

		if (t->pid != pid || t->batch_offset >= marker_offset) {
			pp = &t->next;
			continue;
		}
		*pp = t->next;
		n++;
		cur = commit ? group_offset_find(g, t->o->topic, strlen(t->o->topic),
						 t->o->partition) : NULL;
		/* oldest first: a later pending one of the same partition
		 * replaces this one in turn */
		if (commit && (cur == NULL || cur->log_offset < t->batch_offset))
			group_offset_put(g, t->o);
		else
			group_offset_free(t->o);
		free(t);
	}
	return n;
}

bool group_txn_pending_for(const struct group *g, const char *topic, size_t tlen,
			   int32_t partition)
{
	for (const struct group_txn_offset *t = g->txn_offsets; t; t = t->next)
		if (t->o->partition == partition && strlen(t->o->topic) == tlen &&
		    memcmp(t->o->topic, topic, tlen) == 0)
			return true;
	return false;
}

int32_t group_txn_count(const struct group *g)
{
	int32_t n = 0;

	for (const struct group_txn_offset *t = g->txn_offsets; t; t = t->next)
		n++;
	return n;
}
