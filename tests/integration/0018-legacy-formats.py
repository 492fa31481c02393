#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Clients configured for Kafka before 0.11 (Produce v0-2 with magic 0/1
message sets, Fetch v0-3) against a cluster whose logs are record batch
v2, as Kafka 2.8 serves them: librdkafka (confluent-kafka) with
api.version.request=false and broker.version.fallback 0.9.0 (magic 0) or
0.10.0 (magic 1), and kafka-python with api_version (0, 9) and (0, 10),
produce and consume round trips with every codec they have at that
version (none, gzip, snappy, lz4), keys, null keys and values; timestamps
survive magic 1 both ways; kcat with -X does the same.  Old producers are read by new consumers and
new producers (headers, LogAppendTime) by old consumers.  A hand-made
protocol client checks the edges: zstd batches refused to old fetches
(UNSUPPORTED_COMPRESSION_TYPE), message.downconversion.enable=false
(UNSUPPORTED_VERSION), the 12-byte overflow stub of a v0 fetch whose limit
cuts the first batch, and malformed or refused message sets (CRC, two
wrappers, LogAppendTime from a producer, a timestamp outside
message.timestamp.difference.max.ms, no key on a compacted topic)."""

import gzip
import os
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, wait_for  # noqa: E402
import kwire  # noqa: E402
import wire  # noqa: E402
from wire import message, parse_set  # noqa: E402

CODECS = ["none", "gzip", "snappy", "lz4"]
PER_RUN = 60
BASE_TS = 1700000000000


def expected(run):
    """(key, value, timestamp) of message i of a run."""
    out = []
    for i in range(PER_RUN):
        key = None if i % 7 == 0 else ("k%d" % (i % 13)).encode()
        # kafka-python refuses a message with neither key nor value
        value = (None if i % 11 == 0 and key is not None
                 else ("%s-%d-" % (run, i)).encode() * (1 + i % 5))
        out.append((key, value, BASE_TS + i * 1000))
    return out


def legacy_conf(bootstrap, fallback):
    return {"bootstrap.servers": bootstrap, "api.version.request": False,
            "broker.version.fallback": fallback}


def produce_rdkafka(conf, topic, codec, run, headers=False):
    from confluent_kafka import Producer

    p = Producer(dict(conf, **{"compression.codec": codec, "linger.ms": 20,
                               "acks": "all"}))
    errors = []

    def cb(err, msg):
        if err is not None:
            errors.append(err)

    for i, (key, value, ts) in enumerate(expected(run)):
        p.produce(topic, key=key, value=value, timestamp=ts, partition=0,
                  headers=[("h", b"%d" % i)] if headers else None,
                  on_delivery=cb)
    assert p.flush(60) == 0, "messages left unflushed"
    assert not errors, errors


def consume_rdkafka(conf, topic, n):
    """(key, value, timestamp or None) as an old or new librdkafka reads."""
    from confluent_kafka import (Consumer, TopicPartition,
                                 TIMESTAMP_NOT_AVAILABLE)

    c = Consumer(dict(conf, **{"group.id": "unused", "enable.auto.commit": False}))
    c.assign([TopicPartition(topic, 0, 0)])
    out = []
    deadline = time.monotonic() + 120
    while len(out) < n and time.monotonic() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        assert m.error() is None, m.error()
        assert m.offset() == len(out), (m.offset(), len(out))
        tt, ts = m.timestamp()
        out.append((m.key(), m.value(),
                    None if tt == TIMESTAMP_NOT_AVAILABLE or ts == -1 else ts))
    c.close()
    return out


def produce_kafka_python(bootstrap, api, topic, codec, run):
    from kafka import KafkaProducer

    p = KafkaProducer(bootstrap_servers=bootstrap, api_version=api, acks=1,
                      compression_type=None if codec == "none" else codec,
                      linger_ms=20)
    futures = [p.send(topic, key=key, value=value, timestamp_ms=ts, partition=0)
               for key, value, ts in expected(run)]
    p.flush(60)
    for f in futures:
        f.get(timeout=60)
    p.close(30)


def consume_kafka_python(bootstrap, api, topic, n, with_type=False):
    from kafka import KafkaConsumer, TopicPartition

    kw = {} if api is None else {"api_version": api}
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                      group_id=None, api_version_auto_timeout_ms=30000, **kw)
    tp = TopicPartition(topic, 0)
    c.assign([tp])
    c.seek(tp, 0)
    out = []
    deadline = time.monotonic() + 120
    while len(out) < n and time.monotonic() < deadline:
        for msgs in c.poll(timeout_ms=1000).values():
            for m in msgs:
                assert m.offset == len(out), (m.offset, len(out))
                ts = None if m.timestamp in (None, -1) else m.timestamp
                out.append((m.key, m.value, ts) +
                           ((m.timestamp_type,) if with_type else ()))
    c.close()
    return out


def want(run, timestamps):
    return [(k, v, ts if timestamps else None) for k, v, ts in expected(run)]


def check(got, run, timestamps, what):
    w = want(run, timestamps)
    assert got == w, "%s: %d messages, first differences %r" % (
        what, len(got), [(i, g, x) for i, (g, x) in enumerate(zip(got, w)) if g != x][:3])


# ----------------------------------------------------- a raw protocol client

class Raw:
    """Produce v0-2 and Fetch v0-3 of partition 0 on one plain connection."""

    def __init__(self, port):
        self.w = kwire.Wire(port, client_id="raw")

    def produce(self, version, topic, records, acks=1):
        p = wire.produce(self.w, version, topic, 0, records, acks=acks)
        return p["error_code"], p["base_offset"]

    def fetch(self, version, topic, offset, part_max=1 << 20, max_bytes=1 << 30):
        p = wire.fetch(self.w, version, topic, 0, offset, max_wait_ms=100,
                       max_bytes=max_bytes, part_max=part_max)
        return p["error_code"], p["high_watermark"], p["records"]


def raw_checks(c, admin):
    from confluent_kafka import Producer
    from confluent_kafka.admin import NewTopic

    topics = {"r-zstd": {}, "r-nodown": {"message.downconversion.enable": "false"},
              "r-ts": {"message.timestamp.difference.max.ms": "3600000"},
              "r-compact": {"cleanup.policy": "compact"}, "r-misc": {}, "r-trim": {}}
    for f in admin.create_topics([NewTopic(t, 1, 1, config=cfg) for t, cfg in topics.items()],
                                 operation_timeout=60).values():
        f.result()

    def all_led():
        # the broker asked may not know every topic yet
        m = admin.list_topics(timeout=30)
        return all(t in m.topics and 0 in m.topics[t].partitions and
                   m.topics[t].partitions[0].leader >= 1 for t in topics) and m
    md = wait_for(all_led, 60, "leaders for " + ", ".join(topics))

    def raw_for(t):
        return Raw(c.broker_port(md.topics[t].partitions[0].leader))

    # zstd: no magic 0/1 form.  First batch zstd: the error; behind a
    # convertible batch: the fetch stops before it
    p = Producer({"bootstrap.servers": c.bootstrap, "linger.ms": 0,
                  "compression.codec": "gzip"})
    p.produce("r-zstd", value=b"gz" * 500, partition=0)  # worth compressing
    p.flush(30)
    p = Producer({"bootstrap.servers": c.bootstrap, "linger.ms": 0,
                  "compression.codec": "zstd"})
    p.produce("r-zstd", value=b"zs" * 500, partition=0)
    p.flush(30)
    r = raw_for("r-zstd")
    for v in (0, 1, 2, 3):
        err, hw, data = r.fetch(v, "r-zstd", 1)
        assert err == 76 and hw == -1 and data == b"", (v, err, hw, data)
        err, hw, data = r.fetch(v, "r-zstd", 0)
        msgs = parse_set(data)
        assert err == 0 and hw == 2 and len(msgs) == 1, (v, err, hw, msgs)
        assert msgs[0][0] == 0 and msgs[0][2] & 7 == 1, msgs  # a gzip wrapper
    err, hw, data = r.fetch(3, "r-zstd", 2)  # at the end
    assert (err, data) == (0, b""), (err, data)

    # message.downconversion.enable=false: refused when there is data
    r = raw_for("r-nodown")
    err, hw, data = r.fetch(2, "r-nodown", 0)
    assert (err, data) == (0, b""), (err, data)
    err, base = r.produce(2, "r-nodown", message(0, 1, b"k", b"v", int(time.time() * 1000)))
    assert (err, base) == (0, 0), (err, base)
    for v in (0, 1, 2, 3):
        err, hw, data = r.fetch(v, "r-nodown", 0)
        assert (err, hw, data) == (35, -1, b""), (v, err, hw, data)

    # the first batch larger than a v0-2 fetch's limit: the overflow stub;
    # Fetch v3 follows KIP-74 and gives the batch whole
    r = raw_for("r-misc")
    big = b"x" * 5000
    err, base = r.produce(1, "r-misc", message(0, 0, b"big", big))
    assert (err, base) == (0, 0), (err, base)
    for v in (0, 1, 2):
        err, hw, data = r.fetch(v, "r-misc", 0, part_max=1000)
        assert err == 0 and data == struct.pack(">qi", -1, 61), (v, err, data)
    err, hw, data = r.fetch(3, "r-misc", 0, part_max=1000, max_bytes=1000)
    assert err == 0 and parse_set(data) == [(0, 1, 0, -1, b"big", big)], (err, data[:40])
    # malformed and refused sets; none of them changes the log
    now = int(time.time() * 1000)
    good = message(0, 1, b"a", b"b", now)
    wrapper = message(0, 1, None, gzip.compress(message(0, 1, b"i", b"j", now)), now, attrs=1)
    cases = [
        (message(0, 1, b"a", b"b", now, crc_delta=1), 2),         # CRC
        (struct.pack(">qi", 0, 8) + b"\0" * 8, 2),                 # size < 14
        (message(0, 3, b"a", b"b"), 2),                            # magic 3
        (wrapper + good, 87),                                      # two batches
        (good + message(1, 0, b"a", b"b"), 87),                    # mixed magic
        (message(0, 1, b"a", b"b", now, attrs=8), 32),             # LogAppendTime
        (message(0, 1, None, None, now, attrs=1), 87),             # null wrapper
        (message(0, 1, None, gzip.compress(b""), now, attrs=1), 87),  # empty wrapper
        (message(0, 1, None, gzip.compress(message(0, 0, b"i", b"j")), now, attrs=1), 87),
        (message(0, 1, None, b"not gzip", now, attrs=1), 2),
        (message(0, 1, None, b"zz", now, attrs=4), 87),            # zstd wrapper
    ]
    for i, (records, code) in enumerate(cases):
        for version in (0, 1, 2):
            err, base = r.produce(version, "r-misc", records)
            assert (err, base) == (code, -1), (i, version, err, base, code)
    # a partial message after a whole one is dropped, as Kafka does; an
    # empty set appends nothing
    err, base = r.produce(2, "r-misc", good + good[:20])
    assert (err, base) == (0, 1), (err, base)
    err, base = r.produce(2, "r-misc", b"")
    assert (err, base) == (0, -1), (err, base)
    err, hw, data = r.fetch(2, "r-misc", 1)
    assert parse_set(data) == [(1, 1, 0, now, b"a", b"b")], parse_set(data)

    # converted data grows (a v2 record of 3 bytes is a 37-byte message):
    # it stops at the bytes read, in whole messages, and a consumer goes on
    # from the middle of the batch, the records before it left out
    p = Producer({"bootstrap.servers": c.bootstrap, "linger.ms": 200})
    p.produce("r-trim", value=b"one", partition=0)
    p.flush(30)
    for i in range(200):
        p.produce("r-trim", value=b"%03d" % i, partition=0)
    p.flush(30)
    r = raw_for("r-trim")
    err, hw, data = r.fetch(3, "r-trim", 0)
    first = parse_set(data)
    assert err == 0 and hw == 201 and 1 < len(first) < 201, (err, hw, len(first))
    assert len(data) == sum(12 + 22 + len(m[5]) for m in first) <= 61 * 2 + 201 * 13, len(data)
    values, offset = [], 0
    while offset < 201:
        err, hw, data = r.fetch(2, "r-trim", offset)
        msgs = parse_set(data)
        assert err == 0 and msgs and msgs[0][0] == offset, (err, offset, msgs[:1])
        values += [m[5] for m in msgs]
        offset = msgs[-1][0] + 1
    assert values == [b"one"] + [b"%03d" % i for i in range(200)], values[:5]

    r = raw_for("r-ts")
    old = now - 2 * 3600000
    err, base = r.produce(2, "r-ts", message(0, 1, b"a", b"b", old))
    assert (err, base) == (32, -1), (err, base)
    err, base = r.produce(2, "r-ts", message(0, 1, None, gzip.compress(
        message(0, 1, b"i", b"j", now) + message(1, 1, b"i", b"j", old)), now, attrs=1))
    assert (err, base) == (32, -1), (err, base)
    # magic 0 has no timestamp to check
    err, base = r.produce(1, "r-ts", message(0, 0, b"a", b"b"))
    assert (err, base) == (0, 0), (err, base)

    r = raw_for("r-compact")
    err, base = r.produce(2, "r-compact", message(0, 1, None, b"b", now))
    assert (err, base) == (87, -1), (err, base)
    err, base = r.produce(2, "r-compact", message(0, 1, b"a", b"b", now))
    assert (err, base) == (0, 0), (err, base)


def main():
    from confluent_kafka.admin import AdminClient, NewTopic

    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd, \
            Cluster(wd, brokers=2, controllers=1) as c:
        admin = AdminClient({"bootstrap.servers": c.bootstrap})
        rk = ["rk-%s-%s" % (fb, codec) for fb in ("0.9.0", "0.10.0") for codec in CODECS]
        kp = ["kp-%d-%s" % (api[1], codec) for api in ((0, 9), (0, 10)) for codec in CODECS]
        new = ["new-%s" % codec for codec in CODECS]
        topics = [NewTopic(t, 1, 2) for t in rk]
        topics += [NewTopic(t, 1, 1) for t in kp + new]
        topics += [NewTopic("lat", 1, 1, config={"message.timestamp.type": "LogAppendTime"})]
        for f in admin.create_topics(topics, operation_timeout=60).values():
            f.result()

        # librdkafka configured for 0.9.0 / 0.10.0, replicated (acks=all)
        for fb in ("0.9.0", "0.10.0"):
            conf = legacy_conf(c.bootstrap, fb)
            ts = fb == "0.10.0"
            for codec in CODECS:
                t = "rk-%s-%s" % (fb, codec)
                produce_rdkafka(conf, t, codec, t)
                check(consume_rdkafka(conf, t, PER_RUN), t, ts, t + " old librdkafka")
                check(consume_kafka_python(c.bootstrap, None, t, PER_RUN), t, ts,
                      t + " new kafka-python")

        # kafka-python with api_version (0, 9) / (0, 10)
        for api, fb in (((0, 9), "0.9.0"), ((0, 10), "0.10.0")):
            ts = api == (0, 10)
            for codec in CODECS:
                t = "kp-%d-%s" % (api[1], codec)
                produce_kafka_python(c.bootstrap, api, t, codec, t)
                check(consume_kafka_python(c.bootstrap, api, t, PER_RUN), t, ts,
                      t + " old kafka-python")
                check(consume_rdkafka(legacy_conf(c.bootstrap, fb), t, PER_RUN), t, ts,
                      t + " old librdkafka")
                check(consume_rdkafka({"bootstrap.servers": c.bootstrap}, t, PER_RUN),
                      t, ts, t + " new librdkafka")

        # a new producer (v2 batches with headers) read by every old consumer
        for codec in CODECS:
            t = "new-%s" % codec
            produce_rdkafka({"bootstrap.servers": c.bootstrap}, t, codec, t, headers=True)
            check(consume_rdkafka(legacy_conf(c.bootstrap, "0.9.0"), t, PER_RUN), t,
                  False, t + " librdkafka 0.9.0")
            check(consume_rdkafka(legacy_conf(c.bootstrap, "0.10.0"), t, PER_RUN), t,
                  True, t + " librdkafka 0.10.0")
            check(consume_kafka_python(c.bootstrap, (0, 9), t, PER_RUN), t, False,
                  t + " kafka-python (0, 9)")
            check(consume_kafka_python(c.bootstrap, (0, 10), t, PER_RUN), t, True,
                  t + " kafka-python (0, 10)")

        # LogAppendTime: old producers' timestamps replaced by the broker's,
        # which old magic 1 consumers see with the LogAppendTime type
        before = int(time.time() * 1000)
        produce_kafka_python(c.bootstrap, (0, 10), "lat", "gzip", "lat")
        after = int(time.time() * 1000)
        got = consume_kafka_python(c.bootstrap, (0, 10), "lat", PER_RUN, with_type=True)
        assert [(k, v) for k, v, _, _ in got] == [(k, v) for k, v, _ in expected("lat")]
        assert all(before <= ts <= after and tt == 1 for _, _, ts, tt in got), got[:3]
        got = consume_rdkafka(legacy_conf(c.bootstrap, "0.10.0"), "lat", PER_RUN)
        assert all(before <= ts <= after for _, _, ts in got), got[:3]

        # kcat (librdkafka's own tool) with -X, as an operator would run it
        for fb, codec in (("0.9.0", "lz4"), ("0.10.0", "snappy")):
            t = "rk-%s-%s" % (fb, codec)
            x = ["-X", "api.version.request=false", "-X", "broker.version.fallback=" + fb]
            lines = "".join("kc%d:kcat %s %d\n" % (i, fb, i) for i in range(20))
            subprocess.run(["kcat", "-P", "-b", c.bootstrap, "-t", t, "-p", "0", "-K:",
                            "-z", codec] + x, input=lines, text=True, check=True,
                           timeout=60)
            out = subprocess.run(["kcat", "-C", "-b", c.bootstrap, "-t", t, "-p", "0",
                                  "-o", str(PER_RUN), "-e", "-f", "%k:%s\n"] + x,
                                 capture_output=True, text=True, check=True,
                                 timeout=60).stdout
            assert out == lines, (fb, out[:200])

        raw_checks(c, admin)
        del admin
    print("ok")


if __name__ == "__main__":
    main()
