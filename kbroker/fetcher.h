/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetcher.h - the follower's side of replication: replica fetchers.
 *
 * One thread with its own kp_loop runs every fetcher (Kafka's
 * num.replica.fetchers = 1); per source broker there is one connection
 * and one request in flight, for all the partitions we follow there.
 * A partition that starts following first asks its leader where its log
 * diverges (OffsetForLeaderEpoch with our latest epoch) and truncates
 * there - to the high watermark when the leader cannot say - then
 * fetches with our broker id as replica id.  Fetched batches are appended
 * as they are (offsets, epochs and CRCs kept) under the partition's lock,
 * after checking that we still follow at the epoch the fetch was made
 * for; the leader's high watermark, bounded by our log end, becomes ours.
 *
 * Errors: a partition the leader does not lead (yet) or whose epoch we do
 * not share waits 50 ms and retries (the controller's LeaderAndIsr is on
 * its way); a lost connection is re-established after
 * replica.fetch.backoff.ms.
 */
#ifndef FETCHER_H
#define FETCHER_H

#include <stddef.h>
#include <stdint.h>

struct broker;
struct partition;

int fetcher_start(struct broker *b, char *err, size_t errlen);
void fetcher_stop(struct broker *b);
/* Follow p's leader at epoch (after LeaderAndIsr made us a follower). */
void fetcher_follow(struct broker *b, struct partition *p, int32_t leader,
		    int32_t epoch, const char *host, int port);
/* Stop fetching p (we lead it now, or it stopped). */
void fetcher_unfollow(struct broker *b, struct partition *p);

#endif /* FETCHER_H */
