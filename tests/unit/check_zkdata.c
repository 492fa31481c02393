/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_zkdata.c - ZooKeeper JSON payloads read and written as Kafka 2.8
 * does, and endpoint strings.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kp_zkdata.h"

#define LEN(s) strlen(s)

START_TEST(endpoints_parse_ipv4_ipv6_and_empty_hosts)
{
	struct kp_endpoint ep;
	struct kp_endpoint *eps;
	size_t n;
	char err[256], buf[300];

	ck_assert_int_eq(kp_endpoint_parse("PLAINTEXT://b1.example:9092", &ep, err, sizeof(err)), 0);
	ck_assert_str_eq(ep.listener, "PLAINTEXT");
	ck_assert_str_eq(ep.host, "b1.example");
	ck_assert_int_eq(ep.port, 9092);
	ck_assert_int_eq(kp_endpoint_parse("INTERNAL://[::1]:19092", &ep, err, sizeof(err)), 0);
	ck_assert_str_eq(ep.host, "::1");
	kp_endpoint_format(&ep, buf, sizeof(buf));
	ck_assert_str_eq(buf, "INTERNAL://[::1]:19092");
	ck_assert_int_eq(kp_endpoint_parse("PLAINTEXT://:9092", &ep, err, sizeof(err)), 0);
	ck_assert_str_eq(ep.host, "");
	ck_assert_int_eq(kp_endpoint_parse("PLAINTEXT//x:1", &ep, err, sizeof(err)), -1);
	ck_assert_int_eq(kp_endpoint_parse("PLAINTEXT://x:70000", &ep, err, sizeof(err)), -1);
	ck_assert_int_eq(kp_endpoint_parse("PLAINTEXT://x:", &ep, err, sizeof(err)), -1);
	ck_assert_int_eq(kp_endpoint_parse("PLAINTEXT://::1:9", &ep, err, sizeof(err)), -1);
	ck_assert_int_eq(kp_endpoint_parse("BAD NAME://x:1", &ep, err, sizeof(err)), -1);

	ck_assert_int_eq(kp_endpoints_parse("PLAINTEXT://:9092, SSL://h:9093", &eps, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(eps[1].listener, "SSL");
	free(eps);
	ck_assert_int_eq(kp_endpoints_parse("A://:1,A://:2", &eps, &n, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "more than once"));
}
END_TEST

/* A broker registration as Kafka 2.8 writes it (JSON version 5). */
START_TEST(broker_registration_reads_kafkas_json)
{
	static const char *j =
		"{\"version\":5,\"host\":\"b1.example\",\"port\":9092,\"jmx_port\":-1,"
		"\"timestamp\":\"1616161616161\","
		"\"endpoints\":[\"PLAINTEXT://b1.example:9092\",\"REPLICATION://b1.example:9093\"],"
		"\"listener_security_protocol_map\":{\"PLAINTEXT\":\"PLAINTEXT\",\"REPLICATION\":\"PLAINTEXT\"},"
		"\"rack\":\"rack-a\",\"features\":{}}";
	struct kp_zk_broker b = { .id = 7 }, b2 = { .id = 7 };
	char err[256];
	char *enc;

	ck_assert_int_eq(kp_zk_broker_decode(j, LEN(j), &b, err, sizeof(err)), 0);
	ck_assert_int_eq(b.id, 7);
	ck_assert_int_eq(b.version, 5);
	ck_assert(b.timestamp == 1616161616161LL);
	ck_assert_uint_eq(b.nendpoints, 2);
	ck_assert_int_eq(kp_zk_broker_endpoint(&b, "REPLICATION")->port, 9093);
	ck_assert_str_eq(b.rack, "rack-a");
	ck_assert_uint_eq(b.nprotocols, 2);

	enc = kp_zk_broker_encode(&b);
	ck_assert_ptr_nonnull(strstr(enc, "\"timestamp\":\"1616161616161\""));
	ck_assert_ptr_nonnull(strstr(enc, "\"host\":\"b1.example\""));
	ck_assert_ptr_nonnull(strstr(enc, "\"port\":9092"));
	ck_assert_ptr_nonnull(strstr(enc, "\"jmx_port\":-1"));
	ck_assert_int_eq(kp_zk_broker_decode(enc, LEN(enc), &b2, err, sizeof(err)), 0);
	ck_assert_uint_eq(b2.nendpoints, 2);
	ck_assert_str_eq(b2.endpoints[1].listener, "REPLICATION");
	free(enc);
	kp_zk_broker_free(&b);
	kp_zk_broker_free(&b2);
}
END_TEST

START_TEST(topic_assignment_round_trips_with_reassignment_maps)
{
	static const char *j =
		"{\"version\":3,\"topic_id\":\"Xl8q1Zo2T2u1qvXH3b5uGg\","
		"\"partitions\":{\"1\":[2,3,1],\"0\":[4,5,6,1,2,3]},"
		"\"adding_replicas\":{\"0\":[4,5,6]},\"removing_replicas\":{\"0\":[1,2,3]}}";
	struct kp_zk_topic t, t2;
	char err[256], *enc;

	ck_assert_int_eq(kp_zk_topic_decode(j, LEN(j), &t, err, sizeof(err)), 0);
	ck_assert_int_eq(t.npartitions, 2);
	ck_assert_int_eq(t.parts[0].n, 6);
	ck_assert_int_eq(t.parts[0].ids[0], 4);
	ck_assert_int_eq(t.parts[1].ids[0], 2);
	ck_assert_int_eq(t.adding[0].n, 3);
	ck_assert_int_eq(t.removing[1].n, 0);
	ck_assert_str_eq(t.topic_id, "Xl8q1Zo2T2u1qvXH3b5uGg");
	enc = kp_zk_topic_encode(&t);
	ck_assert_int_eq(kp_zk_topic_decode(enc, LEN(enc), &t2, err, sizeof(err)), 0);
	ck_assert_int_eq(t2.parts[0].ids[5], 3);
	ck_assert_int_eq(t2.removing[0].ids[2], 3);
	free(enc);
	kp_zk_topic_free(&t);
	kp_zk_topic_free(&t2);
}
END_TEST

START_TEST(bad_topic_assignments_are_rejected)
{
	static const char *bad[] = {
		"", "[]", "{\"version\":1}", "{\"partitions\":{}}",
		"{\"partitions\":{\"0\":[1],\"2\":[1]}}",
		"{\"partitions\":{\"0\":[]}}", "{\"partitions\":{\"0\":[-1]}}",
		"{\"partitions\":{\"x\":[1]}}", "{\"partitions\":{\"0\":\"1\"}}",
		"{\"partitions\":{\"0\":[1]},\"adding_replicas\":{\"5\":[1]}}",
		"{\"partitions\":{\"0\":[1],\"0\":[2]}}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kp_zk_topic t;
		char err[256] = "";

		ck_assert_msg(kp_zk_topic_decode(bad[i], LEN(bad[i]), &t, err, sizeof(err)) == -1,
			      "accepted %s", bad[i]);
		ck_assert(err[0] != '\0');
	}
}
END_TEST

START_TEST(partition_state_and_controller)
{
	static const char *j =
		"{\"controller_epoch\":7,\"leader\":2,\"version\":1,\"leader_epoch\":13,\"isr\":[2,3,1]}";
	struct kp_zk_partition_state s;
	char err[256], *enc, id[64];
	int32_t cid;
	struct kp_endpoint ep;

	ck_assert_int_eq(kp_zk_partition_state_decode(j, LEN(j), &s, err, sizeof(err)), 0);
	ck_assert_int_eq(s.controller_epoch, 7);
	ck_assert_int_eq(s.leader, 2);
	ck_assert_int_eq(s.leader_epoch, 13);
	ck_assert_int_eq(s.isr.n, 3);
	enc = kp_zk_partition_state_encode(&s);
	ck_assert_str_eq(enc, j);
	free(enc);
	kp_zk_partition_state_free(&s);

	enc = kp_zk_controller_encode(3001, 1616161616161LL, NULL);
	ck_assert_str_eq(enc, "{\"version\":1,\"brokerid\":3001,\"timestamp\":\"1616161616161\"}");
	ck_assert_int_eq(kp_zk_controller_decode(enc, LEN(enc), &cid, err, sizeof(err)), 0);
	ck_assert_int_eq(cid, 3001);
	ck_assert_int_eq(kp_zk_controller_endpoint(enc, LEN(enc), &ep, err, sizeof(err)),
			 -ENOENT);
	free(enc);
	ck_assert_int_eq(kp_endpoint_parse("PLAINTEXT://127.0.0.1:9093", &ep, err,
					   sizeof(err)), 0);
	enc = kp_zk_controller_encode(101, 5, &ep);
	ck_assert_str_eq(enc, "{\"version\":1,\"brokerid\":101,\"timestamp\":\"5\","
			 "\"endpoints\":[\"PLAINTEXT://127.0.0.1:9093\"]}");
	memset(&ep, 0, sizeof(ep));
	ck_assert_int_eq(kp_zk_controller_endpoint(enc, LEN(enc), &ep, err, sizeof(err)), 0);
	ck_assert_str_eq(ep.host, "127.0.0.1");
	ck_assert_int_eq(ep.port, 9093);
	free(enc);

	enc = kp_zk_cluster_id_encode("Y1hyRZCbQZ2sSLp2fLmQxA");
	ck_assert_str_eq(enc, "{\"version\":\"1\",\"id\":\"Y1hyRZCbQZ2sSLp2fLmQxA\"}");
	ck_assert_int_eq(kp_zk_cluster_id_decode(enc, LEN(enc), id, sizeof(id), err, sizeof(err)), 0);
	ck_assert_str_eq(id, "Y1hyRZCbQZ2sSLp2fLmQxA");
	free(enc);
}
END_TEST

START_TEST(cluster_ids_are_22_url_safe_characters)
{
	char a[23], b[23];
	int i;

	kp_cluster_id_generate(a);
	kp_cluster_id_generate(b);
	ck_assert_uint_eq(strlen(a), 22);
	ck_assert_str_ne(a, b);
	for (i = 0; i < 22; i++)
		ck_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
}
END_TEST

/* Topic ids as Kafka writes them: URL-safe base64 of the 16 bytes, no
 * padding; anything else does not parse. */
START_TEST(uuids_format_and_parse_as_kafka_writes_them)
{
	kp_uuid u, back;
	char s[23], a[23];

	for (int i = 0; i < 16; i++)
		u.b[i] = (uint8_t)i;
	kp_uuid_format(&u, s);
	ck_assert_str_eq(s, "AAECAwQFBgcICQoLDA0ODw");
	ck_assert_int_eq(kp_uuid_parse(s, &back), 0);
	ck_assert_mem_eq(back.b, u.b, 16);
	memset(u.b, 0xff, 16);
	kp_uuid_format(&u, s);
	ck_assert_str_eq(s, "_____________________w");
	ck_assert_int_eq(kp_uuid_parse(s, &back), 0);
	ck_assert_mem_eq(back.b, u.b, 16);
	kp_cluster_id_generate(a);
	ck_assert_int_eq(kp_uuid_parse(a, &back), 0);
	kp_uuid_format(&back, s);
	ck_assert_str_eq(s, a);
	ck_assert_int_eq(back.b[6] >> 4, 4);	/* version 4 */
	ck_assert_int_eq(kp_uuid_parse("AAECAwQFBgcICQoLDA0OD", &back), -1);
	ck_assert_int_eq(kp_uuid_parse("AAECAwQFBgcICQoLDA0ODx", &back), -1);
	ck_assert_int_eq(kp_uuid_parse("AAECAwQFBgcICQoLDA0OD+", &back), -1);
	ck_assert_int_eq(kp_uuid_parse("AAECAwQFBgcICQoLDA0ODw=", &back), -1);
	ck_assert_int_eq(kp_uuid_parse("", &back), -1);
}
END_TEST

START_TEST(configs_and_change_notifications)
{
	static const char *j =
		"{\"version\":1,\"config\":{\"retention.ms\":\"86400000\",\"cleanup.policy\":\"compact\"}}";
	struct kp_zk_entity_config c;
	char err[256], path[256], *enc;
	static const char *v1 = "{\"version\":1,\"entity_type\":\"topics\",\"entity_name\":\"t\"}";

	ck_assert_int_eq(kp_zk_config_decode(j, LEN(j), &c, err, sizeof(err)), 0);
	ck_assert_str_eq(kp_zk_config_get(&c, "retention.ms"), "86400000");
	ck_assert_int_eq(kp_zk_config_set(&c, "retention.ms", NULL), 0);
	ck_assert_ptr_null(kp_zk_config_get(&c, "retention.ms"));
	ck_assert_int_eq(kp_zk_config_set(&c, "segment.ms", "100"), 0);
	enc = kp_zk_config_encode(&c);
	ck_assert_ptr_nonnull(strstr(enc, "\"segment.ms\":\"100\""));
	free(enc);
	kp_zk_config_free(&c);

	enc = kp_zk_config_change_encode("topics/my-topic");
	ck_assert_str_eq(enc, "{\"version\":2,\"entity_path\":\"topics/my-topic\"}");
	ck_assert_int_eq(kp_zk_config_change_decode(enc, LEN(enc), path, sizeof(path), err, sizeof(err)), 0);
	ck_assert_str_eq(path, "topics/my-topic");
	free(enc);
	ck_assert_int_eq(kp_zk_config_change_decode(v1, LEN(v1), path, sizeof(path), err, sizeof(err)), 0);
	ck_assert_str_eq(path, "topics/t");
}
END_TEST

START_TEST(partition_lists_for_admin_nodes)
{
	static const char *j =
		"{\"version\":1,\"partitions\":[{\"topic\":\"t\",\"partition\":0,\"replicas\":[4,5,6]}]}";
	struct kp_zk_tp_list l;
	char err[256], *enc;

	ck_assert_int_eq(kp_zk_tp_list_decode(j, LEN(j), true, &l, err, sizeof(err)), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.items[0].topic, "t");
	ck_assert_int_eq(l.items[0].replicas.ids[2], 6);
	enc = kp_zk_tp_list_encode(&l, true);
	ck_assert_str_eq(enc, j);
	free(enc);
	enc = kp_zk_tp_list_encode(&l, false);
	ck_assert_str_eq(enc, "{\"version\":1,\"partitions\":[{\"topic\":\"t\",\"partition\":0}]}");
	kp_zk_tp_list_free(&l);
	/* Reassignment entries need replicas. */
	ck_assert_int_eq(kp_zk_tp_list_decode(enc, LEN(enc), true, &l, err, sizeof(err)), -1);
	free(enc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("zkdata");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, endpoints_parse_ipv4_ipv6_and_empty_hosts);
	tcase_add_test(tc, broker_registration_reads_kafkas_json);
	tcase_add_test(tc, topic_assignment_round_trips_with_reassignment_maps);
	tcase_add_test(tc, bad_topic_assignments_are_rejected);
	tcase_add_test(tc, partition_state_and_controller);
	tcase_add_test(tc, cluster_ids_are_22_url_safe_characters);
	tcase_add_test(tc, uuids_format_and_parse_as_kafka_writes_them);
	tcase_add_test(tc, configs_and_change_notifications);
	tcase_add_test(tc, partition_lists_for_admin_nodes);
	suite_add_tcase(s, tc);
	return check_run(s);
}
