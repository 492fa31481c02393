/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metadata_cache.c - the broker's view of the cluster; see
 * metadata_cache.h.
 */
#include <stdlib.h>
#include <string.h>

#include "metadata_cache.h"

void metadata_cache_init(struct metadata_cache *mc)
{
	pthread_mutex_init(&mc->lock, NULL);
	mc->view = md_view_new();
	purgatory_key_init(&mc->changed, PURGATORY_KEY_PLAIN);
}

void metadata_cache_destroy(struct metadata_cache *mc)
{
	md_view_unref(mc->view);
	pthread_mutex_destroy(&mc->lock);
}

struct md_view *metadata_cache_get(struct metadata_cache *mc)
{
	struct md_view *v;

	pthread_mutex_lock(&mc->lock);
	v = mc->view;
	if (v != NULL)
		atomic_fetch_add(&v->refs, 1);
	pthread_mutex_unlock(&mc->lock);
	return v;
}

void metadata_cache_set(struct metadata_cache *mc, struct md_view *v)
{
	struct md_view *old;

	md_view_seal(v);
	pthread_mutex_lock(&mc->lock);
	old = mc->view;
	mc->view = v;
	pthread_mutex_unlock(&mc->lock);
	md_view_unref(old);
}

struct md_view *md_view_new(void)
{
	struct md_view *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return NULL;
	atomic_init(&v->refs, 1);
	v->controller_id = -1;
	return v;
}

void md_view_unref(struct md_view *v)
{
	if (v == NULL || atomic_fetch_sub(&v->refs, 1) != 1)
		return;
	for (int32_t i = 0; i < v->nbrokers; i++) {
		for (int32_t j = 0; j < v->brokers[i].neps; j++) {
			free(v->brokers[i].eps[j].listener);
			free(v->brokers[i].eps[j].host);
		}
		free(v->brokers[i].eps);
		free(v->brokers[i].rack);
	}
	for (int32_t i = 0; i < v->ntopics; i++) {
		struct md_topic *t = &v->topics[i];

		for (int32_t j = 0; j < t->nparts; j++) {
			free(t->parts[j].replicas);
			free(t->parts[j].isr);
			free(t->parts[j].offline);
		}
		free(t->parts);
		free(t->name);
	}
	free(v->brokers);
	free(v->topics);
	free(v);
}

static int cmp_broker(const void *a, const void *b)
{
	int32_t x = ((const struct md_broker *)a)->id;
	int32_t y = ((const struct md_broker *)b)->id;

	return x < y ? -1 : x > y;
}

static int cmp_topic(const void *a, const void *b)
{
	return strcmp(((const struct md_topic *)a)->name,
		      ((const struct md_topic *)b)->name);
}

static int cmp_part(const void *a, const void *b)
{
	int32_t x = ((const struct md_partition *)a)->partition;
	int32_t y = ((const struct md_partition *)b)->partition;

	return x < y ? -1 : x > y;
}

void md_view_seal(struct md_view *v)
{
	if (v->nbrokers > 1)
		qsort(v->brokers, (size_t)v->nbrokers, sizeof(*v->brokers), cmp_broker);
	if (v->ntopics > 1)
		qsort(v->topics, (size_t)v->ntopics, sizeof(*v->topics), cmp_topic);
	for (int32_t i = 0; i < v->ntopics; i++)
		if (v->topics[i].nparts > 1)
			qsort(v->topics[i].parts, (size_t)v->topics[i].nparts,
			      sizeof(*v->topics[i].parts), cmp_part);
}

const struct md_topic *md_view_topic(const struct md_view *v, const char *name,
				     size_t len)
{
	int32_t lo = 0, hi = v->ntopics - 1;

	while (lo <= hi) {
		int32_t mid = lo + (hi - lo) / 2;
		const char *n = v->topics[mid].name;
		int c = strncmp(n, name, len);

		if (c == 0 && n[len] != 0)
			c = 1;
		if (c == 0)
			return &v->topics[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

const struct md_broker *md_view_broker(const struct md_view *v, int32_t id)
{
	struct md_broker key = { .id = id };

	if (v->nbrokers == 0)
		return NULL;
	return bsearch(&key, v->brokers, (size_t)v->nbrokers, sizeof(key), cmp_broker);
}

const struct md_topic *md_view_topic_by_id(const struct md_view *v,
					   const kp_uuid *id)
{
	static const kp_uuid zero;

	if (memcmp(id, &zero, sizeof(zero)) == 0)
		return NULL;
	for (int32_t i = 0; i < v->ntopics; i++)
		if (memcmp(&v->topics[i].topic_id, id, sizeof(*id)) == 0)
			return &v->topics[i];
	return NULL;
}

const struct md_partition *md_topic_partition(const struct md_topic *t,
					      int32_t p)
{
	struct md_partition key = { .partition = p };

	if (t->nparts == 0)
		return NULL;
	return bsearch(&key, t->parts, (size_t)t->nparts, sizeof(key), cmp_part);
}

const struct md_endpoint *md_broker_endpoint(const struct md_broker *mb,
					     const char *listener)
{
	for (int32_t i = 0; i < mb->neps; i++)
		if (strcmp(mb->eps[i].listener, listener) == 0)
			return &mb->eps[i];
	return NULL;
}

const struct md_endpoint *md_view_endpoint(const struct md_view *v, int32_t id,
					   const char *listener)
{
	const struct md_broker *mb = md_view_broker(v, id);

	return mb != NULL ? md_broker_endpoint(mb, listener) : NULL;
}
