/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_acl.c - DescribeAcls (29), CreateAcls (30), DeleteAcls (31).
 *
 * Without an authorizer they get Kafka's SECURITY_DISABLED ("No
 * Authorizer is configured on the broker").  With one (authz.h; the
 * dispatcher has already checked Describe or Alter on the cluster):
 * DescribeAcls answers from this broker's ACL cache, as Kafka's
 * AclAuthorizer.acls(filter); CreateAcls and DeleteAcls change the
 * ZooKeeper nodes on the ZooKeeper thread (kp_acl_zk_add/_remove:
 * conditional writes and a change notification every broker watches),
 * then reload the resources here so the answer's effect is visible on
 * this broker at once.  A creation for the cluster must name
 * kafka-cluster, a name must not be empty (INVALID_REQUEST), and the
 * values must be concrete (no ANY, MATCH or UNKNOWN).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "authz.h"
#include "broker.h"
#include "kp_acl.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "net.h"
#include "zk_thread.h"

#define COUNT(n) ((n) > 0 ? (n) : 0)
#define NO_AUTHORIZER "No Authorizer is configured on the broker."

/* A NUL-terminated copy in r's arena (NULL for a null string or OOM;
 * *oom says which). */
static char *cstr(struct net_req *r, kp_str s, bool *oom)
{
	char *p;

	if (s.ptr == NULL || s.len < 0)
		return NULL;
	p = kp_arena_alloc(&r->arena, (size_t)s.len + 1);
	if (p == NULL) {
		*oom = true;
		return NULL;
	}
	memcpy(p, s.ptr, (size_t)s.len);
	p[s.len] = '\0';
	return p;
}

static kp_str astr(struct net_req *r, const char *s)
{
	size_t n = strlen(s);
	char *p = kp_arena_alloc(&r->arena, n + 1);

	if (p == NULL)
		return kp_str_c("");
	memcpy(p, s, n + 1);
	return (kp_str){ p, (int32_t)n };
}

/* ------------------------------------------------------------ describe */

typedef struct kp_describe_acls_resp_describe_acls_resource res_t;
typedef struct kp_describe_acls_resp_acl_description desc_t;

struct collect {
	struct net_req *r;
	res_t *res;
	int32_t n, cap;
	bool oom;
};

static void collect_one(const struct kp_acl_res *rs, const struct kp_acl_entry *e, void *arg)
{
	struct collect *c = arg;
	struct net_req *r = c->r;
	res_t *x = NULL;
	desc_t *d;

	if (c->oom)
		return;
	for (int32_t i = 0; i < c->n; i++)
		if (c->res[i].resource_type == rs->rtype &&
		    c->res[i].pattern_type == rs->pattern &&
		    kp_str_eqc(c->res[i].resource_name, rs->name))
			x = &c->res[i];
	if (x == NULL) {
		if (c->n == c->cap) {
			int32_t cap = c->cap ? c->cap * 2 : 16;
			res_t *nv = kp_arena_calloc(&r->arena, (size_t)cap, sizeof(*nv));

			if (nv == NULL) {
				c->oom = true;
				return;
			}
			if (c->n > 0)
				memcpy(nv, c->res, (size_t)c->n * sizeof(*nv));
			c->res = nv;
			c->cap = cap;
		}
		x = &c->res[c->n++];
		kp_struct_init(&kp_describe_acls_resp_describe_acls_resource_desc, x);
		x->resource_type = (int8_t)rs->rtype;
		x->resource_name = astr(r, rs->name);
		x->pattern_type = (int8_t)rs->pattern;
		x->acls = NULL;
		x->acls_count = 0;
	}
	/* grow by one: a resource has few entries */
	d = kp_arena_calloc(&r->arena, (size_t)x->acls_count + 1, sizeof(*d));
	if (d == NULL) {
		c->oom = true;
		return;
	}
	if (x->acls_count > 0)
		memcpy(d, x->acls, (size_t)x->acls_count * sizeof(*d));
	kp_struct_init(&kp_describe_acls_resp_acl_description_desc, &d[x->acls_count]);
	d[x->acls_count].principal = astr(r, e->principal);
	d[x->acls_count].host = astr(r, e->host);
	d[x->acls_count].operation = (int8_t)e->op;
	d[x->acls_count].permission_type = (int8_t)e->perm;
	x->acls = d;
	x->acls_count++;
}

/* A filter's values checked as Kafka's request does: -1 with a message. */
static int filter_from(struct net_req *r, int8_t rt, kp_str name, int8_t pt, kp_str pr,
		       kp_str host, int8_t op, int8_t perm, struct kp_acl_filter *f,
		       const char **msg)
{
	bool oom = false;

	if (rt <= KP_ACL_RT_UNKNOWN || rt >= KP_ACL_RT_MAX ||
	    pt <= KP_ACL_PT_UNKNOWN || pt > KP_ACL_PT_PREFIXED ||
	    op <= KP_ACL_OP_UNKNOWN || op >= KP_ACL_OP_MAX ||
	    perm <= KP_ACL_PERM_UNKNOWN || perm > KP_ACL_PERM_ALLOW) {
		*msg = "The filter contains UNKNOWN elements";
		return -1;
	}
	f->rtype = (uint8_t)rt;
	f->pattern = (uint8_t)pt;
	f->op = (uint8_t)op;
	f->perm = (uint8_t)perm;
	f->name = cstr(r, name, &oom);
	f->principal = cstr(r, pr, &oom);
	f->host = cstr(r, host, &oom);
	if (oom) {
		*msg = "out of memory";
		return -1;
	}
	return 0;
}

void api_describe_acls(struct net_req *r)
{
	const struct kp_describe_acls_req *req = r->body;
	struct kp_describe_acls_resp resp;
	struct kp_authz *a = authz_get(r->worker->broker);
	struct kp_acl_filter f;
	struct collect c = { r, NULL, 0, 0, false };
	const char *msg;

	kp_struct_init(r->api->resp, &resp);
	if (a == NULL) {
		resp.error_code = KP_ERR_SECURITY_DISABLED;
		resp.error_message = kp_str_c("No Authorizer is configured on the broker");
		net_reply(r, &resp);
		return;
	}
	if (filter_from(r, req->resource_type_filter, req->resource_name_filter,
			r->h.api_version >= 1 ? req->pattern_type_filter : KP_ACL_PT_LITERAL,
			req->principal_filter, req->host_filter, req->operation,
			req->permission_type, &f, &msg) < 0) {
		resp.error_code = KP_ERR_INVALID_REQUEST;
		resp.error_message = kp_str_c(msg);
		net_reply(r, &resp);
		return;
	}
	kp_acl_store_each(a->store, &f, collect_one, &c);
	if (c.oom) {
		net_req_fail(r, "out of memory");
		return;
	}
	resp.resources = c.res;
	resp.resources_count = c.n;
	net_reply(r, &resp);
}

/* -------------------------------------------------------------- create */

struct acl_job {
	struct net_req *r;
	void *resp;
	bool oom;
};

static void job_done(void *arg, bool ran)
{
	struct acl_job *j = arg;

	if (!ran)
		net_req_fail(j->r, "the broker is stopping");
	else if (j->oom || j->resp == NULL)
		net_req_fail(j->r, "out of memory");
	else
		net_reply(j->r, j->resp);
}

static void start(struct net_req *r, void (*run)(void *))
{
	struct acl_job *j;

	if (net_req_detach(r) < 0 ||
	    (j = kp_arena_calloc(&r->arena, 1, sizeof(*j))) == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	j->r = r;
	zk_thread_call(r->worker->broker, r->worker->home, run, job_done, j);
}

typedef struct kp_create_acls_resp_acl_creation_result cres_t;

/* Check one creation; its pattern and entry (strings in the arena).
 * 0, or a Kafka error with a message. */
static kp_err_t creation(struct net_req *r,
			 const struct kp_create_acls_req_acl_creation *in,
			 struct kp_acl_res *res, struct kp_acl_entry *e, const char **msg)
{
	int8_t pt = r->h.api_version >= 1 ? in->resource_pattern_type : KP_ACL_PT_LITERAL;
	bool oom = false;
	char *name = cstr(r, in->resource_name, &oom);
	char *pr = cstr(r, in->principal, &oom);
	char *host = cstr(r, in->host, &oom);

	if (oom) {
		*msg = "out of memory";
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	if (in->resource_type <= KP_ACL_RT_ANY || in->resource_type >= KP_ACL_RT_MAX ||
	    (pt != KP_ACL_PT_LITERAL && pt != KP_ACL_PT_PREFIXED) ||
	    in->operation <= KP_ACL_OP_ANY || in->operation >= KP_ACL_OP_MAX ||
	    (in->permission_type != KP_ACL_PERM_ALLOW &&
	     in->permission_type != KP_ACL_PERM_DENY)) {
		*msg = "ACL binding contains unknown elements";
		return KP_ERR_INVALID_REQUEST;
	}
	if (pr == NULL || strchr(pr, ':') == NULL || strchr(pr, ':') == pr ||
	    host == NULL || host[0] == '\0') {
		*msg = "Invalid principal or host";
		return KP_ERR_INVALID_REQUEST;
	}
	if (in->resource_type == KP_ACL_RT_CLUSTER &&
	    (name == NULL || strcmp(name, KP_ACL_CLUSTER_NAME) != 0)) {
		*msg = "The only valid name for the CLUSTER resource is kafka-cluster";
		return KP_ERR_INVALID_REQUEST;
	}
	if (name == NULL || name[0] == '\0') {
		*msg = "Invalid empty resource name";
		return KP_ERR_INVALID_REQUEST;
	}
	res->rtype = (uint8_t)in->resource_type;
	res->pattern = (uint8_t)pt;
	res->name = name;
	{
		char path[KP_ACL_NAME_MAX + 128];

		if (kp_acl_znode(res, path, sizeof(path)) < 0) {
			*msg = "The resource name cannot be stored in ZooKeeper";
			return KP_ERR_INVALID_REQUEST;
		}
	}
	e->principal = pr;
	e->host = host;
	e->op = (uint8_t)in->operation;
	e->perm = (uint8_t)in->permission_type;
	return 0;
}

static void create_run(void *arg)
{
	struct acl_job *j = arg;
	struct net_req *r = j->r;
	struct broker *b = r->worker->broker;
	struct kp_authz *a = authz_get(b);
	const struct kp_create_acls_req *req = r->body;
	int32_t n = COUNT(req->creations_count);
	struct kp_create_acls_resp *resp = kp_arena_calloc(&r->arena, 1, sizeof(*resp));
	cres_t *res = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*res));

	if (resp == NULL || res == NULL) {
		j->oom = true;
		return;
	}
	kp_struct_init(r->api->resp, resp);
	for (int32_t i = 0; i < n; i++) {
		struct kp_acl_res rs;
		struct kp_acl_entry e;
		const char *msg = NULL;
		char err[512];
		kp_err_t ec;

		kp_struct_init(&kp_create_acls_resp_acl_creation_result_desc, &res[i]);
		ec = creation(r, &req->creations[i], &rs, &e, &msg);
		if (ec == 0 && kp_acl_zk_add(b->zk, &rs, &e, 1, err, sizeof(err)) != 0) {
			ec = KP_ERR_UNKNOWN_SERVER_ERROR;
			msg = err;
		}
		if (ec != 0) {
			res[i].error_code = ec;
			res[i].error_message = astr(r, msg);
			continue;
		}
		kp_acl_zk_reload(b->zk, a->store, &rs);
		KP_INFO("ACL added: %s %s %s from %s on %s:%s:%s", e.principal,
			kp_acl_perm_name(e.perm), kp_acl_op_name(e.op), e.host,
			kp_acl_rtype_name(rs.rtype), kp_acl_pattern_name(rs.pattern), rs.name);
	}
	resp->results = res;
	resp->results_count = n;
	j->resp = resp;
}

void api_create_acls(struct net_req *r)
{
	const struct kp_create_acls_req *req = r->body;
	struct kp_create_acls_resp resp;
	cres_t *res;

	if (authz_enabled(r->worker->broker)) {
		start(r, create_run);
		return;
	}
	res = kp_arena_calloc(&r->arena, (size_t)COUNT(req->creations_count) + 1, sizeof(*res));
	if (res == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	kp_struct_init(r->api->resp, &resp);
	for (int32_t i = 0; i < COUNT(req->creations_count); i++) {
		kp_struct_init(&kp_create_acls_resp_acl_creation_result_desc, &res[i]);
		res[i].error_code = KP_ERR_SECURITY_DISABLED;
		res[i].error_message = kp_str_c(NO_AUTHORIZER);
	}
	resp.results = res;
	resp.results_count = COUNT(req->creations_count);
	net_reply(r, &resp);
}

/* -------------------------------------------------------------- delete */

typedef struct kp_delete_acls_resp_delete_acls_filter_result fres_t;
typedef struct kp_delete_acls_resp_delete_acls_matching_acl match_t;

/* The patterns a filter touches: collected from the cache first, then
 * each rewritten in ZooKeeper (which decides what is really removed). */
struct pats {
	struct net_req *r;
	struct kp_acl_res *v;
	int32_t n, cap;
	bool oom;
};

static void pat_one(const struct kp_acl_res *rs, const struct kp_acl_entry *e, void *arg)
{
	struct pats *p = arg;
	bool oom = false;

	(void)e;
	if (p->oom)
		return;
	for (int32_t i = 0; i < p->n; i++)
		if (p->v[i].rtype == rs->rtype && p->v[i].pattern == rs->pattern &&
		    strcmp(p->v[i].name, rs->name) == 0)
			return;
	if (p->n == p->cap) {
		int32_t cap = p->cap ? p->cap * 2 : 16;
		struct kp_acl_res *nv = kp_arena_calloc(&p->r->arena, (size_t)cap, sizeof(*nv));

		if (nv == NULL) {
			p->oom = true;
			return;
		}
		if (p->n > 0)
			memcpy(nv, p->v, (size_t)p->n * sizeof(*nv));
		p->v = nv;
		p->cap = cap;
	}
	p->v[p->n] = *rs;
	p->v[p->n].name = cstr(p->r, (kp_str){ rs->name, (int32_t)strlen(rs->name) }, &oom);
	if (oom) {
		p->oom = true;
		return;
	}
	p->n++;
}

struct removed {
	struct net_req *r;
	fres_t *fr;
	bool oom;
};

static void removed_one(const struct kp_acl_res *rs, const struct kp_acl_entry *e, void *arg)
{
	struct removed *x = arg;
	struct net_req *r = x->r;
	match_t *m = kp_arena_calloc(&r->arena, (size_t)x->fr->matching_acls_count + 1,
				     sizeof(*m));

	if (m == NULL) {
		x->oom = true;
		return;
	}
	if (x->fr->matching_acls_count > 0)
		memcpy(m, x->fr->matching_acls, (size_t)x->fr->matching_acls_count * sizeof(*m));
	match_t *d = &m[x->fr->matching_acls_count];

	kp_struct_init(&kp_delete_acls_resp_delete_acls_matching_acl_desc, d);
	d->resource_type = (int8_t)rs->rtype;
	d->resource_name = astr(r, rs->name);
	d->pattern_type = (int8_t)rs->pattern;
	d->principal = astr(r, e->principal);
	d->host = astr(r, e->host);
	d->operation = (int8_t)e->op;
	d->permission_type = (int8_t)e->perm;
	x->fr->matching_acls = m;
	x->fr->matching_acls_count++;
	KP_INFO("ACL removed: %s %s %s from %s on %s:%s:%s", e->principal,
		kp_acl_perm_name(e->perm), kp_acl_op_name(e->op), e->host,
		kp_acl_rtype_name(rs->rtype), kp_acl_pattern_name(rs->pattern), rs->name);
}

static void delete_run(void *arg)
{
	struct acl_job *j = arg;
	struct net_req *r = j->r;
	struct broker *b = r->worker->broker;
	struct kp_authz *a = authz_get(b);
	const struct kp_delete_acls_req *req = r->body;
	int32_t n = COUNT(req->filters_count);
	struct kp_delete_acls_resp *resp = kp_arena_calloc(&r->arena, 1, sizeof(*resp));
	fres_t *res = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*res));

	if (resp == NULL || res == NULL) {
		j->oom = true;
		return;
	}
	kp_struct_init(r->api->resp, resp);
	for (int32_t i = 0; i < n && !j->oom; i++) {
		const struct kp_delete_acls_req_delete_acls_filter *in = &req->filters[i];
		struct kp_acl_filter f;
		struct pats p = { r, NULL, 0, 0, false };
		struct removed x = { r, &res[i], false };
		const char *msg;

		kp_struct_init(&kp_delete_acls_resp_delete_acls_filter_result_desc, &res[i]);
		res[i].matching_acls = NULL;
		res[i].matching_acls_count = 0;
		if (filter_from(r, in->resource_type_filter, in->resource_name_filter,
				r->h.api_version >= 1 ? in->pattern_type_filter : KP_ACL_PT_LITERAL,
				in->principal_filter, in->host_filter, in->operation,
				in->permission_type, &f, &msg) < 0) {
			res[i].error_code = KP_ERR_INVALID_REQUEST;
			res[i].error_message = kp_str_c(msg);
			continue;
		}
		kp_acl_store_each(a->store, &f, pat_one, &p);
		if (p.oom) {
			j->oom = true;
			break;
		}
		for (int32_t k = 0; k < p.n; k++) {
			char err[512];

			if (kp_acl_zk_remove(b->zk, &p.v[k], &f, removed_one, &x, err,
					     sizeof(err)) != 0) {
				res[i].error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
				res[i].error_message = astr(r, err);
			}
			kp_acl_zk_reload(b->zk, a->store, &p.v[k]);
		}
		if (x.oom)
			j->oom = true;
	}
	resp->filter_results = res;
	resp->filter_results_count = n;
	j->resp = resp;
}

void api_delete_acls(struct net_req *r)
{
	const struct kp_delete_acls_req *req = r->body;
	struct kp_delete_acls_resp resp;
	fres_t *res;

	if (authz_enabled(r->worker->broker)) {
		start(r, delete_run);
		return;
	}
	res = kp_arena_calloc(&r->arena, (size_t)COUNT(req->filters_count) + 1, sizeof(*res));
	if (res == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	kp_struct_init(r->api->resp, &resp);
	for (int32_t i = 0; i < COUNT(req->filters_count); i++) {
		kp_struct_init(&kp_delete_acls_resp_delete_acls_filter_result_desc, &res[i]);
		res[i].error_code = KP_ERR_SECURITY_DISABLED;
		res[i].error_message = kp_str_c(NO_AUTHORIZER);
	}
	resp.filter_results = res;
	resp.filter_results_count = COUNT(req->filters_count);
	net_reply(r, &resp);
}
