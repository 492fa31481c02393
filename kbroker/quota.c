/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quota.c - throttled replica lists and byte-rate quotas; see quota.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"

/* ------------------------------------------------- throttled replicas */

static const char *skip_blanks(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/* One entry s..end (blanks trimmed): "" or "<digits>:<digits>". */
static int parse_entry(const char *s, const char *end, bool *empty,
		       int64_t *part, int64_t *broker)
{
	int64_t v[2] = { 0, 0 };

	s = skip_blanks(s, end);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*empty = s == end;
	if (*empty)
		return 0;
	for (int i = 0; i < 2; i++) {
		const char *d = s;

		while (s < end && *s >= '0' && *s <= '9') {
			/* Java parses these as Int: clamp, an out-of-range
			 * id is a valid string that names no broker */
			if (v[i] < INT32_MAX)
				v[i] = v[i] * 10 + (*s - '0');
			s++;
		}
		if (s == d)
			return -1;
		if (i == 0) {
			if (s == end || *s != ':')
				return -1;
			s++;
		}
	}
	if (s != end)
		return -1;
	*part = v[0];
	*broker = v[1];
	return 0;
}

static bool is_star(const char *v)
{
	const char *e = v + strlen(v);

	v = skip_blanks(v, e);
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return e - v == 1 && *v == '*';
}

/* Walk the entries; with out, collect those of broker_id. */
static int walk(const char *key, const char *value, int32_t broker_id,
		struct throttle_set *out, char *err, size_t errlen)
{
	const char *s = value;

	if (is_star(value)) {
		if (out != NULL)
			out->all = true;
		return 0;
	}
	for (;;) {
		const char *c = strchr(s, ',');
		const char *end = c != NULL ? c : s + strlen(s);
		int64_t part, broker;
		bool empty;

		if (parse_entry(s, end, &empty, &part, &broker) < 0) {
			snprintf(err, errlen, "Invalid value %s for configuration %s: "
				 "%s must be the literal '*' or a list of replicas in "
				 "the following format: [partitionId]:[brokerId],"
				 "[partitionId]:[brokerId],...", value, key, key);
			return -1;
		}
		if (!empty && out != NULL && broker == broker_id &&
		    part <= INT32_MAX && !throttle_set_has(out, (int32_t)part)) {
			int32_t *np = realloc(out->parts, (out->n + 1) * sizeof(*np));
			size_t i;

			if (np == NULL) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			out->parts = np;
			/* keep sorted: insertion, the lists are short */
			for (i = out->n; i > 0 && np[i - 1] > part; i--)
				np[i] = np[i - 1];
			np[i] = (int32_t)part;
			out->n++;
		}
		if (c == NULL)
			return 0;
		s = c + 1;
	}
}

int throttle_list_validate(const char *key, const char *value, char *err,
			   size_t errlen)
{
	if (value == NULL) {
		snprintf(err, errlen, "Null value not supported for topic config %s",
			 key);
		return -1;
	}
	return walk(key, value, -1, NULL, err, errlen);
}

int throttle_set_parse(const char *key, const char *value, int32_t broker_id,
		       struct throttle_set *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (value == NULL)
		return 0;
	if (walk(key, value, broker_id, out, err, errlen) < 0) {
		throttle_set_free(out);
		return -1;
	}
	return 0;
}

bool throttle_set_has(const struct throttle_set *s, int32_t partition)
{
	size_t lo = 0, hi = s->n;

	if (s->all)
		return true;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->parts[mid] == partition)
			return true;
		if (s->parts[mid] < partition)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

void throttle_set_free(struct throttle_set *s)
{
	free(s->parts);
	memset(s, 0, sizeof(*s));
}

/* -------------------------------------------------------------- rates */

void quota_init(struct quota *q)
{
	memset(q->slot_id, 0, sizeof(q->slot_id));
	memset(q->bytes, 0, sizeof(q->bytes));
	for (int i = 0; i < QUOTA_SAMPLES; i++)
		q->slot_id[i] = -1;
	atomic_store(&q->limit, QUOTA_UNLIMITED);
	pthread_mutex_init(&q->lock, NULL);
}

void quota_destroy(struct quota *q)
{
	pthread_mutex_destroy(&q->lock);
}

void quota_set_limit(struct quota *q, int64_t bytes_per_sec)
{
	atomic_store(&q->limit, bytes_per_sec);
}

void quota_record(struct quota *q, int64_t bytes, int64_t now_ms)
{
	int64_t id = now_ms / QUOTA_SAMPLE_MS;
	int i = (int)(id % QUOTA_SAMPLES);

	if (bytes <= 0)
		return;
	pthread_mutex_lock(&q->lock);
	if (q->slot_id[i] != id) {
		q->slot_id[i] = id;
		q->bytes[i] = 0;
	}
	q->bytes[i] += bytes;
	pthread_mutex_unlock(&q->lock);
}

double quota_rate(struct quota *q, int64_t now_ms)
{
	int64_t id = now_ms / QUOTA_SAMPLE_MS, oldest = id, sum = 0, elapsed;
	int64_t min_elapsed = (QUOTA_SAMPLES - 1) * QUOTA_SAMPLE_MS;

	pthread_mutex_lock(&q->lock);
	for (int i = 0; i < QUOTA_SAMPLES; i++) {
		if (q->slot_id[i] < 0 || q->slot_id[i] <= id - QUOTA_SAMPLES ||
		    q->slot_id[i] > id)
			continue;
		sum += q->bytes[i];
		if (q->slot_id[i] < oldest)
			oldest = q->slot_id[i];
	}
	pthread_mutex_unlock(&q->lock);
	elapsed = now_ms - oldest * QUOTA_SAMPLE_MS;
	if (elapsed < min_elapsed)
		elapsed = min_elapsed;
	return (double)sum * 1000.0 / (double)elapsed;
}

bool quota_exceeded(struct quota *q, int64_t now_ms)
{
	int64_t limit = atomic_load(&q->limit);

	if (limit == QUOTA_UNLIMITED)
		return false;
	return quota_rate(q, now_ms) > (double)limit;
}

/* ------------------------------------------------ replication quotas */

struct quota_topic {
	struct quota_topic *next;
	char *name;
	struct throttle_set leader, follower;
};

struct repl_quotas *quota_repl_new(void)
{
	struct repl_quotas *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	pthread_mutex_init(&q->lock, NULL);
	quota_init(&q->leader);
	quota_init(&q->follower);
	return q;
}

static void topic_free(struct quota_topic *t)
{
	throttle_set_free(&t->leader);
	throttle_set_free(&t->follower);
	free(t->name);
	free(t);
}

void quota_repl_free(struct repl_quotas *q)
{
	if (q == NULL)
		return;
	while (q->topics != NULL) {
		struct quota_topic *t = q->topics;

		q->topics = t->next;
		topic_free(t);
	}
	quota_destroy(&q->leader);
	quota_destroy(&q->follower);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

static bool set_empty(const struct throttle_set *s)
{
	return !s->all && s->n == 0;
}

void quota_repl_set_topic(struct repl_quotas *q, const char *topic,
			  struct throttle_set *leader, struct throttle_set *follower)
{
	struct quota_topic **pp, *t, *fresh = NULL;

	if (!set_empty(leader) || !set_empty(follower)) {
		fresh = calloc(1, sizeof(*fresh));
		if (fresh != NULL && (fresh->name = strdup(topic)) == NULL) {
			free(fresh);
			fresh = NULL;
		}
		if (fresh != NULL) {
			fresh->leader = *leader;
			fresh->follower = *follower;
			memset(leader, 0, sizeof(*leader));
			memset(follower, 0, sizeof(*follower));
		}
	}
	pthread_mutex_lock(&q->lock);
	for (pp = &q->topics; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->name, topic) == 0)
			break;
	t = *pp;
	if (t != NULL) {
		*pp = t->next;
		atomic_fetch_sub(&q->nthrottled, 1);
	}
	if (fresh != NULL) {
		fresh->next = q->topics;
		q->topics = fresh;
		atomic_fetch_add(&q->nthrottled, 1);
	}
	pthread_mutex_unlock(&q->lock);
	if (t != NULL)
		topic_free(t);
	throttle_set_free(leader);
	throttle_set_free(follower);
}

bool quota_repl_throttled(struct repl_quotas *q, bool leader, const char *topic,
			  size_t len, int32_t partition)
{
	bool r = false;

	if (q == NULL || atomic_load(&q->nthrottled) == 0)
		return false;
	pthread_mutex_lock(&q->lock);
	for (struct quota_topic *t = q->topics; t != NULL; t = t->next)
		if (strlen(t->name) == len && memcmp(t->name, topic, len) == 0) {
			r = throttle_set_has(leader ? &t->leader : &t->follower, partition);
			break;
		}
	pthread_mutex_unlock(&q->lock);
	return r;
}
