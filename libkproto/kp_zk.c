/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_zk.c - ZooKeeper client layer; see kp_zk.h.
 *
 * Threads: the C client's I/O and completion threads call into this file;
 * everything they hand over is copied into heap objects (struct op, struct
 * watch) and either delivered right there (no post function, or a blocking
 * *_sync call) or posted to the owner's thread.  struct kp_zk's session
 * state is guarded by mu, which the blocking helpers wait on.
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
#include "kp_loop.h"
#include "kp_zk.h"

struct kp_zk {
	zhandle_t *zh;
	struct kp_zk_config cfg;
	char *connect;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int state;		/* last session state seen (ZOO_*_STATE) */
	struct watch *armed;	/* watches set and not fired (under mu) */
};

struct op {
	struct kp_zk *zk;
	kp_zk_done_fn done;
	void *arg;
	bool direct;		/* deliver on the ZooKeeper thread */
	struct kp_zk_result res;
	/* multi */
	zoo_op_t *ops;
	zoo_op_result_t *results;
	char **bufs;		/* copies of paths and data, and path buffers */
	int nbufs;
	struct Stat *stats;
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

const char *kp_zk_strerror(int rc)
{
	return zerror(rc);
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

static struct op *op_new(struct kp_zk *zk, kp_zk_done_fn done, void *arg)
{
	struct op *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
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

static void data_done(int rc, const char *value, int value_len,
		      const struct Stat *stat, const void *data)
{
	struct op *o = (struct op *)data;

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
	op_complete(o);
}

static void stat_done(int rc, const struct Stat *stat, const void *data)
{
	struct op *o = (struct op *)data;

	o->res.rc = rc;
	if (rc == ZOK)
		copy_stat(&o->res, stat);
	op_complete(o);
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
	op_complete(o);
}

static void string_done(int rc, const char *value, const void *data)
{
	struct op *o = (struct op *)data;

	o->res.rc = rc;
	if (rc == ZOK && value != NULL)
		o->res.path = strdup(value);
	op_complete(o);
}

static void void_done(int rc, const void *data)
{
	struct op *o = (struct op *)data;

	o->res.rc = rc;
	op_complete(o);
}

static void multi_done(int rc, const void *data)
{
	struct op *o = (struct op *)data;
	int i;

	o->res.rc = rc;
	o->res.op_rc = calloc((size_t)o->res.nops + 1, sizeof(int));
	if (o->res.op_rc != NULL)
		for (i = 0; i < o->res.nops; i++)
			o->res.op_rc[i] = o->results[i].err;
	op_complete(o);
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
				     &ZOO_OPEN_ACL_UNSAFE, (int)mode,
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
					   &ZOO_OPEN_ACL_UNSAFE, (int)op->mode,
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

int kp_zk_get_sync(struct kp_zk *zk, const char *path, struct kp_zk_result *res)
{
	struct waiter w;

	waiter_init(&w);
	return waiter_wait(&w, start_read(READ_DATA, zk, path, NULL, NULL, waiter_done, &w, true), res);
}

int kp_zk_exists_sync(struct kp_zk *zk, const char *path, struct kp_zk_result *res)
{
	struct waiter w;

	waiter_init(&w);
	return waiter_wait(&w, start_read(READ_EXISTS, zk, path, NULL, NULL, waiter_done, &w, true), res);
}

int kp_zk_children_sync(struct kp_zk *zk, const char *path, struct kp_zk_result *res)
{
	struct waiter w;

	waiter_init(&w);
	return waiter_wait(&w, start_read(READ_CHILDREN, zk, path, NULL, NULL, waiter_done, &w, true), res);
}

int kp_zk_read_watch_sync(struct kp_zk *zk, enum kp_zk_read what,
			  const char *path, kp_zk_watch_fn watch,
			  void *watch_arg, struct kp_zk_result *res)
{
	static const enum read_kind kinds[] = {
		[KP_ZK_READ_DATA] = READ_DATA,
		[KP_ZK_READ_EXISTS] = READ_EXISTS,
		[KP_ZK_READ_CHILDREN] = READ_CHILDREN,
	};
	struct waiter w;

	waiter_init(&w);
	return waiter_wait(&w, start_read(kinds[what], zk, path, watch,
					  watch_arg, waiter_done, &w, true), res);
}

int kp_zk_create_sync(struct kp_zk *zk, const char *path, const char *data,
		      int32_t len, enum kp_zk_mode mode, struct kp_zk_result *res)
{
	struct waiter w;

	waiter_init(&w);
	return waiter_wait(&w, start_create(zk, path, data, len, mode, waiter_done, &w, true), res);
}

int kp_zk_set_sync(struct kp_zk *zk, const char *path, const char *data,
		   int32_t len, int32_t version, struct kp_zk_result *res)
{
	struct waiter w;

	waiter_init(&w);
	return waiter_wait(&w, start_set(zk, path, data, len, version, waiter_done, &w, true), res);
}

int kp_zk_delete_sync(struct kp_zk *zk, const char *path, int32_t version)
{
	struct waiter w;

	waiter_init(&w);
	return waiter_wait(&w, start_delete(zk, path, version, waiter_done, &w, true), NULL);
}

int kp_zk_multi_sync(struct kp_zk *zk, const struct kp_zk_op *ops, int n,
		     struct kp_zk_result *res)
{
	struct waiter w;
	int rc;

	waiter_init(&w);
	rc = start_multi(zk, ops, n, waiter_done, &w, true);
	return waiter_wait(&w, rc, res);
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

int kp_zk_batch_sync(struct kp_zk *zk, struct kp_zk_batch_item *items, int n)
{
	struct batch b = { .pending = n };
	struct batch_slot *slots = calloc((size_t)n + 1, sizeof(*slots));
	int failed = 0;

	if (slots == NULL) {
		for (int i = 0; i < n; i++)
			items[i].res = (struct kp_zk_result){ .rc = ZSYSTEMERROR };
		return -1;
	}
	pthread_mutex_init(&b.m, NULL);
	pthread_cond_init(&b.c, NULL);
	for (int i = 0; i < n; i++) {
		struct kp_zk_batch_item *it = &items[i];
		int rc;

		memset(&it->res, 0, sizeof(it->res));
		slots[i] = (struct batch_slot){ &b, it, false };
		switch (it->kind) {
		case KP_ZK_BATCH_GET:
			rc = start_read(READ_DATA, zk, it->path, it->watch, it->watch_arg, batch_done,
					&slots[i], true);
			break;
		case KP_ZK_BATCH_EXISTS:
			rc = start_read(READ_EXISTS, zk, it->path, it->watch, it->watch_arg, batch_done,
					&slots[i], true);
			break;
		case KP_ZK_BATCH_CHILDREN:
			rc = start_read(READ_CHILDREN, zk, it->path, it->watch, it->watch_arg, batch_done,
					&slots[i], true);
			break;
		case KP_ZK_BATCH_CREATE:
			rc = start_create(zk, it->path, it->data, it->len, KP_ZK_PERSISTENT,
					  batch_done, &slots[i], true);
			break;
		default:
			rc = start_multi(zk, it->ops, it->nops, batch_done, &slots[i], true);
			break;
		}
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
	free(slots);
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

/* ------------------------------------------------------------ sessions */

static int wait_connected(struct kp_zk *zk, int timeout_ms)
{
	struct timespec dl;
	int rc = ZOK;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&zk->mu);
	while (zk->state != ZOO_CONNECTED_STATE) {
		if (zk->state == ZOO_EXPIRED_SESSION_STATE ||
		    zk->state == ZOO_AUTH_FAILED_STATE) {
			rc = ZSESSIONEXPIRED;
			break;
		}
		if (pthread_cond_timedwait(&zk->cv, &zk->mu, &dl) == ETIMEDOUT) {
			rc = zk->state == ZOO_CONNECTED_STATE ? ZOK : ZOPERATIONTIMEOUT;
			break;
		}
	}
	pthread_mutex_unlock(&zk->mu);
	return rc;
}

static int start_handle(struct kp_zk *zk, const char *connect, char *err,
			size_t errlen)
{
	int rc;

	pthread_mutex_lock(&zk->mu);
	zk->state = 0;
	pthread_mutex_unlock(&zk->mu);
	zk->zh = zookeeper_init(connect, session_watcher,
				zk->cfg.session_timeout_ms, NULL, zk, 0);
	if (zk->zh == NULL) {
		if (err != NULL)
			snprintf(err, errlen, "cannot start ZooKeeper client for %s: %s",
				 connect, strerror(errno));
		return ZSYSTEMERROR;
	}
	rc = wait_connected(zk, zk->cfg.connect_timeout_ms);
	if (rc != ZOK) {
		if (err != NULL)
			snprintf(err, errlen, "cannot connect to ZooKeeper at %s: %s",
				 connect, zerror(rc));
		zookeeper_close(zk->zh);
		zk->zh = NULL;
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
	/* 0 turns the C client's own log lines off (process-wide) */
	zoo_set_debug_level(cfg->quiet ? (ZooLogLevel)0 : ZOO_LOG_LEVEL_ERROR);
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
		rc = start_handle(&tmp, hosts, err, errlen);
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
	rc = start_handle(zk, zk->connect, err, errlen);
	if (rc != ZOK)
		goto fail;
	*zkp = zk;
	return ZOK;
fail:
	pthread_mutex_destroy(&zk->mu);
	pthread_cond_destroy(&zk->cv);
	free(zk->connect);
	free(zk);
	return rc;
}

int kp_zk_reconnect(struct kp_zk *zk, char *err, size_t errlen)
{
	if (zk->zh != NULL)
		zookeeper_close(zk->zh);
	zk->zh = NULL;
	return start_handle(zk, zk->connect, err, errlen);
}

void kp_zk_close(struct kp_zk *zk)
{
	if (zk == NULL)
		return;
	if (zk->zh != NULL)
		zookeeper_close(zk->zh);
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
	return 0;
}
