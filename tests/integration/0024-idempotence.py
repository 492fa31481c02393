#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The idempotent producer on a 3-broker kcluster:

- InitProducerId hands out distinct producer ids on every broker, from
  blocks of 1000 claimed in /latest_producer_id_block (Kafka's JSON); a
  restarted broker claims a new block, never reusing an id;
- a scripted producer on a plain socket: a resent batch is not written
  again and gets the original offset, a sequence gap gets
  OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch INVALID_PRODUCER_EPOCH, a
  transactional id NOT_COORDINATOR (__transaction_state does not exist
  yet, so no broker coordinates it);
- the state survives a leader change (the new leader's own state, kept
  from what it replicated) and restarts of a partition's only replica,
  clean (from the snapshot written at shutdown) and SIGKILLed (the log
  replayed);
- kdump-log prints the snapshot as Kafka's DumpLogSegments does;
- confluent-kafka with enable.idempotence=true writes through SIGKILLs of
  a partition's leader (acks=all, RF 3, min.insync.replicas 2): every
  acknowledged message present exactly once, in order per partition.

kafka-python 2.0.2 (Debian's) has no idempotent producer, so only
librdkafka's is exercised.
"""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

import kwire  # noqa: E402
import wire  # noqa: E402
from cluster import Cluster, Writer  # noqa: E402
from kbroker import wait_for  # noqa: E402
from ktool import tool  # noqa: E402

OUT_OF_ORDER = 45
INVALID_EPOCH = 47
NOT_COORDINATOR = 16


def create(c, name, parts, rf, config=None, replicas=None):
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    t = (NewTopic(name, len(replicas), replica_assignment=replicas, config=config or {})
         if replicas else NewTopic(name, parts, rf, config=config or {}))
    for f in a.create_topics([t], operation_timeout=60).values():
        f.result()
    wait_for(lambda: all(state(c.zkc, name, p)["leader"] >= 1 and
                         len(state(c.zkc, name, p)["isr"]) == (rf or len(replicas[0]))
                         for p in range(parts)), 90, "leaders of " + name)


def state(zk, topic, part):
    try:
        data, _ = zk.get("/brokers/topics/%s/partitions/%d/state" % (topic, part))
    except Exception:
        return {"leader": -1, "isr": []}
    return json.loads(data)


def init_pid(port, txn=None):
    with kwire.Wire(port) as w:
        r = w.call(22, 4, {"transactional_id": txn, "transaction_timeout_ms": 60000,
                           "producer_id": -1, "producer_epoch": -1})
    return r["error_code"], r["producer_id"], r["producer_epoch"]


def producer_ids(c, zk):
    seen = set()
    for b in (1, 2, 3):
        for _ in range(3):
            err, pid, epoch = init_pid(c.broker_port(b))
            assert err == 0 and pid >= 0 and epoch == 0, (err, pid, epoch)
            assert pid not in seen, pid
            seen.add(pid)
    data, _ = zk.get("/latest_producer_id_block")
    block = json.loads(data)
    assert block["version"] == 1 and isinstance(block["block_start"], str), block
    start, end = int(block["block_start"]), int(block["block_end"])
    assert end - start + 1 == 1000 and end == 2999, block
    # each broker's ids lie in a block of its own
    assert len({p // 1000 for p in seen}) == 3, sorted(seen)
    err, txn_pid, _ = init_pid(c.broker_port(1), "a-transaction")
    assert err == NOT_COORDINATOR and txn_pid == -1, (err, txn_pid)
    # a restarted broker claims the next block
    c.kill("broker", 2)
    c.start("broker", 2)
    err = wait_for(lambda: try_pid(c.broker_port(2)), 90, "broker 2 back")
    err, pid, _ = err
    assert pid >= 3000 and pid not in seen, pid
    print("producer ids: %s, then %d after a restart; %s" % (sorted(seen), pid, block))


def try_pid(port):
    try:
        r = init_pid(port)
        return r if r[0] == 0 else None
    except (OSError, kwire.Closed):
        return None


def batch_of(pid, epoch, seq, n, tag):
    now = int(time.time() * 1000)
    return wire.batch([wire.record(i, 0, None, b"%s-%d" % (tag, i)) for i in range(n)],
                      now, now, producer=(pid, epoch, seq))


def produce_to_leader(c, topic, b, timeout=90):
    """Produce one batch to the partition's current leader, retrying while
    leadership moves: the partition's answer."""
    def once():
        leader = state(c.zkc, topic, 0)["leader"]
        if leader < 1:
            return None
        try:
            p = wire.produce(c.broker_port(leader), 8, topic, 0, b)
        except (OSError, kwire.Closed):
            return None
        return None if p["error_code"] in (3, 6, 7, 19, 20) else p
    return wait_for(once, timeout, "a produce to %s's leader" % topic)


def high_watermark(c, topic):
    def once():
        leader = state(c.zkc, topic, 0)["leader"]
        try:
            p = wire.fetch(c.broker_port(leader), 11, topic, 0, 0)
        except (OSError, kwire.Closed):
            return None
        return p if p["error_code"] == 0 else None
    return wait_for(once, 60, "a fetch of " + topic)["high_watermark"]


def scripted(c, zk):
    create(c, "raw", 1, 3, {"min.insync.replicas": "2"})
    leader = state(zk, "raw", 0)["leader"]
    err, pid, epoch = init_pid(c.broker_port(leader))
    assert err == 0
    b0 = batch_of(pid, 0, 0, 3, b"a")
    b1 = batch_of(pid, 0, 3, 2, b"b")
    p = produce_to_leader(c, "raw", b0)
    assert p["error_code"] == 0 and p["base_offset"] == 0, p
    p = produce_to_leader(c, "raw", b0)
    assert p["error_code"] == 0 and p["base_offset"] == 0, ("resent", p)
    p = produce_to_leader(c, "raw", b1)
    assert p["error_code"] == 0 and p["base_offset"] == 3, p
    p = produce_to_leader(c, "raw", b0)
    assert p["error_code"] == 0 and p["base_offset"] == 0, ("resent again", p)
    p = produce_to_leader(c, "raw", batch_of(pid, 0, 10, 1, b"gap"))
    assert p["error_code"] == OUT_OF_ORDER, p
    b2 = batch_of(pid, 1, 0, 2, b"c")
    p = produce_to_leader(c, "raw", b2)
    assert p["error_code"] == 0 and p["base_offset"] == 5, p
    p = produce_to_leader(c, "raw", batch_of(pid, 0, 5, 1, b"old"))
    assert p["error_code"] == INVALID_EPOCH, p
    p = produce_to_leader(c, "raw", batch_of(pid, 1, 5, 1, b"gap2"))
    assert p["error_code"] == OUT_OF_ORDER, p
    assert high_watermark(c, "raw") == 7

    # a leader change: the new leader kept the state from replication
    wait_for(lambda: len(state(zk, "raw", 0)["isr"]) == 3, 60, "raw's full ISR")
    c.kill("broker", leader)
    wait_for(lambda: state(zk, "raw", 0)["leader"] not in (leader, -1), 90,
             "a new leader of raw")
    new = state(zk, "raw", 0)["leader"]
    p = produce_to_leader(c, "raw", b2)
    assert p["error_code"] == 0 and p["base_offset"] == 5, ("after a leader change", p)
    p = produce_to_leader(c, "raw", batch_of(pid, 1, 9, 1, b"gap3"))
    assert p["error_code"] == OUT_OF_ORDER, p
    assert high_watermark(c, "raw") == 7
    c.start("broker", leader)
    print("scripted producer: duplicates answered with their offsets, gap and "
          "epoch refused, leader %d -> %d kept the state" % (leader, new))

    # the only replica restarted: clean (snapshot), then killed (replay)
    create(c, "solo", 1, None, replicas=[[3]])
    p = produce_to_leader(c, "solo", batch_of(pid, 1, 0, 4, b"s"))
    assert p["error_code"] == 0 and p["base_offset"] == 0, p
    b_last = batch_of(pid, 1, 4, 2, b"t")
    p = produce_to_leader(c, "solo", b_last)
    assert p["error_code"] == 0 and p["base_offset"] == 4, p
    c.stop("broker", 3)
    snaps = [f for f in os.listdir(os.path.join(c.dir, "broker-3-data", "solo-0"))
             if f.endswith(".snapshot")]
    assert "00000000000000000006.snapshot" in snaps, snaps
    # kdump-log prints it as Kafka's DumpLogSegments does
    out = tool("kdump-log", os.path.join(c.dir, "broker-3-data", "solo-0",
                                         "00000000000000000006.snapshot")).stdout
    want = ("producerId: %d producerEpoch: 1 coordinatorEpoch: -1 "
            "currentTxnFirstOffset: None firstSequence: 4 lastSequence: 5 "
            "lastOffset: 5 offsetDelta: 1 timestamp: " % pid)
    assert want in out, out
    c.start("broker", 3)
    p = produce_to_leader(c, "solo", b_last)
    assert p["error_code"] == 0 and p["base_offset"] == 4, ("after a clean restart", p)
    p = produce_to_leader(c, "solo", batch_of(pid, 1, 7, 1, b"gap"))
    assert p["error_code"] == OUT_OF_ORDER, p
    b_next = batch_of(pid, 1, 6, 1, b"u")
    p = produce_to_leader(c, "solo", b_next)
    assert p["error_code"] == 0 and p["base_offset"] == 6, p
    c.kill("broker", 3)
    c.start("broker", 3)
    p = produce_to_leader(c, "solo", b_next)
    assert p["error_code"] == 0 and p["base_offset"] == 6, ("after SIGKILL", p)
    p = produce_to_leader(c, "solo", b_last)
    assert p["error_code"] == 0 and p["base_offset"] == 4, ("after SIGKILL", p)
    assert high_watermark(c, "solo") == 7
    print("restarts of the only replica: resends still deduplicated")


def read_partition(bootstrap, topic, part):
    from confluent_kafka import Consumer, TopicPartition

    cons = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused",
                     "enable.auto.commit": False})
    tp = TopicPartition(topic, part)
    lo, hi = cons.get_watermark_offsets(tp, timeout=60)
    cons.assign([TopicPartition(topic, part, lo)])
    got = []
    deadline = time.monotonic() + 180
    while len(got) < hi - lo and time.monotonic() < deadline:
        m = cons.poll(1.0)
        if m is None or m.error():
            continue
        got.append(int(m.value()))
    cons.close()
    assert len(got) == hi - lo, "%s-%d: read %d of %d" % (topic, part, len(got), hi - lo)
    return got


def leader_kills(c, zk, rounds):
    create(c, "kills", 3, 3, {"min.insync.replicas": "2"})
    w = Writer(c, "kills", conf={"enable.idempotence": True})
    try:
        w.progress(2000, "first acknowledgements")
        for rnd in range(rounds):
            victim = state(zk, "kills", rnd % 3)["leader"]
            c.kill("broker", victim)
            wait_for(lambda: state(zk, "kills", rnd % 3)["leader"] not in (victim, -1),
                     90, "a new leader after killing %d" % victim)
            c.start("broker", victim)
            wait_for(lambda: all(len(state(zk, "kills", p)["isr"]) == 3
                                 for p in range(3)), 180,
                     "broker %d back in the ISRs" % victim)
            w.progress(500, "progress after round %d" % rnd, timeout=180)
            print("round %d: killed leader %d, %d acknowledged so far" %
                  (rnd, victim, len(w.acked)), flush=True)
    finally:
        w.finish()
    assert not w.failed, w.failed[:5]
    total, seen = 0, set()
    for part in range(3):
        got = read_partition(c.bootstrap, "kills", part)
        dups = len(got) - len(set(got))
        assert dups == 0, "partition %d: %d duplicates" % (part, dups)
        assert got == sorted(got), "partition %d out of order" % part
        assert not seen & set(got)
        seen |= set(got)
        total += len(got)
    lost = w.acked - seen
    assert not lost, "%d acknowledged messages lost, e.g. %s" % (len(lost), sorted(lost)[:10])
    print("leader kills: %d acknowledged, %d stored, no duplicates, in order "
          "per partition" % (len(w.acked), total))


def main():
    rounds = int(os.environ.get("IDEM_KILL_ROUNDS", "6"))
    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd, \
            Cluster(wd, brokers=3, controllers=1,
                    broker_set={"offsets.topic.num.partitions": "3",
                                "zookeeper.session.timeout.ms": "10000"},
                    fail_tail=200) as c:
        c.zkc = zk = c.zk()
        producer_ids(c, zk)
        scripted(c, zk)
        leader_kills(c, zk, rounds)
    print("ok")


if __name__ == "__main__":
    main()
