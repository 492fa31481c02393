#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A leader shrinking and expanding thousands of ISRs (make bench-isr):
a kcluster of 2 brokers and 1 controller, one topic of --partitions
partitions all led by broker 1 with broker 2 as follower.  Broker 2 is
paused (SIGSTOP; its ZooKeeper session outlives the pause) and a record
written to every partition (a follower whose log end is the leader's
never falls out of sync) until broker 1 has taken it out of every ISR,
then resumed until it is back in all.

For each of the shrink and the expansion:
- the span of broker 1's ISR writes (its first and last "ISR now" log
  lines) and when every broker's Metadata had the change;
- how many /isr_change_notification znodes told the controller (from the
  parent's cversion: each create and each delete of a child bumps it);
- broker 1's main loop: a prober opens a new connection every 20 ms and
  times its first ApiVersions answer (the main loop accepts connections,
  so a main loop busy with ZooKeeper round trips delays it); the worst and
  the median during the change against the median before.

Figures are for issue notes, not assertions.  Run from a build directory:
top_builddir (binaries) and top_srcdir (the tests' helpers) come from the
environment, as for the tests.

    bench/isr_shrink.py [--partitions 3000] [--lag-ms 4000] [--ibp VERSION]
        [--json]

--ibp sets inter.broker.protocol.version: below 2.7-IV2 leaders write the
state znodes and send notices; from it on (the default) they ask the
controller with AlterIsr, and no notice is written.
"""

import argparse
import datetime
import json
import os
import re
import socket
import statistics
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster  # noqa: E402
from kbroker import wait_for  # noqa: E402

TOPIC = "isr-bench"
NOTIFY = "/isr_change_notification"


class Prober:
    """New connections to a broker, each timed to its first ApiVersions
    answer; samples are (start, seconds)."""

    def __init__(self, port):
        self.port = port
        self.samples = []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def one(self):
        body = struct.pack(">hhih", 18, 0, 1, 5) + b"probe"
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.port), timeout=60) as s:
            s.sendall(struct.pack(">i", len(body)) + body)
            head = self.read(s, 4)
            self.read(s, struct.unpack(">i", head)[0])
        return t0, time.monotonic() - t0

    @staticmethod
    def read(s, n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise OSError("closed")
            buf += chunk
        return buf

    def run(self):
        while not self.stop.is_set():
            try:
                self.samples.append(self.one())
            except OSError:
                pass
            time.sleep(0.02)

    def between(self, a, b):
        return [d for t, d in self.samples if a <= t <= b]


def log_times(path, pattern):
    """Wall-clock times (s) of broker log lines matching pattern."""
    out = []
    rx = re.compile(pattern)
    with open(path, errors="replace") as f:
        for line in f:
            if rx.search(line):
                ts = line.split(" ", 1)[0].rstrip("Z")
                out.append(datetime.datetime.fromisoformat(ts).replace(
                    tzinfo=datetime.timezone.utc).timestamp())
    return out


def metadata_isrs(port):
    from confluent_kafka.admin import AdminClient

    a = AdminClient({"bootstrap.servers": "127.0.0.1:%d" % port})
    md = a.list_topics(TOPIC, timeout=30).topics.get(TOPIC)
    if md is None or md.error is not None:
        return None
    return [sorted(p.isrs) for _, p in sorted(md.partitions.items())]


def settled(zk):
    wait_for(lambda: not zk.get_children(NOTIFY), 300, "the controller to consume the notices")
    return zk.exists(NOTIFY).cversion


def phase(c, zk, prober, name, action, want, n, log):
    """Run action, wait until broker 1 logged n ISR writes to want and
    both brokers' Metadata show it; the figures."""
    done_before = len(log_times(log, r"ISR now \[%s\]" % want))
    base = settled(zk)
    mono0, wall0 = time.monotonic(), time.time()
    action()
    wait_for(lambda: len(log_times(log, r"ISR now \[%s\]" % want)) >= done_before + n, 600,
             "%s: %d ISR writes" % (name, n))
    times = log_times(log, r"ISR now \[%s\]" % want)[done_before:]
    wait_for(lambda: all(metadata_isrs(c.broker_port(b)) ==
                         [[int(x) for x in want.split(",")]] * n
                         for b in ((1,) if want == "1" else (1, 2))), 600,
             "%s in Metadata" % name)
    md = time.time()
    time.sleep(0.5)
    mono1 = time.monotonic()
    notices = (settled(zk) - base) // 2
    lat = prober.between(mono0, mono1)
    return {"phase": name, "partitions": n,
            "first_write_s": round(times[0] - wall0, 2),
            "writes_span_s": round(times[-1] - times[0], 3),
            "metadata_after_last_write_s": round(md - times[-1], 2),
            "notices": notices,
            "probe_max_ms": round(1000 * max(lat), 1) if lat else None,
            "probe_median_ms": round(1000 * statistics.median(lat), 1) if lat else None,
            "probes": len(lat)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--partitions", type=int, default=3000)
    ap.add_argument("--lag-ms", type=int, default=4000)
    ap.add_argument("--ibp", default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    extra = {"inter.broker.protocol.version": args.ibp} if args.ibp else {}
    n = args.partitions
    out = []
    with tempfile.TemporaryDirectory(prefix="skald-bench-") as wd:
        with Cluster(wd, brokers=2, controllers=1,
                     broker_set={"zookeeper.session.timeout.ms": "60000",
                                 "replica.lag.time.max.ms": str(args.lag_ms),
                                 "num.partitions": "1", **extra}) as c:
            from confluent_kafka.admin import AdminClient, NewTopic

            zk = c.zk()
            a = AdminClient({"bootstrap.servers": c.bootstrap})
            a.create_topics([NewTopic(TOPIC, n, replica_assignment=[[1, 2]] * n)]
                            )[TOPIC].result(300)
            wait_for(lambda: all(metadata_isrs(c.broker_port(b)) == [[1, 2]] * n
                                 for b in (1, 2)), 600, "full ISRs")
            log = os.path.join(c.dir, "broker-1.log")
            prober = Prober(c.broker_port(1))
            time.sleep(3)
            idle = [d for _, d in prober.samples]
            out.append({"phase": "idle", "probe_median_ms":
                        round(1000 * statistics.median(idle), 1), "probes": len(idle)})
            def pause_and_write():
                # a record in each partition: a follower whose log end
                # is the leader's never falls out of sync (Kafka's rule)
                from confluent_kafka import Producer

                c.pause("broker", 2)
                p = Producer({"bootstrap.servers": c.bootstrap, "acks": "1",
                              "linger.ms": 50})
                for i in range(n):
                    p.produce(TOPIC, value=b"x", partition=i)
                    p.poll(0)
                assert p.flush(300) == 0, "records not delivered"

            out.append(phase(c, zk, prober, "shrink", pause_and_write, "1", n, log))
            out.append(phase(c, zk, prober, "expand", lambda: c.resume("broker", 2),
                             "1,2", n, log))
            prober.stop.set()
    if args.json:
        print(json.dumps(out))
    else:
        for r in out:
            print(" ".join("%s=%s" % kv for kv in r.items()))


if __name__ == "__main__":
    main()
