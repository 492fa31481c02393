#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A real 3-server ZooKeeper ensemble (kcluster --zookeepers 3, under the
chroot /skald) losing its leader, then its quorum, under an acks=all
confluent-kafka producer and a consumer group, as Kafka 2.8 rides them out:

- the ZooKeeper leader SIGKILLed: the daemons' clients move to another
  server within their session: no delivery error, the same active
  controller and epoch, every broker's registration the same node (same
  czxid: no session expired, no re-registration); the watches still work
  afterwards: a topic created, a reassignment, a preferred election and a
  topic deletion written to ZooKeeper are acted on;
- a second server killed (no quorum) for 30 s: produce and consume on the
  partitions that need no leader or ISR change go on; once the quorum is
  back a topic can be created within 10 s and a broker's failure is
  handled (its partitions get other leaders);
- the active controller SIGSTOPped past its session: a standby takes
  over, and the old one, resumed, resigns and stands by;
- nothing acknowledged is lost, and the group consumed all of it;
- the chroot holds everything: no skald node at the ensemble's root.
"""

import json
import logging
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, Writer, read_values, run_steps  # noqa: E402
from kbroker import wait_for, zk_client  # noqa: E402
from zkfaults import (admin, config_change_acted_on, controller, create,  # noqa: E402
                      registrations)

TOPIC = "zk-acks"
PARTS = 6


class Group:
    """A consumer of group zk-g reading TOPIC from a thread, committing as
    it goes; got holds every value it received."""

    def __init__(self, c):
        self.c, self.got, self.errors = c, set(), []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run)
        self.t.start()

    def run(self):
        from confluent_kafka import Consumer

        cons = Consumer({"bootstrap.servers": self.c.bootstrap,
                         "group.id": "zk-g", "auto.offset.reset": "earliest",
                         "session.timeout.ms": 30000,
                         "enable.auto.commit": True,
                         "auto.commit.interval.ms": 500})
        cons.subscribe([TOPIC])
        while not self.stop.is_set():
            m = cons.poll(0.5)
            if m is None:
                continue
            if m.error():
                self.errors.append(str(m.error()))
                continue
            self.got.add(int(m.value()))
        cons.close()

    def finish(self):
        self.stop.set()
        self.t.join(120)
        assert not self.t.is_alive()


class State:
    pass


def setup(c, st):
    st.zk = c.zk()
    create(c, TOPIC, PARTS, 3)
    st.ctl = wait_for(lambda: controller(st.zk), 60, "an active controller")
    st.epoch = int(st.zk.get("/controller_epoch")[0])
    st.regs = registrations(st.zk)
    assert sorted(st.regs) == [1, 2, 3], st.regs
    st.w = Writer(c, TOPIC)
    st.g = Group(c)
    st.w.progress(1000, "acknowledged writes before any fault")
    wait_for(lambda: len(st.g.got) >= 500, 120, "the group consuming")


def leader_killed(c, st):
    first = c.zk_leader()
    st.killed = [first]
    c.kill("zookeeper", first)
    second = wait_for(lambda: (lambda x: x if x != first else None)(
        c.zk_leader()), 120, "a new ZooKeeper leader")
    print("ZooKeeper leader %d killed, %d leads now" % (first, second))
    st.w.progress(1000, "acknowledged writes after the leader's death")
    n = len(st.g.got)
    wait_for(lambda: len(st.g.got) >= n + 500, 120, "the group consuming on")
    # every daemon's session survived: same controller, same epoch, same
    # broker registrations (a re-registration would be a new czxid)
    wait_for(lambda: controller(st.zk) is not None, 60, "/controller")
    assert controller(st.zk) == st.ctl, (controller(st.zk), st.ctl)
    assert int(st.zk.get("/controller_epoch")[0]) == st.epoch
    assert registrations(st.zk) == st.regs, (registrations(st.zk), st.regs)
    assert not st.w.failed, st.w.failed[:5]


def watches_after_failover(c, st):
    # the controller's topic watch: a new topic gets leaders
    create(c, "after-zk-leader", 3, 3)
    t = "after-zk-leader"

    def replicas():
        return json.loads(st.zk.get("/brokers/topics/" + t)[0])["partitions"]["0"]

    def leader():
        return json.loads(st.zk.get("/brokers/topics/%s/partitions/0/state"
                                    % t)[0])["leader"]
    # the reassignment watch: partition 0's replicas in the reverse order
    new = list(reversed(replicas()))
    st.zk.create("/admin/reassign_partitions", json.dumps({
        "version": 1, "partitions": [{"topic": t, "partition": 0,
                                      "replicas": new}]}).encode())
    wait_for(lambda: replicas() == new and
             not st.zk.exists("/admin/reassign_partitions"), 120,
             "the reassignment written after the failover to be done")
    # the preferred-election watch: the new first replica leads
    st.zk.create("/admin/preferred_replica_election", json.dumps({
        "version": 1, "partitions": [{"topic": t, "partition": 0}]}).encode())
    wait_for(lambda: leader() == new[0] and
             not st.zk.exists("/admin/preferred_replica_election"), 120,
             "the preferred election written after the failover to be done")
    # the brokers' config-change watch
    config_change_acted_on(c, TOPIC, (1, 2, 3))
    # its deletion watch: a deleted topic goes away
    a = admin(c)
    for f in a.delete_topics(["after-zk-leader"], operation_timeout=60).values():
        f.result()
    wait_for(lambda: "after-zk-leader" not in a.list_topics(timeout=30).topics,
             120, "the topic deleted")
    wait_for(lambda: not st.zk.exists("/admin/delete_topics/after-zk-leader")
             and not st.zk.exists("/brokers/topics/after-zk-leader"),
             120, "the deletion finished in ZooKeeper")


def admin_without_quorum(c):
    """CreateTopics needs ZooKeeper: without a quorum the broker's
    ZooKeeper thread waits for it, as Kafka's request handler does, and
    the client's request ends with its own timeout: an error, not a hang.
    The write is sent once the quorum is back (a timed-out creation may
    still happen, as in Kafka)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import NewTopic

    a = admin(c)
    t = time.monotonic()
    f = a.create_topics([NewTopic("during-outage", 1, 3)], operation_timeout=5,
                        request_timeout=15)["during-outage"]
    try:
        f.result(timeout=90)
        raise AssertionError("a topic created without a ZooKeeper quorum")
    except KafkaException as e:
        err = e.args[0]
    took = time.monotonic() - t
    print("CreateTopics without a quorum: %s after %.1f s" % (err, took))
    assert took < 30, took


def quorum_lost(c, st):
    status = c.zk_status()
    second = [id for id, (state, _, _) in status.items()
              if state == "running"][0]
    st.killed.append(second)
    c.kill("zookeeper", second)
    t0 = time.monotonic()
    wait_for(lambda: all(mode != "leader" for _, mode, _ in
                         c.zk_status().values()), 60, "the quorum to go")
    print("ZooKeeper servers %s down: no quorum" % st.killed)
    # produce and consume go on (leaders and ISRs need no change)
    st.w.progress(1000, "acknowledged writes without a quorum", timeout=60)
    n = len(st.g.got)
    wait_for(lambda: len(st.g.got) >= n + 500, 60, "the group consuming "
             "without a quorum")
    admin_without_quorum(c)
    while time.monotonic() - t0 < 30:
        st.w.progress(100, "writes through the whole outage", timeout=60)
        time.sleep(1)
    for id in st.killed:
        c.start("zookeeper", id)
    c.zk_leader(120)
    # the test's own client may have lost its session in an outage longer
    # than its timeout (a slow machine): a new one reads what the daemons kept
    st.zk = c.zk()
    back = time.monotonic()
    create(c, "after-quorum", 3, 3, timeout=60)
    took = time.monotonic() - back
    wait_for(lambda: st.zk.exists("/brokers/topics/during-outage"), 60,
             "the creation sent during the outage to be done")
    print("topic created %.1f s after the quorum's return" % took)
    assert took <= 10, "topic creation took %.1f s after the quorum came back" % took
    assert controller(st.zk) == st.ctl, (controller(st.zk), st.ctl)
    assert registrations(st.zk) == st.regs, (registrations(st.zk), st.regs)


def broker_failover_after(c, st):
    # the broker-ids watch: broker 3 killed, its partitions get leaders
    # among 1 and 2 and it leaves every ISR
    c.kill("broker", 3)

    def moved():
        for p in range(PARTS):
            s = json.loads(st.zk.get("/brokers/topics/%s/partitions/%d/state"
                                     % (TOPIC, p))[0])
            if s["leader"] == 3 or 3 in s["isr"]:
                return False
        return True
    wait_for(moved, 120, "broker 3's partitions moved and its ISRs shrunk")
    st.w.progress(500, "writes with broker 3 gone")
    c.start("broker", 3)
    st.w.progress(500, "writes with broker 3 back")


def controller_paused(c, st):
    """The active controller SIGSTOPped past its session timeout: a
    standby takes over with the next epoch; resumed, the old one learns of
    its expiry, resigns and stands by, and the new one keeps acting."""
    first = controller(st.zk)
    epoch = int(st.zk.get("/controller_epoch")[0])
    c.pause("controller", first)
    second = wait_for(lambda: (lambda x: x if x not in (None, first) else None)(
        controller(st.zk)), 90, "a standby to take over")
    assert int(st.zk.get("/controller_epoch")[0]) == epoch + 1
    create(c, "after-controller-expiry", 2, 3)
    c.resume("controller", first)
    log = os.path.join(c.dir, "controller-%d.log" % first)

    def resigned():
        with open(log, errors="replace") as f:
            text = f.read()
        i = text.rfind("ZooKeeper session expired")
        return i >= 0 and "resigning as controller" in text[i:] and \
            "standing by" in text[i:]
    try:
        wait_for(resigned, 90, "controller %d to resign and stand by" % first)
    except AssertionError:
        with open(log, errors="replace") as f:
            sys.stdout.write("controller %d's log, the end:\n%s" % (
                first, "".join(f.readlines()[-80:])))
        raise
    create(c, "after-controller-resumed", 2, 3)
    assert controller(st.zk) == second
    assert int(st.zk.get("/controller_epoch")[0]) == epoch + 1
    st.w.progress(500, "writes after the controller change")


def nothing_lost(c, st):
    st.w.finish()
    assert not st.w.failed, st.w.failed[:5]
    got = set(read_values(c.bootstrap, TOPIC, PARTS))
    lost = st.w.acked - got
    assert not lost, "%d acknowledged writes lost, e.g. %s" % (
        len(lost), sorted(lost)[:10])
    wait_for(lambda: st.w.acked <= st.g.got, 120,
             "the group to have consumed every acknowledged write")
    st.g.finish()
    print("%d acknowledged, all read back and consumed by the group" %
          len(st.w.acked))
    # everything lives under the chroot
    root = zk_client(c.zk_hosts)
    try:
        assert root.exists("/skald/brokers/ids")
        assert not root.exists("/brokers") and not root.exists("/controller")
    finally:
        root.stop()


def main():
    # kazoo says every refused reconnection; the daemons' logs matter here
    logging.getLogger("kazoo.client").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd, \
            Cluster(wd, brokers=3, controllers=2, zookeepers=3,
                    zk_chroot="/skald") as c:
        st = State()
        try:
            run_steps((setup, leader_killed, watches_after_failover,
                       quorum_lost, broker_failover_after, controller_paused,
                       nothing_lost), c, st)
        finally:
            for x in ("w", "g"):
                if hasattr(st, x) and getattr(st, x).t.is_alive():
                    getattr(st, x).stop.set()
    print("ok")


if __name__ == "__main__":
    main()
