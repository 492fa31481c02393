/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker_config.c - every kbroker configuration key, once.
 *
 * The table below is the broker's configuration: every key of Kafka 2.8's
 * broker (kafka.server.KafkaConfig), with its type, Kafka's default and
 * Kafka's validation (bounds, allowed values), Kafka's dynamic update mode
 * (DynamicBrokerConfig: read-only, per-broker, cluster-wide), and a
 * one-line explanation of our own.  It drives parsing and validation
 * (kp_config), `kbroker --help-config`, DescribeConfigs and
 * AlterConfigs (api_config.c, config_layers.c), and check_config_tables holds
 * etc/kbroker.properties and kbroker.properties(5) to it.
 *
 * A key this broker does not act on carries KP_CFG_INERT: a Kafka
 * configuration still loads without a warning (one info line names the
 * keys set), AlterConfigs accepts it where Kafka does, and every place
 * that documents the key says it is not acted on.  A key read at start
 * whose dynamic update Kafka applies but we do not carries
 * KP_CFG_DYN_INERT.  When a later change acts on a key, it clears the
 * flag; check_config_tables then wants the notes gone from the man page
 * and etc/ too.
 *
 * Where Kafka has no bound but this broker needs one to work (thread
 * counts, timeouts it arms), the table keeps the stricter bound.
 */
#include "config.h"

#include <stdint.h>

#include "broker_config.h"
#include "kp_topic_config.h"

#define L64 INT64_MAX
#define I32 INT32_MAX
#define I16 INT16_MAX

#define IN KP_CFG_INERT
#define DI KP_CFG_DYN_INERT
#define KRAFT (KP_CFG_INERT | KP_CFG_INTERNAL)
#define RO KP_DYN_READ_ONLY
#define CL KP_DYN_CLUSTER
#define PB KP_DYN_PER_BROKER
#define LI KP_DYN_LISTENER

#define K(key, type, def, min, max, valid, flags, dyn, doc) \
	{ key, type, def, min, max, valid, doc, G, flags, dyn, NULL }
#define KC(key, type, def, min, max, valid, flags, dyn, check, doc) \
	{ key, type, def, min, max, valid, doc, G, flags, dyn, check }

#define INT KP_CFG_INT
#define SHORT KP_CFG_SHORT
#define LONG KP_CFG_LONG
#define DOUBLE KP_CFG_DOUBLE
#define BOOL KP_CFG_BOOL
#define STRING KP_CFG_STRING
#define LIST KP_CFG_LIST
#define PASSWORD KP_CFG_PASSWORD
#define CLASS KP_CFG_CLASS

#define DBL_MAX_TEXT "1.7976931348623157E308"
#define L64_TEXT "9223372036854775807"
#define I32_TEXT "2147483647"

const struct kp_config_def broker_config_defs[] = {
#define G "Server"
	K("broker.id", INT, "-1", -1, I32, NULL, 0, RO,
	  "Unique id of this broker; -1 takes the id stored in meta.properties"),
	K("broker.id.generation.enable", BOOL, "true", 0, 0, NULL, IN, RO,
	  "Let ZooKeeper generate an id when broker.id is -1"),
	K("reserved.broker.max.id", INT, "1000", 0, I32, NULL, IN, RO,
	  "Highest broker.id an operator may choose; generated ids lie above it"),
	K("broker.rack", STRING, NULL, 0, 0, NULL, 0, RO,
	  "Rack of this broker, used by rack-aware replica assignment"),
	K("authorizer.class.name", STRING, "", 0, 0, NULL, 0, RO,
	  "Authorizer checking every request against ACLs in ZooKeeper "
	  "(kafka.security.authorizer.AclAuthorizer, or acl); empty allows everything"),
	K("super.users", STRING, "", 0, 0, NULL, 0, RO,
	  "Principals the authorizer allows everything, e.g. User:admin;User:broker"),
	K("allow.everyone.if.no.acl.found", BOOL, "false", 0, 0, NULL, 0, RO,
	  "Allow a resource that has no ACL at all to everyone"),
	K("create.topic.policy.class.name", CLASS, NULL, 0, 0, NULL, IN, RO,
	  "Policy that may refuse a CreateTopics request"),
	K("alter.config.policy.class.name", CLASS, NULL, 0, 0, NULL, IN, RO,
	  "Policy that may refuse an AlterConfigs request"),
#undef G

#define G "Socket server"
	K("listeners", STRING, "PLAINTEXT://:9092", 0, 0, NULL, DI, PB,
	  "Listeners as NAME://host:port, comma-separated; an empty host binds all interfaces"),
	K("advertised.listeners", STRING, NULL, 0, 0, NULL, DI, PB,
	  "Listeners published in ZooKeeper for clients; defaults to listeners"),
	K("listener.security.protocol.map", STRING,
	  "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", 0, 0,
	  NULL, 0, PB, "Security protocol of each listener name, NAME:PROTOCOL comma-separated"),
	K("control.plane.listener.name", STRING, NULL, 0, 0, NULL, IN, RO,
	  "Listener reserved for the controller's requests"),
	K("port", INT, "9092", 0, 0, NULL, IN, RO,
	  "Deprecated: port of the listener when listeners is not set"),
	K("host.name", STRING, "", 0, 0, NULL, IN, RO,
	  "Deprecated: host of the listener when listeners is not set"),
	K("advertised.host.name", STRING, NULL, 0, 0, NULL, IN, RO,
	  "Deprecated: host published when advertised.listeners is not set"),
	K("advertised.port", INT, NULL, 0, 0, NULL, IN, RO,
	  "Deprecated: port published when advertised.listeners is not set"),
	K("num.network.threads", INT, "3", 1, 1024, NULL, DI, CL,
	  "Network threads: event loops serving connections"),
	K("num.io.threads", INT, "8", 1, I32, NULL, IN, CL,
	  "Request handler threads in Kafka; requests are handled on the network threads"),
	K("background.threads", INT, "10", 1, I32, NULL, IN, CL,
	  "Threads for Kafka's background tasks"),
	K("queued.max.requests", INT, "500", 1, I32, NULL, 0, RO,
	  "Unanswered requests per connection before the broker stops reading it"),
	K("queued.max.request.bytes", LONG, "-1", 0, 0, NULL, IN, RO,
	  "Bytes of queued requests before no more are read; -1 no limit"),
	K("socket.send.buffer.bytes", INT, "102400", 0, 0, NULL, IN, RO,
	  "SO_SNDBUF of client sockets; -1 keeps the OS default"),
	K("socket.receive.buffer.bytes", INT, "102400", 0, 0, NULL, IN, RO,
	  "SO_RCVBUF of client sockets; -1 keeps the OS default"),
	K("socket.request.max.bytes", INT, "104857600", 1, I32, NULL, 0, RO,
	  "Largest request frame accepted; a larger one closes the connection"),
	K("socket.listen.backlog.size", INT, "50", 1, I32, NULL, 0, RO,
	  "listen() backlog (not a Kafka 2.8 key)"),
	K("metrics.listener", STRING, NULL, 0, 0, NULL, 0, RO,
	  "Prometheus metrics at http://HOST:PORT/metrics (skald's own key, not Kafka's); unset serves none"),
	K("max.connections", INT, I32_TEXT, 0, I32, NULL, DI, CL,
	  "Connections the broker accepts at once; at the limit it stops accepting until one closes"),
	K("max.connections.per.ip", INT, I32_TEXT, 0, I32, NULL, DI, CL,
	  "Connections accepted from one address; one more is closed at once"),
	K("max.connections.per.ip.overrides", STRING, "", 0, 0, NULL, IN, CL,
	  "Per-address exceptions to max.connections.per.ip, as host:count pairs"),
	K("max.connection.creation.rate", INT, I32_TEXT, 0, I32, NULL, IN, CL,
	  "New connections accepted per second"),
	K("connections.max.idle.ms", LONG, "600000", 0, 0, NULL, 0, RO,
	  "Connections with nothing read or written for this long (and no request waiting) are closed; 0 never"),
	K("connection.failed.authentication.delay.ms", INT, "100", 0, I32, NULL, 0, RO,
	  "Delay before closing a connection that failed to authenticate"),
	K("request.timeout.ms", INT, "30000", 0, 0, NULL, IN, RO,
	  "Timeout of the requests Kafka's broker sends itself"),
	K("socket.connection.setup.timeout.ms", LONG, "10000", 0, 0, NULL, IN, RO,
	  "First wait for an outgoing connection to be established"),
	K("socket.connection.setup.timeout.max.ms", LONG, "30000", 0, 0, NULL, IN, RO,
	  "Longest wait for an outgoing connection after repeated failures"),
	K("message.max.bytes", INT, "1048588", 0, I32, NULL, 0, CL,
	  "Largest record batch accepted (topic override max.message.bytes)"),
#undef G

#define G "Log"
	K("log.dirs", STRING, NULL, 0, 0, NULL, 0, RO,
	  "Directories holding the partition logs, comma-separated; defaults to log.dir"),
	K("log.dir", STRING, "/tmp/kafka-logs", 0, 0, NULL, 0, RO,
	  "Log directory used when log.dirs is not set"),
	K("num.recovery.threads.per.data.dir", INT, "1", 1, I32, NULL, DI, CL,
	  "Threads per log dir for recovery at start and flushing at stop"),
	K("num.partitions", INT, "1", 1, I32, NULL, 0, RO,
	  "Partitions of auto-created topics"),
	K("default.replication.factor", INT, "1", 1, I32, NULL, 0, RO,
	  "Replication factor of auto-created topics"),
	K("auto.create.topics.enable", BOOL, "true", 0, 0, NULL, 0, RO,
	  "Create a topic when Metadata asks for an unknown one"),
	K("delete.topic.enable", BOOL, "true", 0, 0, NULL, 0, RO,
	  "Allow DeleteTopics"),
	K("compression.type", STRING, "producer", 0, 0,
	  "uncompressed|zstd|lz4|snappy|gzip|producer", IN, CL,
	  "Codec of stored batches; producer keeps the producer's codec (topic: compression.type)"),
	K("log.segment.bytes", INT, "1073741824", 14, I32, NULL, 0, CL,
	  "Segment size before rolling (topic: segment.bytes)"),
	K("log.roll.ms", LONG, NULL, 1, L64, NULL, 0, CL,
	  "Segment age before rolling; overrides log.roll.hours (topic: segment.ms)"),
	K("log.roll.hours", INT, "168", 1, I32, NULL, 0, RO,
	  "Segment age before rolling, in hours"),
	K("log.roll.jitter.ms", LONG, NULL, 0, L64, NULL, 0, CL,
	  "Random jitter subtracted from the roll time; overrides log.roll.jitter.hours"),
	K("log.roll.jitter.hours", INT, "0", 0, I32, NULL, 0, RO,
	  "Roll jitter in hours"),
	K("log.index.size.max.bytes", INT, "10485760", 4, I32, NULL, 0, CL,
	  "Size of each segment's index files (topic: segment.index.bytes)"),
	K("log.index.interval.bytes", INT, "4096", 0, I32, NULL, 0, CL,
	  "Bytes between offset-index entries (topic: index.interval.bytes)"),
	K("log.preallocate", BOOL, "false", 0, 0, NULL, IN, CL,
	  "Preallocate segment files (topic: preallocate)"),
	K("log.message.timestamp.type", STRING, "CreateTime", 0, 0,
	  "CreateTime|LogAppendTime", 0, CL,
	  "Timestamp kept in batches (topic: message.timestamp.type)"),
	K("log.message.timestamp.difference.max.ms", LONG, L64_TEXT, 0, 0, NULL, 0, CL,
	  "Largest allowed distance of a CreateTime timestamp from the broker's clock (topic: message.timestamp.difference.max.ms)"),
	KC("log.message.format.version", STRING, "2.8-IV1", 0, 0, NULL, IN, RO,
	   kp_api_version_check,
	   "Message format version; record batch v2 is always written"),
	K("log.message.downconversion.enable", BOOL, "true", 0, 0, NULL, 0, CL,
	  "Down-convert batches for consumers of old fetch versions (topic: message.downconversion.enable)"),
	K("min.insync.replicas", INT, "1", 1, I32, NULL, 0, CL,
	  "In-sync replicas needed for an acks=all write (topic override)"),
#undef G

#define G "Log flush policy"
	K("log.flush.interval.messages", LONG, L64_TEXT, 1, L64, NULL, 0, CL,
	  "Messages appended before an fsync (topic: flush.messages)"),
	K("log.flush.interval.ms", LONG, NULL, 0, L64, NULL, 0, CL,
	  "Time a message may stay unflushed (topic: flush.ms); defaults to log.flush.scheduler.interval.ms"),
	K("log.flush.scheduler.interval.ms", LONG, L64_TEXT, 0, L64, NULL, 0, RO,
	  "How often logs are checked for a time-based flush"),
	K("log.flush.offset.checkpoint.interval.ms", INT, "60000", 0, I32, NULL, 0, RO,
	  "How often recovery points are checkpointed"),
	K("log.flush.start.offset.checkpoint.interval.ms", INT, "60000", 0, I32, NULL, 0, RO,
	  "How often log start offsets are checkpointed"),
	K("leader.epoch.checkpoint.interval.ms", INT, "1000", 1, I32, NULL, 0, RO,
	  "How often changed leader-epoch-checkpoint files are written, off the LeaderAndIsr path (skald's own key, not Kafka's); a flush writes them first anyway"),
#undef G

#define G "Log retention policy"
	K("log.retention.ms", LONG, NULL, -1, L64, NULL, 0, CL,
	  "Time to keep a segment; overrides .minutes and .hours; -1 keeps forever"),
	K("log.retention.minutes", INT, NULL, -1, I32, NULL, 0, RO,
	  "Retention in minutes; overrides log.retention.hours"),
	K("log.retention.hours", INT, "168", -1, I32, NULL, 0, RO,
	  "Retention in hours"),
	K("log.retention.bytes", LONG, "-1", 0, 0, NULL, 0, CL,
	  "Largest size of a partition before old segments go; negative: no limit"),
	K("log.retention.check.interval.ms", LONG, "300000", 1, L64, NULL, 0, RO,
	  "How often retention is checked"),
	K("log.segment.delete.delay.ms", LONG, "60000", 0, L64, NULL, 0, CL,
	  "Delay before a deleted segment's files are removed (topic: file.delete.delay.ms)"),
	K("log.cleanup.policy", LIST, "delete", 0, 0, "compact|delete", 0, CL,
	  "delete and/or compact (topic: cleanup.policy)"),
#undef G

#define G "Log cleaner"
	K("log.cleaner.enable", BOOL, "true", 0, 0, NULL, 0, RO,
	  "Run the log cleaner for compacted topics"),
	K("log.cleaner.threads", INT, "1", 0, I32, NULL, IN, CL,
	  "Log cleaner threads; one thread cleans here"),
	K("log.cleaner.min.cleanable.ratio", DOUBLE, "0.5", 0, 0, NULL, 0, CL,
	  "Dirty ratio above which a log is cleaned (topic: min.cleanable.dirty.ratio)"),
	K("log.cleaner.delete.retention.ms", LONG, "86400000", 0, L64, NULL, 0, CL,
	  "How long tombstones are kept (topic: delete.retention.ms)"),
	K("log.cleaner.min.compaction.lag.ms", LONG, "0", 0, L64, NULL, 0, CL,
	  "Minimum age before a record may be compacted"),
	K("log.cleaner.max.compaction.lag.ms", LONG, L64_TEXT, 1, L64, NULL, 0, CL,
	  "Maximum age before a record must be compacted"),
	K("log.cleaner.dedupe.buffer.size", LONG, "134217728", 0, L64, NULL, DI, CL,
	  "Memory for the cleaner's key map"),
	K("log.cleaner.backoff.ms", LONG, "15000", 0, L64, NULL, DI, CL,
	  "Cleaner sleep when there is nothing to clean"),
	K("log.cleaner.io.buffer.size", INT, "524288", 0, I32, NULL, IN, CL,
	  "Size of the cleaner's read and write buffers"),
	K("log.cleaner.io.buffer.load.factor", DOUBLE, "0.9", 0, 0, NULL, IN, CL,
	  "How full the cleaner's key map may get"),
	K("log.cleaner.io.max.bytes.per.second", DOUBLE, DBL_MAX_TEXT, 0, 0, NULL, IN, CL,
	  "Bytes per second the cleaner may read and write"),
#undef G

#define G "Replication"
	K("replica.lag.time.max.ms", LONG, "30000", 1, L64, NULL, 0, RO,
	  "A follower not caught up for this long leaves the ISR"),
	K("replica.fetch.max.bytes", INT, "1048576", 0, I32, NULL, 0, RO,
	  "Bytes per partition a follower asks for"),
	K("replica.fetch.min.bytes", INT, "1", 1, I32, NULL, 0, RO,
	  "Bytes a follower fetch waits for"),
	K("replica.fetch.wait.max.ms", INT, "500", 0, I32, NULL, 0, RO,
	  "Longest a follower fetch waits"),
	K("replica.fetch.response.max.bytes", INT, "10485760", 0, I32, NULL, 0, RO,
	  "Bytes per follower fetch response"),
	K("replica.fetch.backoff.ms", INT, "1000", 0, I32, NULL, 0, RO,
	  "Follower wait after a fetch error"),
	K("replica.socket.timeout.ms", INT, "30000", 1, I32, NULL, 0, RO,
	  "Follower socket timeout"),
	K("replica.socket.receive.buffer.bytes", INT, "65536", 0, 0, NULL, IN, RO,
	  "Receive buffer of follower sockets"),
	K("num.replica.fetchers", INT, "1", 1, 64, NULL, DI, CL,
	  "Fetcher threads, each with its own connection to every leader; a partition's is picked by its hash as Kafka does"),
	K("num.replica.alter.log.dirs.threads", INT, NULL, 0, 0, NULL, IN, RO,
	  "Threads moving replicas between log directories"),
	K("replica.high.watermark.checkpoint.interval.ms", LONG, "5000", 1, L64, NULL, 0, RO,
	  "How often high watermarks are checkpointed"),
	K("replica.selector.class", STRING, NULL, 0, 0,
	  "org.apache.kafka.common.replica.RackAwareReplicaSelector|RackAwareReplicaSelector",
	  0, RO,
	  "How a leader sends consumers to a replica in their rack (KIP-392); unset: always read from the leader"),
	K("fetch.purgatory.purge.interval.requests", INT, "1000", 0, 0, NULL, IN, RO,
	  "Purge interval of Kafka's fetch purgatory"),
	K("producer.purgatory.purge.interval.requests", INT, "1000", 0, 0, NULL, IN, RO,
	  "Purge interval of Kafka's produce purgatory"),
	K("delete.records.purgatory.purge.interval.requests", INT, "1", 0, 0, NULL, IN, RO,
	  "Purge interval of Kafka's delete-records purgatory"),
	K("fetch.max.bytes", INT, "57671680", 1024, I32, NULL, IN, RO,
	  "Most bytes the broker returns for one consumer fetch"),
	K("max.incremental.fetch.session.cache.slots", INT, "1000", 0, I32, NULL, 0, RO,
	  "Incremental fetch sessions kept (KIP-227) for followers and consumers; 0 turns sessions off"),
	K("security.inter.broker.protocol", STRING, "PLAINTEXT", 0, 0,
	  "PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL", 0, RO,
	  "Security protocol between brokers (the listener of that name)"),
	K("inter.broker.listener.name", STRING, NULL, 0, 0, NULL, 0, RO,
	  "Listener used between brokers, one of advertised.listeners; kcontroller's key of that name picks it"),
	KC("inter.broker.protocol.version", STRING, "2.8-IV1", 0, 0, NULL, 0, RO,
	   kp_api_version_check, "Protocol version brokers speak to each other; "
	   "from 2.7-IV2 on ISR changes go through the controller (AlterIsr)"),
	K("unclean.leader.election.enable", BOOL, "false", 0, 0, NULL, IN, CL,
	  "Allow an out-of-sync replica to become leader; kcontroller's key of that name decides"),
	K("auto.leader.rebalance.enable", BOOL, "true", 0, 0, NULL, IN, RO,
	  "Move leadership back to preferred replicas; a kcontroller key"),
	K("leader.imbalance.per.broker.percentage", INT, "10", 0, 0, NULL, IN, RO,
	  "Imbalance per broker that triggers a rebalance; a kcontroller key"),
	K("leader.imbalance.check.interval.seconds", LONG, "300", 0, 0, NULL, IN, RO,
	  "How often leader imbalance is checked; a kcontroller key"),
	K("controller.socket.timeout.ms", INT, "30000", 0, 0, NULL, IN, RO,
	  "Timeout of controller-to-broker requests; a kcontroller key"),
#undef G

#define G "Controlled shutdown"
	K("controlled.shutdown.enable", BOOL, "true", 0, 0, NULL, 0, RO,
	  "Move leadership away before stopping"),
	K("controlled.shutdown.max.retries", INT, "3", 0, I32, NULL, 0, RO,
	  "Attempts of a controlled shutdown"),
	K("controlled.shutdown.retry.backoff.ms", LONG, "5000", 0, L64, NULL, 0, RO,
	  "Wait between controlled shutdown attempts"),
#undef G

#define G "ZooKeeper"
	K("zookeeper.connect", STRING, NULL, 0, 0, NULL, 0, RO,
	  "ZooKeeper connection string host:port[,host:port...][/chroot] (required)"),
	K("zookeeper.session.timeout.ms", INT, "18000", 1, I32, NULL, 0, RO,
	  "ZooKeeper session timeout"),
	K("zookeeper.connection.timeout.ms", INT, NULL, 1, I32, NULL, 0, RO,
	  "Longest wait for the ZooKeeper connection at start; defaults to the session timeout"),
	K("zookeeper.sync.time.ms", INT, "2000", 0, 0, NULL, IN, RO,
	  "How far a ZooKeeper follower may lag its leader"),
	K("zookeeper.max.in.flight.requests", INT, "10", 1, I32, NULL, IN, RO,
	  "Unacknowledged ZooKeeper requests allowed at once"),
	K("zookeeper.set.acl", BOOL, "false", 0, 0, NULL, 0, RO,
	  "Create znodes with Kafka's secure ACLs (needs zookeeper.digest.username)"),
	K("zookeeper.digest.username", STRING, NULL, 0, 0, NULL, 0, RO,
	  "ZooKeeper identity, digest scheme (skald's own key, not Kafka's); with zookeeper.digest.password"),
	K("zookeeper.digest.password", PASSWORD, NULL, 0, 0, NULL, 0, RO,
	  "Password of zookeeper.digest.username (skald's own key, not Kafka's)"),
	K("zookeeper.ssl.client.enable", BOOL, "false", 0, 0, NULL, IN, RO,
	  "Connect to ZooKeeper over TLS"),
	K("zookeeper.clientCnxnSocket", STRING, NULL, 0, 0, NULL, IN, RO,
	  "ZooKeeper client socket class (Netty for TLS)"),
	K("zookeeper.ssl.keystore.location", STRING, NULL, 0, 0, NULL, IN, RO,
	  "Keystore of the ZooKeeper TLS client certificate"),
	K("zookeeper.ssl.keystore.password", PASSWORD, NULL, 0, 0, NULL, IN, RO,
	  "Password of that keystore"),
	K("zookeeper.ssl.keystore.type", STRING, NULL, 0, 0, NULL, IN, RO,
	  "Type of that keystore"),
	K("zookeeper.ssl.truststore.location", STRING, NULL, 0, 0, NULL, IN, RO,
	  "Truststore for ZooKeeper TLS"),
	K("zookeeper.ssl.truststore.password", PASSWORD, NULL, 0, 0, NULL, IN, RO,
	  "Password of that truststore"),
	K("zookeeper.ssl.truststore.type", STRING, NULL, 0, 0, NULL, IN, RO,
	  "Type of that truststore"),
	K("zookeeper.ssl.protocol", STRING, "TLSv1.2", 0, 0, NULL, IN, RO,
	  "TLS protocol towards ZooKeeper"),
	K("zookeeper.ssl.enabled.protocols", LIST, NULL, 0, 0, NULL, IN, RO,
	  "TLS protocols enabled towards ZooKeeper"),
	K("zookeeper.ssl.cipher.suites", LIST, NULL, 0, 0, NULL, IN, RO,
	  "Cipher suites enabled towards ZooKeeper"),
	K("zookeeper.ssl.endpoint.identification.algorithm", STRING, "HTTPS", 0, 0, NULL, IN, RO,
	  "Host name verification of ZooKeeper servers; empty disables it"),
	K("zookeeper.ssl.crl.enable", BOOL, "false", 0, 0, NULL, IN, RO,
	  "Check certificate revocation lists towards ZooKeeper"),
	K("zookeeper.ssl.ocsp.enable", BOOL, "false", 0, 0, NULL, IN, RO,
	  "Check certificates with OCSP towards ZooKeeper"),
#undef G

#define G "Group coordinator"
	K("offsets.topic.num.partitions", INT, "50", 1, I32, NULL, 0, RO,
	  "Partitions of __consumer_offsets"),
	K("offsets.topic.replication.factor", SHORT, "3", 1, I16, NULL, 0, RO,
	  "Replication factor of __consumer_offsets"),
	K("offsets.topic.segment.bytes", INT, "104857600", 1, I32, NULL, 0, RO,
	  "Segment size of __consumer_offsets"),
	K("offsets.topic.compression.codec", INT, "0", 0, 4, NULL, IN, RO,
	  "Codec of offset commits written by the coordinator"),
	K("offsets.retention.minutes", INT, "10080", 1, I32, NULL, 0, RO,
	  "Committed offsets of an empty group are kept this long"),
	K("offsets.retention.check.interval.ms", LONG, "600000", 1, L64, NULL, 0, RO,
	  "How often stale offsets are removed"),
	K("offsets.commit.timeout.ms", INT, "5000", 1, I32, NULL, 0, RO,
	  "Wait for an offset commit to be replicated"),
	K("offsets.commit.required.acks", SHORT, "-1", -1, I16, NULL, IN, RO,
	  "Acks of offset commits; a commit always waits for the ISR here"),
	K("offsets.load.buffer.size", INT, "5242880", 1, I32, NULL, 0, RO,
	  "Read size when loading groups"),
	K("offset.metadata.max.bytes", INT, "4096", 0, I32, NULL, 0, RO,
	  "Largest metadata string of an offset commit"),
	K("group.initial.rebalance.delay.ms", INT, "3000", 0, I32, NULL, 0, RO,
	  "Wait for more members before the first rebalance of an empty group"),
	K("group.min.session.timeout.ms", INT, "6000", 0, I32, NULL, 0, RO,
	  "Smallest session timeout a member may ask for"),
	K("group.max.session.timeout.ms", INT, "1800000", 0, I32, NULL, 0, RO,
	  "Largest session timeout a member may ask for"),
	K("group.max.size", INT, I32_TEXT, 1, I32, NULL, 0, RO,
	  "Members a group may have"),
#undef G

#define G "Transactions"
	K("transactional.id.expiration.ms", INT, "604800000", 1, I32, NULL, 0, RO,
	  "An idle producer id's state (idempotent producers) is forgotten after this long"),
	K("transaction.max.timeout.ms", INT, "900000", 1, I32, NULL, 0, RO,
	  "Largest transaction timeout a producer may ask for"),
	K("transaction.state.log.min.isr", INT, "2", 1, I32, NULL, 0, RO,
	  "min.insync.replicas of __transaction_state"),
	K("transaction.state.log.load.buffer.size", INT, "5242880", 1, I32, NULL, 0, RO,
	  "Read size when loading transaction state"),
	K("transaction.state.log.replication.factor", SHORT, "3", 1, I16, NULL, 0, RO,
	  "Replication factor of __transaction_state"),
	K("transaction.state.log.num.partitions", INT, "50", 1, I32, NULL, 0, RO,
	  "Partitions of __transaction_state"),
	K("transaction.state.log.segment.bytes", INT, "104857600", 1, I32, NULL, 0, RO,
	  "Segment size of __transaction_state"),
	K("transaction.abort.timed.out.transaction.cleanup.interval.ms", INT, "10000", 1, I32,
	  NULL, 0, RO, "How often timed-out transactions are aborted"),
	K("transaction.remove.expired.transaction.cleanup.interval.ms", INT, "3600000", 1, I32,
	  NULL, 0, RO, "How often expired transactional ids are removed"),
#undef G

#define G "Quotas"
	K("quota.producer.default", LONG, L64_TEXT, 1, L64, NULL, 0, RO,
	  "Deprecated: default produce quota of a client id, bytes/s"),
	K("quota.consumer.default", LONG, L64_TEXT, 1, L64, NULL, 0, RO,
	  "Deprecated: default fetch quota of a client id, bytes/s"),
	K("quota.window.num", INT, "11", 1, I32, NULL, 0, RO,
	  "Samples kept for client quotas"),
	K("quota.window.size.seconds", INT, "1", 1, I32, NULL, 0, RO,
	  "Length of a client quota sample"),
	K("replication.quota.window.num", INT, "11", 1, I32, NULL, IN, RO,
	  "Samples kept for replication quotas; the throttles here keep 11 of 100 ms"),
	K("replication.quota.window.size.seconds", INT, "1", 1, I32, NULL, IN, RO,
	  "Length of a replication quota sample"),
	K("alter.log.dirs.replication.quota.window.num", INT, "11", 1, I32, NULL, IN, RO,
	  "Samples kept for the log-dir move quota"),
	K("alter.log.dirs.replication.quota.window.size.seconds", INT, "1", 1, I32, NULL, IN, RO,
	  "Length of a log-dir move quota sample"),
	K("controller.quota.window.num", INT, "11", 1, I32, NULL, IN, RO,
	  "Samples kept for controller mutation quotas"),
	K("controller.quota.window.size.seconds", INT, "1", 1, I32, NULL, IN, RO,
	  "Length of a controller mutation quota sample"),
	K("client.quota.callback.class", CLASS, NULL, 0, 0, NULL, IN, RO,
	  "Plug-in deciding client quotas"),
#undef G

#define G "Metrics"
	K("metrics.num.samples", INT, "2", 1, I32, NULL, IN, RO,
	  "Samples kept per metric"),
	K("metrics.sample.window.ms", LONG, "30000", 1, L64, NULL, IN, RO,
	  "Length of a metric sample"),
	K("metrics.recording.level", STRING, "INFO", 0, 0, NULL, IN, RO,
	  "Highest recording level of metrics"),
	K("metric.reporters", LIST, "", 0, 0, NULL, IN, CL,
	  "Classes receiving the broker's metrics"),
	K("kafka.metrics.reporters", LIST, "", 0, 0, NULL, IN, RO,
	  "Yammer metrics reporter classes"),
	K("kafka.metrics.polling.interval.secs", INT, "10", 1, I32, NULL, IN, RO,
	  "Polling interval of the Yammer metrics reporters"),
#undef G

#define G "Security"
	K("principal.builder.class", CLASS, NULL, 0, 0, NULL, IN, PB,
	  "Builds the principal of an authenticated connection"),
	K("connections.max.reauth.ms", LONG, "0", 0, 0, NULL, 0, RO,
	  "Longest a SASL session lives before it must re-authenticate (KIP-368); a SaslHandshake renews it, any other request after it closes the connection; per listener and mechanism: listener.name.LISTENER.MECHANISM.connections.max.reauth.ms (lower case) comes first; 0 never"),
	K("sasl.server.max.receive.size", INT, "524288", 0, 0, NULL, IN, RO,
	  "Largest SASL packet accepted before authentication"),
	K("security.providers", STRING, NULL, 0, 0, NULL, IN, RO,
	  "Classes registering extra security algorithms"),
#undef G

#define G "SSL"
	K("ssl.protocol", STRING, "TLSv1.3", 0, 0, NULL, DI, PB,
	  "TLS protocol of the SSL context: TLSv1.3, TLSv1.2 or TLS; ssl.enabled.protocols decides"),
	K("ssl.provider", STRING, NULL, 0, 0, NULL, IN, PB,
	  "Security provider of TLS"),
	K("ssl.enabled.protocols", LIST, "TLSv1.2,TLSv1.3", 0, 0, NULL, DI, PB,
	  "TLS protocols enabled: TLSv1.2 and TLSv1.3"),
	K("ssl.cipher.suites", LIST, "", 0, 0, NULL, DI, PB,
	  "Cipher suites enabled, by their IANA names; empty: OpenSSL's defaults"),
	K("ssl.keystore.type", STRING, "JKS", 0, 0, NULL, 0, LI,
	  "Type of the keystore: PKCS12 or PEM (JKS is refused)"),
	K("ssl.keystore.location", STRING, NULL, 0, 0, NULL, 0, LI,
	  "Keystore holding the broker's certificate"),
	K("ssl.keystore.password", PASSWORD, NULL, 0, 0, NULL, DI, LI,
	  "Password of the keystore"),
	K("ssl.key.password", PASSWORD, NULL, 0, 0, NULL, DI, LI,
	  "Password of the private key"),
	K("ssl.keystore.key", PASSWORD, NULL, 0, 0, NULL, DI, LI,
	  "Private key in PEM, instead of a keystore file"),
	K("ssl.keystore.certificate.chain", PASSWORD, NULL, 0, 0, NULL, DI, LI,
	  "Certificate chain in PEM, instead of a keystore file"),
	K("ssl.truststore.type", STRING, "JKS", 0, 0, NULL, 0, LI,
	  "Type of the truststore: PKCS12 or PEM (JKS is refused)"),
	K("ssl.truststore.location", STRING, NULL, 0, 0, NULL, 0, LI,
	  "Truststore of trusted certificates"),
	K("ssl.truststore.password", PASSWORD, NULL, 0, 0, NULL, DI, LI,
	  "Password of the truststore"),
	K("ssl.truststore.certificates", PASSWORD, NULL, 0, 0, NULL, DI, LI,
	  "Trusted certificates in PEM, instead of a truststore file"),
	K("ssl.keymanager.algorithm", STRING, "SunX509", 0, 0, NULL, IN, PB,
	  "Key manager factory algorithm"),
	K("ssl.trustmanager.algorithm", STRING, "PKIX", 0, 0, NULL, IN, PB,
	  "Trust manager factory algorithm"),
	K("ssl.endpoint.identification.algorithm", STRING, "https", 0, 0, NULL, DI, PB,
	  "Host name verification of TLS peers; empty disables it"),
	K("ssl.secure.random.implementation", STRING, NULL, 0, 0, NULL, IN, PB,
	  "SecureRandom implementation for TLS"),
	K("ssl.client.auth", STRING, "none", 0, 0, "required|requested|none", DI, PB,
	  "Whether TLS clients must present a certificate"),
	K("ssl.principal.mapping.rules", STRING, "DEFAULT", 0, 0, NULL, 0, RO,
	  "Rules mapping a TLS client certificate's subject to a principal name"),
	K("ssl.engine.factory.class", CLASS, NULL, 0, 0, NULL, IN, PB,
	  "Plug-in creating TLS engines"),
#undef G

#define G "SASL"
	K("sasl.mechanism.inter.broker.protocol", STRING, "GSSAPI", 0, 0, NULL, DI, PB,
	  "SASL mechanism between brokers"),
	K("sasl.enabled.mechanisms", LIST, "GSSAPI", 0, 0, NULL, DI, PB,
	  "SASL mechanisms offered to clients"),
	K("sasl.jaas.config", PASSWORD, NULL, 0, 0, NULL, DI, PB,
	  "JAAS login configuration of SASL"),
	K("sasl.server.callback.handler.class", CLASS, NULL, 0, 0, NULL, IN, RO,
	  "Server callback handler of SASL"),
	K("sasl.client.callback.handler.class", CLASS, NULL, 0, 0, NULL, IN, RO,
	  "Client callback handler of SASL"),
	K("sasl.login.class", CLASS, NULL, 0, 0, NULL, IN, RO,
	  "Login class of SASL"),
	K("sasl.login.callback.handler.class", CLASS, NULL, 0, 0, NULL, IN, RO,
	  "Login callback handler of SASL"),
	K("sasl.kerberos.service.name", STRING, NULL, 0, 0, NULL, IN, PB,
	  "Kerberos principal name Kafka runs as"),
	K("sasl.kerberos.kinit.cmd", STRING, "/usr/bin/kinit", 0, 0, NULL, IN, PB,
	  "Kerberos kinit command"),
	K("sasl.kerberos.ticket.renew.window.factor", DOUBLE, "0.8", 0, 0, NULL, IN, PB,
	  "Share of a ticket's lifetime after which it is renewed"),
	K("sasl.kerberos.ticket.renew.jitter", DOUBLE, "0.05", 0, 0, NULL, IN, PB,
	  "Random jitter added to the renewal time"),
	K("sasl.kerberos.min.time.before.relogin", LONG, "60000", 0, 0, NULL, IN, PB,
	  "Shortest time between two Kerberos logins"),
	K("sasl.kerberos.principal.to.local.rules", LIST, "DEFAULT", 0, 0, NULL, IN, PB,
	  "Rules mapping Kerberos principals to short names"),
	K("sasl.login.refresh.window.factor", DOUBLE, "0.8", 0, 0, NULL, IN, PB,
	  "Share of a credential's lifetime after which it is refreshed"),
	K("sasl.login.refresh.window.jitter", DOUBLE, "0.05", 0, 0, NULL, IN, PB,
	  "Random jitter added to the refresh time"),
	K("sasl.login.refresh.min.period.seconds", SHORT, "60", 0, 0, NULL, IN, PB,
	  "Shortest time between two credential refreshes"),
	K("sasl.login.refresh.buffer.seconds", SHORT, "300", 0, 0, NULL, IN, PB,
	  "Time kept before a credential's expiry when refreshing"),
#undef G

#define G "Delegation tokens"
	K("delegation.token.master.key", PASSWORD, NULL, 0, 0, NULL, IN, RO,
	  "Deprecated name of delegation.token.secret.key"),
	K("delegation.token.secret.key", PASSWORD, NULL, 0, 0, NULL, IN, RO,
	  "Secret signing delegation tokens; unset disables them"),
	K("delegation.token.max.lifetime.ms", LONG, "604800000", 1, L64, NULL, IN, RO,
	  "Longest life of a delegation token"),
	K("delegation.token.expiry.time.ms", LONG, "86400000", 1, L64, NULL, IN, RO,
	  "Validity of a delegation token before it must be renewed"),
	K("delegation.token.expiry.check.interval.ms", LONG, "3600000", 1, L64, NULL, IN, RO,
	  "How often expired delegation tokens are removed"),
#undef G

#define G "Dynamic password encoding"
	K("password.encoder.secret", PASSWORD, NULL, 0, 0, NULL, IN, RO,
	  "Secret encoding dynamic password configs in ZooKeeper"),
	K("password.encoder.old.secret", PASSWORD, NULL, 0, 0, NULL, IN, RO,
	  "Previous secret, to re-encode stored passwords"),
	K("password.encoder.keyfactory.algorithm", STRING, NULL, 0, 0, NULL, IN, RO,
	  "Key factory algorithm of the password encoder"),
	K("password.encoder.cipher.algorithm", STRING, "AES/CBC/PKCS5Padding", 0, 0, NULL, IN, RO,
	  "Cipher of the password encoder"),
	K("password.encoder.key.length", INT, "128", 8, I32, NULL, IN, RO,
	  "Key length of the password encoder"),
	K("password.encoder.iterations", INT, "4096", 1024, I32, NULL, IN, RO,
	  "Iterations of the password encoder"),
#undef G

#define G "KRaft (internal in Kafka 2.8)"
	K("process.roles", LIST, "", 0, 0, "broker|controller", KRAFT, RO,
	  "Roles of a KRaft-mode process"),
	K("node.id", INT, "-1", 0, 0, NULL, KRAFT, RO,
	  "Node id in KRaft mode"),
	K("initial.broker.registration.timeout.ms", INT, "60000", 0, 0, NULL, KRAFT, RO,
	  "Wait for the first registration with the KRaft quorum"),
	K("broker.heartbeat.interval.ms", INT, "2000", 0, 0, NULL, KRAFT, RO,
	  "Heartbeat interval towards the KRaft quorum"),
	K("broker.session.timeout.ms", INT, "9000", 0, 0, NULL, KRAFT, RO,
	  "Lease of a broker in the KRaft quorum"),
	K("metadata.log.dir", STRING, NULL, 0, 0, NULL, KRAFT, RO,
	  "Directory of the KRaft metadata log"),
	K("controller.listener.names", STRING, NULL, 0, 0, NULL, KRAFT, RO,
	  "Listeners of the KRaft controllers"),
	K("sasl.mechanism.controller.protocol", STRING, "GSSAPI", 0, 0, NULL, KRAFT, RO,
	  "SASL mechanism towards the KRaft controllers"),
	K("controller.quorum.voters", LIST, "", 0, 0, NULL, KRAFT, RO,
	  "Voters of the KRaft quorum as id@host:port"),
	K("controller.quorum.election.timeout.ms", INT, "1000", 0, 0, NULL, KRAFT, RO,
	  "KRaft election timeout"),
	K("controller.quorum.fetch.timeout.ms", INT, "2000", 0, 0, NULL, KRAFT, RO,
	  "KRaft fetch timeout"),
	K("controller.quorum.election.backoff.max.ms", INT, "1000", 0, 0, NULL, KRAFT, RO,
	  "Longest KRaft election backoff"),
	K("controller.quorum.append.linger.ms", INT, "25", 0, 0, NULL, KRAFT, RO,
	  "KRaft append linger"),
	K("controller.quorum.request.timeout.ms", INT, "2000", 0, 0, NULL, KRAFT, RO,
	  "KRaft request timeout"),
	K("controller.quorum.retry.backoff.ms", INT, "20", 0, 0, NULL, KRAFT, RO,
	  "KRaft retry backoff"),
#undef G
};

const size_t broker_config_ndefs =
	sizeof(broker_config_defs) / sizeof(broker_config_defs[0]);

/*
 * The keys that exist only as dynamic configs (Kafka's
 * DynamicConfig.Broker): not read from the properties file (Kafka warns
 * about them there too), set with AlterConfigs on a broker or the cluster
 * default.
 */
const struct kp_config_def broker_dynamic_defs[] = {
#define G "Dynamic only"
	K("leader.replication.throttled.rate", LONG, L64_TEXT, 0, L64, NULL, 0, CL,
	  "Replication throttle, bytes/s, of the leader replicas listed in the topics' leader.replication.throttled.replicas"),
	K("follower.replication.throttled.rate", LONG, L64_TEXT, 0, L64, NULL, 0, CL,
	  "Replication throttle, bytes/s, of the follower replicas listed in the topics' follower.replication.throttled.replicas"),
	K("replica.alter.log.dirs.io.max.bytes.per.second", LONG, L64_TEXT, 0, L64, NULL,
	  0, CL, "Disk bytes/s used to move replicas between log directories"),
#undef G
};

const size_t broker_dynamic_ndefs =
	sizeof(broker_dynamic_defs) / sizeof(broker_dynamic_defs[0]);
