#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A 5-server ZooKeeper ensemble shared by two skald clusters under the
chroots /a and /b, and a broker whose own session expires:

- two of the five servers (the leader among them) SIGKILLed at once: both
  clusters work as with all five (acks=all writes acknowledged, topics
  created), no session expires (same controller, same broker czxids);
- each cluster sees only its own chroot: its brokers, its topics;
- a broker SIGSTOPped past zookeeper.session.timeout.ms: its registration
  goes, the controller moves its leaderships away and shrinks it out of
  every ISR; resumed, it registers again with a new broker epoch (a new
  czxid), rejoins the ISRs and acts on a topic configuration change (its
  config-change watch set again in the new session); nothing an acks=all producer writing all
  along had acknowledged is lost (a write the zombie acknowledged alone
  would be missing from what the new leaders hold).
"""

import json
import logging
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, Writer, read_values, run_steps  # noqa: E402
from kbroker import wait_for  # noqa: E402
from zkfaults import (config_change_acted_on, controller, create,  # noqa: E402
                      registrations)


def state_of(zk, topic, p):
    return json.loads(zk.get("/brokers/topics/%s/partitions/%d/state" %
                             (topic, p))[0])


class State:
    pass


def setup(a, b, st):
    st.za, st.zb = a.zk(), b.zk()
    create(a, "ta", 3, 3)
    create(b, "tb", 2, 1)
    # each cluster under its own chroot sees only its own
    assert sorted(st.za.get_children("/brokers/ids")) == ["1", "2", "3"]
    assert st.zb.get_children("/brokers/ids") == ["1"]
    assert "tb" not in st.za.get_children("/brokers/topics")
    assert "ta" not in st.zb.get_children("/brokers/topics")
    st.ctl = (controller(st.za), controller(st.zb))
    st.regs = (registrations(st.za), registrations(st.zb))
    st.wa, st.wb = Writer(a, "ta"), Writer(b, "tb")
    st.wa.progress(500, "writes to cluster a")
    st.wb.progress(500, "writes to cluster b")


def two_servers_killed(a, b, st):
    leader = a.zk_leader()
    other = [i for i in a.zk_status() if i != leader][0]
    a.kill("zookeeper", leader)
    a.kill("zookeeper", other)
    print("ZooKeeper servers %d (the leader) and %d killed" % (leader, other))
    new = a.zk_leader()
    assert new not in (leader, other)
    st.wa.progress(1000, "writes to cluster a with 3 of 5 servers")
    st.wb.progress(1000, "writes to cluster b with 3 of 5 servers")
    create(a, "ta-after", 2, 3)
    create(b, "tb-after", 2, 1)
    assert (controller(st.za), controller(st.zb)) == st.ctl
    assert (registrations(st.za), registrations(st.zb)) == st.regs
    a.start("zookeeper", leader)
    a.start("zookeeper", other)
    st.wb.finish()
    assert not st.wb.failed, st.wb.failed[:5]
    lost = st.wb.acked - set(read_values(b.bootstrap, "tb", 2))
    assert not lost, "cluster b lost %d acknowledged writes" % len(lost)


def broker_paused(a, b, st):
    old = registrations(st.za)[2]
    a.pause("broker", 2)
    t0 = time.monotonic()
    wait_for(lambda: not st.za.exists("/brokers/ids/2"), 60,
             "broker 2's session to expire")
    print("broker 2's registration gone %.1f s after SIGSTOP" %
          (time.monotonic() - t0))

    def moved():
        return all(state_of(st.za, "ta", p)["leader"] != 2 and
                   2 not in state_of(st.za, "ta", p)["isr"] for p in range(3))
    wait_for(moved, 90, "broker 2 out of every leadership and ISR")
    st.wa.progress(500, "writes while broker 2 is a zombie")
    a.resume("broker", 2)
    wait_for(lambda: st.za.exists("/brokers/ids/2"), 90,
             "broker 2 to register again")
    new = registrations(st.za)[2]
    assert new > old, "broker 2 kept its epoch (czxid %d, was %d)" % (new, old)
    wait_for(lambda: all(2 in state_of(st.za, "ta", p)["isr"] for p in range(3)),
             120, "broker 2 back in every ISR")
    # its config-change watch was set again in the new session
    config_change_acted_on(a, "ta", (2,))
    st.wa.progress(500, "writes after broker 2's return")
    st.wa.finish()
    assert not st.wa.failed, st.wa.failed[:5]
    got = set(read_values(a.bootstrap, "ta", 3))
    lost = st.wa.acked - got
    assert not lost, "%d acknowledged writes lost, e.g. %s" % (
        len(lost), sorted(lost)[:10])
    print("cluster a: %d acknowledged, all read back" % len(st.wa.acked))


def main():
    logging.getLogger("kazoo.client").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd:
        with Cluster(os.path.join(wd, "a"), brokers=3, controllers=1,
                     zookeepers=5, zk_chroot="/a") as a:
            with Cluster(os.path.join(wd, "b"), brokers=1, controllers=1,
                         zookeeper=a.zk_hosts, zk_chroot="/b") as b:
                st = State()
                try:
                    run_steps((setup, two_servers_killed, broker_paused), a, b, st)
                finally:
                    for x in ("wa", "wb"):
                        if hasattr(st, x):
                            getattr(st, x).stop.set()
    print("ok")


if __name__ == "__main__":
    main()
