#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Consumer groups with real clients on a 3-broker kcluster.

- three confluent-kafka members split a 12-partition topic; one is
  SIGKILLed: its partitions move to the others after the session timeout,
  nothing is lost, and duplicates go back no further than its last commit;
- two groups read one topic independently; a kafka-python and a
  confluent-kafka member share a group;
- a consumer resumes at its committed offsets; the broker coordinating the
  group is SIGKILLed and the new coordinator serves the same offsets;
- librdkafka's cooperative-sticky assignor: the first member keeps the
  partitions it does not give up;
- a static member (group.instance.id) restarted within its session
  timeout gets its partitions back without a rebalance;
- lag (log end - committed) from OffsetFetch + ListOffsets; ListGroups,
  DescribeGroups and DeleteGroups through the clients' admin APIs,
  OffsetDelete on a plain socket (and refused for a live group's topic);
  produce to __consumer_offsets is refused;
- Kafka's group protocol errors on plain sockets (JoinGroup v5, SyncGroup
  v3, Heartbeat v3, LeaveGroup v3): MEMBER_ID_REQUIRED and the member-id
  handshake, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS
  while a static member joins, FENCED_INSTANCE_ID for a replaced static
  member, a batched LeaveGroup by member id and by instance id;
- offsets.retention.minutes on a one-broker cluster: a group that only
  commits loses its offsets (and the group) after the retention, with
  tombstones that survive a restart; a Stable group keeps the offsets of
  the topics it consumes.
"""

import collections
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, group_partition, led  # noqa: E402
import groupwire  # noqa: E402
from groupwire import (Wire, find_coordinator, heartbeat, join_req,  # noqa: E402
                       join_resp, leave, sync, sync_req, sync_resp)
from kbroker import wait_for  # noqa: E402

MEMBER = os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib", "groupmember.py")
SESSION_MS = 6000


class Member:
    """A groupmember.py process and what it reported."""

    def __init__(self, bootstrap, group, topic, name, **opts):
        self.name = name
        args = ["/usr/bin/python3", MEMBER, "--bootstrap", bootstrap,
                "--group", group, "--topic", topic]
        for k, v in opts.items():
            args += ["--" + k.replace("_", "-"), str(v)]
        self.lock = threading.Lock()
        self.owned = set()
        self.events = []        # (time, kind, data)
        self.msgs = []          # (partition, offset, value)
        self.commits = {}       # partition -> last committed offset
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            w = line.split()
            if not w:
                continue
            now = time.monotonic()
            with self.lock:
                if w[0] in ("assign", "revoke"):
                    ps = {int(x) for x in w[1].split(",")} if len(w) > 1 else set()
                    if w[0] == "assign":
                        self.owned |= ps
                    else:
                        self.owned -= ps
                    self.events.append((now, w[0], ps))
                elif w[0] == "msg":
                    self.msgs.append((int(w[1]), int(w[2]), w[3]))
                elif w[0] == "commit":
                    self.commits[int(w[1])] = int(w[2])
                else:
                    self.events.append((now, w[0], None))

    def current(self):
        with self.lock:
            return set(self.owned)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.reader.join(10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.reader.join(10)


def create(c, name, parts):
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    for f in a.create_topics([NewTopic(name, parts, 3)], operation_timeout=60).values():
        f.result()

    def ready():
        md = a.list_topics(name, timeout=10).topics.get(name)
        return md is not None and md.error is None and len(md.partitions) == parts and \
            all(p.leader >= 1 for p in md.partitions.values())
    wait_for(ready, 60, "leaders of " + name)


def produce(c, topic, n, prefix):
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": c.bootstrap, "acks": "all",
                  "linger.ms": 5})
    errs = []
    for i in range(n):
        p.produce(topic, key=str(i).encode(), value=("%s-%d" % (prefix, i)).encode(),
                  on_delivery=lambda e, m: e and errs.append(e))
        if i % 1000 == 0:
            p.poll(0)
    assert p.flush(60) == 0 and not errs, errs


def end_offsets(c, topic, parts):
    from confluent_kafka import Consumer, TopicPartition

    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "probe"})
    ends = {p: cons.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1]
            for p in range(parts)}
    cons.close()
    return ends


def committed(c, group, topic, parts):
    from confluent_kafka import Consumer, TopicPartition

    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": group})
    got = cons.committed([TopicPartition(topic, p) for p in range(parts)], timeout=30)
    cons.close()
    return {tp.partition: tp.offset for tp in got}


def wait_split(members, parts, what, timeout=90):
    """Every partition owned by exactly one member, and every member busy."""
    def ok():
        owned = [m.current() for m in members]
        every = collections.Counter(p for o in owned for p in o)
        return all(owned) and set(every) == set(range(parts)) and \
            all(n == 1 for n in every.values())
    wait_for(ok, timeout, what)


def consumed(members):
    seen = collections.defaultdict(list)
    for m in members:
        with m.lock:
            for p, o, _ in m.msgs:
                seen[(p, o)].append(m.name)
    return seen


def test_split_and_kill(c):
    """Three members, one SIGKILLed mid-way."""
    topic, parts, n = "split", 12, 6000
    create(c, topic, parts)
    produce(c, topic, n, "s")
    ends = end_offsets(c, topic, parts)
    assert sum(ends.values()) == n
    ms = [Member(c.bootstrap, "g-split", topic, "m%d" % i, delay_ms=2,
                 commit_every=40) for i in range(3)]
    wait_split(ms, parts, "12 partitions split over 3 members")
    sizes = sorted(len(m.current()) for m in ms)
    assert sizes == [4, 4, 4], sizes
    victim = ms[1]
    wait_for(lambda: len(victim.msgs) >= 300 and victim.commits, 60,
             "the victim to consume and commit")
    lost_parts = victim.current()
    victim.kill()
    t_kill = time.monotonic()
    rest = [ms[0], ms[2]]
    wait_split(rest, parts, "the victim's partitions to move", timeout=60)
    moved_after = time.monotonic() - t_kill
    print("partitions of the SIGKILLed member reassigned after %.1f s "
          "(session timeout %.1f s)" % (moved_after, SESSION_MS / 1000.0))
    assert moved_after < SESSION_MS / 1000.0 + 10, moved_after

    def all_read():
        seen = consumed(ms)
        return all((p, o) in seen for p in range(parts) for o in range(ends[p]))
    wait_for(all_read, 120, "every message to be consumed")
    seen = consumed(ms)
    dups = {k: v for k, v in seen.items() if len(v) > 1}
    last_commit = dict(victim.commits)
    for (p, o), who in dups.items():
        # only the victim's partitions, only at or after its last commit
        assert p in lost_parts, (p, o, who)
        assert o >= last_commit.get(p, 0), (p, o, last_commit.get(p), who)
    print("split: %d messages, %d read twice (the victim's uncommitted tail)"
          % (n, len(dups)))
    for m in rest:
        m.stop()


def test_groups_and_mixed_clients(c):
    topic, parts, n = "shared", 4, 400
    create(c, topic, parts)
    produce(c, topic, n, "x")
    solo = Member(c.bootstrap, "g-solo", topic, "solo")
    ck = Member(c.bootstrap, "g-mixed", topic, "ck", commit_every=10)
    kp = Member(c.bootstrap, "g-mixed", topic, "kp", client="kp", commit_every=10)
    wait_for(lambda: len(solo.msgs) >= n, 90, "the solo group to read everything")
    wait_split([ck, kp], parts, "kafka-python and confluent-kafka sharing a group")

    def mixed_done():
        seen = consumed([ck, kp])
        return len(seen) >= n
    wait_for(mixed_done, 90, "the mixed group to read everything")
    assert sorted(v for _, _, v in solo.msgs) == sorted("x-%d" % i for i in range(n))
    seen = consumed([ck, kp])
    assert len(seen) == n
    assert ck.msgs and kp.msgs, (len(ck.msgs), len(kp.msgs))
    print("mixed group: confluent-kafka read %d, kafka-python %d"
          % (len(ck.msgs), len(kp.msgs)))
    for m in (solo, ck, kp):
        m.stop()


def coordinator_of(c, group):
    """The leader of the group's __consumer_offsets partition, which
    FindCoordinator must name too."""
    from kafka.admin import KafkaAdminClient
    from confluent_kafka.admin import AdminClient

    md = AdminClient({"bootstrap.servers": c.bootstrap}).list_topics(
        "__consumer_offsets", timeout=30).topics["__consumer_offsets"]
    leader = md.partitions[group_partition(group, len(md.partitions))].leader
    a = KafkaAdminClient(bootstrap_servers=c.bootstrap)
    try:
        assert a._find_coordinator_ids([group]) == {group: leader}
    finally:
        a.close()
    return leader


def test_resume_and_coordinator_failover(c):
    from confluent_kafka import Consumer, TopicPartition

    topic, parts, group = "shared", 4, "g-resume"
    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": group,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False})
    cons.assign([TopicPartition(topic, p) for p in range(parts)])
    got = 0
    while got < 150:
        m = cons.poll(5)
        if m is not None and m.error() is None:
            got += 1
    cons.commit(asynchronous=False)
    before = {tp.partition: tp.offset for tp in
              cons.committed([TopicPartition(topic, p) for p in range(parts)], timeout=30)}
    cons.close()
    assert sum(o for o in before.values() if o >= 0) == 150, before

    # a new consumer of the group starts where the commits say (at the
    # beginning where nothing was committed)
    ends = end_offsets(c, topic, parts)
    want = {p: max(before[p], 0) for p in range(parts) if max(before[p], 0) < ends[p]}
    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": group,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False})
    cons.subscribe([topic])
    first = {}
    deadline = time.monotonic() + 60
    while len(first) < len(want) and time.monotonic() < deadline:
        m = cons.poll(1)
        if m is not None and m.error() is None:
            first.setdefault(m.partition(), m.offset())
    cons.close()
    assert first == want, (first, want, before)

    coord = coordinator_of(c, group)
    c.kill("broker", coord)
    t0 = time.monotonic()

    def served():
        try:
            return committed(c, group, topic, parts) == before
        except Exception:
            return False
    wait_for(served, 90, "the new coordinator to serve the committed offsets")
    print("coordinator broker %d SIGKILLed; the new one served the offsets "
          "after %.1f s" % (coord, time.monotonic() - t0))
    assert coordinator_of(c, group) != coord
    c.start("broker", coord)


def test_cooperative(c):
    topic, parts = "split", 12
    m1 = Member(c.bootstrap, "g-coop", topic, "c1", assignor="cooperative-sticky",
                delay_ms=20)
    wait_split([m1], parts, "the first cooperative member to own everything")
    m2 = Member(c.bootstrap, "g-coop", topic, "c2", assignor="cooperative-sticky",
                delay_ms=20)
    wait_split([m1, m2], parts, "the partitions to be shared")
    kept = m1.current()
    with m1.lock:
        revoked = set()
        for _, kind, ps in m1.events:
            if kind == "revoke":
                revoked |= ps
    assert len(kept) == 6 and len(m2.current()) == 6, (kept, m2.current())
    # incremental: only what moved was revoked, never the whole set
    assert revoked == set(range(parts)) - kept, (revoked, kept)
    print("cooperative-sticky: member 1 gave up %s and kept %s"
          % (sorted(revoked), sorted(kept)))
    m1.stop()
    m2.stop()


def test_static_member(c):
    topic, parts = "split", 12
    opts = dict(session_ms=30000, delay_ms=20)
    s1 = Member(c.bootstrap, "g-static", topic, "s1", instance_id="i1", **opts)
    s2 = Member(c.bootstrap, "g-static", topic, "s2", instance_id="i2", **opts)
    wait_split([s1, s2], parts, "two static members")
    # settle: no rebalance under way
    time.sleep(2)
    mine = s1.current()
    n_events = len(s2.events)
    s1.kill()
    s1b = Member(c.bootstrap, "g-static", topic, "s1b", instance_id="i1", **opts)
    wait_for(lambda: s1b.current() == mine, 60, "the restarted static member's partitions")
    time.sleep(3)
    with s2.lock:
        later = [e for e in s2.events[n_events:] if e[1] in ("assign", "revoke")]
    assert not later, later
    print("static member restarted: got %s back, the other member saw no rebalance"
          % sorted(mine))
    # a live consumer group's subscribed topics keep their offsets
    assert offset_delete(c, "g-static", topic, [0]) == (0, {0: 86})  # GROUP_SUBSCRIBED_TO_TOPIC
    s1b.stop()
    s2.stop()


def offset_delete(c, group, topic, parts):
    """OffsetDelete v0 to the group's coordinator, on a plain socket (no
    client of ours exposes it): (group error, {partition: error})."""
    with Wire(c.broker_port(coordinator_of(c, group))) as w:
        return groupwire.offset_delete(w, group, topic, parts)


def test_admin_and_lag(c):
    from kafka.admin import KafkaAdminClient
    from kafka import KafkaProducer
    from kafka.errors import KafkaError
    from confluent_kafka import Consumer, TopicPartition
    from confluent_kafka.admin import AdminClient

    topic, parts, group = "shared", 4, "g-lag"
    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": group,
                     "enable.auto.commit": False})
    commits = [TopicPartition(topic, p, 10 * (p + 1)) for p in range(parts)]
    cons.commit(offsets=commits, asynchronous=False)
    cons.close()
    ends = end_offsets(c, topic, parts)
    got = committed(c, group, topic, parts)
    lag = {p: ends[p] - got[p] for p in range(parts)}
    assert got == {p: 10 * (p + 1) for p in range(parts)}, got
    assert all(lag[p] == ends[p] - 10 * (p + 1) for p in range(parts)), lag
    print("lag of %s: %s" % (group, lag))

    a = KafkaAdminClient(bootstrap_servers=c.bootstrap)
    listed = {g for g, _ in a.list_consumer_groups()}
    assert {"g-lag", "g-resume", "g-split"} <= listed, listed
    legacy = {g.id for g in AdminClient({"bootstrap.servers": c.bootstrap})
              .list_groups(timeout=30)}
    assert "g-lag" in legacy, legacy
    desc = a.describe_consumer_groups(["g-lag"])[0]
    assert desc.state == "Empty", desc
    offs = a.list_consumer_group_offsets("g-lag")
    assert {tp.partition: om.offset for tp, om in offs.items()} == got, offs
    # OffsetDelete on an Empty group: those offsets go, the others stay
    assert offset_delete(c, "g-lag", topic, [0, 1]) == (0, {0: 0, 1: 0})
    assert committed(c, group, topic, parts) == {0: -1001, 1: -1001, 2: 30, 3: 40}
    assert offset_delete(c, "no-such-group", topic, [0])[0] == 69  # GROUP_ID_NOT_FOUND
    res = dict(a.delete_consumer_groups(["g-lag", "no-such-group"]))
    assert res["g-lag"].errno == 0 and res["no-such-group"].errno == 69, res
    assert committed(c, group, topic, parts) == {p: -1001 for p in range(parts)}
    a.close()

    # only the coordinator writes the offsets topic
    p = KafkaProducer(bootstrap_servers=c.bootstrap, retries=0)
    try:
        p.send("__consumer_offsets", b"x").get(timeout=30)
        raise AssertionError("produce to __consumer_offsets was accepted")
    except KafkaError as e:
        assert "InvalidTopic" in type(e).__name__ or "InvalidTopic" in str(e), e
    p.close()


def test_expiry():
    from confluent_kafka import Consumer, TopicPartition
    from kafka.admin import KafkaAdminClient

    with tempfile.TemporaryDirectory(prefix="skald-0007-expiry-") as work, \
            Cluster(work, brokers=1, controllers=1,
                 broker_set={"offsets.retention.minutes": "1",
                             "offsets.retention.check.interval.ms": "500",
                             "offsets.topic.num.partitions": "5",
                             "group.initial.rebalance.delay.ms": "0"},
                 fail_tail=60) as c:
        test_protocol_errors(c)
        create1(c, "ex", 2)
        produce(c, "ex", 100, "e")
        cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "g-exp",
                         "enable.auto.commit": False})
        cons.commit(offsets=[TopicPartition("ex", 0, 7), TopicPartition("ex", 1, 3)],
                    asynchronous=False)
        cons.close()
        t0 = time.monotonic()
        live = Member(c.bootstrap, "g-live", "ex", "live", commit_every=5)
        wait_for(lambda: live.commits and len(live.msgs) >= 100, 60,
                 "the live group to read and commit")
        assert committed(c, "g-exp", "ex", 2) == {0: 7, 1: 3}

        def expired():
            return committed(c, "g-exp", "ex", 2) == {0: -1001, 1: -1001}
        wait_for(expired, 150, "the offsets of g-exp to expire")
        print("offsets of a commit-only group expired after %.0f s "
              "(offsets.retention.minutes=1)" % (time.monotonic() - t0))
        a = KafkaAdminClient(bootstrap_servers=c.bootstrap)
        wait_for(lambda: "g-exp" not in {g for g, _ in a.list_consumer_groups()},
                 30, "g-exp to be removed")
        a.close()
        kept = committed(c, "g-live", "ex", 2)
        assert all(o > 0 for o in kept.values()), kept
        live.stop()
        # the tombstones are in the log: a restart loads nothing back
        c.kill("broker", 1)
        c.start("broker", 1)
        wait_for(lambda: _safe(lambda: committed(c, "g-exp", "ex", 2)) ==
                 {0: -1001, 1: -1001}, 90, "the restarted broker to serve g-exp")
        assert committed(c, "g-live", "ex", 2) == kept


def test_protocol_errors(c):
    group = "g-wire"
    # the coordinator (FindCoordinator v1 until __consumer_offsets is led)
    w = Wire(c.broker_port(1))
    wait_for(lambda: find_coordinator(w, group), 60, "the group's coordinator")

    # member-id handshake: an unknown member without an instance id
    w.send(11, 5, join_req(group, ""))
    j = join_resp(w.recv())
    assert j["error"] == 79 and j["member"], j       # MEMBER_ID_REQUIRED
    a = j["member"]
    w.send(11, 5, join_req(group, a))
    j = join_resp(w.recv())
    assert j["error"] == 0 and j["generation"] == 1 and j["leader"] == a, j
    assert j["members"] == [(a, None, b"meta-" + a.encode())], j
    assert sync(w, group, 1, a, [(a, b"assignment-a")]) == (0, b"assignment-a")
    assert heartbeat(w, group, 1, a) == 0
    assert heartbeat(w, group, 2, a) == 22                  # ILLEGAL_GENERATION
    assert heartbeat(w, group, 1, "nobody") == 25           # UNKNOWN_MEMBER_ID

    # a static member joins: no handshake; the group rebalances, and the
    # member already in it learns so from its heartbeat
    w2 = Wire(c.broker_port(1))
    w2.send(11, 5, join_req(group, "", "static-b"))
    wait_for(lambda: heartbeat(w, group, 1, a) == 27, 30,   # REBALANCE_IN_PROGRESS
             "REBALANCE_IN_PROGRESS for the member already in")
    w.send(11, 5, join_req(group, a))
    ja, jb = join_resp(w.recv()), join_resp(w2.recv())
    assert ja["error"] == 0 and jb["error"] == 0, (ja, jb)
    assert ja["generation"] == jb["generation"] == 2, (ja, jb)
    b = jb["member"]
    assert ja["leader"] == jb["leader"] in (a, b), (ja, jb)
    lead = ja["leader"]
    leader_view = ja if lead == a else jb
    assert {(m, i) for m, i, _ in leader_view["members"]} == \
        {(a, None), (b, "static-b")}, leader_view
    conns = {a: (w, None), b: (w2, "static-b")}
    other = b if lead == a else a
    (lw, linst), (ow, oinst) = conns[lead], conns[other]
    assignment = {a: b"pa", b: b"pb"}
    # the follower's SyncGroup waits for the leader's assignment
    ow.send(14, 3, sync_req(group, 2, other, [], oinst))
    assert sync(lw, group, 2, lead, sorted(assignment.items()), linst) == \
        (0, assignment[lead])
    assert sync_resp(ow.recv()) == (0, assignment[other])

    # the static member restarts with a new connection and no member id:
    # it takes its old place (same assignment, no rebalance) and the old
    # member id is fenced
    w3 = Wire(c.broker_port(1))
    w3.send(11, 5, join_req(group, "", "static-b"))
    j3 = join_resp(w3.recv())
    assert j3["error"] == 0 and j3["generation"] == 2 and j3["member"] != b, j3
    assert heartbeat(w2, group, 2, b, "static-b") == 82        # FENCED_INSTANCE_ID
    assert heartbeat(w, group, 2, a) == 0                      # no rebalance
    assert heartbeat(w3, group, 2, j3["member"], "static-b") == 0

    # one LeaveGroup for both: by member id, and by instance id; an
    # unknown instance gets its own error
    top, per = leave(w, group, [(a, None), ("", "static-b"), ("", "static-x")])
    assert top == 0, top
    assert [e for _, _, e in per] == [0, 0, 25], per
    assert heartbeat(w3, group, 2, j3["member"], "static-b") == 25
    from kafka.admin import KafkaAdminClient
    adm = KafkaAdminClient(bootstrap_servers=c.bootstrap)
    # Empty, or already Dead: an Empty group without offsets goes at the
    # next expiry check (every 500 ms on this cluster), as in Kafka
    wait_for(lambda: adm.describe_consumer_groups([group])[0].state in ("Empty", "Dead"),
             30, "the group to be Empty")
    adm.close()
    for x in (w, w2, w3):
        x.close()
    print("group protocol: MEMBER_ID_REQUIRED, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, "
          "REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID and a batched LeaveGroup as Kafka")


def _safe(f):
    try:
        return f()
    except Exception:
        return None


def create1(c, name, parts):
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    for f in a.create_topics([NewTopic(name, parts, 1)], operation_timeout=60).values():
        f.result()
    wait_for(lambda: led(a, name, parts), 60, "leaders of " + name)


def main():
    test_expiry()
    with tempfile.TemporaryDirectory(prefix="skald-0007-") as work, \
            Cluster(work, brokers=3, fail_tail=60) as c:
        test_split_and_kill(c)
        test_groups_and_mixed_clients(c)
        test_resume_and_coordinator_failover(c)
        test_cooperative(c)
        test_static_member(c)
        test_admin_and_lag(c)
    print("ok")


if __name__ == "__main__":
    main()
