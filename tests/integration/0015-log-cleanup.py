#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Log retention and the log manager's background work on a real
3-broker kcluster, with confluent-kafka producing and consuming:

- retention.bytes: a replicated partition keeps at most retention.bytes
  plus one segment on every replica; the log start offset (ListOffsets
  earliest) moves forward, followers follow the leader's, and a consumer
  from the beginning reads a contiguous tail up to the end;
- retention.ms: every segment but the active one goes once its records are
  older than retention.ms;
- deleted segments' files (renamed .deleted) are removed after
  file.delete.delay.ms;
- a compact-only topic keeps its segments whatever retention.ms says, and
  refuses records without a key (INVALID_RECORD, as Kafka);
- compaction (cleanup.policy=compact): on every replica the closed
  segments end up holding one record per key, the latest, with offsets
  and values unchanged; a consumer from the beginning sees every key's
  latest value; tombstones stay until delete.retention.ms after the last
  clean segment, then go; cleaner-offset-checkpoint records the progress;
  a compacted partition's leader is SIGKILLed and the new one serves the
  same data;
- rolled segments are flushed: recovery-point-offset-checkpoint reaches
  the active segment's base on every replica without any flush setting,
  and log-start-offset-checkpoint records a start moved by retention
  (read back by a broker restarted after SIGKILL).
"""

import collections
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, led  # noqa: E402
from kbroker import wait_for  # noqa: E402

SEGMENT = 20000


def create(c, name, parts, rf, config):
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    for f in a.create_topics([NewTopic(name, parts, rf, config=config)],
                             operation_timeout=60).values():
        f.result()
    wait_for(lambda: led(a, name, parts, isr=rf), 60, "full ISRs of " + name)


def produce(c, topic, n, size, key=None):
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": c.bootstrap, "acks": "all", "linger.ms": 0,
                  "batch.num.messages": 5})
    errs = []
    for i in range(n):
        k = key(i) if key else None
        p.produce(topic, value=b"%06d" % i + b"x" * (size - 6), key=k,
                  on_delivery=lambda e, m: errs.append(e) if e else None)
        p.poll(0)
    assert p.flush(60) == 0
    assert not errs, errs[:3]


def segments(c, broker, topic, part):
    """{base offset: size} of the .log files, and the .deleted files."""
    d = os.path.join(c.dir, "broker-%d-data" % broker, "%s-%d" % (topic, part))
    logs, deleted = {}, []
    for name in os.listdir(d):
        if name.endswith(".log"):
            try:
                logs[int(name[:20])] = os.path.getsize(os.path.join(d, name))
            except FileNotFoundError:
                pass        # renamed .deleted meanwhile
        elif name.endswith(".deleted"):
            deleted.append(name)
    return logs, deleted


def checkpoint(c, broker, name):
    with open(os.path.join(c.dir, "broker-%d-data" % broker, name)) as f:
        lines = f.read().split("\n")
    out = {}
    for line in lines[2:]:
        w = line.split()
        if len(w) == 3:
            out[(w[0], int(w[1]))] = int(w[2])
    return out


def partition_leader(c, topic, part):
    from confluent_kafka.admin import AdminClient

    md = AdminClient({"bootstrap.servers": c.bootstrap}).list_topics(topic, timeout=30)
    return md.topics[topic].partitions[part].leader


def known_brokers(c, broker):
    """How many brokers broker's own Metadata answer lists."""
    from confluent_kafka.admin import AdminClient

    a = AdminClient({"bootstrap.servers": "127.0.0.1:%d" % c.broker_port(broker)})
    try:
        return len(a.list_topics(timeout=10).brokers)
    except Exception:
        return 0


def watermarks(c, topic, part):
    from confluent_kafka import Consumer, TopicPartition

    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "wm"})
    try:
        return cons.get_watermark_offsets(TopicPartition(topic, part), timeout=30)
    finally:
        cons.close()


def read_all(c, topic, part, end):
    from confluent_kafka import Consumer, TopicPartition

    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "read-" + topic,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False})
    cons.assign([TopicPartition(topic, part, -2)])     # OFFSET_BEGINNING
    offs = []
    deadline = time.monotonic() + 60
    while (not offs or offs[-1] < end - 1) and time.monotonic() < deadline:
        m = cons.poll(1)
        if m is not None and m.error() is None:
            offs.append(m.offset())
    cons.close()
    return offs


def test_retention_bytes(c):
    topic, retain = "rb", 60000
    create(c, topic, 1, 3, {"segment.bytes": str(SEGMENT),
                            "retention.bytes": str(retain)})
    produce(c, topic, 400, 1000)
    # (retention may already have run: every 500 ms, on any replica)
    assert watermarks(c, topic, 0)[1] == 400

    def trimmed():
        out = {}
        for b in (1, 2, 3):
            logs, deleted = segments(c, b, topic, 0)
            if sum(logs.values()) > retain + SEGMENT or min(logs) == 0 or deleted:
                return None
            out[b] = min(logs)
        return out
    firsts = wait_for(trimmed, 90, "retention.bytes on every replica")
    low, high = watermarks(c, topic, 0)
    assert high == 400 and low > 0, (low, high)
    # every replica cut at a segment boundary no later than the leader's
    # start (followers take the leader's log start offset)
    assert all(f <= low for f in firsts.values()), (firsts, low)
    offs = read_all(c, topic, 0, high)
    assert offs == list(range(low, high)), (offs[:3], offs[-3:], low, high)
    print("retention.bytes=%d: first segments %s, log start %d, %d records read "
          "from the beginning" % (retain, firsts, low, len(offs)))

    # the start is checkpointed, and a broker killed and restarted keeps it
    def start_cp():
        return all(checkpoint(c, b, "log-start-offset-checkpoint").get((topic, 0), low)
                   >= min(firsts.values()) for b in (1, 2, 3))
    wait_for(start_cp, 30, "log-start-offset-checkpoint")
    c.kill("broker", 2)
    c.start("broker", 2)
    # until the controller's UpdateMetadata reaches it, the restarted broker
    # knows no live broker (a CreateTopics it answers would find none)
    wait_for(lambda: known_brokers(c, 2) == 3, 60,
             "broker 2 to know the cluster after its restart")
    wait_for(lambda: watermarks(c, topic, 0)[0] >= low, 60,
             "the log start after a restart")


def test_retention_ms(c):
    topic = "rt"
    create(c, topic, 1, 3, {"segment.bytes": str(SEGMENT), "retention.ms": "4000"})
    t0 = time.monotonic()
    produce(c, topic, 100, 1000)

    leader = partition_leader(c, topic, 0)

    def only_active():
        logs, deleted = segments(c, leader, topic, 0)
        return len(logs) == 1 and not deleted and min(logs)
    base = wait_for(only_active, 90, "retention.ms to leave the active segment")
    print("retention.ms=4000: segments below %d deleted after %.1f s"
          % (base, time.monotonic() - t0))
    # the leader's log start is the earliest offset served
    wait_for(lambda: watermarks(c, topic, 0) == (base, 100), 30,
             "the log start at the active segment's base")


def test_compact_keeps_segments(c):
    topic = "ck"
    create(c, topic, 1, 3, {"segment.bytes": str(SEGMENT), "retention.ms": "1000",
                            "cleanup.policy": "compact"})
    produce(c, topic, 100, 1000, key=lambda i: b"k%d" % i)
    time.sleep(4)       # several retention rounds (500 ms)
    logs, _ = segments(c, 1, topic, 0)
    assert min(logs) == 0 and len(logs) > 2, logs
    assert watermarks(c, topic, 0) == (0, 100)
    # as Kafka: a compacted topic takes no record without a key
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": c.bootstrap, "acks": "all"})
    errs = []
    p.produce(topic, value=b"no key", on_delivery=lambda e, m: errs.append(e))
    p.flush(60)
    assert len(errs) == 1 and errs[0] is not None and errs[0].code() == 87, errs
    assert watermarks(c, topic, 0) == (0, 100)


def read_records(c, topic, part, end):
    """(offset, key, value) of every record from the beginning to end."""
    from confluent_kafka import Consumer, TopicPartition

    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "read-" + topic,
                     "enable.auto.commit": False})
    cons.assign([TopicPartition(topic, part, -2)])
    out = []
    deadline = time.monotonic() + 60
    while (not out or out[-1][0] < end - 1) and time.monotonic() < deadline:
        m = cons.poll(1)
        if m is not None and m.error() is None:
            out.append((m.offset(), m.key(), m.value()))
    cons.close()
    return out


def latest_values(records):
    """key -> value after reading records in order (a tombstone deletes)."""
    latest = {}
    for _, k, v in records:
        if v is None:
            latest.pop(k, None)
        else:
            latest[k] = v
    return latest


def replica_records(c, broker, topic, part):
    """(offset, key) of the records in a replica's closed segments, read
    with kdump-log, and the active segment's base."""
    import json
    from ktool import tool

    logs, _ = segments(c, broker, topic, part)
    active = max(logs)
    d = os.path.join(c.dir, "broker-%d-data" % broker, "%s-%d" % (topic, part))
    recs = []
    for base in sorted(logs):
        if base == active:
            continue
        out = tool("kdump-log", "--json", "--print-data-log",
                   os.path.join(d, "%020d.log" % base), rc=None, timeout=60)
        if out.returncode != 0:
            return None, active     # swapped under our feet: look again
        for f in json.loads(out.stdout)["files"]:
            for batch in f["batches"]:
                for r in batch["records"]:
                    recs.append((r["offset"], r.get("key")))
    return recs, active


def test_compaction(c):
    topic, keys = "cmp", 40
    create(c, topic, 1, 3, {"segment.bytes": str(SEGMENT), "cleanup.policy": "compact",
                            "min.cleanable.dirty.ratio": "0.01",
                            "delete.retention.ms": "1000"})
    expect = {}
    sent = [0]

    def put(n_rounds, tombstones=(), which=range(keys)):
        from confluent_kafka import Producer

        p = Producer({"bootstrap.servers": c.bootstrap, "acks": "all",
                      "linger.ms": 0, "batch.num.messages": 5})
        for r in range(n_rounds):
            for k in which:
                key = b"key-%d" % k
                if k in tombstones and r == n_rounds - 1:
                    p.produce(topic, key=key, value=None)
                    expect.pop(key, None)
                else:
                    v = b"v%d-" % sent[0] + b"y" * 400
                    p.produce(topic, key=key, value=v)
                    expect[key] = v
                sent[0] += 1
                p.poll(0)
        assert p.flush(60) == 0

    t0 = time.monotonic()
    put(10, tombstones=range(5))        # 400 records, keys 0-4 deleted last
    time.sleep(1.5)
    put(3)                               # the tombstoned keys come back...
    for k in range(5):
        expect.pop(b"key-%d" % k, None)
    put(1, tombstones=range(5))          # ...and go again

    def compacted(b):
        recs, active = replica_records(c, b, topic, 0)
        if recs is None:
            return False
        seen = collections.Counter(k for _, k in recs)
        return all(n == 1 for n in seen.values()) and len(recs) > 0
    for b in (1, 2, 3):
        wait_for(lambda: compacted(b), 120, "broker %d's closed segments compacted" % b)
    print("compaction: every replica's closed segments hold one record per key "
          "after %.1f s" % (time.monotonic() - t0))
    high = watermarks(c, topic, 0)[1]
    assert high == sent[0], (high, sent[0])
    got = read_records(c, topic, 0, high)
    offs = [o for o, _, _ in got]
    assert offs == sorted(set(offs)) and offs[-1] == high - 1, offs[-5:]
    latest = latest_values(got)
    assert latest == expect, (sorted(latest), sorted(expect))
    print("compaction: %d records written, %d read back from the beginning, "
          "latest values intact" % (sent[0], len(got)))
    cp = checkpoint(c, 1, "cleaner-offset-checkpoint").get((topic, 0), 0)
    assert cp > 0, cp

    # tombstones go once a later round runs delete.retention.ms after the
    # last clean segment: keep writing the live keys so rounds keep coming
    dead = {"key-%d" % k for k in range(5)}

    def tombstones_gone():
        put(1, which=range(5, keys))
        recs, _ = replica_records(c, 1, topic, 0)
        return recs is not None and not any(k in dead for _, k in recs)
    deadline = time.monotonic() + 120
    while not tombstones_gone():
        assert time.monotonic() < deadline, "the tombstones were not removed"
        time.sleep(0.5)
    print("compaction: tombstones removed after delete.retention.ms")

    # the leader goes; the new one serves the same compacted data
    leader = partition_leader(c, topic, 0)
    high = watermarks(c, topic, 0)[1]
    c.kill("broker", leader)
    got = read_records(c, topic, 0, high)
    latest = latest_values(got)
    assert latest == expect, (sorted(latest), sorted(expect))
    c.start("broker", leader)


def test_recovery_point(c):
    topic = "rp"
    create(c, topic, 1, 3, {"segment.bytes": str(SEGMENT)})
    produce(c, topic, 100, 1000)

    def flushed():
        for b in (1, 2, 3):
            logs, _ = segments(c, b, topic, 0)
            rp = checkpoint(c, b, "recovery-point-offset-checkpoint").get((topic, 0), -1)
            if rp < max(logs):
                return False
        return True
    wait_for(flushed, 30, "the rolled segments' flush in the recovery point")


def main():
    with tempfile.TemporaryDirectory(prefix="skald-0015-") as work, \
            Cluster(work, brokers=3, controllers=1,
                 broker_set={"log.retention.check.interval.ms": "500",
                             "log.segment.delete.delay.ms": "1500",
                             "log.flush.offset.checkpoint.interval.ms": "500",
                             "log.flush.start.offset.checkpoint.interval.ms": "500",
                             "log.cleaner.backoff.ms": "300"},
                 fail_tail=60) as c:
        test_retention_bytes(c)
        test_retention_ms(c)
        test_compact_keeps_segments(c)
        test_compaction(c)
        test_recovery_point(c)
    print("ok")


if __name__ == "__main__":
    main()
