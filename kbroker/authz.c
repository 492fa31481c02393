/* SPDX-License-Identifier: Apache-2.0 */
/*
 * authz.c - kbroker's authorizer; see authz.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "broker.h"
#include "kp_acl.h"
#include "kp_answer.h"
#include "kp_codec.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "kp_zk.h"
#include "net.h"
#include "zk_thread.h"

struct broker_authz {
	struct kp_authz a;
	/* the last change notification handled, per store; only the
	 * ZooKeeper thread (and the main thread at start) touch them */
	int64_t last_seq[2];
};

int authz_init(struct broker *b, char *err, size_t errlen)
{
	const char *cls = kp_config_str(&b->cfg, "authorizer.class.name");
	int k = kp_authz_class(cls);
	struct broker_authz *z;

	if (k < 0) {
		snprintf(err, errlen, "authorizer.class.name: %s is not an authorizer kbroker "
			 "has (kafka.security.authorizer.AclAuthorizer, "
			 "kafka.security.auth.SimpleAclAuthorizer or acl)", cls);
		return -1;
	}
	if (k == 0)
		return 0;
	z = calloc(1, sizeof(*z));
	if (z == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (kp_authz_init(&z->a, kp_config_str(&b->cfg, "super.users"),
			  kp_config_bool(&b->cfg, "allow.everyone.if.no.acl.found"), err,
			  errlen) < 0) {
		free(z);
		return -1;
	}
	z->last_seq[0] = z->last_seq[1] = -1;
	b->authz = z;
	return 0;
}

void authz_destroy(struct broker *b)
{
	if (b->authz == NULL)
		return;
	kp_authz_destroy(&b->authz->a);
	free(b->authz);
	b->authz = NULL;
}

bool authz_enabled(const struct broker *b)
{
	return b->authz != NULL;
}

struct kp_authz *authz_get(const struct broker *b)
{
	return b->authz != NULL ? &b->authz->a : NULL;
}

/* ------------------------------------------------ change notifications */

struct watch_arg {
	struct broker *b;
	bool extended;
};

static struct watch_arg watch_args[2];

static void on_change(enum kp_zk_event ev, const char *path, void *arg);

static void run_changes(void *arg)
{
	struct watch_arg *w = arg;
	struct broker_authz *z = w->b->authz;

	if (z == NULL || w->b->stopping)
		return;
	kp_acl_zk_changes(w->b->zk, z->a.store, w->extended, &z->last_seq[w->extended],
			  on_change, w);
}

/* A watch (main thread): the work goes to the ZooKeeper thread. */
static void on_change(enum kp_zk_event ev, const char *path, void *arg)
{
	struct watch_arg *w = arg;

	(void)ev;
	(void)path;
	if (w->b->stopping || w->b->authz == NULL)
		return;
	if (zk_thread_post(w->b, run_changes, w) < 0)
		KP_WARN("ACL change notification: cannot queue the reload");
}

int authz_start(struct broker *b, char *err, size_t errlen)
{
	struct broker_authz *z = b->authz;
	int rc;

	if (z == NULL)
		return 0;
	rc = kp_acl_zk_ensure(b->zk);
	if (rc != KP_ZK_OK) {
		snprintf(err, errlen, "creating the ACL paths: %s", kp_zk_strerror(rc));
		return -1;
	}
	if (kp_acl_zk_load(b->zk, z->a.store, err, errlen) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		watch_args[i].b = b;
		watch_args[i].extended = i == 1;
		/* every notification there now: older than the load, or
		 * racing it; reloading them again is harmless */
		if (kp_acl_zk_changes(b->zk, z->a.store, i == 1, &z->last_seq[i], on_change,
				      &watch_args[i]) < 0) {
			snprintf(err, errlen, "watching the ACL change notifications");
			return -1;
		}
	}
	KP_INFO("authorizer: %zu ACLs loaded; %zu super users; "
		"allow.everyone.if.no.acl.found=%s", kp_acl_store_count(z->a.store),
		z->a.nsuper, z->a.allow_if_none ? "true" : "false");
	return 0;
}

/* ------------------------------------------------------------- checks */

void authz_principal(const struct net_req *r, char *out, size_t outlen)
{
	kp_acl_principal(net_req_principal(r), out, outlen);
}

static bool check(const struct net_req *r, int op, int rtype, const char *name, bool log)
{
	struct broker *b = r->worker->broker;
	char p[KP_ACL_PRINCIPAL_MAX];

	if (b->authz == NULL)
		return true;
	authz_principal(r, p, sizeof(p));
	return kp_authz_check(&b->authz->a, p, net_req_host(r), op, rtype, name, log);
}

bool authz_ok(const struct net_req *r, int op, int rtype, const char *name)
{
	return check(r, op, rtype, name != NULL ? name : "", true);
}

static bool check_str(const struct net_req *r, int op, int rtype, kp_str name, bool log)
{
	char buf[KP_ACL_NAME_MAX];
	int n = name.len > 0 ? name.len : 0;

	if (r->worker->broker->authz == NULL)
		return true;
	if ((size_t)n >= sizeof(buf))
		return false;	/* longer than any name that can have ACLs */
	if (n > 0)
		memcpy(buf, name.ptr, (size_t)n);
	buf[n] = '\0';
	return check(r, op, rtype, buf, log);
}

bool authz_ok_str(const struct net_req *r, int op, int rtype, kp_str name)
{
	return check_str(r, op, rtype, name, true);
}

bool authz_ok_quiet(const struct net_req *r, int op, int rtype, kp_str name)
{
	return check_str(r, op, rtype, name, false);
}

bool authz_cluster(const struct net_req *r, int op)
{
	return check(r, op, KP_ACL_RT_CLUSTER, KP_ACL_CLUSTER_NAME, true);
}

bool authz_any(const struct net_req *r, int op, int rtype)
{
	struct broker *b = r->worker->broker;
	char p[KP_ACL_PRINCIPAL_MAX];

	if (b->authz == NULL)
		return true;
	authz_principal(r, p, sizeof(p));
	return kp_authz_check_any(&b->authz->a, p, net_req_host(r), op, rtype);
}

int32_t authz_operations(const struct net_req *r, int rtype, kp_str name)
{
	struct broker *b = r->worker->broker;
	char p[KP_ACL_PRINCIPAL_MAX], buf[KP_ACL_NAME_MAX];
	int n = name.len > 0 ? name.len : 0;

	if (b->authz == NULL)
		return kp_acl_supported_ops(rtype);
	if ((size_t)n >= sizeof(buf))
		return 0;	/* longer than any name that can have ACLs */
	if (n > 0)
		memcpy(buf, name.ptr, (size_t)n);
	buf[n] = '\0';
	authz_principal(r, p, sizeof(p));
	return kp_authz_operations(&b->authz->a, p, net_req_host(r), rtype, buf);
}

int32_t authz_cluster_operations(const struct net_req *r)
{
	if (!authz_cluster(r, KP_ACL_OP_DESCRIBE))
		return 0;
	return authz_operations(r, KP_ACL_RT_CLUSTER, kp_str_c(KP_ACL_CLUSTER_NAME));
}

/* ----------------------------------------------------- the precheck table */

enum pre_kind {
	PRE_CLUSTER,		/* op on the cluster */
	PRE_GROUP,		/* op on the group named by group_id */
	PRE_FIND_COORDINATOR,	/* Describe on the group or transactional id */
	PRE_INIT_PRODUCER_ID,
	PRE_TXN,		/* Write on the transactional id (and
				 * AddOffsetsToTxn: Read on the group) */
};

static const struct pre {
	int16_t key;
	uint8_t kind;
	uint8_t op;
} pres[] = {
	/* the cluster's own APIs */
	{ KP_API_LEADER_AND_ISR, PRE_CLUSTER, KP_ACL_OP_CLUSTER_ACTION },
	{ KP_API_STOP_REPLICA, PRE_CLUSTER, KP_ACL_OP_CLUSTER_ACTION },
	{ KP_API_UPDATE_METADATA, PRE_CLUSTER, KP_ACL_OP_CLUSTER_ACTION },
	{ KP_API_CONTROLLED_SHUTDOWN, PRE_CLUSTER, KP_ACL_OP_CLUSTER_ACTION },
	{ KP_API_WRITE_TXN_MARKERS, PRE_CLUSTER, KP_ACL_OP_CLUSTER_ACTION },
	{ KP_API_ALTER_ISR, PRE_CLUSTER, KP_ACL_OP_CLUSTER_ACTION },
	/* cluster administration */
	{ KP_API_DESCRIBE_ACLS, PRE_CLUSTER, KP_ACL_OP_DESCRIBE },
	{ KP_API_CREATE_ACLS, PRE_CLUSTER, KP_ACL_OP_ALTER },
	{ KP_API_DELETE_ACLS, PRE_CLUSTER, KP_ACL_OP_ALTER },
	{ KP_API_ELECT_LEADERS, PRE_CLUSTER, KP_ACL_OP_ALTER },
	{ KP_API_ALTER_PARTITION_REASSIGNMENTS, PRE_CLUSTER, KP_ACL_OP_ALTER },
	{ KP_API_LIST_PARTITION_REASSIGNMENTS, PRE_CLUSTER, KP_ACL_OP_DESCRIBE },
	{ KP_API_DESCRIBE_USER_SCRAM_CREDENTIALS, PRE_CLUSTER, KP_ACL_OP_DESCRIBE },
	{ KP_API_ALTER_USER_SCRAM_CREDENTIALS, PRE_CLUSTER, KP_ACL_OP_ALTER },
	{ KP_API_UPDATE_FEATURES, PRE_CLUSTER, KP_ACL_OP_ALTER },
	/* groups */
	{ KP_API_JOIN_GROUP, PRE_GROUP, KP_ACL_OP_READ },
	{ KP_API_SYNC_GROUP, PRE_GROUP, KP_ACL_OP_READ },
	{ KP_API_HEARTBEAT, PRE_GROUP, KP_ACL_OP_READ },
	{ KP_API_LEAVE_GROUP, PRE_GROUP, KP_ACL_OP_READ },
	{ KP_API_OFFSET_COMMIT, PRE_GROUP, KP_ACL_OP_READ },
	{ KP_API_OFFSET_FETCH, PRE_GROUP, KP_ACL_OP_DESCRIBE },
	{ KP_API_OFFSET_DELETE, PRE_GROUP, KP_ACL_OP_DELETE },
	{ KP_API_TXN_OFFSET_COMMIT, PRE_GROUP, KP_ACL_OP_READ },
	{ KP_API_FIND_COORDINATOR, PRE_FIND_COORDINATOR, KP_ACL_OP_DESCRIBE },
	{ KP_API_INIT_PRODUCER_ID, PRE_INIT_PRODUCER_ID, KP_ACL_OP_WRITE },
	/* transactions (the topics of AddPartitionsToTxn: api_txn.c) */
	{ KP_API_ADD_PARTITIONS_TO_TXN, PRE_TXN, KP_ACL_OP_WRITE },
	{ KP_API_ADD_OFFSETS_TO_TXN, PRE_TXN, KP_ACL_OP_WRITE },
	{ KP_API_END_TXN, PRE_TXN, KP_ACL_OP_WRITE },
};

/* A field of d present at version v, or NULL. */
static const struct kp_field_desc *field(const struct kp_struct_desc *d, const char *name,
					 int16_t v)
{
	for (uint16_t i = 0; i < d->nfields; i++)
		if (strcmp(d->fields[i].name, name) == 0 && v >= d->fields[i].vmin &&
		    v <= d->fields[i].vmax && !d->fields[i].array)
			return &d->fields[i];
	return NULL;
}

static bool get_str(const struct net_req *r, const char *name, kp_str *out)
{
	const struct kp_field_desc *f = field(r->api->req, name, r->h.api_version);

	if (f == NULL || f->type != KP_FT_STRING)
		return false;
	memcpy(out, (const uint8_t *)r->body + f->off, sizeof(*out));
	return true;
}

/* OffsetCommit: the error for every partition the request names. */
static void deny_offset_commit(struct net_req *r, int16_t err)
{
	const struct kp_offset_commit_req *req = r->body;
	struct kp_offset_commit_resp resp;
	int32_t nt = req->topics_count > 0 ? req->topics_count : 0;
	struct kp_offset_commit_resp_offset_commit_response_topic *ts =
		kp_arena_calloc(&r->arena, (size_t)nt + 1, sizeof(*ts));

	if (ts == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	kp_struct_init(r->api->resp, &resp);
	for (int32_t i = 0; i < nt; i++) {
		int32_t np = req->topics[i].partitions_count > 0 ?
			     req->topics[i].partitions_count : 0;
		struct kp_offset_commit_resp_offset_commit_response_partition *ps =
			kp_arena_calloc(&r->arena, (size_t)np + 1, sizeof(*ps));

		if (ps == NULL) {
			net_req_fail(r, "out of memory");
			return;
		}
		kp_struct_init(&kp_offset_commit_resp_offset_commit_response_topic_desc, &ts[i]);
		ts[i].name = req->topics[i].name;
		for (int32_t k = 0; k < np; k++) {
			kp_struct_init(&kp_offset_commit_resp_offset_commit_response_partition_desc,
				       &ps[k]);
			ps[k].partition_index = req->topics[i].partitions[k].partition_index;
			ps[k].error_code = err;
		}
		ts[i].partitions = ps;
		ts[i].partitions_count = np;
	}
	resp.topics = ts;
	resp.topics_count = nt;
	net_reply(r, &resp);
}

/* The responses without a top-level error: err in every item, as Kafka's
 * getErrorResponse of each.  False when r is not one of them. */
static bool deny_items(struct net_req *r, int16_t err)
{
	switch (r->h.api_key) {
	case KP_API_CREATE_ACLS: {
		const struct kp_create_acls_req *req = r->body;
		struct kp_create_acls_resp resp;
		int32_t n = req->creations_count > 0 ? req->creations_count : 0;
		struct kp_create_acls_resp_acl_creation_result *v =
			kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*v));

		if (v == NULL)
			break;
		kp_struct_init(r->api->resp, &resp);
		for (int32_t i = 0; i < n; i++) {
			kp_struct_init(&kp_create_acls_resp_acl_creation_result_desc, &v[i]);
			v[i].error_code = err;
			v[i].error_message = kp_str_c(kp_err_message(err));
		}
		resp.results = v;
		resp.results_count = n;
		net_reply(r, &resp);
		return true;
	}
	case KP_API_DELETE_ACLS: {
		const struct kp_delete_acls_req *req = r->body;
		struct kp_delete_acls_resp resp;
		int32_t n = req->filters_count > 0 ? req->filters_count : 0;
		struct kp_delete_acls_resp_delete_acls_filter_result *v =
			kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*v));

		if (v == NULL)
			break;
		kp_struct_init(r->api->resp, &resp);
		for (int32_t i = 0; i < n; i++) {
			kp_struct_init(&kp_delete_acls_resp_delete_acls_filter_result_desc, &v[i]);
			v[i].error_code = err;
			v[i].error_message = kp_str_c(kp_err_message(err));
			v[i].matching_acls = NULL;
			v[i].matching_acls_count = 0;
		}
		resp.filter_results = v;
		resp.filter_results_count = n;
		net_reply(r, &resp);
		return true;
	}
	case KP_API_ADD_PARTITIONS_TO_TXN: {
		const struct kp_add_partitions_to_txn_req *req = r->body;
		struct kp_add_partitions_to_txn_resp resp;
		int32_t nt = req->topics_count > 0 ? req->topics_count : 0;
		struct kp_add_partitions_to_txn_resp_add_partitions_to_txn_topic_result *ts =
			kp_arena_calloc(&r->arena, (size_t)nt + 1, sizeof(*ts));

		if (ts == NULL)
			break;
		kp_struct_init(r->api->resp, &resp);
		for (int32_t i = 0; i < nt; i++) {
			int32_t np = req->topics[i].partitions_count > 0 ?
				     req->topics[i].partitions_count : 0;
			struct kp_add_partitions_to_txn_resp_add_partitions_to_txn_partition_result *ps =
				kp_arena_calloc(&r->arena, (size_t)np + 1, sizeof(*ps));

			if (ps == NULL) {
				net_req_fail(r, "out of memory");
				return true;
			}
			kp_struct_init(&kp_add_partitions_to_txn_resp_add_partitions_to_txn_topic_result_desc,
				       &ts[i]);
			ts[i].name = req->topics[i].name;
			for (int32_t k = 0; k < np; k++) {
				kp_struct_init(&kp_add_partitions_to_txn_resp_add_partitions_to_txn_partition_result_desc,
					       &ps[k]);
				ps[k].partition_index = req->topics[i].partitions[k];
				ps[k].error_code = err;
			}
			ts[i].results = ps;
			ts[i].results_count = np;
		}
		resp.results = ts;
		resp.results_count = nt;
		net_reply(r, &resp);
		return true;
	}
	case KP_API_ELECT_LEADERS: {
		struct kp_elect_leaders_resp resp;

		kp_struct_init(r->api->resp, &resp);
		if (!kp_answer_elect_leaders(r->body, err, &resp, &r->arena))
			break;
		net_reply(r, &resp);
		return true;
	}
	case KP_API_ALTER_USER_SCRAM_CREDENTIALS: {
		const struct kp_alter_user_scram_credentials_req *req = r->body;
		struct kp_alter_user_scram_credentials_resp resp;
		int32_t nd = req->deletions_count > 0 ? req->deletions_count : 0;
		int32_t nu = req->upsertions_count > 0 ? req->upsertions_count : 0;
		int32_t n = 0;
		struct kp_alter_user_scram_credentials_resp_alter_user_scram_credentials_result *v =
			kp_arena_calloc(&r->arena, (size_t)(nd + nu) + 1, sizeof(*v));

		if (v == NULL)
			break;
		kp_struct_init(r->api->resp, &resp);
		for (int32_t i = 0; i < nd + nu; i++) {
			kp_str u = i < nd ? req->deletions[i].name : req->upsertions[i - nd].name;
			bool seen = false;

			for (int32_t k = 0; k < n && !seen; k++)
				seen = kp_str_eq(v[k].user, u);
			if (seen)
				continue;
			kp_struct_init(&kp_alter_user_scram_credentials_resp_alter_user_scram_credentials_result_desc,
				       &v[n]);
			v[n].user = u;
			v[n].error_code = err;
			v[n].error_message = kp_str_c(kp_err_message(err));
			n++;
		}
		resp.results = v;
		resp.results_count = n;
		net_reply(r, &resp);
		return true;
	}
	default:
		return false;
	}
	net_req_fail(r, "out of memory");
	return true;
}

/* Answer r with err in its response's top-level error_code (or in every
 * item of the responses that have none). */
static void deny(struct net_req *r, int16_t err)
{
	const struct kp_field_desc *f;
	void *resp;

	if (r->h.api_key == KP_API_OFFSET_COMMIT) {
		deny_offset_commit(r, err);
		return;
	}
	if (deny_items(r, err))
		return;
	f = field(r->api->resp, "error_code", r->h.api_version);
	resp = kp_arena_calloc(&r->arena, 1, r->api->resp->size);
	if (resp == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	kp_struct_init(r->api->resp, resp);
	if (f == NULL) {
		/* a version without a top-level error (OffsetFetch v0-1):
		 * nothing to say it in but an empty answer, as Kafka's
		 * v0-1 OffsetFetch for a group it may not see */
		net_reply(r, resp);
		return;
	}
	memcpy((uint8_t *)resp + f->off, &err, sizeof(err));
	net_reply(r, resp);
}

bool authz_precheck(struct net_req *r)
{
	const struct pre *p = NULL;
	kp_str name;

	if (r->worker->broker->authz == NULL)
		return true;
	for (size_t i = 0; i < sizeof(pres) / sizeof(pres[0]); i++)
		if (pres[i].key == r->h.api_key)
			p = &pres[i];
	if (p == NULL)
		return true;
	switch (p->kind) {
	case PRE_CLUSTER:
		if (authz_cluster(r, p->op))
			return true;
		deny(r, KP_ERR_CLUSTER_AUTHORIZATION_FAILED);
		return false;
	case PRE_GROUP:
		if (!get_str(r, "group_id", &name) ||
		    authz_ok_str(r, p->op, KP_ACL_RT_GROUP, name))
			return true;
		deny(r, KP_ERR_GROUP_AUTHORIZATION_FAILED);
		return false;
	case PRE_FIND_COORDINATOR: {
		const struct kp_find_coordinator_req *req = r->body;
		bool txn = r->h.api_version >= 1 && req->key_type == 1;

		if (authz_ok_str(r, KP_ACL_OP_DESCRIBE,
				 txn ? KP_ACL_RT_TXN_ID : KP_ACL_RT_GROUP, req->key))
			return true;
		deny(r, txn ? KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED :
			      KP_ERR_GROUP_AUTHORIZATION_FAILED);
		return false;
	}
	case PRE_TXN:
		/* as Kafka's KafkaApis: the transactional id first */
		if (get_str(r, "transactional_id", &name) &&
		    !authz_ok_str(r, p->op, KP_ACL_RT_TXN_ID, name)) {
			deny(r, KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
			return false;
		}
		if (r->h.api_key == KP_API_ADD_OFFSETS_TO_TXN && get_str(r, "group_id", &name) &&
		    !authz_ok_str(r, KP_ACL_OP_READ, KP_ACL_RT_GROUP, name)) {
			deny(r, KP_ERR_GROUP_AUTHORIZATION_FAILED);
			return false;
		}
		return true;
	case PRE_INIT_PRODUCER_ID: {
		const struct kp_init_producer_id_req *req = r->body;

		if (req->transactional_id.ptr != NULL && req->transactional_id.len >= 0) {
			if (authz_ok_str(r, KP_ACL_OP_WRITE, KP_ACL_RT_TXN_ID,
					 req->transactional_id))
				return true;
			deny(r, KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
			return false;
		}
		if (check(r, KP_ACL_OP_IDEMPOTENT_WRITE, KP_ACL_RT_CLUSTER,
			  KP_ACL_CLUSTER_NAME, false) ||
		    authz_any(r, KP_ACL_OP_WRITE, KP_ACL_RT_TOPIC))
			return true;
		deny(r, KP_ERR_CLUSTER_AUTHORIZATION_FAILED);
		return false;
	}
	}
	return true;
}
