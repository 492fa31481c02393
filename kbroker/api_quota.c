/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_quota.c - client quotas in the broker: the entities read from
 * ZooKeeper (at start and on /config/changes notifications, main loop),
 * the request path's accounting and muting (net.c and api_fetch.c call
 * in), and DescribeClientQuotas (48) and AlterClientQuotas (49) with
 * Kafka 2.8's ZooKeeper-mode semantics (ZkAdminManager): the quotas are
 * /config/users/<user>, /config/clients/<client-id> and
 * /config/users/<user>/clients/<client-id> (names sanitized as Kafka's
 * Sanitizer does, <default> for the defaults), each written as
 * {"version":1,"config":{...}} followed by a
 * /config/changes/config_change_ notification, as AlterConfigs does it
 * (on the ZooKeeper thread, not through the controller).
 *
 * Exempt from quotas, as Kafka's cluster actions: replica fetches and
 * the controller's and brokers' own requests (LeaderAndIsr, StopReplica,
 * UpdateMetadata, ControlledShutdown, WriteTxnMarkers, AlterIsr), and
 * the requests of the SASL exchange and ApiVersions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_quota.h"
#include "broker.h"
#include "client_quota.h"
#include "kp_log.h"
#include "kp_metrics.h"
#include "kp_msgs.h"
#include "kp_zk.h"
#include "net.h"
#include "zk_admin.h"
#include "zk_thread.h"

#define COUNT(n) ((n) > 0 ? (n) : 0)

/* ------------------------------------------------ entities from ZooKeeper */

/* The quota keys of a config node into the table (user, client: names
 * as the entity has them, desanitized; NULL when not a component). */
static void apply_config(struct broker *b, const char *user, const char *client,
			 const struct kp_zk_entity_config *c)
{
	bool has[CQ_NTYPES] = { false };
	double v[CQ_NTYPES] = { 0 };

	for (int t = 0; t < CQ_NTYPES; t++) {
		const char *s = kp_zk_config_get(c, cq_key_names[t]);
		char *end;

		if (s == NULL)
			continue;
		v[t] = strtod(s, &end);
		if (end == s || *end != 0 || !(v[t] >= 0)) {
			KP_WARN("quota %s=%s of user %s client %s: not a number (ignored)",
				cq_key_names[t], s, user ? user : "-", client ? client : "-");
			continue;
		}
		has[t] = true;
	}
	if (cq_set_entity(b->cquota, user, client, has, v) < 0)
		KP_ERROR("out of memory loading a client quota");
}

/* A sanitized node name as the entity's name ("<default>" stays). */
static int node_to_name(const char *node, char *out, size_t n)
{
	if (strcmp(node, CQ_DEFAULT_NAME) == 0) {
		if (n < sizeof(CQ_DEFAULT_NAME))
			return -1;
		memcpy(out, CQ_DEFAULT_NAME, sizeof(CQ_DEFAULT_NAME));
		return 0;
	}
	return cq_desanitize(node, out, n);
}

/* Read /config/<path> and apply it.  0 or -1 (ZooKeeper could not say). */
static int load_one(struct broker *b, const char *type, const char *path,
		    const char *user, const char *client)
{
	struct kp_zk_entity_config c;
	char err[512];

	if (zk_admin_read_config(b->zk, type, path, &c, err, sizeof(err)) < 0) {
		KP_WARN("%s", err);
		return -1;
	}
	apply_config(b, user, client, &c);
	kp_zk_config_free(&c);
	return 0;
}

/* A user's clients: /config/users/<unode>/clients/... */
static void load_user_clients(struct broker *b, const char *unode, const char *user)
{
	struct kp_zk_result res;
	char path[1024];
	int rc;

	snprintf(path, sizeof(path), "/config/users/%s/clients", unode);
	rc = kp_zk_children_sync(b->zk, path, &res);
	for (int32_t i = 0; rc == KP_ZK_OK && i < res.nchildren; i++) {
		char name[512], sub[1024];

		if (node_to_name(res.children[i], name, sizeof(name)) < 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/clients/%s", unode, res.children[i]);
		load_one(b, "users", sub, user, name);
	}
	kp_zk_result_free(&res);
}

int quota_load_all(struct broker *b)
{
	static const char *const types[] = { "users", "clients" };

	if (b->cquota == NULL)
		return 0;
	for (int k = 0; k < 2; k++) {
		struct kp_zk_result res;
		char path[64];
		int rc;

		snprintf(path, sizeof(path), "/config/%s", types[k]);
		rc = kp_zk_children_sync(b->zk, path, &res);
		if (rc != KP_ZK_OK && rc != KP_ZK_NONODE) {
			KP_WARN("listing %s: %s", path, kp_zk_strerror(rc));
			kp_zk_result_free(&res);
			return -1;
		}
		for (int32_t i = 0; rc == KP_ZK_OK && i < res.nchildren; i++) {
			char name[512];

			if (node_to_name(res.children[i], name, sizeof(name)) < 0)
				continue;
			load_one(b, types[k], res.children[i], k == 0 ? name : NULL,
				 k == 0 ? NULL : name);
			if (k == 0)
				load_user_clients(b, res.children[i], name);
		}
		kp_zk_result_free(&res);
	}
	return 0;
}

void quota_apply_user(struct broker *b, const char *unode,
		      const struct kp_zk_entity_config *c)
{
	char name[512];

	if (b->cquota != NULL && node_to_name(unode, name, sizeof(name)) == 0)
		apply_config(b, name, NULL, c);
}

void quota_reload(struct broker *b, const char *entity)
{
	char user[512], client[512], node[1024];
	const char *sep;

	if (b->cquota == NULL)
		return;
	if (strncmp(entity, "clients/", 8) == 0 && entity[8] != 0 &&
	    strchr(entity + 8, '/') == NULL) {
		if (node_to_name(entity + 8, client, sizeof(client)) == 0)
			load_one(b, "clients", entity + 8, NULL, client);
		return;
	}
	if (strncmp(entity, "users/", 6) != 0 ||
	    (sep = strstr(entity + 6, "/clients/")) == NULL || sep == entity + 6)
		return;
	snprintf(node, sizeof(node), "%.*s", (int)(sep - entity - 6), entity + 6);
	if (strchr(sep + 9, '/') != NULL || sep[9] == 0 ||
	    node_to_name(node, user, sizeof(user)) < 0 ||
	    node_to_name(sep + 9, client, sizeof(client)) < 0)
		return;
	KP_INFO("quota change of user %s client %s", user, client);
	load_one(b, "users", entity + 6, user, client);
}

/* ------------------------------------------------------- request path */

static bool exempt(const struct net_req *r)
{
	switch (r->h.api_key) {
	case KP_API_LEADER_AND_ISR:
	case KP_API_STOP_REPLICA:
	case KP_API_UPDATE_METADATA:
	case KP_API_CONTROLLED_SHUTDOWN:
	case KP_API_WRITE_TXN_MARKERS:
	case KP_API_ALTER_ISR:
	case KP_API_API_VERSIONS:
	case KP_API_SASL_HANDSHAKE:
	case KP_API_SASL_AUTHENTICATE:
		return true;
	case KP_API_FETCH:
		return r->body == NULL ||
		       ((const struct kp_fetch_req *)r->body)->replica_id >= 0;
	default:
		return r->body == NULL;
	}
}

/* The pair a request is accounted to: Kafka's user (the principal, or
 * ANONYMOUS) and the header's client id. */
static void entity_of(const struct net_req *r, char *user, char *client, size_t n)
{
	const char *p = net_req_principal(r);
	kp_str id = r->h.client_id;

	snprintf(user, n, "%s", p != NULL && *p ? p : "ANONYMOUS");
	snprintf(client, n, "%.*s", id.len > 0 ? (int)id.len : 0,
		 id.len > 0 ? id.ptr : "");
}

/* Thread time of r so far: its handler (and the parked request's
 * completion), in µs. */
static int64_t thread_us(const struct net_req *r)
{
	int64_t now = kp_now_us();

	if (r->worker->dispatching == r || r->t_local_end_us == 0)
		return now - r->t_recv_us;
	/* parked: the handler's time and this completion, not the wait */
	return (r->t_local_end_us - r->t_recv_us) + 1;
}

void quota_on_reply(struct net_req *r, bool answered)
{
	struct client_quotas *q = r->worker->broker->cquota;
	char user[256], client[256];
	int type = CQ_NTYPES, which;
	int64_t bytes = 0, req_us;

	if (r->quota_done || !cq_enabled(q) || exempt(r))
		return;
	r->quota_done = true;
	entity_of(r, user, client, sizeof(user));
	req_us = thread_us(r);
	if (r->h.api_key == KP_API_PRODUCE) {
		type = CQ_PRODUCE;
		bytes = (int64_t)r->frame_len;
		/* acks=0 is exempt from the request quota */
		if (!answered)
			req_us = -1;
	}
	r->throttle_ms = cq_record(q, user, client, type, bytes, req_us, kp_now_ms(),
				   &which);
}

int64_t quota_fetch_budget(struct net_req *r)
{
	struct client_quotas *q = r->worker->broker->cquota;
	char user[256], client[256];

	if (!cq_enabled(q) || exempt(r))
		return INT64_MAX;
	entity_of(r, user, client, sizeof(user));
	return cq_max_in_window(q, user, client, CQ_FETCH);
}

bool quota_fetch_check(struct net_req *r, int64_t resp_bytes)
{
	struct client_quotas *q = r->worker->broker->cquota;
	char user[256], client[256];
	int which;
	int64_t now = kp_now_ms();

	if (r->quota_done || !cq_enabled(q) || exempt(r))
		return false;
	r->quota_done = true;
	entity_of(r, user, client, sizeof(user));
	r->throttle_ms = cq_record(q, user, client, CQ_FETCH, resp_bytes, thread_us(r),
				   now, &which);
	if (r->throttle_ms <= 0)
		return false;
	/* the response goes out empty: its bytes are not counted */
	cq_unrecord(q, user, client, CQ_FETCH, resp_bytes, now);
	return true;
}

void quota_set_throttle_field(struct net_req *r, void *resp)
{
	const struct kp_struct_desc *d = r->api->resp;

	if (r->throttle_ms <= 0)
		return;
	for (uint16_t i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];
		int32_t *v;

		if (strcmp(f->name, "throttle_time_ms") != 0 || f->array ||
		    f->type != KP_FT_INT32)
			continue;
		v = (int32_t *)((char *)resp + f->off);
		if (*v < r->throttle_ms)
			*v = r->throttle_ms;
		return;
	}
}

/* -------------------------------------------- DescribeClientQuotas (48) */

#define ET_USER "user"
#define ET_CLIENT "client-id"
#define ET_IP "ip"

enum { MATCH_EXACT = 0, MATCH_DEFAULT = 1, MATCH_SPECIFIED = 2 };

/* One filter component: absent, or a match (exact name, default, any). */
struct comp {
	bool present;
	int kind;		/* MATCH_* */
	char name[512];		/* exact: desanitized name */
};

struct found {
	char *user, *client;	/* NULL: not a component; "<default>" */
	double v[CQ_NTYPES];
	bool has[CQ_NTYPES];
};

struct qjob {
	struct net_req *r;
	void *resp;
	bool oom;
};

static kp_str arena_str(struct net_req *r, const char *s)
{
	return s == NULL ? (kp_str){ .ptr = NULL, .len = -1 }
			 : kp_str_c(kp_arena_sprintf(&r->arena, "%s", s));
}

static bool comp_matches(const struct comp *c, const char *name, bool strict)
{
	if (!c->present)
		return name == NULL || !strict;
	if (name == NULL)
		return false;
	if (c->kind == MATCH_SPECIFIED)
		return true;
	if (c->kind == MATCH_DEFAULT)
		return strcmp(name, CQ_DEFAULT_NAME) == 0;
	return strcmp(name, CQ_DEFAULT_NAME) != 0 && strcmp(name, c->name) == 0;
}

/* Read one node into v[*n] if it has quota keys and matches. */
static int add_found(struct broker *b, struct net_req *r, const char *path,
		     const char *user, const char *client, const struct comp *uc,
		     const struct comp *cc, bool strict, struct found **v, size_t *n,
		     size_t *cap, char *msg, size_t mlen)
{
	struct kp_zk_entity_config c;
	struct found f;
	bool any = false;
	const char *type = user != NULL ? "users" : "clients";

	if (!comp_matches(uc, user, strict) || !comp_matches(cc, client, strict))
		return 0;
	if (zk_admin_read_config(b->zk, type, path, &c, msg, mlen) < 0)
		return -1;
	memset(&f, 0, sizeof(f));
	for (int t = 0; t < CQ_NTYPES; t++) {
		const char *s = kp_zk_config_get(&c, cq_key_names[t]);
		char *end;

		if (s == NULL)
			continue;
		f.v[t] = strtod(s, &end);
		if (end == s)
			continue;
		f.has[t] = any = true;
	}
	kp_zk_config_free(&c);
	if (!any)
		return 0;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct found *nv = kp_arena_calloc(&r->arena, nc, sizeof(*nv));

		if (nv == NULL)
			return -2;
		if (*n > 0)
			memcpy(nv, *v, *n * sizeof(*nv));
		*v = nv;
		*cap = nc;
	}
	f.user = user ? kp_arena_sprintf(&r->arena, "%s", user) : NULL;
	f.client = client ? kp_arena_sprintf(&r->arena, "%s", client) : NULL;
	(*v)[(*n)++] = f;
	return 0;
}

/* Walk what the filter can match (ZkAdminManager.handleDescribeClientQuotas:
 * users, clients, users' clients). */
static int describe_walk(struct broker *b, struct net_req *r, const struct comp *uc,
			 const struct comp *cc, bool strict, struct found **v,
			 size_t *n, char *msg, size_t mlen)
{
	struct kp_zk_result users, clients;
	size_t cap = 0;
	int rc = 0, zr;

	zr = kp_zk_children_sync(b->zk, "/config/users", &users);
	if (zr != KP_ZK_OK && zr != KP_ZK_NONODE) {
		snprintf(msg, mlen, "listing /config/users: %s", kp_zk_strerror(zr));
		kp_zk_result_free(&users);
		return -1;
	}
	for (int32_t i = 0; rc == 0 && zr == KP_ZK_OK && i < users.nchildren; i++) {
		struct kp_zk_result uc_res;
		char uname[512], path[1024];
		int zr2;

		if (node_to_name(users.children[i], uname, sizeof(uname)) < 0)
			continue;
		rc = add_found(b, r, users.children[i], uname, NULL, uc, cc, strict, v, n,
			       &cap, msg, mlen);
		snprintf(path, sizeof(path), "/config/users/%s/clients", users.children[i]);
		zr2 = kp_zk_children_sync(b->zk, path, &uc_res);
		for (int32_t j = 0; rc == 0 && zr2 == KP_ZK_OK && j < uc_res.nchildren; j++) {
			char cname[512], sub[1024];

			if (node_to_name(uc_res.children[j], cname, sizeof(cname)) < 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/clients/%s", users.children[i],
				 uc_res.children[j]);
			rc = add_found(b, r, sub, uname, cname, uc, cc, strict, v, n, &cap,
				       msg, mlen);
		}
		kp_zk_result_free(&uc_res);
	}
	kp_zk_result_free(&users);
	if (rc != 0)
		return rc;
	zr = kp_zk_children_sync(b->zk, "/config/clients", &clients);
	if (zr != KP_ZK_OK && zr != KP_ZK_NONODE) {
		snprintf(msg, mlen, "listing /config/clients: %s", kp_zk_strerror(zr));
		kp_zk_result_free(&clients);
		return -1;
	}
	for (int32_t i = 0; rc == 0 && zr == KP_ZK_OK && i < clients.nchildren; i++) {
		char cname[512];

		if (node_to_name(clients.children[i], cname, sizeof(cname)) < 0)
			continue;
		rc = add_found(b, r, clients.children[i], NULL, cname, uc, cc, strict, v, n,
			       &cap, msg, mlen);
	}
	kp_zk_result_free(&clients);
	return rc;
}

/* The filter's components, checked as Kafka does.  0 or an error. */
static kp_err_t parse_filter(struct net_req *r, struct comp *uc, struct comp *cc,
			     char *msg, size_t mlen)
{
	const struct kp_describe_client_quotas_req *req = r->body;
	bool ip = false;

	memset(uc, 0, sizeof(*uc));
	memset(cc, 0, sizeof(*cc));
	for (int32_t i = 0; i < COUNT(req->components_count); i++) {
		const struct kp_describe_client_quotas_req_component_data *d =
			&req->components[i];
		kp_str et = d->entity_type;
		struct comp *c;

		if (et.len <= 0) {
			snprintf(msg, mlen, "Unexpected empty filter component entity type");
			return KP_ERR_INVALID_REQUEST;
		}
		if (et.len == 4 && memcmp(et.ptr, ET_USER, 4) == 0) {
			c = uc;
		} else if (et.len == 9 && memcmp(et.ptr, ET_CLIENT, 9) == 0) {
			c = cc;
		} else if (et.len == 2 && memcmp(et.ptr, ET_IP, 2) == 0) {
			if (ip) {
				snprintf(msg, mlen, "Duplicate ip filter component entity type");
				return KP_ERR_INVALID_REQUEST;
			}
			ip = true;
			continue;
		} else {
			snprintf(msg, mlen, "Custom entity type '%.*s' not supported",
				 (int)et.len, et.ptr);
			return KP_ERR_UNSUPPORTED_VERSION;
		}
		if (c->present) {
			snprintf(msg, mlen, "Duplicate %s filter component entity type",
				 c == uc ? "user" : "client");
			return KP_ERR_INVALID_REQUEST;
		}
		c->present = true;
		c->kind = d->match_type;
		if (d->match_type == MATCH_EXACT) {
			if (d->match.len < 0) {
				snprintf(msg, mlen, "Missing match for exact match type");
				return KP_ERR_INVALID_REQUEST;
			}
			snprintf(c->name, sizeof(c->name), "%.*s", (int)d->match.len,
				 d->match.ptr);
		} else if (d->match_type != MATCH_DEFAULT &&
			   d->match_type != MATCH_SPECIFIED) {
			snprintf(msg, mlen, "Unexpected match type: %d", d->match_type);
			return KP_ERR_INVALID_REQUEST;
		}
	}
	if (ip && (uc->present || cc->present)) {
		snprintf(msg, mlen, "Invalid entity filter component combination, IP "
			 "filter component should not be used with user or clientId "
			 "filter component.");
		return KP_ERR_INVALID_REQUEST;
	}
	if (ip)
		uc->kind = -1;	/* no ip quotas here: nothing matches */
	return 0;
}

static void describe_run(void *arg)
{
	struct qjob *j = arg;
	struct net_req *r = j->r;
	struct broker *b = r->worker->broker;
	const struct kp_describe_client_quotas_req *req = r->body;
	struct kp_describe_client_quotas_resp *resp;
	struct comp uc, cc;
	struct found *v = NULL;
	size_t n = 0;
	char msg[512] = "";
	kp_err_t err;
	int rc = 0;

	resp = kp_arena_calloc(&r->arena, 1, sizeof(*resp));
	if (resp == NULL) {
		j->oom = true;
		return;
	}
	kp_struct_init(r->api->resp, resp);
	j->resp = resp;
	err = parse_filter(r, &uc, &cc, msg, sizeof(msg));
	if (err == 0 && uc.kind >= 0)
		rc = describe_walk(b, r, &uc, &cc, req->strict, &v, &n, msg, sizeof(msg));
	if (rc == -2) {
		j->oom = true;
		return;
	}
	if (rc < 0)
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
	if (err != 0) {
		resp->error_code = err;
		resp->error_message = arena_str(r, msg);
		resp->entries = NULL;
		resp->entries_count = -1;
		return;
	}
	resp->entries = kp_arena_calloc(&r->arena, n + 1, sizeof(*resp->entries));
	if (resp->entries == NULL) {
		j->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct kp_describe_client_quotas_resp_entry_data *e = &resp->entries[i];
		int ne = 0, nv = 0;

		kp_struct_init(&kp_describe_client_quotas_resp_entry_data_desc, e);
		e->entity = kp_arena_calloc(&r->arena, 3, sizeof(*e->entity));
		e->values = kp_arena_calloc(&r->arena, CQ_NTYPES + 1, sizeof(*e->values));
		if (e->entity == NULL || e->values == NULL) {
			j->oom = true;
			return;
		}
		for (int k = 0; k < 2; k++) {
			const char *name = k == 0 ? v[i].user : v[i].client;
			struct kp_describe_client_quotas_resp_entity_data *d = &e->entity[ne];

			if (name == NULL)
				continue;
			kp_struct_init(&kp_describe_client_quotas_resp_entity_data_desc, d);
			d->entity_type = kp_str_c(k == 0 ? ET_USER : ET_CLIENT);
			d->entity_name = strcmp(name, CQ_DEFAULT_NAME) == 0
					 ? arena_str(r, NULL) : arena_str(r, name);
			ne++;
		}
		for (int t = 0; t < CQ_NTYPES; t++) {
			if (!v[i].has[t])
				continue;
			kp_struct_init(&kp_describe_client_quotas_resp_value_data_desc,
				       &e->values[nv]);
			e->values[nv].key = kp_str_c(cq_key_names[t]);
			e->values[nv].value = v[i].v[t];
			nv++;
		}
		e->entity_count = ne;
		e->values_count = nv;
	}
	resp->entries_count = (int32_t)n;
}

static void job_done(void *arg, bool ran)
{
	struct qjob *j = arg;

	if (!ran)
		net_req_fail(j->r, "the broker is stopping");
	else if (j->oom || j->resp == NULL)
		net_req_fail(j->r, "out of memory");
	else
		net_reply(j->r, j->resp);
}

static void start(struct net_req *r, void (*run)(void *))
{
	struct qjob *j;

	if (net_req_detach(r) < 0 ||
	    (j = kp_arena_calloc(&r->arena, 1, sizeof(*j))) == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	j->r = r;
	zk_thread_call(r->worker->broker, r->worker->home, run, job_done, j);
}

void api_describe_client_quotas(struct net_req *r)
{
	start(r, describe_run);
}

/* ----------------------------------------------- AlterClientQuotas (49) */

/* Kafka's Sanitizer of a name, or <default> for null. */
static int sanitize_name(kp_str s, char *out, size_t n)
{
	char raw[512];

	if (s.len < 0 || s.ptr == NULL) {
		snprintf(out, n, "%s", CQ_DEFAULT_NAME);
		return 0;
	}
	if ((size_t)s.len >= sizeof(raw))
		return -1;
	memcpy(raw, s.ptr, (size_t)s.len);
	raw[s.len] = 0;
	return cq_sanitize(raw, out, n);
}

static kp_err_t alter_one(struct net_req *r,
			  const struct kp_alter_client_quotas_req_entry_data *in,
			  bool validate_only, char *msg, size_t mlen)
{
	struct broker *b = r->worker->broker;
	char user[512] = "", client[512] = "", path[1100];
	bool has_user = false, has_client = false, has_ip = false;
	struct kp_zk_entity_config c;
	const char *type;
	kp_err_t err = 0;

	if (COUNT(in->entity_count) == 0) {
		snprintf(msg, mlen, "Invalid empty client quota entity");
		return KP_ERR_INVALID_REQUEST;
	}
	for (int32_t i = 0; i < in->entity_count; i++) {
		const struct kp_alter_client_quotas_req_entity_data *d = &in->entity[i];
		kp_str et = d->entity_type;
		char *dst;

		if (et.len == 4 && memcmp(et.ptr, ET_USER, 4) == 0) {
			dst = user;
			has_user = true;
		} else if (et.len == 9 && memcmp(et.ptr, ET_CLIENT, 9) == 0) {
			dst = client;
			has_client = true;
		} else if (et.len == 2 && memcmp(et.ptr, ET_IP, 2) == 0) {
			has_ip = true;
			continue;
		} else {
			snprintf(msg, mlen, "Unhandled client quota entity type: %.*s",
				 COUNT(et.len), et.ptr ? et.ptr : "");
			return KP_ERR_INVALID_REQUEST;
		}
		if (sanitize_name(d->entity_name, dst, 512) < 0) {
			snprintf(msg, mlen, "Entity name too long");
			return KP_ERR_INVALID_REQUEST;
		}
		if (d->entity_name.len == 0 && d->entity_name.ptr != NULL) {
			snprintf(msg, mlen, "Empty %.*s not supported", (int)et.len, et.ptr);
			return KP_ERR_INVALID_REQUEST;
		}
	}
	if (has_ip) {
		if (has_user || has_client) {
			snprintf(msg, mlen, "Invalid quota entity combination, IP entity "
				 "should not be combined with User or ClientId entities.");
			return KP_ERR_INVALID_REQUEST;
		}
		snprintf(msg, mlen, "IP connection quotas are not supported by this broker");
		return KP_ERR_INVALID_REQUEST;
	}
	if (has_user && has_client) {
		snprintf(path, sizeof(path), "%s/clients/%s", user, client);
		type = "users";
	} else if (has_user) {
		snprintf(path, sizeof(path), "%s", user);
		type = "users";
	} else {
		snprintf(path, sizeof(path), "%s", client);
		type = "clients";
	}
	if (zk_admin_read_config(b->zk, type, path, &c, msg, mlen) < 0)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	for (int32_t i = 0; err == 0 && i < COUNT(in->ops_count); i++) {
		const struct kp_alter_client_quotas_req_op_data *op = &in->ops[i];
		char key[256], val[64];
		int t;

		snprintf(key, sizeof(key), "%.*s", COUNT(op->key.len), op->key.ptr ? op->key.ptr : "");
		for (t = 0; t < CQ_NTYPES; t++)
			if (strcmp(key, cq_key_names[t]) == 0)
				break;
		if (op->remove) {
			/* Kafka removes any key, known or not */
			if (kp_zk_config_set(&c, key, NULL) < 0)
				err = KP_ERR_UNKNOWN_SERVER_ERROR;
			continue;
		}
		if (t == CQ_NTYPES) {
			snprintf(msg, mlen, "Invalid configuration key %s", key);
			err = KP_ERR_INVALID_REQUEST;
			break;
		}
		if (!isfinite(op->value)) {
			snprintf(msg, mlen, "Configuration %s must be a %s value", key,
				 t == CQ_REQUEST ? "DOUBLE" : "LONG");
			err = KP_ERR_INVALID_REQUEST;
			break;
		}
		if (t == CQ_REQUEST) {
			/* as Java's Double.toString: a whole number with ".0",
			 * else the shortest text that reads back as the value */
			if (op->value > -1e15 && op->value < 1e15 &&
			    op->value == (double)(long long)op->value) {
				snprintf(val, sizeof(val), "%lld.0", (long long)op->value);
			} else {
				for (int prec = 1; prec <= 17; prec++) {
					snprintf(val, sizeof(val), "%.*g", prec, op->value);
					if (strtod(val, NULL) == op->value)
						break;
				}
			}
		} else {
			double x = op->value + 1e-6;
			long long iv = x >= 9.2e18 ? INT64_MAX : x <= -9.2e18 ? INT64_MIN
				       : (long long)x;

			double d = (double)iv - op->value;

			if (d > 1e-6 || d < -1e-6) {
				snprintf(msg, mlen, "Configuration %s must be a LONG value", key);
				err = KP_ERR_INVALID_REQUEST;
				break;
			}
			snprintf(val, sizeof(val), "%lld", iv);
		}
		if (kp_zk_config_set(&c, key, val) < 0)
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	if (err == 0 && !validate_only)
		err = zk_admin_write_config(b, type, path, &c, msg, mlen);
	kp_zk_config_free(&c);
	return err;
}

static void alter_run(void *arg)
{
	struct qjob *j = arg;
	struct net_req *r = j->r;
	const struct kp_alter_client_quotas_req *req = r->body;
	struct kp_alter_client_quotas_resp *resp;
	struct kp_alter_client_quotas_resp_entry_data *es;

	resp = kp_arena_calloc(&r->arena, 1, sizeof(*resp));
	es = kp_arena_calloc(&r->arena, (size_t)COUNT(req->entries_count) + 1, sizeof(*es));
	if (resp == NULL || es == NULL) {
		j->oom = true;
		return;
	}
	kp_struct_init(r->api->resp, resp);
	for (int32_t i = 0; i < COUNT(req->entries_count); i++) {
		const struct kp_alter_client_quotas_req_entry_data *in = &req->entries[i];
		int32_t ne = COUNT(in->entity_count);
		struct kp_alter_client_quotas_resp_entity_data *ent =
			kp_arena_calloc(&r->arena, (size_t)ne + 1, sizeof(*ent));
		char msg[512] = "";
		kp_err_t err;

		if (ent == NULL) {
			j->oom = true;
			return;
		}
		kp_struct_init(&kp_alter_client_quotas_resp_entry_data_desc, &es[i]);
		err = alter_one(r, in, req->validate_only, msg, sizeof(msg));
		es[i].error_code = err;
		es[i].error_message = err != 0 ? arena_str(r, msg) : arena_str(r, NULL);
		if (err != 0)
			KP_INFO("AlterClientQuotas: %s", msg);
		for (int32_t k = 0; k < ne; k++) {
			kp_struct_init(&kp_alter_client_quotas_resp_entity_data_desc, &ent[k]);
			ent[k].entity_type = in->entity[k].entity_type;
			ent[k].entity_name = in->entity[k].entity_name;
		}
		es[i].entity = ent;
		es[i].entity_count = ne;
	}
	resp->entries = es;
	resp->entries_count = COUNT(req->entries_count);
	j->resp = resp;
}

void api_alter_client_quotas(struct net_req *r)
{
	start(r, alter_run);
}

/* ------------------------------------------------------------ metrics */

struct render {
	struct kp_mtext *t;
	int type;
	bool throttle;
	const char *name;
};

static void render_one(const struct cq_sample *s, void *arg)
{
	struct render *x = arg;
	const char *lab[] = { "user", s->user, "client_id", s->client };

	if (s->type == x->type)
		kp_mtext_sample(x->t, x->name, lab, 2,
				x->throttle ? s->throttle_avg_ms : s->rate);
}

void quota_metrics_render(struct kp_mtext *t, struct broker *b)
{
	/* Kafka's quota sensors, type=Produce|Fetch|Request with user and
	 * client-id tags, as the Prometheus JMX exporter names them */
	static const struct {
		int type;
		bool throttle;
		const char *name, *help;
	} fams[] = {
		{ CQ_PRODUCE, false, "kafka_server_produce_byte_rate",
		  "Produce bytes/s of a quota entity over the quota window" },
		{ CQ_PRODUCE, true, "kafka_server_produce_throttle_time",
		  "Average produce throttle time (ms) of a quota entity" },
		{ CQ_FETCH, false, "kafka_server_fetch_byte_rate",
		  "Fetch bytes/s of a quota entity over the quota window" },
		{ CQ_FETCH, true, "kafka_server_fetch_throttle_time",
		  "Average fetch throttle time (ms) of a quota entity" },
		{ CQ_REQUEST, false, "kafka_server_request_request_time",
		  "Request handling time of a quota entity, percent of one thread" },
		{ CQ_REQUEST, true, "kafka_server_request_throttle_time",
		  "Average request-quota throttle time (ms) of a quota entity" },
	};
	int64_t now = kp_now_ms();

	if (b->cquota == NULL)
		return;
	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		struct render x = { t, fams[i].type, fams[i].throttle, fams[i].name };

		kp_mtext_family(t, fams[i].name, "gauge", fams[i].help);
		cq_foreach(b->cquota, now, render_one, &x);
	}
}
