/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_quota.h - client quotas in the broker (api_quota.c): the entities
 * from ZooKeeper, the request path's accounting (net.c, api_fetch.c),
 * DescribeClientQuotas and AlterClientQuotas (api.h).
 */
#ifndef API_QUOTA_H
#define API_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_zkdata.h"

struct broker;
struct kp_mtext;
struct net_req;

/* Main loop: every quota entity of /config/users and /config/clients
 * into b->cquota.  0 or -1. */
int quota_load_all(struct broker *b);
/* Main loop: a notification's entity ("clients/<c>" or
 * "users/<u>/clients/<c>") re-read. */
void quota_reload(struct broker *b, const char *entity);
/* Main loop: /config/users/<unode>'s config, read once for the SCRAM
 * store and the quotas. */
void quota_apply_user(struct broker *b, const char *unode,
		      const struct kp_zk_entity_config *c);

/* net.c, before a response is encoded (answered) or an acks=0 produce
 * is done (!answered): record the request, set r->throttle_ms. */
void quota_on_reply(struct net_req *r, bool answered);
/* Set the response's top-level throttle_time_ms to r->throttle_ms when
 * that is larger. */
void quota_set_throttle_field(struct net_req *r, void *resp);
/* api_fetch.c: the most a consumer's fetch may return for its quota
 * (INT64_MAX: no limit), and, once the response is built, whether it
 * must go out empty because the consumer is throttled (resp_bytes: its
 * size). */
int64_t quota_fetch_budget(struct net_req *r);
bool quota_fetch_check(struct net_req *r, int64_t resp_bytes);

/* The quota sensors' families (metrics.c's render). */
void quota_metrics_render(struct kp_mtext *t, struct broker *b);

#endif /* API_QUOTA_H */
