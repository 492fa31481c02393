/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbroker-api-versions - every broker's supported API versions, as
 * Kafka's kafka-broker-api-versions.sh prints them, with the version this
 * client would use.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kp_codec.h"
#include "tool.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kbroker-api-versions --bootstrap-server HOST:PORT[,...] [OPTIONS]\n"
		"Print the API versions every broker of the cluster supports.\n"
		"\n"
		"  --bootstrap-server LIST  brokers to connect to first (required)\n"
		"  --command-config FILE    client properties: client.id, timeouts,\n"
		"                           security.protocol, ssl.*, sasl.*\n"
		"  --json                   one JSON document instead of text\n"
		"  --timeout-ms MS          how long to try to reach the cluster (30000)\n"
		"  --help                   this text\n"
		"  --version                the program's version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "command-config", required_argument, NULL, 'c' },
		TOOL_OPTIONS_TAIL,
	};
	struct tool_opts to = { .timeout_ms = 30000, .usage = usage };
	struct tool_admin_config ac;
	bool json = false;
	int c, failed = 0;
	struct tool_cluster cl;
	json_t *out;

	tool_name = "kbroker-api-versions";
	memset(&ac, 0, sizeof(ac));
	while ((c = tool_getopt(argc, argv, opts, &to)) != -1)
		if (c == 'j')
			json = true;
		else if (c == 'c')
			tool_read_admin_config("--command-config", optarg, &ac);
	tool_need_bootstrap(&to);
	tool_cluster_open_admin(&cl, to.bootstrap, &ac, to.timeout_ms);
	out = json_array();
	for (int i = 0; i < cl.nbrokers; i++) {
		struct tool_broker *b = &cl.brokers[i];
		struct kp_conn *conn = tool_broker_conn(&cl, b->id);
		json_t *jb, *apis;

		if (conn == NULL) {
			failed = 1;
			continue;
		}
		jb = json_pack("{s:i, s:s, s:i, s:s?}", "id", b->id, "host",
			       b->host, "port", b->port, "rack", b->rack);
		apis = json_array();
		if (!json)
			printf("%s:%d (id: %" PRId32 " rack: %s) -> (\n",
			       b->host, b->port, b->id,
			       b->rack ? b->rack : "null");
		for (int16_t k = 0; k <= KP_API_KEY_MAX; k++) {
			const struct kp_api_desc *api = kp_api_get(k);
			int16_t min, max, use;

			if (api == NULL || !kp_conn_broker_range(conn, k, &min,
								  &max))
				continue;
			use = kp_conn_pick_version(conn, k);
			json_array_append_new(apis, json_pack(
				"{s:s, s:i, s:i, s:i, s:i}", "name", api->name,
				"key", k, "min", min, "max", max, "usable",
				use));
			if (json)
				continue;
			printf("\t%s(%d): %d to %d [", api->name, k, min, max);
			if (use < 0)
				printf("unusable: this client knows %d to %d",
				       api->min, api->max);
			else
				printf("usable: %d", use);
			printf("],\n");
		}
		if (!json)
			printf(")\n");
		json_object_set_new(jb, "apis", apis);
		json_array_append_new(out, jb);
	}
	if (json)
		tool_print_json(stdout, out);
	json_decref(out);
	tool_cluster_close(&cl);
	return failed ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}
