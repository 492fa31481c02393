/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kconfigs - describe and change topic and broker configuration, with the
 * options of Kafka's kafka-configs.sh (--bootstrap-server form).
 *
 * --describe is DescribeConfigs with synonyms: a topic's at any broker, a
 * broker's at that broker (only it knows its own dynamic and static
 * values), the cluster default at any broker.  --alter is
 * IncrementalAlterConfigs (SET for --add-config, DELETE for
 * --delete-config), routed the same way; the brokers write ZooKeeper and
 * every broker applies the change without a restart.
 *
 * Users (--entity-type users) carry SCRAM credentials: --alter with
 * --add-config 'SCRAM-SHA-256=[iterations=8192,password=...]' salts the
 * password here (a random salt, PBKDF2) and sends the salted password
 * with AlterUserScramCredentials, --delete-config SCRAM-SHA-256 deletes
 * one, and --describe is DescribeUserScramCredentials (mechanisms and
 * iterations, never secrets), as kafka-configs.sh does.
 *
 * Client quotas (producer_byte_rate, consumer_byte_rate,
 * request_percentage) of --entity-type users, clients, or both (users
 * first: --entity-type users --entity-name U --entity-type clients
 * --entity-name C), by name or --entity-default, are altered with
 * AlterClientQuotas and described with DescribeClientQuotas (a strict
 * filter, as kafka-configs.sh's containsOnly); --describe of users shows
 * quotas and SCRAM credentials.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kp_errors.h"
#include "kp_sasl.h"
#include "tool.h"
#include "tool_config.h"

#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4
#define RESOURCE_USER 100	/* ours: not a DescribeConfigs resource type */
#define SCRAM_DEFAULT_ITERATIONS 4096	/* Kafka's, when none is given */

enum action { NONE, DESCRIBE, ALTER };

static struct {
	enum action action;
	struct tool_opts t;	/* --bootstrap-server, --timeout-ms */
	const char *type;		/* "topics", "brokers" or "users" */
	const char *name;		/* NULL: every entity (describe) */
	bool is_default;		/* the brokers' cluster-wide default */
	const char *add;
	const char *add_file;
	const char *del;
	bool all;
	bool json;
	/* --entity-type users --entity-type clients: the client-id half */
	const char *client;
	bool client_default;
	bool has_client;
} o = { .t.timeout_ms = 30000 };

static struct tool_cluster cl;
static struct kp_arena arena;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kconfigs --bootstrap-server HOST:PORT[,...] --describe|--alter\n"
		"                ENTITY [OPTIONS]\n"
		"Describe and change topic and broker configuration, SCRAM users and\n"
		"client quotas without restarts.\n"
		"\n"
		"Actions (exactly one):\n"
		"  --describe                the dynamic configs of the entity (every\n"
		"                            entity of the type when none is named)\n"
		"  --alter                   change configs: --add-config, --add-config-file,\n"
		"                            --delete-config\n"
		"\n"
		"Entity:\n"
		"  --entity-type TYPE        topics, brokers, users or clients (users and\n"
		"                            clients may both be given, users first, each\n"
		"                            followed by its name or --entity-default)\n"
		"  --entity-name NAME        a topic name, a broker id, a user name or a\n"
		"                            client id\n"
		"  --entity-default          the default entity (brokers, users, clients)\n"
		"  --topic NAME              same as --entity-type topics --entity-name NAME\n"
		"  --broker ID               same as --entity-type brokers --entity-name ID\n"
		"  --broker-defaults         same as --entity-type brokers --entity-default\n"
		"\n"
		"Options:\n"
		"  --bootstrap-server LIST   brokers to connect to first (required)\n"
		"  --command-config FILE     client properties: client.id, timeouts,\n"
		"                            security.protocol, ssl.*, sasl.*\n"
		"  --add-config K=V,K2=[A,B] configs to set; a list value in brackets;\n"
		"                            users: SCRAM-SHA-256=[iterations=N,password=P]\n"
		"                            or SCRAM-SHA-512=[...]\n"
		"                            quotas (users, clients): producer_byte_rate=N,\n"
		"                            consumer_byte_rate=N,request_percentage=P\n"
		"  --add-config-file FILE    configs to set, from a properties file\n"
		"  --delete-config K1,K2     configs to remove (back to the inherited value)\n"
		"  --all                     describe: every config, with defaults\n"
		"  --json                    machine-readable output\n"
		"  --timeout-ms MS           patience for the cluster (30000)\n"
		"  --help                    this text\n"
		"  --version                 the program's version\n"
		"\n"
		"Exit status: 0 success, 1 the cluster refused or an entity is missing,\n"
		"2 bad usage.\n");
}

static void set_action(enum action a)
{
	if (o.action != NONE && o.action != a)
		tool_usage_error("give only one of --describe, --alter");
	o.action = a;
}

static void set_entity(const char *type, const char *name, bool dflt)
{
	if (o.type != NULL && strcmp(o.type, type) != 0)
		tool_usage_error("the entity type is given twice (%s, %s)", o.type, type);
	o.type = type;
	if (name != NULL) {
		if (o.name != NULL || o.is_default)
			tool_usage_error("give only one entity name");
		o.name = name;
	}
	if (dflt) {
		if (o.name != NULL)
			tool_usage_error("give only one entity name");
		o.is_default = true;
	}
}

static const char *source_name(int8_t s)
{
	static const char *const names[] = {
		"UNKNOWN", "DYNAMIC_TOPIC_CONFIG", "DYNAMIC_BROKER_CONFIG",
		"DYNAMIC_DEFAULT_BROKER_CONFIG", "STATIC_BROKER_CONFIG",
		"DEFAULT_CONFIG", "DYNAMIC_BROKER_LOGGER_CONFIG",
	};

	return s >= 0 && s <= 6 ? names[s] : "UNKNOWN";
}

static char *cstr(kp_str s)
{
	return s.len < 0 ? NULL : kp_arena_strndup(&arena, s.ptr, (size_t)s.len);
}

/* The broker to ask about an entity: that broker, or the bootstrap one. */
static struct kp_conn *conn_for(int8_t type, const char *name)
{
	struct kp_conn *c;

	if (type != RESOURCE_BROKER || name[0] == 0)
		return cl.boot;
	c = tool_broker_conn(&cl, (int32_t)strtol(name, NULL, 10));
	if (c == NULL)
		tool_die("broker %s is not reachable", name);
	return c;
}

/* DescribeConfigs of one entity; dies on an I/O error, 1 on a refusal. */
static int describe_one(int8_t type, const char *name,
			struct kp_describe_configs_resp *resp)
{
	struct kp_describe_configs_req req;
	struct kp_describe_configs_req_describe_configs_resource res;

	kp_struct_init(&kp_describe_configs_req_describe_configs_resource_desc, &res);
	res.resource_type = type;
	res.resource_name = kp_str_c(name);
	res.configuration_keys = NULL;
	res.configuration_keys_count = -1;
	kp_struct_init(&kp_describe_configs_req_desc, &req);
	req.resources = &res;
	req.resources_count = 1;
	req.include_synonyms = true;
	tool_call(conn_for(type, name), KP_API_DESCRIBE_CONFIGS, &req, resp, &arena,
		  "DescribeConfigs");
	if (resp->results_count != 1) {
		tool_warn("DescribeConfigs: %d results for one resource",
			  resp->results_count);
		return 1;
	}
	if (resp->results[0].error_code != 0) {
		char *m = cstr(resp->results[0].error_message);

		tool_warn("%s %s: %s%s%s", type == RESOURCE_TOPIC ? "topic" : "broker",
			  name[0] ? name : "<default>",
			  tool_err(resp->results[0].error_code),
			  m != NULL && m[0] ? ": " : "", m != NULL ? m : "");
		return 1;
	}
	return 0;
}

/* The source Kafka's describe shows without --all. */
static int8_t dynamic_source(int8_t type, const char *name)
{
	if (type == RESOURCE_TOPIC)
		return 1;
	return name[0] == 0 ? 3 : 2;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct kp_describe_configs_resp_describe_configs_resource_result *x = a, *y = b;
	int32_t l = x->name.len < y->name.len ? x->name.len : y->name.len;
	int c = memcmp(x->name.ptr, y->name.ptr, (size_t)(l > 0 ? l : 0));

	return c != 0 ? c : (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

static int describe_entity(int8_t type, const char *name, json_t *rows)
{
	struct kp_describe_configs_resp resp;
	struct kp_describe_configs_resp_describe_configs_result *r;
	int8_t want = dynamic_source(type, name);

	if (describe_one(type, name, &resp) != 0)
		return 1;
	r = &resp.results[0];
	if (r->configs_count > 0)
		qsort(r->configs, (size_t)r->configs_count, sizeof(*r->configs), cmp_entry);
	if (!o.json) {
		if (type == RESOURCE_BROKER && name[0] == 0)
			printf("Default configs for brokers in the cluster are:\n");
		else
			printf("%s configs for %s %s are:\n", o.all ? "All" : "Dynamic",
			       type == RESOURCE_TOPIC ? "topic" : "broker", name);
	}
	for (int32_t i = 0; i < r->configs_count; i++) {
		const struct kp_describe_configs_resp_describe_configs_resource_result *e =
			&r->configs[i];
		char *k = cstr(e->name), *v = cstr(e->value);
		json_t *syn;

		if (!o.all && e->config_source != want)
			continue;
		syn = json_array();
		if (!o.json)
			printf("  %s=%s sensitive=%s synonyms={", k, v != NULL ? v : "null",
			       e->is_sensitive ? "true" : "false");
		for (int32_t j = 0; j < e->synonyms_count; j++) {
			const struct kp_describe_configs_resp_describe_configs_synonym *s =
				&e->synonyms[j];
			char *sk = cstr(s->name), *sv = cstr(s->value);

			if (!o.json)
				printf("%s%s:%s=%s", j > 0 ? ", " : "",
				       source_name(s->source), sk, sv != NULL ? sv : "null");
			json_array_append_new(syn, json_pack("{s:s, s:s?, s:s}", "name", sk,
							     "value", sv, "source",
							     source_name(s->source)));
		}
		if (!o.json)
			printf("}\n");
		json_array_append_new(rows, json_pack(
			"{s:s, s:s, s:s, s:s?, s:s, s:b, s:b, s:o}",
			"entity_type", type == RESOURCE_TOPIC ? "topics" : "brokers",
			"entity_name", name[0] ? name : "<default>", "name", k,
			"value", v, "source", source_name(e->config_source),
			"sensitive", e->is_sensitive, "read_only", e->read_only,
			"synonyms", syn));
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

static int do_describe(int8_t type)
{
	json_t *rows = json_array();
	int rc = TOOL_EXIT_OK;

	if (o.name != NULL || o.is_default) {
		rc = describe_entity(type, o.is_default ? "" : o.name, rows);
	} else if (type == RESOURCE_TOPIC) {
		char **names;
		int n;

		tool_metadata(&cl, NULL, 0, true);
		n = cl.md.topics_count > 0 ? cl.md.topics_count : 0;
		names = kp_arena_calloc(&arena, (size_t)n + 1, sizeof(*names));
		if (names == NULL)
			tool_die("out of memory");
		for (int i = 0; i < n; i++)
			names[i] = cstr(cl.md.topics[i].name);
		qsort(names, (size_t)n, sizeof(*names), cmp_str);
		for (int i = 0; i < n; i++)
			rc |= describe_entity(type, names[i], rows);
	} else {
		int32_t *ids = kp_arena_calloc(&arena, (size_t)cl.nbrokers + 1, sizeof(*ids));
		char id[16];

		if (ids == NULL)
			tool_die("out of memory");
		for (int i = 0; i < cl.nbrokers; i++)
			ids[i] = cl.brokers[i].id;
		qsort(ids, (size_t)cl.nbrokers, sizeof(*ids), cmp_i32);
		for (int i = 0; i < cl.nbrokers; i++) {
			snprintf(id, sizeof(id), "%" PRId32, ids[i]);
			rc |= describe_entity(type, id, rows);
		}
		rc |= describe_entity(type, "", rows);
	}
	if (o.json)
		tool_print_json(stdout, rows);
	json_decref(rows);
	return rc ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

/* ------------------------------------------------------------- users */

static int describe_quotas(json_t *rows);

/* Quotas of users, clients or both (and SCRAM credentials of users). */
static int describe_users(void)
{
	struct kp_describe_user_scram_credentials_req req;
	struct kp_describe_user_scram_credentials_req_user_name un;
	struct kp_describe_user_scram_credentials_resp resp;
	json_t *rows = json_array();
	int rc = describe_quotas(rows);

	if (strcmp(o.type, "users") != 0 || o.has_client || o.is_default) {
		if (o.json)
			tool_print_json(stdout, rows);
		json_decref(rows);
		return rc;
	}

	kp_struct_init(&kp_describe_user_scram_credentials_req_desc, &req);
	if (o.name != NULL) {
		kp_struct_init(&kp_describe_user_scram_credentials_req_user_name_desc, &un);
		un.name = kp_str_c(o.name);
		req.users = &un;
		req.users_count = 1;
	} else {
		req.users = NULL;
		req.users_count = -1;
	}
	tool_call(cl.boot, KP_API_DESCRIBE_USER_SCRAM_CREDENTIALS, &req, &resp, &arena,
		  "DescribeUserScramCredentials");
	if (resp.error_code != 0) {
		char *m = cstr(resp.error_message);

		tool_warn("%s%s%s", tool_err(resp.error_code), m != NULL && m[0] ? ": " : "",
			  m != NULL ? m : "");
		json_decref(rows);
		return TOOL_EXIT_FAIL;
	}
	for (int32_t i = 0; i < resp.results_count; i++) {
		const struct kp_describe_user_scram_credentials_resp_describe_user_scram_credentials_result
			*u = &resp.results[i];
		char *name = cstr(u->user);

		if (u->error_code == KP_ERR_RESOURCE_NOT_FOUND)
			continue;	/* no credentials: nothing to show */
		if (u->error_code != 0) {
			char *m = cstr(u->error_message);

			tool_warn("user %s: %s%s%s", name, tool_err(u->error_code),
				  m != NULL && m[0] ? ": " : "", m != NULL ? m : "");
			rc = TOOL_EXIT_FAIL;
			continue;
		}
		if (!o.json)
			printf("SCRAM credential configs for user-principal '%s' are ", name);
		for (int32_t k = 0; k < u->credential_infos_count; k++) {
			const char *mech = kp_scram_mech_name(u->credential_infos[k].mechanism);

			if (!o.json)
				printf("%s%s=iterations=%d", k > 0 ? ", " : "",
				       mech != NULL ? mech : "UNKNOWN",
				       (int)u->credential_infos[k].iterations);
			json_array_append_new(rows, json_pack(
				"{s:s, s:s, s:s, s:i}", "entity_type", "users", "entity_name",
				name, "mechanism", mech != NULL ? mech : "UNKNOWN",
				"iterations", (int)u->credential_infos[k].iterations));
		}
		if (!o.json)
			printf("\n");
	}
	if (o.json)
		tool_print_json(stdout, rows);
	json_decref(rows);
	return rc;
}

/* "iterations=N,password=P" into a salted credential. */
static void scram_upsertion(const char *key, const char *value,
			    struct kp_alter_user_scram_credentials_req_scram_credential_upsertion *u)
{
	int mech = kp_scram_mech_parse(key, strlen(key));
	char *copy = kp_arena_strndup(&arena, value, strlen(value)), *save = NULL, *item;
	const char *pw = NULL;
	int64_t iters = SCRAM_DEFAULT_ITERATIONS;
	uint8_t *salt = kp_arena_alloc(&arena, 32);
	uint8_t *salted = kp_arena_alloc(&arena, KP_SCRAM_MAX_HASH);

	if (copy == NULL || salt == NULL || salted == NULL)
		tool_die("out of memory");
	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		if (eq == NULL)
			tool_usage_error("%s: expected iterations=N,password=P, not '%s'",
					 key, item);
		*eq = '\0';
		if (strcmp(item, "iterations") == 0) {
			if (!tool_parse_i64(eq + 1, 1, INT32_MAX, &iters))
				tool_usage_error("%s: iterations must be a positive integer",
						 key);
		} else if (strcmp(item, "password") == 0) {
			pw = eq + 1;
		} else {
			tool_usage_error("%s: unknown credential property %s (iterations, "
					 "password)", key, item);
		}
	}
	if (pw == NULL)
		tool_usage_error("%s: no password given", key);
	if (kp_scram_random(salt, 32) < 0 ||
	    kp_scram_salt_password(mech, pw, strlen(pw), salt, 32, (int32_t)iters,
				   salted) < 0)
		tool_die("%s: cannot derive the salted password", key);
	kp_struct_init(&kp_alter_user_scram_credentials_req_scram_credential_upsertion_desc, u);
	u->name = kp_str_c(o.name);
	u->mechanism = (int8_t)mech;
	u->iterations = (int32_t)iters;
	u->salt = (kp_bytes){ salt, 32 };
	u->salted_password = (kp_bytes){ salted, (int32_t)kp_scram_hash_len(mech) };
}

static int alter_users(void)
{
	struct tool_kv *add = NULL, *del = NULL;
	int nadd = 0, ndel = 0, rc = TOOL_EXIT_OK;
	struct kp_alter_user_scram_credentials_req req;
	struct kp_alter_user_scram_credentials_req_scram_credential_upsertion *ups;
	struct kp_alter_user_scram_credentials_req_scram_credential_deletion *dels;
	struct kp_alter_user_scram_credentials_resp resp;
	char err[256];

	if (o.add_file != NULL)
		tool_usage_error("--add-config-file is not supported for users");
	if (o.add != NULL && (nadd = tool_parse_add_config(o.add, &add, err,
							   sizeof(err))) < 0)
		tool_usage_error("--add-config: %s", err);
	if (o.del != NULL && (ndel = tool_parse_delete_config(o.del, &del, err,
							      sizeof(err))) < 0)
		tool_usage_error("%s", err);
	for (int i = 0; i < nadd + ndel; i++) {
		const char *k = i < nadd ? add[i].key : del[i - nadd].key;

		if (kp_scram_mech_parse(k, strlen(k)) == 0)
			tool_usage_error("Invalid config(s): %s (users take SCRAM-SHA-256 "
					 "and SCRAM-SHA-512 here)", k);
	}
	ups = kp_arena_calloc(&arena, (size_t)nadd + 1, sizeof(*ups));
	dels = kp_arena_calloc(&arena, (size_t)ndel + 1, sizeof(*dels));
	if (ups == NULL || dels == NULL)
		tool_die("out of memory");
	for (int i = 0; i < nadd; i++)
		scram_upsertion(add[i].key, add[i].value, &ups[i]);
	for (int i = 0; i < ndel; i++) {
		kp_struct_init(&kp_alter_user_scram_credentials_req_scram_credential_deletion_desc,
			       &dels[i]);
		dels[i].name = kp_str_c(o.name);
		dels[i].mechanism = (int8_t)kp_scram_mech_parse(del[i].key, strlen(del[i].key));
	}
	kp_struct_init(&kp_alter_user_scram_credentials_req_desc, &req);
	req.upsertions = ups;
	req.upsertions_count = nadd;
	req.deletions = dels;
	req.deletions_count = ndel;
	tool_call(cl.boot, KP_API_ALTER_USER_SCRAM_CREDENTIALS, &req, &resp, &arena,
		  "AlterUserScramCredentials");
	for (int32_t i = 0; i < resp.results_count; i++)
		if (resp.results[i].error_code != 0) {
			char *m = cstr(resp.results[i].error_message);

			tool_warn("user %s: %s%s%s", o.name,
				  tool_err(resp.results[i].error_code),
				  m != NULL && m[0] ? ": " : "", m != NULL ? m : "");
			rc = TOOL_EXIT_FAIL;
		}
	if (rc == TOOL_EXIT_OK) {
		if (o.json) {
			json_t *j = json_pack("{s:s, s:s, s:b}", "entity_type", "users",
					      "entity_name", o.name, "altered", 1);

			tool_print_json(stdout, j);
			json_decref(j);
		} else {
			printf("Completed updating config for user %s.\n", o.name);
		}
	}
	tool_kv_free(add, nadd);
	tool_kv_free(del, ndel);
	return rc;
}

/* ------------------------------------------------------------ quotas */

static const char *const quota_keys[] = {
	"producer_byte_rate", "consumer_byte_rate", "request_percentage",
};

static bool is_quota_key(const char *k)
{
	for (size_t i = 0; i < sizeof(quota_keys) / sizeof(quota_keys[0]); i++)
		if (strcmp(k, quota_keys[i]) == 0)
			return true;
	return false;
}

/* The entity's components: user (o.name / o.is_default) when the type is
 * users, the client id (clients, or the second half). */
static int quota_entity(const char **user, bool *has_user, const char **client,
			bool *has_client)
{
	*has_user = strcmp(o.type, "users") == 0;
	*user = *has_user ? (o.is_default ? NULL : o.name) : NULL;
	if (strcmp(o.type, "clients") == 0) {
		*has_client = true;
		*client = o.is_default ? NULL : o.name;
	} else {
		*has_client = o.has_client;
		*client = o.client_default ? NULL : o.client;
	}
	return (*has_user ? 1 : 0) + (*has_client ? 1 : 0);
}

static const char *shown(const char *name)
{
	return name != NULL ? name : "<default>";
}

/* Print DescribeClientQuotas' answer for the entity given (or every
 * entity of its types).  Exit status. */
static int describe_quotas(json_t *rows)
{
	struct kp_describe_client_quotas_req req;
	struct kp_describe_client_quotas_req_component_data comp[2];
	struct kp_describe_client_quotas_resp resp;
	const char *user, *client;
	bool hu, hc;
	int n = 0;

	quota_entity(&user, &hu, &client, &hc);
	for (int k = 0; k < 2; k++) {
		bool has = k == 0 ? hu : hc;
		const char *name = k == 0 ? user : client;
		bool dflt = k == 0 ? (o.is_default && hu) : (hc && (o.client_default ||
				     (strcmp(o.type, "clients") == 0 && o.is_default)));
		bool named = k == 0 ? hu && o.name != NULL
				    : hc && (strcmp(o.type, "clients") == 0 ? o.name != NULL
									    : o.client != NULL);

		if (!has)
			continue;
		kp_struct_init(&kp_describe_client_quotas_req_component_data_desc, &comp[n]);
		comp[n].entity_type = kp_str_c(k == 0 ? "user" : "client-id");
		comp[n].match_type = dflt ? 1 : named ? 0 : 2;
		comp[n].match = named && !dflt ? kp_str_c(name) : (kp_str){ NULL, -1 };
		n++;
	}
	kp_struct_init(&kp_describe_client_quotas_req_desc, &req);
	req.components = comp;
	req.components_count = n;
	req.strict = true;
	tool_call(cl.boot, KP_API_DESCRIBE_CLIENT_QUOTAS, &req, &resp, &arena,
		  "DescribeClientQuotas");
	if (resp.error_code != 0) {
		char *m = cstr(resp.error_message);

		tool_warn("%s%s%s", tool_err(resp.error_code), m != NULL && m[0] ? ": " : "",
			  m != NULL ? m : "");
		return TOOL_EXIT_FAIL;
	}
	for (int32_t i = 0; i < resp.entries_count; i++) {
		const struct kp_describe_client_quotas_resp_entry_data *e = &resp.entries[i];
		char *u = NULL, *c = NULL;
		bool got_u = false, got_c = false;
		json_t *cfg = json_object();

		for (int32_t k = 0; k < e->entity_count; k++) {
			char *t = cstr(e->entity[k].entity_type);

			if (t != NULL && strcmp(t, "user") == 0) {
				u = cstr(e->entity[k].entity_name);
				got_u = true;
			} else if (t != NULL && strcmp(t, "client-id") == 0) {
				c = cstr(e->entity[k].entity_name);
				got_c = true;
			}
		}
		if (!o.json) {
			printf("Quota configs for ");
			if (got_u)
				printf("user-principal '%s'", shown(u));
			if (got_c)
				printf("%sclient-id '%s'", got_u ? ", " : "", shown(c));
			printf(" are ");
		}
		for (int32_t k = 0; k < e->values_count; k++) {
			char *key = cstr(e->values[k].key);

			if (!o.json)
				printf("%s%s=%.1f", k > 0 ? ", " : "", key != NULL ? key : "",
				       e->values[k].value);
			json_object_set_new(cfg, key != NULL ? key : "",
					    json_real(e->values[k].value));
		}
		if (!o.json)
			printf("\n");
		json_array_append_new(rows, json_pack("{s:o, s:o, s:o}",
			"user", got_u ? json_string(shown(u)) : json_null(),
			"client_id", got_c ? json_string(shown(c)) : json_null(),
			"configs", cfg));
	}
	return TOOL_EXIT_OK;
}

/* AlterClientQuotas of the quota keys given.  Exit status. */
static int alter_quotas(struct tool_kv *add, int nadd, struct tool_kv *del, int ndel)
{
	struct kp_alter_client_quotas_req req;
	struct kp_alter_client_quotas_req_entry_data entry;
	struct kp_alter_client_quotas_req_entity_data ent[2];
	struct kp_alter_client_quotas_req_op_data *ops;
	struct kp_alter_client_quotas_resp resp;
	const char *user, *client;
	bool hu, hc;
	int n = 0, rc = TOOL_EXIT_OK;

	quota_entity(&user, &hu, &client, &hc);
	if (hu) {
		kp_struct_init(&kp_alter_client_quotas_req_entity_data_desc, &ent[n]);
		ent[n].entity_type = kp_str_c("user");
		ent[n++].entity_name = user != NULL ? kp_str_c(user) : (kp_str){ NULL, -1 };
	}
	if (hc) {
		kp_struct_init(&kp_alter_client_quotas_req_entity_data_desc, &ent[n]);
		ent[n].entity_type = kp_str_c("client-id");
		ent[n++].entity_name = client != NULL ? kp_str_c(client) : (kp_str){ NULL, -1 };
	}
	ops = kp_arena_calloc(&arena, (size_t)(nadd + ndel) + 1, sizeof(*ops));
	if (ops == NULL)
		tool_die("out of memory");
	for (int i = 0; i < nadd + ndel; i++) {
		kp_struct_init(&kp_alter_client_quotas_req_op_data_desc, &ops[i]);
		if (i < nadd) {
			char *end;

			ops[i].key = kp_str_c(add[i].key);
			ops[i].value = strtod(add[i].value, &end);
			if (end == add[i].value || *end != 0)
				tool_usage_error("Cannot parse quota configuration value for "
						 "%s: %s", add[i].key, add[i].value);
		} else {
			ops[i].key = kp_str_c(del[i - nadd].key);
			ops[i].remove = true;
		}
	}
	kp_struct_init(&kp_alter_client_quotas_req_entry_data_desc, &entry);
	entry.entity = ent;
	entry.entity_count = n;
	entry.ops = ops;
	entry.ops_count = nadd + ndel;
	kp_struct_init(&kp_alter_client_quotas_req_desc, &req);
	req.entries = &entry;
	req.entries_count = 1;
	tool_call(cl.boot, KP_API_ALTER_CLIENT_QUOTAS, &req, &resp, &arena,
		  "AlterClientQuotas");
	for (int32_t i = 0; i < resp.entries_count; i++)
		if (resp.entries[i].error_code != 0) {
			char *m = cstr(resp.entries[i].error_message);

			tool_warn("%s%s%s", tool_err(resp.entries[i].error_code),
				  m != NULL && m[0] ? ": " : "", m != NULL ? m : "");
			rc = TOOL_EXIT_FAIL;
		}
	if (rc != TOOL_EXIT_OK)
		return rc;
	if (o.json) {
		json_t *j = json_pack("{s:o, s:o, s:b}",
			"user", hu ? json_string(shown(user)) : json_null(),
			"client_id", hc ? json_string(shown(client)) : json_null(),
			"altered", 1);

		tool_print_json(stdout, j);
		json_decref(j);
	} else if (o.is_default) {
		printf("Completed updating default config for %s in the cluster.\n", o.type);
	} else {
		printf("Completed updating config for %s %s.\n",
		       strcmp(o.type, "users") == 0 ? "user" : "client", o.name);
	}
	return rc;
}

/* --alter of users or clients: quota keys with AlterClientQuotas, SCRAM
 * keys (users alone) with AlterUserScramCredentials. */
static int alter_users(void);

static int alter_quota_entity(void)
{
	struct tool_kv *add = NULL, *del = NULL;
	int nadd = 0, ndel = 0, nq = 0, rc;
	char err[256];

	if (o.add_file != NULL)
		tool_usage_error("--add-config-file is not supported for %s", o.type);
	if (o.add != NULL && (nadd = tool_parse_add_config(o.add, &add, err,
							   sizeof(err))) < 0)
		tool_usage_error("--add-config: %s", err);
	if (o.del != NULL && (ndel = tool_parse_delete_config(o.del, &del, err,
							      sizeof(err))) < 0)
		tool_usage_error("%s", err);
	for (int i = 0; i < nadd + ndel; i++)
		nq += is_quota_key(i < nadd ? add[i].key : del[i - nadd].key);
	if (nq == 0 && strcmp(o.type, "users") == 0 && !o.has_client && !o.is_default) {
		tool_kv_free(add, nadd);
		tool_kv_free(del, ndel);
		return alter_users();
	}
	if (nq != nadd + ndel) {
		for (int i = 0; i < nadd + ndel; i++) {
			const char *k = i < nadd ? add[i].key : del[i - nadd].key;

			if (!is_quota_key(k) && (strcmp(o.type, "users") != 0 || o.has_client ||
			    kp_scram_mech_parse(k, strlen(k)) == 0))
				tool_usage_error("Invalid config(s): %s", k);
		}
		tool_usage_error("give SCRAM credentials and quotas in separate --alter runs");
	}
	rc = alter_quotas(add, nadd, del, ndel);
	tool_kv_free(add, nadd);
	tool_kv_free(del, ndel);
	return rc;
}

/* ------------------------------------------------------------- alter */

static struct tool_kv *file_kv;
static int file_nkv;

static void file_pair(const char *key, const char *value)
{
	struct tool_kv *nv = realloc(file_kv, sizeof(*nv) * (size_t)(file_nkv + 1));

	if (nv == NULL)
		tool_die("out of memory");
	file_kv = nv;
	nv[file_nkv].key = strdup(key);
	nv[file_nkv].value = strdup(value);
	if (nv[file_nkv].key == NULL || nv[file_nkv].value == NULL)
		tool_die("out of memory");
	file_nkv++;
}

static int do_alter(int8_t type)
{
	const char *name = o.is_default ? "" : o.name;
	struct tool_kv *add = NULL, *del = NULL;
	int nadd = 0, ndel = 0, rc = TOOL_EXIT_OK;
	struct kp_incremental_alter_configs_req req;
	struct kp_incremental_alter_configs_req_alter_configs_resource res;
	struct kp_incremental_alter_configs_req_alterable_config *cfgs;
	struct kp_incremental_alter_configs_resp resp;
	char err[256];

	if (o.add != NULL && (nadd = tool_parse_add_config(o.add, &add, err,
							   sizeof(err))) < 0)
		tool_usage_error("--add-config: %s", err);
	if (o.add_file != NULL) {
		tool_read_properties("--add-config-file", o.add_file, file_pair);
		add = file_kv;
		nadd = file_nkv;
	}
	if (o.del != NULL && (ndel = tool_parse_delete_config(o.del, &del, err,
							      sizeof(err))) < 0)
		tool_usage_error("%s", err);
	/* as kafka-configs.sh: a key to delete must be set now */
	if (ndel > 0) {
		struct kp_describe_configs_resp d;
		int8_t want = dynamic_source(type, name);

		if (describe_one((int8_t)type, name, &d) != 0) {
			rc = TOOL_EXIT_FAIL;
			goto out;
		}
		for (int i = 0; i < ndel; i++) {
			bool found = false;

			for (int32_t j = 0; j < d.results[0].configs_count && !found; j++)
				found = d.results[0].configs[j].config_source == want &&
					kp_str_eqc(d.results[0].configs[j].name, del[i].key);
			if (!found) {
				tool_warn("Invalid config(s): %s", del[i].key);
				rc = TOOL_EXIT_FAIL;
			}
		}
		if (rc != TOOL_EXIT_OK)
			goto out;
	}
	cfgs = kp_arena_calloc(&arena, (size_t)(nadd + ndel) + 1, sizeof(*cfgs));
	if (cfgs == NULL)
		tool_die("out of memory");
	for (int i = 0; i < nadd + ndel; i++) {
		kp_struct_init(&kp_incremental_alter_configs_req_alterable_config_desc,
			       &cfgs[i]);
		if (i < nadd) {
			cfgs[i].name = kp_str_c(add[i].key);
			cfgs[i].config_operation = 0;	/* SET */
			cfgs[i].value = kp_str_c(add[i].value);
		} else {
			cfgs[i].name = kp_str_c(del[i - nadd].key);
			cfgs[i].config_operation = 1;	/* DELETE */
			cfgs[i].value = KP_STR_NULL;
		}
	}
	kp_struct_init(&kp_incremental_alter_configs_req_alter_configs_resource_desc, &res);
	res.resource_type = type;
	res.resource_name = kp_str_c(name);
	res.configs = cfgs;
	res.configs_count = nadd + ndel;
	kp_struct_init(&kp_incremental_alter_configs_req_desc, &req);
	req.resources = &res;
	req.resources_count = 1;
	tool_call(conn_for(type, name), KP_API_INCREMENTAL_ALTER_CONFIGS, &req, &resp,
		  &arena, "IncrementalAlterConfigs");
	if (resp.responses_count != 1 || resp.responses[0].error_code != 0) {
		char *m = resp.responses_count == 1 ? cstr(resp.responses[0].error_message)
						    : NULL;

		tool_warn("%s %s: %s%s%s", type == RESOURCE_TOPIC ? "topic" : "broker",
			  name[0] ? name : "<default>",
			  resp.responses_count == 1 ? tool_err(resp.responses[0].error_code)
						    : "no answer for the resource",
			  m != NULL && m[0] ? ": " : "", m != NULL ? m : "");
		rc = TOOL_EXIT_FAIL;
		goto out;
	}
	if (o.json) {
		json_t *j = json_pack("{s:s, s:s, s:b}", "entity_type", o.type,
				      "entity_name", name[0] ? name : "<default>",
				      "altered", 1);

		tool_print_json(stdout, j);
		json_decref(j);
	} else if (name[0] == 0) {
		printf("Completed updating default config for brokers in the cluster.\n");
	} else {
		printf("Completed updating config for %s %s.\n",
		       type == RESOURCE_TOPIC ? "topic" : "broker", name);
	}
out:
	tool_kv_free(add, nadd);
	tool_kv_free(del, ndel);
	return rc;
}

int main(int argc, char **argv)
{
	enum {
		O_DESCRIBE = 256, O_ALTER, O_TYPE, O_NAME, O_DEFAULT,
		O_TOPIC, O_BROKER, O_BROKER_DEFAULTS, O_ADD, O_ADD_FILE, O_DEL,
		O_ALL, O_JSON, O_CCONF,
	};
	static const struct option opts[] = {
		{ "describe", no_argument, NULL, O_DESCRIBE },
		{ "alter", no_argument, NULL, O_ALTER },
		{ "entity-type", required_argument, NULL, O_TYPE },
		{ "entity-name", required_argument, NULL, O_NAME },
		{ "entity-default", no_argument, NULL, O_DEFAULT },
		{ "topic", required_argument, NULL, O_TOPIC },
		{ "broker", required_argument, NULL, O_BROKER },
		{ "broker-defaults", no_argument, NULL, O_BROKER_DEFAULTS },
		{ "add-config", required_argument, NULL, O_ADD },
		{ "add-config-file", required_argument, NULL, O_ADD_FILE },
		{ "delete-config", required_argument, NULL, O_DEL },
		{ "all", no_argument, NULL, O_ALL },
		{ "json", no_argument, NULL, O_JSON },
		{ "command-config", required_argument, NULL, O_CCONF },
		TOOL_OPTIONS_TAIL,
	};
	/* kafka-configs.sh pairs the n-th --entity-type with the n-th
	 * --entity-name or --entity-default */
	const char *type_arg[2] = { NULL, NULL }, *name_arg[2] = { NULL, NULL };
	bool default_arg[2] = { false, false };
	int ntypes = 0, nnames = 0;
	int8_t type;
	struct tool_admin_config ac;
	int c, rc = TOOL_EXIT_OK;

	memset(&ac, 0, sizeof(ac));
	tool_name = "kconfigs";
	o.t.usage = usage;
	kp_arena_init(&arena, 0);
	while ((c = tool_getopt(argc, argv, opts, &o.t)) != -1) {
		switch (c) {
		case O_DESCRIBE: set_action(DESCRIBE); break;
		case O_CCONF:
			tool_read_admin_config("--command-config", optarg, &ac);
			break;
		case O_ALTER: set_action(ALTER); break;
		case O_TYPE:
			if (ntypes == 2)
				tool_usage_error("give --entity-type at most twice (users, "
						 "then clients)");
			type_arg[ntypes++] = optarg;
			break;
		case O_NAME:
		case O_DEFAULT:
			if (nnames == 2)
				tool_usage_error("give --entity-name or --entity-default "
						 "once per --entity-type");
			if (c == O_NAME)
				name_arg[nnames++] = optarg;
			else
				default_arg[nnames++] = true;
			break;
		case O_TOPIC: set_entity("topics", optarg, false); break;
		case O_BROKER: set_entity("brokers", optarg, false); break;
		case O_BROKER_DEFAULTS: set_entity("brokers", NULL, true); break;
		case O_ADD: o.add = optarg; break;
		case O_ADD_FILE: o.add_file = optarg; break;
		case O_DEL: o.del = optarg; break;
		case O_ALL: o.all = true; break;
		case O_JSON: o.json = true; break;
		}
	}
	for (int i = 0; i < ntypes; i++)
		if (strcmp(type_arg[i], "topics") != 0 && strcmp(type_arg[i], "brokers") != 0 &&
		    strcmp(type_arg[i], "users") != 0 && strcmp(type_arg[i], "clients") != 0)
			tool_usage_error("--entity-type %s is not supported (topics, "
					 "brokers, users, clients)", type_arg[i]);
	if (ntypes == 2) {
		if (strcmp(type_arg[0], "users") != 0 || strcmp(type_arg[1], "clients") != 0)
			tool_usage_error("two entity types must be --entity-type users "
					 "then --entity-type clients");
		o.has_client = true;
		o.client = name_arg[1];
		o.client_default = default_arg[1];
	}
	if (ntypes > 0)
		set_entity(type_arg[0], name_arg[0], default_arg[0]);
	else if (nnames > 0)
		tool_usage_error("--entity-name and --entity-default need "
				 "--entity-type");
	if (nnames > ntypes && ntypes > 0)
		tool_usage_error("more entity names than --entity-type options");
	if (o.action == NONE)
		tool_usage_error("give one of --describe, --alter");
	tool_need_bootstrap(&o.t);
	if (o.type == NULL)
		tool_usage_error("give an entity: --entity-type with --entity-name "
				 "or --entity-default, --topic, --broker or "
				 "--broker-defaults");
	if (o.is_default && strcmp(o.type, "topics") == 0)
		tool_usage_error("--entity-default is for brokers, users and clients");
	if (o.name != NULL && strcmp(o.type, "brokers") == 0) {
		int64_t id;

		if (!tool_parse_i64(o.name, 0, INT32_MAX, &id))
			tool_usage_error("the broker entity name must be a broker id "
					 "(an integer), not '%s'", o.name);
	}
	if (o.action == ALTER) {
		if (o.name == NULL && !o.is_default)
			tool_usage_error("--alter needs --entity-name (or "
					 "--entity-default for brokers, users, clients)");
		if (o.has_client && o.client == NULL && !o.client_default)
			tool_usage_error("--alter needs a client --entity-name (or "
					 "--entity-default)");
		if (o.add == NULL && o.add_file == NULL && o.del == NULL)
			tool_usage_error("At least one of --add-config, "
					 "--add-config-file, or --delete-config must "
					 "be specified with --alter");
		if (o.add != NULL && o.add_file != NULL)
			tool_usage_error("give only one of --add-config and "
					 "--add-config-file");
		if (o.all)
			tool_usage_error("--all goes with --describe");
	} else if (o.add != NULL || o.add_file != NULL || o.del != NULL) {
		tool_usage_error("--add-config, --add-config-file and "
				 "--delete-config go with --alter");
	}
	type = strcmp(o.type, "topics") == 0 ? RESOURCE_TOPIC
	       : strcmp(o.type, "users") == 0 || strcmp(o.type, "clients") == 0
	       ? RESOURCE_USER : RESOURCE_BROKER;
	tool_cluster_open_admin(&cl, o.t.bootstrap, &ac, o.t.timeout_ms);
	if (type == RESOURCE_USER)
		rc = o.action == DESCRIBE ? describe_users() : alter_quota_entity();
	else
		rc = o.action == DESCRIBE ? do_describe(type) : do_alter(type);
	tool_cluster_close(&cl);
	kp_arena_free(&arena);
	return rc;
}
