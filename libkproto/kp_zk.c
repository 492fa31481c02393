/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_zk.c - ZooKeeper client layer; see kp_zk.h.
 *
 * Threads: the C client's I/O and completion threads call into this file;
 * everything they hand over is copied into heap objects (struct op, struct
 * watch) and either delivered right there (no post function, or a blocking
 * *_sync call) or posted to the owner's thread.  struct kp_zk's session
 * state is guarded by mu, which the blocking helpers wait on.
 *
 * Connection loss: a blocking call of a daemon (retry_until_connected)
 * that fails with a lost connection waits until the client is connected
 * again, to the same server or another of the ensemble, and is sent
 * again, as Kafka's KafkaZkClient.retryRequestsUntilConnected does; the
 * session's watches are re-registered by the C client itself on that
 * reconnection (SetWatches).  Only an expired session, or
 * kp_zk_interrupt() at shutdown, ends the wait.
 *
 * ACLs (zookeeper.set.acl) are Kafka's ZkData.defaultAcls, chosen by path
 * in acl_for(): every create, alone or in a multi, goes through it.  The
 * digest identity is added to each handle before anyone can use it, so
 * the C client sends it ahead of any request on every connection of that
 * handle (a reconnection too); a new session is a new handle and gets it
 * again in start_handle().
 *
 * Logging: the C client's own lines come to zk_log_line() (its log
 * callback) and go out through kp_log with skald's levels and format, at
 * most one line per call site every LOG_EVERY_MS: a server that is down
 * makes the client log every connection attempt, several a second.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

#include "kp_config.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_metrics.h"
#include "kp_zk.h"

struct kp_zk {
	zhandle_t *zh;
	struct kp_zk_config cfg;
	char *connect;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int state;		/* last session state seen (ZOO_*_STATE) */
	bool interrupted;	/* kp_zk_interrupt(): waits end (under mu) */
	struct watch *armed;	/* watches set and not fired (under mu) */
	/* answered requests' round trips: written by the client's one
	 * completion thread, read by metrics scrapes */
	struct kp_mhist latency;
	char *digest;		/* "user:password" (digest scheme), or NULL */
	/* Kafka's secure ACLs: creator all + world read; creator all only */
	struct ACL acl_entries[2];
	struct ACL_vector acl_public, acl_private;
};

struct op {
	struct kp_zk *zk;
	kp_zk_done_fn done;
	void *arg;
	bool direct;		/* deliver on the ZooKeeper thread */
	struct watch *w;	/* a read's watch, until the answer says it is set */
	bool exists;		/* an exists read: NONODE sets the watch too */
	struct kp_zk_result res;
	/* multi */
	zoo_op_t *ops;
	zoo_op_result_t *results;
	char **bufs;		/* copies of paths and data, and path buffers */
	int nbufs;
	struct Stat *stats;
	int64_t t0_us;		/* when it was sent */
};

struct watch {
	struct watch *prev, *next;	/* in zk->armed until it fires */
	bool linked;
	struct kp_zk *zk;
	kp_zk_watch_fn fn;
	void *arg;
	enum kp_zk_event ev;
	char *path;
};

static void watch_unlink(struct watch *w);
static void zk_log_flush(void);

const char *kp_zk_strerror(int rc)
{
	return zerror(rc);
}

bool kp_zk_sensitive_path(const char *path)
{
	static const char *const roots[] = {
		"/config/users", "/config/brokers", "/delegation_token/tokens",
	};

	for (size_t i = 0; path != NULL && i < sizeof(roots) / sizeof(roots[0]); i++)
		if (strncmp(path, roots[i], strlen(roots[i])) == 0)
			return true;
	return false;
}

const char *kp_zk_digest_check(const char *user, const char *password)
{
	if (user == NULL || user[0] == '\0')
		return "zookeeper.digest.username is empty";
	if (strchr(user, ':') != NULL)
		return "zookeeper.digest.username must not hold ':' (the digest "
		       "scheme's identity is user:password)";
	if (password == NULL || password[0] == '\0')
		return "zookeeper.digest.password is not set";
	return NULL;
}

/* The ACL a znode at path gets (Kafka's ZkData.defaultAcls). */
static struct ACL_vector *acl_for(struct kp_zk *zk, const char *path)
{
	/* the old consumers' path stays open: they write under it */
	if (!zk->cfg.set_acl || strcmp(path, "/consumers") == 0)
		return &ZOO_OPEN_ACL_UNSAFE;
	return kp_zk_sensitive_path(path) ? &zk->acl_private : &zk->acl_public;
}

static void set_err(char *err, size_t errlen, const char *what, int rc)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", what, zerror(rc));
}

void kp_zk_result_free(struct kp_zk_result *res)
{
	int32_t i;

	free(res->data);
	for (i = 0; i < res->nchildren; i++)
		free(res->children[i]);
	free(res->children);
	free(res->path);
	free(res->op_rc);
	memset(res, 0, sizeof(*res));
}

static void copy_stat(struct kp_zk_result *res, const struct Stat *st)
{
	if (st == NULL)
		return;
	res->has_stat = true;
	res->stat.czxid = st->czxid;
	res->stat.mzxid = st->mzxid;
	res->stat.ctime = st->ctime;
	res->stat.ephemeral_owner = st->ephemeralOwner;
	res->stat.version = st->version;
	res->stat.cversion = st->cversion;
	res->stat.num_children = st->numChildren;
}

/* -------------------------------------------------------------- delivery */

static void op_free(struct op *o)
{
	int i;

	kp_zk_result_free(&o->res);
	for (i = 0; i < o->nbufs; i++)
		free(o->bufs[i]);
	free(o->bufs);
	free(o->ops);
	free(o->results);
	free(o->stats);
	free(o);
}

static void op_deliver(void *p)
{
	struct op *o = p;

	o->done(&o->res, o->arg);
	op_free(o);
}

static void op_complete(struct op *o)
{
	if (o->direct || o->zk->cfg.post == NULL)
		op_deliver(o);
	else
		o->zk->cfg.post(o->zk->cfg.post_ctx, op_deliver, o);
}

/* ZooKeeper answered o (on the client's completion thread). */
static void op_answered(struct op *o)
{
	kp_mhist_observe_us(&o->zk->latency, (uint64_t)(kp_now_us() - o->t0_us));
	op_complete(o);
}

void kp_zk_latency(struct kp_zk *zk, struct kp_mhist_sum *sum)
{
	kp_mhist_sum_add(sum, &zk->latency);
}

void kp_zk_metrics(struct kp_mtext *t, struct kp_zk *zk)
{
	static const char conn[] = "kafka_server_sessionexpirelistener_zookeeper_connected";
	static const char lat[] = "kafka_server_zookeeperclientmetrics_zookeeperrequestlatencyms";
	struct kp_mhist_sum s;

	memset(&s, 0, sizeof(s));
	if (zk != NULL)
		kp_zk_latency(zk, &s);
	kp_mtext_family(t, conn, "gauge", "1 while the ZooKeeper session is connected");
	kp_mtext_sample(t, conn, NULL, 0, zk != NULL && kp_zk_connected(zk) ? 1 : 0);
	kp_mtext_family(t, lat, "histogram",
			"Milliseconds from a ZooKeeper request sent to its answer");
	kp_mtext_hist(t, lat, NULL, 0, &s);
}

static struct op *op_new(struct kp_zk *zk, kp_zk_done_fn done, void *arg)
{
	struct op *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->t0_us = kp_now_us();
	o->zk = zk;
	o->done = done;
	o->arg = arg;
	return o;
}

static void watch_deliver(void *p)
{
	struct watch *w = p;

	w->fn(w->ev, w->path, w->arg);
	free(w->path);
	free(w);
}

/* A per-call watcher: fires once for a node event. */
static void node_watcher(zhandle_t *zh, int type, int state, const char *path,
			 void *ctx)
{
	struct watch *w = ctx;

	(void)zh;
	if (type == ZOO_SESSION_EVENT) {
		/* The watch survives reconnection; it is gone with the
		 * session (and with zookeeper_close). */
		if (state != ZOO_EXPIRED_SESSION_STATE &&
		    state != ZOO_AUTH_FAILED_STATE && state != 0)
			return;
		w->ev = KP_ZK_EV_NOT_WATCHING;
	} else if (type == ZOO_CREATED_EVENT) {
		w->ev = KP_ZK_EV_CREATED;
	} else if (type == ZOO_DELETED_EVENT) {
		w->ev = KP_ZK_EV_DELETED;
	} else if (type == ZOO_CHANGED_EVENT) {
		w->ev = KP_ZK_EV_CHANGED;
	} else if (type == ZOO_CHILD_EVENT) {
		w->ev = KP_ZK_EV_CHILD;
	} else {
		w->ev = KP_ZK_EV_NOT_WATCHING;
	}
	w->path = strdup(path ? path : "");
	watch_unlink(w);
	if (w->zk->cfg.post == NULL)
		watch_deliver(w);
	else
		w->zk->cfg.post(w->zk->cfg.post_ctx, watch_deliver, w);
}

static struct watch *watch_new(struct kp_zk *zk, kp_zk_watch_fn fn, void *arg)
{
	struct watch *w;

	if (fn == NULL)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->zk = zk;
	w->fn = fn;
	w->arg = arg;
	pthread_mutex_lock(&zk->mu);
	w->next = zk->armed;
	if (w->next != NULL)
		w->next->prev = w;
	zk->armed = w;
	w->linked = true;
	pthread_mutex_unlock(&zk->mu);
	return w;
}

/* The watch fired or was never set: kp_zk_close() no longer frees it. */
static void watch_unlink(struct watch *w)
{
	struct kp_zk *zk = w->zk;

	pthread_mutex_lock(&zk->mu);
	if (w->linked) {
		if (w->prev != NULL)
			w->prev->next = w->next;
		else
			zk->armed = w->next;
		if (w->next != NULL)
			w->next->prev = w->prev;
		w->linked = false;
	}
	pthread_mutex_unlock(&zk->mu);
}

struct session_msg {
	struct kp_zk *zk;
	enum kp_zk_session state;
};

static void session_deliver(void *p)
{
	struct session_msg *m = p;

	m->zk->cfg.on_session(m->state, m->zk->cfg.session_arg);
	free(m);
}

/* The handle's global watcher: session state changes only. */
static void session_watcher(zhandle_t *zh, int type, int state,
			    const char *path, void *ctx)
{
	struct kp_zk *zk = ctx;
	struct session_msg *m;

	(void)zh;
	(void)path;
	if (type != ZOO_SESSION_EVENT)
		return;
	pthread_mutex_lock(&zk->mu);
	zk->state = state;
	pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
	if (state == ZOO_CONNECTED_STATE)
		zk_log_flush();
	if (zk->cfg.on_session == NULL)
		return;
	m = malloc(sizeof(*m));
	if (m == NULL)
		return;
	m->zk = zk;
	if (state == ZOO_CONNECTED_STATE)
		m->state = KP_ZK_CONNECTED;
	else if (state == ZOO_EXPIRED_SESSION_STATE ||
		 state == ZOO_AUTH_FAILED_STATE)
		m->state = KP_ZK_EXPIRED;
	else
		m->state = KP_ZK_DISCONNECTED;
	if (zk->cfg.post == NULL)
		session_deliver(m);
	else
		zk->cfg.post(zk->cfg.post_ctx, session_deliver, m);
}

/* ----------------------------------------------------------- completions */

/*
 * A read's answer came.  The C client sets the watch only with a
 * successful answer (or NONODE for an exists): any other (a lost
 * connection, an expired session) means the watch will never fire, so it
 * is freed here rather than kept until kp_zk_close().  A caller that
 * retries leaves a new one.
 */
static void read_answered(struct op *o, int rc)
{
	struct watch *w = o->w;

	o->w = NULL;
	if (w == NULL || rc == ZOK || (rc == ZNONODE && o->exists))
		return;
	watch_unlink(w);
	free(w);
}

static void data_done(int rc, const char *value, int value_len,
		      const struct Stat *stat, const void *data)
{
	struct op *o = (struct op *)data;

	read_answered(o, rc);
	o->res.rc = rc;
	if (rc == ZOK) {
		copy_stat(&o->res, stat);
		if (value != NULL && value_len >= 0) {
			o->res.data = malloc((size_t)value_len + 1);
			if (o->res.data != NULL) {
				memcpy(o->res.data, value, (size_t)value_len);
				o->res.data[value_len] = '\0';
				o->res.len = value_len;
			} else {
				o->res.rc = ZSYSTEMERROR;
			}
		}
	}
	op_answered(o);
}

static void stat_done(int rc, const struct Stat *stat, const void *data)
{
	struct op *o = (struct op *)data;

	read_answered(o, rc);
	o->res.rc = rc;
	if (rc == ZOK)
		copy_stat(&o->res, stat);
	op_answered(o);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void children_done(int rc, const struct String_vector *strings,
			  const struct Stat *stat, const void *data)
{
	struct op *o = (struct op *)data;
	int32_t i;

	read_answered(o, rc);
	o->res.rc = rc;
	if (rc == ZOK && strings != NULL) {
		copy_stat(&o->res, stat);
		o->res.children = calloc((size_t)strings->count + 1, sizeof(char *));
		if (o->res.children == NULL) {
			o->res.rc = ZSYSTEMERROR;
		} else {
			for (i = 0; i < strings->count; i++) {
				o->res.children[i] = strdup(strings->data[i]);
				if (o->res.children[i] == NULL) {
					o->res.rc = ZSYSTEMERROR;
					break;
				}
				o->res.nchildren++;
			}
			qsort(o->res.children, (size_t)o->res.nchildren,
			      sizeof(char *), cmp_str);
		}
	}
	op_answered(o);
}

static void string_done(int rc, const char *value, const void *data)
{
	struct op *o = (struct op *)data;

	o->res.rc = rc;
	if (rc == ZOK && value != NULL)
		o->res.path = strdup(value);
	op_answered(o);
}

static void void_done(int rc, const void *data)
{
	struct op *o = (struct op *)data;

	o->res.rc = rc;
	op_answered(o);
}

/* Codes a multi ends with when the server never answered it: the
 * connection or session went, or the handle closed.  The C client then
 * stamps the code on every op. */
static bool unanswered(int rc)
{
	return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT ||
	       rc == ZSESSIONEXPIRED || rc == ZCLOSING || rc == ZINVALIDSTATE ||
	       rc == ZSESSIONMOVED || rc == ZAUTHFAILED || rc == ZMARSHALLINGERROR ||
	       rc == ZSYSTEMERROR;
}

static void multi_done(int rc, const void *data)
{
	struct op *o = (struct op *)data;
	int i;

	o->res.rc = rc;
	if (unanswered(rc)) {
		/* no op failed on its own (a controller's epoch check would
		 * read as fenced): like a multi never sent, no per-op codes */
		free(o->res.op_rc);
		o->res.op_rc = NULL;
		o->res.nops = 0;
		op_answered(o);
		return;
	}
	o->res.op_rc = calloc((size_t)o->res.nops + 1, sizeof(int));
	if (o->res.op_rc != NULL)
		for (i = 0; i < o->res.nops; i++)
			o->res.op_rc[i] = o->results[i].err;
	op_answered(o);
}

/* An async call that failed to be queued completes with its error. */
static int queued(struct op *o, int rc)
{
	if (rc != ZOK) {
		o->res.rc = rc;
		if (o->res.op_rc == NULL)
			o->res.nops = 0;	/* a multi never sent: no per-op codes */
		op_complete(o);
	}
	return rc;
}

/* ------------------------------------------------------------ operations */

enum read_kind { READ_DATA, READ_EXISTS, READ_CHILDREN };

/* The three reads that may leave a watch: get, exists, children. */
static int start_read(enum read_kind kind, struct kp_zk *zk, const char *path,
		      kp_zk_watch_fn watch, void *watch_arg,
		      kp_zk_done_fn done, void *arg, bool direct)
{
	struct op *o = op_new(zk, done, arg);
	struct watch *w = watch_new(zk, watch, watch_arg);
	watcher_fn wfn;
	int rc;

	if (o == NULL || (watch != NULL && w == NULL)) {
		free(o);
		if (w != NULL)
			watch_unlink(w);
		free(w);
		return ZSYSTEMERROR;
	}
	o->direct = direct;
	o->w = w;
	o->exists = kind == READ_EXISTS;
	wfn = w ? node_watcher : NULL;
	switch (kind) {
	case READ_DATA:
		rc = zoo_awget(zk->zh, path, wfn, w, data_done, o);
		break;
	case READ_EXISTS:
		rc = zoo_awexists(zk->zh, path, wfn, w, stat_done, o);
		break;
	default:
		rc = zoo_awget_children2(zk->zh, path, wfn, w, children_done, o);
		break;
	}
	if (rc != ZOK && w != NULL) {
		/* never queued: no answer will come for it */
		o->w = NULL;
		watch_unlink(w);
		free(w);
	}
	return queued(o, rc);
}

int kp_zk_get(struct kp_zk *zk, const char *path, kp_zk_watch_fn watch,
	      void *watch_arg, kp_zk_done_fn done, void *arg)
{
	return start_read(READ_DATA, zk, path, watch, watch_arg, done, arg, false);
}

int kp_zk_exists(struct kp_zk *zk, const char *path, kp_zk_watch_fn watch,
		 void *watch_arg, kp_zk_done_fn done, void *arg)
{
	return start_read(READ_EXISTS, zk, path, watch, watch_arg, done, arg, false);
}

int kp_zk_children(struct kp_zk *zk, const char *path, kp_zk_watch_fn watch,
		   void *watch_arg, kp_zk_done_fn done, void *arg)
{
	return start_read(READ_CHILDREN, zk, path, watch, watch_arg, done, arg, false);
}

static int start_create(struct kp_zk *zk, const char *path, const char *data,
			int32_t len, enum kp_zk_mode mode, kp_zk_done_fn done,
			void *arg, bool direct)
{
	struct op *o = op_new(zk, done, arg);

	if (o == NULL)
		return ZSYSTEMERROR;
	o->direct = direct;
	return queued(o, zoo_acreate(zk->zh, path, data, data ? len : -1,
				     acl_for(zk, path), (int)mode,
				     string_done, o));
}

int kp_zk_create(struct kp_zk *zk, const char *path, const char *data,
		 int32_t len, enum kp_zk_mode mode, kp_zk_done_fn done,
		 void *arg)
{
	return start_create(zk, path, data, len, mode, done, arg, false);
}

static int start_set(struct kp_zk *zk, const char *path, const char *data,
		     int32_t len, int32_t version, kp_zk_done_fn done,
		     void *arg, bool direct)
{
	struct op *o = op_new(zk, done, arg);

	if (o == NULL)
		return ZSYSTEMERROR;
	o->direct = direct;
	return queued(o, zoo_aset(zk->zh, path, data, data ? len : -1, version,
				  stat_done, o));
}

int kp_zk_set(struct kp_zk *zk, const char *path, const char *data,
	      int32_t len, int32_t version, kp_zk_done_fn done, void *arg)
{
	return start_set(zk, path, data, len, version, done, arg, false);
}

/* ZooKeeper's sync: the server we talk to catches up with the leader
 * for path before it answers, so a read after it sees every write the
 * quorum had made when it was sent. */
static int start_sync(struct kp_zk *zk, const char *path, kp_zk_done_fn done,
		      void *arg, bool direct)
{
	struct op *o = op_new(zk, done, arg);

	if (o == NULL)
		return ZSYSTEMERROR;
	o->direct = direct;
	return queued(o, zoo_async(zk->zh, path, string_done, o));
}

static int start_delete(struct kp_zk *zk, const char *path, int32_t version,
			kp_zk_done_fn done, void *arg, bool direct)
{
	struct op *o = op_new(zk, done, arg);

	if (o == NULL)
		return ZSYSTEMERROR;
	o->direct = direct;
	return queued(o, zoo_adelete(zk->zh, path, version, void_done, o));
}

int kp_zk_delete(struct kp_zk *zk, const char *path, int32_t version,
		 kp_zk_done_fn done, void *arg)
{
	return start_delete(zk, path, version, done, arg, false);
}

static char *keep(struct op *o, const char *src, size_t len)
{
	char *c = malloc(len + 1);

	if (c == NULL)
		return NULL;
	if (src != NULL)
		memcpy(c, src, len);
	c[len] = '\0';
	o->bufs[o->nbufs++] = c;
	return c;
}

static int start_multi(struct kp_zk *zk, const struct kp_zk_op *ops, int n,
		       kp_zk_done_fn done, void *arg, bool direct)
{
	struct op *o = op_new(zk, done, arg);
	int i;

	if (o == NULL || n <= 0) {
		free(o);
		return ZBADARGUMENTS;
	}
	o->direct = direct;
	o->res.nops = n;
	o->ops = calloc((size_t)n, sizeof(*o->ops));
	o->results = calloc((size_t)n, sizeof(*o->results));
	o->stats = calloc((size_t)n, sizeof(*o->stats));
	o->bufs = calloc((size_t)n * 3, sizeof(char *));
	if (o->ops == NULL || o->results == NULL || o->stats == NULL ||
	    o->bufs == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		const struct kp_zk_op *op = &ops[i];
		char *path = keep(o, op->path, strlen(op->path));
		char *data = NULL;

		if (path == NULL)
			goto nomem;
		if (op->data != NULL && (data = keep(o, op->data, (size_t)op->len)) == NULL)
			goto nomem;
		switch (op->type) {
		case KP_ZK_OP_CREATE: {
			size_t pl = strlen(op->path) + 32;
			char *pbuf = keep(o, NULL, pl);

			if (pbuf == NULL)
				goto nomem;
			zoo_create_op_init(&o->ops[i], path, data,
					   data ? op->len : -1,
					   acl_for(zk, path), (int)op->mode,
					   pbuf, (int)pl);
			break;
		}
		case KP_ZK_OP_SET:
			zoo_set_op_init(&o->ops[i], path, data,
					data ? op->len : -1, op->version,
					&o->stats[i]);
			break;
		case KP_ZK_OP_DELETE:
			zoo_delete_op_init(&o->ops[i], path, op->version);
			break;
		case KP_ZK_OP_CHECK:
			zoo_check_op_init(&o->ops[i], path, op->version);
			break;
		}
	}
	/* The C client's other calls refuse an expired (or auth-failed)
	 * handle with ZINVALIDSTATE; zoo_amulti does not check, queues the
	 * request on the dead handle, and its completion never comes (a
	 * resumed, expired controller hung waiting for it). */
	{
		int st = zoo_state(zk->zh);

		if (st == ZOO_EXPIRED_SESSION_STATE || st == ZOO_AUTH_FAILED_STATE) {
			op_free(o);
			return ZINVALIDSTATE;
		}
	}
	return queued(o, zoo_amulti(zk->zh, n, o->ops, o->results, multi_done, o));
nomem:
	op_free(o);
	return ZSYSTEMERROR;
}

int kp_zk_multi(struct kp_zk *zk, const struct kp_zk_op *ops, int n,
		kp_zk_done_fn done, void *arg)
{
	return start_multi(zk, ops, n, done, arg, false);
}

/* ------------------------------------------------------ blocking helpers */

struct waiter {
	pthread_mutex_t m;
	pthread_cond_t c;
	bool done;
	struct kp_zk_result res;
};

static void waiter_done(struct kp_zk_result *res, void *arg)
{
	struct waiter *w = arg;

	pthread_mutex_lock(&w->m);
	w->res = *res;
	/* Ownership moves to the waiter. */
	memset(res, 0, sizeof(*res));
	w->done = true;
	pthread_cond_signal(&w->c);
	pthread_mutex_unlock(&w->m);
}

static void waiter_init(struct waiter *w)
{
	pthread_mutex_init(&w->m, NULL);
	pthread_cond_init(&w->c, NULL);
	w->done = false;
	memset(&w->res, 0, sizeof(w->res));
}

/*
 * Wait for the operation started with result rc.  An error rc means either
 * the operation already completed (queued() delivered it) or it never
 * started (no memory, bad arguments) and will not complete.
 */
static int waiter_wait(struct waiter *w, int rc, struct kp_zk_result *out)
{
	pthread_mutex_lock(&w->m);
	if (rc != ZOK && !w->done) {
		w->res.rc = rc;
		w->done = true;
	}
	while (!w->done)
		pthread_cond_wait(&w->c, &w->m);
	pthread_mutex_unlock(&w->m);
	pthread_mutex_destroy(&w->m);
	pthread_cond_destroy(&w->c);
	rc = w->res.rc;
	if (out != NULL)
		*out = w->res;
	else
		kp_zk_result_free(&w->res);
	return rc;
}

/* The answer of a request the connection's loss cut short: the request
 * may or may not have been applied (Kafka's CONNECTIONLOSS); the C client
 * reports a lost connection it noticed by its own receive timeout as
 * ZOPERATIONTIMEOUT. */
static bool lost(int rc)
{
	return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT;
}

static void deadline_in(struct timespec *dl, int ms)
{
	clock_gettime(CLOCK_REALTIME, dl);
	dl->tv_sec += ms / 1000;
	dl->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl->tv_nsec >= 1000000000L) {
		dl->tv_sec++;
		dl->tv_nsec -= 1000000000L;
	}
}

/*
 * After a request was lost with the connection: wait until handle zh is
 * connected again (ZOK: send it again), its session expired or the handle
 * was replaced by kp_zk_reconnect (ZSESSIONEXPIRED), or kp_zk_interrupt()
 * was called (ZCLOSING).  The handle's own state is read (the session
 * events that update zk->state come later, on the completion thread);
 * the condition is re-checked every 100 ms and on every session event.
 */
static int wait_reconnected(struct kp_zk *zk, zhandle_t *zh)
{
	int rc;

	pthread_mutex_lock(&zk->mu);
	for (;;) {
		struct timespec dl;
		int st;

		if (zk->interrupted) {
			rc = ZCLOSING;
			break;
		}
		if (zk->zh != zh) {
			rc = ZSESSIONEXPIRED;
			break;
		}
		st = zoo_state(zh);
		if (st == ZOO_CONNECTED_STATE) {
			rc = ZOK;
			break;
		}
		if (st == ZOO_EXPIRED_SESSION_STATE || st == ZOO_AUTH_FAILED_STATE) {
			rc = ZSESSIONEXPIRED;
			break;
		}
		deadline_in(&dl, 100);
		pthread_cond_timedwait(&zk->cv, &zk->mu, &dl);
	}
	pthread_mutex_unlock(&zk->mu);
	return rc;
}

static zhandle_t *current_handle(struct kp_zk *zk)
{
	zhandle_t *zh;

	pthread_mutex_lock(&zk->mu);
	zh = zk->zh;
	pthread_mutex_unlock(&zk->mu);
	return zh;
}

/* One blocking request, described so that it can be sent again. */
enum call_kind {
	CALL_GET, CALL_EXISTS, CALL_CHILDREN, CALL_CREATE, CALL_SET,
	CALL_DELETE, CALL_MULTI, CALL_SYNC,
};

struct call {
	enum call_kind kind;
	const char *path;
	const char *data;		/* create, set */
	int32_t len;
	enum kp_zk_mode mode;		/* create */
	int32_t version;		/* set, delete */
	const struct kp_zk_op *ops;	/* multi */
	int nops;
	kp_zk_watch_fn watch;		/* reads */
	void *watch_arg;
	bool nowait;			/* never wait for a reconnection */
};

static int call_start(struct kp_zk *zk, const struct call *c,
		      kp_zk_done_fn done, void *arg)
{
	switch (c->kind) {
	case CALL_GET:
		return start_read(READ_DATA, zk, c->path, c->watch, c->watch_arg,
				  done, arg, true);
	case CALL_EXISTS:
		return start_read(READ_EXISTS, zk, c->path, c->watch, c->watch_arg,
				  done, arg, true);
	case CALL_CHILDREN:
		return start_read(READ_CHILDREN, zk, c->path, c->watch, c->watch_arg,
				  done, arg, true);
	case CALL_CREATE:
		return start_create(zk, c->path, c->data, c->len, c->mode, done, arg, true);
	case CALL_SET:
		return start_set(zk, c->path, c->data, c->len, c->version, done, arg, true);
	case CALL_DELETE:
		return start_delete(zk, c->path, c->version, done, arg, true);
	case CALL_SYNC:
		return start_sync(zk, c->path, done, arg, true);
	default:
		return start_multi(zk, c->ops, c->nops, done, arg, true);
	}
}

/* Send c and wait for its answer; a daemon's request lost with the
 * connection is sent again once connected (see the top of this file). */
static int call_sync(struct kp_zk *zk, const struct call *c, struct kp_zk_result *res)
{
	struct kp_zk_result r;
	int rc;

	for (;;) {
		zhandle_t *zh = current_handle(zk);
		struct waiter w;

		waiter_init(&w);
		rc = waiter_wait(&w, call_start(zk, c, waiter_done, &w), &r);
		if (!lost(rc) || !zk->cfg.retry_until_connected || c->nowait)
			break;
		kp_zk_result_free(&r);
		rc = wait_reconnected(zk, zh);
		if (rc != ZOK) {
			r.rc = rc;
			break;
		}
	}
	if (res != NULL)
		*res = r;
	else
		kp_zk_result_free(&r);
	return rc;
}

int kp_zk_get_sync(struct kp_zk *zk, const char *path, struct kp_zk_result *res)
{
	struct call c = { .kind = CALL_GET, .path = path };

	return call_sync(zk, &c, res);
}

int kp_zk_sync_sync(struct kp_zk *zk, const char *path)
{
	struct call c = { .kind = CALL_SYNC, .path = path };

	return call_sync(zk, &c, NULL);
}

int kp_zk_exists_sync(struct kp_zk *zk, const char *path, struct kp_zk_result *res)
{
	struct call c = { .kind = CALL_EXISTS, .path = path };

	return call_sync(zk, &c, res);
}

int kp_zk_children_sync(struct kp_zk *zk, const char *path, struct kp_zk_result *res)
{
	struct call c = { .kind = CALL_CHILDREN, .path = path };

	return call_sync(zk, &c, res);
}

int kp_zk_read_watch_sync(struct kp_zk *zk, enum kp_zk_read what,
			  const char *path, kp_zk_watch_fn watch,
			  void *watch_arg, struct kp_zk_result *res)
{
	static const enum call_kind kinds[] = {
		[KP_ZK_READ_DATA] = CALL_GET,
		[KP_ZK_READ_EXISTS] = CALL_EXISTS,
		[KP_ZK_READ_CHILDREN] = CALL_CHILDREN,
	};
	struct call c = { .kind = kinds[what], .path = path, .watch = watch,
			  .watch_arg = watch_arg };

	return call_sync(zk, &c, res);
}

int kp_zk_create_sync(struct kp_zk *zk, const char *path, const char *data,
		      int32_t len, enum kp_zk_mode mode, struct kp_zk_result *res)
{
	struct call c = { .kind = CALL_CREATE, .path = path, .data = data,
			  .len = len, .mode = mode };

	return call_sync(zk, &c, res);
}

int kp_zk_set_sync(struct kp_zk *zk, const char *path, const char *data,
		   int32_t len, int32_t version, struct kp_zk_result *res)
{
	struct call c = { .kind = CALL_SET, .path = path, .data = data,
			  .len = len, .version = version };

	return call_sync(zk, &c, res);
}

int kp_zk_set_sync_nowait(struct kp_zk *zk, const char *path, const char *data,
			  int32_t len, int32_t version, struct kp_zk_result *res)
{
	struct call c = { .kind = CALL_SET, .path = path, .data = data,
			  .len = len, .version = version, .nowait = true };

	return call_sync(zk, &c, res);
}

int kp_zk_delete_sync(struct kp_zk *zk, const char *path, int32_t version)
{
	struct call c = { .kind = CALL_DELETE, .path = path, .version = version };

	return call_sync(zk, &c, NULL);
}

int kp_zk_multi_sync(struct kp_zk *zk, const struct kp_zk_op *ops, int n,
		     struct kp_zk_result *res)
{
	struct call c = { .kind = CALL_MULTI, .ops = ops, .nops = n };

	return call_sync(zk, &c, res);
}

/* ---------------------------------------------------------- pipelining */

struct batch {
	pthread_mutex_t m;
	pthread_cond_t c;
	int pending;
};

struct batch_slot {
	struct batch *b;
	struct kp_zk_batch_item *item;
	bool delivered;
};

static void batch_done(struct kp_zk_result *res, void *arg)
{
	struct batch_slot *s = arg;

	pthread_mutex_lock(&s->b->m);
	s->item->res = *res;
	memset(res, 0, sizeof(*res));	/* ownership moves to the item */
	s->delivered = true;
	if (--s->b->pending == 0)
		pthread_cond_signal(&s->b->c);
	pthread_mutex_unlock(&s->b->m);
}

static const enum call_kind batch_kinds[] = {
	[KP_ZK_BATCH_GET] = CALL_GET,
	[KP_ZK_BATCH_EXISTS] = CALL_EXISTS,
	[KP_ZK_BATCH_CHILDREN] = CALL_CHILDREN,
	[KP_ZK_BATCH_CREATE] = CALL_CREATE,
	[KP_ZK_BATCH_MULTI] = CALL_MULTI,
	[KP_ZK_BATCH_DELETE] = CALL_DELETE,
};

/* Send the items marked in todo, all before any answer is awaited; the
 * number that could not be started. */
static int batch_round(struct kp_zk *zk, struct kp_zk_batch_item *items, int n,
		       const bool *todo, struct batch_slot *slots)
{
	struct batch b = { .pending = 0 };
	int failed = 0;

	for (int i = 0; i < n; i++)
		b.pending += todo[i];
	pthread_mutex_init(&b.m, NULL);
	pthread_cond_init(&b.c, NULL);
	for (int i = 0; i < n; i++) {
		struct kp_zk_batch_item *it = &items[i];
		struct call c = { .kind = batch_kinds[it->kind], .path = it->path,
				  .data = it->data, .len = it->len,
				  .mode = KP_ZK_PERSISTENT, .ops = it->ops,
				  .nops = it->nops, .watch = it->watch,
				  .watch_arg = it->watch_arg, .version = -1 };
		int rc;

		if (!todo[i])
			continue;
		memset(&it->res, 0, sizeof(it->res));
		slots[i] = (struct batch_slot){ &b, it, false };
		rc = call_start(zk, &c, batch_done, &slots[i]);
		if (rc != ZOK) {
			failed++;
			pthread_mutex_lock(&b.m);
			if (!slots[i].delivered) {	/* never started */
				it->res.rc = rc;
				slots[i].delivered = true;
				b.pending--;
			}
			pthread_mutex_unlock(&b.m);
		}
	}
	pthread_mutex_lock(&b.m);
	while (b.pending > 0)
		pthread_cond_wait(&b.c, &b.m);
	pthread_mutex_unlock(&b.m);
	pthread_mutex_destroy(&b.m);
	pthread_cond_destroy(&b.c);
	return failed;
}

int kp_zk_batch_sync(struct kp_zk *zk, struct kp_zk_batch_item *items, int n)
{
	struct batch_slot *slots = calloc((size_t)n + 1, sizeof(*slots));
	bool *todo = calloc((size_t)n + 1, sizeof(*todo));
	int failed = 0, left = n;

	if (slots == NULL || todo == NULL) {
		for (int i = 0; i < n; i++)
			items[i].res = (struct kp_zk_result){ .rc = ZSYSTEMERROR };
		free(slots);
		free(todo);
		return -1;
	}
	for (int i = 0; i < n; i++)
		todo[i] = true;
	/* as call_sync: the items lost with the connection go again once
	 * it is back (Kafka's slow path of retryRequestsUntilConnected) */
	while (left > 0) {
		zhandle_t *zh = current_handle(zk);
		int rc;

		failed = batch_round(zk, items, n, todo, slots);
		left = 0;
		for (int i = 0; i < n; i++) {
			todo[i] = todo[i] && lost(items[i].res.rc) &&
				  zk->cfg.retry_until_connected;
			left += todo[i];
		}
		if (left == 0)
			break;
		rc = wait_reconnected(zk, zh);
		if (rc == ZOK) {
			for (int i = 0; i < n; i++)
				if (todo[i])
					kp_zk_result_free(&items[i].res);
			continue;
		}
		for (int i = 0; i < n; i++)
			if (todo[i])
				items[i].res.rc = rc;
		break;
	}
	free(slots);
	free(todo);
	return failed > 0 ? -1 : 0;
}

int kp_zk_ensure_path(struct kp_zk *zk, const char *path)
{
	char *p = strdup(path), *s;
	int rc = ZOK;

	if (p == NULL)
		return ZSYSTEMERROR;
	for (s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char save = *s;

			*s = '\0';
			rc = kp_zk_create_sync(zk, p, NULL, 0, KP_ZK_PERSISTENT, NULL);
			*s = save;
			if (rc != ZOK && rc != ZNODEEXISTS)
				break;
			rc = ZOK;
			if (save == '\0')
				break;
		}
	}
	free(p);
	return rc;
}

int kp_zk_delete_recursive(struct kp_zk *zk, const char *path)
{
	struct kp_zk_result res;
	int32_t i;
	int rc = kp_zk_children_sync(zk, path, &res);

	if (rc == ZNONODE)
		return ZOK;
	if (rc != ZOK) {
		kp_zk_result_free(&res);
		return rc;
	}
	for (i = 0; i < res.nchildren; i++) {
		size_t n = strlen(path) + strlen(res.children[i]) + 2;
		char *child = malloc(n);

		if (child == NULL) {
			rc = ZSYSTEMERROR;
			break;
		}
		snprintf(child, n, "%s/%s", strcmp(path, "/") ? path : "",
			 res.children[i]);
		rc = kp_zk_delete_recursive(zk, child);
		free(child);
		if (rc != ZOK)
			break;
	}
	kp_zk_result_free(&res);
	if (rc != ZOK)
		return rc;
	rc = kp_zk_delete_sync(zk, path, -1);
	return rc == ZNONODE ? ZOK : rc;
}

/* ------------------------------------------------- the C client's log */

/*
 * The C client formats each line as "<time>:<pid>(0x<thread>):ZOO_<LEVEL>
 * @<function>@<line>: <message>" and hands it to its log callback, on
 * whichever of its threads logs.  zk_log_line() keeps the message, gives
 * it skald's level, and writes a call site's line at most once every
 * LOG_EVERY_MS; how many were held back is said with the site's next
 * line, or when the session is connected again (zk_log_flush).
 *
 * Levels: the client logs a failed connection attempt (refused, timed
 * out, a server that is not serving) as ZOO_ERROR "Socket [...] zk
 * retcode=...": the client goes on to the next server, so for the daemon
 * it is a warning (the Java client Kafka uses logs these at WARN and
 * INFO); its "Client environment:" lines at each new session are debug.
 */
#define LOG_SITES 32
#define LOG_EVERY_MS 10000

struct log_site {
	char site[80];		/* "function@line" */
	int64_t last_ms;	/* when a line of it was last written */
	unsigned held;		/* lines held back since then */
	enum kp_log_level level;
	char last[384];		/* the last one held back */
};

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static struct log_site log_sites[LOG_SITES];

static struct log_site *log_site_of(const char *site, int64_t now)
{
	struct log_site *s, *oldest = &log_sites[0];

	for (s = log_sites; s < log_sites + LOG_SITES; s++) {
		if (s->site[0] != 0 && strcmp(s->site, site) == 0)
			return s;
		if (s->last_ms < oldest->last_ms)
			oldest = s;
	}
	/* a new site takes the quietest slot (an empty one has last_ms 0) */
	if (oldest->held > 0)
		kp_log(oldest->level, "zookeeper client: %u more like: %s",
		       oldest->held, oldest->last);
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->site, sizeof(oldest->site), "%s", site);
	oldest->last_ms = now - LOG_EVERY_MS;
	return oldest;
}

static void zk_log_line(const char *line)
{
	static const struct {
		const char *name;
		enum kp_log_level level;
	} levels[] = {
		{ "ZOO_ERROR", KP_LOG_ERROR }, { "ZOO_WARN", KP_LOG_WARN },
		{ "ZOO_INFO", KP_LOG_INFO }, { "ZOO_DEBUG", KP_LOG_DEBUG },
	};
	const char *tag = strstr(line, ":ZOO_"), *func, *at, *msg;
	enum kp_log_level level = KP_LOG_WARN;
	char site[80], text[384];
	struct log_site *s;
	int64_t now;
	size_t n;

	if (tag == NULL || (func = strchr(tag + 1, '@')) == NULL ||
	    (at = strchr(func + 1, '@')) == NULL || (msg = strstr(at, ": ")) == NULL) {
		func = at = NULL;	/* not the client's format: as it is */
		msg = line;
	} else {
		for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
			if (strncmp(tag + 1, levels[i].name, strlen(levels[i].name)) == 0 &&
			    tag + 1 + strlen(levels[i].name) == func)
				level = levels[i].level;
		msg += 2;
	}
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ' || msg[n - 1] == '\r'))
		n--;
	snprintf(text, sizeof(text), "%.*s", (int)n, msg);
	if (level == KP_LOG_ERROR && strncmp(text, "Socket ", 7) == 0 &&
	    strstr(text, "zk retcode=") != NULL)
		level = KP_LOG_WARN;
	else if (level == KP_LOG_INFO && strncmp(text, "Client environment:", 19) == 0)
		level = KP_LOG_DEBUG;
	if (!kp_log_enabled(level))
		return;
	if (func == NULL) {
		kp_log(level, "zookeeper client: %s", text);
		return;
	}
	/* the site: function and line number, "check_events@2998" */
	snprintf(site, sizeof(site), "%.*s", (int)strcspn(func + 1, ":"), func + 1);
	now = kp_now_ms();
	pthread_mutex_lock(&log_mu);
	s = log_site_of(site, now);
	if (now - s->last_ms < LOG_EVERY_MS) {
		s->held++;
		s->level = level;
		snprintf(s->last, sizeof(s->last), "%s", text);
	} else {
		if (s->held > 0)
			kp_log(level, "zookeeper client: %s (and %u more like it in the "
			       "last %d s)", text, s->held,
			       (int)((now - s->last_ms) / 1000));
		else
			kp_log(level, "zookeeper client: %s", text);
		s->held = 0;
		s->last_ms = now;
	}
	pthread_mutex_unlock(&log_mu);
}

/* Connected again: say what was held back, and start afresh, so the next
 * outage's first lines are written at once. */
static void zk_log_flush(void)
{
	pthread_mutex_lock(&log_mu);
	for (struct log_site *s = log_sites; s < log_sites + LOG_SITES; s++) {
		if (s->held > 0)
			kp_log(s->level, "zookeeper client: %u more like: %s", s->held,
			       s->last);
		memset(s, 0, sizeof(*s));
	}
	pthread_mutex_unlock(&log_mu);
}

/* The C client's level follows ours; quiet (tools): nothing. */
static void zk_log_level(bool quiet)
{
	ZooLogLevel l = ZOO_LOG_LEVEL_ERROR;

	if (quiet) {
		zoo_set_debug_level((ZooLogLevel)0);
		return;
	}
	if (kp_log_enabled(KP_LOG_DEBUG))
		l = ZOO_LOG_LEVEL_DEBUG;
	else if (kp_log_enabled(KP_LOG_INFO))
		l = ZOO_LOG_LEVEL_INFO;
	else if (kp_log_enabled(KP_LOG_WARN))
		l = ZOO_LOG_LEVEL_WARN;
	zoo_set_debug_level(l);
}

/* ------------------------------------------------------------ sessions */

/* Until connected: timeout_ms < 0 waits as long as it takes (but for
 * kp_zk_interrupt). */
static int wait_connected(struct kp_zk *zk, int timeout_ms)
{
	struct timespec dl;
	int rc = ZOK;

	deadline_in(&dl, timeout_ms < 0 ? 0 : timeout_ms);
	pthread_mutex_lock(&zk->mu);
	while (zk->state != ZOO_CONNECTED_STATE) {
		if (zk->state == ZOO_EXPIRED_SESSION_STATE ||
		    zk->state == ZOO_AUTH_FAILED_STATE) {
			rc = ZSESSIONEXPIRED;
			break;
		}
		if (zk->interrupted) {
			rc = ZCLOSING;
			break;
		}
		if (timeout_ms < 0) {
			deadline_in(&dl, 1000);
			pthread_cond_timedwait(&zk->cv, &zk->mu, &dl);
		} else if (pthread_cond_timedwait(&zk->cv, &zk->mu, &dl) == ETIMEDOUT) {
			rc = zk->state == ZOO_CONNECTED_STATE ? ZOK : ZOPERATIONTIMEOUT;
			break;
		}
	}
	pthread_mutex_unlock(&zk->mu);
	return rc;
}

static int start_handle(struct kp_zk *zk, const char *connect, int timeout_ms,
			char *err, size_t errlen)
{
	zhandle_t *zh;
	int rc;

	pthread_mutex_lock(&zk->mu);
	zk->state = 0;
	pthread_mutex_unlock(&zk->mu);
	zh = zookeeper_init2(connect, session_watcher, zk->cfg.session_timeout_ms,
			     NULL, zk, 0, zk_log_line);
	if (zh == NULL) {
		if (err != NULL)
			snprintf(err, errlen, "cannot start ZooKeeper client for %s: %s",
				 connect, strerror(errno));
		return ZSYSTEMERROR;
	}
	/* the C client resolves the connect string again (getaddrinfo: a
	 * socket, a bind and a netlink dump) each time its I/O thread polls,
	 * i.e. once per batch of answers: two thirds of a controller's CPU
	 * while it reads 10,000 partition states.  Resolved when connecting
	 * only, as the Java client's host provider does. */
	zoo_set_servers_resolution_delay(zh, -1);
	/* before the handle is anyone's: the identity goes ahead of every
	 * request, on this connection and each reconnection */
	if (zk->digest != NULL &&
	    (rc = zoo_add_auth(zh, "digest", zk->digest, (int)strlen(zk->digest),
			       NULL, NULL)) != ZOK) {
		if (err != NULL)
			snprintf(err, errlen, "cannot authenticate to ZooKeeper at %s: %s",
				 connect, zerror(rc));
		zookeeper_close(zh);
		return rc;
	}
	pthread_mutex_lock(&zk->mu);
	zk->zh = zh;
	pthread_mutex_unlock(&zk->mu);
	rc = wait_connected(zk, timeout_ms);
	if (rc != ZOK) {
		if (err != NULL)
			snprintf(err, errlen, "cannot connect to ZooKeeper at %s: %s",
				 connect, zerror(rc));
		pthread_mutex_lock(&zk->mu);
		zk->zh = NULL;
		pthread_mutex_unlock(&zk->mu);
		zookeeper_close(zh);
	}
	return rc;
}

int kp_zk_open(struct kp_zk **zkp, const struct kp_zk_config *cfg, char *err,
	       size_t errlen)
{
	struct kp_zk *zk = calloc(1, sizeof(*zk));
	const char *slash;
	int rc;

	*zkp = NULL;
	if (zk == NULL)
		return ZSYSTEMERROR;
	zk_log_level(cfg->quiet);
	zk->cfg = *cfg;
	if (zk->cfg.connect_timeout_ms <= 0)
		zk->cfg.connect_timeout_ms = cfg->session_timeout_ms > 0 ?
			cfg->session_timeout_ms : 18000;
	if (zk->cfg.session_timeout_ms <= 0)
		zk->cfg.session_timeout_ms = 18000;
	zk->connect = strdup(cfg->connect);
	pthread_mutex_init(&zk->mu, NULL);
	pthread_cond_init(&zk->cv, NULL);
	if (zk->connect == NULL) {
		rc = ZSYSTEMERROR;
		goto fail;
	}
	zk->acl_entries[0].perms = ZOO_PERM_ALL;
	zk->acl_entries[0].id = ZOO_AUTH_IDS;
	zk->acl_entries[1].perms = ZOO_PERM_READ;
	zk->acl_entries[1].id = ZOO_ANYONE_ID_UNSAFE;
	zk->acl_public = (struct ACL_vector){ 2, zk->acl_entries };
	zk->acl_private = (struct ACL_vector){ 1, zk->acl_entries };
	if (cfg->digest_user != NULL) {
		const char *why = kp_zk_digest_check(cfg->digest_user, cfg->digest_password);

		if (why != NULL) {
			snprintf(err, errlen, "%s", why);
			rc = ZBADARGUMENTS;
			goto fail;
		}
		size_t n = strlen(cfg->digest_user) + strlen(cfg->digest_password) + 2;

		zk->digest = malloc(n);
		if (zk->digest == NULL) {
			rc = ZSYSTEMERROR;
			goto fail;
		}
		snprintf(zk->digest, n, "%s:%s", cfg->digest_user, cfg->digest_password);
	} else if (cfg->set_acl) {
		/* ZooKeeper refuses a creator's ACL from a session with no
		 * identity (INVALIDACL): say so now */
		snprintf(err, errlen, "zookeeper.set.acl is true but no ZooKeeper "
			 "identity is set (zookeeper.digest.username and "
			 "zookeeper.digest.password)");
		rc = ZBADARGUMENTS;
		goto fail;
	}
	zk->cfg.digest_user = zk->cfg.digest_password = NULL;	/* not kept */
	zk->cfg.connect = zk->connect;
	slash = strchr(zk->connect, '/');
	if (slash != NULL && slash[1] != '\0') {
		/* Create the chroot through a chroot-less session first. */
		struct kp_zk tmp = *zk;
		char *hosts = strndup(zk->connect, (size_t)(slash - zk->connect));

		if (hosts == NULL) {
			rc = ZSYSTEMERROR;
			goto fail;
		}
		tmp.cfg.post = NULL;
		tmp.cfg.on_session = NULL;
		pthread_mutex_init(&tmp.mu, NULL);
		pthread_cond_init(&tmp.cv, NULL);
		rc = start_handle(&tmp, hosts, zk->cfg.connect_timeout_ms, err, errlen);
		free(hosts);
		if (rc == ZOK) {
			rc = kp_zk_ensure_path(&tmp, slash);
			if (rc != ZOK)
				set_err(err, errlen, "cannot create the ZooKeeper chroot", rc);
			zookeeper_close(tmp.zh);
		}
		pthread_mutex_destroy(&tmp.mu);
		pthread_cond_destroy(&tmp.cv);
		if (rc != ZOK)
			goto fail;
	}
	rc = start_handle(zk, zk->connect, zk->cfg.connect_timeout_ms, err, errlen);
	if (rc != ZOK)
		goto fail;
	*zkp = zk;
	return ZOK;
fail:
	pthread_mutex_destroy(&zk->mu);
	pthread_cond_destroy(&zk->cv);
	free(zk->connect);
	free(zk->digest);
	free(zk);
	return rc;
}

int kp_zk_reconnect(struct kp_zk *zk, char *err, size_t errlen)
{
	zhandle_t *old;

	/* calls still waiting on the old handle see it replaced (their
	 * session is gone) before it is freed */
	pthread_mutex_lock(&zk->mu);
	old = zk->zh;
	zk->zh = NULL;
	pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
	if (old != NULL)
		zookeeper_close(old);
	/* a daemon waits for ZooKeeper as long as it takes, as Kafka's
	 * ZooKeeperClient.reinitialize does: the quorum may be lost */
	return start_handle(zk, zk->connect, zk->cfg.retry_until_connected ? -1 :
			    zk->cfg.connect_timeout_ms, err, errlen);
}

void kp_zk_interrupt(struct kp_zk *zk)
{
	if (zk == NULL)
		return;
	pthread_mutex_lock(&zk->mu);
	zk->interrupted = true;
	pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
}

void kp_zk_close(struct kp_zk *zk)
{
	if (zk == NULL)
		return;
	if (zk->zh != NULL)
		zookeeper_close(zk->zh);
	zk_log_flush();
	/* watches that never fired die with the session */
	while (zk->armed != NULL) {
		struct watch *w = zk->armed;

		zk->armed = w->next;
		free(w->path);
		free(w);
	}
	pthread_mutex_destroy(&zk->mu);
	pthread_cond_destroy(&zk->cv);
	free(zk->connect);
	free(zk->digest);
	free(zk);
}

int64_t kp_zk_session_id(struct kp_zk *zk)
{
	const clientid_t *id = zk->zh ? zoo_client_id(zk->zh) : NULL;

	return id ? id->client_id : 0;
}

bool kp_zk_connected(struct kp_zk *zk)
{
	bool c;

	pthread_mutex_lock(&zk->mu);
	c = zk->state == ZOO_CONNECTED_STATE;
	pthread_mutex_unlock(&zk->mu);
	return c;
}

static void post_to_loop(void *ctx, void (*fn)(void *), void *arg)
{
	kp_loop_post(ctx, fn, arg);
}

int kp_zk_config_from(struct kp_zk_config *zc, const struct kp_config *cfg,
		      struct kp_loop *loop, char *err, size_t errlen)
{
	memset(zc, 0, sizeof(*zc));
	zc->connect = kp_config_str(cfg, "zookeeper.connect");
	if (zc->connect == NULL) {
		snprintf(err, errlen, "zookeeper.connect is not set");
		return -1;
	}
	zc->session_timeout_ms = kp_config_int(cfg, "zookeeper.session.timeout.ms");
	zc->connect_timeout_ms = kp_config_is_set(cfg, "zookeeper.connection.timeout.ms")
		? kp_config_int(cfg, "zookeeper.connection.timeout.ms")
		: zc->session_timeout_ms;
	zc->post = post_to_loop;
	zc->post_ctx = loop;
	zc->retry_until_connected = true;
	zc->set_acl = kp_config_bool(cfg, "zookeeper.set.acl");
	zc->digest_user = kp_config_str(cfg, "zookeeper.digest.username");
	zc->digest_password = kp_config_str(cfg, "zookeeper.digest.password");
	if (zc->digest_user != NULL || zc->digest_password != NULL) {
		const char *why = kp_zk_digest_check(zc->digest_user, zc->digest_password);

		if (why != NULL) {
			snprintf(err, errlen, "%s", why);
			return -1;
		}
	} else if (zc->set_acl) {
		snprintf(err, errlen, "zookeeper.set.acl is true but skald has no "
			 "ZooKeeper identity to create znodes with: set "
			 "zookeeper.digest.username and zookeeper.digest.password");
		return -1;
	}
	return 0;
}
