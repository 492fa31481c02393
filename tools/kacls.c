/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kacls - add, remove and list ACLs, with the options of Kafka's
 * kafka-acls.sh (--bootstrap-server form): CreateAcls, DeleteAcls and
 * DescribeAcls sent to a broker, which keeps them in ZooKeeper as Kafka
 * 2.8's AclAuthorizer does.
 *
 * Every (principal, host, operation, permission) the options name is
 * applied to every resource they name (--topic, --group, --cluster,
 * --transactional-id, each repeatable); --producer and --consumer expand
 * to the operations Kafka's tool gives them.  --list and --remove take
 * the resources as filters (--resource-pattern-type match or any widen
 * them); --remove asks before it deletes unless --force.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_acl.h"
#include "tool.h"

#define MAX_ITEMS 64

struct res {
	uint8_t rtype;
	const char *name;
};

static struct {
	struct tool_opts t;
	int action;			/* 'a' add, 'r' remove, 'l' list */
	const char *allow_p[MAX_ITEMS], *deny_p[MAX_ITEMS];
	const char *allow_h[MAX_ITEMS], *deny_h[MAX_ITEMS];
	int nallow_p, ndeny_p, nallow_h, ndeny_h;
	uint8_t ops[KP_ACL_OP_MAX];
	int nops;
	struct res res[MAX_ITEMS];
	int nres;
	int pattern;			/* enum kp_acl_pattern; 0: not given */
	bool producer, consumer, idempotent, force, json;
	const char *command_config;
	const char *principal;		/* --principal (list filter) */
} o;

enum {
	OPT_ADD = 1, OPT_REMOVE, OPT_LIST, OPT_ALLOW_P, OPT_DENY_P, OPT_ALLOW_H,
	OPT_DENY_H, OPT_OP, OPT_TOPIC, OPT_GROUP, OPT_CLUSTER, OPT_TXN, OPT_PATTERN,
	OPT_PRODUCER, OPT_CONSUMER, OPT_IDEMPOTENT, OPT_FORCE, OPT_CMD_CONFIG, OPT_JSON,
	OPT_PRINCIPAL,
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kacls --bootstrap-server HOST:PORT[,...] --add|--remove|--list\n"
		"             [RESOURCES] [PRINCIPALS] [OPTIONS]\n"
		"Add, remove or list ACLs (Kafka's kafka-acls.sh).\n"
		"\n"
		"Actions (one):\n"
		"  --add                     add the ACLs the options name\n"
		"  --remove                  remove the matching ACLs (asks unless --force)\n"
		"  --list                    list the ACLs of the resources (all: none named)\n"
		"Resources (each repeatable):\n"
		"  --topic NAME              a topic (\"*\": every topic)\n"
		"  --group NAME              a consumer group\n"
		"  --cluster                 the cluster\n"
		"  --transactional-id ID     a transactional id\n"
		"  --resource-pattern-type T literal (default), prefixed; for --list and\n"
		"                            --remove also match and any\n"
		"Entries:\n"
		"  --allow-principal P       e.g. User:alice (repeatable)\n"
		"  --deny-principal P        a principal to deny (repeatable)\n"
		"  --allow-host H            the hosts of --allow-principal (default *)\n"
		"  --deny-host H             the hosts of --deny-principal (default *)\n"
		"  --operation OP            Read, Write, Create, Delete, Alter, Describe,\n"
		"                            ClusterAction, DescribeConfigs, AlterConfigs,\n"
		"                            IdempotentWrite, All (default All; repeatable)\n"
		"  --producer                Write, Describe, Create on the topics (and\n"
		"                            Write, Describe on the transactional ids)\n"
		"  --idempotent              with --producer: IdempotentWrite on the cluster\n"
		"  --consumer                Read, Describe on the topics, Read on the groups\n"
		"  --principal P             --list: only the ACLs of this principal\n"
		"Other:\n"
		"  --force                   --remove without asking\n"
		"  --json                    --list: print JSON\n"
		"  --command-config FILE     admin client settings (a properties file)\n"
		"  --bootstrap-server LIST   brokers to connect to first (required)\n"
		"  --timeout-ms N            patience for the cluster (default 30000)\n"
		"  --help                    this text\n"
		"  --version                 the version\n"
		"\n"
		"Exit status: 0 success, 1 the cluster refused something, 2 bad usage.\n");
}

static void add_item(const char **v, int *n, const char *s, const char *opt)
{
	if (*n >= MAX_ITEMS)
		tool_usage_error("too many %s", opt);
	v[(*n)++] = s;
}

static void add_res(uint8_t rtype, const char *name)
{
	if (o.nres >= MAX_ITEMS)
		tool_usage_error("too many resources");
	o.res[o.nres].rtype = rtype;
	o.res[o.nres].name = name;
	o.nres++;
}

static void add_op(int op)
{
	for (int i = 0; i < o.nops; i++)
		if (o.ops[i] == op)
			return;
	o.ops[o.nops++] = (uint8_t)op;
}

static bool principal_ok(const char *p)
{
	const char *c = strchr(p, ':');

	return c != NULL && c != p && c[1] != '\0';
}

/* The Java enum's name of a Kafka name ("Topic" -> "TOPIC"). */
static void upper(const char *camel, char *out, size_t outlen)
{
	size_t k = 0;

	for (size_t i = 0; camel != NULL && camel[i] != '\0' && k + 2 < outlen; i++) {
		if (i > 0 && isupper((unsigned char)camel[i]))
			out[k++] = '_';
		out[k++] = (char)toupper((unsigned char)camel[i]);
	}
	out[k] = '\0';
}

/* The operations of one resource type for this run. */
static int ops_for(uint8_t rtype, uint8_t *out)
{
	int n = 0;

	if (o.producer || o.consumer) {
		if (rtype == KP_ACL_RT_TOPIC && o.producer) {
			out[n++] = KP_ACL_OP_WRITE;
			out[n++] = KP_ACL_OP_DESCRIBE;
			out[n++] = KP_ACL_OP_CREATE;
		}
		if (rtype == KP_ACL_RT_TOPIC && o.consumer) {
			if (!o.producer)
				out[n++] = KP_ACL_OP_DESCRIBE;
			out[n++] = KP_ACL_OP_READ;
		}
		if (rtype == KP_ACL_RT_GROUP && o.consumer)
			out[n++] = KP_ACL_OP_READ;
		if (rtype == KP_ACL_RT_TXN_ID && o.producer) {
			out[n++] = KP_ACL_OP_WRITE;
			out[n++] = KP_ACL_OP_DESCRIBE;
		}
		if (rtype == KP_ACL_RT_CLUSTER && o.producer && o.idempotent)
			out[n++] = KP_ACL_OP_IDEMPOTENT_WRITE;
		return n;
	}
	if (o.nops == 0) {
		out[0] = KP_ACL_OP_ALL;
		return 1;
	}
	memcpy(out, o.ops, (size_t)o.nops);
	return o.nops;
}

/* ----------------------------------------------------------------- add */

static int do_add(struct tool_cluster *cl)
{
	struct kp_create_acls_req_acl_creation *cv;
	struct kp_create_acls_req req;
	struct kp_create_acls_resp resp;
	struct kp_arena a;
	int n = 0, failed = 0, cap;

	if (o.nallow_p + o.ndeny_p == 0)
		tool_usage_error("--add needs --allow-principal or --deny-principal");
	if (o.pattern != KP_ACL_PT_LITERAL && o.pattern != KP_ACL_PT_PREFIXED)
		tool_usage_error("--add takes --resource-pattern-type literal or prefixed");
	cap = o.nres * (o.nallow_p * (o.nallow_h ? o.nallow_h : 1) +
			o.ndeny_p * (o.ndeny_h ? o.ndeny_h : 1)) * KP_ACL_OP_MAX + 1;
	kp_arena_init(&a, 0);
	cv = kp_arena_calloc(&a, (size_t)cap, sizeof(*cv));
	if (cv == NULL)
		tool_die("out of memory");
	for (int r = 0; r < o.nres; r++) {
		uint8_t ops[KP_ACL_OP_MAX * 2];
		int nops = ops_for(o.res[r].rtype, ops);

		for (int perm = 0; perm < 2; perm++) {
			const char **ps = perm ? o.deny_p : o.allow_p;
			const char **hs = perm ? o.deny_h : o.allow_h;
			int np = perm ? o.ndeny_p : o.nallow_p;
			int nh = perm ? o.ndeny_h : o.nallow_h;

			for (int p = 0; p < np; p++)
				for (int h = 0; h < (nh ? nh : 1); h++)
					for (int k = 0; k < nops; k++) {
						struct kp_create_acls_req_acl_creation *c = &cv[n++];

						kp_struct_init(&kp_create_acls_req_acl_creation_desc, c);
						c->resource_type = (int8_t)o.res[r].rtype;
						c->resource_name = kp_str_c(o.res[r].name);
						c->resource_pattern_type = (int8_t)o.pattern;
						c->principal = kp_str_c(ps[p]);
						c->host = kp_str_c(nh ? hs[h] : "*");
						c->operation = (int8_t)ops[k];
						c->permission_type = (int8_t)(perm ? KP_ACL_PERM_DENY
										   : KP_ACL_PERM_ALLOW);
					}
		}
	}
	kp_struct_init(&kp_create_acls_req_desc, &req);
	req.creations = cv;
	req.creations_count = n;
	tool_call(cl->boot, KP_API_CREATE_ACLS, &req, &resp, &a, "CreateAcls");
	for (int32_t i = 0; i < resp.results_count && i < n; i++) {
		if (resp.results[i].error_code == 0)
			continue;
		failed++;
		tool_warn("adding %s %s %s on %s %.*s: %s%s%.*s",
			  kp_acl_perm_name(cv[i].permission_type),
			  kp_acl_op_name(cv[i].operation), cv[i].principal.ptr,
			  kp_acl_rtype_name(cv[i].resource_type),
			  (int)cv[i].resource_name.len, cv[i].resource_name.ptr,
			  kp_err_name(resp.results[i].error_code),
			  resp.results[i].error_message.len > 0 ? ": " : "",
			  resp.results[i].error_message.len > 0 ?
			  (int)resp.results[i].error_message.len : 0,
			  resp.results[i].error_message.ptr != NULL ?
			  resp.results[i].error_message.ptr : "");
	}
	if (failed == 0 && !o.json)
		printf("Added %d ACL%s\n", n, n == 1 ? "" : "s");
	kp_arena_free(&a);
	return failed ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

/* ---------------------------------------------------------------- list */

static void print_binding_text(const struct kp_describe_acls_resp_describe_acls_resource *r)
{
	char t[64], p[64];

	upper(kp_acl_rtype_name(r->resource_type), t, sizeof(t));
	upper(kp_acl_pattern_name(r->pattern_type), p, sizeof(p));
	printf("Current ACLs for resource `ResourcePattern(resourceType=%s, name=%.*s, "
	       "patternType=%s)`: \n", t, (int)r->resource_name.len, r->resource_name.ptr, p);
	for (int32_t k = 0; k < r->acls_count; k++) {
		char op[64], perm[16];

		upper(kp_acl_op_name(r->acls[k].operation), op, sizeof(op));
		upper(kp_acl_perm_name(r->acls[k].permission_type), perm, sizeof(perm));
		printf(" \t(principal=%.*s, host=%.*s, operation=%s, permissionType=%s)\n",
		       (int)r->acls[k].principal.len, r->acls[k].principal.ptr,
		       (int)r->acls[k].host.len, r->acls[k].host.ptr, op, perm);
	}
	printf("\n");
}

static json_t *jstrn(kp_str s)
{
	return json_stringn(s.ptr != NULL ? s.ptr : "", s.len > 0 ? (size_t)s.len : 0);
}

static int describe(struct tool_cluster *cl, uint8_t rtype, const char *name,
		    json_t *out)
{
	struct kp_describe_acls_req req;
	struct kp_describe_acls_resp resp;
	struct kp_arena a;

	kp_arena_init(&a, 0);
	kp_struct_init(&kp_describe_acls_req_desc, &req);
	req.resource_type_filter = (int8_t)rtype;
	req.resource_name_filter = name != NULL ? kp_str_c(name) : (kp_str){ NULL, -1 };
	req.pattern_type_filter = (int8_t)(name == NULL && o.pattern == KP_ACL_PT_LITERAL ?
					   KP_ACL_PT_ANY : o.pattern);
	req.principal_filter = o.principal != NULL ? kp_str_c(o.principal)
						   : (kp_str){ NULL, -1 };
	req.host_filter = (kp_str){ NULL, -1 };
	req.operation = KP_ACL_OP_ANY;
	req.permission_type = KP_ACL_PERM_ANY;
	tool_call(cl->boot, KP_API_DESCRIBE_ACLS, &req, &resp, &a, "DescribeAcls");
	if (resp.error_code != 0) {
		tool_warn("listing ACLs: %s%s%.*s", kp_err_name(resp.error_code),
			  resp.error_message.len > 0 ? ": " : "",
			  resp.error_message.len > 0 ? (int)resp.error_message.len : 0,
			  resp.error_message.ptr != NULL ? resp.error_message.ptr : "");
		kp_arena_free(&a);
		return TOOL_EXIT_FAIL;
	}
	for (int32_t i = 0; i < resp.resources_count; i++) {
		const struct kp_describe_acls_resp_describe_acls_resource *r = &resp.resources[i];

		if (out == NULL) {
			print_binding_text(r);
			continue;
		}
		for (int32_t k = 0; k < r->acls_count; k++) {
			json_t *b = json_object();

			json_object_set_new(b, "resourceType",
					    json_string(kp_acl_rtype_name(r->resource_type)));
			json_object_set_new(b, "name", jstrn(r->resource_name));
			json_object_set_new(b, "patternType",
					    json_string(kp_acl_pattern_name(r->pattern_type)));
			json_object_set_new(b, "principal", jstrn(r->acls[k].principal));
			json_object_set_new(b, "host", jstrn(r->acls[k].host));
			json_object_set_new(b, "operation",
					    json_string(kp_acl_op_name(r->acls[k].operation)));
			json_object_set_new(b, "permissionType",
					    json_string(kp_acl_perm_name(r->acls[k].permission_type)));
			json_array_append_new(out, b);
		}
	}
	kp_arena_free(&a);
	return TOOL_EXIT_OK;
}

static int do_list(struct tool_cluster *cl)
{
	json_t *out = o.json ? json_array() : NULL;
	int rc = TOOL_EXIT_OK;

	if (o.nres == 0)
		rc = describe(cl, KP_ACL_RT_ANY, NULL, out);
	for (int i = 0; i < o.nres && rc == TOOL_EXIT_OK; i++)
		rc = describe(cl, o.res[i].rtype, o.res[i].name, out);
	if (out != NULL) {
		if (rc == TOOL_EXIT_OK) {
			json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			printf("\n");
		}
		json_decref(out);
	}
	return rc;
}

/* -------------------------------------------------------------- remove */

static bool confirm(const char *what)
{
	char line[64];

	if (o.force)
		return true;
	fprintf(stderr, "Are you sure you want to remove %s? (y/n)\n", what);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}

static int do_remove(struct tool_cluster *cl)
{
	struct kp_delete_acls_req_delete_acls_filter *fv;
	struct kp_delete_acls_req req;
	struct kp_delete_acls_resp resp;
	struct kp_arena a;
	int n = 0, failed = 0, removed = 0, cap;
	char what[256];

	if (o.nres == 0)
		tool_usage_error("--remove needs a resource (--topic, --group, --cluster, "
				 "--transactional-id)");
	snprintf(what, sizeof(what), "%s of %d resource%s",
		 o.nallow_p + o.ndeny_p ? "the ACLs named" : "every ACL", o.nres,
		 o.nres == 1 ? "" : "s");
	if (!confirm(what)) {
		tool_warn("nothing removed");
		return TOOL_EXIT_FAIL;
	}
	cap = o.nres * (o.nallow_p * (o.nallow_h ? o.nallow_h : 1) +
			o.ndeny_p * (o.ndeny_h ? o.ndeny_h : 1) + 1) * KP_ACL_OP_MAX + 1;
	kp_arena_init(&a, 0);
	fv = kp_arena_calloc(&a, (size_t)cap, sizeof(*fv));
	if (fv == NULL)
		tool_die("out of memory");
	for (int r = 0; r < o.nres; r++) {
		uint8_t ops[KP_ACL_OP_MAX * 2];
		int nops = ops_for(o.res[r].rtype, ops);

		if (o.nallow_p + o.ndeny_p == 0) {
			/* every entry of the resource */
			struct kp_delete_acls_req_delete_acls_filter *f = &fv[n++];

			kp_struct_init(&kp_delete_acls_req_delete_acls_filter_desc, f);
			f->resource_type_filter = (int8_t)o.res[r].rtype;
			f->resource_name_filter = kp_str_c(o.res[r].name);
			f->pattern_type_filter = (int8_t)o.pattern;
			f->principal_filter = (kp_str){ NULL, -1 };
			f->host_filter = (kp_str){ NULL, -1 };
			f->operation = KP_ACL_OP_ANY;
			f->permission_type = KP_ACL_PERM_ANY;
			continue;
		}
		for (int perm = 0; perm < 2; perm++) {
			const char **ps = perm ? o.deny_p : o.allow_p;
			const char **hs = perm ? o.deny_h : o.allow_h;
			int np = perm ? o.ndeny_p : o.nallow_p;
			int nh = perm ? o.ndeny_h : o.nallow_h;

			for (int p = 0; p < np; p++)
				for (int h = 0; h < (nh ? nh : 1); h++)
					for (int k = 0; k < nops; k++) {
						struct kp_delete_acls_req_delete_acls_filter *f =
							&fv[n++];

						kp_struct_init(&kp_delete_acls_req_delete_acls_filter_desc, f);
						f->resource_type_filter = (int8_t)o.res[r].rtype;
						f->resource_name_filter = kp_str_c(o.res[r].name);
						f->pattern_type_filter = (int8_t)o.pattern;
						f->principal_filter = kp_str_c(ps[p]);
						f->host_filter = kp_str_c(nh ? hs[h] : "*");
						f->operation = (int8_t)ops[k];
						f->permission_type = (int8_t)(perm ? KP_ACL_PERM_DENY
										   : KP_ACL_PERM_ALLOW);
					}
		}
	}
	kp_struct_init(&kp_delete_acls_req_desc, &req);
	req.filters = fv;
	req.filters_count = n;
	tool_call(cl->boot, KP_API_DELETE_ACLS, &req, &resp, &a, "DeleteAcls");
	for (int32_t i = 0; i < resp.filter_results_count; i++) {
		const struct kp_delete_acls_resp_delete_acls_filter_result *fr =
			&resp.filter_results[i];

		if (fr->error_code != 0) {
			failed++;
			tool_warn("removing ACLs: %s%s%.*s", kp_err_name(fr->error_code),
				  fr->error_message.len > 0 ? ": " : "",
				  fr->error_message.len > 0 ? (int)fr->error_message.len : 0,
				  fr->error_message.ptr != NULL ? fr->error_message.ptr : "");
		}
		removed += fr->matching_acls_count;
	}
	if (failed == 0)
		printf("Removed %d ACL%s\n", removed, removed == 1 ? "" : "s");
	kp_arena_free(&a);
	return failed ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "add", no_argument, NULL, OPT_ADD },
		{ "remove", no_argument, NULL, OPT_REMOVE },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "allow-principal", required_argument, NULL, OPT_ALLOW_P },
		{ "deny-principal", required_argument, NULL, OPT_DENY_P },
		{ "allow-host", required_argument, NULL, OPT_ALLOW_H },
		{ "deny-host", required_argument, NULL, OPT_DENY_H },
		{ "operation", required_argument, NULL, OPT_OP },
		{ "topic", required_argument, NULL, OPT_TOPIC },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "cluster", no_argument, NULL, OPT_CLUSTER },
		{ "transactional-id", required_argument, NULL, OPT_TXN },
		{ "resource-pattern-type", required_argument, NULL, OPT_PATTERN },
		{ "producer", no_argument, NULL, OPT_PRODUCER },
		{ "consumer", no_argument, NULL, OPT_CONSUMER },
		{ "idempotent", no_argument, NULL, OPT_IDEMPOTENT },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "command-config", required_argument, NULL, OPT_CMD_CONFIG },
		{ "principal", required_argument, NULL, OPT_PRINCIPAL },
		TOOL_OPTIONS_TAIL
	};
	struct tool_admin_config ac;
	struct tool_cluster cl;
	int c, rc = TOOL_EXIT_OK;

	tool_name = "kacls";
	o.t.timeout_ms = 30000;
	o.t.usage = usage;
	while ((c = tool_getopt(argc, argv, opts, &o.t)) != -1) {
		switch (c) {
		case OPT_ADD:
		case OPT_REMOVE:
		case OPT_LIST: {
			int act = c == OPT_ADD ? 'a' : c == OPT_REMOVE ? 'r' : 'l';

			if (o.action != 0 && o.action != act)
				tool_usage_error("give only one of --add, --remove, --list");
			o.action = act;
			break;
		}
		case OPT_ALLOW_P:
		case OPT_DENY_P:
		case OPT_PRINCIPAL:
			if (!principal_ok(optarg))
				tool_usage_error("%s: not a principal (Type:name, e.g. User:alice)",
						 optarg);
			if (c == OPT_PRINCIPAL)
				o.principal = optarg;
			else if (c == OPT_ALLOW_P)
				add_item(o.allow_p, &o.nallow_p, optarg, "--allow-principal");
			else
				add_item(o.deny_p, &o.ndeny_p, optarg, "--deny-principal");
			break;
		case OPT_ALLOW_H:
			add_item(o.allow_h, &o.nallow_h, optarg, "--allow-host");
			break;
		case OPT_DENY_H:
			add_item(o.deny_h, &o.ndeny_h, optarg, "--deny-host");
			break;
		case OPT_OP: {
			int op = kp_acl_op_parse(optarg);

			if (op < KP_ACL_OP_ALL)
				tool_usage_error("--operation %s: not an operation (Read, Write, "
						 "Create, Delete, Alter, Describe, "
						 "ClusterAction, DescribeConfigs, "
						 "AlterConfigs, IdempotentWrite, All)", optarg);
			add_op(op);
			break;
		}
		case OPT_TOPIC:
			add_res(KP_ACL_RT_TOPIC, optarg);
			break;
		case OPT_GROUP:
			add_res(KP_ACL_RT_GROUP, optarg);
			break;
		case OPT_CLUSTER:
			add_res(KP_ACL_RT_CLUSTER, KP_ACL_CLUSTER_NAME);
			break;
		case OPT_TXN:
			add_res(KP_ACL_RT_TXN_ID, optarg);
			break;
		case OPT_PATTERN:
			o.pattern = kp_acl_pattern_parse(optarg);
			if (o.pattern < KP_ACL_PT_ANY)
				tool_usage_error("--resource-pattern-type %s: literal, prefixed, "
						 "match or any", optarg);
			break;
		case OPT_PRODUCER:
			o.producer = true;
			break;
		case OPT_CONSUMER:
			o.consumer = true;
			break;
		case OPT_IDEMPOTENT:
			o.idempotent = true;
			break;
		case OPT_FORCE:
			o.force = true;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_CMD_CONFIG:
			o.command_config = optarg;
			break;
		}
	}
	if (o.action == 0)
		tool_usage_error("give one of --add, --remove, --list");
	tool_need_bootstrap(&o.t);
	if (o.pattern == 0)
		o.pattern = KP_ACL_PT_LITERAL;
	if ((o.producer || o.consumer) && o.nops > 0)
		tool_usage_error("--operation does not go with --producer or --consumer");
	if (o.consumer && o.action != 'l') {
		bool group = false, topic = false;

		for (int i = 0; i < o.nres; i++) {
			group |= o.res[i].rtype == KP_ACL_RT_GROUP;
			topic |= o.res[i].rtype == KP_ACL_RT_TOPIC;
		}
		if (!group || !topic)
			tool_usage_error("--consumer needs --topic and --group");
	}
	if (o.producer && o.idempotent) {
		bool cluster = false;

		for (int i = 0; i < o.nres; i++)
			cluster |= o.res[i].rtype == KP_ACL_RT_CLUSTER;
		if (!cluster)
			add_res(KP_ACL_RT_CLUSTER, KP_ACL_CLUSTER_NAME);
	}
	if (o.nallow_h > 0 && o.nallow_p == 0)
		tool_usage_error("--allow-host needs --allow-principal");
	if (o.ndeny_h > 0 && o.ndeny_p == 0)
		tool_usage_error("--deny-host needs --deny-principal");
	if (o.action == 'a' && o.nres == 0)
		tool_usage_error("--add needs a resource (--topic, --group, --cluster, "
				 "--transactional-id)");
	memset(&ac, 0, sizeof(ac));
	if (o.command_config != NULL)
		tool_read_admin_config("--command-config", o.command_config, &ac);
	tool_cluster_open_admin(&cl, o.t.bootstrap, o.command_config != NULL ? &ac : NULL,
				o.t.timeout_ms);
	if (o.action == 'a')
		rc = do_add(&cl);
	else if (o.action == 'r')
		rc = do_remove(&cl);
	else
		rc = do_list(&cl);
	tool_cluster_close(&cl);
	return rc;
}
