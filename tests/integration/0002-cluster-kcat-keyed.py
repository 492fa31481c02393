#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""kcluster brings up ZooKeeper, two kcontrollers and three kbrokers; kcat
produces 100,000 keyed messages to a 6-partition topic and consumes them
all back: every key stays in one partition and order per partition is
kept.  The ZooKeeper layout the controller writes is Kafka's."""

import collections
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster  # noqa: E402
from kbroker import zk_client  # noqa: E402

N = 100000


def main():
    from confluent_kafka.admin import AdminClient, NewTopic

    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd, \
            Cluster(wd, brokers=3, controllers=2) as c:
        admin = AdminClient({"bootstrap.servers": c.bootstrap})
        for f in admin.create_topics([NewTopic("keyed", 6, 2)],
                                     operation_timeout=60).values():
            f.result()
        del admin

        # Kafka's znodes: assignment, state, topic config
        zk = zk_client(c.zk_connect)
        try:
            topic = json.loads(zk.get("/brokers/topics/keyed")[0])
            assert topic["version"] == 3 and len(topic["topic_id"]) == 22, topic
            assert sorted(topic["partitions"]) == [str(p) for p in range(6)]
            leaders = collections.Counter()
            for p, reps in topic["partitions"].items():
                assert len(reps) == 2 and len(set(reps)) == 2, reps
                st = json.loads(zk.get("/brokers/topics/keyed/partitions/%s/state" % p)[0])
                assert st["leader"] == reps[0], (st, reps)
                assert st["leader_epoch"] == 0 and st["version"] == 1, st
                assert st["controller_epoch"] >= 1, st
                leaders[st["leader"]] += 1
            assert sorted(leaders.values()) == [2, 2, 2], leaders
            cfg = json.loads(zk.get("/config/topics/keyed")[0])
            assert cfg == {"version": 1, "config": {}}, cfg
            ctl = json.loads(zk.get("/controller")[0])
            assert ctl["version"] == 1 and ctl["brokerid"] in (101, 102), ctl
        finally:
            zk.stop()

        data = "".join("key%d:%d\n" % (i % 997, i) for i in range(N))
        r = subprocess.run(["kcat", "-P", "-b", c.bootstrap, "-t", "keyed", "-K:",
                            "-X", "queue.buffering.max.messages=200000"],
                           input=data, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        r = subprocess.run(["kcat", "-C", "-b", c.bootstrap, "-t", "keyed", "-e", "-q",
                            "-f", "%p %k %s\n"],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert len(lines) == N, "consumed %d of %d" % (len(lines), N)
        where = {}
        last = {}
        seen = set()
        for line in lines:
            p, k, v = line.split()
            v = int(v)
            assert where.setdefault(k, p) == p, "key %s in partitions %s and %s" % (
                k, where[k], p)
            assert last.get(p, -1) < v, "partition %s out of order at %d" % (p, v)
            last[p] = v
            seen.add(v)
        assert len(seen) == N
        assert len(set(where.values())) == 6, "keys used %d partitions" % len(
            set(where.values()))
    print("ok")


if __name__ == "__main__":
    main()
