/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_acl.c - the ACL store, matcher and ZooKeeper layout; see kp_acl.h.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "kp_acl.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_zk.h"

#define ACL_ROOT "/kafka-acl"
#define ACL_EXT_ROOT "/kafka-acl-extended"
#define ACL_PREFIXED_ROOT "/kafka-acl-extended/prefixed"
#define ACL_CHANGES "/kafka-acl-changes"
#define ACL_EXT_CHANGES "/kafka-acl-extended-changes"
#define CHANGE_PREFIX "acl_changes_"
/* ZkNodeChangeNotificationListener.changeExpirationMs */
#define CHANGE_EXPIRATION_MS (15 * 60 * 1000)
#define STORE_BUCKETS 4096
#define KP_AUTHZ_LOG_SLOTS 1024
#define LOG_PERIOD_MS 60000

/* ------------------------------------------------------------- names */

static const char *const rtype_names[KP_ACL_RT_MAX] = {
	"Unknown", "Any", "Topic", "Group", "Cluster", "TransactionalId",
	"DelegationToken",
};
static const char *const op_names[KP_ACL_OP_MAX] = {
	"Unknown", "Any", "All", "Read", "Write", "Create", "Delete", "Alter",
	"Describe", "ClusterAction", "DescribeConfigs", "AlterConfigs",
	"IdempotentWrite",
};
static const char *const perm_names[] = { "Unknown", "Any", "Deny", "Allow" };
static const char *const pattern_names[] = { "Unknown", "Any", "Match", "Literal",
					     "Prefixed" };

const char *kp_acl_rtype_name(int t)
{
	return t > KP_ACL_RT_ANY && t < KP_ACL_RT_MAX ? rtype_names[t] : NULL;
}

const char *kp_acl_op_name(int op)
{
	return op >= KP_ACL_OP_ALL && op < KP_ACL_OP_MAX ? op_names[op] : NULL;
}

const char *kp_acl_perm_name(int p)
{
	return p == KP_ACL_PERM_DENY || p == KP_ACL_PERM_ALLOW ? perm_names[p] : NULL;
}

const char *kp_acl_pattern_name(int p)
{
	return p >= KP_ACL_PT_ANY && p <= KP_ACL_PT_PREFIXED ? pattern_names[p] : NULL;
}

/* a equals b ignoring case and any '_' or '-' in a. */
static bool name_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a == '_' || *a == '-')
			a++;
		if (*a == '\0' || *b == '\0')
			return *a == *b;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
		a++;
		b++;
	}
}

static int parse_in(const char *s, const char *const *names, int n, int from)
{
	if (s == NULL)
		return 0;
	for (int i = from; i < n; i++)
		if (name_eq(s, names[i]))
			return i;
	return 0;
}

int kp_acl_rtype_parse(const char *s)
{
	return parse_in(s, rtype_names, KP_ACL_RT_MAX, 1);
}

int kp_acl_op_parse(const char *s)
{
	return parse_in(s, op_names, KP_ACL_OP_MAX, 1);
}

int kp_acl_perm_parse(const char *s)
{
	return parse_in(s, perm_names, 4, 1);
}

int kp_acl_pattern_parse(const char *s)
{
	return parse_in(s, pattern_names, 5, 1);
}

int16_t kp_acl_denied_error(int rtype)
{
	switch (rtype) {
	case KP_ACL_RT_TOPIC:
		return KP_ERR_TOPIC_AUTHORIZATION_FAILED;
	case KP_ACL_RT_GROUP:
		return KP_ERR_GROUP_AUTHORIZATION_FAILED;
	case KP_ACL_RT_TXN_ID:
		return KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
	case KP_ACL_RT_DELEGATION_TOKEN:
		return KP_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED;
	default:
		return KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
	}
}

void kp_acl_principal(const char *user, char *out, size_t outlen)
{
	snprintf(out, outlen, "User:%s", user != NULL && *user ? user : "ANONYMOUS");
}

/* ----------------------------------------------------------- filters */

bool kp_acl_filter_matches_res(const struct kp_acl_filter *f, const struct kp_acl_res *r)
{
	if (f->rtype != KP_ACL_RT_ANY && f->rtype != r->rtype)
		return false;
	if (f->pattern != KP_ACL_PT_ANY && f->pattern != KP_ACL_PT_MATCH &&
	    f->pattern != r->pattern)
		return false;
	if (f->name == NULL)
		return true;
	if (f->pattern == r->pattern)
		return strcmp(f->name, r->name) == 0;
	if (f->pattern != KP_ACL_PT_MATCH)
		return strcmp(f->name, r->name) == 0;
	if (r->pattern == KP_ACL_PT_LITERAL)
		return strcmp(f->name, r->name) == 0 || strcmp(r->name, KP_ACL_WILDCARD) == 0;
	if (r->pattern == KP_ACL_PT_PREFIXED)
		return strncmp(f->name, r->name, strlen(r->name)) == 0;
	return false;
}

bool kp_acl_filter_matches_entry(const struct kp_acl_filter *f,
				 const struct kp_acl_entry *e)
{
	if (f->principal != NULL && strcmp(f->principal, e->principal) != 0)
		return false;
	if (f->host != NULL && strcmp(f->host, e->host) != 0)
		return false;
	if (f->op != KP_ACL_OP_ANY && f->op != e->op)
		return false;
	return f->perm == KP_ACL_PERM_ANY || f->perm == e->perm;
}

bool kp_acl_filter_exact(const struct kp_acl_filter *f)
{
	return f->rtype > KP_ACL_RT_ANY && f->rtype < KP_ACL_RT_MAX &&
	       (f->pattern == KP_ACL_PT_LITERAL || f->pattern == KP_ACL_PT_PREFIXED) &&
	       f->name != NULL;
}

/* -------------------------------------------------------------- JSON */

void kp_acl_entries_free(struct kp_acl_entry *v, size_t n)
{
	for (size_t i = 0; i < n && v != NULL; i++) {
		free(v[i].principal);
		free(v[i].host);
	}
	free(v);
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *x = json_object_get(o, key);

	return json_is_string(x) ? json_string_value(x) : NULL;
}

int kp_acl_json_decode(const char *json, size_t len, struct kp_acl_entry **vp,
		       size_t *np, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *acls;
	struct kp_acl_entry *v;
	size_t n;

	*vp = NULL;
	*np = 0;
	if (json == NULL || len == 0)
		return 0;
	root = json_loadb(json, len, 0, &je);
	if (root == NULL || !json_is_object(root)) {
		snprintf(err, errlen, "ACL JSON: %s", root == NULL ? je.text : "not an object");
		json_decref(root);
		return -1;
	}
	if (!json_is_integer(json_object_get(root, "version")) ||
	    json_integer_value(json_object_get(root, "version")) != 1) {
		snprintf(err, errlen, "ACL JSON: version is not 1");
		json_decref(root);
		return -1;
	}
	acls = json_object_get(root, "acls");
	if (!json_is_array(acls)) {
		snprintf(err, errlen, "ACL JSON: no acls array");
		json_decref(root);
		return -1;
	}
	n = json_array_size(acls);
	v = calloc(n + 1, sizeof(*v));
	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		json_decref(root);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_array_get(acls, i);
		const char *pr = jstr(a, "principal"), *h = jstr(a, "host");
		int op = kp_acl_op_parse(jstr(a, "operation"));
		int pm = kp_acl_perm_parse(jstr(a, "permissionType"));

		if (pr == NULL || h == NULL || op < KP_ACL_OP_ALL ||
		    (pm != KP_ACL_PERM_ALLOW && pm != KP_ACL_PERM_DENY) ||
		    strchr(pr, ':') == NULL) {
			snprintf(err, errlen, "ACL JSON: entry %zu is not an ACL", i);
			kp_acl_entries_free(v, i);
			json_decref(root);
			return -1;
		}
		v[i].principal = strdup(pr);
		v[i].host = strdup(h);
		v[i].op = (uint8_t)op;
		v[i].perm = (uint8_t)pm;
		if (v[i].principal == NULL || v[i].host == NULL) {
			snprintf(err, errlen, "out of memory");
			kp_acl_entries_free(v, i + 1);
			json_decref(root);
			return -1;
		}
	}
	json_decref(root);
	*vp = v;
	*np = n;
	return 0;
}

char *kp_acl_json_encode(const struct kp_acl_entry *v, size_t n)
{
	json_t *root = json_object(), *acls = json_array();
	char *s;

	if (root == NULL || acls == NULL) {
		json_decref(root);
		json_decref(acls);
		return NULL;
	}
	/* Kafka's key order: version, acls; principal, permissionType,
	 * operation, host */
	json_object_set_new(root, "version", json_integer(1));
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_object();

		json_object_set_new(a, "principal", json_string(v[i].principal));
		json_object_set_new(a, "permissionType",
				    json_string(kp_acl_perm_name(v[i].perm)));
		json_object_set_new(a, "operation", json_string(kp_acl_op_name(v[i].op)));
		json_object_set_new(a, "host", json_string(v[i].host));
		json_array_append_new(acls, a);
	}
	json_object_set_new(root, "acls", acls);
	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	return s;
}

int kp_acl_znode(const struct kp_acl_res *r, char *out, size_t outlen)
{
	const char *t = kp_acl_rtype_name(r->rtype);
	int n;

	if (t == NULL || r->name == NULL || r->name[0] == '\0' || strchr(r->name, '/') ||
	    strcmp(r->name, ".") == 0 || strcmp(r->name, "..") == 0)
		return -1;
	if (r->pattern == KP_ACL_PT_LITERAL)
		n = snprintf(out, outlen, ACL_ROOT "/%s/%s", t, r->name);
	else if (r->pattern == KP_ACL_PT_PREFIXED)
		n = snprintf(out, outlen, ACL_PREFIXED_ROOT "/%s/%s", t, r->name);
	else
		return -1;
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* The Java enum's name: TOPIC, TRANSACTIONAL_ID, ... */
static void enum_name(const char *camel, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; camel[i] != '\0' && o + 2 < outlen; i++) {
		if (i > 0 && isupper((unsigned char)camel[i]))
			out[o++] = '_';
		out[o++] = (char)toupper((unsigned char)camel[i]);
	}
	out[o] = '\0';
}

int kp_acl_change_encode(const struct kp_acl_res *r, const char **path, char **data)
{
	char t[64], p[64];

	enum_name(kp_acl_rtype_name(r->rtype), t, sizeof(t));
	if (r->pattern == KP_ACL_PT_LITERAL) {
		size_t len = strlen(t) + 1 + strlen(r->name) + 1;

		*path = ACL_CHANGES "/" CHANGE_PREFIX;
		*data = malloc(len);
		if (*data == NULL)
			return -1;
		snprintf(*data, len, "%s:%s", t, r->name);
		return 0;
	}
	{
		json_t *o = json_object();

		enum_name(kp_acl_pattern_name(r->pattern), p, sizeof(p));
		*path = ACL_EXT_CHANGES "/" CHANGE_PREFIX;
		if (o == NULL)
			return -1;
		json_object_set_new(o, "version", json_integer(1));
		json_object_set_new(o, "resourceType", json_string(t));
		json_object_set_new(o, "name", json_string(r->name));
		json_object_set_new(o, "patternType", json_string(p));
		*data = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		return *data != NULL ? 0 : -1;
	}
}

int kp_acl_change_decode(bool extended, const char *data, size_t len, uint8_t *rtype,
			 uint8_t *pattern, char **name)
{
	*name = NULL;
	if (data == NULL)
		return -1;
	if (!extended) {
		const char *c = memchr(data, ':', len);
		char t[64];

		if (c == NULL || (size_t)(c - data) >= sizeof(t))
			return -1;
		memcpy(t, data, (size_t)(c - data));
		t[c - data] = '\0';
		*rtype = (uint8_t)kp_acl_rtype_parse(t);
		*pattern = KP_ACL_PT_LITERAL;
		if (*rtype <= KP_ACL_RT_ANY)
			return -1;
		*name = strndup(c + 1, len - (size_t)(c - data) - 1);
		return *name != NULL ? 0 : -1;
	}
	{
		json_error_t je;
		json_t *o = json_loadb(data, len, 0, &je);
		const char *n = o != NULL ? jstr(o, "name") : NULL;

		if (n == NULL) {
			json_decref(o);
			return -1;
		}
		*rtype = (uint8_t)kp_acl_rtype_parse(jstr(o, "resourceType"));
		*pattern = (uint8_t)kp_acl_pattern_parse(jstr(o, "patternType"));
		if (*rtype <= KP_ACL_RT_ANY || *pattern != KP_ACL_PT_PREFIXED) {
			json_decref(o);
			return -1;
		}
		*name = strdup(n);
		json_decref(o);
		return *name != NULL ? 0 : -1;
	}
}

/* ------------------------------------------------------------- store */

struct res_node {
	struct res_node *next;		/* bucket chain */
	uint8_t rtype, pattern;
	char *name;
	size_t nlen;
	int32_t version;
	struct kp_acl_entry *v;
	size_t n;
};

struct kp_acl_store {
	pthread_rwlock_t lock;
	struct res_node *b[STORE_BUCKETS];
	size_t nprefixed[KP_ACL_RT_MAX];	/* prefixed patterns per type */
	size_t maxprefix[KP_ACL_RT_MAX];	/* their longest name */
	size_t entries;
};

static uint32_t res_hash(int rtype, int pattern, const char *name, size_t len)
{
	uint32_t h = 2166136261u ^ (uint32_t)(rtype * 31 + pattern);

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 16777619u;
	return h % STORE_BUCKETS;
}

static struct res_node *find(struct kp_acl_store *s, int rtype, int pattern,
			     const char *name, size_t len)
{
	struct res_node *x = s->b[res_hash(rtype, pattern, name, len)];

	for (; x != NULL; x = x->next)
		if (x->rtype == rtype && x->pattern == pattern && x->nlen == len &&
		    memcmp(x->name, name, len) == 0)
			return x;
	return NULL;
}

struct kp_acl_store *kp_acl_store_new(void)
{
	struct kp_acl_store *s = calloc(1, sizeof(*s));

	if (s != NULL && pthread_rwlock_init(&s->lock, NULL) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

static void node_free(struct res_node *x)
{
	kp_acl_entries_free(x->v, x->n);
	free(x->name);
	free(x);
}

static void clear_locked(struct kp_acl_store *s)
{
	for (size_t i = 0; i < STORE_BUCKETS; i++) {
		while (s->b[i] != NULL) {
			struct res_node *x = s->b[i];

			s->b[i] = x->next;
			node_free(x);
		}
	}
	memset(s->nprefixed, 0, sizeof(s->nprefixed));
	memset(s->maxprefix, 0, sizeof(s->maxprefix));
	s->entries = 0;
}

void kp_acl_store_free(struct kp_acl_store *s)
{
	if (s == NULL)
		return;
	clear_locked(s);
	pthread_rwlock_destroy(&s->lock);
	free(s);
}

void kp_acl_store_swap(struct kp_acl_store *a, struct kp_acl_store *b)
{
	struct kp_acl_store tmp;

	pthread_rwlock_wrlock(&a->lock);
	pthread_rwlock_wrlock(&b->lock);
	memcpy(tmp.b, a->b, sizeof(tmp.b));
	memcpy(a->b, b->b, sizeof(a->b));
	memcpy(b->b, tmp.b, sizeof(b->b));
	memcpy(tmp.nprefixed, a->nprefixed, sizeof(tmp.nprefixed));
	memcpy(a->nprefixed, b->nprefixed, sizeof(a->nprefixed));
	memcpy(b->nprefixed, tmp.nprefixed, sizeof(b->nprefixed));
	memcpy(tmp.maxprefix, a->maxprefix, sizeof(tmp.maxprefix));
	memcpy(a->maxprefix, b->maxprefix, sizeof(a->maxprefix));
	memcpy(b->maxprefix, tmp.maxprefix, sizeof(b->maxprefix));
	tmp.entries = a->entries;
	a->entries = b->entries;
	b->entries = tmp.entries;
	pthread_rwlock_unlock(&b->lock);
	pthread_rwlock_unlock(&a->lock);
}

void kp_acl_store_clear(struct kp_acl_store *s)
{
	pthread_rwlock_wrlock(&s->lock);
	clear_locked(s);
	pthread_rwlock_unlock(&s->lock);
}

size_t kp_acl_store_count(struct kp_acl_store *s)
{
	size_t n;

	pthread_rwlock_rdlock(&s->lock);
	n = s->entries;
	pthread_rwlock_unlock(&s->lock);
	return n;
}

int kp_acl_store_set(struct kp_acl_store *s, const struct kp_acl_res *r,
		     struct kp_acl_entry *v, size_t n, int32_t version)
{
	size_t len = strlen(r->name);
	uint32_t h = res_hash(r->rtype, r->pattern, r->name, len);
	struct res_node *x, **pp;
	char *name = NULL;

	if (r->rtype >= KP_ACL_RT_MAX) {
		kp_acl_entries_free(v, n);
		return -1;
	}
	if (n > 0 && (name = strdup(r->name)) == NULL) {
		kp_acl_entries_free(v, n);
		return -1;
	}
	pthread_rwlock_wrlock(&s->lock);
	for (pp = &s->b[h]; (x = *pp) != NULL; pp = &x->next)
		if (x->rtype == r->rtype && x->pattern == r->pattern && x->nlen == len &&
		    memcmp(x->name, r->name, len) == 0)
			break;
	if (x != NULL) {
		s->entries -= x->n;
		if (n == 0) {
			*pp = x->next;
			if (x->pattern == KP_ACL_PT_PREFIXED)
				s->nprefixed[x->rtype]--;
			node_free(x);
		} else {
			kp_acl_entries_free(x->v, x->n);
			x->v = v;
			x->n = n;
			x->version = version;
			s->entries += n;
		}
		pthread_rwlock_unlock(&s->lock);
		free(name);
		if (n == 0)
			kp_acl_entries_free(v, 0);
		return 0;
	}
	if (n == 0) {
		pthread_rwlock_unlock(&s->lock);
		kp_acl_entries_free(v, 0);
		return 0;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		pthread_rwlock_unlock(&s->lock);
		free(name);
		kp_acl_entries_free(v, n);
		return -1;
	}
	x->rtype = r->rtype;
	x->pattern = r->pattern;
	x->name = name;
	x->nlen = len;
	x->version = version;
	x->v = v;
	x->n = n;
	x->next = s->b[h];
	s->b[h] = x;
	s->entries += n;
	if (x->pattern == KP_ACL_PT_PREFIXED) {
		s->nprefixed[x->rtype]++;
		if (len > s->maxprefix[x->rtype])
			s->maxprefix[x->rtype] = len;
	}
	pthread_rwlock_unlock(&s->lock);
	return 0;
}

void kp_acl_store_each(struct kp_acl_store *s, const struct kp_acl_filter *f,
		       void (*fn)(const struct kp_acl_res *r, const struct kp_acl_entry *e,
				  void *arg),
		       void *arg)
{
	pthread_rwlock_rdlock(&s->lock);
	for (size_t i = 0; i < STORE_BUCKETS; i++) {
		for (struct res_node *x = s->b[i]; x != NULL; x = x->next) {
			struct kp_acl_res r = { x->rtype, x->pattern, x->name };

			if (!kp_acl_filter_matches_res(f, &r))
				continue;
			for (size_t k = 0; k < x->n; k++)
				if (kp_acl_filter_matches_entry(f, &x->v[k]))
					fn(&r, &x->v[k], arg);
		}
	}
	pthread_rwlock_unlock(&s->lock);
}

/* -------------------------------------------------------- authorizer */

struct kp_authz_logged {
	uint64_t key;
	int64_t at_ms;
};

int kp_authz_class(const char *name)
{
	if (name == NULL || name[0] == '\0')
		return 0;
	if (strcmp(name, "kafka.security.authorizer.AclAuthorizer") == 0 ||
	    strcmp(name, "kafka.security.auth.SimpleAclAuthorizer") == 0 ||
	    strcmp(name, "acl") == 0)
		return 1;
	return -1;
}

static char *trim_dup(const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	return strndup(s, len);
}

int kp_authz_init(struct kp_authz *a, const char *super_users, bool allow_if_none,
		  char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->allow_if_none = allow_if_none;
	a->store = kp_acl_store_new();
	a->logged = calloc(KP_AUTHZ_LOG_SLOTS, sizeof(*a->logged));
	if (a->store == NULL || a->logged == NULL ||
	    pthread_mutex_init(&a->log_lock, NULL) != 0) {
		kp_acl_store_free(a->store);
		free(a->logged);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* super.users: "User:a;User:b", as Kafka splits it */
	for (const char *p = super_users != NULL ? super_users : ""; *p != '\0';) {
		const char *e = strchr(p, ';');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
		char *u = trim_dup(p, len), **nv;

		if (u == NULL) {
			kp_authz_destroy(a);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (u[0] == '\0') {
			free(u);
		} else if (strchr(u, ':') == NULL || strchr(u, ':') == u) {
			snprintf(err, errlen, "super.users: \"%s\" is not a principal "
				 "(User:<name>)", u);
			free(u);
			kp_authz_destroy(a);
			return -1;
		} else {
			nv = realloc(a->super_users, (a->nsuper + 1) * sizeof(*nv));
			if (nv == NULL) {
				free(u);
				kp_authz_destroy(a);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			a->super_users = nv;
			a->super_users[a->nsuper++] = u;
		}
		p += len;
		if (*p == ';')
			p++;
	}
	return 0;
}

void kp_authz_destroy(struct kp_authz *a)
{
	for (size_t i = 0; i < a->nsuper; i++)
		free(a->super_users[i]);
	free(a->super_users);
	if (a->store != NULL) {
		kp_acl_store_free(a->store);
		pthread_mutex_destroy(&a->log_lock);
	}
	free(a->logged);
	memset(a, 0, sizeof(*a));
}

/* The verdict of one pattern's entries, accumulated. */
struct verdict {
	bool any, deny, allow;
};

static bool allows(int acl_op, int op)
{
	if (acl_op == KP_ACL_OP_ALL || acl_op == op)
		return true;
	if (op == KP_ACL_OP_DESCRIBE)
		return acl_op == KP_ACL_OP_READ || acl_op == KP_ACL_OP_WRITE ||
		       acl_op == KP_ACL_OP_DELETE || acl_op == KP_ACL_OP_ALTER;
	if (op == KP_ACL_OP_DESCRIBE_CONFIGS)
		return acl_op == KP_ACL_OP_ALTER_CONFIGS;
	return false;
}

static void judge(const struct res_node *x, const char *principal, const char *host,
		  int op, struct verdict *v)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < x->n; i++) {
		const struct kp_acl_entry *e = &x->v[i];

		v->any = true;
		if (strcmp(e->principal, principal) != 0 &&
		    strcmp(e->principal, "User:*") != 0)
			continue;
		if (strcmp(e->host, KP_ACL_WILDCARD) != 0 &&
		    (host == NULL || strcmp(e->host, host) != 0))
			continue;
		if (e->perm == KP_ACL_PERM_DENY &&
		    (e->op == op || e->op == KP_ACL_OP_ALL))
			v->deny = true;
		else if (e->perm == KP_ACL_PERM_ALLOW && allows(e->op, op))
			v->allow = true;
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_denied(struct kp_authz *a, const char *principal, const char *host,
		       int op, int rtype, const char *name)
{
	uint64_t k = 1469598103934665603ull;
	const char *parts[] = { principal, name };
	struct kp_authz_logged *slot;
	int64_t now = now_ms();
	bool due;

	for (size_t p = 0; p < 2; p++) {
		for (const char *c = parts[p]; *c != '\0'; c++)
			k = (k ^ (uint8_t)*c) * 1099511628211ull;
		k = (k ^ 0xff) * 1099511628211ull;
	}
	k = (k ^ (uint64_t)(op * 16 + rtype)) * 1099511628211ull;
	pthread_mutex_lock(&a->log_lock);
	slot = &a->logged[k % KP_AUTHZ_LOG_SLOTS];
	due = slot->key != k || now - slot->at_ms >= LOG_PERIOD_MS;
	if (due) {
		slot->key = k;
		slot->at_ms = now;
	}
	pthread_mutex_unlock(&a->log_lock);
	if (due)
		KP_INFO("Principal = %s is Denied Operation = %s from host = %s on "
			"resource = %s:LITERAL:%s (logged once a minute)", principal,
			kp_acl_op_name(op), host != NULL ? host : "?",
			kp_acl_rtype_name(rtype), name);
}

static bool is_super(const struct kp_authz *a, const char *principal)
{
	for (size_t i = 0; i < a->nsuper; i++)
		if (strcmp(a->super_users[i], principal) == 0 ||
		    strcmp(a->super_users[i], "User:*") == 0)
			return true;
	return false;
}

bool kp_authz_check(struct kp_authz *a, const char *principal, const char *host,
		    int op, int rtype, const char *name, bool log)
{
	struct kp_acl_store *s = a->store;
	struct verdict v = { false, false, false };
	size_t len = strlen(name);
	bool ok;

	if (is_super(a, principal))
		return true;
	pthread_rwlock_rdlock(&s->lock);
	judge(find(s, rtype, KP_ACL_PT_LITERAL, name, len), principal, host, op, &v);
	judge(find(s, rtype, KP_ACL_PT_LITERAL, KP_ACL_WILDCARD, 1), principal, host, op, &v);
	if (rtype > 0 && rtype < KP_ACL_RT_MAX && s->nprefixed[rtype] > 0) {
		size_t max = s->maxprefix[rtype] < len ? s->maxprefix[rtype] : len;

		for (size_t l = 1; l <= max; l++)
			judge(find(s, rtype, KP_ACL_PT_PREFIXED, name, l), principal, host,
			      op, &v);
	}
	pthread_rwlock_unlock(&s->lock);
	if (!v.any)
		ok = a->allow_if_none;
	else
		ok = !v.deny && v.allow;
	if (!ok && log)
		log_denied(a, principal, host, op, rtype, name);
	return ok;
}

bool kp_authz_check_any(struct kp_authz *a, const char *principal, const char *host,
			int op, int rtype)
{
	struct kp_acl_store *s = a->store;
	bool allowed = false, denied_all = false;

	if (is_super(a, principal))
		return true;
	pthread_rwlock_rdlock(&s->lock);
	for (size_t i = 0; i < STORE_BUCKETS && !denied_all; i++) {
		for (struct res_node *x = s->b[i]; x != NULL; x = x->next) {
			struct verdict v = { false, false, false };

			if (x->rtype != rtype)
				continue;
			judge(x, principal, host, op, &v);
			/* a deny of "*" or of the empty prefix covers all */
			if (v.deny && ((x->pattern == KP_ACL_PT_LITERAL &&
					strcmp(x->name, KP_ACL_WILDCARD) == 0)))
				denied_all = true;
			else if (v.allow && !v.deny)
				allowed = true;
		}
	}
	pthread_rwlock_unlock(&s->lock);
	if (denied_all)
		return false;
	if (allowed)
		return true;
	/* no ACL of the type at all */
	return a->allow_if_none && s->entries == 0;
}

int32_t kp_acl_supported_ops(int rtype)
{
#define OPBIT(op) ((int32_t)1 << KP_ACL_OP_##op)
	switch (rtype) {
	case KP_ACL_RT_TOPIC:
		return OPBIT(READ) | OPBIT(WRITE) | OPBIT(CREATE) | OPBIT(DESCRIBE) |
		       OPBIT(DELETE) | OPBIT(ALTER) | OPBIT(DESCRIBE_CONFIGS) |
		       OPBIT(ALTER_CONFIGS);
	case KP_ACL_RT_GROUP:
		return OPBIT(READ) | OPBIT(DESCRIBE) | OPBIT(DELETE);
	case KP_ACL_RT_CLUSTER:
		return OPBIT(CREATE) | OPBIT(CLUSTER_ACTION) | OPBIT(DESCRIBE_CONFIGS) |
		       OPBIT(ALTER_CONFIGS) | OPBIT(IDEMPOTENT_WRITE) | OPBIT(ALTER) |
		       OPBIT(DESCRIBE);
	case KP_ACL_RT_TXN_ID:
		return OPBIT(DESCRIBE) | OPBIT(WRITE);
	case KP_ACL_RT_DELEGATION_TOKEN:
		return OPBIT(DESCRIBE);
	default:
		return 0;
	}
#undef OPBIT
}

int32_t kp_authz_operations(struct kp_authz *a, const char *principal, const char *host,
			    int rtype, const char *name)
{
	int32_t ops = kp_acl_supported_ops(rtype), out = 0;

	if (a == NULL)
		return ops;
	for (int op = 0; op < KP_ACL_OP_MAX; op++)
		if ((ops & ((int32_t)1 << op)) &&
		    kp_authz_check(a, principal, host, op, rtype, name, false))
			out |= (int32_t)1 << op;
	return out;
}

/* --------------------------------------------------------- ZooKeeper */

int kp_acl_zk_ensure(struct kp_zk *zk)
{
	static const char *const roots[] = { ACL_ROOT, ACL_PREFIXED_ROOT, ACL_CHANGES,
					     ACL_EXT_CHANGES };

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		int rc = kp_zk_ensure_path(zk, roots[i]);

		if (rc != KP_ZK_OK && rc != KP_ZK_NODEEXISTS)
			return rc;
	}
	return KP_ZK_OK;
}

/* Read one pattern's node: 0 with entries (none when the node is
 * missing, *version -1), or a negative code. */
static int read_res(struct kp_zk *zk, const struct kp_acl_res *r, struct kp_acl_entry **v,
		    size_t *n, int32_t *version, char *err, size_t errlen)
{
	char path[KP_ACL_NAME_MAX + 128];
	struct kp_zk_result res;
	int rc;

	*v = NULL;
	*n = 0;
	*version = -1;
	if (kp_acl_znode(r, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "not a storable resource pattern");
		return -1;
	}
	rc = kp_zk_get_sync(zk, path, &res);
	if (rc == KP_ZK_NONODE) {
		kp_zk_result_free(&res);
		return 0;
	}
	if (rc != KP_ZK_OK) {
		snprintf(err, errlen, "reading %s: %s", path, kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return rc;
	}
	*version = res.stat.version;
	if (kp_acl_json_decode(res.data, res.data != NULL ? (size_t)res.len : 0, v, n,
			       err, errlen) < 0) {
		kp_zk_result_free(&res);
		return -1;
	}
	kp_zk_result_free(&res);
	return 0;
}

int kp_acl_zk_reload(struct kp_zk *zk, struct kp_acl_store *s, const struct kp_acl_res *r)
{
	struct kp_acl_entry *v;
	size_t n;
	int32_t version;
	char err[256];

	if (read_res(zk, r, &v, &n, &version, err, sizeof(err)) != 0) {
		KP_WARN("ACLs of %s %s: %s", kp_acl_rtype_name(r->rtype), r->name, err);
		return -1;
	}
	return kp_acl_store_set(s, r, v, n, version);
}

int kp_acl_zk_load(struct kp_zk *zk, struct kp_acl_store *dst, char *err, size_t errlen)
{
	static const struct {
		const char *root;
		uint8_t pattern;
	} roots[] = { { ACL_ROOT, KP_ACL_PT_LITERAL }, { ACL_PREFIXED_ROOT, KP_ACL_PT_PREFIXED } };
	/* loaded aside, then swapped in: checks never see a partial store */
	struct kp_acl_store *s = kp_acl_store_new();

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < 2; i++) {
		struct kp_zk_result types;
		int rc = kp_zk_children_sync(zk, roots[i].root, &types);

		if (rc == KP_ZK_NONODE) {
			kp_zk_result_free(&types);
			continue;
		}
		if (rc != KP_ZK_OK) {
			snprintf(err, errlen, "listing %s: %s", roots[i].root, kp_zk_strerror(rc));
			kp_zk_result_free(&types);
			kp_acl_store_free(s);
			return -1;
		}
		for (int32_t t = 0; t < types.nchildren; t++) {
			int rtype = kp_acl_rtype_parse(types.children[t]);
			struct kp_zk_result names;
			char path[512];

			if (rtype <= KP_ACL_RT_ANY)
				continue;
			snprintf(path, sizeof(path), "%s/%s", roots[i].root, types.children[t]);
			rc = kp_zk_children_sync(zk, path, &names);
			if (rc != KP_ZK_OK) {
				kp_zk_result_free(&names);
				continue;
			}
			for (int32_t k = 0; k < names.nchildren; k++) {
				struct kp_acl_res r = { (uint8_t)rtype, roots[i].pattern,
							names.children[k] };

				kp_acl_zk_reload(zk, s, &r);
			}
			kp_zk_result_free(&names);
		}
		kp_zk_result_free(&types);
	}
	kp_acl_store_swap(dst, s);
	kp_acl_store_free(s);
	return 0;
}

static int write_change(struct kp_zk *zk, const struct kp_acl_res *r, char *err,
			size_t errlen)
{
	const char *path;
	char *data;
	int rc;

	if (kp_acl_change_encode(r, &path, &data) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = kp_zk_create_sync(zk, path, data, (int32_t)strlen(data),
			       KP_ZK_PERSISTENT_SEQUENTIAL, NULL);
	if (rc == KP_ZK_NONODE) {
		char parent[64];

		snprintf(parent, sizeof(parent), "%.*s", (int)(strrchr(path, '/') - path),
			 path);
		kp_zk_ensure_path(zk, parent);
		rc = kp_zk_create_sync(zk, path, data, (int32_t)strlen(data),
				       KP_ZK_PERSISTENT_SEQUENTIAL, NULL);
	}
	free(data);
	if (rc != KP_ZK_OK)
		snprintf(err, errlen, "writing the ACL change notification: %s",
			 kp_zk_strerror(rc));
	return rc;
}

static bool same_entry(const struct kp_acl_entry *a, const struct kp_acl_entry *b)
{
	return a->op == b->op && a->perm == b->perm && strcmp(a->principal, b->principal) == 0 &&
	       strcmp(a->host, b->host) == 0;
}

/* Write the new entry set of r at version (-1: the node is missing), a
 * conditional write.  0, KP_ZK_BADVERSION / KP_ZK_NODEEXISTS / KP_ZK_NONODE
 * (lost a race: read again), or another code. */
static int write_res(struct kp_zk *zk, const struct kp_acl_res *r,
		     const struct kp_acl_entry *v, size_t n, int32_t version)
{
	char path[KP_ACL_NAME_MAX + 128];
	char *json;
	int rc;

	if (kp_acl_znode(r, path, sizeof(path)) < 0)
		return -1;
	if (n == 0)
		return version < 0 ? KP_ZK_OK : kp_zk_delete_sync(zk, path, version);
	json = kp_acl_json_encode(v, n);
	if (json == NULL)
		return -1;
	if (version >= 0) {
		rc = kp_zk_set_sync(zk, path, json, (int32_t)strlen(json), version, NULL);
	} else {
		rc = kp_zk_create_sync(zk, path, json, (int32_t)strlen(json),
				       KP_ZK_PERSISTENT, NULL);
		if (rc == KP_ZK_NONODE) {
			char parent[KP_ACL_NAME_MAX + 128];

			snprintf(parent, sizeof(parent), "%.*s",
				 (int)(strrchr(path, '/') - path), path);
			kp_zk_ensure_path(zk, parent);
			rc = kp_zk_create_sync(zk, path, json, (int32_t)strlen(json),
					       KP_ZK_PERSISTENT, NULL);
		}
	}
	free(json);
	return rc;
}

static bool lost_race(int rc)
{
	return rc == KP_ZK_BADVERSION || rc == KP_ZK_NODEEXISTS || rc == KP_ZK_NONODE;
}

int kp_acl_zk_add(struct kp_zk *zk, const struct kp_acl_res *r,
		  const struct kp_acl_entry *add, size_t nadd, char *err, size_t errlen)
{
	for (int attempt = 0; attempt < 50; attempt++) {
		struct kp_acl_entry *v, *nv;
		size_t n, m;
		int32_t version;
		int rc = read_res(zk, r, &v, &n, &version, err, errlen);
		bool changed = false;

		if (rc != 0)
			return rc < 0 ? rc : -1;
		nv = calloc(n + nadd + 1, sizeof(*nv));
		if (nv == NULL) {
			kp_acl_entries_free(v, n);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (n > 0)
			memcpy(nv, v, n * sizeof(*nv));
		m = n;
		for (size_t i = 0; i < nadd; i++) {
			bool have = false;

			for (size_t k = 0; k < m && !have; k++)
				have = same_entry(&nv[k], &add[i]);
			if (!have) {
				nv[m++] = add[i];
				changed = true;
			}
		}
		rc = changed ? write_res(zk, r, nv, m, version) : KP_ZK_OK;
		/* nv borrows v's and add's strings: free only v's */
		free(nv);
		kp_acl_entries_free(v, n);
		if (lost_race(rc))
			continue;
		if (rc != KP_ZK_OK) {
			snprintf(err, errlen, "writing ACLs: %s", kp_zk_strerror(rc));
			return rc;
		}
		return changed ? write_change(zk, r, err, errlen) : 0;
	}
	snprintf(err, errlen, "writing ACLs: too many concurrent changes");
	return -1;
}

int kp_acl_zk_remove(struct kp_zk *zk, const struct kp_acl_res *r,
		     const struct kp_acl_filter *f,
		     void (*fn)(const struct kp_acl_res *r, const struct kp_acl_entry *e,
				void *arg),
		     void *arg, char *err, size_t errlen)
{
	for (int attempt = 0; attempt < 50; attempt++) {
		struct kp_acl_entry *v, *keep;
		size_t n, m = 0;
		int32_t version;
		int rc = read_res(zk, r, &v, &n, &version, err, errlen);

		if (rc != 0)
			return rc < 0 ? rc : -1;
		keep = calloc(n + 1, sizeof(*keep));
		if (keep == NULL) {
			kp_acl_entries_free(v, n);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			if (!kp_acl_filter_matches_entry(f, &v[i]))
				keep[m++] = v[i];
		rc = m != n ? write_res(zk, r, keep, m, version) : KP_ZK_OK;
		free(keep);
		if (lost_race(rc)) {
			kp_acl_entries_free(v, n);
			continue;
		}
		if (rc != KP_ZK_OK) {
			kp_acl_entries_free(v, n);
			snprintf(err, errlen, "writing ACLs: %s", kp_zk_strerror(rc));
			return rc;
		}
		for (size_t i = 0; fn != NULL && i < n; i++)
			if (kp_acl_filter_matches_entry(f, &v[i]))
				fn(r, &v[i], arg);
		kp_acl_entries_free(v, n);
		return m != n ? write_change(zk, r, err, errlen) : 0;
	}
	snprintf(err, errlen, "writing ACLs: too many concurrent changes");
	return -1;
}

static int64_t wall_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int kp_acl_zk_changes(struct kp_zk *zk, struct kp_acl_store *s, bool extended,
		      int64_t *last_seq, kp_zk_watch_fn watch, void *warg)
{
	const char *dir = extended ? ACL_EXT_CHANGES : ACL_CHANGES;
	size_t plen = strlen(CHANGE_PREFIX);
	struct kp_zk_result kids;
	int rc = kp_zk_read_watch_sync(zk, KP_ZK_READ_CHILDREN, dir, watch, warg, &kids);

	if (rc != KP_ZK_OK) {
		KP_WARN("listing %s: %s", dir, kp_zk_strerror(rc));
		kp_zk_result_free(&kids);
		return -1;
	}
	for (int32_t i = 0; i < kids.nchildren; i++) {
		const char *c = kids.children[i];
		struct kp_zk_result nr;
		char path[256], *end, *name;
		int64_t seq;
		uint8_t rtype, pattern;

		if (strncmp(c, CHANGE_PREFIX, plen) != 0)
			continue;
		errno = 0;
		seq = strtoll(c + plen, &end, 10);
		if (errno != 0 || *end != '\0')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, c);
		if (seq > *last_seq) {
			rc = kp_zk_get_sync(zk, path, &nr);
			if (rc == KP_ZK_OK &&
			    kp_acl_change_decode(extended, nr.data,
						 nr.data != NULL ? (size_t)nr.len : 0, &rtype,
						 &pattern, &name) == 0) {
				struct kp_acl_res r = { rtype, pattern, name };

				kp_acl_zk_reload(zk, s, &r);
				free(name);
			} else if (rc == KP_ZK_OK) {
				KP_WARN("%s: not an ACL change notification (ignored)", path);
			}
			kp_zk_result_free(&nr);
			*last_seq = seq;
		}
		/* expired notifications go, as Kafka's listener purges them */
		if (kp_zk_exists_sync(zk, path, &nr) == KP_ZK_OK && nr.has_stat &&
		    wall_ms() - nr.stat.ctime > CHANGE_EXPIRATION_MS)
			kp_zk_delete_sync(zk, path, -1);
		kp_zk_result_free(&nr);
	}
	kp_zk_result_free(&kids);
	return 0;
}
