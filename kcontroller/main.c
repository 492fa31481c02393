/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - kcontroller: configuration, ZooKeeper session, signals.
 *
 *   kcontroller [--override key=value]... CONFIG_FILE
 *
 * Any number run; the one that creates the ephemeral /controller is
 * active, the others watch it and take over when it goes.  SIGTERM /
 * SIGINT close the ZooKeeper session (which removes /controller at once,
 * so a standby takes over without waiting for a session timeout) and
 * exit 0.
 *
 * Under systemd (Type=notify) READY=1 goes out once we listen and have
 * stood for election (won it or watch the winner): from then on we are
 * doing our job, active or standby.  STOPPING=1 marks the shutdown.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <ctype.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller.h"
#include "ctl_authz.h"
#include "broker_config.h"
#include "controller_config.h"
#include "kp_listener.h"
#include "kp_log.h"
#include "kp_sasl_cfg.h"
#include "kp_loop.h"
#include "kp_notify.h"
#include "kp_zk.h"
#include "server.h"
#include "transport_tls.h"

static const char usage_text[] =
	"Usage: kcontroller [--override key=value]... CONFIG_FILE\n"
	"       kcontroller --help-config | --version\n"
	"\n"
	"The cluster controller.  CONFIG_FILE is a Java properties file with\n"
	"controller.id, zookeeper.connect and the controller's Kafka keys (see\n"
	"kcontroller.properties(5)); --override sets a key on top of it.\n";

/* On the loop's thread: the event thread resigns, reconnects and stands
 * again (an Expire event, ahead of everything queued). */
static void on_session(enum kp_zk_session st, void *arg)
{
	struct controller *c = arg;

	if (st != KP_ZK_EXPIRED || c->stopping)
		return;
	KP_WARN("ZooKeeper session expired: resigning, then reconnecting");
	kp_notify("STATUS=ZooKeeper session expired, reconnecting");
	controller_session_expired(c);
}

static int connect_zk(struct controller *c, char *err, size_t errlen)
{
	struct kp_zk_config zc;

	if (kp_zk_config_from(&zc, &c->cfg, c->loop, err, errlen) < 0)
		return -1;
	zc.on_session = on_session;
	zc.session_arg = c;
	return kp_zk_open(&c->zk, &zc, err, errlen) == 0 ? 0 : -1;
}

/* A controller id that a broker uses would make /controller ambiguous. */
static int check_id(struct controller *c, char *err, size_t errlen)
{
	char path[64];
	int rc;

	snprintf(path, sizeof(path), "/brokers/ids/%d", c->id);
	rc = kp_zk_exists_sync(c->zk, path, NULL);
	if (rc == KP_ZK_OK) {
		snprintf(err, errlen, "controller.id %d is the id of a registered broker; "
			 "controller ids must differ from broker ids", c->id);
		return -1;
	}
	return 0;
}

/*
 * The channels' security, as a broker's towards its peers: the protocol
 * of the brokers' inter-broker listener (security.inter.broker.protocol,
 * or inter.broker.listener.name through listener.security.protocol.map),
 * a TLS client context from the ssl.* keys of that listener, and
 * sasl.mechanism.inter.broker.protocol with its JAAS line's username and
 * password.  0, or -1 with a message naming the key.
 */
static int channel_security(struct controller *c, char *err, size_t errlen)
{
	const char *name = kp_config_str(&c->cfg, "inter.broker.listener.name");
	struct kp_protocol_map map;

	if (name != NULL && kp_config_is_set(&c->cfg, "security.inter.broker.protocol")) {
		snprintf(err, errlen, "Only one of inter.broker.listener.name and "
			 "security.inter.broker.protocol should be set.");
		return -1;
	}
	if (name == NULL) {
		c->inter_proto = kp_secproto_parse(kp_config_str(&c->cfg,
						  "security.inter.broker.protocol"));
	} else {
		if (kp_protocol_map_parse(kp_config_str(&c->cfg,
					  "listener.security.protocol.map"), &map, err,
					  errlen) < 0)
			return -1;
		c->inter_proto = kp_protocol_map_get(&map, c->listener);
		kp_protocol_map_free(&map);
		if (c->inter_proto < 0) {
			/* as before the controller took the map: a name it does
			 * not map is a PLAINTEXT listener of the brokers' */
			KP_INFO("inter.broker.listener.name %s is not in "
				"listener.security.protocol.map: connecting to it in "
				"plaintext", c->listener);
			c->inter_proto = KP_SEC_PLAINTEXT;
		}
	}
	if (kp_secproto_tls(c->inter_proto)) {
		const char *alg = kp_listener_str(&c->cfg, c->listener,
						  "ssl.endpoint.identification.algorithm");

		c->inter_tls = tls_context_new(&c->cfg, c->listener, false, err, errlen);
		if (c->inter_tls == NULL)
			return -1;
		c->inter_tls_verify_host = alg != NULL && strcasecmp(alg, "https") == 0;
	}
	if (kp_secproto_sasl(c->inter_proto)) {
		const char *mech = kp_config_str(&c->cfg, "sasl.mechanism.inter.broker.protocol");

		if (kp_sasl_client_setup(&c->cfg, c->listener, mech,
					 "sasl.mechanism.inter.broker.protocol",
					 &c->inter_sasl_jaas, err, errlen) < 0)
			return -1;
		c->inter_sasl_mech = strdup(mech);
		if (c->inter_sasl_mech == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

static void channel_security_free(struct controller *c)
{
	SSL_CTX_free(c->inter_tls);
	free(c->inter_sasl_mech);
	kp_jaas_free(&c->inter_sasl_jaas);
}

int main(int argc, char **argv)
{
	struct controller c;
	char err[512], ident[32], inter[KP_LISTENER_MAX];
	int sfd, rc;

	memset(&c, 0, sizeof(c));
	kp_log_set_ident("kcontroller");
	rc = kp_config_from_args(&c.cfg, "kcontroller", usage_text, argc, argv,
				 controller_config_defs, controller_config_ndefs,
				 broker_config_defs, broker_config_ndefs);
	if (rc != 0)
		return rc;
	if (!kp_config_is_set(&c.cfg, "controller.id")) {
		fprintf(stderr, "kcontroller: invalid configuration: controller.id "
			"is required\n");
		return 1;
	}
	c.id = kp_config_int(&c.cfg, "controller.id");
	snprintf(ident, sizeof(ident), "kcontroller[%d]", c.id);
	kp_log_set_ident(ident);
	/* listener names are upper case (Kafka's ListenerName.normalised) */
	snprintf(inter, sizeof(inter), "%s",
		 kp_config_str(&c.cfg, "inter.broker.listener.name") != NULL
		 ? kp_config_str(&c.cfg, "inter.broker.listener.name")
		 : kp_config_str(&c.cfg, "security.inter.broker.protocol"));
	for (char *p = inter; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	c.listener = inter;
	c.socket_timeout_ms = kp_config_int(&c.cfg, "controller.socket.timeout.ms");
	if (channel_security(&c, err, sizeof(err)) < 0) {
		fprintf(stderr, "kcontroller: invalid configuration: %s\n", err);
		channel_security_free(&c);
		kp_config_free(&c.cfg);
		return 1;
	}
	c.loop = kp_loop_new();
	sfd = c.loop != NULL ? kp_loop_stop_on_signals(c.loop, &c.stopping) : -1;
	if (sfd < 0) {
		snprintf(err, sizeof(err), "cannot set up the event loop");
		goto fatal;
	}
	if (controller_init(&c) < 0) {
		snprintf(err, sizeof(err), "cannot set up the event queue");
		goto fatal;
	}
	if (ctl_authz_init(&c, err, sizeof(err)) < 0)
		goto fatal;
	/* the listener first: its misconfigurations are reported at once,
	 * whatever ZooKeeper does (requests wait in the event queue) */
	c.server = server_start(&c, &c.ep, err, sizeof(err));
	if (c.server == NULL)
		goto fatal;
	kp_notify("STATUS=connecting to ZooKeeper");
	if (connect_zk(&c, err, sizeof(err)) < 0 || check_id(&c, err, sizeof(err)) < 0 ||
	    ctl_authz_start(&c, err, sizeof(err)) < 0)
		goto fatal;
	if (ctl_metrics_start(&c, err, sizeof(err)) < 0)
		goto fatal;
	KP_INFO("started: controller %d, listening on port %d", c.id, c.ep.port);
	if (controller_start(&c) < 0) {
		snprintf(err, sizeof(err), "cannot start the event thread");
		goto fatal;
	}
	/* elected, or watching /controller to stand again: either way serving */
	kp_notifyf("READY=1\nSTATUS=controller %d, in the election", c.id);
	kp_loop_run(c.loop);

	kp_notify("STOPPING=1\nSTATUS=resigning");
	ctl_metrics_stop(&c);
	controller_stop(&c);
	/* what the last events posted (answers, channels closing) runs */
	for (int i = 0; i < 3; i++)
		kp_loop_run_once(c.loop, 0);
	server_stop(c.server);
	kp_zk_close(c.zk);	/* removes /controller if it is ours */
	controller_free(&c);
	ctl_authz_destroy(&c);
	kp_loop_free(c.loop);
	close(sfd);
	channel_security_free(&c);
	kp_config_free(&c.cfg);
	KP_INFO("stopped cleanly");
	return 0;
fatal:
	KP_ERROR("%s", err);
	kp_notifyf("STATUS=failed: %s", err);
	ctl_metrics_stop(&c);
	controller_stop(&c);
	server_stop(c.server);
	if (c.zk != NULL)
		kp_zk_close(c.zk);
	controller_free(&c);
	ctl_authz_destroy(&c);
	channel_security_free(&c);
	return 1;
}
