/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_acl.h - Kafka 2.8's ACL authorizer (kafka.security.authorizer.
 * AclAuthorizer) for skald's daemons: the ACL store, the matcher, and the
 * ZooKeeper layout Kafka keeps ACLs in.  Private to skald (not installed).
 *
 * ZooKeeper, as Kafka 2.8 (kafka.zk.ZkData):
 *   /kafka-acl/<Type>/<name>                  literal patterns
 *   /kafka-acl-extended/prefixed/<Type>/<name> prefixed patterns
 * each holding {"version":1,"acls":[{"principal":"User:alice",
 * "permissionType":"Allow","operation":"Read","host":"*"}]}, written with
 * the node's version (a conditional write; a lost race reads again).
 * <Type> is Topic, Group, Cluster (name kafka-cluster), TransactionalId or
 * DelegationToken.  Every change also creates a persistent sequential
 * /kafka-acl-changes/acl_changes_NNNNNNNNNN holding "TOPIC:<name>" (the
 * Java enum's name, as Kafka 2.8 writes it; any case is read) for a
 * literal pattern, or /kafka-acl-extended-changes/acl_changes_NNNNNNNNNN
 * holding {"version":1,"resourceType":"TOPIC","name":"<name>",
 * "patternType":"PREFIXED"} for a prefixed one; each daemon watches both
 * and reloads the named resource.
 *
 * Matching, as AclAuthorizer.authorize: a super user is allowed
 * everything; the ACLs of a resource are those of its literal name, of
 * the literal wildcard "*", and of every prefixed pattern the name starts
 * with; none at all: allowed iff allow.everyone.if.no.acl.found; a DENY
 * whose principal (or User:*), host (or "*") and operation (or All)
 * match denies; else an ALLOW that matches allows, where Describe is
 * also allowed by Read, Write, Delete and Alter, and DescribeConfigs by
 * AlterConfigs.
 *
 * Threads: the store is read under a read lock by any thread (one hash
 * lookup per pattern, no ZooKeeper); loads and reloads take the write
 * lock.  The kp_acl_zk_* functions block on ZooKeeper: call them where
 * that is allowed (kbroker's ZooKeeper thread, kcontroller's event loop).
 */
#ifndef KP_ACL_H
#define KP_ACL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_zk.h"

/* The wire codes (org.apache.kafka.common.resource / acl enums). */
enum kp_acl_rtype {
	KP_ACL_RT_UNKNOWN = 0,
	KP_ACL_RT_ANY = 1,
	KP_ACL_RT_TOPIC = 2,
	KP_ACL_RT_GROUP = 3,
	KP_ACL_RT_CLUSTER = 4,
	KP_ACL_RT_TXN_ID = 5,
	KP_ACL_RT_DELEGATION_TOKEN = 6,
};
#define KP_ACL_RT_MAX 7

enum kp_acl_pattern {
	KP_ACL_PT_UNKNOWN = 0,
	KP_ACL_PT_ANY = 1,
	KP_ACL_PT_MATCH = 2,
	KP_ACL_PT_LITERAL = 3,
	KP_ACL_PT_PREFIXED = 4,
};

enum kp_acl_op {
	KP_ACL_OP_UNKNOWN = 0,
	KP_ACL_OP_ANY = 1,
	KP_ACL_OP_ALL = 2,
	KP_ACL_OP_READ = 3,
	KP_ACL_OP_WRITE = 4,
	KP_ACL_OP_CREATE = 5,
	KP_ACL_OP_DELETE = 6,
	KP_ACL_OP_ALTER = 7,
	KP_ACL_OP_DESCRIBE = 8,
	KP_ACL_OP_CLUSTER_ACTION = 9,
	KP_ACL_OP_DESCRIBE_CONFIGS = 10,
	KP_ACL_OP_ALTER_CONFIGS = 11,
	KP_ACL_OP_IDEMPOTENT_WRITE = 12,
};
#define KP_ACL_OP_MAX 13

enum kp_acl_perm {
	KP_ACL_PERM_UNKNOWN = 0,
	KP_ACL_PERM_ANY = 1,
	KP_ACL_PERM_DENY = 2,
	KP_ACL_PERM_ALLOW = 3,
};

#define KP_ACL_CLUSTER_NAME "kafka-cluster"
#define KP_ACL_WILDCARD "*"
#define KP_ACL_PRINCIPAL_MAX 512
#define KP_ACL_NAME_MAX 1024

/* One access control entry of a resource pattern. */
struct kp_acl_entry {
	char *principal;		/* "User:alice", "User:*" */
	char *host;			/* an address or "*" */
	uint8_t op;			/* enum kp_acl_op */
	uint8_t perm;			/* enum kp_acl_perm */
};

/* A resource pattern (type, name, LITERAL or PREFIXED). */
struct kp_acl_res {
	uint8_t rtype;
	uint8_t pattern;
	const char *name;
};

/* A filter (DescribeAcls, DeleteAcls): NULL strings match anything. */
struct kp_acl_filter {
	uint8_t rtype;			/* ANY too */
	uint8_t pattern;		/* ANY, MATCH too */
	const char *name;
	const char *principal;
	const char *host;
	uint8_t op;			/* ANY too */
	uint8_t perm;			/* ANY too */
};

/* Kafka's names: "Topic", "Read", "Allow", "Prefixed"...  NULL if none. */
const char *kp_acl_rtype_name(int rtype);
const char *kp_acl_op_name(int op);
const char *kp_acl_perm_name(int perm);
const char *kp_acl_pattern_name(int pattern);
/* From a name in any case, with or without '_' or '-' (ClusterAction,
 * CLUSTER_ACTION, cluster-action): the code, or UNKNOWN (0). */
int kp_acl_rtype_parse(const char *s);
int kp_acl_op_parse(const char *s);
int kp_acl_perm_parse(const char *s);
int kp_acl_pattern_parse(const char *s);

/* The Kafka error of a denial on a resource type. */
int16_t kp_acl_denied_error(int rtype);

/* "User:<name>", "User:ANONYMOUS" for an empty or NULL user. */
void kp_acl_principal(const char *user, char *out, size_t outlen);

/*
 * Whether a filter matches a pattern (ResourcePatternFilter.matches) and
 * an entry (AccessControlEntryFilter.matches).
 */
bool kp_acl_filter_matches_res(const struct kp_acl_filter *f, const struct kp_acl_res *r);
bool kp_acl_filter_matches_entry(const struct kp_acl_filter *f,
				 const struct kp_acl_entry *e);
/* Whether f names exactly one pattern (what DeleteAcls and kacls --remove
 * need no --force for): a concrete type, LITERAL or PREFIXED, a name. */
bool kp_acl_filter_exact(const struct kp_acl_filter *f);

/* --------------------------------------------------------- JSON, paths */

/* Decode a resource znode's JSON.  0 with *v (malloc'd; kp_acl_entries_free)
 * and *n, or -1 with a message.  Empty data: no entries. */
int kp_acl_json_decode(const char *json, size_t len, struct kp_acl_entry **v,
		       size_t *n, char *err, size_t errlen);
/* Encode entries as Kafka does; malloc'd string or NULL. */
char *kp_acl_json_encode(const struct kp_acl_entry *v, size_t n);
void kp_acl_entries_free(struct kp_acl_entry *v, size_t n);
/* The znode of a pattern; -1 if it does not fit or is not storable. */
int kp_acl_znode(const struct kp_acl_res *r, char *out, size_t outlen);
/* The change notification of a pattern: its parent's path prefix
 * ("/kafka-acl-changes/acl_changes_" or the extended one) and data
 * (malloc'd).  -1 when out of memory. */
int kp_acl_change_encode(const struct kp_acl_res *r, const char **path, char **data);
/* Decode a notification's data of a store (extended or not) into type,
 * pattern and a malloc'd name.  0 or -1. */
int kp_acl_change_decode(bool extended, const char *data, size_t len, uint8_t *rtype,
			 uint8_t *pattern, char **name);

/* ---------------------------------------------------------------- store */

struct kp_acl_store;

struct kp_acl_store *kp_acl_store_new(void);
void kp_acl_store_free(struct kp_acl_store *s);
/* Replace a pattern's entries (taking over v; n 0 removes it) and its
 * znode version.  0 or -1 (out of memory: v freed, nothing changed). */
int kp_acl_store_set(struct kp_acl_store *s, const struct kp_acl_res *r,
		     struct kp_acl_entry *v, size_t n, int32_t version);
/* Remove every pattern. */
void kp_acl_store_clear(struct kp_acl_store *s);
/* Exchange two stores' contents (each under its write lock). */
void kp_acl_store_swap(struct kp_acl_store *a, struct kp_acl_store *b);
size_t kp_acl_store_count(struct kp_acl_store *s);	/* entries in all */
/* Call fn for each (pattern, entry) the filter matches, under the read
 * lock (fn must not call back into the store). */
void kp_acl_store_each(struct kp_acl_store *s, const struct kp_acl_filter *f,
		       void (*fn)(const struct kp_acl_res *r, const struct kp_acl_entry *e,
				  void *arg),
		       void *arg);

/* ------------------------------------------------------------ authorizer */

struct kp_authz {
	struct kp_acl_store *store;
	char **super_users;		/* "User:alice" */
	size_t nsuper;
	bool allow_if_none;		/* allow.everyone.if.no.acl.found */
	/* a denial logged once per principal/resource/operation a minute */
	pthread_mutex_t log_lock;
	struct kp_authz_logged *logged;	/* KP_AUTHZ_LOG_SLOTS */
};

/*
 * Set up from super.users ("User:a;User:b") and
 * allow.everyone.if.no.acl.found.  0, or -1 with a message.
 */
int kp_authz_init(struct kp_authz *a, const char *super_users, bool allow_if_none,
		  char *err, size_t errlen);
void kp_authz_destroy(struct kp_authz *a);
/* Whether a class name is Kafka's ACL authorizer (or skald's short name
 * "acl"); empty means no authorizer.  1 yes, 0 empty, -1 unknown. */
int kp_authz_class(const char *name);

/*
 * Authorize principal (Kafka's string, "User:alice") from host (the peer
 * address) for op on the resource (type, name).  A denial is logged
 * (once a minute per principal/resource/operation) when log_denied.
 */
bool kp_authz_check(struct kp_authz *a, const char *principal, const char *host,
		    int op, int rtype, const char *name, bool log_denied);
/* Whether principal may do op on some resource of rtype, as Kafka 2.8's
 * authorizeByResourceType (KIP-679): allowed somewhere and not denied by
 * a literal wildcard or a prefix every name matches. */
bool kp_authz_check_any(struct kp_authz *a, const char *principal, const char *host,
			int op, int rtype);

/*
 * KIP-430's authorized operations: the operations Kafka 2.8 supports on a
 * resource type (AclEntry.supportedOperations) as a bit set of 1 << the
 * AclOperation code; 0 for a type that is not a concrete one.
 */
int32_t kp_acl_supported_ops(int rtype);
/* Those of them principal may do on (rtype, name), each checked as a
 * literal resource without logging a denial; every one when a is NULL (no
 * authorizer). */
int32_t kp_authz_operations(struct kp_authz *a, const char *principal, const char *host,
			    int rtype, const char *name);

/* ----------------------------------------------------------- ZooKeeper */


/* Create the ACL roots (Kafka's ZkData paths).  0 or a ZooKeeper code. */
int kp_acl_zk_ensure(struct kp_zk *zk);
/* Replace the store with every ACL in ZooKeeper (read into a new store,
 * then swapped in at once).  0, or -1 with a message (s unchanged). */
int kp_acl_zk_load(struct kp_zk *zk, struct kp_acl_store *s, char *err, size_t errlen);
/* Re-read one pattern (a missing node removes it).  0 or -1. */
int kp_acl_zk_reload(struct kp_zk *zk, struct kp_acl_store *s, const struct kp_acl_res *r);
/*
 * Add entries to a pattern (add: v, n) or remove those a filter matches
 * (del: f), with conditional writes retried on a lost race, then write
 * the change notification.  Removed entries are given to fn.  0, or a
 * negative ZooKeeper code with a message.
 */
int kp_acl_zk_add(struct kp_zk *zk, const struct kp_acl_res *r,
		  const struct kp_acl_entry *v, size_t n, char *err, size_t errlen);
int kp_acl_zk_remove(struct kp_zk *zk, const struct kp_acl_res *r,
		     const struct kp_acl_filter *f,
		     void (*fn)(const struct kp_acl_res *r, const struct kp_acl_entry *e,
				void *arg),
		     void *arg, char *err, size_t errlen);
/*
 * The change watcher's work: list one change directory (extended or
 * not; leaving watch), reload every resource named by a notification
 * newer than *last_seq, then delete notifications older than 15 minutes
 * (as Kafka's ZkNodeChangeNotificationListener).  0 or -1.
 */
int kp_acl_zk_changes(struct kp_zk *zk, struct kp_acl_store *s, bool extended,
		      int64_t *last_seq,
		      kp_zk_watch_fn watch, void *warg);

#endif /* KP_ACL_H */
