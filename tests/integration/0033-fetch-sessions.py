#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""KIP-227 incremental fetch sessions and num.replica.fetchers on a
3-broker kcluster with max.incremental.fetch.session.cache.slots=5 and
num.replica.fetchers=2:

- skald's own replica fetchers open one session per fetcher thread and
  leader: a leader holds, from each follower, one session per fetcher
  thread its partitions hash to (Kafka's abs(31 * hashCode(topic) +
  partition) % 2), and the partitions they cache are exactly the
  partitions it leads times their followers, also after leaders moved
  (partitions added to and forgotten from the sessions as they came and
  went);
- a scripted consumer on a plain socket (Fetch v12): a full fetch with
  epoch 0 opens a session and answers every partition; an incremental
  fetch naming nothing answers nothing until a partition gets records, and
  then only that one; a repeated epoch is INVALID_FETCH_SESSION_EPOCH, an
  unknown id FETCH_SESSION_ID_NOT_FOUND; a forgotten partition is no longer
  read; once consumer sessions fill the cache, another finds it full (a
  consumer may not evict a fresh session) and gets id 0, and after epoch
  -1 closed the first one it gets a session;
- acks=all writes (confluent-kafka, RF 3, min.insync.replicas 2) through
  SIGKILLs of leaders, followers fetching through their sessions with two
  fetcher threads each: every acknowledged record is read back.
"""

import json
import os
import struct
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

import kwire  # noqa: E402
import wire  # noqa: E402
from cluster import Cluster, Writer, read_values, run_steps  # noqa: E402
from kbroker import wait_for  # noqa: E402

SESSION_NOT_FOUND = 70
INVALID_EPOCH = 71
FETCH_V = 12


def state(zk, topic, part):
    try:
        data, _ = zk.get("/brokers/topics/%s/partitions/%d/state" % (topic, part))
    except Exception:
        return {"leader": -1, "isr": []}
    return json.loads(data)


def create(c, name, parts, rf, replicas=None, config=None):
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    t = (NewTopic(name, len(replicas), replica_assignment=replicas, config=config or {})
         if replicas else NewTopic(name, parts, rf, config=config or {}))
    for f in a.create_topics([t], operation_timeout=60).values():
        f.result()
    n = len(replicas[0]) if replicas else rf
    wait_for(lambda: all(state(c.zkc, name, p)["leader"] >= 1 and
                         len(state(c.zkc, name, p)["isr"]) == n
                         for p in range(parts)), 120, "leaders of " + name)


def metric(c, broker, name):
    with urllib.request.urlopen(c.metrics[("broker", broker)], timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError("%s not served by broker %d" % (name, broker))


def sessions(c, b):
    return (int(metric(c, b, "kafka_server_fetchsessioncache_numincrementalfetchsessions")),
            int(metric(c, b, "kafka_server_fetchsessioncache_numincrementalfetchpartitionscached")))


LAST = [None]     # what follower_sessions_match saw last
FETCHERS = 2
SLOTS = 5


def fetcher_index(topic, part, n=FETCHERS):
    """Kafka's AbstractFetcherManager.getFetcherId."""
    h = 0
    for ch in topic.encode():
        h = (31 * h + ch) & 0xffffffff
    v = (31 * h + part) & 0xffffffff
    v = v - (1 << 32) if v >= 1 << 31 else v
    return (0 if v == -(1 << 31) else abs(v)) % n


def follower_sessions_match(c, parts, brokers=(1, 2, 3)):
    """Each of brokers caches, from each follower, one session per fetcher
    thread the partitions it follows there hash to, holding exactly those
    partitions (every replicated topic: __consumer_offsets too, once a
    client made it; all in sync); None until so.  (A broker whose follower
    restarted keeps the follower's old sessions until they are evicted, as
    Kafka does: only brokers that started after their followers' last
    restart can be held to this.)"""
    led = {1: 0, 2: 0, 3: 0}
    threads = {1: set(), 2: set(), 3: set()}
    cached = {1: 0, 2: 0, 3: 0}
    for topic in c.zkc.get_children("/brokers/topics"):
        assign = json.loads(c.zkc.get("/brokers/topics/" + topic)[0])["partitions"]
        for p, replicas in assign.items():
            st = state(c.zkc, topic, int(p))
            if st["leader"] < 1 or sorted(st["isr"]) != sorted(replicas):
                return None
            if topic == "r":
                led[st["leader"]] += 1
            for f in replicas:
                if f != st["leader"]:
                    threads[st["leader"]].add((f, fetcher_index(topic, int(p))))
                    cached[st["leader"]] += 1
    got = {b: sessions(c, b) for b in brokers}
    want = {b: (len(threads[b]), cached[b]) for b in brokers}
    LAST[0] = "sessions, partitions cached %s, wanted %s (leaders of r %s)" % (got, want, led)
    return (got, led) if got == want else None


def records_in(blob):
    """The number of records in v2 batches (a partial last batch left out)."""
    n, pos = 0, 0
    while len(blob) - pos >= 61:
        size = struct.unpack(">i", blob[pos + 8:pos + 12])[0]
        if len(blob) - pos - 12 < size:
            break
        n += struct.unpack(">i", blob[pos + 57:pos + 61])[0]
        pos += 12 + size
    return n


def fetch(w, sid, epoch, parts, forget=(), max_wait=300):
    """A consumer Fetch v12 on session sid/epoch naming parts
    [(partition, offset)] of topic s and forgetting partitions forget."""
    return w.call(1, FETCH_V, {
        "replica_id": -1, "max_wait_ms": max_wait, "min_bytes": 1,
        "max_bytes": 1 << 20, "isolation_level": 0,
        "session_id": sid, "session_epoch": epoch,
        "topics": [{"topic": "s", "partitions": [
            {"partition": p, "current_leader_epoch": -1, "fetch_offset": o,
             "last_fetched_epoch": -1, "log_start_offset": -1,
             "partition_max_bytes": 1 << 20} for p, o in parts]}] if parts else [],
        "forgotten_topics_data": [{"topic": "s", "partitions": list(forget)}]
        if forget else [],
        "rack_id": ""})


def answered(r):
    return {p["partition_index"]: p for t in r["responses"] for p in t["partitions"]}


def produce(port, part, n, tag):
    now = int(time.time() * 1000)
    b = wire.batch([wire.record(i, 0, None, b"%s-%d" % (tag, i)) for i in range(n)], now, now)
    p = wire.produce(port, 8, "s", part, b, acks=1)
    assert p["error_code"] == 0, p


def replica_sessions(c):
    create(c, "r", 6, 3, config={"min.insync.replicas": "2"})
    got = wait_for(lambda: follower_sessions_match(c, 6), 120, "follower sessions")
    # broker 1 leads some: the consumer steps count on its two sessions
    assert got[1][1] > 0, got
    print("sessions, partitions cached per broker: %s (leaders: %s)" % got)


def consumer_sessions(c):
    create(c, "s", 3, None, replicas=[[1], [1], [1]])
    port = c.broker_port(1)
    before, _ = sessions(c, 1)
    with kwire.Wire(port) as w:
        # a full fetch opening a session: every partition answered
        r = fetch(w, 0, 0, [(0, 0), (1, 0), (2, 0)], max_wait=0)
        assert r["error_code"] == 0 and r["session_id"] != 0, r
        sid = r["session_id"]
        assert sorted(answered(r)) == [0, 1, 2], r
        assert sessions(c, 1)[0] == before + 1
        # nothing new: nothing answered (after max_wait)
        r = fetch(w, sid, 1, [])
        assert r["error_code"] == 0 and r["session_id"] == sid and answered(r) == {}, r
        # a repeated epoch, an unknown session
        r = fetch(w, sid, 1, [])
        assert r["error_code"] == INVALID_EPOCH and r["responses"] == [], r
        r = fetch(w, sid ^ 0x5a5a, 2, [])
        assert r["error_code"] == SESSION_NOT_FOUND, r
        # records on partition 1: only it, with them
        produce(port, 1, 5, b"one")
        r = fetch(w, sid, 2, [], max_wait=5000)
        got = answered(r)
        assert list(got) == [1] and got[1]["high_watermark"] == 5, r
        assert records_in(got[1]["records"]) == 5, got[1]
        # move partition 1 past them: nothing again
        r = fetch(w, sid, 3, [(1, 5)])
        assert answered(r) == {}, r
        # forget partition 0: its records are not read
        r = fetch(w, sid, 4, [], forget=[0])
        assert answered(r) == {}, r
        produce(port, 0, 3, b"zero")
        r = fetch(w, sid, 5, [], max_wait=1000)
        assert answered(r) == {}, r
        # partition 2 gets records: it comes, partition 0 does not
        produce(port, 2, 2, b"two")
        r = fetch(w, sid, 6, [], max_wait=5000)
        got = answered(r)
        assert list(got) == [2] and records_in(got[2]["records"]) == 2, r
        # fill the cache with consumer sessions: then a new one cannot
        # evict a fresh one
        others = []
        while sessions(c, 1)[0] < SLOTS:
            wo = kwire.Wire(port)
            others.append(wo)
            r2 = fetch(wo, 0, 0, [(1, 0)], max_wait=0)
            assert r2["session_id"] != 0, r2
        with kwire.Wire(port) as w2:
            r2 = fetch(w2, 0, 0, [(0, 0)], max_wait=0)
            assert r2["error_code"] == 0 and r2["session_id"] == 0, r2
            assert answered(r2)[0]["high_watermark"] == 3, r2
            # epoch -1 closes ours (a sessionless full fetch)
            r = fetch(w, sid, -1, [(0, 0)], max_wait=0)
            assert r["error_code"] == 0 and r["session_id"] == 0, r
            r = fetch(w, sid, 7, [])
            assert r["error_code"] == SESSION_NOT_FOUND, r
            r2 = fetch(w2, 0, 0, [(0, 0)], max_wait=0)
            assert r2["error_code"] == 0 and r2["session_id"] != 0, r2
            # the follower sessions stayed
            assert sessions(c, 1)[0] == SLOTS, sessions(c, 1)
            r2 = fetch(w2, r2["session_id"], -1, [], max_wait=0)
        for wo in others:
            wo.close()
    print("consumer session %d: epochs 0-6 as KIP-227 says" % sid)


def preferred_leads(c, p):
    data, _ = c.zkc.get("/brokers/topics/r")
    first = json.loads(data)["partitions"][str(p)][0]
    st = state(c.zkc, "r", p)
    return st["leader"] == first and len(st["isr"]) == 3


def diagnose(c):
    """What each leader says of each partition, for a stuck writer."""
    for p in range(6):
        st = state(c.zkc, "r", p)
        try:
            d = wire.fetch(c.broker_port(st["leader"]), 11, "r", p, 0, max_bytes=1)
            print("r-%d: %s; leader's high watermark %s, error %s" % (
                p, st, d["high_watermark"], d["error_code"]))
        except Exception as e:
            print("r-%d: %s; %s" % (p, st, e))
    for b in (1, 2, 3):
        try:
            print("broker %d sessions, partitions: %s" % (b, sessions(c, b)))
        except Exception as e:
            print("broker %d: %s" % (b, e))


def leader_kills(c):
    wr = Writer(c, "r")
    leader = None
    try:
        for rnd in range(3):
            wr.progress(500, "writes before round %d" % rnd, timeout=180)
            leader = state(c.zkc, "r", rnd % 6)["leader"]
            c.kill("broker", leader)
            wr.progress(300, "writes without broker %d" % leader, timeout=180)
            c.start("broker", leader)
            wait_for(lambda: all(len(state(c.zkc, "r", p)["isr"]) == 3 for p in range(6)),
                     180, "ISRs full after broker %d came back" % leader)
        wr.progress(300, "writes after the rounds", timeout=180)
    finally:
        try:
            wr.finish()
        except AssertionError:
            diagnose(c)
            raise
    assert not wr.failed, wr.failed[:5]
    # the auto rebalance settles first (leaders moving under the reader
    # answer NOT_LEADER_OR_FOLLOWER to its watermark queries)
    wait_for(lambda: all(preferred_leads(c, p) for p in range(6)), 180,
             "every partition led by its preferred replica")
    got = read_values(c.bootstrap, "r", 6, ints_only=True)
    missing = wr.acked - set(got)
    assert not missing, "%d acknowledged records lost: %s" % (len(missing), sorted(missing)[:10])
    # the last broker killed came back with an empty cache; the auto
    # rebalance gives it its preferred leaderships back, and its followers'
    # sessions follow: partitions added as leadership arrived
    try:
        match = wait_for(lambda: (lambda m: m if m and m[1][leader] > 0 else None)(
            follower_sessions_match(c, 6, [leader])), 240,
            "broker %d's follower sessions after the kills" % leader)
    except AssertionError:
        print("last seen: %s" % LAST[0])
        raise
    print("%d acknowledged records all read back; sessions now %s" % (len(wr.acked), match))


def main():
    import tempfile

    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd, \
            Cluster(wd, brokers=3, controllers=1,
                    broker_set={"max.incremental.fetch.session.cache.slots": str(SLOTS),
                                "num.replica.fetchers": str(FETCHERS),
                                "offsets.topic.num.partitions": "3",
                                "zookeeper.session.timeout.ms": "10000"},
                    controller_set={"leader.imbalance.check.interval.seconds": "5"},
                    fail_tail=200) as c:
        c.zkc = c.zk()
        run_steps([replica_sessions, consumer_sessions, leader_kills], c)
    print("ok")


if __name__ == "__main__":
    main()
