#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Fetching from the closest replica (KIP-392) on a kcluster of three
brokers in two racks (1 and 3 in "A", 2 in "B"), every broker with
replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector,
and a topic whose one partition lives on broker 1 (leader, rack A) and
broker 2 (follower, rack B):

- on a plain socket: the leader answers a Fetch v11 naming rack B with
  preferred_read_replica 2 and no data, and one naming rack A or none with
  data; the follower serves Fetch v11 up to its own high watermark, refuses
  Fetch v10 (NOT_LEADER_OR_FOLLOWER, as Kafka) and answers an offset past
  its log end with OFFSET_OUT_OF_RANGE;
- librdkafka (confluent-kafka) with client.rack=B reads every record, in
  order, at least 90 % of the bytes it receives coming from broker 2
  (librdkafka's own per-broker statistics);
- KafkaJS with rackId B reads from broker 2 too; broker 2 SIGKILLed, the
  leader no longer names it, and KafkaJS reads what is produced next from
  the leader, nothing missing (KafkaJS asks again once its
  preferred-replica lease, metadataMaxAge, runs out; librdkafka's lease
  is a fixed five minutes, too long for a test).
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, led  # noqa: E402
from kbroker import wait_for  # noqa: E402
import wire  # noqa: E402

TOPIC = "near"
SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
NOT_LEADER_OR_FOLLOWER = 6
OFFSET_OUT_OF_RANGE = 1
VALUE = 1000


def produce(c, start, n):
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": c.bootstrap, "acks": "all",
                  "linger.ms": 5})
    errs = []
    for i in range(start, start + n):
        p.produce(TOPIC, value=b"%08d" % i + b"x" * (VALUE - 8),
                  on_delivery=lambda e, m: errs.append(e) if e else None)
        p.poll(0)
    assert p.flush(60) == 0
    assert not errs, errs[:3]


def fetch(c, broker, offset, version=11, rack=""):
    p = wire.fetch(c.broker_port(broker), version, TOPIC, 0, offset, rack=rack)
    return (p["error_code"], p["high_watermark"], p["preferred_read_replica"],
            p["records"])


class RackConsumer:
    """A confluent-kafka consumer in rack B reading partition 0 from the
    start; records and per-broker received bytes from its statistics."""

    def __init__(self, c):
        from confluent_kafka import Consumer, TopicPartition

        self.values = []
        self.rx = {}            # broker id: bytes received from it
        self.ids = {c.broker_port(i): i for i in (1, 2, 3)}
        self.nstats = 0
        self.lock = threading.Lock()
        self.cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "near",
                              "client.rack": "B", "enable.auto.commit": False,
                              "statistics.interval.ms": 500,
                              "stats_cb": self.stats,
                              "topic.metadata.refresh.interval.ms": 2000})
        self.cons.assign([TopicPartition(TOPIC, 0, 0)])

    def stats(self, text):
        s = json.loads(text)
        # by address: librdkafka may go on using a bootstrap connection
        # (nodeid -1 in its statistics) to reach a broker it learned
        rx = {}
        for b in s.get("brokers", {}).values():
            port = b.get("nodename", "").rsplit(":", 1)[-1]
            if port.isdigit():
                rx[int(port)] = rx.get(int(port), 0) + b.get("rxbytes", 0)
        with self.lock:
            self.rx = {self.ids.get(port, port): n for port, n in rx.items()}
            self.nstats += 1

    def read(self, n, timeout=120):
        deadline = time.monotonic() + timeout
        while len(self.values) < n and time.monotonic() < deadline:
            m = self.cons.poll(0.5)
            if m is not None and m.error() is None:
                self.values.append(int(m.value()[:8]))
        assert self.values == list(range(n)), (len(self.values), self.values[-5:])

    def rx_now(self):
        """Bytes received per broker, from statistics emitted after this
        call began (they come with poll())."""
        with self.lock:
            seen = self.nstats

        def fresh():
            self.cons.poll(0.2)
            with self.lock:
                return self.nstats >= seen + 2
        wait_for(fresh, 60, "fresh librdkafka statistics")
        with self.lock:
            return dict(self.rx)


class KjsConsumer:
    """tests/lib/kjs-consumer.js (KafkaJS under node) as a child process."""

    def __init__(self, c, group, rack):
        here = os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib")
        self.proc = subprocess.Popen(
            ["node", os.path.join(here, "kjs-consumer.js"), c.bootstrap, TOPIC,
             group, rack], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=dict(os.environ, KAFKAJS=kafkajs_path()))
        self.values, self.fetch_ports, self.marked = [], [], 0
        self.lock = threading.Lock()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            w = line.split()
            with self.lock:
                if w and w[0] == "msg":
                    self.values.append(int(w[3]))
                elif w and w[0] == "fetch":
                    self.fetch_ports.append(int(w[1].rsplit(":", 1)[1]))

    def read(self, n, timeout=120):
        def done():
            if self.proc.poll() is not None:
                raise AssertionError("kjs-consumer exited: " + self.proc.stderr.read())
            with self.lock:
                # distinct values: after a broker dies KafkaJS may read
                # some records again (from its last commit)
                return len(set(self.values)) >= n
        wait_for(done, timeout, "KafkaJS to read %d records" % n)
        with self.lock:
            assert sorted(set(self.values)) == list(range(n)), self.values[-5:]

    def mark(self):
        with self.lock:
            self.marked = len(self.fetch_ports)

    def fetches(self, since_mark=False):
        with self.lock:
            ports = self.fetch_ports[self.marked if since_mark else 0:]
        out = {}
        for p in ports:
            out[p] = out.get(p, 0) + 1
        return out

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def kafkajs_path():
    """Where .ci/deps put KafkaJS (or $KAFKAJS)."""
    for p in (os.environ.get("KAFKAJS"), "/opt/skald-test/node_modules/kafkajs"):
        if p and os.path.isdir(p):
            return p
    raise AssertionError("KafkaJS is not installed: run .ci/deps")


def main():
    wd = tempfile.mkdtemp(prefix="skald-0017-")
    with Cluster(wd, brokers=3, controllers=1, racks=["A", "B", "A"],
                 broker_set={"replica.selector.class": SELECTOR}) as c:
        from confluent_kafka.admin import AdminClient, NewTopic

        a = AdminClient({"bootstrap.servers": c.bootstrap})
        for f in a.create_topics([NewTopic(TOPIC, 1, replica_assignment=[[1, 2]])],
                                 operation_timeout=60).values():
            f.result()
        wait_for(lambda: led(a, TOPIC, 1, isr=2), 60, "a full ISR")
        n = 2000
        produce(c, 0, n)

        # the leader's answers by client rack
        err, hw, preferred, data = fetch(c, 1, 0, rack="B")
        assert (err, preferred, data) == (0, 2, b""), (err, preferred, len(data))
        assert hw == n, hw
        for rack in ("A", ""):
            err, hw, preferred, data = fetch(c, 1, 0, rack=rack)
            assert err == 0 and preferred == -1 and data, (rack, err, preferred)
        # the follower: v11 up to its high watermark, v10 refused, past
        # its log end out of range
        wait_for(lambda: fetch(c, 2, 0)[1] == n, 60, "the follower's HW")
        err, hw, preferred, data = fetch(c, 2, n - 1)
        assert err == 0 and preferred == -1 and data, (err, preferred)
        assert fetch(c, 2, 0, version=10)[0] == NOT_LEADER_OR_FOLLOWER
        assert fetch(c, 2, n + 100)[0] == OFFSET_OUT_OF_RANGE

        # librdkafka in rack B reads from broker 2
        rc = RackConsumer(c)
        rc.read(n)
        rx = rc.rx_now()
        total = sum(rx.values())
        print("librdkafka in rack B, bytes received per broker id:", rx)
        assert rx.get(2, 0) >= 0.9 * total, rx
        assert rx.get(2, 0) > n * VALUE, rx

        rc.cons.close()

        # KafkaJS in rack B (its preferred-replica lease is metadataMaxAge,
        # 2 s here; librdkafka's is a fixed 5 minutes): it reads from
        # broker 2, then, once broker 2 is gone, from the leader again,
        # which no longer names a dead replica
        kjs = KjsConsumer(c, "kjs-near", "B")
        try:
            kjs.read(n)
            fetched = kjs.fetches()
            assert fetched.get(c.broker_port(2), 0) > fetched.get(c.broker_port(1), 0), fetched
            c.kill("broker", 2)
            # once the controller has seen it go (its ZooKeeper session)
            wait_for(lambda: fetch(c, 1, 0, rack="B")[2] == -1, 60,
                     "the leader to stop naming the dead replica")
            err, _, preferred, data = fetch(c, 1, 0, rack="B")
            assert (err, preferred) == (0, -1) and data, (err, preferred)
            kjs.mark()
            produce(c, n, 500)
            kjs.read(n + 500, timeout=180)
            assert kjs.fetches(since_mark=True).get(c.broker_port(1), 0) > 0
        finally:
            kjs.stop()
        c.start("broker", 2)
    print("ok")


if __name__ == "__main__":
    main()
