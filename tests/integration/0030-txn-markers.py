#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Transaction markers on the partition side, on a 2-broker kcluster (RF 2):

- a scripted peer on a plain socket writes transactional batches (attributes
  bit 4) of two producers to both partitions of a topic, with a plain
  record after them, then ends them with WriteTxnMarkers (key 27) as a
  transaction coordinator would: commit for one producer, abort for the
  other;
- while the transactions are open the last stable offset holds
  read_committed consumers back (Fetch's last_stable_offset, ListOffsets
  read_committed, no records); afterwards confluent-kafka's
  read_committed consumers see exactly the committed and plain records,
  read_uncommitted ones (and kafka-python, which has no read_committed)
  see all, and Fetch returns the aborted transaction;
- a stale coordinator epoch gets TRANSACTION_COORDINATOR_FENCED, an older
  producer epoch INVALID_PRODUCER_EPOCH, a plain write inside an open
  transaction INVALID_TXN_STATE;
- kdump-log prints the markers and the .txnindex entry;
- a transaction left open, the aborted transaction and all committed data
  survive a leader change (the follower's own state) and SIGKILLs of both
  brokers (snapshots plus the log replayed, the index files), then the
  open one is committed and becomes visible.
"""

import os
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

import kwire  # noqa: E402
import wire  # noqa: E402
from cluster import Cluster  # noqa: E402
from kbroker import wait_for  # noqa: E402
from ktool import tool  # noqa: E402

TOPIC = "txn"
TRANSACTIONAL = 0x10
INVALID_PRODUCER_EPOCH = 47
INVALID_TXN_STATE = 48
COORDINATOR_FENCED = 52
RETRIABLE = (3, 6, 7, 19, 20)


def state(zk, part):
    import json
    try:
        data, _ = zk.get("/brokers/topics/%s/partitions/%d/state" % (TOPIC, part))
    except Exception:
        return {"leader": -1, "isr": []}
    return json.loads(data)


def init_pid(port):
    with kwire.Wire(port) as w:
        r = w.call(22, 4, {"transactional_id": None, "transaction_timeout_ms": 60000,
                           "producer_id": -1, "producer_epoch": -1})
    assert r["error_code"] == 0, r
    return r["producer_id"]


def txn_batch(pid, epoch, seq, values, transactional=True):
    now = int(time.time() * 1000)
    return wire.batch([wire.record(i, 0, None, v) for i, v in enumerate(values)],
                      now, now, attributes=TRANSACTIONAL if transactional else 0,
                      producer=(pid, epoch, seq))


def plain_batch(values):
    now = int(time.time() * 1000)
    return wire.batch([wire.record(i, 0, None, v) for i, v in enumerate(values)],
                      now, now)


def on_leader(c, part, fn, what, timeout=120):
    """fn(port) on the partition's current leader, again while leadership
    moves or the broker is away (a retriable answer gives None)."""
    def once():
        leader = state(c.zkc, part)["leader"]
        if leader < 1:
            return None
        try:
            return fn(c.broker_port(leader))
        except (OSError, kwire.Closed):
            return None
    return wait_for(once, timeout, what)


def produce(c, part, b):
    def fn(port):
        p = wire.produce(port, 8, TOPIC, part, b)
        return None if p["error_code"] in RETRIABLE else p
    return on_leader(c, part, fn, "a produce to %s-%d" % (TOPIC, part))


def markers(c, part, pid, epoch, commit, coord_epoch):
    """WriteTxnMarkers v1 for one partition to its leader: the error."""
    def fn(port):
        with kwire.Wire(port) as w:
            r = w.call(27, 1, {"markers": [{
                "producer_id": pid, "producer_epoch": epoch,
                "transaction_result": commit, "coordinator_epoch": coord_epoch,
                "topics": [{"name": TOPIC, "partition_indexes": [part]}]}]})
        [m] = r["markers"]
        assert m["producer_id"] == pid, r
        [t] = m["topics"]
        [p] = t["partitions"]
        assert t["name"] == TOPIC and p["partition_index"] == part, r
        return None if p["error_code"] in RETRIABLE else [p["error_code"]]
    return on_leader(c, part, fn, "markers on %s-%d" % (TOPIC, part))[0]


def fetch(c, part, offset, isolation, version=11):
    def fn(port):
        with kwire.Wire(port) as w:
            r = w.call(1, version, {
                "replica_id": -1, "max_wait_ms": 0, "min_bytes": 0,
                "max_bytes": 1 << 20, "isolation_level": isolation,
                "topics": [{"topic": TOPIC, "partitions": [
                    {"partition": part, "current_leader_epoch": -1,
                     "fetch_offset": offset, "log_start_offset": -1,
                     "partition_max_bytes": 1 << 20}]}], "rack_id": ""})
        p = r["responses"][0]["partitions"][0]
        return None if p["error_code"] in RETRIABLE else p
    return on_leader(c, part, fn, "a fetch of %s-%d" % (TOPIC, part))


def list_latest(c, part, isolation):
    def fn(port):
        with kwire.Wire(port) as w:
            r = w.call(2, 5, {"replica_id": -1, "isolation_level": isolation,
                              "topics": [{"name": TOPIC, "partitions": [
                                  {"partition_index": part, "current_leader_epoch": -1,
                                   "timestamp": -1}]}]})
        p = r["topics"][0]["partitions"][0]
        return None if p["error_code"] in RETRIABLE else [p["offset"]]
    return on_leader(c, part, fn, "ListOffsets of %s-%d" % (TOPIC, part))[0]


def values_of(records):
    """Values of the data records in a fetched range (control batches out)."""
    out, pos = [], 0
    while len(records) - pos >= 61:
        size = struct.unpack(">i", records[pos + 8:pos + 12])[0] + 12
        if len(records) - pos < size:
            break
        b = records[pos:pos + size]
        attrs = struct.unpack(">h", b[21:23])[0]
        if not attrs & 0x20:
            n = struct.unpack(">i", b[57:61])[0]
            r = kwire.Reader(b, 61)
            for _ in range(n):
                r.uvarint()                          # length (zigzag)
                r.take(1)
                for _ in range(2):                   # timestamp, offset deltas
                    zz(r)
                klen = zz(r)
                if klen >= 0:
                    r.take(klen)
                vlen = zz(r)
                out.append(bytes(r.take(vlen)) if vlen >= 0 else None)
                for _ in range(zz(r)):
                    r.take(zz(r))
                    hv = zz(r)
                    if hv >= 0:
                        r.take(hv)
        pos += size
    return out


def zz(r):
    n = r.uvarint()
    return (n >> 1) ^ -(n & 1)


def confluent_read(c, parts_end, isolation, want, timeout=120):
    """The values a confluent-kafka consumer reads from both partitions up
    to parts_end (per partition), with isolation.level."""
    from confluent_kafka import Consumer, TopicPartition

    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "unused",
                     "enable.auto.commit": False, "isolation.level": isolation})
    cons.assign([TopicPartition(TOPIC, p, 0) for p in range(2)])
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        m = cons.poll(1.0)
        if m is None or m.error():
            continue
        got.append(m.value())
    # nothing more comes (a few polls after the last: an aborted record
    # would come right behind the committed ones)
    for _ in range(3):
        m = cons.poll(1.0)
        if m is not None and not m.error():
            got.append(m.value())
    cons.close()
    return sorted(got)


def kafka_python_read(c, want, timeout=120):
    from kafka import KafkaConsumer, TopicPartition

    cons = KafkaConsumer(bootstrap_servers=c.bootstrap, enable_auto_commit=False, group_id=None,
                         auto_offset_reset="earliest", consumer_timeout_ms=3000)
    cons.assign([TopicPartition(TOPIC, p) for p in range(2)])
    cons.seek_to_beginning()
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        for m in cons:
            # kafka-python 2.0.2 hands out the markers' records too (it
            # does not skip control batches): key ControlRecordType v0
            if m.key in (b"\x00\x00\x00\x00", b"\x00\x00\x00\x01"):
                continue
            got.append(m.value)
    cons.close()
    return sorted(got)


def expect_reads(c, committed, everything, what):
    got = confluent_read(c, None, "read_committed", len(committed))
    assert got == sorted(committed), (what, "confluent read_committed", got)
    got = confluent_read(c, None, "read_uncommitted", len(everything))
    assert got == sorted(everything), (what, "confluent read_uncommitted", got)
    # kafka-python 2.0.2 (Debian's) reads read_uncommitted only (it has no
    # isolation_level): every data record
    got = kafka_python_read(c, len(everything))
    assert got == sorted(everything), (what, "kafka-python read_uncommitted", got)


def dump(c, broker, part, name, *opts):
    path = os.path.join(c.dir, "broker-%d-data" % broker, "%s-%d" % (TOPIC, part), name)
    return tool("kdump-log", path, *opts).stdout


def main():
    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd, \
            Cluster(wd, brokers=2, controllers=1,
                    broker_set={"offsets.topic.num.partitions": "2",
                                "zookeeper.session.timeout.ms": "10000"},
                    fail_tail=200) as c:
        c.zkc = zk = c.zk()
        from confluent_kafka.admin import AdminClient, NewTopic
        a = AdminClient({"bootstrap.servers": c.bootstrap})
        for f in a.create_topics([NewTopic(TOPIC, 2, 2)], operation_timeout=60).values():
            f.result()
        wait_for(lambda: all(len(state(zk, p)["isr"]) == 2 for p in range(2)), 90,
                 "both replicas in sync")
        pa = init_pid(c.broker_port(1))
        pb = init_pid(c.broker_port(2))
        committed, everything = [], []
        for part in range(2):
            va = [b"a%d-%d" % (part, i) for i in range(3)]
            vb = [b"b%d-%d" % (part, i) for i in range(2)]
            vp = [b"plain%d" % part]
            p = produce(c, part, txn_batch(pa, 0, 0, va))
            assert p["error_code"] == 0 and p["base_offset"] == 0, p
            p = produce(c, part, txn_batch(pb, 0, 0, vb))
            assert p["error_code"] == 0 and p["base_offset"] == 3, p
            p = produce(c, part, plain_batch(vp))
            assert p["error_code"] == 0 and p["base_offset"] == 5, p
            # inside its open transaction a producer may not write plainly
            p = produce(c, part, txn_batch(pa, 0, 3, [b"x"], transactional=False))
            assert p["error_code"] == INVALID_TXN_STATE, p
            committed += va + vp
            everything += va + vb + vp
        # the open transactions hold read_committed consumers at offset 0
        for part in range(2):
            f = fetch(c, part, 0, 1)
            assert f["high_watermark"] == 6 and f["last_stable_offset"] == 0, f
            assert not f["records"], f
            f = fetch(c, part, 0, 0)
            assert f["last_stable_offset"] == 0 and len(values_of(f["records"])) == 6, f
            assert list_latest(c, part, 1) == 0
            assert list_latest(c, part, 0) == 6
        got = confluent_read(c, None, "read_committed", 1, timeout=5)
        assert got == [], got
        print("open transactions: LSO 0, HW 6, read_committed reads nothing")

        # end them: commit a, abort b (coordinator epoch 5)
        for part in range(2):
            assert markers(c, part, pa, 0, True, 5) == 0
            assert markers(c, part, pb, 0, False, 5) == 0
            # a stale coordinator, an older producer epoch
            assert markers(c, part, pa, 0, True, 4) == COORDINATOR_FENCED
            p = produce(c, part, txn_batch(pa, 1, 0, [b"a%d-new" % part]))
            assert p["error_code"] == 0 and p["base_offset"] == 8, p
            assert markers(c, part, pa, 0, True, 5) == INVALID_PRODUCER_EPOCH
            assert markers(c, part, pa, 1, True, 5) == 0
            committed.append(b"a%d-new" % part)
            everything.append(b"a%d-new" % part)
            f = fetch(c, part, 0, 1)
            assert f["high_watermark"] == 10 and f["last_stable_offset"] == 10, f
            assert f["aborted_transactions"] == [
                {"producer_id": pb, "first_offset": 3}], f
            assert sorted(values_of(f["records"])) == sorted(
                x for x in everything if x.startswith((b"a%d" % part, b"b%d" % part,
                                                       b"plain%d" % part))), f
            # read_uncommitted gets no list at all
            assert fetch(c, part, 0, 0)["aborted_transactions"] is None
            # past the abort marker: nothing to skip
            assert fetch(c, part, 8, 1)["aborted_transactions"] == []
            assert list_latest(c, part, 1) == 10
        expect_reads(c, committed, everything, "after the markers")
        print("markers: read_committed sees %d records, read_uncommitted %d"
              % (len(committed), len(everything)))

        # kdump-log: the markers and the index, on both replicas
        for b in (1, 2):
            wait_for(lambda: os.path.exists(os.path.join(
                c.dir, "broker-%d-data" % b, "%s-0" % TOPIC, "00000000000000000000.txnindex")),
                60, "broker %d's txnindex" % b)
            out = dump(c, b, 0, "00000000000000000000.log", "--deep-iteration")
            assert "endTxnMarker: COMMIT coordinatorEpoch: 5" in out, out
            assert "endTxnMarker: ABORT coordinatorEpoch: 5" in out, out
            assert "isTransactional: true isControl: true" in out, out
            out = dump(c, b, 0, "00000000000000000000.txnindex", "--verify")
            assert out.splitlines()[1:] == [
                "version: 0 producerId: %d firstOffset: 3 lastOffset: 7 "
                "lastStableOffset: 8" % pb], out

        # a transaction left open on partition 0 (from offset 11)
        pc = init_pid(c.broker_port(1))
        p = produce(c, 0, plain_batch([b"plain0-late"]))
        assert p["error_code"] == 0 and p["base_offset"] == 10, p
        committed.append(b"plain0-late")
        everything.append(b"plain0-late")
        p = produce(c, 0, txn_batch(pc, 0, 0, [b"c0-0", b"c0-1"]))
        assert p["error_code"] == 0 and p["base_offset"] == 11, p
        everything += [b"c0-0", b"c0-1"]

        def held(what):
            wait_for(lambda: fetch(c, 0, 0, 1)["last_stable_offset"] == 11, 120,
                     "LSO 11 " + what)
            f = fetch(c, 0, 0, 1)
            assert f["high_watermark"] == 13, (what, f)
            assert f["aborted_transactions"] == [
                {"producer_id": pb, "first_offset": 3}], (what, f)
            assert list_latest(c, 0, 1) == 11, what
            assert fetch(c, 1, 0, 1)["last_stable_offset"] == 10, what
            expect_reads(c, committed, everything, what)
        held("with a transaction open")

        # a leader change: the follower kept the state from replication
        wait_for(lambda: len(state(zk, 0)["isr"]) == 2, 90, "full ISR of %s-0" % TOPIC)
        leader = state(zk, 0)["leader"]
        c.kill("broker", leader)
        wait_for(lambda: state(zk, 0)["leader"] not in (leader, -1), 90, "a new leader")
        held("after leader %d was killed" % leader)
        c.start("broker", leader)
        wait_for(lambda: all(len(state(zk, p)["isr"]) == 2 for p in range(2)), 120,
                 "both replicas back in sync")
        # both brokers SIGKILLed: the log replayed after the snapshots
        c.kill("broker", 1)
        c.kill("broker", 2)
        c.start("broker", 1)
        c.start("broker", 2)
        wait_for(lambda: all(len(state(zk, p)["isr"]) == 2 for p in range(2)), 180,
                 "both replicas back after SIGKILLs")
        held("after both brokers were killed")
        for b in (1, 2):
            out = dump(c, b, 0, "00000000000000000000.txnindex")
            assert out.count("producerId: %d " % pb) == 1, (b, out)

        # the open one committed: visible
        assert markers(c, 0, pc, 0, True, 6) == 0
        committed += [b"c0-0", b"c0-1"]
        f = fetch(c, 0, 0, 1)
        assert f["last_stable_offset"] == 14 and f["high_watermark"] == 14, f
        expect_reads(c, committed, everything, "after the last commit")
        print("a transaction open across a leader change and SIGKILLs held the "
              "LSO at 11, then committed")
    print("ok")


if __name__ == "__main__":
    main()
