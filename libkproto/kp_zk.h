/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_zk.h - a thin layer over the ZooKeeper C client (libzookeeper_mt).
 *
 * The C client calls completions and watchers on its own thread.  This
 * layer copies what they carry (data, children, stats, created paths,
 * per-op results of a multi) into a struct kp_zk_result and hands it to the
 * owner through a post function: a daemon passes one that queues the call
 * on its event loop (so all ZooKeeper state is touched by one thread), a
 * tool passes NULL and uses the blocking *_sync helpers.
 *
 * Session handling: on expiry the owner is told (KP_ZK_EXPIRED) and calls
 * kp_zk_reconnect() from its own thread, then re-creates its ephemeral
 * nodes and watches.  A chroot in the connect string ("h:p/chroot") is
 * created first if missing, as Kafka does.
 *
 * A connection lost (a server of the ensemble died, the quorum is gone)
 * is not a session lost: the C client connects to another server of the
 * connect string by itself, with the same session, ephemeral nodes and
 * watches.  With retry_until_connected (daemons) a blocking call whose
 * answer was lost with the connection waits until the client is
 * connected again and is sent again, as Kafka's KafkaZkClient does: a
 * write sent twice may find its own first attempt (NODEEXISTS, or
 * BADVERSION for a conditional one), which callers check.
 *
 * The C client's own log lines go through kp_log (skald's levels and
 * format, "zookeeper client: ..."), each call site at most once every
 * 10 s while a server is down.
 */
#ifndef KP_ZK_H
#define KP_ZK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Return codes are ZooKeeper's (ZOK = 0, ZNONODE = -101, ZNODEEXISTS =
 * -110, ZBADVERSION = -103, ...); kp_zk_strerror() names them. */
#define KP_ZK_OK 0
#define KP_ZK_NONODE (-101)
#define KP_ZK_NODEEXISTS (-110)
#define KP_ZK_BADVERSION (-103)
#define KP_ZK_NOTEMPTY (-111)
#define KP_ZK_CONNECTIONLOSS (-4)
#define KP_ZK_SESSIONEXPIRED (-112)
#define KP_ZK_CLOSING (-116)	/* kp_zk_interrupt() ended a wait */
/* An asynchronous call that could not even allocate its request returns
 * ZooKeeper's ZSYSTEMERROR, and then never runs its completion. */
#define KP_ZK_NOT_QUEUED (-1)

enum kp_zk_session {
	KP_ZK_CONNECTED,	/* (re)connected, same session */
	KP_ZK_DISCONNECTED,	/* connection lost; the client retries */
	KP_ZK_EXPIRED,		/* session gone: call kp_zk_reconnect() */
};

enum kp_zk_event {
	KP_ZK_EV_CREATED = 1,
	KP_ZK_EV_DELETED,
	KP_ZK_EV_CHANGED,
	KP_ZK_EV_CHILD,
	KP_ZK_EV_NOT_WATCHING,
};

struct kp_zk_stat {
	int64_t czxid;
	int64_t mzxid;
	int64_t ctime;		/* creation time, ms since the epoch */
	int64_t ephemeral_owner;
	int32_t version;	/* data version */
	int32_t cversion;
	int32_t num_children;
};

struct kp_zk_result {
	int rc;
	char *data;		/* get: NUL-terminated copy, NULL if no data */
	int32_t len;
	bool has_stat;
	struct kp_zk_stat stat;
	char **children;	/* children: sorted names */
	int32_t nchildren;
	char *path;		/* create: the created path (sequential) */
	int32_t nops;		/* multi: per-op return codes; none (nops 0) */
	int *op_rc;		/* when the server never answered it */
};

typedef void (*kp_zk_done_fn)(struct kp_zk_result *res, void *arg);
typedef void (*kp_zk_watch_fn)(enum kp_zk_event ev, const char *path,
			       void *arg);
typedef void (*kp_zk_session_fn)(enum kp_zk_session state, void *arg);
/* Run fn(arg) on the owner's thread; NULL: run on the ZooKeeper thread. */
typedef void (*kp_zk_post_fn)(void *ctx, void (*fn)(void *), void *arg);

struct kp_zk_config {
	const char *connect;		/* host:port[,...][/chroot] */
	int session_timeout_ms;
	int connect_timeout_ms;		/* for kp_zk_open: wait for connected */
	kp_zk_post_fn post;
	void *post_ctx;
	kp_zk_session_fn on_session;
	void *session_arg;
	bool quiet;			/* silence the C client's log (tools) */
	/*
	 * Daemons (kp_zk_config_from sets it): a blocking call lost with
	 * the connection waits for it and is sent again; it ends with
	 * KP_ZK_SESSIONEXPIRED when the session expired meanwhile, with
	 * KP_ZK_CLOSING after kp_zk_interrupt().  kp_zk_reconnect() then
	 * waits for the new session as long as it takes.  Tools leave it
	 * false: their calls fail with the connection.
	 */
	bool retry_until_connected;
	/*
	 * zookeeper.set.acl: every znode created carries Kafka 2.8's ACLs
	 * (ZkData.defaultAcls): all rights for the identity that created it
	 * (ZooKeeper's "auth" scheme), read for everyone else, and no world
	 * access at all under Kafka's sensitive paths (/config/users,
	 * /config/brokers, /delegation_token/tokens); /consumers stays open.
	 * Paths are as the session sees them (under a chroot, relative to
	 * it).  Needs an identity: digest_user.
	 */
	bool set_acl;
	/*
	 * skald's ZooKeeper identity, the digest scheme (Debian's C client
	 * has neither SASL nor TLS): zoo_add_auth("digest",
	 * "user:password") on every handle, before it is used; the C client
	 * sends it again on each reconnection of the same session, and a new
	 * session (after an expiry) gets it again.  NULL: unauthenticated.
	 */
	const char *digest_user;
	const char *digest_password;
};

struct kp_zk;
struct kp_config;
struct kp_loop;

/*
 * A daemon's session settings from its configuration: zookeeper.connect,
 * zookeeper.session.timeout.ms, zookeeper.connection.timeout.ms (default:
 * the session timeout), zookeeper.set.acl and skald's own
 * zookeeper.digest.username / zookeeper.digest.password, callbacks
 * posted to loop.  -1 with a message naming the key when
 * zookeeper.connect is unset, or zookeeper.set.acl is true without an
 * identity, or the identity is malformed.
 */
int kp_zk_config_from(struct kp_zk_config *zc, const struct kp_config *cfg,
		      struct kp_loop *loop, char *err, size_t errlen);

/*
 * Connect (creating the chroot first if needed) and wait until the session
 * is established or connect_timeout_ms passes.  Returns 0 or a negative
 * ZooKeeper code (e.g. ZOPERATIONTIMEOUT) with a message in err.
 */
int kp_zk_open(struct kp_zk **zkp, const struct kp_zk_config *cfg, char *err,
	       size_t errlen);
void kp_zk_close(struct kp_zk *zk);
/* After KP_ZK_EXPIRED: a new session.  Same contract as kp_zk_open, but
 * with retry_until_connected it waits until connected however long that
 * takes (KP_ZK_CLOSING after kp_zk_interrupt). */
int kp_zk_reconnect(struct kp_zk *zk, char *err, size_t errlen);
/* Any thread, at shutdown: every blocking call waiting for the
 * connection, and kp_zk_reconnect, return KP_ZK_CLOSING from now on. */
void kp_zk_interrupt(struct kp_zk *zk);
int64_t kp_zk_session_id(struct kp_zk *zk);
bool kp_zk_connected(struct kp_zk *zk);
struct kp_mhist_sum;
/* Add the round trips of the requests ZooKeeper answered so far (a
 * histogram in milliseconds, kp_metrics.h) to sum; any thread. */
void kp_zk_latency(struct kp_zk *zk, struct kp_mhist_sum *sum);
struct kp_mtext;
/* The session's metrics for a scrape (kp_metrics.h): connected (0/1) and
 * the request latency histogram, named as Kafka's beans under the
 * Prometheus JMX exporter; zk may be NULL (not connected yet). */
void kp_zk_metrics(struct kp_mtext *t, struct kp_zk *zk);
const char *kp_zk_strerror(int rc);
/* Whether Kafka counts path as sensitive (no world access with
 * zookeeper.set.acl): under /config/users, /config/brokers or
 * /delegation_token/tokens, as a plain prefix (ZkData.sensitivePath). */
bool kp_zk_sensitive_path(const char *path);
/* A digest identity's problem as a message (the user holds ':' or is
 * empty, the password is empty), or NULL when it is usable. */
const char *kp_zk_digest_check(const char *user, const char *password);

enum kp_zk_mode {
	KP_ZK_PERSISTENT = 0,
	KP_ZK_EPHEMERAL = 1,
	KP_ZK_PERSISTENT_SEQUENTIAL = 2,
	KP_ZK_EPHEMERAL_SEQUENTIAL = 3,
};

/* Asynchronous operations; done runs (posted) exactly once. */
int kp_zk_get(struct kp_zk *zk, const char *path, kp_zk_watch_fn watch,
	      void *watch_arg, kp_zk_done_fn done, void *arg);
int kp_zk_exists(struct kp_zk *zk, const char *path, kp_zk_watch_fn watch,
		 void *watch_arg, kp_zk_done_fn done, void *arg);
int kp_zk_children(struct kp_zk *zk, const char *path, kp_zk_watch_fn watch,
		   void *watch_arg, kp_zk_done_fn done, void *arg);
int kp_zk_create(struct kp_zk *zk, const char *path, const char *data,
		 int32_t len, enum kp_zk_mode mode, kp_zk_done_fn done,
		 void *arg);
int kp_zk_set(struct kp_zk *zk, const char *path, const char *data,
	      int32_t len, int32_t version, kp_zk_done_fn done, void *arg);
int kp_zk_delete(struct kp_zk *zk, const char *path, int32_t version,
		 kp_zk_done_fn done, void *arg);

/* One operation of a multi (a transaction: all or none). */
enum kp_zk_op_type { KP_ZK_OP_CREATE, KP_ZK_OP_SET, KP_ZK_OP_DELETE, KP_ZK_OP_CHECK };

struct kp_zk_op {
	enum kp_zk_op_type type;
	const char *path;
	const char *data;	/* create / set */
	int32_t len;
	enum kp_zk_mode mode;	/* create */
	int32_t version;	/* set / delete / check; -1 any */
};

int kp_zk_multi(struct kp_zk *zk, const struct kp_zk_op *ops, int n,
		kp_zk_done_fn done, void *arg);

/*
 * Blocking helpers.  Their results are delivered on the ZooKeeper thread,
 * so any thread may call them, the one that runs posted callbacks too.
 * The result must be released with kp_zk_result_free(); the return value
 * is res->rc.  res may be NULL when only the code matters.
 */
int kp_zk_get_sync(struct kp_zk *zk, const char *path, struct kp_zk_result *res);
/* ZooKeeper's sync of path: a read after it sees what the quorum had
 * written when it was sent (the server caught up with the leader). */
int kp_zk_sync_sync(struct kp_zk *zk, const char *path);
int kp_zk_exists_sync(struct kp_zk *zk, const char *path, struct kp_zk_result *res);
int kp_zk_children_sync(struct kp_zk *zk, const char *path, struct kp_zk_result *res);
/*
 * A blocking read that also leaves a watch (which is delivered like any
 * other: posted to the owner).  For a daemon whose event thread works
 * with blocking calls, as Kafka's controller does: results come back on
 * the ZooKeeper thread, so this is safe on the thread that runs posted
 * callbacks, which merely waits meanwhile.
 */
enum kp_zk_read { KP_ZK_READ_DATA, KP_ZK_READ_EXISTS, KP_ZK_READ_CHILDREN };
int kp_zk_read_watch_sync(struct kp_zk *zk, enum kp_zk_read what,
			  const char *path, kp_zk_watch_fn watch,
			  void *watch_arg, struct kp_zk_result *res);
int kp_zk_create_sync(struct kp_zk *zk, const char *path, const char *data,
		      int32_t len, enum kp_zk_mode mode, struct kp_zk_result *res);
int kp_zk_set_sync(struct kp_zk *zk, const char *path, const char *data,
		   int32_t len, int32_t version, struct kp_zk_result *res);
/* As kp_zk_set_sync, but never waits for a lost connection, even in a
 * daemon: KP_ZK_CONNECTIONLOSS (the write may or may not have been
 * applied), for a caller on a loop that must not block and tries again
 * later (the broker's ISR writes). */
int kp_zk_set_sync_nowait(struct kp_zk *zk, const char *path, const char *data,
			  int32_t len, int32_t version, struct kp_zk_result *res);
int kp_zk_delete_sync(struct kp_zk *zk, const char *path, int32_t version);
int kp_zk_multi_sync(struct kp_zk *zk, const struct kp_zk_op *ops, int n,
		     struct kp_zk_result *res);
/*
 * Pipelined blocking calls: every request of the batch is sent before any
 * answer is awaited, so n round trips (and n transaction log syncs, which
 * the server groups) cost about one.  Item i's answer lands in
 * items[i].res (free each with kp_zk_result_free).  Returns 0, or -1 when
 * some could not be started (their res.rc says why).  Any thread.
 */
enum kp_zk_batch_kind {
	KP_ZK_BATCH_GET,
	KP_ZK_BATCH_EXISTS,
	KP_ZK_BATCH_CHILDREN,
	KP_ZK_BATCH_CREATE,	/* persistent, data may be NULL */
	KP_ZK_BATCH_MULTI,
	KP_ZK_BATCH_DELETE,	/* any version */
};

struct kp_zk_batch_item {
	enum kp_zk_batch_kind kind;
	const char *path;		/* reads, create, delete */
	const char *data;		/* create */
	int32_t len;
	const struct kp_zk_op *ops;	/* multi */
	int nops;
	kp_zk_watch_fn watch;		/* reads: a watch to leave, or NULL */
	void *watch_arg;
	struct kp_zk_result res;
};

int kp_zk_batch_sync(struct kp_zk *zk, struct kp_zk_batch_item *items, int n);

/* Create path and its missing parents as empty persistent nodes. */
int kp_zk_ensure_path(struct kp_zk *zk, const char *path);
/* Delete a node and everything under it. */
int kp_zk_delete_recursive(struct kp_zk *zk, const char *path);
void kp_zk_result_free(struct kp_zk_result *res);

#endif /* KP_ZK_H */
