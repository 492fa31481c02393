#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""confluent-kafka and kafka-python (Debian's packages) produce and consume
through the cluster with acks 0 and 1, every codec (none, gzip, snappy,
lz4, zstd), headers, null keys and values and producer timestamps; each
client reads what the other wrote, and ListOffsets by timestamp (both
clients' offsets_for_times) finds the right offsets."""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster  # noqa: E402

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
PER_RUN = 200
BASE_TS = 1700000000000


def expected(run):
    """(key, value, headers, timestamp) of message i of a run."""
    out = []
    for i in range(PER_RUN):
        key = None if i % 7 == 0 else ("k%d" % (i % 13)).encode()
        # kafka-python refuses a record with neither key nor value
        value = None if i % 11 == 0 and key is not None else ("%s-%d-" % (run, i)).encode() * (1 + i % 5)
        headers = [("h", ("%d" % i).encode()), ("run", run.encode())] if i % 3 else []
        out.append((key, value, headers, BASE_TS + i * 1000))
    return out


def produce_confluent(bootstrap, topic, codec, acks, run):
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": bootstrap, "compression.codec": codec,
                  "acks": str(acks), "linger.ms": 20})
    errors = []

    def cb(err, msg):
        if err is not None:
            errors.append(err)

    for key, value, headers, ts in expected(run):
        p.produce(topic, key=key, value=value, headers=headers or None,
                  timestamp=ts, partition=0, on_delivery=cb)
    assert p.flush(60) == 0, "messages left unflushed"
    assert not errors, errors


def produce_kafka_python(bootstrap, topic, codec, acks, run):
    from kafka import KafkaProducer

    p = KafkaProducer(bootstrap_servers=bootstrap, acks=acks,
                      compression_type=None if codec == "none" else codec,
                      linger_ms=20, api_version_auto_timeout_ms=30000)
    futures = [p.send(topic, key=key, value=value, headers=headers,
                      timestamp_ms=ts, partition=0)
               for key, value, headers, ts in expected(run)]
    p.flush(60)
    if acks:
        for f in futures:
            f.get(timeout=60)
    p.close(30)


def consume_confluent(bootstrap, topic, n):
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(topic, 0, 0)])
    out = []
    deadline = time.monotonic() + 120
    while len(out) < n and time.monotonic() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        assert m.error() is None, m.error()
        out.append((m.key(), m.value(), m.headers() or [], m.timestamp()[1]))
    c.close()
    return out


def consume_kafka_python(bootstrap, topic, n):
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                      auto_offset_reset="earliest", group_id=None,
                      api_version_auto_timeout_ms=30000)
    tp = TopicPartition(topic, 0)
    c.assign([tp])
    c.seek(tp, 0)
    out = []
    deadline = time.monotonic() + 120
    while len(out) < n and time.monotonic() < deadline:
        for msgs in c.poll(timeout_ms=1000).values():
            for m in msgs:
                out.append((m.key, m.value, list(m.headers or []), m.timestamp))
    c.close()
    return out


def norm(msgs):
    return [(k, v, [(h, bytes(x)) for h, x in hs], ts) for k, v, hs, ts in msgs]


def offsets_for_times(bootstrap, topic):
    """Both clients look up timestamps of the first run (offsets 0..)."""
    from confluent_kafka import Consumer, TopicPartition
    from kafka import KafkaConsumer
    from kafka import TopicPartition as KTP

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused"})
    for i, want in [(0, 0), (57, 57), (PER_RUN - 1, PER_RUN - 1)]:
        got = c.offsets_for_times([TopicPartition(topic, 0, BASE_TS + i * 1000 - 500)],
                                  timeout=30)
        assert got[0].offset == want, (i, got[0].offset)
    # after every timestamp: the end of the log
    got = c.offsets_for_times([TopicPartition(topic, 0, BASE_TS + 10**9)], timeout=30)
    assert got[0].offset == -1, got[0].offset
    c.close()
    k = KafkaConsumer(bootstrap_servers=bootstrap, api_version_auto_timeout_ms=30000)
    tp = KTP(topic, 0)
    got = k.offsets_for_times({tp: BASE_TS + 120 * 1000})
    assert got[tp].offset == 120 and got[tp].timestamp == BASE_TS + 120 * 1000, got
    assert k.beginning_offsets([tp])[tp] == 0
    k.close()


def main():
    from confluent_kafka.admin import AdminClient, NewTopic

    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd, \
            Cluster(wd, brokers=3, controllers=1) as c:
        admin = AdminClient({"bootstrap.servers": c.bootstrap})
        topics = ["c-%s-%d" % (codec, acks) for codec in CODECS for acks in (0, 1)]
        topics += ["p-%s-%d" % (codec, acks) for codec in CODECS for acks in (0, 1)]
        for f in admin.create_topics([NewTopic(t, 1, 1) for t in topics],
                                     operation_timeout=60).values():
            f.result()
        del admin
        for codec in CODECS:
            for acks in (0, 1):
                run = "%s%d" % (codec, acks)
                t = "c-%s-%d" % (codec, acks)
                produce_confluent(c.bootstrap, t, codec, acks, run)
                want = norm(expected(run))
                got = norm(consume_kafka_python(c.bootstrap, t, PER_RUN))
                assert got == want, "confluent -> kafka-python %s: %r != %r" % (
                    t, got[:3], want[:3])
                t = "p-%s-%d" % (codec, acks)
                produce_kafka_python(c.bootstrap, t, codec, acks, run)
                got = norm(consume_confluent(c.bootstrap, t, PER_RUN))
                assert got == want, "kafka-python -> confluent %s: %r != %r" % (
                    t, got[:3], want[:3])
        offsets_for_times(c.bootstrap, "c-zstd-1")
    print("ok")


if __name__ == "__main__":
    main()
