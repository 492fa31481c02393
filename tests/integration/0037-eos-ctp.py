#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Exactly-once consume-transform-produce on a 3-broker kcluster with
confluent-kafka: TxnOffsetCommit through send_offsets_to_transaction.

- pending offsets: offsets sent inside an open transaction are not the
  group's committed offsets yet - OffsetFetch v7 with require_stable
  answers UNSTABLE_OFFSET_COMMIT for their partition, v6 the old offset;
  an abort drops them, a commit makes them the committed offsets; with
  the group coordinator's broker SIGKILLed while one is pending, the new
  coordinator's load rebuilds it from the log and the marker commits it;
- a consume-transform-produce loop (read_committed consumer without auto
  commit, transactional producer, offsets sent with each transaction)
  turns every record of an input topic into one of an output topic while
  the transaction coordinator's broker is SIGKILLed in the middle of a
  transaction, and later the group coordinator's (whose new leader must
  rebuild the pending offsets from the log); a transaction aborted on
  purpose, and any the kills abort, rewind the consumer to the committed
  offsets.  At the end the output read with
  read_committed holds every input exactly once, and the group's
  committed offsets are exactly the input's end offsets.
"""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

import kwire  # noqa: E402
from cluster import Cluster, group_partition  # noqa: E402
from kbroker import wait_for  # noqa: E402

OFFSETS_PARTS = 3
TXN_PARTS = 5
INPUTS = 1200
UNSTABLE_OFFSET_COMMIT = 88


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


def producer(c, tid):
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": c.bootstrap, "transactional.id": tid,
                  "transaction.timeout.ms": 60000, "message.timeout.ms": 60000})
    p.init_transactions(120)
    return p


def group_coordinator(c, group):
    return state(c.zkc, "__consumer_offsets", group_partition(group, OFFSETS_PARTS))["leader"]


def txn_coordinator(c, tid):
    return state(c.zkc, "__transaction_state", group_partition(tid, TXN_PARTS))["leader"]


def offset_fetch(c, group, topic, part, version):
    """(error, offset) of one partition, asked of the group's coordinator
    on a plain socket (v7: require_stable)."""
    port = c.broker_port(group_coordinator(c, group))
    req = {"group_id": group, "topics": [{"name": topic, "partition_indexes": [part]}]}
    if version >= 7:
        req["require_stable"] = True
    try:
        with kwire.Wire(port) as w:
            r = w.call(9, version, req)
    except OSError as e:
        return ("no answer", str(e))
    if r["error_code"] != 0:
        return (r["error_code"], None)   # e.g. loading, or not the coordinator
    p = r["topics"][0]["partitions"][0]
    return p["error_code"], p["committed_offset"]


def pending_offsets(c):
    """Offsets sent in an open transaction stay pending until its marker."""
    from confluent_kafka import Consumer, TopicPartition

    group = "ctp-pending"
    p = producer(c, "ctp-pending-tid")
    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": group})
    meta = cons.consumer_group_metadata()
    # aborted: never visible
    p.begin_transaction()
    p.produce("ctp-out", b"pending-a", partition=0)
    p.send_offsets_to_transaction([TopicPartition("ctp-in", 0, 5)], meta, 60)
    wait_for(lambda: offset_fetch(c, group, "ctp-in", 0, 7)[0] == UNSTABLE_OFFSET_COMMIT,
             60, "the pending offset seen as unstable")
    assert offset_fetch(c, group, "ctp-in", 0, 6) == (0, -1)
    assert offset_fetch(c, group, "ctp-in", 1, 7) == (0, -1)
    p.abort_transaction(60)
    wait_for(lambda: offset_fetch(c, group, "ctp-in", 0, 7) == (0, -1), 60,
             "the aborted offset dropped")
    # committed: visible once the marker is in
    p.begin_transaction()
    p.produce("ctp-out", b"pending-c", partition=0)
    p.send_offsets_to_transaction([TopicPartition("ctp-in", 0, 7)], meta, 60)
    assert offset_fetch(c, group, "ctp-in", 0, 7)[0] == UNSTABLE_OFFSET_COMMIT
    p.commit_transaction(60)
    wait_for(lambda: offset_fetch(c, group, "ctp-in", 0, 7) == (0, 7), 60,
             "the committed offset installed")
    # a later transaction's offset replaces it only when committed
    p.begin_transaction()
    p.send_offsets_to_transaction([TopicPartition("ctp-in", 0, 9)], meta, 60)
    assert offset_fetch(c, group, "ctp-in", 0, 6) == (0, 7)
    p.commit_transaction(60)
    wait_for(lambda: offset_fetch(c, group, "ctp-in", 0, 6) == (0, 9), 60,
             "the second committed offset")
    # the group coordinator's broker killed with an offset pending: its new
    # leader rebuilds the pending offset from the log, and the marker
    # installs it there
    p.begin_transaction()
    p.send_offsets_to_transaction([TopicPartition("ctp-in", 0, 11)], meta, 60)
    old = group_coordinator(c, group)
    c.kill("broker", old)
    wait_for(lambda: group_coordinator(c, group) not in (-1, old), 90,
             "a new group coordinator")
    wait_for(lambda: offset_fetch(c, group, "ctp-in", 0, 7)[0] == UNSTABLE_OFFSET_COMMIT,
             90, "the pending offset rebuilt by the load")
    assert offset_fetch(c, group, "ctp-in", 0, 6) == (0, 9)
    p.commit_transaction(120)
    wait_for(lambda: offset_fetch(c, group, "ctp-in", 0, 7) == (0, 11), 90,
             "the rebuilt offset committed by the marker")
    c.start("broker", old)
    wait_for(lambda: all(len(state(c.zkc, t, q)["isr"]) == 3
                         for t in ("ctp-in", "ctp-out", "__consumer_offsets")
                         for q in range(3)), 120, "the restarted broker back in the ISR")
    cons.close()
    p.flush(30)


def fill_input(c):
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": c.bootstrap, "enable.idempotence": True,
                  "acks": "all"})
    for i in range(INPUTS):
        p.produce("ctp-in", ("in-%d" % i).encode(), partition=i % 3)
    assert p.flush(60) == 0


def rewind(cons):
    """Back to the committed offsets (after an aborted transaction)."""
    from confluent_kafka import OFFSET_BEGINNING

    parts = cons.assignment()
    if not parts:
        return
    for tp in cons.committed(parts, 60):
        if tp.offset < 0:
            tp.offset = OFFSET_BEGINNING
        cons.seek(tp)


def ctp_loop(c):
    """Consume ctp-in, produce "out-" + value to ctp-out, exactly once,
    through two coordinator kills."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    group, tid = "ctp", "ctp-tid"
    fill_input(c)
    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": group,
                     "isolation.level": "read_committed", "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "session.timeout.ms": 30000})
    cons.subscribe(["ctp-in"])
    p = producer(c, tid)
    ends = {}
    for part in range(3):
        ends[part] = cons.get_watermark_offsets(TopicPartition("ctp-in", part), 30)[1]
    assert sum(ends.values()) == INPUTS, ends
    killed = {}             # "txn"/"group" -> broker id, restarted later
    txns = commits = aborts = 0
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        msgs = [m for m in cons.consume(60, 1.0) if not m.error()]
        if not msgs:
            committed = cons.committed([TopicPartition("ctp-in", q) for q in range(3)], 60)
            if all(tp.offset == ends[tp.partition] for tp in committed):
                break
            continue
        txns += 1
        try:
            p.begin_transaction()
            for m in msgs:
                p.produce("ctp-out", b"out-" + m.value(), partition=m.partition())
            p.send_offsets_to_transaction(cons.position(cons.assignment()),
                                          cons.consumer_group_metadata(), 60)
            # the kills: in the middle of a transaction, offsets sent
            if txns == 4:
                killed["txn"] = txn_coordinator(c, tid)
                c.kill("broker", killed["txn"])
                print("0037: killed broker %d, the transaction coordinator" % killed["txn"])
            elif txns == 14:
                killed["group"] = group_coordinator(c, group)
                c.kill("broker", killed["group"])
                print("0037: killed broker %d, the group coordinator" % killed["group"])
            if txns == 7:
                # aborted on purpose: its records and offsets are dropped,
                # and the consumer processes the same inputs again
                p.abort_transaction(120)
                aborts += 1
                rewind(cons)
                continue
            p.commit_transaction(120)
            commits += 1
        except KafkaException as e:
            err = e.args[0]
            assert err.txn_requires_abort() and not err.fatal(), err
            print("0037: transaction %d aborted: %s" % (txns, err))
            p.abort_transaction(120)
            aborts += 1
            rewind(cons)
        if txns == 10:
            c.start("broker", killed["txn"])
            wait_for(lambda: all(len(state(c.zkc, t, q)["isr"]) == 3
                                 for t in ("ctp-in", "ctp-out") for q in range(3)),
                     120, "the restarted broker back in the ISR")
        elif txns == 20:
            c.start("broker", killed["group"])
    else:
        raise AssertionError("the loop did not consume every input in time")
    print("0037: %d transactions, %d committed, %d aborted" % (txns, commits, aborts))
    if "group" in killed and txns < 20:
        c.start("broker", killed["group"])
    committed = cons.committed([TopicPartition("ctp-in", q) for q in range(3)], 60)
    cons.close()
    assert {tp.partition: tp.offset for tp in committed} == ends, (committed, ends)
    assert txns >= 15, "the loop ended before the second kill (%d transactions)" % txns
    assert aborts >= 1 and commits + aborts == txns, (txns, commits, aborts)
    return ends


def check_output(c):
    """Every input exactly once in the committed output."""
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "ctp-check",
                     "isolation.level": "read_committed", "enable.auto.commit": False,
                     "enable.partition.eof": True})
    tps = [TopicPartition("ctp-out", q, 0) for q in range(3)]
    cons.assign(tps)
    got, eof = [], set()
    deadline = time.monotonic() + 120
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
    outs = [v for v in got if v.startswith("out-")]
    want = ["out-in-%d" % i for i in range(INPUTS)]
    dups = len(outs) - len(set(outs))
    assert dups == 0, "%d duplicates, e.g. %s" % (dups, [v for v in set(outs)
                                                          if outs.count(v) > 1][:5])
    missing = sorted(set(want) - set(outs))
    assert not missing, "%d missing, e.g. %s" % (len(missing), missing[:5])
    assert sorted(outs) == sorted(want)
    # the pending test's committed record, and not its aborted one
    assert "pending-c" in got and "pending-a" not in got, [v for v in got
                                                            if v.startswith("pending")]
    print("0037: %d outputs, each input exactly once" % len(outs))


def main():
    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd, \
            Cluster(wd, brokers=3, controllers=1,
                    broker_set={"offsets.topic.num.partitions": str(OFFSETS_PARTS),
                                "offsets.topic.replication.factor": "3",
                                "transaction.state.log.num.partitions": str(TXN_PARTS),
                                "zookeeper.session.timeout.ms": "10000"},
                    fail_tail=200) as c:
        c.zkc = c.zk()
        create(c, "ctp-in", 3, 3)
        create(c, "ctp-out", 3, 3)
        for step in (pending_offsets, ctp_loop, check_output):
            t0 = time.monotonic()
            step(c)
            print("ok: %s (%.1fs)" % (step.__name__, time.monotonic() - t0))
    print("ok")


if __name__ == "__main__":
    main()
