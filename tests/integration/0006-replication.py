#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Replication with real clients on a 3-broker kcluster:

- an acks=all producer (confluent-kafka, retries on) writes straight
  through 10 SIGKILLs of a partition's leader: every acknowledged message
  is read back, duplicates (retries) are counted;
- with two of three replicas down, acks=all gets NOT_ENOUGH_REPLICAS and
  acks=1 succeeds; the replicas come back, catch up and rejoin the ISR in
  ZooKeeper and in Metadata;
- divergence: a leader with an unreplicated tail hangs (SIGSTOP) past its
  session, a new leader takes writes, the old one returns and truncates at
  the epoch boundary: all replicas end byte-identical, and a consumer never
  saw the truncated messages;
- SIGTERM of a broker that leads partitions: controlled shutdown, the
  acks=all producer sees no error and loses nothing, the broker exits
  leading nothing.
"""

import collections
import filecmp
import json
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, Writer, read_values  # noqa: E402
from kbroker import wait_for  # noqa: E402


def create(c, name, parts, rf, config=None):
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    for f in a.create_topics([NewTopic(name, parts, rf, config=config or {})],
                             operation_timeout=60).values():
        f.result()
    wait_metadata(c, name, lambda md: all(
        p.leader >= 1 and len(p.isrs) == rf for p in md.partitions.values()),
        "leaders and full ISRs of " + name)


def wait_metadata(c, name, pred, what, timeout=90):
    """Wait until every broker's Metadata answer satisfies pred."""
    from confluent_kafka.admin import AdminClient

    clients = [AdminClient({"bootstrap.servers": "127.0.0.1:%d" % c.broker_port(i)})
               for i in range(1, c.nbrokers + 1)]

    def ok():
        for a in clients:
            try:
                md = a.list_topics(name, timeout=10).topics.get(name)
            except Exception:
                return False
            if md is None or md.error is not None or not pred(md):
                return False
        return True
    wait_for(ok, timeout, what)


def state(zk, topic, part):
    data, _ = zk.get("/brokers/topics/%s/partitions/%d/state" % (topic, part))
    return json.loads(data)


def leader_kills(c, zk):
    create(c, "kills", 3, 3, {"min.insync.replicas": "2"})
    w = Writer(c, "kills")
    try:
        w.progress(2000, "first acknowledgements")
        for round in range(10):
            s = state(zk, "kills", 0)
            victim = s["leader"]
            c.kill("broker", victim)
            wait_for(lambda: state(zk, "kills", 0)["leader"] not in (victim, -1),
                     60, "a new leader after killing %d" % victim)
            c.start("broker", victim)
            # back in the ISR of every partition before the next round
            wait_for(lambda: all(len(state(zk, "kills", p)["isr"]) == 3
                                 for p in range(3)), 120,
                     "broker %d back in the ISRs" % victim)
            w.progress(500, "progress after round %d" % round)
            print("round %d: killed leader %d, %d acknowledged so far" %
                  (round, victim, len(w.acked)), flush=True)
    finally:
        w.finish()
    assert not w.failed, w.failed[:5]
    got = read_values(c.bootstrap, "kills", 3)
    counts = collections.Counter(got)
    lost = w.acked - set(counts)
    assert not lost, "%d acknowledged messages lost, e.g. %s" % (
        len(lost), sorted(lost)[:10])
    dups = sum(n - 1 for n in counts.values() if n > 1)
    print("leader kills: %d acknowledged, %d read, %d duplicates from retries"
          % (len(w.acked), len(got), dups))


def not_enough_replicas(c, zk):
    from confluent_kafka import KafkaError, Producer

    create(c, "minisr", 1, 3, {"min.insync.replicas": "2"})
    leader = state(zk, "minisr", 0)["leader"]
    others = [b for b in (1, 2, 3) if b != leader]
    for b in others:
        c.kill("broker", b)
    wait_for(lambda: state(zk, "minisr", 0)["isr"] == [leader], 60,
             "the ISR down to the leader")

    def produce(acks):
        res = []
        p = Producer({"bootstrap.servers": "127.0.0.1:%d" % c.broker_port(leader),
                      "acks": acks, "retries": 0, "message.timeout.ms": 20000})
        p.produce("minisr", value=b"1", on_delivery=lambda e, m: res.append(e))
        p.flush(30)
        assert len(res) == 1
        return res[0]

    err = produce("all")
    assert err is not None and err.code() == KafkaError.NOT_ENOUGH_REPLICAS, err
    assert produce("1") is None
    for b in others:
        c.start("broker", b)
    wait_for(lambda: sorted(state(zk, "minisr", 0)["isr"]) == [1, 2, 3], 90,
             "replicas back in the ISR in ZooKeeper")
    wait_metadata(c, "minisr", lambda md: sorted(md.partitions[0].isrs) == [1, 2, 3],
                  "replicas back in the ISR in Metadata")
    assert produce("all") is None
    print("not enough replicas: refused with 1 of 3, accepted again after catch-up")


def log_files(c, broker, topic, part):
    d = os.path.join(c.dir, "broker-%d-data" % broker, "%s-%d" % (topic, part))
    return sorted(f for f in os.listdir(d) if f.endswith(".log")), d


def divergence(c, zk):
    from confluent_kafka import Consumer, Producer, TopicPartition

    create(c, "div", 1, 3, {"min.insync.replicas": "2"})
    old = state(zk, "div", 0)["leader"]
    followers = [b for b in (1, 2, 3) if b != old]

    def produce(acks, values, target=None):
        acked = []
        p = Producer({"bootstrap.servers": target or c.bootstrap, "acks": acks,
                      "message.timeout.ms": 60000, "linger.ms": 5})
        for v in values:
            p.produce("div", value=str(v).encode(),
                      on_delivery=lambda e, m: acked.append(e is None))
        assert p.flush(90) == 0
        assert all(acked) and len(acked) == len(values)

    produce("all", range(0, 1000))
    # a consumer reading at the end the whole time: it must never get the
    # tail written while the followers hang
    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "unused",
                     "enable.auto.commit": False, "fetch.wait.max.ms": 100})
    cons.assign([TopicPartition("div", 0, 1000)])
    for b in followers:
        c.pause("broker", b)
    try:
        # three requests: a hung follower may still find the answer to
        # the fetch it had parked in its socket (the first batch), never
        # the later ones
        for k in range(3):
            produce("1", range(100000 + 100 * k, 100100 + 100 * k),
                    target="127.0.0.1:%d" % c.broker_port(old))
        seen = []
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            m = cons.poll(0.2)
            if m is not None and not m.error():
                seen.append(int(m.value()))
        assert not seen, "a consumer saw unreplicated messages: %s" % seen[:5]
        c.pause("broker", old)
    finally:
        for b in followers:
            c.resume("broker", b)
    try:
        wait_for(lambda: state(zk, "div", 0)["leader"] in followers, 60,
                 "a new leader while the old one hangs")
        produce("all", range(1000, 2000))
    finally:
        c.resume("broker", old)
    wait_for(lambda: sorted(state(zk, "div", 0)["isr"]) == [1, 2, 3], 120,
             "the old leader back in the ISR")

    def identical():
        names = [log_files(c, b, "div", 0)[0] for b in (1, 2, 3)]
        if names[0] != names[1] or names[0] != names[2]:
            return False
        for n in names[0]:
            paths = [os.path.join(log_files(c, b, "div", 0)[1], n) for b in (1, 2, 3)]
            if not (filecmp.cmp(paths[0], paths[1], shallow=False) and
                    filecmp.cmp(paths[0], paths[2], shallow=False)):
                return False
        return True
    wait_for(identical, 60, "byte-identical segment files on all replicas")
    got = read_values(c.bootstrap, "div", 1)
    assert got[:1000] == list(range(1000)), got[:10]
    kept = 0
    while 1000 + kept < len(got) and got[1000 + kept] == 100000 + kept:
        kept += 1
    assert got[1000 + kept:] == list(range(1000, 2000)), got[1000 + kept:][:10]
    assert kept < 300, "the whole tail survived: nothing was unreplicated"
    # the consumer that stayed on: what survived, nothing truncated
    late = []
    deadline = time.monotonic() + 30
    while len(late) < len(got) - 1000 and time.monotonic() < deadline:
        m = cons.poll(0.5)
        if m is not None and not m.error():
            late.append(int(m.value()))
    cons.close()
    assert late == got[1000:], late[:5]
    with open(os.path.join(c.dir, "broker-%d.log" % old)) as f:
        assert "truncating" in f.read()
    print("divergence: old leader %d truncated %d unreplicated messages "
          "(%d had reached a follower); replicas identical"
          % (old, 300 - kept, kept))


def controlled_shutdown(c, zk):
    create(c, "calm", 6, 3, {"min.insync.replicas": "2"})
    victim = state(zk, "calm", 0)["leader"]
    w = Writer(c, "calm")
    try:
        w.progress(2000, "acknowledgements before the shutdown")
        t0 = time.monotonic()
        c.stop("broker", victim)
        took = time.monotonic() - t0
        # a clean stop leaves the high watermarks in the checkpoint file
        with open(os.path.join(c.dir, "broker-%d-data" % victim,
                               "replication-offset-checkpoint")) as f:
            lines = f.read().split("\n")
        hws = {tuple(ln.split()[:2]): int(ln.split()[2])
               for ln in lines[2:] if len(ln.split()) == 3}
        assert len([k for k in hws if k[0] == "calm"]) == 6, lines
        assert sum(v for k, v in hws.items() if k[0] == "calm") > 0, lines
        w.progress(2000, "acknowledgements after the shutdown")
        c.start("broker", victim)
        w.progress(1000, "acknowledgements after the restart")
    finally:
        w.finish()
    assert not w.failed, w.failed[:5]
    with open(os.path.join(c.dir, "broker-%d.log" % victim)) as f:
        text = f.read()
    assert "controlled shutdown succeeded; leading 0 replicated" in text, text[-3000:]
    got = set(read_values(c.bootstrap, "calm", 6))
    lost = w.acked - got
    assert not lost, "%d acknowledged messages lost" % len(lost)
    print("controlled shutdown of broker %d in %.2f s: %d acknowledged, none "
          "lost, no errors" % (victim, took, len(w.acked)))


def leader_shrinks_isr(c, zk):
    """A follower that hangs (but keeps its ZooKeeper session) leaves the
    ISR by its leader's decision after replica.lag.time.max.ms, and comes
    back once it catches up."""
    from confluent_kafka import Producer

    create(c, "lag", 1, 3)
    leader = state(zk, "lag", 0)["leader"]
    epoch = state(zk, "lag", 0)["leader_epoch"]
    slow = [b for b in (1, 2, 3) if b != leader][0]
    p = Producer({"bootstrap.servers": c.bootstrap, "acks": "1", "linger.ms": 5})
    stop = threading.Event()
    delivered = [0]

    def cb(err, msg):
        if err is None:
            delivered[0] += 1

    def feed():
        i = 0
        while not stop.is_set():
            p.produce("lag", value=str(i).encode(), on_delivery=cb)
            p.poll(0)
            i += 1
            time.sleep(0.002)
        p.flush(60)
    t = threading.Thread(target=feed)
    t.start()
    try:
        # the producer knows the leader before the follower hangs (a
        # metadata request sent to the hung broker would stall it, and
        # without new writes the follower never falls behind)
        wait_for(lambda: delivered[0] >= 100, 60, "the first writes")
        c.pause("broker", slow)
        try:
            wait_for(lambda: slow not in state(zk, "lag", 0)["isr"], 15,
                     "the leader to drop the hung follower")
            # the leader decided, not the controller (whose ISR changes
            # bump the leader epoch)
            st = state(zk, "lag", 0)
            assert st["leader"] == leader and st["leader_epoch"] == epoch, st
            with open(os.path.join(c.dir, "broker-%d.log" % leader)) as f:
                shrunk = [l for l in f if "lag-0: ISR now [" in l and
                          str(slow) not in l.split("ISR now [")[1].split("]")[0]]
            assert shrunk, "the leader logged no ISR without %d" % slow
        finally:
            c.resume("broker", slow)
        wait_for(lambda: sorted(state(zk, "lag", 0)["isr"]) == [1, 2, 3], 60,
                 "the follower back in the ISR")
        wait_metadata(c, "lag", lambda md: sorted(md.partitions[0].isrs) == [1, 2, 3],
                      "the ISR in Metadata")
    finally:
        stop.set()
        t.join(90)
    with open(os.path.join(c.dir, "broker-%d.log" % leader)) as f:
        text = f.read()
    assert "lag-0: ISR now" in text
    print("ISR expiry: leader %d dropped hung follower %d and took it back"
          % (leader, slow))


def main():
    # a short replica.lag.time.max.ms, far under the sessions (20 s here:
    # the paused follower's session must outlive the leader's decision even
    # on a loaded machine, or the controller removes it first); the
    # consumers' group.id makes the brokers create __consumer_offsets: 3
    # partitions keep these timing-sensitive clusters small on 2 cores
    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd, \
            Cluster(wd, brokers=3, controllers=1,
                    broker_set={"replica.lag.time.max.ms": "2000",
                                "zookeeper.session.timeout.ms": "20000",
                                "offsets.topic.num.partitions": "3"},
                    fail_tail=200) as c:
        zk = c.zk()
        leader_shrinks_isr(c, zk)
    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd, \
            Cluster(wd, brokers=3, controllers=1,
                    broker_set={"offsets.topic.num.partitions": "3"},
                    fail_tail=200) as c:
        zk = c.zk()
        not_enough_replicas(c, zk)
        divergence(c, zk)
        controlled_shutdown(c, zk)
        leader_kills(c, zk)
    print("ok")


if __name__ == "__main__":
    main()
