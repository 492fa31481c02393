/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_epoch.h - which controller epochs a broker believes.
 *
 * Kafka's broker compares the controller epoch of LeaderAndIsr,
 * StopReplica and UpdateMetadata with the highest it has seen: lower is
 * STALE_CONTROLLER_EPOCH, higher is adopted at once.  Adopted blindly, a
 * forged epoch far in the future (anyone who reaches the client port can
 * send one) locks the real controller out until it is re-elected past
 * that number.  The rule here: an epoch above the one known is adopted
 * only once ZooKeeper's /controller_epoch (which a controller writes
 * before it sends anything at its new epoch) is at least that high;
 * otherwise the request is refused with STALE_CONTROLLER_EPOCH and the
 * known epoch stays.  Without a ZooKeeper session (unit tests) a higher
 * epoch is adopted as Kafka does.  The read follows a ZooKeeper sync of
 * the path, so a server of an ensemble lagging behind the one the new
 * controller wrote through catches up first and cannot make the broker
 * refuse that controller's first request.
 */
#ifndef CTL_EPOCH_H
#define CTL_EPOCH_H

#include <stdint.h>

struct net_req;

/*
 * On r's worker: go on with admitted(r) when epoch is the known one or a
 * newer one ZooKeeper confirms (then it is adopted), else refused(r).
 * Either may run before this returns or later on r's worker (r then owns
 * its frame: net_req_detach was done, so r->body is decoded anew).
 */
void ctl_epoch_admit(struct net_req *r, int32_t epoch,
		     void (*admitted)(struct net_req *r),
		     void (*refused)(struct net_req *r));

#endif /* CTL_EPOCH_H */
