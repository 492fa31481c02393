/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_zkdata.c - Kafka's ZooKeeper JSON payloads, with jansson (Debian's
 * libjansson: a small, well-kept JSON library; JSON is not the heart of
 * this project, so we do not hand-write a parser).  See kp_zkdata.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kp_zkdata.h"
#include "kp_log.h"

static json_t *load(const char *json, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);

	if (root == NULL) {
		kp_errf(err, errlen, "invalid JSON: %s", je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		kp_errf(err, errlen, "invalid JSON: not an object");
		json_decref(root);
		return NULL;
	}
	return root;
}

static char *dump(json_t *root)
{
	char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(root);
	return s;
}

/* An integer field, also accepted as a decimal string (Kafka writes some
 * numbers as strings). */
static int get_int(json_t *obj, const char *key, bool required, int64_t def,
		   int64_t *v, char *err, size_t errlen)
{
	json_t *x = json_object_get(obj, key);

	if (x == NULL || json_is_null(x)) {
		if (required) {
			kp_errf(err, errlen, "missing field \"%s\"", key);
			return -1;
		}
		*v = def;
		return 0;
	}
	if (json_is_integer(x)) {
		*v = json_integer_value(x);
		return 0;
	}
	if (json_is_string(x)) {
		const char *s = json_string_value(x);
		char *end;

		errno = 0;
		*v = strtoll(s, &end, 10);
		if (errno == 0 && end != s && *end == '\0')
			return 0;
	}
	kp_errf(err, errlen, "field \"%s\" is not an integer", key);
	return -1;
}

static int get_int32(json_t *obj, const char *key, bool required, int32_t def,
		     int32_t *v, char *err, size_t errlen)
{
	int64_t x;

	if (get_int(obj, key, required, def, &x, err, errlen))
		return -1;
	if (x < INT32_MIN || x > INT32_MAX) {
		kp_errf(err, errlen, "field \"%s\" out of range", key);
		return -1;
	}
	*v = (int32_t)x;
	return 0;
}

static int get_replicas(json_t *arr, struct kp_replicas *r, const char *what,
			char *err, size_t errlen)
{
	size_t i, n;

	r->ids = NULL;
	r->n = 0;
	if (!json_is_array(arr)) {
		kp_errf(err, errlen, "%s is not an array", what);
		return -1;
	}
	n = json_array_size(arr);
	if (n > 100000) {
		kp_errf(err, errlen, "%s is too long", what);
		return -1;
	}
	r->ids = calloc(n ? n : 1, sizeof(*r->ids));
	if (r->ids == NULL) {
		kp_errf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		json_t *x = json_array_get(arr, i);

		if (!json_is_integer(x) || json_integer_value(x) < 0 ||
		    json_integer_value(x) > INT32_MAX) {
			kp_errf(err, errlen, "%s holds a bad broker id", what);
			free(r->ids);
			r->ids = NULL;
			return -1;
		}
		r->ids[i] = (int32_t)json_integer_value(x);
	}
	r->n = (int32_t)n;
	return 0;
}

static json_t *replicas_json(const struct kp_replicas *r)
{
	json_t *a = json_array();
	int32_t i;

	for (i = 0; i < r->n; i++)
		json_array_append_new(a, json_integer(r->ids[i]));
	return a;
}

void kp_replicas_free(struct kp_replicas *r)
{
	free(r->ids);
	r->ids = NULL;
	r->n = 0;
}

/* ------------------------------------------------------------ endpoints */

int kp_endpoint_parse(const char *s, struct kp_endpoint *ep, char *err,
		      size_t errlen)
{
	const char *sep, *h, *colon;
	size_t ln, hl;
	char *end;
	long port;

	memset(ep, 0, sizeof(*ep));
	while (isspace((unsigned char)*s))
		s++;
	sep = strstr(s, "://");
	if (sep == NULL || sep == s) {
		kp_errf(err, errlen, "\"%s\" is not NAME://host:port", s);
		return -1;
	}
	ln = (size_t)(sep - s);
	if (ln >= sizeof(ep->listener)) {
		kp_errf(err, errlen, "listener name too long in \"%s\"", s);
		return -1;
	}
	for (size_t i = 0; i < ln; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-') {
			kp_errf(err, errlen, "bad listener name in \"%s\"", s);
			return -1;
		}
	}
	memcpy(ep->listener, s, ln);
	h = sep + 3;
	if (*h == '[') {
		const char *rb = strchr(h, ']');

		if (rb == NULL || rb[1] != ':') {
			kp_errf(err, errlen, "bad IPv6 address in \"%s\"", s);
			return -1;
		}
		hl = (size_t)(rb - h - 1);
		h++;
		colon = rb + 1;
	} else {
		colon = strrchr(h, ':');
		if (colon == NULL) {
			kp_errf(err, errlen, "no port in \"%s\"", s);
			return -1;
		}
		hl = (size_t)(colon - h);
		if (memchr(h, ':', hl) != NULL) {
			kp_errf(err, errlen, "IPv6 host must be in brackets in \"%s\"", s);
			return -1;
		}
	}
	if (hl >= sizeof(ep->host)) {
		kp_errf(err, errlen, "host too long in \"%s\"", s);
		return -1;
	}
	memcpy(ep->host, h, hl);
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || end == colon + 1 || *end != '\0' || port < 0 || port > 65535) {
		kp_errf(err, errlen, "bad port in \"%s\"", s);
		return -1;
	}
	ep->port = (int32_t)port;
	return 0;
}

void kp_endpoint_format(const struct kp_endpoint *ep, char *buf, size_t len)
{
	if (strchr(ep->host, ':') != NULL)
		snprintf(buf, len, "%s://[%s]:%d", ep->listener, ep->host,
			 ep->port);
	else
		snprintf(buf, len, "%s://%s:%d", ep->listener, ep->host,
			 ep->port);
}

int kp_endpoints_parse(const char *list, struct kp_endpoint **eps, size_t *n,
		       char *err, size_t errlen)
{
	char *copy = strdup(list), *tok, *save = NULL;
	struct kp_endpoint *v = NULL;
	size_t cnt = 0;

	*eps = NULL;
	*n = 0;
	if (copy == NULL)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		struct kp_endpoint *nv;
		size_t i;

		while (isspace((unsigned char)*tok))
			tok++;
		if (*tok == '\0')
			continue;
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (nv == NULL)
			goto fail;
		v = nv;
		if (kp_endpoint_parse(tok, &v[cnt], err, errlen))
			goto fail;
		for (i = 0; i < cnt; i++) {
			if (strcmp(v[i].listener, v[cnt].listener) == 0) {
				kp_errf(err, errlen,
				        "listener name %s is used more than once",
				        v[cnt].listener);
				goto fail;
			}
		}
		cnt++;
	}
	free(copy);
	*eps = v;
	*n = cnt;
	return 0;
fail:
	free(copy);
	free(v);
	return -1;
}

/* -------------------------------------------------------------- brokers */

char *kp_zk_broker_encode(const struct kp_zk_broker *b)
{
	json_t *root = json_object(), *eps = json_array(), *map = json_object();
	const struct kp_endpoint *plain = NULL;
	char buf[KP_HOST_MAX + KP_LISTENER_MAX + 16];
	size_t i;

	for (i = 0; i < b->nendpoints; i++) {
		kp_endpoint_format(&b->endpoints[i], buf, sizeof(buf));
		json_array_append_new(eps, json_string(buf));
	}
	for (i = 0; i < b->nprotocols; i++) {
		json_object_set_new(map, b->protocol_map[i][0],
				    json_string(b->protocol_map[i][1]));
		/* host/port name the first PLAINTEXT endpoint, as Kafka. */
		if (plain == NULL && strcmp(b->protocol_map[i][1], "PLAINTEXT") == 0)
			plain = kp_zk_broker_endpoint(b, b->protocol_map[i][0]);
	}
	json_object_set_new(root, "version", json_integer(b->version ? b->version : 5));
	json_object_set_new(root, "host", plain ? json_string(plain->host) : json_null());
	json_object_set_new(root, "port", json_integer(plain ? plain->port : -1));
	json_object_set_new(root, "jmx_port", json_integer(-1));
	snprintf(buf, sizeof(buf), "%lld", (long long)b->timestamp);
	json_object_set_new(root, "timestamp", json_string(buf));
	json_object_set_new(root, "endpoints", eps);
	json_object_set_new(root, "listener_security_protocol_map", map);
	if (b->rack != NULL)
		json_object_set_new(root, "rack", json_string(b->rack));
	json_object_set_new(root, "features", json_object());
	return dump(root);
}

int kp_zk_broker_decode(const char *json, size_t len, struct kp_zk_broker *b,
			char *err, size_t errlen)
{
	json_t *root = load(json, len, err, errlen), *eps, *map, *rack;
	int32_t id = b->id;
	int64_t v;
	size_t i;

	memset(b, 0, sizeof(*b));
	b->id = id;
	if (root == NULL)
		return -1;
	if (get_int(root, "version", true, 0, &v, err, errlen))
		goto fail;
	b->version = (int)v;
	if (get_int(root, "timestamp", false, 0, &b->timestamp, err, errlen))
		goto fail;
	eps = json_object_get(root, "endpoints");
	if (json_is_array(eps)) {
		b->nendpoints = json_array_size(eps);
		b->endpoints = calloc(b->nendpoints + 1, sizeof(*b->endpoints));
		if (b->endpoints == NULL)
			goto nomem;
		for (i = 0; i < b->nendpoints; i++) {
			json_t *e = json_array_get(eps, i);

			if (!json_is_string(e) ||
			    kp_endpoint_parse(json_string_value(e),
					      &b->endpoints[i], err, errlen))
				goto fail;
		}
	} else {
		/* Version 1 registrations: host and port only. */
		int32_t port;
		json_t *host = json_object_get(root, "host");

		if (!json_is_string(host) ||
		    get_int32(root, "port", true, -1, &port, err, errlen)) {
			kp_errf(err, errlen, "registration without endpoints");
			goto fail;
		}
		b->endpoints = calloc(1, sizeof(*b->endpoints));
		if (b->endpoints == NULL)
			goto nomem;
		strcpy(b->endpoints[0].listener, "PLAINTEXT");
		snprintf(b->endpoints[0].host, sizeof(b->endpoints[0].host),
			 "%s", json_string_value(host));
		b->endpoints[0].port = port;
		b->nendpoints = 1;
	}
	map = json_object_get(root, "listener_security_protocol_map");
	if (json_is_object(map)) {
		const char *k;
		json_t *val;

		b->protocol_map = calloc(json_object_size(map) + 1,
					 sizeof(*b->protocol_map));
		if (b->protocol_map == NULL)
			goto nomem;
		json_object_foreach(map, k, val) {
			if (!json_is_string(val) || strlen(k) >= KP_LISTENER_MAX ||
			    strlen(json_string_value(val)) >= KP_LISTENER_MAX) {
				kp_errf(err, errlen, "bad listener_security_protocol_map");
				goto fail;
			}
			strcpy(b->protocol_map[b->nprotocols][0], k);
			strcpy(b->protocol_map[b->nprotocols][1], json_string_value(val));
			b->nprotocols++;
		}
	} else {
		/* Without a map, listener names are protocol names. */
		b->protocol_map = calloc(b->nendpoints + 1, sizeof(*b->protocol_map));
		if (b->protocol_map == NULL)
			goto nomem;
		for (i = 0; i < b->nendpoints; i++) {
			strcpy(b->protocol_map[i][0], b->endpoints[i].listener);
			strcpy(b->protocol_map[i][1], b->endpoints[i].listener);
		}
		b->nprotocols = b->nendpoints;
	}
	rack = json_object_get(root, "rack");
	if (json_is_string(rack)) {
		b->rack = strdup(json_string_value(rack));
		if (b->rack == NULL)
			goto nomem;
	}
	json_decref(root);
	return 0;
nomem:
	kp_errf(err, errlen, "out of memory");
fail:
	json_decref(root);
	kp_zk_broker_free(b);
	return -1;
}

void kp_zk_broker_free(struct kp_zk_broker *b)
{
	free(b->endpoints);
	free(b->protocol_map);
	free(b->rack);
	b->endpoints = NULL;
	b->protocol_map = NULL;
	b->rack = NULL;
	b->nendpoints = b->nprotocols = 0;
}

const struct kp_endpoint *kp_zk_broker_endpoint(const struct kp_zk_broker *b,
						const char *listener)
{
	size_t i;

	for (i = 0; i < b->nendpoints; i++)
		if (strcmp(b->endpoints[i].listener, listener) == 0)
			return &b->endpoints[i];
	return NULL;
}

/* --------------------------------------------------------------- topics */

static json_t *partition_map(const struct kp_replicas *parts, int32_t n,
			     bool skip_empty)
{
	json_t *m = json_object();
	char key[16];
	int32_t p;

	for (p = 0; p < n; p++) {
		if (skip_empty && parts[p].n == 0)
			continue;
		snprintf(key, sizeof(key), "%d", p);
		json_object_set_new(m, key, replicas_json(&parts[p]));
	}
	return m;
}

char *kp_zk_topic_encode(const struct kp_zk_topic *t)
{
	json_t *root = json_object();
	static const struct kp_replicas none = { NULL, 0 };
	int32_t p;
	json_t *add, *rem;

	json_object_set_new(root, "version", json_integer(t->version ? t->version : 2));
	if (t->topic_id[0] != '\0')
		json_object_set_new(root, "topic_id", json_string(t->topic_id));
	json_object_set_new(root, "partitions",
			    partition_map(t->parts, t->npartitions, false));
	add = json_object();
	rem = json_object();
	for (p = 0; p < t->npartitions; p++) {
		char key[16];
		const struct kp_replicas *a = t->adding ? &t->adding[p] : &none;
		const struct kp_replicas *r = t->removing ? &t->removing[p] : &none;

		snprintf(key, sizeof(key), "%d", p);
		if (a->n > 0)
			json_object_set_new(add, key, replicas_json(a));
		if (r->n > 0)
			json_object_set_new(rem, key, replicas_json(r));
	}
	json_object_set_new(root, "adding_replicas", add);
	json_object_set_new(root, "removing_replicas", rem);
	return dump(root);
}

static int parse_partition_key(const char *k, int32_t n, int32_t *p)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(k, &end, 10);
	if (errno || end == k || *end != '\0' || v < 0 || v >= n)
		return -1;
	*p = (int32_t)v;
	return 0;
}

static int side_map(json_t *root, const char *name, int32_t n,
		    struct kp_replicas **out, char *err, size_t errlen)
{
	json_t *m = json_object_get(root, name), *val;
	const char *k;

	*out = calloc((size_t)n + 1, sizeof(**out));
	if (*out == NULL) {
		kp_errf(err, errlen, "out of memory");
		return -1;
	}
	if (m == NULL || json_is_null(m))
		return 0;
	if (!json_is_object(m)) {
		kp_errf(err, errlen, "%s is not an object", name);
		return -1;
	}
	json_object_foreach(m, k, val) {
		int32_t p;

		if (parse_partition_key(k, n, &p)) {
			kp_errf(err, errlen, "%s names unknown partition \"%s\"", name, k);
			return -1;
		}
		kp_replicas_free(&(*out)[p]);
		if (get_replicas(val, &(*out)[p], name, err, errlen))
			return -1;
	}
	return 0;
}

int kp_zk_topic_decode(const char *json, size_t len, struct kp_zk_topic *t,
		       char *err, size_t errlen)
{
	json_t *root = load(json, len, err, errlen), *parts, *val, *tid;
	const char *k;
	int64_t v;
	int32_t n, p;

	memset(t, 0, sizeof(*t));
	if (root == NULL)
		return -1;
	if (get_int(root, "version", false, 1, &v, err, errlen))
		goto fail;
	t->version = (int)v;
	tid = json_object_get(root, "topic_id");
	if (json_is_string(tid) && strlen(json_string_value(tid)) < sizeof(t->topic_id))
		strcpy(t->topic_id, json_string_value(tid));
	parts = json_object_get(root, "partitions");
	if (!json_is_object(parts) || json_object_size(parts) == 0 ||
	    json_object_size(parts) > 1000000) {
		kp_errf(err, errlen, "missing or empty \"partitions\"");
		goto fail;
	}
	n = (int32_t)json_object_size(parts);
	t->parts = calloc((size_t)n, sizeof(*t->parts));
	if (t->parts == NULL) {
		kp_errf(err, errlen, "out of memory");
		goto fail;
	}
	t->npartitions = n;
	json_object_foreach(parts, k, val) {
		if (parse_partition_key(k, n, &p) || t->parts[p].ids != NULL) {
			kp_errf(err, errlen, "partitions are not numbered 0..%d", n - 1);
			goto fail;
		}
		if (get_replicas(val, &t->parts[p], "replica list", err, errlen))
			goto fail;
		if (t->parts[p].n == 0) {
			kp_errf(err, errlen, "partition %d has no replicas", p);
			goto fail;
		}
	}
	if (side_map(root, "adding_replicas", n, &t->adding, err, errlen) ||
	    side_map(root, "removing_replicas", n, &t->removing, err, errlen))
		goto fail;
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	kp_zk_topic_free(t);
	return -1;
}

void kp_zk_topic_free(struct kp_zk_topic *t)
{
	int32_t p;

	for (p = 0; p < t->npartitions; p++) {
		if (t->parts)
			kp_replicas_free(&t->parts[p]);
		if (t->adding)
			kp_replicas_free(&t->adding[p]);
		if (t->removing)
			kp_replicas_free(&t->removing[p]);
	}
	free(t->parts);
	free(t->adding);
	free(t->removing);
	memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------ partition state */

char *kp_zk_partition_state_encode(const struct kp_zk_partition_state *s)
{
	json_t *root = json_object();

	json_object_set_new(root, "controller_epoch", json_integer(s->controller_epoch));
	json_object_set_new(root, "leader", json_integer(s->leader));
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "leader_epoch", json_integer(s->leader_epoch));
	json_object_set_new(root, "isr", replicas_json(&s->isr));
	return dump(root);
}

int kp_zk_partition_state_decode(const char *json, size_t len,
				 struct kp_zk_partition_state *s, char *err,
				 size_t errlen)
{
	json_t *root = load(json, len, err, errlen);

	memset(s, 0, sizeof(*s));
	if (root == NULL)
		return -1;
	if (get_int32(root, "controller_epoch", true, 0, &s->controller_epoch, err, errlen) ||
	    get_int32(root, "leader", true, -1, &s->leader, err, errlen) ||
	    get_int32(root, "leader_epoch", true, 0, &s->leader_epoch, err, errlen) ||
	    get_replicas(json_object_get(root, "isr"), &s->isr, "isr", err, errlen)) {
		json_decref(root);
		kp_zk_partition_state_free(s);
		return -1;
	}
	json_decref(root);
	return 0;
}

void kp_zk_partition_state_free(struct kp_zk_partition_state *s)
{
	kp_replicas_free(&s->isr);
}

/* ----------------------------------------------------- controller, ids */

char *kp_zk_controller_encode(int32_t id, int64_t timestamp,
			      const struct kp_endpoint *ep)
{
	json_t *root = json_object();
	char ts[32];

	snprintf(ts, sizeof(ts), "%lld", (long long)timestamp);
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "brokerid", json_integer(id));
	json_object_set_new(root, "timestamp", json_string(ts));
	if (ep != NULL) {
		char buf[KP_HOST_MAX + KP_LISTENER_MAX + 16];
		json_t *a = json_array();

		kp_endpoint_format(ep, buf, sizeof(buf));
		json_array_append_new(a, json_string(buf));
		json_object_set_new(root, "endpoints", a);
	}
	return dump(root);
}

char *kp_zk_pid_block_encode(int32_t broker, int64_t start, int64_t end)
{
	json_t *root = json_object();
	char a[32], b[32];

	snprintf(a, sizeof(a), "%lld", (long long)start);
	snprintf(b, sizeof(b), "%lld", (long long)end);
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "broker", json_integer(broker));
	json_object_set_new(root, "block_start", json_string(a));
	json_object_set_new(root, "block_end", json_string(b));
	return dump(root);
}

int kp_zk_pid_block_decode(const char *json, size_t len, int32_t *broker,
			   int64_t *start, int64_t *end, char *err, size_t errlen)
{
	json_t *root = load(json, len, err, errlen);
	int rc;

	if (root == NULL)
		return -1;
	rc = get_int32(root, "broker", true, -1, broker, err, errlen);
	if (rc == 0)
		rc = get_int(root, "block_start", true, -1, start, err, errlen);
	if (rc == 0)
		rc = get_int(root, "block_end", true, -1, end, err, errlen);
	if (rc == 0 && (*start < 0 || *end < *start)) {
		kp_errf(err, errlen, "invalid producer id block %lld-%lld",
		        (long long)*start, (long long)*end);
		rc = -1;
	}
	json_decref(root);
	return rc;
}

int kp_zk_controller_endpoint(const char *json, size_t len,
			      struct kp_endpoint *ep, char *err, size_t errlen)
{
	json_t *root = load(json, len, err, errlen), *a, *x;
	int rc;

	if (root == NULL)
		return -1;
	a = json_object_get(root, "endpoints");
	x = json_is_array(a) ? json_array_get(a, 0) : NULL;
	if (!json_is_string(x)) {
		kp_errf(err, errlen, "the controller advertises no endpoint");
		json_decref(root);
		return -ENOENT;
	}
	rc = kp_endpoint_parse(json_string_value(x), ep, err, errlen);
	json_decref(root);
	return rc < 0 ? -1 : 0;
}

int kp_zk_controller_decode(const char *json, size_t len, int32_t *id,
			    char *err, size_t errlen)
{
	json_t *root = load(json, len, err, errlen);
	int rc;

	if (root == NULL)
		return -1;
	rc = get_int32(root, "brokerid", true, -1, id, err, errlen);
	json_decref(root);
	return rc;
}

char *kp_zk_cluster_id_encode(const char *id)
{
	json_t *root = json_object();

	json_object_set_new(root, "version", json_string("1"));
	json_object_set_new(root, "id", json_string(id));
	return dump(root);
}

int kp_zk_cluster_id_decode(const char *json, size_t len, char *id,
			    size_t idlen, char *err, size_t errlen)
{
	json_t *root = load(json, len, err, errlen), *x;

	if (root == NULL)
		return -1;
	x = json_object_get(root, "id");
	if (!json_is_string(x) || strlen(json_string_value(x)) >= idlen ||
	    json_string_value(x)[0] == '\0') {
		kp_errf(err, errlen, "missing or bad cluster \"id\"");
		json_decref(root);
		return -1;
	}
	strcpy(id, json_string_value(x));
	json_decref(root);
	return 0;
}

static const char uuid_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void kp_uuid_format(const kp_uuid *id, char out[23])
{
	uint8_t u[18] = { 0 };

	memcpy(u, id->b, 16);
	for (int i = 0; i < 6; i++) {
		uint32_t v = ((uint32_t)u[3 * i] << 16) | ((uint32_t)u[3 * i + 1] << 8) |
			     u[3 * i + 2];

		out[4 * i] = uuid_b64[(v >> 18) & 63];
		out[4 * i + 1] = uuid_b64[(v >> 12) & 63];
		if (4 * i + 2 < 22)
			out[4 * i + 2] = uuid_b64[(v >> 6) & 63];
		if (4 * i + 3 < 22)
			out[4 * i + 3] = uuid_b64[v & 63];
	}
	out[22] = '\0';
}

int kp_uuid_parse(const char *s, kp_uuid *out)
{
	uint8_t u[18] = { 0 };

	if (s == NULL || strlen(s) != 22)
		return -1;
	for (int i = 0; i < 22; i += 4) {
		uint32_t v = 0;

		for (int j = 0; j < 4; j++) {
			const char *c = i + j < 22 ? strchr(uuid_b64, s[i + j]) : NULL;

			if (i + j < 22 && (c == NULL || s[i + j] == '\0'))
				return -1;
			v = (v << 6) | (c != NULL ? (uint32_t)(c - uuid_b64) : 0);
		}
		u[3 * (i / 4)] = (uint8_t)(v >> 16);
		u[3 * (i / 4) + 1] = (uint8_t)(v >> 8);
		u[3 * (i / 4) + 2] = (uint8_t)v;
	}
	/* 22 characters hold 132 bits: the last 4 must be zero */
	if (u[16] != 0 || u[17] != 0)
		return -1;
	memcpy(out->b, u, 16);
	return 0;
}

void kp_cluster_id_generate(char out[23])
{
	kp_uuid id;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	memset(&id, 0, sizeof(id));
	if (fd < 0 || read(fd, id.b, 16) != 16) {
		/* Not expected on Linux; fall back to time and pid. */
		uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

		memcpy(id.b, &x, sizeof(x));
		memcpy(id.b + 8, &x, sizeof(x));
	}
	if (fd >= 0)
		close(fd);
	/* A version 4 UUID, as Java's Uuid.randomUuid(). */
	id.b[6] = (uint8_t)((id.b[6] & 0x0f) | 0x40);
	id.b[8] = (uint8_t)((id.b[8] & 0x3f) | 0x80);
	kp_uuid_format(&id, out);
}

/* --------------------------------------------------------------- config */

char *kp_zk_config_encode(const struct kp_zk_entity_config *c)
{
	json_t *root = json_object(), *cfg = json_object();
	size_t i;

	for (i = 0; i < c->n; i++)
		json_object_set_new(cfg, c->keys[i], json_string(c->values[i]));
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "config", cfg);
	return dump(root);
}

int kp_zk_config_decode(const char *json, size_t len, struct kp_zk_entity_config *c,
			char *err, size_t errlen)
{
	json_t *root = load(json, len, err, errlen), *cfg, *val;
	const char *k;

	memset(c, 0, sizeof(*c));
	if (root == NULL)
		return -1;
	cfg = json_object_get(root, "config");
	if (cfg != NULL && !json_is_object(cfg)) {
		kp_errf(err, errlen, "\"config\" is not an object");
		json_decref(root);
		return -1;
	}
	if (cfg != NULL) {
		json_object_foreach(cfg, k, val) {
			if (!json_is_string(val)) {
				kp_errf(err, errlen, "config value of %s is not a string", k);
				goto fail;
			}
			if (kp_zk_config_set(c, k, json_string_value(val))) {
				kp_errf(err, errlen, "out of memory");
				goto fail;
			}
		}
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	kp_zk_config_free(c);
	return -1;
}

void kp_zk_config_free(struct kp_zk_entity_config *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->keys[i]);
		free(c->values[i]);
	}
	free(c->keys);
	free(c->values);
	memset(c, 0, sizeof(*c));
}

const char *kp_zk_config_get(const struct kp_zk_entity_config *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->keys[i], key) == 0)
			return c->values[i];
	return NULL;
}

int kp_zk_config_set(struct kp_zk_entity_config *c, const char *key,
		     const char *value)
{
	size_t i;
	char **nk, **nv;

	for (i = 0; i < c->n; i++) {
		if (strcmp(c->keys[i], key) != 0)
			continue;
		if (value == NULL) {
			free(c->keys[i]);
			free(c->values[i]);
			c->keys[i] = c->keys[c->n - 1];
			c->values[i] = c->values[c->n - 1];
			c->n--;
			return 0;
		}
		{
			char *v = strdup(value);

			if (v == NULL)
				return -1;
			free(c->values[i]);
			c->values[i] = v;
		}
		return 0;
	}
	if (value == NULL)
		return 0;
	nk = realloc(c->keys, (c->n + 1) * sizeof(*nk));
	if (nk == NULL)
		return -1;
	c->keys = nk;
	nv = realloc(c->values, (c->n + 1) * sizeof(*nv));
	if (nv == NULL)
		return -1;
	c->values = nv;
	c->keys[c->n] = strdup(key);
	c->values[c->n] = strdup(value);
	if (c->keys[c->n] == NULL || c->values[c->n] == NULL) {
		free(c->keys[c->n]);
		free(c->values[c->n]);
		return -1;
	}
	c->n++;
	return 0;
}

char *kp_zk_config_change_encode(const char *entity_path)
{
	json_t *root = json_object();

	json_object_set_new(root, "version", json_integer(2));
	json_object_set_new(root, "entity_path", json_string(entity_path));
	return dump(root);
}

int kp_zk_config_change_decode(const char *json, size_t len, char *path,
			       size_t pathlen, char *err, size_t errlen)
{
	json_t *root = load(json, len, err, errlen), *p, *t, *n;
	int64_t v;
	int rc = -1;

	if (root == NULL)
		return -1;
	if (get_int(root, "version", true, 0, &v, err, errlen))
		goto out;
	if (v >= 2) {
		p = json_object_get(root, "entity_path");
		if (json_is_string(p) && strlen(json_string_value(p)) < pathlen) {
			strcpy(path, json_string_value(p));
			rc = 0;
		}
	} else {
		t = json_object_get(root, "entity_type");
		n = json_object_get(root, "entity_name");
		if (json_is_string(t) && json_is_string(n) &&
		    (size_t)snprintf(path, pathlen, "%s/%s", json_string_value(t),
				     json_string_value(n)) < pathlen)
			rc = 0;
	}
	if (rc)
		kp_errf(err, errlen, "bad config change notification");
out:
	json_decref(root);
	return rc;
}

/* ---------------------------------------------------- partition lists */

char *kp_zk_tp_list_encode(const struct kp_zk_tp_list *l, bool with_replicas)
{
	json_t *root = json_object(), *arr = json_array();
	size_t i;

	for (i = 0; i < l->n; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "topic", json_string(l->items[i].topic));
		json_object_set_new(o, "partition", json_integer(l->items[i].partition));
		if (with_replicas)
			json_object_set_new(o, "replicas",
					    replicas_json(&l->items[i].replicas));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "partitions", arr);
	return dump(root);
}

int kp_zk_tp_list_decode(const char *json, size_t len, bool with_replicas,
			 struct kp_zk_tp_list *l, char *err, size_t errlen)
{
	json_t *root = load(json, len, err, errlen), *arr;
	size_t i, n;

	memset(l, 0, sizeof(*l));
	if (root == NULL)
		return -1;
	arr = json_object_get(root, "partitions");
	if (!json_is_array(arr)) {
		kp_errf(err, errlen, "missing \"partitions\" array");
		goto fail;
	}
	n = json_array_size(arr);
	l->items = calloc(n + 1, sizeof(*l->items));
	if (l->items == NULL) {
		kp_errf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		json_t *o = json_array_get(arr, i), *t;
		struct kp_zk_tp *tp = &l->items[i];

		if (!json_is_object(o)) {
			kp_errf(err, errlen, "partition entry %zu is not an object", i);
			goto fail;
		}
		t = json_object_get(o, "topic");
		if (!json_is_string(t)) {
			kp_errf(err, errlen, "partition entry %zu has no topic", i);
			goto fail;
		}
		tp->topic = strdup(json_string_value(t));
		l->n++;
		if (tp->topic == NULL ||
		    get_int32(o, "partition", true, 0, &tp->partition, err, errlen))
			goto fail;
		if (tp->partition < 0) {
			kp_errf(err, errlen, "negative partition in entry %zu", i);
			goto fail;
		}
		if (with_replicas &&
		    get_replicas(json_object_get(o, "replicas"), &tp->replicas,
				 "replicas", err, errlen))
			goto fail;
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	kp_zk_tp_list_free(l);
	return -1;
}

void kp_zk_tp_list_free(struct kp_zk_tp_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].topic);
		kp_replicas_free(&l->items[i].replicas);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}
