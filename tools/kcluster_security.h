/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kcluster_security.h - kcluster up --security sasl_ssl: a CA and the
 * daemons' certificate (the openssl command), SCRAM users in ZooKeeper,
 * ZooKeeper ACLs with a digest identity, the daemons' security keys and a
 * client properties file.
 */
#ifndef KCLUSTER_SECURITY_H
#define KCLUSTER_SECURITY_H

#include <stddef.h>

struct kp_props;
struct kp_zk;

/* The users kcluster makes (SCRAM-SHA-512) and ZooKeeper's identity. */
#define KCS_ZK_USER "skald"
#define KCS_MECH "SCRAM-SHA-512"

/*
 * Make DIR/tls (CA, certificate for 127.0.0.1 and localhost as a PEM
 * keystore) and choose the passwords, kept in state: the ZooKeeper
 * digest identity (zookeeper.set.acl, zookeeper.digest.*) and
 * sasl.<user>.password for broker, controller and admin.  0 or -1 (err).
 */
int kcs_prepare(const char *dir, struct kp_props *state, char *err, size_t errlen);
/* The brokers' security keys for listeners names[0..n) (all SASL_SSL;
 * names[0] the inter-broker one), appended to buf at *off. */
void kcs_broker_props(const char *dir, const struct kp_props *state,
		      char (*names)[64], int n, char *buf, size_t size, int *off);
/* The controllers' (towards the brokers' names[0] listener). */
void kcs_controller_props(const char *dir, const struct kp_props *state,
			  const char *listener, char *buf, size_t size, int *off);
/* The SCRAM credentials of broker, controller and admin in
 * /config/users (before the brokers start).  0 or -1 (err). */
int kcs_scram_users(struct kp_zk *zk, const struct kp_props *state, char *err,
		    size_t errlen);
/* DIR/client.properties for bootstrap, as admin: librdkafka's (kcat -F)
 * names, which Kafka's clients share.  0 or -1 (err). */
int kcs_client_props(const char *dir, const struct kp_props *state,
		     const char *bootstrap, char *path, size_t pathlen, char *err,
		     size_t errlen);

#endif /* KCLUSTER_SECURITY_H */
