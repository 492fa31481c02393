/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller_config.c - every kcontroller configuration key, once.
 *
 * In Kafka 2.8 the controller runs inside a broker and reads the broker's
 * keys; kcontroller is a daemon of its own, so it takes the subset of those
 * keys that steer the controller (same names, same defaults) plus its own
 * identity, controller.id, which must not collide with any broker.id
 * (/controller's "brokerid" holds it).  Keys it takes but does not act on
 * carry KP_CFG_INERT, as in the broker's table; the broker's other keys
 * load without a warning too (main.c passes the broker's table along) and
 * are named as not acted on.
 */
#include "config.h"

#include <stdint.h>

#include "controller_config.h"

#define L64 INT64_MAX
#define I32 INT32_MAX

const struct kp_config_def controller_config_defs[] = {
	{ "controller.id", KP_CFG_INT, NULL, 0, I32, NULL,
	  "Unique id of this controller (required); must differ from every broker.id", "Controller" },
	{ "listeners", KP_CFG_STRING, "PLAINTEXT://:9093", 0, 0, NULL,
	  "Where brokers reach this controller (ControlledShutdown): NAME://host:port; an empty host is every interface", "Controller" },
	{ "metrics.listener", KP_CFG_STRING, NULL, 0, 0, NULL,
	  "Prometheus metrics at http://HOST:PORT/metrics (skald's own key, not Kafka's); unset serves none", "Controller" },
	{ "zookeeper.connect", KP_CFG_STRING, NULL, 0, 0, NULL,
	  "ZooKeeper connection string host:port[,host:port...][/chroot] (required)", "ZooKeeper" },
	{ "zookeeper.session.timeout.ms", KP_CFG_INT, "18000", 1, I32, NULL,
	  "ZooKeeper session timeout", "ZooKeeper" },
	{ "zookeeper.connection.timeout.ms", KP_CFG_INT, NULL, 1, I32, NULL,
	  "Longest wait for the ZooKeeper connection at start; defaults to the session timeout", "ZooKeeper" },
	{ "zookeeper.set.acl", KP_CFG_BOOL, "false", 0, 0, NULL,
	  "Create znodes with Kafka's secure ACLs (needs zookeeper.digest.username)", "ZooKeeper" },
	{ "zookeeper.digest.username", KP_CFG_STRING, NULL, 0, 0, NULL,
	  "ZooKeeper identity, digest scheme (skald's own key, not Kafka's); with zookeeper.digest.password", "ZooKeeper" },
	{ "zookeeper.digest.password", KP_CFG_PASSWORD, NULL, 0, 0, NULL,
	  "Password of zookeeper.digest.username (skald's own key, not Kafka's)", "ZooKeeper" },
	{ "zookeeper.max.in.flight.requests", KP_CFG_INT, "10", 1, I32, NULL,
	  "Unacknowledged ZooKeeper requests allowed at once", "ZooKeeper",
	  KP_CFG_INERT, KP_DYN_READ_ONLY, NULL },
	{ "inter.broker.listener.name", KP_CFG_STRING, NULL, 0, 0, NULL,
	  "Listener of the brokers the controller connects to; defaults to the one for security.inter.broker.protocol", "Controller" },
	{ "security.inter.broker.protocol", KP_CFG_STRING, "PLAINTEXT", 0, 0,
	  "PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL",
	  "Security protocol towards brokers", "Controller" },
	{ "listener.security.protocol.map", KP_CFG_STRING,
	  "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", 0, 0, NULL,
	  "Security protocol of each listener name (this controller's and the brokers' inter-broker one), NAME:PROTOCOL comma-separated", "Security" },
	{ "sasl.enabled.mechanisms", KP_CFG_LIST, "GSSAPI", 0, 0, NULL,
	  "SASL mechanisms offered on a SASL listener: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", "Security" },
	{ "sasl.mechanism.inter.broker.protocol", KP_CFG_STRING, "GSSAPI", 0, 0, NULL,
	  "SASL mechanism of the controller's connections to brokers", "Security" },
	{ "connections.max.reauth.ms", KP_CFG_LONG, "0", 0, L64, NULL,
	  "Longest a SASL session lives before it must re-authenticate (KIP-368); a SaslHandshake renews it, any other request after it closes the connection; per listener and mechanism: listener.name.LISTENER.MECHANISM.connections.max.reauth.ms (lower case) comes first; 0 never", "Security" },
	{ "sasl.jaas.config", KP_CFG_PASSWORD, NULL, 0, 0, NULL,
	  "JAAS login configuration: PlainLoginModule users of the listener, the username and password of the connections to brokers", "Security" },
	{ "ssl.protocol", KP_CFG_STRING, "TLSv1.3", 0, 0, NULL,
	  "TLS protocol of the SSL context: TLSv1.3, TLSv1.2 or TLS; ssl.enabled.protocols decides", "Security" },
	{ "ssl.enabled.protocols", KP_CFG_LIST, "TLSv1.2,TLSv1.3", 0, 0, NULL,
	  "TLS protocols enabled: TLSv1.2 and TLSv1.3", "Security" },
	{ "ssl.cipher.suites", KP_CFG_LIST, "", 0, 0, NULL,
	  "Cipher suites enabled, by their IANA names; empty: OpenSSL's defaults", "Security" },
	{ "ssl.keystore.type", KP_CFG_STRING, "JKS", 0, 0, NULL,
	  "Type of the keystore: PKCS12 or PEM (JKS is refused)", "Security" },
	{ "ssl.keystore.location", KP_CFG_STRING, NULL, 0, 0, NULL,
	  "Keystore holding the controller's certificate", "Security" },
	{ "ssl.keystore.password", KP_CFG_PASSWORD, NULL, 0, 0, NULL,
	  "Password of the keystore", "Security" },
	{ "ssl.key.password", KP_CFG_PASSWORD, NULL, 0, 0, NULL,
	  "Password of the private key", "Security" },
	{ "ssl.keystore.key", KP_CFG_PASSWORD, NULL, 0, 0, NULL,
	  "Private key in PEM, instead of a keystore file", "Security" },
	{ "ssl.keystore.certificate.chain", KP_CFG_PASSWORD, NULL, 0, 0, NULL,
	  "Certificate chain in PEM, instead of a keystore file", "Security" },
	{ "ssl.truststore.type", KP_CFG_STRING, "JKS", 0, 0, NULL,
	  "Type of the truststore: PKCS12 or PEM (JKS is refused)", "Security" },
	{ "ssl.truststore.location", KP_CFG_STRING, NULL, 0, 0, NULL,
	  "Truststore of trusted certificates", "Security" },
	{ "ssl.truststore.password", KP_CFG_PASSWORD, NULL, 0, 0, NULL,
	  "Password of the truststore", "Security" },
	{ "ssl.truststore.certificates", KP_CFG_PASSWORD, NULL, 0, 0, NULL,
	  "Trusted certificates in PEM, instead of a truststore file", "Security" },
	{ "ssl.endpoint.identification.algorithm", KP_CFG_STRING, "https", 0, 0, NULL,
	  "Host name verification of the brokers' certificates; empty disables it", "Security" },
	{ "ssl.client.auth", KP_CFG_STRING, "none", 0, 0, "required|requested|none",
	  "Whether TLS clients (brokers) must present a certificate", "Security" },
	{ "ssl.principal.mapping.rules", KP_CFG_STRING, "DEFAULT", 0, 0, NULL,
	  "Rules mapping a TLS client certificate's subject to a name; checked at start, the controller authorizes SASL users only", "Security" },
	{ "controller.socket.timeout.ms", KP_CFG_INT, "30000", 1, I32, NULL,
	  "Connect and request timeout of controller-to-broker requests", "Controller" },
	{ "delete.topic.enable", KP_CFG_BOOL, "true", 0, 0, NULL,
	  "Carry out topic deletions; when false they are left pending", "Controller" },
	{ "unclean.leader.election.enable", KP_CFG_BOOL, "false", 0, 0, NULL,
	  "Elect an out-of-sync replica when no in-sync one is alive (topic override)", "Controller" },
	{ "auto.leader.rebalance.enable", KP_CFG_BOOL, "true", 0, 0, NULL,
	  "Move leadership back to preferred replicas", "Controller" },
	{ "leader.imbalance.per.broker.percentage", KP_CFG_INT, "10", 0, 100, NULL,
	  "Share of a broker's partitions led by others that triggers a rebalance", "Controller" },
	{ "leader.imbalance.check.interval.seconds", KP_CFG_LONG, "300", 1, L64, NULL,
	  "How often leader imbalance is checked", "Controller" },
	{ "authorizer.class.name", KP_CFG_STRING, "", 0, 0, NULL,
	  "Authorizer of the controller's listener, with the brokers' ACLs in ZooKeeper "
	  "(kafka.security.authorizer.AclAuthorizer, or acl); empty allows everything",
	  "Controller" },
	{ "super.users", KP_CFG_STRING, "", 0, 0, NULL,
	  "Principals the authorizer allows everything, e.g. User:admin;User:broker",
	  "Controller" },
	{ "allow.everyone.if.no.acl.found", KP_CFG_BOOL, "false", 0, 0, NULL,
	  "Allow the cluster to everyone when it has no ACL at all", "Controller" },
};

const size_t controller_config_ndefs =
	sizeof(controller_config_defs) / sizeof(controller_config_defs[0]);
