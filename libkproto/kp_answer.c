/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_answer.c - error answers both daemons build; see kp_answer.h.
 */
#include "kp_answer.h"
#include "kp_codec.h"

bool kp_answer_elect_leaders(const struct kp_elect_leaders_req *req, int16_t err,
			     struct kp_elect_leaders_resp *resp, struct kp_arena *a)
{
	int32_t nt = req->topic_partitions_count > 0 ? req->topic_partitions_count : 0;
	struct kp_elect_leaders_resp_replica_election_result *res;

	resp->error_code = err;
	resp->replica_election_results_count = 0;
	if (nt == 0)
		return true;
	res = kp_arena_calloc(a, (size_t)nt + 1, sizeof(*res));
	if (res == NULL)
		return false;
	for (int32_t i = 0; i < nt; i++) {
		const struct kp_elect_leaders_req_topic_partitions *tp =
			&req->topic_partitions[i];
		int32_t np = tp->partitions_count > 0 ? tp->partitions_count : 0;
		struct kp_elect_leaders_resp_partition_result *pr =
			kp_arena_calloc(a, (size_t)np + 1, sizeof(*pr));

		if (pr == NULL)
			return false;
		kp_struct_init(&kp_elect_leaders_resp_replica_election_result_desc, &res[i]);
		res[i].topic = tp->topic;
		for (int32_t j = 0; j < np; j++) {
			kp_struct_init(&kp_elect_leaders_resp_partition_result_desc, &pr[j]);
			pr[j].partition_id = tp->partitions[j];
			pr[j].error_code = err;
		}
		res[i].partition_result = pr;
		res[i].partition_result_count = np;
		resp->replica_election_results = res;
		resp->replica_election_results_count = i + 1;
	}
	return true;
}
