#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Group coordinator timings with librdkafka (confluent-kafka) on a
3-broker kcluster (make bench-groups):

1. join latency: a second member subscribes to a Stable group; the time
   until it is assigned, against heartbeat.interval.ms + 200 ms (the first
   member learns of the rebalance from its next heartbeat);
2. coordinator load: 100,000 offset commits are written for one group,
   its coordinator is SIGKILLed, and the new coordinator's load time (from
   its log) and the time from its taking leadership to serving the
   committed offsets are measured.
"""

import datetime
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time

SRC = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))

from cluster import Cluster, group_partition  # noqa: E402

HEARTBEAT_MS = int(os.environ.get("BENCH_HEARTBEAT_MS", "3000"))
COMMITS = int(os.environ.get("BENCH_COMMITS", "100000"))
ROUNDS = int(os.environ.get("BENCH_JOIN_ROUNDS", "8"))


def create(c, name, parts):
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    for f in a.create_topics([NewTopic(name, parts, 3)], operation_timeout=60).values():
        f.result()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        md = a.list_topics(name, timeout=10).topics.get(name)
        if md is not None and md.error is None and \
                all(p.leader >= 1 for p in md.partitions.values()):
            return
        time.sleep(0.1)
    raise SystemExit("no leaders for " + name)


class Poller:
    """A consumer polled on its own thread; records when it was assigned."""

    def __init__(self, bootstrap, group, topic):
        from confluent_kafka import Consumer

        self.assigned_at = None
        self.stop = False
        self.c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                           "session.timeout.ms": 10000,
                           "heartbeat.interval.ms": HEARTBEAT_MS,
                           "auto.offset.reset": "latest"})
        self.c.subscribe([topic], on_assign=self.on_assign)
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def on_assign(self, cons, tps):
        if tps:
            self.assigned_at = time.monotonic()

    def run(self):
        while not self.stop:
            self.c.poll(0.05)

    def close(self):
        self.stop = True
        self.t.join()
        self.c.close()


def wait(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.01)
    raise SystemExit("timed out: " + what)


def join_latency(c):
    create(c, "bj", 12)
    first = Poller(c.bootstrap, "bench-join", "bj")
    wait(lambda: first.assigned_at is not None, 60, "the first member")
    lat = []
    rnd = random.Random(7)
    for _ in range(ROUNDS):
        # Stable; join at a random phase of the first member's heartbeats
        time.sleep(0.5 + rnd.random() * HEARTBEAT_MS / 1000.0)
        first.assigned_at = None
        t0 = time.monotonic()
        second = Poller(c.bootstrap, "bench-join", "bj")
        wait(lambda: second.assigned_at is not None and first.assigned_at is not None,
             60, "the second member")
        lat.append((second.assigned_at - t0) * 1000)
        second.close()
        first.assigned_at = None
        wait(lambda: first.assigned_at is not None, 60, "the group after a leave")
    first.close()
    print("join of a second member (heartbeat.interval.ms=%d): median %.0f ms, "
          "max %.0f ms; target heartbeat + 200 = %d ms: %s"
          % (HEARTBEAT_MS, statistics.median(lat), max(lat), HEARTBEAT_MS + 200,
             "met" if max(lat) <= HEARTBEAT_MS + 200 else "NOT met"))


def log_time(line):
    stamp = line.split(" ", 1)[0]
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def coordinator_load(c):
    from confluent_kafka import Consumer, TopicPartition
    from confluent_kafka.admin import AdminClient

    group, parts = "bench-load", 12
    create(c, "bl", parts)
    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": group,
                     "enable.auto.commit": False})
    t0 = time.monotonic()
    for i in range(COMMITS):
        # pipelined; results served as they come (an unserved result queue
        # makes the client itself slow)
        cons.commit(offsets=[TopicPartition("bl", i % parts, i)], asynchronous=True)
        cons.poll(0)
    cons.commit(offsets=[TopicPartition("bl", p, COMMITS + p) for p in range(parts)],
                asynchronous=False)
    print("%d offset commits in %.1f s (%.0f/s)" % (COMMITS, time.monotonic() - t0,
                                                    COMMITS / (time.monotonic() - t0)))
    want = {p: COMMITS + p for p in range(parts)}
    cons.close()
    idx = group_partition(group)
    md = AdminClient({"bootstrap.servers": c.bootstrap}).list_topics(
        "__consumer_offsets", timeout=30).topics["__consumer_offsets"]
    old = md.partitions[idx].leader
    c.kill("broker", old)
    probe = Consumer({"bootstrap.servers": c.bootstrap, "group.id": group})
    served_at = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            got = probe.committed([TopicPartition("bl", p) for p in range(parts)],
                                  timeout=2)
            if {tp.partition: tp.offset for tp in got} == want:
                served_at = time.time()
                break
        except Exception:
            pass
        time.sleep(0.01)
    probe.close()
    if served_at is None:
        raise SystemExit("the new coordinator never served the offsets")
    lead = loaded = None
    pat_lead = re.compile(r"leading __consumer_offsets-%d at" % idx)
    pat_load = re.compile(r"loaded __consumer_offsets-%d in (\d+) ms: (\d+) records" % idx)
    for name in sorted(os.listdir(c.dir)):
        if not name.startswith("broker-") or not name.endswith(".log") or \
                name == "broker-%d.log" % old:
            continue
        with open(os.path.join(c.dir, name)) as f:
            for line in f:
                if pat_lead.search(line):
                    lead = log_time(line)
                m = pat_load.search(line)
                if m:
                    loaded = (int(m.group(1)), int(m.group(2)))
    print("new coordinator: loaded %d records in %d ms; offsets served %.0f ms after it "
          "took leadership (target 1000 ms: %s)"
          % (loaded[1], loaded[0], (served_at - lead) * 1000,
             "met" if served_at - lead <= 1.0 else "NOT met"))
    c.start("broker", old)


def main():
    work = tempfile.mkdtemp(prefix="skald-bench-groups-")
    with Cluster(work, brokers=3, controllers=1) as c:
        join_latency(c)
        coordinator_load(c)


if __name__ == "__main__":
    main()
