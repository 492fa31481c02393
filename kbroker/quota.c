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
