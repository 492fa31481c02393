/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_listener.c - listeners, the security protocol map and the
 * inter-broker listener resolved as Kafka 2.8's KafkaConfig resolves them,
 * with Kafka's messages for each misconfiguration; per-listener overrides.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "kp_listener.h"

static const struct kp_config_def defs[] = {
	{ "listeners", KP_CFG_STRING, "PLAINTEXT://:9092", 0, 0, NULL, "", "" },
	{ "advertised.listeners", KP_CFG_STRING, NULL, 0, 0, NULL, "", "" },
	{ "listener.security.protocol.map", KP_CFG_STRING,
	  "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
	  0, 0, NULL, "", "" },
	{ "inter.broker.listener.name", KP_CFG_STRING, NULL, 0, 0, NULL, "", "" },
	{ "security.inter.broker.protocol", KP_CFG_STRING, "PLAINTEXT", 0, 0, NULL, "", "" },
	{ "ssl.client.auth", KP_CFG_STRING, "none", 0, 0, NULL, "", "" },
};

static struct kp_config cfg;
static char err[512];

/* Build cfg from "k=v" lines; 0 or -1 from kp_listeners_resolve. */
static int resolve(struct kp_listeners *l, const char *text)
{
	struct kp_props p;
	char e[256];

	kp_config_free(&cfg);
	memset(&cfg, 0, sizeof(cfg));
	kp_props_init(&p);
	ck_assert_int_eq(kp_props_parse(&p, text, strlen(text), e, sizeof(e)), 0);
	ck_assert_int_eq(kp_config_build(&cfg, defs, sizeof(defs) / sizeof(defs[0]), &p,
					 NULL, NULL, e, sizeof(e)), 0);
	kp_props_free(&p);
	err[0] = '\0';
	return kp_listeners_resolve(&cfg, true, l, err, sizeof(err));
}

START_TEST(protocol_names_and_map)
{
	struct kp_protocol_map m;

	ck_assert_int_eq(kp_secproto_parse("sasl_ssl"), KP_SEC_SASL_SSL);
	ck_assert_int_eq(kp_secproto_parse("TLS"), -1);
	ck_assert_str_eq(kp_secproto_name(KP_SEC_SASL_PLAINTEXT), "SASL_PLAINTEXT");
	ck_assert_int_eq(kp_protocol_map_parse(" client : sasl_ssl , REPL:SSL,", &m,
					       err, sizeof(err)), -1);
	ck_assert_int_eq(kp_protocol_map_parse(" client : sasl_ssl , REPL:SSL", &m,
					       err, sizeof(err)), 0);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_str_eq(m.names[0], "CLIENT");
	ck_assert_int_eq(kp_protocol_map_get(&m, "Client"), KP_SEC_SASL_SSL);
	ck_assert_int_eq(kp_protocol_map_get(&m, "REPL"), KP_SEC_SSL);
	ck_assert_int_eq(kp_protocol_map_get(&m, "OTHER"), -1);
	kp_protocol_map_free(&m);
	ck_assert_int_eq(kp_protocol_map_parse("A:TLS", &m, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Invalid security protocol `TLS` defined in "
			 "listener.security.protocol.map");
	ck_assert_int_eq(kp_protocol_map_parse("", &m, err, sizeof(err)), 0);
	ck_assert_uint_eq(m.n, 0);
}
END_TEST

START_TEST(listeners_get_their_protocols)
{
	struct kp_listeners l;

	ck_assert_int_eq(resolve(&l, "listeners=PLAINTEXT://:9092,ssl://h:9093\n"), 0);
	ck_assert_uint_eq(l.nbind, 2);
	ck_assert_str_eq(l.bind[1].listener, "SSL");
	ck_assert_int_eq(l.bind_proto[1], KP_SEC_SSL);
	ck_assert_uint_eq(l.nadv, 2);
	ck_assert_int_eq(l.adv_proto[0], KP_SEC_PLAINTEXT);
	ck_assert_str_eq(l.inter_name, "PLAINTEXT");
	ck_assert_ptr_nonnull(kp_listeners_advertised(&l, "SSL"));
	ck_assert_ptr_null(kp_listeners_advertised(&l, "SASL_SSL"));
	kp_listeners_free(&l);

	ck_assert_int_eq(resolve(&l,
		"listeners=CLIENT://:9092,REPL://:9093\n"
		"advertised.listeners=CLIENT://c.example:19092,REPL://r:9093\n"
		"listener.security.protocol.map=CLIENT:SASL_SSL,REPL:SSL\n"
		"inter.broker.listener.name=repl\n"), 0);
	ck_assert_str_eq(l.inter_name, "REPL");
	ck_assert_int_eq(l.inter_proto, KP_SEC_SSL);
	ck_assert_str_eq(l.adv[0].host, "c.example");
	ck_assert_int_eq(l.adv_proto[0], KP_SEC_SASL_SSL);
	kp_listeners_free(&l);

	ck_assert_int_eq(resolve(&l, "listeners=PLAINTEXT://:9092,SSL://:9093\n"
				 "security.inter.broker.protocol=ssl\n"), 0);
	ck_assert_str_eq(l.inter_name, "SSL");
	ck_assert_int_eq(l.inter_proto, KP_SEC_SSL);
	kp_listeners_free(&l);
}
END_TEST

START_TEST(misconfigurations_get_kafkas_messages)
{
	struct kp_listeners l;

	ck_assert_int_eq(resolve(&l, "listeners=CLIENT://:9092\n"), -1);
	ck_assert_str_eq(err, "Error creating broker listeners from 'CLIENT://:9092': "
			 "No security protocol defined for listener CLIENT");
	ck_assert_int_eq(resolve(&l, "listeners=A://:9092\n"
				 "listener.security.protocol.map=A:PLAINTEXT,B:KERBEROS\n"), -1);
	ck_assert_str_eq(err, "Invalid security protocol `KERBEROS` defined in "
			 "listener.security.protocol.map");
	ck_assert_int_eq(resolve(&l, "listeners=PLAINTEXT://:9092,SSL://:9092\n"), -1);
	ck_assert_str_eq(err, "Each listener must have a different port, listeners: "
			 "PLAINTEXT://:9092,SSL://:9092");
	ck_assert_int_eq(resolve(&l, "listeners=PLAINTEXT://:9092,plaintext://:9093\n"), -1);
	ck_assert_ptr_nonnull(strstr(err, "Each listener must have a different name"));
	ck_assert_int_eq(resolve(&l, "listeners=SSL://:9093\n"), -1);
	ck_assert_str_eq(err, "inter.broker.listener.name must be a listener name defined "
			 "in advertised.listeners. The valid options based on currently "
			 "configured listeners are SSL");
	ck_assert_int_eq(resolve(&l, "listeners=PLAINTEXT://:9092\n"
				 "advertised.listeners=PLAINTEXT://h:9092,SSL://h:9093\n"), -1);
	ck_assert_str_eq(err, "advertised.listeners listener names must be equal to or a "
			 "subset of the ones defined in listeners. Found PLAINTEXT,SSL. The "
			 "valid options based on the current configuration are PLAINTEXT");
	ck_assert_int_eq(resolve(&l, "listeners=SSL://:9093\n"
				 "inter.broker.listener.name=SSL\n"
				 "security.inter.broker.protocol=SSL\n"), -1);
	ck_assert_str_eq(err, "Only one of inter.broker.listener.name and "
			 "security.inter.broker.protocol should be set.");
	ck_assert_int_eq(resolve(&l, "listeners=SSL://:9093\n"
				 "inter.broker.listener.name=REPL\n"), -1);
	ck_assert_str_eq(err, "Listener with name REPL defined in inter.broker.listener.name "
			 "not found in listener.security.protocol.map.");
	ck_assert_int_eq(resolve(&l, "listeners=SSL://:9093\n"
				 "security.inter.broker.protocol=TLS\n"), -1);
	ck_assert_str_eq(err, "Invalid security protocol `TLS` defined in "
			 "security.inter.broker.protocol");
}
END_TEST

START_TEST(listener_overrides_win_over_the_key)
{
	struct kp_listeners l;

	ck_assert_int_eq(resolve(&l, "listeners=SSL://:9093,INTERNAL://:9094\n"
				 "listener.security.protocol.map=SSL:SSL,INTERNAL:SSL\n"
				 "inter.broker.listener.name=INTERNAL\n"
				 "ssl.client.auth=requested\n"
				 "listener.name.internal.ssl.client.auth=required\n"), 0);
	ck_assert_str_eq(kp_listener_str(&cfg, "INTERNAL", "ssl.client.auth"), "required");
	ck_assert_str_eq(kp_listener_str(&cfg, "SSL", "ssl.client.auth"), "requested");
	kp_listeners_free(&l);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("listener");
	TCase *tc = tcase_create("core");
	int rc;

	tcase_add_test(tc, protocol_names_and_map);
	tcase_add_test(tc, listeners_get_their_protocols);
	tcase_add_test(tc, misconfigurations_get_kafkas_messages);
	tcase_add_test(tc, listener_overrides_win_over_the_key);
	suite_add_tcase(s, tc);
	rc = check_run(s);
	kp_config_free(&cfg);
	return rc;
}
