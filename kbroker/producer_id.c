/* SPDX-License-Identifier: Apache-2.0 */
/*
 * producer_id.c - producer id blocks in ZooKeeper; see producer_id.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_log.h"
#include "kp_zk.h"
#include "kp_zkdata.h"
#include "producer_id.h"

/* conflicts with other brokers before giving up for this request */
#define CLAIM_TRIES 10

void producer_ids_init(struct producer_ids *p)
{
	pthread_mutex_init(&p->lock, NULL);
	p->next = p->limit = 0;
}

void producer_ids_destroy(struct producer_ids *p)
{
	pthread_mutex_destroy(&p->lock);
}

int producer_ids_next(struct producer_ids *p, int64_t *id)
{
	int rc = -EAGAIN;

	pthread_mutex_lock(&p->lock);
	if (p->next < p->limit) {
		*id = p->next++;
		rc = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int producer_ids_claim(struct producer_ids *p, struct kp_zk *zk, int32_t broker,
		       char *err, size_t errlen)
{
	bool have;

	pthread_mutex_lock(&p->lock);
	have = p->next < p->limit;
	pthread_mutex_unlock(&p->lock);
	if (have)
		return 0;
	for (int t = 0; t < CLAIM_TRIES; t++) {
		struct kp_zk_result res;
		int64_t start = 0, end, prev_start, prev_end;
		int32_t prev_broker, version = -1;
		char *json;
		int rc;

		rc = kp_zk_get_sync(zk, PRODUCER_ID_ZNODE, &res);
		if (rc != KP_ZK_OK && rc != KP_ZK_NONODE) {
			snprintf(err, errlen, "reading %s: ZooKeeper error %d",
				 PRODUCER_ID_ZNODE, rc);
			kp_zk_result_free(&res);
			return -1;
		}
		if (rc == KP_ZK_OK) {
			version = res.stat.version;
			/* Kafka creates the node empty at start: no block yet */
			if (res.data != NULL && res.len > 0) {
				if (kp_zk_pid_block_decode(res.data, (size_t)res.len,
							   &prev_broker, &prev_start,
							   &prev_end, err, errlen) < 0) {
					kp_zk_result_free(&res);
					return -1;
				}
				if (prev_end > INT64_MAX - PRODUCER_ID_BLOCK) {
					snprintf(err, errlen, "producer ids exhausted");
					kp_zk_result_free(&res);
					return -1;
				}
				start = prev_end + 1;
			}
		}
		kp_zk_result_free(&res);
		end = start + PRODUCER_ID_BLOCK - 1;
		json = kp_zk_pid_block_encode(broker, start, end);
		if (json == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (version < 0)
			rc = kp_zk_create_sync(zk, PRODUCER_ID_ZNODE, json,
					       (int32_t)strlen(json), KP_ZK_PERSISTENT, NULL);
		else
			rc = kp_zk_set_sync(zk, PRODUCER_ID_ZNODE, json,
					    (int32_t)strlen(json), version, NULL);
		free(json);
		if (rc == KP_ZK_OK) {
			KP_INFO("acquired producer id block %" PRId64 "-%" PRId64
				" (%s version %d)", start, end, PRODUCER_ID_ZNODE,
				version + 1);
			pthread_mutex_lock(&p->lock);
			p->next = start;
			p->limit = end + 1;
			pthread_mutex_unlock(&p->lock);
			return 0;
		}
		if (rc != KP_ZK_BADVERSION && rc != KP_ZK_NODEEXISTS) {
			snprintf(err, errlen, "writing %s: ZooKeeper error %d",
				 PRODUCER_ID_ZNODE, rc);
			return -1;
		}
		KP_DEBUG("%s: another broker claimed a block first; again",
			 PRODUCER_ID_ZNODE);
	}
	snprintf(err, errlen, "%s: %d conflicting writes in a row", PRODUCER_ID_ZNODE,
		 CLAIM_TRIES);
	return -1;
}
