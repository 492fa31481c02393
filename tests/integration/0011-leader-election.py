#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""kleader-election against a real 3-broker kcluster whose controller does
not rebalance leadership by itself (auto.leader.rebalance.enable=false):

- preferred elections: a topic with preferred leaders spread over the
  three brokers; a SIGKILLed and restarted broker leaves its partitions
  led by others (ZooKeeper's state znodes say so and stay so);
  --topic/--partition and --path-to-json-file elect exactly the named
  partitions, --all-topic-partitions every displaced one: each leader is
  the preferred replica again in ZooKeeper and in every broker's
  Metadata; a second run elects nothing and reports "Valid replica
  already elected" with exit 0; --json says the same;
- unclean elections: an RF=2 partition whose follower was killed (out of
  the ISR), written to with acks=1, then lost its leader, is offline with
  the old follower back; PREFERRED fails for it (exit 1, the reason per
  partition), UNCLEAN elects the live out-of-sync replica (leader and ISR
  in ZooKeeper), after which it serves reads of what that replica had;
  UNCLEAN on a partition with a leader needs no election;
- --admin.config settings apply (unknown keys named, a security
  protocol other than PLAINTEXT refused); usage errors exit 2, a
  malformed election file and an unknown partition exit 1.
"""

import json
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, run_steps  # noqa: E402
from kbroker import wait_for  # noqa: E402
from ktool import tool  # noqa: E402

TOPIC = "pref"
# Preferred leaders 1,2,3,1,2,3; every broker follows every partition.
ASSIGN = "1:2:3,2:3:1,3:1:2,1:3:2,2:1:3,3:2:1"
PREFERRED = [1, 2, 3, 1, 2, 3]


def elect(c, *args, rc=0):
    return tool("kleader-election", *args, rc=rc, bootstrap=c.bootstrap)


def state(zk, topic, p):
    data, _ = zk.get("/brokers/topics/%s/partitions/%d/state" % (topic, p))
    return json.loads(data)


def leaders(zk, topic=TOPIC, n=6):
    return [state(zk, topic, p)["leader"] for p in range(n)]


def md_leaders_everywhere(c, topic, want):
    """Every broker's Metadata names these leaders (list by partition)."""
    from confluent_kafka.admin import AdminClient

    def ok():
        for i in range(1, c.nbrokers + 1):
            a = AdminClient({"bootstrap.servers": "127.0.0.1:%d" % c.broker_port(i)})
            try:
                md = a.list_topics(topic, timeout=10).topics[topic]
            except Exception:
                return False
            if [md.partitions[p].leader for p in range(len(want))] != want:
                return False
        return True
    wait_for(ok, 60, "every broker's Metadata to name leaders %s" % want)


def listed(line_prefix, out):
    """The partitions of the output line starting with line_prefix."""
    for line in out.splitlines():
        if line.startswith(line_prefix):
            return line[len(line_prefix):].split(", ")
    return []


def bounce(c, zk, broker):
    """SIGKILL a broker, wait until its partitions are led by others, start
    it again and wait until it is back in every ISR (so it can lead)."""
    mine = [p for p in range(6) if PREFERRED[p] == broker]
    c.kill("broker", broker)
    wait_for(lambda: all(state(zk, TOPIC, p)["leader"] not in (broker, -1)
                         for p in mine), 60,
             "partitions of broker %d led by others" % broker)
    c.start("broker", broker)
    wait_for(lambda: all(broker in state(zk, TOPIC, p)["isr"] for p in range(6)),
             60, "broker %d back in every ISR" % broker)
    # Nothing moves the leadership back by itself.
    now = leaders(zk)
    for p in mine:
        assert now[p] != broker, (p, now)
    return mine


def check_preferred(c, zk):
    tool("ktopics", "--create", "--topic", TOPIC, "--replica-assignment", ASSIGN,
         bootstrap=c.bootstrap)
    wait_for(lambda: zk.exists("/brokers/topics/%s/partitions/5/state" % TOPIC) and
             leaders(zk) == PREFERRED, 60, "preferred leaders at creation")

    moved = bounce(c, zk, 1)                          # partitions 0 and 3
    # One partition by name.
    r = elect(c, "--election-type", "PREFERRED", "--topic", TOPIC,
              "--partition", "0")
    assert r.stdout == ("Successfully completed leader election (PREFERRED) "
                        "for partitions pref-0\n"), r.stdout
    assert state(zk, TOPIC, 0)["leader"] == 1
    assert state(zk, TOPIC, 3)["leader"] != 1, "pref-3 was not named"
    # A file naming pref-3 and pref-1 (which the preferred replica leads).
    path = os.path.join(c.dir, "election.json")
    with open(path, "w") as f:
        json.dump({"partitions": [{"topic": TOPIC, "partition": 3},
                                  {"topic": TOPIC, "partition": 1}]}, f)
    r = elect(c, "--election-type", "preferred", "--path-to-json-file", path)
    assert listed("Successfully completed leader election (PREFERRED) for "
                  "partitions ", r.stdout) == ["pref-3"], r.stdout
    assert listed("Valid replica already elected for partitions ",
                  r.stdout) == ["pref-1"], r.stdout
    assert leaders(zk) == PREFERRED, leaders(zk)
    print("ok: --topic/--partition and --path-to-json-file elected %s" %
          ["pref-%d" % p for p in moved])

    # Every partition: only the displaced ones change.
    moved = bounce(c, zk, 2)                          # partitions 1 and 4
    r = elect(c, "--election-type", "Preferred", "--all-topic-partitions")
    got = listed("Successfully completed leader election (PREFERRED) for "
                 "partitions ", r.stdout)
    assert got == ["pref-%d" % p for p in moved], r.stdout
    noop = listed("Valid replica already elected for partitions ", r.stdout)
    assert {"pref-0", "pref-2", "pref-3", "pref-5"} <= set(noop), r.stdout
    assert not set(got) & set(noop)
    assert leaders(zk) == PREFERRED, leaders(zk)
    md_leaders_everywhere(c, TOPIC, PREFERRED)
    # Again: nothing to do, exit 0.
    r = elect(c, "--election-type", "PREFERRED", "--all-topic-partitions")
    assert "Successfully" not in r.stdout, r.stdout
    noop = listed("Valid replica already elected for partitions ", r.stdout)
    assert set("pref-%d" % p for p in range(6)) <= set(noop), r.stdout
    assert noop == sorted(noop, key=lambda s: (s.rsplit("-", 1)[0],
                                               int(s.rsplit("-", 1)[1])))
    js = json.loads(elect(c, "--election-type", "PREFERRED", "--topic", TOPIC,
                          "--partition", "2", "--json").stdout)
    assert js == {"election_type": "PREFERRED", "succeeded": [],
                  "not_needed": [{"topic": TOPIC, "partition": 2}],
                  "failed": []}, js
    print("ok: --all-topic-partitions restored every preferred leader; a "
          "second run had nothing to do")


def check_unclean(c, zk):
    from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

    tool("ktopics", "--create", "--topic", "unc", "--replica-assignment", "2:3",
         bootstrap=c.bootstrap)
    wait_for(lambda: zk.exists("/brokers/topics/unc/partitions/0/state") and
             state(zk, "unc", 0)["isr"] == [2, 3], 60, "unc's ISR 2,3")

    def produce(acks, values):
        acked = []
        p = Producer({"bootstrap.servers": c.bootstrap, "acks": acks,
                      "message.timeout.ms": 60000})
        for v in values:
            p.produce("unc", value=str(v).encode(),
                      on_delivery=lambda e, m: acked.append(e))
        assert p.flush(90) == 0
        assert acked == [None] * len(values), acked
    produce("all", range(0, 20))          # on both replicas
    c.kill("broker", 3)                   # the follower
    wait_for(lambda: state(zk, "unc", 0)["isr"] == [2], 60,
             "follower 3 out of unc's ISR")
    produce("1", range(20, 30))           # on the leader only
    c.kill("broker", 2)                   # the leader: no in-sync replica left
    wait_for(lambda: state(zk, "unc", 0)["leader"] == -1, 60, "unc offline")
    c.start("broker", 3)
    wait_for(lambda: "3" in zk.get_children("/brokers/ids"), 60,
             "broker 3 registered")
    # The controller knows broker 3 is back (it leads its share of pref)
    # and still leaves unc offline: unclean elections are off.
    wait_for(lambda: 3 in state(zk, TOPIC, 5)["isr"], 60, "broker 3 in pref's ISRs")
    st = state(zk, "unc", 0)
    assert st["leader"] == -1 and st["isr"] == [2], st

    r = elect(c, "--election-type", "PREFERRED", "--topic", "unc",
              "--partition", "0", rc=1)
    assert r.stdout.startswith("Error completing leader election (PREFERRED) "
                               "for partition: unc-0: "), r.stdout
    assert "could not be elected" in r.stderr, r.stderr
    assert state(zk, "unc", 0)["leader"] == -1
    r = elect(c, "--election-type", "unclean", "--topic", "unc",
              "--partition", "0")
    assert r.stdout == ("Successfully completed leader election (UNCLEAN) "
                        "for partitions unc-0\n"), r.stdout
    st = state(zk, "unc", 0)
    assert st["leader"] == 3 and st["isr"] == [3], st
    # What broker 3 had (the acks=all records) is readable again.
    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "unused",
                     "enable.auto.commit": False})
    tp = TopicPartition("unc", 0)
    def watermarks():
        # until every broker's metadata has the new leader, the client may
        # still see the partition as unknown
        try:
            return cons.get_watermark_offsets(tp, timeout=10)
        except KafkaException:
            return None
    lo, hi = wait_for(watermarks, 60, "watermarks of unc-0")
    assert (lo, hi) == (0, 20), (lo, hi)
    cons.assign([TopicPartition("unc", 0, 0)])
    got = []
    deadline = time.monotonic() + 60
    while len(got) < 20 and time.monotonic() < deadline:
        m = cons.poll(1.0)
        if m is not None and not m.error():
            got.append(int(m.value()))
    cons.close()
    assert got == list(range(20)), got
    # A partition with a leader needs no unclean election.
    r = elect(c, "--election-type", "UNCLEAN", "--topic", TOPIC, "--partition", "0")
    assert r.stdout == "Valid replica already elected for partitions pref-0\n", r.stdout
    c.start("broker", 2)
    wait_for(lambda: "2" in zk.get_children("/brokers/ids"), 60,
             "broker 2 registered again")
    print("ok: PREFERRED refused for offline unc-0, UNCLEAN elected its "
          "out-of-sync replica 3 (20 of 30 records survive, as acks=1 allows)")


def check_errors(c):
    for args, what in (
            (["--all-topic-partitions"], "--election-type"),
            (["--election-type", "fair", "--all-topic-partitions"], "PREFERRED or UNCLEAN"),
            (["--election-type", "preferred"], "One and only one"),
            (["--election-type", "preferred", "--all-topic-partitions",
              "--topic", TOPIC, "--partition", "0"], "One and only one"),
            (["--election-type", "preferred", "--topic", TOPIC], "--partition"),
            (["--election-type", "preferred", "--all-topic-partitions",
              "--partition", "1"], "only allowed if --topic"),
            (["--election-type", "preferred", "--topic", TOPIC,
              "--partition", "x"], "--partition"),
            (["--election-type", "preferred", "--path-to-json-file",
              "/nonexistent/e.json"], "No such file")):
        r = elect(c, *args, rc=2)
        assert what in r.stderr, (args, r.stderr)
    path = os.path.join(c.dir, "bad.json")
    for text, what in (('{"partitions":[{"topic":"pref","partition":0},'
                        '{"topic":"pref","partition":0}]}',
                        "duplicate partitions: pref-0"),
                       ('{"topics":[]}', 'missing "partitions" field'),
                       ('{"partitions":[{"topic":"pref","partition":"0"}]}',
                        "whole number"),
                       ("{", "not valid JSON")):
        with open(path, "w") as f:
            f.write(text)
        r = elect(c, "--election-type", "preferred", "--path-to-json-file",
                  path, rc=1)
        assert what in r.stderr, (text, r.stderr)
    # Admin client settings: what applies is taken, the rest is named.
    props = os.path.join(c.dir, "admin.properties")
    with open(props, "w") as f:
        f.write("client.id=ops\nrequest.timeout.ms=40000\nretries=5\n")
    # (Broker 1, pref-0's preferred leader, has led it all along.)
    r = elect(c, "--election-type", "preferred", "--topic", TOPIC,
              "--partition", "0", "--admin.config", props)
    assert "retries is not used" in r.stderr, r.stderr
    assert r.stdout == "Valid replica already elected for partitions pref-0\n", r.stdout
    with open(props, "w") as f:
        f.write("security.protocol=SASL_SSL\n")
    r = elect(c, "--election-type", "preferred", "--all-topic-partitions",
              "--admin.config", props, rc=2)
    # a SASL protocol needs its mechanism (the tools speak TLS and SASL)
    assert "security.protocol SASL_SSL needs sasl.mechanism" in r.stderr, r.stderr
    r = elect(c, "--election-type", "preferred", "--topic", "nope",
              "--partition", "0", rc=1)
    assert re.match(r"Error completing leader election \(PREFERRED\) for "
                    r"partition: nope-0: UNKNOWN_TOPIC_OR_PARTITION", r.stdout), r.stdout
    print("ok: usage errors exit 2, bad files and unknown partitions exit 1")


def main():
    with tempfile.TemporaryDirectory() as work:
        with Cluster(work, brokers=3, controllers=1,
                     broker_set={"replica.lag.time.max.ms": "4000"},
                     controller_set={"auto.leader.rebalance.enable": "false"}) as c:
            run_steps((check_preferred, check_unclean), c, c.zk())
            check_errors(c)


if __name__ == "__main__":
    main()
