/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool.h - what the operator tools share: messages and exit codes, the
 * options every cluster tool takes, a view of the cluster through a
 * bootstrap server (metadata, a connection per broker, the controller,
 * group coordinators), and table or JSON output.
 *
 * Exit codes are the same in every tool, so scripts can rely on them:
 * 0 success, 1 the operation failed (an error from the cluster, a check
 * that found problems), 2 bad usage (unknown option, missing argument).
 * Each tool's man page lists any further meaning.
 *
 * Tools are short-lived and single-threaded: every request is blocking
 * (kp_conn_call), with the arena freed when the tool exits or a loop
 * iteration ends.
 */
#ifndef TOOL_H
#define TOOL_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kp_arena.h"
#include "kp_client.h"
#include "kp_errors.h"
#include "kp_msgs.h"

#define TOOL_EXIT_OK 0
#define TOOL_EXIT_FAIL 1
#define TOOL_EXIT_USAGE 2

/* Set by each tool's main() before anything else (messages use it). */
extern const char *tool_name;

void tool_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "name: message" and exit 1. */
void tool_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
/* Print "name: message", a pointer to --help, and exit 2. */
void tool_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/*
 * The options every cluster tool takes, and the option loop around them.
 * A tool ends its long-option table with TOOL_OPTIONS_TAIL and reads its
 * own options with tool_getopt(), which handles the shared ones:
 * --bootstrap-server (also any alias the tool maps to TOOL_OPT_BOOTSTRAP),
 * --timeout-ms (1 to INT32_MAX; the tool sets its default first), --help
 * (the tool's usage on stdout, exit 0), --version ("name version", exit
 * 0), and an unknown option or a missing argument (usage on stderr, exit
 * 2).  At the end of the options, an operand is a usage error ("unexpected
 * argument") unless the tool allows operands.
 */
enum {
	TOOL_OPT_BOOTSTRAP = 0x1000,
	TOOL_OPT_TIMEOUT,
	TOOL_OPT_HELP,
	TOOL_OPT_VERSION,
};
#define TOOL_OPTIONS_TAIL \
	{ "bootstrap-server", required_argument, NULL, TOOL_OPT_BOOTSTRAP }, \
	{ "timeout-ms", required_argument, NULL, TOOL_OPT_TIMEOUT }, \
	{ "help", no_argument, NULL, TOOL_OPT_HELP }, \
	{ "version", no_argument, NULL, TOOL_OPT_VERSION }, \
	{ NULL, 0, NULL, 0 }

struct tool_opts {
	const char *bootstrap;		/* NULL: not given */
	int timeout_ms;			/* the tool's default until given */
	bool operands;			/* operands allowed after the options */
	void (*usage)(FILE *f);		/* the tool's --help text */
};

/*
 * getopt_long() over opts: returns the next option of the tool's own, or
 * -1 at the end of the options (optind is then the first operand).
 */
int tool_getopt(int argc, char **argv, const struct option *opts,
		struct tool_opts *to);
/* A usage error "--bootstrap-server is required" when it was not given. */
void tool_need_bootstrap(const struct tool_opts *to);
/* Likewise for tools that need a topic too ("... and --topic are ..."). */
void tool_need_bootstrap_topic(const struct tool_opts *to, const char *topic);

/* Strict number parsing for option values (whole string, in range). */
bool tool_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int32_t tool_opt_i32(const char *opt, const char *s, int32_t min, int32_t max);
int64_t tool_opt_i64(const char *opt, const char *s, int64_t min, int64_t max);
/* Milliseconds since the epoch, and a monotonic clock in ms. */
int64_t tool_now_ms(void);
int64_t tool_mono_ms(void);

struct tool_broker {
	int32_t id;
	char *host;
	int port;
	char *rack;		/* NULL: none */
	struct kp_conn *conn;	/* opened on first use */
};

struct tool_cluster {
	char *bootstrap;
	char *client_id;	/* what opts.client_id points to */
	struct kp_client_opts opts;
	int timeout_ms;		/* overall patience for retried operations */
	struct kp_conn *boot;	/* a connection to one bootstrap server */
	struct tool_broker *brokers;
	int nbrokers;
	int32_t controller_id;
	char *cluster_id;
	/* The last metadata answer (tool_metadata), valid until the next. */
	struct kp_arena md_arena;
	struct kp_metadata_resp md;
};

/*
 * Connect to the first bootstrap server (host:port[,host:port...]) that
 * answers and learn the brokers.  Dies with a message when none answers.
 */
void tool_cluster_open(struct tool_cluster *cl, const char *bootstrap,
		       const char *client_id, int timeout_ms);
void tool_cluster_close(struct tool_cluster *cl);

/*
 * Admin-client settings from a properties file (--command-config,
 * --admin.config), the ones the tools can apply: client.id,
 * request.timeout.ms, socket.connection.setup.timeout.ms and
 * default.api.timeout.ms (0: not set); the security keys
 * (tool_security.h: security.protocol, ssl.*, sasl.*), which every
 * connection of the tool then uses; bootstrap.servers gives way to
 * --bootstrap-server; any other key is ignored with a warning.
 */
struct tool_admin_config {
	char client_id[256];	/* "" when not set */
	int request_timeout_ms;
	int connect_timeout_ms;
	int api_timeout_ms;
};
void tool_read_admin_config(const char *opt, const char *path,
			    struct tool_admin_config *ac);
/* tool_cluster_open() with those settings (ac may be NULL). */
void tool_cluster_open_admin(struct tool_cluster *cl, const char *bootstrap,
			     const struct tool_admin_config *ac,
			     int timeout_ms);
/*
 * The active controller as the brokers name it (Metadata's controller
 * id), with fresh Metadata until one is named and reachable or
 * cl->timeout_ms passed; NULL with a warning then.  Its id goes to *id.
 */
struct kp_conn *tool_controller(struct tool_cluster *cl, int32_t *id);
/*
 * A request to the active controller, which may move meanwhile:
 *
 *	tool_ctl_begin(&r, cl, api, "ElectLeaders");
 *	do {
 *		c = tool_ctl_conn(&r);
 *		rc = kp_conn_call(c, api, ...);
 *	} while (!tool_ctl_done(&r, rc, rc == 0 && moved(resp)));
 *
 * tool_ctl_conn() gives the connection to the controller the brokers name
 * now (tool_controller), dying when there is none or it does not support
 * api.  tool_ctl_done() is true once a call succeeded and the answer did
 * not say NOT_CONTROLLER (moved); otherwise it forgets the connection
 * after an I/O error (with a warning), dies with "what: reason" once
 * cl->timeout_ms passed since tool_ctl_begin(), and waits 200 ms.
 */
struct tool_ctl {
	struct tool_cluster *cl;
	int16_t api;
	const char *what;	/* the API's name, for messages */
	int64_t deadline;
	int32_t id;		/* the broker asked last */
};
void tool_ctl_begin(struct tool_ctl *r, struct tool_cluster *cl, int16_t api,
		    const char *what);
struct kp_conn *tool_ctl_conn(struct tool_ctl *r);
bool tool_ctl_done(struct tool_ctl *r, int rc, bool moved);
/* Die with a clear message unless the broker of c supports api_key. */
void tool_require_api(struct kp_conn *c, int16_t api_key, const char *who);
/*
 * A whole file (NUL-terminated, at most max bytes) for an option's value;
 * a usage error when it cannot be read, as for a properties file.
 */
char *tool_read_file(const char *opt, const char *path, size_t max,
		     size_t *len);
/*
 * Refresh cl->md: every topic (all), or only the n named ones.  Dies on an
 * I/O error; per-topic errors are left in the answer.
 */
void tool_metadata(struct tool_cluster *cl, const char *const *topics, int n,
		   bool all);
const struct kp_metadata_resp_metadata_response_topic *
tool_md_topic(const struct tool_cluster *cl, const char *name);
const struct kp_metadata_resp_metadata_response_partition *
tool_md_partition(const struct kp_metadata_resp_metadata_response_topic *t,
		  int32_t partition);
/* The leader of a partition in the last metadata, or -1 when none. */
int32_t tool_md_leader(const struct tool_cluster *cl, const char *topic,
		       int32_t partition);
struct tool_broker *tool_broker(struct tool_cluster *cl, int32_t id);
/* The connection to broker id, opened on first use; NULL with a warning. */
struct kp_conn *tool_broker_conn(struct tool_cluster *cl, int32_t id);
/* Forget a broker's connection after an I/O error (reopened on next use). */
void tool_broker_drop(struct tool_cluster *cl, int32_t id);
/*
 * A blocking call that dies with "what: reason" on an I/O or protocol
 * error (the cluster's per-item error codes are the caller's to read).
 */
void tool_call(struct kp_conn *c, int16_t api_key, const void *req,
	       void *resp, struct kp_arena *a, const char *what);
/*
 * The coordinator of a group: FindCoordinator, retried while the broker
 * answers a retriable error, up to cl->timeout_ms.  Returns the
 * connection, or NULL and the Kafka error in *err.
 */
struct kp_conn *tool_coordinator(struct tool_cluster *cl, const char *group,
				 int16_t *err);

/*
 * One partition's offset lookup: ts is Kafka's ListOffsets timestamp (-1
 * latest, -2 earliest, or ms since the epoch); offset and err are filled
 * in (offset -1: none at or after ts).
 */
struct tool_tp {
	const char *topic;
	int32_t partition;
	int64_t ts;
	int64_t offset;
	int16_t err;
};
/*
 * ListOffsets for n partitions, one request per partition leader, with
 * the leaders from a fresh full Metadata.  isolation 0 read_uncommitted
 * (log end), 1 read_committed.  A partition whose leader is unknown or
 * unreachable gets LEADER_NOT_AVAILABLE.
 */
void tool_list_offsets(struct tool_cluster *cl, struct tool_tp *tps, int n,
		       int8_t isolation);

/* Friendly error text: "NAME (code): message". */
const char *tool_err(int16_t code);

/*
 * Print rows (a JSON array of objects) as an aligned text table with the
 * given column headers, taking each column's value from the key of the
 * same index; null or missing values print as "-".  json prints the array
 * itself instead (indented), which is what --json means in every tool.
 */
void tool_print_rows(FILE *f, json_t *rows, const char *const *headers,
		     const char *const *keys, int ncols, bool json);
/* Print a JSON value and a newline. */
void tool_print_json(FILE *f, json_t *v);

/* Java's default partitioner for keyed records: murmur2, made positive. */
uint32_t tool_murmur2(const void *data, size_t len);
int32_t tool_key_partition(const void *key, size_t len, int32_t nparts);

/* all/-1, 1 or 0 for setting key (acks), else a usage error. */
kp_err_t tool_parse_acks(const char *key, const char *v);
/* A compression codec's name for setting key (kp_codec_parse), else a
 * usage error. */
int tool_parse_codec(const char *key, const char *v);
/* "true"/"false" for setting key, else a usage error. */
bool tool_parse_bool(const char *key, const char *v);
/* A copy with Java-properties escapes (\t, \n, \r, \\) resolved. */
char *tool_unescape(const char *v);
/* One KEY=VALUE option argument to fn (a usage error without '='). */
void tool_property(const char *opt, const char *kv,
		   void (*fn)(const char *key, const char *value));
/* Each key=value line of a properties file (# and ! comments) to fn. */
void tool_read_properties(const char *opt, const char *path,
			  void (*fn)(const char *key, const char *value));

/* A C copy of a wire string in the arena ("" for null); dies when out
 * of memory. */
char *tool_str(struct kp_arena *a, kp_str s);
/* Split "a,b,c" into a NULL-terminated array (arena memory). */
char **tool_split(struct kp_arena *a, const char *s, char sep, int *n);

#endif /* TOOL_H */
