/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scram_users.c - the SCRAM credential store; see scram_users.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "broker.h"
#include "kp_log.h"
#include "kp_zk.h"
#include "kp_zkdata.h"
#include "scram_users.h"
#include "zk_admin.h"

struct scram_user {
	char *name;
	bool has[3];			/* by enum kp_scram_mech */
	struct kp_scram_cred cred[3];
};

struct scram_users {
	pthread_mutex_t lock;
	struct scram_user *v;
	size_t n;
};

static void user_free(struct scram_user *u)
{
	free(u->name);
	OPENSSL_cleanse(u->cred, sizeof(u->cred));
}

int scram_users_init(struct broker *b)
{
	struct scram_users *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	pthread_mutex_init(&s->lock, NULL);
	b->scram = s;
	return 0;
}

void scram_users_destroy(struct broker *b)
{
	struct scram_users *s = b->scram;

	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		user_free(&s->v[i]);
	free(s->v);
	pthread_mutex_destroy(&s->lock);
	free(s);
	b->scram = NULL;
}

/*
 * A user's credentials from /config/users/<name>: 1 with some, 0 with
 * none (no node, or no SCRAM keys), -1 when ZooKeeper could not say.
 */
static int parse_user(const char *name, const struct kp_zk_entity_config *cfg,
		      struct scram_user *u)
{
	const struct kp_zk_entity_config c = *cfg;
	char err[512];
	int found = 0;

	memset(u, 0, sizeof(*u));
	for (int m = KP_SCRAM_SHA_256; m <= KP_SCRAM_SHA_512; m++) {
		const char *v = kp_zk_config_get(&c, kp_scram_mech_name(m));

		if (v == NULL)
			continue;
		if (kp_scram_cred_parse(m, v, &u->cred[m], err, sizeof(err)) < 0) {
			KP_WARN("/config/users/%s: %s: %s (ignored)", name,
				kp_scram_mech_name(m), err);
			continue;
		}
		u->has[m] = true;
		found = 1;
	}
	return found;
}

static int read_user(struct broker *b, const char *name, struct scram_user *u)
{
	struct kp_zk_entity_config c;
	char err[512];
	int rc;

	memset(u, 0, sizeof(*u));
	if (zk_admin_read_config(b->zk, "users", name, &c, err, sizeof(err)) < 0) {
		KP_WARN("%s", err);
		return -1;
	}
	rc = parse_user(name, &c, u);
	kp_zk_config_free(&c);
	return rc;
}

int scram_users_load_all(struct broker *b)
{
	struct scram_users *s = b->scram;
	struct kp_zk_result res;
	struct scram_user *v = NULL, *old;
	size_t n = 0, nold;
	int rc = kp_zk_children_sync(b->zk, "/config/users", &res);

	if (rc == KP_ZK_NONODE) {
		res.nchildren = 0;
	} else if (rc != KP_ZK_OK) {
		KP_WARN("listing /config/users: %s", kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return -1;
	}
	if (res.nchildren > 0 && (v = calloc((size_t)res.nchildren, sizeof(*v))) == NULL) {
		kp_zk_result_free(&res);
		return -1;
	}
	for (int32_t i = 0; i < res.nchildren; i++) {
		if (read_user(b, res.children[i], &v[n]) <= 0)
			continue;
		v[n].name = strdup(res.children[i]);
		if (v[n].name == NULL) {
			user_free(&v[n]);
			continue;
		}
		n++;
	}
	kp_zk_result_free(&res);
	pthread_mutex_lock(&s->lock);
	old = s->v;
	nold = s->n;
	s->v = v;
	s->n = n;
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < nold; i++)
		user_free(&old[i]);
	free(old);
	KP_INFO("%zu SCRAM user%s loaded from /config/users", n, n == 1 ? "" : "s");
	return 0;
}

static void install(struct broker *b, const char *name, struct scram_user u, int rc);

void scram_users_reload(struct broker *b, const char *name)
{
	struct scram_user u;
	int rc = read_user(b, name, &u);

	if (rc >= 0)
		install(b, name, u, rc);
}

void scram_users_apply(struct broker *b, const char *name,
		       const struct kp_zk_entity_config *c)
{
	struct scram_user u;
	/* parsed first: the order a call evaluates its arguments in is
	 * unspecified (clang copied u before parse_user filled it) */
	int rc = parse_user(name, c, &u);

	install(b, name, u, rc);
}

/* u (rc 1) or no credentials (rc 0) for name from now on. */
static void install(struct broker *b, const char *name, struct scram_user u, int rc)
{
	struct scram_users *s = b->scram;
	struct scram_user gone;
	size_t i;

	memset(&gone, 0, sizeof(gone));
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			break;
	if (rc == 0) {
		if (i < s->n) {
			gone = s->v[i];
			s->v[i] = s->v[--s->n];
		}
	} else if (i < s->n) {
		/* the old entry's keys go, its name stays */
		u.name = s->v[i].name;
		memcpy(gone.cred, s->v[i].cred, sizeof(gone.cred));
		s->v[i] = u;
	} else {
		struct scram_user *nv = realloc(s->v, (s->n + 1) * sizeof(*nv));

		u.name = strdup(name);
		if (nv == NULL || u.name == NULL) {
			if (nv != NULL)
				s->v = nv;
			pthread_mutex_unlock(&s->lock);
			KP_ERROR("out of memory loading SCRAM user %s", name);
			user_free(&u);
			return;
		}
		s->v = nv;
		s->v[s->n++] = u;
	}
	pthread_mutex_unlock(&s->lock);
	user_free(&gone);
	KP_INFO("SCRAM credentials of user %s %s", name, rc == 0 ? "removed" : "loaded");
}

int scram_users_lookup(void *arg, int mech, const char *user, struct kp_scram_cred *out)
{
	struct broker *b = arg;
	struct scram_users *s = b->scram;
	int rc = -1;

	if (s == NULL || mech < KP_SCRAM_SHA_256 || mech > KP_SCRAM_SHA_512)
		return -1;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, user) == 0) {
			if (s->v[i].has[mech]) {
				*out = s->v[i].cred[mech];
				rc = 0;
			}
			break;
		}
	pthread_mutex_unlock(&s->lock);
	return rc;
}
