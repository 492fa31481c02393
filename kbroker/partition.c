/* SPDX-License-Identifier: Apache-2.0 */
/*
 * partition.c - the table of hosted partitions; see partition.h.
 */
#include <stdlib.h>
#include <string.h>

#include "kp_errors.h"
#include "log.h"
#include "kp_groupmeta.h"
#include "partition.h"

static uint32_t hash(const char *topic, size_t len, int32_t index)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)topic[i];
		h *= 16777619u;
	}
	h ^= (uint32_t)index;
	h *= 16777619u;
	return h;
}

void partition_table_init(struct partition_table *t)
{
	pthread_rwlock_init(&t->lock, NULL);
	t->nbuckets = 1024;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	t->count = 0;
}

void partition_table_destroy(struct partition_table *t)
{
	for (uint32_t i = 0; i < t->nbuckets; i++) {
		struct partition *p = t->buckets[i], *next;

		for (; p != NULL; p = next) {
			next = p->next;
			pthread_mutex_destroy(&p->lock);
			free(p->topic);
			free(p->replicas);
			free(p->isr);
			free(p->followers);
			free(p);
		}
	}
	free(t->buckets);
	pthread_rwlock_destroy(&t->lock);
}

static struct partition *lookup(const struct partition_table *t,
				const char *topic, size_t len, int32_t index)
{
	uint32_t h = hash(topic, len, index);
	struct partition *p = t->buckets[h % t->nbuckets];

	for (; p != NULL; p = p->next)
		if (p->hash == h && p->index == index && strlen(p->topic) == len &&
		    memcmp(p->topic, topic, len) == 0)
			return p;
	return NULL;
}

struct partition *partition_find(struct partition_table *t, const char *topic,
				 size_t len, int32_t index)
{
	struct partition *p;

	pthread_rwlock_rdlock(&t->lock);
	p = lookup(t, topic, len, index);
	pthread_rwlock_unlock(&t->lock);
	return p;
}

static void grow(struct partition_table *t)
{
	uint32_t n = t->nbuckets * 2;
	struct partition **nb = calloc(n, sizeof(*nb));

	if (nb == NULL)
		return;		/* longer chains, still correct */
	for (uint32_t i = 0; i < t->nbuckets; i++) {
		struct partition *p = t->buckets[i], *next;

		for (; p != NULL; p = next) {
			uint32_t h = p->hash % n;

			next = p->next;
			p->next = nb[h];
			nb[h] = p;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = n;
}

struct partition *partition_get_or_add(struct partition_table *t,
				       const char *topic, size_t len,
				       int32_t index)
{
	struct partition *p;
	uint32_t h;

	pthread_rwlock_wrlock(&t->lock);
	p = lookup(t, topic, len, index);
	if (p != NULL)
		goto out;
	/* aligned as the struct asks (its fetch fields, partition.h) */
	p = aligned_alloc(_Alignof(struct partition), sizeof(*p));
	if (p != NULL)
		memset(p, 0, sizeof(*p));
	if (p == NULL || (p->topic = strndup(topic, len)) == NULL) {
		free(p);
		p = NULL;
		goto out;
	}
	p->is_offsets = strcmp(p->topic, KP_OFFSETS_TOPIC) == 0;
	p->index = index;
	p->hash = hash(topic, len, index);
	p->leader_id = -1;
	p->leader_epoch = -1;
	p->controller_epoch = -1;
	p->min_isr = 1;
	atomic_init(&p->hw, 0);
	p->is_txn_state = strcmp(p->topic, "__transaction_state") == 0;
	purgatory_key_init(&p->watchers, p->is_offsets ? PURGATORY_KEY_GROUP_LOG
				       : p->is_txn_state ? PURGATORY_KEY_TXN_LOG
				       : PURGATORY_KEY_PLAIN);
	pthread_mutex_init(&p->lock, NULL);
	if (t->count >= t->nbuckets)
		grow(t);
	h = p->hash % t->nbuckets;
	p->next = t->buckets[h];
	t->buckets[h] = p;
	t->count++;
out:
	pthread_rwlock_unlock(&t->lock);
	return p;
}

void partition_foreach(struct partition_table *t,
		       void (*fn)(struct partition *p, void *arg), void *arg)
{
	pthread_rwlock_rdlock(&t->lock);
	for (uint32_t i = 0; i < t->nbuckets; i++)
		for (struct partition *p = t->buckets[i]; p != NULL; p = p->next)
			fn(p, arg);
	pthread_rwlock_unlock(&t->lock);
}

long partition_list(struct partition_table *t, struct partition ***v, size_t *cap)
{
	long n = 0;

	pthread_rwlock_rdlock(&t->lock);
	if (*cap < t->count) {
		struct partition **nv = realloc(*v, t->count * sizeof(*nv));

		if (nv == NULL) {
			pthread_rwlock_unlock(&t->lock);
			return -1;
		}
		*v = nv;
		*cap = t->count;
	}
	for (uint32_t i = 0; i < t->nbuckets; i++)
		for (struct partition *p = t->buckets[i]; p != NULL; p = p->next)
			(*v)[n++] = p;
	pthread_rwlock_unlock(&t->lock);
	return n;
}

kp_err_t partition_check_epoch(const struct partition *p, int32_t current)
{
	if (current < 0 || current == p->leader_epoch)
		return 0;
	return current < p->leader_epoch ? KP_ERR_FENCED_LEADER_EPOCH
					 : KP_ERR_UNKNOWN_LEADER_EPOCH;
}

bool partition_in_isr(const struct partition *p, int32_t id)
{
	for (int32_t i = 0; i < p->nisr; i++)
		if (p->isr[i] == id)
			return true;
	return false;
}
