/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_wire_spec.c - golden bytes for the message versions no installed
 * client sends (librdkafka 2.0.2, kcat, confluent-kafka 1.7 and
 * kafka-python 2.0.2 stop below them): each byte string here was written
 * by hand from the protocol guide's rules (compact strings and arrays as
 * unsigned varint length + 1, 0 for null; a tagged-field section after
 * every flexible struct; request header v2, response header v1), not
 * produced by the codec.  Each message must encode to exactly these bytes
 * and decode from them to the same values.  tests/golden holds what real
 * clients send; check_codec the generic round trips of every version.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_codec.h"
#include "kp_msgs.h"
#include "kp_proto.h"

static const kp_uuid id_1_16 = { { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
				   15, 16 } };

#define UUID_1_16 "0102030405060708090a0b0c0d0e0f10"
#define ZERO16 "00000000000000000000000000000000"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (const char *p = hex; *p != '\0'; p++) {
		unsigned v;

		if (*p == ' ')
			continue;
		ck_assert_int_eq(sscanf(p, "%2x", &v), 1);
		ck_assert_uint_lt(n, cap);
		out[n++] = (uint8_t)v;
		p++;
	}
	return n;
}

/*
 * msg (of api at version, request or response) encodes to hex, and hex
 * decodes (completely) to a message that encodes the same and equals msg.
 */
static void same_bytes(int16_t key, int16_t version, bool request, const void *msg,
		       const char *hex)
{
	const struct kp_api_desc *api = kp_api_get(key);
	const struct kp_struct_desc *d = request ? api->req : api->resp;
	bool flex = kp_api_flexible(api, version);
	uint8_t want[1024];
	size_t n = unhex(hex, want, sizeof(want));
	struct kp_wbuf w;
	struct kp_reader r;
	struct kp_arena a;
	void *back;

	kp_wbuf_init(&w);
	kp_encode(d, version, flex, msg, &w);
	ck_assert_msg(w.len == n && memcmp(w.data, want, n) == 0,
		      "%s v%d %s: %zu bytes encoded, %zu expected", api->name, version,
		      request ? "request" : "response", w.len, n);
	kp_arena_init(&a, 0);
	back = kp_arena_alloc(&a, d->size);
	kp_reader_init(&r, want, n);
	ck_assert_int_eq(kp_decode(d, version, flex, &r, &a, back), 0);
	ck_assert_uint_eq(kp_reader_left(&r), 0);
	ck_assert(kp_struct_equal(d, version, flex, msg, back));
	kp_arena_free(&a);
	kp_wbuf_free(&w);
}

/* Metadata v11 request, in a whole frame: request header v2. */
START_TEST(metadata_v11_request_frame)
{
	struct kp_metadata_req req;
	struct kp_metadata_req_metadata_request_topic t;
	struct kp_wbuf w;
	uint8_t want[128];
	size_t n;

	kp_struct_init(&kp_metadata_req_desc, &req);
	kp_struct_init(&kp_metadata_req_metadata_request_topic_desc, &t);
	t.name = kp_str_c("t");
	req.topics = &t;
	req.topics_count = 1;
	req.allow_auto_topic_creation = false;
	req.include_topic_authorized_operations = true;
	same_bytes(KP_API_METADATA, 11, true, &req,
		   "02 " ZERO16 " 02 74 00"	/* [topic_id, "t", tags] */
		   " 00 01 00");		/* no auto-creation, ops, tags */
	kp_wbuf_init(&w);
	ck_assert_int_eq(kp_request_frame(&w, KP_API_METADATA, 11, 7, "c", &req), 0);
	n = unhex("00000023"			/* size: 35 */
		  " 0003 000b 00000007 0001 63 00"	/* header v2 */
		  " 02 " ZERO16 " 02 74 00 00 01 00", want, sizeof(want));
	ck_assert_uint_eq(w.len, n);
	ck_assert_mem_eq(w.data, want, n);
	kp_wbuf_free(&w);
}
END_TEST

/* DescribeCluster v0 response, in a frame: response header v1. */
START_TEST(describe_cluster_v0_response_frame)
{
	struct kp_describe_cluster_resp resp;
	struct kp_describe_cluster_resp_describe_cluster_broker b;
	struct kp_wbuf w;
	uint8_t want[128];
	size_t n;

	kp_struct_init(&kp_describe_cluster_resp_desc, &resp);
	kp_struct_init(&kp_describe_cluster_resp_describe_cluster_broker_desc, &b);
	b.broker_id = 1;
	b.host = kp_str_c("h");
	b.port = 9092;
	resp.cluster_id = kp_str_c("c1");
	resp.controller_id = 1;
	resp.brokers = &b;
	resp.brokers_count = 1;
	resp.cluster_authorized_operations = 0x1fa0;
	same_bytes(KP_API_DESCRIBE_CLUSTER, 0, false, &resp,
		   "00000000 0000 00"		/* throttle, error, message null */
		   " 03 6331 00000001"		/* "c1", controller 1 */
		   " 02 00000001 02 68 00002384 00 00"	/* [1, "h", 9092, rack null] */
		   " 00001fa0 00");
	kp_wbuf_init(&w);
	ck_assert_int_eq(kp_response_frame(&w, KP_API_DESCRIBE_CLUSTER, 0, 9, &resp), 0);
	n = unhex("00000025 00000009 00"	/* size 37, header v1 */
		  " 00000000 0000 00 03 6331 00000001"
		  " 02 00000001 02 68 00002384 00 00 00001fa0 00", want, sizeof(want));
	ck_assert_uint_eq(w.len, n);
	ck_assert_mem_eq(w.data, want, n);
	kp_wbuf_free(&w);
}
END_TEST

/* Fetch v12 response with a diverging epoch: a tagged struct field. */
START_TEST(fetch_v12_response_with_diverging_epoch)
{
	struct kp_fetch_resp resp;
	struct kp_fetch_resp_fetchable_topic_response t;
	struct kp_fetch_resp_partition_data p;

	kp_struct_init(&kp_fetch_resp_desc, &resp);
	kp_struct_init(&kp_fetch_resp_fetchable_topic_response_desc, &t);
	kp_struct_init(&kp_fetch_resp_partition_data_desc, &p);
	p.high_watermark = 6;
	p.last_stable_offset = 6;
	p.log_start_offset = 0;
	p.diverging_epoch.epoch = 1;
	p.diverging_epoch.end_offset = 3;
	p.aborted_transactions_count = -1;
	p.records = (kp_records){ .ptr = NULL, .len = 0 };
	t.topic = kp_str_c("t");
	t.partitions = &p;
	t.partitions_count = 1;
	resp.responses = &t;
	resp.responses_count = 1;
	same_bytes(KP_API_FETCH, 12, false, &resp,
		   "00000000 0000 00000000"	/* throttle, error, session */
		   " 02 02 74 02"		/* [topic "t" [partition */
		   " 00000000 0000 0000000000000006 0000000000000006 0000000000000000"
		   " 00 ffffffff 01"		/* aborted null, replica -1, records "" */
		   " 01 00 0d 00000001 0000000000000003 00"	/* tag 0: {1, 3} */
		   " 00 00");
}
END_TEST

/* JoinGroup v7: an error answer has null protocol type and name. */
START_TEST(join_group_v7_error_response)
{
	struct kp_join_group_resp resp;

	kp_struct_init(&kp_join_group_resp_desc, &resp);
	resp.error_code = 79;
	resp.generation_id = -1;
	resp.protocol_type = KP_STR_NULL;
	resp.protocol_name = KP_STR_NULL;
	resp.leader = kp_str_c("");
	resp.member_id = kp_str_c("m");
	same_bytes(KP_API_JOIN_GROUP, 7, false, &resp,
		   "00000000 004f ffffffff 00 00 01 02 6d 01 00");
}
END_TEST

/* SyncGroup v5 request: protocol type and name (KIP-559). */
START_TEST(sync_group_v5_request)
{
	struct kp_sync_group_req req;
	struct kp_sync_group_req_sync_group_request_assignment as;
	static const uint8_t a01[] = { 0, 1 };

	kp_struct_init(&kp_sync_group_req_desc, &req);
	kp_struct_init(&kp_sync_group_req_sync_group_request_assignment_desc, &as);
	as.member_id = kp_str_c("m");
	as.assignment = (kp_bytes){ a01, 2 };
	req.group_id = kp_str_c("g");
	req.generation_id = 1;
	req.member_id = kp_str_c("m");
	req.protocol_type = kp_str_c("consumer");
	req.protocol_name = kp_str_c("range");
	req.assignments = &as;
	req.assignments_count = 1;
	same_bytes(KP_API_SYNC_GROUP, 5, true, &req,
		   "02 67 00000001 02 6d 00"		/* "g", 1, "m", instance null */
		   " 09 636f6e73756d6572 06 72616e6765"	/* "consumer", "range" */
		   " 02 02 6d 03 0001 00 00");
}
END_TEST

/* DeleteTopics v6 request: a topic by id, its name null. */
START_TEST(delete_topics_v6_request_by_id)
{
	struct kp_delete_topics_req req;
	struct kp_delete_topics_req_delete_topic_state t;

	kp_struct_init(&kp_delete_topics_req_desc, &req);
	kp_struct_init(&kp_delete_topics_req_delete_topic_state_desc, &t);
	t.name = KP_STR_NULL;
	t.topic_id = id_1_16;
	req.topics = &t;
	req.topics_count = 1;
	req.timeout_ms = 30000;
	same_bytes(KP_API_DELETE_TOPICS, 6, true, &req,
		   "02 00 " UUID_1_16 " 00 00007530 00");
}
END_TEST

/* LeaderAndIsr v5 response: errors per topic id. */
START_TEST(leader_and_isr_v5_response)
{
	struct kp_leader_and_isr_resp resp;
	struct kp_leader_and_isr_resp_leader_and_isr_topic_error t;
	struct kp_leader_and_isr_leader_and_isr_partition_error e;

	kp_struct_init(&kp_leader_and_isr_resp_desc, &resp);
	kp_struct_init(&kp_leader_and_isr_resp_leader_and_isr_topic_error_desc, &t);
	kp_struct_init(&kp_leader_and_isr_leader_and_isr_partition_error_desc, &e);
	e.error_code = 103;
	t.topic_id = id_1_16;
	t.partition_errors = &e;
	t.partition_errors_count = 1;
	resp.topics = &t;
	resp.topics_count = 1;
	same_bytes(KP_API_LEADER_AND_ISR, 5, false, &resp,
		   "0000 02 " UUID_1_16 " 02 00000000 0067 00 00 00");
}
END_TEST

/* CreateTopics v7 response: topic id and the created configuration. */
START_TEST(create_topics_v7_response)
{
	struct kp_create_topics_resp resp;
	struct kp_create_topics_resp_creatable_topic_result t;
	struct kp_create_topics_resp_creatable_topic_configs c;

	kp_struct_init(&kp_create_topics_resp_desc, &resp);
	kp_struct_init(&kp_create_topics_resp_creatable_topic_result_desc, &t);
	kp_struct_init(&kp_create_topics_resp_creatable_topic_configs_desc, &c);
	c.name = kp_str_c("cleanup.policy");
	c.value = kp_str_c("delete");
	c.config_source = 5;
	t.name = kp_str_c("t");
	t.topic_id = id_1_16;
	t.num_partitions = 1;
	t.replication_factor = 1;
	t.configs = &c;
	t.configs_count = 1;
	resp.topics = &t;
	resp.topics_count = 1;
	same_bytes(KP_API_CREATE_TOPICS, 7, false, &resp,
		   "00000000 02 02 74 " UUID_1_16 " 0000 00 00000001 0001"
		   " 02 0f 636c65616e75702e706f6c696379 07 64656c657465 00 05 00 00"
		   " 00 00");
}
END_TEST

/* DescribeAcls v2 response: Kafka's answer without an authorizer. */
START_TEST(describe_acls_v2_response)
{
	struct kp_describe_acls_resp resp;

	kp_struct_init(&kp_describe_acls_resp_desc, &resp);
	resp.error_code = 54;
	resp.error_message = kp_str_c("x");
	same_bytes(KP_API_DESCRIBE_ACLS, 2, false, &resp, "00000000 0036 02 78 01 00");
}
END_TEST

/* Produce v9 request: records as compact bytes. */
START_TEST(produce_v9_request)
{
	struct kp_produce_req req;
	struct kp_produce_req_topic_produce_data t;
	struct kp_produce_req_partition_produce_data p;

	kp_struct_init(&kp_produce_req_desc, &req);
	kp_struct_init(&kp_produce_req_topic_produce_data_desc, &t);
	kp_struct_init(&kp_produce_req_partition_produce_data_desc, &p);
	p.records = (kp_records){ .ptr = (const uint8_t *)"abc", .len = 3 };
	t.name = kp_str_c("t");
	t.partition_data = &p;
	t.partition_data_count = 1;
	req.acks = -1;
	req.timeout_ms = 1000;
	req.topic_data = &t;
	req.topic_data_count = 1;
	same_bytes(KP_API_PRODUCE, 9, true, &req,
		   "00 ffff 000003e8 02 02 74 02 00000000 04 616263 00 00 00");
}
END_TEST

/* ListOffsets v6 request. */
START_TEST(list_offsets_v6_request)
{
	struct kp_list_offsets_req req;
	struct kp_list_offsets_req_list_offsets_topic t;
	struct kp_list_offsets_req_list_offsets_partition p;

	kp_struct_init(&kp_list_offsets_req_desc, &req);
	kp_struct_init(&kp_list_offsets_req_list_offsets_topic_desc, &t);
	kp_struct_init(&kp_list_offsets_req_list_offsets_partition_desc, &p);
	p.timestamp = -2;
	t.name = kp_str_c("t");
	t.partitions = &p;
	t.partitions_count = 1;
	req.replica_id = -1;
	req.topics = &t;
	req.topics_count = 1;
	same_bytes(KP_API_LIST_OFFSETS, 6, true, &req,
		   "ffffffff 00 02 02 74 02 00000000 ffffffff fffffffffffffffe 00 00 00");
}
END_TEST

/* OffsetFetch v7 response. */
START_TEST(offset_fetch_v7_response)
{
	struct kp_offset_fetch_resp resp;
	struct kp_offset_fetch_resp_offset_fetch_response_topic t;
	struct kp_offset_fetch_resp_offset_fetch_response_partition p;

	kp_struct_init(&kp_offset_fetch_resp_desc, &resp);
	kp_struct_init(&kp_offset_fetch_resp_offset_fetch_response_topic_desc, &t);
	kp_struct_init(&kp_offset_fetch_resp_offset_fetch_response_partition_desc, &p);
	p.committed_offset = 10;
	p.metadata = kp_str_c("");
	t.name = kp_str_c("t");
	t.partitions = &p;
	t.partitions_count = 1;
	resp.topics = &t;
	resp.topics_count = 1;
	same_bytes(KP_API_OFFSET_FETCH, 7, false, &resp,
		   "00000000 02 02 74 02 00000000 000000000000000a ffffffff 01 0000 00"
		   " 00 0000 00");
}
END_TEST

/* ListGroups v4: the state filter and each group's state. */
START_TEST(list_groups_v4)
{
	struct kp_list_groups_req req;
	struct kp_list_groups_resp resp;
	struct kp_list_groups_resp_listed_group g;
	kp_str states[1] = { { "Empty", 5 } };

	kp_struct_init(&kp_list_groups_req_desc, &req);
	req.states_filter = states;
	req.states_filter_count = 1;
	same_bytes(KP_API_LIST_GROUPS, 4, true, &req, "02 06 456d707479 00");
	kp_struct_init(&kp_list_groups_resp_desc, &resp);
	kp_struct_init(&kp_list_groups_resp_listed_group_desc, &g);
	g.group_id = kp_str_c("g");
	g.protocol_type = kp_str_c("consumer");
	g.group_state = kp_str_c("Empty");
	resp.groups = &g;
	resp.groups_count = 1;
	same_bytes(KP_API_LIST_GROUPS, 4, false, &resp,
		   "00000000 0000 02 02 67 09 636f6e73756d6572 06 456d707479 00 00");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire_spec");
	TCase *tc = tcase_create("versions");

	tcase_add_test(tc, metadata_v11_request_frame);
	tcase_add_test(tc, describe_cluster_v0_response_frame);
	tcase_add_test(tc, fetch_v12_response_with_diverging_epoch);
	tcase_add_test(tc, join_group_v7_error_response);
	tcase_add_test(tc, sync_group_v5_request);
	tcase_add_test(tc, delete_topics_v6_request_by_id);
	tcase_add_test(tc, leader_and_isr_v5_response);
	tcase_add_test(tc, create_topics_v7_response);
	tcase_add_test(tc, describe_acls_v2_response);
	tcase_add_test(tc, produce_v9_request);
	tcase_add_test(tc, list_offsets_v6_request);
	tcase_add_test(tc, offset_fetch_v7_response);
	tcase_add_test(tc, list_groups_v4);
	suite_add_tcase(s, tc);
	return check_run(s);
}
