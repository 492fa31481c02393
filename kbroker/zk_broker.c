/* SPDX-License-Identifier: Apache-2.0 */
/*
 * zk_broker.c - cluster id, broker id generation and registration; see
 * zk_broker.h.  These run at start-up and after a session expiry, on the
 * main thread, with the blocking helpers of kp_zk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "broker.h"
#include "kp_log.h"
#include "kp_zk.h"
#include "kp_zkdata.h"
#include "zk_broker.h"

#define RESERVED_BROKER_MAX_ID 1000

int zk_broker_ensure_paths(struct broker *b, char *err, size_t errlen)
{
	static const char *const paths[] = {
		"/consumers", "/brokers/ids", "/brokers/topics", "/brokers/seqid",
		"/config/changes", "/config/topics", "/config/clients",
		"/config/users", "/config/brokers", "/config/ips",
		"/admin/delete_topics", "/isr_change_notification",
		"/latest_producer_id_block", "/log_dir_event_notification",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int rc = kp_zk_ensure_path(b->zk, paths[i]);

		if (rc != KP_ZK_OK) {
			snprintf(err, errlen, "creating %s: %s", paths[i],
				 kp_zk_strerror(rc));
			return -1;
		}
	}
	return 0;
}

int zk_broker_cluster_id(struct broker *b, char *err, size_t errlen)
{
	struct kp_zk_result res;
	int rc = kp_zk_get_sync(b->zk, "/cluster/id", &res);

	if (rc == KP_ZK_NONODE) {
		char id[23], *json;

		kp_zk_result_free(&res);
		kp_cluster_id_generate(id);
		json = kp_zk_cluster_id_encode(id);
		kp_zk_ensure_path(b->zk, "/cluster");
		rc = kp_zk_create_sync(b->zk, "/cluster/id", json, (int32_t)strlen(json),
				       KP_ZK_PERSISTENT, &res);
		free(json);
		kp_zk_result_free(&res);
		if (rc != KP_ZK_OK && rc != KP_ZK_NODEEXISTS) {
			snprintf(err, errlen, "creating /cluster/id: %s", kp_zk_strerror(rc));
			return -1;
		}
		if (rc == KP_ZK_OK)
			KP_INFO("created cluster id %s", id);
		rc = kp_zk_get_sync(b->zk, "/cluster/id", &res);	/* the winner's */
	}
	if (rc != KP_ZK_OK) {
		snprintf(err, errlen, "reading /cluster/id: %s", kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return -1;
	}
	rc = kp_zk_cluster_id_decode(res.data ? res.data : "", (size_t)(res.len > 0 ? res.len : 0),
				     b->cluster_id, sizeof(b->cluster_id), err, errlen);
	kp_zk_result_free(&res);
	if (rc < 0)
		return -1;
	return 0;
}

int zk_broker_generate_id(struct broker *b, int32_t *id, char *err,
			  size_t errlen)
{
	struct kp_zk_result res;
	int rc;

	/* as Kafka: the version of /brokers/seqid after an unconditional
	 * write is a cluster-wide sequence */
	kp_zk_ensure_path(b->zk, "/brokers/seqid");
	rc = kp_zk_set_sync(b->zk, "/brokers/seqid", "", 0, -1, &res);
	if (rc != KP_ZK_OK || !res.has_stat) {
		snprintf(err, errlen, "generating a broker id: %s", kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return -1;
	}
	*id = RESERVED_BROKER_MAX_ID + res.stat.version;
	kp_zk_result_free(&res);
	return 0;
}

int zk_broker_register(struct broker *b, char *err, size_t errlen)
{
	struct kp_zk_broker reg;
	struct kp_zk_result res;
	char path[64], (*pmap)[2][KP_LISTENER_MAX];
	char *json;
	int rc;

	memset(&reg, 0, sizeof(reg));
	reg.id = b->id;
	reg.version = 5;
	reg.timestamp = kp_wall_ms();
	reg.endpoints = b->advertised;
	reg.nendpoints = b->nadvertised;
	pmap = calloc(b->nadvertised + 1, sizeof(*pmap));
	if (pmap == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < b->nadvertised; i++) {
		snprintf(pmap[i][0], KP_LISTENER_MAX, "%s", b->advertised[i].listener);
		snprintf(pmap[i][1], KP_LISTENER_MAX, "%s",
			 kp_secproto_name(b->lsn.adv_proto[i]));
	}
	reg.protocol_map = pmap;
	reg.nprotocols = b->nadvertised;
	reg.rack = b->rack;
	json = kp_zk_broker_encode(&reg);
	free(pmap);
	if (json == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(path, sizeof(path), "/brokers/ids/%d", b->id);
	kp_zk_ensure_path(b->zk, "/brokers/ids");
	rc = kp_zk_create_sync(b->zk, path, json, (int32_t)strlen(json),
			       KP_ZK_EPHEMERAL, &res);
	kp_zk_result_free(&res);
	free(json);
	if (rc == KP_ZK_NODEEXISTS) {
		rc = kp_zk_exists_sync(b->zk, path, &res);
		if (rc == KP_ZK_OK && res.stat.ephemeral_owner == kp_zk_session_id(b->zk)) {
			kp_zk_result_free(&res);
			return 0;	/* ours, from before a reconnect */
		}
		kp_zk_result_free(&res);
		snprintf(err, errlen, "broker id %d is already registered by another "
			 "live broker (%s exists)", b->id, path);
		return -1;
	}
	if (rc != KP_ZK_OK) {
		snprintf(err, errlen, "registering %s: %s", path, kp_zk_strerror(rc));
		return -1;
	}
	KP_INFO("registered as %s", path);
	return 0;
}
