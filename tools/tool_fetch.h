/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_fetch.h - the consumer side the tools share (kconsole-consumer,
 * kperf): positions per partition, start offsets by policy, and fetch
 * rounds that send one Fetch to every leader before collecting any answer.
 *
 * Records are handed to a callback one at a time (decompressed batches
 * are read in one scratch buffer; nothing is allocated per record).  A
 * position is the next offset to deliver; the callback returning false
 * stops delivery at that record, which is then not consumed.
 */
#ifndef TOOL_FETCH_H
#define TOOL_FETCH_H

#include "kp_buf.h"
#include "kp_records.h"
#include "tool.h"

struct tool_fpart {
	int32_t id;
	int64_t pos;		/* next offset to deliver; -1: to be found */
	int64_t committed;	/* a group's committed offset; -1: none */
};

/* false: stop delivering (the record is not consumed). */
typedef bool (*tool_record_fn)(void *arg, int32_t partition,
			       const struct kp_record *r, bool log_append);

struct tool_fetcher {
	struct tool_cluster *cl;
	const char *topic;
	struct tool_fpart *parts;
	int nparts;
	int8_t isolation;
	int wait_ms;
	int32_t partition_max_bytes;
	bool from_beginning;	/* policy without a position: earliest */
	tool_record_fn on_record;
	void *arg;
	struct kp_wbuf scratch;
	int64_t bytes;		/* batch bytes received */
};

void tool_fetcher_init(struct tool_fetcher *f, struct tool_cluster *cl,
		       const char *topic);
void tool_fetcher_free(struct tool_fetcher *f);
/* Replace the partitions read (positions unknown). */
void tool_fetcher_assign(struct tool_fetcher *f, const int32_t *ids, int n);
struct tool_fpart *tool_fetcher_part(struct tool_fetcher *f, int32_t id);
/* Unknown positions: the committed offset, else the policy.  Dies on error. */
void tool_fetcher_resolve(struct tool_fetcher *f);
/* One round of fetches; true when a record was delivered. */
bool tool_fetcher_round(struct tool_fetcher *f);

#endif /* TOOL_FETCH_H */
