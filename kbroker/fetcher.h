/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetcher.h - the follower's side of replication: replica fetchers.
 *
 * num.replica.fetchers threads, each with its own kp_loop; a partition
 * belongs to the thread Kafka would give it (fetcher_index), and each
 * thread has, per source broker, one connection, one KIP-227 fetch
 * session and one request in flight for the partitions it follows there.
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
/* The fetcher thread of a partition among n, as Kafka picks it. */
int fetcher_index(const char *topic, int32_t partition, int n);

#endif /* FETCHER_H */
