/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_acl.c - the ACL matcher as Kafka 2.8's AclAuthorizer decides:
 * literal, wildcard and prefixed patterns, DENY over ALLOW, implied
 * operations, hosts, the User:* principal, super users,
 * allow.everyone.if.no.acl.found; filters (MATCH, ANY); the znode JSON,
 * paths and change notifications in Kafka's formats; bad JSON refused.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_acl.h"
#include "kp_errors.h"

struct copy {
	struct kp_acl_entry v[16];
	size_t n;
};

static void grab(const struct kp_acl_res *r, const struct kp_acl_entry *e, void *arg)
{
	struct copy *c = arg;

	(void)r;
	ck_assert_uint_lt(c->n, 15);
	c->v[c->n].principal = strdup(e->principal);
	c->v[c->n].host = strdup(e->host);
	c->v[c->n].op = e->op;
	c->v[c->n].perm = e->perm;
	c->n++;
}

/* Add an entry to a pattern (the store replaces a pattern's set). */
static void add(struct kp_acl_store *s, int rtype, int pattern, const char *name,
		const char *principal, const char *host, int op, int perm)
{
	struct kp_acl_res r = { (uint8_t)rtype, (uint8_t)pattern, name };
	struct kp_acl_filter f = { (uint8_t)rtype, (uint8_t)pattern, name, NULL, NULL,
				   KP_ACL_OP_ANY, KP_ACL_PERM_ANY };
	struct copy c = { .n = 0 };
	struct kp_acl_entry *v;

	kp_acl_store_each(s, &f, grab, &c);
	c.v[c.n].principal = strdup(principal);
	c.v[c.n].host = strdup(host);
	c.v[c.n].op = (uint8_t)op;
	c.v[c.n].perm = (uint8_t)perm;
	c.n++;
	v = calloc(c.n, sizeof(*v));
	ck_assert_ptr_nonnull(v);
	memcpy(v, c.v, c.n * sizeof(*v));
	ck_assert_int_eq(kp_acl_store_set(s, &r, v, c.n, 0), 0);
}

#define CHECK(a, p, h, op, rt, name) kp_authz_check(a, p, h, op, rt, name, false)

START_TEST(literal_and_defaults)
{
	struct kp_authz a;
	char err[256];

	ck_assert_int_eq(kp_authz_init(&a, "User:admin; User:root", false, err, sizeof(err)), 0);
	ck_assert_uint_eq(a.nsuper, 2);
	/* no ACL: denied unless allow.everyone.if.no.acl.found */
	ck_assert(!CHECK(&a, "User:alice", "10.0.0.1", KP_ACL_OP_READ, KP_ACL_RT_TOPIC, "t"));
	a.allow_if_none = true;
	ck_assert(CHECK(&a, "User:alice", "10.0.0.1", KP_ACL_OP_READ, KP_ACL_RT_TOPIC, "t"));
	/* super users are allowed everything, ACLs or not */
	ck_assert(CHECK(&a, "User:root", "h", KP_ACL_OP_ALTER, KP_ACL_RT_CLUSTER,
			KP_ACL_CLUSTER_NAME));

	add(a.store, KP_ACL_RT_TOPIC, KP_ACL_PT_LITERAL, "t", "User:alice", "*",
	    KP_ACL_OP_READ, KP_ACL_PERM_ALLOW);
	ck_assert(CHECK(&a, "User:alice", "1.2.3.4", KP_ACL_OP_READ, KP_ACL_RT_TOPIC, "t"));
	/* an ACL exists now: others are denied even with allow_if_none */
	ck_assert(!CHECK(&a, "User:bob", "1.2.3.4", KP_ACL_OP_READ, KP_ACL_RT_TOPIC, "t"));
	ck_assert(!CHECK(&a, "User:alice", "1.2.3.4", KP_ACL_OP_WRITE, KP_ACL_RT_TOPIC, "t"));
	/* Read implies Describe, not the reverse */
	ck_assert(CHECK(&a, "User:alice", "1.2.3.4", KP_ACL_OP_DESCRIBE, KP_ACL_RT_TOPIC, "t"));
	/* another topic without ACLs: allow_if_none */
	ck_assert(CHECK(&a, "User:bob", "h", KP_ACL_OP_WRITE, KP_ACL_RT_TOPIC, "u"));
	a.allow_if_none = false;
	ck_assert(!CHECK(&a, "User:bob", "h", KP_ACL_OP_WRITE, KP_ACL_RT_TOPIC, "u"));
	/* the same name of another type is another resource */
	ck_assert(!CHECK(&a, "User:alice", "h", KP_ACL_OP_READ, KP_ACL_RT_GROUP, "t"));
	kp_authz_destroy(&a);

	ck_assert_int_eq(kp_authz_init(&a, "alice", false, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "super.users"));
	ck_assert_int_eq(kp_authz_class("kafka.security.authorizer.AclAuthorizer"), 1);
	ck_assert_int_eq(kp_authz_class("kafka.security.auth.SimpleAclAuthorizer"), 1);
	ck_assert_int_eq(kp_authz_class("acl"), 1);
	ck_assert_int_eq(kp_authz_class(""), 0);
	ck_assert_int_eq(kp_authz_class("com.example.Other"), -1);
}
END_TEST

START_TEST(deny_hosts_implied)
{
	struct kp_authz a;
	char err[256];

	ck_assert_int_eq(kp_authz_init(&a, "", true, err, sizeof(err)), 0);
	/* ALLOW All on every topic for everyone, DENY Write on t for bob */
	add(a.store, KP_ACL_RT_TOPIC, KP_ACL_PT_LITERAL, "*", "User:*", "*", KP_ACL_OP_ALL,
	    KP_ACL_PERM_ALLOW);
	add(a.store, KP_ACL_RT_TOPIC, KP_ACL_PT_LITERAL, "t", "User:bob", "*",
	    KP_ACL_OP_WRITE, KP_ACL_PERM_DENY);
	ck_assert(CHECK(&a, "User:alice", "h", KP_ACL_OP_WRITE, KP_ACL_RT_TOPIC, "t"));
	ck_assert(!CHECK(&a, "User:bob", "h", KP_ACL_OP_WRITE, KP_ACL_RT_TOPIC, "t"));
	/* a DENY of Write does not deny Describe (DENY is not implied) */
	ck_assert(CHECK(&a, "User:bob", "h", KP_ACL_OP_DESCRIBE, KP_ACL_RT_TOPIC, "t"));
	ck_assert(CHECK(&a, "User:bob", "h", KP_ACL_OP_WRITE, KP_ACL_RT_TOPIC, "other"));

	/* hosts: an ALLOW from one address only */
	add(a.store, KP_ACL_RT_GROUP, KP_ACL_PT_LITERAL, "g", "User:carol", "10.0.0.7",
	    KP_ACL_OP_READ, KP_ACL_PERM_ALLOW);
	ck_assert(CHECK(&a, "User:carol", "10.0.0.7", KP_ACL_OP_READ, KP_ACL_RT_GROUP, "g"));
	ck_assert(!CHECK(&a, "User:carol", "10.0.0.8", KP_ACL_OP_READ, KP_ACL_RT_GROUP, "g"));

	/* AlterConfigs implies DescribeConfigs; Alter/Delete imply Describe */
	add(a.store, KP_ACL_RT_CLUSTER, KP_ACL_PT_LITERAL, KP_ACL_CLUSTER_NAME, "User:ops",
	    "*", KP_ACL_OP_ALTER_CONFIGS, KP_ACL_PERM_ALLOW);
	ck_assert(CHECK(&a, "User:ops", "h", KP_ACL_OP_DESCRIBE_CONFIGS, KP_ACL_RT_CLUSTER,
			KP_ACL_CLUSTER_NAME));
	ck_assert(!CHECK(&a, "User:ops", "h", KP_ACL_OP_DESCRIBE, KP_ACL_RT_CLUSTER,
			 KP_ACL_CLUSTER_NAME));
	ck_assert(!CHECK(&a, "User:ops", "h", KP_ACL_OP_ALTER, KP_ACL_RT_CLUSTER,
			 KP_ACL_CLUSTER_NAME));
	add(a.store, KP_ACL_RT_GROUP, KP_ACL_PT_LITERAL, "g2", "User:dan", "*",
	    KP_ACL_OP_DELETE, KP_ACL_PERM_ALLOW);
	ck_assert(CHECK(&a, "User:dan", "h", KP_ACL_OP_DESCRIBE, KP_ACL_RT_GROUP, "g2"));
	ck_assert(!CHECK(&a, "User:dan", "h", KP_ACL_OP_READ, KP_ACL_RT_GROUP, "g2"));
	/* DENY All denies everything, whatever is allowed */
	add(a.store, KP_ACL_RT_TOPIC, KP_ACL_PT_LITERAL, "secret", "User:*", "*",
	    KP_ACL_OP_ALL, KP_ACL_PERM_DENY);
	ck_assert(!CHECK(&a, "User:alice", "h", KP_ACL_OP_READ, KP_ACL_RT_TOPIC, "secret"));
	ck_assert(!CHECK(&a, "User:alice", "h", KP_ACL_OP_DESCRIBE, KP_ACL_RT_TOPIC, "secret"));
	kp_authz_destroy(&a);
}
END_TEST

START_TEST(prefixed)
{
	struct kp_authz a;
	char err[256];

	ck_assert_int_eq(kp_authz_init(&a, NULL, false, err, sizeof(err)), 0);
	add(a.store, KP_ACL_RT_TOPIC, KP_ACL_PT_PREFIXED, "pay-", "User:alice", "*",
	    KP_ACL_OP_WRITE, KP_ACL_PERM_ALLOW);
	add(a.store, KP_ACL_RT_TOPIC, KP_ACL_PT_PREFIXED, "pay-secret", "User:alice", "*",
	    KP_ACL_OP_WRITE, KP_ACL_PERM_DENY);
	ck_assert(CHECK(&a, "User:alice", "h", KP_ACL_OP_WRITE, KP_ACL_RT_TOPIC, "pay-in"));
	ck_assert(CHECK(&a, "User:alice", "h", KP_ACL_OP_WRITE, KP_ACL_RT_TOPIC, "pay-"));
	ck_assert(!CHECK(&a, "User:alice", "h", KP_ACL_OP_WRITE, KP_ACL_RT_TOPIC, "pay"));
	ck_assert(!CHECK(&a, "User:alice", "h", KP_ACL_OP_WRITE, KP_ACL_RT_TOPIC,
			 "pay-secret-2"));
	ck_assert(!CHECK(&a, "User:alice", "h", KP_ACL_OP_WRITE, KP_ACL_RT_TOPIC, "x-pay-in"));
	/* a literal "pay-" is not a prefix */
	add(a.store, KP_ACL_RT_GROUP, KP_ACL_PT_LITERAL, "grp", "User:alice", "*",
	    KP_ACL_OP_READ, KP_ACL_PERM_ALLOW);
	ck_assert(!CHECK(&a, "User:alice", "h", KP_ACL_OP_READ, KP_ACL_RT_GROUP, "grp1"));
	/* removing a pattern */
	{
		struct kp_acl_res r = { KP_ACL_RT_TOPIC, KP_ACL_PT_PREFIXED, "pay-secret" };

		ck_assert_int_eq(kp_acl_store_set(a.store, &r, NULL, 0, 1), 0);
	}
	ck_assert(CHECK(&a, "User:alice", "h", KP_ACL_OP_WRITE, KP_ACL_RT_TOPIC,
			"pay-secret-2"));
	ck_assert_uint_eq(kp_acl_store_count(a.store), 2);
	kp_authz_destroy(&a);
}
END_TEST

struct seen {
	int n;
	char last[256];
};

static void count(const struct kp_acl_res *r, const struct kp_acl_entry *e, void *arg)
{
	struct seen *s = arg;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%s/%s/%s", r->name, e->principal,
		 kp_acl_op_name(e->op));
}

/* KIP-430: the authorized operations Kafka 2.8 answers (AuthHelper's
 * authorizedOperations): the supported operations of the type the
 * principal is allowed, implied ones included, each as a literal check. */
START_TEST(authorized_operations)
{
	struct kp_authz a;
	char err[256];
	int32_t topic_all = 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 8 | 1 << 10 |
			    1 << 11;
	int32_t cluster_all = 1 << 5 | 1 << 7 | 1 << 8 | 1 << 9 | 1 << 10 | 1 << 11 | 1 << 12;

	ck_assert_int_eq(kp_acl_supported_ops(KP_ACL_RT_TOPIC), topic_all);
	ck_assert_int_eq(kp_acl_supported_ops(KP_ACL_RT_GROUP), 1 << 3 | 1 << 6 | 1 << 8);
	ck_assert_int_eq(kp_acl_supported_ops(KP_ACL_RT_CLUSTER), cluster_all);
	ck_assert_int_eq(kp_acl_supported_ops(KP_ACL_RT_TXN_ID), 1 << 4 | 1 << 8);
	ck_assert_int_eq(kp_acl_supported_ops(KP_ACL_RT_DELEGATION_TOKEN), 1 << 8);
	ck_assert_int_eq(kp_acl_supported_ops(KP_ACL_RT_ANY), 0);
	/* no authorizer: everything the type supports */
	ck_assert_int_eq(kp_authz_operations(NULL, "User:x", "h", KP_ACL_RT_TOPIC, "t"),
			 topic_all);

	ck_assert_int_eq(kp_authz_init(&a, "User:admin", false, err, sizeof(err)), 0);
	ck_assert_int_eq(kp_authz_operations(&a, "User:admin", "h", KP_ACL_RT_CLUSTER,
					     KP_ACL_CLUSTER_NAME), cluster_all);
	ck_assert_int_eq(kp_authz_operations(&a, "User:alice", "h", KP_ACL_RT_TOPIC, "t"), 0);
	/* Read implies Describe; a prefixed Write applies too */
	add(a.store, KP_ACL_RT_TOPIC, KP_ACL_PT_LITERAL, "t", "User:alice", "*",
	    KP_ACL_OP_READ, KP_ACL_PERM_ALLOW);
	add(a.store, KP_ACL_RT_TOPIC, KP_ACL_PT_PREFIXED, "t", "User:alice", "*",
	    KP_ACL_OP_WRITE, KP_ACL_PERM_ALLOW);
	ck_assert_int_eq(kp_authz_operations(&a, "User:alice", "h", KP_ACL_RT_TOPIC, "t"),
			 1 << 3 | 1 << 4 | 1 << 8);
	ck_assert_int_eq(kp_authz_operations(&a, "User:alice", "h", KP_ACL_RT_TOPIC, "tx"),
			 1 << 4 | 1 << 8);
	/* All gives every supported operation; a DENY takes one away */
	add(a.store, KP_ACL_RT_GROUP, KP_ACL_PT_LITERAL, "g", "User:alice", "*",
	    KP_ACL_OP_ALL, KP_ACL_PERM_ALLOW);
	add(a.store, KP_ACL_RT_GROUP, KP_ACL_PT_LITERAL, "g", "User:alice", "*",
	    KP_ACL_OP_DELETE, KP_ACL_PERM_DENY);
	ck_assert_int_eq(kp_authz_operations(&a, "User:alice", "h", KP_ACL_RT_GROUP, "g"),
			 1 << 3 | 1 << 8);
	/* AlterConfigs implies DescribeConfigs on the cluster */
	add(a.store, KP_ACL_RT_CLUSTER, KP_ACL_PT_LITERAL, KP_ACL_CLUSTER_NAME, "User:ops",
	    "*", KP_ACL_OP_ALTER_CONFIGS, KP_ACL_PERM_ALLOW);
	ck_assert_int_eq(kp_authz_operations(&a, "User:ops", "h", KP_ACL_RT_CLUSTER,
					     KP_ACL_CLUSTER_NAME), 1 << 10 | 1 << 11);
	kp_authz_destroy(&a);
}
END_TEST

START_TEST(filters)
{
	struct kp_acl_store *s = kp_acl_store_new();
	struct kp_acl_filter f = { KP_ACL_RT_ANY, KP_ACL_PT_ANY, NULL, NULL, NULL,
				   KP_ACL_OP_ANY, KP_ACL_PERM_ANY };
	struct seen seen = { 0, "" };

	add(s, KP_ACL_RT_TOPIC, KP_ACL_PT_LITERAL, "orders", "User:a", "*", KP_ACL_OP_READ,
	    KP_ACL_PERM_ALLOW);
	add(s, KP_ACL_RT_TOPIC, KP_ACL_PT_LITERAL, "*", "User:b", "*", KP_ACL_OP_READ,
	    KP_ACL_PERM_ALLOW);
	add(s, KP_ACL_RT_TOPIC, KP_ACL_PT_PREFIXED, "ord", "User:c", "*", KP_ACL_OP_WRITE,
	    KP_ACL_PERM_DENY);
	add(s, KP_ACL_RT_GROUP, KP_ACL_PT_LITERAL, "orders", "User:d", "*", KP_ACL_OP_READ,
	    KP_ACL_PERM_ALLOW);
	kp_acl_store_each(s, &f, count, &seen);
	ck_assert_int_eq(seen.n, 4);
	/* MATCH: the literal, the wildcard and the prefix that cover "orders" */
	seen.n = 0;
	f.rtype = KP_ACL_RT_TOPIC;
	f.pattern = KP_ACL_PT_MATCH;
	f.name = "orders";
	kp_acl_store_each(s, &f, count, &seen);
	ck_assert_int_eq(seen.n, 3);
	/* LITERAL "orders": that one only */
	seen.n = 0;
	f.pattern = KP_ACL_PT_LITERAL;
	kp_acl_store_each(s, &f, count, &seen);
	ck_assert_int_eq(seen.n, 1);
	ck_assert_str_eq(seen.last, "orders/User:a/Read");
	/* by principal and permission */
	seen.n = 0;
	f.pattern = KP_ACL_PT_ANY;
	f.name = NULL;
	f.perm = KP_ACL_PERM_DENY;
	kp_acl_store_each(s, &f, count, &seen);
	ck_assert_int_eq(seen.n, 1);
	ck_assert(kp_acl_filter_exact(&(struct kp_acl_filter){ KP_ACL_RT_TOPIC,
		KP_ACL_PT_LITERAL, "x", NULL, NULL, KP_ACL_OP_ANY, KP_ACL_PERM_ANY }));
	ck_assert(!kp_acl_filter_exact(&(struct kp_acl_filter){ KP_ACL_RT_ANY,
		KP_ACL_PT_LITERAL, "x", NULL, NULL, KP_ACL_OP_ANY, KP_ACL_PERM_ANY }));
	kp_acl_store_free(s);
}
END_TEST

START_TEST(zk_formats)
{
	struct kp_acl_entry e[2] = {
		{ "User:alice", "*", KP_ACL_OP_READ, KP_ACL_PERM_ALLOW },
		{ "User:bob", "10.1.2.3", KP_ACL_OP_IDEMPOTENT_WRITE, KP_ACL_PERM_DENY },
	};
	struct kp_acl_entry *v;
	size_t n;
	char err[256], path[256], *json, *data, *name;
	const char *dir;
	uint8_t rt, pt;

	json = kp_acl_json_encode(e, 2);
	ck_assert_str_eq(json, "{\"version\":1,\"acls\":[{\"principal\":\"User:alice\","
			 "\"permissionType\":\"Allow\",\"operation\":\"Read\",\"host\":\"*\"},"
			 "{\"principal\":\"User:bob\",\"permissionType\":\"Deny\","
			 "\"operation\":\"IdempotentWrite\",\"host\":\"10.1.2.3\"}]}");
	ck_assert_int_eq(kp_acl_json_decode(json, strlen(json), &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[1].host, "10.1.2.3");
	ck_assert_int_eq(v[1].op, KP_ACL_OP_IDEMPOTENT_WRITE);
	ck_assert_int_eq(v[1].perm, KP_ACL_PERM_DENY);
	kp_acl_entries_free(v, n);
	free(json);

	/* Kafka's own example (spaces, other key order) */
	json = "{\"version\": 1, \"acls\": [ { \"host\":\"host1\", \"permissionType\": "
	       "\"Deny\",\"operation\": \"Read\",\"principal\": \"User:alice\"}]}";
	ck_assert_int_eq(kp_acl_json_decode(json, strlen(json), &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	kp_acl_entries_free(v, n);
	/* refused without a crash */
	ck_assert_int_eq(kp_acl_json_decode("{\"version\":2,\"acls\":[]}", 23, &v, &n, err,
					    sizeof(err)), -1);
	ck_assert_int_eq(kp_acl_json_decode("{\"version\":1,\"acls\":[{\"principal\":1}]}", 37,
					    &v, &n, err, sizeof(err)), -1);
	ck_assert_int_eq(kp_acl_json_decode("[", 1, &v, &n, err, sizeof(err)), -1);
	ck_assert_int_eq(kp_acl_json_decode("{\"version\":1,\"acls\":[{\"principal\":\"User:a\","
					    "\"host\":\"*\",\"operation\":\"Fly\","
					    "\"permissionType\":\"Allow\"}]}", 90, &v, &n,
					    err, sizeof(err)), -1);

	ck_assert_int_eq(kp_acl_znode(&(struct kp_acl_res){ KP_ACL_RT_TOPIC, KP_ACL_PT_LITERAL,
		"t1" }, path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/kafka-acl/Topic/t1");
	ck_assert_int_eq(kp_acl_znode(&(struct kp_acl_res){ KP_ACL_RT_TXN_ID,
		KP_ACL_PT_PREFIXED, "tx" }, path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/kafka-acl-extended/prefixed/TransactionalId/tx");
	ck_assert_int_eq(kp_acl_znode(&(struct kp_acl_res){ KP_ACL_RT_CLUSTER,
		KP_ACL_PT_LITERAL, KP_ACL_CLUSTER_NAME }, path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/kafka-acl/Cluster/kafka-cluster");
	ck_assert_int_eq(kp_acl_znode(&(struct kp_acl_res){ KP_ACL_RT_TOPIC, KP_ACL_PT_LITERAL,
		"a/b" }, path, sizeof(path)), -1);
	ck_assert_int_eq(kp_acl_znode(&(struct kp_acl_res){ KP_ACL_RT_TOPIC, KP_ACL_PT_MATCH,
		"a" }, path, sizeof(path)), -1);

	ck_assert_int_eq(kp_acl_change_encode(&(struct kp_acl_res){ KP_ACL_RT_TXN_ID,
		KP_ACL_PT_LITERAL, "tx:1" }, &dir, &data), 0);
	ck_assert_str_eq(dir, "/kafka-acl-changes/acl_changes_");
	ck_assert_str_eq(data, "TRANSACTIONAL_ID:tx:1");
	ck_assert_int_eq(kp_acl_change_decode(false, data, strlen(data), &rt, &pt, &name), 0);
	ck_assert_int_eq(rt, KP_ACL_RT_TXN_ID);
	ck_assert_int_eq(pt, KP_ACL_PT_LITERAL);
	ck_assert_str_eq(name, "tx:1");
	free(name);
	free(data);
	/* the pre-2.0 spelling is read too */
	ck_assert_int_eq(kp_acl_change_decode(false, "Topic:t", 7, &rt, &pt, &name), 0);
	ck_assert_int_eq(rt, KP_ACL_RT_TOPIC);
	free(name);
	ck_assert_int_eq(kp_acl_change_decode(false, "Planet:t", 8, &rt, &pt, &name), -1);
	ck_assert_int_eq(kp_acl_change_decode(false, "nocolon", 7, &rt, &pt, &name), -1);

	ck_assert_int_eq(kp_acl_change_encode(&(struct kp_acl_res){ KP_ACL_RT_GROUP,
		KP_ACL_PT_PREFIXED, "g-" }, &dir, &data), 0);
	ck_assert_str_eq(dir, "/kafka-acl-extended-changes/acl_changes_");
	ck_assert_str_eq(data, "{\"version\":1,\"resourceType\":\"GROUP\",\"name\":\"g-\","
			 "\"patternType\":\"PREFIXED\"}");
	ck_assert_int_eq(kp_acl_change_decode(true, data, strlen(data), &rt, &pt, &name), 0);
	ck_assert_int_eq(rt, KP_ACL_RT_GROUP);
	ck_assert_int_eq(pt, KP_ACL_PT_PREFIXED);
	ck_assert_str_eq(name, "g-");
	free(name);
	free(data);
	ck_assert_int_eq(kp_acl_change_decode(true, "{]", 2, &rt, &pt, &name), -1);

	ck_assert_int_eq(kp_acl_op_parse("cluster-action"), KP_ACL_OP_CLUSTER_ACTION);
	ck_assert_int_eq(kp_acl_op_parse("DESCRIBE_CONFIGS"), KP_ACL_OP_DESCRIBE_CONFIGS);
	ck_assert_int_eq(kp_acl_op_parse("Teleport"), KP_ACL_OP_UNKNOWN);
	ck_assert_int_eq(kp_acl_denied_error(KP_ACL_RT_GROUP), KP_ERR_GROUP_AUTHORIZATION_FAILED);
	{
		char p[64];

		kp_acl_principal("", p, sizeof(p));
		ck_assert_str_eq(p, "User:ANONYMOUS");
		kp_acl_principal("alice", p, sizeof(p));
		ck_assert_str_eq(p, "User:alice");
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, literal_and_defaults);
	tcase_add_test(tc, deny_hosts_implied);
	tcase_add_test(tc, prefixed);
	tcase_add_test(tc, authorized_operations);
	tcase_add_test(tc, filters);
	tcase_add_test(tc, zk_formats);
	suite_add_tcase(s, tc);
	return check_run(s);
}
