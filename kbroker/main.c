/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - kbroker: configuration, start-up order, signals, shutdown.
 *
 *   kbroker [--override key=value]... CONFIG_FILE
 *
 * Start-up: read and validate the configuration (an invalid value stops us
 * with a message and exit status 1; an unknown key warns; Kafka's keys we
 * do not act on are named in one info line), lock and load
 * the log dirs, connect to ZooKeeper, read or create the cluster id, check
 * it against meta.properties, listen, then register /brokers/ids/<id>.
 * SIGTERM / SIGINT: stop accepting, close connections, flush the logs,
 * write checkpoints and the clean-shutdown marker, close the ZooKeeper
 * session (which removes the registration), exit 0.
 *
 * Under systemd (Type=notify) the service manager hears READY=1 only once
 * we are registered, i.e. once clients and the controller can use us, and
 * STOPPING=1 when the shutdown starts; STATUS= says what start-up or
 * shutdown is busy with (log recovery can take long).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api.h"
#include "authz.h"
#include "broker.h"
#include "broker_config.h"
#include "config_layers.h"
#include "dynconfig.h"
#include "scram_users.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_notify.h"
#include "kp_topic_config.h"
#include "kp_zk.h"
#include "log_dir.h"
#include "log_dir_event.h"
#include "log_cleaner.h"
#include "log_manager.h"
#include "log_epoch_writer.h"
#include "log_move.h"
#include "net.h"
#include "transport_tls.h"
#include "quota.h"
#include "client_quota.h"
#include "api_quota.h"
#include "fetch_session.h"
#include "fetcher.h"
#include "group.h"
#include "txn_coord.h"
#include "purgatory.h"
#include "replica.h"
#include "req_dispatch.h"
#include "shutdown.h"
#include "topic_config.h"
#include "tls_reload.h"
#include "zk_admin.h"
#include "zk_broker.h"
#include "zk_thread.h"

static const char usage_text[] =
	"Usage: kbroker [--override key=value]... CONFIG_FILE\n"
	"       kbroker --help-config | --version\n"
	"\n"
	"The Kafka-compatible broker.  CONFIG_FILE is a Java properties file\n"
	"with Kafka's broker keys (see kbroker.properties(5)); --override sets\n"
	"a key on top of it.\n";

/*
 * Each SASL listener's mechanisms (sasl.enabled.mechanisms, per listener:
 * PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and, for PLAIN, the JAAS line of
 * listener.name.<l>.plain.sasl.jaas.config (or sasl.jaas.config) with its
 * user_<name> passwords.
 */
static int sasl_setup(struct broker *b, char *err, size_t errlen)
{
	b->sasl = calloc(b->lsn.nbind + 1, sizeof(*b->sasl));
	if (b->sasl == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < b->lsn.nbind; i++) {
		struct broker_sasl *s = &b->sasl[i];

		if (!kp_secproto_sasl(b->lsn.bind_proto[i]))
			continue;
		s->on = true;
		s->lookup = scram_users_lookup;
		s->lookup_arg = b;
		if (kp_sasl_listener_setup(&b->cfg, b->lsn.bind[i].listener, &s->l, err,
					   errlen) < 0)
			return -1;
	}
	return 0;
}

/*
 * The replica fetchers' SASL when the inter-broker listener is SASL_*:
 * sasl.mechanism.inter.broker.protocol, which that listener must enable
 * (Kafka's check), and the username and password options of the
 * mechanism's JAAS line on that listener (ScramLoginModule or
 * PlainLoginModule), as Kafka's broker logs in to its peers.
 */
static int inter_sasl_setup(struct broker *b, char *err, size_t errlen)
{
	const char *mech = kp_config_str(&b->cfg, "sasl.mechanism.inter.broker.protocol");
	const char *l = b->lsn.inter_name;
	const struct broker_sasl *s = NULL;
	int m;

	if (mech == NULL || (strcmp(mech, "PLAIN") != 0 &&
			     kp_scram_mech_parse(mech, strlen(mech)) == 0)) {
		snprintf(err, errlen, "sasl.mechanism.inter.broker.protocol: %s is not "
			 "supported (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 are)",
			 mech != NULL ? mech : "(none)");
		return -1;
	}
	m = kp_scram_mech_parse(mech, strlen(mech));
	for (size_t i = 0; i < b->lsn.nbind; i++)
		if (strcasecmp(b->lsn.bind[i].listener, l) == 0)
			s = &b->sasl[i];
	if (s == NULL || !(m == 0 ? s->l.plain : s->l.scram[m])) {
		snprintf(err, errlen, "sasl.mechanism.inter.broker.protocol must be included "
			 "in sasl.enabled.mechanisms when SASL is used for inter-broker "
			 "communication");
		return -1;
	}
	/* the username and password of the mechanism's JAAS line */
	if (kp_sasl_client_setup(&b->cfg, l, mech, "sasl.mechanism.inter.broker.protocol",
				 &b->inter_sasl_jaas, err, errlen) < 0)
		return -1;
	b->inter_sasl_mech = strdup(mech);
	if (b->inter_sasl_mech == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Listeners, advertised listeners and the numbers net.c needs. */
static int derive(struct broker *b, char *err, size_t errlen)
{
	const char *rack = kp_config_str(&b->cfg, "broker.rack");
	const char *fmt;
	char host[256];

	if (kp_listeners_resolve(&b->cfg, true, &b->lsn, err, errlen) < 0)
		return -1;
	if (sasl_setup(b, err, errlen) < 0)
		return -1;
	if (kp_secproto_sasl(b->lsn.inter_proto) && inter_sasl_setup(b, err, errlen) < 0)
		return -1;
	if (kp_secproto_tls(b->lsn.inter_proto)) {
		const char *alg = kp_listener_str(&b->cfg, b->lsn.inter_name,
						  "ssl.endpoint.identification.algorithm");

		b->inter_tls = tls_context_new(&b->cfg, b->lsn.inter_name, false, err,
					       errlen);
		if (b->inter_tls == NULL)
			return -1;
		b->inter_tls_verify_host = alg != NULL && strcasecmp(alg, "https") == 0;
	}
	b->listeners = b->lsn.bind;
	b->nlisteners = b->lsn.nbind;
	b->advertised = b->lsn.adv;
	b->nadvertised = b->lsn.nadv;
	/* as Kafka: an empty advertised host means this machine's name */
	for (size_t i = 0; i < b->nadvertised; i++)
		if (b->advertised[i].host[0] == 0 &&
		    gethostname(host, sizeof(host)) == 0)
			snprintf(b->advertised[i].host, sizeof(b->advertised[i].host),
				 "%s", host);
	b->rack = rack != NULL ? strdup(rack) : NULL;
	/* the table allows only the rack-aware selector's names */
	b->rack_aware_reads = kp_config_str(&b->cfg, "replica.selector.class") != NULL;
	/* validated with Kafka's version list by the table */
	fmt = kp_config_str(&b->cfg, "log.message.format.version");
	if (kp_message_format_magic(fmt) == 0 || kp_message_format_magic(fmt) == 1)
		KP_INFO("log.message.format.version=%s: the log is written in "
			"record batch v2 all the same (see kbroker.properties(5))", fmt);
	b->listen_backlog = kp_config_int(&b->cfg, "socket.listen.backlog.size");
	b->socket_request_max_bytes = kp_config_int(&b->cfg, "socket.request.max.bytes");
	/* decoded structures of one request stay within a few times its size */
	b->request_arena_cap = 8 * (int64_t)b->socket_request_max_bytes + (1 << 20);
	return 0;
}

/* The group coordinator waits for its own writes to __consumer_offsets:
 * it hears of every notification of those partitions. */
static void offsets_moved(void *arg)
{
	group_hw_moved(arg);
}

/* ------------------------------------------------------------- zk */

static void on_session(enum kp_zk_session st, void *arg)
{
	struct broker *b = arg;
	char err[256];

	if (st != KP_ZK_EXPIRED || b->stopping)
		return;
	KP_WARN("ZooKeeper session expired; reconnecting and registering again");
	kp_notify("STATUS=ZooKeeper session expired, registering again");
	if (kp_zk_reconnect(b->zk, err, sizeof(err)) != 0 ||
	    dynconfig_start(b, err, sizeof(err)) < 0 ||
	    authz_start(b, err, sizeof(err)) < 0 ||
	    zk_broker_register(b, err, sizeof(err)) < 0) {
		KP_ERROR("after session expiry: %s", err);
		kp_notifyf("STATUS=not registered after a session expiry: %s", err);
		return;
	}
	kp_notifyf("STATUS=serving as broker %d of cluster %s", b->id,
		   b->cluster_id);
}

static int connect_zk(struct broker *b, char *err, size_t errlen)
{
	struct kp_zk_config zc;

	if (kp_zk_config_from(&zc, &b->cfg, b->loop, err, errlen) < 0)
		return -1;
	zc.on_session = on_session;
	zc.session_arg = b;
	return kp_zk_open(&b->zk, &zc, err, errlen) == 0 ? 0 : -1;
}

/* ------------------------------------------------------- log dirs */

/* Settings of the logs of a topic found at start: the topic's overrides
 * in ZooKeeper over our log.* keys (once per topic, before loading). */
static void loaded_log_config(const char *topic, struct log_config *cfg,
			      void *arg)
{
	struct broker *b = arg;
	struct kp_zk_entity_config over;
	char err[512];

	if (zk_admin_read_config(b->zk, "topics", topic, &over, err, sizeof(err)) < 0)
		KP_WARN("%s (overrides ignored)", err);
	topic_config_log(b->layers, &over, cfg);
	kp_zk_config_free(&over);
}

/*
 * Threads that load a dir's logs after a clean shutdown: nothing is
 * recovered then, loading is opening files and reading checkpoints,
 * which waits on the file system more than it computes, so it is not held
 * to num.recovery.threads.per.data.dir (Kafka's default of 1 loaded
 * 10,000 logs in ~4 s here): twice the CPUs online, at most
 * CLEAN_LOAD_THREADS_MAX, never fewer than configured.  After an unclean
 * stop the key's value holds, as in Kafka.
 */
#define CLEAN_LOAD_THREADS_MAX 16

static int clean_load_threads(int configured)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int n = CLEAN_LOAD_THREADS_MAX;

	if (cpus < 1)
		n = 1;
	else if (cpus < CLEAN_LOAD_THREADS_MAX / 2)
		n = 2 * (int)cpus;
	return n > configured ? n : configured;
}

static int open_dirs(struct broker *b, char *err, size_t errlen)
{
	const char *list = kp_config_str(&b->cfg, "log.dirs");
	char *copy, *save = NULL, *d;
	int threads = kp_config_int(&b->cfg, "num.recovery.threads.per.data.dir");
	int64_t t0;
	bool clean;
	int use;

	if (list == NULL)
		list = kp_config_str(&b->cfg, "log.dir");
	copy = strdup(list);
	for (d = strtok_r(copy, ",", &save); d != NULL; d = strtok_r(NULL, ",", &save)) {
		struct log_dir *ld;
		struct log_dir **nd;

		while (*d == ' ')
			d++;
		if (log_dir_open(d, &ld) < 0) {
			snprintf(err, errlen, "cannot use log dir %s", d);
			free(copy);
			return -1;
		}
		nd = realloc(b->dirs, sizeof(*nd) * (size_t)(b->ndirs + 1));
		if (nd == NULL) {
			log_dir_close(ld, false);
			free(copy);
			return -1;
		}
		b->dirs = nd;
		b->dirs[b->ndirs++] = ld;
		t0 = kp_now_ms();
		clean = ld->clean;
		use = clean ? clean_load_threads(threads) : threads;
		if (log_dir_load(ld, loaded_log_config, b, use) < 0) {
			snprintf(err, errlen, "cannot load the logs in %s", d);
			free(copy);
			return -1;
		}
		KP_INFO("%s: loaded %d logs after a%s shutdown in %lld ms (%d "
			"thread%s)", ld->path, ld->nlogs,
			clean ? " clean" : "n unclean",
			(long long)(kp_now_ms() - t0), use, use == 1 ? "" : "s");
	}
	free(copy);
	return 0;
}

/* broker.id and cluster.id against every dir's meta.properties. */
static int check_meta(struct broker *b, char *err, size_t errlen)
{
	int32_t stored = -1;

	for (int i = 0; i < b->ndirs; i++) {
		int32_t id;
		char cluster[64];

		if (log_dir_read_meta(b->dirs[i], &id, cluster, sizeof(cluster)) != 0)
			continue;
		if (cluster[0] && strcmp(cluster, b->cluster_id) != 0) {
			snprintf(err, errlen, "log dir %s belongs to cluster %s, but "
				 "ZooKeeper's cluster id is %s", b->dirs[i]->path,
				 cluster, b->cluster_id);
			return -1;
		}
		if (stored >= 0 && id != stored) {
			snprintf(err, errlen, "log dirs disagree on broker.id (%d, %d)",
				 stored, id);
			return -1;
		}
		stored = id;
	}
	if (b->id >= 0 && stored >= 0 && b->id != stored) {
		snprintf(err, errlen, "broker.id %d does not match %d stored in "
			 "meta.properties", b->id, stored);
		return -1;
	}
	if (b->id < 0 && stored >= 0)
		b->id = stored;
	if (b->id < 0 && zk_broker_generate_id(b, &b->id, err, errlen) < 0)
		return -1;
	for (int i = 0; i < b->ndirs; i++)
		if (log_dir_write_meta(b->dirs[i], b->id, b->cluster_id) < 0) {
			snprintf(err, errlen, "cannot write meta.properties in %s",
				 b->dirs[i]->path);
			return -1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	struct broker b;
	char err[512];
	int sfd, rc;

	memset(&b, 0, sizeof(b));
	b.id = -1;
	kp_log_set_ident("kbroker");
	rc = kp_config_from_args(&b.cfg, "kbroker", usage_text, argc, argv,
				 broker_config_defs, broker_config_ndefs, NULL, 0);
	if (rc != 0)
		return rc;
	b.id = kp_config_int(&b.cfg, "broker.id");
	if (derive(&b, err, sizeof(err)) < 0 || authz_init(&b, err, sizeof(err)) < 0)
		goto fatal;
	metadata_cache_init(&b.meta);
	pthread_mutex_init(&b.dirs_lock, NULL);
	producer_ids_init(&b.pids);
	partition_table_init(&b.parts);
	b.purg = purgatory_new();
	if (b.purg == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fatal;
	}
	purgatory_listen(b.purg, PURGATORY_KEY_GROUP_LOG, offsets_moved, &b);
	b.message_max_bytes = kp_config_int(&b.cfg, "message.max.bytes");
	b.layers = config_layers_new(&b.cfg);
	b.quotas = quota_repl_new();
	b.cquota = cq_new(kp_config_int(&b.cfg, "quota.window.num"),
			  kp_config_int(&b.cfg, "quota.window.size.seconds"),
			  kp_config_long(&b.cfg, "quota.producer.default"),
			  kp_config_long(&b.cfg, "quota.consumer.default"));
	b.reply_hook = quota_on_reply;
	b.throttle_hook = quota_set_throttle_field;
	b.fsessions = fetch_sessions_new(kp_config_int(&b.cfg,
					"max.incremental.fetch.session.cache.slots"),
					 FETCH_SESSION_EVICTION_MS);
	if (b.layers == NULL || b.quotas == NULL || b.cquota == NULL || b.fsessions == NULL ||
	    dynconfig_init(&b) < 0 ||
	    scram_users_init(&b) < 0) {
		snprintf(err, sizeof(err), "out of memory");
		goto fatal;
	}
	/* before any thread starts: they inherit the blocked signals */
	b.loop = kp_loop_new();
	sfd = b.loop != NULL ? kp_loop_stop_on_signals(b.loop, &b.stopping) : -1;
	if (sfd < 0) {
		snprintf(err, sizeof(err), "cannot set up the event loop");
		goto fatal;
	}
	/* ZooKeeper first: loading a log wants its topic's configuration */
	kp_notify("STATUS=connecting to ZooKeeper");
	if (connect_zk(&b, err, sizeof(err)) < 0 ||
	    zk_thread_start(&b, err, sizeof(err)) < 0 ||
	    zk_broker_cluster_id(&b, err, sizeof(err)) < 0 ||
	    zk_broker_ensure_paths(&b, err, sizeof(err)) < 0 ||
	    authz_start(&b, err, sizeof(err)) < 0)
		goto fatal;
	kp_notify("STATUS=loading the logs");
	if (open_dirs(&b, err, sizeof(err)) < 0 ||
	    check_meta(&b, err, sizeof(err)) < 0)
		goto fatal;
	log_dir_event_install(&b);	/* a failing dir tells the controller */
	{
		char ident[32];

		snprintf(ident, sizeof(ident), "kbroker[%d]", b.id);
		kp_log_set_ident(ident);
	}
	/* dynamic configs need our id; before any partition is hosted */
	if (dynconfig_start(&b, err, sizeof(err)) < 0)
		goto fatal;
	if (fetcher_start(&b, err, sizeof(err)) < 0 || replica_start(&b) < 0 ||
	    group_start(&b, err, sizeof(err)) < 0 ||
	    txn_start(&b, err, sizeof(err)) < 0 ||
	    log_manager_start(&b, err, sizeof(err)) < 0 ||
	    log_epoch_writer_start(&b, err, sizeof(err)) < 0 ||
	    log_cleaner_start(&b, err, sizeof(err)) < 0 ||
	    log_move_start(&b, err, sizeof(err)) < 0)
		goto fatal;
	b.net = net_start(&b, b.loop, kp_config_int(&b.cfg, "num.network.threads"),
			  req_dispatch, err, sizeof(err));
	if (b.net == NULL)
		goto fatal;
	/* SSL stores set dynamically in /config/brokers/<id> (KIP-226) */
	tls_reload_apply(&b);
	/* a listener on port 0 gets a port now: advertise that one */
	for (size_t i = 0; i < b.nadvertised; i++)
		for (size_t j = 0; j < b.nlisteners && b.advertised[i].port == 0; j++)
			if (strcmp(b.advertised[i].listener, b.listeners[j].listener) == 0)
				b.advertised[i].port = net_listener_port(b.net, (int)j);
	if (metrics_start(&b, err, sizeof(err)) < 0 ||
	    zk_broker_register(&b, err, sizeof(err)) < 0)
		goto fatal;
	KP_INFO("started: broker %d of cluster %s, listening on port %d", b.id,
		b.cluster_id, net_listener_port(b.net, 0));
	/* listening and registered: clients and the controller can use us */
	kp_notifyf("READY=1\nSTATUS=serving as broker %d of cluster %s", b.id,
		   b.cluster_id);
	kp_loop_run(b.loop);

	/* shutdown: replication and connections first, then the logs, then
	 * ZooKeeper */
	kp_notify("STOPPING=1\nSTATUS=controlled shutdown");
	broker_controlled_shutdown(&b);
	/* from here on a ZooKeeper call lost with a quorum gives up
	 * (KP_ZK_CLOSING) rather than keep the broker from stopping */
	kp_zk_interrupt(b.zk);
	fetcher_stop(&b);
	replica_stop(&b);
	group_stop(&b);		/* parked group requests answer first */
	txn_stop(&b);		/* and transactional ones */
	zk_thread_stop(&b);	/* its completions reach running workers */
	metrics_stop(&b);	/* scrapes read the workers */
	net_stop(b.net);
	log_move_stop(&b);
	log_cleaner_stop(&b);
	log_manager_stop(&b);
	log_epoch_writer_stop();
	group_destroy(&b);
	txn_destroy(&b);
	replica_checkpoint_hw(&b);
	kp_notify("STATUS=flushing the logs");
	for (int i = 0; i < b.ndirs; i++)
		log_dir_close(b.dirs[i], true);
	kp_zk_close(b.zk);
	dynconfig_destroy(&b);
	scram_users_destroy(&b);
	authz_destroy(&b);
	quota_repl_free(b.quotas);
	cq_free(b.cquota);
	fetch_sessions_free(b.fsessions);
	config_layers_free(b.layers);
	purgatory_free(b.purg);
	kp_loop_free(b.loop);
	close(sfd);
	metadata_cache_destroy(&b.meta);
	partition_table_destroy(&b.parts);
	kp_config_free(&b.cfg);
	free(b.dirs);
	for (size_t i = 0; b.sasl != NULL && i < b.lsn.nbind; i++)
		kp_sasl_listener_free(&b.sasl[i].l);
	free(b.sasl);
	free(b.inter_sasl_mech);
	kp_jaas_free(&b.inter_sasl_jaas);
	kp_listeners_free(&b.lsn);
	SSL_CTX_free(b.inter_tls);
	free(b.rack);
	KP_INFO("stopped cleanly");
	return 0;
fatal:
	KP_ERROR("%s", err);
	/* systemctl status shows why; the exit status makes the unit fail */
	kp_notifyf("STATUS=failed: %s", err);
	fetcher_stop(&b);
	group_stop(&b);
	txn_stop(&b);
	zk_thread_stop(&b);
	metrics_stop(&b);
	if (b.net != NULL)
		net_stop(b.net);
	log_move_stop(&b);
	log_manager_stop(&b);
	log_epoch_writer_stop();
	group_destroy(&b);
	txn_destroy(&b);
	for (int i = 0; i < b.ndirs; i++)
		log_dir_close(b.dirs[i], false);
	if (b.zk != NULL)
		kp_zk_close(b.zk);
	/* what the configuration gave: a refused one exits without a leak
	 * report under the sanitizers */
	for (size_t i = 0; b.sasl != NULL && i < b.lsn.nbind; i++)
		kp_sasl_listener_free(&b.sasl[i].l);
	free(b.sasl);
	authz_destroy(&b);
	kp_listeners_free(&b.lsn);
	SSL_CTX_free(b.inter_tls);
	free(b.rack);
	kp_config_free(&b.cfg);
	return 1;
}
