#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Transactions on a 3-broker kcluster with confluent-kafka's transactional
producer (the transaction coordinator, its __transaction_state, the markers
it sends, the partition side's last stable offset):

- __transaction_state is created on first use as Kafka creates it
  (transaction.state.log.num.partitions, compacted, min.insync.replicas
  from transaction.state.log.min.isr);
- commits and aborts interleaved across 6 partitions of two topics: a
  read_committed consumer sees exactly the committed records, a
  read_uncommitted one sees all of them;
- the transactional id's records in __transaction_state decode as Kafka's
  TransactionLog key/value v0 and end in CompleteCommit / CompleteAbort;
- a zombie producer (same transactional.id, initialized again elsewhere)
  is fenced, and what it had begun is aborted;
- transaction.timeout.ms: a hung transaction is aborted by the
  coordinator, its producer fenced, and the last stable offset moves on;
- the coordinator's broker SIGKILLed in the middle of a transaction: the
  producer finds the new coordinator, which loaded the state, and commits.
"""

import json
import os
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, group_partition  # noqa: E402
from kbroker import wait_for  # noqa: E402

TXN_PARTS = 5
TOPICS = ("txa", "txb")


def state(zk, topic, part):
    try:
        data, _ = zk.get("/brokers/topics/%s/partitions/%d/state" % (topic, part))
    except Exception:
        return {"leader": -1, "isr": []}
    return json.loads(data)


def create(c, name, parts, rf):
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    for f in a.create_topics([NewTopic(name, parts, rf)], operation_timeout=60).values():
        f.result()
    wait_for(lambda: all(len(state(c.zkc, name, p)["isr"]) == rf for p in range(parts)),
             90, "ISR of " + name)


def producer(c, tid, **extra):
    from confluent_kafka import Producer

    conf = {"bootstrap.servers": c.bootstrap, "transactional.id": tid,
            "transaction.timeout.ms": 60000, "message.timeout.ms": 60000}
    conf.update(extra)
    conf["message.timeout.ms"] = min(60000, conf["transaction.timeout.ms"])
    p = Producer(conf)
    p.init_transactions(120)
    return p


def read_all(c, isolation, expect, timeout=120):
    """Values of every partition of both topics up to their end (the LSO
    for read_committed), once at least `expect` arrived."""
    from confluent_kafka import Consumer, TopicPartition, KafkaError

    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "reader",
                     "enable.auto.commit": False, "isolation.level": isolation,
                     "enable.partition.eof": True})
    tps = [TopicPartition(t, p, 0) for t in TOPICS for p in range(3)]
    cons.assign(tps)
    got, eof = [], set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (len(got) < expect or len(eof) < len(tps)):
        m = cons.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                eof.add((m.topic(), m.partition()))
            continue
        eof.discard((m.topic(), m.partition()))
        got.append(m.value().decode())
    cons.close()
    return got


def interleaved(c):
    for t in TOPICS:
        create(c, t, 3, 3)
    p = producer(c, "txn-interleaved")
    meta = json.loads(c.zkc.get("/config/topics/__transaction_state")[0])
    assert meta["config"]["cleanup.policy"] == "compact", meta
    assert meta["config"]["min.insync.replicas"] == "2", meta
    parts = c.zkc.get_children("/brokers/topics/__transaction_state/partitions")
    assert len(parts) == TXN_PARTS, parts
    committed, everything = [], []
    for i in range(12):
        p.begin_transaction()
        batch = ["%d-%s-%d-%d" % (i, t, part, k) for t in TOPICS
                 for part in range(3) for k in range(5)]
        for v in batch:
            _, t, part, _ = v.split("-")
            p.produce(t, v.encode(), partition=int(part))
        everything += batch
        if i % 3 == 1:
            p.flush(30)     # else librdkafka drops what it has not sent
            p.abort_transaction(60)
        else:
            p.commit_transaction(60)
            committed += batch
    got = read_all(c, "read_committed", len(committed))
    assert sorted(got) == sorted(committed), (len(got), len(committed),
                                              sorted(set(got) ^ set(committed))[:10])
    got = read_all(c, "read_uncommitted", len(everything))
    assert sorted(got) == sorted(everything), (len(got), len(everything))
    p.flush(30)
    return p


def txn_log_records(c, tid):
    """The __transaction_state records of tid, decoded (key v0, value v0)."""
    from confluent_kafka import Consumer, TopicPartition, KafkaError

    part = group_partition(tid, TXN_PARTS)
    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "txnlog",
                     "enable.auto.commit": False, "enable.partition.eof": True})
    cons.assign([TopicPartition("__transaction_state", part, 0)])
    out = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        m = cons.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                break
            continue
        k = m.key()
        kv, klen = struct.unpack(">hh", k[:4])
        assert kv == 0, kv
        if k[4:4 + klen].decode() != tid:
            continue
        v = m.value()
        ver, pid, epoch, timeout, st = struct.unpack(">hqhib", v[:17])
        assert ver == 0, ver
        out.append((pid, epoch, timeout, st))
    cons.close()
    return out


def log_format(c):
    recs = txn_log_records(c, "txn-interleaved")
    states = [r[3] for r in recs]
    # Empty (init), then per transaction Ongoing, Prepare*, Complete*
    assert states[0] == 0, states
    assert states.count(4) == 8 and states.count(5) == 4, states
    assert states[-1] == 4, states
    assert all(r[2] == 60000 for r in recs), recs


def zombie(c):
    from confluent_kafka import KafkaException

    old = producer(c, "txn-zombie")
    old.begin_transaction()
    old.produce("txa", b"zombie-0", partition=0)
    old.flush(30)
    new = producer(c, "txn-zombie")    # fences the old one, aborts its txn
    new.begin_transaction()
    new.produce("txa", b"fresh-0", partition=0)
    new.commit_transaction(60)
    try:
        old.produce("txa", b"zombie-1", partition=0)
        old.commit_transaction(30)
        raise AssertionError("the zombie committed")
    except KafkaException as e:
        err = e.args[0]
        assert err.fatal() or err.txn_requires_abort() or "fenced" in err.str().lower(), err
    got = read_all(c, "read_committed", 1)
    assert "fresh-0" in got and "zombie-0" not in got and "zombie-1" not in got, got


def timeout(c):
    from confluent_kafka import KafkaException, Producer

    hung = producer(c, "txn-hung", **{"transaction.timeout.ms": 4000})
    hung.begin_transaction()
    hung.produce("txb", b"hung-0", partition=1)
    hung.flush(30)
    plain = Producer({"bootstrap.servers": c.bootstrap})
    plain.produce("txb", b"after-hung", partition=1)
    plain.flush(30)
    # blocked behind the open transaction until the coordinator aborts it
    # (4 s, checked each second), then the LSO passes it
    got = []
    wait_for(lambda: "after-hung" in got or got.extend(read_all(c, "read_committed", 0, 10)),
             120, "the LSO past the timed-out transaction")
    assert "hung-0" not in got, got
    recs = txn_log_records(c, "txn-hung")
    assert recs[-1][3] == 5 and recs[-1][1] == recs[0][1] + 1, recs  # aborted, epoch bumped
    try:
        hung.commit_transaction(30)
        raise AssertionError("the timed-out producer committed")
    except KafkaException:
        pass


def coordinator_kill(c):
    tid = "txn-survivor"
    part = group_partition(tid, TXN_PARTS)
    p = producer(c, tid)
    p.begin_transaction()
    for k in range(30):
        p.produce("txa", ("survivor-%d" % k).encode(), partition=k % 3)
    p.flush(30)
    coord = state(c.zkc, "__transaction_state", part)["leader"]
    c.kill("broker", coord)
    wait_for(lambda: state(c.zkc, "__transaction_state", part)["leader"] not in (-1, coord),
             90, "a new coordinator")
    p.commit_transaction(120)
    got = read_all(c, "read_committed", 30)
    assert sum(1 for v in got if v.startswith("survivor-")) == 30, got
    c.start("broker", coord)


def main():
    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd, \
            Cluster(wd, brokers=3, controllers=1,
                    broker_set={"offsets.topic.num.partitions": "3",
                                "transaction.state.log.num.partitions": str(TXN_PARTS),
                                "transaction.abort.timed.out.transaction.cleanup.interval.ms":
                                    "1000",
                                "zookeeper.session.timeout.ms": "10000"},
                    fail_tail=200) as c:
        c.zkc = c.zk()
        for step in (interleaved, log_format, zombie, timeout, coordinator_kill):
            t0 = time.monotonic()
            step(c)
            print("ok: %s (%.1fs)" % (step.__name__, time.monotonic() - t0))
    print("ok")


if __name__ == "__main__":
    main()
