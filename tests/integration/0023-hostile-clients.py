#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Hostile requests on plain sockets leave a real cluster unharmed (no
authorizer configured), on a 2-broker kcluster with one kcontroller.

- LeaderAndIsr and StopReplica (delete_partitions) naming "../<dir>", a
  name with a space or a newline, "." or "..": every partition refused
  with INVALID_TOPIC_EXCEPTION; the broker's data directory listing and
  the topics named in its checkpoint files are the same afterwards, and
  a directory next to the data directory that "../" could reach is still
  there;
- a forged controller epoch far ahead of ZooKeeper's /controller_epoch in
  LeaderAndIsr, StopReplica and UpdateMetadata: STALE_CONTROLLER_EPOCH,
  not adopted: the real controller still creates topics and moves
  leaders afterwards;
- a Fetch with a replica id the partition does not have (and with the
  leader's own id): error NONE, no records (Kafka's
  updateFollowerFetchState), and the ISR and high watermark unchanged;
- ControlledShutdown v3 with broker_epoch -1 to the kcontroller's
  listener: STALE_BROKER_EPOCH, the broker keeps its leaderships; an
  ElectLeaders or AlterPartitionReassignments there naming "../victim":
  UNKNOWN_TOPIC_OR_PARTITION, nothing moves;
- a client of the kcontroller's listener that pipelines ApiVersions and
  never reads: the kcontroller's memory grows by less than 16 MiB (it grew
  by 60 MB before; the sanitizer build adds its quarantine to the bounds);
- a 10 MB CreateTopics frame claiming ten million topics: the broker
  closes the connection and its resident memory grows by less than
  64 MiB (it allocated 755 MB before);
- a forwarded ElectLeaders that fails after its handler returned (no
  controller) answers NOT_CONTROLLER naming exactly the partitions asked,
  with the next request pipelined behind it (the request owns its
  frame); the sanitizer build's logs are checked at the end.
"""

import json
import os
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster  # noqa: E402
from kbroker import wait_for  # noqa: E402
import kwire  # noqa: E402

from confluent_kafka import Consumer, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

NONE, STALE_CONTROLLER_EPOCH, INVALID_TOPIC, NOT_CONTROLLER = 0, 11, 17, 41
STALE_BROKER_EPOCH, UNKNOWN_TOPIC = 77, 3

BAD_NAMES = ["a b", "x\ny", ".", "..", "a/b"]


def create(admin, *topics):
    for f in admin.create_topics([NewTopic(t, p, r) for t, p, r in topics],
                                 operation_timeout=60).values():
        f.result(60)


def produce(bootstrap, topic, n):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i in range(n):
        p.produce(topic, value=b"v%d" % i)
    assert p.flush(60) == 0


def state(zk, topic, p=0):
    return json.loads(zk.get("/brokers/topics/%s/partitions/%d/state" % (topic, p))[0])


def controller_epoch(zk):
    return int(zk.get("/controller_epoch")[0])


def snapshot(c, broker):
    """The data directory's entries but the checkpoint files (written
    every few seconds), and the lines of those: (topic, partition) pairs."""
    d = os.path.join(c.dir, "broker-%d-data" % broker)
    dirs, lines = set(), set()
    for name in os.listdir(d):
        if "checkpoint" not in name:
            dirs.add(name)
            continue
        with open(os.path.join(d, name)) as f:
            for line in f.read().splitlines()[2:]:
                lines.add(tuple(line.split(" ")[:2]))
    return dirs, lines


def lai(port, epoch, name, broker):
    """LeaderAndIsr v4 making broker the only replica and leader of name-0."""
    ps = {"partition_index": 0, "controller_epoch": epoch, "leader": broker,
          "leader_epoch": 1000, "isr": [broker], "zk_version": 0,
          "replicas": [broker], "adding_replicas": [], "removing_replicas": []}
    with kwire.Wire(port) as w:
        return w.call(4, 4, {"controller_id": 101, "controller_epoch": epoch,
                             "broker_epoch": -1,
                             "topic_states": [{"topic_name": name,
                                               "partition_states": [ps]}],
                             "live_leaders": []})


def stop_replica(port, epoch, name):
    with kwire.Wire(port) as w:
        return w.call(5, 1, {"controller_id": 101, "controller_epoch": epoch,
                             "broker_epoch": -1, "delete_partitions": True,
                             "topics": [{"name": name, "partition_indexes": [0]}]})


def names_never_reach_the_disk(c, zk):
    port = c.broker_port(1)
    before = snapshot(c, 1)
    parent = c.dir
    victim = os.path.join(parent, "xvictim-0")
    os.mkdir(victim)
    with open(os.path.join(victim, "keep"), "w") as f:
        f.write("mine")
    epoch = controller_epoch(zk)
    for name in BAD_NAMES + ["../xvictim", "../escape"]:
        r = lai(port, epoch, name, 1)
        assert r["error_code"] == NONE, r
        errs = [p["error_code"] for p in r["partition_errors"]]
        assert errs == [INVALID_TOPIC], (name, r)
        r = stop_replica(port, epoch, name)
        assert r["error_code"] == NONE, r
        errs = [p["error_code"] for p in r["partition_errors"]]
        assert errs == [INVALID_TOPIC], (name, r)
    assert os.path.exists(os.path.join(victim, "keep"))
    assert not os.path.exists(os.path.join(parent, "escape-0"))
    dirs, lines = snapshot(c, 1)
    assert dirs == before[0], (dirs, before[0])
    # every checkpoint line names a log that is there, in two words
    for line in lines:
        assert len(line) == 2 and "%s-%s" % line in dirs, line


def forged_epochs_are_not_adopted(c, zk, admin):
    port = c.broker_port(1)
    forged = controller_epoch(zk) + 1000
    r = lai(port, forged, "forged", 1)
    assert r["error_code"] == STALE_CONTROLLER_EPOCH, r
    r = stop_replica(port, forged, "victim")
    assert r["error_code"] == STALE_CONTROLLER_EPOCH, r
    with kwire.Wire(port) as w:
        r = w.call(6, 6, {"controller_id": 101, "controller_epoch": forged,
                          "broker_epoch": -1, "topic_states": [],
                          "live_brokers": []})
    assert r["error_code"] == STALE_CONTROLLER_EPOCH, r
    assert not os.path.exists(os.path.join(c.dir, "broker-1-data", "forged-0"))
    # the real controller still reaches broker 1: a new topic led by it
    create(admin, ("after", 2, 2))
    wait_for(lambda: all(state(zk, "after", p)["leader"] in (1, 2) for p in (0, 1)),
             60, "leaders of a topic created after the forgery")
    produce(c.bootstrap, "after", 20)
    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "g23",
                     "auto.offset.reset": "earliest"})
    cons.subscribe(["after"])
    got = 0
    end = time.monotonic() + 60
    while got < 20 and time.monotonic() < end:
        m = cons.poll(1)
        if m is not None and m.error() is None:
            got += 1
    cons.close()
    assert got == 20, got


def fetch(port, topic, replica_id, leader_epoch):
    with kwire.Wire(port) as w:
        r = w.call(1, 11, {"replica_id": replica_id, "max_wait_ms": 0, "min_bytes": 0,
                           "max_bytes": 1 << 20, "isolation_level": 0,
                           "session_id": 0, "session_epoch": -1,
                           "topics": [{"topic": topic, "partitions": [{
                               "partition": 0, "current_leader_epoch": leader_epoch,
                               "fetch_offset": 0, "log_start_offset": -1,
                               "partition_max_bytes": 1 << 20}]}],
                           "forgotten_topics_data": [], "rack_id": ""})
    return r["responses"][0]["partitions"][0]


def spoofed_replicas_move_nothing(c, zk):
    st = state(zk, "victim")
    leader = st["leader"]
    port = c.broker_port(leader)
    consumer = fetch(port, "victim", -1, st["leader_epoch"])
    assert consumer["error_code"] == NONE and consumer["records"], consumer
    hw = consumer["high_watermark"]
    for spoof in (77, leader):
        p = fetch(port, "victim", spoof, st["leader_epoch"])
        assert p["error_code"] == NONE, p
        assert not p["records"], (spoof, p)
        assert p["high_watermark"] == hw, p
    assert state(zk, "victim") == st
    assert fetch(port, "victim", -1, st["leader_epoch"])["high_watermark"] == hw


def controlled_shutdown_needs_the_epoch(c, zk):
    ctl = json.loads(zk.get("/controller")[0])
    host, _, cport = ctl["endpoints"][0].rpartition("//")[2].rpartition(":")
    before = {t: state(zk, t) for t in ("victim", "after")}
    with kwire.Wire(int(cport), host=host or "127.0.0.1") as w:
        r = w.call(7, 3, {"broker_id": 2, "broker_epoch": -1})
        assert r["error_code"] == STALE_BROKER_EPOCH, r
        # names that cannot be topics only reach lookups there: unknown
        bad = [{"topic": n, "partitions": [0]} for n in ("../victim", "a b", "..")]
        r = w.call(43, 2, {"election_type": 1, "topic_partitions": bad,
                           "timeout_ms": 1000})
        errs = [p["error_code"] for t in r["replica_election_results"]
                for p in t["partition_result"]]
        assert errs == [UNKNOWN_TOPIC] * 3, r
        r = w.call(45, 0, {"timeout_ms": 1000, "topics": [
            {"name": "../victim", "partitions": [{"partition_index": 0,
                                                  "replicas": [1, 2]}]}]})
        errs = [p["error_code"] for t in r["responses"] for p in t["partitions"]]
        assert r["error_code"] == NONE and errs == [UNKNOWN_TOPIC], r
    assert {t: state(zk, t) for t in ("victim", "after")} == before


def pid_of(c, name):
    with open(os.path.join(c.dir, name + ".pid")) as f:
        return int(f.read().split()[0])


def slack_kb(c, name):
    """What AddressSanitizer's quarantine (freed memory held back, 256 MiB
    by default) adds to a process's resident memory in the sanitizer
    build; 0 in the plain build, where the bounds mean what they say."""
    with open("/proc/%d/maps" % pid_of(c, name)) as f:
        return 256 << 10 if "libasan" in f.read() else 0


def rss_kb(c, broker, name=None):
    pid = pid_of(c, name or "broker-%d" % broker)
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def controller_listener_bounds_a_client_that_never_reads(c, zk):
    """ApiVersions pipelined without reading: the kcontroller stops reading
    once 1 MiB of answers waits (it read all 28.5 MB and queued every
    answer before: 60 MB)."""
    ctl = json.loads(zk.get("/controller")[0])
    host, _, cport = ctl["endpoints"][0].rpartition("//")[2].rpartition(":")
    host = host or "127.0.0.1"
    before = rss_kb(c, 0, "controller-101")
    one = kwire.frame(kwire.request_bytes(18, 0, {}, 1))
    data = memoryview(one * 1500000)
    s = socket.create_connection((host, int(cport)), timeout=30)
    s.setblocking(False)
    sent, end = 0, time.monotonic() + 10
    while sent < len(data) and time.monotonic() < end:
        try:
            sent += s.send(data[sent:])
        except BlockingIOError:
            time.sleep(0.05)
    time.sleep(0.5)     # what it would still queue, it queues now
    grown = rss_kb(c, 0, "controller-101") - before
    s.close()
    print("0023: a client that never reads grew the kcontroller's RSS by %d KiB "
          "(%d of %d bytes sent)" % (grown, sent, len(data)))
    # it stopped reading: the rest waits in the client
    assert sent < len(data), "the kcontroller read all %d bytes" % sent
    # the sanitizer build's quarantine keeps what the requests it did read
    # freed: there the memory bound says nothing
    if not slack_kb(c, "controller-101"):
        assert grown < 16 << 10, "the kcontroller's RSS grew by %d KiB" % grown
    with kwire.Wire(int(cport), host=host) as w:
        assert w.call(18, 0)["error_code"] == NONE


def amplification_frame_is_cheap(c):
    port = c.broker_port(1)
    before = rss_kb(c, 1)
    body = struct.pack(">i", 10_000_000) + bytes(10 << 20)
    payload = kwire.header_v1(19, 4, 1) + body
    w = kwire.Wire(port)
    w.send_raw(payload)
    assert w.closed_by_peer(60), "the broker kept a connection whose request did not decode"
    w.close()
    grown = rss_kb(c, 1) - before
    assert grown < (64 << 10) + slack_kb(c, "broker-1"), "RSS grew by %d KiB" % grown
    # still serving
    with kwire.Wire(port) as w:
        r = w.call(3, 9, {"topics": None, "allow_auto_topic_creation": False})
    assert len(r["brokers"]) == 2, r
    print("0023: the 10 MB amplification frame grew the broker's RSS by %d KiB" % grown)


def failed_forward_owns_its_request(c):
    c.stop("controller", 101)
    port = c.broker_port(1)
    asked = [{"topic": "victim", "partitions": [0]},
             {"topic": "after", "partitions": [0, 1]},
             {"topic": "t" * 200, "partitions": [5]}]
    w = kwire.Wire(port)
    w.send(43, 2, {"election_type": 0, "topic_partitions": asked, "timeout_ms": 1000})
    # pipelined behind it: the read buffer moves on under the parked request
    w.send(3, 9, {"topics": None, "allow_auto_topic_creation": False})
    w.send(18, 3, {})
    r = w.recv()
    got = sorted((t["topic"], p["partition_id"], p["error_code"])
                 for t in r["replica_election_results"] for p in t["partition_result"])
    want = sorted((a["topic"], p, NOT_CONTROLLER) for a in asked for p in a["partitions"])
    assert got == want, (got, want)
    assert len(w.recv()["brokers"]) == 2
    w.recv()
    w.close()
    c.start("controller", 101)


def main():
    with tempfile.TemporaryDirectory() as work, Cluster(work, brokers=2, controllers=1) as c:
        admin = AdminClient({"bootstrap.servers": c.bootstrap})
        zk = c.zk()
        create(admin, ("victim", 1, 2))
        produce(c.bootstrap, "victim", 10)
        wait_for(lambda: len(state(zk, "victim")["isr"]) == 2, 60, "victim's ISR")
        names_never_reach_the_disk(c, zk)
        forged_epochs_are_not_adopted(c, zk, admin)
        spoofed_replicas_move_nothing(c, zk)
        controlled_shutdown_needs_the_epoch(c, zk)
        controller_listener_bounds_a_client_that_never_reads(c, zk)
        amplification_frame_is_cheap(c)
        failed_forward_owns_its_request(c)
    print("0023: OK")


if __name__ == "__main__":
    main()
