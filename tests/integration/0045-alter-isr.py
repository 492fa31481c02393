#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""AlterIsr (KIP-497): at inter.broker.protocol.version 2.7-IV2 and later
(Kafka 2.8's default, 2.8-IV1) a partition leader asks the active
controller to change an ISR instead of writing the state znode itself;
the controller writes it (keeping the leader epoch, with its own
controller epoch), answers, and sends UpdateMetadata to every broker at
once.

1. Broker 1 leads every partition of an RF 3 topic (min.insync.replicas
   2) under an acks=all producer; broker 3 is paused (SIGSTOP) longer
   than replica.lag.time.max.ms, then resumed.  Every ISR in ZooKeeper
   and in every broker's Metadata loses broker 3 and gets it back; no
   /isr_change_notification znode is ever written (the parent's child
   version does not move); the state znodes keep their leader epoch and
   carry the controller's epoch; the controller logged the AlterIsr
   requests; the producer saw no error and every acknowledged record is
   read back.
2. A scripted peer on the controller's listener: a wrong broker epoch is
   STALE_BROKER_EPOCH; an unknown partition UNKNOWN_TOPIC_OR_PARTITION;
   an older leader epoch FENCED_LEADER_EPOCH; a version other than the
   znode's INVALID_UPDATE_VERSION; the ISR the partition already has is
   answered with its state, nothing written.
"""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import (Cluster, Writer, create_led_by_1, metadata_isrs,  # noqa: E402
                     read_values, run_steps, zk_isrs)
from kbroker import wait_for  # noqa: E402
import kwire  # noqa: E402

TOPIC = "altered"
PARTS = 12
LAG_MS = 4000
NOTIFY = "/isr_change_notification"

STALE_BROKER_EPOCH = 77
UNKNOWN_TOPIC_OR_PARTITION = 3
FENCED_LEADER_EPOCH = 74
INVALID_UPDATE_VERSION = 95


def state(c, p):
    data, st = c.zkc.get("/brokers/topics/%s/partitions/%d/state" % (TOPIC, p))
    return json.loads(data), st


def controller_log(c):
    text = ""
    for name in sorted(os.listdir(c.dir)):
        if name.endswith(".log") and "controller" in name:
            with open(os.path.join(c.dir, name), errors="replace") as f:
                text += f.read()
    return text


def create(c):
    create_led_by_1(c, c.zkc, TOPIC, PARTS)


def shrink_and_expand(c):
    if not c.zkc.exists(NOTIFY):
        c.zkc.ensure_path(NOTIFY)
    base = c.zkc.exists(NOTIFY).cversion
    epochs = [state(c, p)[0]["leader_epoch"] for p in range(PARTS)]
    wr = Writer(c, TOPIC)
    try:
        wr.progress(2000, "first acknowledgements")

        c.pause("broker", 3)
        t0 = time.monotonic()
        wait_for(lambda: zk_isrs(c.zkc, TOPIC, PARTS) == [[1, 2]] * PARTS, 120,
                 "broker 3 out of every ISR in ZooKeeper")
        t_zk = time.monotonic()
        wait_for(lambda: metadata_isrs(c, TOPIC, PARTS, (1, 2)) == [[[1, 2]] * PARTS] * 2, 120,
                 "broker 3 out of the ISRs in brokers 1 and 2's Metadata")
        t_md = time.monotonic()
        print("shrink: ZooKeeper %.1fs after the pause, Metadata %.1fs later"
              % (t_zk - t0, t_md - t_zk))
        wr.progress(2000, "writes with broker 3 out of the ISRs")

        c.resume("broker", 3)
        t0 = time.monotonic()
        wait_for(lambda: zk_isrs(c.zkc, TOPIC, PARTS) == [[1, 2, 3]] * PARTS, 120,
                 "broker 3 back in every ISR in ZooKeeper")
        t_zk = time.monotonic()
        wait_for(lambda: metadata_isrs(c, TOPIC, PARTS) == [[[1, 2, 3]] * PARTS] * 3, 120,
                 "broker 3 back in the ISRs in every broker's Metadata")
        t_md = time.monotonic()
        print("expand: ZooKeeper %.1fs after the resume, Metadata %.1fs later"
              % (t_zk - t0, t_md - t_zk))
        wr.progress(2000, "writes with full ISRs again")
    finally:
        wr.finish()

    assert c.zkc.exists(NOTIFY).cversion == base, \
        "ISR change notifications were written: %s" % c.zkc.get_children(NOTIFY)
    ctl_epoch = json.loads(c.zkc.get("/controller_epoch")[0])
    for p in range(PARTS):
        st, zst = state(c, p)
        assert st["leader"] == 1 and st["leader_epoch"] == epochs[p], (p, st, epochs[p])
        assert st["controller_epoch"] == ctl_epoch, (p, st, ctl_epoch)
        # created, then at least one shrink and one expansion
        assert zst.version >= 2, (p, zst.version)
    log = controller_log(c)
    assert "AlterIsr from broker 1" in log, "no AlterIsr in the controller's log"

    assert not wr.failed, wr.failed[:5]
    got = set(read_values(c.bootstrap, TOPIC, PARTS))
    missing = wr.acked - got
    assert not missing, "%d acknowledged records lost: %s" % (len(missing), sorted(missing)[:10])
    print("%d acknowledged records, all read back" % len(wr.acked))


def controller_port(c):
    info = json.loads(c.zkc.get("/controller")[0])
    eps = info.get("endpoints") or []
    assert eps, info
    return int(eps[0].rsplit(":", 1)[1])


def scripted_peer(c):
    _, reg = c.zkc.get("/brokers/ids/1")
    epoch = reg.czxid
    st, zst = state(c, 0)
    before = zst.version

    def ask(broker_epoch, topic, part, leader_epoch, isr, version):
        with kwire.Wire(controller_port(c)) as w:
            return w.call(56, 0, {
                "broker_id": 1, "broker_epoch": broker_epoch,
                "topics": [{"name": topic, "partitions": [{
                    "partition_index": part, "leader_epoch": leader_epoch,
                    "new_isr": isr, "current_isr_version": version}]}]})

    r = ask(epoch + 1000, TOPIC, 0, st["leader_epoch"], st["isr"], before)
    assert r["error_code"] == STALE_BROKER_EPOCH, r

    def one(r):
        assert r["error_code"] == 0, r
        return r["topics"][0]["partitions"][0]

    q = one(ask(epoch, "no-such-topic", 0, 0, [1], 0))
    assert q["error_code"] == UNKNOWN_TOPIC_OR_PARTITION, q
    q = one(ask(epoch, TOPIC, PARTS + 5, 0, [1], 0))
    assert q["error_code"] == UNKNOWN_TOPIC_OR_PARTITION, q
    q = one(ask(epoch, TOPIC, 0, st["leader_epoch"] - 1, [1, 2], before))
    assert q["error_code"] == FENCED_LEADER_EPOCH, q
    q = one(ask(epoch, TOPIC, 0, st["leader_epoch"], [1, 2], before + 7))
    assert q["error_code"] == INVALID_UPDATE_VERSION, q
    q = one(ask(epoch, TOPIC, 0, st["leader_epoch"], st["isr"], before))
    assert q["error_code"] == 0 and q["isr"] == st["isr"] and \
        q["leader_id"] == 1 and q["leader_epoch"] == st["leader_epoch"] and \
        q["current_isr_version"] == before, q
    st2, zst2 = state(c, 0)
    assert zst2.version == before and st2 == st, (st, st2, before, zst2.version)
    print("scripted AlterIsr: stale epoch, unknown, fenced, bad version and "
          "unchanged answered as Kafka")


def main():
    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd:
        with Cluster(wd, brokers=3, controllers=1,
                     broker_set={"zookeeper.session.timeout.ms": "60000",
                                 "replica.lag.time.max.ms": str(LAG_MS)}) as c:
            c.zkc = c.zk()
            run_steps([create, shrink_and_expand, scripted_peer], c)
    print("ok")


if __name__ == "__main__":
    main()
