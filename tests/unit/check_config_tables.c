/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_config_tables.c - kbroker's and kcontroller's configuration tables
 * are consistent and Kafka's: unique keys, every default valid by its own
 * rules, a doc line for every key, flags that make sense together, the
 * broker table holding exactly Kafka 2.8's broker keys with Kafka's types
 * and dynamic update modes, the topic table Kafka's LogConfig with broker
 * synonyms of the same type, and the Kafka defaults the rest of the system
 * relies on.
 *
 * The tables are also the truth the shipped files are held to:
 * etc/kbroker.properties and etc/kcontroller.properties load without an
 * error or an unknown key and name every key once (set, or commented out
 * with its default), the section 5 man pages give every key with its type
 * and default, and wherever a key is documented (those files, the man
 * pages, --help-config) the note of its flag (KP_CFG_INERT: not acted on;
 * KP_CFG_DYN_INERT: a dynamic update not acted on) is there exactly when
 * the flag is set: clearing a flag in the table fails this test until the
 * documentation stops saying the key is not acted on.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_config.h"
#include "controller_config.h"
#include "kp_topic_config.h"

static void check_table(const struct kp_config_def *defs, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct kp_config_def *d = &defs[i];
		size_t dl;
		char err[256];

		ck_assert_ptr_nonnull(d->doc);
		ck_assert_ptr_nonnull(d->group);
		dl = strlen(d->doc);
		/* notes come from the flags, never from the line itself */
		ck_assert_msg(dl > 0 && d->doc[dl - 1] != '.', "doc of %s ends with '.'",
			      d->key);
		ck_assert_msg(strstr(d->doc, "acted on") == NULL &&
			      strstr(d->doc, "not used") == NULL,
			      "doc of %s says what its flag says", d->key);
		ck_assert_msg(!((d->flags & KP_CFG_INERT) && (d->flags & KP_CFG_DYN_INERT)),
			      "%s: not acted on at all and not dynamically", d->key);
		ck_assert_msg(!(d->flags & KP_CFG_DYN_INERT) || d->dyn != KP_DYN_READ_ONLY,
			      "%s: a read-only key has no dynamic update", d->key);
		ck_assert_msg(!(d->flags & KP_CFG_INTERNAL) || (d->flags & KP_CFG_INERT),
			      "%s: internal keys are not acted on", d->key);
		for (j = i + 1; j < n; j++)
			ck_assert_msg(strcmp(d->key, defs[j].key) != 0,
				      "%s listed twice", d->key);
		if (d->def != NULL)
			ck_assert_msg(kp_config_validate(d, d->def, err, sizeof(err)) == 0,
				      "default of %s: %s", d->key, err);
	}
}

START_TEST(tables_are_consistent)
{
	check_table(broker_config_defs, broker_config_ndefs);
	check_table(broker_dynamic_defs, broker_dynamic_ndefs);
	check_table(controller_config_defs, controller_config_ndefs);
	for (size_t i = 0; i < kp_topic_nconfigs; i++)
		check_table(&kp_topic_configs[i].def, 1);
	for (size_t i = 0; i < broker_dynamic_ndefs; i++)
		ck_assert(broker_dynamic_defs[i].dyn != KP_DYN_READ_ONLY);
}
END_TEST

/* Every key of Kafka 2.8.2's KafkaConfig, with its type. */
static const struct {
	const char *key;
	enum kp_config_type type;
} kafka_keys[] = {
	{ "advertised.host.name", KP_CFG_STRING },
	{ "advertised.listeners", KP_CFG_STRING },
	{ "advertised.port", KP_CFG_INT },
	{ "alter.config.policy.class.name", KP_CFG_CLASS },
	{ "alter.log.dirs.replication.quota.window.num", KP_CFG_INT },
	{ "alter.log.dirs.replication.quota.window.size.seconds", KP_CFG_INT },
	{ "authorizer.class.name", KP_CFG_STRING },
	{ "auto.create.topics.enable", KP_CFG_BOOL },
	{ "auto.leader.rebalance.enable", KP_CFG_BOOL },
	{ "background.threads", KP_CFG_INT },
	{ "broker.heartbeat.interval.ms", KP_CFG_INT },
	{ "broker.id", KP_CFG_INT },
	{ "broker.id.generation.enable", KP_CFG_BOOL },
	{ "broker.rack", KP_CFG_STRING },
	{ "broker.session.timeout.ms", KP_CFG_INT },
	{ "client.quota.callback.class", KP_CFG_CLASS },
	{ "compression.type", KP_CFG_STRING },
	{ "connection.failed.authentication.delay.ms", KP_CFG_INT },
	{ "connections.max.idle.ms", KP_CFG_LONG },
	{ "connections.max.reauth.ms", KP_CFG_LONG },
	{ "control.plane.listener.name", KP_CFG_STRING },
	{ "controlled.shutdown.enable", KP_CFG_BOOL },
	{ "controlled.shutdown.max.retries", KP_CFG_INT },
	{ "controlled.shutdown.retry.backoff.ms", KP_CFG_LONG },
	{ "controller.listener.names", KP_CFG_STRING },
	{ "controller.quorum.append.linger.ms", KP_CFG_INT },
	{ "controller.quorum.election.backoff.max.ms", KP_CFG_INT },
	{ "controller.quorum.election.timeout.ms", KP_CFG_INT },
	{ "controller.quorum.fetch.timeout.ms", KP_CFG_INT },
	{ "controller.quorum.request.timeout.ms", KP_CFG_INT },
	{ "controller.quorum.retry.backoff.ms", KP_CFG_INT },
	{ "controller.quorum.voters", KP_CFG_LIST },
	{ "controller.quota.window.num", KP_CFG_INT },
	{ "controller.quota.window.size.seconds", KP_CFG_INT },
	{ "controller.socket.timeout.ms", KP_CFG_INT },
	{ "create.topic.policy.class.name", KP_CFG_CLASS },
	{ "default.replication.factor", KP_CFG_INT },
	{ "delegation.token.expiry.check.interval.ms", KP_CFG_LONG },
	{ "delegation.token.expiry.time.ms", KP_CFG_LONG },
	{ "delegation.token.master.key", KP_CFG_PASSWORD },
	{ "delegation.token.max.lifetime.ms", KP_CFG_LONG },
	{ "delegation.token.secret.key", KP_CFG_PASSWORD },
	{ "delete.records.purgatory.purge.interval.requests", KP_CFG_INT },
	{ "delete.topic.enable", KP_CFG_BOOL },
	{ "fetch.max.bytes", KP_CFG_INT },
	{ "fetch.purgatory.purge.interval.requests", KP_CFG_INT },
	{ "group.initial.rebalance.delay.ms", KP_CFG_INT },
	{ "group.max.session.timeout.ms", KP_CFG_INT },
	{ "group.max.size", KP_CFG_INT },
	{ "group.min.session.timeout.ms", KP_CFG_INT },
	{ "host.name", KP_CFG_STRING },
	{ "initial.broker.registration.timeout.ms", KP_CFG_INT },
	{ "inter.broker.listener.name", KP_CFG_STRING },
	{ "inter.broker.protocol.version", KP_CFG_STRING },
	{ "kafka.metrics.polling.interval.secs", KP_CFG_INT },
	{ "kafka.metrics.reporters", KP_CFG_LIST },
	{ "leader.imbalance.check.interval.seconds", KP_CFG_LONG },
	{ "leader.imbalance.per.broker.percentage", KP_CFG_INT },
	{ "listener.security.protocol.map", KP_CFG_STRING },
	{ "listeners", KP_CFG_STRING },
	{ "log.cleaner.backoff.ms", KP_CFG_LONG },
	{ "log.cleaner.dedupe.buffer.size", KP_CFG_LONG },
	{ "log.cleaner.delete.retention.ms", KP_CFG_LONG },
	{ "log.cleaner.enable", KP_CFG_BOOL },
	{ "log.cleaner.io.buffer.load.factor", KP_CFG_DOUBLE },
	{ "log.cleaner.io.buffer.size", KP_CFG_INT },
	{ "log.cleaner.io.max.bytes.per.second", KP_CFG_DOUBLE },
	{ "log.cleaner.max.compaction.lag.ms", KP_CFG_LONG },
	{ "log.cleaner.min.cleanable.ratio", KP_CFG_DOUBLE },
	{ "log.cleaner.min.compaction.lag.ms", KP_CFG_LONG },
	{ "log.cleaner.threads", KP_CFG_INT },
	{ "log.cleanup.policy", KP_CFG_LIST },
	{ "log.dir", KP_CFG_STRING },
	{ "log.dirs", KP_CFG_STRING },
	{ "log.flush.interval.messages", KP_CFG_LONG },
	{ "log.flush.interval.ms", KP_CFG_LONG },
	{ "log.flush.offset.checkpoint.interval.ms", KP_CFG_INT },
	{ "log.flush.scheduler.interval.ms", KP_CFG_LONG },
	{ "log.flush.start.offset.checkpoint.interval.ms", KP_CFG_INT },
	{ "log.index.interval.bytes", KP_CFG_INT },
	{ "log.index.size.max.bytes", KP_CFG_INT },
	{ "log.message.downconversion.enable", KP_CFG_BOOL },
	{ "log.message.format.version", KP_CFG_STRING },
	{ "log.message.timestamp.difference.max.ms", KP_CFG_LONG },
	{ "log.message.timestamp.type", KP_CFG_STRING },
	{ "log.preallocate", KP_CFG_BOOL },
	{ "log.retention.bytes", KP_CFG_LONG },
	{ "log.retention.check.interval.ms", KP_CFG_LONG },
	{ "log.retention.hours", KP_CFG_INT },
	{ "log.retention.minutes", KP_CFG_INT },
	{ "log.retention.ms", KP_CFG_LONG },
	{ "log.roll.hours", KP_CFG_INT },
	{ "log.roll.jitter.hours", KP_CFG_INT },
	{ "log.roll.jitter.ms", KP_CFG_LONG },
	{ "log.roll.ms", KP_CFG_LONG },
	{ "log.segment.bytes", KP_CFG_INT },
	{ "log.segment.delete.delay.ms", KP_CFG_LONG },
	{ "max.connection.creation.rate", KP_CFG_INT },
	{ "max.connections", KP_CFG_INT },
	{ "max.connections.per.ip", KP_CFG_INT },
	{ "max.connections.per.ip.overrides", KP_CFG_STRING },
	{ "max.incremental.fetch.session.cache.slots", KP_CFG_INT },
	{ "message.max.bytes", KP_CFG_INT },
	{ "metadata.log.dir", KP_CFG_STRING },
	{ "metric.reporters", KP_CFG_LIST },
	{ "metrics.num.samples", KP_CFG_INT },
	{ "metrics.recording.level", KP_CFG_STRING },
	{ "metrics.sample.window.ms", KP_CFG_LONG },
	{ "min.insync.replicas", KP_CFG_INT },
	{ "node.id", KP_CFG_INT },
	{ "num.io.threads", KP_CFG_INT },
	{ "num.network.threads", KP_CFG_INT },
	{ "num.partitions", KP_CFG_INT },
	{ "num.recovery.threads.per.data.dir", KP_CFG_INT },
	{ "num.replica.alter.log.dirs.threads", KP_CFG_INT },
	{ "num.replica.fetchers", KP_CFG_INT },
	{ "offset.metadata.max.bytes", KP_CFG_INT },
	{ "offsets.commit.required.acks", KP_CFG_SHORT },
	{ "offsets.commit.timeout.ms", KP_CFG_INT },
	{ "offsets.load.buffer.size", KP_CFG_INT },
	{ "offsets.retention.check.interval.ms", KP_CFG_LONG },
	{ "offsets.retention.minutes", KP_CFG_INT },
	{ "offsets.topic.compression.codec", KP_CFG_INT },
	{ "offsets.topic.num.partitions", KP_CFG_INT },
	{ "offsets.topic.replication.factor", KP_CFG_SHORT },
	{ "offsets.topic.segment.bytes", KP_CFG_INT },
	{ "password.encoder.cipher.algorithm", KP_CFG_STRING },
	{ "password.encoder.iterations", KP_CFG_INT },
	{ "password.encoder.key.length", KP_CFG_INT },
	{ "password.encoder.keyfactory.algorithm", KP_CFG_STRING },
	{ "password.encoder.old.secret", KP_CFG_PASSWORD },
	{ "password.encoder.secret", KP_CFG_PASSWORD },
	{ "port", KP_CFG_INT },
	{ "principal.builder.class", KP_CFG_CLASS },
	{ "process.roles", KP_CFG_LIST },
	{ "producer.purgatory.purge.interval.requests", KP_CFG_INT },
	{ "queued.max.request.bytes", KP_CFG_LONG },
	{ "queued.max.requests", KP_CFG_INT },
	{ "quota.consumer.default", KP_CFG_LONG },
	{ "quota.producer.default", KP_CFG_LONG },
	{ "quota.window.num", KP_CFG_INT },
	{ "quota.window.size.seconds", KP_CFG_INT },
	{ "replica.fetch.backoff.ms", KP_CFG_INT },
	{ "replica.fetch.max.bytes", KP_CFG_INT },
	{ "replica.fetch.min.bytes", KP_CFG_INT },
	{ "replica.fetch.response.max.bytes", KP_CFG_INT },
	{ "replica.fetch.wait.max.ms", KP_CFG_INT },
	{ "replica.high.watermark.checkpoint.interval.ms", KP_CFG_LONG },
	{ "replica.lag.time.max.ms", KP_CFG_LONG },
	{ "replica.selector.class", KP_CFG_STRING },
	{ "replica.socket.receive.buffer.bytes", KP_CFG_INT },
	{ "replica.socket.timeout.ms", KP_CFG_INT },
	{ "replication.quota.window.num", KP_CFG_INT },
	{ "replication.quota.window.size.seconds", KP_CFG_INT },
	{ "request.timeout.ms", KP_CFG_INT },
	{ "reserved.broker.max.id", KP_CFG_INT },
	{ "sasl.client.callback.handler.class", KP_CFG_CLASS },
	{ "sasl.enabled.mechanisms", KP_CFG_LIST },
	{ "sasl.jaas.config", KP_CFG_PASSWORD },
	{ "sasl.kerberos.kinit.cmd", KP_CFG_STRING },
	{ "sasl.kerberos.min.time.before.relogin", KP_CFG_LONG },
	{ "sasl.kerberos.principal.to.local.rules", KP_CFG_LIST },
	{ "sasl.kerberos.service.name", KP_CFG_STRING },
	{ "sasl.kerberos.ticket.renew.jitter", KP_CFG_DOUBLE },
	{ "sasl.kerberos.ticket.renew.window.factor", KP_CFG_DOUBLE },
	{ "sasl.login.callback.handler.class", KP_CFG_CLASS },
	{ "sasl.login.class", KP_CFG_CLASS },
	{ "sasl.login.refresh.buffer.seconds", KP_CFG_SHORT },
	{ "sasl.login.refresh.min.period.seconds", KP_CFG_SHORT },
	{ "sasl.login.refresh.window.factor", KP_CFG_DOUBLE },
	{ "sasl.login.refresh.window.jitter", KP_CFG_DOUBLE },
	{ "sasl.mechanism.controller.protocol", KP_CFG_STRING },
	{ "sasl.mechanism.inter.broker.protocol", KP_CFG_STRING },
	{ "sasl.server.callback.handler.class", KP_CFG_CLASS },
	{ "sasl.server.max.receive.size", KP_CFG_INT },
	{ "security.inter.broker.protocol", KP_CFG_STRING },
	{ "security.providers", KP_CFG_STRING },
	{ "socket.connection.setup.timeout.max.ms", KP_CFG_LONG },
	{ "socket.connection.setup.timeout.ms", KP_CFG_LONG },
	{ "socket.receive.buffer.bytes", KP_CFG_INT },
	{ "socket.request.max.bytes", KP_CFG_INT },
	{ "socket.send.buffer.bytes", KP_CFG_INT },
	{ "ssl.cipher.suites", KP_CFG_LIST },
	{ "ssl.client.auth", KP_CFG_STRING },
	{ "ssl.enabled.protocols", KP_CFG_LIST },
	{ "ssl.endpoint.identification.algorithm", KP_CFG_STRING },
	{ "ssl.engine.factory.class", KP_CFG_CLASS },
	{ "ssl.key.password", KP_CFG_PASSWORD },
	{ "ssl.keymanager.algorithm", KP_CFG_STRING },
	{ "ssl.keystore.certificate.chain", KP_CFG_PASSWORD },
	{ "ssl.keystore.key", KP_CFG_PASSWORD },
	{ "ssl.keystore.location", KP_CFG_STRING },
	{ "ssl.keystore.password", KP_CFG_PASSWORD },
	{ "ssl.keystore.type", KP_CFG_STRING },
	{ "ssl.principal.mapping.rules", KP_CFG_STRING },
	{ "ssl.protocol", KP_CFG_STRING },
	{ "ssl.provider", KP_CFG_STRING },
	{ "ssl.secure.random.implementation", KP_CFG_STRING },
	{ "ssl.trustmanager.algorithm", KP_CFG_STRING },
	{ "ssl.truststore.certificates", KP_CFG_PASSWORD },
	{ "ssl.truststore.location", KP_CFG_STRING },
	{ "ssl.truststore.password", KP_CFG_PASSWORD },
	{ "ssl.truststore.type", KP_CFG_STRING },
	{ "transaction.abort.timed.out.transaction.cleanup.interval.ms", KP_CFG_INT },
	{ "transaction.max.timeout.ms", KP_CFG_INT },
	{ "transaction.remove.expired.transaction.cleanup.interval.ms", KP_CFG_INT },
	{ "transaction.state.log.load.buffer.size", KP_CFG_INT },
	{ "transaction.state.log.min.isr", KP_CFG_INT },
	{ "transaction.state.log.num.partitions", KP_CFG_INT },
	{ "transaction.state.log.replication.factor", KP_CFG_SHORT },
	{ "transaction.state.log.segment.bytes", KP_CFG_INT },
	{ "transactional.id.expiration.ms", KP_CFG_INT },
	{ "unclean.leader.election.enable", KP_CFG_BOOL },
	{ "zookeeper.clientCnxnSocket", KP_CFG_STRING },
	{ "zookeeper.connect", KP_CFG_STRING },
	{ "zookeeper.connection.timeout.ms", KP_CFG_INT },
	{ "zookeeper.max.in.flight.requests", KP_CFG_INT },
	{ "zookeeper.session.timeout.ms", KP_CFG_INT },
	{ "zookeeper.set.acl", KP_CFG_BOOL },
	{ "zookeeper.ssl.cipher.suites", KP_CFG_LIST },
	{ "zookeeper.ssl.client.enable", KP_CFG_BOOL },
	{ "zookeeper.ssl.crl.enable", KP_CFG_BOOL },
	{ "zookeeper.ssl.enabled.protocols", KP_CFG_LIST },
	{ "zookeeper.ssl.endpoint.identification.algorithm", KP_CFG_STRING },
	{ "zookeeper.ssl.keystore.location", KP_CFG_STRING },
	{ "zookeeper.ssl.keystore.password", KP_CFG_PASSWORD },
	{ "zookeeper.ssl.keystore.type", KP_CFG_STRING },
	{ "zookeeper.ssl.ocsp.enable", KP_CFG_BOOL },
	{ "zookeeper.ssl.protocol", KP_CFG_STRING },
	{ "zookeeper.ssl.truststore.location", KP_CFG_STRING },
	{ "zookeeper.ssl.truststore.password", KP_CFG_PASSWORD },
	{ "zookeeper.ssl.truststore.type", KP_CFG_STRING },
	{ "zookeeper.sync.time.ms", KP_CFG_INT },
};

/* Keys of ours that Kafka 2.8 does not have. */
/* ours, and AclAuthorizer's keys, which Kafka reads from the broker's
 * properties but not through KafkaConfig */
static const char *const own_keys[] = { "socket.listen.backlog.size", "metrics.listener",
					 "zookeeper.digest.username", "zookeeper.digest.password",
					 "super.users", "allow.everyone.if.no.acl.found",
					 "leader.epoch.checkpoint.interval.ms" };

static const struct kp_config_def *find_def(const struct kp_config_def *defs,
					    size_t n, const char *key)
{
	return kp_config_find(defs, n, key);
}

START_TEST(broker_table_is_kafkas_key_list)
{
	size_t nk = sizeof(kafka_keys) / sizeof(kafka_keys[0]);

	ck_assert_uint_eq(nk, 233);
	for (size_t i = 0; i < nk; i++) {
		const struct kp_config_def *d = find_def(broker_config_defs,
							 broker_config_ndefs,
							 kafka_keys[i].key);

		ck_assert_msg(d != NULL, "Kafka's %s is missing", kafka_keys[i].key);
		ck_assert_msg(d->type == kafka_keys[i].type, "%s is a %s, Kafka's a %s",
			      d->key, kp_config_type_name(d->type),
			      kp_config_type_name(kafka_keys[i].type));
	}
	for (size_t i = 0; i < broker_config_ndefs; i++) {
		bool found = false;

		for (size_t k = 0; k < nk && !found; k++)
			found = strcmp(kafka_keys[k].key, broker_config_defs[i].key) == 0;
		for (size_t k = 0; k < sizeof(own_keys) / sizeof(own_keys[0]) && !found; k++)
			found = strcmp(own_keys[k], broker_config_defs[i].key) == 0;
		ck_assert_msg(found, "%s is neither Kafka's nor ours",
			      broker_config_defs[i].key);
	}
}
END_TEST

/*
 * Kafka 2.8's DynamicBrokerConfig.AllDynamicConfigs with the update mode
 * (PerBrokerConfigs: the SSL stores per listener only), and
 * DynamicConfig.Broker's dynamic-only keys.
 */
static const struct {
	const char *key;
	enum kp_config_dyn dyn;
} kafka_dynamic[] = {
	{ "ssl.keystore.type", KP_DYN_LISTENER }, { "ssl.keystore.location", KP_DYN_LISTENER },
	{ "ssl.keystore.password", KP_DYN_LISTENER }, { "ssl.key.password", KP_DYN_LISTENER },
	{ "ssl.truststore.type", KP_DYN_LISTENER }, { "ssl.truststore.location", KP_DYN_LISTENER },
	{ "ssl.truststore.password", KP_DYN_LISTENER },
	{ "ssl.keystore.certificate.chain", KP_DYN_LISTENER },
	{ "ssl.keystore.key", KP_DYN_LISTENER }, { "ssl.truststore.certificates", KP_DYN_LISTENER },
	{ "log.cleaner.threads", KP_DYN_CLUSTER }, { "log.cleaner.dedupe.buffer.size", KP_DYN_CLUSTER },
	{ "log.cleaner.io.buffer.load.factor", KP_DYN_CLUSTER },
	{ "log.cleaner.io.buffer.size", KP_DYN_CLUSTER }, { "message.max.bytes", KP_DYN_CLUSTER },
	{ "log.cleaner.io.max.bytes.per.second", KP_DYN_CLUSTER },
	{ "log.cleaner.backoff.ms", KP_DYN_CLUSTER },
	{ "log.segment.bytes", KP_DYN_CLUSTER }, { "log.roll.ms", KP_DYN_CLUSTER },
	{ "log.roll.jitter.ms", KP_DYN_CLUSTER }, { "log.index.size.max.bytes", KP_DYN_CLUSTER },
	{ "log.flush.interval.messages", KP_DYN_CLUSTER }, { "log.flush.interval.ms", KP_DYN_CLUSTER },
	{ "log.retention.bytes", KP_DYN_CLUSTER }, { "log.retention.ms", KP_DYN_CLUSTER },
	{ "log.index.interval.bytes", KP_DYN_CLUSTER },
	{ "log.cleaner.delete.retention.ms", KP_DYN_CLUSTER },
	{ "log.cleaner.min.compaction.lag.ms", KP_DYN_CLUSTER },
	{ "log.cleaner.max.compaction.lag.ms", KP_DYN_CLUSTER },
	{ "log.segment.delete.delay.ms", KP_DYN_CLUSTER },
	{ "log.cleaner.min.cleanable.ratio", KP_DYN_CLUSTER }, { "log.cleanup.policy", KP_DYN_CLUSTER },
	{ "unclean.leader.election.enable", KP_DYN_CLUSTER }, { "min.insync.replicas", KP_DYN_CLUSTER },
	{ "compression.type", KP_DYN_CLUSTER }, { "log.preallocate", KP_DYN_CLUSTER },
	{ "log.message.timestamp.type", KP_DYN_CLUSTER },
	{ "log.message.timestamp.difference.max.ms", KP_DYN_CLUSTER },
	{ "log.message.downconversion.enable", KP_DYN_CLUSTER },
	{ "num.io.threads", KP_DYN_CLUSTER }, { "num.network.threads", KP_DYN_CLUSTER },
	{ "num.replica.fetchers", KP_DYN_CLUSTER },
	{ "num.recovery.threads.per.data.dir", KP_DYN_CLUSTER },
	{ "background.threads", KP_DYN_CLUSTER }, { "metric.reporters", KP_DYN_CLUSTER },
	{ "advertised.listeners", KP_DYN_PER_BROKER }, { "listeners", KP_DYN_PER_BROKER },
	{ "listener.security.protocol.map", KP_DYN_PER_BROKER },
	{ "principal.builder.class", KP_DYN_PER_BROKER }, { "ssl.protocol", KP_DYN_PER_BROKER },
	{ "ssl.provider", KP_DYN_PER_BROKER }, { "ssl.cipher.suites", KP_DYN_PER_BROKER },
	{ "ssl.enabled.protocols", KP_DYN_PER_BROKER },
	{ "ssl.keymanager.algorithm", KP_DYN_PER_BROKER },
	{ "ssl.trustmanager.algorithm", KP_DYN_PER_BROKER },
	{ "ssl.endpoint.identification.algorithm", KP_DYN_PER_BROKER },
	{ "ssl.secure.random.implementation", KP_DYN_PER_BROKER },
	{ "ssl.client.auth", KP_DYN_PER_BROKER }, { "ssl.engine.factory.class", KP_DYN_PER_BROKER },
	{ "sasl.mechanism.inter.broker.protocol", KP_DYN_PER_BROKER },
	{ "sasl.jaas.config", KP_DYN_PER_BROKER }, { "sasl.enabled.mechanisms", KP_DYN_PER_BROKER },
	{ "sasl.kerberos.service.name", KP_DYN_PER_BROKER },
	{ "sasl.kerberos.kinit.cmd", KP_DYN_PER_BROKER },
	{ "sasl.kerberos.ticket.renew.window.factor", KP_DYN_PER_BROKER },
	{ "sasl.kerberos.ticket.renew.jitter", KP_DYN_PER_BROKER },
	{ "sasl.kerberos.min.time.before.relogin", KP_DYN_PER_BROKER },
	{ "sasl.kerberos.principal.to.local.rules", KP_DYN_PER_BROKER },
	{ "sasl.login.refresh.window.factor", KP_DYN_PER_BROKER },
	{ "sasl.login.refresh.window.jitter", KP_DYN_PER_BROKER },
	{ "sasl.login.refresh.min.period.seconds", KP_DYN_PER_BROKER },
	{ "sasl.login.refresh.buffer.seconds", KP_DYN_PER_BROKER },
	{ "max.connections", KP_DYN_CLUSTER }, { "max.connection.creation.rate", KP_DYN_CLUSTER },
	{ "max.connections.per.ip", KP_DYN_CLUSTER },
	{ "max.connections.per.ip.overrides", KP_DYN_CLUSTER },
};

START_TEST(dynamic_modes_are_kafkas)
{
	size_t nd = sizeof(kafka_dynamic) / sizeof(kafka_dynamic[0]);

	for (size_t i = 0; i < broker_config_ndefs; i++) {
		const struct kp_config_def *d = &broker_config_defs[i];
		enum kp_config_dyn want = KP_DYN_READ_ONLY;

		for (size_t k = 0; k < nd; k++)
			if (strcmp(kafka_dynamic[k].key, d->key) == 0)
				want = kafka_dynamic[k].dyn;
		ck_assert_msg(d->dyn == want, "%s is %s, in Kafka %s", d->key,
			      kp_config_dyn_name(d->dyn), kp_config_dyn_name(want));
	}
	for (size_t k = 0; k < nd; k++)
		ck_assert_msg(find_def(broker_config_defs, broker_config_ndefs,
				       kafka_dynamic[k].key) != NULL, "%s",
			      kafka_dynamic[k].key);
	ck_assert_uint_eq(broker_dynamic_ndefs, 3);
	ck_assert_ptr_nonnull(find_def(broker_dynamic_defs, broker_dynamic_ndefs,
				       "leader.replication.throttled.rate"));
	ck_assert_ptr_nonnull(find_def(broker_dynamic_defs, broker_dynamic_ndefs,
				       "follower.replication.throttled.rate"));
	ck_assert_ptr_nonnull(find_def(broker_dynamic_defs, broker_dynamic_ndefs,
				       "replica.alter.log.dirs.io.max.bytes.per.second"));
}
END_TEST

/* Kafka 2.8's LogConfig keys; each synonym is a broker key of its type. */
START_TEST(topic_table_is_logconfig)
{
	static const char *const keys[] = {
		"segment.bytes", "segment.ms", "segment.jitter.ms", "segment.index.bytes",
		"flush.messages", "flush.ms", "retention.bytes", "retention.ms",
		"max.message.bytes", "index.interval.bytes", "delete.retention.ms",
		"min.compaction.lag.ms", "max.compaction.lag.ms", "file.delete.delay.ms",
		"min.cleanable.dirty.ratio", "cleanup.policy",
		"unclean.leader.election.enable", "min.insync.replicas", "compression.type",
		"preallocate", "message.format.version", "message.timestamp.type",
		"message.timestamp.difference.max.ms", "leader.replication.throttled.replicas",
		"follower.replication.throttled.replicas", "message.downconversion.enable",
	};
	char err[256];

	ck_assert_uint_eq(kp_topic_nconfigs, sizeof(keys) / sizeof(keys[0]));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(kp_topic_config_find(keys[i]) != NULL, "%s", keys[i]);
	for (size_t i = 0; i < kp_topic_nconfigs; i++) {
		const struct kp_topic_config *t = &kp_topic_configs[i];
		const struct kp_config_def *b;

		if (t->broker_key == NULL)
			continue;
		b = find_def(broker_config_defs, broker_config_ndefs, t->broker_key);
		ck_assert_msg(b != NULL, "%s: no broker key %s", t->def.key, t->broker_key);
		ck_assert_msg(b->type == t->def.type, "%s and %s differ in type",
			      t->def.key, b->key);
		/* Kafka's DynamicLogConfig: every synonym but the format version */
		ck_assert_msg(b->dyn == (strcmp(b->key, "log.message.format.version") == 0
					 ? KP_DYN_READ_ONLY : KP_DYN_CLUSTER), "%s", b->key);
	}
	/* Kafka's validation */
	ck_assert_int_eq(kp_topic_config_validate("min.cleanable.dirty.ratio", "1.5",
						  err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Invalid value 1.5 for configuration "
			 "min.cleanable.dirty.ratio: Value must be no more than 1");
	ck_assert_int_eq(kp_topic_config_validate("cleanup.policy", "compact, delete",
						  err, sizeof(err)), 0);
	ck_assert_int_eq(kp_topic_config_validate("cleanup.policy", "delete,shred",
						  err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Invalid value shred for configuration cleanup.policy: "
			 "String must be one of: compact, delete");
	ck_assert_int_eq(kp_topic_config_validate("message.format.version", "2.8",
						  err, sizeof(err)), 0);
	ck_assert_int_eq(kp_topic_config_validate("message.format.version", "0.10.2.1",
						  err, sizeof(err)), 0);
	ck_assert_int_eq(kp_topic_config_validate("message.format.version", "2.1-IV2",
						  err, sizeof(err)), 0);
	ck_assert_int_eq(kp_topic_config_validate("message.format.version", "3.0",
						  err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Invalid value 3.0 for configuration message.format.version: "
			 "Version `3.0` is not a valid version");
	ck_assert_int_eq(kp_topic_config_validate("compression.type", "brotli",
						  err, sizeof(err)), -1);
	ck_assert_int_eq(kp_topic_config_validate("no.such.key", "1", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Unknown topic config name: no.such.key");
	/* keys not acted on are still validated as Kafka does */
	ck_assert(kp_topic_config_find("preallocate")->def.flags & KP_CFG_INERT);
	ck_assert_int_eq(kp_topic_config_validate("preallocate", "maybe", err,
						  sizeof(err)), -1);
}
END_TEST

START_TEST(broker_defaults_are_kafkas)
{
	struct kp_props p;
	struct kp_config c;
	char err[256];

	kp_props_init(&p);
	kp_props_set(&p, "zookeeper.connect", "127.0.0.1:2181", 1);
	ck_assert_int_eq(kp_config_build(&c, broker_config_defs, broker_config_ndefs,
					 &p, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(kp_config_int(&c, "socket.request.max.bytes"), 104857600);
	ck_assert_int_eq(kp_config_int(&c, "message.max.bytes"), 1048588);
	ck_assert_int_eq(kp_config_int(&c, "log.segment.bytes"), 1073741824);
	ck_assert_int_eq(kp_config_int(&c, "zookeeper.session.timeout.ms"), 18000);
	ck_assert_int_eq(kp_config_int(&c, "offsets.topic.num.partitions"), 50);
	ck_assert_int_eq(kp_config_int(&c, "offsets.topic.replication.factor"), 3);
	ck_assert(kp_config_long(&c, "replica.lag.time.max.ms") == 30000);
	ck_assert(!kp_config_bool(&c, "unclean.leader.election.enable"));
	ck_assert_str_eq(kp_config_str(&c, "listeners"), "PLAINTEXT://:9092");
	ck_assert_str_eq(kp_config_str(&c, "log.message.format.version"), "2.8-IV1");
	ck_assert_str_eq(kp_config_str(&c, "inter.broker.protocol.version"), "2.8-IV1");
	ck_assert_int_eq(kp_config_int(&c, "transaction.state.log.min.isr"), 2);
	ck_assert_int_eq(kp_config_int(&c, "transaction.max.timeout.ms"), 900000);
	ck_assert(kp_config_long(&c, "sasl.kerberos.min.time.before.relogin") == 60000);
	ck_assert_int_eq(kp_config_int(&c, "fetch.max.bytes"), 57671680);
	ck_assert_str_eq(kp_config_str(&c, "ssl.client.auth"), "none");
	ck_assert(kp_config_double(&c, "log.cleaner.io.max.bytes.per.second") > 1e308);
	kp_config_free(&c);
	kp_props_free(&p);
}
END_TEST

/* ------------------------------------------- the shipped files */

/*
 * Keys the daemons take that are not in the tables: kp_config_from_args()
 * applies log.level itself.  The files and man pages may mention them.
 */
static bool extra_key(const char *key)
{
	return strcmp(key, "log.level") == 0;
}

/* $top_srcdir/rel, read whole and NUL-terminated. */
static char *read_src(const char *rel)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	FILE *f;
	char *buf;
	long len;

	snprintf(path, sizeof(path), "%s/%s", top != NULL ? top : ".", rel);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert_int_ge(len, 0);
	rewind(f);
	buf = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = 0;
	fclose(f);
	return buf;
}

/*
 * What documents key d (its comment block, its man entry, its help lines,
 * joined into one line) says its flag's note exactly when d has the flag,
 * and says nothing else is "not acted on" when it has none.
 */
static void check_notes(const char *where, const struct kp_config_def *d,
			const char *text)
{
	bool inert = (d->flags & KP_CFG_INERT) != 0;
	bool dyn = (d->flags & KP_CFG_DYN_INERT) != 0;

	ck_assert_msg((strstr(text, KP_CFG_INERT_NOTE) != NULL) == inert,
		      "%s: %s %s say it is not acted on", where, d->key,
		      inert ? "does not" : "must not");
	ck_assert_msg((strstr(text, KP_CFG_DYN_INERT_NOTE) != NULL) == dyn,
		      "%s: %s %s say a dynamic update is not acted on", where, d->key,
		      dyn ? "does not" : "must not");
	if (!inert && !dyn)
		ck_assert_msg(strstr(text, "not acted on") == NULL &&
			      strstr(text, "not used") == NULL,
			      "%s: %s is acted on, but its text says otherwise: %s",
			      where, d->key, text);
}

/* Append s to a growing line of text, joined by one space. */
static void join(char **acc, size_t *len, const char *s)
{
	size_t sl = strlen(s);
	char *n = realloc(*acc, *len + sl + 2);

	ck_assert_ptr_nonnull(n);
	if (*len > 0)
		n[(*len)++] = ' ';
	memcpy(n + *len, s, sl + 1);
	*len += sl;
	*acc = n;
}

static int unknown_keys;

static void count_unknown(const char *key, void *arg)
{
	(void)arg;
	fprintf(stderr, "unknown key %s\n", key);
	unknown_keys++;
}

/*
 * The file as shipped loads (what the daemon does at start, minus the
 * command line), sets the required keys, and names every table key
 * exactly once: "key=value" set, or "#key=value" commented out, where
 * the value is the default (or an example, for a key without one) and
 * is valid, so uncommenting a line never breaks the start.  The comment
 * block above a key (its "# " lines since the last blank line) carries
 * its flag's note.
 */
static void check_shipped(const char *rel, const struct kp_config_def *defs,
			  size_t n, const char *const *required)
{
	char *text = read_src(rel), *line, *save = NULL;
	int *seen = calloc(n, sizeof(*seen));
	struct kp_props props;
	struct kp_config c;
	char err[512], *block = NULL;
	size_t blen = 0;

	ck_assert_ptr_nonnull(seen);
	kp_props_init(&props);
	ck_assert_msg(kp_props_parse(&props, text, strlen(text), err, sizeof(err)) == 0,
		      "%s: %s", rel, err);
	unknown_keys = 0;
	ck_assert_msg(kp_config_build(&c, defs, n, &props, count_unknown, NULL,
				      err, sizeof(err)) == 0, "%s: %s", rel, err);
	ck_assert_msg(unknown_keys == 0, "%s sets %d unknown key(s)", rel,
		      unknown_keys);
	for (const char *const *r = required; *r != NULL; r++)
		ck_assert_msg(kp_config_is_set(&c, *r), "%s does not set %s", rel, *r);
	kp_config_free(&c);
	kp_props_free(&props);

	/* strtok_r would skip the blank lines that end comment blocks */
	for (line = text; line != NULL && *line != 0; line = save) {
		bool commented = line[0] == '#';
		char *key = commented ? line + 1 : line, *eq;
		const struct kp_config_def *d;

		save = strchr(line, '\n');
		if (save != NULL)
			*save++ = 0;
		if (line[0] == 0) {
			blen = 0;
			continue;
		}
		if (strncmp(line, "# ", 2) == 0) {
			join(&block, &blen, line + 2);
			continue;
		}
		/* prose comments have a space after '#'; settings do not */
		if (!islower((unsigned char)key[0]) || (eq = strchr(key, '=')) == NULL)
			continue;
		*eq = 0;
		d = find_def(defs, n, key);
		if (d == NULL) {
			ck_assert_msg(extra_key(key), "%s names unknown key %s", rel, key);
			blen = 0;
			continue;
		}
		seen[d - defs]++;
		check_notes(rel, d, blen > 0 ? block : "");
		blen = 0;
		if (!commented)
			continue;
		if (d->def != NULL)
			ck_assert_msg(strcmp(eq + 1, d->def) == 0,
				      "%s: #%s=%s, but the default is %s", rel, key,
				      eq + 1, d->def);
		ck_assert_msg(kp_config_validate(d, eq + 1, err, sizeof(err)) == 0,
			      "%s: #%s: %s", rel, key, err);
	}
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(seen[i] == 1, "%s names %s %d times, not once", rel,
			      defs[i].key, seen[i]);
	free(block);
	free(seen);
	free(text);
}

START_TEST(shipped_broker_properties)
{
	static const char *const required[] = {
		"broker.id", "listeners", "log.dirs", "zookeeper.connect", NULL
	};

	check_shipped("etc/kbroker.properties", broker_config_defs,
		      broker_config_ndefs, required);
}
END_TEST

START_TEST(shipped_controller_properties)
{
	static const char *const required[] = {
		"controller.id", "listeners", "zookeeper.connect", NULL
	};

	check_shipped("etc/kcontroller.properties", controller_config_defs,
		      controller_config_ndefs, required);
}
END_TEST

/* Drop roff's escaped minus ("\-"), the only escape a key entry needs. */
static void unescape_minus(char *s)
{
	char *w = s;

	for (; *s; s++)
		if (!(s[0] == '\\' && s[1] == '-'))
			*w++ = *s;
	*w = 0;
}

/*
 * Every key has its entry in the section 5 page, in the one form the
 * page uses for them:
 *	.TP
 *	.BR key " (type, default value)"    or    " (type, no default)"
 * (an empty default is written "empty") and every such entry is a key the daemon takes.  The entry's text (up
 * to the next .TP, .SS or .SH) carries its flag's note.
 */
static void check_man5(const char *rel, const struct kp_config_def *defs,
		       size_t n)
{
	char *text = read_src(rel), *line, *save = NULL;
	int *seen = calloc(n, sizeof(*seen));
	bool after_tp = false;
	const struct kp_config_def *cur = NULL;
	char *body = NULL;
	size_t blen = 0;

	ck_assert_ptr_nonnull(seen);
	for (line = strtok_r(text, "\n", &save); ; line = strtok_r(NULL, "\n", &save)) {
		const struct kp_config_def *d;
		char key[128], want[1024], *rest;
		size_t klen;

		if (line == NULL || strcmp(line, ".TP") == 0 ||
		    strncmp(line, ".SS", 3) == 0 || strncmp(line, ".SH", 3) == 0) {
			if (cur != NULL)
				check_notes(rel, cur, blen > 0 ? body : "");
			cur = NULL;
			blen = 0;
			if (line == NULL)
				break;
			after_tp = strcmp(line, ".TP") == 0;
			continue;
		}
		if (!after_tp) {
			if (cur != NULL) {
				unescape_minus(line);
				join(&body, &blen, line);
			}
			continue;
		}
		after_tp = false;
		if (strncmp(line, ".BR ", 4) != 0 || !islower((unsigned char)line[4]))
			continue;
		klen = strcspn(line + 4, " ");
		ck_assert_uint_lt(klen, sizeof(key));
		memcpy(key, line + 4, klen);
		key[klen] = 0;
		rest = line + 4 + klen;
		unescape_minus(rest);
		d = find_def(defs, n, key);
		if (d == NULL) {
			ck_assert_msg(extra_key(key), "%s documents unknown key %s", rel, key);
			continue;
		}
		seen[d - defs]++;
		cur = d;
		if (d->def != NULL)
			snprintf(want, sizeof(want), " \" (%s, default %s)\"",
				 kp_config_type_name(d->type), d->def[0] ? d->def : "empty");
		else
			snprintf(want, sizeof(want), " \" (%s, no default)\"",
				 kp_config_type_name(d->type));
		ck_assert_msg(strcmp(rest, want) == 0, "%s: %s has '%s', want '%s'",
			      rel, key, rest, want);
	}
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(seen[i] == 1, "%s documents %s %d times, not once", rel,
			      defs[i].key, seen[i]);
	free(body);
	free(seen);
	free(text);
}

START_TEST(broker_man_page_has_every_key)
{
	check_man5("man/man5/kbroker.properties.5", broker_config_defs,
		   broker_config_ndefs);
}
END_TEST

START_TEST(controller_man_page_has_every_key)
{
	check_man5("man/man5/kcontroller.properties.5", controller_config_defs,
		   controller_config_ndefs);
}
END_TEST

/* --help-config: each key's lines carry its note. */
static void check_help(const struct kp_config_def *defs, size_t n)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	kp_config_print_help(f, defs, n);
	ck_assert_int_eq(fclose(f), 0);
	for (size_t i = 0; i < n; i++) {
		char head[256], *p, *end, save;

		snprintf(head, sizeof(head), "\n  %s (", defs[i].key);
		p = strstr(out, head);
		ck_assert_msg(p != NULL, "--help-config lacks %s", defs[i].key);
		/* the key's lines end where the next key or group starts:
		 * a line not indented by six blanks */
		for (end = strchr(p + 1, '\n'); end != NULL; end = strchr(end + 1, '\n'))
			if (strncmp(end + 1, "      ", 6) != 0)
				break;
		if (end == NULL)
			end = out + len;
		save = *end;
		*end = 0;
		check_notes("--help-config", &defs[i], p);
		*end = save;
	}
	free(out);
}

START_TEST(help_config_says_what_is_not_acted_on)
{
	check_help(broker_config_defs, broker_config_ndefs);
	check_help(controller_config_defs, controller_config_ndefs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config_tables");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, tables_are_consistent);
	tcase_add_test(tc, broker_table_is_kafkas_key_list);
	tcase_add_test(tc, dynamic_modes_are_kafkas);
	tcase_add_test(tc, topic_table_is_logconfig);
	tcase_add_test(tc, broker_defaults_are_kafkas);
	tcase_add_test(tc, shipped_broker_properties);
	tcase_add_test(tc, shipped_controller_properties);
	tcase_add_test(tc, broker_man_page_has_every_key);
	tcase_add_test(tc, controller_man_page_has_every_key);
	tcase_add_test(tc, help_config_says_what_is_not_acted_on);
	suite_add_tcase(s, tc);
	return check_run(s);
}
