#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Records without a timestamp are never deleted early, and the leader
dates every batch by its records, as Kafka 2.8's LogValidator does.

On a one-broker kcluster (retention checked every second), a topic with
retention.ms of RET seconds and 300-byte segments gets:
- librdkafka (confluent-kafka) records produced with timestamp -1;
- on a plain socket, batches of timestamp-less records whose header max
  timestamp says 0 (as older librdkafka writes it) and -1;
- on a plain socket, a batch whose records carry real timestamps under a
  header max of -1 (as Sarama writes it);
- confluent-kafka records with real timestamps.
kdump-log shows every batch's max timestamp recomputed from its records;
ListOffsets by timestamp finds the Sarama-style records; after a retention
pass, a SIGKILL and recovery, and another pass, every record is still
there and no index was rebuilt as corrupt; the first deletion comes only
once RET has passed since the append (timestamp-less segments go by their
files' age).  A second topic proves the retention passes ran: its records,
timestamped two hours ago under a one-hour retention, go at every pass.

message.timestamp.difference.max.ms: a record an hour away from the
broker's clock is refused with INVALID_TIMESTAMP and Produce v8's record
errors; so is a batch that claims LogAppendTime; neither is written.
"""

import glob
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, led  # noqa: E402
from kbroker import wait_for  # noqa: E402
from ktool import tool  # noqa: E402
import wire  # noqa: E402

RET = 100           # seconds of retention.ms for the timestamp-less topic
TOPIC = "notime"
CANARY = "canary"
INVALID_TIMESTAMP = 32


def admin_create(c, name, config):
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    for f in a.create_topics([NewTopic(name, 1, 1, config=config)],
                             operation_timeout=60).values():
        f.result()
    wait_for(lambda: led(a, name, 1), 60, "a leader for " + name)


def produce_ck(c, topic, values, timestamp=None):
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": c.bootstrap, "acks": "all",
                  "linger.ms": 200})
    errs = []
    for v in values:
        kw = {} if timestamp is None else {"timestamp": timestamp}
        p.produce(topic, value=v, on_delivery=lambda e, m: errs.append(e) if e else None, **kw)
    assert p.flush(60) == 0
    assert not errs, errs


def produce_raw(c, batch, topic=TOPIC, version=7):
    p = wire.produce(c.broker_port(1), version, topic, 0, batch)
    rec_errors = [(e["batch_index"], e["batch_index_error_message"])
                  for e in p["record_errors"]]
    return p["error_code"], p["base_offset"], rec_errors, p["error_message"]


def timeless(n, header_max):
    recs = [wire.record(i, 0, None, b"raw-%d-%d" % (header_max, i)) for i in range(n)]
    return wire.batch(recs, base_ts=-1, max_ts=header_max)


def watermarks(c, topic):
    from confluent_kafka import Consumer, TopicPartition

    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "wm"})
    try:
        return cons.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)
    finally:
        cons.close()


def consume_all(c, topic, end):
    from confluent_kafka import Consumer, TopicPartition

    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "all",
                     "enable.auto.commit": False})
    cons.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.monotonic() + 60
    while len(got) < end and time.monotonic() < deadline:
        m = cons.poll(1)
        if m is not None and m.error() is None:
            got.append((m.offset(), m.timestamp()[1], m.value()))
    cons.close()
    return got


def batch_max_timestamps(c):
    """(base offset, max timestamp) of every batch, from kdump-log."""
    d = os.path.join(c.dir, "broker-1-data", TOPIC + "-0")
    out = []
    for seg in sorted(glob.glob(os.path.join(d, "*.log"))):
        r = tool("kdump-log", seg, timeout=60)
        for m in re.finditer(r"baseOffset: (\d+) .*? CreateTime: (-?\d+)", r.stdout):
            out.append((int(m.group(1)), int(m.group(2))))
    return out


class Canary:
    """Records two hours old under a one-hour retention: each retention
    pass deletes them, which tells the test a pass has run."""

    def __init__(self, c):
        self.c = c
        admin_create(c, CANARY, {"retention.ms": "3600000", "segment.bytes": "300"})

    def one_pass(self, timeout=120):
        old = int(time.time() * 1000) - 2 * 3600 * 1000
        produce_ck(self.c, CANARY, [b"old-%d" % i for i in range(3)], timestamp=old)
        end = watermarks(self.c, CANARY)[1]
        wait_for(lambda: watermarks(self.c, CANARY)[0] == end, timeout,
                 "a retention pass to delete the canary")


def main():
    wd = tempfile.mkdtemp(prefix="skald-0016-")
    with Cluster(wd, brokers=1, controllers=1,
                 broker_set={"log.retention.check.interval.ms": "1000",
                             "file.delete.delay.ms": "1000"}) as c:
        admin_create(c, TOPIC, {"retention.ms": str(RET * 1000),
                                "segment.bytes": "300"})
        canary = Canary(c)

        # message.timestamp.difference.max.ms and LogAppendTime claims
        admin_create(c, "tsdiff", {"message.timestamp.difference.max.ms": "60000"})
        now = int(time.time() * 1000)
        far = wire.batch([wire.record(0, 0, None, b"ok"),
                          wire.record(1, -3600 * 1000, None, b"an hour early"),
                          wire.record(2, 0, None, b"ok")], now, now)
        err, _, rec_errors, msg = produce_raw(c, far, "tsdiff", version=8)
        assert err == INVALID_TIMESTAMP, err
        assert [i for i, _ in rec_errors] == [1], rec_errors
        assert msg, msg
        err, _, rec_errors, _ = produce_raw(c, far, "tsdiff", version=7)
        assert err == INVALID_TIMESTAMP and rec_errors == [], (err, rec_errors)
        lat = wire.batch([wire.record(0, 0, None, b"v")], now, now, attributes=0x08)
        err, _, rec_errors, _ = produce_raw(c, lat, "tsdiff", version=8)
        assert err == INVALID_TIMESTAMP and len(rec_errors) == 1, (err, rec_errors)
        near = wire.batch([wire.record(0, 0, None, b"v"),
                           wire.record(1, 30000, None, b"w")], now, now + 30000)
        assert produce_raw(c, near, "tsdiff", version=8)[0] == 0
        assert watermarks(c, "tsdiff") == (0, 2), "refused batches were written"

        # the timestamp-less data, each kind in segments of its own
        t_append = time.time()
        produce_ck(c, TOPIC, [b"rdk-%d" % i for i in range(10)], timestamp=-1)
        err, base0, _, _ = produce_raw(c, timeless(3, 0))
        assert err == 0 and base0 == 10, (err, base0)
        err, base1, _, _ = produce_raw(c, timeless(3, -1))
        assert err == 0 and base1 == 13, (err, base1)
        t0 = int(time.time() * 1000)
        sarama = wire.batch([wire.record(i, i * 1000, None, b"sarama-%d" % i)
                             for i in range(3)], base_ts=t0, max_ts=-1)
        err, base2, _, _ = produce_raw(c, sarama)
        assert err == 0 and base2 == 16, (err, base2)
        produce_ck(c, TOPIC, [b"real-%d" % i for i in range(10)])
        total = 29
        assert watermarks(c, TOPIC) == (0, total)

        # the leader recomputed every batch's max timestamp
        maxes = dict(batch_max_timestamps(c))
        assert maxes[0] == -1, maxes            # librdkafka, records -1
        assert maxes[10] == -1, maxes           # header said 0
        assert maxes[13] == -1, maxes           # header said -1
        assert maxes[16] == t0 + 2000, maxes    # Sarama: the records' max
        assert maxes[19] >= t0, maxes

        # ListOffsets by timestamp finds the Sarama-style records
        from confluent_kafka import Consumer, TopicPartition
        cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "ts"})
        [tp] = cons.offsets_for_times([TopicPartition(TOPIC, 0, t0 + 500)], timeout=30)
        cons.close()
        assert tp.offset == 17, tp

        def intact(when):
            assert time.time() < t_append + RET - 5, (
                "the machine was too slow to check retention before %d s "
                "passed (%s)" % (RET, when))
            low, high = watermarks(c, TOPIC)
            assert (low, high) == (0, total), (when, low, high, c.logs())
            got = consume_all(c, TOPIC, total)
            assert [o for o, _, _ in got] == list(range(total)), (when, got)
            assert got[0][1] == -1 and got[0][2] == b"rdk-0", got[0]

        canary.one_pass()
        intact("after a retention pass")
        c.kill("broker", 1)                     # recovery re-reads everything
        c.start("broker", 1)
        canary.one_pass()
        intact("after a restart with recovery and a retention pass")
        with open(os.path.join(c.dir, "broker-1.log"), errors="replace") as f:
            text = f.read()
        assert not re.search(TOPIC + r"-0.*missing or corrupt", text), text[-3000:]

        # nothing goes before RET has passed since the append; then the
        # timestamp-less segments go by their files' age
        def first_deletion():
            time.sleep(0.5)
            low = watermarks(c, TOPIC)[0]
            return time.time() if low > 0 else None
        t_deleted = wait_for(first_deletion, RET + 120, "retention to delete " + TOPIC)
        assert t_deleted >= t_append + RET - 2, (
            "deleted %.1f s after the append, retention.ms is %d s"
            % (t_deleted - t_append, RET))
        wait_for(lambda: watermarks(c, TOPIC)[0] >= 16, 60,
                 "the timestamp-less segments to go")
    print("ok")


if __name__ == "__main__":
    main()
