#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A broker restarted over a few hundred logs under an acks=all producer
(a kcluster of 3 brokers, one topic of PARTS partitions of replication
factor 3, min.insync.replicas 2):

- stopped cleanly (SIGTERM) and started again: it loads its logs with
  more than one thread (nothing to recover after a clean shutdown, so
  loading is not held to num.recovery.threads.per.data.dir), says so in
  its "loaded N logs" line, and comes back into every ISR, in ZooKeeper
  and in the Metadata of every broker;
- killed (SIGKILL) and started again: its logs are recovered with
  num.recovery.threads.per.data.dir threads (here 1, Kafka's default),
  and it comes back into every ISR the same way;
- the controller's ISR change notifications are all consumed (none left
  in ZooKeeper once the ISRs are full and the brokers have said so);
- every acknowledged record is read back at the end.

Timing is for the benchmark (bench/controller_scale.py, "restart"):
nothing here asserts how fast.
"""

import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, Writer, metadata_partitions, read_values, run_steps  # noqa: E402
from kbroker import wait_for  # noqa: E402

TOPIC = "fr"
PARTS = 240
BROKERS = (1, 2, 3)
TIMEOUT = 300  # generous: a shared machine


def create(c):
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    a.create_topics([NewTopic(TOPIC, PARTS, 3, config={"min.insync.replicas": "2"})]
                    )[TOPIC].result(120)
    wait_for(lambda: all_full(c), TIMEOUT, "every ISR of %s full" % TOPIC)


def zk_states(c):
    zk = c.zkc
    asyncs = [zk.get_async("/brokers/topics/%s/partitions/%d/state" % (TOPIC, p))
              for p in range(PARTS)]
    out = []
    for a in asyncs:
        try:
            data, _ = a.get(timeout=60)
        except Exception:  # noqa: BLE001  (not created yet)
            return None
        out.append(json.loads(data))
    return out


def metadata_full(b):
    ps = metadata_partitions(c_port[b], TOPIC)
    if ps is None or len(ps) != PARTS:
        return False
    return all(q["leader_id"] in BROKERS and sorted(q["isr_nodes"]) == list(BROKERS)
               for q in ps)


c_port = {}


def all_full(c):
    """Every ISR full in ZooKeeper and in every broker's Metadata."""
    st = zk_states(c)
    if st is None or any(sorted(s["isr"]) != list(BROKERS) for s in st):
        return False
    return all(metadata_full(b) for b in BROKERS)


def loaded_line(c, b, offset):
    with open(os.path.join(c.dir, "broker-%d.log" % b), errors="replace") as f:
        f.seek(offset)
        text = f.read()
    m = re.search(r"loaded (\d+) logs after an? (clean|unclean) shutdown in \d+ ms "
                  r"\((\d+) threads?\)", text)
    assert m, "no \"loaded\" line in broker %d's log since its restart" % b
    return int(m.group(1)), m.group(2), int(m.group(3))


def log_size(c, b):
    return os.path.getsize(os.path.join(c.dir, "broker-%d.log" % b))


def out_of_isrs(c, b):
    st = zk_states(c)
    return st is not None and all(b not in s["isr"] for s in st)


def restart(c, b, how):
    c.wr.progress(500, "writes before the %s of broker %d" % (how, b), timeout=TIMEOUT)
    if how == "SIGTERM":
        c.stop("broker", b)
    else:
        c.kill("broker", b)
    wait_for(lambda: out_of_isrs(c, b), TIMEOUT, "broker %d out of every ISR" % b)
    c.wr.progress(300, "writes while broker %d is down" % b, timeout=TIMEOUT)
    off = log_size(c, b)
    c.start("broker", b)
    n, kind, threads = loaded_line(c, b, off)
    print("broker %d after %s: loaded %d logs after a shutdown (%s) with %d thread(s)" % (
        b, how, n, kind, threads))
    # __consumer_offsets may be there too (the reader's consumer)
    assert n >= PARTS, (n, PARTS)
    if how == "SIGTERM":
        assert kind == "clean", kind
        assert threads >= 2, "a clean load used %d thread" % threads
    else:
        assert kind == "unclean", kind
        assert threads == 1, "recovery used %d threads, configured 1" % threads
    wait_for(lambda: all_full(c), TIMEOUT, "broker %d back in every ISR" % b)
    c.wr.progress(300, "writes after broker %d came back" % b, timeout=TIMEOUT)


def restart_clean(c):
    restart(c, 3, "SIGTERM")


def restart_killed(c):
    restart(c, 2, "SIGKILL")


def notifications_consumed(c):
    wait_for(lambda: not c.zkc.get_children("/isr_change_notification"), TIMEOUT,
             "no ISR change notification left in ZooKeeper")


def nothing_lost(c):
    c.wr.finish()
    assert not c.wr.failed, c.wr.failed[:5]
    got = set(read_values(c.bootstrap, TOPIC, PARTS))
    missing = c.wr.acked - got
    assert not missing, "%d acknowledged records lost, e.g. %s" % (
        len(missing), sorted(missing)[:10])
    print("%d acknowledged records all read back" % len(c.wr.acked))


def main():
    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd:
        with Cluster(wd, brokers=3, controllers=1) as c:
            c.zkc = c.zk()
            for b in BROKERS:
                c_port[b] = c.broker_port(b)
            create(c)
            c.wr = Writer(c, TOPIC)
            try:
                run_steps([restart_clean, restart_killed, notifications_consumed,
                           nothing_lost], c)
            finally:
                if not c.wr.stop.is_set():
                    c.wr.stop.set()
                    c.wr.t.join(400)
    print("ok")


if __name__ == "__main__":
    main()
