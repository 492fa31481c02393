/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_scram.c - DescribeUserScramCredentials (50) and
 * AlterUserScramCredentials (51), KIP-554, as a ZooKeeper-mode Kafka 2.8
 * broker answers them: the credentials live in /config/users/<user>
 * under the keys SCRAM-SHA-256 / SCRAM-SHA-512 (scram_users.h); an
 * alteration rewrites the node, keeping its other keys (quotas), and
 * writes the /config/changes notification every broker's watcher turns
 * into a reload of that user.  Both run on the ZooKeeper thread.
 *
 * Checks, with Kafka's errors and messages: an empty user name, an
 * unknown mechanism, too few or too many iterations, a (user, mechanism)
 * named twice, deleting a credential that does not exist.  Any error of
 * a user leaves all of that user's changes undone; one result per user.
 * Describe lists mechanisms and iterations, never salts or keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "broker.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "kp_sasl.h"
#include "kp_zk.h"
#include "kp_zkdata.h"
#include "net.h"
#include "zk_admin.h"
#include "zk_thread.h"

#define COUNT(n) ((n) > 0 ? (n) : 0)

struct scram_job {
	struct net_req *r;
	void *resp;
	bool oom;
	void (*run)(struct scram_job *);
};

static void job_run(void *arg)
{
	struct scram_job *j = arg;

	j->run(j);
}

static void job_done(void *arg, bool ran)
{
	struct scram_job *j = arg;

	if (!ran)
		net_req_fail(j->r, "the broker is stopping");
	else if (j->oom || j->resp == NULL)
		net_req_fail(j->r, "out of memory");
	else
		net_reply(j->r, j->resp);
}

static void start(struct net_req *r, void (*run)(struct scram_job *))
{
	struct scram_job *j;

	if (net_req_detach(r) < 0 ||
	    (j = kp_arena_calloc(&r->arena, 1, sizeof(*j))) == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	j->r = r;
	j->run = run;
	zk_thread_call(r->worker->broker, r->worker->home, job_run, job_done, j);
}

/* A NUL-terminated copy in the arena, or NULL. */
static char *cstr(struct kp_arena *a, kp_str s)
{
	size_t n = s.len > 0 ? (size_t)s.len : 0;
	char *p = kp_arena_alloc(a, n + 1);

	if (p != NULL) {
		if (n > 0)
			memcpy(p, s.ptr, n);
		p[n] = '\0';
	}
	return p;
}

static kp_str amsg(struct kp_arena *a, const char *m)
{
	kp_str s = { m, (int32_t)strlen(m) };
	char *p = cstr(a, s);

	return p != NULL ? kp_str_c(p) : kp_str_c("out of memory");
}

/* ------------------------------------------------------------ describe */

typedef struct kp_describe_user_scram_credentials_resp_describe_user_scram_credentials_result
	describe_result;
typedef struct kp_describe_user_scram_credentials_resp_credential_info cred_info;

/* One user's result from ZooKeeper; false when out of memory. */
static bool describe_user(struct net_req *r, const char *name, bool named,
			  describe_result *out)
{
	struct broker *b = r->worker->broker;
	struct kp_zk_entity_config c;
	cred_info *ci = kp_arena_calloc(&r->arena, 3, sizeof(*ci));
	char err[512];
	int32_t n = 0;

	if (ci == NULL)
		return false;
	kp_struct_init(&kp_describe_user_scram_credentials_resp_describe_user_scram_credentials_result_desc,
		       out);
	out->user = amsg(&r->arena, name);
	if (zk_admin_read_config(b->zk, "users", name, &c, err, sizeof(err)) < 0) {
		out->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
		out->error_message = amsg(&r->arena, err);
		return true;
	}
	for (int m = KP_SCRAM_SHA_256; m <= KP_SCRAM_SHA_512; m++) {
		const char *v = kp_zk_config_get(&c, kp_scram_mech_name(m));
		struct kp_scram_cred cred;

		if (v == NULL || kp_scram_cred_parse(m, v, &cred, err, sizeof(err)) < 0)
			continue;
		kp_struct_init(&kp_describe_user_scram_credentials_resp_credential_info_desc,
			       &ci[n]);
		ci[n].mechanism = (int8_t)m;
		ci[n].iterations = cred.iterations;
		n++;
	}
	kp_zk_config_free(&c);
	if (n == 0 && named) {
		out->error_code = KP_ERR_RESOURCE_NOT_FOUND;
		out->error_message = kp_str_c("Attempt to describe a user credential that "
					      "does not exist");
	}
	out->credential_infos = ci;
	out->credential_infos_count = n;
	return true;
}

static void describe_run(struct scram_job *j)
{
	struct net_req *r = j->r;
	struct broker *b = r->worker->broker;
	const struct kp_describe_user_scram_credentials_req *req = r->body;
	struct kp_describe_user_scram_credentials_resp *resp;
	int32_t nu = COUNT(req->users_count), n = 0;
	describe_result *res;
	struct kp_zk_result kids;

	memset(&kids, 0, sizeof(kids));
	resp = kp_arena_calloc(&r->arena, 1, sizeof(*resp));
	if (resp == NULL) {
		j->oom = true;
		return;
	}
	kp_struct_init(r->api->resp, resp);
	if (nu == 0) {
		/* null or empty: every user with a credential */
		int rc = kp_zk_children_sync(b->zk, "/config/users", &kids);

		if (rc != KP_ZK_OK && rc != KP_ZK_NONODE) {
			resp->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
			resp->error_message = amsg(&r->arena, kp_zk_strerror(rc));
			kp_zk_result_free(&kids);
			j->resp = resp;
			return;
		}
	}
	res = kp_arena_calloc(&r->arena, (size_t)(nu > 0 ? nu : kids.nchildren) + 1,
			      sizeof(*res));
	if (res == NULL) {
		kp_zk_result_free(&kids);
		j->oom = true;
		return;
	}
	for (int32_t i = 0; nu == 0 && i < kids.nchildren; i++) {
		if (!describe_user(r, kids.children[i], false, &res[n])) {
			j->oom = true;
			break;
		}
		if (res[n].credential_infos_count > 0 || res[n].error_code != 0)
			n++;
	}
	kp_zk_result_free(&kids);
	for (int32_t i = 0; i < nu && !j->oom; i++) {
		kp_str u = req->users[i].name;
		bool dup = false;
		char *name = cstr(&r->arena, u);

		for (int32_t k = 0; k < nu; k++)
			dup = dup || (k != i && kp_str_eq(req->users[k].name, u));
		if (name == NULL) {
			j->oom = true;
			break;
		}
		if (dup) {
			kp_struct_init(&kp_describe_user_scram_credentials_resp_describe_user_scram_credentials_result_desc,
				       &res[n]);
			res[n].user = u;
			res[n].error_code = KP_ERR_DUPLICATE_RESOURCE;
			res[n].error_message = kp_str_c("Cannot describe SCRAM credentials for "
							"the same user twice in a single "
							"request");
			res[n].credential_infos = NULL;
			res[n].credential_infos_count = 0;
		} else if (!describe_user(r, name, true, &res[n])) {
			j->oom = true;
			break;
		}
		n++;
	}
	resp->results = res;
	resp->results_count = n;
	j->resp = resp;
}

void api_describe_user_scram_credentials(struct net_req *r)
{
	start(r, describe_run);
}

/* --------------------------------------------------------------- alter */

typedef struct kp_alter_user_scram_credentials_resp_alter_user_scram_credentials_result
	alter_result;

/* A (user, mechanism) change, deletions first. */
struct change {
	kp_str user;
	int8_t mech;
	bool del;
	const struct kp_alter_user_scram_credentials_req_scram_credential_upsertion *up;
};

/* The first error of one change checked alone, or 0. */
static kp_err_t check_change(const struct change *c, const char **msg)
{
	if (c->user.len <= 0) {
		*msg = "Username must not be empty";
		return KP_ERR_UNACCEPTABLE_CREDENTIAL;
	}
	if (kp_scram_mech_name(c->mech) == NULL) {
		*msg = "Unknown SCRAM mechanism";
		return KP_ERR_UNSUPPORTED_SASL_MECHANISM;
	}
	if (c->del)
		return 0;
	if (c->up->iterations < KP_SCRAM_MIN_ITERATIONS) {
		*msg = "Too few iterations";
		return KP_ERR_UNACCEPTABLE_CREDENTIAL;
	}
	if (c->up->iterations > KP_SCRAM_MAX_ITERATIONS) {
		*msg = "Too many iterations";
		return KP_ERR_UNACCEPTABLE_CREDENTIAL;
	}
	if (c->up->salted_password.len != (int32_t)kp_scram_hash_len(c->mech) ||
	    c->up->salt.len <= 0 || c->up->salt.len > KP_SCRAM_MAX_SALT) {
		*msg = "Invalid salt or salted password";
		return KP_ERR_UNACCEPTABLE_CREDENTIAL;
	}
	return 0;
}

/* Apply every change of user u (all checked) to ZooKeeper. */
static kp_err_t alter_user(struct net_req *r, const char *user, const struct change *cs,
			   int32_t nc, char *msg, size_t msglen)
{
	struct broker *b = r->worker->broker;
	struct kp_zk_entity_config cfg;
	kp_err_t err;

	if (zk_admin_read_config(b->zk, "users", user, &cfg, msg, msglen) < 0)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	for (int32_t i = 0; i < nc; i++) {
		const char *key = kp_scram_mech_name(cs[i].mech);
		struct kp_scram_cred cred;
		char text[512];

		if (cs[i].del) {
			if (kp_zk_config_get(&cfg, key) == NULL) {
				snprintf(msg, msglen, "Attempt to delete a user credential "
					 "that does not exist");
				kp_zk_config_free(&cfg);
				return KP_ERR_RESOURCE_NOT_FOUND;
			}
			kp_zk_config_set(&cfg, key, NULL);
			continue;
		}
		if (kp_scram_cred_from_salted(cs[i].mech, cs[i].up->salted_password.ptr,
					      (size_t)cs[i].up->salted_password.len,
					      cs[i].up->salt.ptr, (size_t)cs[i].up->salt.len,
					      cs[i].up->iterations, &cred) < 0 ||
		    kp_scram_cred_format(&cred, text, sizeof(text)) < 0 ||
		    kp_zk_config_set(&cfg, key, text) < 0) {
			snprintf(msg, msglen, "cannot derive the credential");
			kp_zk_config_free(&cfg);
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		}
	}
	err = zk_admin_write_config(b, "users", user, &cfg, msg, msglen);
	kp_zk_config_free(&cfg);
	return err;
}

static void alter_run(struct scram_job *j)
{
	struct net_req *r = j->r;
	const struct kp_alter_user_scram_credentials_req *req = r->body;
	struct kp_alter_user_scram_credentials_resp *resp;
	int32_t nd = COUNT(req->deletions_count), nu = COUNT(req->upsertions_count);
	int32_t nc = nd + nu, nr = 0;
	struct change *cs = kp_arena_calloc(&r->arena, (size_t)nc + 1, sizeof(*cs));
	struct change *mine = kp_arena_calloc(&r->arena, (size_t)nc + 1, sizeof(*mine));
	alter_result *res = kp_arena_calloc(&r->arena, (size_t)nc + 1, sizeof(*res));

	resp = kp_arena_calloc(&r->arena, 1, sizeof(*resp));
	if (cs == NULL || mine == NULL || res == NULL || resp == NULL) {
		j->oom = true;
		return;
	}
	kp_struct_init(r->api->resp, resp);
	for (int32_t i = 0; i < nd; i++)
		cs[i] = (struct change){ req->deletions[i].name, req->deletions[i].mechanism,
					 true, NULL };
	for (int32_t i = 0; i < nu; i++)
		cs[nd + i] = (struct change){ req->upsertions[i].name,
					      req->upsertions[i].mechanism, false,
					      &req->upsertions[i] };
	for (int32_t i = 0; i < nc; i++) {
		const char *m = NULL;
		kp_err_t err = 0;
		int32_t k = 0;
		bool seen = false;
		char msg[512] = "", *name;

		for (int32_t p = 0; p < i && !seen; p++)
			seen = kp_str_eq(cs[p].user, cs[i].user);
		if (seen)
			continue;
		/* this user's changes, each checked, then the pairs twice named */
		for (int32_t p = i; p < nc; p++) {
			if (!kp_str_eq(cs[p].user, cs[i].user))
				continue;
			if (err == 0)
				err = check_change(&cs[p], &m);
			for (int32_t q = 0; q < k && err == 0; q++)
				if (mine[q].mech == cs[p].mech) {
					err = KP_ERR_DUPLICATE_RESOURCE;
					m = "A user credential cannot be altered twice in the "
					    "same request";
				}
			mine[k++] = cs[p];
		}
		if (err != 0)
			snprintf(msg, sizeof(msg), "%s", m);
		name = cstr(&r->arena, cs[i].user);
		if (name == NULL) {
			j->oom = true;
			return;
		}
		if (err == 0)
			err = alter_user(r, name, mine, k, msg, sizeof(msg));
		kp_struct_init(&kp_alter_user_scram_credentials_resp_alter_user_scram_credentials_result_desc,
			       &res[nr]);
		res[nr].user = cs[i].user;
		res[nr].error_code = err;
		res[nr].error_message = err != 0 ? amsg(&r->arena, msg) : KP_STR_NULL;
		if (err != 0)
			KP_INFO("%s: AlterUserScramCredentials of %s: %s", r->peer, name, msg);
		else
			KP_INFO("%s: SCRAM credentials of user %s altered", r->peer, name);
		nr++;
	}
	resp->results = res;
	resp->results_count = nr;
	j->resp = resp;
}

void api_alter_user_scram_credentials(struct net_req *r)
{
	start(r, alter_run);
}
