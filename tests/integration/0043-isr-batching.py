#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""ISR changes are announced to the controller in batches, as Kafka 2.8's
ZkIsrManager does at inter.broker.protocol.version 2.7-IV1 and before
(issue 23; from 2.7-IV2 on leaders ask the controller with AlterIsr:
0045-alter-isr): a leader writes each partition's ISR to its
state znode at once (asynchronously, off its main loop), and tells the
controller about all of them in one /isr_change_notification/isr_change_
znode once no change came for 5 s.

Broker 1 leads every partition of an RF 3 topic (min.insync.replicas 2)
under an acks=all producer; broker 3 is paused (SIGSTOP, its ZooKeeper
session outlives the pause) longer than replica.lag.time.max.ms, then
resumed:

- every ISR in ZooKeeper loses broker 3, then gets it back, and every
  broker's Metadata follows (a few seconds later: the batching delay);
- the shrinks and the expansions each come as one (or very few)
  notifications for all the partitions, where one per partition would be
  PARTS each: counted exactly from the parent znode's child version
  (every create and every delete of a child bumps it, and the controller
  deletes each notification it read), and the bodies the test catches
  before the controller deletes them list many partitions each;
- the producer saw no error and every acknowledged record is read back.
"""

import json
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import (Cluster, Writer, create_led_by_1, metadata_isrs,  # noqa: E402
                     read_values, run_steps, zk_isrs)
from kbroker import wait_for  # noqa: E402

TOPIC = "batched"
PARTS = 16
LAG_MS = 4000
NOTIFY = "/isr_change_notification"


class Notices:
    """What the test sees of /isr_change_notification: the bodies it
    catches before the controller deletes them (best effort), and the
    parent's cversion to count them exactly."""

    def __init__(self, c):
        self.c = c
        self.bodies = {}
        self.lock = threading.Lock()
        c.zkc.ChildrenWatch(NOTIFY, self.children)

    def children(self, names):
        for n in names:
            with self.lock:
                if n in self.bodies:
                    continue
            try:
                data, _ = self.c.zkc.get(NOTIFY + "/" + n)
            except Exception:
                continue    # the controller was quicker
            with self.lock:
                self.bodies[n] = json.loads(data)
        return True

    def cversion(self):
        return self.c.zkc.exists(NOTIFY).cversion

    def settled(self):
        """Once the controller has read and deleted every notice."""
        wait_for(lambda: not self.c.zkc.get_children(NOTIFY), 120,
                 "the controller to consume every ISR notice")
        return self.cversion()


def create(c):
    create_led_by_1(c, c.zkc, TOPIC, PARTS)


def shrink_and_expand(c):
    notices = Notices(c)
    wr = Writer(c, TOPIC)
    try:
        wr.progress(2000, "first acknowledgements")
        base = notices.settled()

        c.pause("broker", 3)
        t0 = time.monotonic()
        wait_for(lambda: zk_isrs(c.zkc, TOPIC, PARTS) == [[1, 2]] * PARTS, 120,
                 "broker 3 out of every ISR in ZooKeeper")
        t_zk = time.monotonic()
        wait_for(lambda: metadata_isrs(c, TOPIC, PARTS, (1, 2)) == [[[1, 2]] * PARTS] * 2, 120,
                 "broker 3 out of the ISRs in brokers 1 and 2's Metadata")
        t_md = time.monotonic()
        shrunk = notices.settled()
        print("shrink: ZooKeeper %.1fs after the pause, Metadata %.1fs later; "
              "%d notice(s) for %d partitions" % (t_zk - t0, t_md - t_zk,
                                                  (shrunk - base) // 2, PARTS))
        wr.progress(2000, "writes with broker 3 out of the ISRs")

        c.resume("broker", 3)
        t0 = time.monotonic()
        wait_for(lambda: zk_isrs(c.zkc, TOPIC, PARTS) == [[1, 2, 3]] * PARTS, 120,
                 "broker 3 back in every ISR in ZooKeeper")
        t_zk = time.monotonic()
        wait_for(lambda: metadata_isrs(c, TOPIC, PARTS) == [[[1, 2, 3]] * PARTS] * 3, 120,
                 "broker 3 back in the ISRs in every broker's Metadata")
        t_md = time.monotonic()
        expanded = notices.settled()
        print("expand: ZooKeeper %.1fs after the resume, Metadata %.1fs later; "
              "%d notice(s) for %d partitions" % (t_zk - t0, t_md - t_zk,
                                                  (expanded - shrunk) // 2, PARTS))
        wr.progress(2000, "writes with full ISRs again")
    finally:
        wr.finish()

    # every create of a child and every delete bumps the parent's
    # cversion; the controller deleted each one
    assert (shrunk - base) % 2 == 0 and (expanded - shrunk) % 2 == 0, (base, shrunk, expanded)
    n_shrink, n_expand = (shrunk - base) // 2, (expanded - shrunk) // 2
    # one expected; a round of writes that straddles a propagation check
    # under load may make it two or three, never one per partition
    assert 1 <= n_shrink <= 3, "%d shrink notices for %d partitions" % (n_shrink, PARTS)
    assert 1 <= n_expand <= 3, "%d expand notices for %d partitions" % (n_expand, PARTS)
    with notices.lock:
        caught = dict(notices.bodies)
    for name, body in sorted(caught.items()):
        assert body["version"] == 1, body
        tps = {(q["topic"], q["partition"]) for q in body["partitions"]}
        assert tps and all(t == TOPIC and 0 <= p < PARTS for t, p in tps), body
        print("caught %s: %d partition(s)" % (name, len(tps)))
    listed = sum(len(b["partitions"]) for b in caught.values())
    assert not caught or listed > len(caught), \
        "the notices caught list one partition each: %s" % caught

    assert not wr.failed, wr.failed[:5]
    got = set(read_values(c.bootstrap, TOPIC, PARTS))
    missing = wr.acked - got
    assert not missing, "%d acknowledged records lost: %s" % (len(missing), sorted(missing)[:10])
    print("%d acknowledged records, all read back" % len(wr.acked))


def main():
    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd:
        with Cluster(wd, brokers=3, controllers=1,
                     broker_set={"zookeeper.session.timeout.ms": "60000",
                                 "replica.lag.time.max.ms": str(LAG_MS),
                                 "inter.broker.protocol.version": "2.7-IV1"}) as c:
            c.zkc = c.zk()
            run_steps([create, shrink_and_expand], c)
    print("ok")


if __name__ == "__main__":
    main()
