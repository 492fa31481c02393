/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_config.c - DescribeConfigs, AlterConfigs, IncrementalAlterConfigs.
 *
 * Topics and brokers only (as Kafka 2.8 in ZooKeeper mode; client quota
 * and user entities have their own APIs, not built).  A topic's
 * configuration is its overrides in /config/topics/<t> over the broker's
 * layers (topic_config.h, config_layers.h); a BROKER resource is our id or
 * "" for the cluster-wide default.  Alterations are validated - topic keys
 * by kp_topic_config (unknown key INVALID_CONFIG, bad value
 * INVALID_REQUEST), broker keys by Kafka's DynamicBrokerConfig rules
 * (config_layers_check_update) - and written with the change notification
 * every broker watches (zk_admin.h; dynconfig.c applies them).
 *
 * Each request's work runs on the ZooKeeper thread (zk_thread.h), the
 * answer is sent from the request's worker: a delayed operation that
 * completes when the thread is done.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "authz.h"
#include "broker.h"
#include "config_describe.h"
#include "config_layers.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "kp_topic_config.h"
#include "kp_zk.h"
#include "net.h"
#include "quota.h"
#include "tls_reload.h"
#include "zk_admin.h"
#include "zk_thread.h"

#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4

/* A NUL-terminated copy in the request's arena ("" for a null string). */
static char *arena_cstr(struct kp_arena *a, kp_str s)
{
	return kp_arena_strndup(a, s.ptr, (size_t)(s.len > 0 ? s.len : 0));
}

static char *arena_cstr_or_null(struct kp_arena *a, kp_str s)
{
	return s.ptr == NULL && s.len < 0 ? NULL : arena_cstr(a, s);
}

static kp_str arena_msg(struct kp_arena *a, const char *msg)
{
	return kp_str_c(kp_arena_sprintf(a, "%s", msg));
}

/*
 * A BROKER resource's name: "" (the cluster default) or our id, as an
 * integer the way Java parses it.  0 or INVALID_REQUEST with Kafka's text.
 */
static kp_err_t broker_name_check(struct broker *b, const char *name,
				  bool describe, char *msg, size_t n)
{
	const char *d = name[0] == '-' || name[0] == '+' ? name + 1 : name;
	char *end;
	long long id;

	if (name[0] == 0)
		return 0;
	errno = 0;
	id = strtoll(name, &end, 10);
	if (*d < '0' || *d > '9' || *end != 0 || errno != 0 || id < INT32_MIN ||
	    id > INT32_MAX) {
		snprintf(msg, n, "Broker id must be an integer, but it is: %s", name);
		return KP_ERR_INVALID_REQUEST;
	}
	if (id != b->id) {
		snprintf(msg, n, "Unexpected broker id, expected %d%s, but received %s",
			 b->id, describe ? " or empty string" : "", name);
		return KP_ERR_INVALID_REQUEST;
	}
	return 0;
}

/* ------------------------------------------ on the ZooKeeper thread */

/* One request: the response built on the ZooKeeper thread. */
struct config_job {
	struct net_req *r;
	void *resp;
	bool oom;
	void (*run)(struct config_job *);
};

static void job_run(void *arg)
{
	struct config_job *j = arg;

	j->run(j);
}

static void job_done(void *arg, bool ran)
{
	struct config_job *j = arg;

	if (!ran)
		net_req_fail(j->r, "the broker is stopping");
	else if (j->oom || j->resp == NULL)
		net_req_fail(j->r, "out of memory");
	else
		net_reply(j->r, j->resp);
}

static void start(struct net_req *r, void (*run)(struct config_job *))
{
	struct config_job *j;

	if (net_req_detach(r) < 0 ||
	    (j = kp_arena_calloc(&r->arena, 1, sizeof(*j))) == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	j->r = r;
	j->run = run;
	zk_thread_call(r->worker->broker, r->worker->home, job_run, job_done, j);
}

/* ---------------------------------------------------- DescribeConfigs */

/* As Kafka's KafkaApis: DescribeConfigs or AlterConfigs on the topic, or
 * on the cluster for a broker or broker logger (authz.h); 0 or the
 * error. */
static kp_err_t config_authz(struct net_req *r, int8_t type, const char *name, bool alter)
{
	int op = alter ? KP_ACL_OP_ALTER_CONFIGS : KP_ACL_OP_DESCRIBE_CONFIGS;

	if (type == RESOURCE_TOPIC)
		return authz_ok(r, op, KP_ACL_RT_TOPIC, name) ? 0
			: KP_ERR_TOPIC_AUTHORIZATION_FAILED;
	return authz_cluster(r, op) ? 0 : KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
}

static kp_err_t describe_one(struct net_req *r,
			     const struct kp_describe_configs_req_describe_configs_resource *in,
			     struct kp_describe_configs_resp_describe_configs_result *out,
			     char *msg, size_t n)
{
	struct broker *b = r->worker->broker;
	const struct kp_describe_configs_req *req = r->body;
	bool synonyms = r->h.api_version >= 1 && req->include_synonyms;
	bool docs = r->h.api_version >= 3 && req->include_documentation;
	char *name = arena_cstr(&r->arena, in->resource_name);
	int rc;

	if (name == NULL)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	rc = config_authz(r, in->resource_type, name, false);
	if (rc != 0) {
		snprintf(msg, n, "%s", kp_err_message((kp_err_t)rc));
		return (kp_err_t)rc;
	}
	if (in->resource_type == RESOURCE_TOPIC) {
		struct kp_zk_entity_config over;
		char why[512];
		int16_t err = zk_admin_topic_name_check(name, msg, n);

		if (err != 0)
			return err;
		rc = zk_admin_topic_exists(b, name);
		if (rc == KP_ZK_NONODE) {
			snprintf(msg, n, "Topic %s does not exist", name);
			return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		}
		if (rc != KP_ZK_OK) {
			snprintf(msg, n, "ZooKeeper: %s", kp_zk_strerror(rc));
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		}
		if (zk_admin_read_config(b->zk, "topics", name, &over, why,
					 sizeof(why)) < 0) {
			snprintf(msg, n, "%s", why);
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		}
		rc = config_describe_topic(b, &r->arena, &over, in->configuration_keys,
					   in->configuration_keys_count, synonyms, docs,
					   &out->configs, &out->configs_count);
		kp_zk_config_free(&over);
		return rc < 0 ? KP_ERR_UNKNOWN_SERVER_ERROR : 0;
	}
	if (in->resource_type == RESOURCE_BROKER) {
		int16_t err = broker_name_check(b, name, true, msg, n);

		if (err != 0)
			return err;
		/* "": the cluster-wide dynamic defaults */
		rc = config_describe_broker(b, &r->arena, name[0] != 0,
					    in->configuration_keys,
					    in->configuration_keys_count, synonyms, docs,
					    &out->configs, &out->configs_count);
		return rc < 0 ? KP_ERR_UNKNOWN_SERVER_ERROR : 0;
	}
	snprintf(msg, n, "Unsupported resource type %d", in->resource_type);
	return KP_ERR_INVALID_REQUEST;
}

static void describe_run(struct config_job *j)
{
	struct net_req *r = j->r;
	const struct kp_describe_configs_req *req = r->body;
	struct kp_describe_configs_resp *resp;
	int32_t n = req->resources_count > 0 ? req->resources_count : 0;
	struct kp_describe_configs_resp_describe_configs_result *res;

	resp = kp_arena_calloc(&r->arena, 1, sizeof(*resp));
	res = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*res));
	if (resp == NULL || res == NULL) {
		j->oom = true;
		return;
	}
	kp_struct_init(r->api->resp, resp);
	for (int32_t i = 0; i < n; i++) {
		const struct kp_describe_configs_req_describe_configs_resource *in =
			&req->resources[i];
		char msg[512] = "";

		kp_struct_init(&kp_describe_configs_resp_describe_configs_result_desc, &res[i]);
		res[i].resource_type = in->resource_type;
		res[i].resource_name = in->resource_name;
		res[i].error_code = describe_one(r, in, &res[i], msg, sizeof(msg));
		if (res[i].error_code != 0) {
			res[i].error_message = arena_msg(&r->arena, msg);
			res[i].configs_count = 0;
		} else {
			res[i].error_message = KP_STR_NULL;
		}
	}
	resp->results = res;
	resp->results_count = n;
	j->resp = resp;
}

void api_describe_configs(struct net_req *r)
{
	start(r, describe_run);
}

/* ------------------------------- AlterConfigs, IncrementalAlterConfigs */

enum { OP_SET = 0, OP_DELETE = 1, OP_APPEND = 2, OP_SUBTRACT = 3, OP_REPLACE = -1 };

/* One requested change; AlterConfigs' entries are OP_REPLACE. */
struct alter_op {
	const char *name;
	const char *value;	/* NULL: null */
	int8_t op;
};

/* Kafka's list arithmetic: APPEND adds what is not there yet, SUBTRACT
 * removes every occurrence; entries are trimmed, empty ones dropped. */
static int list_apply(struct kp_zk_entity_config *c, const char *key,
		      const char *dflt, const char *value, bool append)
{
	const char *old = kp_zk_config_get(c, key);
	char *out, *copy, *tok, *save = NULL;
	size_t cap;
	int rc;

	if (old == NULL)
		old = dflt != NULL ? dflt : "";
	cap = strlen(old) + strlen(value) + 2;
	out = calloc(1, cap);
	copy = malloc(strlen(old) + strlen(value) + 2);
	if (out == NULL || copy == NULL) {
		free(out);
		free(copy);
		return -1;
	}
	/* old entries, minus the subtracted ones */
	strcpy(copy, old);
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *t = tok, *e;
		bool drop = false;

		while (*t == ' ')
			t++;
		for (e = t + strlen(t); e > t && e[-1] == ' '; e--)
			;
		*e = 0;
		if (*t == 0)
			continue;
		if (!append) {
			const char *v = value;

			while (*v && !drop) {
				size_t l;

				while (*v == ' ')
					v++;
				l = strcspn(v, ",");
				while (l > 0 && v[l - 1] == ' ')
					l--;
				drop = l == strlen(t) && strncmp(v, t, l) == 0;
				v += strcspn(v, ",");
				if (*v == ',')
					v++;
			}
		}
		if (drop)
			continue;
		if (*out)
			strcat(out, ",");
		strcat(out, t);
	}
	if (append) {
		free(copy);
		copy = strdup(value);
		save = NULL;
		for (tok = copy != NULL ? strtok_r(copy, ",", &save) : NULL; tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			char *t = tok, *e, *p;
			size_t l;
			bool have = false;

			while (*t == ' ')
				t++;
			for (e = t + strlen(t); e > t && e[-1] == ' '; e--)
				;
			*e = 0;
			l = strlen(t);
			if (l == 0)
				continue;
			for (p = out; *p && !have; p += strcspn(p, ","), p += *p == ',') {
				have = strcspn(p, ",") == l && strncmp(p, t, l) == 0;
			}
			if (have)
				continue;
			if (*out)
				strcat(out, ",");
			strcat(out, t);
		}
	}
	rc = kp_zk_config_set(c, key, out);
	free(out);
	free(copy);
	return rc;
}

/*
 * The requested changes on top of cfg (the stored configuration for
 * IncrementalAlterConfigs, nothing for AlterConfigs).  APPEND and SUBTRACT
 * need the key's type: topic keys' or broker keys'.
 */
static kp_err_t apply_ops(struct kp_zk_entity_config *cfg, const struct alter_op *ops,
			  int32_t nops, bool topic, char *msg, size_t n)
{
	for (int32_t i = 0; i < nops; i++) {
		const struct alter_op *o = &ops[i];
		const struct kp_config_def *d = NULL;
		int rc = 0;

		if (o->op != OP_DELETE && o->op != OP_REPLACE && o->value == NULL) {
			snprintf(msg, n, "Null value not supported for : %s:%s",
				 o->op == OP_SET ? "SET" : o->op == OP_APPEND ? "APPEND"
				 : "SUBTRACT", o->name);
			return KP_ERR_INVALID_REQUEST;
		}
		switch (o->op) {
		case OP_REPLACE:
			if (o->value != NULL)	/* AlterConfigs ignores nulls */
				rc = kp_zk_config_set(cfg, o->name, o->value);
			break;
		case OP_SET:
			rc = kp_zk_config_set(cfg, o->name, o->value);
			break;
		case OP_DELETE:
			rc = kp_zk_config_set(cfg, o->name, NULL);
			break;
		case OP_APPEND:
		case OP_SUBTRACT:
			if (topic) {
				const struct kp_topic_config *tc = kp_topic_config_find(o->name);

				d = tc != NULL ? &tc->def : NULL;
			} else {
				d = config_layers_def(o->name);
			}
			if (d == NULL) {
				snprintf(msg, n, "Unknown %s config name: %s",
					 topic ? "topic" : "broker", o->name);
				return KP_ERR_INVALID_CONFIG;
			}
			if (d->type != KP_CFG_LIST) {
				snprintf(msg, n, "Config value %s is not allowed for config "
					 "key: %s", o->op == OP_APPEND ? "append" : "subtract",
					 o->name);
				return KP_ERR_INVALID_REQUEST;
			}
			rc = list_apply(cfg, o->name, d->def, o->value, o->op == OP_APPEND);
			break;
		default:
			snprintf(msg, n, "Unknown config operation %d for %s", o->op, o->name);
			return KP_ERR_INVALID_REQUEST;
		}
		if (rc < 0) {
			snprintf(msg, n, "out of memory");
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		}
	}
	return 0;
}

/* The whole new configuration of a topic, as LogConfig.validate. */
static kp_err_t validate_topic_cfg(const char *topic,
				   const struct kp_zk_entity_config *cfg,
				   char *msg, size_t n)
{
	char err[512];

	/* names first (InvalidConfigurationException), then values */
	for (size_t i = 0; i < cfg->n; i++)
		if (kp_topic_config_find(cfg->keys[i]) == NULL) {
			snprintf(msg, n, "Unknown topic config name: %s", cfg->keys[i]);
			return KP_ERR_INVALID_CONFIG;
		}
	for (size_t i = 0; i < cfg->n; i++) {
		const char *k = cfg->keys[i], *v = cfg->values[i];
		int rc;

		if (strcmp(k, QUOTA_LEADER_REPLICAS) == 0 ||
		    strcmp(k, QUOTA_FOLLOWER_REPLICAS) == 0)
			rc = throttle_list_validate(k, v, err, sizeof(err));
		else
			rc = kp_topic_config_validate(k, v, err, sizeof(err));
		if (rc < 0) {
			snprintf(msg, n, "Invalid config value for resource "
				 "ConfigResource(type=TOPIC, name='%s'): %s", topic, err);
			return KP_ERR_INVALID_REQUEST;
		}
	}
	return 0;
}

/*
 * The whole new configuration of a broker entity, as Kafka's
 * DynamicBrokerConfig.validate (config_layers_check_update), then, when
 * it is to be written, toPersistentProps' rule for password keys: Kafka
 * stores them encrypted with password.encoder.secret.
 */
static kp_err_t validate_broker_cfg(struct broker *b, const char *name,
				    const struct kp_zk_entity_config *cfg,
				    bool validate_only, char *msg, size_t n)
{
	char err[768];
	int16_t e = config_layers_check_update(b->layers, cfg, name[0] != 0, err,
					       sizeof(err));
	char id[16];

	/* our own listeners' new SSL stores must load (Kafka's SslFactory
	 * validation on the broker the entity names) */
	snprintf(id, sizeof(id), "%d", b->id);
	if (e == 0 && strcmp(name, id) == 0)
		e = tls_reload_check(b, cfg, err, sizeof(err));

	for (size_t i = 0; e == 0 && !validate_only && i < cfg->n; i++) {
		if (!config_layers_is_password(cfg->keys[i]))
			continue;
		e = KP_ERR_INVALID_REQUEST;
		if (name[0] == 0)
			snprintf(err, sizeof(err), "Password config can be defined only "
				 "at broker level");
		else if (!kp_config_is_set(&b->cfg, "password.encoder.secret"))
			snprintf(err, sizeof(err), "Password encoder secret not configured");
		else	/* Kafka's PasswordEncoder (PBKDF2 and AES) is not implemented */
			snprintf(err, sizeof(err), "Dynamic password config %s cannot be "
				 "stored: this broker does not encode passwords",
				 cfg->keys[i]);
	}
	if (e != 0)
		snprintf(msg, n, "Invalid config value for resource "
			 "ConfigResource(type=BROKER, name='%.64s'): %s", name, err);
	return e;
}

static kp_err_t alter_resource(struct net_req *r, int8_t type, const char *name,
			       const struct alter_op *ops, int32_t nops,
			       bool incremental, bool validate_only,
			       char *msg, size_t n)
{
	struct broker *b = r->worker->broker;
	struct kp_zk_entity_config cfg;
	const char *etype, *ename;
	int16_t err;
	int rc;

	err = config_authz(r, type, name, true);
	if (err != 0) {
		snprintf(msg, n, "%s", kp_err_message(err));
		return err;
	}
	if (b->zk == NULL) {
		snprintf(msg, n, "no ZooKeeper session");
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	/* IncrementalAlterConfigs names each key once */
	for (int32_t i = 0; incremental && i < nops; i++)
		for (int32_t j = 0; j < i; j++)
			if (strcmp(ops[i].name, ops[j].name) == 0) {
				snprintf(msg, n, "Error due to duplicate config keys");
				return KP_ERR_INVALID_REQUEST;
			}
	if (type == RESOURCE_TOPIC) {
		err = zk_admin_topic_name_check(name, msg, n);
		if (err != 0)
			return err;
		rc = zk_admin_topic_exists(b, name);
		if (rc == KP_ZK_NONODE) {
			snprintf(msg, n, "Topic '%s' does not exist.", name);
			return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		}
		if (rc != KP_ZK_OK) {
			snprintf(msg, n, "ZooKeeper: %s", kp_zk_strerror(rc));
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		}
		etype = "topics";
		ename = name;
	} else if (type == RESOURCE_BROKER) {
		err = broker_name_check(b, name, false, msg, n);
		if (err != 0)
			return err;
		etype = "brokers";
		ename = name[0] != 0 ? name : "<default>";
	} else {
		snprintf(msg, n, "AlterConfigs is only supported for topics and "
			 "brokers, but resource type is %d", type);
		return KP_ERR_INVALID_REQUEST;
	}
	memset(&cfg, 0, sizeof(cfg));
	if (incremental && zk_admin_read_config(b->zk, etype, ename, &cfg, msg, n) < 0)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	if (incremental && type == RESOURCE_BROKER)
		/* as Kafka's fromPersistentProps: what the broker ignores of
		 * the stored entity is dropped before the operations apply */
		for (size_t i = 0; i < cfg.n;) {
			char why[512];

			if (config_layers_check_key(cfg.keys[i], cfg.values[i],
						    name[0] != 0, why, sizeof(why)) != 0)
				kp_zk_config_set(&cfg, cfg.keys[i], NULL);
			else
				i++;
		}
	err = apply_ops(&cfg, ops, nops, type == RESOURCE_TOPIC, msg, n);
	if (err == 0)
		err = type == RESOURCE_TOPIC ? validate_topic_cfg(name, &cfg, msg, n)
					     : validate_broker_cfg(b, name, &cfg, validate_only,
								   msg, n);
	if (err == 0 && !validate_only) {
		err = zk_admin_write_config(b, etype, ename, &cfg, msg, n);
		if (err == 0)
			KP_INFO("%s: config of %s/%s changed (%zu keys set)", r->peer,
				etype, ename, cfg.n);
	}
	kp_zk_config_free(&cfg);
	return err;
}

/* One resource of either alteration request, its changes as alter_ops,
 * and its outcome. */
struct alter_target {
	int8_t type;
	char *name;
	struct alter_op *ops;
	int32_t nops;
	int16_t error;
	kp_str message;
};

/* Apply every target; false when out of memory. */
static bool alter_all(struct net_req *r, const char *api, struct alter_target *t,
		      int32_t n, bool incremental, bool validate_only)
{
	for (int32_t i = 0; i < n; i++) {
		char msg[1024] = "";

		if (t[i].ops == NULL || t[i].name == NULL)
			return false;
		t[i].error = alter_resource(r, t[i].type, t[i].name, t[i].ops, t[i].nops,
					    incremental, validate_only, msg, sizeof(msg));
		t[i].message = t[i].error != 0 ? arena_msg(&r->arena, msg) : KP_STR_NULL;
		if (t[i].error != 0)
			KP_INFO("%s: %s %d/%s: %s", r->peer, api, t[i].type, t[i].name, msg);
	}
	return true;
}

/* A change's name and value as NUL-terminated copies; false when out of
 * memory. */
static bool copy_op(struct kp_arena *a, struct alter_op *o, kp_str name, kp_str value,
		    int8_t op)
{
	o->name = arena_cstr(a, name);
	o->value = arena_cstr_or_null(a, value);
	o->op = op;
	return o->name != NULL && (o->value != NULL || value.len < 0);
}

static struct alter_target *targets(struct net_req *r, int32_t n)
{
	return kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(struct alter_target));
}

static void alter_run(struct config_job *j)
{
	struct net_req *r = j->r;
	const struct kp_alter_configs_req *req = r->body;
	struct kp_alter_configs_resp *resp;
	int32_t n = req->resources_count > 0 ? req->resources_count : 0;
	struct kp_alter_configs_resp_alter_configs_resource_response *res;
	struct alter_target *t = targets(r, n);

	resp = kp_arena_calloc(&r->arena, 1, sizeof(*resp));
	res = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*res));
	if (t == NULL || resp == NULL || res == NULL) {
		j->oom = true;
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		const struct kp_alter_configs_req_alter_configs_resource *in =
			&req->resources[i];
		int32_t nc = in->configs_count > 0 ? in->configs_count : 0;

		t[i].type = in->resource_type;
		t[i].name = arena_cstr(&r->arena, in->resource_name);
		t[i].ops = kp_arena_calloc(&r->arena, (size_t)nc + 1, sizeof(*t[i].ops));
		t[i].nops = nc;
		for (int32_t k = 0; t[i].ops != NULL && k < nc; k++)
			if (!copy_op(&r->arena, &t[i].ops[k], in->configs[k].name,
				     in->configs[k].value, OP_REPLACE))
				t[i].ops = NULL;
	}
	if (!alter_all(r, "AlterConfigs", t, n, false, req->validate_only)) {
		j->oom = true;
		return;
	}
	kp_struct_init(r->api->resp, resp);
	for (int32_t i = 0; i < n; i++) {
		kp_struct_init(&kp_alter_configs_resp_alter_configs_resource_response_desc,
			       &res[i]);
		res[i].resource_type = req->resources[i].resource_type;
		res[i].resource_name = req->resources[i].resource_name;
		res[i].error_code = t[i].error;
		res[i].error_message = t[i].message;
	}
	resp->responses = res;
	resp->responses_count = n;
	j->resp = resp;
}

void api_alter_configs(struct net_req *r)
{
	start(r, alter_run);
}

static void incremental_run(struct config_job *j)
{
	struct net_req *r = j->r;
	const struct kp_incremental_alter_configs_req *req = r->body;
	struct kp_incremental_alter_configs_resp *resp;
	int32_t n = req->resources_count > 0 ? req->resources_count : 0;
	struct kp_incremental_alter_configs_resp_alter_configs_resource_response *res;
	struct alter_target *t = targets(r, n);

	resp = kp_arena_calloc(&r->arena, 1, sizeof(*resp));
	res = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*res));
	if (t == NULL || resp == NULL || res == NULL) {
		j->oom = true;
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		const struct kp_incremental_alter_configs_req_alter_configs_resource *in =
			&req->resources[i];
		int32_t nc = in->configs_count > 0 ? in->configs_count : 0;

		t[i].type = in->resource_type;
		t[i].name = arena_cstr(&r->arena, in->resource_name);
		t[i].ops = kp_arena_calloc(&r->arena, (size_t)nc + 1, sizeof(*t[i].ops));
		t[i].nops = nc;
		for (int32_t k = 0; t[i].ops != NULL && k < nc; k++)
			if (!copy_op(&r->arena, &t[i].ops[k], in->configs[k].name,
				     in->configs[k].value, in->configs[k].config_operation))
				t[i].ops = NULL;
	}
	if (!alter_all(r, "IncrementalAlterConfigs", t, n, true, req->validate_only)) {
		j->oom = true;
		return;
	}
	kp_struct_init(r->api->resp, resp);
	for (int32_t i = 0; i < n; i++) {
		kp_struct_init(&kp_incremental_alter_configs_resp_alter_configs_resource_response_desc,
			       &res[i]);
		res[i].resource_type = req->resources[i].resource_type;
		res[i].resource_name = req->resources[i].resource_name;
		res[i].error_code = t[i].error;
		res[i].error_message = t[i].message;
	}
	resp->responses = res;
	resp->responses_count = n;
	j->resp = resp;
}

void api_incremental_alter_configs(struct net_req *r)
{
	start(r, incremental_run);
}
