/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_authz.h - kcontroller's authorizer: the same module as the brokers'
 * (kp_acl.h, libkproto) with the same keys (authorizer.class.name,
 * super.users, allow.everyone.if.no.acl.found), the ACLs loaded from
 * ZooKeeper at start and after a new session, and reloaded resource by
 * resource from the change notifications (the watches fire on the main
 * loop, which reads the few nodes named there: the listener serves a
 * handful of brokers and admin requests).
 *
 * Every request of the controller's listener is about the cluster:
 * ControlledShutdown and AlterIsr need ClusterAction, ElectLeaders and
 * AlterPartitionReassignments Alter, ListPartitionReassignments Describe;
 * a denial is CLUSTER_AUTHORIZATION_FAILED (controller.c).  The principal
 * is the listener connection's ("User:ANONYMOUS" until it authenticates),
 * the host its peer address.
 */
#ifndef CTL_AUTHZ_H
#define CTL_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct controller;
struct ctl_request;

/* From the configuration.  0, or -1 with a message. */
int ctl_authz_init(struct controller *c, char *err, size_t errlen);
/* Load every ACL and watch the changes (main thread, ZooKeeper up). */
int ctl_authz_start(struct controller *c, char *err, size_t errlen);
void ctl_authz_destroy(struct controller *c);
/* Any thread, after a new ZooKeeper session: reload and watch again on
 * the main loop. */
void ctl_authz_restart(struct controller *c);
/* Whether r may run: true without an authorizer. */
bool ctl_authz_allows(struct controller *c, const struct ctl_request *r);

#endif /* CTL_AUTHZ_H */
