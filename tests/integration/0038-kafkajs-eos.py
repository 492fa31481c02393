#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""KafkaJS's idempotent and transactional producers (tests/lib/kjs-eos.js
under node) against a 3-broker kcluster, a topic of 3 partitions with
replication factor 3:

- the idempotent producer's records (acks=all) are there exactly once;
- of ten transactions, those it committed are seen exactly once by a
  read_committed confluent-kafka consumer and those it aborted not at all,
  while a read_uncommitted one sees both (the aborted records were
  written);
- sendOffsets (AddOffsetsToTxn, TxnOffsetCommit): the group's offset sent
  in a committed transaction is its committed offset, the one sent in an
  aborted transaction is not.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster  # noqa: E402
from kbroker import wait_for  # noqa: E402

TOPIC = "kjs-eos"
GROUP = "kjs-eos-group"


def kafkajs_path():
    """Where .ci/deps put KafkaJS (or $KAFKAJS)."""
    for p in (os.environ.get("KAFKAJS"), "/opt/skald-test/node_modules/kafkajs"):
        if p and os.path.isdir(p):
            return p
    raise AssertionError("KafkaJS is not installed: run .ci/deps")


def state(zk, topic, part):
    try:
        data, _ = zk.get("/brokers/topics/%s/partitions/%d/state" % (topic, part))
    except Exception:
        return {"leader": -1, "isr": []}
    return json.loads(data)


def run_kafkajs(c):
    here = os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib")
    r = subprocess.run(["node", os.path.join(here, "kjs-eos.js"), c.bootstrap, TOPIC, GROUP],
                       capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, KAFKAJS=kafkajs_path()))
    assert r.returncode == 0, "kjs-eos.js failed (%d): %s\n%s" % (r.returncode, r.stdout,
                                                                  r.stderr[-3000:])
    lines = r.stdout.split("\n")
    assert "done" in lines, r.stdout
    return lines


def read_all(c, isolation, timeout=120):
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "kjs-eos-reader",
                     "enable.auto.commit": False, "isolation.level": isolation,
                     "enable.partition.eof": True})
    tps = [TopicPartition(TOPIC, p, 0) for p in range(3)]
    cons.assign(tps)
    got, eof = [], set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(eof) < len(tps):
        m = cons.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                eof.add(m.partition())
            continue
        eof.discard(m.partition())
        got.append(m.value().decode())
    cons.close()
    assert len(eof) == len(tps), "no end of partitions %s in time" % eof
    return got


def committed_offset(c, part):
    from confluent_kafka import Consumer, TopicPartition

    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": GROUP,
                     "isolation.level": "read_committed", "enable.auto.commit": False})
    tp = cons.committed([TopicPartition(TOPIC, part)], 60)[0]
    cons.close()
    return tp.offset


def main():
    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd, \
            Cluster(wd, brokers=3, controllers=1,
                    broker_set={"offsets.topic.num.partitions": "3",
                                "transaction.state.log.num.partitions": "5"},
                    fail_tail=200) as c:
        from confluent_kafka.admin import AdminClient, NewTopic

        zk = c.zk()
        a = AdminClient({"bootstrap.servers": c.bootstrap})
        for f in a.create_topics([NewTopic(TOPIC, 3, 3)], operation_timeout=60).values():
            f.result()
        wait_for(lambda: all(len(state(zk, TOPIC, p)["isr"]) == 3 for p in range(3)),
                 90, "ISR of " + TOPIC)
        t0 = time.monotonic()
        lines = run_kafkajs(c)
        print("0038: kjs-eos.js ran in %.1fs: %s" % (time.monotonic() - t0,
                                                    "; ".join(x for x in lines if x)))
        assert "idem 300" in lines, lines
        committed, aborted = [], []
        for i in range(10):
            vals = ["txn-%d-%d" % (i, k) for k in range(10)]
            if "txn %d commit" % i in lines:
                committed += vals
            else:
                assert "txn %d abort" % i in lines, lines
                aborted += vals
        assert len(committed) == 70 and len(aborted) == 30
        assert "offsets 42 commit" in lines and "offsets 99 abort" in lines, lines
        committed.append("ofs-42")
        aborted.append("ofs-99")
        idem = ["idem-%d" % n for n in range(300)]

        got = read_all(c, "read_committed")
        dups = len(got) - len(set(got))
        assert dups == 0, "%d duplicates" % dups
        assert sorted(got) == sorted(idem + committed), \
            sorted(set(got) ^ set(idem + committed))[:10]
        got = read_all(c, "read_uncommitted")
        assert sorted(got) == sorted(idem + committed + aborted), \
            sorted(set(got) ^ set(idem + committed + aborted))[:10]
        print("0038: %d idempotent, %d committed records exactly once, %d aborted unseen"
              % (len(idem), len(committed), len(aborted)))
        off = committed_offset(c, 0)
        assert off == 42, off
        print("0038: sendOffsets: the committed transaction's offset 42 is the group's")
    print("ok")


if __name__ == "__main__":
    main()
