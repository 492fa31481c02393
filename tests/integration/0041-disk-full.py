#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A leader's disk fills up under an acks=all producer (issue 20): broker
1's log dir is a small tmpfs (mounted by the test, which runs as root),
broker 1 leads both partitions of an RF 3 topic with min.insync.replicas
2, and a file fills what is left of the tmpfs while the producer writes.

- the append that cannot be written fails (ENOSPC): broker 1's log dir
  goes offline as a whole, the broker says so, and the controller moves
  both leaderships to the other replicas (its LogDirEventNotification);
- the producer goes on through the new leaders;
- every acknowledged record is read back, so nothing was acknowledged
  that was not written, and broker 1's offline replicas are listed as
  such in the metadata.
"""

import errno
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, Writer, read_values, run_steps  # noqa: E402
from kbroker import wait_for  # noqa: E402

TOPIC = "full"
SIZE_MB = 48


def state(c, p):
    data, _ = c.zkc.get("/brokers/topics/%s/partitions/%d/state" % (TOPIC, p))
    return json.loads(data)


def mount_small_dir(c):
    """Broker 1 restarted with its log dir on a tmpfs of SIZE_MB."""
    c.tmpfs = os.path.join(c.dir, "broker-1-small")
    os.makedirs(c.tmpfs)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % SIZE_MB,
                        "skald-test", c.tmpfs], capture_output=True, text=True)
    assert r.returncode == 0, "this test mounts a tmpfs (as root): %s" % r.stderr
    c.mounted = True
    c.set_log_dirs(1, [c.tmpfs])


def create_led_by_1(c):
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    t = NewTopic(TOPIC, 2, replica_assignment=[[1, 2, 3], [1, 3, 2]],
                 config={"min.insync.replicas": "2"})
    a.create_topics([t])[TOPIC].result(120)
    wait_for(lambda: all(c.zkc.exists("/brokers/topics/%s/partitions/%d/state" % (TOPIC, p))
                         and state(c, p)["leader"] == 1 and len(state(c, p)["isr"]) == 3
                         for p in (0, 1)), 120, "%s led by broker 1 with full ISRs" % TOPIC)


def fill(path):
    """Fill the file system of path; the bytes written."""
    chunk = b"\0" * (1 << 20)
    n = 0
    with open(os.path.join(path, "filler"), "wb", buffering=0) as f:
        while True:
            try:
                n += f.write(chunk)
            except OSError as e:
                assert e.errno == errno.ENOSPC, e
                return n


def disk_full_moves_leaders(c):
    wr = Writer(c, TOPIC)
    try:
        wr.progress(3000, "writes to broker 1")
        filled = fill(c.tmpfs)
        print("filled %d MB of broker 1's %d MB log dir" % (filled >> 20, SIZE_MB))
        wait_for(lambda: all(state(c, p)["leader"] not in (1, -1) for p in (0, 1)), 180,
                 "both leaderships moved off broker 1")
        with open(os.path.join(c.dir, "broker-1.log"), errors="replace") as f:
            log = f.read()
        assert "is offline after a storage error" in log, log[-3000:]
        wr.progress(3000, "writes through the new leaders", timeout=180)
    finally:
        wr.finish()
    assert not wr.failed, wr.failed[:5]
    got = set(read_values(c.bootstrap, TOPIC, 2, ints_only=True))
    missing = wr.acked - got
    assert not missing, "%d acknowledged records lost: %s" % (len(missing), sorted(missing)[:10])
    print("%d acknowledged records, all read back; leaders now %s" % (
        len(wr.acked), [state(c, p)["leader"] for p in (0, 1)]))


def offline_in_metadata(c):
    """Broker 1's replicas are out of the ISRs and offline_replicas in
    every broker's Metadata."""
    import kwire

    def offline():
        for b in (1, 2, 3):
            with kwire.Wire(c.broker_port(b)) as w:
                m = w.call(3, 9, {"topics": [{"name": TOPIC}],
                                  "allow_auto_topic_creation": False,
                                  "include_cluster_authorized_operations": False,
                                  "include_topic_authorized_operations": False})
            for q in m["topics"][0]["partitions"]:
                if 1 in q["isr_nodes"] or q["offline_replicas"] != [1]:
                    return False
        return True
    wait_for(offline, 120, "broker 1's replicas offline in every broker's metadata")


def main():
    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd:
        c = None
        try:
            with Cluster(wd, brokers=3, controllers=1,
                         broker_set={"zookeeper.session.timeout.ms": "10000"}) as c:
                c.mounted = False
                c.zkc = c.zk()
                run_steps([mount_small_dir, create_led_by_1, disk_full_moves_leaders,
                           offline_in_metadata], c)
        finally:
            if c is not None and getattr(c, "mounted", False):
                subprocess.run(["umount", "-l", c.tmpfs])
    print("ok")


if __name__ == "__main__":
    main()
