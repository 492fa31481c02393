/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_answer.h - answers the broker and the controller build alike: one
 * error in every slot of a response, for everything the request names.
 * Private to skald's daemons (not installed).
 */
#ifndef KP_ANSWER_H
#define KP_ANSWER_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_msgs.h"

/*
 * ElectLeaders answered with err: the top-level code (v1+) and a result
 * carrying err for every partition the request names (v0 has only
 * those; a request for every partition, a null list, gets none).  Memory
 * from a; false when it ran out (resp then lists the topics that fit).
 */
bool kp_answer_elect_leaders(const struct kp_elect_leaders_req *req, int16_t err,
			     struct kp_elect_leaders_resp *resp, struct kp_arena *a);

#endif /* KP_ANSWER_H */
