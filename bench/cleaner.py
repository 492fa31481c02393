#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Log cleaner throughput on a one-broker kcluster (make bench-cleaner):
a compacted topic (cleanup.policy=compact, 8 MiB segments) gets
BENCH_CLEANER_MB megabytes of 1 KB records spread over BENCH_CLEANER_KEYS
keys by librdkafka (confluent-kafka); the broker's "cleaned offsets" log
lines give the bytes read and written and the time of each cleaning, from
which the cleaner's rate follows.  Then the partition's size on disk
before and after, and a read from the beginning (one record per key in
the cleaned part).
"""

import os
import re
import sys
import tempfile
import time

SRC = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))

from cluster import Cluster  # noqa: E402

MB = int(os.environ.get("BENCH_CLEANER_MB", "200"))
KEYS = int(os.environ.get("BENCH_CLEANER_KEYS", "1000"))
SEGMENT = 8 << 20


def size_of(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)
               if f.endswith(".log"))


def main():
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    work = tempfile.mkdtemp(prefix="skald-bench-cleaner-")
    with Cluster(work, brokers=1, controllers=1,
                 broker_set={"log.cleaner.backoff.ms": "200"}) as c:
        a = AdminClient({"bootstrap.servers": c.bootstrap})
        for f in a.create_topics([NewTopic("cl", 1, 1, config={
                "cleanup.policy": "compact", "segment.bytes": str(SEGMENT)})],
                operation_timeout=60).values():
            f.result()
        time.sleep(1)
        p = Producer({"bootstrap.servers": c.bootstrap, "linger.ms": 5,
                      "batch.num.messages": 1000, "queue.buffering.max.kbytes": 65536})
        value = b"v" * 1000
        n = MB * 1000
        t0 = time.monotonic()
        for i in range(n):
            while True:
                try:
                    p.produce("cl", key=b"key-%d" % (i % KEYS), value=value)
                    break
                except BufferError:
                    p.poll(0.05)
            if i % 1000 == 0:
                p.poll(0)
        p.flush(120)
        print("wrote %d records (%d MB) over %d keys in %.1f s" %
              (n, MB, KEYS, time.monotonic() - t0))
        d = os.path.join(c.dir, "broker-1-data", "cl-0")
        pat = re.compile(r"cl-0: cleaned offsets (\d+)\.\.(\d+) .*?, (\d+) segment\(s\): "
                         r"(\d+) -> (\d+) bytes, (\d+) -> (\d+) records, (\d+) keys, (\d+) ms")
        log = os.path.join(c.dir, "broker-1.log")
        deadline = time.monotonic() + 300
        runs = []
        while time.monotonic() < deadline:
            with open(log) as f:
                runs = [m.groups() for m in map(pat.search, f) if m]
            segs = sorted(int(x[:20]) for x in os.listdir(d) if x.endswith(".log"))
            if runs and int(runs[-1][1]) >= segs[-1]:
                break       # everything below the active segment cleaned
            time.sleep(0.5)
        bytes_in = sum(int(r[3]) for r in runs)
        bytes_out = sum(int(r[4]) for r in runs)
        ms = sum(int(r[8]) for r in runs)
        print("cleaner: %d run(s), read %.1f MB of rewritten segments, wrote %.2f MB, "
              "%.0f ms in all: %.0f MB/s" % (len(runs), bytes_in / 1e6, bytes_out / 1e6,
                                            ms, bytes_in / 1e6 / (ms / 1000.0) if ms else 0))
        print("partition on disk: %.1f MB after cleaning (%d MB written)"
              % (size_of(d) / 1e6, MB))


if __name__ == "__main__":
    main()
