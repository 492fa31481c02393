/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shutdown.c - controlled shutdown (controlled.shutdown.enable).
 *
 * Before a broker stops it asks the active controller (its endpoint is in
 * /controller) to move leadership away and to take it out of the ISRs it
 * is in, so producers see a retriable NOT_LEADER_OR_FOLLOWER rather than
 * a dead leader and a session timeout.  Our fetchers stop first: a
 * replica that no longer fetches is not added back to an ISR by its
 * leader.  Going past Kafka, we first stop appending to the replicated
 * partitions we lead (producers get the retriable NOT_LEADER_OR_FOLLOWER)
 * and wait, up to DRAIN_MS, until the in-sync followers have everything,
 * so the new leaders hold every write we acknowledged, acks=1 ones
 * included.  Up to controlled.shutdown.max.retries attempts,
 * controlled.shutdown.retry.backoff.ms apart, until the controller
 * reports no partition left; then we wait (bounded) until its
 * LeaderAndIsr requests have made us follower everywhere.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "broker.h"
#include "fetcher.h"
#include "kp_client.h"
#include "kp_errors.h"
#include "kp_listener.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "kp_zk.h"
#include "kp_zkdata.h"
#include "log.h"
#include "partition.h"
#include "shutdown.h"

#define LEAD_WAIT_MS 10000
#define DRAIN_MS 5000

static void count_led(struct partition *p, void *arg)
{
	int *n = arg;

	pthread_mutex_lock(&p->lock);
	*n += p->leader && p->log != NULL && p->nreplicas > 1;
	pthread_mutex_unlock(&p->lock);
}

/*
 * Replicated partitions we lead whose in-sync followers lack some data:
 * the high watermark counts the ISR and the replicas joining it (an
 * expansion we proposed whose answer the stopped main loop will not
 * read: the controller may hold it already, and elect that replica), so
 * it is below the log end exactly when one of them is behind.
 */
static void count_undrained(struct partition *p, void *arg)
{
	int *n = arg;

	pthread_mutex_lock(&p->lock);
	*n += p->leader && p->log != NULL && p->nreplicas > 1 &&
	      atomic_load(&p->hw) < log_end_offset(p->log);
	pthread_mutex_unlock(&p->lock);
}

int broker_led_partitions(struct broker *b)
{
	int n = 0;

	partition_foreach(&b->parts, count_led, &n);
	return n;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int broker_controller_opts(const struct broker *b, const struct kp_endpoint *ep,
			   struct kp_client_opts *o, char *err, size_t errlen)
{
	/* a controller from before the protocol was named there listened
	 * in plaintext */
	int proto = kp_secproto_parse(ep->listener);

	if (proto < 0)
		proto = KP_SEC_PLAINTEXT;
	if (kp_secproto_tls(proto)) {
		if (b->inter_tls == NULL) {
			snprintf(err, errlen, "the controller's listener is %s, but the "
				 "inter-broker listener (whose ssl.* keys are used) is not",
				 kp_secproto_name(proto));
			return -1;
		}
		o->tls = b->inter_tls;
		o->tls_verify_host = b->inter_tls_verify_host;
	}
	if (kp_secproto_sasl(proto)) {
		if (b->inter_sasl_mech == NULL) {
			snprintf(err, errlen, "the controller's listener is %s, but the "
				 "inter-broker listener (whose SASL mechanism and credentials "
				 "are used) is not", kp_secproto_name(proto));
			return -1;
		}
		o->sasl_mechanism = b->inter_sasl_mech;
		o->sasl_username = kp_jaas_get(&b->inter_sasl_jaas, "username");
		o->sasl_password = kp_jaas_get(&b->inter_sasl_jaas, "password");
	}
	return 0;
}

/* One ControlledShutdown: 0 and *remaining, or -1 (message logged). */
static int attempt(struct broker *b, int32_t *remaining)
{
	struct kp_zk_result res;
	struct kp_endpoint ep;
	struct kp_client_opts opts = { .client_id = "broker-controlled-shutdown",
				       .connect_timeout_ms = 10000,
				       .request_timeout_ms = 30000 };
	struct kp_controlled_shutdown_req req;
	struct kp_controlled_shutdown_resp resp;
	struct kp_arena a;
	struct kp_conn *conn;
	char path[64], err[256];
	int64_t epoch = -1;
	int rc;

	rc = kp_zk_get_sync(b->zk, "/controller", &res);
	if (rc != KP_ZK_OK || res.data == NULL ||
	    kp_zk_controller_endpoint(res.data, (size_t)res.len, &ep, err, sizeof(err)) < 0) {
		KP_WARN("controlled shutdown: no active controller to ask (%s)",
			rc != KP_ZK_OK ? kp_zk_strerror(rc) : err);
		kp_zk_result_free(&res);
		return -1;
	}
	kp_zk_result_free(&res);
	if (broker_controller_opts(b, &ep, &opts, err, sizeof(err)) < 0) {
		KP_WARN("controlled shutdown: %s", err);
		return -1;
	}
	snprintf(path, sizeof(path), "/brokers/ids/%d", b->id);
	if (kp_zk_exists_sync(b->zk, path, &res) == KP_ZK_OK && res.has_stat)
		epoch = res.stat.czxid;
	kp_zk_result_free(&res);
	conn = kp_conn_open(ep.host, ep.port, &opts, &rc);
	if (conn == NULL) {
		KP_WARN("controlled shutdown: cannot reach the controller at %s:%d: %s",
			ep.host, ep.port, strerror(-rc));
		return -1;
	}
	kp_struct_init(&kp_controlled_shutdown_req_desc, &req);
	req.broker_id = b->id;
	req.broker_epoch = epoch;
	kp_arena_init(&a, 16 << 20);
	rc = kp_conn_call(conn, KP_API_CONTROLLED_SHUTDOWN, -1, &req, &resp, &a);
	kp_conn_free(conn);
	if (rc < 0 || resp.error_code != 0) {
		KP_WARN("controlled shutdown: %s", rc < 0 ? strerror(-rc)
			: kp_err_name(resp.error_code));
		kp_arena_free(&a);
		return -1;
	}
	*remaining = resp.remaining_partitions_count;
	for (int32_t i = 0; i < resp.remaining_partitions_count && i < 10; i++)
		KP_INFO("controlled shutdown: still leading %.*s-%d",
			(int)resp.remaining_partitions[i].topic_name.len,
			resp.remaining_partitions[i].topic_name.ptr,
			resp.remaining_partitions[i].partition_index);
	kp_arena_free(&a);
	return 0;
}

void broker_controlled_shutdown(struct broker *b)
{
	int retries = kp_config_int(&b->cfg, "controlled.shutdown.max.retries");
	int64_t backoff = kp_config_long(&b->cfg, "controlled.shutdown.retry.backoff.ms");

	if (!kp_config_bool(&b->cfg, "controlled.shutdown.enable"))
		return;
	fetcher_stop(b);
	atomic_store(&b->draining, true);
	{
		int64_t deadline = kp_now_ms() + DRAIN_MS;
		int n;

		for (;;) {
			n = 0;
			partition_foreach(&b->parts, count_undrained, &n);
			if (n == 0 || kp_now_ms() >= deadline)
				break;
			sleep_ms(5);
		}
		if (n > 0)
			KP_WARN("controlled shutdown: %d partition(s) still have "
				"followers behind", n);
	}
	KP_INFO("controlled shutdown: asking the controller to move leadership");
	for (int i = 0; i < retries; i++) {
		int32_t remaining = -1;

		if (attempt(b, &remaining) == 0 && remaining == 0) {
			int64_t deadline = kp_now_ms() + LEAD_WAIT_MS, quiet = 0;
			int led = broker_led_partitions(b), now;

			/* the controller sent its LeaderAndIsr before answering:
			 * wait until they are applied (nothing led, or no change
			 * for a while: what is left has no other live replica) */
			while (led > 0 && kp_now_ms() < deadline && quiet < 300) {
				sleep_ms(10);
				now = broker_led_partitions(b);
				quiet = now < led ? 0 : quiet + 10;
				led = now;
			}
			KP_INFO("controlled shutdown succeeded; leading %d replicated "
				"partition(s)%s", led, led > 0 ? " (no other live replica)" : "");
			return;
		}
		if (i + 1 < retries)
			sleep_ms(backoff);
	}
	KP_WARN("controlled shutdown failed after %d attempt(s); stopping anyway "
		"(leading %d replicated partition(s))", retries,
		broker_led_partitions(b));
}
