/* SPDX-License-Identifier: Apache-2.0 */
/*
 * authz.h - kbroker's authorizer: authorizer.class.name, super.users and
 * allow.everyone.if.no.acl.found; the ACLs (kp_acl.h) loaded from
 * ZooKeeper at start and reloaded, resource by resource, when a change
 * notification appears (the watches' work runs on the ZooKeeper thread,
 * never on a network worker); and the checks handlers make.
 *
 * A check on the request path is a hash lookup under a read lock: no
 * ZooKeeper.  The principal is Kafka's "User:<name>" of the connection's
 * authenticated name (User:ANONYMOUS without one), the host its peer
 * address.  Without an authorizer every check allows.
 *
 * authz_precheck() is the table-driven part, called by the dispatcher
 * before a handler: the APIs whose whole request is about one resource
 * (the cluster's own APIs: ClusterAction on the cluster; the ACL,
 * reassignment, election and SCRAM APIs: Alter or Describe on the
 * cluster; the group APIs: Read or Describe on the group;
 * FindCoordinator: Describe on the group or transactional id;
 * InitProducerId: Write on the transactional id, or IdempotentWrite on
 * the cluster or Write on some topic; AddPartitionsToTxn, AddOffsetsToTxn
 * (and Read on its group) and EndTxn: Write on the transactional id) are
 * answered with Kafka's error there.  Per-topic checks live in the
 * handlers (authz_ok_str()).
 */
#ifndef AUTHZ_H
#define AUTHZ_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_acl.h"
#include "kp_proto.h"

struct broker;
struct net_req;

/* From the configuration, before threads start.  0, or -1 with a message
 * (an unknown authorizer class, a bad super.users). */
int authz_init(struct broker *b, char *err, size_t errlen);
/* Load every ACL and watch the change notifications (main thread, after
 * ZooKeeper is connected; again after a new session).  0 or -1. */
int authz_start(struct broker *b, char *err, size_t errlen);
void authz_destroy(struct broker *b);

/* Whether an authorizer is configured. */
bool authz_enabled(const struct broker *b);
/* The authorizer itself (NULL without one), for api_acl.c. */
struct kp_authz *authz_get(const struct broker *b);
/* Kafka's principal string of r's connection. */
void authz_principal(const struct net_req *r, char *out, size_t outlen);

/* Whether r's principal may do op on (rtype, name); true without an
 * authorizer.  A denial is logged (once a minute per triple). */
bool authz_ok(const struct net_req *r, int op, int rtype, const char *name);
bool authz_ok_str(const struct net_req *r, int op, int rtype, kp_str name);
bool authz_cluster(const struct net_req *r, int op);
/* Without logging a denial (Kafka's logIfDenied = false). */
bool authz_ok_quiet(const struct net_req *r, int op, int rtype, kp_str name);
/* authorizeByResourceType (KIP-679). */
bool authz_any(const struct net_req *r, int op, int rtype);

/* KIP-430: the bit set (1 << AclOperation code) of the operations r's
 * principal may do on (rtype, name) among those Kafka supports for the
 * type; all of them without an authorizer (kp_authz_operations). */
int32_t authz_operations(const struct net_req *r, int rtype, kp_str name);
/* The cluster's, for Metadata v8-10 and DescribeCluster: 0 unless the
 * principal may Describe the cluster (Kafka 2.8). */
int32_t authz_cluster_operations(const struct net_req *r);

/* The dispatcher's check before r's handler: false when r was answered
 * (denied). */
bool authz_precheck(struct net_req *r);

#endif /* AUTHZ_H */
