/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan.c - Kafka's JSON files for the partition tools (reassignment
 * plans, topics to move, election lists) and a reassignment's move map
 * and throttle values.  See plan.h for the formats and Kafka's rules.
 */
#include "config.h"

#include "plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Append to the message in err (which starts empty), truncating. */
static void msg(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void msg(char *err, size_t errlen, const char *fmt, ...)
{
	size_t off = strnlen(err, errlen);
	va_list ap;

	if (off + 1 >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + off, errlen - off, fmt, ap);
	va_end(ap);
}

static json_t *load(const char *text, size_t len, const char *what,
		    char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);

	if (root == NULL) {
		msg(err, errlen, "%s is not valid JSON: %s (line %d, column %d)",
		    what, je.text, je.line, je.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		msg(err, errlen, "%s is not a JSON object", what);
		json_decref(root);
		return NULL;
	}
	return root;
}

/* An integer member from 0 to INT32_MAX. */
static int get_id(json_t *v, const char *what, int32_t *out, char *err,
		  size_t errlen)
{
	json_int_t n;

	if (v == NULL) {
		msg(err, errlen, "%s is missing", what);
		return -1;
	}
	if (!json_is_integer(v)) {
		msg(err, errlen, "%s must be a whole number", what);
		return -1;
	}
	n = json_integer_value(v);
	if (n < 0 || n > INT32_MAX) {
		msg(err, errlen, "%s %" JSON_INTEGER_FORMAT " is not from 0 to "
		    "2147483647", what, n);
		return -1;
	}
	*out = (int32_t)n;
	return 0;
}

/* "version": absent means 1, the only version Kafka knows. */
static int check_version(json_t *root, char *err, size_t errlen)
{
	json_t *v = json_object_get(root, "version");

	if (v == NULL)
		return 0;
	if (!json_is_integer(v)) {
		msg(err, errlen, "\"version\" must be a whole number");
		return -1;
	}
	if (json_integer_value(v) != 1) {
		msg(err, errlen, "Not supported version field value %"
		    JSON_INTEGER_FORMAT, json_integer_value(v));
		return -1;
	}
	return 0;
}

static const char *topic_of(struct kp_arena *a, json_t *entry, size_t i,
			    char *err, size_t errlen)
{
	json_t *t = json_object_get(entry, "topic");
	const char *s;

	if (!json_is_string(t) || json_string_length(t) == 0) {
		msg(err, errlen, "entry %zu: \"topic\" must be a non-empty "
		    "string", i);
		return NULL;
	}
	/* json_loadb() refuses \u0000 without JSON_ALLOW_NUL: no NULs. */
	s = kp_arena_strndup(a, json_string_value(t), json_string_length(t));
	if (s == NULL)
		msg(err, errlen, "out of memory");
	return s;
}

/* A "partitions" entry's topic and partition (both plan kinds). */
static int entry_tp(struct kp_arena *a, json_t *entry, size_t i,
		    struct plan_part *p, char *err, size_t errlen)
{
	char what[64];

	if (!json_is_object(entry)) {
		msg(err, errlen, "\"partitions\" entry %zu is not an object", i);
		return -1;
	}
	p->topic = topic_of(a, entry, i, err, errlen);
	if (p->topic == NULL)
		return -1;
	snprintf(what, sizeof(what), "entry %zu: \"partition\"", i);
	return get_id(json_object_get(entry, "partition"), what, &p->partition,
		      err, errlen);
}

static void print_ids(char *err, size_t errlen, const int32_t *v, int n)
{
	for (int i = 0; i < n; i++)
		msg(err, errlen, "%s%d", i ? "," : "", (int)v[i]);
}

/* Room in plan for the entries of "partitions", which must be an array. */
static int parts_of(struct kp_arena *a, json_t *parts, struct plan *plan,
		    char *err, size_t errlen)
{
	if (!json_is_array(parts)) {
		msg(err, errlen, "\"partitions\" must be an array");
		return -1;
	}
	plan->parts = kp_arena_calloc(a, json_array_size(parts) + 1,
				      sizeof(*plan->parts));
	if (plan->parts == NULL) {
		msg(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int plan_parse_reassignment(struct kp_arena *a, const char *text, size_t len,
			    struct plan *plan, char *err, size_t errlen)
{
	json_t *root, *parts, *entry;
	size_t i;

	err[0] = '\0';
	memset(plan, 0, sizeof(*plan));
	root = load(text, len, "The reassignment JSON", err, errlen);
	if (root == NULL)
		return -1;
	if (check_version(root, err, errlen) != 0)
		goto fail;
	parts = json_object_get(root, "partitions");
	/* As Kafka: no "partitions" is an empty plan (refused by --execute). */
	if (parts == NULL) {
		json_decref(root);
		return 0;
	}
	if (parts_of(a, parts, plan, err, errlen) != 0)
		goto fail;
	json_array_foreach(parts, i, entry) {
		struct plan_part *p = &plan->parts[plan->nparts];
		json_t *reps, *dirs, *r;
		size_t j;
		char what[64];

		if (entry_tp(a, entry, i, p, err, errlen) != 0)
			goto fail;
		reps = json_object_get(entry, "replicas");
		if (!json_is_array(reps)) {
			msg(err, errlen, "partition %s-%d: \"replicas\" must be "
			    "an array of broker ids", p->topic, (int)p->partition);
			goto fail;
		}
		p->nreplicas = (int)json_array_size(reps);
		p->replicas = kp_arena_calloc(a, (size_t)p->nreplicas + 1,
					      sizeof(int32_t));
		if (p->replicas == NULL) {
			msg(err, errlen, "out of memory");
			goto fail;
		}
		json_array_foreach(reps, j, r) {
			snprintf(what, sizeof(what), "partition %.20s-%d: broker id",
				 p->topic, (int)p->partition);
			if (get_id(r, what, &p->replicas[j], err, errlen) != 0)
				goto fail;
		}
		dirs = json_object_get(entry, "log_dirs");
		if (dirs == NULL) {
			plan->nparts++;
			continue;
		}
		if (!json_is_array(dirs)) {
			msg(err, errlen, "partition %s-%d: \"log_dirs\" must be "
			    "an array", p->topic, (int)p->partition);
			goto fail;
		}
		if (json_array_size(dirs) != (size_t)p->nreplicas) {
			msg(err, errlen, "Size of replicas list ");
			print_ids(err, errlen, p->replicas, p->nreplicas);
			msg(err, errlen, " is different from size of log dirs "
			    "list (%zu entries) for partition %s-%d",
			    json_array_size(dirs), p->topic, (int)p->partition);
			goto fail;
		}
		p->log_dirs = kp_arena_calloc(a, (size_t)p->nreplicas + 1,
					      sizeof(*p->log_dirs));
		if (p->log_dirs == NULL) {
			msg(err, errlen, "out of memory");
			goto fail;
		}
		json_array_foreach(dirs, j, r) {
			const char *d;

			if (!json_is_string(r)) {
				msg(err, errlen, "partition %s-%d: \"log_dirs\" "
				    "entries must be strings", p->topic,
				    (int)p->partition);
				goto fail;
			}
			d = json_string_value(r);
			if (strcmp(d, "any") == 0)
				continue;
			p->log_dirs[j] = kp_arena_strndup(a, d, strlen(d));
			if (p->log_dirs[j] == NULL) {
				msg(err, errlen, "out of memory");
				goto fail;
			}
			p->log_dir_moves = true;
		}
		plan->nparts++;
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	plan->nparts = 0;
	return -1;
}

static int cmp_part(const void *a, const void *b)
{
	const struct plan_part *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	if (c != 0)
		return c;
	return (x->partition > y->partition) - (x->partition < y->partition);
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

void plan_sort(struct plan *plan)
{
	if (plan->nparts > 1)
		qsort(plan->parts, (size_t)plan->nparts, sizeof(*plan->parts),
		      cmp_part);
}

struct plan_topic *plan_by_topic(struct kp_arena *a, const struct plan *plan,
				 int *ntopics)
{
	struct plan_topic *t = kp_arena_calloc(a, (size_t)plan->nparts + 1,
					       sizeof(*t));
	int32_t *ids = kp_arena_calloc(a, (size_t)plan->nparts + 1,
				       sizeof(*ids));
	int n = 0;

	if (t == NULL || ids == NULL)
		return NULL;
	for (int i = 0; i < plan->nparts; i++) {
		const struct plan_part *p = &plan->parts[i];

		if (n == 0 || strcmp(t[n - 1].topic, p->topic) != 0) {
			t[n].topic = p->topic;
			t[n].parts = p;
			t[n].partitions = &ids[i];
			n++;
		}
		ids[i] = p->partition;
		t[n - 1].nparts++;
	}
	*ntopics = n;
	return t;
}

/* The partitions that appear more than once, each once, in Kafka's order. */
static int dup_parts(const struct plan *plan, const char *prefix, char *err,
		     size_t errlen)
{
	struct plan_part *v;
	int ndup = 0;

	if (plan->nparts < 2)
		return 0;
	v = malloc((size_t)plan->nparts * sizeof(*v));
	if (v == NULL) {
		msg(err, errlen, "out of memory");
		return -1;
	}
	memcpy(v, plan->parts, (size_t)plan->nparts * sizeof(*v));
	qsort(v, (size_t)plan->nparts, sizeof(*v), cmp_part);
	for (int i = 1; i < plan->nparts; i++) {
		if (cmp_part(&v[i - 1], &v[i]) != 0 ||
		    (i >= 2 && cmp_part(&v[i - 2], &v[i]) == 0))
			continue;
		msg(err, errlen, "%s%s-%d", ndup ? "," : prefix, v[i].topic,
		    (int)v[i].partition);
		ndup++;
	}
	free(v);
	return ndup > 0 ? -1 : 0;
}

int plan_check(const struct plan *plan, char *err, size_t errlen)
{
	int ndup = 0;

	err[0] = '\0';
	if (plan->nparts == 0) {
		msg(err, errlen, "Partition reassignment list cannot be empty");
		return -1;
	}
	for (int i = 0; i < plan->nparts; i++) {
		if (plan->parts[i].nreplicas == 0) {
			msg(err, errlen, "Partition replica list cannot be "
			    "empty");
			return -1;
		}
	}
	if (dup_parts(plan, "Partition reassignment contains duplicate topic "
		      "partitions: ", err, errlen) != 0)
		return -1;
	for (int i = 0; i < plan->nparts; i++) {
		const struct plan_part *p = &plan->parts[i];
		int32_t *s = malloc((size_t)p->nreplicas * sizeof(*s));
		int first = 1;

		if (s == NULL) {
			msg(err, errlen, "out of memory");
			return -1;
		}
		memcpy(s, p->replicas, (size_t)p->nreplicas * sizeof(*s));
		qsort(s, (size_t)p->nreplicas, sizeof(*s), cmp_i32);
		for (int j = 1; j < p->nreplicas; j++) {
			if (s[j] != s[j - 1] || (j >= 2 && s[j - 2] == s[j]))
				continue;
			if (first)
				msg(err, errlen, "%s%s-%d contains multiple "
				    "entries for ", ndup ? ". " :
				    "Partition replica lists may not contain "
				    "duplicate entries: ", p->topic,
				    (int)p->partition);
			msg(err, errlen, "%s%d", first ? "" : ",", (int)s[j]);
			first = 0;
		}
		free(s);
		if (!first)
			ndup++;
	}
	return ndup > 0 ? -1 : 0;
}

int plan_parse_topics(struct kp_arena *a, const char *text, size_t len,
		      const char ***topics, int *ntopics, char *err,
		      size_t errlen)
{
	json_t *root, *arr, *entry;
	const char **v;
	size_t i;
	int n = 0, ndup = 0;

	err[0] = '\0';
	*topics = NULL;
	*ntopics = 0;
	root = load(text, len, "The topics-to-move JSON", err, errlen);
	if (root == NULL)
		return -1;
	if (check_version(root, err, errlen) != 0)
		goto fail;
	arr = json_object_get(root, "topics");
	if (arr != NULL && !json_is_array(arr)) {
		msg(err, errlen, "\"topics\" must be an array");
		goto fail;
	}
	v = kp_arena_calloc(a, (arr ? json_array_size(arr) : 0) + 1,
			    sizeof(*v));
	if (v == NULL) {
		msg(err, errlen, "out of memory");
		goto fail;
	}
	json_array_foreach(arr, i, entry) {
		if (!json_is_object(entry)) {
			msg(err, errlen, "\"topics\" entry %zu is not an "
			    "object", i);
			goto fail;
		}
		v[n] = topic_of(a, entry, i, err, errlen);
		if (v[n] == NULL)
			goto fail;
		n++;
	}
	for (int k = 0; k < n; k++) {
		int seen = 0, first = -1;

		for (int j = 0; j < n; j++) {
			if (strcmp(v[j], v[k]) != 0)
				continue;
			if (first < 0)
				first = j;
			seen++;
		}
		if (seen > 1 && first == k) {
			msg(err, errlen, "%s%s", ndup ? "," : "List of topics to "
			    "reassign contains duplicate entries: ", v[k]);
			ndup++;
		}
	}
	if (ndup > 0)
		goto fail;
	json_decref(root);
	*topics = v;
	*ntopics = n;
	return 0;
fail:
	json_decref(root);
	return -1;
}

int plan_parse_election(struct kp_arena *a, const char *text, size_t len,
			struct plan *plan, char *err, size_t errlen)
{
	json_t *root, *parts, *entry;
	size_t i;

	err[0] = '\0';
	memset(plan, 0, sizeof(*plan));
	root = load(text, len, "Replica election data", err, errlen);
	if (root == NULL)
		return -1;
	parts = json_object_get(root, "partitions");
	if (parts == NULL) {
		msg(err, errlen, "Replica election data is missing "
		    "\"partitions\" field");
		goto fail;
	}
	if (parts_of(a, parts, plan, err, errlen) != 0)
		goto fail;
	json_array_foreach(parts, i, entry) {
		if (entry_tp(a, entry, i, &plan->parts[plan->nparts], err, errlen) != 0)
			goto fail;
		plan->nparts++;
	}
	if (dup_parts(plan, "Replica election data contains duplicate "
		      "partitions: ", err, errlen) != 0)
		goto fail;
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	plan->nparts = 0;
	return -1;
}

json_t *plan_to_json(const struct plan *plan)
{
	struct plan_part *v = NULL;
	json_t *parts = json_array();

	if (plan->nparts > 0) {
		v = malloc((size_t)plan->nparts * sizeof(*v));
		if (v == NULL) {
			json_decref(parts);
			return NULL;
		}
		memcpy(v, plan->parts, (size_t)plan->nparts * sizeof(*v));
		qsort(v, (size_t)plan->nparts, sizeof(*v), cmp_part);
	}
	for (int i = 0; i < plan->nparts; i++) {
		json_t *reps = json_array(), *dirs = json_array();

		for (int j = 0; j < v[i].nreplicas; j++) {
			json_array_append_new(reps, json_integer(v[i].replicas[j]));
			json_array_append_new(dirs, json_string("any"));
		}
		json_array_append_new(parts, json_pack(
			"{s:s, s:i, s:o, s:o}", "topic", v[i].topic,
			"partition", (int)v[i].partition, "replicas", reps,
			"log_dirs", dirs));
	}
	free(v);
	return json_pack("{s:i, s:o}", "version", 1, "partitions", parts);
}

char *plan_to_text(const struct plan *plan)
{
	json_t *j = plan_to_json(plan);
	char *s;

	if (j == NULL)
		return NULL;
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

enum plan_state plan_state(const int32_t *target, int ntarget, bool ongoing,
			   const int32_t *current, int ncurrent)
{
	if (ongoing)
		return PLAN_IN_PROGRESS;
	if (ncurrent != ntarget)
		return PLAN_MISMATCH;
	for (int i = 0; i < ntarget; i++)
		if (current[i] != target[i])
			return PLAN_MISMATCH;
	return PLAN_COMPLETE;
}

/* ------------------------------------------------------------ move map */

void plan_moves_init(struct plan_moves *m)
{
	memset(m, 0, sizeof(*m));
}

static void move_clear(struct plan_move *mv)
{
	free(mv->sources);
	free(mv->dests);
	mv->sources = mv->dests = NULL;
	mv->nsources = mv->ndests = 0;
}

void plan_moves_free(struct plan_moves *m)
{
	for (int i = 0; i < m->n; i++) {
		move_clear(&m->v[i]);
		free(m->v[i].topic);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static bool has(const int32_t *v, int n, int32_t x)
{
	for (int i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* Add x to the set (*v, *n) unless present; -1 when out of memory. */
static int set_add(int32_t **v, int *n, int32_t x)
{
	int32_t *nv;

	if (has(*v, *n, x))
		return 0;
	nv = realloc(*v, ((size_t)*n + 1) * sizeof(**v));
	if (nv == NULL)
		return -1;
	nv[(*n)++] = x;
	*v = nv;
	return 0;
}

/* The partition's move, created empty when new; NULL when out of memory. */
static struct plan_move *move_get(struct plan_moves *m, const char *topic,
				  int32_t partition, bool create)
{
	struct plan_move *mv;

	for (int i = 0; i < m->n; i++)
		if (m->v[i].partition == partition &&
		    strcmp(m->v[i].topic, topic) == 0)
			return &m->v[i];
	if (!create)
		return NULL;
	if (m->n == m->cap) {
		int cap = m->cap ? m->cap * 2 : 16;
		struct plan_move *nv = realloc(m->v, (size_t)cap * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		m->v = nv;
		m->cap = cap;
	}
	mv = &m->v[m->n];
	memset(mv, 0, sizeof(*mv));
	mv->topic = strdup(topic);
	if (mv->topic == NULL)
		return NULL;
	mv->partition = partition;
	m->n++;
	return mv;
}

int plan_moves_ongoing(struct plan_moves *m, const char *topic,
		       int32_t partition, const int32_t *replicas, int nreplicas,
		       const int32_t *adding, int nadding)
{
	struct plan_move *mv = move_get(m, topic, partition, true);

	if (mv == NULL)
		return -1;
	move_clear(mv);
	/* The adding replicas are part of the replica list meanwhile. */
	for (int i = 0; i < nreplicas; i++)
		if (!has(adding, nadding, replicas[i]) &&
		    set_add(&mv->sources, &mv->nsources, replicas[i]) != 0)
			return -1;
	for (int i = 0; i < nadding; i++)
		if (set_add(&mv->dests, &mv->ndests, adding[i]) != 0)
			return -1;
	return 0;
}

int plan_moves_propose(struct plan_moves *m, const char *topic,
		       int32_t partition, const int32_t *target, int ntarget,
		       const int32_t *current, int ncurrent)
{
	struct plan_move *mv = move_get(m, topic, partition, false);
	bool ongoing = mv != NULL;

	if (!ongoing)
		mv = move_get(m, topic, partition, true);
	if (mv == NULL)
		return -1;
	/* An ongoing move keeps its sources: those hold the data. */
	if (!ongoing) {
		for (int i = 0; i < ncurrent; i++)
			if (set_add(&mv->sources, &mv->nsources, current[i]) != 0)
				return -1;
	}
	free(mv->dests);
	mv->dests = NULL;
	mv->ndests = 0;
	for (int i = 0; i < ntarget; i++)
		if (!has(mv->sources, mv->nsources, target[i]) &&
		    set_add(&mv->dests, &mv->ndests, target[i]) != 0)
			return -1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *plan_moves_throttle(const struct plan_moves *m, const char *topic,
			  bool leader)
{
	char **items = NULL, *out = NULL;
	size_t n = 0, cap = 0, len = 1;

	for (int i = 0; i < m->n; i++) {
		const struct plan_move *mv = &m->v[i];
		const int32_t *b = leader ? mv->sources : mv->dests;
		int nb = leader ? mv->nsources : mv->ndests;

		if (strcmp(mv->topic, topic) != 0)
			continue;
		for (int j = 0; j < nb; j++) {
			if (!leader && has(mv->sources, mv->nsources, b[j]))
				continue;
			if (n == cap) {
				char **ni;

				cap = cap ? cap * 2 : 16;
				ni = realloc(items, cap * sizeof(*items));
				if (ni == NULL)
					goto done;
				items = ni;
			}
			if (asprintf(&items[n], "%d:%d", (int)mv->partition,
				     (int)b[j]) < 0)
				goto done;
			len += strlen(items[n]) + 1;
			n++;
		}
	}
	/* Kafka collects them in a TreeSet[String]: string order, no twins. */
	if (n > 1)
		qsort(items, n, sizeof(*items), cmp_str);
	out = malloc(len);
	if (out == NULL)
		goto done;
	out[0] = '\0';
	for (size_t i = 0, off = 0; i < n; i++) {
		if (i > 0 && strcmp(items[i], items[i - 1]) == 0)
			continue;
		off += (size_t)snprintf(out + off, len - off, "%s%s",
					off ? "," : "", items[i]);
	}
done:
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
	return out;
}

int plan_moves_topics(const struct plan_moves *m, const char ***out)
{
	const char **v = malloc(((size_t)m->n + 1) * sizeof(*v));
	int n = 0, k = 0;

	*out = v;
	if (v == NULL)
		return -1;
	for (int i = 0; i < m->n; i++)
		v[n++] = m->v[i].topic;
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), cmp_str);
	/* Drop the repeats of the sorted list. */
	for (int i = 0; i < n; i++)
		if (k == 0 || strcmp(v[i], v[k - 1]) != 0)
			v[k++] = v[i];
	v[k] = NULL;
	return k;
}

int plan_moves_brokers(const struct plan_moves *m, int32_t **out)
{
	int32_t *v = NULL;
	int n = 0;

	for (int i = 0; i < m->n; i++) {
		for (int j = 0; j < m->v[i].nsources; j++)
			if (set_add(&v, &n, m->v[i].sources[j]) != 0)
				goto oom;
		for (int j = 0; j < m->v[i].ndests; j++)
			if (set_add(&v, &n, m->v[i].dests[j]) != 0)
				goto oom;
	}
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), cmp_i32);
	*out = v;
	return n;
oom:
	free(v);
	*out = NULL;
	return -1;
}
