/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_authz.c - kcontroller's authorizer; see ctl_authz.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_authz.h"
#include "ctl_ctx.h"
#include "ctl_event.h"
#include "kp_acl.h"
#include "kp_config.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_msgs.h"
#include "kp_zk.h"

struct ctl_authz;

/* A change directory's watch: literal (0) or extended (1). */
struct ctl_acl_watch {
	struct ctl_authz *z;
	bool extended;
};

struct ctl_authz {
	struct kp_authz a;
	int64_t last_seq[2];
	struct controller *c;
	struct ctl_acl_watch w[2];
};

int ctl_authz_init(struct controller *c, char *err, size_t errlen)
{
	const char *cls = kp_config_str(&c->cfg, "authorizer.class.name");
	int k = kp_authz_class(cls);
	struct ctl_authz *z;

	if (k < 0) {
		snprintf(err, errlen, "authorizer.class.name: %s is not an authorizer "
			 "kcontroller has (kafka.security.authorizer.AclAuthorizer, "
			 "kafka.security.auth.SimpleAclAuthorizer or acl)", cls);
		return -1;
	}
	if (k == 0)
		return 0;
	z = calloc(1, sizeof(*z));
	if (z == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (kp_authz_init(&z->a, kp_config_str(&c->cfg, "super.users"),
			  kp_config_bool(&c->cfg, "allow.everyone.if.no.acl.found"), err,
			  errlen) < 0) {
		free(z);
		return -1;
	}
	z->c = c;
	z->w[0] = (struct ctl_acl_watch){ z, false };
	z->w[1] = (struct ctl_acl_watch){ z, true };
	z->last_seq[0] = z->last_seq[1] = -1;
	c->authz = z;
	return 0;
}

void ctl_authz_destroy(struct controller *c)
{
	if (c->authz == NULL)
		return;
	kp_authz_destroy(&c->authz->a);
	free(c->authz);
	c->authz = NULL;
}

static void on_change(enum kp_zk_event ev, const char *path, void *arg)
{
	struct ctl_acl_watch *w = arg;
	struct ctl_authz *z = w->z;

	(void)ev;
	(void)path;
	if (z->c->stopping)
		return;
	kp_acl_zk_changes(z->c->zk, z->a.store, w->extended, &z->last_seq[w->extended],
			  on_change, w);
}

int ctl_authz_start(struct controller *c, char *err, size_t errlen)
{
	struct ctl_authz *z = c->authz;
	int rc;

	if (z == NULL)
		return 0;
	rc = kp_acl_zk_ensure(c->zk);
	if (rc != KP_ZK_OK) {
		snprintf(err, errlen, "creating the ACL paths: %s", kp_zk_strerror(rc));
		return -1;
	}
	if (kp_acl_zk_load(c->zk, z->a.store, err, errlen) < 0)
		return -1;
	for (int i = 0; i < 2; i++)
		if (kp_acl_zk_changes(c->zk, z->a.store, i == 1, &z->last_seq[i], on_change,
				      &z->w[i]) < 0) {
			snprintf(err, errlen, "watching the ACL change notifications");
			return -1;
		}
	KP_INFO("authorizer: %zu ACLs loaded; %zu super users",
		kp_acl_store_count(z->a.store), z->a.nsuper);
	return 0;
}

static void restart_on_loop(void *arg)
{
	struct controller *c = arg;
	char err[256];

	if (!c->stopping && ctl_authz_start(c, err, sizeof(err)) < 0)
		KP_WARN("authorizer after a new ZooKeeper session: %s", err);
}

void ctl_authz_restart(struct controller *c)
{
	if (c->authz != NULL && kp_loop_post(c->loop, restart_on_loop, c) < 0)
		KP_WARN("authorizer: cannot reload the ACLs after a new session");
}

bool ctl_authz_allows(struct controller *c, const struct ctl_request *r)
{
	char p[KP_ACL_PRINCIPAL_MAX];
	int op;

	if (c->authz == NULL)
		return true;
	switch (r->api_key) {
	case KP_API_CONTROLLED_SHUTDOWN:
	case KP_API_ALTER_ISR:
		op = KP_ACL_OP_CLUSTER_ACTION;
		break;
	case KP_API_LIST_PARTITION_REASSIGNMENTS:
		op = KP_ACL_OP_DESCRIBE;
		break;
	default:
		op = KP_ACL_OP_ALTER;
		break;
	}
	kp_acl_principal(r->principal, p, sizeof(p));
	return kp_authz_check(&c->authz->a, p, r->host, op, KP_ACL_RT_CLUSTER,
			      KP_ACL_CLUSTER_NAME, true);
}
